//! Running sealant-controller processes against the test control plane, and the helpers the
//! controller e2e tests share: sealing fixtures, waiting for Secrets and status, metrics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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
        let _ = self.child.kill();
        let _ = self.child.wait();
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
            .env("POD_NAME", &identity)
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
pub fn sealed(
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

/// Waits until Secret `name` holds exactly `expected`.
pub async fn wait_secret_data(
    api: &Api<Secret>,
    name: &str,
    expected: &[(&str, &str)],
) -> anyhow::Result<Secret> {
    let expected: BTreeMap<String, Vec<u8>> = expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    wait_for(
        &format!("Secret {name} with the expected data"),
        DEFAULT_TIMEOUT,
        || async {
            let Some(secret) = api.get_opt(name).await? else {
                return Ok(None);
            };
            let data: BTreeMap<String, Vec<u8>> = secret
                .data
                .clone()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            Ok((data == expected).then_some(secret))
        },
    )
    .await
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
