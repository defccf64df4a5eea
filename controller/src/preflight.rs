//! `--check-key-protection` (docs/key-protection.md, "Checking the setup"): connects to the HSM
//! or KMS the flags name, protects and opens a throwaway key, prints one line and exits. It
//! never contacts the cluster, so it runs as an init container, in CI, or by hand in the image.

use crate::flags::Args;

/// The check could not run or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The key protection flags are unusable.
    #[error(transparent)]
    Settings(#[from] sealant_kms::SettingsError),
    /// `--key-protection` is `none`: nothing to check.
    #[error("--check-key-protection needs --key-protection (pkcs11 or aws-kms)")]
    Off,
    /// Connecting (module, PIN, credentials, KEK) failed.
    #[error("key protection: {0}")]
    Connect(#[source] sealant_kms::KmsError),
    /// The round trip failed.
    #[error("key protection: {0}")]
    RoundTrip(#[source] sealant_kms::CheckError),
}

/// Runs the check; the line to print on success.
///
/// # Errors
/// [`PreflightError`], with the provider's message.
pub async fn check_key_protection(args: &Args) -> Result<String, PreflightError> {
    let settings = args.key_protection()?.ok_or(PreflightError::Off)?;
    let provider = settings
        .connect(None)
        .await
        .map_err(PreflightError::Connect)?;
    let trip = sealant_kms::round_trip(provider.as_ref())
        .await
        .map_err(PreflightError::RoundTrip)?;
    Ok(format!(
        "key protection ok: {} (wrap {} ms, unwrap {} ms)",
        trip.protection,
        trip.wrap.as_millis(),
        trip.unwrap.as_millis()
    ))
}
