//! One key Secret read into a typed record, through sealant-core's key readers.

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_core::age::AgeIdentity;
use sealant_core::keysecret::age::{AgeKeySecretError, age_key_created, read_age_key_secret};
use sealant_core::keysecret::wrapped::WrappedKey;
use sealant_core::keysecret::{
    KeySecretError, KeyState, RENEW_REQUEST_ANNOTATION, read_key_secret,
};
use sealant_core::tenant::{KeyOwner, TenantNameError};
use sealant_core::{Certificate, Fingerprint, PrivateKey};
use time::OffsetDateTime;

use super::KeyKind;
use crate::convert::{ConvertError, secret_to_core};

/// How RSA keys are ordered to find the newest (the controller's `--key-order-priority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderPriority {
    /// The certificate's NotBefore (upstream's default).
    #[default]
    CertNotBefore,
    /// The key Secret's `creationTimestamp` (NotBefore when it has none).
    SecretCreationTimestamp,
}

impl OrderPriority {
    /// The flag value's order, `None` for an unknown one.
    pub fn from_flag(value: &str) -> Option<Self> {
        match value {
            "CertNotBefore" => Some(OrderPriority::CertNotBefore),
            "SecretCreationTimestamp" => Some(OrderPriority::SecretCreationTimestamp),
            _ => None,
        }
    }
}

/// Why a controller cannot use a key Secret (it skips it). The text names no key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
    /// Its metadata does not have the shape of a Kubernetes Secret's.
    #[error("not a readable Secret")]
    Unreadable(#[source] ConvertError),
    /// The RSA key or certificate does not parse or does not match.
    #[error(transparent)]
    Rsa(#[from] KeySecretError),
    /// An RSA key without its certificate: nothing to publish or order it by.
    #[error("no 'tls.crt': the controller skips it")]
    NoCertificate,
    /// The age identity does not parse or does not match `age.pub`.
    #[error(transparent)]
    Age(#[from] AgeKeySecretError),
    /// A protected RSA key (docs/key-protection.md), well formed: usable once its KMS or HSM
    /// unwraps the data key. The envelope holds no plaintext.
    #[error("protected by {}: not yet unwrapped", .0.protection())]
    NeedsUnwrap(Box<WrappedKey>),
    /// Its tenant label is not a tenant name: the key belongs to nobody, and is not used as a
    /// cluster key either (docs/multi-tenancy.md, "Tenant keys").
    #[error("unusable tenant label: {0}")]
    Tenant(#[source] TenantNameError),
}

/// The private part of a usable key. `Debug` shows fingerprints only (core's types redact).
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    /// An RSA key and its certificate.
    Rsa {
        /// The private key.
        key: PrivateKey,
        /// Its certificate (published when the key seals).
        cert: Certificate,
    },
    /// An age identity.
    Age(AgeIdentity),
}

/// One key Secret as both the CLI and the controller see it.
#[derive(Debug)]
pub struct KeyRecord {
    /// RSA or age.
    pub kind: KeyKind,
    /// The key Secret's name.
    pub secret: String,
    /// The cluster's key, or a tenant's (its [`sealant_core::tenant::TENANT_LABEL`]). A key
    /// whose tenant label does not parse reads as the cluster's with [`KeyProblem::Tenant`]: it
    /// is never usable.
    pub owner: KeyOwner,
    /// Its `resourceVersion`, so a state change does not overwrite a concurrent one.
    pub resource_version: Option<String>,
    /// The state its label gives it. An unlabelled RSA Secret is the legacy key, active as
    /// upstream reads it; an unlabelled age Secret has an empty [`KeyState::Other`] state.
    pub state: KeyState,
    /// The key's fingerprint, when the key parses (also when it cannot be used otherwise).
    pub fingerprint: Option<Fingerprint>,
    /// The time keys are ordered by: RSA by [`OrderPriority`], age by `sealant.dev/created-at`
    /// (else the Secret's creation); `None` when unknown.
    pub order_time: Option<OffsetDateTime>,
    /// The Secret asks for a new key ([`RENEW_REQUEST_ANNOTATION`]).
    pub renew_requested: bool,
    /// Why the key cannot be used, if so.
    pub problem: Option<KeyProblem>,
    /// The key itself, when usable.
    pub material: Option<KeyMaterial>,
}

impl KeyRecord {
    /// Reads a key Secret found by `kind`'s label (or the legacy key, as RSA). Never fails: a
    /// Secret that cannot be used carries its [`KeyProblem`].
    pub fn read(kind: KeyKind, secret: &K8sSecret, order: OrderPriority) -> Self {
        let metadata = &secret.metadata;
        let label = metadata.labels.as_ref().and_then(|l| l.get(kind.label()));
        let state = match kind {
            KeyKind::Rsa => KeyState::of_loaded(label.map(String::as_str)),
            KeyKind::Age => label.map_or_else(
                || KeyState::Other(String::new()),
                |value| KeyState::from_label(value),
            ),
        };
        let owner = KeyOwner::of_key_labels(metadata.labels.as_ref());
        let mut record = KeyRecord {
            kind,
            secret: metadata.name.clone().unwrap_or_default(),
            owner: owner.clone().unwrap_or_default(),
            resource_version: metadata.resource_version.clone(),
            state,
            fingerprint: None,
            order_time: None,
            renew_requested: metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(RENEW_REQUEST_ANNOTATION)),
            problem: None,
            material: None,
        };
        if let Err(err) = owner {
            record.problem = Some(KeyProblem::Tenant(err));
            return record;
        }
        let core = match secret_to_core(secret) {
            Ok(core) => core,
            Err(err) => {
                record.problem = Some(KeyProblem::Unreadable(err));
                return record;
            }
        };
        match kind {
            KeyKind::Rsa => match read_key_secret(&core) {
                Ok((key, Some(cert))) => {
                    record.fingerprint = Some(key.fingerprint().clone());
                    record.order_time = Some(order_time(order, secret, &cert));
                    record.material = Some(KeyMaterial::Rsa { key, cert });
                }
                Err(KeySecretError::Protected(wrapped)) => {
                    record.fingerprint = Some(wrapped.fingerprint().clone());
                    record.order_time = Some(order_time(order, secret, wrapped.certificate()));
                    record.problem = Some(KeyProblem::NeedsUnwrap(wrapped));
                }
                Ok((key, None)) => {
                    record.fingerprint = Some(key.fingerprint().clone());
                    record.problem = Some(KeyProblem::NoCertificate);
                }
                Err(err) => record.problem = Some(err.into()),
            },
            KeyKind::Age => match read_age_key_secret(&core) {
                Ok(identity) => {
                    record.fingerprint = Some(identity.fingerprint().clone());
                    record.order_time = age_key_created(&core);
                    record.material = Some(KeyMaterial::Age(identity));
                }
                Err(err) => record.problem = Some(err.into()),
            },
        }
        record
    }

    /// The key parses and can be used (it may still be in a state that neither seals nor
    /// unseals).
    pub fn usable(&self) -> bool {
        self.material.is_some()
    }
}

/// The time an RSA key is ordered by ([`OrderPriority`]).
fn order_time(order: OrderPriority, secret: &K8sSecret, cert: &Certificate) -> OffsetDateTime {
    match order {
        OrderPriority::CertNotBefore => cert.not_before(),
        OrderPriority::SecretCreationTimestamp => secret
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
            .unwrap_or(cert.not_before()),
    }
}
