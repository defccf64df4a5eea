//! The key Secret format upstream's controller stores sealing keys in (docs/upstream.md, "Key
//! Secrets"), so keys move between upstream and sealant controllers, and backups stay
//! interchangeable.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::keys::{Certificate, KeyError, PrivateKey};
use crate::object::{ObjectMeta, Secret};
use crate::secret::SecretBytes;

pub mod age;
pub mod wrapped;

/// Label that marks a Secret as a sealing key; its value is the key's state.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Value of [`KEY_LABEL`] for keys in use.
pub const KEY_STATE_ACTIVE: &str = "active";
/// Value of [`KEY_LABEL`] for keys known to be exposed: they still unseal (so running
/// workloads keep their Secrets while everything is re-encrypted) but never seal.
pub const KEY_STATE_COMPROMISED: &str = "compromised";
/// Value of [`KEY_LABEL`] for keys taken out of service: they neither seal nor unseal. The
/// Secret is kept (upstream ignores any label value but `active`), so retiring can be undone.
pub const KEY_STATE_RETIRED: &str = "retired";
/// Annotation on the newest key Secret asking the controller's leader for a new key now
/// (`sealant keys rotate`); its value is free text (who asked, when). Once a newer key exists
/// the request is fulfilled, so it is never acted on twice.
pub const RENEW_REQUEST_ANNOTATION: &str = "sealant.dev/renew-requested";
/// Default name prefix of key Secrets (and the name of the legacy single key).
pub const DEFAULT_KEY_PREFIX: &str = "sealed-secrets-key";
/// Secret type of key Secrets.
pub const KEY_SECRET_TYPE: &str = "kubernetes.io/tls";
/// Data item holding the PEM private key.
pub const TLS_KEY: &str = "tls.key";
/// Data item holding the PEM certificate.
pub const TLS_CERT: &str = "tls.crt";

/// A key Secret that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySecretError {
    /// No `tls.key` item.
    #[error("secret must contain a 'tls.key' key")]
    MissingKey,
    /// The key or certificate does not parse.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A protected key (docs/key-protection.md): well formed, its DEK not yet unwrapped.
    #[error("the private key is protected by {}: not yet unwrapped", .0.protection())]
    Protected(Box<wrapped::WrappedKey>),
    /// A protected key Secret that does not parse.
    #[error(transparent)]
    Wrapped(#[from] wrapped::WrappedKeyError),
}

/// The metadata of a new key Secret of any layout: `generateName` = `prefix`, the extra labels,
/// and `state_label` = `active`, which the extra labels cannot override.
pub(crate) fn new_key_metadata(
    namespace: &str,
    prefix: &str,
    state_label: &str,
    extra_labels: &BTreeMap<String, String>,
) -> ObjectMeta {
    let mut metadata = ObjectMeta {
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    };
    metadata
        .extra
        .insert("generateName".to_owned(), Value::String(prefix.to_owned()));
    let mut labels = extra_labels.clone();
    labels.insert(state_label.to_owned(), KEY_STATE_ACTIVE.to_owned());
    metadata.labels = Some(labels);
    metadata
}

/// A new key Secret in upstream's layout: `generateName` = prefix, label `active`, type
/// `kubernetes.io/tls`, PKCS#1 key and PEM certificate. Extra labels cannot override the key label.
///
/// # Errors
/// Only if the key cannot be serialized.
pub fn key_secret(
    namespace: &str,
    prefix: &str,
    key: &PrivateKey,
    cert: &Certificate,
    extra_labels: &BTreeMap<String, String>,
    extra_annotations: &BTreeMap<String, String>,
) -> Result<Secret, KeyError> {
    let mut metadata = new_key_metadata(namespace, prefix, KEY_LABEL, extra_labels);
    if !extra_annotations.is_empty() {
        metadata.annotations = Some(extra_annotations.clone());
    }
    let key_pem = key.to_pkcs1_pem()?;
    let mut secret = Secret::new(metadata);
    secret.type_ = Some(KEY_SECRET_TYPE.to_owned());
    secret.data = Some(BTreeMap::from([
        (
            TLS_KEY.to_owned(),
            SecretBytes::from_slice(key_pem.as_bytes()),
        ),
        (
            TLS_CERT.to_owned(),
            SecretBytes::from_slice(cert.pem().as_bytes()),
        ),
    ]));
    Ok(secret)
}

/// Reads a key Secret: the private key, and the certificate if `tls.crt` is present (it must
/// then belong to the key).
///
/// # Errors
/// See [`KeySecretError`]; a protected key Secret gives [`KeySecretError::Protected`].
pub fn read_key_secret(
    secret: &Secret,
) -> Result<(PrivateKey, Option<Certificate>), KeySecretError> {
    if wrapped::is_wrapped_key_secret(secret) {
        let key = wrapped::read_wrapped_key_secret(secret)?;
        return Err(KeySecretError::Protected(Box::new(key)));
    }
    let data = secret.merged_items();
    let key_pem = data.get(TLS_KEY).ok_or(KeySecretError::MissingKey)?;
    let key = PrivateKey::from_pem(key_pem)?;
    let cert = match data.get(TLS_CERT) {
        Some(pem) => {
            let cert = Certificate::from_pem(pem)?;
            if cert.public_key().fingerprint() != key.fingerprint() {
                return Err(KeyError::CertificateMismatch.into());
            }
            Some(cert)
        }
        None => None,
    };
    Ok((key, cert))
}

/// The state a key Secret's label gives it (RSA and age keys alike).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Used to unseal (and the newest also to seal).
    Active,
    /// Exposed: still unseals, never seals.
    Compromised,
    /// Out of service: neither seals nor unseals.
    Retired,
    /// Any other label value: ignored, as upstream ignores it.
    Other(String),
}

impl KeyState {
    /// The state of a key Secret, from its [`KEY_LABEL`] (none for Secrets without the label).
    pub fn of(secret: &Secret) -> Option<KeyState> {
        let value = secret.metadata.labels.as_ref()?.get(KEY_LABEL)?;
        Some(KeyState::from_label(value))
    }

    /// The state of a Secret a controller loads as an RSA key: its label's, or active for the
    /// legacy single key (upstream before v0.9: named exactly [`DEFAULT_KEY_PREFIX`] or the
    /// controller's `--key-prefix`, unlabelled), the only unlabelled key Secret loaded.
    /// `label` is the Secret's [`KEY_LABEL`] value, if it has one.
    pub fn of_loaded(label: Option<&str>) -> KeyState {
        label.map_or(KeyState::Active, KeyState::from_label)
    }

    /// The state a key label value stands for.
    pub fn from_label(value: &str) -> KeyState {
        match value {
            KEY_STATE_ACTIVE => KeyState::Active,
            KEY_STATE_COMPROMISED => KeyState::Compromised,
            KEY_STATE_RETIRED => KeyState::Retired,
            other => KeyState::Other(other.to_owned()),
        }
    }

    /// The label value of this state.
    pub fn label_value(&self) -> &str {
        match self {
            KeyState::Active => KEY_STATE_ACTIVE,
            KeyState::Compromised => KEY_STATE_COMPROMISED,
            KeyState::Retired => KEY_STATE_RETIRED,
            KeyState::Other(value) => value,
        }
    }

    /// Whether a key in this state may open SealedSecrets (active and compromised keys do).
    pub fn unseals(&self) -> bool {
        matches!(self, KeyState::Active | KeyState::Compromised)
    }

    /// Whether a key in this state may seal (only active keys).
    pub fn seals(&self) -> bool {
        matches!(self, KeyState::Active)
    }
}

impl std::fmt::Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label_value())
    }
}

/// Reads private keys from a recovery input, as `kubeseal --recovery-private-key` does: a PEM
/// private key, else a `v1.List` of key Secrets, else a stream of key Secrets (YAML or JSON).
///
/// # Errors
/// A PEM key that does not parse, an input that is neither, or a Secret without `tls.key`.
pub fn read_private_keys(text: &[u8]) -> Result<Vec<PrivateKey>, RecoveryKeyError> {
    if text.windows(11).any(|w| w == b"-----BEGIN ") {
        return Ok(vec![
            PrivateKey::from_pem(text).map_err(KeySecretError::from)?,
        ]);
    }
    let text = std::str::from_utf8(text).map_err(|_| RecoveryKeyError::NotKeys)?;
    let documents: Vec<Value> =
        crate::object::read_documents(text).map_err(RecoveryKeyError::Format)?;
    let mut secrets = Vec::new();
    for document in documents {
        if document.get("kind").and_then(Value::as_str) == Some("List") {
            let items = document
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            secrets.extend(items);
        } else {
            secrets.push(document);
        }
    }
    if secrets.is_empty() {
        return Err(RecoveryKeyError::NotKeys);
    }
    secrets
        .into_iter()
        .map(|value| {
            let text = serde_json::to_string(&value).map_err(|_| RecoveryKeyError::NotKeys)?;
            let secret = crate::object::read_secrets(&text)
                .map_err(RecoveryKeyError::Format)?
                .pop();
            let secret = secret.ok_or(RecoveryKeyError::NotKeys)?;
            Ok(read_key_secret(&secret)?.0)
        })
        .collect()
}

/// A recovery key input that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryKeyError {
    /// Neither a PEM key nor key Secrets.
    #[error("not a PEM private key, a key Secret or a List of key Secrets")]
    NotKeys,
    /// Malformed YAML or JSON.
    #[error(transparent)]
    Format(crate::object::FormatError),
    /// A key Secret that cannot be used.
    #[error(transparent)]
    KeySecret(#[from] KeySecretError),
}
