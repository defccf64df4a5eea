//! Errors of `sealant reencrypt`.

use std::path::PathBuf;

use super::{EXIT_FAILURE, EXIT_USAGE};

/// Why `sealant reencrypt` failed (every error exits 2: 1 means stale with `--check`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReencryptError {
    /// `--check`/`--dry-run` on stdin.
    #[error("--check and --dry-run need PATHs")]
    CheckWithoutPaths,
    /// Offline re-encryption without the old keys.
    #[error("--cert needs --private-key: offline re-encryption opens the items with the old keys")]
    CertWithoutKey,
    /// `--private-key` files without an RSA key.
    #[error("--private-key gave no RSA private key")]
    NoRsaKey,
    /// No SealedSecret under the paths.
    #[error("no SealedSecret found in the given paths")]
    NoSealedSecrets,
    /// A SealedSecret the offline keys cannot re-encrypt.
    #[error("cannot re-encrypt {name}: {source}")]
    Rotate {
        /// Its name.
        name: String,
        /// Why.
        #[source]
        source: sealant_core::rotate::RotateError,
    },
    /// A file that is not YAML or JSON.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
        /// The parser's message (never quotes the input).
        message: String,
    },
    /// A document of kind SealedSecret that is not a valid one.
    #[error("{}:{line}: {source}", path.display())]
    NotSealedSecret {
        /// The file.
        path: PathBuf,
        /// The document's line.
        line: usize,
        /// Why.
        #[source]
        source: sealant_core::FormatError,
    },
    /// A re-encrypted SealedSecret cannot be rendered.
    #[error("cannot encode SealedSecret: {0}")]
    Encode(#[source] sealant_core::FormatError),
    /// The controller's `/v1/rotate` answer is not JSON.
    #[error("cannot re-encrypt secret: the controller's answer is not JSON: {0}")]
    AnswerNotJson(#[source] serde_json::Error),
}

impl ReencryptError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::CheckWithoutPaths => {
                "name the files or directories: sealant reencrypt --check PATH…"
            }
            Self::CertWithoutKey => {
                "give the old keys with --private-key FILE, or drop --cert to ask the controller"
            }
            Self::NoRsaKey => "give PEM RSA private keys or key Secrets holding tls.key",
            Self::NoSealedSecrets => {
                "reencrypt reads SealedSecret documents in *.yaml, *.yml and *.json files"
            }
            Self::Rotate { .. } => {
                "the --private-key keys do not open it, or it was renamed or moved after sealing"
            }
            Self::Parse { .. } => "check the file is valid YAML or JSON",
            Self::NotSealedSecret { .. } | Self::Encode(_) | Self::AnswerNotJson(_) => {
                return None;
            }
        };
        Some(hint.to_owned())
    }

    /// 2 for flags that do not fit, 1 for the rest; `reencrypt` reports every error with 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::CheckWithoutPaths | Self::CertWithoutKey | Self::NoRsaKey => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }
}
