//! User-facing errors: `error: …` plus, where there is a likely fix, `hint: …`.
//!
//! Exit codes (also in README.md and `sealant --help`):
//! - 0: success
//! - 1: failure (bad input, cannot decrypt, I/O, cluster or controller errors)
//! - 2: usage error (unknown flag, missing or conflicting arguments), or a refusal by a safety
//!   check (`keys retire` while something may still need the key)

use std::fmt;

/// Success.
pub const EXIT_SUCCESS: u8 = 0;
/// Any failure while doing the work.
pub const EXIT_FAILURE: u8 = 1;
/// The command line itself is wrong.
pub const EXIT_USAGE: u8 = 2;
/// A safety check refused the command and nothing was changed (`sealant keys retire` while
/// something may still need the key); `--force` overrides it. Same code as a usage error: the
/// command, as given, is not one to run.
pub const EXIT_REFUSED: u8 = 2;

/// An error for the user: what went wrong, what to do, and the exit code.
#[derive(Debug)]
pub struct CliError {
    message: String,
    hint: Option<String>,
    exit_code: u8,
}

/// Result alias for the CLI.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// A failure (exit code 1).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code: EXIT_FAILURE,
        }
    }

    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code: EXIT_USAGE,
        }
    }

    /// A refusal by a safety check (exit code [`EXIT_REFUSED`]): nothing was changed.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code: EXIT_REFUSED,
        }
    }

    /// Adds what the user can do about it.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a hint only if there is none yet.
    #[must_use]
    pub fn hint_if_none(self, hint: impl Into<String>) -> Self {
        if self.hint.is_some() {
            self
        } else {
            self.hint(hint)
        }
    }

    /// Prefixes the message with where it happened (`reading secret.yaml: …`).
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The same error with another exit code: `lint` and `diff` exit 1 for findings and
    /// differences, so their errors exit 2, as grep's and diff's do.
    #[must_use]
    pub fn with_exit_code(mut self, exit_code: u8) -> Self {
        self.exit_code = exit_code;
        self
    }

    /// The message without prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CliError {}

/// Something that can be turned into a [`CliError`] with a hint chosen for it.
pub(crate) trait Hinted {
    fn into_cli(self) -> CliError;
}

impl Hinted for sealant_core::FormatError {
    fn into_cli(self) -> CliError {
        use sealant_core::FormatError as E;
        let hint = match &self {
            E::Malformed { .. } => {
                "check the file is valid YAML or JSON (kubectl create secret ... --dry-run=client -o yaml shows the expected shape)"
            }
            E::WrongKind { .. } => "give a file of the kind this command expects",
            E::DataBase64 { .. } => {
                "values under `data` must be base64; put plain text under `stringData` instead"
            }
            _ => "",
        };
        let err = CliError::new(self.to_string());
        if hint.is_empty() { err } else { err.hint(hint) }
    }
}

impl Hinted for sealant_core::KeyError {
    fn into_cli(self) -> CliError {
        use sealant_core::KeyError as E;
        let hint = match &self {
            E::Expired { .. } => Some(
                "fetch the controller's current certificate with `sealant cert`, or pass a newer one with --cert",
            ),
            E::NotRsaPublicKey(_) | E::NoPemBlock { .. } | E::Certificate(_) | E::Pem(_) => {
                Some("--cert must be the controller's PEM certificate (what `sealant cert` prints)")
            }
            E::NotRsaPrivateKey(_) | E::MalformedPrivateKey => Some(
                "give the controller's private key: a PEM RSA key or a key Secret (kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml)",
            ),
            E::UnsupportedKeySize { .. } => {
                Some("sealant works with RSA keys of 2048 to 8192 bits")
            }
            _ => None,
        };
        let err = CliError::new(self.to_string());
        match hint {
            Some(hint) => err.hint(hint),
            None => err,
        }
    }
}

impl Hinted for sealant_core::SealingError {
    fn into_cli(self) -> CliError {
        use sealant_core::SealingError as E;
        let hint = match &self {
            E::EmptyData => {
                Some("add items with --from-literal/--from-file, or pass --allow-empty-data")
            }
            E::MissingName => Some("set metadata.name in the Secret, or pass --name"),
            E::NamespaceMismatch { .. } => {
                Some("drop -n, or change metadata.namespace in the input to match")
            }
            E::MissingNamespace => {
                Some("pass -n NAMESPACE, set metadata.namespace, or use --scope cluster-wide")
            }
            E::MixedRecipients(_) => Some(
                "seal for age1pq1… recipients only (no --cert, no age1… recipient), or drop the post-quantum ones",
            ),
            E::AnnotationsTooLarge { .. } => Some(
                "use --layout combined (no annotation), or split the Secret into several SealedSecrets",
            ),
            _ => None,
        };
        let err = CliError::new(self.to_string());
        match hint {
            Some(hint) => err.hint(hint),
            None => err,
        }
    }
}

impl Hinted for sealant_core::UnsealError {
    fn into_cli(self) -> CliError {
        use sealant_core::UnsealError as E;
        let message = self.to_string();
        let hint = match &self {
            E::V1Rejected => {
                "this SealedSecret uses the pre-0.7 `spec.data` format: pass --accept-deprecated-v1-data to open it"
            }
            _ if message.contains("no key could decrypt secret") => {
                "the keys given cannot open this SealedSecret: check it was sealed for this cluster, and that its name, namespace and scope were not changed"
            }
            _ if message.contains("template") => {
                "fix spec.template.data: Go text/template syntax with the functions listed in docs/templates.md"
            }
            _ => "",
        };
        let err = CliError::new(message);
        if hint.is_empty() { err } else { err.hint(hint) }
    }
}

impl Hinted for std::io::Error {
    fn into_cli(self) -> CliError {
        CliError::new(self.to_string())
    }
}

/// An error's message followed by its sources (`line 3: invalid age recipient: …`), for core
/// errors that keep the detail in their source chain. They never carry key text.
pub(crate) fn with_sources(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Turns an I/O error about `path` into a CLI error naming it.
pub(crate) fn io_error(action: &str, path: &std::path::Path, err: std::io::Error) -> CliError {
    let base = CliError::new(format!("{action} {}: {err}", path.display()));
    match err.kind() {
        std::io::ErrorKind::NotFound => base.hint("check the path"),
        std::io::ErrorKind::PermissionDenied => base.hint("check the file's permissions"),
        std::io::ErrorKind::IsADirectory => base.hint("give a file, not a directory"),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_error_and_hint_lines() {
        let err = CliError::new("bad thing").hint("do this");
        assert_eq!(err.to_string(), "error: bad thing\nhint: do this");
        assert_eq!(err.exit_code(), EXIT_FAILURE);
        assert_eq!(CliError::usage("x").exit_code(), EXIT_USAGE);
        assert_eq!(
            CliError::new("m").context("reading f").message(),
            "reading f: m"
        );
    }
}
