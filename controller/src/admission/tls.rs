//! The webhook's serving certificate (docs/admission.md, "Serving certificate"), from one of:
//! * the controller: a CA and a serving certificate (ECDSA P-256) kept in a Secret of its
//!   namespace, made by whichever replica finds it missing, for other hosts, or within
//!   [`RENEW_BEFORE`] of expiry; every replica serves what the Secret holds and keeps the
//!   `caBundle` of the named ValidatingWebhookConfiguration equal to it (a Helm upgrade that
//!   resets it is undone within one [`CHECK_PERIOD`]). A new CA is published next to the one
//!   it replaces (`ca-previous.crt`) so the API server trusts replicas on either side;
//! * cert-manager: its Certificate's Secret, read through the API (or mounted files), again
//!   every [`CHECK_PERIOD`]; its CA injector fills the `caBundle`.
//!
//! The CA's private key is dropped once it signed: nothing else is ever signed with it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use parking_lot::RwLock;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sealant_k8s::KubeError;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// How often the certificate source is read again (and the `caBundle` checked).
pub(crate) const CHECK_PERIOD: Duration = Duration::from_secs(30);
/// How soon after a failure it is tried again.
const RETRY_PERIOD: Duration = Duration::from_secs(5);
/// Validity of a new CA and serving certificate.
const VALIDITY: time::Duration = time::Duration::days(365);
/// A serving certificate this close to expiry is replaced.
pub(crate) const RENEW_BEFORE: time::Duration = time::Duration::days(30);
/// Annotations of the Secret that record what its certificate was made for.
const HOSTS_ANNOTATION: &str = "sealant.dev/admission-hosts";
const NOT_AFTER_ANNOTATION: &str = "sealant.dev/admission-not-after";
const CA: &str = "ca.crt";
const CA_PREVIOUS: &str = "ca-previous.crt";
const CERT: &str = "tls.crt";
const KEY: &str = "tls.key";

/// Why a serving certificate could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Reading or writing the Secret or the webhook configuration failed (status code kept).
    #[error("admission certificate: {0}")]
    Kube(#[from] KubeError),
    /// Making the certificate failed.
    #[error("cannot generate the admission certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The certificate or key does not load (bad PEM, mismatched pair, unsupported key).
    #[error("cannot load the admission certificate: {0}")]
    Load(#[from] rustls::Error),
    /// A PEM block is unreadable.
    #[error("cannot read the admission certificate's PEM: {0}")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// A certificate file is unreadable.
    #[error("cannot read {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another replica wrote the Secret at the same time: read it again.
    #[error("the admission certificate Secret changed while being written")]
    Raced,
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Made and kept by the controller.
    Managed {
        /// The Secret holding it, in the controller's namespace.
        secret: String,
        /// DNS names and IP addresses it is for.
        hosts: Vec<String>,
        /// The ValidatingWebhookConfiguration whose `caBundle` is kept current (`None`: not
        /// patched, e.g. when a GitOps tool owns it).
        webhook_config: Option<String>,
    },
    /// `tls.crt` and `tls.key` of this Secret of the controller's namespace (cert-manager's).
    Secret(String),
    /// `tls.crt` and `tls.key` in this directory.
    Files(PathBuf),
}

/// The certificate being served; empty until the first one is loaded (handshakes fail then,
/// which the webhook's failure policy covers).
#[derive(Debug, Default)]
pub(crate) struct Served(RwLock<Option<Arc<CertifiedKey>>>);

impl Served {
    fn set(&self, key: Arc<CertifiedKey>) {
        *self.0.write() = Some(key);
    }
}

impl ResolvesServerCert for Served {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.read().clone()
    }
}

/// The PEM pieces of a managed certificate.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Material {
    pub(crate) ca: String,
    pub(crate) ca_previous: Option<String>,
    pub(crate) cert: String,
    pub(crate) key: zeroize::Zeroizing<String>,
    pub(crate) not_after: OffsetDateTime,
}

/// Never prints the private key.
impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Material {
    /// The `caBundle`: the CA, then the one it replaced.
    pub(crate) fn bundle(&self) -> Vec<u8> {
        let mut bundle = self.ca.clone().into_bytes();
        if let Some(previous) = &self.ca_previous {
            bundle.extend_from_slice(previous.as_bytes());
        }
        bundle
    }
}

/// A new CA and a serving certificate for `hosts`, signed by it, valid from `now`.
///
/// # Errors
/// [`TlsError::Generate`].
pub(crate) fn generate(
    hosts: &[String],
    now: OffsetDateTime,
    ca_previous: Option<String>,
) -> Result<Material, TlsError> {
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let not_after = now + VALIDITY;
    let ca_key = rcgen::KeyPair::generate_for(alg)?;
    let mut ca_params = rcgen::CertificateParams::default();
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sealant admission CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    ca_params.not_before = now - time::Duration::minutes(5);
    ca_params.not_after = not_after;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca_params, &ca_key);

    let key = rcgen::KeyPair::generate_for(alg)?;
    let mut params = rcgen::CertificateParams::new(hosts.to_vec())?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        hosts.first().map_or("sealant-admission", String::as_str),
    );
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = not_after;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Material {
        ca: ca_cert.pem(),
        ca_previous,
        cert: cert.pem(),
        key: zeroize::Zeroizing::new(key.serialize_pem()),
        not_after,
    })
}

/// Loads a PEM certificate chain and key for rustls.
///
/// # Errors
/// [`TlsError::Pem`] or [`TlsError::Load`].
pub(crate) fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(TlsError::Load(rustls::Error::NoCertificatesPresented));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)?;
    Ok(CertifiedKey::from_der(
        chain,
        key,
        &rustls::crypto::aws_lc_rs::default_provider(),
    )?)
}

/// The material a Secret holds, if it is usable for `hosts` at `now`.
pub(crate) fn usable(secret: &Secret, hosts: &[String], now: OffsetDateTime) -> Option<Material> {
    let annotations = secret.metadata.annotations.as_ref()?;
    if annotations.get(HOSTS_ANNOTATION)? != &hosts.join(",") {
        return None;
    }
    let not_after = OffsetDateTime::parse(
        annotations.get(NOT_AFTER_ANNOTATION)?,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()?;
    if not_after - now < RENEW_BEFORE {
        return None;
    }
    let text = |key: &str| {
        let bytes = secret.data.as_ref()?.get(key)?;
        String::from_utf8(bytes.0.clone()).ok()
    };
    Some(Material {
        ca: text(CA)?,
        ca_previous: text(CA_PREVIOUS),
        cert: text(CERT)?,
        key: zeroize::Zeroizing::new(text(KEY)?),
        not_after,
    })
}

/// The Secret holding `material` for `hosts`.
pub(crate) fn to_secret(
    name: &str,
    hosts: &[String],
    material: &Material,
) -> Result<Secret, TlsError> {
    let mut data = BTreeMap::new();
    data.insert(CA.to_owned(), ByteString(material.ca.clone().into_bytes()));
    if let Some(previous) = &material.ca_previous {
        data.insert(
            CA_PREVIOUS.to_owned(),
            ByteString(previous.clone().into_bytes()),
        );
    }
    data.insert(
        CERT.to_owned(),
        ByteString(material.cert.clone().into_bytes()),
    );
    data.insert(KEY.to_owned(), ByteString(material.key.as_bytes().to_vec()));
    let not_after = material
        .not_after
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| TlsError::Raced)?;
    Ok(Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            annotations: Some(BTreeMap::from([
                (HOSTS_ANNOTATION.to_owned(), hosts.join(",")),
                (NOT_AFTER_ANNOTATION.to_owned(), not_after),
            ])),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "sealant-controller".to_owned(),
            )])),
            ..Default::default()
        },
        type_: Some("kubernetes.io/tls".to_owned()),
        data: Some(data),
        ..Default::default()
    })
}

/// Keeps `served` loaded from `source` until `shutdown`.
pub(crate) async fn keep_current(
    client: Client,
    namespace: String,
    source: Source,
    served: Arc<Served>,
    shutdown: CancellationToken,
) {
    let mut announced = false;
    loop {
        let outcome = match &source {
            Source::Files(dir) => from_files(dir),
            Source::Secret(name) => from_secret(&client, &namespace, name).await,
            Source::Managed {
                secret,
                hosts,
                webhook_config,
            } => {
                managed(
                    &client,
                    &namespace,
                    secret,
                    hosts,
                    webhook_config.as_deref(),
                )
                .await
            }
        };
        let wait = match outcome {
            Ok(key) => {
                served.set(Arc::new(key));
                if !announced {
                    info!("admission webhook certificate loaded");
                    announced = true;
                }
                CHECK_PERIOD
            }
            Err(TlsError::Raced) => {
                debug!("admission certificate Secret changed meanwhile: reading it again");
                Duration::ZERO
            }
            Err(err) => {
                warn!(%err, "admission webhook certificate not current; retrying");
                RETRY_PERIOD
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

fn from_files(dir: &std::path::Path) -> Result<CertifiedKey, TlsError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path)
            .map(zeroize::Zeroizing::new)
            .map_err(|source| TlsError::File { path, source })
    };
    certified_key(&read(CERT)?, &read(KEY)?)
}

async fn from_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<CertifiedKey, TlsError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = secrets.get(name).await.map_err(KubeError::from)?;
    let empty = ByteString(Vec::new());
    let field = |key: &str| {
        secret
            .data
            .as_ref()
            .and_then(|d| d.get(key))
            .unwrap_or(&empty)
    };
    certified_key(&field(CERT).0, &field(KEY).0)
}

/// One pass of the managed source: the Secret read (or made), the `caBundle` kept equal to it.
async fn managed(
    client: &Client,
    namespace: &str,
    name: &str,
    hosts: &[String],
    webhook_config: Option<&str>,
) -> Result<CertifiedKey, TlsError> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let now = OffsetDateTime::now_utc();
    let existing = secrets.get_opt(name).await.map_err(KubeError::from)?;
    let material = match existing.as_ref().and_then(|s| usable(s, hosts, now)) {
        Some(material) => material,
        None => {
            let previous = existing
                .as_ref()
                .and_then(|s| s.data.as_ref()?.get(CA))
                .and_then(|ca| String::from_utf8(ca.0.clone()).ok());
            let material = generate(hosts, now, previous)?;
            let mut secret = to_secret(name, hosts, &material)?;
            let written = match existing {
                None => secrets.create(&PostParams::default(), &secret).await,
                Some(old) => {
                    // Replaced only as it was read: a replica that lost the race reads the
                    // winner's on its next pass.
                    secret.metadata.resource_version = old.metadata.resource_version;
                    secrets.replace(name, &PostParams::default(), &secret).await
                }
            };
            match written.map_err(KubeError::from) {
                Ok(_) => info!(secret = name, "admission webhook certificate written"),
                Err(err) if err.is_conflict() => return Err(TlsError::Raced),
                Err(err) => return Err(err.into()),
            }
            material
        }
    };
    // The bundle first: the API server must trust the new CA before replicas serve under it.
    if let Some(config) = webhook_config {
        publish_ca_bundle(client, config, &material.bundle()).await?;
    }
    certified_key(material.cert.as_bytes(), material.key.as_bytes())
}

/// Sets the `caBundle` of every webhook of `config` to `bundle`, if any differs.
async fn publish_ca_bundle(client: &Client, config: &str, bundle: &[u8]) -> Result<(), TlsError> {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let current = api.get(config).await.map_err(KubeError::from)?;
    let stale: Vec<serde_json::Value> = current
        .webhooks
        .iter()
        .flatten()
        .filter(|w| w.client_config.ca_bundle.as_ref().map(|b| b.0.as_slice()) != Some(bundle))
        .map(|w| {
            serde_json::json!({
                "name": w.name,
                "clientConfig": {"caBundle": ByteString(bundle.to_vec())},
            })
        })
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let patch = serde_json::json!({ "webhooks": stale });
    api.patch(config, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .map_err(KubeError::from)?;
    info!(
        config,
        webhooks = stale.len(),
        "admission webhook caBundle updated"
    );
    Ok(())
}
