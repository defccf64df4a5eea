//! Values shared between the watch cache's stripped copies of SealedSecrets: one copy of each
//! distinct value, however many objects hold it (docs/design/memory.md, "What is cut").

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::sync::Arc;

use serde::Serialize;

/// One copy of each distinct value the stripped copies hold. Keyed by a hash of the value
/// under a per-process random key, so a tenant cannot aim collisions at another's values; a
/// collision only means the value is not shared. kube-runtime's store drops copies without
/// telling us: values no copy holds any more leave at the next sweep, which comes whenever the
/// table has doubled since the last, so it never holds more than twice the values in use.
pub(super) struct SharedCopies<T: ?Sized> {
    values: HashMap<u64, Arc<T>>,
    hasher: std::hash::RandomState,
    sweep_at: usize,
}

impl<T: ?Sized> Default for SharedCopies<T> {
    fn default() -> Self {
        Self {
            values: HashMap::new(),
            hasher: std::hash::RandomState::new(),
            sweep_at: 0,
        }
    }
}

impl<T: ?Sized + Serialize + PartialEq> SharedCopies<T> {
    /// The shared copy of `value`, which becomes it when none is held (or when its slot holds
    /// another value: then it is not shared).
    pub(super) fn share(&mut self, value: Arc<T>) -> Arc<T> {
        let hash = self
            .hasher
            .hash_one(serde_json::to_vec(&*value).unwrap_or_default());
        match self.values.get(&hash) {
            Some(shared) if **shared == *value => return Arc::clone(shared),
            Some(_) => return value,
            None => {}
        }
        if self.values.len() >= self.sweep_at {
            self.values.retain(|_, value| Arc::strong_count(value) > 1);
            self.sweep_at = (self.values.len() * 2).max(64);
        }
        self.values.insert(hash, Arc::clone(&value));
        value
    }

    /// How many distinct values are held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.values.len()
    }
}
