//! Proving a Secret up to date without decrypting: the sync digest (`core::sync`) checked
//! against the live Secret (against the owned-Secret cache's record: `owned`), and the side
//! table of SealedSecrets cached without their ciphertexts (docs/controller.md, "Caches").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::ResourceExt;
use sealant_core::object::{ObjectMeta, SealedSecretSpec, SecretTemplateSpec};
use sealant_core::sync::{self, DIGEST_ANNOTATION, SyncKey};
use sealant_k8s::plain::PlainSecret;

use super::shared_copies::SharedCopies;
use super::status::condition;
use super::{
    CONDITION_SYNCED, MANAGED_ANNOTATION, OWNED_LABEL, OWNED_LABEL_VALUE, ObjectKey, memory_key,
    object_key,
};
use crate::crd::SealedSecret;

/// Inputs digests ([`sync::inputs_digest`]) of the SealedSecrets the watch cache keeps without
/// their ciphertexts, in controller memory only. Nothing here is read from an object: a tenant
/// who can edit a SealedSecret (annotations, status) cannot make a stale Secret look in sync
/// or make the reconciler fetch the object again and again (docs/controller.md, "Caches").
#[derive(Default)]
pub struct Stripped {
    /// Keyed by [`memory_key`].
    objects: parking_lot::Mutex<HashMap<Box<str>, StrippedEntry>>,
    /// The distinct values the stripped copies hold.
    shared: parking_lot::Mutex<SharedParts>,
}

/// What equal stripped copies hold once: most objects' cut specs are equal (no template
/// labels, annotations or type), and thousands of objects use the same few keys.
#[derive(Default)]
struct SharedParts {
    specs: SharedCopies<SealedSecretSpec>,
    inventories: SharedCopies<[String]>,
}

/// What a stripped copy keeps of a spec: the template's parts the in-sync check reads (the
/// shape: labels, annotations, type; `core::sealing::secret_shape`), nothing to decrypt. The
/// template's name, namespace and other metadata are not kept: the Secret takes its identity
/// from the SealedSecret whatever the template says, and the inputs digest, computed before
/// the cut, covers the whole spec.
fn cut_spec(spec: &SealedSecretSpec) -> SealedSecretSpec {
    let template = &spec.template;
    SealedSecretSpec {
        template: SecretTemplateSpec {
            metadata: template.metadata.as_ref().and_then(|m| {
                (m.labels.is_some() || m.annotations.is_some()).then(|| ObjectMeta {
                    labels: m.labels.clone(),
                    annotations: m.annotations.clone(),
                    ..ObjectMeta::default()
                })
            }),
            type_: template.type_.clone(),
            immutable: template.immutable,
            data: template.data.clone(),
        },
        encrypted_data: BTreeMap::new(),
        data: None,
    }
}

/// Which version of an object a [`Stripped`] entry belongs to, its digest, and the hash of the
/// labels and annotations it had before they were cut (for [`super::StatusMemory::trigger_hash`]).
/// The version is a hash of uid and resourceVersion (both set by the API server, not by a
/// tenant): 8 bytes instead of two strings per object (docs/design/memory.md).
struct StrippedEntry {
    version: u64,
    digest: [u8; 32],
    metadata: u64,
}

/// What a reconcile may do with the watch cache's copy of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CachedCopy {
    /// A whole copy: it may be decrypted.
    Whole,
    /// The stripped copy of the version recorded, with the inputs digest kept for it.
    Stripped([u8; 32]),
    /// A stripped copy whose entry moved on (a newer version was seen) or is gone: nothing
    /// about it is known any more; it is fetched whole.
    Stale,
}

fn version_hash(sealed: &SealedSecret) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    sealed.metadata.uid.hash(&mut hasher);
    sealed.metadata.resource_version.hash(&mut hasher);
    hasher.finish()
}

/// Hash of an object's labels and annotations, for the watch's trigger hash: computed from the
/// whole copy, or kept in the [`Stripped`] entry for a copy whose labels and annotations were cut.
pub(super) fn metadata_hash(sealed: &SealedSecret) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    sealed.metadata.labels.hash(&mut hasher);
    sealed.metadata.annotations.hash(&mut hasher);
    hasher.finish()
}

/// The only label a stripped copy keeps: the metrics read it (`report`).
pub(super) const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// The annotations a stripped copy keeps: the namespace-selector gate and scan (before the
/// fast path, `selector::check`, `namespaces`) and the rollout targets (`Rollouts::run`).
/// Everything else (key hints, scope, age) is read only to decrypt, from a whole copy, or by
/// the inputs digest computed before the cut.
const KEPT_ANNOTATIONS: [&str; 2] = [
    sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR,
    sealant_core::rollout::ROLLOUT_ANNOTATION,
];

impl Stripped {
    /// A SealedSecret as the watch cache keeps it. Once its status says it is `Synced` for its
    /// generation with a known key inventory, its ciphertexts (most of its bytes) are needed
    /// again only if its Secret goes out of sync: they are dropped, with the labels and
    /// annotations nothing reads once in sync, finalizers, ownerReferences and generateName;
    /// the inputs digest and the hash of the labels and annotations are kept here instead,
    /// and the reconcile fetches the object whole when it has to decrypt. The copy is marked
    /// (`spec.stripped`) so that it is never decrypted (docs/design/memory.md, "What is cut").
    pub fn make_cacheable(&self, sealed: &mut SealedSecret) {
        sealed.metadata.managed_fields = None;
        // kubectl's copy of the whole object (ciphertexts included) is never read here:
        // dropped like managedFields (docs/design/memory.md).
        if let Some(annotations) = sealed.metadata.annotations.as_mut() {
            for copy in sealant_core::object::LAST_APPLIED_ANNOTATIONS {
                annotations.remove(*copy);
            }
        }
        let key = memory_key(&object_key(sealed));
        let status = sealed.status.as_ref();
        let synced = condition(status, CONDITION_SYNCED).is_some_and(|c| c.status == "True")
            && status.is_some_and(|s| {
                s.observed_generation == sealed.metadata.generation && s.key_fingerprints.is_some()
            });
        let core = match sealed.to_core() {
            Ok(core) if synced && sealed.spec.inner.data.is_none() && !sealed.spec.stripped => core,
            _ => {
                self.objects.lock().remove(&key);
                return;
            }
        };
        let entry = StrippedEntry {
            version: version_hash(sealed),
            digest: sync::inputs_digest(&core),
            metadata: metadata_hash(sealed),
        };
        drop(core);
        let mut shared = self.shared.lock();
        sealed.spec.inner = shared.specs.share(Arc::new(cut_spec(&sealed.spec.inner)));
        if let Some(list) = sealed
            .status
            .as_mut()
            .and_then(|s| s.key_fingerprints.as_mut())
        {
            *list = shared.inventories.share(Arc::clone(list));
        }
        drop(shared);
        sealed.spec.stripped = true;
        let meta = &mut sealed.metadata;
        if let Some(labels) = meta.labels.as_mut() {
            labels.retain(|k, _| k == INSTANCE_LABEL);
        }
        if let Some(annotations) = meta.annotations.as_mut() {
            annotations.retain(|k, _| KEPT_ANNOTATIONS.contains(&k.as_str()));
        }
        for map in [&mut meta.labels, &mut meta.annotations] {
            if map.as_ref().is_some_and(BTreeMap::is_empty) {
                *map = None;
            }
        }
        meta.finalizers = None;
        meta.owner_references = None;
        meta.generate_name = None;
        self.objects.lock().insert(key, entry);
    }

    /// What the watch cache's copy `sealed` may be used for: a whole copy (no mark) is
    /// decrypted as it is; a stripped one is trusted only with the entry of its very version.
    /// A whole copy (fetched with GET, same version) is never taken for the stripped one.
    pub(super) fn classify(&self, sealed: &SealedSecret) -> CachedCopy {
        if !sealed.spec.stripped {
            return CachedCopy::Whole;
        }
        let objects = self.objects.lock();
        match objects.get(&*memory_key(&object_key(sealed))) {
            Some(entry) if entry.version == version_hash(sealed) => {
                CachedCopy::Stripped(entry.digest)
            }
            _ => CachedCopy::Stale,
        }
    }

    /// The inputs digest kept for `sealed` if it is the cache's stripped copy of the version
    /// recorded.
    #[cfg(test)]
    pub(super) fn digest_of(&self, sealed: &SealedSecret) -> Option<[u8; 32]> {
        match self.classify(sealed) {
            CachedCopy::Stripped(digest) => Some(digest),
            CachedCopy::Whole | CachedCopy::Stale => None,
        }
    }

    /// The hash of `sealed`'s labels and annotations as they were before the cut ([`metadata_hash`]
    /// of a whole copy). A stripped copy without its entry gets the hash of what it kept: at
    /// worst one reconcile too many, never one too few for a whole copy.
    pub(super) fn metadata_hash_of(&self, sealed: &SealedSecret) -> u64 {
        if sealed.spec.stripped {
            let objects = self.objects.lock();
            if let Some(entry) = objects.get(&*memory_key(&object_key(sealed)))
                && entry.version == version_hash(sealed)
            {
                return entry.metadata;
            }
        }
        metadata_hash(sealed)
    }

    /// The object is gone.
    pub fn forget(&self, key: &ObjectKey) {
        self.objects.lock().remove(&*memory_key(key));
    }

    /// How many distinct cut specs are held (for tests: equal specs are held once).
    #[cfg(test)]
    pub(super) fn shared_specs(&self) -> usize {
        self.shared.lock().specs.len()
    }
}

/// `live` with the labels, annotations, ownerReferences and type that `desired` asks for
/// (overwrite, or merge in patch mode); data and everything else as they are.
pub(super) fn with_shape(live: &K8sSecret, desired: &K8sSecret, patch: bool) -> PlainSecret {
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
pub(super) fn live_data_mac(secret: &K8sSecret, key: &SyncKey) -> [u8; 32] {
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
pub(super) fn set_digest(secret: &mut K8sSecret, inputs: &[u8; 32], key: &SyncKey) {
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
pub(super) fn without_digest(secret: &K8sSecret) -> PlainSecret {
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
pub(super) fn in_sync(
    live: &K8sSecret,
    shape: &K8sSecret,
    patch: bool,
    inputs: &[u8; 32],
    key: &SyncKey,
) -> bool {
    let Some(annotation) = live.annotations().get(DIGEST_ANNOTATION) else {
        return false;
    };
    if !sync::verify_digest_annotation(key, inputs, &live_data_mac(live, key), annotation) {
        return false;
    }
    without_digest(&with_shape(live, shape, patch)) == without_digest(live)
}

/// Whether this SealedSecret is the Secret's controller (its UID in a controller reference).
pub(super) fn controlled_by(secret: &K8sSecret, sealed: &SealedSecret) -> bool {
    secret
        .owner_references()
        .iter()
        .any(|o| o.controller == Some(true) && Some(&o.uid) == sealed.uid().as_ref())
}
