//! Reading a workload's digest and patching its pod template: one GET, then at most one JSON
//! merge patch of the one annotation, under the controller's field manager. Only in the
//! SealedSecret's namespace: the client is namespaced to it, and a target has no namespace.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use sealant_core::rollout::{Target, WorkloadKind, digest_annotation_key, same_key};
use sealant_core::sync::SyncKey;
use sealant_k8s::KubeError;
use serde_json::json;

use super::Env;

/// What a workload needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The data changed: patch unless it already carries the new digest.
    Force,
    /// Nothing changed: patch only if it carries an older digest under the current key (a
    /// missed change); one without a digest is left alone.
    CatchUp,
}

/// Whether the workload was patched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Patched {
    Yes,
    No,
}

/// Why one workload could not be checked or patched. The text names the workload and the
/// API server's answer; the digest and the Secret's data never appear.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RolloutError {
    /// No such workload in the SealedSecret's namespace.
    #[error("{target}: not found in namespace {namespace}")]
    NotFound {
        /// The workload.
        target: Target,
        /// The SealedSecret's namespace.
        namespace: String,
    },
    /// RBAC refused: the controller lacks `get` or `patch` on the kind there.
    #[error(
        "{target}: forbidden: the controller needs get and patch on {resource} in namespace {namespace} (docs/rollout.md, \"RBAC\")"
    )]
    Forbidden {
        /// The workload.
        target: Target,
        /// Its resource (`deployments`, …).
        resource: &'static str,
        /// The SealedSecret's namespace.
        namespace: String,
        /// The API server's answer.
        #[source]
        source: KubeError,
    },
    /// Any other failure of the GET or the patch (status code kept).
    #[error("{target}: {source}")]
    Api {
        /// The workload.
        target: Target,
        /// The API server's answer, or the client error.
        #[source]
        source: KubeError,
    },
}

impl RolloutError {
    fn from_kube(err: kube::Error, target: &Target, namespace: &str) -> Self {
        let err = KubeError::from(err);
        let target = target.clone();
        let namespace = namespace.to_owned();
        if err.is_not_found() {
            RolloutError::NotFound { target, namespace }
        } else if err.is_forbidden() {
            RolloutError::Forbidden {
                resource: plural(target.kind),
                target,
                namespace,
                source: err,
            }
        } else {
            RolloutError::Api {
                target,
                source: err,
            }
        }
    }

    /// Trying again later can help (no answer, throttling, 5xx, conflict).
    pub fn is_transient(&self) -> bool {
        matches!(self, RolloutError::Api { source, .. } if source.is_transient())
    }

    /// The patch is still owed once the error goes: transient, or forbidden (RBAC can be
    /// fixed without the SealedSecret changing).
    pub fn owed(&self) -> bool {
        self.is_transient() || matches!(self, RolloutError::Forbidden { .. })
    }
}

/// The API resource of a kind.
fn resource(kind: WorkloadKind) -> ApiResource {
    match kind {
        WorkloadKind::Deployment => ApiResource::erase::<Deployment>(&()),
        WorkloadKind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
        WorkloadKind::DaemonSet => ApiResource::erase::<DaemonSet>(&()),
    }
}

/// The resource name of a kind, for messages.
fn plural(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::Deployment => "deployments",
        WorkloadKind::StatefulSet => "statefulsets",
        WorkloadKind::DaemonSet => "daemonsets",
    }
}

/// The digest annotation `key` on a workload's pod template, if any.
pub(super) fn template_digest<'a>(workload: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    workload
        .get("spec")?
        .get("template")?
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

/// Whether a workload whose template carries `current` must get `digest`, in `mode`.
pub(super) fn needs_patch(key: &SyncKey, mode: Mode, current: Option<&str>, digest: &str) -> bool {
    match (mode, current) {
        (_, Some(current)) if current == digest => false,
        (Mode::Force, _) => true,
        (Mode::CatchUp, Some(current)) => same_key(key, current),
        (Mode::CatchUp, None) => false,
    }
}

/// Brings one workload of `namespace` to `digest` for Secret `secret`, as `mode` says.
pub(super) async fn roll(
    env: &Env<'_>,
    namespace: &str,
    secret: &str,
    target: &Target,
    digest: &str,
    mode: Mode,
) -> Result<Patched, RolloutError> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(env.client.clone(), namespace, &resource(target.kind));
    let fail = |err| RolloutError::from_kube(err, target, namespace);
    let workload = api.get(&target.name).await.map_err(fail)?;
    let key = digest_annotation_key(secret);
    if !needs_patch(
        env.sync_key,
        mode,
        template_digest(&workload.data, &key),
        digest,
    ) {
        return Ok(Patched::No);
    }
    // A merge patch of our one annotation: the rest of the template stays its owners', and
    // SealedSecrets naming the same workload each write their own key.
    let body =
        json!({ "spec": { "template": { "metadata": { "annotations": { key: digest } } } } });
    let params = PatchParams {
        field_manager: Some(env.field_manager.to_owned()),
        ..PatchParams::default()
    };
    api.patch(&target.name, &params, &Patch::Merge(&body))
        .await
        .map_err(fail)?;
    Ok(Patched::Yes)
}
