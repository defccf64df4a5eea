//! The status: what a reconcile wants it to say, writing it by server-side apply, and the
//! memory of our own writes that keeps them from starting reconciles (docs/controller.md,
//! "Writes" and "Caches").

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource};
use sealant_core::object::{SealedSecretCondition, SealedSecretStatus};
use serde_json::json;
use tracing::warn;

use super::answers;
use super::error::truncate;
use super::shared_lists::SharedLists;
use super::{
    CONDITION_KEY_COMPROMISED, CONDITION_SYNCED, Ctx, FIELD_MANAGER, ObjectKey, REASON_COMPROMISED,
    Stripped, memory_key, object_key,
};
use crate::crd::SealedSecret;
use crate::rollout::{self, CONDITION_ROLLOUT};

/// Longest `Synced` condition message written, in bytes.
pub(super) const STATUS_MESSAGE_MAX: usize = 1024;

/// The status a reconcile wants the object to have.
#[derive(Debug, Clone)]
pub(super) struct DesiredStatus {
    pub(super) synced: &'static str,
    pub(super) message: String,
    pub(super) generation: Option<i64>,
    pub(super) key_fingerprints: Option<Vec<String>>,
    pub(super) compromised: Option<String>,
    /// The rollout condition (docs/rollout.md), third when set.
    pub(super) rollout: Option<rollout::Condition>,
    /// The `Synced` condition's reason (sealant's own failures only; upstream sets none).
    pub(super) reason: Option<&'static str>,
}

impl DesiredStatus {
    /// The message is bounded like event notes: one failing item or template per line could
    /// otherwise make a status too large to write.
    pub(super) fn new(
        synced: &'static str,
        message: &str,
        generation: Option<i64>,
        key_fingerprints: Option<Vec<String>>,
        compromised: Option<String>,
        rollout: Option<rollout::Condition>,
    ) -> Self {
        Self {
            synced,
            message: truncate(message, STATUS_MESSAGE_MAX),
            generation,
            key_fingerprints,
            compromised,
            rollout,
            reason: None,
        }
    }

    /// Sets the `Synced` condition's reason.
    pub(super) fn with_reason(mut self, reason: Option<&'static str>) -> Self {
        self.reason = reason;
        self
    }

    /// This status as remembered once written over `sealed` (its uid and version).
    pub(super) fn written(&self, sealed: &SealedSecret) -> WrittenStatus {
        let rare = (self.compromised.is_some() || self.rollout.is_some()).then(|| {
            Box::new(RareStatus {
                compromised: self.compromised.clone(),
                rollout: self.rollout.clone(),
            })
        });
        WrittenStatus {
            uid: uid_hash(sealed),
            seen_version: seen_version_hash(sealed),
            generation: self.generation,
            synced: self.synced,
            key_fingerprints: self.key_fingerprints.as_deref().map(Arc::from),
            rare,
            reason: self.reason,
        }
    }
}

/// What the controller last wrote to one object's status, and for which object, generation and
/// version of the object (the `resourceVersion` it wrote over), compact (docs/design/memory.md,
/// "What is cut"): uid and version as hashes (both set by the API server, not by a tenant),
/// the key fingerprints shared through [`StatusMemory`]'s interner, and the fields most objects
/// leave unset behind one box. Equal records mean the same status written over the same version.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct WrittenStatus {
    /// Hash of the object's uid.
    pub(super) uid: u64,
    /// Hash of the version the write went over: a reconcile that still sees it knows the write
    /// is not in its view yet; any other version (someone else wrote since) is checked afresh.
    pub(super) seen_version: u64,
    pub(super) generation: Option<i64>,
    pub(super) synced: &'static str,
    /// Interned when remembered: one list per distinct inventory, not one per object. Never
    /// cloned out of the memory, so the interner can drop a list its last record let go.
    pub(super) key_fingerprints: Option<Arc<[String]>>,
    /// The `KeyCompromised` message and the rollout condition, when either is set.
    pub(super) rare: Option<Box<RareStatus>>,
    pub(super) reason: Option<&'static str>,
}

/// The parts of a [`WrittenStatus`] that most objects never have.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RareStatus {
    pub(super) compromised: Option<String>,
    pub(super) rollout: Option<rollout::Condition>,
}

fn uid_hash(sealed: &SealedSecret) -> u64 {
    let mut hasher = DefaultHasher::new();
    sealed.metadata.uid.hash(&mut hasher);
    hasher.finish()
}

fn seen_version_hash(sealed: &SealedSecret) -> u64 {
    let mut hasher = DefaultHasher::new();
    sealed.metadata.resource_version.hash(&mut hasher);
    hasher.finish()
}

/// Per object: the status last written (for reconciles whose view predates the write) and the
/// hash of the status we consider our own (for [`StatusMemory::trigger_hash`]).
#[derive(Debug, Default)]
pub struct StatusMemory {
    inner: parking_lot::Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    objects: HashMap<Box<str>, Remembered>,
    /// The distinct key inventories the records hold: few keys are shared by thousands of
    /// objects.
    fingerprints: SharedLists,
}

/// One object's entry. The record of our last write is boxed: objects found in sync after a
/// start are never written and have none (docs/design/memory.md, "What is cut").
#[derive(Debug, Default)]
struct Remembered {
    written: Option<Box<WrittenStatus>>,
    own: Option<u64>,
    /// The trigger hash of the object's last watch event ([`StatusMemory::triggers`]).
    trigger: Option<u64>,
}

impl Memory {
    /// `written` with its inventory replaced by the shared copy.
    fn intern(&mut self, mut written: WrittenStatus) -> WrittenStatus {
        written.key_fingerprints = written
            .key_fingerprints
            .take()
            .map(|list| self.fingerprints.share(list));
        written
    }

    /// A record lets go of its inventory.
    fn release(&mut self, written: Option<Box<WrittenStatus>>) {
        self.fingerprints
            .release(written.and_then(|w| w.key_fingerprints));
    }
}

impl StatusMemory {
    /// What starts a reconcile, for kube-runtime's predicate filter: the generation (spec), the
    /// labels and annotations (templates and upstream's annotations read them), and the status
    /// unless it is the one we wrote. A generation predicate alone would miss metadata-only
    /// changes and a status forged by a tenant (which must be corrected); a status predicate
    /// alone would start a reconcile for each of our own writes. The status at first sight is
    /// taken as ours: first sight starts a reconcile anyway, which corrects it if need be.
    ///
    /// The labels and annotations enter as their hash, taken from `stripped` for a copy the
    /// watch cache cut (computed before the cut, so a tenant's change to any of them still
    /// starts a reconcile, and the cut itself does not).
    pub fn trigger_hash(&self, sealed: &SealedSecret, stripped: &Stripped) -> u64 {
        self.with_trigger_hash(sealed, stripped, |_, hash| hash)
    }

    /// Whether a watch event of `sealed` starts a reconcile: its [`Self::trigger_hash`] differs
    /// from that of the object's last event, or the object is new (another uid, as after a
    /// delete and re-create). This is kube-runtime's predicate filter, kept in the object's
    /// entry here instead of a map of its own keyed by three strings (docs/design/memory.md,
    /// "What is cut"); the entry goes when the object does ([`Self::forget`]).
    pub fn triggers(&self, sealed: &SealedSecret, stripped: &Stripped) -> bool {
        self.with_trigger_hash(sealed, stripped, |entry, hash| {
            let mut hasher = DefaultHasher::new();
            sealed.metadata.uid.hash(&mut hasher);
            hash.hash(&mut hasher);
            let trigger = hasher.finish();
            entry.trigger.replace(trigger) != Some(trigger)
        })
    }

    /// `then` with the object's entry and its [`Self::trigger_hash`], under one lock.
    fn with_trigger_hash<R>(
        &self,
        sealed: &SealedSecret,
        stripped: &Stripped,
        then: impl FnOnce(&mut Remembered, u64) -> R,
    ) -> R {
        let metadata = stripped.metadata_hash_of(sealed);
        let mut memory = self.inner.lock();
        let entry = memory
            .objects
            .entry(memory_key(&object_key(sealed)))
            .or_default();
        let hash = entry_trigger_hash(entry, sealed, metadata);
        then(entry, hash)
    }

    /// The inventory recorded for the object's current generation: what this controller last
    /// wrote (the object seen may predate that write), else `status.keyFingerprints` when the
    /// status describes this generation (the inputs the Secret's digest vouches for belong to
    /// it).
    pub(super) fn recorded_inventory(&self, sealed: &SealedSecret) -> Option<Vec<String>> {
        let memory = self.inner.lock();
        let written = memory
            .objects
            .get(&memory_key(&object_key(sealed)))
            .and_then(|r| r.written.as_deref());
        recorded_inventory(sealed, written)
    }

    /// Whether `written` is what was last written for the object: the same status over the
    /// same version.
    pub(super) fn already_written(&self, key: &ObjectKey, written: &WrittenStatus) -> bool {
        self.inner
            .lock()
            .objects
            .get(&memory_key(key))
            .and_then(|r| r.written.as_deref())
            == Some(written)
    }

    /// `status` is ours: its watch event starts no reconcile.
    pub(super) fn own(&self, key: &ObjectKey, status: Option<&SealedSecretStatus>) {
        self.inner
            .lock()
            .objects
            .entry(memory_key(key))
            .or_default()
            .own = Some(status_hash(status));
    }

    pub(super) fn remember(&self, key: &ObjectKey, written: WrittenStatus) {
        let mut memory = self.inner.lock();
        let written = memory.intern(written);
        let previous = memory
            .objects
            .entry(memory_key(key))
            .or_default()
            .written
            .replace(Box::new(written));
        memory.release(previous);
    }

    /// The object is gone.
    pub fn forget(&self, key: &ObjectKey) {
        let mut memory = self.inner.lock();
        if let Some(remembered) = memory.objects.remove(&*memory_key(key)) {
            memory.release(remembered.written);
        }
    }

    /// How many distinct key inventories are held (for tests: the interner must not grow).
    #[cfg(test)]
    pub(super) fn interned_inventories(&self) -> usize {
        self.inner.lock().fingerprints.len()
    }
}

/// [`StatusMemory::trigger_hash`] of `sealed`, whose labels and annotations hash to `metadata`,
/// with `entry` its object's entry (which takes the status at first sight as our own).
fn entry_trigger_hash(entry: &mut Remembered, sealed: &SealedSecret, metadata: u64) -> u64 {
    let status = status_hash(sealed.status.as_ref());
    let token = match entry.own {
        None => {
            entry.own = Some(status);
            0
        }
        Some(own) if own == status => 0,
        Some(_) => status,
    };
    let mut hasher = DefaultHasher::new();
    sealed.metadata.generation.hash(&mut hasher);
    metadata.hash(&mut hasher);
    token.hash(&mut hasher);
    hasher.finish()
}

/// See [`StatusMemory::recorded_inventory`].
pub(super) fn recorded_inventory(
    sealed: &SealedSecret,
    written: Option<&WrittenStatus>,
) -> Option<Vec<String>> {
    let generation = sealed.meta().generation;
    if let Some(written) = written
        && sealed.metadata.uid.is_some()
        && written.uid == uid_hash(sealed)
        && written.generation == generation
    {
        return written.key_fingerprints.as_deref().map(<[String]>::to_vec);
    }
    let status = sealed.status.as_ref()?;
    if status.observed_generation != generation {
        return None;
    }
    status.key_fingerprints.as_deref().map(<[String]>::to_vec)
}

fn status_hash(status: Option<&SealedSecretStatus>) -> u64 {
    let mut hasher = DefaultHasher::new();
    serde_json::to_vec(&status)
        .unwrap_or_default()
        .hash(&mut hasher);
    hasher.finish()
}

pub(super) fn condition<'a>(
    status: Option<&'a SealedSecretStatus>,
    type_: &str,
) -> Option<&'a SealedSecretCondition> {
    status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The message of the object's `KeyCompromised` condition, if it is set.
pub(super) fn current_compromised(status: Option<&SealedSecretStatus>) -> Option<&str> {
    condition(status, CONDITION_KEY_COMPROMISED)
        .filter(|c| c.status == "True")
        .and_then(|c| c.message.as_deref())
}

/// The status fields we own, as applied, when `current` differs from `desired`; `None` when
/// nothing changes (no churn for GitOps tools). Conditions are rebuilt only when one of them
/// changes or the generation moved (then `Synced` first, `KeyCompromised` second); unchanged
/// conditions are kept as they are, times included. `keyFingerprints` is left out when unknown
/// (applying without it removes ours).
pub(super) fn desired_status(
    current: Option<&SealedSecretStatus>,
    desired: &DesiredStatus,
    now: Option<String>,
) -> Option<SealedSecretStatus> {
    let previous = condition(current, CONDITION_SYNCED);
    let synced_changed = previous
        .is_none_or(|c| c.status != desired.synced || c.reason.as_deref() != desired.reason);
    let generation_changed = current.and_then(|s| s.observed_generation) != desired.generation;
    let compromised_changed = current_compromised(current) != desired.compromised.as_deref();
    let inventory_changed =
        current.and_then(|s| s.key_fingerprints.as_deref()) != desired.key_fingerprints.as_deref();
    let current_rollout = rollout::current(current);
    let rollout_changed = current_rollout != desired.rollout;
    if !synced_changed
        && !generation_changed
        && !compromised_changed
        && !inventory_changed
        && !rollout_changed
    {
        return None;
    }
    let synced = match previous {
        Some(previous) if !synced_changed && !generation_changed => previous.clone(),
        _ => SealedSecretCondition {
            type_: CONDITION_SYNCED.into(),
            status: desired.synced.into(),
            last_update_time: now.clone(),
            last_transition_time: if synced_changed {
                now.clone()
            } else {
                previous.and_then(|c| c.last_transition_time.clone())
            },
            reason: desired.reason.map(Into::into),
            message: Some(desired.message.clone()),
        },
    };
    let mut conditions = vec![synced];
    if let Some(message) = &desired.compromised {
        let previous = condition(current, CONDITION_KEY_COMPROMISED);
        conditions.push(match previous {
            Some(previous) if !compromised_changed => previous.clone(),
            _ => SealedSecretCondition {
                type_: CONDITION_KEY_COMPROMISED.into(),
                status: "True".into(),
                last_update_time: now.clone(),
                last_transition_time: match previous {
                    Some(p) if p.status == "True" => p.last_transition_time.clone(),
                    _ => now.clone(),
                },
                reason: Some(REASON_COMPROMISED.into()),
                message: Some(message.clone()),
            },
        });
    }
    if let Some(wanted) = &desired.rollout {
        let previous = condition(current, CONDITION_ROLLOUT);
        conditions.push(match previous {
            Some(previous) if current_rollout.as_ref() == Some(wanted) => previous.clone(),
            _ => SealedSecretCondition {
                type_: CONDITION_ROLLOUT.into(),
                status: "True".into(),
                last_update_time: now.clone(),
                last_transition_time: match previous {
                    Some(p) if p.status == "True" => p.last_transition_time.clone(),
                    _ => now.clone(),
                },
                reason: Some(wanted.reason.into()),
                message: Some(wanted.message.clone()),
            },
        });
    }
    Some(SealedSecretStatus {
        observed_generation: desired.generation,
        conditions: Some(conditions),
        key_fingerprints: desired.key_fingerprints.as_deref().map(Arc::from),
        ..SealedSecretStatus::default()
    })
}

/// Writes the status when it changes: server-side apply of the fields we own, forced (the status
/// is ours; a tenant's forged values are overwritten).
pub(super) async fn write(sealed: &SealedSecret, ctx: &Ctx, desired: DesiredStatus) {
    let key = object_key(sealed);
    let namespace = key.namespace.clone().unwrap_or_default();
    let current = sealed.status.as_ref();
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let now = serde_json::to_value(now)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let Some(status) = desired_status(current, &desired, now) else {
        return;
    };
    // Reconciles started by something else (our own Secret write, a key change) may still see
    // the object from before our status write landed in the cache: what we last wrote over
    // this very version is remembered, so it is not written twice. A status changed by anyone
    // else since is a newer version: it is written again (a forged `Synced=True` does not
    // stay).
    let written = desired.written(sealed);
    if ctx.status.already_written(&key, &written) {
        return;
    }
    // Known before the request, so its watch event (which may come before the answer) starts
    // no reconcile; the answer's status replaces it below.
    let expected = SealedSecretStatus {
        extra: current.map(|c| c.extra.clone()).unwrap_or_default(),
        ..status.clone()
    };
    ctx.status.own(&key, Some(&expected));
    let api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    let body = json!({
        "apiVersion": SealedSecret::api_version(&()),
        "kind": SealedSecret::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let mut applied: StatusOf =
        match answers::patch_status_read(&api, &key.name, &params, &Patch::Apply(&body)).await {
            Ok(applied) => applied,
            Err(err) => {
                ctx.metrics.unseal_error("status", &namespace);
                warn!(%err, "cannot update status");
                return;
            }
        };
    // A stale inventory written before server-side apply (an update, not ours to prune) is
    // removed explicitly: it must not pass for this generation's.
    let stale_inventory = desired.key_fingerprints.is_none()
        && applied
            .status
            .as_ref()
            .is_some_and(|s| s.key_fingerprints.is_some());
    if stale_inventory {
        let remove = json!({ "status": { "keyFingerprints": null } });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_owned()),
            ..PatchParams::default()
        };
        let expected = applied.status.clone().map(|status| SealedSecretStatus {
            key_fingerprints: None,
            ..status
        });
        ctx.status.own(&key, expected.as_ref());
        match answers::patch_status_read(&api, &key.name, &params, &Patch::Merge(&remove)).await {
            Ok(patched) => applied = patched,
            Err(err) => {
                ctx.metrics.unseal_error("status", &namespace);
                warn!(%err, "cannot remove a stale key inventory from the status");
                return;
            }
        }
    }
    ctx.status.own(&key, applied.status.as_ref());
    ctx.status.remember(&key, written);
}

/// What a status write's answer is read for: the status as written (the rest, ciphertexts and
/// managedFields included, is skipped unread; `answers`).
#[derive(serde::Deserialize)]
struct StatusOf {
    #[serde(default)]
    status: Option<SealedSecretStatus>,
}
