//! Events and log lines about key protection (docs/key-protection.md, "Failures"): one event
//! per change, not per poll. Provider-wide ones regard the controller's Pod (`$POD_NAME`),
//! per-key ones the key Secret.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use sealant_kms::ErrorKind;
use tracing::{debug, error, info, warn};

use super::protection::{Resolution, UnwrapFailure};

/// Event reasons.
pub(super) const PROVIDER_UNAVAILABLE: &str = "KeyProviderUnavailable";
pub(super) const PROVIDER_RECOVERED: &str = "KeyProviderRecovered";
pub(super) const UNWRAP_FAILED: &str = "KeyUnwrapFailed";
pub(super) const RENEWAL_WAITING: &str = "KeyRenewalWaiting";

/// What was last said, per subject (`""` for the provider, else a key Secret's name).
pub(super) struct ProtectionEvents {
    recorder: Recorder,
    namespace: String,
    pod: String,
    said: parking_lot::Mutex<HashMap<String, (&'static str, ErrorKind)>>,
}

impl ProtectionEvents {
    pub(super) fn new(client: Client, namespace: &str) -> Self {
        let pod = std::env::var("POD_NAME").unwrap_or_else(|_| "sealant-controller".to_owned());
        let reporter = Reporter {
            controller: "sealed-secrets".into(),
            instance: Some(pod.clone()),
        };
        ProtectionEvents {
            recorder: Recorder::new(client, reporter),
            namespace: namespace.to_owned(),
            pod,
            said: parking_lot::Mutex::new(HashMap::new()),
        }
    }

    /// Reports the per-key failures one read of the key Secrets found, on their Secrets.
    pub(super) async fn resolution(&self, resolution: &Resolution) {
        for failure in &resolution.failures {
            self.key_failure(failure).await;
        }
        let failed: Vec<&str> = resolution
            .failures
            .iter()
            .map(|f| f.secret.as_str())
            .collect();
        self.said.lock().retain(|subject, _| {
            subject.is_empty() || subject == "renewal" || failed.contains(&subject.as_str())
        });
    }

    async fn key_failure(&self, failure: &UnwrapFailure) {
        if !self.changed(&failure.secret, UNWRAP_FAILED, failure.kind) {
            return;
        }
        warn!(
            secret = %failure.secret,
            kind = %failure.kind,
            error = %failure.message,
            "cannot unwrap a protected key; the other keys keep working"
        );
        let note = format!(
            "cannot unwrap this key ({}): {}",
            failure.kind, failure.message
        );
        self.publish(
            EventType::Warning,
            UNWRAP_FAILED,
            note,
            self.secret(&failure.secret),
        )
        .await;
    }

    /// The provider cannot be used: not ready (at start) or no new key (after).
    pub(super) async fn unavailable(&self, kind: ErrorKind, message: &str, starting: bool) {
        if !self.changed("", PROVIDER_UNAVAILABLE, kind) {
            return;
        }
        let consequence = if starting {
            "not ready, no key generated, nothing deleted; retrying"
        } else {
            "keys in memory keep unsealing; retrying"
        };
        error!(%kind, error = %message, "key protection provider unavailable: {consequence}");
        let note =
            format!("key protection provider unavailable ({kind}): {message}; {consequence}");
        self.publish(EventType::Warning, PROVIDER_UNAVAILABLE, note, self.pod())
            .await;
    }

    /// A new key waits for the provider.
    pub(super) async fn renewal_waiting(&self, kind: ErrorKind, message: &str) {
        if !self.changed("renewal", RENEWAL_WAITING, kind) {
            return;
        }
        warn!(%kind, error = %message, "new key waits for the key protection provider; retrying");
        let note = format!(
            "a new key waits for the key protection provider ({kind}): {message}; the current keys keep working"
        );
        self.publish(EventType::Warning, RENEWAL_WAITING, note, self.pod())
            .await;
    }

    /// A new key was written: renewal no longer waits.
    pub(super) fn renewal_done(&self) {
        self.said.lock().remove("renewal");
    }

    /// The provider works again (after [`ProtectionEvents::unavailable`]).
    pub(super) async fn recovered(&self) {
        if self.said.lock().remove("").is_none() {
            return;
        }
        info!("key protection provider available again");
        self.publish(
            EventType::Normal,
            PROVIDER_RECOVERED,
            "key protection provider available again".to_owned(),
            self.pod(),
        )
        .await;
    }

    /// Records `(reason, kind)` for `subject`; true if that is news.
    fn changed(&self, subject: &str, reason: &'static str, kind: ErrorKind) -> bool {
        self.said.lock().insert(subject.to_owned(), (reason, kind)) != Some((reason, kind))
    }

    fn pod(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".to_owned()),
            kind: Some("Pod".to_owned()),
            name: Some(self.pod.clone()),
            namespace: Some(self.namespace.clone()),
            ..ObjectReference::default()
        }
    }

    fn secret(&self, name: &str) -> ObjectReference {
        ObjectReference {
            api_version: Some("v1".to_owned()),
            kind: Some("Secret".to_owned()),
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.clone()),
            ..ObjectReference::default()
        }
    }

    async fn publish(
        &self,
        type_: EventType,
        reason: &str,
        note: String,
        regarding: ObjectReference,
    ) {
        // The API server refuses notes over 1 kB.
        let note = crate::text::truncate(&note, 1000);
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: "KeyProtection".to_owned(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &regarding).await {
            debug!(%err, reason, "cannot record a key protection event");
        }
    }
}
