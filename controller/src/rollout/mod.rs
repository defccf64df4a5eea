//! Rolling out the workloads a SealedSecret names (docs/rollout.md): when the reconcile wrote
//! changed data into the Secret, each workload in `sealant.dev/rollout` gets the Secret's new
//! digest on its pod template, which makes its controller roll it out once.
//!
//! Once per change, never on a restart or resync where nothing changed:
//!
//! - data changed (the reconcile says so, comparing data MACs before and after its write): every
//!   workload whose template does not carry the new digest yet is patched;
//! - data unchanged: a workload is patched only when it carries an *older* digest for this
//!   Secret under the current sync key: a change whose patch was missed (a crash between the
//!   Secret write and the patch). One with no digest is left alone: first opt-in rolls nothing.
//!
//! Per object, memory keeps which workloads are done at the current digest (so a resync costs
//! no request), those still owed a patch after a transient error (retried with the reconcile
//! backoff) and the problems to report. The module knows nothing of the reconciler: it gets
//! what it needs in [`Env`] and hands back a [`Report`].

mod patch;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use sealant_core::object::SealedSecretStatus;
use sealant_core::rollout::{ROLLOUT_ANNOTATION, Target, parse_targets, rollout_digest};
use sealant_core::sync::SyncKey;
use tracing::{info, warn};

use crate::crd::SealedSecret;
pub use patch::RolloutError;
use patch::{Mode, Patched};

/// The status condition set while a rollout asked for cannot be done (absent otherwise).
pub const CONDITION_ROLLOUT: &str = "RolloutFailed";
/// Reason: the controller runs without `--rollout`.
pub const REASON_DISABLED: &str = "RolloutDisabled";
/// Reason: the annotation names no usable list of workloads; none was touched.
pub const REASON_INVALID: &str = "InvalidRolloutTarget";
/// Reason: a named workload could not be read or patched.
pub const REASON_TARGET: &str = "RolloutTargetFailed";
/// Reason of the Normal event for each workload rolled out.
pub const REASON_ROLLED_OUT: &str = "RolledOut";

/// What the reconcile did to the Secret's data, with the MAC of the data it holds now
/// (`sealant_core::sync::data_mac` under the sync key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretData {
    /// The Secret was created: its readers were waiting for it, nothing to roll out.
    Created([u8; 32]),
    /// The data is what it was (in sync, or only metadata written).
    Unchanged([u8; 32]),
    /// The reconcile wrote different data.
    Changed([u8; 32]),
}

/// What a rollout needs from the reconciler.
pub struct Env<'a> {
    /// The API client.
    pub client: &'a Client,
    /// The sync key: the digest is a MAC under it.
    pub sync_key: &'a SyncKey,
    /// Events on the SealedSecret.
    pub recorder: &'a Recorder,
    /// `--rollout`.
    pub enabled: bool,
    /// The field manager of the patches.
    pub field_manager: &'a str,
}

/// The [`CONDITION_ROLLOUT`] condition a status should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// One of the `REASON_*` constants.
    pub reason: &'static str,
    /// For people: which workloads and why; no value ever.
    pub message: String,
}

/// The outcome of [`Rollouts::run`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// The condition to set; `None` removes it.
    pub condition: Option<Condition>,
    /// A workload is still owed its patch after a transient error: reconcile again later.
    pub retry: bool,
}

impl Report {
    /// The condition the object's status carries now, kept as it is (a reconcile that failed
    /// before its rollout learnt nothing new).
    pub fn carried(sealed: &SealedSecret) -> Self {
        Self {
            condition: current(sealed.status.as_ref()),
            retry: false,
        }
    }
}

/// The [`CONDITION_ROLLOUT`] condition of a status, if set.
pub fn current(status: Option<&SealedSecretStatus>) -> Option<Condition> {
    let condition = status?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == CONDITION_ROLLOUT && c.status == "True")?;
    let reason = [REASON_DISABLED, REASON_INVALID, REASON_TARGET]
        .into_iter()
        .find(|r| condition.reason.as_deref() == Some(*r))?;
    Some(Condition {
        reason,
        message: condition.message.clone().unwrap_or_default(),
    })
}

/// Per-object rollout memory (namespace, name → what is known at which digest).
#[derive(Debug, Default)]
pub struct Rollouts {
    objects: parking_lot::Mutex<HashMap<(String, String), Entry>>,
}

#[derive(Debug, Default, Clone)]
struct Entry {
    uid: Option<String>,
    /// The digest the sets below belong to.
    digest: Option<String>,
    /// Checked (and patched if owed) at this digest.
    done: BTreeSet<Target>,
    /// Owed a patch at this digest after a transient error.
    pending: BTreeSet<Target>,
    /// Why a workload could not be checked or patched at this digest.
    problems: BTreeMap<Target, String>,
    /// The last problem message sent as an event (once per change of message).
    warned: Option<String>,
}

impl Entry {
    /// What each named workload needs now, as [`Mode`]s (`None`: nothing).
    fn plan(&self, targets: &[Target], changed: bool) -> Vec<(Target, Mode)> {
        targets
            .iter()
            .filter_map(|target| {
                let mode = if changed || self.pending.contains(target) {
                    Mode::Force
                } else if self.done.contains(target) && !self.problems.contains_key(target) {
                    return None;
                } else {
                    // Not checked at this digest yet, or it failed: a missing workload may
                    // have been created since.
                    Mode::CatchUp
                };
                Some((target.clone(), mode))
            })
            .collect()
    }
}

impl Rollouts {
    /// Rolls out what `sealed` names, after its reconcile left its Secret's data as `data`.
    /// Never fails: problems come back in the [`Report`] and as events.
    pub async fn run(&self, env: &Env<'_>, sealed: &SealedSecret, data: SecretData) -> Report {
        let key = (sealed.namespace().unwrap_or_default(), sealed.name_any());
        let Some(annotation) = sealed.annotations().get(ROLLOUT_ANNOTATION) else {
            self.objects.lock().remove(&key);
            return Report::default();
        };
        let mut entry = self.entry(&key, sealed);
        let mut report = if !env.enabled {
            Report {
                condition: Some(Condition {
                    reason: REASON_DISABLED,
                    message: format!(
                        "{ROLLOUT_ANNOTATION} is ignored: the controller runs without --rollout (docs/rollout.md)"
                    ),
                }),
                retry: false,
            }
        } else {
            match parse_targets(annotation) {
                Err(err) => Report {
                    condition: Some(Condition {
                        reason: REASON_INVALID,
                        message: format!(
                            "{ROLLOUT_ANNOTATION}: {err}; no workload was touched (docs/rollout.md)"
                        ),
                    }),
                    retry: false,
                },
                Ok(targets) => {
                    self.roll(env, sealed, &key, &mut entry, &targets, data)
                        .await
                }
            }
        };
        // Bounded once, here: the status and the event carry the same text, and a restart
        // compares it with what the status kept.
        if let Some(condition) = report.condition.as_mut() {
            condition.message = truncate(&condition.message);
        }
        warn_once(env, sealed, &mut entry, report.condition.as_ref()).await;
        self.objects.lock().insert(key, entry);
        report
    }

    /// The memory of `sealed`, or a fresh one if it belonged to an earlier object of that name.
    fn entry(&self, key: &(String, String), sealed: &SealedSecret) -> Entry {
        match self.objects.lock().get(key) {
            Some(entry) if entry.uid == sealed.uid() => entry.clone(),
            _ => Entry {
                uid: sealed.uid(),
                ..Entry::default()
            },
        }
    }

    async fn roll(
        &self,
        env: &Env<'_>,
        sealed: &SealedSecret,
        key: &(String, String),
        entry: &mut Entry,
        targets: &[Target],
        data: SecretData,
    ) -> Report {
        let (namespace, name) = key;
        let (mac, changed) = match data {
            SecretData::Created(mac) | SecretData::Unchanged(mac) => (mac, false),
            SecretData::Changed(mac) => (mac, true),
        };
        let digest = rollout_digest(env.sync_key, namespace, name, &mac);
        if entry.digest.as_ref() != Some(&digest) {
            *entry = Entry {
                uid: entry.uid.clone(),
                digest: Some(digest.clone()),
                warned: entry.warned.take(),
                ..Entry::default()
            };
        }
        // Workloads no longer named are forgotten.
        entry.done.retain(|t| targets.contains(t));
        entry.pending.retain(|t| targets.contains(t));
        entry.problems.retain(|t, _| targets.contains(t));
        let plan = match data {
            // The Secret's readers were waiting for it: whatever they carry is left alone.
            SecretData::Created(_) => {
                entry.done.extend(targets.iter().cloned());
                Vec::new()
            }
            _ => entry.plan(targets, changed),
        };
        let mut retry = false;
        for (target, mode) in plan {
            let result = patch::roll(env, namespace, name, &target, &digest, mode).await;
            entry.pending.remove(&target);
            entry.problems.remove(&target);
            entry.done.insert(target.clone());
            match result {
                Ok(Patched::Yes) => {
                    info!(%target, "rolled out for a change of the Secret's data");
                    rolled_out_event(env, sealed, &target).await;
                }
                Ok(Patched::No) => {}
                Err(err) => {
                    warn!(%target, error = %err, "cannot roll out");
                    // Still owed after an error that may go away: retried with the backoff
                    // when transient, at the object's next reconcile when forbidden (RBAC
                    // fixed). A missing workload is owed nothing: made later, it reads the
                    // Secret as it is then.
                    if mode == Mode::Force && err.owed() {
                        entry.pending.insert(target.clone());
                    }
                    retry |= err.is_transient();
                    entry.problems.insert(target, err.to_string());
                }
            }
        }
        let condition = (!entry.problems.is_empty()).then(|| Condition {
            reason: REASON_TARGET,
            message: entry
                .problems
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join("; "),
        });
        Report { condition, retry }
    }

    /// The object is gone.
    pub fn forget(&self, namespace: &str, name: &str) {
        self.objects
            .lock()
            .remove(&(namespace.to_owned(), name.to_owned()));
    }
}

/// A Warning event for a new problem message: not again for the message the status already
/// carries (a restart), nor for the one this process sent last.
async fn warn_once(
    env: &Env<'_>,
    sealed: &SealedSecret,
    entry: &mut Entry,
    condition: Option<&Condition>,
) {
    let Some(condition) = condition else {
        entry.warned = None;
        return;
    };
    let known = current(sealed.status.as_ref()).as_ref() == Some(condition)
        || entry.warned.as_ref() == Some(&condition.message);
    entry.warned = Some(condition.message.clone());
    if known {
        return;
    }
    let event = Event {
        type_: EventType::Warning,
        reason: condition.reason.into(),
        note: Some(condition.message.clone()),
        action: "Rollout".into(),
        secondary: None,
    };
    if let Err(err) = env.recorder.publish(&event, &sealed.object_ref(&())).await {
        warn!(%err, "cannot publish event");
    }
}

async fn rolled_out_event(env: &Env<'_>, sealed: &SealedSecret, target: &Target) {
    let event = Event {
        type_: EventType::Normal,
        reason: REASON_ROLLED_OUT.into(),
        note: Some(format!(
            "{target} rolled out: the data of Secret {} changed",
            sealed.name_any()
        )),
        action: "Rollout".into(),
        secondary: Some(ObjectReference {
            api_version: Some("apps/v1".into()),
            kind: Some(target.kind.api_kind().into()),
            name: Some(target.name.clone()),
            namespace: sealed.namespace(),
            ..ObjectReference::default()
        }),
    };
    if let Err(err) = env.recorder.publish(&event, &sealed.object_ref(&())).await {
        warn!(%err, "cannot publish event");
    }
}

/// `text` cut to 1 KiB (the most an event note and a condition message take) on a character
/// boundary, `...` marking the cut.
fn truncate(text: &str) -> String {
    crate::text::truncate(text, 1024)
}
