//! `protection` with a provider in memory: unwrap once and keep, an outage after start, a key
//! whose KEK is gone next to one that works.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_core::keysecret::wrapped::{Protection, wrapped_key_secret};
use sealant_core::{Certificate, PrivateKey, SecretBytes};
use sealant_k8s::keys::{KeyKind, KeyMaterial, KeyRecord, OrderPriority};
use sealant_kms::{CallFuture, ErrorKind, KeyProvider, KmsError, WrappedDek};

use super::KmsMetrics;
use super::protection::KeyProtection;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");
const OK: u8 = 0;
const DOWN: u8 = 1;

/// "Wraps" by keeping the DEK as is (the envelope's AES-GCM layer still binds everything); can
/// be switched down, and knows only the KEK `kek-1`.
#[derive(Debug)]
struct Fake {
    protection: Protection,
    state: AtomicU8,
    unwraps: AtomicUsize,
}

impl KeyProvider for Fake {
    fn describe(&self) -> &Protection {
        &self.protection
    }

    fn wrap<'a>(&'a self, dek: &'a SecretBytes, _aad: &'a [u8]) -> CallFuture<'a, WrappedDek> {
        let blob = dek.expose_secret().to_vec();
        Box::pin(async move {
            Ok(WrappedDek {
                kek: self.protection.kek.clone(),
                blob,
            })
        })
    }

    fn unwrap<'a>(
        &'a self,
        wrapped: &'a WrappedDek,
        _aad: &'a [u8],
    ) -> CallFuture<'a, SecretBytes> {
        Box::pin(async move {
            self.unwraps.fetch_add(1, Ordering::SeqCst);
            if self.state.load(Ordering::SeqCst) == DOWN {
                return Err(KmsError::new(ErrorKind::Unreachable, "fake", "down"));
            }
            if wrapped.kek != "kek-1" {
                return Err(KmsError::new(
                    ErrorKind::KekMissing,
                    "fake",
                    wrapped.kek.clone(),
                ));
            }
            Ok(SecretBytes::from_slice(&wrapped.blob))
        })
    }
}

fn fake(kek: &str) -> Arc<Fake> {
    Arc::new(Fake {
        protection: Protection::new("pkcs11", kek).unwrap(),
        state: AtomicU8::new(OK),
        unwraps: AtomicUsize::new(0),
    })
}

fn vector(name: &str) -> (PrivateKey, Certificate) {
    let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
    (
        PrivateKey::from_pem(&read("key")).unwrap(),
        Certificate::from_pem(&read("crt")).unwrap(),
    )
}

/// A protected key Secret of a test vector, wrapped by `provider`.
async fn protected(provider: &Fake, name: &str) -> K8sSecret {
    let (key, cert) = vector(name);
    let wrapped = sealant_kms::protect(provider, &key, &cert).await.unwrap();
    let core = wrapped_key_secret("ns", "k", &wrapped, &BTreeMap::new(), &BTreeMap::new());
    let mut secret: K8sSecret =
        serde_json::from_value(serde_json::to_value(&core).unwrap()).unwrap();
    secret.metadata.name = Some(name.to_owned());
    secret
}

fn records(secrets: &[K8sSecret]) -> Vec<KeyRecord> {
    secrets
        .iter()
        .map(|s| KeyRecord::read(KeyKind::Rsa, s, OrderPriority::CertNotBefore))
        .collect()
}

fn usable(records: &[KeyRecord]) -> usize {
    records
        .iter()
        .filter(|r| matches!(r.material, Some(KeyMaterial::Rsa { .. })))
        .count()
}

#[tokio::test]
async fn unwrapped_once_then_kept_through_an_outage() {
    let provider = fake("kek-1");
    let protection = KeyProtection::with_provider(provider.clone(), KmsMetrics::unregistered());
    let first = protected(&provider, "multi-1").await;
    let mut read = records(std::slice::from_ref(&first));
    let resolution = protection.resolve(&mut read).await;
    assert!(resolution.failures.is_empty() && resolution.blocked.is_none());
    assert_eq!(usable(&read), 1);
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), 1);

    // The provider goes away: the key in memory keeps working, with no call.
    provider.state.store(DOWN, Ordering::SeqCst);
    let second = protected(&provider, "multi-2").await;
    let mut read = records(&[first, second]);
    let resolution = protection.resolve(&mut read).await;
    assert_eq!(usable(&read), 1, "the first key stays usable");
    assert_eq!(resolution.failures.len(), 1);
    assert_eq!(resolution.failures[0].secret, "multi-2");
    assert_eq!(resolution.failures[0].kind, ErrorKind::Unreachable);
    // A key that only waits for its provider blocks generation.
    assert_eq!(resolution.blocked, Some(ErrorKind::Unreachable));
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), 2);

    // Back: the waiting key is unwrapped, nothing blocks.
    provider.state.store(OK, Ordering::SeqCst);
    let resolution = protection.resolve(&mut read).await;
    assert!(resolution.blocked.is_none(), "{:?}", resolution.failures);
    assert_eq!(usable(&read), 2);
}

#[tokio::test]
async fn a_key_whose_kek_is_gone_is_reported_alone() {
    let provider = fake("kek-1");
    let old = fake("kek-0");
    let protection = KeyProtection::with_provider(provider.clone(), KmsMetrics::unregistered());
    let secrets = [
        protected(&old, "multi-1").await,
        protected(&provider, "multi-2").await,
    ];
    let mut read = records(&secrets);
    let resolution = protection.resolve(&mut read).await;
    assert_eq!(usable(&read), 1);
    assert_eq!(resolution.failures.len(), 1);
    assert_eq!(resolution.failures[0].secret, "multi-1");
    assert_eq!(resolution.failures[0].kind, ErrorKind::KekMissing);
    assert!(resolution.blocked.is_none(), "a lost key blocks nothing");
    // Not asked again at once (a lost KEK is retried every few minutes).
    let calls = provider.unwraps.load(Ordering::SeqCst);
    let mut read = records(&secrets);
    let again = protection.resolve(&mut read).await;
    assert_eq!(again.failures.len(), 1);
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), calls);
}

#[tokio::test]
async fn protected_keys_without_protection_block() {
    let provider = fake("kek-1");
    let protection = KeyProtection::new(None, KmsMetrics::unregistered());
    let mut read = records(&[protected(&provider, "multi-1").await]);
    let resolution = protection.resolve(&mut read).await;
    assert_eq!(usable(&read), 0);
    assert_eq!(resolution.blocked, Some(ErrorKind::Config));
    assert!(
        resolution.failures[0]
            .message
            .contains("key protection is off")
    );
}
