//! One error type for every provider, classified by what the caller should do about it
//! (docs/key-protection.md, "Errors").

use std::fmt;

/// Boxed source error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure a provider call met. The controller decides readiness, events and
/// retries by this, never by the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The HSM or KMS cannot be reached now (network, device, module not loadable, throttled,
    /// server error). Transient: retry later; keys already unwrapped keep working.
    Unreachable,
    /// The credentials are refused: wrong PIN, bad or expired AWS credentials, no permission.
    Auth,
    /// The key-encryption key is gone: deleted, disabled, scheduled for deletion, not on the token.
    KekMissing,
    /// The service refused this blob: altered, wrapped under another key, or bound to other
    /// associated data. Permanent for this blob.
    Refused,
    /// The provider is configured wrongly (an unsuitable KEK, a malformed setting).
    Config,
}

impl ErrorKind {
    /// The kind's name for metrics labels and logs (`unreachable`, `auth`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Auth => "auth",
            ErrorKind::KekMissing => "kek_missing",
            ErrorKind::Refused => "refused",
            ErrorKind::Config => "config",
        }
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Unreachable)
    }

    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "the key service cannot be reached",
            ErrorKind::Auth => "the key service refused the credentials",
            ErrorKind::KekMissing => "the key-encryption key is missing or disabled",
            ErrorKind::Refused => "the key service refused the wrapped key",
            ErrorKind::Config => "the key protection provider is misconfigured",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed provider call. Its text names the provider, the kind and a short context (a KEK id,
/// a PKCS#11 return code, an AWS error code), never a PIN, a credential or key material.
#[derive(Debug, thiserror::Error)]
#[error("{provider}: {}: {context}", kind.describe())]
pub struct KmsError {
    kind: ErrorKind,
    provider: &'static str,
    context: String,
    #[source]
    source: Option<BoxError>,
}

impl KmsError {
    /// A new error.
    pub fn new(kind: ErrorKind, provider: &'static str, context: impl Into<String>) -> Self {
        KmsError {
            kind,
            provider,
            context: context.into(),
            source: None,
        }
    }

    /// The same error with its cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The provider that failed (`pkcs11`, `aws-kms`).
    pub fn provider(&self) -> &'static str {
        self.provider
    }
}
