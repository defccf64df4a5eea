//! Reconcile one SealedSecret into its Secret, with upstream's rules (docs/upstream.md, "Reconcile
//! rules"): ownership gate, `managed` / `patch`, template metadata, type and data, immutable
//! Secrets, the `Synced` condition and events.
//!
//! sealant adds the key inventory (docs/rotation.md §6): `status.keyFingerprints` lists the keys
//! that opened the object's items at the last unseal, and a `KeyCompromised` condition (with a
//! `SealedWithCompromisedKey` Warning event) flags objects that depend on a compromised key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, Secret as K8sSecret};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Api, Client, Resource, ResourceExt};
use sealant_core::keysecret::KeyState;
use sealant_core::object::{SealedSecretCondition, SealedSecretStatus};
use sealant_core::sealing::secret_shape;
use sealant_core::sync::{self, DIGEST_ANNOTATION, SyncKey};
use sealant_core::{UnsealOptions, unseal};
use sealant_k8s::plain::{self, PlainSecret};
use serde_json::{Value, json};
use tracing::{info, instrument, warn};
use zeroize::Zeroize as _;

use crate::crd::SealedSecret;
use crate::flags::Args;
use crate::keys::{KeySnapshot, KeyStore};
use crate::metrics::Metrics;

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
/// The condition type `Synced` (upstream's, always first in `status.conditions`).
pub const CONDITION_SYNCED: &str = "Synced";
/// The condition type set while an object depends on a compromised key (second in
/// `status.conditions`, so print columns that read `conditions[0]` keep showing `Synced`).
pub const CONDITION_KEY_COMPROMISED: &str = "KeyCompromised";
/// Reason of the [`CONDITION_KEY_COMPROMISED`] condition and of its Warning event.
pub const REASON_COMPROMISED: &str = "SealedWithCompromisedKey";

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
    /// Consecutive failures per object (namespace, name), for backoff and the retry budget.
    pub failures: std::sync::Mutex<std::collections::HashMap<(String, String), u32>>,
    /// The key behind the in-sync digest (`sealant-sync-key`).
    pub sync_key: Arc<SyncKey>,
    /// Caches of the Secrets we own, one per watched scope, reduced by [`cacheable`]: the
    /// in-sync check reads them instead of the API server.
    pub owned: std::sync::RwLock<Vec<kube::runtime::reflector::Store<K8sSecret>>>,
    /// The status last written per object.
    pub status_written: std::sync::Mutex<StatusMemory>,
    /// The key inventory per object, for the per-key metrics and the compromised warnings.
    pub inventory: Arc<Inventory>,
    /// Inputs digests of the SealedSecrets cached without their ciphertexts.
    pub stripped: Stripped,
    /// How many reconciles of one namespace may do work at once.
    pub namespace_share: NamespaceShare,
    /// Unseals that render templates at once (see [`RENDER_SLOTS`]).
    pub render_slots: tokio::sync::Semaphore,
}

/// Objects whose templates render at the same time. A template's budget is per object (at most
/// about 16 MiB of allocations, docs/templates.md), so this bounds what hostile templates can
/// hold together: 4 × 16 MiB, well inside the shipped 256Mi memory limit. Rendering a whole
/// object takes at most a fraction of a second, so the wait is short.
pub const RENDER_SLOTS: usize = 4;

/// Fair share between namespaces: at most `limit` reconciles of one namespace past the cache
/// check at once (reading and writing its Secret, decrypting). A namespace full of objects that
/// are expensive or fail forever then holds at most that many of the `--concurrency` workers;
/// its other objects are put back in the queue for a moment instead of waiting in a worker.
pub struct NamespaceShare {
    limit: usize,
    busy: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

/// A namespace's turn, given back on drop.
pub struct Turn {
    namespace: String,
    busy: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
}

impl NamespaceShare {
    /// Half the workers per namespace (at least one), so one namespace never holds them all.
    pub fn for_concurrency(concurrency: usize) -> Self {
        Self {
            limit: (concurrency / 2).max(1),
            busy: Arc::default(),
        }
    }

    /// A turn for `namespace`, unless it already has `limit` of them.
    pub fn try_enter(&self, namespace: &str) -> Option<Turn> {
        let mut busy = self
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = busy.entry(namespace.to_owned()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Turn {
            namespace: namespace.to_owned(),
            busy: self.busy.clone(),
        })
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut busy = self
            .busy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = busy.get_mut(&self.namespace) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                busy.remove(&self.namespace);
            }
        }
    }
}

/// When a deferred reconcile comes back: soon, spread out so deferred objects do not return
/// in one burst.
fn deferral_delay() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(200 + u64::from(nanos % 300))
}

/// See [`Ctx::status_written`].
pub type StatusMemory = std::collections::HashMap<(String, String), WrittenStatus>;

/// What the controller last wrote to one object's status, and for which object, generation and
/// version of the object (the `resourceVersion` it patched over).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenStatus {
    uid: String,
    /// The version the write went over: a reconcile that still sees it knows the write is not
    /// in its view yet; any other version (someone else wrote since) is checked afresh.
    seen_version: Option<String>,
    generation: Option<i64>,
    synced: &'static str,
    key_fingerprints: Option<Vec<String>>,
    compromised: Option<String>,
}

/// The key inventory of every SealedSecret this controller reconciles, in memory: (namespace,
/// name) → the fingerprints of the keys that open it (`None`: not known yet). Also remembers
/// the compromised-key warning last sent per object, so it is sent once per change.
#[derive(Debug, Default)]
pub struct Inventory {
    objects: std::sync::Mutex<std::collections::HashMap<(String, String), InventoryEntry>>,
}

#[derive(Debug, Default, Clone)]
struct InventoryEntry {
    fingerprints: Option<Vec<String>>,
    warned: Option<String>,
}

/// How many SealedSecrets use each key (see [`Inventory::usage`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    /// Fingerprint → number of SealedSecrets whose inventory lists it.
    pub by_key: std::collections::BTreeMap<String, u64>,
    /// SealedSecrets without an inventory yet.
    pub unknown: u64,
}

impl Inventory {
    fn objects(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, String), InventoryEntry>>
    {
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an object's inventory.
    pub fn record(&self, namespace: &str, name: &str, fingerprints: Option<Vec<String>>) {
        self.objects()
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default()
            .fingerprints = fingerprints;
    }

    /// Counts an object as soon as the watch sees it, before its first reconcile: with the
    /// inventory its status records for its generation, else as unknown. Until every object is
    /// reconciled, a key's count must not read 0 ("can be retired") for want of a reconcile.
    pub fn observe(&self, sealed: &SealedSecret) {
        let key = Ctx::object_key(sealed);
        self.objects().entry(key).or_insert_with(|| InventoryEntry {
            fingerprints: sealed
                .status
                .as_ref()
                .filter(|s| s.observed_generation == sealed.metadata.generation)
                .and_then(|s| s.key_fingerprints.clone()),
            warned: None,
        });
    }

    /// Remembers `warning` as the object's current compromised-key warning; true when it is a
    /// new one (not the one remembered before), that is, when it should be sent.
    fn warn_once(&self, namespace: &str, name: &str, warning: Option<&str>) -> bool {
        let mut objects = self.objects();
        let entry = objects
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default();
        let new = warning.is_some() && entry.warned.as_deref() != warning;
        entry.warned = warning.map(str::to_owned);
        new
    }

    /// Forgets a deleted object.
    pub fn forget(&self, namespace: &str, name: &str) {
        self.objects()
            .remove(&(namespace.to_owned(), name.to_owned()));
    }

    /// The number of objects per key, and of objects whose keys are not known.
    pub fn usage(&self) -> KeyUsage {
        let mut usage = KeyUsage::default();
        for entry in self.objects().values() {
            match &entry.fingerprints {
                Some(fingerprints) => {
                    for fingerprint in fingerprints {
                        *usage.by_key.entry(fingerprint.clone()).or_insert(0) += 1;
                    }
                }
                None => usage.unknown += 1,
            }
        }
        usage
    }
}

/// The fingerprints of an object's inventory that belong to compromised keys.
fn compromised_keys<'a>(inventory: &'a [String], snapshot: &KeySnapshot) -> Vec<&'a str> {
    inventory
        .iter()
        .map(String::as_str)
        .filter(|fingerprint| {
            snapshot
                .key_state(fingerprint)
                .is_some_and(|(state, _)| *state == KeyState::Compromised)
        })
        .collect()
}

/// The `KeyCompromised` message (and event note) for an object, `None` when it uses no
/// compromised key. Fingerprints only: nothing about the data.
fn compromised_message(inventory: Option<&[String]>, snapshot: &KeySnapshot) -> Option<String> {
    let keys = compromised_keys(inventory?, snapshot);
    match keys.as_slice() {
        [] => None,
        [one] => Some(format!(
            "sealed to compromised key {one}; re-encrypt it (sealant reencrypt)"
        )),
        many => Some(format!(
            "sealed to compromised keys {}; re-encrypt it (sealant reencrypt)",
            many.join(", ")
        )),
    }
}

/// In-memory only annotation of a cached owned Secret: the MAC of the data it had.
const CACHED_DATA_MAC: &str = "sealant.dev/cached-data-mac";

/// An owned Secret as the cache keeps it: metadata, type and the MAC of its data, but no data,
/// so no plaintext is held beyond the request that uses it.
pub fn cacheable(mut secret: K8sSecret, key: &SyncKey) -> K8sSecret {
    let mac = live_data_mac(&secret, key);
    secret.data = None;
    secret.string_data = None;
    secret.metadata.managed_fields = None;
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(CACHED_DATA_MAC.to_owned(), hex(&mac));
    secret
}

/// Inputs digests ([`sync::inputs_digest`]) of the SealedSecrets the watch cache keeps without
/// their ciphertexts, in controller memory only. Nothing here is read from an object: a tenant
/// who can edit a SealedSecret (annotations, status) cannot make a stale Secret look in sync
/// or make the reconciler fetch the object again and again (docs/controller.md, "Caches").
#[derive(Default)]
pub struct Stripped {
    objects: std::sync::Mutex<std::collections::HashMap<ObjectKey, StrippedEntry>>,
}

/// Which version of an object a [`Stripped`] entry belongs to, and its digest.
struct StrippedEntry {
    uid: Option<String>,
    resource_version: Option<String>,
    digest: [u8; 32],
}

impl Stripped {
    fn objects(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<ObjectKey, StrippedEntry>> {
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A SealedSecret as the watch cache keeps it. Once its status says it is `Synced` for its
    /// generation with a known key inventory, its ciphertexts (most of its bytes) are needed
    /// again only if its Secret goes out of sync: they are dropped and the inputs digest kept
    /// here instead, and [`reconcile`] fetches the object whole when it has to decrypt.
    pub fn make_cacheable(&self, sealed: &mut SealedSecret) {
        sealed.metadata.managed_fields = None;
        let key = Ctx::object_key(sealed);
        let status = sealed.status.as_ref();
        let synced = condition(status, CONDITION_SYNCED).is_some_and(|c| c.status == "True")
            && status.is_some_and(|s| {
                s.observed_generation == sealed.metadata.generation && s.key_fingerprints.is_some()
            });
        let core = match sealed.to_core() {
            Ok(core) if synced && sealed.spec.inner.data.is_none() => core,
            _ => {
                self.objects().remove(&key);
                return;
            }
        };
        let digest = sync::inputs_digest(&core);
        for ciphertext in sealed.spec.inner.encrypted_data.values_mut() {
            *ciphertext = String::new();
        }
        self.objects().insert(
            key,
            StrippedEntry {
                uid: sealed.metadata.uid.clone(),
                resource_version: sealed.metadata.resource_version.clone(),
                digest,
            },
        );
    }

    /// The inputs digest kept for `sealed` if it is the cache's stripped copy: the same object
    /// and version as recorded, with its ciphertexts dropped. A whole copy (fetched with GET,
    /// same version) is never taken for the stripped one.
    fn digest_of(&self, sealed: &SealedSecret) -> Option<[u8; 32]> {
        let objects = self.objects();
        let entry = objects.get(&Ctx::object_key(sealed))?;
        let same = entry.uid == sealed.metadata.uid
            && entry.resource_version == sealed.metadata.resource_version
            && sealed.spec.inner.data.is_none()
            && sealed
                .spec
                .inner
                .encrypted_data
                .values()
                .all(String::is_empty);
        same.then_some(entry.digest)
    }

    /// The object is gone.
    pub fn forget(&self, namespace: &str, name: &str) {
        self.objects()
            .remove(&(namespace.to_owned(), name.to_owned()));
    }
}

/// Per-object state is keyed by namespace and name.
type ObjectKey = (String, String);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Ctx {
    fn object_key(sealed: &SealedSecret) -> (String, String) {
        (sealed.namespace().unwrap_or_default(), sealed.name_any())
    }

    /// Records a failure; returns how many in a row.
    fn record_failure(&self, sealed: &SealedSecret) -> u32 {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = failures.entry(Self::object_key(sealed)).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// The cached copy of an owned Secret, if a cache has it.
    fn cached_owned(&self, namespace: &str, name: &str) -> Option<K8sSecret> {
        let reference = kube::runtime::reflector::ObjectRef::new(name).within(namespace);
        self.owned
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find_map(|store| store.get(&reference))
            .map(|secret| (*secret).clone())
    }

    fn record_success(&self, sealed: &SealedSecret) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&Self::object_key(sealed));
    }
}

/// A SealedSecret is gone: forget its backoff state and metric series, and with
/// `--old-gc-behavior` delete its Secret instead of leaving that to the garbage collector.
/// Upstream deletes `ns/name` whatever it is; we delete only a Secret we own.
pub async fn forget_deleted(sealed: &SealedSecret, ctx: &Ctx) {
    let (namespace, name) = Ctx::object_key(sealed);
    ctx.metrics.remove_condition(&namespace, &name);
    ctx.inventory.forget(&namespace, &name);
    ctx.stripped.forget(&namespace, &name);
    ctx.status_written
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&(namespace.clone(), name.clone()));
    ctx.failures
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(&(namespace.clone(), name.clone()));
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
    let precondition = kube::api::DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: secret.uid(),
            resource_version: None,
        }),
        ..kube::api::DeleteParams::default()
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

/// Delay before retry `attempt` (1-based): 1 s doubling up to 5 minutes, with ±10 % jitter so
/// a burst of failures does not retry in lockstep.
pub fn backoff_delay(attempt: u32, jitter_seed: u64) -> Duration {
    let base = Duration::from_secs(1).saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = base.min(Duration::from_secs(300));
    let jitter = (jitter_seed % 201) as f64 / 1000.0 - 0.1; // -0.1 ..= +0.1
    capped.mul_f64(1.0 + jitter)
}

/// Why a reconcile failed; the label is the metric's `reason`.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The items could not be unsealed (opaque crypto error, bad base64, template error).
    #[error("{0}")]
    Unseal(String),
    /// The Secret exists and is neither ours nor `managed`/`patch`.
    #[error("failed update: Resource {0:?} already exists and is not managed by SealedSecret")]
    Unmanaged(String),
    /// Reading or writing an object failed at the API server (status code kept).
    #[error("{}", .0.kube())]
    Update(#[source] sealant_k8s::KubeError),
    /// The Secret is immutable and its data would change (upstream's message).
    #[error("Error updating {namespace}/{name}: {IMMUTABLE_MESSAGE}")]
    Immutable {
        /// The Secret's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
    },
    /// The object cannot be represented (should not happen).
    #[error("malformed SealedSecret: {0}")]
    Malformed(String),
}

impl ReconcileError {
    /// Upstream's `unseal_errors_total` reason.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_) | ReconcileError::Malformed(_) => "unseal",
            ReconcileError::Unmanaged(_) => "unmanaged",
            ReconcileError::Update(_) | ReconcileError::Immutable { .. } => "update",
        }
    }

    /// Upstream's event reason.
    fn event_reason(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_) | ReconcileError::Malformed(_) => "ErrUnsealFailed",
            ReconcileError::Unmanaged(_)
            | ReconcileError::Update(_)
            | ReconcileError::Immutable { .. } => "ErrUpdateFailed",
        }
    }

    /// Retrying cannot help until the object changes: an immutable Secret (upstream gives up
    /// at once too), or an object the API server refuses as such (400, 413, 422).
    fn is_permanent(&self) -> bool {
        match self {
            ReconcileError::Immutable { .. } => true,
            ReconcileError::Update(err) => err.is_invalid(),
            _ => false,
        }
    }
}

const IMMUTABLE_MESSAGE: &str = "the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret.";

/// Reconciles one SealedSecret. Never logs values: only names, reasons and counts.
///
/// # Errors
/// See [`ReconcileError`]; the status, event and metrics are written before returning.
#[instrument(skip(sealed, ctx), fields(namespace = %sealed.namespace().unwrap_or_default(), name = %sealed.name_any()))]
pub async fn reconcile(sealed: Arc<SealedSecret>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    ctx.metrics.unseal_request();
    if sealed.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let result = apply(&sealed, &ctx).await;
    if let Ok(Applied {
        outcome: Outcome::Deferred,
        ..
    }) = result
    {
        return Ok(Action::requeue(deferral_delay()));
    }
    report(&sealed, &ctx, &result).await;
    if result.is_ok() {
        ctx.record_success(&sealed);
    }
    result.map(|_| Action::await_change())
}

/// Per-object backoff (kube-runtime has none): retries with growing delays while the retry
/// budget (`--max-unseal-retries`, as upstream) lasts, then waits for the object to change.
pub fn error_policy(sealed: Arc<SealedSecret>, error: &ReconcileError, ctx: Arc<Ctx>) -> Action {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    if error.is_permanent() {
        return Action::await_change();
    }
    let attempt = ctx.record_failure(&sealed);
    if attempt > ctx.args.max_unseal_retries {
        warn!(%namespace, %name, reason = error.metric_label(), attempts = attempt, "giving up until the SealedSecret changes");
        return Action::await_change();
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let delay = backoff_delay(attempt, seed);
    warn!(%namespace, %name, reason = error.metric_label(), attempt, retry_in_ms = delay.as_millis() as u64, "reconcile failed");
    Action::requeue(delay)
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
}

/// The inventory recorded for the object's current generation: what this controller last wrote
/// (the object seen may predate that write), else `status.keyFingerprints` when the status
/// describes this generation (the inputs the Secret's digest vouches for belong to it).
fn recorded_inventory(sealed: &SealedSecret, memory: &StatusMemory) -> Option<Vec<String>> {
    let generation = sealed.meta().generation;
    if let Some(written) = memory.get(&Ctx::object_key(sealed))
        && Some(&written.uid) == sealed.uid().as_ref()
        && written.generation == generation
    {
        return written.key_fingerprints.clone();
    }
    let status = sealed.status.as_ref()?;
    if status.observed_generation != generation {
        return None;
    }
    status.key_fingerprints.clone()
}

/// The inventory of an unseal: sorted, distinct fingerprints (`None` for a v1 blob).
fn inventory_of(
    core: &sealant_core::SealedSecret,
    unsealed: &sealant_core::sealing::Unsealed,
) -> Option<Vec<String>> {
    if core.spec.data.is_some() {
        return None;
    }
    let mut fingerprints: Vec<String> = unsealed
        .opened_with
        .values()
        .map(|fingerprint| fingerprint.as_str().to_owned())
        .collect();
    fingerprints.sort();
    fingerprints.dedup();
    Some(fingerprints)
}

/// Decrypts the object; returns the Secret and its inventory.
async fn open(
    core: sealant_core::SealedSecret,
    ctx: &Ctx,
) -> Result<(sealant_core::Secret, Option<Vec<String>>), ReconcileError> {
    // Every item costs at least one RSA private-key operation (trial decryption with several
    // keys may cost more); counted on every attempt, successful or not.
    let attempts = if core.spec.data.is_some() {
        1
    } else {
        core.spec.encrypted_data.len() as u64
    };
    ctx.metrics.rsa_operations("reconcile", attempts);
    let snapshot = ctx.keys.snapshot();
    let renders = core
        .spec
        .template
        .data
        .as_ref()
        .is_some_and(|templates| !templates.is_empty());
    let _render_slot = if renders {
        Some(
            ctx.render_slots
                .acquire()
                .await
                .map_err(|e| ReconcileError::Unseal(format!("unseal task failed: {e}")))?,
        )
    } else {
        None
    };
    let options = UnsealOptions {
        accept_v1_data: ctx.args.accept_deprecated_v1_data,
        render_templates: true,
    };
    tokio::task::spawn_blocking(move || {
        unseal(&core, &snapshot.ring, options).map(|unsealed| {
            let inventory = inventory_of(&core, &unsealed);
            (unsealed.secret, inventory)
        })
    })
    .await
    .map_err(|e| ReconcileError::Unseal(format!("unseal task failed: {e}")))?
    .map_err(|e| ReconcileError::Unseal(e.to_string()))
}

/// Which copy of a SealedSecret a reconcile works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The watch cache's, which may lack its ciphertexts (see [`Stripped`]).
    Cache,
    /// Fetched whole from the API server: never taken for a stripped copy.
    Api,
}

/// What one pass of [`apply_copy`] ended with.
enum Pass {
    Done(Applied),
    /// The cached copy lacks the ciphertexts that must now be decrypted.
    FetchWhole,
}

/// Applies a SealedSecret: from the cached copy, and at most once more from a copy fetched
/// whole when the cached one lacks the ciphertexts it must decrypt. Never more than two passes,
/// whatever the object says.
async fn apply(sealed: &SealedSecret, ctx: &Ctx) -> Result<Applied, ReconcileError> {
    if let Pass::Done(applied) = apply_copy(sealed, ctx, Source::Cache).await? {
        return Ok(applied);
    }
    let whole = Api::<SealedSecret>::namespaced(
        ctx.client.clone(),
        &sealed.namespace().unwrap_or_default(),
    )
    .get(&sealed.name_any())
    .await
    .map_err(|e| ReconcileError::Update(e.into()))?;
    match apply_copy(&whole, ctx, Source::Api).await? {
        Pass::Done(applied) => Ok(applied),
        // A copy from the API is never taken for a stripped one.
        Pass::FetchWhole => Err(ReconcileError::Malformed(
            "the SealedSecret fetched whole still lacks its ciphertexts".into(),
        )),
    }
}

async fn apply_copy(
    sealed: &SealedSecret,
    ctx: &Ctx,
    source: Source,
) -> Result<Pass, ReconcileError> {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    let core = sealed
        .to_core()
        .map_err(|e| ReconcileError::Malformed(e.to_string()))?;
    // A cached object without its ciphertexts (see `Stripped`) can prove itself in sync; to
    // decrypt, it is fetched whole. The digest comes from controller memory, never the object.
    let cached_inputs = match source {
        Source::Cache => ctx.stripped.digest_of(sealed),
        Source::Api => None,
    };
    let inputs = cached_inputs.unwrap_or_else(|| sync::inputs_digest(&core));
    let shape = to_k8s(sealed, &secret_shape(&core))?;
    let recorded = recorded_inventory(
        sealed,
        &ctx.status_written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    // An object synced by upstream or an older sealant has no inventory: it is decrypted once
    // to learn it, even though its Secret is in sync (without status writes it could not be
    // kept, so it is not learnt then).
    let learn = ctx.args.update_status
        && recorded.is_none()
        && core.spec.data.is_none()
        && cached_inputs.is_none();
    let in_sync_result = |core: sealant_core::SealedSecret| async move {
        let key_fingerprints = if learn {
            open(core, ctx).await?.1
        } else {
            recorded
        };
        Ok(Pass::Done(Applied {
            outcome: Outcome::InSync,
            key_fingerprints,
        }))
    };

    // Fast path: a cached copy of a Secret we own proves it in sync without a request.
    let cached_in_sync = core.spec.data.is_none()
        && ctx.cached_owned(&namespace, &name).is_some_and(|cached| {
            controlled_by(&cached, sealed)
                && in_sync_cached(&cached, &shape, &inputs, &ctx.sync_key)
        });
    if cached_in_sync && !learn {
        return in_sync_result(core).await;
    }
    // Everything past here may decrypt: one namespace gets a fair share of the workers, and
    // waits its turn without holding a worker (see `NamespaceShare`).
    let Some(_turn) = ctx.namespace_share.try_enter(&namespace) else {
        return Ok(Pass::Done(Applied {
            outcome: Outcome::Deferred,
            key_fingerprints: None,
        }));
    };
    if cached_in_sync {
        return in_sync_result(core).await;
    }

    let secrets: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    let live = secrets
        .get_opt(&name)
        .await
        .map_err(|e| ReconcileError::Update(e.into()))?
        .map(PlainSecret::new);

    // The ownership gate comes before decryption: a Secret we may not write costs no RSA work.
    let patch = match &live {
        Some(live) => {
            let annotations = live.annotations();
            let is_true = |key: &str| annotations.get(key).is_some_and(|v| v == "true");
            let controlled = controlled_by(live, sealed);
            let (managed, patch) = (is_true(MANAGED_ANNOTATION), is_true(PATCH_ANNOTATION));
            if !controlled && !managed && !patch {
                return Err(ReconcileError::Unmanaged(name));
            }
            patch
        }
        None => false,
    };

    // In sync: the digest vouches for the data (for these inputs, under our key) and the
    // metadata already is what the template asks for. v1 blobs carry their metadata inside the
    // ciphertext, so they are always decrypted.
    if let Some(live) = &live
        && core.spec.data.is_none()
        && in_sync(live, &shape, patch, &inputs, &ctx.sync_key)
    {
        return in_sync_result(core).await;
    }

    if cached_inputs.is_some() {
        return Ok(Pass::FetchWhole);
    }
    let (unsealed, key_fingerprints) = open(core, ctx).await?;
    let desired = to_k8s(sealed, &unsealed)?;
    let unsealed = Applied {
        outcome: Outcome::Unsealed,
        key_fingerprints,
    };

    let Some(live) = live else {
        let mut desired = desired;
        desired
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
        set_digest(&mut desired, &inputs, &ctx.sync_key);
        // The API server answers with the object, values included: wiped when dropped.
        let _created = secrets
            .create(&PostParams::default(), &desired)
            .await
            .map(PlainSecret::new)
            .map_err(|e| ReconcileError::Update(e.into()))?;
        info!("Secret created");
        return Ok(Pass::Done(unsealed));
    };

    let mut updated = with_shape(&live, &desired, patch);
    if patch {
        let data = updated.data.get_or_insert_with(BTreeMap::new);
        for (key, value) in desired.data.iter().flatten() {
            if let Some(mut old) = data.insert(key.clone(), value.clone()) {
                old.0.zeroize();
            }
        }
    } else {
        plain::wipe(&mut updated);
        updated.data = desired.data.clone();
    }
    set_digest(&mut updated, &inputs, &ctx.sync_key);
    if updated == live {
        return Ok(Pass::Done(unsealed));
    }
    // An immutable Secret keeps its data; only our digest annotation may still be added.
    if live.immutable == Some(true) && without_digest(&updated) != without_digest(&live) {
        return Err(ReconcileError::Immutable {
            namespace,
            name: live.name_any(),
        });
    }
    let _replaced = secrets
        .replace(&live.name_any(), &PostParams::default(), &updated)
        .await
        .map(PlainSecret::new)
        .map_err(|e| ReconcileError::Update(e.into()))?;
    info!("Secret updated");
    Ok(Pass::Done(unsealed))
}

/// A core Secret as the API's type, with the live SealedSecret's UID in the ownerReference
/// (the offline core model may not have had it).
fn to_k8s(
    sealed: &SealedSecret,
    secret: &sealant_core::Secret,
) -> Result<PlainSecret, ReconcileError> {
    let mut converted =
        PlainSecret::try_from(secret).map_err(|e| ReconcileError::Malformed(e.to_string()))?;
    if let Some(owners) = converted.metadata.owner_references.as_mut() {
        for owner in owners {
            owner.uid = sealed.uid().unwrap_or_default();
        }
    }
    Ok(converted)
}

/// `live` with the labels, annotations, ownerReferences and type that `desired` asks for
/// (overwrite, or merge in patch mode); data and everything else as they are.
fn with_shape(live: &K8sSecret, desired: &K8sSecret, patch: bool) -> PlainSecret {
    let mut updated = PlainSecret::new(live.clone());
    if patch {
        updated
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(desired.metadata.labels.clone().unwrap_or_default());
        let merged = updated
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new);
        merged.extend(desired.metadata.annotations.clone().unwrap_or_default());
        if merged.get(MANAGED_ANNOTATION).is_some_and(|v| v == "true") {
            updated.metadata.owner_references = desired.metadata.owner_references.clone();
            updated
                .metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
        }
    } else {
        updated.metadata.annotations = desired.metadata.annotations.clone();
        updated.metadata.labels = desired.metadata.labels.clone();
        updated.metadata.owner_references = desired.metadata.owner_references.clone();
        updated
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
    }
    if desired.type_.is_some() {
        updated.type_ = desired.type_.clone();
    }
    updated
}

/// MAC over a Secret's data as stored (`data` only: the API server never returns `stringData`).
fn live_data_mac(secret: &K8sSecret, key: &SyncKey) -> [u8; 32] {
    sync::data_mac_entries(
        key,
        secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.0.as_slice())),
    )
}

/// Sets the digest annotation for `secret`'s data as it will be written. Overwrite mode
/// replaces the annotations with the template's first, so this always comes last.
fn set_digest(secret: &mut K8sSecret, inputs: &[u8; 32], key: &SyncKey) {
    let mac = live_data_mac(secret, key);
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(
            DIGEST_ANNOTATION.to_owned(),
            sync::digest_annotation(key, inputs, &mac),
        );
}

/// `secret` without the digest annotation (and without an empty annotation map), for comparing
/// metadata while leaving the digest out.
fn without_digest(secret: &K8sSecret) -> PlainSecret {
    let mut stripped = PlainSecret::new(secret.clone());
    if let Some(annotations) = stripped.metadata.annotations.as_mut() {
        annotations.remove(DIGEST_ANNOTATION);
        if annotations.is_empty() {
            stripped.metadata.annotations = None;
        }
    }
    if stripped
        .metadata
        .labels
        .as_ref()
        .is_some_and(BTreeMap::is_empty)
    {
        stripped.metadata.labels = None;
    }
    stripped
}

/// Whether `live` needs nothing: it carries a valid digest for these inputs and its current
/// data, and applying the template's metadata and type to it would change nothing.
fn in_sync(
    live: &K8sSecret,
    shape: &K8sSecret,
    patch: bool,
    inputs: &[u8; 32],
    key: &SyncKey,
) -> bool {
    in_sync_with_mac(live, shape, patch, inputs, key, &live_data_mac(live, key))
}

fn in_sync_with_mac(
    live: &K8sSecret,
    shape: &K8sSecret,
    patch: bool,
    inputs: &[u8; 32],
    key: &SyncKey,
    data_mac: &[u8; 32],
) -> bool {
    let Some(annotation) = live.annotations().get(DIGEST_ANNOTATION) else {
        return false;
    };
    if !sync::verify_digest_annotation(key, inputs, data_mac, annotation) {
        return false;
    }
    without_digest(&with_shape(live, shape, patch)) == without_digest(live)
}

/// [`in_sync`] for a cached Secret (see [`cacheable`]). Only a Secret we control in overwrite
/// mode gets here; anything else takes the slow path.
fn in_sync_cached(cached: &K8sSecret, shape: &K8sSecret, inputs: &[u8; 32], key: &SyncKey) -> bool {
    let mut view = cached.clone();
    let Some(mac) = view
        .metadata
        .annotations
        .as_mut()
        .and_then(|a| a.remove(CACHED_DATA_MAC))
    else {
        return false;
    };
    let Some(mac) = unhex32(&mac) else {
        return false;
    };
    let is_true = |k: &str| view.annotations().get(k).is_some_and(|v| v == "true");
    if is_true(PATCH_ANNOTATION) {
        return false;
    }
    in_sync_with_mac(&view, shape, false, inputs, key, &mac)
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn controlled_by(secret: &K8sSecret, sealed: &SealedSecret) -> bool {
    secret
        .owner_references()
        .iter()
        .any(|o| o.controller == Some(true) && Some(&o.uid) == sealed.uid().as_ref())
}

/// The status a reconcile wants the object to have.
#[derive(Debug, Clone)]
struct DesiredStatus {
    synced: &'static str,
    message: String,
    generation: Option<i64>,
    key_fingerprints: Option<Vec<String>>,
    compromised: Option<String>,
}

impl DesiredStatus {
    fn written(&self, uid: String, seen_version: Option<String>) -> WrittenStatus {
        WrittenStatus {
            uid,
            seen_version,
            generation: self.generation,
            synced: self.synced,
            key_fingerprints: self.key_fingerprints.clone(),
            compromised: self.compromised.clone(),
        }
    }
}

fn condition<'a>(
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
fn current_compromised(status: Option<&SealedSecretStatus>) -> Option<&str> {
    condition(status, CONDITION_KEY_COMPROMISED)
        .filter(|c| c.status == "True")
        .and_then(|c| c.message.as_deref())
}

/// The merge patch that takes `current` to `desired`, or `None` when nothing changes (no churn
/// for GitOps tools). The conditions are written only when one of them changes or the
/// generation moved (then `Synced` first, `KeyCompromised` second, unchanged conditions kept
/// as they are); `keyFingerprints` only when it differs (`null` removes a stale one).
fn status_patch(
    current: Option<&SealedSecretStatus>,
    desired: &DesiredStatus,
    now: Option<String>,
) -> Option<Value> {
    let previous = condition(current, CONDITION_SYNCED);
    let synced_changed = previous.is_none_or(|c| c.status != desired.synced);
    let generation_changed = current.and_then(|s| s.observed_generation) != desired.generation;
    let compromised_changed = current_compromised(current) != desired.compromised.as_deref();
    let inventory_changed =
        current.and_then(|s| s.key_fingerprints.as_ref()) != desired.key_fingerprints.as_ref();
    if !synced_changed && !generation_changed && !compromised_changed && !inventory_changed {
        return None;
    }
    let mut status = serde_json::Map::new();
    if synced_changed || generation_changed || compromised_changed {
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
                reason: None,
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
        status.insert("observedGeneration".into(), json!(desired.generation));
        status.insert("conditions".into(), json!(conditions));
    }
    if inventory_changed {
        status.insert("keyFingerprints".into(), json!(desired.key_fingerprints));
    }
    Some(json!({ "status": status }))
}

/// Creates an events.k8s.io/v1 Event as [`Recorder::publish`] does for a first occurrence, but
/// keeps no copy in memory (no series: a repeat is a new Event).
async fn publish_uncached(
    ctx: &Ctx,
    event: &Event,
    reference: &ObjectReference,
) -> Result<(), kube::Error> {
    let now = k8s_openapi::jiff::Timestamp::now();
    let controller = &ctx.reporter.controller;
    let namespace = reference.namespace.as_deref().unwrap_or("default");
    let k8s_event = K8sEvent {
        action: Some(event.action.clone()),
        reason: Some(event.reason.clone()),
        event_time: Some(MicroTime(now)),
        regarding: Some(reference.clone()),
        note: event.note.clone(),
        metadata: ObjectMeta {
            namespace: Some(namespace.to_owned()),
            name: Some(format!(
                "{}.{:x}",
                reference.name.as_ref().unwrap_or(controller),
                now.as_nanosecond()
            )),
            ..Default::default()
        },
        reporting_controller: Some(controller.clone()),
        reporting_instance: Some(
            ctx.reporter
                .instance
                .clone()
                .unwrap_or_else(|| controller.clone()),
        ),
        type_: Some(match event.type_ {
            EventType::Normal => "Normal".into(),
            EventType::Warning => "Warning".into(),
        }),
        related: event.secondary.clone(),
        ..Default::default()
    };
    Api::<K8sEvent>::namespaced(ctx.client.clone(), namespace)
        .create(&PostParams::default(), &k8s_event)
        .await
        .map(drop)
}

/// Writes the outcome: events, metrics, the inventory, and the status (only when it changes,
/// or the generation moved, so GitOps tools see no churn).
async fn report(sealed: &SealedSecret, ctx: &Ctx, result: &Result<Applied, ReconcileError>) {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    let reference = sealed.object_ref(&());
    let event = match result {
        // No event for a no-op (deviation: upstream emits `Unsealed` on every reconcile, i.e.
        // for every object at every restart).
        Ok(Applied {
            outcome: Outcome::InSync | Outcome::Deferred,
            ..
        }) => None,
        Ok(Applied {
            outcome: Outcome::Unsealed,
            ..
        }) => Some(Event {
            type_: EventType::Normal,
            reason: "Unsealed".into(),
            note: Some("SealedSecret unsealed successfully".into()),
            action: "Unseal".into(),
            secondary: None,
        }),
        Err(err) => {
            ctx.metrics.unseal_error(err.metric_label(), &namespace);
            let note = match err {
                ReconcileError::Unseal(message) => format!("Failed to unseal: {message}"),
                other => other.to_string(),
            };
            Some(Event {
                type_: EventType::Warning,
                reason: err.event_reason().into(),
                note: Some(truncate(&note, 1024)),
                action: "Unseal".into(),
                secondary: None,
            })
        }
    };
    let published = match &event {
        // An `Unsealed` event is sent once per object and change; the Recorder's series cache
        // would keep a copy of each for an hour (~4.5 KB per object, 20 MiB at 5,000 objects:
        // bench/profile.sh) only to count repeats that do not come.
        Some(event) if event.type_ == EventType::Normal => {
            publish_uncached(ctx, event, &reference).await
        }
        Some(event) => ctx.recorder.publish(event, &reference).await,
        None => Ok(()),
    };
    if let Err(err) = published {
        warn!(%err, "cannot publish event");
    }

    let instance = sealed.labels().get("app.kubernetes.io/instance").cloned();
    ctx.metrics.set_condition(
        &namespace,
        &name,
        instance.as_deref(),
        if result.is_ok() { 1 } else { -1 },
    );

    // A failed unseal proves nothing about the keys: the inventory recorded for this
    // generation stands (or stays unknown).
    let key_fingerprints = match result {
        Ok(applied) => applied.key_fingerprints.clone(),
        Err(_) => recorded_inventory(
            sealed,
            &ctx.status_written
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ),
    };
    ctx.inventory
        .record(&namespace, &name, key_fingerprints.clone());
    let compromised = compromised_message(key_fingerprints.as_deref(), &ctx.keys.snapshot());
    let current = sealed.status.as_ref();
    // Once per change: not again for the warning the status already carries (a restart), nor
    // for the one this process sent last.
    let new_warning = ctx
        .inventory
        .warn_once(&namespace, &name, compromised.as_deref())
        && current_compromised(current) != compromised.as_deref();
    if new_warning && let Some(message) = &compromised {
        warn!(%message, "SealedSecret depends on a compromised key");
        let event = Event {
            type_: EventType::Warning,
            reason: REASON_COMPROMISED.into(),
            note: Some(message.clone()),
            action: "Unseal".into(),
            secondary: None,
        };
        if let Err(err) = ctx.recorder.publish(&event, &reference).await {
            warn!(%err, "cannot publish event");
        }
    }

    if !ctx.args.update_status {
        return;
    }
    // Bounded like event notes: one failing item or template per line could otherwise make a
    // status too large to write.
    let (synced, message) = match result {
        Ok(_) => ("True", String::new()),
        Err(err) => ("False", truncate(&err.to_string(), STATUS_MESSAGE_MAX)),
    };
    let desired = DesiredStatus {
        synced,
        message,
        generation: sealed.meta().generation,
        key_fingerprints,
        compromised,
    };
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let now = serde_json::to_value(now)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let Some(patch) = status_patch(current, &desired, now) else {
        return;
    };
    // Reconciles triggered by our own writes may still see the object from before our status
    // patch landed in the cache: what we last wrote over this very version is remembered, so it
    // is not written twice. A status changed by anyone else since is a newer version: it is
    // written again (a forged `Synced=True` does not stay).
    let written = desired.written(
        sealed.uid().unwrap_or_default(),
        sealed.meta().resource_version.clone(),
    );
    if ctx
        .status_written
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&(namespace.clone(), name.clone()))
        == Some(&written)
    {
        return;
    }
    let api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    if let Err(err) = api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        ctx.metrics.unseal_error("status", &namespace);
        warn!(%err, "cannot update status");
        return;
    }
    ctx.status_written
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert((namespace, name), written);
}

/// Longest `Synced` condition message written, in bytes.
const STATUS_MESSAGE_MAX: usize = 1024;

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_permanence() {
        let immutable = ReconcileError::Immutable {
            namespace: "a".into(),
            name: "b".into(),
        };
        assert!(immutable.is_permanent());
        assert_eq!(immutable.metric_label(), "update");
        assert_eq!(
            immutable.to_string(),
            format!("Error updating a/b: {IMMUTABLE_MESSAGE}")
        );
        // Decided by the status code, not the text.
        let api = |code: u16| {
            ReconcileError::Update(sealant_k8s::KubeError::from(kube::Error::Api(
                kube::core::Status::failure("the target Secret is immutable", "Invalid")
                    .with_code(code)
                    .boxed(),
            )))
        };
        assert!(api(422).is_permanent());
        assert!(!api(409).is_permanent());
        assert!(!api(503).is_permanent());
        let unmanaged = ReconcileError::Unmanaged("x".into());
        assert_eq!(
            unmanaged.to_string(),
            "failed update: Resource \"x\" already exists and is not managed by SealedSecret"
        );
        assert_eq!(unmanaged.event_reason(), "ErrUpdateFailed");
        assert_eq!(
            ReconcileError::Unseal("no key could decrypt secret (a)".into()).event_reason(),
            "ErrUnsealFailed"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let no_jitter = 100; // seed 100 → jitter 0
        assert_eq!(backoff_delay(1, no_jitter), Duration::from_secs(1));
        assert_eq!(backoff_delay(2, no_jitter), Duration::from_secs(2));
        assert_eq!(backoff_delay(4, no_jitter), Duration::from_secs(8));
        assert_eq!(backoff_delay(30, no_jitter), Duration::from_secs(300));
        assert!(
            backoff_delay(3, 0) >= Duration::from_millis(3600)
                && backoff_delay(3, 200) <= Duration::from_millis(4400)
        );
    }

    fn written(patch: bool) -> (K8sSecret, K8sSecret, [u8; 32], SyncKey) {
        let key = SyncKey::from_bytes(&[9; 32]).unwrap();
        let inputs = [3u8; 32];
        let owner = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "bitnami.com/v1alpha1".into(),
            kind: "SealedSecret".into(),
            name: "app".into(),
            uid: "uid-1".into(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let shape = K8sSecret {
            metadata: kube::api::ObjectMeta {
                name: Some("app".into()),
                labels: Some([("app".to_owned(), "demo".to_owned())].into()),
                owner_references: Some(vec![owner]),
                ..Default::default()
            },
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let mut desired = shape.clone();
        desired.data = Some([("k".to_owned(), k8s_openapi::ByteString(b"v".to_vec()))].into());
        let mut live = K8sSecret {
            metadata: kube::api::ObjectMeta {
                name: Some("app".into()),
                annotations: patch
                    .then(|| [(PATCH_ANNOTATION.to_owned(), "true".to_owned())].into()),
                labels: Some([("foreign".to_owned(), "x".to_owned())].into()),
                ..Default::default()
            },
            ..Default::default()
        };
        live = K8sSecret::clone(&with_shape(&live, &desired, patch));
        if patch {
            live.data =
                Some([("kept".to_owned(), k8s_openapi::ByteString(b"old".to_vec()))].into());
            live.data
                .get_or_insert_with(BTreeMap::new)
                .extend(desired.data.clone().unwrap_or_default());
        } else {
            live.data = desired.data.clone();
        }
        set_digest(&mut live, &inputs, &key);
        (live, shape, inputs, key)
    }

    #[test]
    fn written_secret_is_in_sync_until_anything_changes() {
        for patch in [false, true] {
            let (live, shape, inputs, key) = written(patch);
            assert!(
                in_sync(&live, &shape, patch, &inputs, &key),
                "patch={patch}"
            );
            // The annotation survives overwrite mode and is the only addition.
            assert!(live.annotations().contains_key(DIGEST_ANNOTATION));

            let mut tampered = live.clone();
            tampered
                .data
                .get_or_insert_with(BTreeMap::new)
                .insert("k".into(), k8s_openapi::ByteString(b"w".to_vec()));
            assert!(!in_sync(&tampered, &shape, patch, &inputs, &key));
            let mut added = live.clone();
            added
                .data
                .get_or_insert_with(BTreeMap::new)
                .insert("new".into(), k8s_openapi::ByteString(Vec::new()));
            assert!(!in_sync(&added, &shape, patch, &inputs, &key));

            let mut other_inputs = inputs;
            other_inputs[0] ^= 1;
            assert!(!in_sync(&live, &shape, patch, &other_inputs, &key));
            let other_key = SyncKey::from_bytes(&[8; 32]).unwrap();
            assert!(!in_sync(&live, &shape, patch, &inputs, &other_key));

            let mut relabelled = shape.clone();
            relabelled
                .metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert("app".into(), "other".into());
            assert!(!in_sync(&live, &relabelled, patch, &inputs, &key));
            let mut retyped = shape.clone();
            retyped.type_ = Some("kubernetes.io/tls".into());
            assert!(!in_sync(&live, &retyped, patch, &inputs, &key));

            let mut unannotated = live.clone();
            if let Some(a) = unannotated.metadata.annotations.as_mut() {
                a.remove(DIGEST_ANNOTATION);
            }
            assert!(!in_sync(&unannotated, &shape, patch, &inputs, &key));
        }
    }

    #[test]
    fn cached_copy_holds_no_data_and_agrees_with_the_full_check() {
        let (live, shape, inputs, key) = written(false);
        let cached = cacheable(live.clone(), &key);
        assert!(cached.data.is_none() && cached.string_data.is_none());
        assert!(in_sync_cached(&cached, &shape, &inputs, &key));

        let mut tampered = live.clone();
        tampered
            .data
            .get_or_insert_with(BTreeMap::new)
            .insert("k".into(), k8s_openapi::ByteString(b"w".to_vec()));
        assert!(!in_sync_cached(
            &cacheable(tampered, &key),
            &shape,
            &inputs,
            &key
        ));
        let mut other_inputs = inputs;
        other_inputs[31] ^= 1;
        assert!(!in_sync_cached(&cached, &shape, &other_inputs, &key));
        let mut retyped = shape.clone();
        retyped.type_ = Some("kubernetes.io/tls".into());
        assert!(!in_sync_cached(&cached, &retyped, &inputs, &key));
        // Without the MAC (not from the cache) or in patch mode: the slow path decides.
        let mut stripped = cached.clone();
        stripped
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .remove(CACHED_DATA_MAC);
        assert!(!in_sync_cached(&stripped, &shape, &inputs, &key));
        let (patched, shape, inputs, key) = written(true);
        assert!(!in_sync_cached(
            &cacheable(patched, &key),
            &shape,
            &inputs,
            &key
        ));
    }

    #[test]
    fn overwrite_mode_drops_foreign_metadata_and_patch_mode_keeps_it() {
        let (live, shape, inputs, key) = written(false);
        assert!(!live.labels().contains_key("foreign"));
        let mut foreign = live.clone();
        foreign
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert("foreign".into(), "x".into());
        assert!(!in_sync(&foreign, &shape, false, &inputs, &key));

        let (live, shape, inputs, key) = written(true);
        assert_eq!(live.labels().get("foreign").map(String::as_str), Some("x"));
        assert!(in_sync(&live, &shape, true, &inputs, &key));
    }

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

    fn vector(name: &str) -> (sealant_core::PrivateKey, sealant_core::Certificate) {
        let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
        (
            sealant_core::PrivateKey::from_pem(&read("key")).unwrap(),
            sealant_core::Certificate::from_pem(&read("crt")).unwrap(),
        )
    }

    /// Keys from test vectors with the given states (oldest first).
    fn snapshot(keys: &[(&str, KeyState)]) -> KeySnapshot {
        let mut snapshot = KeySnapshot::default();
        for (name, state) in keys {
            let (key, cert) = vector(name);
            snapshot.keys.push(crate::keys::KeyInfo {
                fingerprint: key.fingerprint().clone(),
                secret_name: (*name).to_owned(),
                order_time: cert.not_before(),
                cert,
                state: state.clone(),
            });
            snapshot.ring.insert(key);
        }
        snapshot
    }

    fn fingerprint(name: &str) -> String {
        vector(name).0.fingerprint().as_str().to_owned()
    }

    fn sealed_with(items: &[(&str, &str)]) -> sealant_core::SealedSecret {
        let mut sealed: Option<sealant_core::SealedSecret> = None;
        for (item, key) in items {
            let secret = sealant_core::object::read_secrets(&format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: team}}\nstringData: {{{item}: not-logged}}\n"
            ))
            .unwrap()
            .remove(0);
            let one = sealant_core::seal_secret(
                secret,
                vector(key).1.public_key(),
                &sealant_core::SealOptions::default(),
            )
            .unwrap();
            match &mut sealed {
                None => sealed = Some(one),
                Some(all) => all.spec.encrypted_data.extend(one.spec.encrypted_data),
            }
        }
        sealed.unwrap()
    }

    #[test]
    fn inventory_is_the_sorted_distinct_keys_that_opened_the_items() {
        let keys = snapshot(&[
            ("rsa2048", KeyState::Active),
            ("other-2048", KeyState::Compromised),
        ]);
        let sealed = sealed_with(&[("a", "rsa2048"), ("b", "other-2048"), ("c", "rsa2048")]);
        let options = UnsealOptions {
            accept_v1_data: false,
            render_templates: true,
        };
        let unsealed = unseal(&sealed, &keys.ring, options).unwrap();
        let mut expected = vec![fingerprint("rsa2048"), fingerprint("other-2048")];
        expected.sort();
        assert_eq!(inventory_of(&sealed, &unsealed), Some(expected));
        let single = sealed_with(&[("a", "other-2048"), ("b", "other-2048")]);
        let unsealed_single = unseal(&single, &keys.ring, options).unwrap();
        assert_eq!(
            inventory_of(&single, &unsealed_single),
            Some(vec![fingerprint("other-2048")])
        );
        // A v1 blob's opening key is not reported by core: unknown, never an empty list.
        let mut v1 = sealed.clone();
        v1.spec.data = Some("AAAA".into());
        assert_eq!(inventory_of(&v1, &unsealed), None);
    }

    #[test]
    fn only_compromised_keys_raise_the_warning() {
        let keys = snapshot(&[
            ("rsa2048", KeyState::Active),
            ("other-2048", KeyState::Compromised),
            ("multi-1", KeyState::Compromised),
        ]);
        let (active, bad, worse) = (
            fingerprint("rsa2048"),
            fingerprint("other-2048"),
            fingerprint("multi-1"),
        );
        let unloaded = fingerprint("multi-2");
        assert_eq!(compromised_message(None, &keys), None);
        assert_eq!(compromised_message(Some(&[]), &keys), None);
        assert_eq!(
            compromised_message(Some(&[active.clone(), unloaded.clone()]), &keys),
            None
        );
        assert_eq!(
            compromised_message(Some(&[active.clone(), bad.clone()]), &keys),
            Some(format!(
                "sealed to compromised key {bad}; re-encrypt it (sealant reencrypt)"
            ))
        );
        assert_eq!(
            compromised_message(Some(&[bad.clone(), worse.clone()]), &keys),
            Some(format!(
                "sealed to compromised keys {bad}, {worse}; re-encrypt it (sealant reencrypt)"
            ))
        );
        // Reactivated: no longer a warning.
        let reactivated = snapshot(&[("other-2048", KeyState::Active)]);
        assert_eq!(compromised_message(Some(&[bad]), &reactivated), None);
    }

    fn sealed_object(status: Value) -> SealedSecret {
        serde_json::from_value(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "app", "namespace": "team", "uid": "uid-1", "generation": 2},
            "spec": {"encryptedData": {"k": "AQ=="}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn cache_drops_ciphertexts_only_of_objects_synced_with_an_inventory() {
        let full = sealed_object(upstream_status());
        let inputs = sync::inputs_digest(&full.to_core().unwrap());

        let stripped = Stripped::default();
        let mut synced_status = upstream_status();
        synced_status["keyFingerprints"] = json!(["SHA256:abc"]);
        let mut cached = sealed_object(synced_status.clone());
        stripped.make_cacheable(&mut cached);
        assert_eq!(cached.spec.inner.encrypted_data["k"], "", "ciphertext kept");
        assert_eq!(stripped.digest_of(&cached), Some(inputs));

        // Not synced, no inventory yet (it must be decrypted to learn it), another generation:
        // kept whole, since reconciling them needs the ciphertexts.
        let mut failed = synced_status.clone();
        failed["conditions"][0]["status"] = json!("False");
        let mut other_generation = synced_status;
        other_generation["observedGeneration"] = json!(1);
        for status in [upstream_status(), failed, other_generation, Value::Null] {
            let mut kept = sealed_object(status.clone());
            stripped.make_cacheable(&mut kept);
            assert_eq!(kept.spec.inner.encrypted_data["k"], "AQ==", "{status}");
            assert_eq!(stripped.digest_of(&kept), None, "{status}");
        }
    }

    #[test]
    fn whole_copy_of_a_stripped_object_is_never_taken_for_the_stripped_one() {
        let mut status = upstream_status();
        status["keyFingerprints"] = json!(["SHA256:abc"]);
        let stripped = Stripped::default();
        let whole = sealed_object(status);
        let mut cached = whole.clone();
        stripped.make_cacheable(&mut cached);
        assert!(stripped.digest_of(&cached).is_some());
        // The same version fetched with GET has its ciphertexts: it is decrypted, not trusted.
        assert_eq!(stripped.digest_of(&whole), None);
        // Another object or version under the same name: not the one the digest is for.
        let mut recreated = cached.clone();
        recreated.metadata.uid = Some("uid-2".into());
        assert_eq!(stripped.digest_of(&recreated), None);
        let mut newer = cached.clone();
        newer.metadata.resource_version = Some("99".into());
        assert_eq!(stripped.digest_of(&newer), None);
        stripped.forget("team", "app");
        assert_eq!(stripped.digest_of(&cached), None);
    }

    #[test]
    fn one_namespace_gets_at_most_half_the_workers() {
        let share = NamespaceShare::for_concurrency(4);
        let first = share.try_enter("noisy").unwrap();
        let _second = share.try_enter("noisy").unwrap();
        assert!(
            share.try_enter("noisy").is_none(),
            "a third turn for one namespace"
        );
        let _other = share.try_enter("quiet").unwrap();
        drop(first);
        assert!(
            share.try_enter("noisy").is_some(),
            "a turn given back is free again"
        );
        assert!(
            NamespaceShare::for_concurrency(1)
                .try_enter("any")
                .is_some()
        );
    }

    /// Regression: a SealedSecret whose `sealant.dev/cached-inputs-digest` annotation was set
    /// through the API made `apply` fetch and recurse until the stack overflowed, or kept a
    /// stale Secret `Synced=True`. No annotation is read for cache state any more.
    #[test]
    fn forged_cached_inputs_digest_annotation_is_not_read() {
        let stripped = Stripped::default();
        let mut object = sealed_object(upstream_status());
        object.metadata.annotations = Some(BTreeMap::from([(
            "sealant.dev/cached-inputs-digest".to_owned(),
            hex(&[7; 32]),
        )]));
        object
            .spec
            .inner
            .encrypted_data
            .insert("k".into(), String::new());
        assert_eq!(stripped.digest_of(&object), None);
        stripped.make_cacheable(&mut object);
        assert_eq!(stripped.digest_of(&object), None);
    }

    #[test]
    fn objects_count_before_their_first_reconcile() {
        let inventory = Inventory::default();
        let mut recorded = upstream_status();
        recorded["keyFingerprints"] = json!(["SHA256:old"]);
        inventory.observe(&sealed_object(recorded.clone()));
        let mut other = sealed_object(upstream_status());
        other.metadata.name = Some("other".into());
        inventory.observe(&other);
        let mut usage = inventory.usage();
        assert_eq!(usage.by_key.remove("SHA256:old"), Some(1));
        assert_eq!(usage.unknown, 1);
        // A reconcile's record wins over what a later watch event's status says.
        inventory.record("team", "app", Some(vec!["SHA256:new".into()]));
        inventory.observe(&sealed_object(recorded));
        assert_eq!(inventory.usage().by_key.get("SHA256:new"), Some(&1));
        assert_eq!(inventory.usage().by_key.get("SHA256:old"), None);
    }

    fn upstream_status() -> Value {
        json!({"observedGeneration": 2, "conditions": [
            {"type": "Synced", "status": "True", "lastUpdateTime": "2026-01-01T00:00:00Z",
             "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ]})
    }

    fn desired(key_fingerprints: Option<Vec<&str>>, compromised: Option<&str>) -> DesiredStatus {
        DesiredStatus {
            synced: "True",
            message: String::new(),
            generation: Some(2),
            key_fingerprints: key_fingerprints.map(|f| f.into_iter().map(str::to_owned).collect()),
            compromised: compromised.map(str::to_owned),
        }
    }

    #[test]
    fn inventory_alone_is_written_without_touching_the_conditions() {
        let object = sealed_object(upstream_status());
        let now = Some("2026-06-01T00:00:00Z".to_owned());
        let patch = status_patch(
            object.status.as_ref(),
            &desired(Some(vec!["SHA256:a", "SHA256:b"]), None),
            now.clone(),
        )
        .unwrap();
        assert_eq!(
            patch,
            json!({"status": {"keyFingerprints": ["SHA256:a", "SHA256:b"]}})
        );
        // Once recorded, nothing to write.
        let mut recorded = upstream_status();
        recorded["keyFingerprints"] = json!(["SHA256:a", "SHA256:b"]);
        let object = sealed_object(recorded);
        assert_eq!(
            status_patch(
                object.status.as_ref(),
                &desired(Some(vec!["SHA256:a", "SHA256:b"]), None),
                now.clone()
            ),
            None
        );
        // Unknown after a failure at a new generation: the stale list is removed.
        let mut failed = desired(None, None);
        failed.synced = "False";
        failed.generation = Some(3);
        let patch = status_patch(object.status.as_ref(), &failed, now).unwrap();
        assert_eq!(patch["status"]["keyFingerprints"], Value::Null);
        assert!(
            patch["status"]
                .as_object()
                .unwrap()
                .contains_key("keyFingerprints")
        );
        assert_eq!(patch["status"]["conditions"][0]["status"], "False");
        assert_eq!(patch["status"]["observedGeneration"], 3);
    }

    #[test]
    fn compromised_condition_comes_second_and_goes_when_resolved() {
        let mut recorded = upstream_status();
        recorded["keyFingerprints"] = json!(["SHA256:bad"]);
        let object = sealed_object(recorded.clone());
        let now = Some("2026-06-01T00:00:00Z".to_owned());
        let message = "sealed to compromised key SHA256:bad; re-encrypt it (sealant reencrypt)";
        let patch = status_patch(
            object.status.as_ref(),
            &desired(Some(vec!["SHA256:bad"]), Some(message)),
            now.clone(),
        )
        .unwrap();
        let conditions = patch["status"]["conditions"].as_array().unwrap();
        assert_eq!(conditions.len(), 2);
        // Synced first and unchanged (its times stay), KeyCompromised second.
        assert_eq!(conditions[0], recorded["conditions"][0]);
        assert_eq!(conditions[1]["type"], CONDITION_KEY_COMPROMISED);
        assert_eq!(conditions[1]["status"], "True");
        assert_eq!(conditions[1]["reason"], REASON_COMPROMISED);
        assert_eq!(conditions[1]["message"], message);
        assert_eq!(conditions[1]["lastTransitionTime"], "2026-06-01T00:00:00Z");
        assert!(
            !patch["status"]
                .as_object()
                .unwrap()
                .contains_key("keyFingerprints")
        );

        // Applied: stable.
        let mut flagged = recorded.clone();
        flagged["conditions"] = json!(conditions);
        let object = sealed_object(flagged.clone());
        assert_eq!(
            status_patch(
                object.status.as_ref(),
                &desired(Some(vec!["SHA256:bad"]), Some(message)),
                now.clone()
            ),
            None
        );
        assert_eq!(current_compromised(object.status.as_ref()), Some(message));
        // Re-encrypted (or the key reactivated): the condition goes, Synced stays.
        let patch = status_patch(
            object.status.as_ref(),
            &desired(Some(vec!["SHA256:good"]), None),
            now,
        )
        .unwrap();
        assert_eq!(
            patch["status"]["conditions"],
            json!([recorded["conditions"][0]])
        );
        assert_eq!(patch["status"]["keyFingerprints"], json!(["SHA256:good"]));
    }

    #[test]
    fn recorded_inventory_belongs_to_the_current_generation() {
        let mut recorded = upstream_status();
        recorded["keyFingerprints"] = json!(["SHA256:a"]);
        let object = sealed_object(recorded.clone());
        let mut memory = StatusMemory::new();
        assert_eq!(
            recorded_inventory(&object, &memory),
            Some(vec!["SHA256:a".to_owned()])
        );
        // From an older generation: not trusted.
        recorded["observedGeneration"] = json!(1);
        let stale = sealed_object(recorded);
        assert_eq!(recorded_inventory(&stale, &memory), None);
        // Upstream's status has none; what we wrote (not yet seen in the object) counts.
        let upstream = sealed_object(upstream_status());
        assert_eq!(recorded_inventory(&upstream, &memory), None);
        let written = desired(Some(vec!["SHA256:b"]), None).written("uid-1".into(), None);
        memory.insert(("team".into(), "app".into()), written.clone());
        assert_eq!(
            recorded_inventory(&upstream, &memory),
            Some(vec!["SHA256:b".to_owned()])
        );
        // ...for that object and generation only.
        let other_uid = WrittenStatus {
            uid: "uid-0".into(),
            ..written
        };
        memory.insert(("team".into(), "app".into()), other_uid);
        assert_eq!(recorded_inventory(&upstream, &memory), None);
    }

    #[test]
    fn inventory_counts_keys_and_warns_once_per_change() {
        let inventory = Inventory::default();
        inventory.record("a", "one", Some(vec!["SHA256:x".into()]));
        inventory.record("a", "two", Some(vec!["SHA256:x".into(), "SHA256:y".into()]));
        inventory.record("b", "three", None);
        inventory.record("b", "four", Some(Vec::new()));
        let usage = inventory.usage();
        assert_eq!(usage.unknown, 1);
        assert_eq!(
            usage.by_key,
            [("SHA256:x".to_owned(), 2), ("SHA256:y".to_owned(), 1)].into()
        );
        inventory.record("a", "two", Some(vec!["SHA256:y".into()]));
        inventory.forget("b", "three");
        let usage = inventory.usage();
        assert_eq!(usage.unknown, 0);
        assert_eq!(
            usage.by_key,
            [("SHA256:x".to_owned(), 1), ("SHA256:y".to_owned(), 1)].into()
        );

        assert!(inventory.warn_once("a", "one", Some("m1")));
        assert!(!inventory.warn_once("a", "one", Some("m1")));
        assert!(inventory.warn_once("a", "one", Some("m2")));
        assert!(!inventory.warn_once("a", "one", None));
        assert!(
            inventory.warn_once("a", "one", Some("m2")),
            "resolved, then again"
        );
        // The inventory itself is untouched by warnings.
        assert_eq!(inventory.usage().by_key.get("SHA256:x"), Some(&1));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("ééééé", 6), "é...");
    }
}
