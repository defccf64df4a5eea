//! What the leader has to do about the keys it just read, per owner: the cluster's keys and,
//! with tenant keys on, each tenant's (docs/multi-tenancy.md, "Tenant keys"); and the
//! `--key-cutoff-time` that makes the cluster's first check generate a key.

use std::collections::BTreeSet;

use sealant_core::KeyOwner;
use sealant_core::tenant::TenantName;
use time::OffsetDateTime;

use super::KeySnapshot;
use super::load::Loaded;

/// What the leader has to do about the keys it just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyAction {
    /// No active RSA key (none yet, or every one compromised or retired): generate one.
    NoActiveKey,
    /// `sealant keys rotate` asked for a new key.
    RenewRequested,
    /// age keys are on and no active age key is left.
    NoActiveAgeKey,
}

impl KeyAction {
    /// What the cluster keys call for.
    #[cfg(test)]
    pub(super) fn of(loaded: &Loaded, age_keys: bool) -> Option<KeyAction> {
        Self::of_owner(loaded, &KeyOwner::Cluster, age_keys)
    }

    /// What `owner`'s keys call for (a tenant without any key: [`KeyAction::NoActiveKey`]).
    pub(super) fn of_owner(loaded: &Loaded, owner: &KeyOwner, age_keys: bool) -> Option<KeyAction> {
        let set = loaded.snapshot.owner_set(owner);
        if loaded.blocked.is_some() {
            // Keys wait for their HSM or KMS: a new one now could replace a key that is only
            // unreachable (docs/key-protection.md, "Failures").
            None
        } else if set.and_then(KeySnapshot::newest).is_none() {
            Some(KeyAction::NoActiveKey)
        } else if loaded.renew_requested.contains(owner) {
            Some(KeyAction::RenewRequested)
        } else if age_keys && set.and_then(KeySnapshot::newest_age).is_none() {
            Some(KeyAction::NoActiveAgeKey)
        } else {
            None
        }
    }

    /// What every owner's keys call for: the cluster's, each tenant with keys, and each tenant
    /// in `seen` (that has a namespace), the cluster first.
    pub(super) fn plan(
        loaded: &Loaded,
        seen: &BTreeSet<TenantName>,
        age_keys: bool,
    ) -> Vec<(KeyOwner, KeyAction)> {
        let snapshot = &loaded.snapshot;
        let mut owners = vec![KeyOwner::Cluster];
        if snapshot.tenancy.enabled {
            let tenants: BTreeSet<&TenantName> = snapshot.tenants.keys().chain(seen).collect();
            owners.extend(tenants.into_iter().cloned().map(KeyOwner::Tenant));
        }
        owners
            .into_iter()
            .filter_map(|owner| Self::of_owner(loaded, &owner, age_keys).map(|a| (owner, a)))
            .collect()
    }
}

/// `--key-cutoff-time` in another format than `date -R`'s.
#[derive(Debug, thiserror::Error)]
#[error("--key-cutoff-time {text:?}: expected a time like `date -R` prints ({source})")]
pub struct CutoffError {
    text: String,
    #[source]
    source: time::error::Parse,
}

/// Parses `--key-cutoff-time` (RFC 1123 with a numeric zone, as `date -R` prints).
///
/// # Errors
/// A non-empty value in another format.
pub fn parse_cutoff(text: &str) -> Result<Option<OffsetDateTime>, CutoffError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc2822)
        .map(Some)
        .map_err(|source| CutoffError {
            text: text.to_owned(),
            source,
        })
}
