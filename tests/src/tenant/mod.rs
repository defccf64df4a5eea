//! The hostile-tenant arena: one controller watching a victim namespace with [`VICTIMS`]
//! SealedSecrets and a tenant namespace where an attacker, a user with rights in that namespace
//! only (reached by impersonation), does what it likes. Every hostile-tenant test ends with
//! [`Arena::finish`], which holds the controller to what docs/bad-input.md promises for hostile
//! tenants: it never exited or panicked, its peak RSS stayed under [`RSS_BOUND_MIB`], every
//! victim is synced, and no status claims `Synced=True` for a Secret that differs from what its
//! SealedSecret holds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;

use crate::controller::{
    ControllerProcess, cluster_with_crd, controller_cert, free_local_addr, http_get, sealed,
};
use crate::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, repo_file};

mod support;

pub use support::{data_equals, forbidden, observed, synced_status};
use support::{grant_tenant, impersonating, lock, memory_kib, sample_memory, tail};

/// The user the attacker's client impersonates.
pub const ATTACKER_USER: &str = "tenant-a";
/// Victim SealedSecrets made (and synced) before any attack.
pub const VICTIMS: usize = 50;
/// The bound on the controller's peak RSS (`VmHWM`) under attack: below the 256Mi memory
/// limit the manifests ship (deploy/base/deployment.yaml), with room for the allocator.
pub const RSS_BOUND_MIB: u64 = 200;
/// How often the arena polls (faster than [`crate::wait_for`], for latency figures).
const POLL: Duration = Duration::from_millis(100);

/// What an attacker's SealedSecret may turn into, for the honesty check of [`Arena::finish`].
#[derive(Debug, Clone)]
pub enum Expect {
    /// Whenever its status says `Synced=True` for its generation, its Secret holds exactly
    /// these items (as given to [`sealed`], that is without the leak canary).
    Data(Vec<(String, String)>),
    /// It can never be unsealed, so its status must never say `Synced=True`.
    Never,
}

/// Peak memory of the controller, as sampled from `/proc/<pid>/status`.
#[derive(Debug, Default)]
struct Peak {
    rss_kib: AtomicU64,
    hwm_kib: AtomicU64,
}

/// Aborts the sampling task when dropped.
struct Sampler(tokio::task::JoinHandle<()>);

impl Drop for Sampler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// See the module documentation. Fields drop in order: the controller (killed, its log and
/// metrics checked for the leak canary) before the namespaces.
pub struct Arena {
    /// The controller, watching its own namespace, the victim's and the tenant's.
    pub controller: ControllerProcess,
    /// The admin view of the cluster.
    pub cluster: TestCluster,
    /// The controller's namespace (its keys).
    pub home: TestNamespace,
    /// The victim's namespace.
    pub victim: TestNamespace,
    /// The attacker's namespace.
    pub tenant: TestNamespace,
    /// A client acting as [`ATTACKER_USER`], who may do anything with SealedSecrets (status
    /// included), Secrets and ConfigMaps in [`Arena::tenant`] and nothing anywhere else.
    pub attacker: Client,
    /// The controller's sealing certificate (public: the attacker has it too).
    pub cert: Certificate,
    /// The controller's API listener.
    pub api_addr: String,
    /// The controller's metrics listener (which serves `/healthz` too).
    pub metrics_addr: String,
    test: String,
    pid: u32,
    started: Instant,
    peak: Arc<Peak>,
    _sampler: Sampler,
    victims: Mutex<BTreeMap<String, String>>,
    expected: Mutex<BTreeMap<String, Expect>>,
    failures: Mutex<Vec<String>>,
    crash_reported: std::sync::atomic::AtomicBool,
    rounds: Mutex<Vec<String>>,
    round_counter: AtomicUsize,
}

impl Arena {
    /// One hostile-tenant test: [`Arena::start`], a baseline victim round, then `attacks`,
    /// then [`Arena::finish`] (which fails the test on any recorded failure).
    ///
    /// # Errors
    /// Setup failures, and everything [`Arena::finish`] reports.
    pub async fn run(
        test: &str,
        attacks: impl AsyncFnOnce(&Arena) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let arena = Self::start(test).await?;
        let outcome = async {
            arena.victim_round("baseline").await?;
            attacks(&arena).await
        }
        .await;
        arena.finish(outcome).await
    }

    /// Namespaces, the attacker's Role and client, a controller, and [`VICTIMS`] victim
    /// SealedSecrets in sync. `test` (at most 27 characters) prefixes the namespaces.
    ///
    /// # Errors
    /// When any of that cannot be set up, or the attacker's rights are wider than intended.
    pub async fn start(test: &str) -> anyhow::Result<Self> {
        let started = Instant::now();
        let cluster = cluster_with_crd().await?;
        let home = cluster.namespace(&format!("{test}-ctl")).await?;
        let victim = cluster.namespace(&format!("{test}-victim")).await?;
        let tenant = cluster.namespace(&format!("{test}-tenant")).await?;
        grant_tenant(&cluster, tenant.name()).await?;
        let attacker = impersonating(&cluster, ATTACKER_USER)?;

        let api_addr = free_local_addr()?;
        let metrics_addr = free_local_addr()?;
        let watched = format!("{},{}", victim.name(), tenant.name());
        let controller = ControllerProcess::start_with_addrs(
            &cluster,
            home.name(),
            // A long read timeout: a version that held idle connections that long keeps its
            // API flooded for the whole of a wait (tenants::tenant_idle_connection_flood_...).
            &[
                "--leader-elect=false",
                "--additional-namespaces",
                &watched,
                "--read-timeout",
                "10m",
            ],
            &api_addr,
            &metrics_addr,
        )?;
        let pid = controller.child.id();
        let peak = Arc::new(Peak::default());
        let sampler = Sampler(tokio::spawn(sample_memory(pid, peak.clone())));
        let cert = controller_cert(&cluster, &home)
            .await
            .with_context(|| tail(&controller.log()))?;

        let arena = Self {
            controller,
            cluster,
            home,
            victim,
            tenant,
            attacker,
            cert,
            api_addr,
            metrics_addr,
            test: test.to_owned(),
            pid,
            started,
            peak,
            _sampler: sampler,
            victims: Mutex::new(BTreeMap::new()),
            expected: Mutex::new(BTreeMap::new()),
            failures: Mutex::new(Vec::new()),
            crash_reported: std::sync::atomic::AtomicBool::new(false),
            rounds: Mutex::new(Vec::new()),
            round_counter: AtomicUsize::new(0),
        };
        arena.check_attacker_confined().await?;
        arena.create_victims().await?;
        Ok(arena)
    }

    /// The attacker's view of a namespaced resource in its own namespace.
    #[must_use]
    pub fn tenant_api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.attacker.clone(), self.tenant.name())
    }

    /// A SealedSecret `name` in the tenant namespace with `items`, sealed to the controller.
    ///
    /// # Errors
    /// When sealing fails.
    pub fn seal(&self, name: &str, items: &[(&str, &str)]) -> anyhow::Result<SealedSecret> {
        sealed(&self.cert, self.tenant.name(), name, items, None)
    }

    /// A SealedSecret `name` in the tenant namespace sealed to a key the controller does not
    /// have: it fails for ever.
    ///
    /// # Errors
    /// When sealing fails.
    pub fn seal_undecryptable(&self, name: &str) -> anyhow::Result<SealedSecret> {
        let pem = std::fs::read(repo_file("core/tests/vectors/keys/other-2048.crt"))?;
        let other = Certificate::from_pem(&pem)?;
        sealed(&other, self.tenant.name(), name, &[("k", "never")], None)
    }

    /// Records what the attacker's object `name` may turn into (see [`Expect`]).
    pub fn expect(&self, name: &str, expect: Expect) {
        lock(&self.expected).insert(name.to_owned(), expect);
    }

    /// [`Expect::Data`] of `items`.
    pub fn expect_data(&self, name: &str, items: &[(&str, &str)]) {
        let items = items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.expect(name, Expect::Data(items));
    }

    /// Records a failed check without stopping the test, so that one run shows every attack
    /// that succeeded; [`Arena::finish`] fails with all of them. Returns the value on success.
    pub fn check<T>(&self, what: &str, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.note(&format!("FAILED: {what}: {err:#}"));
                lock(&self.failures).push(format!("{what}: {err:#}"));
                None
            }
        }
    }

    /// Fails at once when the controller process is gone, with the end of its log.
    ///
    /// # Errors
    /// When it exited (or is a zombie).
    pub fn ensure_alive(&self) -> anyhow::Result<()> {
        if crate::faults::alive(self.pid) {
            return Ok(());
        }
        if self.crash_reported.swap(true, Ordering::Relaxed) {
            bail!("the controller (pid {}) exited (see above)", self.pid);
        }
        bail!(
            "the controller (pid {}) exited; its log ends:\n{}",
            self.pid,
            tail(&self.controller.log())
        )
    }

    /// Prints a figure or a finding of the test, for the report.
    pub fn note(&self, text: &str) {
        eprintln!("tenant[{}]: {text}", self.test);
    }

    /// Polls `check` every 100 ms until it returns `Some`, failing at once if the controller
    /// exits, and after [`DEFAULT_TIMEOUT`] (a hang guard, not a time assertion).
    ///
    /// # Errors
    /// The first error of `check`, the controller's exit, or the timeout.
    pub async fn wait<T, F, Fut>(&self, what: &str, mut check: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
    {
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            self.ensure_alive()
                .with_context(|| format!("while waiting for {what}"))?;
            if let Some(value) = check()
                .await
                .with_context(|| format!("while waiting for {what}"))?
            {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                bail!("timed out after {DEFAULT_TIMEOUT:?} waiting for {what}");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `api`'s object `name` says `Synced=status` for `generation`; with
    /// `inventory`, also that `status.keyFingerprints` is set (the watch cache then keeps the
    /// object without its ciphertexts, docs/controller.md).
    ///
    /// # Errors
    /// See [`Arena::wait`].
    pub async fn wait_status(
        &self,
        api: &Api<SealedSecret>,
        name: &str,
        status: &str,
        generation: i64,
        inventory: bool,
    ) -> anyhow::Result<SealedSecret> {
        self.wait(
            &format!("{name} Synced={status} at generation {generation}"),
            || async {
                let object = api.get(name).await?;
                let ok = synced_status(&object).as_deref() == Some(status)
                    && observed(&object) == Some(generation)
                    && (!inventory || object.status.iter().any(|s| s.key_fingerprints.is_some()));
                Ok(ok.then_some(object))
            },
        )
        .await
    }

    /// Waits until Secret `name` of `api` holds exactly `items` (leak canary stripped).
    ///
    /// # Errors
    /// See [`Arena::wait`].
    pub async fn wait_data(
        &self,
        api: &Api<Secret>,
        name: &str,
        items: &[(&str, &str)],
    ) -> anyhow::Result<Secret> {
        self.wait(&format!("Secret {name} with the expected data"), || async {
            let secret = api.get_opt(name).await?;
            Ok(secret.filter(|s| data_equals(s, items)))
        })
        .await
    }

    /// Creates a new victim SealedSecret and updates an existing one (round-robin), and waits
    /// until both Secrets and statuses are in sync; returns the two latencies (from the create
    /// and the update call), also recorded for the figures.
    ///
    /// # Errors
    /// When a write fails or the victim does not sync (see [`Arena::wait`]).
    pub async fn victim_round(&self, tag: &str) -> anyhow::Result<(Duration, Duration)> {
        let n = self.round_counter.fetch_add(1, Ordering::Relaxed);
        let ns = self.victim.name();
        let api: Api<SealedSecret> = Api::namespaced(self.cluster.client(), ns);
        let (new_name, new_value) = (format!("new-{n}"), format!("new-{n}-value"));
        let updated = format!("v{}", n % VICTIMS);
        let updated_value = format!("v{}-round-{n}", n % VICTIMS);

        let create_started = Instant::now();
        let object = sealed(&self.cert, ns, &new_name, &[("k", &new_value)], None)?;
        api.create(&PostParams::default(), &object).await?;
        let update_started = Instant::now();
        let object = sealed(&self.cert, ns, &updated, &[("k", &updated_value)], None)?;
        let generation = crate::controller::replace_sealed(&api, &updated, object)
            .await?
            .metadata
            .generation
            .context("no generation")?;

        let (mut create, mut update) = (None, None);
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        while create.is_none() || update.is_none() {
            self.ensure_alive()
                .with_context(|| format!("victim round {tag:?}"))?;
            if create.is_none() && self.victim_in_sync(&new_name, 1, &new_value).await? {
                create = Some(create_started.elapsed());
            }
            if update.is_none()
                && self
                    .victim_in_sync(&updated, generation, &updated_value)
                    .await?
            {
                update = Some(update_started.elapsed());
            }
            if Instant::now() >= deadline {
                bail!(
                    "victim round {tag:?}: after {DEFAULT_TIMEOUT:?}, new SealedSecret synced: {}, \
                     updated SealedSecret synced: {}",
                    create.is_some(),
                    update.is_some()
                );
            }
            tokio::time::sleep(POLL).await;
        }
        {
            let mut victims = lock(&self.victims);
            victims.insert(new_name, new_value);
            victims.insert(updated, updated_value);
        }
        let (create, update) = (create.unwrap_or_default(), update.unwrap_or_default());
        let figure = format!(
            "{tag}: create {:.2} s, update {:.2} s",
            create.as_secs_f64(),
            update.as_secs_f64()
        );
        self.note(&format!("victim round {figure}"));
        lock(&self.rounds).push(figure);
        Ok((create, update))
    }

    /// The controller's peak memory so far, in MiB: (largest VmRSS sampled, VmHWM).
    #[must_use]
    pub fn peak_mib(&self) -> (f64, f64) {
        if let Some((rss, hwm)) = memory_kib(self.pid) {
            self.peak.rss_kib.fetch_max(rss, Ordering::Relaxed);
            self.peak.hwm_kib.fetch_max(hwm, Ordering::Relaxed);
        }
        let mib = |kib: &AtomicU64| kib.load(Ordering::Relaxed) as f64 / 1024.0;
        (mib(&self.peak.rss_kib), mib(&self.peak.hwm_kib))
    }

    /// The checks every hostile-tenant test ends with, all made and reported together with
    /// `outcome` (the attacks' own result) and the failures [`Arena::check`] recorded: the
    /// controller is alive (same process) and its log shows no panic; its peak RSS stayed
    /// under [`RSS_BOUND_MIB`]; every victim is `Synced=True` with its current data; no
    /// SealedSecret (victim or attacker) says `Synced=True` for its generation while its
    /// Secret differs from what it holds. Then prints the figures and cleans up.
    ///
    /// # Errors
    /// Every failed check, at once; then cleanup errors (including leak-canary finds).
    pub async fn finish(self, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let mut failures = std::mem::take(&mut *lock(&self.failures));
        if let Err(err) = outcome {
            failures.push(format!("the attacks stopped: {err:#}"));
        }
        let alive = self.ensure_alive();
        if let Err(err) = &alive {
            failures.push(format!("{err:#}"));
        }
        let log = self.controller.log();
        let markers = ["panicked", "overflowed its stack", "fatal runtime error"];
        let found: Vec<&str> = markers.into_iter().filter(|m| log.contains(m)).collect();
        if !found.is_empty() {
            failures.push(format!("the controller log says {found:?}"));
        }
        if alive.is_ok() {
            for ns in [self.victim.name(), self.tenant.name()] {
                if let Err(err) = self.wait_clean(ns).await {
                    failures.push(format!("{err:#}"));
                }
            }
        }
        let (rss, hwm) = self.peak_mib();
        if hwm.max(rss) > RSS_BOUND_MIB as f64 {
            failures.push(format!(
                "the controller's peak RSS was {hwm:.1} MiB (VmHWM; largest VmRSS sampled \
                 {rss:.1} MiB), over the bound of {RSS_BOUND_MIB} MiB"
            ));
        }
        let figures = lock(&self.rounds).clone();
        // bench/tenants.sh collects these into docs/benchmarks.md.
        if let Some(path) = std::env::var_os("SEALANT_TENANT_FIGURES") {
            let line = serde_json::json!({
                "test": self.test,
                "peak_rss_mib": hwm.max(rss),
                "rss_bound_mib": RSS_BOUND_MIB,
                "rounds": figures,
                "wall_s": self.started.elapsed().as_secs_f64(),
            });
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| {
                    use std::io::Write as _;
                    writeln!(file, "{line}")
                });
            if let Err(err) = written {
                failures.push(format!("cannot write the figures: {err}"));
            }
        }
        eprintln!(
            "tenant figures [{}]: peak RSS {hwm:.1} MiB (VmHWM; bound {RSS_BOUND_MIB} MiB); \
             victim sync latency: {}; test wall time {:.1} s",
            self.test,
            figures.join("; "),
            self.started.elapsed().as_secs_f64()
        );
        let Arena {
            controller,
            home,
            victim,
            tenant,
            ..
        } = self;
        drop(controller);
        let mut cleanup = Vec::new();
        for ns in [tenant, victim, home] {
            if let Err(err) = ns.cleanup().await {
                cleanup.push(format!("{err:#}"));
            }
        }
        failures.extend(cleanup);
        if failures.is_empty() {
            Ok(())
        } else {
            bail!(
                "{} hostile-tenant check(s) failed:\n- {}",
                failures.len(),
                failures.join("\n- ")
            )
        }
    }

    async fn check_attacker_confined(&self) -> anyhow::Result<()> {
        let own: Api<SealedSecret> = self.tenant_api();
        own.list(&ListParams::default())
            .await
            .context("the attacker cannot list SealedSecrets in its own namespace")?;
        for ns in [self.victim.name(), self.home.name()] {
            let sealed: Api<SealedSecret> = Api::namespaced(self.attacker.clone(), ns);
            let secrets: Api<Secret> = Api::namespaced(self.attacker.clone(), ns);
            let denied = [
                forbidden(sealed.list(&ListParams::default()).await.map(drop)),
                forbidden(secrets.list(&ListParams::default()).await.map(drop)),
                forbidden(secrets.get_opt("anything").await.map(drop)),
            ];
            if !denied.iter().all(|d| *d) {
                bail!("the attacker is not confined: not every request to namespace {ns} got 403");
            }
        }
        Ok(())
    }

    async fn create_victims(&self) -> anyhow::Result<()> {
        let ns = self.victim.name();
        let api: Api<SealedSecret> = Api::namespaced(self.cluster.client(), ns);
        for i in 0..VICTIMS {
            let (name, value) = (format!("v{i}"), format!("v{i}-initial"));
            api.create(
                &PostParams::default(),
                &sealed(&self.cert, ns, &name, &[("k", &value)], None)?,
            )
            .await?;
            lock(&self.victims).insert(name, value);
        }
        self.wait_clean(ns).await
    }

    /// Waits until [`Arena::problems`] finds none in `ns`: a lie (or a victim out of sync)
    /// that outlives the wait fails.
    async fn wait_clean(&self, ns: &str) -> anyhow::Result<()> {
        let last = std::cell::RefCell::new(Vec::new());
        let waited = self
            .wait(&format!("every status in {ns} to be true"), || async {
                let problems = self.problems(ns).await?;
                let done = problems.is_empty();
                *last.borrow_mut() = problems;
                Ok(done.then_some(()))
            })
            .await;
        waited.with_context(|| format!("in namespace {ns}: {:?}", last.borrow()))
    }

    /// Objects of `ns` that say `Synced=True` for their generation while their Secret is not
    /// what they hold, and in the victim's namespace every victim not in sync (named with the
    /// reason, never with values).
    async fn problems(&self, ns: &str) -> anyhow::Result<Vec<String>> {
        let objects = Api::<SealedSecret>::namespaced(self.cluster.client(), ns)
            .list(&ListParams::default())
            .await?;
        let secrets = Api::<Secret>::namespaced(self.cluster.client(), ns)
            .list(&ListParams::default())
            .await?;
        let data: BTreeMap<String, Secret> = secrets
            .items
            .into_iter()
            .map(|s| (s.name_any(), s))
            .collect();
        let victims = ns == self.victim.name();
        let expected: BTreeMap<String, Expect> = if victims {
            lock(&self.victims)
                .iter()
                .map(|(n, v)| (n.clone(), Expect::Data(vec![("k".into(), v.clone())])))
                .collect()
        } else {
            lock(&self.expected).clone()
        };
        let mut problems = Vec::new();
        let mut synced = Vec::new();
        for object in &objects.items {
            let name = object.name_any();
            if synced_status(object).as_deref() != Some("True")
                || observed(object) != object.metadata.generation
            {
                continue;
            }
            let generation = object.metadata.generation.unwrap_or_default();
            match expected.get(&name) {
                None => problems.push(format!("{name}: not tracked by the test, yet Synced=True")),
                Some(Expect::Never) => problems.push(format!(
                    "{name}: cannot be unsealed, yet Synced=True for generation {generation}"
                )),
                Some(Expect::Data(items)) => {
                    let items: Vec<(&str, &str)> = items
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    if data.get(&name).is_some_and(|s| data_equals(s, &items)) {
                        synced.push(name);
                    } else {
                        problems.push(format!(
                            "{name}: Synced=True for generation {generation} but its Secret does \
                             not hold what it seals"
                        ));
                    }
                }
            }
        }
        if victims {
            let behind = expected.keys().filter(|name| !synced.contains(name));
            problems.extend(behind.map(|name| format!("victim {name}: not in sync")));
        }
        Ok(problems)
    }

    /// Whether victim `name` is `Synced=True` for `generation` with Secret data `k = value`.
    async fn victim_in_sync(
        &self,
        name: &str,
        generation: i64,
        value: &str,
    ) -> anyhow::Result<bool> {
        let ns = self.victim.name();
        let object = Api::<SealedSecret>::namespaced(self.cluster.client(), ns)
            .get_opt(name)
            .await?;
        if !object.is_some_and(|o| {
            synced_status(&o).as_deref() == Some("True") && observed(&o) == Some(generation)
        }) {
            return Ok(false);
        }
        let secret = Api::<Secret>::namespaced(self.cluster.client(), ns)
            .get_opt(name)
            .await?;
        Ok(secret.is_some_and(|s| data_equals(&s, &[("k", value)])))
    }

    /// Whether the API listener answers `/healthz` now.
    pub async fn api_healthy(&self) -> bool {
        http_get(&self.api_addr, "/healthz").await.as_deref() == Some("ok\n")
    }

    /// Whether the metrics listener answers `/healthz` now.
    pub async fn metrics_healthy(&self) -> bool {
        http_get(&self.metrics_addr, "/healthz").await.as_deref() == Some("ok\n")
    }
}
