//! Errors of loading the sealing certificate.

use std::path::PathBuf;

/// The sealing certificate cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertSourceError {
    /// The `--cert` file cannot be read.
    #[error("cannot read certificate {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The certificate is not a usable PEM certificate.
    #[error("certificate from {origin}: {source}")]
    Parse {
        /// `file cert.pem`, the URL, or the controller.
        origin: String,
        /// Why.
        #[source]
        source: sealant_core::KeyError,
    },
    /// A certificate file (`lint --cert`) that is not a usable certificate.
    #[error("certificate {}: {source}", path.display())]
    Unusable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: sealant_core::KeyError,
    },
    /// The `--cert` URL cannot be fetched.
    #[error("cannot fetch {url:?}: {source}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: ureq::Error,
    },
    /// The `--cert` URL answered something else than 200.
    #[error("cannot fetch {url:?}: {status}")]
    FetchStatus {
        /// The URL.
        url: String,
        /// The answer's status.
        status: ureq::http::StatusCode,
    },
    /// The `--cert` URL's answer cannot be read (or is over 1 MiB).
    #[error("cannot fetch {url:?}: {source}")]
    FetchBody {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: ureq::Error,
    },
}

impl CertSourceError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Read { source, .. } => Some(
                super::io::kind_hint(source.kind())
                    .unwrap_or("--cert takes a PEM file or an http(s):// or file:// URL")
                    .to_owned(),
            ),
            Self::Parse { source, .. } => super::key_hint(source).map(str::to_owned),
            Self::Fetch { .. } => {
                Some("check the URL, or download the certificate and pass the file".to_owned())
            }
            Self::Unusable { .. } => Some(
                "--cert takes the controller's PEM certificate (what `sealant cert` prints)"
                    .to_owned(),
            ),
            Self::FetchStatus { .. } | Self::FetchBody { .. } => None,
        }
    }

    /// 2 for a certificate file named on the command line that is not one, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Unusable { .. } => super::EXIT_USAGE,
            _ => super::EXIT_FAILURE,
        }
    }
}
