//! Encrypted key backups: every key Secret of a controller (RSA and age) in one age file for
//! an offline recipient.
//!
//! The plaintext is a YAML `v1` `List` of the key Secrets, cleaned of server-side fields, after
//! two comment lines:
//!
//! ```text
//! # sealant key backup v1: a v1 List of key Secrets (RSA: tls.key/tls.crt, age: age.key).
//! # Restore with `sealant keys restore`, or: age -d -i identity.txt BACKUP | kubectl apply -f -
//! apiVersion: v1
//! kind: List
//! items:
//! - apiVersion: v1
//!   kind: Secret
//!   metadata: {name, namespace, labels, annotations, creationTimestamp}
//!   type: kubernetes.io/tls | sealant.dev/age-key
//!   data: {...}
//! ```
//!
//! It is encrypted as an ordinary age file (binary or armored) to age recipients, so the
//! reference `age -d -i identity.txt` decrypts it without sealant. Recipients may be age
//! plugins (`age1yubikey1…`, [`crate::age::plugin`]). m-of-n backups are in [`threshold`].

use std::collections::BTreeMap;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::age::plugin::{
    FileDecryptError, FileEncryptError, FileIdentity, FileRecipient, PluginError, PluginMessages,
};
use crate::age::{AgeIdentity, AgeRecipient, MixedRecipients, check_post_quantum_mix};
use crate::error::SealError;
use crate::item::KeyRing;
use crate::keysecret::age::{AnyKeySecretError, add_key_secret};
pub use crate::object::read_key_secrets;
use crate::object::{FormatError, ObjectMeta, Secret};

pub mod escrow;
pub mod threshold;

pub use threshold::{Holder, Share, ThresholdBackup, ThresholdError};

/// The first line of every backup plaintext.
pub const BACKUP_HEADER: &str =
    "# sealant key backup v1: a v1 List of key Secrets (RSA: tls.key/tls.crt, age: age.key).\n";
const BACKUP_HINT: &str = "# Restore with `sealant keys restore`, or: age -d -i identity.txt BACKUP | kubectl apply -f -\n";

/// Metadata fields a backup keeps besides name, namespace, labels and annotations.
const KEPT_METADATA: [&str; 2] = ["creationTimestamp", "generateName"];

/// A backup that cannot be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// Nothing to back up.
    #[error("no key Secrets to back up")]
    Empty,
    /// A Secret that is not a usable key (a backup must never hold a key that cannot restore).
    #[error("key Secret {name:?} cannot be used")]
    NotAKey {
        /// The Secret's name.
        name: String,
        /// Why.
        #[source]
        source: AnyKeySecretError,
    },
    /// Post-quantum and classical backup recipients together.
    #[error(transparent)]
    MixedRecipients(#[from] MixedRecipients),
    /// No backup recipient.
    #[error("a backup needs at least one age recipient")]
    NoRecipient,
    /// Encryption failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// No identity opens the backup, or it was tampered with.
    #[error("no identity could decrypt the backup")]
    Decrypt,
    /// The backup opened but does not hold key Secrets.
    #[error("the backup does not hold key Secrets")]
    Malformed,
    /// YAML that cannot be written (not expected).
    #[error(transparent)]
    Format(FormatError),
    /// An age plugin that is missing or failed.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// An m-of-n backup or share that cannot be made, read or combined.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct List<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [CleanKeySecret<'a>],
}

/// What [`clean_key_secret`] makes of a Secret, with the values borrowed rather than copied
/// (fields in [`Secret`]'s order, so the text is the same).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CleanKeySecret<'a> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    data: BTreeMap<&'a str, Base64<'a>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    type_: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    immutable: Option<bool>,
}

impl<'a> CleanKeySecret<'a> {
    fn new(secret: &'a Secret) -> Self {
        Self {
            api_version: "v1",
            kind: "Secret",
            metadata: clean_metadata(secret.metadata.clone()),
            data: secret
                .merged_items()
                .into_iter()
                .map(|(key, value)| (key, Base64(value)))
                .collect(),
            type_: secret.type_.as_deref(),
            immutable: secret.immutable,
        }
    }
}

/// Borrowed secret bytes, serialized as base64 like [`crate::SecretBytes`].
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::base64::serialize_secret(self.0, serializer)
    }
}

/// A key Secret as a backup stores it: `v1`/`Secret`, data merged into `data`, no server-side
/// metadata (uid, resourceVersion, managedFields, ownerReferences).
pub fn clean_key_secret(mut secret: Secret) -> Secret {
    secret.api_version = Some("v1".to_owned());
    secret.kind = Some("Secret".to_owned());
    secret.merge_string_data();
    secret.data.get_or_insert_with(BTreeMap::new);
    secret.metadata = clean_metadata(secret.metadata);
    secret
}

/// Metadata without server-side fields (see [`clean_key_secret`]).
fn clean_metadata(mut metadata: ObjectMeta) -> ObjectMeta {
    metadata.uid = None;
    metadata.owner_references = None;
    metadata
        .extra
        .retain(|key, _| KEPT_METADATA.contains(&key.as_str()));
    if metadata.name.is_some() {
        metadata.extra.remove("generateName");
    }
    metadata
}

/// The backup plaintext for `secrets` (see the module docs). Every Secret must be a usable
/// RSA or age key Secret.
///
/// # Errors
/// No Secrets, or one that is not a usable key.
pub fn backup_plaintext(secrets: &[Secret]) -> Result<Zeroizing<String>, BackupError> {
    if secrets.is_empty() {
        return Err(BackupError::Empty);
    }
    let mut check = KeyRing::new();
    for secret in secrets {
        add_key_secret(&mut check, secret).map_err(|source| BackupError::NotAKey {
            name: secret.metadata.name_or_empty().to_owned(),
            source,
        })?;
    }
    let items: Vec<CleanKeySecret<'_>> = secrets.iter().map(CleanKeySecret::new).collect();
    let body = Zeroizing::new(
        crate::yaml::to_string(&List {
            api_version: "v1",
            kind: "List",
            items: &items,
        })
        .map_err(|e| BackupError::Format(FormatError::Serialize(e.message)))?,
    );
    let mut text = Zeroizing::new(String::with_capacity(
        BACKUP_HEADER.len() + BACKUP_HINT.len() + body.len(),
    ));
    text.push_str(BACKUP_HEADER);
    text.push_str(BACKUP_HINT);
    text.push_str(&body);
    Ok(text)
}

/// Encrypts a backup of `secrets` to `recipients`: an age file, ASCII-armored if `armor`.
///
/// # Errors
/// See [`backup_plaintext`]; no recipient, or post-quantum mixed with classical recipients.
pub fn seal_backup(
    recipients: &[AgeRecipient],
    secrets: &[Secret],
    armor: bool,
) -> Result<Vec<u8>, BackupError> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipient);
    }
    check_post_quantum_mix(recipients, 0)?;
    let plaintext = backup_plaintext(secrets)?;
    Ok(crate::age::encrypt_file(
        recipients,
        plaintext.as_bytes(),
        armor,
    )?)
}

/// Decrypts a backup (binary or armored) and returns its key Secrets, each checked usable.
///
/// # Errors
/// No identity opens it, or it does not hold usable key Secrets.
pub fn open_backup(identities: &[AgeIdentity], backup: &[u8]) -> Result<Vec<Secret>, BackupError> {
    let plaintext =
        crate::age::decrypt_file(identities, backup).map_err(|_| BackupError::Decrypt)?;
    secrets_of_plaintext(plaintext.expose_secret())
}

/// Encrypts a backup of `secrets` to native and plugin recipients (see [`seal_backup`]).
///
/// # Errors
/// See [`seal_backup`]; a plugin that is missing or fails.
pub fn seal_backup_to(
    recipients: &[FileRecipient],
    secrets: &[Secret],
    armor: bool,
    messages: PluginMessages,
) -> Result<Vec<u8>, BackupError> {
    if recipients.is_empty() {
        return Err(BackupError::NoRecipient);
    }
    let native: Vec<AgeRecipient> = recipients
        .iter()
        .filter_map(|r| match r {
            FileRecipient::Native(n) => Some(n.clone()),
            FileRecipient::Plugin(_) => None,
        })
        .collect();
    check_post_quantum_mix(&native, 0)?;
    let plaintext = backup_plaintext(secrets)?;
    crate::age::plugin::encrypt_to(recipients, plaintext.as_bytes(), armor, messages).map_err(|e| {
        match e {
            FileEncryptError::Seal(e) => BackupError::Seal(e),
            FileEncryptError::Plugin(e) => BackupError::Plugin(e),
        }
    })
}

/// Decrypts a plain backup with native and plugin identities (see [`open_backup`]).
///
/// # Errors
/// A threshold backup ([`ThresholdError::IsThreshold`]), no identity opens it, a plugin that
/// is missing or fails, or contents that are not usable key Secrets.
pub fn open_backup_with(
    identities: &[FileIdentity],
    backup: &[u8],
    messages: PluginMessages,
) -> Result<Vec<Secret>, BackupError> {
    if threshold::is_threshold_backup(backup) {
        return Err(ThresholdError::IsThreshold.into());
    }
    let plaintext =
        crate::age::plugin::decrypt_with(identities, backup, messages).map_err(|e| match e {
            FileDecryptError::Decrypt(_) => BackupError::Decrypt,
            FileDecryptError::Plugin(e) => BackupError::Plugin(e),
        })?;
    secrets_of_plaintext(plaintext.expose_secret())
}

/// The key Secrets of a decrypted backup, each checked usable.
fn secrets_of_plaintext(plaintext: &[u8]) -> Result<Vec<Secret>, BackupError> {
    let text = std::str::from_utf8(plaintext).map_err(|_| BackupError::Malformed)?;
    let secrets = read_key_secrets(text).map_err(|_| BackupError::Malformed)?;
    if secrets.is_empty() {
        return Err(BackupError::Malformed);
    }
    key_ring(&secrets)?;
    Ok(secrets)
}

/// The keys of key Secrets (RSA and age) as one ring, e.g. to unseal with a backup.
///
/// # Errors
/// A Secret that is not a usable key.
pub fn key_ring(secrets: &[Secret]) -> Result<KeyRing, BackupError> {
    let mut ring = KeyRing::new();
    for secret in secrets {
        add_key_secret(&mut ring, secret).map_err(|source| BackupError::NotAKey {
            name: secret.metadata.name_or_empty().to_owned(),
            source,
        })?;
    }
    Ok(ring)
}

/// A key Secret from a backup, ready to create in a cluster: the server-set
/// `creationTimestamp` removed and, if given, the namespace replaced.
pub fn restorable(secret: Secret, namespace: Option<&str>) -> Secret {
    let mut out = clean_key_secret(secret);
    out.metadata.extra.remove("creationTimestamp");
    if let Some(namespace) = namespace {
        out.metadata.namespace = Some(namespace.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use std::collections::BTreeMap;

    use super::*;
    use crate::age::{IdentityKind, parse_recipients};
    use crate::keysecret::age::age_key_secret;
    use crate::secret::SecretBytes;

    /// A new age key and its key Secret in kube-system, for the backup tests of this module
    /// and its children.
    pub(super) fn new_age_key(kind: IdentityKind) -> (AgeIdentity, Secret) {
        let identity = AgeIdentity::generate(kind).unwrap();
        let secret = age_key_secret(
            "kube-system",
            "sealant-age-key",
            &identity,
            time::OffsetDateTime::UNIX_EPOCH,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        (identity, secret)
    }

    fn age_key(kind: IdentityKind, name: &str) -> (AgeIdentity, Secret) {
        let (identity, mut secret) = new_age_key(kind);
        secret.metadata.name = Some(name.to_owned());
        secret
            .metadata
            .extra
            .insert("resourceVersion".into(), Value::String("42".into()));
        secret.metadata.uid = Some("uid-1".into());
        (identity, secret)
    }

    #[test]
    fn backups_round_trip_and_drop_server_fields() {
        let (key, secret) = age_key(IdentityKind::X25519, "k1");
        let offline = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        for armor in [false, true] {
            let backup = seal_backup(
                &[offline.recipient().clone()],
                std::slice::from_ref(&secret),
                armor,
            )
            .unwrap();
            assert_eq!(
                backup.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
                armor
            );
            let restored = open_backup(std::slice::from_ref(&offline), &backup).unwrap();
            assert_eq!(restored.len(), 1);
            let item = &restored[0];
            assert_eq!(item.metadata.name.as_deref(), Some("k1"));
            assert!(item.metadata.uid.is_none());
            assert!(!item.metadata.extra.contains_key("resourceVersion"));
            let ring = key_ring(&restored).unwrap();
            assert_eq!(
                ring.age_identities().next().unwrap().recipient(),
                key.recipient()
            );
            assert_eq!(
                open_backup(std::slice::from_ref(&key), &backup).unwrap_err(),
                BackupError::Decrypt
            );
        }
    }

    #[test]
    fn refuses_what_could_not_be_restored() {
        let offline = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let recipients = parse_recipients(&offline.recipient().to_string()).unwrap();
        assert_eq!(
            seal_backup(&recipients, &[], false),
            Err(BackupError::Empty)
        );
        let (_, mut broken) = age_key(IdentityKind::X25519, "broken");
        broken.data.as_mut().unwrap().insert(
            "age.key".into(),
            SecretBytes::from_slice(b"AGE-SECRET-KEY-1NOPE\n"),
        );
        assert!(matches!(
            seal_backup(&recipients, &[broken], false),
            Err(BackupError::NotAKey { .. })
        ));
        let (_, ok) = age_key(IdentityKind::X25519, "ok");
        assert_eq!(
            seal_backup(&[], &[ok], false),
            Err(BackupError::NoRecipient)
        );
    }

    #[test]
    fn plaintext_is_a_commented_list() {
        let (_, secret) = age_key(IdentityKind::PostQuantum, "pq");
        let text = backup_plaintext(&[secret]).unwrap();
        assert!(text.starts_with(BACKUP_HEADER));
        assert!(text.contains("\nkind: List\n"), "{}", &text[..200]);
        let mut secrets = read_key_secrets(&text).unwrap();
        assert_eq!(secrets[0].metadata.name.as_deref(), Some("pq"));
        let restore = restorable(secrets.remove(0), Some("sealed-secrets"));
        assert_eq!(
            restore.metadata.namespace.as_deref(),
            Some("sealed-secrets")
        );
    }
}
