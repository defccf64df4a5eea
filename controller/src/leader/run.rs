//! The IO parts, behind two small seams (store and clock) so that the steps are unit-tested:
//! one replica's steps on the Lease ([`Core`]) and the loop that runs them ([`run_loop`]).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::record::{Decision, LeaseRecord, decide};
use super::tracker::{Change, LossReason, Outcome, Tracker};
use super::{
    FIELD_MANAGER, LeaderConfig, LeaderError, Leadership, RELEASE_TIMEOUT, jittered, lease_seconds,
};

/// The three Lease calls the elector makes.
pub(crate) trait LeaseStore {
    fn get_lease(&self, name: &str) -> impl Future<Output = kube::Result<Option<Lease>>> + Send;
    fn create_lease(&self, lease: &Lease) -> impl Future<Output = kube::Result<Lease>> + Send;
    fn replace_lease(
        &self,
        name: &str,
        lease: &Lease,
    ) -> impl Future<Output = kube::Result<Lease>> + Send;
}

fn post_params() -> PostParams {
    PostParams {
        dry_run: false,
        field_manager: Some(FIELD_MANAGER.to_owned()),
    }
}

impl LeaseStore for Api<Lease> {
    fn get_lease(&self, name: &str) -> impl Future<Output = kube::Result<Option<Lease>>> + Send {
        self.get_opt(name)
    }

    async fn create_lease(&self, lease: &Lease) -> kube::Result<Lease> {
        Api::create(self, &post_params(), lease).await
    }

    async fn replace_lease(&self, name: &str, lease: &Lease) -> kube::Result<Lease> {
        Api::replace(self, name, &post_params(), lease).await
    }
}

/// Local monotonic time and wall time.
pub(crate) trait Clock {
    fn now(&self) -> Instant;
    fn wall(&self) -> Timestamp;
}

pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> Timestamp {
        // From SystemTime, since jiff's `Timestamp::now` needs its `std` feature.
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

pub(crate) fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// The last record we saw and when we first saw it.
#[derive(Debug)]
struct Observation {
    record: LeaseRecord,
    since: Instant,
}

/// One replica's view of the Lease, and the steps on it.
pub(crate) struct Core<S, C> {
    store: S,
    clock: C,
    namespace: String,
    name: String,
    /// `namespace/name`, for logs.
    label: String,
    identity: String,
    lease_duration: Duration,
    lease_seconds: i32,
    observed: Option<Observation>,
    /// The Lease as we last read or wrote it: [`Core::release`] writes over its
    /// resourceVersion, as client-go does.
    last: Option<Lease>,
}

impl<S: LeaseStore, C: Clock> Core<S, C> {
    pub(crate) fn new(store: S, clock: C, config: &LeaderConfig) -> Self {
        Self {
            store,
            clock,
            namespace: config.namespace.clone(),
            name: config.lease_name.clone(),
            label: format!("{}/{}", config.namespace, config.lease_name),
            identity: config.identity.clone(),
            lease_duration: config.lease_duration,
            // validate() guarantees Some.
            lease_seconds: lease_seconds(config.lease_duration).unwrap_or(i32::MAX),
            observed: None,
            last: None,
        }
    }

    /// Records `record`, restarting the expiry clock if it changed. Returns when it was first
    /// seen.
    fn observe(&mut self, record: LeaseRecord, now: Instant) -> Instant {
        match &self.observed {
            Some(seen) if seen.record == record => seen.since,
            previous => {
                let previous_holder = previous.as_ref().map(|p| p.record.holder.clone());
                if previous_holder.as_ref() != Some(&record.holder) {
                    match &record.holder {
                        Some(holder) if *holder != self.identity => {
                            info!(identity = %self.identity, lease = %self.label, holder = %holder, "lease held by another replica");
                        }
                        None => {
                            debug!(identity = %self.identity, lease = %self.label, "lease is free")
                        }
                        Some(_) => {}
                    }
                }
                self.observed = Some(Observation { record, since: now });
                now
            }
        }
    }

    /// True when the last record we saw names us.
    pub(crate) fn holds_lease(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|o| o.record.holder.as_deref() == Some(&self.identity))
    }

    /// True when `lease` names us.
    fn names_me(&self, lease: &Lease) -> bool {
        LeaseRecord::of(lease).holder.as_deref() == Some(&self.identity)
    }

    /// One round of client-go's `tryAcquireOrRenew`.
    pub(crate) async fn step(&mut self) -> kube::Result<Outcome> {
        let Some(current) = self.store.get_lease(&self.name).await? else {
            self.last = None;
            return self.create().await;
        };
        self.last = Some(current.clone());
        let now = self.clock.now();
        let record = LeaseRecord::of(&current);
        let first_seen = self.observe(record.clone(), now);
        let decision = decide(
            &record,
            now,
            first_seen,
            &self.identity,
            self.lease_duration,
        );
        let acquire = match decision {
            Decision::Follow { holder, .. } => return Ok(Outcome::HeldByOther(holder)),
            Decision::Acquire => true,
            Decision::Renew => false,
        };
        if current.metadata.resource_version.is_none() {
            // Without it, replace would be an unconditional overwrite.
            warn!(identity = %self.identity, lease = %self.label, "lease has no resourceVersion; not writing it");
            return Ok(Outcome::Unknown);
        }
        let wall = MicroTime(self.clock.wall());
        let mut next = current;
        let spec = next.spec.get_or_insert_with(Default::default);
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(self.lease_seconds);
        spec.renew_time = Some(wall.clone());
        if acquire {
            spec.acquire_time = Some(wall);
            spec.lease_transitions = Some(record.transitions.saturating_add(1));
        } else {
            spec.lease_transitions = Some(record.transitions);
        }
        self.write(self.store.replace_lease(&self.name, &next).await)
    }

    async fn create(&mut self) -> kube::Result<Outcome> {
        let wall = MicroTime(self.clock.wall());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(self.lease_seconds),
                acquire_time: Some(wall.clone()),
                renew_time: Some(wall),
                lease_transitions: Some(0),
                ..Default::default()
            }),
        };
        let result = self.store.create_lease(&lease).await;
        self.write(result)
    }

    /// Interprets the answer to a create or replace.
    fn write(&mut self, result: kube::Result<Lease>) -> kube::Result<Outcome> {
        match result {
            Ok(written) => {
                let now = self.clock.now();
                self.observe(LeaseRecord::of(&written), now);
                self.last = Some(written);
                Ok(Outcome::Held)
            }
            // Conflict or AlreadyExists: someone else wrote first; re-read next round.
            Err(err) if status_code(&err) == Some(409) => {
                debug!(identity = %self.identity, lease = %self.label, "lease write lost a race");
                Ok(Outcome::Unknown)
            }
            Err(err) => Err(err),
        }
    }

    /// client-go's `ReleaseOnCancel`: if the Lease still names us, clear the holder and shorten
    /// the duration to 1 s, keeping the transition count. A compare-and-swap on the Lease as we
    /// last saw it (one write, no read, as client-go); if it changed since (say the answer to our
    /// last renewal was lost), once more on a fresh read, still only if it names us. It never
    /// clobbers a successor. Returns whether it released.
    pub(crate) async fn release(&mut self) -> kube::Result<bool> {
        match self.last.clone() {
            Some(known) if self.names_me(&known) => match self.write_release(known).await {
                Err(err) if status_code(&err) == Some(409) => {}
                done => return done,
            },
            _ => return Ok(false),
        }
        let Some(current) = self.store.get_lease(&self.name).await? else {
            return Ok(false);
        };
        if !self.names_me(&current) {
            return Ok(false);
        }
        match self.write_release(current).await {
            Err(err) if status_code(&err) == Some(409) => Ok(false),
            done => done,
        }
    }

    /// Writes `current` released, conditional on its resourceVersion.
    async fn write_release(&mut self, current: Lease) -> kube::Result<bool> {
        if current.metadata.resource_version.is_none() {
            return Ok(false); // an unconditional overwrite could clear a successor
        }
        let transitions = LeaseRecord::of(&current).transitions;
        let wall = MicroTime(self.clock.wall());
        let mut next = current;
        let spec = next.spec.get_or_insert_with(Default::default);
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(wall.clone());
        spec.renew_time = Some(wall);
        spec.lease_transitions = Some(transitions);
        let written = self.store.replace_lease(&self.name, &next).await?;
        let now = self.clock.now();
        self.observe(LeaseRecord::of(&written), now);
        self.last = Some(written);
        Ok(true)
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    renew_deadline: Duration,
    retry_period: Duration,
}

impl From<&LeaderConfig> for Timing {
    fn from(config: &LeaderConfig) -> Self {
        Self {
            renew_deadline: config.renew_deadline,
            retry_period: config.retry_period,
        }
    }
}

/// Publishes `change`: transitions notify receivers, renewals update `valid_until` silently.
fn publish(
    tx: &watch::Sender<Leadership>,
    tracker: &Tracker,
    change: &Change,
    identity: &str,
    lease: &str,
) {
    let state = tracker.state();
    match change {
        Change::None => {}
        Change::Renewed => {
            tx.send_if_modified(|current| {
                *current = state;
                false
            });
        }
        Change::Acquired(term) => {
            info!(identity, lease, term, "became leader");
            tx.send_replace(state);
        }
        Change::Lost(reason) => {
            match reason {
                LossReason::HeldByOther(holder) => {
                    warn!(identity, lease, holder = %holder, "lost leadership: lease taken by another replica");
                }
                LossReason::RenewDeadline => {
                    warn!(
                        identity,
                        lease,
                        "lost leadership: could not renew the lease before the renew deadline"
                    );
                }
            }
            tx.send_replace(state);
        }
    }
}

pub(crate) async fn run_loop<S: LeaseStore, C: Clock>(
    mut core: Core<S, C>,
    timing: Timing,
    tx: &watch::Sender<Leadership>,
    shutdown: &CancellationToken,
) -> Result<(), LeaderError> {
    let identity = core.identity.clone();
    let lease = core.label.clone();
    let mut tracker = Tracker::new(timing.renew_deadline);
    let mut failures: u32 = 0;
    info!(identity = %identity, lease = %lease, "leader election started");
    let result = loop {
        if shutdown.is_cancelled() {
            break Ok(());
        }
        let started = core.clock.now();
        let budget = tracker.step_budget(started);
        let answer = tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(()),
            answer = tokio::time::timeout(budget, core.step()) => answer,
        };
        let outcome = match answer {
            Ok(Ok(outcome)) => {
                if failures > 0 {
                    info!(identity = %identity, lease = %lease, failures, "lease API reachable again");
                }
                failures = 0;
                outcome
            }
            Ok(Err(err)) if status_code(&err) == Some(403) => {
                break Err(LeaderError::Forbidden {
                    namespace: core.namespace.clone(),
                    name: core.name.clone(),
                    source: err,
                });
            }
            Ok(Err(err)) => {
                failures = failures.saturating_add(1);
                if failures == 1 {
                    warn!(identity = %identity, lease = %lease, error = %err, "lease step failed; retrying");
                } else {
                    debug!(identity = %identity, lease = %lease, error = %err, failures, "lease step failed again");
                }
                Outcome::Unknown
            }
            Err(_elapsed) => {
                failures = failures.saturating_add(1);
                warn!(identity = %identity, lease = %lease, timeout = ?budget, "lease step timed out");
                Outcome::Unknown
            }
        };
        let change = tracker.on_step(&outcome, started, core.clock.now());
        publish(tx, &tracker, &change, &identity, &lease);

        let period = if tracker.is_leader() {
            timing.retry_period
        } else {
            jittered(timing.retry_period)
        };
        let mut wake = Instant::now() + period;
        if let Some(until) = tracker.valid_until() {
            wake = wake.min(until);
        }
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break Ok(()),
            () = tokio::time::sleep_until(wake) => {}
        }
        let change = tracker.on_tick(core.clock.now());
        publish(tx, &tracker, &change, &identity, &lease);
    };

    // Stop acting first, then let the others in.
    let was_leader = tracker.is_leader();
    tracker.step_down();
    tx.send_if_modified(|current| {
        let modified = *current != Leadership::Follower;
        *current = Leadership::Follower;
        modified
    });
    if was_leader {
        info!(identity = %identity, lease = %lease, "stopped leading");
    }
    if core.holds_lease() {
        match tokio::time::timeout(RELEASE_TIMEOUT, core.release()).await {
            Ok(Ok(true)) => info!(identity = %identity, lease = %lease, "released the lease"),
            Ok(Ok(false)) => {
                debug!(identity = %identity, lease = %lease, "lease no longer ours; nothing to release");
            }
            Ok(Err(err)) => {
                warn!(identity = %identity, lease = %lease, error = %err, "releasing the lease failed; it will expire");
            }
            Err(_elapsed) => {
                warn!(identity = %identity, lease = %lease, "releasing the lease timed out; it will expire");
            }
        }
    }
    result
}
