//! Errors of key backups, their shares and restores (`keys backup|restore|share-decrypt`,
//! `unseal --backup`).

use std::path::PathBuf;

use sealant_core::age::plugin::PluginError;
use sealant_core::backup::{BackupError as Core, ThresholdError};

use super::{EXIT_FAILURE, EXIT_NOT_ENOUGH_SHARES, EXIT_USAGE, with_sources};

/// Why a backup could not be written, or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyBackupError {
    /// Writing a backup.
    #[error("{}", with_sources(source))]
    Seal {
        /// Why.
        #[source]
        source: Core,
    },
    /// Opening a backup, or one of its shares.
    #[error("{}: {}", path.display(), with_sources(source))]
    Open {
        /// The backup or share file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Core,
    },
    /// A recipient or holder given on the command line that cannot be used.
    #[error("{message}")]
    Usage {
        /// What is wrong (never key text).
        message: String,
        /// What to do.
        hint: &'static str,
    },
}

const RECIPIENT_HINT: &str = "an age recipient is age1… (X25519, e.g. from `sealant cert --age` or age-keygen), age1pq1… (post-quantum), or an age plugin's age1NAME1…";

impl KeyBackupError {
    /// A command-line problem with a hint.
    pub fn usage(message: impl Into<String>, hint: &'static str) -> Self {
        Self::Usage {
            message: message.into(),
            hint,
        }
    }

    /// A recipient problem, with the recipient hint.
    pub fn recipient(message: impl Into<String>) -> Self {
        Self::usage(message, RECIPIENT_HINT)
    }

    fn core(&self) -> Option<&Core> {
        match self {
            Self::Seal { source } | Self::Open { source, .. } => Some(source),
            Self::Usage { .. } => None,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self.core() {
            None => match self {
                Self::Usage { hint, .. } => *hint,
                _ => return None,
            },
            Some(Core::MixedRecipients(_)) => "use only age1pq1… or only age1… backup recipients",
            Some(Core::Decrypt) => {
                "give the identity of the backup's recipient (the offline key), and check the file is a `sealant keys backup` output"
            }
            Some(Core::Plugin(PluginError::NotFound { .. })) => {
                "install the age plugin for this recipient or identity and put it on PATH (docs/recovery.md)"
            }
            Some(Core::Plugin(_)) => {
                "check the hardware key or plugin is ready (plugged in, unlocked); the plugin's own message is in the error"
            }
            Some(Core::Threshold(t)) => match t {
                ThresholdError::NotEnoughShares { .. } => {
                    "gather more shares: each other holder runs `sealant keys share-decrypt` and passes you the file (--share), or give more of the holders' identities (docs/recovery.md)"
                }
                ThresholdError::ForeignShare { .. } => {
                    "this share was made for another backup: ask its holder for the share of this backup (same id)"
                }
                ThresholdError::SharesDoNotCombine => {
                    "a share file was altered or mixed up: ask the holders to run `sealant keys share-decrypt` again"
                }
                ThresholdError::IsThreshold => {
                    "open it with shares: --identity files of enough holders, or --share files (docs/recovery.md)"
                }
                ThresholdError::BadThreshold { .. } | ThresholdError::TooManyHolders(_) => {
                    "pass --threshold M with 2 <= M <= holders (each --recipient, recipients-file line and --group is a holder)"
                }
                ThresholdError::EmptyHolder(_) | ThresholdError::BadLabel(_) => {
                    "--group takes [LABEL=]RECIPIENT[,RECIPIENT…]"
                }
                ThresholdError::Malformed { .. } => {
                    "give the file `sealant keys backup --threshold` or `sealant keys share-decrypt` wrote, unchanged"
                }
                _ => return None,
            },
            Some(_) => return None,
        };
        Some(hint.to_owned())
    }

    /// [`EXIT_NOT_ENOUGH_SHARES`] when shares are missing, 2 for command-line problems, else 1.
    pub fn exit_code(&self) -> u8 {
        match self.core() {
            Some(Core::Threshold(ThresholdError::NotEnoughShares { .. })) => EXIT_NOT_ENOUGH_SHARES,
            Some(Core::Threshold(ThresholdError::BadThreshold { .. }))
            | Some(Core::Threshold(ThresholdError::TooManyHolders(_)))
            | Some(Core::Threshold(ThresholdError::BadLabel(_)))
            | None => EXIT_USAGE,
            Some(_) => EXIT_FAILURE,
        }
    }
}
