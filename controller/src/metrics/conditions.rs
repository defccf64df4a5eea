//! Upstream's per-object `condition_info` gauge, kept as one compact table and written out at
//! scrape time, instead of a metric family whose every series holds four label strings beside
//! a second map of the same objects (docs/design/memory.md, "What is cut").

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use super::CONDITION_SYNCED;

/// What `condition_info` last said about one SealedSecret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ConditionState {
    /// Its `app.kubernetes.io/instance` label, if any.
    pub(super) instance: Option<Box<str>>,
    /// −1 False, 0 Unknown, 1 True.
    pub(super) value: i8,
}

/// `namespace/name` (neither may contain a `/`) → the object's condition.
pub(super) type Table = Arc<Mutex<HashMap<Box<str>, ConditionState>>>;

/// The table's key of an object ([`crate::text::object_path`]).
pub(super) fn key(namespace: &str, name: &str) -> Box<str> {
    crate::text::object_path(Some(namespace), name)
}

/// Writes `condition_info` from the table at each scrape. With `--metrics-omit-secret-labels`
/// the metric is described but has no series, as before.
pub(super) struct ConditionCollector {
    pub(super) table: Table,
    pub(super) omit_secret_labels: bool,
}

impl fmt::Debug for ConditionCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionCollector").finish_non_exhaustive()
    }
}

impl Collector for ConditionCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let mut metric = encoder.encode_descriptor(
            "condition_info",
            "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)",
            None,
            MetricType::Gauge,
        )?;
        if self.omit_secret_labels {
            return Ok(());
        }
        for (key, state) in self.table.lock().iter() {
            let (namespace, name) = crate::text::split_object_path(key);
            let namespace = namespace.unwrap_or_default();
            let labels = [
                ("namespace", namespace),
                ("name", name),
                ("condition", CONDITION_SYNCED),
                (
                    "ss_app_kubernetes_io_instance",
                    state.instance.as_deref().unwrap_or_default(),
                ),
            ];
            ConstGauge::new(i64::from(state.value)).encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}
