//! Running sealant-controller processes against the test control plane, and the helpers the
//! controller e2e tests share: sealing fixtures, waiting for Secrets and status, metrics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use sealant_controller::crd::SealedSecret;
use sealant_core::keysecret::KEY_LABEL;
use sealant_core::{Certificate, Scope, SealOptions, seal_secret};

use crate::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, repo_file, wait_for};

/// How to start a controller process.
pub struct Launch<'a> {
    /// The kubeconfig it uses.
    pub kubeconfig: &'a std::path::Path,
    /// Its namespace (keys, lease) and the only one it watches.
    pub namespace: &'a str,
    /// Flags appended after the defaults.
    pub extra: &'a [&'a str],
    /// `--listen-addr`.
    pub api_addr: &'a str,
    /// `--listen-metrics-addr`.
    pub metrics_addr: &'a str,
    /// Run inside this network namespace.
    pub netns: Option<&'a crate::netns::NetNs>,
}

/// A controller process; killed when dropped. Its log is kept in a file for failures.
///
/// It runs at `--log-level TRACE` (through `SEALED_SECRETS_LOG_LEVEL`, so `--log-level` among a
/// test's flags still wins), and dropping it checks its whole log and its metrics page for the
/// leak canary ([`crate::canary`]): a find fails the test.
pub struct ControllerProcess {
    /// The process.
    pub child: Child,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
    /// The replica's name (`POD_NAME`), which starts its leader-election identity.
    pub identity: String,
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        // Metrics first, while it still serves them (a frozen or dead one answers nothing).
        let metrics = self
            .child
            .try_wait()
            .ok()
            .flatten()
            .is_none()
            .then(|| self.listening("metrics"))
            .flatten()
            .and_then(|addr| get_blocking(&addr, "/metrics", Duration::from_secs(3)));
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(page) = metrics {
            crate::canary::fail_loudly(crate::canary::check(
                &format!("metrics of controller {}", self.identity),
                &page,
            ));
        }
        crate::canary::fail_loudly(self.check_log());
    }
}

impl ControllerProcess {
    /// Starts a controller confined to `namespace` (keys there too), 2048-bit keys, API and
    /// metrics on free loopback ports; `extra` flags are appended.
    pub fn start(cluster: &TestCluster, namespace: &str, extra: &[&str]) -> anyhow::Result<Self> {
        Self::start_with_metrics(cluster, namespace, extra, "127.0.0.1:0")
    }

    /// Like [`ControllerProcess::start`], with the metrics server on `metrics_addr`.
    pub fn start_with_metrics(
        cluster: &TestCluster,
        namespace: &str,
        extra: &[&str],
        metrics_addr: &str,
    ) -> anyhow::Result<Self> {
        Self::start_with_addrs(cluster, namespace, extra, "127.0.0.1:0", metrics_addr)
    }

    /// Like [`ControllerProcess::start`], with the API server on `api_addr` and the metrics
    /// server on `metrics_addr`.
    pub fn start_with_addrs(
        cluster: &TestCluster,
        namespace: &str,
        extra: &[&str],
        api_addr: &str,
        metrics_addr: &str,
    ) -> anyhow::Result<Self> {
        Self::launch(&Launch {
            kubeconfig: cluster.kubeconfig_path(),
            namespace,
            extra,
            api_addr,
            metrics_addr,
            netns: None,
        })
    }

    /// Starts a controller as `launch` says.
    pub fn launch(launch: &Launch<'_>) -> anyhow::Result<Self> {
        Self::launch_with_env(launch, &[])
    }

    /// [`ControllerProcess::launch`] with extra environment variables (credentials a test
    /// cannot pass as flags, e.g. AWS_ACCESS_KEY_ID for key protection).
    pub fn launch_with_env(launch: &Launch<'_>, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        static REPLICAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let binary = std::env::var_os("SEALANT_CONTROLLER_BIN").context(
            "SEALANT_CONTROLLER_BIN is not set: run the e2e suite with `bash tests/e2e.sh`",
        )?;
        let namespace = launch.namespace;
        let identity = format!(
            "{namespace}-{}",
            REPLICAS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let log = std::env::temp_dir().join(format!("sealant-controller-{identity}.log"));
        let file = std::fs::File::create(&log)?;
        let mut command = match launch.netns {
            Some(netns) => netns.command(binary),
            None => Command::new(binary),
        };
        let child = command
            .arg("--kubeconfig")
            .arg(launch.kubeconfig)
            .args([
                "--controller-namespace",
                namespace,
                "--all-namespaces=false",
            ])
            .args([
                "--listen-addr",
                launch.api_addr,
                "--listen-metrics-addr",
                launch.metrics_addr,
                "--key-size",
                "2048",
            ])
            .args(launch.extra)
            .envs(env.iter().copied())
            .env("POD_NAME", &identity)
            .env("SEALED_SECRETS_LOG_LEVEL", "TRACE")
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .spawn()
            .context("starting sealant-controller")?;
        Ok(Self {
            child,
            log,
            identity,
        })
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Checks the log so far for the leak canary (dropping the process does it too).
    ///
    /// # Errors
    /// [`crate::canary::Leak`] when the canary is in it.
    pub fn check_log(&self) -> Result<(), crate::canary::Leak> {
        let bytes = std::fs::read(&self.log).unwrap_or_default();
        crate::canary::check_bytes(&format!("log of controller {}", self.identity), &bytes)
    }

    /// The address its `server` (`api` or `metrics`) listens on, from its log; `None` until
    /// it logged it. Useful when it was started on port 0.
    #[must_use]
    pub fn listening(&self, server: &str) -> Option<String> {
        listening_addr(&self.log(), server)
    }
}

/// The `addr` of the last `listening` line of `server` in a controller log (text or JSON).
fn listening_addr(log: &str, server: &str) -> Option<String> {
    let (text, json) = (
        format!("server=\"{server}\""),
        format!("\"server\":\"{server}\""),
    );
    log.lines()
        .rev()
        .filter(|line| line.contains("listening") && (line.contains(&text) || line.contains(&json)))
        .find_map(|line| {
            let rest = line
                .split_once("addr=")
                .or_else(|| line.split_once("\"addr\":\""))?
                .1;
            let addr: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"')
                .collect();
            addr.parse::<std::net::SocketAddr>()
                .ok()
                .map(|a| a.to_string())
        })
}

/// A bare HTTP/1.1 GET; the body on 200. Blocking, for `Drop`.
fn get_blocking(addr: &str, path: &str, timeout: Duration) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// The test control plane with the generated CRD installed.
pub async fn cluster_with_crd() -> anyhow::Result<TestCluster> {
    let cluster = TestCluster::from_env().await?;
    cluster.install_crd(&repo_file("deploy/crd.yaml")).await?;
    Ok(cluster)
}

/// The controller's newest certificate, read from its key Secrets (as an admin would).
pub async fn controller_cert(
    cluster: &TestCluster,
    ns: &TestNamespace,
) -> anyhow::Result<Certificate> {
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    wait_for("the controller's first key", DEFAULT_TIMEOUT, || async {
        let keys = secrets
            .list(&ListParams::default().labels(&format!("{KEY_LABEL}=active")))
            .await?;
        Ok(keys.items.iter().find_map(|s| {
            let pem = s.data.as_ref()?.get("tls.crt")?;
            Certificate::from_pem(&pem.0).ok()
        }))
    })
    .await
}

/// A SealedSecret (as the controller's CRD type) of a Secret with `items`, labelled `app: demo`,
/// sealed to `cert`.
///
/// Every value is sealed with the suite's leak canary in front of it
/// ([`crate::canary::embed`]), so the Secret the controller makes holds `CANARY…value`.
/// [`wait_secret_data`] strips it again; a test that reads Secret data itself compares
/// [`crate::canary::strip_bytes`] of it, and one that needs the exact bytes (say, a template
/// guessing the value) uses [`sealed_exact`].
pub fn sealed(
    cert: &Certificate,
    namespace: &str,
    name: &str,
    items: &[(&str, &str)],
    scope: Option<Scope>,
) -> anyhow::Result<SealedSecret> {
    let items: Vec<(&str, String)> = items
        .iter()
        .map(|(k, v)| (*k, crate::canary::embed(v)))
        .collect();
    let items: Vec<(&str, &str)> = items.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sealed_exact(cert, namespace, name, &items, scope)
}

/// [`sealed`] without the canary: the values exactly as given.
pub fn sealed_exact(
    cert: &Certificate,
    namespace: &str,
    name: &str,
    items: &[(&str, &str)],
    scope: Option<Scope>,
) -> anyhow::Result<SealedSecret> {
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels: {{app: demo}}\nstringData:\n{}",
        items
            .iter()
            .map(|(k, v)| format!("  {k}: {v:?}\n"))
            .collect::<String>()
    );
    let secret = sealant_core::object::read_secrets(&yaml)?.remove(0);
    let core = seal_secret(
        secret,
        cert.public_key(),
        &SealOptions {
            scope,
            default_namespace: namespace.into(),
            ..SealOptions::default()
        },
    )?;
    Ok(serde_json::from_value(serde_json::to_value(core)?)?)
}

/// A Secret's data with the leak canary that [`sealed`] adds stripped from each value.
#[must_use]
pub fn stripped_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), crate::canary::strip_bytes(&v.0)))
        .collect()
}

/// Waits until Secret `name` holds exactly `expected`, once the leak canary that [`sealed`]
/// adds is stripped from both sides (raw or base64: so templated values compare too).
pub async fn wait_secret_data(
    api: &Api<Secret>,
    name: &str,
    expected: &[(&str, &str)],
) -> anyhow::Result<Secret> {
    let expected: BTreeMap<String, Vec<u8>> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), crate::canary::strip(v).into_bytes()))
        .collect();
    wait_for(
        &format!("Secret {name} with the expected data"),
        DEFAULT_TIMEOUT,
        || async {
            let Some(secret) = api.get_opt(name).await? else {
                return Ok(None);
            };
            Ok((stripped_data(&secret) == expected).then_some(secret))
        },
    )
    .await
}

/// Replaces SealedSecret `name` with `object` at the latest resourceVersion, as `kubectl replace`
/// after a fresh read would. The controller writes the status concurrently (its status write
/// follows the Secret's), so a 409 Conflict means "read again": tried up to five times.
pub async fn replace_sealed(
    api: &Api<SealedSecret>,
    name: &str,
    mut object: SealedSecret,
) -> anyhow::Result<SealedSecret> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        object.metadata.resource_version = api.get(name).await?.metadata.resource_version;
        match api
            .replace(name, &kube::api::PostParams::default(), &object)
            .await
        {
            Err(kube::Error::Api(status)) if status.code == 409 && attempt < 5 => continue,
            other => return other.with_context(|| format!("replacing SealedSecret {name}")),
        }
    }
}

/// Waits until `name` reports `Synced=status` for `generation`.
pub async fn wait_synced(
    api: &Api<SealedSecret>,
    name: &str,
    status: &str,
    generation: i64,
) -> anyhow::Result<SealedSecret> {
    wait_for(
        &format!("{name} Synced={status} at generation {generation}"),
        DEFAULT_TIMEOUT,
        || async {
            let object = api.get(name).await?;
            let status_ok = object.status.as_ref().is_some_and(|s| {
                s.observed_generation == Some(generation)
                    && s.conditions
                        .iter()
                        .flatten()
                        .any(|c| c.type_ == "Synced" && c.status == status)
            });
            Ok(status_ok.then_some(object))
        },
    )
    .await
}

/// A loopback address with a port that was free a moment ago.
pub fn free_local_addr() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// The metrics page, fetched with a bare HTTP/1.1 GET; `None` while the server is not up.
pub async fn fetch_metrics(addr: &str) -> Option<String> {
    http_get(addr, "/metrics").await
}

/// A bare HTTP/1.1 GET of `path`; the body on 200, `None` otherwise or while the server is not up.
/// Panics (fails the test) when the body holds the leak canary ([`crate::canary`]).
pub async fn http_get(addr: &str, path: &str) -> Option<String> {
    let (addr, path) = (addr.to_owned(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let timeout = std::time::Duration::from_secs(10);
        let mut stream = std::net::TcpStream::connect_timeout(&addr.parse().ok()?, timeout).ok()?;
        stream.set_read_timeout(Some(timeout)).ok()?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
    })
    .await
    .ok()?
    .inspect(|body| crate::canary::fail_loudly(crate::canary::check("an HTTP answer", body)))
}

/// The value of one series (`name{labels}` exactly as exposed); absent counts as 0.
pub fn metric_value(page: &str, series: &str) -> f64 {
    page.lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .next()
        .unwrap_or(0.0)
}

/// Upstream's reconcile counter.
pub const UNSEAL_REQUESTS: &str = "sealed_secrets_controller_unseal_requests_total";
/// RSA private-key operations made while reconciling.
pub const RECONCILE_RSA: &str = "sealant_unseal_rsa_operations_total{source=\"reconcile\"}";

/// Waits until the controller has seen at least `requests` reconciles; returns the page.
pub async fn wait_requests(addr: &str, requests: f64) -> anyhow::Result<String> {
    wait_for(
        &format!("{requests} unseal requests on {addr}"),
        DEFAULT_TIMEOUT,
        || async {
            Ok(fetch_metrics(addr)
                .await
                .filter(|page| metric_value(page, UNSEAL_REQUESTS) >= requests))
        },
    )
    .await
}

/// Stores `key`/`cert` (test vector files under the repository) as an upstream-format key
/// Secret `name` in `namespace`, as an administrator restoring or importing a key would.
pub async fn add_key_secret(
    cluster: &TestCluster,
    namespace: &str,
    name: &str,
    key_file: &str,
    cert_file: &str,
) -> anyhow::Result<(sealant_core::PrivateKey, Certificate)> {
    let key = sealant_core::PrivateKey::from_pem(&std::fs::read(repo_file(key_file))?)?;
    let cert = Certificate::from_pem(&std::fs::read(repo_file(cert_file))?)?;
    let mut key_secret = sealant_core::keysecret::key_secret(
        namespace,
        "sealed-secrets-key",
        &key,
        &cert,
        &BTreeMap::new(),
        &BTreeMap::new(),
    )?;
    key_secret.metadata.name = Some(name.into());
    key_secret.metadata.extra.remove("generateName");
    let key_secret: Secret = serde_json::from_value(serde_json::to_value(&key_secret)?)?;
    Api::<Secret>::namespaced(cluster.client(), namespace)
        .create(&kube::api::PostParams::default(), &key_secret)
        .await?;
    Ok((key, cert))
}

/// A selector-less Service `name` with one port named `http` (8080), as the controller's
/// Service looks to `sealant cert`: endpoints, if any, are the caller's to add.
pub async fn create_controller_service(
    client: kube::Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
    let service = Service {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..kube::api::ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    Api::<Service>::namespaced(client, namespace)
        .create(&kube::api::PostParams::default(), &service)
        .await?;
    Ok(())
}

/// Name of the controller Service [`ProxiedController`] makes (upstream's, the CLI's default).
pub const PROXIED_SERVICE: &str = "sealed-secrets-controller";
const PROXIED_POD: &str = "sealed-secrets-controller-0";

/// A controller reached the way users reach it: through the API server's service proxy. The
/// proxy refuses loopback endpoints, so the controller runs in a test-made network namespace
/// ([`crate::netns`]) with an address of its own, at port 8080 (API) and 8081 (metrics), and a
/// selector-less Service [`PROXIED_SERVICE`] with hand-made Endpoints points at it. The CLI
/// reaches it with the admin kubeconfig and `--controller-namespace` = the namespace.
pub struct ProxiedController {
    /// The running controller (replace it with [`ProxiedController::restart`]).
    pub process: ControllerProcess,
    namespace: String,
    extra: Vec<String>,
    kubeconfig: PathBuf,
    // Declared last: dropped after the process that runs inside it.
    netns: crate::netns::NetNs,
}

impl ProxiedController {
    /// Starts one for `namespace` (keys, watch and Service there) with `extra` flags.
    ///
    /// # Errors
    /// Without root or iproute2, or when the cluster refuses the objects.
    pub async fn start(
        cluster: &TestCluster,
        namespace: &str,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let mut netns = crate::netns::NetNs::create()?;
        let apiserver: std::net::SocketAddr = {
            let url = &cluster.config().cluster_url;
            let host = url.host().context("the cluster URL has no host")?;
            let port = url.port_u16().unwrap_or(443);
            format!("{host}:{port}").parse()?
        };
        let bridge = netns.bridge_to(apiserver)?;
        let kubeconfig = std::env::temp_dir().join(format!("{}.kubeconfig", netns.name()));
        let mut config = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
        for named in &mut config.clusters {
            if let Some(c) = named.cluster.as_mut() {
                c.server = Some(format!("https://127.0.0.1:{bridge}"));
            }
        }
        std::fs::write(&kubeconfig, sealant_core::yaml::to_string(&config)?)?;
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        let process = Self::launch(&netns, &kubeconfig, namespace, &extra)?;
        expose_controller(cluster.client(), namespace, netns.ip()).await?;
        Ok(Self {
            process,
            namespace: namespace.to_owned(),
            extra,
            kubeconfig,
            netns,
        })
    }

    fn launch(
        netns: &crate::netns::NetNs,
        kubeconfig: &std::path::Path,
        namespace: &str,
        extra: &[String],
    ) -> anyhow::Result<ControllerProcess> {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        ControllerProcess::launch(&Launch {
            kubeconfig,
            namespace,
            extra: &extra,
            api_addr: &format!("{}:8080", netns.ip()),
            metrics_addr: &format!("{}:8081", netns.ip()),
            netns: Some(netns),
        })
    }

    /// Stops the controller (SIGKILL, and the leak check of dropping it) and starts a new one
    /// with the same flags and addresses.
    ///
    /// # Errors
    /// When it cannot be started.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.process = Self::launch(&self.netns, &self.kubeconfig, &self.namespace, &self.extra)?;
        Ok(())
    }

    /// [`ProxiedController::restart`] with `extra` as its flags from now on.
    ///
    /// # Errors
    /// When it cannot be started.
    pub fn restart_with(&mut self, extra: &[&str]) -> anyhow::Result<()> {
        self.extra = extra.iter().map(|s| (*s).to_owned()).collect();
        self.restart()
    }

    /// SIGKILLs the controller now (dropping the value later does nothing more to it).
    pub fn kill(&mut self) {
        let _ = self.process.child.kill();
        let _ = self.process.child.wait();
    }

    /// Where its metrics are served, from the host.
    #[must_use]
    pub fn metrics_addr(&self) -> String {
        format!("{}:8081", self.netns.ip())
    }

    /// Where its API is served, from the host.
    #[must_use]
    pub fn api_addr(&self) -> String {
        format!("{}:8080", self.netns.ip())
    }
}

impl Drop for ProxiedController {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// A selector-less Service [`PROXIED_SERVICE`] in `namespace` with Endpoints at `ip:8080`, as
/// the API server's service proxy needs them to reach a controller outside any Pod.
///
/// # Errors
/// When the cluster refuses an object.
pub async fn expose_controller(
    client: kube::Client,
    namespace: &str,
    ip: std::net::Ipv4Addr,
) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::{
        EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod,
    };
    use kube::api::{Patch, PatchParams, PostParams};
    create_controller_service(client.clone(), namespace, PROXIED_SERVICE).await?;
    // The proxy only dials an endpoint whose targetRef is a Pod that has the address: a
    // stand-in Pod (never scheduled; there is no kubelet) with the namespace's IP in its status.
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": { "name": PROXIED_POD },
        "spec": { "containers": [{ "name": "controller", "image": "sealant-controller" }] },
    }))?;
    // A fresh namespace has no `default` ServiceAccount until the controller-manager makes
    // one, and Pod admission answers ServerTimeout until then: create it, and retry.
    let accounts: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), namespace);
    let account = serde_json::from_value(serde_json::json!({ "metadata": { "name": "default" } }))?;
    match accounts.create(&PostParams::default(), &account).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    let mut attempts = 0;
    loop {
        match pods.create(&PostParams::default(), &pod).await {
            Ok(_) => break,
            Err(kube::Error::Api(e)) if e.reason == "ServerTimeout" && attempts < 60 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let status = serde_json::json!({
        "status": { "podIP": ip.to_string(), "podIPs": [{ "ip": ip.to_string() }] },
    });
    pods.patch_status(PROXIED_POD, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    let endpoint = Endpoints {
        metadata: kube::api::ObjectMeta {
            name: Some(PROXIED_SERVICE.into()),
            ..kube::api::ObjectMeta::default()
        },
        subsets: Some(vec![EndpointSubset {
            addresses: Some(vec![EndpointAddress {
                ip: ip.to_string(),
                target_ref: Some(ObjectReference {
                    kind: Some("Pod".into()),
                    namespace: Some(namespace.into()),
                    name: Some(PROXIED_POD.into()),
                    ..ObjectReference::default()
                }),
                ..EndpointAddress::default()
            }]),
            ports: Some(vec![EndpointPort {
                name: Some("http".into()),
                port: 8080,
                ..EndpointPort::default()
            }]),
            ..EndpointSubset::default()
        }]),
    };
    Api::<Endpoints>::namespaced(client, namespace)
        .create(&PostParams::default(), &endpoint)
        .await?;
    Ok(())
}

/// The sum of every series of metric `name` whose labels contain all of `labels` (each
/// `key="value"`); 0 when there is none.
#[must_use]
pub fn metric_sum(page: &str, name: &str, labels: &[&str]) -> f64 {
    page.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (series, value) = rest.rsplit_once(' ')?;
            (series.is_empty() || series.starts_with('{'))
                .then_some(())
                .filter(|()| labels.iter().all(|l| series.contains(l)))?;
            value.parse::<f64>().ok()
        })
        .sum()
}

/// Key Secrets of one kind, as name-less (type, data) pairs, sorted.
pub async fn key_material(
    secrets: &Api<Secret>,
    label: &str,
) -> anyhow::Result<Vec<(Option<String>, Vec<(String, Vec<u8>)>)>> {
    let list = secrets.list(&ListParams::default().labels(label)).await?;
    let mut all: Vec<_> = list
        .items
        .into_iter()
        .map(|s| {
            let data = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            (s.type_, data)
        })
        .collect();
    all.sort();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_addresses_come_from_text_and_json_logs() {
        let text = "2026-01-01T00:00:00Z  INFO listening server=\"api\" addr=127.0.0.1:40001\n\
                    2026-01-01T00:00:00Z  INFO listening server=\"metrics\" addr=127.0.0.1:40002\n";
        assert_eq!(
            listening_addr(text, "metrics").as_deref(),
            Some("127.0.0.1:40002")
        );
        assert_eq!(
            listening_addr(text, "api").as_deref(),
            Some("127.0.0.1:40001")
        );
        let json = r#"{"level":"INFO","fields":{"message":"listening","server":"metrics","addr":"10.0.0.2:8081"}}"#;
        assert_eq!(
            listening_addr(json, "metrics").as_deref(),
            Some("10.0.0.2:8081")
        );
        assert_eq!(listening_addr("nothing", "api"), None);
    }

    #[test]
    fn metric_sums_add_matching_series() {
        let page = "# HELP x\n\
                    sealed_secrets_controller_http_requests_total{path=\"/v1/rotate\",code=\"200\",method=\"post\"} 3\n\
                    sealed_secrets_controller_http_requests_total{path=\"/v1/rotate\",code=\"500\",method=\"post\"} 1\n\
                    sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"post\"} 7\n\
                    sealed_secrets_controller_http_requests_totalx 9\n";
        let name = "sealed_secrets_controller_http_requests_total";
        assert_eq!(metric_sum(page, name, &["path=\"/v1/rotate\""]), 4.0);
        assert_eq!(metric_sum(page, name, &[]), 11.0);
        assert_eq!(metric_sum(page, name, &["path=\"/v1/cert.pem\""]), 0.0);
    }

    #[test]
    fn sealed_values_carry_the_canary_and_sealed_exact_ones_do_not() {
        let read = |path: &str| std::fs::read(repo_file(path)).expect("test vector");
        let cert = Certificate::from_pem(&read("core/tests/vectors/keys/other-2048.crt"))
            .expect("a certificate");
        let mut ring = sealant_core::KeyRing::default();
        ring.insert(
            sealant_core::PrivateKey::from_pem(&read("core/tests/vectors/keys/other-2048.key"))
                .expect("a key"),
        );
        let value_of = |object: SealedSecret| {
            let core: sealant_core::SealedSecret =
                serde_json::from_value(serde_json::to_value(object).expect("json")).expect("core");
            let unsealed =
                sealant_core::unseal(&core, &ring, sealant_core::UnsealOptions::default())
                    .expect("opens");
            unsealed.data()["k"].expose_secret().to_vec()
        };
        let with = sealed(&cert, "ns", "app", &[("k", "v")], None).expect("sealed");
        assert_eq!(value_of(with), crate::canary::embed("v").into_bytes());
        let without = sealed_exact(&cert, "ns", "app", &[("k", "v")], None).expect("sealed");
        assert_eq!(value_of(without), b"v");
    }
}
