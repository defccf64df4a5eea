//! A round trip through a provider, as an operator's preflight (docs/key-protection.md,
//! "Checking the setup"): a throwaway RSA key is protected and opened again exactly as the
//! controller does with its keys, so a wrong PIN, a missing KEK or a module that cannot be
//! loaded shows up before a rollout rather than as a controller that is never ready.

use std::time::{Duration, Instant};

use sealant_core::{KeyGenOptions, generate_key};
use time::OffsetDateTime;

use crate::{KeyProvider, ProtectError, protect, unprotect};

/// What a successful round trip measured.
#[derive(Debug, Clone)]
pub struct RoundTrip {
    /// The provider and KEK new keys would be wrapped under.
    pub protection: String,
    /// Time of the wrap call (the whole `protect`, key sealing included).
    pub wrap: Duration,
    /// Time of the unwrap call (the whole `unprotect`).
    pub unwrap: Duration,
}

/// The round trip failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The throwaway key could not be made.
    #[error("cannot generate a test key: {0}")]
    KeyGen(#[source] sealant_core::KeyError),
    /// Wrapping or unwrapping failed.
    #[error(transparent)]
    Protect(#[from] ProtectError),
    /// The key that came back is not the key that went in (a provider bug).
    #[error("the provider returned a different data key than it wrapped")]
    Mismatch,
}

/// Protects a throwaway RSA-2048 key through `provider` and opens it again.
///
/// # Errors
/// [`CheckError`]; a provider failure keeps its [`crate::ErrorKind`].
pub async fn round_trip(provider: &dyn KeyProvider) -> Result<RoundTrip, CheckError> {
    let options = KeyGenOptions {
        bits: 2048,
        common_name: "sealant key protection check".to_owned(),
        validity: time::Duration::hours(1),
        now: OffsetDateTime::now_utc(),
    };
    let (key, cert) = generate_key(&options).map_err(CheckError::KeyGen)?;
    let started = Instant::now();
    let wrapped = protect(provider, &key, &cert).await?;
    let wrap = started.elapsed();
    let started = Instant::now();
    let opened = unprotect(provider, &wrapped).await?;
    let unwrap = started.elapsed();
    if opened.fingerprint() != key.fingerprint() {
        return Err(CheckError::Mismatch);
    }
    Ok(RoundTrip {
        protection: provider.describe().to_string(),
        wrap,
        unwrap,
    })
}
