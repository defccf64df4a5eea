//! Errors of secrets and SealedSecrets from the inputs.

use sealant_core::FormatError;

/// The inputs hold no object of the kind asked for, or one that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// An input is not a valid manifest of the kind asked for.
    #[error("{origin}: {source}")]
    Malformed {
        /// `stdin` or the path.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: FormatError,
    },
    /// No Secret at all (upstream's message).
    #[error("no secrets found. Ensure the input is valid and UTF-8 encoded")]
    NoSecrets,
    /// No SealedSecret at all.
    #[error("no SealedSecret found in the input")]
    NoSealedSecrets,
    /// No SealedSecret for `inspect`.
    #[error("no SealedSecret found in the input")]
    NothingToInspect,
    /// A document that does not parse (the message never quotes the input).
    #[error("{origin}:{line}: {message}")]
    Unparsable {
        /// `stdin` or the path.
        origin: String,
        /// The line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A document of kind SealedSecret that is not a valid one.
    #[error("{origin}:{line}: {source}")]
    NotSealedSecret {
        /// `stdin` or the path.
        origin: String,
        /// The document's line.
        line: usize,
        /// Why.
        #[source]
        source: FormatError,
    },
}

impl InputError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Malformed { source, .. } => super::format_hint(source).map(str::to_owned),
            Self::NoSecrets => Some(
                "give a Secret manifest with -f FILE or on stdin, or build one: sealant seal NAME --from-literal k=v"
                    .into(),
            ),
            Self::NoSealedSecrets => {
                Some("give SealedSecret manifests with -f FILE or on stdin".into())
            }
            Self::NothingToInspect => Some(
                "give SealedSecret manifests (kind SealedSecret, apiVersion bitnami.com/v1alpha1)"
                    .into(),
            ),
            Self::Unparsable { .. } => Some("check the file is valid YAML or JSON".into()),
            Self::NotSealedSecret { .. } => Some(format!(
                "a SealedSecret needs apiVersion {} and a spec",
                sealant_core::object::SEALED_SECRET_API_VERSION
            )),
        }
    }
}
