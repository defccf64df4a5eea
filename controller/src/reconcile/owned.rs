//! The owned-Secret cache: one compact record per Secret the controller owns, fed by the
//! owned-Secret watch and read by the in-sync fast path (docs/controller.md, "Caches";
//! docs/design/memory.md, "What is cut").
//!
//! A record keeps what the in-sync check reads of a Secret, and nothing else: MACs under the
//! sync key of its data, of its metadata (labels, annotations with the digest annotation,
//! ownerReferences) and of its type. Every record is computed by the controller from the
//! Secret the watch delivers; nothing is read back from an annotation, and the MACs are keyed,
//! so whoever can edit the Secret cannot craft metadata whose MAC collides with another's.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use sealant_core::sync::{self, DIGEST_ANNOTATION, SyncKey};
use sealant_k8s::plain::PlainSecret;

use super::insync::live_data_mac;
use super::{OWNED_LABEL, OWNED_LABEL_VALUE, ObjectKey, PATCH_ANNOTATION};
use crate::lanes;

/// The single entry under which [`sync::data_mac_entries`] MACs a shape or a type. A `/` never
/// appears in a Secret's data key (`[-._a-zA-Z0-9]+`), so neither MAC can equal the data MAC
/// of any Secret; the two names keep them apart from each other.
const SHAPE_ENTRY: &str = "sealant.dev/owned-shape/v1";
const TYPE_ENTRY: &str = "sealant.dev/owned-type/v1";

/// What the in-sync check needs of one owned Secret: 112 bytes, no heap (docs/design/memory.md,
/// "What is cut").
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    /// Hash of the Secret's UID (set by the API server, never by a tenant): which object a
    /// delete event is about.
    uid: u64,
    /// MAC of the data ([`live_data_mac`]).
    data_mac: [u8; 32],
    /// MAC of labels, annotations (the digest annotation included) and ownerReferences
    /// ([`shape_mac`]).
    shape_mac: [u8; 32],
    /// MAC of the type ([`type_mac`]).
    type_mac: [u8; 32],
    /// The relist that last saw the Secret (see [`OwnedSecrets::observe`]).
    epoch: u32,
    /// The `patch` annotation is `"true"`: merged into, never checked from the cache.
    patch: bool,
    /// Controlled by the SealedSecret of its own namespace and name: the owner to send back to
    /// the queue when a relist finds the Secret gone.
    owned_by_namesake: bool,
}

impl Record {
    /// The record of a Secret as the watch delivered it.
    pub(super) fn of(secret: &K8sSecret, key: &SyncKey) -> Self {
        let annotations = secret.metadata.annotations.as_ref();
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        let namesake = ObjectRef::new(name).within(namespace_of(secret));
        Self {
            uid: uid_hash(secret.metadata.uid.as_deref()),
            data_mac: live_data_mac(secret, key),
            shape_mac: shape_mac(
                key,
                pairs(secret.metadata.labels.as_ref()),
                pairs(annotations),
                secret.metadata.owner_references.as_deref(),
            ),
            type_mac: type_mac(key, secret.type_.as_deref()),
            epoch: 0,
            patch: annotations
                .and_then(|a| a.get(PATCH_ANNOTATION))
                .is_some_and(|v| v == "true"),
            owned_by_namesake: lanes::owners(secret) == [namesake],
        }
    }

    /// The MAC of the Secret's data when the record was made.
    pub(super) fn data_mac(&self) -> [u8; 32] {
        self.data_mac
    }

    /// Whether the Secret needs nothing: what [`super::insync::in_sync`] decides in overwrite
    /// mode on the whole Secret (digest valid for `inputs` and the data, and the template's
    /// labels, annotations, ownerReferences and type already there), decided on the record.
    /// A Secret in patch mode takes the slow path.
    pub(super) fn in_sync(&self, shape: &K8sSecret, inputs: &[u8; 32], key: &SyncKey) -> bool {
        if self.patch {
            return false;
        }
        // Overwrite mode: our label on top of the template's labels; the template's
        // annotations with the digest annotation for these inputs and the recorded data; the
        // template's ownerReferences; its type when it names one. A digest annotation verifies
        // exactly when it is the one `digest_annotation` writes (one spelling per tag: see the
        // unit test `digest_record_agrees_with_verification`), so comparing the whole
        // annotations is the typed check's digest verification plus its comparison of the rest.
        let mut labels: BTreeMap<&str, &str> = pairs(shape.metadata.labels.as_ref()).collect();
        labels.insert(OWNED_LABEL, OWNED_LABEL_VALUE);
        let digest = sync::digest_annotation(key, inputs, &self.data_mac);
        let mut annotations: BTreeMap<&str, &str> =
            pairs(shape.metadata.annotations.as_ref()).collect();
        annotations.insert(DIGEST_ANNOTATION, &digest);
        let desired = shape_mac(
            key,
            labels,
            annotations,
            shape.metadata.owner_references.as_deref(),
        );
        desired == self.shape_mac
            && shape
                .type_
                .as_deref()
                .is_none_or(|t| type_mac(key, Some(t)) == self.type_mac)
    }
}

#[cfg(test)]
impl PartialEq for Record {
    /// The same of the Secret (the relist epoch is bookkeeping).
    fn eq(&self, other: &Self) -> bool {
        (
            self.uid,
            self.data_mac,
            self.shape_mac,
            self.type_mac,
            self.patch,
            self.owned_by_namesake,
        ) == (
            other.uid,
            other.data_mac,
            other.shape_mac,
            other.type_mac,
            other.patch,
            other.owned_by_namesake,
        )
    }
}

/// Not secret material nor tenant-chosen: the API server sets the UID.
fn uid_hash(uid: Option<&str>) -> u64 {
    let mut hasher = DefaultHasher::new();
    uid.hash(&mut hasher);
    hasher.finish()
}

/// The entries of a label or annotation map, in key order.
fn pairs(map: Option<&BTreeMap<String, String>>) -> impl Iterator<Item = (&str, &str)> {
    map.into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

fn namespace_of(secret: &K8sSecret) -> &str {
    secret.metadata.namespace.as_deref().unwrap_or_default()
}

/// Length-prefixed, so no two encodings of distinct inputs are equal.
fn lp(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A map in key order: `1 ‖ LP(k) ‖ LP(v)` per entry, then `0`. An absent map and an empty
/// one encode alike, as `without_digest` compares them.
fn encode_map<'a>(out: &mut Vec<u8>, entries: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (key, value) in entries {
        out.push(1);
        lp(out, key.as_bytes());
        lp(out, value.as_bytes());
    }
    out.push(0);
}

fn encode_flag(out: &mut Vec<u8>, flag: Option<bool>) {
    out.push(match flag {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

/// Keyed MAC of a Secret's shape: labels, annotations and ownerReferences (absent and empty
/// told apart, as the typed comparison does). Both maps must come in key order, as `BTreeMap`s
/// iterate.
fn shape_mac<'a>(
    key: &SyncKey,
    labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    annotations: impl IntoIterator<Item = (&'a str, &'a str)>,
    owners: Option<&[OwnerReference]>,
) -> [u8; 32] {
    let mut out = Vec::new();
    encode_map(&mut out, labels);
    encode_map(&mut out, annotations);
    match owners {
        None => out.push(0),
        Some(owners) => {
            out.push(1);
            out.extend_from_slice(&(owners.len() as u64).to_be_bytes());
            for owner in owners {
                lp(&mut out, owner.api_version.as_bytes());
                lp(&mut out, owner.kind.as_bytes());
                lp(&mut out, owner.name.as_bytes());
                lp(&mut out, owner.uid.as_bytes());
                encode_flag(&mut out, owner.controller);
                encode_flag(&mut out, owner.block_owner_deletion);
            }
        }
    }
    sync::data_mac_entries(key, [(SHAPE_ENTRY, out.as_slice())])
}

fn type_mac(key: &SyncKey, type_: Option<&str>) -> [u8; 32] {
    let mut out = Vec::new();
    match type_ {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            out.extend_from_slice(t.as_bytes());
        }
    }
    sync::data_mac_entries(key, [(TYPE_ENTRY, out.as_slice())])
}

/// The owned Secrets of one watched scope, by namespace and name: a [`Record`] each, kept in
/// step with the watch by [`OwnedSecrets::observe`]. Deleted Secrets and Secrets a relist no
/// longer lists are dropped, so the cache holds one record per Secret that exists.
pub struct OwnedSecrets {
    sync_key: Arc<SyncKey>,
    state: parking_lot::RwLock<State>,
}

#[derive(Default)]
struct State {
    /// Namespace → name → record (the namespace kept once, not once per Secret).
    records: HashMap<Box<str>, HashMap<Box<str>, Record>>,
    /// Relists started: a record not seen by the current relist is dropped at its end.
    epoch: u32,
    /// A first list has ended: from then on a Secret the cache lacks is known not to be ours.
    listed: bool,
}

impl State {
    fn insert(&mut self, secret: &K8sSecret, mut record: Record) {
        record.epoch = self.epoch;
        let names = match self.records.get_mut(namespace_of(secret)) {
            Some(names) => names,
            None => self.records.entry(namespace_of(secret).into()).or_default(),
        };
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        match names.get_mut(name) {
            Some(slot) => *slot = record,
            None => {
                names.insert(name.into(), record);
            }
        }
    }

    fn remove(&mut self, secret: &K8sSecret) {
        let namespace = namespace_of(secret);
        let Some(names) = self.records.get_mut(namespace) else {
            return;
        };
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        // Only the object the event is about: never a newer Secret of the same name.
        if names
            .get(name)
            .is_some_and(|r| r.uid == uid_hash(secret.metadata.uid.as_deref()))
        {
            names.remove(name);
        }
        if names.is_empty() {
            self.records.remove(namespace);
        } else {
            shrink(names);
        }
    }

    /// The end of a relist: drops what it did not list (deleted while the watch was down) and
    /// returns their owners.
    fn finish_relist(&mut self) -> Vec<ObjectKey> {
        let epoch = self.epoch;
        let mut owners = Vec::new();
        self.records.retain(|namespace, names| {
            names.retain(|name, record| {
                let seen = record.epoch == epoch;
                if !seen && record.owned_by_namesake {
                    owners.push(ObjectRef::new(name).within(namespace));
                }
                seen
            });
            shrink(names);
            !names.is_empty()
        });
        shrink(&mut self.records);
        owners
    }
}

/// Gives back the table memory of a map that lost most of its entries (a mass deletion): the
/// cache's size follows the number of Secrets, not its highest.
fn shrink<K: Eq + std::hash::Hash, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 64 && map.len() < map.capacity() / 4 {
        map.shrink_to_fit();
    }
}

impl OwnedSecrets {
    /// An empty cache whose MACs are keyed with `sync_key` (the in-sync check's key).
    pub fn new(sync_key: Arc<SyncKey>) -> Self {
        Self {
            sync_key,
            state: parking_lot::RwLock::default(),
        }
    }

    /// Applies one event of the owned-Secret watch and returns the SealedSecrets to send to
    /// the queue: the owners of a Secret applied or deleted ([`lanes::owners`]), and at the end
    /// of a relist the owners of the Secrets it no longer lists. Watcher semantics: `Init`
    /// starts a relist, `InitApply` lists an object, `InitDone` ends it.
    pub fn observe(&self, event: watcher::Event<K8sSecret>) -> Vec<ObjectKey> {
        match event {
            watcher::Event::Apply(secret) | watcher::Event::InitApply(secret) => {
                // The values are wiped once the record is made.
                let secret = PlainSecret::new(secret);
                let record = Record::of(&secret, &self.sync_key);
                self.state.write().insert(&secret, record);
                lanes::owners(&secret)
            }
            watcher::Event::Delete(secret) => {
                let secret = PlainSecret::new(secret);
                self.state.write().remove(&secret);
                lanes::owners(&secret)
            }
            watcher::Event::Init => {
                let mut state = self.state.write();
                state.epoch = state.epoch.wrapping_add(1);
                Vec::new()
            }
            watcher::Event::InitDone => {
                let mut state = self.state.write();
                state.listed = true;
                state.finish_relist()
            }
        }
    }

    /// The record of a Secret, if the cache has one.
    pub(super) fn get(&self, namespace: &str, name: &str) -> Option<Record> {
        self.state.read().records.get(namespace)?.get(name).copied()
    }

    /// Whether the cache, once it has listed, holds no Secret `namespace/name`: there is none
    /// of ours by that name (as far as the watch has told; a create settles it).
    pub(super) fn knows_absent(&self, namespace: &str, name: &str) -> bool {
        let state = self.state.read();
        state.listed
            && state
                .records
                .get(namespace)
                .is_none_or(|names| !names.contains_key(name))
    }

    /// How many Secrets the cache holds.
    pub fn len(&self) -> usize {
        self.state.read().records.values().map(HashMap::len).sum()
    }

    /// Whether the cache holds no Secret.
    pub fn is_empty(&self) -> bool {
        self.state.read().records.is_empty()
    }
}
