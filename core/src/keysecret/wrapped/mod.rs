//! Protected key Secrets: the private key encrypted under a data key (DEK) that a KMS or HSM
//! wraps, so the Secret holds no plaintext key (docs/key-protection.md, "Envelope").
//!
//! ```yaml
//! type: kubernetes.io/tls                      # unchanged, as are the labels
//! metadata:
//!   annotations:
//!     sealant.dev/key-protection: '{"version":1,"provider":"pkcs11","kek":"sealant/kek"}'
//! data:
//!   tls.crt: <PEM certificate, unchanged>
//!   tls.key: ""                                # the API server requires the item on this type
//!   sealant.wrapped-key: <12-byte nonce || AES-256-GCM(PKCS#8 DER) || 16-byte tag>
//!   sealant.wrapped-dek: <the provider's wrapped DEK, opaque>
//! ```
//!
//! Both layers bind [`WrappedKey::aad`]: the format version, the provider, the KEK id and the
//! certificate's key fingerprint, so an envelope moved onto another key Secret, or relabelled to
//! another KEK, fails to open. This module does no I/O: the caller has the provider wrap and
//! unwrap the DEK (crate sealant-kms).

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit, Tag};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{KEY_LABEL, KEY_SECRET_TYPE, TLS_CERT, TLS_KEY};
use crate::keys::{Certificate, Fingerprint, KeyError, PrivateKey};
use crate::object::Secret;
use crate::secret::SecretBytes;

#[cfg(test)]
mod tests;

/// Data item holding the locally encrypted private key.
pub const WRAPPED_KEY: &str = "sealant.wrapped-key";
/// Data item holding the DEK as the provider wrapped it.
pub const WRAPPED_DEK: &str = "sealant.wrapped-dek";
/// Annotation naming the format version, the provider and the KEK (JSON, see [`Protection`]).
pub const PROTECTION_ANNOTATION: &str = "sealant.dev/key-protection";
/// The envelope format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Length of the data key (AES-256).
pub const DEK_LEN: usize = 32;
/// First line of [`WrappedKey::aad`].
const AAD_CONTEXT: &str = "sealant.dev/key-protection";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Longest provider name or KEK id accepted (an AWS key ARN is about 80 characters).
const MAX_ID_LEN: usize = 512;
/// Longest wrapped DEK accepted (an RSA-4096 wrap is 512 bytes; AWS blobs are about 200).
const MAX_WRAPPED_DEK_LEN: usize = 4096;
/// Longest sealed private key accepted (PKCS#8 of RSA-16384 is below 10 KiB).
const MAX_WRAPPED_KEY_LEN: usize = 16 * 1024;

/// A protected key Secret that cannot be read or opened. No variant carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WrappedKeyError {
    /// No or malformed [`PROTECTION_ANNOTATION`].
    #[error("annotation '{PROTECTION_ANNOTATION}' is missing or malformed")]
    Annotation,
    /// A format version this build does not know.
    #[error(
        "key protection format version {0} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    Version(u32),
    /// A provider name or KEK id that is empty, too long or has control characters.
    #[error("the provider name or KEK id is empty, too long or has control characters")]
    BadId,
    /// A required data item is missing.
    #[error("a protected key Secret must contain '{0}'")]
    MissingItem(&'static str),
    /// `tls.key` is not empty: a protected Secret must not also hold a plaintext key.
    #[error("a protected key Secret must have an empty 'tls.key'")]
    PlaintextPresent,
    /// A data item has an impossible length.
    #[error("'{0}' has an impossible length")]
    Length(&'static str),
    /// The certificate does not parse.
    #[error(transparent)]
    Certificate(KeyError),
    /// The DEK is not [`DEK_LEN`] bytes.
    #[error("the data key must be {DEK_LEN} bytes")]
    DekLength,
    /// Decryption failed: wrong DEK, or the envelope was altered or moved to another Secret.
    #[error(
        "the wrapped key does not open with this data key (altered, or moved from another key Secret)"
    )]
    Open,
    /// The decrypted key is malformed or is not the certificate's key.
    #[error("the unwrapped private key is malformed or does not match 'tls.crt'")]
    KeyMismatch,
    /// The random source or the cipher failed while protecting a key.
    #[error("protecting the key failed: {0}")]
    Seal(&'static str),
}

/// Which provider and KEK a key is wrapped under: public, shown by `keys list`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Protection {
    /// Provider kind, e.g. `pkcs11`, `aws-kms`.
    pub provider: String,
    /// The key-encryption key's id in that provider (a PKCS#11 label, a KMS key ARN).
    pub kek: String,
}

impl Protection {
    /// A protection record; see [`WrappedKeyError::BadId`] for what is refused.
    ///
    /// # Errors
    /// [`WrappedKeyError::BadId`].
    pub fn new(provider: &str, kek: &str) -> Result<Self, WrappedKeyError> {
        let protection = Protection {
            provider: provider.to_owned(),
            kek: kek.to_owned(),
        };
        protection.check()?;
        Ok(protection)
    }

    // The AAD joins fields with newlines, so a field without control characters keeps the
    // encoding unambiguous.
    fn check(&self) -> Result<(), WrappedKeyError> {
        let ok =
            |s: &str| !s.is_empty() && s.len() <= MAX_ID_LEN && !s.chars().any(char::is_control);
        if ok(&self.provider) && ok(&self.kek) {
            Ok(())
        } else {
            Err(WrappedKeyError::BadId)
        }
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} key '{}'", self.provider, self.kek)
    }
}

/// The annotation's JSON value. `deny_unknown_fields`: a later version's fields must not be
/// silently dropped by an older reader.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Annotation {
    version: u32,
    provider: String,
    kek: String,
}

/// A parsed protected key: everything in it is public (ciphertexts, certificate, ids).
#[derive(Clone)]
pub struct WrappedKey {
    protection: Protection,
    cert: Certificate,
    sealed_key: Vec<u8>,
    wrapped_dek: Vec<u8>,
}

impl WrappedKey {
    /// The provider and KEK the DEK is wrapped under.
    pub fn protection(&self) -> &Protection {
        &self.protection
    }

    /// The key's certificate (`tls.crt`).
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The key's fingerprint (from the certificate: known before unwrapping).
    pub fn fingerprint(&self) -> &Fingerprint {
        self.cert.public_key().fingerprint()
    }

    /// The DEK as the provider wrapped it: what to hand to the provider's unwrap.
    pub fn wrapped_dek(&self) -> &[u8] {
        &self.wrapped_dek
    }

    /// The associated data both layers bind: what to hand to the provider with the DEK.
    pub fn aad(&self) -> Vec<u8> {
        aad(&self.protection, self.fingerprint())
    }

    /// Opens the private key with the DEK the provider unwrapped, and checks it is the
    /// certificate's key.
    ///
    /// # Errors
    /// [`WrappedKeyError::DekLength`], [`WrappedKeyError::Open`],
    /// [`WrappedKeyError::KeyMismatch`].
    pub fn open(&self, dek: &SecretBytes) -> Result<PrivateKey, WrappedKeyError> {
        let cipher = Aes256Gcm::new_from_slice(dek.expose_secret())
            .map_err(|_| WrappedKeyError::DekLength)?;
        let (nonce, rest) = self
            .sealed_key
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(WrappedKeyError::Open)?;
        let (body, tag) = rest
            .split_last_chunk::<TAG_LEN>()
            .ok_or(WrappedKeyError::Open)?;
        let tag = Tag::<Aes256Gcm>::from(*tag);
        let mut der = Zeroizing::new(body.to_vec());
        cipher
            .decrypt_inout_detached(
                &Nonce::from(*nonce),
                &self.aad(),
                (&mut der[..]).into(),
                &tag,
            )
            .map_err(|_| WrappedKeyError::Open)?;
        let key = PrivateKey::from_pkcs8_der(&der).map_err(|_| WrappedKeyError::KeyMismatch)?;
        if key.fingerprint() != self.fingerprint() {
            return Err(WrappedKeyError::KeyMismatch);
        }
        Ok(key)
    }

    /// Turns `secret` (a key Secret in upstream's layout, or a protected one) into this
    /// protected key in place: name, labels, other annotations and items are kept; `tls.key`
    /// is emptied. One Secret update, so a reader sees the key either plaintext or protected.
    pub fn write_into(&self, secret: &mut Secret) {
        secret.merge_string_data();
        secret.type_ = Some(KEY_SECRET_TYPE.to_owned());
        let annotation = Annotation {
            version: FORMAT_VERSION,
            provider: self.protection.provider.clone(),
            kek: self.protection.kek.clone(),
        };
        // Serializing two strings and a number cannot fail; an empty value would fail to read.
        let json = serde_json::to_string(&annotation).unwrap_or_default();
        secret
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(PROTECTION_ANNOTATION.to_owned(), json);
        let data = secret.data.get_or_insert_with(BTreeMap::new);
        data.insert(TLS_KEY.to_owned(), SecretBytes::empty());
        data.insert(
            TLS_CERT.to_owned(),
            SecretBytes::from_slice(self.cert.pem().as_bytes()),
        );
        data.insert(
            WRAPPED_KEY.to_owned(),
            SecretBytes::from_slice(&self.sealed_key),
        );
        data.insert(
            WRAPPED_DEK.to_owned(),
            SecretBytes::from_slice(&self.wrapped_dek),
        );
    }
}

impl PartialEq for WrappedKey {
    fn eq(&self, other: &Self) -> bool {
        self.protection == other.protection
            && self.cert.pem() == other.cert.pem()
            && self.sealed_key == other.sealed_key
            && self.wrapped_dek == other.wrapped_dek
    }
}

impl Eq for WrappedKey {}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("protection", &self.protection)
            .field("fingerprint", self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// The associated data of an envelope: context, version, provider, KEK id and fingerprint,
/// one per line (no field holds a newline, [`Protection::new`]).
fn aad(protection: &Protection, fingerprint: &Fingerprint) -> Vec<u8> {
    format!(
        "{AAD_CONTEXT}\nv{FORMAT_VERSION}\n{}\n{}\n{}",
        protection.provider,
        protection.kek,
        fingerprint.as_str()
    )
    .into_bytes()
}

/// A key sealed under a fresh DEK, waiting for the provider to wrap that DEK. Dropping it
/// wipes the DEK.
pub struct PendingWrap {
    dek: SecretBytes,
    key: WrappedKey,
}

impl PendingWrap {
    /// The DEK to hand to the provider's wrap.
    pub fn dek(&self) -> &SecretBytes {
        &self.dek
    }

    /// The associated data to hand to the provider with the DEK.
    pub fn aad(&self) -> Vec<u8> {
        self.key.aad()
    }

    /// The protected key, once the provider returned the wrapped DEK. The DEK is wiped.
    ///
    /// # Errors
    /// [`WrappedKeyError::Length`] for an empty or oversized wrapped DEK.
    pub fn finish(self, wrapped_dek: Vec<u8>) -> Result<WrappedKey, WrappedKeyError> {
        if wrapped_dek.is_empty() || wrapped_dek.len() > MAX_WRAPPED_DEK_LEN {
            return Err(WrappedKeyError::Length(WRAPPED_DEK));
        }
        let PendingWrap { dek: _, mut key } = self;
        key.wrapped_dek = wrapped_dek;
        Ok(key)
    }
}

impl fmt::Debug for PendingWrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWrap")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Seals `key` under a fresh random DEK for `protection`; the caller then has the provider
/// wrap [`PendingWrap::dek`] with [`PendingWrap::aad`] and calls [`PendingWrap::finish`].
///
/// # Errors
/// [`WrappedKeyError::Certificate`] if `cert` is not `key`'s, [`WrappedKeyError::BadId`],
/// [`WrappedKeyError::Seal`] if the random source fails.
pub fn seal_key(
    key: &PrivateKey,
    cert: &Certificate,
    protection: Protection,
) -> Result<PendingWrap, WrappedKeyError> {
    use rand::TryRng as _;
    let mut dek = Zeroizing::new(vec![0u8; DEK_LEN]);
    rand::rngs::SysRng
        .try_fill_bytes(&mut dek)
        .map_err(|_| WrappedKeyError::Seal("no random data key"))?;
    let nonce =
        crate::age::random_bytes::<NONCE_LEN>().map_err(|_| WrappedKeyError::Seal("no nonce"))?;
    seal_key_with(key, cert, protection, SecretBytes::from(dek), nonce)
}

/// [`seal_key`] with a given DEK and nonce: deterministic, for test vectors. A nonce must never
/// be reused with a DEK; [`seal_key`] draws both fresh.
pub(crate) fn seal_key_with(
    key: &PrivateKey,
    cert: &Certificate,
    protection: Protection,
    dek: SecretBytes,
    nonce: [u8; NONCE_LEN],
) -> Result<PendingWrap, WrappedKeyError> {
    protection.check()?;
    if cert.public_key().fingerprint() != key.fingerprint() {
        return Err(WrappedKeyError::Certificate(KeyError::CertificateMismatch));
    }
    let cipher =
        Aes256Gcm::new_from_slice(dek.expose_secret()).map_err(|_| WrappedKeyError::DekLength)?;
    let der = key.to_pkcs8_der().map_err(WrappedKeyError::Certificate)?;
    let aad = aad(&protection, key.fingerprint());
    let mut sealed = Vec::with_capacity(NONCE_LEN + der.len() + TAG_LEN);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&der);
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(nonce), &aad, (&mut sealed[NONCE_LEN..]).into())
        .map_err(|_| WrappedKeyError::Seal("AES-GCM failed"))?;
    sealed.extend_from_slice(&tag);
    Ok(PendingWrap {
        dek,
        key: WrappedKey {
            protection,
            cert: cert.clone(),
            sealed_key: sealed,
            wrapped_dek: Vec::new(),
        },
    })
}

/// A new protected key Secret in upstream's layout otherwise: `generateName` = prefix, label
/// `active`, type `kubernetes.io/tls`. Extra labels cannot override the key label.
pub fn wrapped_key_secret(
    namespace: &str,
    prefix: &str,
    key: &WrappedKey,
    extra_labels: &BTreeMap<String, String>,
    extra_annotations: &BTreeMap<String, String>,
) -> Secret {
    let mut metadata = super::new_key_metadata(namespace, prefix, KEY_LABEL, extra_labels);
    metadata.annotations = Some(extra_annotations.clone());
    let mut secret = Secret::new(metadata);
    key.write_into(&mut secret);
    secret
}

/// True for key Secrets in the protected layout (a [`WRAPPED_KEY`] item or the annotation).
pub fn is_wrapped_key_secret(secret: &Secret) -> bool {
    secret.merged_items().contains_key(WRAPPED_KEY)
        || secret
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(PROTECTION_ANNOTATION))
}

/// Reads a protected key Secret (no unwrapping: see [`WrappedKey::open`]).
///
/// # Errors
/// See [`WrappedKeyError`].
pub fn read_wrapped_key_secret(secret: &Secret) -> Result<WrappedKey, WrappedKeyError> {
    let annotation = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PROTECTION_ANNOTATION))
        .ok_or(WrappedKeyError::Annotation)?;
    let annotation: Annotation =
        serde_json::from_str(annotation).map_err(|_| WrappedKeyError::Annotation)?;
    if annotation.version != FORMAT_VERSION {
        return Err(WrappedKeyError::Version(annotation.version));
    }
    let protection = Protection {
        provider: annotation.provider,
        kek: annotation.kek,
    };
    protection.check()?;
    let data = secret.merged_items();
    let item = |name: &'static str| data.get(name).ok_or(WrappedKeyError::MissingItem(name));
    if !item(TLS_KEY)?.is_empty() {
        return Err(WrappedKeyError::PlaintextPresent);
    }
    let cert = Certificate::from_pem(item(TLS_CERT)?).map_err(WrappedKeyError::Certificate)?;
    let sealed_key = item(WRAPPED_KEY)?;
    if sealed_key.len() < NONCE_LEN + TAG_LEN + 1 || sealed_key.len() > MAX_WRAPPED_KEY_LEN {
        return Err(WrappedKeyError::Length(WRAPPED_KEY));
    }
    let wrapped_dek = item(WRAPPED_DEK)?;
    if wrapped_dek.is_empty() || wrapped_dek.len() > MAX_WRAPPED_DEK_LEN {
        return Err(WrappedKeyError::Length(WRAPPED_DEK));
    }
    Ok(WrappedKey {
        protection,
        cert,
        sealed_key: sealed_key.to_vec(),
        wrapped_dek: wrapped_dek.to_vec(),
    })
}

/// Turns a protected key Secret back into upstream's plaintext layout in place (`keys
/// unprotect`): `tls.key` gets the PKCS#1 PEM key, the envelope items and annotation go.
///
/// # Errors
/// Only if the key cannot be serialized.
pub fn unprotect_into(secret: &mut Secret, key: &PrivateKey) -> Result<(), KeyError> {
    let pem = key.to_pkcs1_pem()?;
    secret.merge_string_data();
    if let Some(annotations) = secret.metadata.annotations.as_mut() {
        annotations.remove(PROTECTION_ANNOTATION);
    }
    let data = secret.data.get_or_insert_with(BTreeMap::new);
    data.remove(WRAPPED_KEY);
    data.remove(WRAPPED_DEK);
    data.insert(TLS_KEY.to_owned(), SecretBytes::from_slice(pem.as_bytes()));
    Ok(())
}
