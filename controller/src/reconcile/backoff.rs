//! Per-object backoff (kube-runtime has none): retries with growing delays while the retry
//! budget (`--max-unseal-retries`, as upstream) lasts, then waits for the object to change.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use tracing::warn;

use super::{Ctx, ObjectKey, ReconcileError, object_key};
use crate::crd::SealedSecret;

/// Consecutive failures per object.
#[derive(Debug, Default)]
pub struct Failures {
    counts: parking_lot::Mutex<HashMap<ObjectKey, u32>>,
}

impl Failures {
    /// Records a failure; returns how many in a row.
    pub fn record(&self, key: &ObjectKey) -> u32 {
        let mut counts = self.counts.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// Whether the object's last attempt failed (and no success or key change came since).
    pub fn failing(&self, key: &ObjectKey) -> bool {
        self.counts.lock().contains_key(key)
    }

    /// The object succeeded, or is gone.
    pub fn clear(&self, key: &ObjectKey) {
        self.counts.lock().remove(key);
    }

    /// Every object gets its full budget again (the set of keys changed).
    pub fn clear_all(&self) {
        self.counts.lock().clear();
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

/// What kube-runtime does after a failed reconcile: retry later, or wait for a change.
pub fn error_policy(sealed: Arc<SealedSecret>, error: &ReconcileError, ctx: Arc<Ctx>) -> Action {
    let key = object_key(&sealed);
    let namespace = key.namespace.as_deref().unwrap_or_default();
    let name = &key.name;
    if error.is_permanent() {
        return Action::await_change();
    }
    let attempt = ctx.failures.record(&key);
    if attempt > ctx.args.max_unseal_retries {
        warn!(%namespace, %name, reason = error.kind(), attempts = attempt, "giving up until the SealedSecret changes");
        return Action::await_change();
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let delay = backoff_delay(attempt, seed);
    warn!(%namespace, %name, reason = error.kind(), attempt, retry_in_ms = delay.as_millis() as u64, "reconcile failed");
    Action::requeue(delay)
}
