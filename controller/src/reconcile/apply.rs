//! Writing the Secret: the cache check, the ownership gate, decryption, then a create or a
//! server-side apply (docs/controller.md, "Writes").

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant_core::sealing::secret_shape;
use sealant_core::sync::{self, DIGEST_ANNOTATION};
use sealant_core::{UnsealOptions, unseal};
use sealant_k8s::plain::{self, PlainSecret};
use serde_json::{Map, Value, json};
use tracing::info;
use zeroize::Zeroize as _;

use super::insync::{
    CachedCopy, controlled_by, in_sync, live_data_mac, set_digest, with_shape, without_digest,
};
use super::inventory::inventory_of;
use super::tenant::ObjectKeys;
use super::{
    Applied, Ctx, FIELD_MANAGER, MANAGED_ANNOTATION, OWNED_LABEL, OWNED_LABEL_VALUE, Outcome,
    PATCH_ANNOTATION, ReconcileError,
};
use crate::crd::SealedSecret;
use crate::rollout::SecretData;

/// Which copy of a SealedSecret a reconcile works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The watch cache's, which may lack its ciphertexts (see [`super::Stripped`]).
    Cache,
    /// Fetched whole from the API server: never taken for a stripped copy.
    Api,
}

/// What one pass of [`apply_copy`] ended with.
enum Pass {
    Done(Applied),
    /// The cached copy lacks the ciphertexts that must now be decrypted, or is a stripped copy
    /// whose entry moved on (see [`super::Stripped::classify`]).
    FetchWhole,
}

/// Applies a SealedSecret: from the cached copy, and at most once more from a copy fetched
/// whole when the cached one lacks the ciphertexts it must decrypt. Never more than two passes,
/// whatever the object says.
pub(super) async fn apply(sealed: &SealedSecret, ctx: &Ctx) -> Result<Applied, ReconcileError> {
    super::selector::check(sealed, ctx).await?;
    // Whose keys open it (docs/multi-tenancy.md, "Tenant keys"): one snapshot for both passes.
    let keys = super::tenant::keys(sealed, ctx).await?;
    if let Pass::Done(applied) = apply_copy(sealed, ctx, Source::Cache, &keys).await? {
        return Ok(applied);
    }
    let whole = Api::<SealedSecret>::namespaced(
        ctx.client.clone(),
        &sealed.namespace().unwrap_or_default(),
    )
    .get(&sealed.name_any())
    .await?;
    match apply_copy(&whole, ctx, Source::Api, &keys).await? {
        Pass::Done(applied) => Ok(applied),
        // A copy from the API is never taken for a stripped one.
        Pass::FetchWhole => Err(ReconcileError::NotWhole),
    }
}

async fn apply_copy(
    sealed: &SealedSecret,
    ctx: &Ctx,
    source: Source,
    keys: &ObjectKeys,
) -> Result<Pass, ReconcileError> {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    // A cached object without its ciphertexts (see `Stripped`) can prove itself in sync; to
    // decrypt, it is fetched whole. The digest comes from controller memory, never the object.
    let cached_inputs = match (source, ctx.stripped.classify(sealed)) {
        (_, CachedCopy::Whole) => None,
        (Source::Cache, CachedCopy::Stripped(digest)) => Some(digest),
        // A stripped copy of a version whose entry moved on (or is gone): nothing about it is
        // known any more, and its empty spec must never be decrypted.
        (Source::Cache, CachedCopy::Stale) => return Ok(Pass::FetchWhole),
        // A copy from the API is never marked; should one be, it is not decrypted.
        (Source::Api, _) => return Err(ReconcileError::NotWhole),
    };
    let core = sealed.to_core().map_err(ReconcileError::Malformed)?;
    // The owner of the keys is bound in too: a namespace moved to another tenant, or the
    // migration switch turned off, makes the object decrypt again.
    let inputs = keys.bind(
        cached_inputs.unwrap_or_else(|| sync::inputs_digest(&core)),
        &ctx.sync_key,
    );
    let shape = to_k8s(sealed, &secret_shape(&core))?;
    let recorded = ctx.status.recorded_inventory(sealed);
    // An object synced by upstream or an older sealant has no inventory: it is decrypted once
    // to learn it, even though its Secret is in sync (without status writes it could not be
    // kept, so it is not learnt then).
    let learn = ctx.args.update_status
        && recorded.is_none()
        && core.spec.data.is_none()
        && cached_inputs.is_none();
    let in_sync_result = |core: sealant_core::SealedSecret, mac| async move {
        let key_fingerprints = if learn {
            open(sealed, core, ctx, keys).await?.1
        } else {
            recorded
        };
        Ok(Pass::Done(Applied {
            outcome: Outcome::InSync,
            key_fingerprints,
            secret: Some(SecretData::Unchanged(mac)),
        }))
    };

    // Fast path: the cache's record of a Secret we own proves it in sync without a request.
    // Its ownerReferences are the template's once in sync, so the controller reference is
    // checked on the desired shape.
    let cached_mac = core
        .spec
        .data
        .is_none()
        .then(|| ctx.cached_owned(&namespace, &name))
        .flatten()
        .filter(|record| {
            controlled_by(&shape, sealed) && record.in_sync(&shape, &inputs, &ctx.sync_key)
        })
        .map(|record| record.data_mac());
    if let Some(mac) = cached_mac
        && !learn
    {
        return in_sync_result(core, mac).await;
    }
    // Everything past here may decrypt: one namespace gets a fair share of the workers, and
    // waits its turn without holding a worker (see `NamespaceShare`).
    let Some(_turn) = ctx.namespace_share.try_enter(&namespace) else {
        return Ok(Pass::Done(Applied {
            outcome: Outcome::Deferred,
            key_fingerprints: None,
            secret: None,
        }));
    };
    if let Some(mac) = cached_mac {
        return in_sync_result(core, mac).await;
    }

    let secrets: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    if cached_inputs.is_none() && creates_first(sealed, ctx, &namespace, &name) {
        return create_first(sealed, core, ctx, keys, &secrets, &shape, &inputs).await;
    }
    let live = secrets.get_opt(&name).await?.map(PlainSecret::new);

    // The ownership gate comes before decryption: a Secret we may not write costs no RSA work.
    let patch = match &live {
        Some(live) => gate(live, sealed)?,
        None => false,
    };

    // In sync: the digest vouches for the data (for these inputs, under our key) and the
    // metadata already is what the template asks for. v1 blobs carry their metadata inside the
    // ciphertext, so they are always decrypted.
    if let Some(live) = &live
        && core.spec.data.is_none()
        && in_sync(live, &shape, patch, &inputs, &ctx.sync_key)
    {
        return in_sync_result(core, live_data_mac(live, &ctx.sync_key)).await;
    }

    if cached_inputs.is_some() {
        return Ok(Pass::FetchWhole);
    }
    let (unsealed, key_fingerprints) = open(sealed, core, ctx, keys).await?;
    let desired = to_k8s(sealed, &unsealed)?;
    drop(unsealed);
    write(
        &secrets,
        live,
        desired,
        patch,
        &inputs,
        key_fingerprints,
        ctx,
    )
    .await
}

/// Whether a pass decrypts and creates the Secret without reading it first
/// (docs/controller.md, "Writes"): for an object that never synced, is not failing, and whose
/// Secret the owned-Secret cache (listed) does not hold. Such an object most likely has no
/// Secret yet; if it has one after all, the create fails and [`create_first`] reads it. A
/// Secret that is not ours then costs one decryption, once: the failure sends every later
/// attempt through the ownership gate first.
fn creates_first(sealed: &SealedSecret, ctx: &Ctx, namespace: &str, name: &str) -> bool {
    let synced_once = super::status::condition(sealed.status.as_ref(), super::CONDITION_SYNCED)
        .is_some_and(|c| c.status == "True");
    !synced_once
        && !ctx.failures.failing(&super::object_key(sealed))
        && ctx.owned_absent(namespace, name)
}

/// Decrypts, then creates the Secret; a Secret found by the create goes through the ownership
/// gate and is written as on any other pass. A decryption error is reported after the gate's
/// answer, as when the Secret is read first.
async fn create_first(
    sealed: &SealedSecret,
    core: sealant_core::SealedSecret,
    ctx: &Ctx,
    keys: &ObjectKeys,
    secrets: &Api<K8sSecret>,
    shape: &K8sSecret,
    inputs: &[u8; 32],
) -> Result<Pass, ReconcileError> {
    let v1 = core.spec.data.is_some();
    let (unsealed, key_fingerprints) = match open(sealed, core, ctx, keys).await {
        Ok(opened) => opened,
        Err(err) => {
            if let Some(live) = secrets.get_opt(&sealed.name_any()).await? {
                gate(&PlainSecret::new(live), sealed)?;
            }
            return Err(err);
        }
    };
    let desired = to_k8s(sealed, &unsealed)?;
    drop(unsealed);
    match create(secrets, &desired, inputs, ctx).await {
        Ok(mac) => {
            return Ok(Pass::Done(Applied {
                outcome: Outcome::Unsealed,
                key_fingerprints,
                secret: Some(SecretData::Created(mac)),
            }));
        }
        Err(ReconcileError::Update(err)) if err.is_conflict() => {}
        Err(err) => return Err(err),
    }
    let live = secrets
        .get_opt(&sealed.name_any())
        .await?
        .map(PlainSecret::new);
    let patch = match &live {
        Some(live) => gate(live, sealed)?,
        None => false,
    };
    if let Some(live) = &live
        && !v1
        && in_sync(live, shape, patch, inputs, &ctx.sync_key)
    {
        return Ok(Pass::Done(Applied {
            outcome: Outcome::InSync,
            key_fingerprints,
            secret: Some(SecretData::Unchanged(live_data_mac(live, &ctx.sync_key))),
        }));
    }
    write(secrets, live, desired, patch, inputs, key_fingerprints, ctx).await
}

/// The ownership gate: the Secret must be controlled by this SealedSecret, or carry the
/// `managed` or `patch` annotation. Returns whether it is in patch mode.
fn gate(live: &K8sSecret, sealed: &SealedSecret) -> Result<bool, ReconcileError> {
    let annotations = live.annotations();
    let is_true = |key: &str| annotations.get(key).is_some_and(|v| v == "true");
    let controlled = controlled_by(live, sealed);
    let (managed, patch) = (is_true(MANAGED_ANNOTATION), is_true(PATCH_ANNOTATION));
    if !controlled && !managed && !patch {
        return Err(ReconcileError::Unmanaged(sealed.name_any()));
    }
    Ok(patch)
}

/// Creates the Secret `desired` with our label and digest; returns its data MAC. A create, not
/// an apply: it fails if a Secret of that name exists, so a Secret we do not own is never
/// overwritten. The API server answers with the object, values included: wiped when dropped.
async fn create(
    secrets: &Api<K8sSecret>,
    desired: &K8sSecret,
    inputs: &[u8; 32],
    ctx: &Ctx,
) -> Result<[u8; 32], ReconcileError> {
    let mut body = PlainSecret::new(desired.clone());
    body.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
    set_digest(&mut body, inputs, &ctx.sync_key);
    super::answers::create_unread(secrets, &field_manager(), &*body).await?;
    info!("Secret created");
    Ok(live_data_mac(&body, &ctx.sync_key))
}

/// Writes the decrypted Secret `desired` over `live` (or creates it): overwrite or patch mode,
/// the takeover for server-side apply, immutability.
async fn write(
    secrets: &Api<K8sSecret>,
    live: Option<PlainSecret>,
    desired: PlainSecret,
    patch: bool,
    inputs: &[u8; 32],
    key_fingerprints: Option<Vec<String>>,
    ctx: &Ctx,
) -> Result<Pass, ReconcileError> {
    let unsealed = |secret| {
        Pass::Done(Applied {
            outcome: Outcome::Unsealed,
            key_fingerprints,
            secret: Some(secret),
        })
    };
    let Some(live) = live else {
        let mac = create(secrets, &desired, inputs, ctx).await?;
        return Ok(unsealed(SecretData::Created(mac)));
    };
    let name = live.name_any();

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
    set_digest(&mut updated, inputs, &ctx.sync_key);
    // What the workloads named for rollout see (crate::rollout): the data MACs tell a change.
    let mac = live_data_mac(&updated, &ctx.sync_key);
    let secret = if mac == live_data_mac(&live, &ctx.sync_key) {
        SecretData::Unchanged(mac)
    } else {
        SecretData::Changed(mac)
    };
    if updated == live {
        return Ok(unsealed(secret));
    }
    // An immutable Secret keeps its data; only our digest annotation may still be added.
    if live.immutable == Some(true) && without_digest(&updated) != without_digest(&live) {
        return Err(ReconcileError::Immutable {
            namespace: live.namespace().unwrap_or_default(),
            name,
        });
    }
    let mut version = live.resource_version();
    if !patch && let Some(takeover) = takeover_patch(&live, &updated) {
        let taken = secrets
            .patch(&name, &field_manager_patch(), &Patch::Merge(&takeover))
            .await
            .map(PlainSecret::new)?;
        version = taken.resource_version();
        info!("Secret taken over for server-side apply");
    }
    let config = apply_config(&live, &desired, &updated, patch, version);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let _applied = secrets
        .patch(&name, &params, &Patch::Apply(&*config))
        .await
        .map(PlainSecret::new)?;
    info!("Secret updated");
    Ok(unsealed(secret))
}

fn field_manager() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    }
}

fn field_manager_patch() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    }
}

/// The fields we own in the Secret, as applied: data, type, template labels and annotations
/// with our label and digest, ownerReferences. In patch mode only what the SealedSecret brings;
/// the Secret's other fields stay its owners'. The `resourceVersion` makes the apply fail with
/// a conflict if the Secret changed since the ownership gate saw it.
pub(super) fn apply_config(
    live: &K8sSecret,
    desired: &K8sSecret,
    updated: &K8sSecret,
    patch: bool,
    version: Option<String>,
) -> PlainSecret {
    let mut metadata = ObjectMeta {
        name: live.metadata.name.clone(),
        namespace: live.metadata.namespace.clone(),
        resource_version: version,
        ..ObjectMeta::default()
    };
    if patch {
        let managed = updated
            .annotations()
            .get(MANAGED_ANNOTATION)
            .is_some_and(|v| v == "true");
        let mut labels = desired.metadata.labels.clone().unwrap_or_default();
        let mut annotations = desired.metadata.annotations.clone().unwrap_or_default();
        if let Some(digest) = updated.annotations().get(DIGEST_ANNOTATION) {
            annotations.insert(DIGEST_ANNOTATION.to_owned(), digest.clone());
        }
        if managed {
            labels.insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
            metadata.owner_references = desired.metadata.owner_references.clone();
        }
        metadata.labels = Some(labels);
        metadata.annotations = Some(annotations);
    } else {
        metadata.labels = updated.metadata.labels.clone();
        metadata.annotations = updated.metadata.annotations.clone();
        metadata.owner_references = updated.metadata.owner_references.clone();
    }
    let data = if patch {
        desired.data.clone()
    } else {
        updated.data.clone()
    };
    PlainSecret::new(K8sSecret {
        metadata,
        data,
        type_: updated.type_.clone(),
        // Once immutable, always: owning the field keeps a later apply from pruning it.
        immutable: (live.immutable == Some(true)).then_some(true),
        ..K8sSecret::default()
    })
}

/// Whether every field of `live` is owned by our server-side apply: then an apply without a
/// field removes it. A Secret written before (by our create, an older sealant's update or
/// upstream's controller) has its fields owned by an update entry, which an apply never prunes.
fn applied_by_us_only(live: &K8sSecret) -> bool {
    let entries = live.metadata.managed_fields.as_deref().unwrap_or_default();
    !entries.is_empty()
        && entries.iter().all(|entry| {
            entry.manager.as_deref() == Some(FIELD_MANAGER)
                && entry.operation.as_deref() == Some("Apply")
        })
}

/// In overwrite mode, when `live` holds data keys, labels, annotations or ownerReferences that
/// `updated` lacks and an apply would not remove (see [`applied_by_us_only`]): a merge patch
/// that removes them and leaves managedFields to our apply alone, so the apply that follows
/// owns every field and later applies prune what the SealedSecret drops. Guarded by the
/// `resourceVersion`.
pub(super) fn takeover_patch(live: &K8sSecret, updated: &K8sSecret) -> Option<Value> {
    if applied_by_us_only(live) {
        return None;
    }
    let removed = |live: Option<Vec<&String>>, kept: &dyn Fn(&str) -> bool| -> Map<String, Value> {
        live.unwrap_or_default()
            .into_iter()
            .filter(|key| !kept(key))
            .map(|key| (key.clone(), Value::Null))
            .collect()
    };
    let updated_data = updated.data.as_ref();
    let data = removed(live.data.as_ref().map(|d| d.keys().collect()), &|k| {
        updated_data.is_some_and(|d| d.contains_key(k))
    });
    let labels = removed(Some(live.labels().keys().collect()), &|k| {
        updated.labels().contains_key(k)
    });
    let annotations = removed(Some(live.annotations().keys().collect()), &|k| {
        updated.annotations().contains_key(k)
    });
    let owners_differ = live.owner_references() != updated.owner_references();
    if data.is_empty() && labels.is_empty() && annotations.is_empty() && !owners_differ {
        return None;
    }
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), json!(live.resource_version()));
    // managedFields replaced by one entry of ours: the update entries that shared our fields
    // go. Not cleared: an apply to an object without managedFields hands every field present
    // to a `before-first-apply` update entry, which would share them again. The entry names a
    // field every overwrite-mode apply sets (an entry with no field is dropped).
    let owned_label = format!("f:{OWNED_LABEL}");
    metadata.insert(
        "managedFields".into(),
        json!([{
            "manager": FIELD_MANAGER,
            "operation": "Apply",
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": { "f:metadata": { "f:labels": { owned_label: {} } } },
        }]),
    );
    metadata.insert("labels".into(), Value::Object(labels));
    metadata.insert("annotations".into(), Value::Object(annotations));
    if owners_differ {
        metadata.insert(
            "ownerReferences".into(),
            json!(updated.metadata.owner_references),
        );
    }
    Some(json!({ "metadata": metadata, "data": data }))
}

/// Decrypts the object with the ring of `keys`' owner; returns the Secret and its inventory.
/// `core` is `sealed`'s: a copy the watch cache stripped is refused ([`ensure_whole`]).
async fn open(
    sealed: &SealedSecret,
    core: sealant_core::SealedSecret,
    ctx: &Ctx,
    keys: &ObjectKeys,
) -> Result<(sealant_core::Secret, Option<Vec<String>>), ReconcileError> {
    ensure_whole(sealed)?;
    // Every item costs at least one RSA private-key operation (trial decryption with several
    // keys may cost more); counted on every attempt, successful or not.
    let attempts = if core.spec.data.is_some() {
        1
    } else {
        core.spec.encrypted_data.len() as u64
    };
    ctx.metrics.rsa_operations("reconcile", attempts);
    let (snapshot, owner) = (keys.snapshot.clone(), keys.owner.clone());
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
                .map_err(|_| ReconcileError::ShuttingDown)?,
        )
    } else {
        None
    };
    let options = UnsealOptions {
        accept_v1_data: ctx.args.accept_deprecated_v1_data,
        render_templates: true,
    };
    let (opened, cpu) = tokio::task::spawn_blocking(move || {
        // Checked when `keys` was made, from this very snapshot.
        let ring = match snapshot.keys_for(&owner) {
            Ok(keys) => keys.ring,
            Err(err) => return (Err(ReconcileError::TenantKeysNotReady(err)), 0.0),
        };
        // The decryption's own CPU time, on this thread: the floor the controller's CPU per
        // object is set against (docs/design/cpu.md).
        let start = thread_cpu_seconds();
        let opened = unseal(&core, ring, options)
            .map(|unsealed| {
                let inventory = inventory_of(&core, &unsealed);
                (unsealed.secret, inventory)
            })
            .map_err(ReconcileError::Unseal);
        (opened, thread_cpu_seconds() - start)
    })
    .await
    .map_err(ReconcileError::Task)?;
    ctx.metrics.unseal_cpu(cpu);
    opened.map_err(|err| match err {
        ReconcileError::Unseal(source) => keys.unseal_error(source),
        other => other,
    })
}

/// CPU time the calling thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// Refuses a copy the watch cache stripped (`spec.stripped`): its items are gone, and
/// decrypting it would yield an empty Secret (docs/design/memory.md, "What is cut").
///
/// # Errors
/// [`ReconcileError::NotWhole`] for a stripped copy.
pub(super) fn ensure_whole(sealed: &SealedSecret) -> Result<(), ReconcileError> {
    if sealed.spec.stripped {
        return Err(ReconcileError::NotWhole);
    }
    Ok(())
}

/// A core Secret as the API's type, with the live SealedSecret's UID in the ownerReference
/// (the offline core model may not have had it).
pub(super) fn to_k8s(
    sealed: &SealedSecret,
    secret: &sealant_core::Secret,
) -> Result<PlainSecret, ReconcileError> {
    let mut converted = PlainSecret::try_from(secret).map_err(ReconcileError::Malformed)?;
    if let Some(owners) = converted.metadata.owner_references.as_mut() {
        for owner in owners {
            owner.uid = sealed.uid().unwrap_or_default();
        }
    }
    Ok(converted)
}
