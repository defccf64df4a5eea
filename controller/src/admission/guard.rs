//! The plaintext guard (docs/admission.md, "Plaintext guard"): in namespaces an administrator
//! labels `sealant.dev/plaintext-guard: deny` (or `warn`), Secrets carrying data are refused
//! (or admitted with a warning) unless an exemption applies. The API server calls one webhook
//! path per mode, chosen by the webhook configuration's namespaceSelector, so the controller
//! never reads Namespaces and is not called at all for other namespaces.
//!
//! Values are never read beyond "is there any": messages name the Secret and the rule only.

use std::collections::BTreeSet;

use kube::core::DynamicObject;
use kube::core::admission::Operation;

use super::review::{Request, Verdict};

/// The namespace label that turns the guard on, and its values.
pub const GUARD_LABEL: &str = "sealant.dev/plaintext-guard";

/// The HTTP code of a refusal by policy.
const FORBIDDEN: u16 = 403;

/// What the guard does with a Secret it does not exempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Refuse it.
    Deny,
    /// Admit it with an admission warning.
    Warn,
}

impl Mode {
    fn label_value(self) -> &'static str {
        match self {
            Mode::Deny => "deny",
            Mode::Warn => "warn",
        }
    }
}

/// Who and what the guard lets through (docs/admission.md, "Exemptions").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    /// The controller's own user: its Secrets are always admitted.
    pub controller_user: Option<String>,
    /// Further users (exact names, e.g. `system:serviceaccount:cert-manager:cert-manager`).
    pub users: BTreeSet<String>,
    /// Secret types (`kubernetes.io/service-account-token`, `helm.sh/release.v1`, …).
    pub types: BTreeSet<String>,
    /// Owner kinds: `Kind` or `group/Kind` of an ownerReference.
    pub owner_kinds: BTreeSet<String>,
}

impl Exemptions {
    /// The exemptions from comma-separated flag values.
    pub fn from_lists(controller_user: &str, users: &str, types: &str, owners: &str) -> Self {
        let set = |text: &str| -> BTreeSet<String> {
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Self {
            controller_user: Some(controller_user.trim().to_owned()).filter(|u| !u.is_empty()),
            users: set(users),
            types: set(types),
            owner_kinds: set(owners),
        }
    }
}

/// The guard's decision on one request for a Secret in a namespace labelled with `mode`.
pub(crate) fn decide(exemptions: &Exemptions, mode: Mode, request: &Request) -> Verdict {
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return Verdict::allow();
    }
    let Some(secret) = &request.object else {
        return Verdict::allow();
    };
    if !carries_data(secret) || exempt(exemptions, request, secret) {
        return Verdict::allow();
    }
    // An update that writes no new plaintext (labels, finalizers, the garbage collector
    // removing an ownerReference) goes through, so Secrets from before the label keep working.
    if request
        .old_object
        .as_ref()
        .is_some_and(|old| same_payload(old, secret))
    {
        return Verdict::allow();
    }
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let name = if request.name.is_empty() {
        secret.metadata.generate_name.as_deref().unwrap_or_default()
    } else {
        request.name.as_str()
    };
    let why = format!(
        "Secret {namespace}/{name} carries plaintext data in a namespace labelled {GUARD_LABEL}={}: commit a SealedSecret instead (sealant seal)",
        mode.label_value()
    );
    match mode {
        Mode::Deny => Verdict::Deny {
            code: FORBIDDEN,
            message: why,
        },
        Mode::Warn => Verdict::warn(why),
    }
}

fn exempt(exemptions: &Exemptions, request: &Request, secret: &DynamicObject) -> bool {
    let user = request.user_info.username.as_deref().unwrap_or_default();
    if exemptions.controller_user.as_deref() == Some(user) || exemptions.users.contains(user) {
        return true;
    }
    let type_ = secret
        .data
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("Opaque");
    if exemptions.types.contains(type_) {
        return true;
    }
    secret
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|owner| {
            let group = owner.api_version.split_once('/').map_or("", |(g, _)| g);
            exemptions.owner_kinds.contains(&owner.kind)
                || exemptions
                    .owner_kinds
                    .contains(&format!("{group}/{}", owner.kind))
        })
}

/// Whether `data` or `stringData` has at least one entry (values are not looked at).
fn carries_data(secret: &DynamicObject) -> bool {
    ["data", "stringData"].iter().any(|field| {
        secret
            .data
            .get(*field)
            .and_then(|v| v.as_object())
            .is_some_and(|map| !map.is_empty())
    })
}

/// Whether an update keeps the Secret's type and values as they were.
fn same_payload(old: &DynamicObject, new: &DynamicObject) -> bool {
    ["data", "stringData", "type"]
        .iter()
        .all(|field| old.data.get(*field) == new.data.get(*field))
}
