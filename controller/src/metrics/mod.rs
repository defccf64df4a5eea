//! Prometheus metrics (docs/upstream.md, "Metrics"), served at `--listen-metrics-addr` `/metrics`.
//!
//! Upstream's metrics keep their names and labels:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealed_secrets_controller_build_info` | gauge (1) | `revision` |
//! | `sealed_secrets_controller_unseal_requests_total` | counter | – |
//! | `sealed_secrets_controller_unseal_errors_total` | counter | `reason` (fetch, unseal, update, unmanaged, status; sealant adds namespace: a namespace-selector scope whose namespace does not match), `namespace` |
//! | `sealed_secrets_controller_condition_info` | gauge (−1 False, 0 Unknown, 1 True) | `namespace`, `name`, `condition`, `ss_app_kubernetes_io_instance` |
//! | `sealed_secrets_controller_http_requests_total` | counter | `path`, `code`, `method` |
//! | `sealed_secrets_controller_http_request_duration_seconds` | histogram (Prometheus' default buckets) | `path`, `method` |
//!
//! sealant adds:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealant_unseal_rsa_operations_total` | counter | `source` (reconcile, verify, rotate) |
//! | `sealant_unseal_cpu_seconds_total` | counter: CPU time of the reconciles' decryptions (RSA, AES-GCM, templates), measured on the thread that runs them | – |
//! | `sealant_sealedsecrets` | gauge: SealedSecrets per condition status | `namespace`, `condition`, `status` (True, False, Unknown) |
//! | `sealant_keys` | gauge: loaded keys (0 included) | `kind` (rsa, age), `state` (active, compromised), `tenant` ("" for the cluster keys) |
//! | `sealant_key_age_seconds` | gauge: age of each loaded key (from its order time) | `fingerprint`, `kind`, `state`, `tenant` |
//! | `sealant_key_renewal_seconds` | gauge: time until each owner's newest active RSA key is one `--key-renew-period` old (negative: overdue); absent with renewal off or no active key | `tenant` |
//! | `sealant_key_sealedsecrets` | gauge: SealedSecrets whose inventory (`status.keyFingerprints`) lists the key; 0 for a loaded key nothing uses (it can be retired) | `fingerprint`, `kind`, `state`, `tenant` |
//! | `sealant_key_sealedsecrets_unknown` | gauge: SealedSecrets whose keys are not known yet (never unsealed by sealant, failing, or v1 blobs) | – |
//! | `sealant_key_provider_*`, `sealant_keys_unwrap_failed`, `sealant_key_provider_renewal_waiting` | key protection (HSM / KMS), see `kms` | |
//! | `sealant_key_escrow_failures_total`, `sealant_key_escrow_pending` | key escrow (docs/recovery.md), see `keys::escrow` | |
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
//! This module defines and updates the metrics (the key metrics are collected at scrape time,
//! in `keys`); it imports neither the reconciler nor the HTTP servers: reconciles report their
//! outcome through [`Metrics`]' methods (error reasons as `&'static str` labels), the key
//! inventory through [`KeyUsageSource`], and `crate::http` serves the text on the metrics port.
//!
//! prometheus-client writes OpenMetrics text: counters are registered without `_total` and
//! exposed with it, the body ends with `# EOF`, and the content type is
//! [`OPENMETRICS_CONTENT_TYPE`], which Prometheus reads.

mod conditions;
mod keys;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

pub use keys::{KeyUsage, KeyUsageSource};

use crate::flags::Args;
use crate::keys::{EscrowMetrics, KeyStore, KmsMetrics};

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

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS)
}

/// The controller's metrics. Cheap to share (`Arc<Metrics>`); every method takes `&self`.
pub struct Metrics {
    registry: Registry,
    omit_secret_labels: bool,
    unseal_requests: Counter,
    unseal_errors: Family<ErrorLabels, Counter>,
    status_counts: Family<StatusCountLabels, Gauge>,
    /// `(namespace, name)` → last condition: needed to remove the right series and to keep
    /// the counts right; held in memory only.
    /// `condition_info`'s table (see [`conditions`]).
    conditions: conditions::Table,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<HttpDurationLabels>,
    rsa_operations: Family<SourceLabels, Counter>,
    unseal_cpu: Counter<f64, std::sync::atomic::AtomicU64>,
    kube_requests: KubeRequests,
    keys: Arc<Mutex<Option<KeyStore>>>,
    inventory: Arc<Mutex<Option<Arc<dyn KeyUsageSource>>>>,
    key_protection: KmsMetrics,
    key_escrow: EscrowMetrics,
    /// The length of the last page: the next starts at that size instead of growing to it by
    /// doubling (a line per SealedSecret; docs/design/cpu.md, "What is done").
    last_page: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("omit_secret_labels", &self.omit_secret_labels)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Registers every metric. `--metrics-omit-secret-labels` and the renewal period are read
    /// from `args`.
    pub fn new(args: &Args) -> Self {
        Self::with_options(args.metrics_omit_secret_labels, args.renew_period())
    }

    fn with_options(omit_secret_labels: bool, renew_period: Duration) -> Self {
        let mut registry = Registry::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                revision: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        let unseal_requests = Counter::default();
        let unseal_errors = Family::<ErrorLabels, Counter>::default();
        let conditions = conditions::Table::default();
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
            upstream.register_collector(Box::new(conditions::ConditionCollector {
                table: conditions.clone(),
                omit_secret_labels,
            }));
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
        let unseal_cpu = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register_with_unit(
            "sealant_unseal_cpu",
            "CPU time of the reconciles' decryptions, on the thread that runs them",
            Unit::Seconds,
            unseal_cpu.clone(),
        );
        let kube_requests = KubeRequests::default();
        registry.register(
            "sealant_kube_requests",
            "Requests this controller sent to the API server, by verb",
            kube_requests.0.clone(),
        );
        let keys = Arc::new(Mutex::new(None));
        let inventory = Arc::new(Mutex::new(None));
        registry.register_collector(Box::new(keys::KeyCollector {
            store: keys.clone(),
            inventory: inventory.clone(),
            renew_period,
        }));
        let key_protection = KmsMetrics::register(&mut registry);
        let key_escrow = EscrowMetrics::register(&mut registry);
        Self {
            registry,
            omit_secret_labels,
            unseal_requests,
            unseal_errors,
            status_counts,
            conditions,
            http_requests,
            http_duration,
            rsa_operations,
            unseal_cpu,
            kube_requests,
            keys,
            inventory,
            key_protection,
            key_escrow,
            last_page: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Metrics for tests: names kept (or not), 720 h renewal.
    #[cfg(test)]
    pub(crate) fn for_tests(omit_secret_labels: bool) -> Self {
        Self::with_options(omit_secret_labels, Duration::from_secs(720 * 3600))
    }

    /// Reports the sealing keys (`sealant_keys`, `sealant_key_age_seconds`,
    /// `sealant_key_renewal_seconds`) from `keys` at each scrape (the API server calls it with
    /// its keys).
    pub fn watch_keys(&self, keys: KeyStore) {
        *self.keys.lock() = Some(keys);
    }

    /// Reports the key usage (`sealant_key_sealedsecrets*`) from `inventory` (the leader's
    /// reconciler's) at each scrape while leading; `None` stops it (leadership lost).
    pub fn watch_inventory(&self, inventory: Option<Arc<dyn KeyUsageSource>>) {
        *self.inventory.lock() = inventory;
    }

    /// One reconcile started (upstream counts deletes too).
    pub fn unseal_request(&self) {
        self.unseal_requests.inc();
    }

    /// One reconcile failed; `reason` is one of fetch, unseal, update, unmanaged, status, namespace.
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
        let state = conditions::ConditionState {
            instance: instance.filter(|i| !i.is_empty()).map(Box::from),
            value: i8::try_from(value.signum()).unwrap_or_default(),
        };
        let mut conditions = self.conditions.lock();
        let key = conditions::key(namespace, name);
        if let Some(previous) = conditions.get_mut(&key) {
            self.count_status(namespace, i64::from(previous.value), -1);
            *previous = state;
        } else {
            conditions.insert(key, state);
        }
        self.count_status(namespace, value, 1);
    }

    /// Forgets a deleted SealedSecret (its `condition_info` series goes, as upstream's).
    pub fn remove_condition(&self, namespace: &str, name: &str) {
        let mut conditions = self.conditions.lock();
        if let Some(previous) = conditions.remove(&conditions::key(namespace, name)) {
            self.count_status(namespace, i64::from(previous.value), -1);
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

    /// A reconcile's decryption used `seconds` of CPU time.
    pub fn unseal_cpu(&self, seconds: f64) {
        self.unseal_cpu.inc_by(seconds.max(0.0));
    }

    /// The key escrow metrics (`keys::EscrowMetrics`), for the key manager.
    pub fn key_escrow(&self) -> &EscrowMetrics {
        &self.key_escrow
    }

    /// The key protection metrics (`keys::KmsMetrics`), also the provider's call observer.
    pub fn key_protection(&self) -> &KmsMetrics {
        &self.key_protection
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
        use std::sync::atomic::Ordering;
        let mut text = String::with_capacity(self.last_page.load(Ordering::Relaxed));
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        self.last_page.store(text.len(), Ordering::Relaxed);
        Ok(text)
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
