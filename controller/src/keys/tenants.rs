//! Tenant keys (docs/multi-tenancy.md, "Tenant keys"): which key set opens and seals for a
//! namespace. The one rule every consumer shares (reconcile, `/v1/cert.pem`, `/v1/recipient`,
//! `/v1/verify`, `/v1/rotate`, the admission webhook):
//!
//! * tenant keys off (`--tenant-keys=false`): the cluster keys, as before;
//! * on, the namespace labelled `<--tenant-label>=T`: tenant T's keys, plus the cluster keys
//!   when T is listed in `--tenant-allow-cluster-key` (the migration switch);
//! * on, no such label: the cluster keys;
//! * on, a label value that is not a tenant name: no keys at all (fail closed, never the
//!   cluster keys).

use std::collections::{BTreeMap, BTreeSet};

use sealant_core::tenant::{KeyOwner, TENANT_LABEL, TenantName, TenantNameError, tenant_of};
use sealant_core::{KeyRing, age::AgeRecipient};

use super::{AgeKeyInfo, KeyInfo, KeySnapshot};
use crate::flags::Args;

/// Which tenants may also open their objects with the cluster keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowCluster {
    /// None (the default): a tenant's objects open with its own keys only.
    #[default]
    None,
    /// Every tenant (`*`).
    All,
    /// The tenants listed.
    Listed(BTreeSet<TenantName>),
}

impl AllowCluster {
    /// Whether `tenant` may open with the cluster keys.
    pub fn allows(&self, tenant: &TenantName) -> bool {
        match self {
            AllowCluster::None => false,
            AllowCluster::All => true,
            AllowCluster::Listed(tenants) => tenants.contains(tenant),
        }
    }
}

/// The tenant flags, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenancy {
    /// `--tenant-keys`.
    pub enabled: bool,
    /// `--tenant-label`: the Namespace label naming a namespace's tenant.
    pub label: String,
    /// `--tenant-allow-cluster-key`.
    pub allow_cluster: AllowCluster,
}

impl Default for Tenancy {
    fn default() -> Self {
        Self {
            enabled: false,
            label: TENANT_LABEL.to_owned(),
            allow_cluster: AllowCluster::None,
        }
    }
}

/// A tenant flag that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TenancyFlagError {
    /// `--tenant-allow-cluster-key` names something that is not a tenant name.
    #[error("--tenant-allow-cluster-key: {0}")]
    AllowList(#[source] TenantNameError),
    /// `--tenant-label` is empty.
    #[error("--tenant-label: a label key is required")]
    EmptyLabel,
}

impl Tenancy {
    /// The tenant flags of `args`.
    ///
    /// # Errors
    /// An empty `--tenant-label` or a name in `--tenant-allow-cluster-key` that is not a
    /// tenant name.
    pub fn from_args(args: &Args) -> Result<Self, TenancyFlagError> {
        Self::parse(
            args.tenant_keys,
            &args.tenant_label,
            &args.tenant_allow_cluster_key,
        )
    }

    /// The tenant flags from their values.
    ///
    /// # Errors
    /// As [`Tenancy::from_args`].
    pub fn parse(enabled: bool, label: &str, allow: &str) -> Result<Self, TenancyFlagError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(TenancyFlagError::EmptyLabel);
        }
        let names: Vec<&str> = allow
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let allow_cluster = if names.is_empty() {
            AllowCluster::None
        } else if names.contains(&"*") {
            AllowCluster::All
        } else {
            AllowCluster::Listed(
                names
                    .into_iter()
                    .map(TenantName::parse)
                    .collect::<Result<_, _>>()
                    .map_err(TenancyFlagError::AllowList)?,
            )
        };
        Ok(Self {
            enabled,
            label: label.to_owned(),
            allow_cluster,
        })
    }

    /// The owner whose keys serve a namespace with `labels` (`None`: the namespace does not
    /// exist, read as unlabelled). Tenant keys off: always the cluster.
    ///
    /// # Errors
    /// The tenant label's value is not a tenant name: the namespace belongs to no usable
    /// tenant and gets no keys at all.
    pub fn owner_of(
        &self,
        labels: Option<&BTreeMap<String, String>>,
    ) -> Result<KeyOwner, BadTenantLabel> {
        if !self.enabled {
            return Ok(KeyOwner::Cluster);
        }
        match tenant_of(labels, &self.label) {
            Ok(Some(tenant)) => Ok(KeyOwner::Tenant(tenant)),
            Ok(None) => Ok(KeyOwner::Cluster),
            Err(source) => Err(BadTenantLabel {
                label: self.label.clone(),
                source,
            }),
        }
    }
}

/// A namespace's tenant label whose value is not a tenant name.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the namespace's label {label} is not a tenant name, so no key opens its SealedSecrets (ask a cluster administrator to fix the label): {source}"
)]
pub struct BadTenantLabel {
    /// The label key (`--tenant-label`).
    pub label: String,
    /// Why the value is not a tenant name.
    #[source]
    pub source: TenantNameError,
}

/// A tenant's keys are not there yet (the leader generates them once it sees the tenant's
/// first namespace): retry shortly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("keys of tenant {0} are not ready")]
pub struct TenantKeysNotReady(pub TenantName);

/// One tenant's keys in a snapshot.
#[derive(Debug, Default)]
pub struct TenantKeys {
    /// The tenant's own keys (its `tenants` map is empty).
    pub own: KeySnapshot,
    /// The tenant's keys and the cluster keys together, built only for a tenant the migration
    /// switch allows (`--tenant-allow-cluster-key`).
    pub with_cluster: Option<KeyRing>,
}

/// The keys for one owner: the ring that opens, the keys that seal.
#[derive(Debug, Clone)]
pub struct OwnerKeys<'a> {
    /// Whose keys seal.
    pub owner: KeyOwner,
    /// Opens the owner's items (with the migration switch, the cluster's too).
    pub ring: &'a KeyRing,
    /// Whether `ring` holds the cluster keys beside a tenant's (the migration switch).
    pub with_cluster: bool,
    /// The owner's newest active RSA key: seals and is published.
    pub sealing: Option<&'a KeyInfo>,
    /// The owner's newest active age key.
    pub sealing_age: Option<&'a AgeKeyInfo>,
}

impl OwnerKeys<'_> {
    /// What the in-sync digest binds besides the object (docs/multi-tenancy.md, "Tenant
    /// keys"): empty for the cluster keys alone (the digests written before tenant keys stay
    /// valid), else the tenant and whether the cluster keys open too, so that a namespace
    /// moved to another tenant, or the migration switch turned off, makes every object of it
    /// decrypt again.
    pub fn digest_tag(&self) -> String {
        match (&self.owner, self.with_cluster) {
            (KeyOwner::Cluster, _) => String::new(),
            (KeyOwner::Tenant(t), false) => format!("tenant={t}"),
            (KeyOwner::Tenant(t), true) => format!("tenant={t}+cluster"),
        }
    }

    /// The published age recipient, if the owner has one.
    pub fn recipient(&self) -> Option<&AgeRecipient> {
        self.sealing_age.map(|k| &k.recipient)
    }

    /// Which keys were tried, for an error: `cluster keys`, `keys of tenant T` (and the
    /// cluster's).
    pub fn describe(&self) -> String {
        match (&self.owner, self.with_cluster) {
            (KeyOwner::Cluster, _) => "cluster keys".to_owned(),
            (KeyOwner::Tenant(t), false) => format!("keys of tenant {t}"),
            (KeyOwner::Tenant(t), true) => format!("keys of tenant {t} and the cluster keys"),
        }
    }

    /// The `Sealant-Key-Owner` header value: `cluster` or `tenant=T`.
    pub fn header(&self) -> String {
        self.owner.wire_name()
    }
}

impl KeySnapshot {
    /// The keys that open and seal for `owner` ([`Tenancy::owner_of`] of the namespace): the
    /// one rule of reconcile, the HTTP API and admission.
    ///
    /// # Errors
    /// A tenant without keys yet (none loaded at all).
    pub fn keys_for(&self, owner: &KeyOwner) -> Result<OwnerKeys<'_>, TenantKeysNotReady> {
        match owner {
            KeyOwner::Cluster => Ok(OwnerKeys {
                owner: KeyOwner::Cluster,
                ring: &self.ring,
                with_cluster: false,
                sealing: self.newest(),
                sealing_age: self.newest_age(),
            }),
            KeyOwner::Tenant(tenant) => {
                let keys = self
                    .tenants
                    .get(tenant)
                    .filter(|k| !k.own.keys.is_empty() || !k.own.age.is_empty())
                    .ok_or_else(|| TenantKeysNotReady(tenant.clone()))?;
                let allowed = self.tenancy.allow_cluster.allows(tenant);
                let ring = match (&keys.with_cluster, allowed) {
                    (Some(both), true) => both,
                    _ => &keys.own.ring,
                };
                Ok(OwnerKeys {
                    owner: owner.clone(),
                    ring,
                    with_cluster: allowed && keys.with_cluster.is_some(),
                    sealing: keys.own.newest(),
                    sealing_age: keys.own.newest_age(),
                })
            }
        }
    }

    /// `owner`'s own key set (`None`: a tenant without keys).
    pub fn owner_set(&self, owner: &KeyOwner) -> Option<&KeySnapshot> {
        match owner {
            KeyOwner::Cluster => Some(self),
            KeyOwner::Tenant(tenant) => self.tenants.get(tenant).map(|k| &k.own),
        }
    }

    /// Every owner's key set: the cluster's first, then each tenant's by name.
    pub fn owners(&self) -> impl Iterator<Item = (KeyOwner, &KeySnapshot)> {
        std::iter::once((KeyOwner::Cluster, self)).chain(
            self.tenants
                .iter()
                .map(|(t, keys)| (KeyOwner::Tenant(t.clone()), &keys.own)),
        )
    }
}

/// The `generateName` of a new key Secret of `owner`: a tenant's is `<prefix>-<tenant>-` (the
/// trailing dashes of `prefix` dropped first, so `sealed-secrets-key` gives
/// `sealed-secrets-key-a-`); the cluster keeps `prefix` as it is (upstream's names).
pub fn generate_name(prefix: &str, owner: &KeyOwner) -> String {
    match owner {
        KeyOwner::Cluster => prefix.to_owned(),
        KeyOwner::Tenant(tenant) => format!("{}-{tenant}-", prefix.trim_end_matches('-')),
    }
}
