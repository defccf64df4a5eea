//! Key inventories shared between per-object records: thousands of objects use the same few
//! keys, so each distinct fingerprint list is held once (docs/design/memory.md, "What is cut").

use std::collections::HashSet;
use std::sync::Arc;

/// The distinct lists the records of one table hold. A list leaves when the last record holding
/// it lets go ([`SharedLists::release`]), so the set never holds more lists than there are
/// records. Lists are never cloned out of a table's records for longer than a call, or a
/// released list would look held.
#[derive(Debug, Default)]
pub(super) struct SharedLists {
    lists: HashSet<Arc<[String]>>,
}

impl SharedLists {
    /// The shared copy of `list`.
    pub(super) fn share(&mut self, list: Arc<[String]>) -> Arc<[String]> {
        match self.lists.get(&*list) {
            Some(shared) => Arc::clone(shared),
            None => {
                self.lists.insert(Arc::clone(&list));
                list
            }
        }
    }

    /// A record lets go of `list` (a copy [`Self::share`] gave): it leaves the set when no
    /// other record holds it.
    pub(super) fn release(&mut self, list: Option<Arc<[String]>>) {
        if let Some(list) = list
            && Arc::strong_count(&list) == 2
            && self
                .lists
                .get(&*list)
                .is_some_and(|shared| Arc::ptr_eq(shared, &list))
        {
            self.lists.remove(&*list);
        }
    }

    /// How many distinct lists are held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lists.len()
    }
}
