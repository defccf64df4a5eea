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
//!   within one retry period instead of waiting for expiry.
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
//! let shutdown = CancellationToken::new();
//! let (mut leader, task) = LeaderElector::new(client, config)?.spawn(shutdown.clone());
//! while let Some(term) = leader.acquired().await {
//!     // start controllers here; stop them when `leader.lost(term)` completes
//!     leader.lost(term).await;
//! }
//! shutdown.cancel();
//! task.await??;
//! # Ok(()) }
//! ```

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// Re-exported so that callers of [`LeaderElector::run`] need not depend on tokio-util.
pub use tokio_util::sync::CancellationToken;

/// Shorter than client-go's 15 s: a standby takes over from a killed leader within
/// `lease_duration + JITTER_FACTOR × retry_period` (≈ 12.4 s; 17.4 s with client-go's values).
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(10);
/// Shorter than client-go's 10 s, to stay well inside the lease (3 s margin).
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(7);
/// client-go's default `RetryPeriod`.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
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
    /// Settings with client-go's default timings (15 s / 10 s / 2 s).
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
}

// ---------------------------------------------------------------------------------------------
// The sans-IO parts: record, decision, term tracking.

/// The fields of a Lease that matter for the election; two equal records mean "no change".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeaseRecord {
    /// `None` for missing or empty: free.
    pub(crate) holder: Option<String>,
    /// `None` for missing or non-positive.
    pub(crate) lease_duration: Option<Duration>,
    pub(crate) acquire_time: Option<MicroTime>,
    pub(crate) renew_time: Option<MicroTime>,
    pub(crate) transitions: i32,
}

impl LeaseRecord {
    pub(crate) fn of(lease: &Lease) -> Self {
        let Some(spec) = lease.spec.as_ref() else {
            return Self::default();
        };
        Self {
            holder: spec.holder_identity.clone().filter(|h| !h.is_empty()),
            lease_duration: spec
                .lease_duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            acquire_time: spec.acquire_time.clone(),
            renew_time: spec.renew_time.clone(),
            transitions: spec.lease_transitions.unwrap_or(0),
        }
    }
}

/// What to do about an observed Lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// It is free or expired: take it (new acquire time, one more transition).
    Acquire,
    /// It is ours: renew it (keep acquire time and transitions).
    Renew,
    /// Someone else holds it and it has not expired by our clock.
    Follow {
        /// The holder.
        holder: String,
        /// When it expires unless it changes before.
        expires_at: Instant,
    },
}

/// client-go's rule. `first_seen` is when *we* first saw `observed` unchanged (local monotonic
/// clock); the Lease's own timestamps are never compared with our wall clock. A Lease without a
/// usable duration is given `fallback` (ours) rather than treated as expired.
pub(crate) fn decide(
    observed: &LeaseRecord,
    now: Instant,
    first_seen: Instant,
    me: &str,
    fallback: Duration,
) -> Decision {
    match observed.holder.as_deref() {
        None => Decision::Acquire,
        Some(holder) if holder == me => Decision::Renew,
        Some(holder) => {
            let duration = observed.lease_duration.unwrap_or(fallback);
            match first_seen.checked_add(duration) {
                Some(expires_at) if now < expires_at => Decision::Follow {
                    holder: holder.to_owned(),
                    expires_at,
                },
                // An overflowing expiry is "never"; `expires_at` is only informative.
                None => Decision::Follow {
                    holder: holder.to_owned(),
                    expires_at: now,
                },
                Some(_) => Decision::Acquire,
            }
        }
    }
}

/// The result of one acquire-or-renew step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// We hold the Lease: our create or replace succeeded.
    Held,
    /// Someone else holds a live Lease.
    HeldByOther(String),
    /// Nothing known this round: write conflict, API error or timeout.
    Unknown,
}

/// A leadership change to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    /// Still leader, term extended.
    Renewed,
    /// A new term began.
    Acquired(u64),
    /// The term ended.
    Lost(LossReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LossReason {
    HeldByOther(String),
    RenewDeadline,
}

/// Turns step outcomes into terms. Pure: the caller passes the clock.
#[derive(Debug)]
pub(crate) struct Tracker {
    renew_deadline: Duration,
    terms: u64,
    state: Leadership,
}

impl Tracker {
    pub(crate) fn new(renew_deadline: Duration) -> Self {
        Self {
            renew_deadline,
            terms: 0,
            state: Leadership::Follower,
        }
    }

    pub(crate) fn state(&self) -> Leadership {
        self.state
    }

    fn valid_until(&self) -> Option<Instant> {
        match self.state {
            Leadership::Leader { valid_until, .. } => valid_until,
            Leadership::Follower => None,
        }
    }

    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.state, Leadership::Leader { .. })
    }

    /// How long the next step may take: a leader must not wait past its deadline.
    fn step_budget(&self, now: Instant) -> Duration {
        match self.valid_until() {
            Some(until) => until
                .saturating_duration_since(now)
                .min(self.renew_deadline),
            None => self.renew_deadline,
        }
    }

    /// After a step that started at `started` and ended at `now`.
    pub(crate) fn on_step(&mut self, outcome: &Outcome, started: Instant, now: Instant) -> Change {
        match outcome {
            Outcome::Held => {
                let until = started + self.renew_deadline;
                if now >= until {
                    // The write took so long that its term would already be over.
                    return self.on_tick(now);
                }
                match self.state {
                    Leadership::Leader { term, .. } => {
                        self.state = Leadership::Leader {
                            term,
                            valid_until: Some(until),
                        };
                        Change::Renewed
                    }
                    Leadership::Follower => {
                        self.terms += 1;
                        self.state = Leadership::Leader {
                            term: self.terms,
                            valid_until: Some(until),
                        };
                        Change::Acquired(self.terms)
                    }
                }
            }
            Outcome::HeldByOther(holder) if self.is_leader() => {
                self.state = Leadership::Follower;
                Change::Lost(LossReason::HeldByOther(holder.clone()))
            }
            Outcome::HeldByOther(_) => Change::None,
            Outcome::Unknown => self.on_tick(now),
        }
    }

    /// Ends the term once its deadline has passed.
    pub(crate) fn on_tick(&mut self, now: Instant) -> Change {
        match self.valid_until() {
            Some(until) if now >= until => {
                self.state = Leadership::Follower;
                Change::Lost(LossReason::RenewDeadline)
            }
            _ => Change::None,
        }
    }

    /// Stops leading (shutdown).
    fn step_down(&mut self) {
        self.state = Leadership::Follower;
    }
}

// ---------------------------------------------------------------------------------------------
// The IO parts, behind two small seams (store and clock) so that the steps are unit-tested.

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

struct SystemClock;

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

fn status_code(err: &kube::Error) -> Option<u16> {
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
    fn holds_lease(&self) -> bool {
        self.observed
            .as_ref()
            .is_some_and(|o| o.record.holder.as_deref() == Some(&self.identity))
    }

    /// One round of client-go's `tryAcquireOrRenew`.
    pub(crate) async fn step(&mut self) -> kube::Result<Outcome> {
        let Some(current) = self.store.get_lease(&self.name).await? else {
            return self.create().await;
        };
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
    /// the duration to 1 s, keeping the transition count. Compare-and-swap on a fresh read, so it
    /// never clobbers a successor. Returns whether it released.
    pub(crate) async fn release(&mut self) -> kube::Result<bool> {
        let Some(current) = self.store.get_lease(&self.name).await? else {
            return Ok(false);
        };
        let record = LeaseRecord::of(&current);
        if record.holder.as_deref() != Some(&self.identity)
            || current.metadata.resource_version.is_none()
        {
            return Ok(false);
        }
        let wall = MicroTime(self.clock.wall());
        let mut next = current;
        let spec = next.spec.get_or_insert_with(Default::default);
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(wall.clone());
        spec.renew_time = Some(wall);
        spec.lease_transitions = Some(record.transitions);
        match self.store.replace_lease(&self.name, &next).await {
            Ok(written) => {
                let now = self.clock.now();
                self.observe(LeaseRecord::of(&written), now);
                Ok(true)
            }
            Err(err) if status_code(&err) == Some(409) => Ok(false),
            Err(err) => Err(err),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Timing {
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

async fn run_loop<S: LeaseStore, C: Clock>(
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
        match tokio::time::timeout(timing.renew_deadline, core.release()).await {
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use kube::core::Status;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn record(holder: Option<&str>, seconds: Option<u64>) -> LeaseRecord {
        LeaseRecord {
            holder: holder.map(str::to_owned),
            lease_duration: seconds.map(Duration::from_secs),
            ..LeaseRecord::default()
        }
    }

    // ---- decide -----------------------------------------------------------------------------

    #[test]
    fn a_free_lease_is_acquired() {
        let t0 = Instant::now();
        assert_eq!(
            decide(&record(None, Some(15)), t0, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
    }

    #[test]
    fn a_lease_held_by_me_is_renewed_even_when_old() {
        let t0 = Instant::now();
        assert_eq!(
            decide(
                &record(Some("me"), Some(15)),
                t0 + 60 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Renew
        );
    }

    #[test]
    fn a_fresh_lease_held_by_another_is_followed() {
        let t0 = Instant::now();
        assert_eq!(
            decide(
                &record(Some("other"), Some(15)),
                t0 + 14 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Follow {
                holder: "other".into(),
                expires_at: t0 + 15 * SECOND
            }
        );
    }

    #[test]
    fn a_lease_held_by_another_expires_by_the_local_clock() {
        let t0 = Instant::now();
        let held = record(Some("other"), Some(15));
        // Exactly at first_seen + duration it is expired (client-go: valid iff expiry > now).
        assert_eq!(
            decide(&held, t0 + 15 * SECOND, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
        // The record's own duration counts, not ours.
        assert_eq!(
            decide(
                &record(Some("other"), Some(3)),
                t0 + 3 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Acquire
        );
    }

    #[test]
    fn a_lease_without_a_duration_gets_ours() {
        let t0 = Instant::now();
        let held = record(Some("other"), None);
        assert!(matches!(
            decide(&held, t0 + 14 * SECOND, t0, "me", 15 * SECOND),
            Decision::Follow { .. }
        ));
        assert_eq!(
            decide(&held, t0 + 15 * SECOND, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
    }

    #[test]
    fn record_of_normalises_empty_and_missing_fields() {
        let mut lease = Lease::default();
        assert_eq!(LeaseRecord::of(&lease), LeaseRecord::default());
        lease.spec = Some(k8s_openapi::api::coordination::v1::LeaseSpec {
            holder_identity: Some(String::new()),
            lease_duration_seconds: Some(0),
            ..Default::default()
        });
        assert_eq!(LeaseRecord::of(&lease), LeaseRecord::default());
    }

    // ---- config -----------------------------------------------------------------------------

    #[test]
    fn config_defaults_take_over_within_15_seconds_and_are_valid() {
        let config = LeaderConfig::new("ns", "lease", "me");
        assert_eq!(config.lease_duration, 10 * SECOND);
        assert_eq!(config.renew_deadline, 7 * SECOND);
        assert_eq!(config.retry_period, 2 * SECOND);
        // Worst case for a standby after the leader dies right after renewing.
        assert!(config.lease_duration + config.retry_period.mul_f64(JITTER_FACTOR) < 15 * SECOND);
        config.validate().expect("defaults are valid");
    }

    #[test]
    fn config_rules() {
        let ok = LeaderConfig {
            lease_duration: 3 * SECOND,
            renew_deadline: 2 * SECOND,
            retry_period: Duration::from_millis(500),
            ..LeaderConfig::new("ns", "lease", "me")
        };
        ok.validate().expect("valid");
        let bad = [
            LeaderConfig {
                identity: String::new(),
                ..ok.clone()
            },
            LeaderConfig {
                lease_name: String::new(),
                ..ok.clone()
            },
            LeaderConfig {
                namespace: String::new(),
                ..ok.clone()
            },
            LeaderConfig {
                renew_deadline: 3 * SECOND,
                ..ok.clone()
            },
            LeaderConfig {
                retry_period: Duration::ZERO,
                ..ok.clone()
            },
            // 2 s is not more than 1.2 × 2 s.
            LeaderConfig {
                retry_period: 2 * SECOND,
                ..ok.clone()
            },
            LeaderConfig {
                lease_duration: Duration::from_secs(u64::MAX),
                ..ok.clone()
            },
        ];
        for config in bad {
            assert!(
                matches!(config.validate(), Err(LeaderError::Config(_))),
                "{config:?}"
            );
        }
    }

    #[test]
    fn lease_seconds_round_up() {
        assert_eq!(lease_seconds(Duration::from_millis(3500)), Some(4));
        assert_eq!(lease_seconds(15 * SECOND), Some(15));
        assert_eq!(lease_seconds(Duration::ZERO), None);
    }

    #[test]
    fn identities_are_unique_and_suffixed() {
        let (a, b) = (default_identity(), default_identity());
        assert_ne!(a, b);
        let (_, suffix) = a.rsplit_once('_').expect("suffix");
        assert_eq!(suffix.len(), 8);
        assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn jitter_stays_within_the_factor() {
        for _ in 0..100 {
            let d = jittered(2 * SECOND);
            assert!(
                d >= 2 * SECOND && d < (2 * SECOND).mul_f64(JITTER_FACTOR),
                "{d:?}"
            );
        }
    }

    // ---- tracker ----------------------------------------------------------------------------

    #[test]
    fn tracker_terms_renewals_and_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(
            tracker.on_step(&Outcome::HeldByOther("x".into()), t0, t0),
            Change::None
        );
        assert_eq!(tracker.on_step(&Outcome::Held, t0, t0), Change::Acquired(1));
        assert_eq!(
            tracker.state(),
            Leadership::Leader {
                term: 1,
                valid_until: Some(t0 + 2 * SECOND)
            }
        );
        // A renewal moves the deadline; the term stays.
        let t1 = t0 + SECOND;
        assert_eq!(tracker.on_step(&Outcome::Held, t1, t1), Change::Renewed);
        assert_eq!(tracker.valid_until(), Some(t1 + 2 * SECOND));
        // Failures before the deadline keep the term…
        assert_eq!(
            tracker.on_step(&Outcome::Unknown, t1, t1 + SECOND),
            Change::None
        );
        assert!(tracker.is_leader());
        // …at the deadline it ends.
        assert_eq!(
            tracker.on_tick(t1 + 2 * SECOND),
            Change::Lost(LossReason::RenewDeadline)
        );
        assert!(!tracker.is_leader());
        // The next acquisition is a new term.
        let t2 = t1 + 5 * SECOND;
        assert_eq!(tracker.on_step(&Outcome::Held, t2, t2), Change::Acquired(2));
    }

    #[test]
    fn tracker_loses_at_once_when_another_holds_the_lease() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        tracker.on_step(&Outcome::Held, t0, t0);
        assert_eq!(
            tracker.on_step(&Outcome::HeldByOther("x".into()), t0, t0),
            Change::Lost(LossReason::HeldByOther("x".into()))
        );
    }

    #[test]
    fn tracker_ignores_a_success_that_arrives_after_its_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(
            tracker.on_step(&Outcome::Held, t0, t0 + 2 * SECOND),
            Change::None
        );
        assert!(!tracker.is_leader());
    }

    #[test]
    fn tracker_step_budget_never_passes_the_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(tracker.step_budget(t0), 2 * SECOND);
        tracker.on_step(&Outcome::Held, t0, t0);
        assert_eq!(tracker.step_budget(t0 + SECOND), SECOND);
        assert_eq!(tracker.step_budget(t0 + 3 * SECOND), Duration::ZERO);
    }

    // ---- handle -----------------------------------------------------------------------------

    #[test]
    fn always_is_leader() {
        let handle = LeaderHandle::always();
        assert!(handle.is_leader());
        assert_eq!(handle.ensure(), Ok(()));
        assert_eq!(handle.term(), Some(1));
    }

    #[test]
    fn a_handle_follows_the_elector_and_its_deadline() {
        let (tx, rx) = watch::channel(Leadership::Follower);
        let handle = LeaderHandle::new(rx);
        assert_eq!(handle.ensure(), Err(NotLeader));
        tx.send_replace(Leadership::Leader {
            term: 3,
            valid_until: Some(Instant::now() + 60 * SECOND),
        });
        assert_eq!(handle.term(), Some(3));
        tx.send_replace(Leadership::Leader {
            term: 3,
            valid_until: Some(Instant::now()),
        });
        assert!(!handle.is_leader(), "an expired term is not leadership");
        tx.send_replace(Leadership::Leader {
            term: 4,
            valid_until: Some(Instant::now() + 60 * SECOND),
        });
        assert!(handle.is_leader());
        drop(tx);
        assert!(!handle.is_leader(), "a stopped elector leads nothing");
        assert_eq!(handle.leadership(), Leadership::Follower);
    }

    #[tokio::test]
    async fn acquired_lost_and_changed() {
        let (tx, rx) = watch::channel(Leadership::Follower);
        let mut handle = LeaderHandle::new(rx);
        let waiter = tokio::spawn({
            let mut handle = handle.clone();
            async move { handle.acquired().await }
        });
        tokio::task::yield_now().await;
        let leader = Leadership::Leader {
            term: 1,
            valid_until: Some(Instant::now() + 60 * SECOND),
        };
        tx.send_replace(leader);
        assert_eq!(waiter.await.expect("joined"), Some(1));
        assert_eq!(handle.changed().await, Some(leader));

        let token = handle.lost_token(1);
        let lost = tokio::spawn({
            let handle = handle.clone();
            async move { handle.lost(1).await }
        });
        // A silent renewal is not a loss.
        tx.send_if_modified(|s| {
            *s = Leadership::Leader {
                term: 1,
                valid_until: Some(Instant::now() + 120 * SECOND),
            };
            false
        });
        tokio::task::yield_now().await;
        assert!(!lost.is_finished());
        assert!(!token.is_cancelled());
        tx.send_replace(Leadership::Follower);
        lost.await.expect("joined");
        token.cancelled().await;
        assert_eq!(handle.changed().await, Some(Leadership::Follower));
        // A term that is not current is lost already.
        handle.lost(7).await;
        drop(tx);
        assert_eq!(handle.changed().await, None);
        assert_eq!(handle.acquired().await, None);
    }

    #[tokio::test]
    async fn lost_completes_when_the_term_runs_out_without_news() {
        let (tx, rx) = watch::channel(Leadership::Leader {
            term: 1,
            valid_until: Some(Instant::now() + Duration::from_millis(20)),
        });
        LeaderHandle::new(rx).lost(1).await;
        drop(tx);
    }

    // ---- steps against an in-memory API server ----------------------------------------------

    fn api_error(code: u16, reason: &str) -> kube::Error {
        kube::Error::Api(Status::failure(reason, reason).with_code(code).boxed())
    }

    #[derive(Default)]
    struct Server {
        lease: Option<Lease>,
        version: u64,
        /// Returned by the next call instead of doing anything.
        fail_next: Option<kube::Error>,
        /// Returned by the next create or replace instead of doing anything.
        fail_next_write: Option<kube::Error>,
        /// Another client takes the lease over just before the next replace.
        race_next_replace: Option<String>,
        writes: usize,
    }

    #[derive(Clone, Default)]
    struct FakeStore(Arc<Mutex<Server>>);

    impl FakeStore {
        fn lease(&self) -> Option<Lease> {
            self.0.lock().unwrap().lease.clone()
        }
        fn record(&self) -> LeaseRecord {
            LeaseRecord::of(&self.lease().expect("a lease"))
        }
        fn writes(&self) -> usize {
            self.0.lock().unwrap().writes
        }
        fn fail_next(&self, err: kube::Error) {
            self.0.lock().unwrap().fail_next = Some(err);
        }
        fn fail_next_write(&self, err: kube::Error) {
            self.0.lock().unwrap().fail_next_write = Some(err);
        }
        fn race_next_replace(&self, holder: &str) {
            self.0.lock().unwrap().race_next_replace = Some(holder.to_owned());
        }
        /// Stores `lease` as if another client wrote it.
        fn put(&self, mut lease: Lease) {
            let mut server = self.0.lock().unwrap();
            server.version += 1;
            lease.metadata.resource_version = Some(server.version.to_string());
            server.lease = Some(lease);
        }
    }

    impl LeaseStore for FakeStore {
        async fn get_lease(&self, _name: &str) -> kube::Result<Option<Lease>> {
            let mut server = self.0.lock().unwrap();
            if let Some(err) = server.fail_next.take() {
                return Err(err);
            }
            Ok(server.lease.clone())
        }

        async fn create_lease(&self, lease: &Lease) -> kube::Result<Lease> {
            let mut server = self.0.lock().unwrap();
            if let Some(err) = server.fail_next.take().or(server.fail_next_write.take()) {
                return Err(err);
            }
            if server.lease.is_some() {
                return Err(api_error(409, "AlreadyExists"));
            }
            assert!(lease.metadata.resource_version.is_none());
            server.version += 1;
            server.writes += 1;
            let mut stored = lease.clone();
            stored.metadata.resource_version = Some(server.version.to_string());
            server.lease = Some(stored.clone());
            Ok(stored)
        }

        async fn replace_lease(&self, _name: &str, lease: &Lease) -> kube::Result<Lease> {
            let mut server = self.0.lock().unwrap();
            if let Some(err) = server.fail_next.take().or(server.fail_next_write.take()) {
                return Err(err);
            }
            if let Some(holder) = server.race_next_replace.take() {
                server.version += 1;
                server.writes += 1;
                let version = server.version.to_string();
                if let Some(current) = server.lease.as_mut() {
                    current.metadata.resource_version = Some(version);
                    let spec = current.spec.get_or_insert_with(Default::default);
                    spec.holder_identity = Some(holder);
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
            }
            let Some(current) = server.lease.as_ref() else {
                return Err(api_error(404, "NotFound"));
            };
            if current.metadata.resource_version != lease.metadata.resource_version {
                return Err(api_error(409, "Conflict"));
            }
            server.version += 1;
            server.writes += 1;
            let mut stored = lease.clone();
            stored.metadata.resource_version = Some(server.version.to_string());
            server.lease = Some(stored.clone());
            Ok(stored)
        }
    }

    /// A manual clock shared by all replicas of a test; wall time = epoch + elapsed.
    #[derive(Clone)]
    struct FakeClock {
        base: Instant,
        elapsed: Arc<Mutex<Duration>>,
    }

    impl FakeClock {
        fn new() -> Self {
            Self {
                base: Instant::now(),
                elapsed: Arc::default(),
            }
        }
        fn advance(&self, by: Duration) {
            *self.elapsed.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.base + *self.elapsed.lock().unwrap()
        }
        fn wall(&self) -> Timestamp {
            let micros = i64::try_from(self.elapsed.lock().unwrap().as_micros()).unwrap();
            Timestamp::from_microsecond(1_700_000_000_000_000 + micros).unwrap()
        }
    }

    fn replica(store: &FakeStore, clock: &FakeClock, me: &str) -> Core<FakeStore, FakeClock> {
        let config = LeaderConfig {
            lease_duration: 15 * SECOND,
            ..LeaderConfig::new("ns", "lease", me)
        };
        Core::new(store.clone(), clock.clone(), &config)
    }

    #[tokio::test]
    async fn the_first_replica_creates_the_lease() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        assert_eq!(a.step().await.unwrap(), Outcome::Held);
        let lease = store.lease().unwrap();
        let spec = lease.spec.unwrap();
        assert_eq!(lease.metadata.name.as_deref(), Some("lease"));
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.lease_transitions, Some(0));
        assert!(spec.acquire_time.is_some() && spec.acquire_time == spec.renew_time);
        assert!(a.holds_lease());
    }

    #[tokio::test]
    async fn creating_races_are_lost_quietly() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        let mut b = replica(&store, &clock, "b");
        // b read "missing" but a created it first: 409 AlreadyExists.
        store.fail_next_write(api_error(409, "AlreadyExists"));
        assert_eq!(b.step().await.unwrap(), Outcome::Unknown);
        assert_eq!(a.step().await.unwrap(), Outcome::Held);
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
    }

    #[tokio::test]
    async fn renewal_keeps_acquire_time_and_transitions() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        a.step().await.unwrap();
        let before = store.record();
        clock.advance(2 * SECOND);
        assert_eq!(a.step().await.unwrap(), Outcome::Held);
        let after = store.record();
        assert_eq!(after.acquire_time, before.acquire_time);
        assert_eq!(after.transitions, 0);
        assert!(after.renew_time > before.renew_time);
    }

    #[tokio::test]
    async fn a_standby_takes_over_only_after_the_lease_stops_changing() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        let mut b = replica(&store, &clock, "b");
        a.step().await.unwrap();
        // a keeps renewing: b never takes over, however long it watches.
        for _ in 0..20 {
            clock.advance(2 * SECOND);
            assert_eq!(a.step().await.unwrap(), Outcome::Held);
            assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
        }
        // a dies. b's clock starts at its first sight of a's last renewal.
        clock.advance(2 * SECOND);
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
        clock.advance(12 * SECOND);
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
        clock.advance(SECOND);
        let writes = store.writes();
        assert_eq!(b.step().await.unwrap(), Outcome::Held);
        assert_eq!(store.writes(), writes + 1);
        let record = store.record();
        assert_eq!(record.holder.as_deref(), Some("b"));
        assert_eq!(record.transitions, 1);
        assert_eq!(record.acquire_time, record.renew_time);
        // a comes back: it sees b's fresh lease and follows.
        assert_eq!(a.step().await.unwrap(), Outcome::HeldByOther("b".into()));
    }

    #[tokio::test]
    async fn wall_clock_skew_does_not_expire_a_lease() {
        // The holder's renewTime is a day in the past by our wall clock; it still changes, so
        // it is alive. Only our monotonic clock decides.
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut b = replica(&store, &clock, "b");
        let day_ago = Timestamp::from_second(1_600_000_000).unwrap();
        for i in 0..10 {
            store.put(Lease {
                metadata: ObjectMeta {
                    name: Some("lease".into()),
                    ..ObjectMeta::default()
                },
                spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                    holder_identity: Some("skewed".into()),
                    lease_duration_seconds: Some(15),
                    renew_time: Some(MicroTime(day_ago + jiff_seconds(i))),
                    ..Default::default()
                }),
            });
            assert_eq!(
                b.step().await.unwrap(),
                Outcome::HeldByOther("skewed".into())
            );
            clock.advance(10 * SECOND);
        }
    }

    fn jiff_seconds(n: i64) -> k8s_openapi::jiff::SignedDuration {
        k8s_openapi::jiff::SignedDuration::from_secs(n)
    }

    #[tokio::test]
    async fn a_conflicting_takeover_means_someone_else_won() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        let mut b = replica(&store, &clock, "b");
        a.step().await.unwrap();
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
        // a dies; after 15 s b takes over, but c's takeover lands between b's read and write.
        clock.advance(15 * SECOND);
        store.race_next_replace("c");
        let writes = store.writes();
        assert_eq!(
            b.step().await.unwrap(),
            Outcome::Unknown,
            "409 is not an error"
        );
        assert_eq!(store.writes(), writes + 1, "only c's write");
        assert_eq!(
            store.record().holder.as_deref(),
            Some("c"),
            "c's write stands"
        );
        // Next round b re-reads: c's record is new to b, so b waits a full lease duration.
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("c".into()));
        clock.advance(14 * SECOND);
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("c".into()));
    }

    #[tokio::test]
    async fn a_renewal_with_a_stale_resource_version_never_overwrites() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        a.step().await.unwrap();
        clock.advance(2 * SECOND);
        store.race_next_replace("x");
        assert_eq!(a.step().await.unwrap(), Outcome::Unknown);
        assert_eq!(store.record().holder.as_deref(), Some("x"));
        assert_eq!(a.step().await.unwrap(), Outcome::HeldByOther("x".into()));
        assert!(!a.holds_lease());
    }

    #[tokio::test]
    async fn api_errors_surface_and_change_nothing() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        store.fail_next(api_error(500, "InternalError"));
        assert!(a.step().await.is_err());
        store.fail_next(api_error(403, "Forbidden"));
        let err = a.step().await.unwrap_err();
        assert_eq!(status_code(&err), Some(403));
        assert!(store.lease().is_none());
    }

    #[tokio::test]
    async fn release_lets_a_standby_in_at_once() {
        let (store, clock) = (FakeStore::default(), FakeClock::new());
        let mut a = replica(&store, &clock, "a");
        let mut b = replica(&store, &clock, "b");
        a.step().await.unwrap();
        assert_eq!(b.step().await.unwrap(), Outcome::HeldByOther("a".into()));
        assert!(a.release().await.unwrap());
        let released = store.lease().unwrap().spec.unwrap();
        assert_eq!(released.holder_identity, None);
        assert_eq!(released.lease_duration_seconds, Some(1));
        assert_eq!(released.lease_transitions, Some(0));
        assert!(!a.holds_lease());
        // No waiting: the free lease is taken on b's next step.
        assert_eq!(b.step().await.unwrap(), Outcome::Held);
        assert_eq!(store.record().transitions, 1);
        // Releasing again does not touch b's lease.
        assert!(!a.release().await.unwrap());
        assert_eq!(store.record().holder.as_deref(), Some("b"));
    }

    #[tokio::test]
    async fn run_loop_leads_renews_and_releases_on_shutdown() {
        let store = FakeStore::default();
        let config = LeaderConfig {
            lease_duration: Duration::from_millis(300),
            renew_deadline: Duration::from_millis(200),
            retry_period: Duration::from_millis(20),
            ..LeaderConfig::new("ns", "lease", "a")
        };
        let core = Core::new(store.clone(), SystemClock, &config);
        let (tx, rx) = watch::channel(Leadership::Follower);
        let mut handle = LeaderHandle::new(rx);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { run_loop(core, Timing::from(&config), &tx, &shutdown).await }
        });
        let term = handle.acquired().await.expect("leads");
        assert_eq!(term, 1);
        // Renewals happen without notifications.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(store.writes() >= 3, "renewed");
        assert!(handle.is_leader());
        shutdown.cancel();
        task.await.unwrap().unwrap();
        assert!(!handle.is_leader());
        assert_eq!(store.lease().unwrap().spec.unwrap().holder_identity, None);
    }

    #[tokio::test]
    async fn run_loop_steps_down_when_renewals_fail_and_stops_on_forbidden() {
        let store = FakeStore::default();
        let config = LeaderConfig {
            lease_duration: Duration::from_millis(300),
            renew_deadline: Duration::from_millis(200),
            retry_period: Duration::from_millis(20),
            ..LeaderConfig::new("ns", "lease", "a")
        };
        let core = Core::new(store.clone(), SystemClock, &config);
        let (tx, rx) = watch::channel(Leadership::Follower);
        let mut handle = LeaderHandle::new(rx);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { run_loop(core, Timing::from(&config), &tx, &shutdown).await }
        });
        let term = handle.acquired().await.expect("leads");
        // Someone else takes the lease: leadership ends at the next step.
        let mut lease = store.lease().unwrap();
        lease.spec.as_mut().unwrap().holder_identity = Some("intruder".into());
        store.put(lease);
        handle.lost(term).await;
        assert!(!handle.is_leader());
        // A 403 ends the elector with the hint.
        store.fail_next(api_error(403, "Forbidden"));
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, LeaderError::Forbidden { .. }), "{err}");
        assert!(err.to_string().contains("leases"), "{err}");
        assert_eq!(handle.acquired().await, None);
    }
}
