//! What the leader has to do about the keys it just read, per owner: the cluster's keys and,
//! with tenant keys on, each tenant's (docs/multi-tenancy.md, "Tenant keys"); and the
//! `--key-cutoff-time` that makes the cluster's first check generate a key.

use std::collections::BTreeSet;
use std::time::Duration;

use sealant_core::KeyOwner;
use sealant_core::tenant::TenantName;
use time::OffsetDateTime;

use super::KeySnapshot;
use super::load::Loaded;

/// The longest a new key waits for the second of the key it replaces to pass: a clock ahead
/// of ours must not hold a renewal up.
const MAX_TIE_WAIT: Duration = Duration::from_secs(2);

/// How long a new key of `owner` (`age` or RSA) must wait at `now` to be made in a later
/// second than the owner's newest key of that kind. Keys rank by their time to the second
/// (upstream's order) and equal times by list order, so a key made in the same second as the
/// one it replaces might not rank as the newest (docs/rotation.md, "Keys and their states").
pub(super) fn tie_wait(
    snapshot: &KeySnapshot,
    owner: &KeyOwner,
    age: bool,
    now: OffsetDateTime,
) -> Option<Duration> {
    let set = snapshot.owner_set(owner)?;
    let newest = if age {
        set.newest_age()?.order_time
    } else {
        set.newest()?.order_time
    };
    let next_second =
        OffsetDateTime::from_unix_timestamp(newest.unix_timestamp().checked_add(1)?).ok()?;
    let wait = Duration::try_from(next_second - now).ok()?;
    (!wait.is_zero()).then(|| wait.min(MAX_TIE_WAIT))
}

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
