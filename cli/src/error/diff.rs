//! Errors of `sealant diff`.

use std::path::PathBuf;

use super::{EXIT_FAILURE, EXIT_USAGE};

/// Why `sealant diff` could not compare (every one exits 2: 1 means differences).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// Not two files, without `--git`.
    #[error("diff compares two files, got {0}")]
    FileCount(usize),
    /// A side read as nothing at all.
    #[error("no input")]
    NoInput,
    /// git cannot be run.
    #[error("cannot run git: {0}")]
    Git(#[source] std::io::Error),
    /// `--git REV` names no commit here.
    #[error("{0:?} is not a git revision here")]
    NotARevision(String),
    /// `git diff --name-only` failed.
    #[error("git diff --name-only {rev} failed: {stderr}")]
    GitDiff {
        /// The revision.
        rev: String,
        /// What git said.
        stderr: String,
    },
    /// A file outside the directory `--git` runs in.
    #[error("{} is outside the current directory", .0.display())]
    OutsideCurrentDir(PathBuf),
    /// The file at the revision is not text.
    #[error("{0} is not UTF-8 text")]
    NotUtf8(String),
    /// A file that exists on neither side.
    #[error("{} exists neither in the working tree nor at {rev}", path.display())]
    Absent {
        /// The file.
        path: PathBuf,
        /// The revision.
        rev: String,
    },
    /// Two files named on the command line without a SealedSecret between them.
    #[error("no SealedSecret in {old} or {new}")]
    NoSealedSecrets {
        /// The old side.
        old: String,
        /// The new side.
        new: String,
    },
}

impl DiffError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::FileCount(_) => {
                "sealant diff OLD NEW, or sealant diff --git REV [FILE…] to compare with git"
            }
            Self::Git(_) => {
                "--git needs git on PATH; without it, compare two files: sealant diff OLD NEW"
            }
            Self::NotARevision(_) => {
                "run inside the repository, with a commit, branch or tag (HEAD, main, HEAD~1)"
            }
            Self::OutsideCurrentDir(_) => {
                "run sealant diff --git from a directory that contains the file"
            }
            Self::NoSealedSecrets { .. } => {
                "diff compares SealedSecret manifests (kind SealedSecret)"
            }
            Self::NoInput | Self::GitDiff { .. } | Self::NotUtf8(_) | Self::Absent { .. } => {
                return None;
            }
        };
        Some(hint.to_owned())
    }

    /// 2 for arguments that do not fit, 1 for the rest; `diff` reports every error with 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NoInput | Self::Git(_) | Self::GitDiff { .. } | Self::NotUtf8(_) => EXIT_FAILURE,
            _ => EXIT_USAGE,
        }
    }
}
