//! Errors of offline recovery.

use std::path::PathBuf;

use super::{EXIT_FAILURE, with_sources};

/// Why offline recovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsealError {
    /// A `--recovery-private-key` file holds no usable key.
    #[error("{}: {source}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why its keys cannot be read (upstream's formats' error).
        #[source]
        source: sealant_core::keysecret::RecoveryKeyError,
    },
    /// A `--backup` file opened but holds no usable key Secrets.
    #[error("{}: {}", path.display(), with_sources(source))]
    Backup {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: sealant_core::backup::BackupError,
    },
    /// A SealedSecret that does not open with the keys given. Crypto failures stay the one
    /// opaque core message.
    #[error("{name}: {source}")]
    Open {
        /// `namespace/name`.
        name: String,
        /// Why.
        #[source]
        source: sealant_core::UnsealError,
        /// Whether the SealedSecret has template data (the likely culprit once every item
        /// opened).
        has_templates: bool,
    },
}

impl UnsealError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        use sealant_core::UnsealError as Core;
        let hint = match self {
            Self::KeyFile { .. } => {
                "give a PEM RSA private key, a key Secret (YAML/JSON), a List of key Secrets, or an age identity file"
            }
            Self::Backup { .. } => return None,
            Self::Open {
                source,
                has_templates,
                ..
            } => match source {
                Core::V1Rejected => {
                    "this SealedSecret uses the pre-0.7 `spec.data` format: pass --accept-deprecated-v1-data to open it"
                }
                Core::Items(items) if items.no_key_opened() => {
                    "the keys given cannot open this SealedSecret: check it was sealed for this cluster, and that its name, namespace and scope were not changed"
                }
                Core::Items(_) if *has_templates => {
                    "fix spec.template.data: Go text/template syntax with the functions listed in docs/templates.md"
                }
                _ => return None,
            },
        };
        Some(hint.to_owned())
    }

    /// Always 1: the inputs or keys do not fit.
    pub fn exit_code(&self) -> u8 {
        EXIT_FAILURE
    }
}
