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
use std::io::Write as _;

use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age_core::format::{FileKey, Stanza};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::TryRng as _;
use zeroize::Zeroizing;

use crate::error::{DecryptError, SealError};
use crate::keys::{Fingerprint, PrivateKey, PublicKey};
use crate::secret::SecretBytes;

pub mod envelope;
pub mod plugin;
pub mod pq;
mod rsa;
mod x25519;

mod identity;

pub use envelope::Binding;
pub use identity::{
    AgeIdentity, AgeKeyError, AgeRecipient, IdentityKind, parse_identities, parse_recipients,
};
pub use plugin::{FileIdentity, FileRecipient, PluginIdentity, PluginRecipient};
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
    let extra: Vec<&dyn age::Recipient> = rsa.iter().map(|r| r as &dyn age::Recipient).collect();
    encrypt_with(age, &extra, plaintext, armor).map_err(|e| match e {
        EncryptFailure::Seal(e) => e,
        EncryptFailure::Plugin(_) => SealError::new("age encryption failed"),
    })
}

/// Why [`encrypt_with`] failed: plugin failures keep the plugin's words.
pub(crate) enum EncryptFailure {
    Seal(SealError),
    Plugin(String),
}

/// Encrypts `plaintext` to `age` recipients and `extra` ones (RSA, plugins) as one age file.
fn encrypt_with(
    age: &[AgeRecipient],
    extra: &[&dyn age::Recipient],
    plaintext: &[u8],
    armor: bool,
) -> Result<Vec<u8>, EncryptFailure> {
    let sealers: Vec<identity::Sealer<'_>> = age.iter().map(AgeRecipient::sealer).collect();
    let recipients = sealers
        .iter()
        .map(|r| r as &dyn age::Recipient)
        .chain(extra.iter().copied());
    let encryptor = age::Encryptor::with_recipients(recipients).map_err(|e| match e {
        age::EncryptError::MissingRecipients => {
            EncryptFailure::Seal(SealError::new("no recipients"))
        }
        age::EncryptError::IncompatibleRecipients { .. } => EncryptFailure::Seal(SealError::new(
            "post-quantum and classical recipients cannot share an item",
        )),
        e @ (age::EncryptError::Plugin(_) | age::EncryptError::PluginResolve(_)) => {
            EncryptFailure::Plugin(e.to_string())
        }
        _ => EncryptFailure::Seal(SealError::new("age encryption failed")),
    })?;
    let fail = |_| EncryptFailure::Seal(SealError::new("age encryption failed"));
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
    // The plaintext is never longer than the ciphertext, so `limit` bytes suffice and the
    // buffer never moves; the reader writes straight into it (no bounce buffer to wipe).
    out.clear();
    out.resize(limit, 0);
    let mut filled = 0;
    while filled < limit {
        match reader.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => {
                out.truncate(filled);
                return Err(DecryptError);
            }
        }
    }
    out.truncate(filled);
    if filled == limit {
        // Full: one more byte would be past the limit.
        let mut probe = Zeroizing::new([0u8; 1]);
        if reader.read(&mut probe[..]).map_err(|_| DecryptError)? != 0 {
            return Err(DecryptError);
        }
    }
    Ok(())
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

/// Opens an age item with every key of a key ring: its age identities, then its RSA keys
/// through `ssh-rsa` stanzas. Returns the value and the fingerprint of the key that opened it.
pub(crate) fn open_with_keys<'r>(
    rsa_keys: &'r [PrivateKey],
    ages: &'r [AgeIdentity],
    binding: &Binding,
    item: &[u8],
) -> Result<(SecretBytes, &'r Fingerprint), DecryptError> {
    let rsa: Vec<rsa::RsaIdentity<'r>> = rsa_keys.iter().map(rsa::RsaIdentity).collect();
    let candidates = Candidates::new(&rsa, ages.iter());
    let value = open_candidates(&candidates, binding, item)?;
    let index = candidates.matched().ok_or(DecryptError)?;
    let fingerprint = match index.checked_sub(ages.len()) {
        None => ages.get(index).map(AgeIdentity::fingerprint),
        Some(rsa_index) => rsa_keys.get(rsa_index).map(PrivateKey::fingerprint),
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
    use time::OffsetDateTime;

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
