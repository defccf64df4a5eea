//! Errors of `sealant validate`.

/// Why validation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// The controller cannot open it (upstream's message).
    #[error("unable to decrypt sealed secret: {0}")]
    CannotDecrypt(String),
}

impl ValidateError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::CannotDecrypt(_) => Some(
                "it was sealed for another cluster or key, or its name, namespace or scope changed"
                    .to_owned(),
            ),
        }
    }
}
