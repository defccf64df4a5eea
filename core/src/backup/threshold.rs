//! m-of-n key backups: the backup plaintext (module docs of [`super`]) encrypted under a random
//! data key, and that key split by Shamir's secret sharing into one share per holder, each
//! share age-encrypted to its holder's recipients. Any `threshold` holders restore the keys
//! together; fewer learn nothing about the data key. The text format, its limits and the
//! choice of the `blahaj` crate are in docs/format.md ("Threshold backups").

use std::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit, Tag};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{BackupError, backup_plaintext};
use crate::age::plugin::{
    FileDecryptError, FileEncryptError, FileIdentity, FileRecipient, PluginMessages, decrypt_with,
    encrypt_to,
};
use crate::age::{AgeRecipient, check_post_quantum_mix};
use crate::object::Secret;
use crate::secret::SecretString;

/// The first line (after comments) of a threshold backup.
pub const BACKUP_MAGIC: &str = "sealant-threshold-backup v1";
/// The first line (after comments) of a share.
pub const SHARE_MAGIC: &str = "sealant-backup-share v1";
/// The most holders a backup may have (a share per holder; Shamir over GF(256) allows 255).
pub const MAX_HOLDERS: usize = 64;
/// The longest holder label.
pub const MAX_LABEL: usize = 64;

const ID_LEN: usize = 16;
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
const PAYLOAD_INFO: &[u8] = b"sealant threshold backup v1 payload";
// The payload key is derived from a data key made for this one backup and used once, so a
// fixed nonce is safe (as for upstream's per-item session keys).
const ZERO_NONCE: [u8; 12] = [0; 12];

/// A threshold backup or share that cannot be made, read or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ThresholdError {
    /// A threshold outside 2..=holders.
    #[error(
        "a threshold of {threshold} does not fit {holders} holder(s): it must be at least 2 and at most the number of holders"
    )]
    BadThreshold {
        /// The threshold asked for.
        threshold: usize,
        /// How many holders there are.
        holders: usize,
    },
    /// More holders than [`MAX_HOLDERS`].
    #[error("{0} holders: a threshold backup takes at most {MAX_HOLDERS}")]
    TooManyHolders(usize),
    /// A holder without recipients.
    #[error("holder {0} has no recipient")]
    EmptyHolder(usize),
    /// A holder label with characters other than letters, digits and `._@+-`.
    #[error("holder label {0:?}: use 1 to {MAX_LABEL} letters, digits or ._@+- characters")]
    BadLabel(String),
    /// Text that is not a threshold backup or share of this version.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Fewer distinct shares than the threshold.
    #[error("{have} share(s) of the {need} needed to restore this backup")]
    NotEnoughShares {
        /// Distinct shares given.
        have: usize,
        /// The threshold.
        need: usize,
    },
    /// A share made for another backup (another id), or that does not match its slot.
    #[error(
        "share {index} does not belong to this backup (backup {expected}, share made for {found})"
    )]
    ForeignShare {
        /// The share's number.
        index: u8,
        /// This backup's id.
        expected: String,
        /// The share's backup id.
        found: String,
    },
    /// The shares have this backup's id but do not combine into its key (one was altered).
    #[error("the shares do not combine into this backup's key: one of them is damaged")]
    SharesDoNotCombine,
    /// A plain backup where a threshold one was expected, or the reverse.
    #[error("this is a threshold backup: it opens with shares from enough holders")]
    IsThreshold,
}

fn malformed(line: usize, reason: &'static str) -> ThresholdError {
    ThresholdError::Malformed { line, reason }
}

/// One holder of a share: a person, a team or a hardware key set. Any one of its recipients
/// opens the share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// A public name for the share (`alice`, `sre-oncall`), kept in the backup in clear.
    pub label: Option<String>,
    /// Who may open the share.
    pub recipients: Vec<FileRecipient>,
}

/// Checks a holder label (see [`ThresholdError::BadLabel`]).
///
/// # Errors
/// Empty, too long, `-`, or other characters.
pub fn check_label(label: &str) -> Result<(), ThresholdError> {
    let ok = !label.is_empty()
        && label.len() <= MAX_LABEL
        && label != "-"
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ThresholdError::BadLabel(
            label.chars().take(MAX_LABEL).collect(),
        ))
    }
}

/// One holder's share as the backup carries it: an age file only that holder opens.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedShare {
    /// The share's number, 1 to the number of holders (the Shamir x coordinate).
    pub index: u8,
    /// The holder's label.
    pub label: Option<String>,
    age: Vec<u8>,
}

impl fmt::Debug for SealedShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedShare({}, {:?})", self.index, self.label)
    }
}

/// A parsed threshold backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdBackup {
    id: [u8; ID_LEN],
    threshold: u8,
    shares: Vec<SealedShare>,
    payload: Vec<u8>,
}

/// One holder's decrypted share: secret (with `threshold - 1` others it restores every key).
/// `Debug` shows which share it is, never its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    id: [u8; ID_LEN],
    threshold: u8,
    holders: u8,
    index: u8,
    value: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Share({} of backup {}, [redacted])",
            self.index,
            encode_id(&self.id)
        )
    }
}

fn encode_id(id: &[u8; ID_LEN]) -> String {
    STANDARD_NO_PAD.encode(id)
}

fn header(id: &[u8; ID_LEN], threshold: u8, holders: usize) -> String {
    format!(
        "{BACKUP_MAGIC}\nid {}\nthreshold {threshold} of {holders}\n",
        encode_id(id)
    )
}

fn payload_cipher(key: &[u8; KEY_LEN], id: &[u8; ID_LEN]) -> Result<Aes256Gcm, BackupError> {
    let mut derived = Zeroizing::new([0u8; KEY_LEN]);
    Hkdf::<Sha256>::new(Some(id), key)
        .expand(PAYLOAD_INFO, &mut derived[..])
        .map_err(|_| BackupError::Seal(crate::error::SealError::new("key derivation failed")))?;
    Aes256Gcm::new_from_slice(&derived[..])
        .map_err(|_| BackupError::Seal(crate::error::SealError::new("bad AES key length")))
}

fn random<const N: usize>() -> Result<[u8; N], BackupError> {
    crate::age::random_bytes::<N>()
        .map_err(|_| crate::error::SealError::new("the system random source failed").into())
}

fn file_error(e: FileEncryptError) -> BackupError {
    match e {
        FileEncryptError::Seal(e) => BackupError::Seal(e),
        FileEncryptError::Plugin(e) => BackupError::Plugin(e),
    }
}

/// Encrypts a backup of `secrets` so that any `threshold` of `holders` restore it together
/// (the text of docs/format.md, "Threshold backups").
///
/// # Errors
/// A threshold outside 2..=holders, too many holders, a holder without recipients or with a
/// bad label, post-quantum mixed with classical recipients in one holder, a plugin that is
/// missing or fails, or the errors of [`backup_plaintext`].
pub fn seal_threshold_backup(
    holders: &[Holder],
    threshold: usize,
    secrets: &[Secret],
    messages: PluginMessages,
) -> Result<String, BackupError> {
    if holders.len() > MAX_HOLDERS {
        return Err(ThresholdError::TooManyHolders(holders.len()).into());
    }
    let threshold_byte = u8::try_from(threshold)
        .ok()
        .filter(|t| *t >= 2 && usize::from(*t) <= holders.len())
        .ok_or(ThresholdError::BadThreshold {
            threshold,
            holders: holders.len(),
        })?;
    for (i, holder) in holders.iter().enumerate() {
        if holder.recipients.is_empty() {
            return Err(ThresholdError::EmptyHolder(i + 1).into());
        }
        if let Some(label) = &holder.label {
            check_label(label)?;
        }
        let native: Vec<AgeRecipient> = holder
            .recipients
            .iter()
            .filter_map(|r| match r {
                FileRecipient::Native(n) => Some(n.clone()),
                FileRecipient::Plugin(_) => None,
            })
            .collect();
        check_post_quantum_mix(&native, 0)?;
    }
    let plaintext = backup_plaintext(secrets)?;
    let id = random::<ID_LEN>()?;
    let key = Zeroizing::new(random::<KEY_LEN>()?);
    // The dealer takes an infallible RNG; the system source just answered twice above.
    let mut rng = rand::rand_core::UnwrapErr(rand::rngs::SysRng);
    let dealer = blahaj::Sharks(threshold_byte).dealer_rng(&key[..], &mut rng);
    let mut shares = Vec::with_capacity(holders.len());
    for (holder, share) in holders.iter().zip(dealer) {
        let bytes = Zeroizing::new(Vec::<u8>::from(&share));
        let (index, value) = bytes.split_first().ok_or(BackupError::Malformed)?;
        let value: [u8; KEY_LEN] = value.try_into().map_err(|_| BackupError::Malformed)?;
        let share = Share {
            id,
            threshold: threshold_byte,
            holders: u8::try_from(holders.len()).map_err(|_| BackupError::Malformed)?,
            index: *index,
            value: Zeroizing::new(value),
        };
        let text = share.to_text();
        let age = encrypt_to(
            &holder.recipients,
            text.expose_secret().as_bytes(),
            false,
            messages,
        )
        .map_err(file_error)?;
        shares.push(SealedShare {
            index: share.index,
            label: holder.label.clone(),
            age,
        });
    }
    let aad = header(&id, threshold_byte, holders.len());
    let mut payload = plaintext.as_bytes().to_vec();
    let tag = payload_cipher(&key, &id)?
        .encrypt_inout_detached(
            &Nonce::from(ZERO_NONCE),
            aad.as_bytes(),
            (&mut payload[..]).into(),
        )
        .map_err(|_| crate::error::SealError::new("AES-GCM encryption failed"))?;
    payload.extend_from_slice(&tag);
    Ok(ThresholdBackup {
        id,
        threshold: threshold_byte,
        shares,
        payload,
    }
    .to_text())
}

/// The lines after leading comments and blank lines, numbered from 1.
fn body_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end_matches('\r')))
        .skip_while(|(_, line)| line.trim().is_empty() || line.starts_with('#'))
}

/// True when `bytes` look like a threshold backup (its magic line after the comments).
pub fn is_threshold_backup(bytes: &[u8]) -> bool {
    first_line(bytes) == Some(BACKUP_MAGIC)
}

/// True when `bytes` look like a decrypted share.
pub fn is_share(bytes: &[u8]) -> bool {
    first_line(bytes) == Some(SHARE_MAGIC)
}

fn first_line(bytes: &[u8]) -> Option<&str> {
    // Comments are short: the magic line is within the first few hundred bytes.
    let head = &bytes[..bytes.len().min(4096)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    body_lines(text).next().map(|(_, line)| line)
}

/// A decimal number of at most three digits, no sign, no leading zero.
fn number(text: &str) -> Option<u8> {
    let canonical = !text.is_empty()
        && text.len() <= 3
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text).ok()
}

fn parse_id(line: (usize, &str)) -> Result<[u8; ID_LEN], ThresholdError> {
    let (n, text) = line;
    text.strip_prefix("id ")
        .and_then(decode)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(malformed(n, "expected `id` and 16 bytes of base64"))
}

/// `threshold M of N`, with 2 <= M <= N <= MAX_HOLDERS.
fn parse_threshold(line: (usize, &str)) -> Result<(u8, u8), ThresholdError> {
    let (n, text) = line;
    let bad = malformed(n, "expected `threshold M of N` with 2 <= M <= N <= 64");
    let rest = text.strip_prefix("threshold ").ok_or(bad.clone())?;
    let (m, total) = rest.split_once(" of ").ok_or(bad.clone())?;
    let (m, total) = (
        number(m).ok_or(bad.clone())?,
        number(total).ok_or(bad.clone())?,
    );
    if m < 2 || m > total || usize::from(total) > MAX_HOLDERS {
        return Err(bad);
    }
    Ok((m, total))
}

impl ThresholdBackup {
    /// Reads a threshold backup (comment lines first are allowed).
    ///
    /// # Errors
    /// [`ThresholdError::Malformed`] with the first bad line.
    pub fn parse(bytes: &[u8]) -> Result<Self, ThresholdError> {
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(1, "not UTF-8 text"))?;
        let mut lines = body_lines(text);
        let (n, magic) = lines.next().ok_or(malformed(1, "empty"))?;
        if magic != BACKUP_MAGIC {
            return Err(malformed(n, "expected `sealant-threshold-backup v1`"));
        }
        let mut next = || lines.next().ok_or(malformed(n, "truncated"));
        let id = parse_id(next()?)?;
        let (threshold, holders) = parse_threshold(next()?)?;
        let mut shares = Vec::with_capacity(usize::from(holders));
        for index in 1..=holders {
            let (n, line) = next()?;
            let bad = malformed(n, "expected `share INDEX LABEL AGE-FILE`, numbered from 1");
            let mut words = line.split(' ');
            let (Some("share"), Some(i), Some(label), Some(age), None) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                words.next(),
            ) else {
                return Err(bad);
            };
            if number(i) != Some(index) {
                return Err(bad);
            }
            let label = match label {
                "-" => None,
                label => {
                    check_label(label).map_err(|_| malformed(n, "bad holder label"))?;
                    Some(label.to_owned())
                }
            };
            let age = decode(age).ok_or(malformed(n, "the share is not base64"))?;
            if !age.starts_with(crate::age::AGE_MAGIC) {
                return Err(malformed(n, "the share is not an age file"));
            }
            shares.push(SealedShare { index, label, age });
        }
        let (n, line) = next()?;
        let payload = line
            .strip_prefix("payload ")
            .and_then(decode)
            .filter(|p| p.len() >= TAG_LEN)
            .ok_or(malformed(n, "expected `payload` and base64"))?;
        if let Some((n, _)) = lines.next() {
            return Err(malformed(n, "unexpected text after the payload"));
        }
        Ok(Self {
            id,
            threshold,
            shares,
            payload,
        })
    }

    /// The file's text: comments, then the lines docs/format.md describes.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "# sealant threshold key backup: any {} of the {} shares below restore every key.\n\
             # Each share opens with its holder's age identity only. Runbook: docs/recovery.md\n",
            self.threshold,
            self.shares.len()
        );
        text.push_str(&header(&self.id, self.threshold, self.shares.len()));
        for share in &self.shares {
            text.push_str(&format!(
                "share {} {} {}\n",
                share.index,
                share.label.as_deref().unwrap_or("-"),
                STANDARD_NO_PAD.encode(&share.age)
            ));
        }
        text.push_str("payload ");
        text.push_str(&STANDARD_NO_PAD.encode(&self.payload));
        text.push('\n');
        text
    }

    /// The backup's id (base64): every share names it.
    pub fn id(&self) -> String {
        encode_id(&self.id)
    }

    /// How many shares restore it.
    pub fn threshold(&self) -> usize {
        usize::from(self.threshold)
    }

    /// The holders' sealed shares, in order.
    pub fn shares(&self) -> &[SealedShare] {
        &self.shares
    }

    /// Every share of this backup that `identities` open (none is not an error: the holder
    /// may hold none). Each opened share is checked to be this backup's.
    ///
    /// # Errors
    /// A plugin that is missing or fails; a share that is not this backup's.
    pub fn open_shares(
        &self,
        identities: &[FileIdentity],
        messages: PluginMessages,
    ) -> Result<Vec<Share>, BackupError> {
        let mut out = Vec::new();
        for sealed in &self.shares {
            match decrypt_with(identities, &sealed.age, messages) {
                Ok(plaintext) => {
                    let share = Share::parse(plaintext.expose_secret())?;
                    self.check(&share)?;
                    if share.index != sealed.index {
                        return Err(self.foreign(&share).into());
                    }
                    out.push(share);
                }
                Err(FileDecryptError::Decrypt(_)) => {}
                Err(FileDecryptError::Plugin(e)) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    fn foreign(&self, share: &Share) -> ThresholdError {
        ThresholdError::ForeignShare {
            index: share.index,
            expected: self.id(),
            found: encode_id(&share.id),
        }
    }

    fn check(&self, share: &Share) -> Result<(), ThresholdError> {
        let fits = share.id == self.id
            && share.threshold == self.threshold
            && usize::from(share.holders) == self.shares.len()
            && share.index >= 1
            && usize::from(share.index) <= self.shares.len();
        if fits {
            Ok(())
        } else {
            Err(self.foreign(share))
        }
    }

    /// Combines `shares` (duplicates count once) into the data key and returns the backup's
    /// key Secrets, each checked usable.
    ///
    /// # Errors
    /// A share of another backup, fewer distinct shares than the threshold, shares that do not
    /// combine, or a payload that does not hold key Secrets.
    pub fn combine(&self, shares: &[Share]) -> Result<Vec<Secret>, BackupError> {
        let mut distinct: Vec<&Share> = Vec::new();
        for share in shares {
            self.check(share)?;
            match distinct.iter().find(|s| s.index == share.index) {
                Some(seen) if seen.value != share.value => {
                    return Err(ThresholdError::SharesDoNotCombine.into());
                }
                Some(_) => {}
                None => distinct.push(share),
            }
        }
        if distinct.len() < self.threshold() {
            return Err(ThresholdError::NotEnoughShares {
                have: distinct.len(),
                need: self.threshold(),
            }
            .into());
        }
        let points: Vec<blahaj::Share> = distinct
            .iter()
            .take(self.threshold())
            .map(|s| {
                let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
                bytes.push(s.index);
                bytes.extend_from_slice(&s.value[..]);
                blahaj::Share::try_from(&bytes[..])
            })
            .collect::<Result<_, _>>()
            .map_err(|_| ThresholdError::SharesDoNotCombine)?;
        let key = Zeroizing::new(
            blahaj::Sharks(self.threshold)
                .recover(&points)
                .map_err(|_| ThresholdError::SharesDoNotCombine)?,
        );
        let key: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
            key[..]
                .try_into()
                .map_err(|_| ThresholdError::SharesDoNotCombine)?,
        );
        let (body, tag) = self.payload.split_at(self.payload.len() - TAG_LEN);
        let tag =
            Tag::<Aes256Gcm>::try_from(tag).map_err(|_| ThresholdError::SharesDoNotCombine)?;
        let mut plaintext = Zeroizing::new(body.to_vec());
        let aad = header(&self.id, self.threshold, self.shares.len());
        payload_cipher(&key, &self.id)?
            .decrypt_inout_detached(
                &Nonce::from(ZERO_NONCE),
                aad.as_bytes(),
                (&mut plaintext[..]).into(),
                &tag,
            )
            .map_err(|_| ThresholdError::SharesDoNotCombine)?;
        super::secrets_of_plaintext(&plaintext)
    }
}

impl Share {
    /// Which share of its backup this is (1-based).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The id of the backup it belongs to.
    pub fn backup_id(&self) -> String {
        encode_id(&self.id)
    }

    /// The share as a file (`sealant keys share-decrypt` output): comments, then the lines
    /// docs/format.md describes. Secret.
    pub fn to_text(&self) -> SecretString {
        SecretString::new(format!(
            "# sealant backup share {index} of {holders}, backup {id}: any {m} shares restore every key.\n\
             # Secret: keep it like a private key, or pass it on encrypted (docs/recovery.md).\n\
             {SHARE_MAGIC}\nid {id}\nthreshold {m} of {holders}\nshare {index} {value}\n",
            index = self.index,
            holders = self.holders,
            m = self.threshold,
            id = encode_id(&self.id),
            value = Zeroizing::new(STANDARD_NO_PAD.encode(&self.value[..])).as_str(),
        ))
    }

    /// Reads a share file.
    ///
    /// # Errors
    /// [`ThresholdError::Malformed`] with the first bad line (never its text).
    pub fn parse(bytes: &[u8]) -> Result<Self, ThresholdError> {
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(1, "not UTF-8 text"))?;
        let mut lines = body_lines(text);
        let (n, magic) = lines.next().ok_or(malformed(1, "empty"))?;
        if magic != SHARE_MAGIC {
            return Err(malformed(n, "expected `sealant-backup-share v1`"));
        }
        let truncated = malformed(n, "truncated");
        let id = parse_id(lines.next().ok_or(truncated.clone())?)?;
        let (threshold, holders) = parse_threshold(lines.next().ok_or(truncated.clone())?)?;
        let (n, line) = lines.next().ok_or(truncated)?;
        let bad = malformed(n, "expected `share INDEX VALUE`");
        let (index, value) = line
            .strip_prefix("share ")
            .and_then(|rest| rest.split_once(' '))
            .ok_or(bad.clone())?;
        let index = number(index)
            .filter(|i| *i >= 1 && *i <= holders)
            .ok_or(bad.clone())?;
        let value = Zeroizing::new(decode(value).ok_or(bad.clone())?);
        let value: [u8; KEY_LEN] = value[..].try_into().map_err(|_| bad)?;
        if let Some((n, _)) = lines.find(|(_, l)| !l.trim().is_empty()) {
            return Err(malformed(n, "unexpected text after the share"));
        }
        Ok(Self {
            id,
            threshold,
            holders,
            index,
            value: Zeroizing::new(value),
        })
    }
}

#[cfg(test)]
mod tests;
