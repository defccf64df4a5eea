//! New objects first: two lanes in front of kube-runtime's queue (docs/design/memory.md,
//! "New objects first").
//!
//! kube-runtime's scheduler holds every object waiting for a worker in one unordered set, so an
//! object created while thousands wait (the initial list at start, a resync after a key change)
//! waits on average behind half of them. Here the objects of that backlog do not enter the
//! scheduler all at once: [`LaneStream`] keeps them in its own FIFO and lets one through only
//! while fewer than `limit` released ones are still waiting or running ([`Gate`]). Objects
//! created or changed after the initial list (the `New` lane) pass straight through, so they
//! find at most `limit` backlog objects ahead of them; and while a new object is not done, no
//! further backlog object is let in (else a fresh backlog object would take the namespace's
//! turn, reconcile's fair share, from a newcomer the share deferred).
//!
//! A released object's slot is given back when its reconcile ends ([`Gate::working`]), or when
//! the object is deleted ([`Gate::forget`]); a slot held longer than [`STALE_AFTER`] is given
//! back anyway, so a reconcile kube-runtime never started cannot stall the backlog.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::Stream;
use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Resource as _;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use tokio::time::{Instant, Sleep};

use crate::crd::SealedSecret;

/// An object in a lane: namespace and name.
pub type LaneKey = ObjectRef<SealedSecret>;

/// Which lane an object's trigger takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Created or changed after the initial list: reconciled ahead of the backlog.
    New,
    /// The initial list, owned Secrets at start, resyncs after a key change.
    Backlog,
}

/// After this long, a released object's slot counts as free even if its reconcile never
/// ended (a reconcile kube-runtime dropped): the backlog slows down, it never stops.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// How many released backlog objects may be waiting or running at once; shared by the lanes of
/// every watched scope (one controller's workers).
#[derive(Clone)]
pub struct Gate {
    inner: Arc<parking_lot::Mutex<GateState>>,
    limit: usize,
}

#[derive(Default)]
struct GateState {
    /// Released objects and when.
    released: HashMap<LaneKey, Instant>,
    /// Objects of the New lane not done yet, and since when: while there are any, no backlog
    /// object is released, so a fresh backlog object never takes the namespace's turn
    /// (reconcile's fair share) from a newcomer the share deferred.
    new: HashMap<LaneKey, Instant>,
    /// Lane streams waiting for a free slot.
    waiting: Vec<Waker>,
}

impl Gate {
    /// A gate with `limit` slots (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::default(),
            limit: limit.max(1),
        }
    }

    /// Released objects whose reconcile has not ended yet.
    pub fn in_flight(&self) -> usize {
        self.inner.lock().released.len()
    }

    /// Takes a slot for `key` if one is free (or `key` holds one already); otherwise `waker` is
    /// woken when one frees up.
    fn try_release(&self, key: &LaneKey, waker: &Waker) -> bool {
        let mut state = self.inner.lock();
        let now = Instant::now();
        let fresh =
            |_: &LaneKey, since: &mut Instant| now.saturating_duration_since(*since) < STALE_AFTER;
        state.released.retain(fresh);
        state.new.retain(fresh);
        if state.new.is_empty()
            && (state.released.len() < self.limit || state.released.contains_key(key))
        {
            state.released.insert(key.clone(), now);
            return true;
        }
        if !state.waiting.iter().any(|w| w.will_wake(waker)) {
            state.waiting.push(waker.clone());
        }
        false
    }

    /// A New-lane object went to the queue: the backlog waits until it is done. Not for a
    /// released backlog object (its own Secret write triggering it again): that would pause
    /// the backlog after each object.
    fn admit_new(&self, key: &LaneKey) {
        let mut state = self.inner.lock();
        if !state.released.contains_key(key) {
            state.new.insert(key.clone(), Instant::now());
        }
    }

    /// `key`'s slot is free again.
    fn release_done(&self, key: &LaneKey) {
        let mut state = self.inner.lock();
        let released = state.released.remove(key).is_some();
        if state.new.remove(key).is_some() || released {
            for waker in state.waiting.drain(..) {
                waker.wake();
            }
        }
    }

    /// The object is gone: its slot, if it held one, is free.
    pub fn forget(&self, key: &LaneKey) {
        self.release_done(key);
    }

    /// A reconcile of `key` is running: its slot is given back when the guard drops, unless
    /// [`Working::keep`] says the object is coming back (deferred).
    pub fn working(&self, key: LaneKey) -> Working<'_> {
        Working {
            gate: self,
            key: Some(key),
        }
    }
}

/// See [`Gate::working`].
pub struct Working<'a> {
    gate: &'a Gate,
    key: Option<LaneKey>,
}

impl Working<'_> {
    /// The reconcile put the object back in the queue for a moment (a deferral): it keeps its
    /// slot, so deferred objects do not let the whole backlog into the queue.
    pub fn keep(mut self) {
        self.key = None;
    }
}

impl Drop for Working<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.gate.release_done(&key);
        }
    }
}

/// The triggers of one controller, in lane order: `New` ones as they come, `Backlog` ones first
/// in, first out, as [`Gate`] has room. A backlog object triggered again while it waits keeps
/// its place; one that comes through the `New` lane meanwhile leaves the backlog.
pub struct LaneStream<S> {
    source: Option<Pin<Box<S>>>,
    backlog: VecDeque<LaneKey>,
    queued: HashSet<LaneKey>,
    gate: Gate,
    stale_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> LaneStream<S>
where
    S: Stream<Item = (Lane, LaneKey)>,
{
    /// Lanes over `source`, released through `gate`.
    pub fn new(source: S, gate: Gate) -> Self {
        Self {
            source: Some(Box::pin(source)),
            backlog: VecDeque::new(),
            queued: HashSet::new(),
            gate,
            stale_timer: None,
        }
    }

    /// Objects waiting in the backlog lane.
    pub fn backlog_len(&self) -> usize {
        self.queued.len()
    }

    /// Once the backlog is through, its queue and set let their room go: at 50,000 objects
    /// they held some 12 MiB after the last had left (docs/design/memory.md, "What is cut").
    /// Entries left in the queue are only ones already gone through the `New` lane.
    fn let_go_when_drained(&mut self) {
        if self.queued.is_empty() && self.backlog.capacity() + self.queued.capacity() > KEPT_ROOM {
            self.backlog = VecDeque::new();
            self.queued = HashSet::new();
        }
    }

    /// Room the backlog holds (for tests).
    #[cfg(test)]
    pub(crate) fn room(&self) -> usize {
        self.backlog.capacity() + self.queued.capacity()
    }
}

/// Room a drained backlog keeps: small queues are reused rather than given back.
const KEPT_ROOM: usize = 256;

impl<S> Stream for LaneStream<S>
where
    S: Stream<Item = (Lane, LaneKey)>,
{
    type Item = LaneKey;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<LaneKey>> {
        let this = self.get_mut();
        // Everything the source has ready first: a new object must not wait behind the backlog.
        while let Some(source) = this.source.as_mut() {
            match source.as_mut().poll_next(cx) {
                Poll::Ready(Some((Lane::New, key))) => {
                    if this.queued.remove(&key) {
                        this.let_go_when_drained();
                    }
                    this.gate.admit_new(&key);
                    return Poll::Ready(Some(key));
                }
                Poll::Ready(Some((Lane::Backlog, key))) => {
                    if this.queued.insert(key.clone()) {
                        this.backlog.push_back(key);
                    }
                }
                Poll::Ready(None) => this.source = None,
                Poll::Pending => break,
            }
        }
        while let Some(key) = this.backlog.pop_front() {
            if !this.queued.contains(&key) {
                // Went through the New lane meanwhile, or a duplicate entry.
                continue;
            }
            if this.gate.try_release(&key, cx.waker()) {
                this.stale_timer = None;
                this.queued.remove(&key);
                this.let_go_when_drained();
                return Poll::Ready(Some(key));
            }
            this.backlog.push_front(key);
            // Full: woken by a slot freeing up, or by the timer that frees stale ones.
            let timer = this
                .stale_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(STALE_AFTER)));
            if timer.as_mut().poll(cx).is_ready() {
                this.stale_timer = None;
                continue;
            }
            return Poll::Pending;
        }
        if this.source.is_none() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }
}

/// Which lane a watch's objects take: `Backlog` until the watch's first initial list is done,
/// `New` after it. Objects of a later re-list that pass the trigger filter changed while the
/// watch was away: they take the `New` lane too.
#[derive(Clone, Default)]
pub struct InitialList {
    done: Arc<AtomicBool>,
}

impl InitialList {
    /// Notes the end of the initial list; call on every raw watch event, before the object
    /// reaches [`InitialList::lane`].
    pub fn observe<K>(&self, event: &Result<watcher::Event<K>, watcher::Error>) {
        if let Ok(watcher::Event::InitDone) = event {
            self.done.store(true, Ordering::Relaxed);
        }
    }

    /// The lane of an object seen now.
    pub fn lane(&self) -> Lane {
        if self.done.load(Ordering::Relaxed) {
            Lane::New
        } else {
            Lane::Backlog
        }
    }
}

/// The SealedSecrets that control `secret` (as kube-runtime's `owns` maps them): controller
/// owner references of kind SealedSecret and its API version, in the Secret's namespace.
pub fn owners(secret: &K8sSecret) -> Vec<LaneKey> {
    let (kind, api_version) = (SealedSecret::kind(&()), SealedSecret::api_version(&()));
    let Some(namespace) = secret.metadata.namespace.as_deref() else {
        return Vec::new();
    };
    secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .filter(|o| o.controller == Some(true) && o.kind == kind && o.api_version == api_version)
        .map(|o| ObjectRef::new(&o.name).within(namespace))
        .collect()
}

#[cfg(test)]
#[path = "lanes_tests.rs"]
mod tests;
