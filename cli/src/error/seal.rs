//! Errors of `sealant seal` and the sealing modes of kubeseal.

use std::path::PathBuf;

use sealant_core::Scope;

use super::{EXIT_FAILURE, EXIT_USAGE};

/// Why `sealant seal` (or a sealing mode of kubeseal) refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// `--scope` names no scope.
    #[error(transparent)]
    UnknownScope(#[from] sealant_core::scope::UnknownScope),
    /// `-f FILE` and a Secret built from flags at once.
    #[error(
        "give either -f FILE or a NAME with --from-literal/--from-file/--from-env-file, not both"
    )]
    FileAndName,
    /// A Secret built from flags without a name.
    #[error("a Secret built from --from-literal/--from-file/--from-env-file needs a NAME")]
    BuiltWithoutName,
    /// `--merge-into` with more or less than one input Secret.
    #[error("--merge-into takes one input Secret, got {0}")]
    MergeInputCount(usize),
    /// The `--merge-into` file does not exist.
    #[error("{0}")]
    MergeTargetMissing(#[source] super::IoError),
    /// The `--merge-into` file is not a SealedSecret.
    #[error("--merge-into {}: {source}", path.display())]
    MergeTargetMalformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: sealant_core::FormatError,
    },
    /// The `--merge-into` file holds several SealedSecrets, or none.
    #[error("{} holds {count} SealedSecrets; --merge-into needs exactly one", path.display())]
    MergeTargetCount {
        /// The file.
        path: PathBuf,
        /// How many it holds.
        count: usize,
    },
    /// The input asks for another scope than the `--merge-into` file has.
    #[error("scope mismatch: {} is {target}, the input asks for {input}", path.display())]
    ScopeMismatch {
        /// The file.
        path: PathBuf,
        /// Its scope.
        target: Scope,
        /// The scope the input asks for.
        input: Scope,
    },
    /// The input names another Secret than the `--merge-into` file holds (`sealant seal`
    /// only; kubeseal mode takes the file's, as upstream).
    #[error("{} holds {what} {target:?}, the input names {input:?}", path.display())]
    MergeIdentityMismatch {
        /// The file.
        path: PathBuf,
        /// `name` or `namespace`.
        what: &'static str,
        /// The file's.
        target: String,
        /// The input's (its metadata, NAME, --name or -n).
        input: String,
    },
    /// `--raw` with flags it does not take.
    #[error(
        "--raw seals one value from stdin or one --from-file; it takes no NAME, -f, --from-literal or --from-env-file"
    )]
    RawWithSecretFlags,
    /// `--raw` without the namespace its scope binds to (upstream's message).
    #[error("must provide the --namespace flag with --raw and --scope {0}")]
    RawWithoutNamespace(Scope),
    /// `--raw --scope strict` without a name (upstream's message).
    #[error("must provide the --name flag with --raw and --scope strict")]
    RawWithoutName,
    /// `--raw` with several `--from-file` (upstream's message).
    #[error("must provide only one --from-file when encrypting a single item with --raw")]
    RawManyFiles,
}

impl SealError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::UnknownScope(_) => {
                "use --scope strict, --scope namespace-wide or --scope cluster-wide"
            }
            Self::FileAndName => {
                "seal a manifest with `sealant seal -f FILE`, or build one with `sealant seal NAME --from-literal KEY=VALUE`"
            }
            Self::BuiltWithoutName => "sealant seal NAME -n NAMESPACE --from-literal key=value",
            Self::MergeTargetMissing(_) => {
                "--merge-into changes an existing SealedSecret file; to create one, use -w FILE"
            }
            Self::MergeTargetMalformed { .. } => {
                "--merge-into needs an existing SealedSecret file (apiVersion bitnami.com/v1alpha1, kind SealedSecret)"
            }
            Self::ScopeMismatch { .. } => "leave --scope out to use the file's scope",
            Self::RawWithSecretFlags => {
                "sealant seal --raw --name NAME -n NAMESPACE --from-file value.txt"
            }
            Self::RawWithoutName => {
                "or seal for any name in the namespace with --scope namespace-wide"
            }
            Self::RawManyFiles => {
                "seal each value with its own --raw run, or build a Secret: sealant seal NAME --from-file …"
            }
            Self::MergeIdentityMismatch { what, .. } => {
                return Some(format!(
                    "the merged items would be sealed for the file's {what}, not the input's: merge into the file of that Secret, or change the input's {what}"
                ));
            }
            Self::MergeInputCount(_)
            | Self::MergeTargetCount { .. }
            | Self::RawWithoutNamespace(_) => {
                return None;
            }
        };
        Some(hint.to_owned())
    }

    /// The exit code: 2 for flags that do not fit together, 1 for files that do not.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::MergeTargetMissing(_)
            | Self::MergeTargetMalformed { .. }
            | Self::MergeTargetCount { .. } => EXIT_FAILURE,
            _ => EXIT_USAGE,
        }
    }
}
