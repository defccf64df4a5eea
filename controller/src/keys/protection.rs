//! Key protection in the controller (docs/key-protection.md, "In the controller"): the
//! provider the flags name, connected on first need and again after a failure; protected key
//! Secrets unwrapped once and kept, as keys, in memory (AWS-LC wipes them on drop), so that
//! an HSM or KMS outage after start stops nothing but new keys; and the per-key failures the
//! manager reports.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sealant_core::PrivateKey;
use sealant_core::keysecret::wrapped::WrappedKey;
use sealant_k8s::keys::{KeyMaterial, KeyProblem, KeyRecord};
use sealant_kms::{CallObserver, ErrorKind, KeyProvider, KmsError, ProtectError, ProviderSettings};

use super::KmsMetrics;

/// How long a key whose KEK is gone (or whose envelope is refused) waits before it is tried
/// again: long enough not to flood the provider, short enough to pick up a restored KEK.
const PERMANENT_RETRY: Duration = Duration::from_secs(300);

/// A protected key that cannot be unwrapped now. The text names the provider, kind and KEK,
/// never key material.
#[derive(Debug, Clone)]
pub(super) struct UnwrapFailure {
    pub(super) secret: String,
    pub(super) kind: ErrorKind,
    pub(super) message: String,
}

/// What unwrapping the key Secrets just read found.
#[derive(Debug, Default)]
pub(super) struct Resolution {
    /// Keys that stay unusable, each with why.
    pub(super) failures: Vec<UnwrapFailure>,
    /// Set when keys are unknown for a reason that may pass (provider unreachable, refused
    /// credentials, a configuration to fix): no key may be generated meanwhile, or a key that
    /// only waits for its HSM would be replaced.
    pub(super) blocked: Option<ErrorKind>,
}

struct Unwrapped {
    /// The wrapped DEK it came from: a re-wrapped Secret (another KEK) is unwrapped again.
    wrapped_dek: Vec<u8>,
    key: PrivateKey,
}

struct Failed {
    wrapped_dek: Vec<u8>,
    failure: UnwrapFailure,
    retry_at: Instant,
}

/// The provider and the keys it unwrapped.
pub(super) struct KeyProtection {
    settings: Option<ProviderSettings>,
    metrics: KmsMetrics,
    provider: tokio::sync::Mutex<Option<Arc<dyn KeyProvider>>>,
    /// By fingerprint text.
    unwrapped: parking_lot::Mutex<HashMap<String, Unwrapped>>,
    failed: parking_lot::Mutex<HashMap<String, Failed>>,
}

impl KeyProtection {
    pub(super) fn new(settings: Option<ProviderSettings>, metrics: KmsMetrics) -> Self {
        KeyProtection {
            settings,
            metrics,
            provider: tokio::sync::Mutex::new(None),
            unwrapped: parking_lot::Mutex::new(HashMap::new()),
            failed: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Whether key protection is on (new keys are written wrapped).
    pub(super) fn is_on(&self) -> bool {
        self.settings.is_some()
    }

    /// Protection through `provider`, already connected (tests).
    #[cfg(test)]
    pub(super) fn with_provider(provider: Arc<dyn KeyProvider>, metrics: KmsMetrics) -> Self {
        let settings = ProviderSettings::AwsKms {
            region: "test".to_owned(),
            key_id: "test".to_owned(),
            endpoint: None,
        };
        let protection = Self::new(Some(settings), metrics);
        *protection.provider.try_lock().expect("new") = Some(provider);
        protection
    }

    /// Whether a provider is connected now (false while a connection fails, or when off).
    pub(super) fn connected(&self) -> bool {
        self.provider.try_lock().is_ok_and(|slot| slot.is_some())
    }

    pub(super) fn metrics(&self) -> &KmsMetrics {
        &self.metrics
    }

    /// The connected provider (connecting now if needed). `Ok(None)`: protection is off.
    ///
    /// # Errors
    /// Connecting failed (no PIN, module missing, wrong PIN, KEK missing, ...).
    pub(super) async fn provider(&self) -> Result<Option<Arc<dyn KeyProvider>>, KmsError> {
        let Some(settings) = &self.settings else {
            return Ok(None);
        };
        let mut slot = self.provider.lock().await;
        if let Some(provider) = slot.as_ref() {
            return Ok(Some(provider.clone()));
        }
        let observer: Arc<dyn CallObserver> = Arc::new(self.metrics.clone());
        let provider = settings.connect(Some(observer)).await?;
        *slot = Some(provider.clone());
        Ok(Some(provider))
    }

    /// Gives every record that waits for unwrapping its key: from memory when unwrapped
    /// before, else through the provider. Forgets keys whose Secret is gone.
    pub(super) async fn resolve(&self, records: &mut [KeyRecord]) -> Resolution {
        let present: Vec<String> = records
            .iter()
            .filter_map(|r| r.fingerprint.as_ref().map(|f| f.as_str().to_owned()))
            .collect();
        self.unwrapped.lock().retain(|f, _| present.contains(f));
        self.failed.lock().retain(|f, _| present.contains(f));
        let mut resolution = Resolution::default();
        // Connected once per pass, on the first key that needs the provider.
        let mut connection: Option<Result<Option<Arc<dyn KeyProvider>>, KmsError>> = None;
        for record in records.iter_mut() {
            let Some(KeyProblem::NeedsUnwrap(wrapped)) = &record.problem else {
                continue;
            };
            let wrapped: &WrappedKey = wrapped;
            let fingerprint = wrapped.fingerprint().as_str().to_owned();
            let cached = self
                .unwrapped
                .lock()
                .get(&fingerprint)
                .filter(|u| u.wrapped_dek == wrapped.wrapped_dek())
                .map(|u| u.key.clone());
            let key = match cached {
                Some(key) => Ok(key),
                None => match self.failed_before(&fingerprint, wrapped) {
                    Some(failure) => Err(failure),
                    None => {
                        if connection.is_none() {
                            connection = Some(self.provider().await);
                        }
                        let result = match connection.as_ref() {
                            Some(Ok(Some(provider))) => {
                                sealant_kms::unprotect(provider.as_ref(), wrapped)
                                    .await
                                    .map_err(|e| failure_of(&record.secret, &e))
                            }
                            Some(Err(err)) => Err(UnwrapFailure {
                                secret: record.secret.clone(),
                                kind: err.kind(),
                                message: format!("cannot connect: {err}"),
                            }),
                            _ => Err(UnwrapFailure {
                                secret: record.secret.clone(),
                                kind: ErrorKind::Config,
                                message: format!(
                                    "{}, but key protection is off (--key-protection=none)",
                                    wrapped.protection()
                                ),
                            }),
                        };
                        self.remember(&fingerprint, wrapped, &result);
                        result
                    }
                },
            };
            match key {
                Ok(key) => {
                    record.material = Some(KeyMaterial::Rsa {
                        key,
                        cert: wrapped.certificate().clone(),
                    });
                    record.problem = None;
                }
                Err(failure) => {
                    if !matches!(failure.kind, ErrorKind::KekMissing | ErrorKind::Refused) {
                        resolution.blocked.get_or_insert(failure.kind);
                    }
                    resolution.failures.push(failure);
                }
            }
        }
        // A connection attempt that failed drops nothing: the next pass tries again.
        if let Some(Err(err)) = &connection {
            resolution.blocked.get_or_insert(err.kind());
        }
        self.metrics.set_unwrap_failed(|kind| {
            resolution
                .failures
                .iter()
                .filter(|f| f.kind == kind)
                .count()
        });
        resolution
    }

    /// A permanent failure of this same envelope, not yet due for another try.
    fn failed_before(&self, fingerprint: &str, wrapped: &WrappedKey) -> Option<UnwrapFailure> {
        self.failed
            .lock()
            .get(fingerprint)
            .filter(|f| f.wrapped_dek == wrapped.wrapped_dek() && Instant::now() < f.retry_at)
            .map(|f| f.failure.clone())
    }

    fn remember(
        &self,
        fingerprint: &str,
        wrapped: &WrappedKey,
        result: &Result<PrivateKey, UnwrapFailure>,
    ) {
        match result {
            Ok(key) => {
                self.failed.lock().remove(fingerprint);
                self.unwrapped.lock().insert(
                    fingerprint.to_owned(),
                    Unwrapped {
                        wrapped_dek: wrapped.wrapped_dek().to_vec(),
                        key: key.clone(),
                    },
                );
            }
            Err(failure) if matches!(failure.kind, ErrorKind::KekMissing | ErrorKind::Refused) => {
                self.failed.lock().insert(
                    fingerprint.to_owned(),
                    Failed {
                        wrapped_dek: wrapped.wrapped_dek().to_vec(),
                        failure: failure.clone(),
                        retry_at: Instant::now() + PERMANENT_RETRY,
                    },
                );
            }
            Err(_) => {}
        }
    }
}

/// The kind the manager acts on: the provider's, or `refused` for an envelope that does not
/// open with the DEK it got, `config` for a key of another provider kind.
fn failure_of(secret: &str, err: &ProtectError) -> UnwrapFailure {
    let kind = match err {
        ProtectError::Kms(err) => err.kind(),
        ProtectError::OtherProvider { .. } => ErrorKind::Config,
        _ => ErrorKind::Refused,
    };
    UnwrapFailure {
        secret: secret.to_owned(),
        kind,
        message: err.to_string(),
    }
}
