//! Leader election (`sealant_controller::leader`) against the real API server: two electors on
//! one Lease never lead at once, a killed leader is replaced once its Lease expires, and a
//! leader that shuts down gracefully releases the Lease for its successor. Then the same for
//! `sealant-controller` processes: a SIGTERMed leader releases the Lease before it exits, and
//! the elector's death ends the process with a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use sealant_controller::leader::{
    CancellationToken, LeaderConfig, LeaderElector, LeaderError, LeaderHandle,
};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, wait_for};
use tokio::task::JoinHandle;

const LEASE: &str = "sealant-controller";

/// Short timings so the test takes seconds: lease 3 s, renew deadline 2 s, retry 0.5 s.
fn config(ns: &TestNamespace, identity: &str) -> LeaderConfig {
    LeaderConfig {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(500),
        ..LeaderConfig::new(ns.name(), LEASE, identity)
    }
}

struct Replica {
    identity: &'static str,
    handle: LeaderHandle,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), LeaderError>>,
}

fn start(
    cluster: &TestCluster,
    ns: &TestNamespace,
    identity: &'static str,
) -> anyhow::Result<Replica> {
    let shutdown = CancellationToken::new();
    let (handle, task) =
        LeaderElector::new(cluster.client(), config(ns, identity))?.spawn(shutdown.clone());
    Ok(Replica {
        identity,
        handle,
        shutdown,
        task,
    })
}

/// Samples every handle every 10 ms until stopped; counts samples where two lead at once.
struct OverlapWatch {
    stop: Arc<AtomicBool>,
    overlaps: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl OverlapWatch {
    fn start(handles: Vec<LeaderHandle>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let overlaps = Arc::new(AtomicU64::new(0));
        let samples = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let (stop, overlaps, samples) = (stop.clone(), overlaps.clone(), samples.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let leaders = handles.iter().filter(|h| h.is_leader()).count();
                    if leaders > 1 {
                        overlaps.fetch_add(1, Ordering::Relaxed);
                    }
                    samples.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Self {
            stop,
            overlaps,
            samples,
            task,
        }
    }

    /// Stops sampling; returns (samples, overlaps).
    async fn finish(self) -> anyhow::Result<(u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.context("sampler task")?;
        Ok((
            self.samples.load(Ordering::Relaxed),
            self.overlaps.load(Ordering::Relaxed),
        ))
    }
}

/// Waits until exactly one of `replicas` leads and returns its index.
async fn wait_for_leader(replicas: &[&Replica]) -> anyhow::Result<usize> {
    wait_for("a leader", DEFAULT_TIMEOUT, || async {
        let leaders: Vec<usize> = (0..replicas.len())
            .filter(|i| replicas[*i].handle.is_leader())
            .collect();
        anyhow::ensure!(leaders.len() <= 1, "two leaders at once: {leaders:?}");
        Ok(leaders.first().copied())
    })
    .await
}

async fn lease(ns: &TestNamespace) -> anyhow::Result<Lease> {
    ns.api::<Lease>()
        .get(LEASE)
        .await
        .context("reading the Lease")
}

fn holder(lease: &Lease) -> Option<String> {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .filter(|h| !h.is_empty())
}

fn transitions(lease: &Lease) -> i32 {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_transitions)
        .unwrap_or(0)
}

/// Waits until `replica` leads and the Lease names it.
async fn wait_until_leads(ns: &TestNamespace, replica: &Replica) -> anyhow::Result<Lease> {
    let api: Api<Lease> = ns.api();
    wait_for(
        &format!("{} to lead", replica.identity),
        DEFAULT_TIMEOUT,
        || async {
            if !replica.handle.is_leader() {
                return Ok(None);
            }
            let lease = api.get(LEASE).await?;
            Ok((holder(&lease).as_deref() == Some(replica.identity)).then_some(lease))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn one_leader_at_a_time_and_the_standby_takes_over_from_a_killed_leader() -> anyhow::Result<()>
{
    let cluster = TestCluster::from_env().await?;
    let ns = cluster.namespace("leader-kill").await?;
    let a = start(&cluster, &ns, "replica-a")?;
    let b = start(&cluster, &ns, "replica-b")?;
    let watch = OverlapWatch::start(vec![a.handle.clone(), b.handle.clone()]);

    let first = wait_for_leader(&[&a, &b]).await?;
    let (leader, standby) = if first == 0 { (a, b) } else { (b, a) };
    let before = wait_until_leads(&ns, &leader).await?;
    // Several lease durations of renewals (the sampler checks there is never a second
    // leader meanwhile). Whether the leader keeps its lease depends on the API server
    // answering within the renew deadline, so that is not asserted.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let renewed = lease(&ns).await?;
    assert_ne!(
        renewed.spec.as_ref().and_then(|s| s.renew_time.clone()),
        before.spec.as_ref().and_then(|s| s.renew_time.clone()),
        "the lease is renewed"
    );
    let first = wait_for_leader(&[&leader, &standby]).await?;
    let (leader, standby) = if first == 0 {
        (leader, standby)
    } else {
        (standby, leader)
    };
    let before = wait_until_leads(&ns, &leader).await?;

    // Kill the leader: no release, the Lease must expire.
    let killed = std::time::Instant::now();
    leader.task.abort();
    let aborted = leader.task.await;
    assert!(aborted.is_err_and(|e| e.is_cancelled()));
    assert!(!leader.handle.is_leader(), "a dead elector leads nothing");
    let after = wait_until_leads(&ns, &standby).await?;
    // Informational only (lease duration 3 s): never asserted.
    eprintln!("takeover {:?} after the kill", killed.elapsed());
    assert!(transitions(&after) > transitions(&before));

    let (samples, overlaps) = watch.finish().await?;
    assert!(samples > 100, "sampled {samples} times");
    assert_eq!(
        overlaps, 0,
        "two leaders at once in {overlaps} of {samples} samples"
    );

    standby.shutdown.cancel();
    standby.task.await??;
    ns.cleanup().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn a_leader_that_shuts_down_releases_the_lease() -> anyhow::Result<()> {
    let cluster = TestCluster::from_env().await?;
    let ns = cluster.namespace("leader-release").await?;
    let a = start(&cluster, &ns, "replica-a")?;
    let b = start(&cluster, &ns, "replica-b")?;
    let watch = OverlapWatch::start(vec![a.handle.clone(), b.handle.clone()]);
    let first = wait_for_leader(&[&a, &b]).await?;
    let (a, b) = if first == 0 { (a, b) } else { (b, a) };
    wait_until_leads(&ns, &a).await?;
    // Let b see a's lease and follow it for a while.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let stopped = std::time::Instant::now();
    a.shutdown.cancel();
    a.task.await??;
    assert!(!a.handle.is_leader());
    // Right after a's graceful exit the Lease is free (or already b's): b need not wait for
    // expiry.
    let released = lease(&ns).await?;
    match holder(&released).as_deref() {
        None => assert_eq!(
            released
                .spec
                .as_ref()
                .and_then(|s| s.lease_duration_seconds),
            Some(1)
        ),
        Some(h) => assert_eq!(h, b.identity),
    }
    let taken = wait_until_leads(&ns, &b).await?;
    // Informational only (lease duration 3 s, retry period 0.5 s): never asserted.
    eprintln!("takeover {:?} after the graceful stop", stopped.elapsed());
    assert_eq!(
        transitions(&taken),
        transitions(&released) + i32::from(holder(&released).is_none())
    );

    let (_, overlaps) = watch.finish().await?;
    assert_eq!(overlaps, 0, "two leaders at once");
    b.shutdown.cancel();
    b.task.await??;
    assert_eq!(holder(&lease(&ns).await?), None, "b released too");
    ns.cleanup().await
}

// ---- the controller process -------------------------------------------------------------------
// Regression tests of `sealant-controller` itself (docs/design/controller.md §4): a SIGTERMed
// leader releases its Lease before it exits, and the elector's death ends the process with a
// failure instead of exit 0.

/// The Lease as a recorder sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    holder: Option<String>,
    duration: Option<i32>,
    transitions: i32,
    at: std::time::Instant,
}

/// Records every version of Lease `name` from a watch, in the API server's order.
struct LeaseRecorder {
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl LeaseRecorder {
    fn start(api: Api<Lease>, name: &str) -> Self {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (seen, name) = (seen.clone(), name.to_owned());
            async move {
                let versions = std::sync::Mutex::new(std::collections::HashSet::new());
                // The condition sees every version the watch delivers and is never met; a
                // watch error ends `await_condition`, so start it again (re-lists repeat
                // versions already recorded).
                let record = |lease: Option<&Lease>| {
                    if let Some(lease) = lease
                        && versions
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .insert(lease.metadata.resource_version.clone())
                    {
                        let spec = lease.spec.clone().unwrap_or_default();
                        seen.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(Seen {
                                holder: spec.holder_identity.filter(|h| !h.is_empty()),
                                duration: spec.lease_duration_seconds,
                                transitions: spec.lease_transitions.unwrap_or(0),
                                at: std::time::Instant::now(),
                            });
                    }
                    false
                };
                loop {
                    let _ = kube::runtime::wait::await_condition(api.clone(), &name, &record).await;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        Self { seen, task }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for LeaseRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The replica whose identity (`POD_NAME` + `_` + suffix) is `holder`.
fn is_holder(replica: &sealant_tests::controller::ControllerProcess, holder: &str) -> bool {
    holder.starts_with(&format!("{}_", replica.identity))
}

/// Waits until `process` exits and returns its status.
async fn wait_exit(
    process: &mut sealant_tests::controller::ControllerProcess,
) -> anyhow::Result<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + DEFAULT_TIMEOUT;
    loop {
        if let Some(status) = process.child.try_wait()? {
            return Ok(status);
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "controller {} did not exit within {DEFAULT_TIMEOUT:?}",
            process.identity
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Bug: the controller logged "stopped leading" on SIGTERM and exited without releasing its
/// Lease, so the standby waited for it to expire. Now the leader releases the Lease (holder
/// cleared, 1 s) before the process exits, and the standby takes the released Lease at its next
/// retry. Asserted by order: the Lease goes leader → released → standby, and is already
/// released (or the standby's) when the leader's process is gone. Times are printed only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn lease_is_released_on_sigterm() -> anyhow::Result<()> {
    use sealant_tests::controller::{ControllerProcess, cluster_with_crd};
    const NAME: &str = "sealant-sigterm";
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("leader-sigterm").await?;
    let flags = ["--leader-election-lease", NAME];
    let first = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    let second = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    let leases: Api<Lease> = ns.api();
    let recorder = LeaseRecorder::start(leases.clone(), NAME);

    let held = wait_for("a leader", DEFAULT_TIMEOUT, || async {
        Ok(leases.get_opt(NAME).await?.as_ref().and_then(holder))
    })
    .await?;
    let (mut leader, standby) = if is_holder(&first, &held) {
        (first, second)
    } else {
        anyhow::ensure!(is_holder(&second, &held), "unexpected holder {held:?}");
        (second, first)
    };
    // The leader is up (a SIGTERM before its first list is another matter: kube holds a
    // controller's runner until its store is ready, shutdown or not), the standby follows it,
    // and the recorder has the leader's Lease.
    wait_for("the leader to be ready", DEFAULT_TIMEOUT, || async {
        Ok(leader.log().contains("watches synced: ready").then_some(()))
    })
    .await?;
    wait_for("the standby to follow", DEFAULT_TIMEOUT, || async {
        Ok(standby
            .log()
            .contains("lease held by another replica")
            .then_some(()))
    })
    .await?;
    wait_for(
        "the recorder to see the leader",
        DEFAULT_TIMEOUT,
        || async {
            Ok(recorder
                .seen()
                .iter()
                .any(|s| s.holder.as_deref() == Some(held.as_str()))
                .then_some(()))
        },
    )
    .await?;

    let signalled = std::time::Instant::now();
    sealant_tests::faults::signal(leader.child.id(), "TERM")?;
    let status = wait_exit(&mut leader).await?;
    let exited = signalled.elapsed();
    let after_exit = leases.get(NAME).await?;
    let standby_prefix = format!("{}_", standby.identity);
    let label = |holder: &Option<String>| match holder.as_deref() {
        None => "released".to_owned(),
        Some(h) if h == held => "leader".to_owned(),
        Some(h) if h.starts_with(&standby_prefix) => "standby".to_owned(),
        Some(h) => h.to_owned(),
    };
    wait_for("the standby to take the Lease", DEFAULT_TIMEOUT, || async {
        Ok(recorder
            .seen()
            .iter()
            .any(|s| label(&s.holder) == "standby")
            .then_some(()))
    })
    .await
    .with_context(|| standby.log())?;

    // The Lease's holders in the API server's order, renewals folded.
    let seen = recorder.seen();
    let mut changes: Vec<&Seen> = Vec::new();
    for s in &seen {
        if changes.last().is_none_or(|c| c.holder != s.holder) {
            changes.push(s);
        }
    }
    let order: Vec<String> = changes.iter().map(|c| label(&c.holder)).collect();
    let since = |what: &str| {
        changes
            .iter()
            .find(|c| label(&c.holder) == what)
            .map_or("-".to_owned(), |c| {
                format!("{:.2} s", c.at.duration_since(signalled).as_secs_f64())
            })
    };
    // Informational only (lease 10 s, retry 2 s + 20 % jitter): never asserted.
    eprintln!(
        "SIGTERM → process exited {:.2} s, Lease released {}, standby leads {}; holders: {}",
        exited.as_secs_f64(),
        since("released"),
        since("standby"),
        order.join(" → ")
    );

    assert!(
        status.success(),
        "a SIGTERMed controller exits 0, got {status}: {}",
        leader.log()
    );
    match holder(&after_exit) {
        None => assert_eq!(
            after_exit
                .spec
                .as_ref()
                .and_then(|s| s.lease_duration_seconds),
            Some(1),
            "released as client-go does"
        ),
        Some(h) => assert!(
            h.starts_with(&standby_prefix),
            "the Lease still names {h} after its process exited: not released\n{}",
            leader.log()
        ),
    }
    assert_eq!(
        order,
        ["leader", "released", "standby"],
        "the standby must take the Lease the leader released, not wait for it to expire"
    );
    let (released, taken) = (changes[1], changes[2]);
    assert_eq!(released.duration, Some(1));
    assert_eq!(
        taken.transitions,
        released.transitions + 1,
        "the standby took the released Lease"
    );
    drop(leader);
    drop(standby);
    ns.cleanup().await
}

/// A kubeconfig file; removed when dropped (it holds the admin's credentials).
struct Kubeconfig(std::path::PathBuf);

impl Drop for Kubeconfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A kubeconfig for the test cluster that acts as `user` (impersonated by the admin), who has
/// only the rights the test grants.
fn impersonating_kubeconfig(cluster: &TestCluster, user: &str) -> anyhow::Result<Kubeconfig> {
    let mut config = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    for named in &mut config.auth_infos {
        if let Some(auth) = named.auth_info.as_mut() {
            auth.impersonate = Some(user.to_owned());
            auth.impersonate_groups = Some(vec!["system:authenticated".to_owned()]);
        }
    }
    let path = Kubeconfig(std::env::temp_dir().join(format!(
        "{}.kubeconfig",
        sealant_tests::unique_name("sealant-leader")
    )));
    // JSON is YAML: kube reads it as a kubeconfig.
    std::fs::write(&path.0, serde_json::to_string(&config)?)?;
    Ok(path)
}

/// A Role with `rules` in `ns` and a RoleBinding of it (both named `name`) to `user`.
async fn grant(
    ns: &TestNamespace,
    name: &str,
    user: &str,
    rules: serde_json::Value,
) -> anyhow::Result<()> {
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    use kube::api::PostParams;
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "rules": rules,
    }))?;
    ns.api::<Role>()
        .create(&PostParams::default(), &role)
        .await?;
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name },
        "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user }],
    }))?;
    ns.api::<RoleBinding>()
        .create(&PostParams::default(), &binding)
        .await?;
    Ok(())
}

/// Bug: when the elector task died, `run` returned Ok and the controller exited 0, so a
/// supervisor saw success. The elector dies the way it does in a cluster: its rights on the
/// Lease are taken away while it leads (403 is the one error it does not retry). The process
/// must then end non-zero, naming the Lease and the rights it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn elector_death_exits_nonzero() -> anyhow::Result<()> {
    use sealant_tests::controller::{ControllerProcess, Launch, cluster_with_crd};
    const NAME: &str = "sealant-death";
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("leader-death").await?;
    let user = format!("{}-controller", ns.name());
    // What the single-namespace overlay grants, broadly; the Lease rights separately.
    grant(
        &ns,
        "unsealer",
        &user,
        serde_json::json!([{
            "apiGroups": ["", "bitnami.com", "events.k8s.io"],
            "resources": ["*"],
            "verbs": ["*"],
        }]),
    )
    .await?;
    grant(
        &ns,
        "leases",
        &user,
        serde_json::json!([{
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        }]),
    )
    .await?;
    let kubeconfig = impersonating_kubeconfig(&cluster, &user)?;
    let flags = ["--leader-election-lease", NAME];
    let launched = ControllerProcess::launch(&Launch {
        kubeconfig: &kubeconfig.0,
        namespace: ns.name(),
        extra: &flags,
        api_addr: "127.0.0.1:0",
        metrics_addr: "127.0.0.1:0",
        netns: None,
    });
    let mut controller = launched?;
    let pid = controller.child.id();
    let leases: Api<Lease> = ns.api();
    wait_for("the controller to lead", DEFAULT_TIMEOUT, || async {
        anyhow::ensure!(
            sealant_tests::faults::alive(pid),
            "the controller exited early: {}",
            controller.log()
        );
        let lease = leases.get_opt(NAME).await?;
        Ok(lease
            .as_ref()
            .and_then(holder)
            .filter(|h| is_holder(&controller, h)))
    })
    .await?;

    // Its Lease rights go: the next renewal is refused and the elector ends.
    use k8s_openapi::api::rbac::v1::RoleBinding;
    ns.api::<RoleBinding>()
        .delete("leases", &Default::default())
        .await?;
    let status = wait_exit(&mut controller).await?;
    let log = controller.log();
    assert!(
        !status.success(),
        "the controller exited {status} after its elector died\n{log}"
    );
    assert!(
        log.contains(&format!(
            "error: leader election stopped: not allowed to use Lease {}/{NAME}",
            ns.name()
        )),
        "the exit names the Lease and the rights it needs\n{log}"
    );
    drop(controller);
    ns.cleanup().await
}
