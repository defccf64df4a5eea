//! Support for sealant's end-to-end tests.
//!
//! The tests run against the project's own control plane (etcd,
//! kube-apiserver and kube-controller-manager on loopback), started by
//! `tests/cluster/up.sh`. `bash tests/e2e.sh` builds it, starts it, runs every
//! e2e test with [`KUBECONFIG_ENV`] pointing at its admin kubeconfig, and tears
//! it down again.
//!
//! - [`TestCluster`] attaches to that control plane and hands out clients.
//! - [`TestNamespace`] is a throwaway namespace per test.
//! - [`wait_for`] polls for a condition, with a timeout that only guards
//!   against hangs.
//! - [`canary`] is the suite-wide leak canary: every value the helpers seal
//!   carries it, and the helpers fail a test that lets it out (controller
//!   logs and metrics, namespace events and statuses, HTTP answers, CLI
//!   output).
//! - [`cli`] runs the built `sealant` binary with its output checked.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub mod browser;
pub mod canary;
pub mod cli;
pub mod controller;
pub mod faults;
pub mod netns;
pub mod tenant;

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

/// Environment variable holding the path of the test control plane's admin
/// kubeconfig. `tests/e2e.sh` sets it.
pub const KUBECONFIG_ENV: &str = "SEALANT_E2E_KUBECONFIG";

/// Label put on every namespace made by [`TestNamespace`], so leftovers are
/// easy to find.
pub const TEST_NAMESPACE_LABEL: &str = "sealant.dev/e2e-test";

/// Field manager for server-side apply calls made by the test support.
pub const FIELD_MANAGER: &str = "sealant-tests";

/// How long [`wait_for`] callers wait by default. Generous on purpose: it only
/// turns a hang into a failure, tests never assert on elapsed time. The
/// garbage collector, for one, needs up to ~30 s to notice a new CRD.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How often [`wait_for`] polls.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// The test control plane, reached through its admin kubeconfig.
#[derive(Clone)]
pub struct TestCluster {
    config: Config,
    client: Client,
    kubeconfig: PathBuf,
}

impl std::fmt::Debug for TestCluster {
    // Config holds the admin token: show only where it came from.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster")
            .field("kubeconfig", &self.kubeconfig)
            .field("cluster_url", &self.config.cluster_url)
            .finish_non_exhaustive()
    }
}

impl TestCluster {
    /// Attaches to the cluster whose kubeconfig [`KUBECONFIG_ENV`] names.
    ///
    /// # Errors
    ///
    /// Fails, rather than skipping, when the variable is unset: e2e tests are
    /// run by `bash tests/e2e.sh`, which starts the control plane and sets it.
    /// Also fails when the kubeconfig cannot be read or used.
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::from_env_value(std::env::var_os(KUBECONFIG_ENV)).await
    }

    /// [`TestCluster::from_env`] with the variable's value passed in.
    async fn from_env_value(value: Option<OsString>) -> anyhow::Result<Self> {
        match value {
            Some(path) if !path.is_empty() => Self::from_kubeconfig(Path::new(&path)).await,
            _ => bail!(
                "{KUBECONFIG_ENV} is not set: e2e tests need the project's test control plane; \
                 run them with `bash tests/e2e.sh`"
            ),
        }
    }

    /// Attaches to the cluster described by the kubeconfig at `path`.
    ///
    /// # Errors
    ///
    /// Fails when the kubeconfig cannot be read or turned into a client.
    pub async fn from_kubeconfig(path: &Path) -> anyhow::Result<Self> {
        let kubeconfig = Kubeconfig::read_from(path)
            .with_context(|| format!("reading kubeconfig {}", path.display()))?;
        let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .with_context(|| format!("loading kubeconfig {}", path.display()))?;
        // The test control plane is on loopback: never route through a proxy
        // taken from HTTPS_PROXY.
        config.proxy_url = None;
        let client = Client::try_from(config.clone()).context("building a kube client")?;
        Ok(Self {
            config,
            client,
            kubeconfig: path.to_owned(),
        })
    }

    /// A client with cluster-admin rights.
    #[must_use]
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The client configuration, for building further clients.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Path of the admin kubeconfig, e.g. to hand to `kubectl` or a binary
    /// under test.
    #[must_use]
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Creates a fresh namespace whose name starts with `sealant-e2e-{prefix}-`.
    ///
    /// # Errors
    ///
    /// Fails when the API server refuses to create it.
    pub async fn namespace(&self, prefix: &str) -> anyhow::Result<TestNamespace> {
        TestNamespace::create(self, prefix).await
    }

    /// Applies a CustomResourceDefinition from a YAML file (server-side apply,
    /// so it is idempotent and tests may race to install the same CRD), then
    /// waits until it is established.
    ///
    /// # Errors
    ///
    /// Fails when the file is not a CRD, the API server rejects it, or it is
    /// not established within [`DEFAULT_TIMEOUT`].
    pub async fn install_crd(&self, path: &Path) -> anyhow::Result<CustomResourceDefinition> {
        let yaml = std::fs::read_to_string(path)
            .with_context(|| format!("reading CRD {}", path.display()))?;
        let crd: CustomResourceDefinition = sealant_core::yaml::from_str(&yaml)
            .with_context(|| format!("parsing CRD {}", path.display()))?;
        let name = crd
            .metadata
            .name
            .clone()
            .with_context(|| format!("CRD {} has no metadata.name", path.display()))?;
        let api: Api<CustomResourceDefinition> = Api::all(self.client());
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .with_context(|| format!("applying CRD {name}"))?;
        wait_for(
            &format!("CRD {name} to be established"),
            DEFAULT_TIMEOUT,
            || async {
                let crd = api.get(&name).await?;
                Ok(is_established(&crd).then_some(crd))
            },
        )
        .await
    }
}

/// True when the CRD's `Established` condition is `True`.
fn is_established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// A namespace that exists for one test.
///
/// Call [`TestNamespace::cleanup`] at the end of a test to delete it and see
/// any error. If the test fails (panics) first, dropping the value deletes the
/// namespace anyway, on a helper thread, and only logs failures.
///
/// Either way, before it is deleted its Events, SealedSecret statuses and
/// Secret metadata are checked for the leak canary ([`canary`]): a find fails
/// the test (an error from `cleanup`, a panic from `Drop`).
pub struct TestNamespace {
    name: String,
    config: Config,
    client: Client,
    cleaned_up: bool,
}

impl std::fmt::Debug for TestNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNamespace")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestNamespace {
    async fn create(cluster: &TestCluster, prefix: &str) -> anyhow::Result<Self> {
        let name = unique_name(&format!("sealant-e2e-{prefix}"));
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some([(TEST_NAMESPACE_LABEL.to_owned(), "true".to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(cluster.client())
            .create(&PostParams::default(), &namespace)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        Ok(Self {
            name,
            config: cluster.config.clone(),
            client: cluster.client(),
            cleaned_up: false,
        })
    }

    /// The namespace's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// An [`Api`] for a namespaced resource in this namespace.
    #[must_use]
    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Deletes the namespace. The namespace controller then removes its
    /// contents in the background; this does not wait for that.
    ///
    /// # Errors
    ///
    /// Fails when the API server refuses the deletion.
    pub async fn cleanup(mut self) -> anyhow::Result<()> {
        self.cleaned_up = true;
        let scanned = scan_namespace(&self.client, &self.name).await;
        delete_namespace(self.client.clone(), &self.name).await?;
        Ok(scanned?)
    }

    /// Checks the namespace's Events, SealedSecret statuses and Secret metadata for the leak
    /// canary now (cleaning up does it too).
    ///
    /// # Errors
    /// [`canary::Leak`] when the canary is there.
    pub async fn check_leaks(&self) -> Result<(), canary::Leak> {
        scan_namespace(&self.client, &self.name).await
    }
}

/// The leak-canary check of [`TestNamespace`]. The API server being unreachable is only
/// warned about: the objects cannot be read, and the test has failed for that already.
async fn scan_namespace(client: &Client, namespace: &str) -> Result<(), canary::Leak> {
    use k8s_openapi::api::core::v1::{Event, Secret};
    use kube::api::{ApiResource, DynamicObject, ListParams};
    let mut texts: Vec<(String, String)> = Vec::new();
    let list = ListParams::default();
    match Api::<Event>::namespaced(client.clone(), namespace)
        .list(&list)
        .await
    {
        Ok(events) => texts.push((
            format!("events of namespace {namespace}"),
            serde_json::to_string(&events.items).unwrap_or_default(),
        )),
        Err(err) => eprintln!("warning: leak canary: cannot list events in {namespace}: {err}"),
    }
    let resource = ApiResource {
        group: "bitnami.com".into(),
        version: "v1alpha1".into(),
        api_version: "bitnami.com/v1alpha1".into(),
        kind: "SealedSecret".into(),
        plural: "sealedsecrets".into(),
    };
    match Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &resource)
        .list(&list)
        .await
    {
        // The spec is what the test wrote (ciphertexts, templates); the rest is the
        // controller's and the API server's.
        Ok(objects) => texts.extend(objects.items.into_iter().map(|mut object| {
            let name = object.metadata.name.clone().unwrap_or_default();
            if let Some(fields) = object.data.as_object_mut() {
                fields.remove("spec");
            }
            (
                format!("SealedSecret {namespace}/{name} (status, metadata)"),
                serde_json::to_string(&object).unwrap_or_default(),
            )
        })),
        // No CRD installed: no SealedSecrets.
        Err(err) if is_not_found(&err) => {}
        Err(err) => {
            eprintln!("warning: leak canary: cannot list SealedSecrets in {namespace}: {err}")
        }
    }
    match Api::<Secret>::namespaced(client.clone(), namespace)
        .list(&list)
        .await
    {
        // Data is where the canary belongs; metadata (the controller's annotations) is not.
        Ok(secrets) => texts.extend(secrets.items.into_iter().map(|mut secret| {
            secret.data = None;
            secret.string_data = None;
            (
                format!(
                    "metadata of Secret {namespace}/{}",
                    secret.metadata.name.clone().unwrap_or_default()
                ),
                serde_json::to_string(&secret).unwrap_or_default(),
            )
        })),
        Err(err) => eprintln!("warning: leak canary: cannot list Secrets in {namespace}: {err}"),
    }
    let mut findings = Vec::new();
    for (source, text) in &texts {
        if let Err(leak) = canary::check(source, text) {
            findings.extend(leak.0);
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(canary::Leak(findings))
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if self.cleaned_up {
            return;
        }
        // Drop cannot await, and blocking the test's runtime on its own
        // client could deadlock a current-thread runtime: use a new runtime
        // and a new client on a helper thread.
        let name = self.name.clone();
        let config = self.config.clone();
        type Outcome = (Result<(), canary::Leak>, anyhow::Result<()>);
        let outcome = std::thread::spawn(move || -> anyhow::Result<Outcome> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let client = Client::try_from(config)?;
                let scanned = scan_namespace(&client, &name).await;
                Ok((scanned, delete_namespace(client, &name).await))
            })
        })
        .join();
        match outcome {
            Ok(Ok((scanned, deleted))) => {
                if let Err(err) = deleted {
                    eprintln!("warning: deleting test namespace {}: {err:#}", self.name);
                }
                canary::fail_loudly(scanned);
            }
            Ok(Err(err)) => eprintln!("warning: deleting test namespace {}: {err:#}", self.name),
            Err(_) => eprintln!(
                "warning: deleting test namespace {}: helper thread panicked",
                self.name
            ),
        }
    }
}

async fn delete_namespace(client: Client, name: &str) -> anyhow::Result<()> {
    match Api::<Namespace>::all(client)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        // Already gone is what we wanted.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(err) => Err(err).with_context(|| format!("deleting namespace {name}")),
    }
}

/// Returns `{prefix}-{random}`: unique across tests, processes and runs, and a
/// valid DNS label as long as `prefix` is one of at most 46 characters.
#[must_use]
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    // RandomState is randomly keyed per process; mixing in the pid and a
    // counter makes names distinct within a process too.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{prefix}-{:016x}", hasher.finish())
}

/// Polls `check` until it returns `Ok(Some(value))`, and returns that value.
///
/// `check` returns `Ok(None)` for "not yet". An `Err` ends the wait at once:
/// a check that expects transient errors (say, a 404 while something is
/// created) maps them to `Ok(None)` itself. `timeout` only turns a hang into
/// a failure; use [`DEFAULT_TIMEOUT`] unless there is a reason not to.
///
/// # Errors
///
/// Returns the first error from `check`, or a timeout error naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check()
            .await
            .with_context(|| format!("while waiting for {what}"))?
        {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// True when `err` is the API server's 404 Not Found.
#[must_use]
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 404)
}

/// Path of a file under `tests/fixtures/`.
#[must_use]
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A file of the repository, e.g. `deploy/crd.yaml`.
pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn from_env_without_the_variable_fails_and_says_how_to_run() {
        let err = TestCluster::from_env_value(None)
            .await
            .expect_err("must fail without a kubeconfig");
        let message = format!("{err:#}");
        assert!(message.contains(KUBECONFIG_ENV), "{message}");
        assert!(message.contains("bash tests/e2e.sh"), "{message}");
    }

    #[tokio::test]
    async fn from_env_with_an_empty_variable_fails() {
        assert!(
            TestCluster::from_env_value(Some(OsString::new()))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn wait_for_returns_the_value_once_ready() {
        let mut calls = 0;
        let value = wait_for("the third call", DEFAULT_TIMEOUT, || {
            calls += 1;
            let ready = calls >= 3;
            async move { Ok(ready.then_some(calls)) }
        })
        .await
        .expect("ready on the third call");
        assert_eq!(value, 3);
    }

    #[tokio::test]
    async fn wait_for_times_out() {
        let err = wait_for("nothing", Duration::ZERO, || async { Ok(None::<()>) })
            .await
            .expect_err("never ready");
        assert!(format!("{err}").contains("timed out"), "{err}");
    }

    #[tokio::test]
    async fn wait_for_stops_at_the_first_error() {
        let err = wait_for("a failing check", DEFAULT_TIMEOUT, || async {
            Err::<Option<()>, _>(anyhow::anyhow!("boom"))
        })
        .await
        .expect_err("check fails");
        assert!(format!("{err:#}").contains("boom"), "{err:#}");
    }

    #[test]
    fn unique_names_differ_and_are_dns_labels() {
        let a = unique_name("sealant-e2e-smoke");
        let b = unique_name("sealant-e2e-smoke");
        assert_ne!(a, b);
        for name in [a, b] {
            assert!(name.len() <= 63, "{name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{name}"
            );
        }
    }
}
