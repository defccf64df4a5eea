//! User-facing errors: `error: …` plus, where there is a likely fix, `hint: …`.
//!
//! Each operation has its own error enum, in a file of its own here (`IoError`, `ClusterError`,
//! `SealError`, `DiffError`, …; each command module re-exports its own). Every variant carries
//! its message (`Display`), its source where there is an underlying error, its hint and its
//! exit code; [`CliError`] is the union the commands return, and [`CliError::render`] prints
//! it. The enums live here, not beside their commands, so that this module depends on no
//! command module: the commands depend on it. Messages already include
//! the detail of their source: only the top message is printed, and `source()` is kept for
//! callers that look at the cause by type.
//!
//! Exit codes (also in README.md and `sealant --help`):
//! - 0: success
//! - 1: failure (bad input, cannot decrypt, I/O, cluster or controller errors)
//! - 2: usage error (unknown flag, missing or conflicting arguments), or a refusal by a safety
//!   check (`keys retire` while something may still need the key)
//! - 3: an m-of-n backup got fewer shares than its threshold (docs/recovery.md)

use std::fmt;

use sealant_core::{FormatError, KeyError, SealingError};

mod backup;
mod cert;
mod certsrc;
mod cluster;
mod diff;
mod inputs;
mod io;
mod keyprotect;
mod kubeseal;
mod kustomize;
mod lint;
mod literal;
mod reencrypt;
mod seal;
mod unseal;
mod validate;

pub use backup::KeyBackupError;
pub use cert::CertError;
pub use certsrc::CertSourceError;
pub use cluster::ClusterError;
pub use diff::DiffError;
pub use inputs::InputError;
pub use io::IoError;
pub use keyprotect::KeyProtectionError;
pub use kubeseal::KubesealError;
pub use kustomize::{GENERATOR_API_VERSION, GENERATOR_KIND, KustomizeError};
pub use lint::LintError;
pub use literal::{ALLOW_ENV_VAR, LiteralError};
pub use reencrypt::ReencryptError;
pub use seal::SealError;
pub use unseal::UnsealError;
pub use validate::ValidateError;

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
/// An m-of-n key backup got fewer shares than its threshold: nothing was restored, and more
/// holders are needed (docs/recovery.md).
pub const EXIT_NOT_ENOUGH_SHARES: u8 = 3;

/// Result alias for the CLI.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Any error a command reports: one variant per operation, each with its own hints and exit
/// codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Reading inputs, writing outputs.
    #[error(transparent)]
    Io(#[from] IoError),
    /// Kubeconfig, API server and controller.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Loading the sealing certificate.
    #[error(transparent)]
    CertSource(#[from] CertSourceError),
    /// `sealant cert`.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// Reading Secrets and SealedSecrets from the inputs.
    #[error(transparent)]
    Input(#[from] InputError),
    /// `--from-literal`, `--from-file`, `--from-env-file`.
    #[error(transparent)]
    Literal(#[from] LiteralError),
    /// `sealant seal`.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// `sealant unseal` and offline recovery.
    #[error(transparent)]
    Unseal(#[from] UnsealError),
    /// Key backups and their shares.
    #[error(transparent)]
    KeyBackup(#[from] KeyBackupError),
    /// `sealant validate`.
    #[error(transparent)]
    Validate(#[from] ValidateError),
    /// `sealant reencrypt`.
    #[error(transparent)]
    Reencrypt(#[from] ReencryptError),
    /// `sealant diff`.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// `sealant lint`.
    #[error(transparent)]
    Lint(#[from] LintError),
    /// The kustomize generator.
    #[error(transparent)]
    Kustomize(#[from] KustomizeError),
    /// kubeseal mode.
    #[error(transparent)]
    Kubeseal(#[from] KubesealError),
    /// `sealant keys protect|unprotect`, unwrapping for `keys backup`.
    #[error(transparent)]
    KeyProtection(#[from] KeyProtectionError),
    /// A manifest that cannot be read or written.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A key or certificate that cannot be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A Secret that cannot be sealed.
    #[error(transparent)]
    Sealing(#[from] SealingError),
    /// An error built from text (by [`CliError::new`], [`CliError::usage`],
    /// [`CliError::refused`]): `sealant keys` still reports this way.
    #[error("{message}")]
    Message {
        /// What went wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
        /// The process exit code.
        exit_code: u8,
    },
    /// Another error with a hint its caller chose.
    #[error("{error}")]
    Hinted {
        /// The error.
        #[source]
        error: Box<CliError>,
        /// What to do about it.
        hint: String,
    },
    /// Another error with where it happened in front (`reading secret.yaml: …`).
    #[error("{context}: {error}")]
    Context {
        /// Where it happened.
        context: String,
        /// The error.
        #[source]
        error: Box<CliError>,
    },
}

impl CliError {
    /// A failure (exit code 1) described by text.
    pub fn new(message: impl Into<String>) -> Self {
        Self::text(message, EXIT_FAILURE)
    }

    /// A usage error (exit code 2) described by text.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::text(message, EXIT_USAGE)
    }

    /// A refusal by a safety check (exit code [`EXIT_REFUSED`]): nothing was changed.
    pub fn refused(message: impl Into<String>) -> Self {
        Self::text(message, EXIT_REFUSED)
    }

    fn text(message: impl Into<String>, exit_code: u8) -> Self {
        Self::Message {
            message: message.into(),
            hint: None,
            exit_code,
        }
    }

    /// Adds (or replaces) what the user can do about it.
    #[must_use]
    pub fn hint(self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        match self {
            Self::Message {
                message, exit_code, ..
            } => Self::Message {
                message,
                hint: Some(hint),
                exit_code,
            },
            error => Self::Hinted {
                error: Box::new(error),
                hint,
            },
        }
    }

    /// Prefixes the message with where it happened (`reading secret.yaml: …`).
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self::Context {
            context: context.to_string(),
            error: Box::new(self),
        }
    }

    /// The message without prefix.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The hint, if any.
    pub fn hint_text(&self) -> Option<String> {
        match self {
            Self::Io(e) => e.hint(),
            Self::Cluster(e) => e.hint(),
            Self::CertSource(e) => e.hint(),
            Self::Cert(e) => e.hint(),
            Self::Input(e) => e.hint(),
            Self::Literal(e) => e.hint(),
            Self::Seal(e) => e.hint(),
            Self::Unseal(e) => e.hint(),
            Self::KeyBackup(e) => e.hint(),
            Self::Validate(e) => e.hint(),
            Self::Reencrypt(e) => e.hint(),
            Self::Diff(e) => e.hint(),
            Self::Lint(e) => e.hint(),
            Self::Kustomize(e) => e.hint(),
            Self::Kubeseal(e) => e.hint(),
            Self::KeyProtection(e) => e.hint(),
            Self::Format(e) => format_hint(e).map(str::to_owned),
            Self::Key(e) => key_hint(e).map(str::to_owned),
            Self::Sealing(e) => sealing_hint(e).map(str::to_owned),
            Self::Message { hint, .. } => hint.clone(),
            Self::Hinted { hint, .. } => Some(hint.clone()),
            Self::Context { error, .. } => error.hint_text(),
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Io(_) | Self::Format(_) | Self::Key(_) | Self::Sealing(_) => EXIT_FAILURE,
            Self::Cluster(e) => e.exit_code(),
            Self::CertSource(e) => e.exit_code(),
            Self::Input(_) | Self::Validate(_) => EXIT_FAILURE,
            Self::Cert(e) => e.exit_code(),
            Self::Literal(e) => e.exit_code(),
            Self::Seal(e) => e.exit_code(),
            Self::Unseal(e) => e.exit_code(),
            Self::KeyBackup(e) => e.exit_code(),
            Self::Reencrypt(e) => e.exit_code(),
            Self::Diff(e) => e.exit_code(),
            Self::Lint(e) => e.exit_code(),
            Self::Kustomize(_) => EXIT_FAILURE,
            Self::Kubeseal(e) => e.exit_code(),
            Self::KeyProtection(e) => e.exit_code(),
            Self::Message { exit_code, .. } => *exit_code,
            Self::Hinted { error, .. } | Self::Context { error, .. } => error.exit_code(),
        }
    }

    /// What the user sees: `error: …`, then `hint: …` when there is one.
    pub fn render(&self) -> String {
        match self.hint_text() {
            Some(hint) => format!("error: {self}\nhint: {hint}"),
            None => format!("error: {self}"),
        }
    }
}

/// Hints for the core errors the commands pass on as they are.
pub(crate) fn format_hint(err: &FormatError) -> Option<&'static str> {
    match err {
        FormatError::Malformed { .. } => Some(
            "check the file is valid YAML or JSON (kubectl create secret ... --dry-run=client -o yaml shows the expected shape)",
        ),
        FormatError::WrongKind { .. } => Some("give a file of the kind this command expects"),
        FormatError::DataBase64 { .. } => {
            Some("values under `data` must be base64; put plain text under `stringData` instead")
        }
        _ => None,
    }
}

/// See [`format_hint`].
pub(crate) fn key_hint(err: &KeyError) -> Option<&'static str> {
    match err {
        KeyError::Expired { .. } => Some(
            "fetch the controller's current certificate with `sealant cert`, or pass a newer one with --cert",
        ),
        KeyError::NotRsaPublicKey(_)
        | KeyError::NoPemBlock { .. }
        | KeyError::Certificate(_)
        | KeyError::Pem(_) => {
            Some("--cert must be the controller's PEM certificate (what `sealant cert` prints)")
        }
        KeyError::NotRsaPrivateKey(_) | KeyError::MalformedPrivateKey => Some(
            "give the controller's private key: a PEM RSA key or a key Secret (kubectl get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml)",
        ),
        KeyError::UnsupportedKeySize { .. } => {
            Some("sealant works with RSA keys of 2048 to 8192 bits")
        }
        _ => None,
    }
}

/// See [`format_hint`].
pub(crate) fn sealing_hint(err: &SealingError) -> Option<&'static str> {
    match err {
        SealingError::EmptyData => {
            Some("add items with --from-literal/--from-file, or pass --allow-empty-data")
        }
        SealingError::MissingName => Some("set metadata.name in the Secret, or pass --name"),
        SealingError::NamespaceMismatch { .. } => {
            Some("drop -n, or change metadata.namespace in the input to match")
        }
        SealingError::MissingNamespace => {
            Some("pass -n NAMESPACE, set metadata.namespace, or use --scope cluster-wide")
        }
        SealingError::MixedRecipients(_) => Some(
            "seal for age1pq1… recipients only (no --cert, no age1… recipient), or drop the post-quantum ones",
        ),
        SealingError::AnnotationsTooLarge { .. } => Some(
            "use --layout combined (no annotation), or split the Secret into several SealedSecrets",
        ),
        _ => None,
    }
}

/// The old way to turn a core error into a [`CliError`]; `sealant keys` still uses it. New
/// code converts with `?` or `CliError::from`.
pub(crate) trait Hinted {
    fn into_cli(self) -> CliError;
}

impl<E: Into<CliError>> Hinted for E {
    fn into_cli(self) -> CliError {
        self.into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_has_error_and_hint_lines() {
        let err = CliError::new("bad thing").hint("do this");
        assert_eq!(err.render(), "error: bad thing\nhint: do this");
        assert_eq!(err.exit_code(), EXIT_FAILURE);
        assert_eq!(CliError::usage("x").exit_code(), EXIT_USAGE);
        assert_eq!(
            CliError::new("m").context("reading f").message(),
            "reading f: m"
        );
    }

    #[test]
    fn typed_errors_keep_their_code_through_context_and_hint() {
        let err = CliError::from(SealError::FileAndName)
            .context("somewhere")
            .hint("another hint");
        assert_eq!(err.exit_code(), EXIT_USAGE);
        assert_eq!(err.hint_text().as_deref(), Some("another hint"));
        assert!(
            err.render()
                .starts_with("error: somewhere: give either -f FILE")
        );
    }

    #[test]
    fn unseal_hints_follow_the_core_error_not_its_text() {
        use sealant_core::sealing::ItemErrors;
        let items = |message: String| {
            let mut errors = ItemErrors::default();
            if message == sealant_core::DecryptError.to_string() {
                errors.undecryptable.insert("password".into());
            }
            errors.by_message.insert(message, vec!["password".into()]);
            sealant_core::UnsealError::Items(errors)
        };
        let open = |source, has_templates| {
            CliError::from(UnsealError::Open {
                name: "ns/db".into(),
                source,
                has_templates,
            })
        };
        let no_key = open(items(sealant_core::DecryptError.to_string()), true);
        assert_eq!(no_key.exit_code(), EXIT_FAILURE);
        assert!(
            no_key
                .message()
                .starts_with("ns/db: no key could decrypt secret")
        );
        assert!(
            no_key
                .hint_text()
                .unwrap()
                .contains("cannot open this SealedSecret")
        );
        // Decided by the typed set, not the text.
        let mut typed = ItemErrors::default();
        typed.undecryptable.insert("password".into());
        typed
            .by_message
            .insert("reworded".into(), vec!["password".into()]);
        let typed = open(sealant_core::UnsealError::Items(typed), false);
        assert!(
            typed
                .hint_text()
                .unwrap()
                .contains("cannot open this SealedSecret")
        );
        let template = open(items("template: undefined function".into()), true);
        assert!(template.hint_text().unwrap().contains("docs/templates.md"));
        assert_eq!(open(items("other".into()), false).hint_text(), None);
        let v1 = open(sealant_core::UnsealError::V1Rejected, false);
        assert!(
            v1.hint_text()
                .unwrap()
                .contains("--accept-deprecated-v1-data")
        );
    }
}
