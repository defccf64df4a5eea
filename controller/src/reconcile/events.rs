//! Events on SealedSecrets: `Unsealed`, `ErrUnsealFailed`, `ErrUpdateFailed` (upstream's) and
//! the `SealedWithCompromisedKey` warning.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource, ResourceExt};
use tracing::warn;

use super::error::truncate;
use super::status::current_compromised;
use super::{Applied, Ctx, Outcome, REASON_COMPROMISED, ReconcileError, object_key};
use crate::crd::SealedSecret;

/// Longest event note, in bytes.
const NOTE_MAX: usize = 1024;

/// The event for a reconcile's outcome (none for a no-op), and the error metric.
pub(super) async fn publish_outcome(
    sealed: &SealedSecret,
    ctx: &Ctx,
    result: &Result<Applied, ReconcileError>,
) {
    let reference = sealed.object_ref(&());
    let event = match result {
        // No event for a no-op (deviation: upstream emits `Unsealed` on every reconcile, i.e.
        // for every object at every restart).
        Ok(Applied {
            outcome: Outcome::InSync | Outcome::Deferred,
            ..
        }) => None,
        Ok(Applied {
            outcome: Outcome::Unsealed,
            ..
        }) => Some(Event {
            type_: EventType::Normal,
            reason: "Unsealed".into(),
            note: Some("SealedSecret unsealed successfully".into()),
            action: "Unseal".into(),
            secondary: None,
        }),
        Err(err) => {
            ctx.metrics
                .unseal_error(err.kind(), &sealed.namespace().unwrap_or_default());
            let note = match err {
                ReconcileError::Unseal(source) => format!("Failed to unseal: {source}"),
                ReconcileError::TenantUnseal { .. } => format!("Failed to unseal: {err}"),
                other => other.to_string(),
            };
            Some(Event {
                type_: EventType::Warning,
                reason: err.event_reason().into(),
                note: Some(truncate(&note, NOTE_MAX)),
                action: "Unseal".into(),
                secondary: None,
            })
        }
    };
    let published = match &event {
        // An `Unsealed` event is sent once per object and change; the Recorder's series cache
        // would keep a copy of each for an hour (~4.5 KB per object, 20 MiB at 5,000 objects:
        // bench/profile.sh) only to count repeats that do not come.
        Some(event) if event.type_ == EventType::Normal => {
            publish_uncached(ctx, event, &reference).await
        }
        Some(event) => ctx.recorder.publish(event, &reference).await,
        None => Ok(()),
    };
    if let Err(err) = published {
        warn!(%err, "cannot publish event");
    }
}

/// The compromised-key Warning, once per change: not again for the warning the status already
/// carries (a restart), nor for the one this process sent last.
pub(super) async fn warn_compromised(sealed: &SealedSecret, ctx: &Ctx, compromised: Option<&str>) {
    let new_warning = ctx.inventory.warn_once(&object_key(sealed), compromised)
        && current_compromised(sealed.status.as_ref()) != compromised;
    let (true, Some(message)) = (new_warning, compromised) else {
        return;
    };
    warn!(%message, "SealedSecret depends on a compromised key");
    let event = Event {
        type_: EventType::Warning,
        reason: REASON_COMPROMISED.into(),
        note: Some(message.to_owned()),
        action: "Unseal".into(),
        secondary: None,
    };
    if let Err(err) = ctx.recorder.publish(&event, &sealed.object_ref(&())).await {
        warn!(%err, "cannot publish event");
    }
}

/// Creates an events.k8s.io/v1 Event as [`kube::runtime::events::Recorder::publish`] does for a
/// first occurrence, but keeps no copy in memory (no series: a repeat is a new Event).
async fn publish_uncached(
    ctx: &Ctx,
    event: &Event,
    reference: &ObjectReference,
) -> Result<(), kube::Error> {
    let now = k8s_openapi::jiff::Timestamp::now();
    let controller = &ctx.reporter.controller;
    let namespace = reference.namespace.as_deref().unwrap_or("default");
    let k8s_event = K8sEvent {
        action: Some(event.action.clone()),
        reason: Some(event.reason.clone()),
        event_time: Some(MicroTime(now)),
        regarding: Some(reference.clone()),
        note: event.note.clone(),
        metadata: ObjectMeta {
            namespace: Some(namespace.to_owned()),
            name: Some(format!(
                "{}.{:x}",
                reference.name.as_ref().unwrap_or(controller),
                now.as_nanosecond()
            )),
            ..Default::default()
        },
        reporting_controller: Some(controller.clone()),
        reporting_instance: Some(
            ctx.reporter
                .instance
                .clone()
                .unwrap_or_else(|| controller.clone()),
        ),
        type_: Some(match event.type_ {
            EventType::Normal => "Normal".into(),
            EventType::Warning => "Warning".into(),
        }),
        related: event.secondary.clone(),
        ..Default::default()
    };
    let events = Api::<K8sEvent>::namespaced(ctx.client.clone(), namespace);
    super::answers::create_unread(&events, &PostParams::default(), &k8s_event).await
}
