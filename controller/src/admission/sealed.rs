//! The SealedSecret checks of the admission webhook (docs/admission.md, "What is refused").
//!
//! Two kinds, both saying no more than `/v1/verify` (docs/admission.md, "No oracle"):
//! * offline, without keys: malformed items and item names, scope annotations that contradict
//!   each other (both scopes at the top level; top level against the template), a template
//!   sealed for another name or namespace, templates that do not parse or call unsupported
//!   functions. Templates are parsed, never executed: executing one over the decrypted items
//!   would let its author learn about the values from the answer.
//! * whether the items open with this controller's keys under the object's scope: the very
//!   check of `/v1/verify` (`crate::http::opens`), answered with one opaque message.

use kube::core::DynamicObject;
use kube::core::admission::Operation;
use sealant_core::inspect::{Severity, analyze};
use sealant_core::scope::{ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE};
use sealant_core::selector::{ANNOTATION_NAMESPACE_SELECTOR, Selector};
use sealant_core::{Scope, SealedSecret, UnsealError};

use super::review::{Request, Verdict};
use crate::keys::{KeySnapshot, KeyStore, NamespaceOwnerError};

/// The HTTP code of a refused SealedSecret: the object is invalid.
const INVALID: u16 = 422;

/// What to do with a request before any key is used.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Decided without keys.
    Done(Verdict),
    /// The offline checks passed: try the items with the keys, then add `warnings`.
    Open {
        /// The object (ciphertexts only).
        sealed: Box<SealedSecret>,
        /// Offline warnings to pass on whatever the keys say.
        warnings: Vec<String>,
    },
}

/// Decides what a request needs: nothing (not a create or update, being deleted, an update
/// that leaves everything checked as it was), a refusal from the offline checks, or the key
/// check.
pub(crate) fn plan(request: &Request) -> Plan {
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return Plan::Done(Verdict::allow());
    }
    let Some(object) = &request.object else {
        return Plan::Done(Verdict::allow());
    };
    // Metadata-only writes (finalizers, labels, the garbage collector, a deletion) must go
    // through even for an object that no longer opens, or it could never be deleted.
    if object.metadata.deletion_timestamp.is_some()
        || request
            .old_object
            .as_ref()
            .is_some_and(|old| same_checked_fields(old, object))
    {
        return Plan::Done(Verdict::allow());
    }
    let sealed = match to_core(object, request.namespace.as_deref()) {
        Ok(sealed) => sealed,
        Err(message) => return Plan::Done(deny(message)),
    };
    let (refusals, warnings) = offline(&sealed);
    if !refusals.is_empty() {
        return Plan::Done(deny(format!(
            "SealedSecret {}: {}",
            object_name(&sealed),
            refusals.join("; ")
        )));
    }
    Plan::Open {
        sealed: Box::new(sealed),
        warnings,
    }
}

/// The verdict on the key check's result (`crate::http::opens`).
pub(crate) fn opened(
    sealed: &SealedSecret,
    result: Result<u64, UnsealError>,
    warnings: Vec<String>,
) -> Verdict {
    match result {
        Ok(_) => Verdict::Allow { warnings },
        Err(UnsealError::Items(errors)) if errors.no_key_opened() => {
            let items: Vec<&str> = errors.undecryptable.iter().map(String::as_str).collect();
            deny(format!(
                "SealedSecret {}: no key of this controller can decrypt item(s) {} for {}: it was sealed for another cluster, key, namespace or name; seal it again with this cluster's certificate (sealant seal, kubeseal --fetch-cert)",
                object_name(sealed),
                items.join(", "),
                scope_binding(sealed),
            ))
        }
        Err(err) => deny(format!(
            "SealedSecret {}: cannot unseal: {err}",
            object_name(sealed)
        )),
    }
}

/// Whose keys the object's namespace uses (docs/multi-tenancy.md, "Tenant keys"), by the rule
/// `/v1/verify` applies; `warnings` come back with it. Not checked (allowed, with a warning)
/// when the namespace cannot be read or its tenant has no keys yet; refused when its tenant
/// label is not a tenant name (nothing would ever open it there).
///
/// # Errors
/// The verdict, when there is nothing to open.
pub(crate) async fn key_owner(
    keys: &KeyStore,
    snapshot: &KeySnapshot,
    sealed: &SealedSecret,
    mut warnings: Vec<String>,
) -> Result<(sealant_core::KeyOwner, Vec<String>), Verdict> {
    let namespace = sealed.metadata.namespace_or_empty();
    let owner = match keys.owner_of_namespace(snapshot, namespace).await {
        Ok(owner) => owner,
        Err(err @ NamespaceOwnerError::BadLabel { .. }) => {
            return Err(deny(format!("SealedSecret {}: {err}", object_name(sealed))));
        }
        Err(NamespaceOwnerError::Lookup { .. }) => {
            warnings.push(format!(
                "sealant: not checked: cannot read the labels of namespace {namespace}"
            ));
            return Err(Verdict::Allow { warnings });
        }
    };
    if let Err(err) = snapshot.keys_for(&owner) {
        warnings.push(format!("sealant: not checked: {err}"));
        return Err(Verdict::Allow { warnings });
    }
    Ok((owner, warnings))
}

/// The offline checks: refusals, then warnings.
pub(crate) fn offline(sealed: &SealedSecret) -> (Vec<String>, Vec<String>) {
    let (mut refusals, mut warnings) = (Vec::new(), Vec::new());
    let is_true = |key: &str| sealed.metadata.annotation(key) == Some("true");
    if is_true(ANNOTATION_CLUSTER_WIDE) && is_true(ANNOTATION_NAMESPACE_WIDE) {
        refusals.push(format!(
            "annotations {ANNOTATION_CLUSTER_WIDE} and {ANNOTATION_NAMESPACE_WIDE} are both \"true\": keep the one the object was sealed with"
        ));
    }
    for problem in analyze(sealed).problems {
        match problem.severity() {
            Severity::Error => refusals.push(problem.to_string()),
            _ => warnings.push(problem.to_string()),
        }
    }
    for (key, source) in sealed.spec.template.data.iter().flatten() {
        if let Err(err) = sealant_core::template::check(source, key) {
            refusals.push(err.to_string());
        }
    }
    (refusals, warnings)
}

/// The object as sealant-core reads it; its namespace from the request when the object has
/// none yet.
fn to_core(object: &DynamicObject, namespace: Option<&str>) -> Result<SealedSecret, String> {
    let mut sealed: SealedSecret = serde_json::to_value(object)
        .and_then(serde_json::from_value)
        // serde's text can quote the input: only say which kind of object it is not.
        .map_err(|_| {
            "not a valid bitnami.com/v1alpha1 SealedSecret (spec.encryptedData must map item names to base64 strings)".to_owned()
        })?;
    if sealed
        .metadata
        .namespace
        .as_deref()
        .is_none_or(str::is_empty)
    {
        sealed.metadata.namespace = namespace.map(str::to_owned);
    }
    Ok(sealed)
}

/// Whether an update leaves alone everything the checks read: the spec, and the annotations
/// that choose the scope and the key.
fn same_checked_fields(old: &DynamicObject, new: &DynamicObject) -> bool {
    const CHECKED: [&str; 4] = [
        ANNOTATION_CLUSTER_WIDE,
        ANNOTATION_NAMESPACE_WIDE,
        ANNOTATION_NAMESPACE_SELECTOR,
        sealant_core::sealing::KEY_HINT_ANNOTATION,
    ];
    let annotation = |object: &DynamicObject, key: &str| {
        object
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
    };
    old.data.get("spec") == new.data.get("spec")
        && CHECKED
            .iter()
            .all(|key| annotation(old, key) == annotation(new, key))
}

/// The object's scope and what it binds the items to, in words: a namespace selector
/// (docs/multi-tenancy.md) binds no namespace or name, only the selector.
fn scope_binding(sealed: &SealedSecret) -> String {
    let annotations = sealed.metadata.annotations.as_ref();
    if let Ok(Some(selector)) = Selector::from_annotations(annotations) {
        return format!("scope namespace-selector (bound to the selector \"{selector}\")");
    }
    let scope = Scope::from_annotations(annotations);
    let namespace = sealed.metadata.namespace_or_empty();
    let binding = match scope {
        Scope::Strict => format!(
            "bound to namespace {namespace:?} and name {:?}",
            sealed.metadata.name_or_empty()
        ),
        Scope::NamespaceWide => format!("bound to namespace {namespace:?}"),
        Scope::ClusterWide => "bound to no namespace or name".to_owned(),
    };
    format!("scope {scope} ({binding})")
}

fn object_name(sealed: &SealedSecret) -> String {
    format!(
        "{}/{}",
        sealed.metadata.namespace_or_empty(),
        sealed.metadata.name_or_empty()
    )
}

fn deny(message: String) -> Verdict {
    Verdict::Deny {
        code: INVALID,
        message,
    }
}
