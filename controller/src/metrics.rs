//! Prometheus metrics (docs/upstream.md, "Metrics"), served at `--listen-metrics-addr` `/metrics`.
//!
//! Upstream's metrics keep their names and labels:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealed_secrets_controller_build_info` | gauge (1) | `revision` |
//! | `sealed_secrets_controller_unseal_requests_total` | counter | – |
//! | `sealed_secrets_controller_unseal_errors_total` | counter | `reason` (fetch, unseal, update, unmanaged, status), `namespace` |
//! | `sealed_secrets_controller_condition_info` | gauge (−1 False, 0 Unknown, 1 True) | `namespace`, `name`, `condition`, `ss_app_kubernetes_io_instance` |
//! | `sealed_secrets_controller_http_requests_total` | counter | `path`, `code`, `method` |
//! | `sealed_secrets_controller_http_request_duration_seconds` | histogram (Prometheus' default buckets) | `path`, `method` |
//!
//! sealant adds:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealant_unseal_rsa_operations_total` | counter | `source` (reconcile, verify, rotate) |
//! | `sealant_sealedsecrets` | gauge: SealedSecrets per condition status | `namespace`, `condition`, `status` (True, False, Unknown) |
//! | `sealant_keys` | gauge: loaded keys (0 included) | `kind` (rsa, age), `state` (active, compromised) |
//! | `sealant_key_age_seconds` | gauge: age of each loaded key (from its order time) | `fingerprint`, `kind`, `state` |
//! | `sealant_key_renewal_seconds` | gauge: time until the newest active RSA key is one `--key-renew-period` old (negative: overdue); absent with renewal off or no active key | – |
//! | `sealant_key_sealedsecrets` | gauge: SealedSecrets whose inventory (`status.keyFingerprints`) lists the key; 0 for a loaded key nothing uses (it can be retired) | `fingerprint`, `kind`, `state` |
//! | `sealant_key_sealedsecrets_unknown` | gauge: SealedSecrets whose keys are not known yet (never unsealed by sealant, failing, or v1 blobs) | – |
//!
//! The key metrics come from the keys loaded (active and compromised: retired keys are not
//! loaded) at scrape time, on every replica. The two `sealant_key_sealedsecrets*` metrics come
//! from the leader's reconciles and only the leader reports them. A fingerprint that an
//! inventory lists but that no loaded key has (a retired or deleted key) is reported with
//! `kind="unknown", state="unloaded"`: objects that will fail once they need decrypting.
//!
//! `sealant_unseal_rsa_operations_total` counts items (one per item, one per v1 blob): for
//! `reconcile` every item it tries to open, successful or not; for verify and rotate the items
//! opened. A lower bound of the RSA decryptions made, since attempts with keys that did not fit
//! are not reported by sealant-core. It stays at zero while nothing needs decrypting (a
//! reconcile that finds the Secret in sync, by its digest, decrypts nothing).
//!
//! With `--metrics-omit-secret-labels` (docs/upstream.md, "Metrics"), `condition_info` is not
//! written at all, as upstream does, so the metrics port no longer lists SealedSecret names; the
//! same information without names stays available as `sealant_sealedsecrets`, which counts
//! objects per namespace and status.
//!
//! prometheus-client writes OpenMetrics text: counters are registered without `_total` and
//! exposed with it, the body ends with `# EOF`, and the content type is
//! [`OPENMETRICS_CONTENT_TYPE`], which Prometheus reads.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::Response;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::flags::Args;
use crate::http::{Body, Serving};
use crate::keys::{KIND_AGE, KIND_RSA, KeySnapshot, KeyStore};
use crate::reconcile::{Inventory, KeyUsage};

/// Content type of the `/metrics` answer.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Prometheus' default histogram buckets (client_golang's `DefBuckets`).
pub const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The condition `condition_info` reports (the only one SealedSecrets have).
const CONDITION_SYNCED: &str = "Synced";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    revision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    reason: String,
    namespace: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    namespace: String,
    name: String,
    condition: String,
    ss_app_kubernetes_io_instance: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusCountLabels {
    namespace: String,
    condition: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    path: String,
    code: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpDurationLabels {
    path: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerbLabels {
    verb: String,
}

/// Counts the controller's own requests to the API server by verb (`get`, `list`, `watch`,
/// `create`, `update`, `patch`, `delete`): the cost per SealedSecret, measured.
#[derive(Clone, Debug, Default)]
pub struct KubeRequests(Family<VerbLabels, Counter>);

impl KubeRequests {
    /// Counts one request.
    pub fn count<B>(&self, request: &::http::Request<B>) {
        let query = request.uri().query().unwrap_or_default();
        let verb = match *request.method() {
            ::http::Method::GET
                if query
                    .split('&')
                    .any(|p| p == "watch=true" || p == "watch=1") =>
            {
                "watch"
            }
            ::http::Method::GET => "get",
            ::http::Method::POST => "create",
            ::http::Method::PUT => "update",
            ::http::Method::PATCH => "patch",
            ::http::Method::DELETE => "delete",
            _ => "other",
        };
        self.0
            .get_or_create(&VerbLabels {
                verb: verb.to_owned(),
            })
            .inc();
    }

    /// The count for one verb.
    pub fn get(&self, verb: &str) -> u64 {
        self.0
            .get_or_create(&VerbLabels {
                verb: verb.to_owned(),
            })
            .get()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindStateLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    fingerprint: String,
    kind: String,
    state: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

/// What `condition_info` last said about one SealedSecret.
#[derive(Debug, Clone)]
struct ConditionState {
    instance: String,
    value: i64,
}

/// The controller's metrics. Cheap to share (`Arc<Metrics>`); every method takes `&self`.
pub struct Metrics {
    registry: Registry,
    omit_secret_labels: bool,
    serving: Serving,
    unseal_requests: Counter,
    unseal_errors: Family<ErrorLabels, Counter>,
    condition_info: Family<ConditionLabels, Gauge>,
    status_counts: Family<StatusCountLabels, Gauge>,
    /// `(namespace, name)` → last condition: needed to remove the right series and to keep
    /// the counts right; held in memory only.
    conditions: Mutex<HashMap<(String, String), ConditionState>>,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<HttpDurationLabels>,
    rsa_operations: Family<SourceLabels, Counter>,
    kube_requests: KubeRequests,
    keys: Arc<Mutex<Option<KeyStore>>>,
    inventory: Arc<Mutex<Option<Arc<Inventory>>>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("omit_secret_labels", &self.omit_secret_labels)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric. `--metrics-omit-secret-labels` and the HTTP serving flags
    /// (timeouts, connection caps) are read from `args`.
    pub fn new(args: &Args) -> Self {
        Self::with_options(
            args.metrics_omit_secret_labels,
            Serving::from_args(args),
            args.renew_period(),
        )
    }

    fn with_options(omit_secret_labels: bool, serving: Serving, renew_period: Duration) -> Self {
        let mut registry = Registry::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                revision: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        let unseal_requests = Counter::default();
        let unseal_errors = Family::<ErrorLabels, Counter>::default();
        let condition_info = Family::<ConditionLabels, Gauge>::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration: HistogramFamily<HttpDurationLabels> =
            Family::new_with_constructor(default_histogram);
        {
            let upstream = registry.sub_registry_with_prefix("sealed_secrets_controller");
            upstream.register("build_info", "Build information", build_info);
            upstream.register(
                "unseal_requests",
                "Total number of sealed secret unseal requests",
                unseal_requests.clone(),
            );
            upstream.register(
                "unseal_errors",
                "Total number of sealed secret unseal errors by reason",
                unseal_errors.clone(),
            );
            upstream.register(
                "condition_info",
                "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)",
                condition_info.clone(),
            );
            upstream.register(
                "http_requests",
                "Total number of HTTP requests by path, code and method",
                http_requests.clone(),
            );
            upstream.register_with_unit(
                "http_request_duration",
                "Duration of HTTP requests by path and method",
                Unit::Seconds,
                http_duration.clone(),
            );
        }
        let status_counts = Family::<StatusCountLabels, Gauge>::default();
        registry.register(
            "sealant_sealedsecrets",
            "SealedSecrets by namespace and condition status (no names)",
            status_counts.clone(),
        );
        let rsa_operations = Family::<SourceLabels, Counter>::default();
        for source in ["reconcile", "verify", "rotate"] {
            rsa_operations
                .get_or_create(&SourceLabels {
                    source: source.to_owned(),
                })
                .inc_by(0);
        }
        registry.register(
            "sealant_unseal_rsa_operations",
            "Items opened with a private key (a lower bound of RSA decryptions), by source",
            rsa_operations.clone(),
        );
        let kube_requests = KubeRequests::default();
        registry.register(
            "sealant_kube_requests",
            "Requests this controller sent to the API server, by verb",
            kube_requests.0.clone(),
        );
        let keys = Arc::new(Mutex::new(None));
        let inventory = Arc::new(Mutex::new(None));
        registry.register_collector(Box::new(KeyCollector {
            store: keys.clone(),
            inventory: inventory.clone(),
            renew_period,
        }));
        Self {
            registry,
            omit_secret_labels,
            serving,
            unseal_requests,
            unseal_errors,
            condition_info,
            status_counts,
            conditions: Mutex::new(HashMap::new()),
            http_requests,
            http_duration,
            rsa_operations,
            kube_requests,
            keys,
            inventory,
        }
    }

    /// Metrics for tests: names kept (or not), the default HTTP flags, 720 h renewal.
    #[cfg(test)]
    pub(crate) fn for_tests(omit_secret_labels: bool) -> Self {
        Self::with_options(
            omit_secret_labels,
            Serving::defaults(),
            Duration::from_secs(720 * 3600),
        )
    }

    /// Reports the sealing keys (`sealant_keys`, `sealant_key_age_seconds`,
    /// `sealant_key_renewal_seconds`) from `keys` at each scrape. [`crate::http::serve_api`]
    /// calls it with the API's keys.
    pub fn watch_keys(&self, keys: KeyStore) {
        *self.keys.lock().unwrap_or_else(PoisonError::into_inner) = Some(keys);
    }

    /// Reports the key usage (`sealant_key_sealedsecrets*`) from `inventory` at each scrape
    /// while leading; `None` stops it (leadership lost).
    pub fn watch_inventory(&self, inventory: Option<Arc<Inventory>>) {
        *self
            .inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = inventory;
    }

    /// One reconcile started (upstream counts deletes too).
    pub fn unseal_request(&self) {
        self.unseal_requests.inc();
    }

    /// One reconcile failed; `reason` is one of fetch, unseal, update, unmanaged, status.
    pub fn unseal_error(&self, reason: &str, namespace: &str) {
        self.unseal_errors
            .get_or_create(&ErrorLabels {
                reason: reason.to_owned(),
                namespace: namespace.to_owned(),
            })
            .inc();
    }

    /// Sets the `Synced` condition of a SealedSecret: 1 true, −1 false, 0 unknown. `instance`
    /// is its `app.kubernetes.io/instance` label.
    pub fn set_condition(&self, namespace: &str, name: &str, instance: Option<&str>, value: i64) {
        let state = ConditionState {
            instance: instance.unwrap_or_default().to_owned(),
            value,
        };
        let mut conditions = self
            .conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let previous = conditions.insert((namespace.to_owned(), name.to_owned()), state.clone());
        if let Some(previous) = &previous {
            self.count_status(namespace, previous.value, -1);
            if previous.instance != state.instance {
                self.condition_info
                    .remove(&condition_labels(namespace, name, &previous.instance));
            }
        }
        self.count_status(namespace, value, 1);
        if !self.omit_secret_labels {
            self.condition_info
                .get_or_create(&condition_labels(namespace, name, &state.instance))
                .set(value);
        }
    }

    /// Forgets a deleted SealedSecret (its `condition_info` series goes, as upstream's).
    pub fn remove_condition(&self, namespace: &str, name: &str) {
        let mut conditions = self
            .conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(previous) = conditions.remove(&(namespace.to_owned(), name.to_owned())) {
            self.count_status(namespace, previous.value, -1);
            self.condition_info
                .remove(&condition_labels(namespace, name, &previous.instance));
        }
    }

    fn count_status(&self, namespace: &str, value: i64, delta: i64) {
        let status = match value.signum() {
            1 => "True",
            -1 => "False",
            _ => "Unknown",
        };
        let labels = StatusCountLabels {
            namespace: namespace.to_owned(),
            condition: CONDITION_SYNCED.to_owned(),
            status: status.to_owned(),
        };
        let now = self.status_counts.get_or_create(&labels).inc_by(delta) + delta;
        if now <= 0 {
            self.status_counts.remove(&labels);
        }
    }

    /// `n` RSA private-key operations were attempted for `source` (reconcile, verify or rotate).
    /// Reconcile counts one per item it tries to open, successful or not (exactly 0 when it
    /// decrypts nothing; a lower bound when trial decryption goes through several keys); verify
    /// and rotate count the items they opened.
    pub fn rsa_operations(&self, source: &str, n: u64) {
        self.rsa_operations
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .inc_by(n);
    }

    /// The API request counter, for the client's middleware.
    pub fn kube_requests(&self) -> KubeRequests {
        self.kube_requests.clone()
    }

    /// One request to an instrumented API path.
    pub fn http_request(&self, path: &str, method: &Method, status: u16, elapsed: Duration) {
        let method = method_label(method).to_owned();
        self.http_requests
            .get_or_create(&HttpLabels {
                path: path.to_owned(),
                code: status.to_string(),
                method: method.clone(),
            })
            .inc();
        self.http_duration
            .get_or_create(&HttpDurationLabels {
                path: path.to_owned(),
                method,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text of every metric.
    ///
    /// # Errors
    /// Only if encoding fails (not expected: it writes to a `String`).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn condition_labels(namespace: &str, name: &str, instance: &str) -> ConditionLabels {
    ConditionLabels {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        condition: CONDITION_SYNCED.to_owned(),
        ss_app_kubernetes_io_instance: instance.to_owned(),
    }
}

/// Label value of a request method, as Prometheus' Go instrumentation writes it: the standard
/// methods in lower case, anything else `unknown` (which also bounds the label's values).
pub fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "get",
        "PUT" => "put",
        "HEAD" => "head",
        "POST" => "post",
        "DELETE" => "delete",
        "CONNECT" => "connect",
        "OPTIONS" => "options",
        "NOTIFY" => "notify",
        "TRACE" => "trace",
        "PATCH" => "patch",
        _ => "unknown",
    }
}

/// Reads the current keys (and the leader's inventory) at scrape time.
struct KeyCollector {
    store: Arc<Mutex<Option<KeyStore>>>,
    inventory: Arc<Mutex<Option<Arc<Inventory>>>>,
    renew_period: Duration,
}

impl fmt::Debug for KeyCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCollector").finish_non_exhaustive()
    }
}

/// `(fingerprint, kind, state)` of every loaded key, RSA first, oldest first.
fn loaded_keys(
    snapshot: &KeySnapshot,
) -> Vec<(String, &'static str, String, time::OffsetDateTime)> {
    let rsa = snapshot.keys.iter().map(|k| {
        (
            k.fingerprint.to_string(),
            KIND_RSA,
            k.state.to_string(),
            k.order_time,
        )
    });
    let age = snapshot.age.iter().map(|k| {
        (
            k.fingerprint.to_string(),
            KIND_AGE,
            k.state.to_string(),
            k.order_time,
        )
    });
    rsa.chain(age).collect()
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Encodes the key metrics of `snapshot` at `now`; the usage ones only with `usage`.
fn encode_keys(
    encoder: &mut DescriptorEncoder,
    snapshot: &KeySnapshot,
    usage: Option<&KeyUsage>,
    renew_period: Duration,
    now: time::OffsetDateTime,
) -> Result<(), fmt::Error> {
    let loaded = loaded_keys(snapshot);
    let count = Family::<KindStateLabels, Gauge>::default();
    for kind in [KIND_RSA, KIND_AGE] {
        for state in ["active", "compromised"] {
            let n = loaded
                .iter()
                .filter(|(_, k, s, _)| *k == kind && s == state)
                .count();
            count
                .get_or_create(&KindStateLabels {
                    kind: kind.to_owned(),
                    state: state.to_owned(),
                })
                .set(gauge_value(n));
        }
    }
    count.encode(encoder.encode_descriptor(
        "sealant_keys",
        "Loaded keys by kind and state (compromised keys unseal but never seal)",
        None,
        count.metric_type(),
    )?)?;

    let age = Family::<KeyLabels, Gauge<f64, AtomicU64>>::default();
    for (fingerprint, kind, state, order_time) in &loaded {
        age.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: (*kind).to_owned(),
            state: state.clone(),
        })
        .set((now - *order_time).as_seconds_f64());
    }
    if !age.is_empty() {
        age.encode(encoder.encode_descriptor(
            "sealant_key_age",
            "Age of each loaded key, from the time keys are ordered by",
            Some(&Unit::Seconds),
            age.metric_type(),
        )?)?;
    }

    if let Some(newest) = snapshot.newest().filter(|_| !renew_period.is_zero()) {
        let due = newest.order_time + renew_period;
        let renewal = Gauge::<f64, AtomicU64>::default();
        renewal.set((due - now).as_seconds_f64());
        renewal.encode(encoder.encode_descriptor(
            "sealant_key_renewal",
            "Time until the newest active key is due for renewal (negative: overdue)",
            Some(&Unit::Seconds),
            renewal.metric_type(),
        )?)?;
    }

    let Some(usage) = usage else {
        return Ok(());
    };
    let used = Family::<KeyLabels, Gauge>::default();
    for (fingerprint, kind, state, _) in &loaded {
        let n = usage.by_key.get(fingerprint).copied().unwrap_or(0);
        used.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: (*kind).to_owned(),
            state: state.clone(),
        })
        .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    for (fingerprint, n) in &usage.by_key {
        if loaded.iter().any(|(f, ..)| f == fingerprint) {
            continue;
        }
        used.get_or_create(&KeyLabels {
            fingerprint: fingerprint.clone(),
            kind: "unknown".to_owned(),
            state: "unloaded".to_owned(),
        })
        .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    if !used.is_empty() {
        used.encode(encoder.encode_descriptor(
            "sealant_key_sealedsecrets",
            "SealedSecrets whose key inventory lists the key (0: nothing depends on it)",
            None,
            used.metric_type(),
        )?)?;
    }
    let unknown = Gauge::<i64>::default();
    unknown.set(i64::try_from(usage.unknown).unwrap_or(i64::MAX));
    unknown.encode(encoder.encode_descriptor(
        "sealant_key_sealedsecrets_unknown",
        "SealedSecrets whose keys are not known yet",
        None,
        unknown.metric_type(),
    )?)?;
    Ok(())
}

impl Collector for KeyCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(store) = store else {
            return Ok(());
        };
        let inventory = self
            .inventory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let usage = inventory.map(|inventory| inventory.usage());
        encode_keys(
            &mut encoder,
            &store.snapshot(),
            usage.as_ref(),
            self.renew_period,
            time::OffsetDateTime::now_utc(),
        )
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` (`ready`: as the API's) on `listener` until
/// `shutdown`, with the same connection caps and timeouts as the API but its own count: the
/// deployed probes use this port, which a flood of the API port cannot reach
/// (docs/controller.md, "HTTP connections").
///
/// # Errors
/// None so far; see [`crate::http::serve_api`].
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    ready: tokio::sync::watch::Receiver<bool>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let serving = metrics.serving;
    crate::http::serve(
        listener,
        "metrics",
        serving,
        shutdown,
        move |request, _peer| {
            let metrics = metrics.clone();
            let ready = *ready.borrow();
            async move { metrics_response(&metrics, request.uri().path(), ready) }
        },
    )
    .await
}

fn metrics_response(metrics: &Metrics, path: &str, ready: bool) -> Response<Body> {
    let (status, content_type, body) = match path {
        "/metrics" => match metrics.encode() {
            Ok(text) => (StatusCode::OK, OPENMETRICS_CONTENT_TYPE, text),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "cannot encode metrics\n".to_owned(),
            ),
        },
        "/healthz" => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ok\n".to_owned(),
        ),
        "/readyz" if ready => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ok\n".to_owned(),
        ),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "not ready\n".to_owned(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_names_and_labels() {
        let metrics = Metrics::for_tests(false);
        metrics.unseal_request();
        metrics.unseal_error("unseal", "ns1");
        metrics.set_condition("ns1", "db", Some("grafana"), -1);
        metrics.rsa_operations("reconcile", 3);
        metrics.http_request("/v1/verify", &Method::POST, 409, Duration::from_millis(7));
        metrics.http_request(
            "/v1/verify",
            &Method::from_bytes(b"BREW").unwrap(),
            200,
            Duration::from_millis(1),
        );
        let text = metrics.encode().unwrap();
        for line in [
            "# TYPE sealed_secrets_controller_build_info gauge",
            &format!(
                "sealed_secrets_controller_build_info{{revision=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
            "sealed_secrets_controller_unseal_requests_total 1",
            "sealed_secrets_controller_unseal_errors_total{reason=\"unseal\",namespace=\"ns1\"} 1",
            "sealed_secrets_controller_condition_info{namespace=\"ns1\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"grafana\"} -1",
            "sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"409\",method=\"post\"} 1",
            "sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"unknown\"} 1",
            "sealed_secrets_controller_http_request_duration_seconds_bucket{le=\"0.01\",path=\"/v1/verify\",method=\"post\"} 1",
            "sealed_secrets_controller_http_request_duration_seconds_count{path=\"/v1/verify\",method=\"post\"} 1",
            "sealant_unseal_rsa_operations_total{source=\"reconcile\"} 3",
            "sealant_unseal_rsa_operations_total{source=\"verify\"} 0",
            "sealant_sealedsecrets{namespace=\"ns1\",condition=\"Synced\",status=\"False\"} 1",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn conditions_move_and_are_removed_with_their_instance() {
        let metrics = Metrics::for_tests(false);
        metrics.set_condition("ns", "a", Some("one"), -1);
        metrics.set_condition("ns", "a", Some("two"), 1);
        metrics.set_condition("ns", "b", None, 1);
        let text = metrics.encode().unwrap();
        assert!(
            !text.contains("ss_app_kubernetes_io_instance=\"one\""),
            "{text}"
        );
        assert!(
            text.contains(
                "name=\"a\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"two\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "sealant_sealedsecrets{namespace=\"ns\",condition=\"Synced\",status=\"True\"} 2"
            ),
            "{text}"
        );
        assert!(!text.contains("status=\"False\""), "{text}");
        metrics.remove_condition("ns", "a");
        metrics.remove_condition("ns", "never-seen");
        let text = metrics.encode().unwrap();
        assert!(!text.contains("name=\"a\""), "{text}");
        assert!(text.contains("status=\"True\"} 1"), "{text}");
    }

    #[test]
    fn omitting_secret_labels_keeps_names_out() {
        let metrics = Metrics::for_tests(true);
        metrics.set_condition("team-a", "stripe-prod-key", Some("payments"), 1);
        metrics.set_condition("team-a", "db", None, -1);
        let text = metrics.encode().unwrap();
        assert!(
            !text.contains("stripe-prod-key") && !text.contains("name=\"db\""),
            "{text}"
        );
        assert!(
            !text.contains("sealed_secrets_controller_condition_info{"),
            "{text}"
        );
        assert!(
            text.contains(
                "sealant_sealedsecrets{namespace=\"team-a\",condition=\"Synced\",status=\"True\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("sealant_sealedsecrets{namespace=\"team-a\",condition=\"Synced\",status=\"False\"} 1"), "{text}");
    }

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

    fn key_info(
        name: &str,
        state: sealant_core::keysecret::KeyState,
        age: time::Duration,
    ) -> (crate::keys::KeyInfo, sealant_core::PrivateKey) {
        let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
        let key = sealant_core::PrivateKey::from_pem(&read("key")).unwrap();
        let cert = sealant_core::Certificate::from_pem(&read("crt")).unwrap();
        let info = crate::keys::KeyInfo {
            fingerprint: key.fingerprint().clone(),
            secret_name: name.to_owned(),
            order_time: time::OffsetDateTime::now_utc() - age,
            cert,
            state,
        };
        (info, key)
    }

    /// rsa2048 active (700 h old), other-2048 compromised, one active age key.
    fn keys(active_age: time::Duration) -> (KeySnapshot, [String; 3]) {
        use sealant_core::keysecret::KeyState;
        let mut snapshot = KeySnapshot::default();
        let mut fingerprints = Vec::new();
        for (info, key) in [
            key_info(
                "other-2048",
                KeyState::Compromised,
                time::Duration::hours(900),
            ),
            key_info("rsa2048", KeyState::Active, active_age),
        ] {
            fingerprints.push(info.fingerprint.to_string());
            snapshot.keys.push(info);
            snapshot.ring.insert(key);
        }
        let identity =
            sealant_core::AgeIdentity::generate(sealant_core::age::IdentityKind::X25519).unwrap();
        fingerprints.push(identity.fingerprint().to_string());
        snapshot.age.push(crate::keys::AgeKeyInfo {
            fingerprint: identity.fingerprint().clone(),
            secret_name: "age".into(),
            order_time: time::OffsetDateTime::now_utc(),
            recipient: identity.recipient().clone(),
            state: KeyState::Active,
        });
        snapshot.ring.insert_age(identity);
        let [compromised, active, age] = <[String; 3]>::try_from(fingerprints).unwrap();
        (snapshot, [active, compromised, age])
    }

    /// The value of the one series whose line starts with `prefix`.
    fn value(text: &str, prefix: &str) -> Option<f64> {
        let mut found = text
            .lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse().ok());
        let value = found.next();
        assert!(found.next().is_none(), "{prefix} twice in\n{text}");
        value
    }

    #[test]
    fn key_metrics_report_states_usage_and_renewal() {
        let metrics = Metrics::for_tests(false);
        let (snapshot, [active, compromised, age]) = keys(time::Duration::hours(700));
        metrics.watch_keys(KeyStore::fixed(snapshot));
        // A follower: keys, no usage.
        let text = metrics.encode().unwrap();
        for (line, n) in [
            ("sealant_keys{kind=\"rsa\",state=\"active\"} ", 1.0),
            ("sealant_keys{kind=\"rsa\",state=\"compromised\"} ", 1.0),
            ("sealant_keys{kind=\"age\",state=\"active\"} ", 1.0),
            ("sealant_keys{kind=\"age\",state=\"compromised\"} ", 0.0),
        ] {
            assert_eq!(value(&text, line), Some(n), "{line} in\n{text}");
        }
        let compromised_age = value(
            &text,
            &format!("sealant_key_age_seconds{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\"}}"),
        )
        .unwrap();
        assert!((900.0 * 3600.0..900.0 * 3600.0 + 60.0).contains(&compromised_age));
        // 720 h period, newest active key 700 h old: due in 20 h (the compromised one is older
        // and the age key newer: neither counts).
        let renewal = value(&text, "sealant_key_renewal_seconds ").unwrap();
        assert!(
            (20.0 * 3600.0 - 60.0..=20.0 * 3600.0).contains(&renewal),
            "{renewal}"
        );
        assert!(!text.contains("sealant_key_sealedsecrets"), "{text}");

        // The leader: usage per loaded key, 0 included, and the unknown ones.
        let inventory = Arc::new(Inventory::default());
        inventory.record("a", "one", Some(vec![active.clone()]));
        inventory.record("a", "two", Some(vec![active.clone(), compromised.clone()]));
        inventory.record("b", "three", None);
        inventory.record("b", "four", Some(vec!["SHA256:retiredkey".into()]));
        metrics.watch_inventory(Some(inventory.clone()));
        let text = metrics.encode().unwrap();
        for (line, n) in [
            (format!("sealant_key_sealedsecrets{{fingerprint=\"{active}\",kind=\"rsa\",state=\"active\"}} "), 2.0),
            (format!("sealant_key_sealedsecrets{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\"}} "), 1.0),
            (format!("sealant_key_sealedsecrets{{fingerprint=\"{age}\",kind=\"age\",state=\"active\"}} "), 0.0),
            ("sealant_key_sealedsecrets{fingerprint=\"SHA256:retiredkey\",kind=\"unknown\",state=\"unloaded\"} ".to_owned(), 1.0),
            ("sealant_key_sealedsecrets_unknown ".to_owned(), 1.0),
        ] {
            assert_eq!(value(&text, &line), Some(n), "{line} in\n{text}");
        }
        inventory.forget("a", "two");
        inventory.record("b", "three", Some(vec![age.clone()]));
        let text = metrics.encode().unwrap();
        assert_eq!(
            value(
                &text,
                &format!(
                    "sealant_key_sealedsecrets{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\"}} "
                )
            ),
            Some(0.0),
            "{text}"
        );
        assert_eq!(
            value(&text, "sealant_key_sealedsecrets_unknown "),
            Some(0.0)
        );
        // Leadership lost: usage goes.
        metrics.watch_inventory(None);
        assert!(
            !metrics
                .encode()
                .unwrap()
                .contains("sealant_key_sealedsecrets")
        );
    }

    #[test]
    fn renewal_is_negative_when_overdue_and_absent_when_off() {
        let metrics = Metrics::for_tests(false);
        metrics.watch_keys(KeyStore::fixed(keys(time::Duration::hours(730)).0));
        let renewal = value(&metrics.encode().unwrap(), "sealant_key_renewal_seconds ").unwrap();
        assert!(
            (-10.0 * 3600.0 - 60.0..=-10.0 * 3600.0).contains(&renewal),
            "{renewal}"
        );

        let off = Metrics::with_options(false, Serving::defaults(), Duration::ZERO);
        off.watch_keys(KeyStore::fixed(keys(time::Duration::hours(730)).0));
        let text = off.encode().unwrap();
        assert!(!text.contains("sealant_key_renewal"), "{text}");
        assert!(text.contains("sealant_key_age_seconds{"), "{text}");
    }

    #[test]
    fn method_labels_follow_promhttp() {
        assert_eq!(method_label(&Method::GET), "get");
        assert_eq!(method_label(&Method::PATCH), "patch");
        assert_eq!(
            method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
            "unknown"
        );
    }
}
