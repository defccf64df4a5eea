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
    /// The `--merge-into` file holds no SealedSecret.
    #[error("{} holds {count} SealedSecrets; --merge-into needs one", path.display())]
    MergeTargetCount {
        /// The file.
        path: PathBuf,
        /// How many it holds.
        count: usize,
    },
    /// The `--merge-into` file holds several SealedSecrets and none is the input's.
    #[error(
        "{} holds {count} SealedSecrets and none is {wanted}",
        path.display()
    )]
    MergeTargetNoMatch {
        /// The file.
        path: PathBuf,
        /// How many it holds.
        count: usize,
        /// The input's `namespace/name` (or `name`).
        wanted: String,
    },
    /// The `--merge-into` file holds several SealedSecrets that could be the input's.
    #[error("{} holds {count} SealedSecrets named {wanted}", path.display())]
    MergeTargetAmbiguous {
        /// The file.
        path: PathBuf,
        /// How many match.
        count: usize,
        /// The input's `namespace/name` (or `name`).
        wanted: String,
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
    /// `--scope namespace-selector` without `--namespace-selector`.
    #[error("--scope namespace-selector needs --namespace-selector SELECTOR")]
    SelectorMissing,
    /// `--namespace-selector` with another `--scope`.
    #[error("--namespace-selector binds the namespace-selector scope, not --scope {0}")]
    SelectorWithScope(String),
    /// `--namespace-selector` does not parse.
    #[error("--namespace-selector: {0}")]
    Selector(#[source] sealant_core::SelectorError),
    /// `--raw` with the namespace-selector scope.
    #[error("--raw does not seal for the namespace-selector scope")]
    RawWithSelector,
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
            Self::MergeTargetNoMatch { .. } => {
                "the input's name and namespace (metadata, NAME, --name, -n) pick the document to merge into: give the ones of a SealedSecret in the file"
            }
            Self::MergeTargetAmbiguous { .. } => {
                "give the input's namespace (-n) to pick one, or keep one SealedSecret per name and namespace in the file"
            }
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
            Self::SelectorMissing => {
                "sealant seal -f secret.yaml --scope namespace-selector --namespace-selector 'team=payments'"
            }
            Self::SelectorWithScope(_) => "leave --scope out, or give --scope namespace-selector",
            Self::Selector(_) => {
                "kubectl's selector syntax: a=b, a!=b, a in (x,y), a notin (x), a, !a, joined by commas"
            }
            Self::RawWithSelector => "seal a Secret with -f FILE or NAME --from-file instead",
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
            | Self::MergeTargetCount { .. }
            | Self::MergeTargetAmbiguous { .. } => EXIT_FAILURE,
            _ => EXIT_USAGE,
        }
    }
}
