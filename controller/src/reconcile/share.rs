//! Limits on what reconciles hold at once: the per-namespace fair share of the workers and the
//! template render slots.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

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
    busy: Arc<parking_lot::Mutex<HashMap<String, usize>>>,
}

/// A namespace's turn, given back on drop.
pub struct Turn {
    namespace: String,
    busy: Arc<parking_lot::Mutex<HashMap<String, usize>>>,
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
        let mut busy = self.busy.lock();
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
        let mut busy = self.busy.lock();
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
pub(super) fn deferral_delay() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_millis(200 + u64::from(nanos % 300))
}
