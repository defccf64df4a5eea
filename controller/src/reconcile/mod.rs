//! Reconcile one SealedSecret into its Secret, with upstream's rules (docs/upstream.md, "Reconcile
//! rules"): ownership gate, `managed` / `patch`, template metadata, type and data, immutable
//! Secrets, the `Synced` condition and events.
//!
//! sealant adds the key inventory (docs/rotation.md, "The inventory: which SealedSecrets need
//! which key"): `status.keyFingerprints` lists the keys
//! that opened the object's items at the last unseal, and a `KeyCompromised` condition (with a
//! `SealedWithCompromisedKey` Warning event) flags objects that depend on a compromised key.
//!
//! By job: [`apply`](self::apply) writes the Secret (server-side apply, docs/controller.md
//! "Writes"), `insync` proves a Secret up to date without decrypting (and keeps the [`Stripped`]
//! side table), `owned` keeps a compact record of each owned Secret for that check, `status`
//! writes the status and decides which watch events start a reconcile, `events` publishes
//! events, `inventory` keeps the key inventory, `backoff` the retry budget, `share` the
//! per-namespace fair share and the render slots. After a write, the workloads the
//! object names for rollout are rolled out by [`crate::rollout`] (docs/rollout.md).

mod answers;
mod apply;
mod backoff;
mod error;
mod events;
mod insync;
mod inventory;
mod owned;
mod selector;
mod share;
mod shared_copies;
mod shared_lists;
mod status;
mod tenant;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::DeleteParams;
use kube::runtime::controller::Action;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client, Resource, ResourceExt};
use sealant_core::sync::SyncKey;
use tracing::{info, instrument, warn};

use crate::crd::SealedSecret;
use crate::flags::Args;
use crate::keys::KeyStore;
use crate::metrics::Metrics;
use crate::rollout::{self, Rollouts, SecretData};

pub use backoff::{Failures, backoff_delay, error_policy};
pub use error::{REASON_NAMESPACE_NOT_SELECTED, ReconcileError};
pub use insync::Stripped;
pub use inventory::Inventory;
pub use owned::OwnedSecrets;
pub use share::{NamespaceShare, RENDER_SLOTS, Turn};
pub use status::StatusMemory;

/// A pre-existing Secret with this annotation may be taken over (overwritten, owned).
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
/// A pre-existing Secret with this annotation is merged into instead of overwritten.
pub const PATCH_ANNOTATION: &str = "sealedsecrets.bitnami.com/patch";
/// Label on every Secret the controller owns (created, or taken over with `managed`). The Secret
/// watch selects on it, so the controller caches only its own Secrets, not every Secret in the
/// cluster; patch-only Secrets do not get it and, as upstream, are not re-created.
pub const OWNED_LABEL: &str = "sealant.dev/owned-by";
/// Value of [`OWNED_LABEL`].
pub const OWNED_LABEL_VALUE: &str = "sealant-controller";
/// The field manager of every write the controller makes to a Secret or a status
/// (docs/controller.md, "Writes").
pub const FIELD_MANAGER: &str = "sealant-controller";
/// The condition type `Synced` (upstream's, always first in `status.conditions`).
pub const CONDITION_SYNCED: &str = "Synced";
/// The condition type set while an object depends on a compromised key (second in
/// `status.conditions`, so print columns that read `conditions[0]` keep showing `Synced`).
pub const CONDITION_KEY_COMPROMISED: &str = "KeyCompromised";
/// Reason of the [`CONDITION_KEY_COMPROMISED`] condition and of its Warning event.
pub const REASON_COMPROMISED: &str = "SealedWithCompromisedKey";

/// Which object a piece of per-object state belongs to (namespace and name; kube-runtime's
/// reference, whose equality ignores UID and version).
pub type ObjectKey = ObjectRef<SealedSecret>;

/// The [`ObjectKey`] of a SealedSecret: namespace and name only. `ObjectRef::from_obj` would
/// also carry the uid and resourceVersion (`extra`, which equality and hashing ignore) in every
/// per-object map: about 100 bytes an object for nothing.
pub fn object_key(sealed: &SealedSecret) -> ObjectKey {
    let key = ObjectRef::new(&sealed.name_any());
    match sealed.metadata.namespace.as_deref() {
        Some(namespace) => key.within(namespace),
        None => key,
    }
}

/// The key of an object in the per-object tables ([`crate::text::object_path`]).
pub(crate) fn memory_key(key: &ObjectKey) -> Box<str> {
    crate::text::object_path(key.namespace.as_deref(), &key.name)
}

/// The [`ObjectKey`] of a [`memory_key`].
pub(crate) fn key_of_memory_key(key: &str) -> ObjectKey {
    match crate::text::split_object_path(key) {
        (Some(namespace), name) => ObjectRef::new(name).within(namespace),
        (None, name) => ObjectRef::new(name),
    }
}

/// What every reconcile shares.
pub struct Ctx {
    /// The API client.
    pub client: Client,
    /// Flags.
    pub args: Arc<Args>,
    /// The sealing keys.
    pub keys: KeyStore,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events on SealedSecrets.
    pub recorder: Recorder,
    /// Who reports the events (the same as `recorder`'s).
    pub reporter: Reporter,
    /// Consecutive failures per object, for backoff and the retry budget.
    pub failures: Failures,
    /// The key behind the in-sync digest (`sealant-sync-key`).
    pub sync_key: Arc<SyncKey>,
    /// Caches of the Secrets we own, one per watched scope, a compact record each
    /// ([`OwnedSecrets`]): the in-sync check reads them instead of the API server.
    pub owned: parking_lot::RwLock<Vec<Arc<OwnedSecrets>>>,
    /// The status last written per object, and which statuses are our own writes.
    pub status: StatusMemory,
    /// The key inventory per object, for the per-key metrics and the compromised warnings.
    pub inventory: Arc<Inventory>,
    /// Inputs digests of the SealedSecrets cached without their ciphertexts.
    pub stripped: Stripped,
    /// How many reconciles of one namespace may do work at once.
    pub namespace_share: NamespaceShare,
    /// Unseals that render templates at once (see [`RENDER_SLOTS`]).
    pub render_slots: tokio::sync::Semaphore,
    /// What the rollouts of each object know (docs/rollout.md).
    pub rollouts: Rollouts,
    /// Namespace labels, for the namespace-selector scope and tenant keys
    /// (docs/multi-tenancy.md).
    pub namespaces: Arc<crate::namespaces::Namespaces>,
    /// Backlog objects let into the queue and not done yet (new objects first, see
    /// [`crate::lanes`]).
    pub lanes: crate::lanes::Gate,
}

impl Ctx {
    /// The cache's record of an owned Secret, if a cache has one.
    /// Whether every owned-Secret cache has listed and none holds `namespace/name`.
    fn owned_absent(&self, namespace: &str, name: &str) -> bool {
        let caches = self.owned.read();
        !caches.is_empty()
            && caches
                .iter()
                .all(|cache| cache.knows_absent(namespace, name))
    }

    fn cached_owned(&self, namespace: &str, name: &str) -> Option<owned::Record> {
        self.owned
            .read()
            .iter()
            .find_map(|cache| cache.get(namespace, name))
    }
}

/// What a successful reconcile did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The Secret already matched (digest valid, metadata equal): nothing decrypted or written.
    InSync,
    /// The SealedSecret was decrypted (and the Secret written if it differed).
    Unsealed,
    /// Its namespace already used its share of the workers: tried again shortly, nothing
    /// written or reported.
    Deferred,
}

/// A successful reconcile: what it did, and the object's key inventory (`None`: not known,
/// as for v1 blobs, whose opening key core does not report).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Applied {
    outcome: Outcome,
    key_fingerprints: Option<Vec<String>>,
    /// What became of the Secret's data (`None`: not looked at, deferred).
    secret: Option<SecretData>,
}

/// Reconciles one SealedSecret. Never logs values: only names, reasons and counts.
///
/// # Errors
/// See [`ReconcileError`]; the status, event and metrics are written before returning.
#[instrument(skip(sealed, ctx), fields(namespace = %sealed.namespace().unwrap_or_default(), name = %sealed.name_any()))]
pub async fn reconcile(sealed: Arc<SealedSecret>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    ctx.metrics.unseal_request();
    // Its backlog slot, if it had one, is free when this reconcile ends (not when deferred).
    let working = ctx.lanes.working(object_key(&sealed));
    if sealed.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let result = apply::apply(&sealed, &ctx).await;
    if let Ok(Applied {
        outcome: Outcome::Deferred,
        ..
    }) = result
    {
        working.keep();
        return Ok(Action::requeue(share::deferral_delay()));
    }
    let rollout = match &result {
        Ok(Applied {
            secret: Some(secret),
            ..
        }) => ctx.rollouts.run(&rollout_env(&ctx), &sealed, *secret).await,
        _ => rollout::Report::carried(&sealed),
    };
    report(&sealed, &ctx, &result, rollout.condition).await;
    let key = object_key(&sealed);
    match result {
        // A workload still owed its rollout after a transient error: the retry budget and
        // backoff of failed reconciles apply, while the Secret stays written.
        Ok(_) if rollout.retry => {
            let attempt = ctx.failures.record(&key);
            if attempt > ctx.args.max_unseal_retries {
                return Ok(Action::await_change());
            }
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::from(d.subsec_nanos()));
            Ok(Action::requeue(backoff_delay(attempt, seed)))
        }
        Ok(_) => {
            ctx.failures.clear(&key);
            Ok(Action::await_change())
        }
        Err(err) => Err(err),
    }
}

fn rollout_env(ctx: &Ctx) -> rollout::Env<'_> {
    rollout::Env {
        client: &ctx.client,
        sync_key: &ctx.sync_key,
        recorder: &ctx.recorder,
        enabled: ctx.args.rollout,
        field_manager: FIELD_MANAGER,
    }
}

/// Writes the outcome: events, metrics, the inventory, and the status (only when it changes,
/// or the generation moved, so GitOps tools see no churn).
async fn report(
    sealed: &SealedSecret,
    ctx: &Ctx,
    result: &Result<Applied, ReconcileError>,
    rollout: Option<rollout::Condition>,
) {
    let namespace = sealed.namespace().unwrap_or_default();
    let key = object_key(sealed);
    events::publish_outcome(sealed, ctx, result).await;
    let instance = sealed.labels().get("app.kubernetes.io/instance").cloned();
    ctx.metrics.set_condition(
        &namespace,
        &key.name,
        instance.as_deref(),
        if result.is_ok() { 1 } else { -1 },
    );

    // A failed unseal proves nothing about the keys: the inventory recorded for this
    // generation stands (or stays unknown).
    let key_fingerprints = match result {
        Ok(applied) => applied.key_fingerprints.clone(),
        Err(_) => ctx.status.recorded_inventory(sealed),
    };
    ctx.inventory.record(&key, key_fingerprints.clone());
    let compromised =
        inventory::compromised_message(key_fingerprints.as_deref(), &ctx.keys.snapshot());
    events::warn_compromised(sealed, ctx, compromised.as_deref()).await;

    if !ctx.args.update_status {
        return;
    }
    let (synced, message, reason) = match result {
        Ok(_) => ("True", String::new(), None),
        Err(err) => ("False", err.to_string(), error::condition_reason(err)),
    };
    let desired = status::DesiredStatus::new(
        synced,
        &message,
        sealed.meta().generation,
        key_fingerprints,
        compromised,
        rollout,
    )
    .with_reason(reason);
    status::write(sealed, ctx, desired).await;
}

/// The per-object state and metric series of an object that is gone.
fn forget(key: &ObjectKey, ctx: &Ctx) {
    let namespace = key.namespace.as_deref().unwrap_or_default();
    ctx.metrics.remove_condition(namespace, &key.name);
    ctx.inventory.forget(key);
    ctx.stripped.forget(key);
    ctx.status.forget(key);
    ctx.failures.clear(key);
    ctx.rollouts.forget(namespace, &key.name);
    ctx.lanes.forget(key);
}

/// The objects a relist of the SealedSecret watch lists, for [`forget_unlisted`].
#[derive(Default)]
pub struct Relist {
    listing: parking_lot::Mutex<Option<HashSet<ObjectKey>>>,
}

impl Relist {
    /// Follows the watch: a relist starts (`Init`), lists objects (`InitApply`) and ends
    /// (`InitDone`, which returns what it listed).
    pub fn observe(
        &self,
        event: &kube::runtime::watcher::Event<SealedSecret>,
    ) -> Option<HashSet<ObjectKey>> {
        use kube::runtime::watcher::Event;
        let mut listing = self.listing.lock();
        match event {
            Event::Init => *listing = Some(HashSet::new()),
            Event::InitApply(sealed) => {
                if let Some(listed) = listing.as_mut() {
                    listed.insert(object_key(sealed));
                }
            }
            Event::InitDone => return listing.take(),
            Event::Apply(_) | Event::Delete(_) => {}
        }
        None
    }
}

/// After a relist of the watch over `scope` (all namespaces for `None`): objects counted before
/// but not listed were deleted while the watch was down, and no delete event tells us about
/// them. Their per-object state and metric series are dropped as for a deleted object (their
/// Secrets are left to the garbage collector). Returns how many were dropped.
pub fn forget_unlisted(scope: Option<&str>, listed: &HashSet<ObjectKey>, ctx: &Ctx) -> usize {
    let gone: Vec<ObjectKey> = ctx
        .inventory
        .keys_in(scope)
        .into_iter()
        .filter(|key| !listed.contains(key))
        .collect();
    for key in &gone {
        forget(key, ctx);
    }
    gone.len()
}

/// A SealedSecret is gone (seen as a delete event of the main watch): forget its per-object
/// state and metric series, and with `--old-gc-behavior` delete its Secret instead of leaving
/// that to the garbage collector. Upstream deletes `ns/name` whatever it is; we delete only a
/// Secret we own.
pub async fn forget_deleted(sealed: &SealedSecret, ctx: &Ctx) {
    let key = object_key(sealed);
    forget(&key, ctx);
    let (namespace, name) = (key.namespace.unwrap_or_default(), key.name);
    if !ctx.args.old_gc_behavior {
        return;
    }
    let Some(uid) = sealed.uid() else { return };
    let secrets: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    let secret = match secrets.get_opt(&name).await {
        Ok(Some(secret)) => secret,
        Ok(None) => return,
        Err(err) => {
            warn!(%namespace, %name, %err, "cannot read the Secret of a deleted SealedSecret");
            return;
        }
    };
    // Ours: controlled by this SealedSecret, or created by us and since orphaned (owner
    // references are stripped by an orphaning delete or absent with skip-set-owner-references).
    let controlled = secret
        .owner_references()
        .iter()
        .any(|owner| owner.uid == uid && owner.controller == Some(true));
    let labelled = secret
        .labels()
        .get(OWNED_LABEL)
        .is_some_and(|v| v == OWNED_LABEL_VALUE)
        && secret.owner_references().is_empty()
        && secret
            .annotations()
            .get(PATCH_ANNOTATION)
            .is_none_or(|v| v != "true");
    if !controlled && !labelled {
        return;
    }
    let precondition = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: secret.uid(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match secrets.delete(&name, &precondition).await {
        Ok(_) => {
            info!(%namespace, %name, "deleted the Secret of a deleted SealedSecret (--old-gc-behavior)")
        }
        Err(err) => {
            warn!(%namespace, %name, %err, "cannot delete the Secret of a deleted SealedSecret")
        }
    }
}
