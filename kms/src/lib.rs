//! sealant-kms: key protection providers (docs/key-protection.md).
//!
//! A provider wraps and unwraps 32-byte data keys (DEKs) under a key-encryption key (KEK) that
//! never leaves an HSM or a KMS. sealant-core seals each private key under its own DEK
//! (`sealant_core::keysecret::wrapped`); this crate only moves DEKs through the provider, so
//! adding a provider never touches the key Secret format.
//!
//! - [`KeyProvider`]: the interface, two calls and a description;
//! - [`pkcs11::Pkcs11Provider`]: HSMs through PKCS#11 (AES-GCM under a token-resident AES key);
//! - [`aws::AwsKmsProvider`]: AWS KMS `Encrypt`/`Decrypt` with a symmetric key;
//! - [`Observed`]: wraps any provider with a per-call hook for metrics;
//! - [`protect`] / [`unprotect`]: a private key to a protected key and back;
//! - [`ProviderSettings`]: the controller's flags and the CLI's options, and connecting;
//! - [`round_trip`]: an operator's preflight through a provider.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealant_core::keysecret::wrapped::{Protection, WrappedKey, WrappedKeyError, seal_key};
use sealant_core::{Certificate, PrivateKey, SecretBytes};

pub mod aws;
mod check;
mod error;
pub mod pkcs11;
mod settings;

pub use check::{CheckError, RoundTrip, round_trip};
pub use error::{BoxError, ErrorKind, KmsError};
pub use settings::{PIN_ENV, PROVIDER_NAMES, ProviderSettings, RawSettings, SettingsError};

/// The future a provider call returns (boxed, so that `dyn KeyProvider` works).
pub type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KmsError>> + Send + 'a>>;

/// A DEK wrapped by a provider: the KEK it is wrapped under and the provider's opaque blob.
/// Public data (it is stored in the key Secret).
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedDek {
    /// The KEK's id, as [`KeyProvider::describe`] named it when wrapping.
    pub kek: String,
    /// The provider's ciphertext.
    pub blob: Vec<u8>,
}

impl fmt::Debug for WrappedDek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedDek")
            .field("kek", &self.kek)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

/// A key protection provider: an HSM or KMS that wraps data keys under a KEK it never releases.
///
/// Both calls bind `aad` (associated data): an unwrap with other associated data fails with
/// [`ErrorKind::Refused`]. Implementations must not log the DEK or credentials.
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// The provider kind and the KEK new keys are wrapped under (the key Secret's annotation).
    fn describe(&self) -> &Protection;

    /// Wraps `dek` under the current KEK.
    fn wrap<'a>(&'a self, dek: &'a SecretBytes, aad: &'a [u8]) -> CallFuture<'a, WrappedDek>;

    /// Unwraps a DEK wrapped under `wrapped.kek` (which may be an older KEK than the current).
    fn unwrap<'a>(&'a self, wrapped: &'a WrappedDek, aad: &'a [u8]) -> CallFuture<'a, SecretBytes>;
}

/// A provider call, as the [`CallObserver`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// [`KeyProvider::wrap`].
    Wrap,
    /// [`KeyProvider::unwrap`].
    Unwrap,
}

impl Operation {
    /// `wrap` or `unwrap`, for metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Wrap => "wrap",
            Operation::Unwrap => "unwrap",
        }
    }
}

/// One finished provider call.
#[derive(Debug, Clone, Copy)]
pub struct CallRecord<'a> {
    /// The provider kind (`pkcs11`, `aws-kms`).
    pub provider: &'a str,
    /// Wrap or unwrap.
    pub operation: Operation,
    /// Wall time of the call.
    pub elapsed: Duration,
    /// `None` on success, else the error's kind.
    pub error: Option<ErrorKind>,
}

/// Receives every call an [`Observed`] provider makes (the controller's metrics).
pub trait CallObserver: Send + Sync {
    /// Called once per call, after it finished.
    fn observe(&self, call: &CallRecord<'_>);
}

/// A provider whose every call is reported to a [`CallObserver`].
pub struct Observed<P> {
    inner: P,
    observer: Arc<dyn CallObserver>,
}

impl<P: KeyProvider> Observed<P> {
    /// Reports `inner`'s calls to `observer`.
    pub fn new(inner: P, observer: Arc<dyn CallObserver>) -> Self {
        Observed { inner, observer }
    }

    async fn timed<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, KmsError>>,
    ) -> Result<T, KmsError> {
        let started = Instant::now();
        let result = call.await;
        self.observer.observe(&CallRecord {
            provider: &self.inner.describe().provider,
            operation,
            elapsed: started.elapsed(),
            error: result.as_ref().err().map(KmsError::kind),
        });
        result
    }
}

impl<P: KeyProvider> fmt::Debug for Observed<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Observed").field(&self.inner).finish()
    }
}

impl<P: KeyProvider> KeyProvider for Observed<P> {
    fn describe(&self) -> &Protection {
        self.inner.describe()
    }

    fn wrap<'a>(&'a self, dek: &'a SecretBytes, aad: &'a [u8]) -> CallFuture<'a, WrappedDek> {
        Box::pin(self.timed(Operation::Wrap, self.inner.wrap(dek, aad)))
    }

    fn unwrap<'a>(&'a self, wrapped: &'a WrappedDek, aad: &'a [u8]) -> CallFuture<'a, SecretBytes> {
        Box::pin(self.timed(Operation::Unwrap, self.inner.unwrap(wrapped, aad)))
    }
}

/// Protecting or unprotecting a key failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// The provider call failed.
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// The envelope could not be made or opened.
    #[error(transparent)]
    Envelope(#[from] WrappedKeyError),
    /// The key is wrapped by another kind of provider than the one configured.
    #[error("the key is protected by {found}, but the configured provider is {configured}")]
    OtherProvider {
        /// The key Secret's provider.
        found: String,
        /// The configured provider.
        configured: String,
    },
}

/// Seals `key` under a fresh DEK and has `provider` wrap the DEK: the result goes into the key
/// Secret (`WrappedKey::write_into`).
///
/// # Errors
/// [`ProtectError`]; nothing is written anywhere on error.
pub async fn protect(
    provider: &dyn KeyProvider,
    key: &PrivateKey,
    cert: &Certificate,
) -> Result<WrappedKey, ProtectError> {
    let pending = seal_key(key, cert, provider.describe().clone())?;
    let wrapped = provider.wrap(pending.dek(), &pending.aad()).await?;
    if wrapped.kek != provider.describe().kek {
        // The envelope's AAD names the described KEK; a provider must wrap under it.
        return Err(KmsError::new(
            ErrorKind::Config,
            "sealant-kms",
            "the provider wrapped under another KEK than it describes",
        )
        .into());
    }
    Ok(pending.finish(wrapped.blob)?)
}

/// Has `provider` unwrap the DEK of a protected key and opens the key with it (the DEK is wiped
/// on return).
///
/// # Errors
/// [`ProtectError`]: [`ProtectError::Kms`] with the provider's [`ErrorKind`], or
/// [`ProtectError::Envelope`] if the DEK does not open the key.
pub async fn unprotect(
    provider: &dyn KeyProvider,
    wrapped: &WrappedKey,
) -> Result<PrivateKey, ProtectError> {
    let protection = wrapped.protection();
    if protection.provider != provider.describe().provider {
        return Err(ProtectError::OtherProvider {
            found: protection.to_string(),
            configured: provider.describe().to_string(),
        });
    }
    let dek = WrappedDek {
        kek: protection.kek.clone(),
        blob: wrapped.wrapped_dek().to_vec(),
    };
    let dek = provider.unwrap(&dek, &wrapped.aad()).await?;
    Ok(wrapped.open(&dek)?)
}
