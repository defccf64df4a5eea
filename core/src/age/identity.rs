//! age keys: recipients (`age1…`, `age1pq1…`, RSA certificates) and identities
//! (`AGE-SECRET-KEY-1…` and the post-quantum hybrid), their parsing and errors.

use std::fmt;
use std::str::FromStr;

use age_core::format::{FileKey, Stanza};
use age_core::secrecy::ExposeSecret as _;
use sha2::Digest as _;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::pq::{HybridIdentity, HybridRecipient};
use super::x25519::{X25519Identity, X25519Recipient};
use super::{pq, random_bytes};
use crate::keys::Fingerprint;
use crate::secret::SecretString;

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

    pub(super) fn at_line(self, line: usize) -> Self {
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

    /// The recipient sealing uses: X25519 on AWS-LC, the same stanza as `age`'s.
    pub(super) fn sealer(&self) -> Sealer<'_> {
        match self {
            AgeRecipient::X25519(r) => match X25519Recipient::of(r) {
                Some(fast) => Sealer::X25519(fast),
                None => Sealer::Age(r),
            },
            AgeRecipient::PostQuantum(r) => Sealer::Age(r),
        }
    }
}

/// A recipient as [`AgeRecipient::sealer`] picks it.
pub(super) enum Sealer<'a> {
    X25519(X25519Recipient),
    Age(&'a dyn age::Recipient),
}

impl age::Recipient for Sealer<'_> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, std::collections::HashSet<String>), age::EncryptError> {
        match self {
            Sealer::X25519(r) => r.wrap_file_key(file_key),
            Sealer::Age(r) => r.wrap_file_key(file_key),
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
        self.sealer().wrap_file_key(file_key)
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
    X25519(X25519Identity),
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
            IdentityInner::X25519(id) => AgeRecipient::X25519(id.as_age().to_public()),
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
                IdentityInner::X25519(X25519Identity::from_secret(&secret)?)
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
            IdentityInner::X25519(id) => {
                SecretString::new(id.as_age().to_string().expose_secret().into())
            }
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

    pub(super) fn as_age(&self) -> &dyn age::Identity {
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

impl FromStr for AgeIdentity {
    type Err = AgeKeyError;

    /// Parses `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` (either case). The error never
    /// contains the input.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let inner = match bech32_hrp(text).as_deref() {
            Some("age-secret-key-") => IdentityInner::X25519(X25519Identity::parse(text)?),
            Some("age-secret-key-pq-") => {
                let seed = super::x25519::decode_secret32(text, "wrong key length")?;
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
pub(super) fn key_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// Every key line of `text` parsed (errors name the line number only), or `none` when there is
/// no key at all: the one reading of recipients and identity files, plugin keys or not.
pub(super) fn parse_key_file<T>(text: &str, none: AgeKeyError) -> Result<Vec<T>, AgeKeyError>
where
    T: std::str::FromStr<Err = AgeKeyError>,
{
    let keys = key_lines(text)
        .map(|(line, text)| text.parse().map_err(|e: AgeKeyError| e.at_line(line)))
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(none);
    }
    Ok(keys)
}

/// Parses a recipients file (`--recipients-file`): one recipient per line, blank lines and
/// `#` comments ignored, as `age -R` reads it.
///
/// # Errors
/// The first bad line (with its number), or no recipient at all.
pub fn parse_recipients(text: &str) -> Result<Vec<AgeRecipient>, AgeKeyError> {
    parse_key_file(text, AgeKeyError::NoRecipient)
}

/// Parses an identity file (`age-keygen` output, or key Secret `age.key` data): one identity
/// per line, blank lines and `#` comments ignored.
///
/// # Errors
/// The first bad line (its number only, never its text), or no identity at all.
pub fn parse_identities(text: &str) -> Result<Vec<AgeIdentity>, AgeKeyError> {
    parse_key_file(text, AgeKeyError::NoIdentity)
}
