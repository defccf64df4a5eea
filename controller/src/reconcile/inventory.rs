//! The key inventory (docs/rotation.md, "The inventory: which SealedSecrets need which key"):
//! which keys open each SealedSecret, for the per-key metrics and the compromised-key warnings.

use std::collections::HashMap;
use std::sync::Arc;

use sealant_core::keysecret::KeyState;

use super::shared_lists::SharedLists;
use super::{ObjectKey, key_of_memory_key, memory_key, object_key};
use crate::crd::SealedSecret;
use crate::keys::KeySnapshot;
use crate::metrics::{KeyUsage, KeyUsageSource};

/// The key inventory of every SealedSecret this controller reconciles, in memory: object → the
/// fingerprints of the keys that open it (`None`: not known yet). Also remembers the
/// compromised-key warning last sent per object, so it is sent once per change. Keyed by
/// [`memory_key`], the lists shared between objects (docs/design/memory.md, "What is cut").
#[derive(Debug, Default)]
pub struct Inventory {
    inner: parking_lot::Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    objects: HashMap<Box<str>, InventoryEntry>,
    lists: SharedLists,
}

#[derive(Debug, Default)]
struct InventoryEntry {
    fingerprints: Option<Arc<[String]>>,
    warned: Option<Box<str>>,
}

impl Table {
    /// `fingerprints` is copied into the table's own list when it holds none equal: a list
    /// shared with anything else (the watch cache's copies) would never look released.
    fn set(&mut self, key: Box<str>, fingerprints: Option<&[String]>, keep: bool) {
        if keep && self.objects.contains_key(&key) {
            return;
        }
        let shared = fingerprints.map(|list| self.lists.share(Arc::from(list)));
        let entry = self.objects.entry(key).or_default();
        let old = std::mem::replace(&mut entry.fingerprints, shared);
        self.lists.release(old);
    }
}

impl KeyUsageSource for Inventory {
    fn key_usage(&self) -> KeyUsage {
        self.usage()
    }
}

impl Inventory {
    /// Records an object's inventory.
    pub fn record(&self, key: &ObjectKey, fingerprints: Option<Vec<String>>) {
        self.inner
            .lock()
            .set(memory_key(key), fingerprints.as_deref(), false);
    }

    /// Counts an object as soon as the watch sees it, before its first reconcile: with the
    /// inventory its status records for its generation, else as unknown. Until every object is
    /// reconciled, a key's count must not read 0 ("can be retired") for want of a reconcile.
    pub fn observe(&self, sealed: &SealedSecret) {
        let fingerprints = sealed
            .status
            .as_ref()
            .filter(|s| s.observed_generation == sealed.metadata.generation)
            .and_then(|s| s.key_fingerprints.as_deref());
        self.inner
            .lock()
            .set(memory_key(&object_key(sealed)), fingerprints, true);
    }

    /// Remembers `warning` as the object's current compromised-key warning; true when it is a
    /// new one (not the one remembered before), that is, when it should be sent.
    pub(super) fn warn_once(&self, key: &ObjectKey, warning: Option<&str>) -> bool {
        let mut table = self.inner.lock();
        let entry = table.objects.entry(memory_key(key)).or_default();
        let new = warning.is_some() && entry.warned.as_deref() != warning;
        entry.warned = warning.map(Box::from);
        new
    }

    /// Forgets a deleted object.
    pub fn forget(&self, key: &ObjectKey) {
        let mut table = self.inner.lock();
        if let Some(entry) = table.objects.remove(&*memory_key(key)) {
            table.lists.release(entry.fingerprints);
        }
    }

    /// The objects counted in `namespace` (every namespace for `None`).
    pub fn keys_in(&self, namespace: Option<&str>) -> Vec<ObjectKey> {
        self.inner
            .lock()
            .objects
            .keys()
            .map(|key| key_of_memory_key(key))
            .filter(|key| namespace.is_none_or(|ns| key.namespace.as_deref() == Some(ns)))
            .collect()
    }

    /// The number of objects per key, and of objects whose keys are not known.
    pub fn usage(&self) -> KeyUsage {
        let mut usage = KeyUsage::default();
        for entry in self.inner.lock().objects.values() {
            match &entry.fingerprints {
                Some(fingerprints) => {
                    for fingerprint in fingerprints.iter() {
                        *usage.by_key.entry(fingerprint.clone()).or_insert(0) += 1;
                    }
                }
                None => usage.unknown += 1,
            }
        }
        usage
    }

    /// How many distinct key inventories are held (for tests: lists are shared and let go).
    #[cfg(test)]
    pub(super) fn shared_lists(&self) -> usize {
        self.inner.lock().lists.len()
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
pub(super) fn compromised_message(
    inventory: Option<&[String]>,
    snapshot: &KeySnapshot,
) -> Option<String> {
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

/// The inventory of an unseal: sorted, distinct fingerprints (`None` for a v1 blob).
pub(super) fn inventory_of(
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
