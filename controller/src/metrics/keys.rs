//! The key metrics (`sealant_keys`, `sealant_key_age_seconds`, `sealant_key_renewal_seconds`,
//! `sealant_key_sealedsecrets*`), read from the current keys and the leader's key inventory at
//! each scrape.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Unit;

use crate::keys::{KIND_AGE, KIND_RSA, KeySnapshot, KeyStore};

/// How many SealedSecrets use each key, as far as the leader's reconciles know.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    /// Fingerprint → number of SealedSecrets whose inventory lists it.
    pub by_key: BTreeMap<String, u64>,
    /// SealedSecrets without an inventory yet.
    pub unknown: u64,
}

/// Where the key usage comes from: the reconciler's key inventory implements it, so this
/// module does not depend on the reconciler.
pub trait KeyUsageSource: Send + Sync {
    /// The usage now.
    fn key_usage(&self) -> KeyUsage;
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindStateLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    fingerprint: String,
    kind: String,
    state: String,
}

/// Reads the current keys (and the leader's inventory) at scrape time.
pub(super) struct KeyCollector {
    pub(super) store: Arc<Mutex<Option<KeyStore>>>,
    pub(super) inventory: Arc<Mutex<Option<Arc<dyn KeyUsageSource>>>>,
    pub(super) renew_period: Duration,
}

impl fmt::Debug for KeyCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCollector").finish_non_exhaustive()
    }
}

/// `(fingerprint, kind, state)` of every loaded key, RSA first, oldest first.
fn loaded_keys(
    snapshot: &KeySnapshot,
) -> Vec<(String, &'static str, String, time::OffsetDateTime)> {
    let rsa = snapshot.keys.iter().map(|k| {
        (
            k.fingerprint.to_string(),
            KIND_RSA,
            k.state.to_string(),
            k.order_time,
        )
    });
    let age = snapshot.age.iter().map(|k| {
        (
            k.fingerprint.to_string(),
            KIND_AGE,
            k.state.to_string(),
            k.order_time,
        )
    });
    rsa.chain(age).collect()
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Encodes the key metrics of `snapshot` at `now`; the usage ones only with `usage`.
pub(super) fn encode_keys(
    encoder: &mut DescriptorEncoder,
    snapshot: &KeySnapshot,
    usage: Option<&KeyUsage>,
    renew_period: Duration,
    now: time::OffsetDateTime,
) -> Result<(), fmt::Error> {
    let loaded = loaded_keys(snapshot);
    let count = Family::<KindStateLabels, Gauge>::default();
    for kind in [KIND_RSA, KIND_AGE] {
        for state in ["active", "compromised"] {
            let n = loaded
                .iter()
                .filter(|(_, k, s, _)| *k == kind && s == state)
                .count();
            count
                .get_or_create(&KindStateLabels {
                    kind: kind.to_owned(),
                    state: state.to_owned(),
                })
                .set(gauge_value(n));
        }
    }
    count.encode(encoder.encode_descriptor(
        "sealant_keys",
        "Loaded keys by kind and state (compromised keys unseal but never seal)",
        None,
        count.metric_type(),
    )?)?;

    let age = Family::<KeyLabels, Gauge<f64, AtomicU64>>::default();
    for (fingerprint, kind, state, order_time) in &loaded {
        age.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: (*kind).to_owned(),
            state: state.clone(),
        })
        .set((now - *order_time).as_seconds_f64());
    }
    if !age.is_empty() {
        age.encode(encoder.encode_descriptor(
            "sealant_key_age",
            "Age of each loaded key, from the time keys are ordered by",
            Some(&Unit::Seconds),
            age.metric_type(),
        )?)?;
    }

    if let Some(newest) = snapshot.newest().filter(|_| !renew_period.is_zero()) {
        let due = newest.order_time + renew_period;
        let renewal = Gauge::<f64, AtomicU64>::default();
        renewal.set((due - now).as_seconds_f64());
        renewal.encode(encoder.encode_descriptor(
            "sealant_key_renewal",
            "Time until the newest active key is due for renewal (negative: overdue)",
            Some(&Unit::Seconds),
            renewal.metric_type(),
        )?)?;
    }

    let Some(usage) = usage else {
        return Ok(());
    };
    let used = Family::<KeyLabels, Gauge>::default();
    for (fingerprint, kind, state, _) in &loaded {
        let n = usage.by_key.get(fingerprint).copied().unwrap_or(0);
        used.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: (*kind).to_owned(),
            state: state.clone(),
        })
        .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    for (fingerprint, n) in &usage.by_key {
        if loaded.iter().any(|(f, ..)| f == fingerprint) {
            continue;
        }
        used.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: "unknown".to_owned(),
            state: "unloaded".to_owned(),
        })
        .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    if !used.is_empty() {
        used.encode(encoder.encode_descriptor(
            "sealant_key_sealedsecrets",
            "SealedSecrets whose key inventory lists the key (0: nothing depends on it)",
            None,
            used.metric_type(),
        )?)?;
    }
    let unknown = Gauge::<i64>::default();
    unknown.set(i64::try_from(usage.unknown).unwrap_or(i64::MAX));
    unknown.encode(encoder.encode_descriptor(
        "sealant_key_sealedsecrets_unknown",
        "SealedSecrets whose keys are not known yet",
        None,
        unknown.metric_type(),
    )?)?;
    Ok(())
}

impl Collector for KeyCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let store = self.store.lock().clone();
        let Some(store) = store else {
            return Ok(());
        };
        let inventory = self.inventory.lock().clone();
        let usage = inventory.map(|inventory| inventory.key_usage());
        encode_keys(
            &mut encoder,
            &store.snapshot(),
            usage.as_ref(),
            self.renew_period,
            time::OffsetDateTime::now_utc(),
        )
    }
}
