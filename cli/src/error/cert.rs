//! Errors of `sealant cert`.

use super::{EXIT_FAILURE, EXIT_USAGE};

/// Why `sealant cert` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// `--age` asks the controller, so a `--cert` makes no sense with it.
    #[error("--age asks the controller for its recipient; it takes no --cert")]
    AgeWithCert,
    /// The controller has no age key to publish.
    #[error("the controller {namespace}/{name} publishes no age recipient")]
    NoAgeRecipient {
        /// The controller's namespace.
        namespace: String,
        /// The controller's name.
        name: String,
    },
}

impl CertError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(
            match self {
                Self::AgeWithCert => "drop --cert (or unset SEALED_SECRETS_CERT)",
                Self::NoAgeRecipient { .. } => {
                    "it is an upstream or older controller, or runs with --age-keys=false: seal for it with its certificate (sealant cert -w FILE, then --cert FILE)"
                }
            }
            .to_owned(),
        )
    }

    /// 2 for the flags, 1 for the controller.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::AgeWithCert => EXIT_USAGE,
            Self::NoAgeRecipient { .. } => EXIT_FAILURE,
        }
    }
}
