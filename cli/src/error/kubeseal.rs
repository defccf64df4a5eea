//! Errors of kubeseal mode.

use super::{CliError, EXIT_FAILURE};

/// Why a kubeseal run failed, in upstream's words where upstream has them. Every runtime error
/// exits 1 in kubeseal mode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubesealError {
    /// `--from-file` outside `--raw`.
    #[error("--from-file requires --raw")]
    FromFileWithoutRaw,
    /// `-o` names no format.
    #[error("unsupported output format: {0}")]
    OutputFormat(String),
    /// The `-f` file cannot be read.
    #[error("Could not read file specified with --secret-file: {0}")]
    SecretFile(#[source] Box<CliError>),
    /// `--validate` input that is not a SealedSecret (upstream reports it so).
    #[error("unable to decrypt sealed secret: {0}")]
    ValidateInput(#[source] Box<CliError>),
}

impl KubesealError {
    /// What the user can do about it: upstream gives no hints for these.
    pub fn hint(&self) -> Option<String> {
        None
    }

    /// 1, as upstream.
    pub fn exit_code(&self) -> u8 {
        EXIT_FAILURE
    }
}
