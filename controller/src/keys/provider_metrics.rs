//! Key protection metrics (docs/key-protection.md, "Metrics and alerts"):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealant_key_provider_calls_total` | counter: HSM / KMS calls | `provider`, `operation` (wrap, unwrap) |
//! | `sealant_key_provider_errors_total` | counter: failed calls | `provider`, `operation`, `kind` (unreachable, auth, kek_missing, refused, config) |
//! | `sealant_key_provider_call_duration_seconds` | histogram | `provider`, `operation` |
//! | `sealant_keys_unwrap_failed` | gauge: key Secrets that cannot be unwrapped now | `kind` |
//! | `sealant_key_provider_renewal_waiting` | gauge: 1 while a new key waits for the HSM / KMS | – |
//!
//! The calls are reported by `sealant_kms::Observed` through [`CallObserver`]; the two gauges by
//! the key manager after each read of the key Secrets and each generation attempt.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use sealant_kms::{CallObserver, CallRecord, ErrorKind};

/// Every error kind, so the gauge shows zeros rather than nothing.
const KINDS: [ErrorKind; 5] = [
    ErrorKind::Unreachable,
    ErrorKind::Auth,
    ErrorKind::KekMissing,
    ErrorKind::Refused,
    ErrorKind::Config,
];

/// HSM calls take a millisecond, KMS calls tens; a timeout is 10 s.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    provider: String,
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    provider: String,
    operation: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The key protection metrics; clones share the series.
#[derive(Clone)]
pub struct KmsMetrics {
    calls: Family<CallLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    duration: HistogramFamily<CallLabels>,
    unwrap_failed: Family<KindLabels, Gauge>,
    renewal_waiting: Gauge,
}

impl std::fmt::Debug for KmsMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsMetrics").finish_non_exhaustive()
    }
}

impl KmsMetrics {
    /// Registers the series in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = KmsMetrics {
            calls: Family::default(),
            errors: Family::default(),
            duration: Family::new_with_constructor(histogram),
            unwrap_failed: Family::default(),
            renewal_waiting: Gauge::default(),
        };
        registry.register(
            "sealant_key_provider_calls",
            "Calls to the HSM or KMS that protects the keys, by provider and operation",
            metrics.calls.clone(),
        );
        registry.register(
            "sealant_key_provider_errors",
            "Failed calls to the HSM or KMS, by provider, operation and kind",
            metrics.errors.clone(),
        );
        registry.register_with_unit(
            "sealant_key_provider_call_duration",
            "Duration of calls to the HSM or KMS",
            Unit::Seconds,
            metrics.duration.clone(),
        );
        registry.register(
            "sealant_keys_unwrap_failed",
            "Protected key Secrets that cannot be unwrapped now, by error kind",
            metrics.unwrap_failed.clone(),
        );
        registry.register(
            "sealant_key_provider_renewal_waiting",
            "1 while a new or renewed key waits for the HSM or KMS",
            metrics.renewal_waiting.clone(),
        );
        metrics
    }

    /// Series registered nowhere (a key manager before [`crate::metrics::Metrics`] is wired in).
    pub fn unregistered() -> Self {
        Self::register(&mut Registry::default())
    }

    /// Sets the number of keys that cannot be unwrapped, per kind (every kind written).
    pub fn set_unwrap_failed(&self, count: impl Fn(ErrorKind) -> usize) {
        for kind in KINDS {
            let n = i64::try_from(count(kind)).unwrap_or(i64::MAX);
            self.unwrap_failed
                .get_or_create(&KindLabels {
                    kind: kind.as_str().to_owned(),
                })
                .set(n);
        }
    }

    /// Whether a new key waits for the provider.
    pub fn set_renewal_waiting(&self, waiting: bool) {
        self.renewal_waiting.set(i64::from(waiting));
    }
}

impl CallObserver for KmsMetrics {
    fn observe(&self, call: &CallRecord<'_>) {
        let labels = CallLabels {
            provider: call.provider.to_owned(),
            operation: call.operation.as_str().to_owned(),
        };
        self.calls.get_or_create(&labels).inc();
        self.duration
            .get_or_create(&labels)
            .observe(call.elapsed.as_secs_f64());
        if let Some(kind) = call.error {
            self.errors
                .get_or_create(&ErrorLabels {
                    provider: labels.provider,
                    operation: labels.operation,
                    kind: kind.as_str().to_owned(),
                })
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sealant_kms::Operation;

    use super::*;

    #[test]
    fn calls_errors_and_gauges_are_written() {
        let mut registry = Registry::default();
        let metrics = KmsMetrics::register(&mut registry);
        for error in [None, Some(ErrorKind::Unreachable)] {
            metrics.observe(&CallRecord {
                provider: "pkcs11",
                operation: Operation::Unwrap,
                elapsed: Duration::from_millis(2),
                error,
            });
        }
        metrics.set_unwrap_failed(|kind| usize::from(kind == ErrorKind::KekMissing));
        metrics.set_renewal_waiting(true);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            r#"sealant_key_provider_calls_total{provider="pkcs11",operation="unwrap"} 2"#,
            r#"sealant_key_provider_errors_total{provider="pkcs11",operation="unwrap",kind="unreachable"} 1"#,
            r#"sealant_key_provider_call_duration_seconds_count{provider="pkcs11",operation="unwrap"} 2"#,
            r#"sealant_keys_unwrap_failed{kind="kek_missing"} 1"#,
            r#"sealant_keys_unwrap_failed{kind="auth"} 0"#,
            "sealant_key_provider_renewal_waiting 1",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
    }
}
