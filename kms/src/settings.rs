//! Provider settings as the controller's flags and the CLI's options give them, and connecting
//! to the provider they name (docs/key-protection.md, "Enabling"). Shared so that the
//! controller and `sealant keys protect` read PINs and credentials the same way.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sealant_core::SecretString;

use crate::aws::{AwsCredentials, AwsKmsConfig, AwsKmsProvider};
use crate::pkcs11::{Pkcs11Config, Pkcs11Provider, read_pin_file};
use crate::{CallObserver, ErrorKind, KeyProvider, KmsError, Observed};

/// The environment variable a PKCS#11 PIN may come from when no PIN file is given.
pub const PIN_ENV: &str = "SEALANT_PKCS11_PIN";

/// Which provider, and where. Holds no secret: the PIN and the AWS credentials are read when
/// connecting (from a file or the environment), so this can be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSettings {
    /// PKCS#11: module, token, PIN file (else [`PIN_ENV`]), KEK label.
    Pkcs11 {
        /// The vendor's module (`.so`).
        module: PathBuf,
        /// The token's label.
        token_label: String,
        /// A file holding the user PIN; `None`: [`PIN_ENV`].
        pin_file: Option<PathBuf>,
        /// The AES-256 KEK's label on the token.
        kek_label: String,
    },
    /// AWS KMS: region, key, optional endpoint; credentials from the `AWS_*` environment.
    AwsKms {
        /// The region.
        region: String,
        /// Key id, ARN, alias name or alias ARN.
        key_id: String,
        /// Endpoint override (a VPC endpoint, or a test server).
        endpoint: Option<String>,
    },
}

/// The provider names settings accept (`--key-protection`).
pub const PROVIDER_NAMES: [&str; 2] = [crate::pkcs11::PROVIDER, crate::aws::PROVIDER];

/// A setting is missing or malformed (before any provider call).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{setting}: {reason}")]
pub struct SettingsError {
    /// The flag or option, as typed (`--pkcs11-module`).
    pub setting: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// The raw values, one per flag; [`ProviderSettings::from_raw`] checks them together.
#[derive(Default, Clone)]
pub struct RawSettings<'a> {
    /// `--key-protection`: empty or `none` for off.
    pub provider: &'a str,
    /// `--pkcs11-module`.
    pub pkcs11_module: Option<&'a std::path::Path>,
    /// `--pkcs11-token-label`.
    pub pkcs11_token_label: &'a str,
    /// `--pkcs11-pin-file`.
    pub pkcs11_pin_file: Option<&'a std::path::Path>,
    /// `--pkcs11-kek-label`.
    pub pkcs11_kek_label: &'a str,
    /// `--aws-kms-region`.
    pub aws_region: &'a str,
    /// `--aws-kms-key-id`.
    pub aws_key_id: &'a str,
    /// `--aws-kms-endpoint`.
    pub aws_endpoint: &'a str,
}

impl fmt::Debug for RawSettings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSettings")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl ProviderSettings {
    /// Checks the flags: `None` when protection is off, else every setting the provider needs.
    ///
    /// # Errors
    /// An unknown provider, or a setting the chosen provider needs that is empty.
    pub fn from_raw(raw: &RawSettings<'_>) -> Result<Option<Self>, SettingsError> {
        let required = |setting: &'static str, value: &str| {
            if value.trim().is_empty() {
                Err(SettingsError {
                    setting,
                    reason: format!("required with --key-protection={}", raw.provider),
                })
            } else {
                Ok(value.trim().to_owned())
            }
        };
        match raw.provider.trim() {
            "" | "none" => Ok(None),
            crate::pkcs11::PROVIDER => Ok(Some(ProviderSettings::Pkcs11 {
                module: raw
                    .pkcs11_module
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(std::path::Path::to_path_buf)
                    .ok_or_else(|| SettingsError {
                        setting: "--pkcs11-module",
                        reason: "required with --key-protection=pkcs11".to_owned(),
                    })?,
                token_label: required("--pkcs11-token-label", raw.pkcs11_token_label)?,
                pin_file: raw
                    .pkcs11_pin_file
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(std::path::Path::to_path_buf),
                kek_label: required("--pkcs11-kek-label", raw.pkcs11_kek_label)?,
            })),
            crate::aws::PROVIDER => Ok(Some(ProviderSettings::AwsKms {
                region: required("--aws-kms-region", raw.aws_region)?,
                key_id: required("--aws-kms-key-id", raw.aws_key_id)?,
                endpoint: Some(raw.aws_endpoint.trim())
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
            })),
            other => Err(SettingsError {
                setting: "--key-protection",
                reason: format!(
                    "unknown provider {other:?} (expected none, {})",
                    PROVIDER_NAMES.join(", ")
                ),
            }),
        }
    }

    /// The provider kind (`pkcs11`, `aws-kms`).
    pub fn provider(&self) -> &'static str {
        match self {
            ProviderSettings::Pkcs11 { .. } => crate::pkcs11::PROVIDER,
            ProviderSettings::AwsKms { .. } => crate::aws::PROVIDER,
        }
    }

    /// Reads the PIN or credentials and connects; every call of the provider is reported to
    /// `observer`, if given. PKCS#11 logs in and checks the KEK now; AWS makes no request.
    ///
    /// # Errors
    /// [`KmsError`] by kind: `config` (no PIN, no credentials, malformed settings),
    /// `unreachable`, `auth`, `kek_missing`.
    pub async fn connect(
        &self,
        observer: Option<Arc<dyn CallObserver>>,
    ) -> Result<Arc<dyn KeyProvider>, KmsError> {
        match self {
            ProviderSettings::Pkcs11 {
                module,
                token_label,
                pin_file,
                kek_label,
            } => {
                let pin = match pin_file {
                    Some(path) => read_pin_file(path)?,
                    None => std::env::var(PIN_ENV)
                        .ok()
                        .filter(|p| !p.is_empty())
                        .map(SecretString::new)
                        .ok_or_else(|| {
                            KmsError::new(
                                ErrorKind::Config,
                                crate::pkcs11::PROVIDER,
                                format!("no PIN: give a PIN file or set {PIN_ENV}"),
                            )
                        })?,
                };
                let provider = Pkcs11Provider::connect(Pkcs11Config {
                    module: module.clone(),
                    token_label: token_label.clone(),
                    pin,
                    kek_label: kek_label.clone(),
                })
                .await?;
                Ok(observed(provider, observer))
            }
            ProviderSettings::AwsKms {
                region,
                key_id,
                endpoint,
            } => {
                let credentials = AwsCredentials::from_env().ok_or_else(|| {
                    KmsError::new(
                        ErrorKind::Config,
                        crate::aws::PROVIDER,
                        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                    )
                })?;
                let provider = AwsKmsProvider::new(AwsKmsConfig {
                    region: region.clone(),
                    key_id: key_id.clone(),
                    endpoint: endpoint.clone(),
                    credentials,
                    timeout: Duration::from_secs(10),
                })?;
                Ok(observed(provider, observer))
            }
        }
    }
}

fn observed<P: KeyProvider + 'static>(
    provider: P,
    observer: Option<Arc<dyn CallObserver>>,
) -> Arc<dyn KeyProvider> {
    match observer {
        Some(observer) => Arc::new(Observed::new(provider, observer)),
        None => Arc::new(provider),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_named() {
        assert_eq!(
            ProviderSettings::from_raw(&RawSettings::default()),
            Ok(None)
        );
        let none = RawSettings {
            provider: "none",
            ..RawSettings::default()
        };
        assert_eq!(ProviderSettings::from_raw(&none), Ok(None));
    }

    #[test]
    fn pkcs11_needs_module_token_and_kek() {
        let mut raw = RawSettings {
            provider: "pkcs11",
            pkcs11_token_label: "t",
            pkcs11_kek_label: "k",
            ..RawSettings::default()
        };
        let err = ProviderSettings::from_raw(&raw).unwrap_err();
        assert_eq!(err.setting, "--pkcs11-module");
        let module = std::path::Path::new("/m.so");
        raw.pkcs11_module = Some(module);
        raw.pkcs11_kek_label = "";
        let err = ProviderSettings::from_raw(&raw).unwrap_err();
        assert_eq!(err.setting, "--pkcs11-kek-label");
        raw.pkcs11_kek_label = "k";
        let settings = ProviderSettings::from_raw(&raw).unwrap().unwrap();
        assert_eq!(settings.provider(), "pkcs11");
    }

    #[test]
    fn aws_needs_region_and_key_and_unknown_is_refused() {
        let raw = RawSettings {
            provider: "aws-kms",
            aws_region: "eu-west-1",
            ..RawSettings::default()
        };
        assert_eq!(
            ProviderSettings::from_raw(&raw).unwrap_err().setting,
            "--aws-kms-key-id"
        );
        let raw = RawSettings {
            provider: "vault",
            ..RawSettings::default()
        };
        let err = ProviderSettings::from_raw(&raw).unwrap_err();
        assert!(err.reason.contains("unknown provider"), "{err}");
    }
}
