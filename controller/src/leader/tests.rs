//! Unit tests of the elector: settings, handles, and the steps and loop against an in-memory
//! API server (the record and tracker tests are beside them).

use std::sync::Mutex;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use kube::core::Status;

use super::record::LeaseRecord;
use super::run::{Clock, Core, LeaseStore, SystemClock, Timing, run_loop, status_code};
use super::tracker::Outcome;
use super::*;

const SECOND: Duration = Duration::from_secs(1);

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
    reads: usize,
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
    fn reads(&self) -> usize {
        self.0.lock().unwrap().reads
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
        server.reads += 1;
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
async fn release_is_one_write_on_the_lease_last_seen() {
    let (store, clock) = (FakeStore::default(), FakeClock::new());
    let mut a = replica(&store, &clock, "a");
    a.step().await.unwrap();
    clock.advance(2 * SECOND);
    a.step().await.unwrap();
    let (reads, writes) = (store.reads(), store.writes());
    assert!(a.release().await.unwrap());
    assert_eq!(store.reads(), reads, "no read first, as client-go");
    assert_eq!(store.writes(), writes + 1);
    let released = store.record();
    assert_eq!(released.holder, None);
    assert_eq!(released.lease_duration, Some(SECOND));
}

#[tokio::test]
async fn release_reads_again_when_its_own_lease_changed_since() {
    // Our last renewal reached the server but its answer did not reach us: the Lease still
    // names us at a version we have not seen.
    let (store, clock) = (FakeStore::default(), FakeClock::new());
    let mut a = replica(&store, &clock, "a");
    a.step().await.unwrap();
    store.put(store.lease().unwrap());
    assert!(a.release().await.unwrap());
    assert_eq!(store.record().holder, None);
}

#[tokio::test]
async fn release_never_clears_a_successor_it_has_not_seen() {
    let (store, clock) = (FakeStore::default(), FakeClock::new());
    let mut a = replica(&store, &clock, "a");
    a.step().await.unwrap();
    // a stalled; b took the Lease over meanwhile, unseen by a.
    let mut lease = store.lease().unwrap();
    let spec = lease.spec.as_mut().unwrap();
    spec.holder_identity = Some("b".into());
    spec.lease_transitions = Some(1);
    store.put(lease);
    let writes = store.writes();
    assert!(!a.release().await.unwrap());
    assert_eq!(store.writes(), writes);
    assert_eq!(store.record().holder.as_deref(), Some("b"));
    assert_eq!(store.record().transitions, 1);
}

#[tokio::test]
async fn release_errors_surface() {
    let (store, clock) = (FakeStore::default(), FakeClock::new());
    let mut a = replica(&store, &clock, "a");
    a.step().await.unwrap();
    store.fail_next(api_error(500, "InternalError"));
    assert!(a.release().await.is_err());
    assert_eq!(store.record().holder.as_deref(), Some("a"));
}

fn fast_config(me: &str) -> LeaderConfig {
    LeaderConfig {
        lease_duration: Duration::from_millis(300),
        renew_deadline: Duration::from_millis(200),
        retry_period: Duration::from_millis(20),
        ..LeaderConfig::new("ns", "lease", me)
    }
}

/// An elector on `store` as [`LeaderElector::start`] makes it.
fn start(store: &FakeStore, me: &str) -> (LeaderHandle, ElectorTask) {
    let config = fast_config(me);
    let core = Core::new(store.clone(), SystemClock, &config);
    let (tx, rx) = watch::channel(Leadership::Follower);
    let stop = CancellationToken::new();
    let run = {
        let stop = stop.clone();
        async move { run_loop(core, Timing::from(&config), &tx, &stop).await }
    };
    (LeaderHandle::new(rx), ElectorTask::spawn(run, stop))
}

#[tokio::test]
async fn stopping_the_elector_releases_the_lease_before_it_returns() {
    let store = FakeStore::default();
    let (mut handle, elector) = start(&store, "a");
    handle.acquired().await.expect("leads");
    // Leadership lasts until stop: nothing else ends it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(handle.is_leader());
    elector.stop().await.expect("stopped as asked");
    assert!(!handle.is_leader());
    let released = store.record();
    assert_eq!(released.holder, None);
    assert_eq!(released.lease_duration, Some(SECOND));
}

#[tokio::test]
async fn an_elector_that_died_is_reported_by_stop() {
    let store = FakeStore::default();
    let (mut handle, elector) = start(&store, "a");
    handle.acquired().await.expect("leads");
    store.fail_next(api_error(403, "Forbidden"));
    // The handle reports the end of the elector.
    while handle.changed().await.is_some() {}
    assert!(elector.is_finished());
    let err = elector.stop().await.unwrap_err();
    assert!(matches!(err, LeaderError::Forbidden { .. }), "{err}");
}

#[tokio::test]
async fn a_panicking_elector_is_reported_by_stop() {
    let elector = ElectorTask::spawn(
        async { panic!("a bug in the elector") },
        CancellationToken::new(),
    );
    let err = elector.stop().await.unwrap_err();
    assert!(matches!(err, LeaderError::Panicked), "{err}");
}

#[tokio::test(start_paused = true)]
async fn stop_gives_up_on_an_elector_that_does_not_end() {
    let (alive, dropped) = tokio::sync::oneshot::channel::<()>();
    let stuck = async move {
        let _alive = alive;
        std::future::pending().await
    };
    let elector = ElectorTask::spawn(stuck, CancellationToken::new());
    let started = Instant::now();
    elector
        .stop()
        .await
        .expect("a stuck elector is not a failure of the run");
    // Paused tokio time: it waited the whole bound, then aborted the task.
    assert!(Instant::now() >= started + STOP_TIMEOUT);
    assert!(dropped.await.is_err(), "the stuck task was aborted");
}

/// `run_loop` on a fake store with short timings (300/200/20 ms), on the real clock.
fn spawn_fast_run_loop() -> (
    FakeStore,
    LeaderHandle,
    CancellationToken,
    tokio::task::JoinHandle<Result<(), LeaderError>>,
) {
    let store = FakeStore::default();
    let config = LeaderConfig {
        lease_duration: Duration::from_millis(300),
        renew_deadline: Duration::from_millis(200),
        retry_period: Duration::from_millis(20),
        ..LeaderConfig::new("ns", "lease", "a")
    };
    let core = Core::new(store.clone(), SystemClock, &config);
    let (tx, rx) = watch::channel(Leadership::Follower);
    let handle = LeaderHandle::new(rx);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { run_loop(core, Timing::from(&config), &tx, &shutdown).await }
    });
    (store, handle, shutdown, task)
}

#[tokio::test]
async fn run_loop_leads_renews_and_releases_on_shutdown() {
    let (store, mut handle, shutdown, task) = spawn_fast_run_loop();
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
    let (store, mut handle, _shutdown, task) = spawn_fast_run_loop();
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
