//! A key snapshot from the key Secrets just listed: each read by `sealant_k8s::keys`, those
//! whose state unseals kept, oldest first, one entry per key. Protected RSA keys are read in
//! two steps: [`read_rsa`], then the manager unwraps them (`protection`), then
//! [`Loaded::from_records`].

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_k8s::keys::{
    KeyKind, KeyMaterial, KeyProblem, KeyRecord, OrderPriority, sort_oldest_first,
};
use time::OffsetDateTime;
use tracing::warn;

use super::{AgeKeyInfo, KeyInfo, KeySnapshot};

/// What one read of the key Secrets found.
pub(super) struct Loaded {
    pub(super) snapshot: Arc<KeySnapshot>,
    /// The newest active RSA key Secret asks for a new key (`sealant keys rotate`).
    pub(super) renew_requested: bool,
    /// Protected keys wait for an HSM or KMS that failed this way: generate nothing.
    pub(super) blocked: Option<sealant_kms::ErrorKind>,
}

impl Loaded {
    /// The keys of `rsa` and `age` key Secrets (the legacy key among `rsa`), protected keys
    /// not unwrapped.
    #[cfg(test)]
    pub(super) fn of(
        rsa: &[K8sSecret],
        age: &[K8sSecret],
        order: OrderPriority,
        namespace: &str,
    ) -> Self {
        Self::from_records(read_rsa(rsa, order), age, order, namespace)
    }

    /// The keys of RSA records from [`read_rsa`] (protected ones unwrapped or not) and of
    /// `age` key Secrets.
    pub(super) fn from_records(
        rsa: Vec<KeyRecord>,
        age: &[K8sSecret],
        order: OrderPriority,
        namespace: &str,
    ) -> Self {
        let rsa = usable(KeyKind::Rsa, rsa, namespace);
        let requested: Vec<String> = rsa
            .iter()
            .filter(|r| r.renew_requested)
            .map(|r| r.secret.clone())
            .collect();
        let mut snapshot = KeySnapshot::default();
        for record in rsa {
            if let Some(KeyMaterial::Rsa { key, cert }) = record.material {
                let info = KeyInfo {
                    fingerprint: key.fingerprint().clone(),
                    secret_name: record.secret,
                    order_time: record.order_time.unwrap_or(cert.not_before()),
                    cert,
                    state: record.state,
                };
                if snapshot.ring.insert(key) {
                    snapshot.keys.push(info);
                }
            }
        }
        for record in usable(KeyKind::Age, read(KeyKind::Age, age, order), namespace) {
            if let Some(KeyMaterial::Age(identity)) = record.material {
                let info = AgeKeyInfo {
                    fingerprint: identity.fingerprint().clone(),
                    secret_name: record.secret,
                    order_time: record.order_time.unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    recipient: identity.recipient().clone(),
                    state: record.state,
                };
                if snapshot.ring.insert_age(identity) {
                    snapshot.age.push(info);
                }
            }
        }
        let renew_requested = snapshot
            .newest()
            .is_some_and(|k| requested.contains(&k.secret_name));
        Loaded {
            snapshot: Arc::new(snapshot),
            renew_requested,
            blocked: None,
        }
    }
}

/// The RSA key Secrets whose state unseals, read (protected ones still wrapped).
pub(super) fn read_rsa(secrets: &[K8sSecret], order: OrderPriority) -> Vec<KeyRecord> {
    read(KeyKind::Rsa, secrets, order)
}

/// The key Secrets of `kind` a controller loads: those whose state unseals (there is no legacy
/// age key: an unlabelled age Secret is not loaded).
fn read(kind: KeyKind, secrets: &[K8sSecret], order: OrderPriority) -> Vec<KeyRecord> {
    secrets
        .iter()
        .map(|secret| KeyRecord::read(kind, secret, order))
        .filter(|record| record.state.unseals())
        .collect()
}

/// The usable records, oldest first; an unusable one is reported and skipped, never fatal. A
/// key listed twice (two Secrets with one key) counts once, the older: the ring keeps the
/// first it is given.
fn usable(kind: KeyKind, records: Vec<KeyRecord>, namespace: &str) -> Vec<KeyRecord> {
    let mut records: Vec<KeyRecord> = records
        .into_iter()
        .filter(|record| match &record.problem {
            // Reported by the key manager (`protection`, `events`), once per change.
            Some(KeyProblem::NeedsUnwrap(_)) => false,
            Some(reason) => {
                warn!(secret = %record.secret, %namespace, %kind, %reason, "skipping unusable key Secret");
                false
            }
            None => true,
        })
        .collect();
    sort_oldest_first(&mut records);
    records
}
