//! Errors of secrets built from `--from-literal`, `--from-file`, `--from-env-file`.

use super::EXIT_USAGE;

/// The note in messages about lines that are not shown.
const NOT_SHOWN: &str = "the line is not shown: it may hold a secret";

/// The variable that lists, by name, the environment variables a generator may read
/// (docs/workflow.md). Only the user's environment sets it: a kustomization cannot.
pub const ALLOW_ENV_VAR: &str = "SEALANT_ALLOW_ENV";

/// A Secret cannot be built from the flags. Messages never show a value, nor a key that may
/// be part of one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiteralError {
    /// A `--from-literal` without `=` (not shown: it may be the value alone).
    #[error("invalid --from-literal \"…\": expected KEY=VALUE")]
    LiteralWithoutEquals,
    /// `--from-file KEY=DIR`.
    #[error("--from-file {0}: a directory cannot take a KEY=")]
    DirectoryWithKey(String),
    /// `--from-file PATH` whose path has no file name.
    #[error("--from-file {0}: cannot derive a key from this path")]
    NoKeyFromPath(String),
    /// An env file line that is neither `KEY=VALUE` nor a bare key.
    #[error("{origin}: expected KEY=VALUE ({NOT_SHOWN})")]
    NotKeyValue {
        /// `file:line`.
        origin: String,
    },
    /// A bare `KEY` line the generator may not look up.
    #[error(
        "{origin}: a line without \"=\" would take its value from the environment, which a generator reads only for the variables you allow ({NOT_SHOWN})"
    )]
    EnvNotAllowed {
        /// `file:line`.
        origin: String,
    },
    /// A bare `KEY` line whose variable is not set.
    #[error(
        "{origin}: a line without \"=\" takes its value from the environment variable of that name, which is not set ({NOT_SHOWN})"
    )]
    EnvNotSet {
        /// `file:line`.
        origin: String,
    },
    /// A key Kubernetes does not accept; `key` is there only when it cannot be a value.
    #[error(
        "{}: keys may only contain letters, digits, '-', '_' and '.'",
        match key {
            Some(key) => format!("invalid key {key:?} ({origin})"),
            None => format!("invalid key in {origin} (not shown: it may be part of a value)"),
        }
    )]
    InvalidKey {
        /// The key, when it is safe to show.
        key: Option<String>,
        /// Where it was given.
        origin: String,
    },
    /// The same key twice; `key` is there only when it cannot be a value.
    #[error(
        "{}",
        match key {
            Some(key) => format!("key {key:?} is given twice ({origin})"),
            None => format!("a key is given twice ({origin}; {NOT_SHOWN})"),
        }
    )]
    DuplicateKey {
        /// The key, when it is safe to show.
        key: Option<String>,
        /// Where it was given.
        origin: String,
    },
}

impl LiteralError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::LiteralWithoutEquals => {
                "write --from-literal KEY=VALUE, e.g. --from-literal user=app"
            }
            Self::NotKeyValue { .. } => {
                "env files hold KEY=VALUE lines; a bare KEY takes its value from the environment"
            }
            Self::EnvNotAllowed { .. } => {
                return Some(format!(
                    "write KEY=VALUE in the env file, or allow that variable for this build: {ALLOW_ENV_VAR}=NAME[,NAME…] kustomize build … (see docs/workflow.md)"
                ));
            }
            Self::EnvNotSet { .. } => "export the variable, or write KEY=VALUE in the env file",
            Self::InvalidKey { .. } => {
                "choose another key; a file's key can be set with --from-file KEY=PATH"
            }
            Self::DuplicateKey { .. } => {
                "each key may appear once across --from-literal, --from-file and --from-env-file"
            }
            Self::DirectoryWithKey(_) | Self::NoKeyFromPath(_) => return None,
        };
        Some(hint.to_owned())
    }

    /// Always 2: the flags are wrong.
    pub fn exit_code(&self) -> u8 {
        EXIT_USAGE
    }
}
