//! Where the sealing certificate comes from: `--cert` (file or URL) or the controller, with a
//! per-context cache that pins the fingerprint and warns when it changes unexpectedly.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sealant_core::{Certificate, KeyOwner};
use time::OffsetDateTime;

use crate::args::{CertSourceArgs, ClusterArgs};
use crate::cluster::KubeOverrides;
use crate::error::{ClusterError, Result};
use crate::io::IoError;

pub use crate::error::CertSourceError;

/// Reads certificate files (`lint --cert`, `diff --cert`): no URLs, no controller.
///
/// # Errors
/// An unreadable or unparsable certificate, naming it.
pub fn load_files(paths: &[PathBuf]) -> Result<Vec<Certificate>> {
    paths
        .iter()
        .map(|path| {
            let pem = std::fs::read(path)
                .map_err(|e| IoError::file("cannot read certificate", path, e))?;
            Ok(
                Certificate::from_pem(&pem).map_err(|source| CertSourceError::Unusable {
                    path: path.clone(),
                    source,
                })?,
            )
        })
        .collect()
}

/// A certificate and a description of where it came from.
pub struct LoadedCert {
    /// The parsed certificate.
    pub cert: Certificate,
    /// The bytes as served or read (what `sealant cert` prints).
    pub pem: Vec<u8>,
    /// `file cert.pem`, `https://…`, or `controller kube-system/sealed-secrets-controller`.
    pub origin: String,
    /// Whose key it is, as the controller said (`Sealant-Key-Owner`); files and URLs are taken
    /// as the cluster's.
    pub owner: KeyOwner,
}

/// Loads the certificate the arguments name. Expiry is not checked here (see [`check_usable`]).
/// `overrides` only matter when the certificate comes from the controller.
///
/// # Errors
/// Unreadable or unparsable certificates, unreachable controllers.
pub fn load(
    cert_args: &CertSourceArgs,
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
) -> Result<LoadedCert> {
    load_for(cert_args, cluster, overrides, None)
}

/// [`load`], for a Secret of `namespace`: from the controller, the sealing certificate of the
/// namespace's owner (`/v1/cert.pem?namespace=NS`, docs/multi-tenancy.md, "Tenant keys");
/// `None` asks for the cluster certificate, as upstream clients do. Files and URLs are used as
/// they are.
///
/// # Errors
/// As [`load`]; a tenant whose keys are not ready yet.
pub fn load_for(
    cert_args: &CertSourceArgs,
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
    namespace: Option<&str>,
) -> Result<LoadedCert> {
    match &cert_args.cert {
        Some(source) if is_url(source) => {
            let pem = fetch_url(source)?;
            parse(pem, source.clone())
        }
        Some(path) => {
            let pem = std::fs::read(path).map_err(|source| CertSourceError::Read {
                path: PathBuf::from(path),
                source,
            })?;
            parse(pem, format!("file {path}"))
        }
        None => load_from_controller(cluster, overrides, !cert_args.no_cert_cache, namespace),
    }
}

/// Refuses expired certificates, as upstream does, with the date.
///
/// # Errors
/// An expired certificate.
pub fn check_usable(loaded: &LoadedCert) -> Result<()> {
    Ok(loaded.cert.check_not_expired(OffsetDateTime::now_utc())?)
}

fn parse(pem: Vec<u8>, origin: String) -> Result<LoadedCert> {
    let cert = match Certificate::from_pem(&pem) {
        Ok(cert) => cert,
        Err(source) => return Err(CertSourceError::Parse { origin, source }.into()),
    };
    Ok(LoadedCert {
        cert,
        pem,
        origin,
        owner: KeyOwner::Cluster,
    })
}

/// Upstream treats `--cert` as a URL when it has a scheme of more than one letter (one letter
/// is a Windows drive).
fn is_url(source: &str) -> bool {
    match source.split_once("://") {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn fetch_url(url: &str) -> Result<Vec<u8>> {
    if let Some(path) = url.strip_prefix("file://") {
        return Ok(std::fs::read(path)
            .map_err(|e| IoError::file("cannot read certificate", Path::new(path), e))?);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|source| CertSourceError::Fetch {
            url: url.to_owned(),
            source,
        })?;
    if response.status() != 200 {
        return Err(CertSourceError::FetchStatus {
            url: url.to_owned(),
            status: response.status(),
        }
        .into());
    }
    Ok(response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|source| CertSourceError::FetchBody {
            url: url.to_owned(),
            source,
        })?)
}

fn load_from_controller(
    cluster: &ClusterArgs,
    overrides: &KubeOverrides,
    use_cache: bool,
    namespace: Option<&str>,
) -> Result<LoadedCert> {
    let origin = format!(
        "controller {}/{}",
        cluster.controller_namespace, cluster.controller_name
    );
    let cache = use_cache.then(|| cache_path(cluster, overrides)).flatten();
    let fetched = crate::runtime()?.block_on(async {
        let controller = crate::cluster::Controller::connect(cluster, overrides).await?;
        controller.cert_for(namespace).await
    });
    let (pem, owner) = match (fetched, &cache) {
        (Ok(fetched), _) => fetched,
        // Not ready is an answer, not an outage: the cache must not stand in for it.
        (Err(err @ ClusterError::TenantKeysNotReady { .. }), _) => return Err(err.into()),
        (Err(err), Some(base)) => match cached_owner(base, namespace)
            .map(|owner| (owner_path(base, &owner), owner))
            .filter(|(path, _)| path.exists())
        {
            Some((path, owner)) => {
                let cached = parse(
                    std::fs::read(&path).map_err(|e| IoError::file("cannot read", &path, e))?,
                    "cache".into(),
                )?;
                eprintln!(
                    "warning: {}\nwarning: sealing with the cached certificate of {origin}{} (fingerprint {}, seen before)",
                    err,
                    owner_words(&owner),
                    cached.cert.public_key().fingerprint()
                );
                return Ok(LoadedCert {
                    origin: format!("{origin} (cached)"),
                    owner,
                    ..cached
                });
            }
            None => return Err(err.into()),
        },
        (Err(err), None) => return Err(err.into()),
    };
    let mut loaded = parse(pem, origin)?;
    loaded.owner = owner;
    if let Some(base) = cache {
        pin(&owner_path(&base, &loaded.owner), &loaded);
        if let Some(namespace) = namespace {
            note_owner(&base, namespace, &loaded.owner);
        }
    }
    Ok(loaded)
}

/// ` (tenant T)` after the controller's name, or nothing for the cluster.
pub fn owner_words(owner: &KeyOwner) -> String {
    match owner {
        KeyOwner::Cluster => String::new(),
        KeyOwner::Tenant(tenant) => format!(" (tenant {tenant})"),
    }
}

/// The cache file of `owner`'s certificate: the cluster's is the one of a context, as before
/// tenants; a tenant's has its name appended.
fn owner_path(base: &Path, owner: &KeyOwner) -> PathBuf {
    match owner {
        KeyOwner::Cluster => base.to_path_buf(),
        KeyOwner::Tenant(tenant) => base.with_extension(format!("tenant-{tenant}.pem")),
    }
}

/// The file noting which owner answered for `namespace` last time.
fn note_path(base: &Path, namespace: &str) -> PathBuf {
    let safe: String = namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.with_extension(format!("ns-{safe}"))
}

fn note_owner(base: &Path, namespace: &str, owner: &KeyOwner) {
    let text = match owner {
        KeyOwner::Cluster => "cluster".to_owned(),
        KeyOwner::Tenant(tenant) => format!("tenant={tenant}"),
    };
    let path = note_path(base, namespace);
    if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
        let _ = crate::io::write_file_atomic(&path, text.as_bytes());
    }
}

/// Whose cached certificate may stand in for `namespace`'s when the controller cannot be
/// reached: the owner noted last time. A namespace never asked about gets the cluster's only
/// while no tenant certificate was ever cached for this context: otherwise it might belong to
/// a tenant, and sealing it to the cluster key would fail later, out of sight.
fn cached_owner(base: &Path, namespace: Option<&str>) -> Option<KeyOwner> {
    let Some(namespace) = namespace else {
        return Some(KeyOwner::Cluster);
    };
    if let Ok(text) = std::fs::read_to_string(note_path(base, namespace)) {
        return crate::cluster::parse_owner(text.trim());
    }
    let stem = base.file_stem()?.to_string_lossy().into_owned();
    let tenants_seen = std::fs::read_dir(base.parent()?).ok()?.any(|entry| {
        entry.is_ok_and(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{stem}.tenant-"))
        })
    });
    (!tenants_seen).then_some(KeyOwner::Cluster)
}

/// Compares with the pinned certificate and stores the new one. Never fails the command: the
/// cache is a convenience and a tripwire, not a requirement.
fn pin(path: &Path, loaded: &LoadedCert) {
    if let Ok(previous) = std::fs::read(path)
        .map_err(drop)
        .and_then(|pem| Certificate::from_pem(&pem).map_err(drop))
    {
        let (old, new) = (
            previous.public_key().fingerprint(),
            loaded.cert.public_key().fingerprint(),
        );
        if old != new {
            if loaded.cert.not_before() >= previous.not_before() {
                eprintln!(
                    "note: the controller's certificate changed since last time ({old} -> {new}); it is newer (from {}), as after a routine key renewal",
                    loaded.cert.not_before().date()
                );
            } else {
                eprintln!(
                    "WARNING: the controller's certificate changed to an OLDER one than seen before ({old} -> {new}).\n\
                     WARNING: this is not a routine renewal: someone may be impersonating the controller, or keys were restored.\n\
                     WARNING: check the fingerprint with your cluster admins before committing what you seal."
                );
            }
        }
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::io::write_file_atomic(path, &loaded.pem);
}

fn cache_path(cluster: &ClusterArgs, overrides: &KubeOverrides) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    let context = cluster
        .context
        .clone()
        .or_else(|| current_context(cluster))
        .unwrap_or_else(|| "in-cluster".into());
    let key = format!(
        "{context}_{}_{}{}",
        cluster.controller_namespace,
        cluster.controller_name,
        overrides.cache_key()
    );
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(base.join("sealant/certs").join(format!("{safe}.pem")))
}

/// The current context of the kubeconfig in use (`--kubeconfig`, else the default one).
fn current_context(cluster: &ClusterArgs) -> Option<String> {
    match &cluster.kubeconfig {
        Some(path) => {
            kube::config::Kubeconfig::read_from(path)
                .ok()?
                .current_context
        }
        None => kube::config::Kubeconfig::read().ok()?.current_context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_certificates_are_cached_apart_and_never_stand_in_for_unknown_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir
            .path()
            .join("ctx_kube-system_sealed-secrets-controller.pem");
        let payments = KeyOwner::Tenant(sealant_core::TenantName::parse("payments").unwrap());
        assert_eq!(owner_path(&base, &KeyOwner::Cluster), base);
        assert_eq!(
            owner_path(&base, &payments),
            dir.path()
                .join("ctx_kube-system_sealed-secrets-controller.tenant-payments.pem")
        );
        // No tenant seen yet: the cluster's cache stands in for any namespace, as before.
        assert_eq!(cached_owner(&base, Some("shop")), Some(KeyOwner::Cluster));
        assert_eq!(cached_owner(&base, None), Some(KeyOwner::Cluster));
        note_owner(&base, "shop", &payments);
        note_owner(&base, "prod", &KeyOwner::Cluster);
        std::fs::write(owner_path(&base, &payments), b"pem").unwrap();
        assert_eq!(cached_owner(&base, Some("shop")), Some(payments));
        assert_eq!(cached_owner(&base, Some("prod")), Some(KeyOwner::Cluster));
        // A namespace never asked about may be a tenant's: no stand-in.
        assert_eq!(cached_owner(&base, Some("new")), None);
        assert_eq!(cached_owner(&base, None), Some(KeyOwner::Cluster));
    }

    #[test]
    fn url_detection_matches_upstream() {
        assert!(is_url("https://example.invalid/v1/cert.pem"));
        assert!(is_url("file:///tmp/cert.pem"));
        assert!(!is_url("cert.pem"));
        assert!(!is_url("C://cert.pem"));
        assert!(!is_url("./dir/with://colon"));
    }
}
