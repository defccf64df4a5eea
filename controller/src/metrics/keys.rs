//! The key metrics (`sealant_keys`, `sealant_key_age_seconds`, `sealant_key_renewal_seconds`,
//! `sealant_key_sealedsecrets*`), read from the current keys and the leader's key inventory at
//! each scrape. Every key metric has a `tenant` label: "" (no label, to Prometheus) for the
//! cluster keys, the tenant's name for a tenant's (docs/multi-tenancy.md, "Tenant keys").

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
    /// The tenant whose key set it is ("" for the cluster keys: Prometheus stores no label).
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabels {
    tenant: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    fingerprint: String,
    kind: String,
    state: String,
    tenant: String,
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

/// One loaded key as the metrics label it.
struct Loaded {
    fingerprint: String,
    kind: &'static str,
    state: String,
    order_time: time::OffsetDateTime,
    /// "" for the cluster keys.
    tenant: String,
}

/// Each owner's key set: the cluster's ("") and, with tenant keys on, each tenant's
/// (docs/multi-tenancy.md, "Tenant keys").
fn owner_sets(snapshot: &KeySnapshot) -> Vec<(String, &KeySnapshot)> {
    std::iter::once((String::new(), snapshot))
        .chain(
            snapshot
                .tenants
                .iter()
                .map(|(name, keys)| (name.as_str().to_owned(), &keys.own)),
        )
        .collect()
}

/// Every loaded key of every owner, cluster first; RSA first, oldest first within an owner.
fn loaded_keys(snapshot: &KeySnapshot) -> Vec<Loaded> {
    let mut loaded = Vec::new();
    for (tenant, set) in owner_sets(snapshot) {
        for k in &set.keys {
            loaded.push(Loaded {
                fingerprint: k.fingerprint.to_string(),
                kind: KIND_RSA,
                state: k.state.to_string(),
                order_time: k.order_time,
                tenant: tenant.clone(),
            });
        }
        for k in &set.age {
            loaded.push(Loaded {
                fingerprint: k.fingerprint.to_string(),
                kind: KIND_AGE,
                state: k.state.to_string(),
                order_time: k.order_time,
                tenant: tenant.clone(),
            });
        }
    }
    loaded
}

impl Loaded {
    fn labels(&self) -> KeyLabels {
        KeyLabels {
            fingerprint: self.fingerprint.clone(),
            kind: self.kind.to_owned(),
            state: self.state.clone(),
            tenant: self.tenant.clone(),
        }
    }
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
    for (tenant, _) in owner_sets(snapshot) {
        for kind in [KIND_RSA, KIND_AGE] {
            for state in ["active", "compromised"] {
                let n = loaded
                    .iter()
                    .filter(|k| k.kind == kind && k.state == state && k.tenant == tenant)
                    .count();
                count
                    .get_or_create(&KindStateLabels {
                        kind: kind.to_owned(),
                        state: state.to_owned(),
                        tenant: tenant.clone(),
                    })
                    .set(gauge_value(n));
            }
        }
    }
    count.encode(encoder.encode_descriptor(
        "sealant_keys",
        "Loaded keys by kind and state (compromised keys unseal but never seal)",
        None,
        count.metric_type(),
    )?)?;

    let age = Family::<KeyLabels, Gauge<f64, AtomicU64>>::default();
    for key in &loaded {
        age.get_or_create(&key.labels())
            .set((now - key.order_time).as_seconds_f64());
    }
    if !age.is_empty() {
        age.encode(encoder.encode_descriptor(
            "sealant_key_age",
            "Age of each loaded key, from the time keys are ordered by",
            Some(&Unit::Seconds),
            age.metric_type(),
        )?)?;
    }

    let renewal = Family::<TenantLabels, Gauge<f64, AtomicU64>>::default();
    for (tenant, set) in owner_sets(snapshot) {
        if let Some(newest) = set.newest().filter(|_| !renew_period.is_zero()) {
            let due = newest.order_time + renew_period;
            renewal
                .get_or_create(&TenantLabels { tenant })
                .set((due - now).as_seconds_f64());
        }
    }
    if !renewal.is_empty() {
        renewal.encode(encoder.encode_descriptor(
            "sealant_key_renewal",
            "Time until each owner's newest active key is due for renewal (negative: overdue)",
            Some(&Unit::Seconds),
            renewal.metric_type(),
        )?)?;
    }

    let Some(usage) = usage else {
        return Ok(());
    };
    let used = Family::<KeyLabels, Gauge>::default();
    for key in &loaded {
        let n = usage.by_key.get(&key.fingerprint).copied().unwrap_or(0);
        used.get_or_create(&key.labels())
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    for (fingerprint, n) in &usage.by_key {
        if loaded.iter().any(|k| &k.fingerprint == fingerprint) {
            continue;
        }
        used.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: "unknown".to_owned(),
            state: "unloaded".to_owned(),
            tenant: String::new(),
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
