//! The hybrid item format of upstream Sealed Secrets: one `encryptedData` value.
//!
//! ```text
//! u16 BE  L            length of the RSA ciphertext (the modulus size in bytes)
//! L bytes              RSA-OAEP(SHA-256, MGF1-SHA-256, label = scope label) of a fresh 32-byte key
//! N+16 bytes           AES-256-GCM(key, nonce = 12 zero bytes, no AAD) of the plaintext, tag appended
//! ```
//! The all-zero nonce is safe only because every item gets a fresh session key; [`seal_item`]
//! never reuses one.

use aes_gcm::aead::{AeadInOut, KeyInit, Tag};
use aes_gcm::{Aes256Gcm, Nonce};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey};
use rand::TryRng as _;
use zeroize::Zeroizing;

use crate::age::envelope::Binding;
use crate::age::{AgeIdentity, ItemKind};
pub use crate::error::{DecryptError, SealError};
use crate::keys::{Fingerprint, PrivateKey, PublicKey};
use crate::secret::SecretBytes;

/// Bytes in an AES-256 session key.
pub const SESSION_KEY_LEN: usize = 32;
/// Bytes in the GCM tag.
pub const TAG_LEN: usize = 16;
const ZERO_NONCE: [u8; 12] = [0; 12];

/// Seals `plaintext` to `key` under `label` (see [`crate::Scope::label`]); returns the raw item.
///
/// # Errors
/// [`SealError`] if the system random source or AWS-LC fails.
pub fn seal_item(key: &PublicKey, label: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut session_key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rand::rngs::SysRng
        .try_fill_bytes(&mut *session_key)
        .map_err(|_| SealError::new("the system random source failed"))?;

    let oaep = OaepPublicEncryptingKey::new(key.encrypting_key().clone())
        .map_err(|_| SealError::new("unusable RSA public key"))?;
    let rsa_len = oaep.ciphertext_size();
    let rsa_len_prefix = u16::try_from(rsa_len).map_err(|_| SealError::new("RSA key too large"))?;

    let mut out = Vec::with_capacity(2 + rsa_len + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&rsa_len_prefix.to_be_bytes());
    out.resize(2 + rsa_len, 0);
    let written = oaep
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &*session_key,
            &mut out[2..],
            Some(label),
        )
        .map_err(|_| SealError::new("RSA-OAEP encryption failed"))?
        .len();
    if written != rsa_len {
        return Err(SealError::new("RSA-OAEP produced an unexpected length"));
    }

    let cipher = Aes256Gcm::new_from_slice(&*session_key)
        .map_err(|_| SealError::new("bad AES key length"))?;
    let body_start = out.len();
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached(
            &Nonce::from(ZERO_NONCE),
            b"",
            (&mut out[body_start..]).into(),
        )
        .map_err(|_| SealError::new("AES-GCM encryption failed"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The parts of an item, split by its length prefix.
struct ItemParts<'a> {
    rsa: &'a [u8],
    aead: &'a [u8],
}

fn split(item: &[u8]) -> Option<ItemParts<'_>> {
    let (prefix, rest) = item.split_first_chunk::<2>()?;
    let rsa_len = usize::from(u16::from_be_bytes(*prefix));
    if rest.len() < rsa_len + TAG_LEN {
        return None;
    }
    let (rsa, aead) = rest.split_at(rsa_len);
    Some(ItemParts { rsa, aead })
}

/// Length of the RSA part an item claims (its first two bytes), if it has them.
pub fn rsa_len(item: &[u8]) -> Option<usize> {
    item.split_first_chunk::<2>()
        .map(|(p, _)| usize::from(u16::from_be_bytes(*p)))
}

/// Opens an item with one key.
///
/// # Errors
/// [`DecryptError`] for every failure.
pub fn open_item(key: &PrivateKey, label: &[u8], item: &[u8]) -> Result<SecretBytes, DecryptError> {
    let parts = split(item).ok_or(DecryptError)?;
    open_parts(key, label, &parts)
}

fn open_parts(
    key: &PrivateKey,
    label: &[u8],
    parts: &ItemParts<'_>,
) -> Result<SecretBytes, DecryptError> {
    if parts.rsa.len() != key.public_key().modulus_len() {
        return Err(DecryptError);
    }
    let oaep =
        OaepPrivateDecryptingKey::new(key.decrypting_key().clone()).map_err(|_| DecryptError)?;
    let mut unwrapped = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
    let session_key_len = oaep
        .decrypt(
            &OAEP_SHA256_MGF1SHA256,
            parts.rsa,
            &mut unwrapped,
            Some(label),
        )
        .map_err(|_| DecryptError)?
        .len();
    if session_key_len != SESSION_KEY_LEN {
        return Err(DecryptError);
    }
    let cipher =
        Aes256Gcm::new_from_slice(&unwrapped[..SESSION_KEY_LEN]).map_err(|_| DecryptError)?;
    let (body, tag) = parts.aead.split_at(parts.aead.len() - TAG_LEN);
    let tag = Tag::<Aes256Gcm>::try_from(tag).map_err(|_| DecryptError)?;
    let mut plaintext = Zeroizing::new(body.to_vec());
    cipher
        .decrypt_inout_detached(
            &Nonce::from(ZERO_NONCE),
            b"",
            (&mut plaintext[..]).into(),
            &tag,
        )
        .map_err(|_| DecryptError)?;
    Ok(SecretBytes::from(plaintext))
}

/// The set of private keys a controller (or a recovery run) holds: RSA keys and, for age
/// items, age identities.
///
/// Order matters only for speed: [`KeyRing::open`] tries a hinted key first, then keys whose
/// modulus length matches the item, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<PrivateKey>,
    age: Vec<AgeIdentity>,
}

impl KeyRing {
    /// An empty ring (which opens nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a key already present (same fingerprint) is ignored. Returns whether added.
    pub fn insert(&mut self, key: PrivateKey) -> bool {
        if self.get(key.fingerprint()).is_some() {
            return false;
        }
        self.keys.push(key);
        true
    }

    /// Removes the key with this fingerprint.
    pub fn remove(&mut self, fingerprint: &Fingerprint) -> Option<PrivateKey> {
        let index = self
            .keys
            .iter()
            .position(|k| k.fingerprint() == fingerprint)?;
        Some(self.keys.remove(index))
    }

    /// The key with this fingerprint.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&PrivateKey> {
        self.keys.iter().find(|k| k.fingerprint() == fingerprint)
    }

    /// The RSA keys, in insertion order (age identities: [`KeyRing::age_identities`]).
    pub fn iter(&self) -> impl Iterator<Item = &PrivateKey> {
        self.keys.iter()
    }

    /// Number of keys, RSA and age.
    pub fn len(&self) -> usize {
        self.keys.len() + self.age.len()
    }

    /// True when the ring holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.age.is_empty()
    }

    /// Adds an age identity; one already present (same fingerprint) is ignored. Returns
    /// whether added.
    pub fn insert_age(&mut self, identity: AgeIdentity) -> bool {
        if self.get_age(identity.fingerprint()).is_some() {
            return false;
        }
        self.age.push(identity);
        true
    }

    /// Removes the age identity with this fingerprint.
    pub fn remove_age(&mut self, fingerprint: &Fingerprint) -> Option<AgeIdentity> {
        let index = self
            .age
            .iter()
            .position(|k| k.fingerprint() == fingerprint)?;
        Some(self.age.remove(index))
    }

    /// The age identity with this fingerprint.
    pub fn get_age(&self, fingerprint: &Fingerprint) -> Option<&AgeIdentity> {
        self.age.iter().find(|k| k.fingerprint() == fingerprint)
    }

    /// The age identities, in insertion order.
    pub fn age_identities(&self) -> impl Iterator<Item = &AgeIdentity> {
        self.age.iter()
    }

    /// Opens one `encryptedData` value of either format (see [`crate::age::item_kind`]): an
    /// RSA hybrid item with the RSA keys under the binding's label, an age item with every
    /// key (age identities, and RSA keys through age's `ssh-rsa` stanza) and then the scope
    /// envelope. Returns the plaintext and the fingerprint of the key that opened it.
    ///
    /// # Errors
    /// [`DecryptError`] when no key opens it, for whatever reason.
    pub fn open_scoped(
        &self,
        binding: &Binding,
        item: &[u8],
        hint: Option<&Fingerprint>,
    ) -> Result<(SecretBytes, &Fingerprint), DecryptError> {
        match crate::age::item_kind(item) {
            ItemKind::Age => crate::age::open_with_keys(&self.keys, &self.age, binding, item),
            ItemKind::RsaHybrid => self.open(binding.label(), item, hint),
        }
    }

    /// Opens an item with whichever key works; returns the plaintext and that key's fingerprint.
    ///
    /// # Errors
    /// [`DecryptError`] when no key opens it, for whatever reason.
    pub fn open(
        &self,
        label: &[u8],
        item: &[u8],
        hint: Option<&Fingerprint>,
    ) -> Result<(SecretBytes, &Fingerprint), DecryptError> {
        let parts = split(item).ok_or(DecryptError)?;
        let hinted = hint.and_then(|fp| self.get(fp));
        let others = self.keys.iter().filter(|k| Some(k.fingerprint()) != hint);
        for key in hinted.into_iter().chain(others) {
            if let Ok(plaintext) = open_parts(key, label, &parts) {
                return Ok((plaintext, key.fingerprint()));
            }
        }
        Err(DecryptError)
    }
}

impl FromIterator<PrivateKey> for KeyRing {
    fn from_iter<I: IntoIterator<Item = PrivateKey>>(iter: I) -> Self {
        let mut ring = KeyRing::new();
        for key in iter {
            ring.insert(key);
        }
        ring
    }
}
