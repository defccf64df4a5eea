//! What can be learned about a SealedSecret without any private key: the format and key size of
//! each item, its sealed and plaintext lengths, a digest that changes when an item is re-sealed,
//! and problems visible from the outside (bad base64, truncated items, a scope or identity that
//! disagrees with the template, a key hint that names no known certificate).
//!
//! Everything here is pure: the caller reads the files and the certificates and passes the time.
//! Nothing here decrypts, so nothing here can become an oracle.

use std::collections::BTreeMap;
use std::fmt;

use time::OffsetDateTime;

use crate::keys::{Certificate, Fingerprint};
use crate::object::SealedSecret;
use crate::scope::{ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE, Scope};
use crate::sealing::KEY_HINT_ANNOTATION;

/// The first bytes of an age v1 file; one definition, with the age item format.
pub use crate::age::AGE_MAGIC;
/// Smallest RSA ciphertext (modulus) length taken as plausible: 1024-bit keys.
pub const MIN_RSA_BYTES: usize = 128;
/// Largest RSA ciphertext (modulus) length taken as plausible: 16384-bit keys.
pub const MAX_RSA_BYTES: usize = 2048;
/// Bytes of the AES-GCM tag that ends every RSA hybrid item.
const GCM_TAG_LEN: usize = 16;
/// age payload: a 16-byte nonce, then chunks of up to 64 KiB of plaintext plus a 16-byte tag.
const AGE_NONCE_LEN: usize = 16;
const AGE_CHUNK_LEN: usize = 64 * 1024;
const AGE_TAG_LEN: usize = 16;

/// How an item was sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItemFormat {
    /// Upstream's hybrid: RSA-OAEP of a session key, then AES-256-GCM of the value.
    RsaHybrid {
        /// The RSA key size, from the item's 2-byte length prefix.
        key_bits: usize,
    },
    /// An age v1 file.
    Age {
        /// The type of each recipient stanza (`X25519`, …), in order.
        recipients: Vec<String>,
    },
}

impl fmt::Display for ItemFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemFormat::RsaHybrid { key_bits } => write!(f, "RSA-{key_bits}"),
            ItemFormat::Age { recipients } => {
                write!(f, "age")?;
                if !recipients.is_empty() {
                    write!(f, " ({})", recipients.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

/// What is wrong with an item, as far as can be told without a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemProblem {
    /// The value is not base64.
    #[error("invalid base64 at byte {position}")]
    InvalidBase64 {
        /// Where decoding failed.
        position: usize,
    },
    /// The value is empty.
    #[error("empty value")]
    Empty,
    /// The RSA part or the GCM tag is cut off.
    #[error("{len} bytes is too short for an RSA-{key_bits} item (at least {min} bytes)")]
    Truncated {
        /// Key size the prefix claims.
        key_bits: usize,
        /// Bytes present.
        len: usize,
        /// Bytes needed for an empty value.
        min: usize,
    },
    /// Neither an RSA hybrid item with a plausible key size nor an age file.
    #[error(
        "unknown format: not an age file, and a key size prefix of {prefix} bytes is not a plausible RSA key"
    )]
    UnknownFormat {
        /// The value of the 2-byte prefix (0 when there is only one byte).
        prefix: usize,
    },
    /// Starts like an age file but its header or payload is cut off.
    #[error("malformed age file: {0}")]
    MalformedAge(&'static str),
}

impl ItemProblem {
    /// A stable identifier for reports.
    pub fn rule(&self) -> &'static str {
        match self {
            ItemProblem::InvalidBase64 { .. } => "invalid-base64",
            ItemProblem::Empty => "empty-item",
            ItemProblem::Truncated { .. } => "truncated-item",
            ItemProblem::UnknownFormat { .. } => "unknown-item-format",
            ItemProblem::MalformedAge(_) => "malformed-age-item",
        }
    }
}

/// What an item reveals from the outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInfo {
    /// The format, or why it cannot be read.
    pub format: Result<ItemFormat, ItemProblem>,
    /// Bytes after base64 decoding (0 for invalid base64).
    pub sealed_len: usize,
    /// Length of the value inside, when the format tells it (as the ciphertext always does).
    pub plaintext_len: Option<usize>,
    /// `sha256:` and 16 hex digits of the sealed bytes (of the text, for invalid base64): equal
    /// digests mean the same ciphertext, different ones a re-sealed or changed item.
    pub digest: String,
}

impl ItemInfo {
    /// The RSA key size, for RSA hybrid items.
    pub fn key_bits(&self) -> Option<usize> {
        match &self.format {
            Ok(ItemFormat::RsaHybrid { key_bits }) => Some(*key_bits),
            _ => None,
        }
    }
}

/// Looks at one `encryptedData` value (base64).
pub fn inspect_item(encoded: &str) -> ItemInfo {
    match crate::base64::decode(encoded) {
        Ok(bytes) => inspect_item_bytes(bytes.expose_secret()),
        Err(err) => ItemInfo {
            format: Err(ItemProblem::InvalidBase64 {
                position: err.position,
            }),
            sealed_len: 0,
            plaintext_len: None,
            digest: digest(encoded.as_bytes()),
        },
    }
}

/// Looks at one sealed item (already base64-decoded).
pub fn inspect_item_bytes(item: &[u8]) -> ItemInfo {
    let (format, plaintext_len) = match classify(item) {
        Ok((format, len)) => (Ok(format), Some(len)),
        Err(problem) => (Err(problem), None),
    };
    ItemInfo {
        format,
        sealed_len: item.len(),
        plaintext_len,
        digest: digest(item),
    }
}

fn digest(bytes: &[u8]) -> String {
    let sum = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let hex: String = sum.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn classify(item: &[u8]) -> Result<(ItemFormat, usize), ItemProblem> {
    if item.is_empty() {
        return Err(ItemProblem::Empty);
    }
    if let Some(rest) = item.strip_prefix(AGE_MAGIC) {
        return age(rest);
    }
    let Some((prefix, rest)) = item.split_first_chunk::<2>() else {
        return Err(ItemProblem::UnknownFormat { prefix: 0 });
    };
    let rsa_len = usize::from(u16::from_be_bytes(*prefix));
    if !(MIN_RSA_BYTES..=MAX_RSA_BYTES).contains(&rsa_len) {
        return Err(ItemProblem::UnknownFormat { prefix: rsa_len });
    }
    let key_bits = rsa_len * 8;
    let min = 2 + rsa_len + GCM_TAG_LEN;
    if item.len() < min {
        return Err(ItemProblem::Truncated {
            key_bits,
            len: item.len(),
            min,
        });
    }
    Ok((
        ItemFormat::RsaHybrid { key_bits },
        rest.len() - rsa_len - GCM_TAG_LEN,
    ))
}

/// Reads the stanza types of an age header and the plaintext length of its payload. The header
/// is text lines: `-> TYPE args…` stanzas with base64 bodies, then `--- MAC`.
fn age(after_magic: &[u8]) -> Result<(ItemFormat, usize), ItemProblem> {
    let mut recipients = Vec::new();
    let mut rest = after_magic;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(ItemProblem::MalformedAge("the header does not end"));
        };
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.starts_with(b"---") {
            break;
        }
        if let Some(stanza) = line.strip_prefix(b"-> ") {
            let kind = stanza.split(|&b| b == b' ').next().unwrap_or_default();
            // Stanza types are ASCII words; anything else is shown escaped, never raw.
            recipients.push(String::from_utf8_lossy(kind).escape_default().to_string());
        }
    }
    if recipients.is_empty() {
        return Err(ItemProblem::MalformedAge("no recipient stanza"));
    }
    let payload = rest.len();
    if payload < AGE_NONCE_LEN + AGE_TAG_LEN {
        return Err(ItemProblem::MalformedAge("the payload is cut off"));
    }
    let body = payload - AGE_NONCE_LEN;
    let chunks = body.div_ceil(AGE_CHUNK_LEN + AGE_TAG_LEN);
    Ok((
        ItemFormat::Age { recipients },
        body.saturating_sub(chunks * AGE_TAG_LEN),
    ))
}

/// The key hint annotation of a SealedSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHint {
    /// No hint (sealed by kubeseal, or by hand).
    Absent,
    /// A well-formed fingerprint.
    Valid(Fingerprint),
    /// Present but not a `SHA256:…` fingerprint.
    Malformed,
}

impl KeyHint {
    /// The hint of `sealed`.
    pub fn of(sealed: &SealedSecret) -> KeyHint {
        match sealed.metadata.annotation(KEY_HINT_ANNOTATION) {
            None => KeyHint::Absent,
            Some(text) => Fingerprint::parse(text).map_or(KeyHint::Malformed, KeyHint::Valid),
        }
    }

    /// The fingerprint, when well-formed.
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        match self {
            KeyHint::Valid(fp) => Some(fp),
            _ => None,
        }
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Probably fine today, worth a look.
    Warning,
    /// The object cannot work as written, or is likely sealed for the wrong key or identity.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem found without keys. Messages name items and annotations, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// One item is unusable.
    Item {
        /// The item's name.
        item: String,
        /// What is wrong.
        problem: ItemProblem,
    },
    /// An item name Kubernetes refuses as a Secret data key.
    InvalidItemName {
        /// The item's name.
        item: String,
    },
    /// The template's scope annotations disagree with the top-level ones (which the controller
    /// uses): one of them was edited after sealing.
    ScopeMismatch {
        /// Scope from the top-level annotations.
        top: Scope,
        /// Scope from the template's annotations.
        template: Scope,
    },
    /// The template was sealed for another name or namespace than the object now has, and the
    /// scope binds items to it: the object was renamed or moved without re-sealing.
    IdentityMismatch {
        /// `name` or `namespace`.
        field: &'static str,
        /// The top-level value.
        top: String,
        /// The template's value.
        template: String,
        /// The scope that binds the field.
        scope: Scope,
    },
    /// The key hint annotation is not a `SHA256:…` fingerprint.
    MalformedKeyHint,
    /// The deprecated v1 `spec.data` blob.
    DeprecatedV1Data,
    /// Neither `encryptedData` items nor a v1 blob.
    NoItems,
    /// The key hint names none of the certificates given.
    KeyHintUnknown {
        /// The hint.
        hint: Fingerprint,
    },
    /// The key hint names a certificate that has expired.
    KeyHintExpired {
        /// The hint.
        hint: Fingerprint,
        /// The certificate's expiry date (`YYYY-MM-DD`).
        expired_on: String,
    },
    /// An item's RSA key size differs from the hinted certificate's.
    KeySizeMismatch {
        /// The item's name.
        item: String,
        /// Key size from the item's prefix.
        item_bits: usize,
        /// Key size of the hinted certificate.
        cert_bits: usize,
    },
}

impl Problem {
    /// A stable identifier for reports (`scope-mismatch`, `truncated-item`, …).
    pub fn rule(&self) -> &'static str {
        match self {
            Problem::Item { problem, .. } => problem.rule(),
            Problem::InvalidItemName { .. } => "invalid-item-name",
            Problem::ScopeMismatch { .. } => "scope-mismatch",
            Problem::IdentityMismatch { .. } => "identity-mismatch",
            Problem::MalformedKeyHint => "malformed-key-hint",
            Problem::DeprecatedV1Data => "deprecated-v1-data",
            Problem::NoItems => "no-items",
            Problem::KeyHintUnknown { .. } => "key-hint-unknown",
            Problem::KeyHintExpired { .. } => "key-hint-expired",
            Problem::KeySizeMismatch { .. } => "key-size-mismatch",
        }
    }

    /// How bad it is.
    pub fn severity(&self) -> Severity {
        match self {
            Problem::Item { .. }
            | Problem::InvalidItemName { .. }
            | Problem::ScopeMismatch { .. }
            | Problem::IdentityMismatch { .. }
            | Problem::KeyHintUnknown { .. } => Severity::Error,
            Problem::MalformedKeyHint
            | Problem::DeprecatedV1Data
            | Problem::NoItems
            | Problem::KeyHintExpired { .. }
            | Problem::KeySizeMismatch { .. } => Severity::Warning,
        }
    }

    /// The item it is about, if one.
    pub fn item(&self) -> Option<&str> {
        match self {
            Problem::Item { item, .. }
            | Problem::InvalidItemName { item }
            | Problem::KeySizeMismatch { item, .. } => Some(item),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Item { item, problem } => write!(f, "item {item:?}: {problem}"),
            Problem::InvalidItemName { item } => write!(
                f,
                "item name {:?} is not a valid Secret key (letters, digits, '-', '_', '.')",
                item.escape_default().to_string()
            ),
            Problem::ScopeMismatch { top, template } => write!(
                f,
                "scope annotations disagree: top level says {top}, the template says {template}; the controller uses the top level"
            ),
            Problem::IdentityMismatch {
                field,
                top,
                template,
                scope,
            } => write!(
                f,
                "{field} is {top:?} but the template says {template:?}: with scope {scope} the items are bound to the {field} they were sealed for, so renaming without re-sealing breaks them"
            ),
            Problem::MalformedKeyHint => write!(
                f,
                "annotation {KEY_HINT_ANNOTATION} is not a SHA256 fingerprint"
            ),
            Problem::DeprecatedV1Data => f.write_str(
                "uses the deprecated v1 spec.data format (controllers must accept it explicitly)",
            ),
            Problem::NoItems => f.write_str("has no sealed items"),
            Problem::KeyHintUnknown { hint } => {
                write!(
                    f,
                    "sealed to key {hint}, which none of the given certificates has"
                )
            }
            Problem::KeyHintExpired { hint, expired_on } => write!(
                f,
                "sealed to key {hint}, whose certificate expired on {expired_on}"
            ),
            Problem::KeySizeMismatch {
                item,
                item_bits,
                cert_bits,
            } => write!(
                f,
                "item {item:?} was sealed to an RSA-{item_bits} key but the hinted certificate is RSA-{cert_bits}"
            ),
        }
    }
}

/// Everything [`analyze`] finds in a SealedSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The scope the controller uses (top-level annotations).
    pub scope: Scope,
    /// The scope the template's annotations state, if they state one.
    pub template_scope: Option<Scope>,
    /// The key hint.
    pub key_hint: KeyHint,
    /// Each `encryptedData` item.
    pub items: BTreeMap<String, ItemInfo>,
    /// The deprecated v1 blob, if present.
    pub v1_data: Option<ItemInfo>,
    /// Problems, in a stable order.
    pub problems: Vec<Problem>,
}

/// Analyzes a SealedSecret without keys.
pub fn analyze(sealed: &SealedSecret) -> Analysis {
    let mut problems = Vec::new();
    let scope = Scope::from_annotations(sealed.metadata.annotations.as_ref());
    let template_meta = sealed.spec.template.metadata.as_ref();
    let template_scope = template_meta
        .and_then(|m| m.annotations.as_ref())
        .filter(|a| {
            a.contains_key(ANNOTATION_CLUSTER_WIDE) || a.contains_key(ANNOTATION_NAMESPACE_WIDE)
        })
        .map(|a| Scope::from_annotations(Some(a)));
    if let Some(template) = template_scope.filter(|t| *t != scope) {
        problems.push(Problem::ScopeMismatch {
            top: scope,
            template,
        });
    }
    if let Some(meta) = template_meta {
        // The namespace-selector scope binds no namespace or name (docs/multi-tenancy.md).
        let selector_scoped = sealed
            .metadata
            .annotation(crate::selector::ANNOTATION_NAMESPACE_SELECTOR)
            .is_some();
        let bound: &[&'static str] = match scope {
            _ if selector_scoped => &[],
            Scope::Strict => &["namespace", "name"],
            Scope::NamespaceWide => &["namespace"],
            Scope::ClusterWide => &[],
        };
        for &field in bound {
            let (top, template) = match field {
                "name" => (&sealed.metadata.name, &meta.name),
                _ => (&sealed.metadata.namespace, &meta.namespace),
            };
            if let (Some(top), Some(template)) = (
                top.as_deref().filter(|s| !s.is_empty()),
                template.as_deref().filter(|s| !s.is_empty()),
            ) && top != template
            {
                problems.push(Problem::IdentityMismatch {
                    field,
                    top: top.to_owned(),
                    template: template.to_owned(),
                    scope,
                });
            }
        }
    }
    let key_hint = KeyHint::of(sealed);
    if key_hint == KeyHint::Malformed {
        problems.push(Problem::MalformedKeyHint);
    }
    let v1_data = sealed.spec.data.as_deref().map(inspect_item);
    if v1_data.is_some() {
        problems.push(Problem::DeprecatedV1Data);
    }
    if sealed.spec.encrypted_data.is_empty() && v1_data.is_none() {
        problems.push(Problem::NoItems);
    }
    let mut items = BTreeMap::new();
    for (name, encoded) in &sealed.spec.encrypted_data {
        if !is_valid_secret_key(name) {
            problems.push(Problem::InvalidItemName { item: name.clone() });
        }
        let info = inspect_item(encoded);
        if let Err(problem) = &info.format {
            problems.push(Problem::Item {
                item: name.clone(),
                problem: problem.clone(),
            });
        }
        items.insert(name.clone(), info);
    }
    Analysis {
        scope,
        template_scope,
        key_hint,
        items,
        v1_data,
        problems,
    }
}

/// Kubernetes' rule for Secret data keys.
pub fn is_valid_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key != "."
        && key != ".."
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Which of the given certificates the key hint names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintMatch {
    /// No certificates were given.
    NoCertificates,
    /// The object has no well-formed hint.
    NoHint,
    /// The certificate at this index of the given list.
    Matches(usize),
    /// None of them.
    Unknown,
}

/// Checks the key hint against certificates the user trusts (the controller's current and
/// past ones): which one it names, and the problems that follow (unknown key, expired
/// certificate, items whose key size does not fit the hinted key).
pub fn check_certificates(
    analysis: &Analysis,
    certs: &[Certificate],
    now: OffsetDateTime,
) -> (HintMatch, Vec<Problem>) {
    if certs.is_empty() {
        return (HintMatch::NoCertificates, Vec::new());
    }
    let Some(hint) = analysis.key_hint.fingerprint() else {
        return (HintMatch::NoHint, Vec::new());
    };
    let Some(index) = certs
        .iter()
        .position(|c| c.public_key().fingerprint() == hint)
    else {
        return (
            HintMatch::Unknown,
            vec![Problem::KeyHintUnknown { hint: hint.clone() }],
        );
    };
    let cert = &certs[index];
    let mut problems = Vec::new();
    if now > cert.not_after() {
        problems.push(Problem::KeyHintExpired {
            hint: hint.clone(),
            expired_on: cert.not_after().date().to_string(),
        });
    }
    let cert_bits = cert.public_key().bits();
    for (item, info) in &analysis.items {
        if let Some(item_bits) = info.key_bits().filter(|bits| *bits != cert_bits) {
            problems.push(Problem::KeySizeMismatch {
                item: item.clone(),
                item_bits,
                cert_bits,
            });
        }
    }
    (HintMatch::Matches(index), problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_item(key_bytes: usize, plaintext: usize) -> Vec<u8> {
        let mut item = u16::try_from(key_bytes).unwrap().to_be_bytes().to_vec();
        item.resize(2 + key_bytes + plaintext + GCM_TAG_LEN, 0xab);
        item
    }

    #[test]
    fn rsa_items_give_key_size_and_plaintext_length() {
        let info = inspect_item_bytes(&rsa_item(512, 7));
        assert_eq!(info.format, Ok(ItemFormat::RsaHybrid { key_bits: 4096 }));
        assert_eq!(info.plaintext_len, Some(7));
        assert_eq!(info.sealed_len, 2 + 512 + 7 + 16);
        assert_eq!(inspect_item_bytes(&rsa_item(256, 0)).key_bits(), Some(2048));
    }

    #[test]
    fn truncated_and_unknown_items() {
        let mut short = rsa_item(512, 0);
        short.pop();
        assert_eq!(
            inspect_item_bytes(&short).format,
            Err(ItemProblem::Truncated {
                key_bits: 4096,
                len: 529,
                min: 530
            })
        );
        assert_eq!(
            inspect_item_bytes(&[0, 5, 1, 2]).format,
            Err(ItemProblem::UnknownFormat { prefix: 5 })
        );
        assert_eq!(
            inspect_item_bytes(&[9]).format,
            Err(ItemProblem::UnknownFormat { prefix: 0 })
        );
        assert_eq!(inspect_item_bytes(&[]).format, Err(ItemProblem::Empty));
        assert!(matches!(
            inspect_item("not base64!").format,
            Err(ItemProblem::InvalidBase64 { position: 3 })
        ));
    }

    #[test]
    fn age_items_give_recipients_and_plaintext_length() {
        let mut item = AGE_MAGIC.to_vec();
        item.extend_from_slice(b"-> X25519 abc\nYmFzZTY0\n-> mlkem768x25519 def\n\n--- mac\n");
        item.extend_from_slice(&[0; AGE_NONCE_LEN]);
        item.extend_from_slice(&[1; 5 + AGE_TAG_LEN]);
        let info = inspect_item_bytes(&item);
        assert_eq!(
            info.format,
            Ok(ItemFormat::Age {
                recipients: vec!["X25519".into(), "mlkem768x25519".into()]
            })
        );
        assert_eq!(info.plaintext_len, Some(5));
        assert_eq!(
            info.format.unwrap().to_string(),
            "age (X25519, mlkem768x25519)"
        );
        // Two chunks: a full one and a partial one, each with its tag.
        let mut big = AGE_MAGIC.to_vec();
        big.extend_from_slice(b"-> X25519 a\n--- m\n");
        big.resize(
            big.len() + AGE_NONCE_LEN + AGE_CHUNK_LEN + 10 + 2 * AGE_TAG_LEN,
            0,
        );
        assert_eq!(
            inspect_item_bytes(&big).plaintext_len,
            Some(AGE_CHUNK_LEN + 10)
        );
        let cut = [AGE_MAGIC.as_slice(), b"-> X25519 a\n"].concat();
        assert!(matches!(
            inspect_item_bytes(&cut).format,
            Err(ItemProblem::MalformedAge(_))
        ));
    }

    #[test]
    fn digest_tells_ciphertexts_apart() {
        let a = inspect_item_bytes(&rsa_item(512, 3));
        let mut other = rsa_item(512, 3);
        other[100] ^= 1;
        assert_ne!(a.digest, inspect_item_bytes(&other).digest);
        assert_eq!(a.digest, inspect_item_bytes(&rsa_item(512, 3)).digest);
        assert!(a.digest.starts_with("sha256:") && a.digest.len() == 7 + 16);
    }

    fn sealed(yaml: &str) -> SealedSecret {
        crate::object::read_sealed_secrets(yaml).unwrap().remove(0)
    }

    #[test]
    fn scope_and_identity_mismatches() {
        let item = crate::base64::encode(&rsa_item(512, 1));
        let ss = sealed(&format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: new, namespace: prod}}\n\
             spec:\n  encryptedData: {{k: {item}}}\n  template:\n    metadata:\n      name: old\n      namespace: prod\n      \
             annotations: {{sealedsecrets.bitnami.com/namespace-wide: 'true'}}\n"
        ));
        let analysis = analyze(&ss);
        let rules: Vec<_> = analysis.problems.iter().map(Problem::rule).collect();
        assert_eq!(rules, ["scope-mismatch", "identity-mismatch"]);
        assert_eq!(analysis.template_scope, Some(Scope::NamespaceWide));
        // Namespace-wide at the top: the name is free, so only the scope disagreement remains.
        let ss = sealed(&format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: new\n  namespace: prod\n  \
             annotations: {{sealedsecrets.bitnami.com/namespace-wide: 'true'}}\n\
             spec:\n  encryptedData: {{k: {item}}}\n  template: {{metadata: {{name: old, namespace: prod}}}}\n"
        ));
        assert!(analyze(&ss).problems.is_empty(), "{:?}", analyze(&ss));
    }

    #[test]
    fn hint_and_item_problems() {
        let ss = sealed(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: a\n  \
             annotations: {sealant.dev/key-hint: nope}\nspec:\n  encryptedData: {'bad key': AAA=, ok: '!!'}\n",
        );
        let analysis = analyze(&ss);
        let rules: Vec<_> = analysis.problems.iter().map(Problem::rule).collect();
        assert_eq!(
            rules,
            [
                "malformed-key-hint",
                "invalid-item-name",
                "unknown-item-format",
                "invalid-base64"
            ]
        );
        assert_eq!(analysis.key_hint, KeyHint::Malformed);
        assert_eq!(
            analysis.problems[0].severity(),
            Severity::Warning,
            "a bad hint only slows the controller"
        );
        assert_eq!(analysis.problems[3].severity(), Severity::Error);
    }
}
