//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics.
//!
//! kube 5 ships no leader election, so this is our own. It behaves like client-go's
//! `leaderelection` package with a `LeaseLock`, and writes the same Lease fields:
//!
//! * One step every `retry_period` (followers add up to 20 % jitter): read the Lease; create it
//!   if it is missing; otherwise renew it if we hold it, take it over if it is free or expired,
//!   or stay a follower.
//! * **Expiry is judged by the local clock only**, never by comparing the Lease's `renewTime`
//!   with our wall clock: we remember when we first saw the current record (holder, times,
//!   duration, transitions), and the Lease is expired once it has not changed for
//!   `leaseDurationSeconds` *of our own monotonic clock*. Clock skew between nodes does not
//!   matter; only clock *rates* do, as in client-go.
//! * Every write is a `replace` of the object we read, carrying its `resourceVersion`: a
//!   compare-and-swap. A 409 Conflict means somebody else wrote first; we re-read next round.
//! * A leader stays leader until `renew_deadline` after the start of its last successful renewal.
//!   `renew_deadline < lease_duration`, so it stops acting before any other replica may take
//!   over. Losing the Lease to someone else ends leadership at once.
//! * On graceful shutdown a leader first stops being leader, then releases the Lease (holder
//!   cleared, `leaseDurationSeconds: 1`: client-go's `ReleaseOnCancel`), so a standby takes over
//!   within one retry period instead of waiting for expiry. The release is a compare-and-swap on
//!   the Lease as we last saw it, so it never clears a successor's Lease; it is bounded by
//!   [`RELEASE_TIMEOUT`]. A process must wait for it before exiting: [`ElectorTask::stop`].
//! * The elector ends on its own only when it cannot go on (403 on the Lease). A process must
//!   not carry on without it, nor exit as if it had succeeded: [`ElectorTask::stop`] returns why
//!   it ended.
//!
//! Fencing is time-based and best-effort, as in client-go: a process paused for longer than
//! `renew_deadline` may act after its term ended. Guard writes with [`LeaderHandle::ensure`];
//! resourceVersion preconditions keep accidental double writes harmless.
//!
//! Usage:
//!
//! ```no_run
//! # async fn demo(client: kube::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use sealant_controller::leader::{CancellationToken, LeaderConfig, LeaderElector, default_identity};
//!
//! let config = LeaderConfig::new("kube-system", "sealant-controller", default_identity());
//! let shutdown = CancellationToken::new(); // cancelled on SIGTERM
//! let (mut leader, elector) = LeaderElector::new(client, config)?.start();
//! loop {
//!     let term = tokio::select! {
//!         () = shutdown.cancelled() => break,
//!         term = leader.acquired() => match term { Some(term) => term, None => break },
//!     };
//!     // start controllers here; stop them when `leader.lost(term)` or `shutdown` completes
//!     leader.lost(term).await;
//! }
//! // The controllers have stopped: release the Lease, or learn why the elector died.
//! elector.stop().await?;
//! # Ok(()) }
//! ```

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::warn;

/// Re-exported so that callers of [`LeaderElector::run`] need not depend on tokio-util.
pub use tokio_util::sync::CancellationToken;

use self::run::{Core, SystemClock, Timing, run_loop};

mod record;
mod run;
#[cfg(test)]
mod tests;
mod tracker;

/// Shorter than client-go's 15 s: a standby takes over from a killed leader within
/// `lease_duration + JITTER_FACTOR × retry_period` (≈ 12.4 s; 17.4 s with client-go's values).
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(10);
/// Shorter than client-go's 10 s, to stay well inside the lease (3 s margin).
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(7);
/// client-go's default `RetryPeriod`.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
/// How long a stopping leader may spend releasing the Lease. A release is one write (two if the
/// Lease changed since we last saw it); past this the Lease is left to expire, as after a kill.
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long [`ElectorTask::stop`] waits for the elector: the release plus a margin to notice.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);
/// Followers wait between `retry_period` and `JITTER_FACTOR × retry_period` between attempts;
/// `renew_deadline` must exceed `JITTER_FACTOR × retry_period` (client-go's rule).
pub const JITTER_FACTOR: f64 = 1.2;
/// Field manager recorded on our Lease writes.
const FIELD_MANAGER: &str = "sealant-controller";

/// Settings of one elector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderConfig {
    /// Name of the Lease object (`--leader-election-id`).
    pub lease_name: String,
    /// Namespace of the Lease object (the controller's namespace).
    pub namespace: String,
    /// This replica's identity, unique among replicas (see [`default_identity`]).
    pub identity: String,
    /// How long a Lease stays valid without renewal, as seen by the others. Written to the Lease
    /// in whole seconds, rounded up.
    pub lease_duration: Duration,
    /// How long a leader keeps acting after the start of its last successful renewal.
    pub renew_deadline: Duration,
    /// Time between attempts to acquire or renew.
    pub retry_period: Duration,
}

impl LeaderConfig {
    /// Settings with sealant's default timings: lease 10 s, renew deadline 7 s, retry 2 s
    /// ([`DEFAULT_LEASE_DURATION`], [`DEFAULT_RENEW_DEADLINE`], [`DEFAULT_RETRY_PERIOD`]);
    /// client-go's are 15 s / 10 s / 2 s.
    pub fn new(
        namespace: impl Into<String>,
        lease_name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        Self {
            lease_name: lease_name.into(),
            namespace: namespace.into(),
            identity: identity.into(),
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_deadline: DEFAULT_RENEW_DEADLINE,
            retry_period: DEFAULT_RETRY_PERIOD,
        }
    }

    /// Checks client-go's invariants: names and identity non-empty,
    /// `lease_duration > renew_deadline > JITTER_FACTOR × retry_period > 0`.
    ///
    /// # Errors
    ///
    /// [`LeaderError::Config`] naming the first violated rule.
    pub fn validate(&self) -> Result<(), LeaderError> {
        let fail = |message: String| Err(LeaderError::Config(message));
        if self.lease_name.is_empty() {
            return fail("the lease name is empty".into());
        }
        if self.namespace.is_empty() {
            return fail("the lease namespace is empty".into());
        }
        if self.identity.is_empty() {
            return fail("the identity is empty".into());
        }
        if self.retry_period.is_zero() {
            return fail("the retry period must be positive".into());
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return fail(format!(
                "the renew deadline ({:?}) must be greater than {JITTER_FACTOR} × the retry period ({:?})",
                self.renew_deadline, self.retry_period
            ));
        }
        if self.lease_duration <= self.renew_deadline {
            return fail(format!(
                "the lease duration ({:?}) must be greater than the renew deadline ({:?})",
                self.lease_duration, self.renew_deadline
            ));
        }
        if lease_seconds(self.lease_duration).is_none() {
            return fail(format!(
                "the lease duration ({:?}) is too long",
                self.lease_duration
            ));
        }
        Ok(())
    }
}

/// `duration` in whole seconds, rounded up, as `leaseDurationSeconds` wants it.
fn lease_seconds(duration: Duration) -> Option<i32> {
    let seconds = duration
        .as_secs()
        .checked_add(u64::from(duration.subsec_nanos() > 0))?;
    i32::try_from(seconds).ok().filter(|s| *s > 0)
}

/// `$POD_NAME`, else the host name, else `sealant-controller`; then `_` and 8 random hex digits,
/// so that a restarted process never mistakes its predecessor's Lease for its own.
#[must_use]
pub fn default_identity() -> String {
    let non_empty = |s: String| {
        let s = s.trim().to_owned();
        (!s.is_empty()).then_some(s)
    };
    let base = std::env::var("POD_NAME")
        .ok()
        .and_then(non_empty)
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .and_then(non_empty)
        })
        .or_else(|| std::env::var("HOSTNAME").ok().and_then(non_empty))
        .unwrap_or_else(|| "sealant-controller".to_owned());
    // Truncation to 32 bits is the point: 8 hex digits.
    #[allow(clippy::cast_possible_truncation)]
    let suffix = random_u64() as u32;
    format!("{base}_{suffix:08x}")
}

/// Not cryptographic: identity suffixes and jitter only.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(since) = SystemTime::now().duration_since(UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    hasher.finish()
}

/// `period` stretched by a random factor in `[1, JITTER_FACTOR)`.
fn jittered(period: Duration) -> Duration {
    // 53 random bits → a uniform fraction in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    let fraction = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
    period.mul_f64(1.0 + fraction * (JITTER_FACTOR - 1.0))
}

/// Errors of the elector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderError {
    /// The settings break a rule of [`LeaderConfig::validate`].
    #[error("invalid leader election settings: {0}")]
    Config(String),
    /// The API server refused access to the Lease (403): retrying cannot help.
    #[error(
        "not allowed to use Lease {namespace}/{name}: grant coordination.k8s.io leases get, \
         create and update in {namespace}, or run a single replica with --leader-elect=false"
    )]
    Forbidden {
        /// The Lease's namespace.
        namespace: String,
        /// The Lease's name.
        name: String,
        /// The API server's answer.
        #[source]
        source: kube::Error,
    },
    /// The elector's task panicked (a bug): leadership ended with it.
    #[error("the leader election task panicked")]
    Panicked,
    /// The elector's task was cancelled before it was stopped (the runtime is shutting down).
    #[error("the leader election task was cancelled")]
    Cancelled,
}

/// Returned by [`LeaderHandle::ensure`] when this replica must not act as leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this replica is not the leader")]
pub struct NotLeader;

/// What a replica may do, as published by the elector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leadership {
    /// Not leading: do not write.
    Follower,
    /// Leading.
    Leader {
        /// Counts the terms of this elector (1, 2, …): a new term after every loss.
        term: u64,
        /// The term ends at this instant unless a renewal succeeds first; `None` for
        /// [`LeaderHandle::always`].
        valid_until: Option<Instant>,
    },
}

impl Leadership {
    /// The term, if leading and still valid at `now`.
    #[must_use]
    pub fn term_at(&self, now: Instant) -> Option<u64> {
        match *self {
            Self::Leader { term, valid_until } if valid_until.is_none_or(|until| now < until) => {
                Some(term)
            }
            _ => None,
        }
    }
}

/// A view of the elector's decisions; cheap to clone, one per consumer.
///
/// When the elector stops (returns, or its task is aborted or dropped), every handle reports
/// [`Leadership::Follower`].
#[derive(Clone, Debug)]
pub struct LeaderHandle {
    rx: watch::Receiver<Leadership>,
    /// Keeps the channel open for [`LeaderHandle::always`], which has no elector.
    _always: Option<Arc<watch::Sender<Leadership>>>,
}

impl LeaderHandle {
    /// A handle that is always leader, for running a single replica without election
    /// (`--leader-elect=false`).
    #[must_use]
    pub fn always() -> Self {
        let (tx, rx) = watch::channel(Leadership::Leader {
            term: 1,
            valid_until: None,
        });
        Self {
            rx,
            _always: Some(Arc::new(tx)),
        }
    }

    fn new(rx: watch::Receiver<Leadership>) -> Self {
        Self { rx, _always: None }
    }

    /// The current state, with an expired or orphaned term reported as [`Leadership::Follower`].
    #[must_use]
    pub fn leadership(&self) -> Leadership {
        if self.rx.has_changed().is_err() {
            return Leadership::Follower; // the elector is gone
        }
        let state = *self.rx.borrow();
        match state.term_at(Instant::now()) {
            Some(_) => state,
            None => Leadership::Follower,
        }
    }

    /// The current term, if leader.
    #[must_use]
    pub fn term(&self) -> Option<u64> {
        self.leadership().term_at(Instant::now())
    }

    /// True while this replica is the leader and its term has not run out.
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.term().is_some()
    }

    /// Guard for writes that only the leader may make.
    ///
    /// # Errors
    ///
    /// [`NotLeader`] unless [`LeaderHandle::is_leader`].
    pub fn ensure(&self) -> Result<(), NotLeader> {
        if self.is_leader() {
            Ok(())
        } else {
            Err(NotLeader)
        }
    }

    /// Waits for the elector's next transition (acquired, lost, stopped) and returns the new
    /// state; `None` once the elector has stopped. Renewals are not transitions.
    pub async fn changed(&mut self) -> Option<Leadership> {
        self.rx.changed().await.ok()?;
        Some(*self.rx.borrow_and_update())
    }

    /// Waits until this replica leads and returns the term; at once if it already does.
    /// `None` once the elector has stopped.
    pub async fn acquired(&mut self) -> Option<u64> {
        loop {
            if self.rx.has_changed().is_err() {
                return None;
            }
            let state = *self.rx.borrow_and_update();
            if let Some(term) = state.term_at(Instant::now()) {
                return Some(term);
            }
            self.rx.changed().await.ok()?;
        }
    }

    /// Completes when `term` is over: lost, expired, or the elector stopped. At once if `term`
    /// is not the current term.
    pub async fn lost(&self, term: u64) {
        let mut rx = self.rx.clone();
        loop {
            if rx.has_changed().is_err() {
                return;
            }
            let state = *rx.borrow_and_update();
            let valid_until = match state {
                Leadership::Leader {
                    term: current,
                    valid_until,
                } if current == term => valid_until,
                _ => return,
            };
            match valid_until {
                Some(until) => {
                    if Instant::now() >= until {
                        return;
                    }
                    // Renewals move `valid_until` without notifying: re-read after the sleep.
                    tokio::select! {
                        changed = rx.changed() => if changed.is_err() { return },
                        () = tokio::time::sleep_until(until) => {}
                    }
                }
                None => {
                    if rx.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// A token cancelled when `term` is over (see [`LeaderHandle::lost`]), e.g. for
    /// `Controller::graceful_shutdown_on`. Spawns a small task: call it inside a tokio runtime.
    #[must_use]
    pub fn lost_token(&self, term: u64) -> CancellationToken {
        let token = CancellationToken::new();
        let (handle, cancel) = (self.clone(), token.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = handle.lost(term) => cancel.cancel(),
                () = cancel.cancelled() => {}
            }
        });
        token
    }

    /// A raw receiver of the published state (renewals update `valid_until` silently).
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<Leadership> {
        self.rx.clone()
    }
}

/// Runs the election for one replica; see the module docs.
pub struct LeaderElector {
    config: LeaderConfig,
    api: Api<Lease>,
    tx: watch::Sender<Leadership>,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// An elector for `config.namespace`/`config.lease_name`.
    ///
    /// # Errors
    ///
    /// [`LeaderError::Config`] when the settings are invalid.
    pub fn new(client: Client, config: LeaderConfig) -> Result<Self, LeaderError> {
        config.validate()?;
        let api = Api::namespaced(client, &config.namespace);
        let (tx, _) = watch::channel(Leadership::Follower);
        Ok(Self { config, api, tx })
    }

    /// A handle on this elector's decisions.
    #[must_use]
    pub fn handle(&self) -> LeaderHandle {
        LeaderHandle::new(self.tx.subscribe())
    }

    /// Runs until `shutdown` is cancelled, then stops leading and releases the Lease if held.
    ///
    /// API errors are logged and retried, except 403 Forbidden. Dropping the future (aborting
    /// its task) stops leading at once without releasing: the Lease then expires.
    ///
    /// # Errors
    ///
    /// [`LeaderError::Forbidden`] when the API server refuses access to the Lease.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), LeaderError> {
        let Self { config, api, tx } = self;
        let timing = Timing::from(&config);
        let core = Core::new(api, SystemClock, &config);
        let result = run_loop(core, timing, &tx, &shutdown).await;
        if let Err(err) = &result {
            warn!(identity = %config.identity, error = %err, "leader election failed");
        }
        result
    }

    /// Spawns [`LeaderElector::run`] on the current tokio runtime.
    pub fn spawn(
        self,
        shutdown: CancellationToken,
    ) -> (LeaderHandle, JoinHandle<Result<(), LeaderError>>) {
        let handle = self.handle();
        (handle, tokio::spawn(self.run(shutdown)))
    }

    /// Spawns [`LeaderElector::run`] with a stop signal of its own: unlike a process-wide
    /// shutdown token, it fires only when the caller calls [`ElectorTask::stop`], once the work
    /// that leadership guards has stopped. Leadership, and the Lease, last until then.
    pub fn start(self) -> (LeaderHandle, ElectorTask) {
        let handle = self.handle();
        let stop = CancellationToken::new();
        let task = ElectorTask::spawn(self.run(stop.clone()), stop);
        (handle, task)
    }
}

/// A running elector from [`LeaderElector::start`]. Dropping it leaves the elector running
/// until the runtime ends (no release); call [`ElectorTask::stop`] instead.
#[derive(Debug)]
pub struct ElectorTask {
    task: JoinHandle<Result<(), LeaderError>>,
    stop: CancellationToken,
}

impl ElectorTask {
    fn spawn(
        run: impl Future<Output = Result<(), LeaderError>> + Send + 'static,
        stop: CancellationToken,
    ) -> Self {
        Self {
            task: tokio::spawn(run),
            stop,
        }
    }

    /// True once the elector has ended, whether stopped or on its own.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the elector and waits until it has stepped down and released the Lease (if it
    /// held it), so a standby takes over at its next retry. Bounded: an elector that does not
    /// end within [`RELEASE_TIMEOUT`] and a margin is aborted, and its Lease expires.
    ///
    /// # Errors
    ///
    /// How the elector ended when it ended on its own before: [`LeaderError::Forbidden`],
    /// [`LeaderError::Panicked`] or [`LeaderError::Cancelled`]. A process must not report
    /// success then.
    pub async fn stop(mut self) -> Result<(), LeaderError> {
        self.stop.cancel();
        match tokio::time::timeout(STOP_TIMEOUT, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(err)) if err.is_panic() => Err(LeaderError::Panicked),
            Ok(Err(_cancelled)) => Err(LeaderError::Cancelled),
            Err(_elapsed) => {
                self.task.abort();
                warn!(timeout = ?STOP_TIMEOUT, "leader election did not stop in time; the lease will expire");
                Ok(())
            }
        }
    }
}
