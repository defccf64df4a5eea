//! Errors of `sealant keys protect|unprotect`, and of unwrapping protected keys for `keys
//! backup` (docs/key-protection.md).

use sealant_k8s::KubeError;
use sealant_kms::ErrorKind;

use super::{EXIT_FAILURE, EXIT_REFUSED, EXIT_USAGE};

/// Why protecting or unprotecting keys failed. Texts name key Secrets, fingerprints, providers
/// and KEK ids, never key material or credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProtectionError {
    /// The provider options are missing or malformed.
    #[error(transparent)]
    Settings(#[from] sealant_kms::SettingsError),
    /// No provider given, but one is needed.
    #[error("{0} protected key(s) found: unwrapping them needs the HSM or KMS that wrapped them")]
    NoProvider(usize),
    /// `keys protect` without a backup.
    #[error("refusing to protect keys without a fresh backup")]
    NoBackup,
    /// The `--backup` file lacks keys that are in the namespace.
    #[error("the backup does not hold {} key(s) now in the namespace: {}", .0.len(), .0.join(", "))]
    BackupIncomplete(Vec<String>),
    /// Connecting to the provider, or a call, failed.
    #[error(transparent)]
    Provider(#[from] sealant_kms::KmsError),
    /// One key could not be wrapped or unwrapped.
    #[error("Secret {secret}: {source}")]
    Key {
        /// The key Secret.
        secret: String,
        /// Why.
        #[source]
        source: sealant_kms::ProtectError,
    },
    /// The wrapped key did not unwrap to the same key: not written.
    #[error("Secret {0}: the wrapped key does not unwrap to the same key; nothing was written")]
    Verify(String),
    /// Writing a key Secret failed.
    #[error("cannot update Secret {secret}: {source}")]
    Write {
        /// The key Secret.
        secret: String,
        /// The API server's answer (boxed: kube errors are large).
        #[source]
        source: Box<KubeError>,
    },
}

impl KeyProtectionError {
    fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::Provider(err) => Some(err.kind()),
            Self::Key {
                source: sealant_kms::ProtectError::Kms(err),
                ..
            } => Some(err.kind()),
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Settings(_) => {
                "give --key-protection pkcs11 (with --pkcs11-module, --pkcs11-token-label, --pkcs11-pin-file, --pkcs11-kek-label) or aws-kms (with --aws-kms-region, --aws-kms-key-id)"
            }
            Self::NoProvider(_) => {
                "pass the controller's key protection settings (--key-protection and the provider's options)"
            }
            Self::NoBackup => {
                "make one first: `sealant keys backup --recipient age1… -w keys.age`, then pass --backup keys.age --identity FILE (or --i-have-a-backup)"
            }
            Self::BackupIncomplete(_) => {
                "the backup is older than these keys: make a new one with `sealant keys backup`"
            }
            Self::Write { source, .. } if source.is_conflict() => {
                "the key Secret changed meanwhile (nothing was overwritten): run the command again"
            }
            Self::Write { .. } => "this needs `update` on Secrets in the controller namespace",
            Self::Verify(_) => "check the HSM or KMS; the key Secret is unchanged",
            _ => match self.kind()? {
                ErrorKind::Unreachable => {
                    "the HSM or KMS cannot be reached: check the module path, the token, the endpoint and the network"
                }
                ErrorKind::Auth => "check the PIN (file) or the AWS credentials",
                ErrorKind::KekMissing => {
                    "the key-encryption key is not there: check --pkcs11-kek-label / --aws-kms-key-id, or whether it was deleted or disabled"
                }
                ErrorKind::Config => {
                    "check the provider settings and the key-encryption key (AES-256, non-extractable)"
                }
                _ => return None,
            },
        };
        Some(hint.to_owned())
    }

    /// 2 for bad options and for the backup refusal (nothing changed), else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Settings(_) => EXIT_USAGE,
            Self::NoBackup | Self::BackupIncomplete(_) => EXIT_REFUSED,
            _ => EXIT_FAILURE,
        }
    }
}
