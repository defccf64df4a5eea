//! Proving a Secret up to date without decrypting: the sync digest (`core::sync`) checked
//! against the live Secret (against the owned-Secret cache's record: `owned`), and the side
//! table of SealedSecrets cached without their ciphertexts (docs/controller.md, "Caches").

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::ResourceExt;
use sealant_core::sync::{self, DIGEST_ANNOTATION, SyncKey};
use sealant_k8s::plain::PlainSecret;

use super::status::condition;
use super::{
    CONDITION_SYNCED, MANAGED_ANNOTATION, OWNED_LABEL, OWNED_LABEL_VALUE, ObjectKey, object_key,
};
use crate::crd::SealedSecret;

/// Inputs digests ([`sync::inputs_digest`]) of the SealedSecrets the watch cache keeps without
/// their ciphertexts, in controller memory only. Nothing here is read from an object: a tenant
/// who can edit a SealedSecret (annotations, status) cannot make a stale Secret look in sync
/// or make the reconciler fetch the object again and again (docs/controller.md, "Caches").
#[derive(Default)]
pub struct Stripped {
    objects: parking_lot::Mutex<HashMap<ObjectKey, StrippedEntry>>,
}

/// Which version of an object a [`Stripped`] entry belongs to, and its digest. The version is
/// a hash of uid and resourceVersion (both set by the API server, not by a tenant): 8 bytes
/// instead of two strings per object (docs/design/memory.md).
struct StrippedEntry {
    version: u64,
    digest: [u8; 32],
}

fn version_hash(sealed: &SealedSecret) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::hash::DefaultHasher::new();
    sealed.metadata.uid.hash(&mut hasher);
    sealed.metadata.resource_version.hash(&mut hasher);
    hasher.finish()
}

impl Stripped {
    /// A SealedSecret as the watch cache keeps it. Once its status says it is `Synced` for its
    /// generation with a known key inventory, its ciphertexts (most of its bytes) are needed
    /// again only if its Secret goes out of sync: they are dropped and the inputs digest kept
    /// here instead, and the reconcile fetches the object whole when it has to decrypt.
    pub fn make_cacheable(&self, sealed: &mut SealedSecret) {
        sealed.metadata.managed_fields = None;
        // kubectl's copy of the whole object (ciphertexts included) is never read here:
        // dropped like managedFields (docs/design/memory.md).
        if let Some(annotations) = sealed.metadata.annotations.as_mut() {
            for copy in sealant_core::object::LAST_APPLIED_ANNOTATIONS {
                annotations.remove(*copy);
            }
        }
        let key = object_key(sealed);
        let status = sealed.status.as_ref();
        let synced = condition(status, CONDITION_SYNCED).is_some_and(|c| c.status == "True")
            && status.is_some_and(|s| {
                s.observed_generation == sealed.metadata.generation && s.key_fingerprints.is_some()
            });
        let core = match sealed.to_core() {
            Ok(core) if synced && sealed.spec.inner.data.is_none() => core,
            _ => {
                self.objects.lock().remove(&key);
                return;
            }
        };
        let digest = sync::inputs_digest(&core);
        for ciphertext in sealed.spec.inner.encrypted_data.values_mut() {
            *ciphertext = String::new();
        }
        self.objects.lock().insert(
            key,
            StrippedEntry {
                version: version_hash(sealed),
                digest,
            },
        );
    }

    /// The inputs digest kept for `sealed` if it is the cache's stripped copy: the same object
    /// and version as recorded, with its ciphertexts dropped. A whole copy (fetched with GET,
    /// same version) is never taken for the stripped one.
    pub(super) fn digest_of(&self, sealed: &SealedSecret) -> Option<[u8; 32]> {
        let objects = self.objects.lock();
        let entry = objects.get(&object_key(sealed))?;
        let same = entry.version == version_hash(sealed)
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
    pub fn forget(&self, key: &ObjectKey) {
        self.objects.lock().remove(key);
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
