//! Errors of reading inputs and writing outputs.

use std::path::{Path, PathBuf};

/// Reading inputs and writing outputs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// A file or directory (`action` is `cannot read`, `cannot write`, …).
    #[error("{action} {}: {source}", path.display())]
    File {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The temporary file beside an output file could not be created.
    #[error("cannot write {}: {source}", path.display())]
    CreateTemp {
        /// The output file.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
        /// Why it failed (without the temporary file's random name).
        #[source]
        source: std::io::Error,
    },
    /// Stdin could not be read.
    #[error("cannot read stdin: {0}")]
    Stdin(#[source] std::io::Error),
    /// Stdout could not be written (a closed pipe is no error).
    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// The input is not text.
    #[error("{origin} is not UTF-8 text")]
    NotUtf8 {
        /// `stdin` or the path.
        origin: String,
    },
    /// The working directory is unknown.
    #[error("cannot read the current directory: {0}")]
    CurrentDir(#[source] std::io::Error),
    /// A report or object could not be encoded as JSON.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded (`the report`, `SealedSecret`).
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A report could not be encoded as YAML.
    #[error("cannot encode {what} as YAML: {source}")]
    EncodeYaml {
        /// What was being encoded (`the report`).
        what: &'static str,
        /// Why.
        #[source]
        source: sealant_core::yaml::YamlError,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `sealant web` could not listen on its address.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The man page could not be rendered.
    #[error("cannot render the man page: {0}")]
    ManPage(#[source] std::io::Error),
    /// The man pages could not be written.
    #[error("cannot write man pages to {}: {source}", dir.display())]
    ManPages {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl IoError {
    /// `action path: error`, for an error about `path`.
    pub fn file(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::File {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::File { source, .. } => kind_hint(source.kind()).map(str::to_owned),
            Self::CreateTemp { dir, source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => Some(format!(
                    "the directory {} does not exist: create it first",
                    dir.display()
                )),
                std::io::ErrorKind::NotADirectory => {
                    Some(format!("{} is not a directory", dir.display()))
                }
                kind => kind_hint(kind).map(str::to_owned),
            },
            Self::Listen { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
                Some("another program uses that port: give another --port, or none for a free one".into())
            }
            Self::NotUtf8 { .. } => Some(
                "Kubernetes manifests are UTF-8 YAML or JSON; binary values go base64-encoded under `data`"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// The hint for an I/O error of this kind about a path the user gave.
pub(crate) fn kind_hint(kind: std::io::ErrorKind) -> Option<&'static str> {
    match kind {
        std::io::ErrorKind::NotFound => Some("check the path"),
        std::io::ErrorKind::PermissionDenied => Some("check the file's permissions"),
        std::io::ErrorKind::IsADirectory => Some("give a file, not a directory"),
        _ => None,
    }
}
