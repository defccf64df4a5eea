//! The sealing keys: loaded from key Secrets in upstream's layout (docs/upstream.md, "Key
//! Secrets"), generated on first start and on renewal, and re-read while running so that keys
//! added, relabelled or removed by hand take effect without a restart. Keys are never deleted
//! here.
//!
//! Next to the RSA keys, the controller holds age X25519 identities (docs/format.md, "7. age
//! keys in a cluster") as key Secrets of their own type and label (`sealant_core::keysecret::age`), under
//! the same rules: loaded and re-read with the RSA keys, one generated on first start and at
//! each renewal by the leader only, the newest published (at `/v1/recipient`), all of them used
//! to unseal.
//!
//! Key states (docs/rotation.md, "1. Keys and their states") are the label's value, for both
//! kinds: `active` keys unseal and the newest active one seals and is published; `compromised`
//! keys still unseal (so running workloads keep their Secrets while the repository is
//! re-encrypted) but never seal and are never published; `retired` keys and any other value are
//! not loaded at all. Upstream loads only `active`, so a compromised key is a documented
//! deviation. When no active RSA key is left, the leader generates one, and a renewal request
//! (`sealant keys rotate`, the `sealant.dev/renew-requested` annotation on the newest active key
//! Secret) makes it generate one now.
//!
//! Listing key Secrets, reading them and the rule for which key seals are
//! `sealant_k8s::keys`'s, shared with the CLI; this module keeps what only a controller does:
//! the snapshot the reconciler and the API read ([`KeyStore`]), and generation
//! ([`KeyManager`], in `manager`; the snapshot is built in `load`). Key protection
//! (docs/key-protection.md): unwrapping through the HSM or KMS and the keys it gave, in
//! `protection`; its events and log lines, in `events`.

mod escrow;
mod events;
mod load;
mod manager;
mod ns_labels;
mod plan;
mod protection;
#[cfg(test)]
mod protection_tests;
mod provider_metrics;
mod tenants;
#[cfg(test)]
mod tenants_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use sealant_core::age::AgeRecipient;
use sealant_core::keysecret::KeyState;
use sealant_core::tenant::TenantName;
use sealant_core::{Certificate, Fingerprint, KeyRing};
use sealant_k8s::keys::{KeyKind, SealingCandidate, sealing_key};
use time::OffsetDateTime;
use tokio::sync::watch;

pub use escrow::{EscrowError, EscrowFlagError, EscrowMetrics};
pub use manager::{KeyManager, KeyManagerError};
pub use plan::{CutoffError, parse_cutoff};
pub use provider_metrics::KmsMetrics;
pub use tenants::{
    AllowCluster, BadTenantLabel, OwnerKeys, Tenancy, TenancyFlagError, TenantKeys,
    TenantKeysNotReady, generate_name,
};

/// One usable key and what is known about it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Fingerprint of the public key.
    pub fingerprint: Fingerprint,
    /// The key Secret's name.
    pub secret_name: String,
    /// The time keys are ordered by (certificate NotBefore, or Secret creation).
    pub order_time: OffsetDateTime,
    /// The certificate (served at /v1/cert.pem when newest active).
    pub cert: Certificate,
    /// Its state (active or compromised: no other state is loaded).
    pub state: KeyState,
}

/// One usable age identity and what is known about it (never the identity itself: that is in
/// the ring).
#[derive(Debug, Clone)]
pub struct AgeKeyInfo {
    /// Fingerprint of the recipient (`SHA256:` of the recipient string).
    pub fingerprint: Fingerprint,
    /// The key Secret's name.
    pub secret_name: String,
    /// The time age keys are ordered by (`sealant.dev/created-at`, else Secret creation).
    pub order_time: OffsetDateTime,
    /// The public recipient (served at /v1/recipient when newest active).
    pub recipient: AgeRecipient,
    /// Its state (active or compromised: no other state is loaded).
    pub state: KeyState,
}

/// Only usable keys are loaded, so the sealing-key rule reads them as usable.
macro_rules! loaded_key_candidate {
    ($info:ty) => {
        impl SealingCandidate for $info {
            fn order_time(&self) -> Option<OffsetDateTime> {
                Some(self.order_time)
            }

            fn state(&self) -> &KeyState {
                &self.state
            }

            fn usable(&self) -> bool {
                true
            }
        }
    };
}
loaded_key_candidate!(KeyInfo);
loaded_key_candidate!(AgeKeyInfo);

/// Label value of `kind` in metrics for RSA keys.
pub const KIND_RSA: &str = KeyKind::Rsa.name();
/// Label value of `kind` in metrics for age keys.
pub const KIND_AGE: &str = KeyKind::Age.name();

/// The keys at one moment: every loaded key (active or compromised) decrypts, the newest
/// active one seals. `ring`, `keys` and `age` are the cluster keys; with `--tenant-keys`, each
/// tenant's keys are in `tenants`, and [`KeySnapshot::keys_for`] is the rule for which set
/// serves a namespace (docs/multi-tenancy.md, "Tenant keys").
#[derive(Debug, Default)]
pub struct KeySnapshot {
    /// Every loaded cluster key, RSA and age.
    pub ring: KeyRing,
    /// Cluster RSA keys, oldest first.
    pub keys: Vec<KeyInfo>,
    /// Cluster age keys, oldest first.
    pub age: Vec<AgeKeyInfo>,
    /// Each tenant's keys (empty with tenant keys off).
    pub tenants: BTreeMap<TenantName, TenantKeys>,
    /// The tenant flags the snapshot was built with.
    pub tenancy: Arc<Tenancy>,
}

impl KeySnapshot {
    /// The newest active key: the one to seal with and to publish. A compromised key never is,
    /// however new (`sealant_k8s::keys::sealing_key`, the rule the CLI shows).
    pub fn newest(&self) -> Option<&KeyInfo> {
        sealing_key(&self.keys)
    }

    /// The newest active age key: the recipient to publish.
    pub fn newest_age(&self) -> Option<&AgeKeyInfo> {
        sealing_key(&self.age)
    }

    /// The state and kind ([`KIND_RSA`], [`KIND_AGE`]) of a loaded key, by fingerprint text,
    /// whoever owns it.
    pub fn key_state(&self, fingerprint: &str) -> Option<(&KeyState, &'static str)> {
        self.own_key_state(fingerprint).or_else(|| {
            self.tenants
                .values()
                .find_map(|t| t.own.own_key_state(fingerprint))
        })
    }

    fn own_key_state(&self, fingerprint: &str) -> Option<(&KeyState, &'static str)> {
        self.keys
            .iter()
            .find(|k| k.fingerprint.as_str() == fingerprint)
            .map(|k| (&k.state, KIND_RSA))
            .or_else(|| {
                self.age
                    .iter()
                    .find(|k| k.fingerprint.as_str() == fingerprint)
                    .map(|k| (&k.state, KIND_AGE))
            })
    }

    /// Whether `other` holds the same keys in the same states (what [`KeyStore::changed`]
    /// waiters are woken for: a relabel from active to compromised matters as much as a new
    /// key, since every object's `KeyCompromised` condition depends on it).
    fn same_keys(&self, other: &KeySnapshot) -> bool {
        self.same_own_keys(other)
            && self.tenants.len() == other.tenants.len()
            && self
                .tenants
                .iter()
                .zip(&other.tenants)
                .all(|((a, ka), (b, kb))| a == b && ka.own.same_own_keys(&kb.own))
    }

    fn same_own_keys(&self, other: &KeySnapshot) -> bool {
        self.keys
            .iter()
            .map(|k| (&k.fingerprint, &k.state))
            .eq(other.keys.iter().map(|k| (&k.fingerprint, &k.state)))
            && self
                .age
                .iter()
                .map(|k| (&k.fingerprint, &k.state))
                .eq(other.age.iter().map(|k| (&k.fingerprint, &k.state)))
    }
}

/// A read handle on the current keys, cheap to clone and share.
#[derive(Clone)]
pub struct KeyStore {
    rx: watch::Receiver<Arc<KeySnapshot>>,
    /// Where namespace labels are read for [`KeyStore::owner_of_namespace`] (`None`: every
    /// namespace reads as unlabelled; tests and offline use).
    namespaces: Option<Arc<ns_labels::NamespaceLabels>>,
}

/// The owner of a namespace's keys could not be told.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceOwnerError {
    /// The namespace's labels could not be read (status code kept).
    #[error("cannot read the labels of namespace {namespace:?}: {}", .source.kube())]
    Lookup {
        /// The namespace.
        namespace: String,
        /// The API server's error (boxed: kube errors are large).
        #[source]
        source: Box<sealant_k8s::KubeError>,
    },
    /// The tenant label's value is not a tenant name.
    #[error("namespace {namespace:?}: {source}")]
    BadLabel {
        /// The namespace.
        namespace: String,
        /// The label and why its value is refused.
        #[source]
        source: BadTenantLabel,
    },
}

impl KeyStore {
    /// The keys now.
    pub fn snapshot(&self) -> Arc<KeySnapshot> {
        self.rx.borrow().clone()
    }

    /// Waits until the set of keys or their states change (a key added, renewed, removed,
    /// compromised or reactivated); `false` once the key manager is gone. Changes before the
    /// first call count from this handle's creation.
    pub async fn changed(&mut self) -> bool {
        self.rx.changed().await.is_ok()
    }

    /// Takes the current keys as seen, so [`KeyStore::changed`] waits for the next change.
    pub fn mark_seen(&mut self) {
        drop(self.rx.borrow_and_update());
    }

    /// A store with fixed keys (tests and offline use); every namespace reads as unlabelled.
    pub fn fixed(snapshot: KeySnapshot) -> Self {
        let (_tx, rx) = watch::channel(Arc::new(snapshot));
        Self {
            rx,
            namespaces: None,
        }
    }

    /// Whose keys serve `namespace` ([`Tenancy::owner_of`] of its labels, from a Namespace
    /// watch's cache (a `get` until it has listed); none with tenant keys off).
    ///
    /// # Errors
    /// The labels cannot be read, or the tenant label's value is not a tenant name.
    pub async fn owner_of_namespace(
        &self,
        snapshot: &KeySnapshot,
        namespace: &str,
    ) -> Result<sealant_core::KeyOwner, NamespaceOwnerError> {
        if !snapshot.tenancy.enabled || namespace.is_empty() {
            return Ok(sealant_core::KeyOwner::Cluster);
        }
        let labels =
            match &self.namespaces {
                Some(namespaces) => namespaces.labels(namespace).await.map_err(|err| {
                    NamespaceOwnerError::Lookup {
                        namespace: namespace.to_owned(),
                        source: Box::new(err.into()),
                    }
                })?,
                None => None,
            };
        snapshot
            .tenancy
            .owner_of(labels.as_ref())
            .map_err(|source| NamespaceOwnerError::BadLabel {
                namespace: namespace.to_owned(),
                source,
            })
    }
}
