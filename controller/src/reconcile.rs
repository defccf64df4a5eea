//! Reconcile one SealedSecret into its Secret, with upstream's rules (§3.5 of the spec):
//! ownership gate, `managed` / `patch`, template metadata, type and data, immutable Secrets,
//! the `Synced` condition and events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Api, Client, Resource, ResourceExt};
use sealant_core::object::SealedSecretCondition;
use sealant_core::{UnsealOptions, unseal};
use serde_json::json;
use tracing::{info, instrument, warn};

use crate::crd::SealedSecret;
use crate::flags::Args;
use crate::keys::KeyStore;
use crate::metrics::Metrics;

/// A pre-existing Secret with this annotation may be taken over (overwritten, owned).
pub const MANAGED_ANNOTATION: &str = "sealedsecrets.bitnami.com/managed";
/// A pre-existing Secret with this annotation is merged into instead of overwritten.
pub const PATCH_ANNOTATION: &str = "sealedsecrets.bitnami.com/patch";
/// Label on every Secret the controller owns (created, or taken over with `managed`). The Secret
/// watch selects on it, so the controller caches only its own Secrets, not every Secret in the
/// cluster; patch-only Secrets do not get it and, as upstream, are not re-created.
pub const OWNED_LABEL: &str = "sealant.dev/owned-by";
/// Value of [`OWNED_LABEL`].
pub const OWNED_LABEL_VALUE: &str = "sealant-controller";

/// What every reconcile shares.
pub struct Ctx {
    /// The API client.
    pub client: Client,
    /// Flags.
    pub args: Arc<Args>,
    /// The sealing keys.
    pub keys: KeyStore,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Events on SealedSecrets.
    pub recorder: Recorder,
}

/// Why a reconcile failed; the label is the metric's `reason`.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The items could not be unsealed (opaque crypto error, bad base64, template error).
    #[error("{0}")]
    Unseal(String),
    /// The Secret exists and is neither ours nor `managed`/`patch`.
    #[error("failed update: Resource {0:?} already exists and is not managed by SealedSecret")]
    Unmanaged(String),
    /// Reading or writing the Secret failed.
    #[error("{0}")]
    Update(String),
    /// The object cannot be represented (should not happen).
    #[error("malformed SealedSecret: {0}")]
    Malformed(String),
}

impl ReconcileError {
    /// Upstream's `unseal_errors_total` reason.
    pub fn metric_label(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_) | ReconcileError::Malformed(_) => "unseal",
            ReconcileError::Unmanaged(_) => "unmanaged",
            ReconcileError::Update(_) => "update",
        }
    }

    /// Upstream's event reason.
    fn event_reason(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_) | ReconcileError::Malformed(_) => "ErrUnsealFailed",
            ReconcileError::Unmanaged(_) | ReconcileError::Update(_) => "ErrUpdateFailed",
        }
    }

    /// Upstream gives up at once on immutable Secrets: retrying cannot help.
    fn is_permanent(&self) -> bool {
        matches!(self, ReconcileError::Update(message) if message.contains("the target Secret is immutable"))
    }
}

const IMMUTABLE_MESSAGE: &str = "the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret.";

/// Reconciles one SealedSecret. Never logs values: only names, reasons and counts.
///
/// # Errors
/// See [`ReconcileError`]; the status, event and metrics are written before returning.
#[instrument(skip(sealed, ctx), fields(namespace = %sealed.namespace().unwrap_or_default(), name = %sealed.name_any()))]
pub async fn reconcile(sealed: Arc<SealedSecret>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    ctx.metrics.unseal_request();
    if sealed.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let result = apply(&sealed, &ctx).await;
    report(&sealed, &ctx, &result).await;
    result.map(|()| Action::await_change())
}

/// Backoff for failed objects: upstream retries a few times, then waits for a change.
pub fn error_policy(sealed: Arc<SealedSecret>, error: &ReconcileError, _ctx: Arc<Ctx>) -> Action {
    if error.is_permanent() {
        return Action::await_change();
    }
    warn!(namespace = %sealed.namespace().unwrap_or_default(), name = %sealed.name_any(), reason = error.metric_label(), "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(15))
}

async fn apply(sealed: &SealedSecret, ctx: &Ctx) -> Result<(), ReconcileError> {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    let core = sealed
        .to_core()
        .map_err(|e| ReconcileError::Malformed(e.to_string()))?;

    let snapshot = ctx.keys.snapshot();
    let options = UnsealOptions {
        accept_v1_data: ctx.args.accept_deprecated_v1_data,
        render_templates: true,
    };
    let unsealed = tokio::task::spawn_blocking(move || {
        unseal(&core, &snapshot.ring, options).map(|u| u.secret)
    })
    .await
    .map_err(|e| ReconcileError::Unseal(format!("unseal task failed: {e}")))?
    .map_err(|e| ReconcileError::Unseal(e.to_string()))?;
    ctx.metrics.rsa_operations(
        "reconcile",
        unsealed.data.as_ref().map_or(0, BTreeMap::len) as u64,
    );
    let mut desired: K8sSecret = serde_json::from_value(
        serde_json::to_value(&unsealed).map_err(|e| ReconcileError::Malformed(e.to_string()))?,
    )
    .map_err(|e| ReconcileError::Malformed(e.to_string()))?;
    // The ownerReference needs the live UID, which the offline core model may not have had.
    if let Some(owners) = desired.metadata.owner_references.as_mut() {
        for owner in owners {
            owner.uid = sealed.uid().unwrap_or_default();
        }
    }

    let secrets: Api<K8sSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    let live = secrets
        .get_opt(&name)
        .await
        .map_err(|e| ReconcileError::Update(e.to_string()))?;
    let Some(live) = live else {
        let mut desired = desired;
        desired
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
        secrets
            .create(&PostParams::default(), &desired)
            .await
            .map_err(|e| ReconcileError::Update(e.to_string()))?;
        info!("Secret created");
        return Ok(());
    };

    let annotations = live.annotations();
    let is_true = |key: &str| annotations.get(key).is_some_and(|v| v == "true");
    let controlled = live
        .owner_references()
        .iter()
        .any(|o| o.controller == Some(true) && Some(&o.uid) == sealed.uid().as_ref());
    let (managed, patch) = (is_true(MANAGED_ANNOTATION), is_true(PATCH_ANNOTATION));
    if !controlled && !managed && !patch {
        return Err(ReconcileError::Unmanaged(name));
    }

    let mut updated = live.clone();
    if patch {
        let data = updated.data.get_or_insert_with(BTreeMap::new);
        data.extend(desired.data.clone().unwrap_or_default());
        updated
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .extend(desired.metadata.labels.clone().unwrap_or_default());
        let merged = updated
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new);
        merged.extend(desired.metadata.annotations.clone().unwrap_or_default());
        if merged.get(MANAGED_ANNOTATION).is_some_and(|v| v == "true") {
            updated.metadata.owner_references = desired.metadata.owner_references.clone();
            updated
                .metadata
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
        }
    } else {
        updated.data = desired.data.clone();
        updated.metadata.annotations = desired.metadata.annotations.clone();
        updated.metadata.labels = desired.metadata.labels.clone();
        updated.metadata.owner_references = desired.metadata.owner_references.clone();
        updated
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(OWNED_LABEL.into(), OWNED_LABEL_VALUE.into());
    }
    if desired.type_.is_some() {
        updated.type_ = desired.type_.clone();
    }
    if updated == live {
        return Ok(());
    }
    if live.immutable == Some(true) {
        return Err(ReconcileError::Update(format!(
            "Error updating {namespace}/{}: {IMMUTABLE_MESSAGE}",
            live.name_any()
        )));
    }
    secrets
        .replace(&live.name_any(), &PostParams::default(), &updated)
        .await
        .map_err(|e| ReconcileError::Update(e.to_string()))?;
    info!("Secret updated");
    Ok(())
}

/// Writes the outcome: event, metrics and the `Synced` condition (only when it changes, or
/// the generation moved, so GitOps tools see no churn).
async fn report(sealed: &SealedSecret, ctx: &Ctx, result: &Result<(), ReconcileError>) {
    let namespace = sealed.namespace().unwrap_or_default();
    let name = sealed.name_any();
    let reference = sealed.object_ref(&());
    let event = match result {
        Ok(()) => Event {
            type_: EventType::Normal,
            reason: "Unsealed".into(),
            note: Some("SealedSecret unsealed successfully".into()),
            action: "Unseal".into(),
            secondary: None,
        },
        Err(err) => {
            ctx.metrics.unseal_error(err.metric_label(), &namespace);
            let note = match err {
                ReconcileError::Unseal(message) => format!("Failed to unseal: {message}"),
                other => other.to_string(),
            };
            Event {
                type_: EventType::Warning,
                reason: err.event_reason().into(),
                note: Some(truncate(&note, 1024)),
                action: "Unseal".into(),
                secondary: None,
            }
        }
    };
    if let Err(err) = ctx.recorder.publish(&event, &reference).await {
        warn!(%err, "cannot publish event");
    }

    let instance = sealed.labels().get("app.kubernetes.io/instance").cloned();
    ctx.metrics.set_condition(
        &namespace,
        &name,
        instance.as_deref(),
        if result.is_ok() { 1 } else { -1 },
    );
    if !ctx.args.update_status {
        return;
    }
    let (status, message) = match result {
        Ok(()) => ("True", String::new()),
        Err(err) => ("False", err.to_string()),
    };
    let generation = sealed.meta().generation;
    let current = sealed.status.as_ref();
    let previous = current
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Synced"));
    let status_changed = previous.is_none_or(|c| c.status != status);
    let generation_changed = current.and_then(|s| s.observed_generation) != generation;
    if !status_changed && !generation_changed {
        return;
    }
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());
    let now = serde_json::to_value(now)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    let condition = SealedSecretCondition {
        type_: "Synced".into(),
        status: status.into(),
        last_update_time: now.clone(),
        last_transition_time: if status_changed {
            now
        } else {
            previous.and_then(|c| c.last_transition_time.clone())
        },
        reason: None,
        message: Some(message),
    };
    let patch =
        json!({ "status": { "observedGeneration": generation, "conditions": [condition] } });
    let api: Api<SealedSecret> = Api::namespaced(ctx.client.clone(), &namespace);
    if let Err(err) = api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        ctx.metrics.unseal_error("status", &namespace);
        warn!(%err, "cannot update status");
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_permanence() {
        let immutable = ReconcileError::Update(format!("Error updating a/b: {IMMUTABLE_MESSAGE}"));
        assert!(immutable.is_permanent());
        assert_eq!(immutable.metric_label(), "update");
        let unmanaged = ReconcileError::Unmanaged("x".into());
        assert_eq!(
            unmanaged.to_string(),
            "failed update: Resource \"x\" already exists and is not managed by SealedSecret"
        );
        assert_eq!(unmanaged.event_reason(), "ErrUpdateFailed");
        assert_eq!(
            ReconcileError::Unseal("no key could decrypt secret (a)".into()).event_reason(),
            "ErrUnsealFailed"
        );
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("ééééé", 6), "é...");
    }
}
