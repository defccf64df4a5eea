//! The key Secret format for age identities, next to upstream's RSA key Secrets in the
//! controller namespace.
//!
//! ```yaml
//! type: sealant.dev/age-key
//! metadata:
//!   generateName: sealant-age-key
//!   labels: {sealant.dev/age-key: active}          # same states as RSA keys
//!   annotations: {sealant.dev/created-at: "2026-05-01T12:00:00Z"}
//! data:
//!   age.key: <identity file, as age-keygen writes it>
//!   age.pub: <recipient, age1… or age1pq1…>
//! ```
//! `created-at` orders age keys (newest seals) and survives a backup and restore, where the
//! Secret's own `creationTimestamp` does not. `age.key` can be fed to `age -d -i` as is.

use std::collections::BTreeMap;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{KeySecretError, KeyState, RecoveryKeyError, TLS_KEY, read_key_secret};
use crate::age::{AgeIdentity, AgeKeyError, AgeRecipient, parse_identities};
use crate::item::KeyRing;
use crate::object::Secret;
use crate::secret::SecretBytes;

/// Label that marks a Secret as an age key; its value is the key's state (as for RSA keys).
pub const AGE_KEY_LABEL: &str = "sealant.dev/age-key";
/// Secret type of age key Secrets.
pub const AGE_KEY_SECRET_TYPE: &str = "sealant.dev/age-key";
/// Default name prefix of age key Secrets.
pub const DEFAULT_AGE_KEY_PREFIX: &str = "sealant-age-key";
/// Data item holding the identity file.
pub const AGE_KEY: &str = "age.key";
/// Data item holding the recipient (public, informational).
pub const AGE_PUB: &str = "age.pub";
/// Annotation with the key's creation time (RFC 3339), which orders age keys.
pub const CREATED_AT_ANNOTATION: &str = "sealant.dev/created-at";

/// An age key Secret that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgeKeySecretError {
    /// No `age.key` item.
    #[error("secret must contain an 'age.key' key")]
    MissingKey,
    /// `age.key` is not one age identity.
    #[error("'age.key' must hold exactly one age identity")]
    NotOneIdentity,
    /// `age.key` does not parse.
    #[error("'age.key': {0}")]
    Identity(AgeKeyError),
    /// `age.pub` names another key.
    #[error("'age.pub' does not belong to the identity in 'age.key'")]
    RecipientMismatch,
}

/// A new age key Secret: `generateName` = prefix, label [`AGE_KEY_LABEL`] = `active`, type
/// [`AGE_KEY_SECRET_TYPE`], the identity file and the recipient. Extra labels cannot override
/// the key label.
pub fn age_key_secret(
    namespace: &str,
    prefix: &str,
    identity: &AgeIdentity,
    created: OffsetDateTime,
    extra_labels: &BTreeMap<String, String>,
    extra_annotations: &BTreeMap<String, String>,
) -> Secret {
    let mut metadata = super::new_key_metadata(namespace, prefix, AGE_KEY_LABEL, extra_labels);
    let mut annotations = extra_annotations.clone();
    let created = created
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0);
    if let Some(text) = created.ok().and_then(|t| t.format(&Rfc3339).ok()) {
        annotations.insert(CREATED_AT_ANNOTATION.to_owned(), text);
    }
    metadata.annotations = Some(annotations);
    let file = identity.to_identity_file(created.unwrap_or(OffsetDateTime::UNIX_EPOCH));
    let mut secret = Secret::new(metadata);
    secret.type_ = Some(AGE_KEY_SECRET_TYPE.to_owned());
    secret.data = Some(BTreeMap::from([
        (
            AGE_KEY.to_owned(),
            SecretBytes::from_slice(file.expose_secret().as_bytes()),
        ),
        (
            AGE_PUB.to_owned(),
            SecretBytes::from_slice(format!("{}\n", identity.recipient()).as_bytes()),
        ),
    ]));
    secret
}

/// True for Secrets in the age key layout (an `age.key` item, or the age key type).
pub fn is_age_key_secret(secret: &Secret) -> bool {
    secret.type_.as_deref() == Some(AGE_KEY_SECRET_TYPE)
        || secret
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key(AGE_KEY))
}

/// Reads an age key Secret: its identity (and checks `age.pub`, when present, matches).
///
/// # Errors
/// See [`AgeKeySecretError`].
pub fn read_age_key_secret(secret: &Secret) -> Result<AgeIdentity, AgeKeySecretError> {
    let data = secret.merged_items();
    let file = data.get(AGE_KEY).ok_or(AgeKeySecretError::MissingKey)?;
    let text = std::str::from_utf8(file)
        .map_err(|_| AgeKeySecretError::Identity(AgeKeyError::InvalidIdentity("not UTF-8")))?;
    let mut identities = parse_identities(text).map_err(AgeKeySecretError::Identity)?;
    if identities.len() != 1 {
        return Err(AgeKeySecretError::NotOneIdentity);
    }
    let identity = identities.remove(0);
    if let Some(public) = data.get(AGE_PUB) {
        let matches = std::str::from_utf8(public)
            .ok()
            .and_then(|t| t.trim().parse::<AgeRecipient>().ok())
            .is_some_and(|r| &r == identity.recipient());
        if !matches {
            return Err(AgeKeySecretError::RecipientMismatch);
        }
    }
    Ok(identity)
}

/// The state an age key Secret's label gives it (none for Secrets without the label).
pub fn age_key_state(secret: &Secret) -> Option<KeyState> {
    let value = secret.metadata.labels.as_ref()?.get(AGE_KEY_LABEL)?;
    Some(KeyState::from_label(value))
}

/// The time that orders an age key: its [`CREATED_AT_ANNOTATION`], else its
/// `creationTimestamp`.
pub fn age_key_created(secret: &Secret) -> Option<OffsetDateTime> {
    let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok();
    secret
        .metadata
        .annotation(CREATED_AT_ANNOTATION)
        .and_then(parse)
        .or_else(|| {
            secret
                .metadata
                .extra
                .get("creationTimestamp")
                .and_then(Value::as_str)
                .and_then(parse)
        })
}

/// A key Secret of either kind that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnyKeySecretError {
    /// An RSA key Secret (`tls.key`) that cannot be used.
    #[error(transparent)]
    Rsa(#[from] KeySecretError),
    /// An age key Secret (`age.key`) that cannot be used.
    #[error(transparent)]
    Age(#[from] AgeKeySecretError),
    /// Neither layout.
    #[error("not a key Secret: no 'tls.key' or 'age.key' item")]
    NotAKey,
}

/// Adds the key of one key Secret, RSA or age, to `ring`.
///
/// # Errors
/// See [`AnyKeySecretError`].
pub fn add_key_secret(ring: &mut KeyRing, secret: &Secret) -> Result<(), AnyKeySecretError> {
    if is_age_key_secret(secret) {
        ring.insert_age(read_age_key_secret(secret)?);
    } else if secret
        .data
        .as_ref()
        .is_some_and(|d| d.contains_key(TLS_KEY))
        || secret
            .string_data
            .as_ref()
            .is_some_and(|d| d.contains_key(TLS_KEY))
    {
        ring.insert(read_key_secret(secret)?.0);
    } else {
        return Err(AnyKeySecretError::NotAKey);
    }
    Ok(())
}

/// Reads recovery keys of every kind sealant knows: an age identity file, a PEM private key,
/// or key Secrets (RSA or age, a `List` or a stream, YAML or JSON — a decrypted backup is one).
///
/// # Errors
/// Input that is none of these, or a key that does not parse.
pub fn read_recovery_keys(text: &[u8]) -> Result<KeyRing, RecoveryKeyError> {
    let mut ring = KeyRing::new();
    if let Ok(utf8) = std::str::from_utf8(text)
        && utf8
            .lines()
            .map(str::trim)
            .any(|l| l.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-"))
        && !utf8.contains("apiVersion")
    {
        for identity in parse_identities(utf8).map_err(|_| RecoveryKeyError::NotKeys)? {
            ring.insert_age(identity);
        }
        return Ok(ring);
    }
    if text.windows(11).any(|w| w == b"-----BEGIN ") {
        for key in super::read_private_keys(text)? {
            ring.insert(key);
        }
        return Ok(ring);
    }
    let utf8 = std::str::from_utf8(text).map_err(|_| RecoveryKeyError::NotKeys)?;
    let secrets = crate::object::read_key_secrets(utf8).map_err(|_| RecoveryKeyError::NotKeys)?;
    for secret in &secrets {
        add_key_secret(&mut ring, secret).map_err(|e| match e {
            AnyKeySecretError::Rsa(e) => RecoveryKeyError::KeySecret(e),
            _ => RecoveryKeyError::NotKeys,
        })?;
    }
    Ok(ring)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::age::IdentityKind;

    #[test]
    fn key_secrets_round_trip_and_check_the_recipient() {
        let identity = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
        let created = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut secret = age_key_secret(
            "kube-system",
            DEFAULT_AGE_KEY_PREFIX,
            &identity,
            created,
            &BTreeMap::from([(AGE_KEY_LABEL.to_owned(), "ignored".to_owned())]),
            &BTreeMap::new(),
        );
        assert_eq!(age_key_state(&secret), Some(KeyState::Active));
        assert_eq!(age_key_created(&secret), Some(created));
        assert!(is_age_key_secret(&secret));
        let read = read_age_key_secret(&secret).unwrap();
        assert_eq!(read.recipient(), identity.recipient());

        let other = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        secret.data.as_mut().unwrap().insert(
            AGE_PUB.to_owned(),
            SecretBytes::from_slice(other.recipient().to_string().as_bytes()),
        );
        assert_eq!(
            read_age_key_secret(&secret).unwrap_err(),
            AgeKeySecretError::RecipientMismatch
        );
    }

    #[test]
    fn recovery_input_may_be_an_identity_file() {
        let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let file = identity.to_identity_file(OffsetDateTime::UNIX_EPOCH);
        let ring = read_recovery_keys(file.expose_secret().as_bytes()).unwrap();
        assert_eq!(
            ring.age_identities().next().unwrap().recipient(),
            identity.recipient()
        );
        assert!(read_recovery_keys(b"hello").is_err());
    }
}
