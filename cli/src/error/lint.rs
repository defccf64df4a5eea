//! Errors of `sealant lint`.

use std::path::PathBuf;

use super::EXIT_USAGE;

/// Why `sealant lint` could not run (exit 2: 1 means findings).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// A path given on the command line cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Path {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl LintError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Path { source, .. } => Some(
                super::io::kind_hint(source.kind())
                    .unwrap_or("give files or directories that exist")
                    .to_owned(),
            ),
        }
    }

    /// Always 2.
    pub fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }
}
