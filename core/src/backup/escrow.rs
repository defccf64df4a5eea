//! Key escrow (docs/recovery.md, "Automatic escrow"): the encrypted copy of one key Secret
//! that the controller writes before the key is published. Its content is exactly what
//! `sealant keys backup` writes for that one key Secret: an armored age file, or an m-of-n
//! backup ([`super::threshold`]). This module names the pieces (the escrow object's name,
//! the key Secret's name chosen in advance, the holders of an m-of-n escrow) and seals; the
//! controller writes the object.

use base64::Engine as _;

use super::threshold::{Holder, ThresholdError, check_label, seal_threshold_backup};
use super::{BackupError, seal_backup_to};
use crate::age::AgeKeyError;
use crate::age::plugin::{FileRecipient, PluginMessages};
use crate::keys::Fingerprint;
use crate::keysecret::age::{is_age_key_secret, read_age_key_secret};
use crate::keysecret::read_key_secret;
use crate::object::Secret;

/// Prefix of every escrow object's name.
pub const ESCROW_PREFIX: &str = "sealant-escrow-";
/// How many hex characters of the key's SHA-256 fingerprint the name carries.
pub const NAME_HEX_CHARS: usize = 20;
/// The characters the API server's `generateName` draws from (no vowels, no look-alikes).
const NAME_ALPHABET: &[u8; 27] = b"bcdfghjklmnpqrstvwxz2456789";
/// How many random characters `generateName` appends.
const NAME_RANDOM_CHARS: usize = 5;

/// The key kind as escrow names and labels spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EscrowKind {
    /// An RSA key Secret (upstream's layout).
    Rsa,
    /// An age key Secret.
    Age,
}

impl EscrowKind {
    /// `rsa` or `age`.
    pub fn as_str(self) -> &'static str {
        match self {
            EscrowKind::Rsa => "rsa",
            EscrowKind::Age => "age",
        }
    }
}

/// To whom escrows are sealed: every recipient opens it alone, or any `threshold` holders
/// together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscrowTarget {
    /// A plain age file (armored); each recipient opens it alone.
    Plain(Vec<FileRecipient>),
    /// An m-of-n backup.
    Threshold {
        /// The holders, one share each.
        holders: Vec<Holder>,
        /// How many holders restore together.
        threshold: usize,
    },
}

/// Escrow recipients or holders that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EscrowSetupError {
    /// A recipient that does not parse.
    #[error("recipient {shown}: {source}")]
    Recipient {
        /// The recipient as typed, cut short.
        shown: String,
        /// Why.
        #[source]
        source: AgeKeyError,
    },
    /// A `[LABEL=]RECIPIENT[,RECIPIENT…]` group that is not one.
    #[error("group {shown}: {reason}")]
    Group {
        /// The group as typed, cut short.
        shown: String,
        /// Why.
        reason: &'static str,
    },
    /// A bad label, threshold or holder count.
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    /// Groups without a threshold.
    #[error("groups are holders of an m-of-n escrow: give a threshold too")]
    GroupWithoutThreshold,
}

/// A recipient or group as typed, cut short (a post-quantum recipient is 1,900 characters).
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(24).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    format!("{short:?}")
}

/// Parses one recipient string, plugin ones included.
///
/// # Errors
/// [`EscrowSetupError::Recipient`].
pub fn parse_recipient(text: &str) -> Result<FileRecipient, EscrowSetupError> {
    text.trim()
        .parse::<FileRecipient>()
        .map_err(|source| EscrowSetupError::Recipient {
            shown: shorten(text),
            source,
        })
}

/// Parses one holder group, `[LABEL=]RECIPIENT[,RECIPIENT…]` (any one recipient opens the
/// holder's share), as `sealant keys backup --group` takes it.
///
/// # Errors
/// A bad label, no recipient, or a recipient that does not parse.
pub fn parse_group(group: &str) -> Result<Holder, EscrowSetupError> {
    let (label, list) = match group.split_once('=') {
        Some((label, list)) => {
            check_label(label)?;
            (Some(label.to_owned()), list)
        }
        None => (None, group),
    };
    let recipients = list
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(parse_recipient)
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err(EscrowSetupError::Group {
            shown: shorten(group),
            reason: "no recipient",
        });
    }
    Ok(Holder { label, recipients })
}

/// The holders of an m-of-n backup: each recipient on its own, then each group.
///
/// # Errors
/// See [`parse_group`].
pub fn holders(
    recipients: Vec<FileRecipient>,
    groups: &[String],
) -> Result<Vec<Holder>, EscrowSetupError> {
    let mut holders: Vec<Holder> = recipients
        .into_iter()
        .map(|r| Holder {
            label: None,
            recipients: vec![r],
        })
        .collect();
    for group in groups {
        holders.push(parse_group(group)?);
    }
    Ok(holders)
}

impl EscrowTarget {
    /// The target of `recipients` (and `groups` with a threshold), checked: at least one
    /// recipient; with a threshold, 2 ≤ threshold ≤ holders.
    ///
    /// # Errors
    /// No recipient, bad groups, a threshold that does not fit.
    pub fn new(
        recipients: Vec<FileRecipient>,
        groups: &[String],
        threshold: Option<usize>,
    ) -> Result<Self, EscrowSetupError> {
        match threshold {
            None if !groups.is_empty() => Err(EscrowSetupError::GroupWithoutThreshold),
            None if recipients.is_empty() => Err(EscrowSetupError::Group {
                shown: String::new(),
                reason: "an escrow needs at least one recipient",
            }),
            None => Ok(EscrowTarget::Plain(recipients)),
            Some(threshold) => {
                let holders = holders(recipients, groups)?;
                if holders.len() > super::threshold::MAX_HOLDERS {
                    return Err(ThresholdError::TooManyHolders(holders.len()).into());
                }
                if threshold < 2 || threshold > holders.len() {
                    return Err(ThresholdError::BadThreshold {
                        threshold,
                        holders: holders.len(),
                    }
                    .into());
                }
                Ok(EscrowTarget::Threshold { holders, threshold })
            }
        }
    }

    /// How many recipients and holders, for logs (public facts only).
    pub fn describe(&self) -> String {
        match self {
            EscrowTarget::Plain(r) => format!("{} recipient(s), no threshold", r.len()),
            EscrowTarget::Threshold { holders, threshold } => {
                format!("{threshold} of {} holders", holders.len())
            }
        }
    }
}

/// The escrow of one key Secret: an armored age file, or an m-of-n backup, exactly as
/// `sealant keys backup` writes it for that Secret.
///
/// # Errors
/// See [`seal_backup_to`] and [`seal_threshold_backup`].
pub fn seal_escrow(
    target: &EscrowTarget,
    secret: &Secret,
    messages: PluginMessages,
) -> Result<String, BackupError> {
    let secrets = std::slice::from_ref(secret);
    match target {
        EscrowTarget::Plain(recipients) => {
            let armored = seal_backup_to(recipients, secrets, true, messages)?;
            String::from_utf8(armored).map_err(|_| BackupError::Malformed)
        }
        EscrowTarget::Threshold { holders, threshold } => {
            seal_threshold_backup(holders, *threshold, secrets, messages)
        }
    }
}

/// The kind and fingerprint of a key Secret (RSA or age), from the key it holds.
///
/// # Errors
/// A Secret that is not a usable key.
pub fn key_fingerprint(secret: &Secret) -> Result<(EscrowKind, Fingerprint), BackupError> {
    let not_a_key = |source| BackupError::NotAKey {
        name: secret.metadata.name_or_empty().to_owned(),
        source,
    };
    if is_age_key_secret(secret) {
        let identity = read_age_key_secret(secret).map_err(|e| not_a_key(e.into()))?;
        Ok((EscrowKind::Age, identity.fingerprint().clone()))
    } else {
        let (key, _) = read_key_secret(secret).map_err(|e| not_a_key(e.into()))?;
        Ok((EscrowKind::Rsa, key.fingerprint().clone()))
    }
}

/// `sealant-escrow-<kind>-<first 20 hex characters of the SHA-256 fingerprint>`.
pub fn escrow_name(kind: EscrowKind, fingerprint: &Fingerprint) -> String {
    let body = fingerprint
        .as_str()
        .strip_prefix("SHA256:")
        .unwrap_or_default();
    let digest = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(body)
        .unwrap_or_default();
    let hex: String = digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(NAME_HEX_CHARS)
        .collect();
    format!("{ESCROW_PREFIX}{}-{hex}", kind.as_str())
}

/// A name as the API server's `generateName` makes it: `prefix` and five random characters
/// of its alphabet. The controller names key Secrets itself when it escrows them, so the
/// escrow written first holds the exact Secret created after.
///
/// # Errors
/// The system random source failed.
pub fn generated_name(prefix: &str) -> Result<String, BackupError> {
    let mut name = String::with_capacity(prefix.len() + NAME_RANDOM_CHARS);
    name.push_str(prefix);
    let mut left = NAME_RANDOM_CHARS;
    // Rejection sampling: 243 = 9 × 27, so every character is equally likely.
    while left > 0 {
        let bytes = crate::age::random_bytes::<16>()
            .map_err(|_| crate::error::SealError::new("the system random source failed"))?;
        for b in bytes.into_iter().filter(|b| *b < 243) {
            if left == 0 {
                break;
            }
            name.push(char::from(NAME_ALPHABET[usize::from(b % 27)]));
            left -= 1;
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::age::{AgeIdentity, IdentityKind};
    use crate::backup::{ThresholdBackup, open_backup};

    fn age_key() -> (AgeIdentity, Secret) {
        let (identity, mut secret) = crate::backup::tests::new_age_key(IdentityKind::X25519);
        secret.metadata.name = Some(generated_name("sealant-age-key").unwrap());
        (identity, secret)
    }

    #[test]
    fn names_look_like_generate_name() {
        let name = generated_name("sealed-secrets-key").unwrap();
        let tail = name.strip_prefix("sealed-secrets-key").unwrap();
        assert_eq!(tail.len(), 5);
        assert!(tail.bytes().all(|b| NAME_ALPHABET.contains(&b)), "{name}");
        assert_ne!(name, generated_name("sealed-secrets-key").unwrap());
    }

    #[test]
    fn escrow_names_carry_kind_and_fingerprint() {
        let (identity, secret) = age_key();
        let (kind, fingerprint) = key_fingerprint(&secret).unwrap();
        assert_eq!(kind, EscrowKind::Age);
        assert_eq!(&fingerprint, identity.fingerprint());
        let name = escrow_name(kind, &fingerprint);
        let hex = name.strip_prefix("sealant-escrow-age-").unwrap();
        assert_eq!(hex.len(), NAME_HEX_CHARS);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let (_, other) = age_key();
        let (_, other) = key_fingerprint(&other).unwrap();
        assert_ne!(escrow_name(kind, &other), name);
    }

    #[test]
    fn plain_escrow_is_an_armored_backup_of_the_one_secret() {
        let (_, secret) = age_key();
        let offline = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let target = EscrowTarget::new(
            vec![FileRecipient::Native(offline.recipient().clone())],
            &[],
            None,
        )
        .unwrap();
        let text = seal_escrow(&target, &secret, crate::age::plugin::no_messages).unwrap();
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        let restored = open_backup(std::slice::from_ref(&offline), text.as_bytes()).unwrap();
        assert_eq!(restored.len(), 1);
        assert_eq!(restored[0].metadata.name, secret.metadata.name);
    }

    #[test]
    fn threshold_escrow_and_its_checks() {
        let ids: Vec<AgeIdentity> = (0..3)
            .map(|_| AgeIdentity::generate(IdentityKind::X25519).unwrap())
            .collect();
        let recipients: Vec<FileRecipient> = ids
            .iter()
            .map(|i| FileRecipient::Native(i.recipient().clone()))
            .collect();
        let group = format!("team={}", ids[2].recipient());
        let target = EscrowTarget::new(recipients[..2].to_vec(), &[group], Some(2)).unwrap();
        assert_eq!(target.describe(), "2 of 3 holders");
        let (_, secret) = age_key();
        let text = seal_escrow(&target, &secret, crate::age::plugin::no_messages).unwrap();
        let backup = ThresholdBackup::parse(text.as_bytes()).unwrap();
        assert_eq!(backup.threshold(), 2);
        assert!(matches!(
            EscrowTarget::new(recipients.clone(), &[], Some(4)),
            Err(EscrowSetupError::Threshold(
                ThresholdError::BadThreshold { .. }
            ))
        ));
        assert!(matches!(
            EscrowTarget::new(recipients.clone(), &["x=".to_owned()], Some(2)),
            Err(EscrowSetupError::Group { .. })
        ));
        assert_eq!(
            EscrowTarget::new(recipients, &["a=b".to_owned()], None),
            Err(EscrowSetupError::GroupWithoutThreshold)
        );
        assert!(matches!(
            parse_group("bad label=age1x"),
            Err(EscrowSetupError::Threshold(ThresholdError::BadLabel(_)))
        ));
    }
}
