//! age items: one `encryptedData` value that several clusters can open, bound to its scope.
//!
//! An age item is a binary age file (c2sp.org/age) whose plaintext is a scope
//! [envelope]. Recipients are X25519 (`age1…`), the hybrid post-quantum type
//! (`age1pq1…`, [`pq`]) and RSA certificates (age's `ssh-rsa` stanza over AWS-LC). The byte
//! formats, the multi-recipient layout and their trade-offs are in `docs/format.md`.
//!
//! Every failure to open an item is the one [`DecryptError`] (`no key could decrypt
//! secret`), as for RSA items.

use std::cell::Cell;
use std::fmt;
use std::io::Write as _;
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::TryRng as _;
use sha2::Digest as _;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::item::{DecryptError, KeyRing, SealError};
use crate::keys::{Fingerprint, PublicKey};
use crate::secret::{SecretBytes, SecretString};

pub mod backup;
pub mod envelope;
pub mod keysecret;
pub mod pq;
mod rsa;

pub use envelope::Binding;
pub use pq::{HybridIdentity, HybridRecipient};

/// The first bytes of every binary age file, and so of every age item.
pub const AGE_MAGIC: &[u8; 22] = b"age-encryption.org/v1\n";

/// The most recipient stanzas an item may carry before sealant refuses to try its keys: each
/// stanza costs every identity a Diffie-Hellman or an ML-KEM decapsulation, and anyone may
/// submit a SealedSecret.
pub const MAX_STANZAS: usize = 64;

/// The two formats of an `encryptedData` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// Upstream's RSA-OAEP + AES-GCM item: starts with a big-endian u16 of at most 1024.
    RsaHybrid,
    /// A binary age file: starts with `age-encryption.org/v1\n` (`ag` = 24935 as an RSA
    /// length prefix, far beyond any RSA modulus, so the formats never overlap).
    Age,
}

/// Tells the two item formats apart by their first bytes. Anything that is not an age file
/// goes to the RSA path, as upstream treats every value.
pub fn item_kind(item: &[u8]) -> ItemKind {
    if item.starts_with(AGE_MAGIC) {
        ItemKind::Age
    } else {
        ItemKind::RsaHybrid
    }
}

/// An age recipient or identity that cannot be used. Never carries secret key text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgeKeyError {
    /// A recipient of a supported type that does not parse.
    #[error("invalid age recipient: {0}")]
    InvalidRecipient(&'static str),
    /// A recipient of a type sealant does not implement (plugins, tagged, SSH keys).
    #[error(
        "unsupported recipient type {0:?}: sealant takes age1… (X25519) and age1pq1… (post-quantum) recipients, and RSA certificates"
    )]
    UnsupportedRecipient(String),
    /// An identity of a supported type that does not parse.
    #[error("invalid age identity: {0}")]
    InvalidIdentity(&'static str),
    /// An identity of a type sealant does not implement.
    #[error(
        "unsupported identity type: sealant takes AGE-SECRET-KEY-1… (X25519) and AGE-SECRET-KEY-PQ-1… (post-quantum) identities"
    )]
    UnsupportedIdentity,
    /// A problem on one line of a recipients or identity file.
    #[error("line {line}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        #[source]
        source: Box<AgeKeyError>,
    },
    /// A recipients file with no recipient in it.
    #[error("no age recipient found (one per line; # starts a comment)")]
    NoRecipient,
    /// An identity file with no identity in it.
    #[error("no age identity found (one per line; # starts a comment)")]
    NoIdentity,
    /// The system random source failed.
    #[error("the system random source failed")]
    Random,
}

impl AgeKeyError {
    pub(crate) fn invalid_recipient(reason: &'static str) -> Self {
        Self::InvalidRecipient(reason)
    }

    fn at_line(self, line: usize) -> Self {
        Self::Line {
            line,
            source: Box::new(self),
        }
    }
}

/// Whom an age item or backup is encrypted to.
#[derive(Clone, PartialEq, Eq)]
pub enum AgeRecipient {
    /// A classic X25519 recipient, `age1…`.
    X25519(age::x25519::Recipient),
    /// A hybrid ML-KEM-768 + X25519 recipient, `age1pq1…`.
    PostQuantum(HybridRecipient),
}

impl AgeRecipient {
    /// True for recipients that resist a quantum computer (`age1pq1…`).
    pub fn is_post_quantum(&self) -> bool {
        matches!(self, AgeRecipient::PostQuantum(_))
    }

    /// The fingerprint of this recipient: `SHA256:` and the unpadded base64 of the SHA-256 of
    /// its text form. The same for the identity that matches it.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::from_sha256(&sha2::Sha256::digest(self.to_string().as_bytes()))
    }

    fn as_age(&self) -> &dyn age::Recipient {
        match self {
            AgeRecipient::X25519(r) => r,
            AgeRecipient::PostQuantum(r) => r,
        }
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgeRecipient::X25519(r) => fmt::Display::fmt(r, f),
            AgeRecipient::PostQuantum(r) => fmt::Display::fmt(r, f),
        }
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({self})")
    }
}

/// Lets `age`'s own `Encryptor` take sealant's recipients.
impl age::Recipient for AgeRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, std::collections::HashSet<String>), age::EncryptError> {
        self.as_age().wrap_file_key(file_key)
    }
}

/// The part of a Bech32 string before its last `1`, lowercased.
fn bech32_hrp(text: &str) -> Option<String> {
    let at = text.rfind('1')?;
    Some(text[..at].to_ascii_lowercase())
}

impl FromStr for AgeRecipient {
    type Err = AgeKeyError;

    /// Parses `age1…` or `age1pq1…`. Other age recipient types are named in the error.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(word) = text
            .split_whitespace()
            .next()
            .filter(|w| w.starts_with("ssh-"))
        {
            return Err(AgeKeyError::UnsupportedRecipient(word.to_owned()));
        }
        match bech32_hrp(text).as_deref() {
            Some("age") => age::x25519::Recipient::from_str(text)
                .map(AgeRecipient::X25519)
                .map_err(AgeKeyError::InvalidRecipient),
            Some("age1pq") => age_core::primitives::bech32_decode(
                text,
                |_| AgeKeyError::InvalidRecipient("invalid Bech32 encoding"),
                |_| Ok(()),
                |_, bytes| HybridRecipient::from_bytes(&bytes.collect::<Vec<u8>>()),
            )
            .map(AgeRecipient::PostQuantum),
            Some(hrp) if hrp.starts_with("age1") => {
                Err(AgeKeyError::UnsupportedRecipient(hrp.to_owned()))
            }
            _ => Err(AgeKeyError::InvalidRecipient(
                "expected an age recipient (age1…)",
            )),
        }
    }
}

/// Which kind of age identity to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentityKind {
    /// X25519 (`AGE-SECRET-KEY-1…` / `age1…`): short keys, readable by every age tool.
    #[default]
    X25519,
    /// Hybrid ML-KEM-768 + X25519 (`AGE-SECRET-KEY-PQ-1…` / `age1pq1…`): post-quantum.
    PostQuantum,
}

#[derive(Clone)]
enum IdentityInner {
    X25519(age::x25519::Identity),
    PostQuantum(Box<HybridIdentity>),
}

/// An age identity (private key). Secret parts are wiped on drop; `Debug` shows only the
/// matching recipient.
#[derive(Clone)]
pub struct AgeIdentity {
    inner: IdentityInner,
    recipient: AgeRecipient,
    fingerprint: Fingerprint,
}

impl AgeIdentity {
    fn from_inner(inner: IdentityInner) -> Self {
        let recipient = match &inner {
            IdentityInner::X25519(id) => AgeRecipient::X25519(id.to_public()),
            IdentityInner::PostQuantum(id) => AgeRecipient::PostQuantum(id.recipient().clone()),
        };
        let fingerprint = recipient.fingerprint();
        Self {
            inner,
            recipient,
            fingerprint,
        }
    }

    /// A new identity of `kind` from the system random source.
    ///
    /// # Errors
    /// The random source failed.
    pub fn generate(kind: IdentityKind) -> Result<Self, AgeKeyError> {
        let inner = match kind {
            IdentityKind::X25519 => {
                let secret = Zeroizing::new(random_bytes::<32>().map_err(|_| AgeKeyError::Random)?);
                IdentityInner::X25519(x25519_from_bytes(&secret)?)
            }
            IdentityKind::PostQuantum => {
                IdentityInner::PostQuantum(Box::new(HybridIdentity::generate()?))
            }
        };
        Ok(Self::from_inner(inner))
    }

    /// The kind of identity.
    pub fn kind(&self) -> IdentityKind {
        match self.inner {
            IdentityInner::X25519(_) => IdentityKind::X25519,
            IdentityInner::PostQuantum(_) => IdentityKind::PostQuantum,
        }
    }

    /// The matching recipient (what to publish and seal to).
    pub fn recipient(&self) -> &AgeRecipient {
        &self.recipient
    }

    /// The recipient's fingerprint ([`AgeRecipient::fingerprint`]).
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The identity in its text form, `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…`.
    pub fn to_secret_string(&self) -> SecretString {
        match &self.inner {
            IdentityInner::X25519(id) => SecretString::new(id.to_string().expose_secret().into()),
            IdentityInner::PostQuantum(id) => {
                let lower = Zeroizing::new(age_core::primitives::bech32_encode(
                    pq::IDENTITY_HRP,
                    id.seed(),
                ));
                SecretString::new(lower.to_ascii_uppercase())
            }
        }
    }

    /// An identity file as `age-keygen` writes it (comments with the creation time and the
    /// public key, then the identity), readable by `age -d -i`.
    pub fn to_identity_file(&self, created: OffsetDateTime) -> SecretString {
        let t = created.to_offset(time::UtcOffset::UTC);
        let identity = self.to_secret_string();
        SecretString::new(format!(
            "# created: {:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z\n# public key: {}\n{}\n",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            self.recipient,
            identity.expose_secret()
        ))
    }

    fn as_age(&self) -> &dyn age::Identity {
        match &self.inner {
            IdentityInner::X25519(id) => id,
            IdentityInner::PostQuantum(id) => id.as_ref(),
        }
    }
}

/// Lets `age`'s own `Decryptor` take sealant's identities.
impl age::Identity for AgeIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.as_age().unwrap_stanza(stanza)
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        self.as_age().unwrap_stanzas(stanzas)
    }
}

fn x25519_from_bytes(secret: &[u8; 32]) -> Result<age::x25519::Identity, AgeKeyError> {
    let text = Zeroizing::new(
        age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-"),
            secret,
        )
        .to_ascii_uppercase(),
    );
    age::x25519::Identity::from_str(&text).map_err(AgeKeyError::InvalidIdentity)
}

impl FromStr for AgeIdentity {
    type Err = AgeKeyError;

    /// Parses `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` (either case). The error never
    /// contains the input.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let inner = match bech32_hrp(text).as_deref() {
            Some("age-secret-key-") => IdentityInner::X25519(
                age::x25519::Identity::from_str(text).map_err(AgeKeyError::InvalidIdentity)?,
            ),
            Some("age-secret-key-pq-") => {
                let seed = age_core::primitives::bech32_decode(
                    text,
                    |_| AgeKeyError::InvalidIdentity("invalid Bech32 encoding"),
                    |_| Ok(()),
                    |_, bytes| {
                        let bytes = Zeroizing::new(bytes.collect::<Vec<u8>>());
                        <[u8; 32]>::try_from(&bytes[..])
                            .map(Zeroizing::new)
                            .map_err(|_| AgeKeyError::InvalidIdentity("wrong key length"))
                    },
                )?;
                IdentityInner::PostQuantum(Box::new(HybridIdentity::from_seed(&seed)?))
            }
            _ => return Err(AgeKeyError::UnsupportedIdentity),
        };
        Ok(Self::from_inner(inner))
    }
}

impl fmt::Debug for AgeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeIdentity({}, [redacted])", self.fingerprint)
    }
}

/// The lines of a recipients or identity file that carry a key: trimmed, without blank lines
/// and `#` comments, with 1-based line numbers.
fn key_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// Parses a recipients file (`--recipients-file`): one recipient per line, blank lines and
/// `#` comments ignored, as `age -R` reads it.
///
/// # Errors
/// The first bad line (with its number), or no recipient at all.
pub fn parse_recipients(text: &str) -> Result<Vec<AgeRecipient>, AgeKeyError> {
    let recipients = key_lines(text)
        .map(|(line, text)| text.parse().map_err(|e: AgeKeyError| e.at_line(line)))
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err(AgeKeyError::NoRecipient);
    }
    Ok(recipients)
}

/// Parses an identity file (`age-keygen` output, or key Secret `age.key` data): one identity
/// per line, blank lines and `#` comments ignored.
///
/// # Errors
/// The first bad line (its number only, never its text), or no identity at all.
pub fn parse_identities(text: &str) -> Result<Vec<AgeIdentity>, AgeKeyError> {
    let identities = key_lines(text)
        .map(|(line, text)| text.parse().map_err(|e: AgeKeyError| e.at_line(line)))
        .collect::<Result<Vec<_>, _>>()?;
    if identities.is_empty() {
        return Err(AgeKeyError::NoIdentity);
    }
    Ok(identities)
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], rand::rngs::SysError> {
    let mut out = [0u8; N];
    rand::rngs::SysRng.try_fill_bytes(&mut out)?;
    Ok(out)
}

/// age's stanza argument encoding: canonical unpadded standard base64.
pub(crate) fn base64_arg_encode(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

/// Decodes a stanza argument of exactly `N` bytes; padded or non-canonical text is refused.
pub(crate) fn base64_arg_decode<const N: usize>(arg: &str) -> Option<[u8; N]> {
    let bytes = STANDARD_NO_PAD.decode(arg).ok()?;
    bytes.try_into().ok()
}

/// Refuses to put post-quantum and classical recipients in one SealedSecret or backup:
/// c2sp.org/age says such a file SHOULD NOT exist, since it is only as strong as its classical
/// recipients.
pub(crate) fn check_post_quantum_mix(
    age: &[AgeRecipient],
    rsa: usize,
) -> Result<(), MixedRecipients> {
    let pq = age.iter().filter(|r| r.is_post_quantum()).count();
    if pq > 0 && (pq < age.len() || rsa > 0) {
        return Err(MixedRecipients);
    }
    Ok(())
}

/// Post-quantum and classical recipients in one seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "post-quantum recipients (age1pq1…) cannot be mixed with classical ones (age1…, RSA certificates): the result would only be as strong as the classical recipients"
)]
pub struct MixedRecipients;

/// Encrypts `plaintext` to every recipient (age and RSA) as one age file.
fn encrypt(
    age: &[AgeRecipient],
    rsa: &[PublicKey],
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, SealError> {
    let rsa: Vec<rsa::RsaRecipient<'_>> = rsa.iter().map(rsa::RsaRecipient).collect();
    let recipients = age
        .iter()
        .map(AgeRecipient::as_age)
        .chain(rsa.iter().map(|r| r as &dyn age::Recipient));
    let encryptor = age::Encryptor::with_recipients(recipients).map_err(|e| match e {
        age::EncryptError::MissingRecipients => SealError::new("no recipients"),
        age::EncryptError::IncompatibleRecipients { .. } => {
            SealError::new("post-quantum and classical recipients cannot share an item")
        }
        _ => SealError::new("age encryption failed"),
    })?;
    let fail = |_| SealError::new("age encryption failed");
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    if armor {
        let armored =
            ArmoredWriter::wrap_output(&mut out, ArmorFormat::AsciiArmor).map_err(fail)?;
        let mut writer = encryptor.wrap_output(armored).map_err(fail)?;
        writer.write_all(plaintext).map_err(fail)?;
        writer
            .finish()
            .and_then(ArmoredWriter::finish)
            .map_err(fail)?;
    } else {
        let mut writer = encryptor.wrap_output(&mut out).map_err(fail)?;
        writer.write_all(plaintext).map_err(fail)?;
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

/// Every key a decryption may use, as one age identity that also records which key matched
/// and caps the work per header.
struct Candidates<'a> {
    keys: Vec<&'a dyn age::Identity>,
    matched: Cell<Option<usize>>,
}

impl<'a> Candidates<'a> {
    fn new(
        ring_rsa: &'a [rsa::RsaIdentity<'a>],
        age: impl Iterator<Item = &'a AgeIdentity>,
    ) -> Self {
        let keys = age
            .map(AgeIdentity::as_age)
            .chain(ring_rsa.iter().map(|id| id as &dyn age::Identity))
            .collect();
        Self {
            keys,
            matched: Cell::new(None),
        }
    }

    /// Index of the key that unwrapped the file key: age identities first, then RSA keys.
    fn matched(&self) -> Option<usize> {
        self.matched.get()
    }
}

impl age::Identity for Candidates<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, age::DecryptError>> {
        if stanzas.len() > MAX_STANZAS {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        for (index, key) in self.keys.iter().enumerate() {
            if let Some(result) = key.unwrap_stanzas(stanzas) {
                if result.is_ok() {
                    self.matched.set(Some(index));
                }
                return Some(result);
            }
        }
        None
    }
}

/// Decrypts an age file (binary, or armored when `armor`) with `identity`; the plaintext never
/// sits in a buffer that regrows (a regrown `Vec` leaves unwiped copies behind).
fn decrypt(
    identity: &dyn age::Identity,
    bytes: &[u8],
    armor: bool,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let mut plaintext = Zeroizing::new(Vec::with_capacity(bytes.len()));
    if armor {
        let decryptor =
            age::Decryptor::new_buffered(ArmoredReader::new(bytes)).map_err(|_| DecryptError)?;
        let mut reader = decryptor
            .decrypt(std::iter::once(identity))
            .map_err(|_| DecryptError)?;
        read_bounded(&mut reader, &mut plaintext, bytes.len())?;
    } else {
        let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| DecryptError)?;
        let mut reader = decryptor
            .decrypt(std::iter::once(identity))
            .map_err(|_| DecryptError)?;
        read_bounded(&mut reader, &mut plaintext, bytes.len())?;
    }
    Ok(plaintext)
}

fn read_bounded(
    reader: &mut impl std::io::Read,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), DecryptError> {
    // The plaintext is never longer than the ciphertext, so `limit` bytes of capacity suffice
    // and the buffer never moves.
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = reader.read(&mut chunk[..]).map_err(|_| DecryptError)?;
        if n == 0 {
            return Ok(());
        }
        if out.len() + n > limit {
            return Err(DecryptError);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Seals one value as an age item for `age` and `rsa` recipients, bound to `binding`.
///
/// # Errors
/// No recipients, post-quantum mixed with classical recipients, or a failed random source.
pub fn seal_age_item(
    age: &[AgeRecipient],
    rsa: &[PublicKey],
    binding: &Binding,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    check_post_quantum_mix(age, rsa.len()).map_err(|_| {
        SealError::new("post-quantum and classical recipients cannot share an item")
    })?;
    let envelope = envelope::wrap(binding, plaintext)?;
    encrypt(age, rsa, &envelope, false)
}

/// Opens an age item with any of `identities`, if it was sealed for `binding`.
///
/// # Errors
/// [`DecryptError`] for every failure: not an age item, no matching identity, tampering, a
/// header with more than [`MAX_STANZAS`] stanzas, another scope.
pub fn open_age_item(
    identities: &[AgeIdentity],
    binding: &Binding,
    item: &[u8],
) -> Result<SecretBytes, DecryptError> {
    let candidates = Candidates::new(&[], identities.iter());
    open_candidates(&candidates, binding, item)
}

fn open_candidates(
    candidates: &Candidates<'_>,
    binding: &Binding,
    item: &[u8],
) -> Result<SecretBytes, DecryptError> {
    if item_kind(item) != ItemKind::Age || candidates.keys.is_empty() {
        return Err(DecryptError);
    }
    let envelope = decrypt(candidates, item, false)?;
    envelope::unwrap(binding, &envelope)
}

/// Opens an age item with every key of `ring`: its age identities, then its RSA keys through
/// `ssh-rsa` stanzas. Returns the value and the fingerprint of the key that opened it.
pub(crate) fn open_with_ring<'r>(
    ring: &'r KeyRing,
    binding: &Binding,
    item: &[u8],
) -> Result<(SecretBytes, &'r Fingerprint), DecryptError> {
    let rsa: Vec<rsa::RsaIdentity<'r>> = ring.iter().map(rsa::RsaIdentity).collect();
    let candidates = Candidates::new(&rsa, ring.age_identities());
    let value = open_candidates(&candidates, binding, item)?;
    let index = candidates.matched().ok_or(DecryptError)?;
    let ages = ring.age_identities().count();
    let fingerprint = match index.checked_sub(ages) {
        None => ring
            .age_identities()
            .nth(index)
            .map(AgeIdentity::fingerprint),
        Some(rsa_index) => ring.iter().nth(rsa_index).map(|k| k.fingerprint()),
    };
    Ok((value, fingerprint.ok_or(DecryptError)?))
}

/// Encrypts arbitrary bytes (no envelope) to age recipients as an age file, binary or armored.
/// For backups and interop tests; SealedSecret values go through [`seal_age_item`].
///
/// # Errors
/// No recipients, post-quantum mixed with classical recipients, or a failed random source.
pub fn encrypt_file(
    recipients: &[AgeRecipient],
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, SealError> {
    check_post_quantum_mix(recipients, 0)
        .map_err(|_| SealError::new("post-quantum and classical recipients cannot share a file"))?;
    encrypt(recipients, &[], plaintext, armor)
}

/// Decrypts an age file, binary or armored, with any of `identities` (no envelope).
///
/// # Errors
/// [`DecryptError`] for every failure.
pub fn decrypt_file(identities: &[AgeIdentity], file: &[u8]) -> Result<SecretBytes, DecryptError> {
    let candidates = Candidates::new(&[], identities.iter());
    if candidates.keys.is_empty() {
        return Err(DecryptError);
    }
    decrypt(&candidates, file, true).map(SecretBytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    #[test]
    fn item_kinds_are_told_apart_by_their_first_bytes() {
        assert_eq!(
            item_kind(b"age-encryption.org/v1\n-> X25519"),
            ItemKind::Age
        );
        assert_eq!(item_kind(&[2, 0, 1, 2, 3]), ItemKind::RsaHybrid);
        assert_eq!(item_kind(b"age-encryption.org/v2\n"), ItemKind::RsaHybrid);
        assert_eq!(item_kind(b""), ItemKind::RsaHybrid);
        // The age magic read as an RSA length prefix: no RSA key is that large.
        assert!(usize::from(u16::from_be_bytes([b'a', b'g'])) > 8192 / 8);
    }

    #[test]
    fn identities_round_trip_through_text_and_redact_debug() {
        for kind in [IdentityKind::X25519, IdentityKind::PostQuantum] {
            let identity = AgeIdentity::generate(kind).unwrap();
            let text = identity.to_secret_string();
            let parsed: AgeIdentity = text.expose_secret().parse().unwrap();
            assert_eq!(parsed.recipient(), identity.recipient());
            assert_eq!(parsed.fingerprint(), identity.fingerprint());
            assert_eq!(parsed.kind(), kind);
            let lower: AgeIdentity = text.expose_secret().to_ascii_lowercase().parse().unwrap();
            assert_eq!(lower.recipient(), identity.recipient());
            let debug = format!("{identity:?}");
            assert!(!debug.contains(text.expose_secret()), "{debug}");
            assert!(
                !debug.to_ascii_uppercase().contains("AGE-SECRET-KEY"),
                "{debug}"
            );
            let recipient: AgeRecipient = identity.recipient().to_string().parse().unwrap();
            assert_eq!(&recipient, identity.recipient());
            assert_eq!(
                recipient.is_post_quantum(),
                kind == IdentityKind::PostQuantum
            );
        }
    }

    #[test]
    fn recipient_errors_name_the_type_but_identity_errors_never_echo() {
        let err = "age1tag1qwerty".parse::<AgeRecipient>().unwrap_err();
        assert_eq!(err, AgeKeyError::UnsupportedRecipient("age1tag".into()));
        let err = "ssh-ed25519 AAAAC3Nza user@host"
            .parse::<AgeRecipient>()
            .unwrap_err();
        assert_eq!(err, AgeKeyError::UnsupportedRecipient("ssh-ed25519".into()));
        assert!(matches!(
            "age1qqqq".parse::<AgeRecipient>(),
            Err(AgeKeyError::InvalidRecipient(_))
        ));
        let secretish = "AGE-SECRET-KEY-1HUNTER2HUNTER2";
        let err = secretish.parse::<AgeIdentity>().unwrap_err();
        assert!(!err.to_string().contains("HUNTER2"), "{err}");
        let err = "AGE-PLUGIN-YUBIKEY-1QQQ"
            .parse::<AgeIdentity>()
            .unwrap_err();
        assert_eq!(err, AgeKeyError::UnsupportedIdentity);
    }

    #[test]
    fn files_skip_comments_and_report_line_numbers() {
        let a = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let b = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
        let text = format!(
            "# team keys\n\n  {}  \n# dr\n{}\n",
            a.recipient(),
            b.recipient()
        );
        let parsed = parse_recipients(&text).unwrap();
        assert_eq!(parsed, vec![a.recipient().clone(), b.recipient().clone()]);
        let err = parse_recipients("# x\nage1bogus\n").unwrap_err();
        assert!(matches!(err, AgeKeyError::Line { line: 2, .. }), "{err:?}");
        assert_eq!(
            parse_recipients("# only\n\n"),
            Err(AgeKeyError::NoRecipient)
        );

        let file = a.to_identity_file(OffsetDateTime::UNIX_EPOCH);
        assert!(
            file.expose_secret()
                .starts_with("# created: 1970-01-01T00:00:00Z\n# public key: age1")
        );
        let parsed = parse_identities(file.expose_secret()).unwrap();
        assert_eq!(parsed[0].recipient(), a.recipient());
        assert!(matches!(
            parse_identities("\n\nAGE-SECRET-KEY-1X\n"),
            Err(AgeKeyError::Line { line: 3, .. })
        ));
    }

    #[test]
    fn items_open_only_under_their_binding_and_with_a_matching_key() {
        let x = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let other = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let binding = Binding::new(Scope::Strict, "ns", "name");
        let item = seal_age_item(&[x.recipient().clone()], &[], &binding, b"value").unwrap();
        assert_eq!(item_kind(&item), ItemKind::Age);
        let opened = open_age_item(&[other.clone(), x.clone()], &binding, &item).unwrap();
        assert_eq!(opened.expose_secret(), b"value");
        assert_eq!(
            open_age_item(&[other], &binding, &item).unwrap_err(),
            DecryptError
        );
        assert_eq!(
            open_age_item(&[], &binding, &item).unwrap_err(),
            DecryptError
        );
        let moved = Binding::new(Scope::Strict, "other", "name");
        assert_eq!(
            open_age_item(&[x], &moved, &item).unwrap_err(),
            DecryptError
        );
    }

    #[test]
    fn post_quantum_recipients_do_not_mix_with_classical_ones() {
        let pq = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
        let x = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let binding = Binding::new(Scope::ClusterWide, "", "");
        let both = [pq.recipient().clone(), x.recipient().clone()];
        assert!(seal_age_item(&both, &[], &binding, b"v").is_err());
        assert!(encrypt_file(&both, b"v", false).is_err());
        let item = seal_age_item(&[pq.recipient().clone()], &[], &binding, b"v").unwrap();
        assert_eq!(
            open_age_item(&[x, pq], &binding, &item)
                .unwrap()
                .expose_secret(),
            b"v"
        );
    }

    #[test]
    fn headers_with_too_many_stanzas_are_refused() {
        let recipients: Vec<AgeRecipient> = (0..MAX_STANZAS)
            .map(|_| AgeIdentity::generate(IdentityKind::X25519).unwrap())
            .map(|id| id.recipient().clone())
            .collect();
        let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let mut all = recipients;
        all.push(identity.recipient().clone());
        let binding = Binding::new(Scope::ClusterWide, "", "");
        let item = seal_age_item(&all, &[], &binding, b"v").unwrap();
        assert_eq!(
            open_age_item(&[identity], &binding, &item).unwrap_err(),
            DecryptError
        );
    }
}
