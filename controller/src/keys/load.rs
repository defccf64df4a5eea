//! A key snapshot from the key Secrets just listed: each read by `sealant_k8s::keys`, those
//! whose state unseals kept, oldest first, one entry per key. Protected RSA keys are read in
//! two steps: [`read_rsa`], then the manager unwraps them (`protection`), then
//! [`Loaded::from_records`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_core::KeyOwner;
use sealant_k8s::keys::{
    KeyKind, KeyMaterial, KeyProblem, KeyRecord, OrderPriority, sort_oldest_first,
};
use time::OffsetDateTime;
use tracing::warn;

use super::{AgeKeyInfo, KeyInfo, KeySnapshot, Tenancy, TenantKeys};

/// What one read of the key Secrets found.
pub(super) struct Loaded {
    pub(super) snapshot: Arc<KeySnapshot>,
    /// The owners whose newest active RSA key Secret asks for a new key (`sealant keys
    /// rotate`).
    pub(super) renew_requested: BTreeSet<KeyOwner>,
    /// Protected keys wait for an HSM or KMS that failed this way: generate nothing.
    pub(super) blocked: Option<sealant_kms::ErrorKind>,
}

impl Loaded {
    /// The keys of `rsa` and `age` key Secrets (the legacy key among `rsa`), protected keys
    /// not unwrapped, tenant keys off.
    #[cfg(test)]
    pub(super) fn of(
        rsa: &[K8sSecret],
        age: &[K8sSecret],
        order: OrderPriority,
        namespace: &str,
    ) -> Self {
        Self::from_records(
            read_rsa(rsa, order),
            age,
            order,
            namespace,
            &Arc::new(Tenancy::default()),
        )
    }

    /// The keys of RSA records from [`read_rsa`] (protected ones unwrapped or not) and of
    /// `age` key Secrets, split by owner: the cluster's, and with tenant keys on each
    /// tenant's (a tenant's key is never in the cluster's ring, nor the reverse).
    pub(super) fn from_records(
        rsa: Vec<KeyRecord>,
        age: &[K8sSecret],
        order: OrderPriority,
        namespace: &str,
        tenancy: &Arc<Tenancy>,
    ) -> Self {
        let mut by_owner: BTreeMap<KeyOwner, (Vec<KeyRecord>, Vec<KeyRecord>)> = BTreeMap::new();
        by_owner.insert(KeyOwner::Cluster, Default::default());
        for record in usable(KeyKind::Rsa, rsa, namespace) {
            by_owner
                .entry(record.owner.clone())
                .or_default()
                .0
                .push(record);
        }
        for record in usable(KeyKind::Age, read(KeyKind::Age, age, order), namespace) {
            by_owner
                .entry(record.owner.clone())
                .or_default()
                .1
                .push(record);
        }
        let mut renew_requested = BTreeSet::new();
        let mut cluster = KeySnapshot::default();
        let mut tenants = BTreeMap::new();
        for (owner, (rsa, age)) in by_owner {
            let (set, requested) = key_set(rsa, age);
            if requested {
                renew_requested.insert(owner.clone());
            }
            match owner {
                KeyOwner::Cluster => cluster = set,
                // Listed only with tenant keys on; never used otherwise.
                KeyOwner::Tenant(_) if !tenancy.enabled => {}
                KeyOwner::Tenant(tenant) => {
                    tenants.insert(
                        tenant,
                        TenantKeys {
                            own: set,
                            with_cluster: None,
                        },
                    );
                }
            }
        }
        for (tenant, keys) in &mut tenants {
            if tenancy.allow_cluster.allows(tenant) {
                let mut both = keys.own.ring.clone();
                for key in cluster.ring.iter() {
                    both.insert(key.clone());
                }
                for identity in cluster.ring.age_identities() {
                    both.insert_age(identity.clone());
                }
                keys.with_cluster = Some(both);
            }
        }
        cluster.tenants = tenants;
        cluster.tenancy = tenancy.clone();
        Loaded {
            snapshot: Arc::new(cluster),
            renew_requested,
            blocked: None,
        }
    }
}

/// One owner's usable records (oldest first) as a key set; whether its newest active RSA key
/// Secret asks for a new key.
fn key_set(rsa: Vec<KeyRecord>, age: Vec<KeyRecord>) -> (KeySnapshot, bool) {
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
    for record in age {
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
    (snapshot, renew_requested)
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
