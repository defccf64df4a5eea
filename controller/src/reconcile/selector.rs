//! The namespace-selector gate (docs/multi-tenancy.md, "Namespace-selector scope"): a
//! selector-scoped SealedSecret is unsealed only while its namespace's labels match its
//! selector. The check comes before anything else, the in-sync fast path included, so a
//! namespace that stops matching shows `Synced=False` at once; its Secret is left as it is.

use kube::ResourceExt as _;
use sealant_core::Selector;

use super::{Ctx, ReconcileError};
use crate::crd::SealedSecret;

/// The object's selector, if it is selector-scoped.
///
/// # Errors
/// [`ReconcileError::Selector`] when the annotation does not parse.
pub(super) fn selector_of(sealed: &SealedSecret) -> Result<Option<Selector>, ReconcileError> {
    Selector::from_annotations(sealed.metadata.annotations.as_ref())
        .map_err(ReconcileError::Selector)
}

/// Passes objects without a selector, and selector-scoped objects whose namespace matches.
///
/// # Errors
/// [`ReconcileError::NamespaceNotSelected`], [`ReconcileError::NamespaceLabels`],
/// [`ReconcileError::SelectorScopeDisabled`] or [`ReconcileError::Selector`].
pub(super) async fn check(sealed: &SealedSecret, ctx: &Ctx) -> Result<(), ReconcileError> {
    let Some(selector) = selector_of(sealed)? else {
        return Ok(());
    };
    if !ctx.args.namespace_selector_scope {
        return Err(ReconcileError::SelectorScopeDisabled);
    }
    let namespace = sealed.namespace().unwrap_or_default();
    let labels = namespace_labels(&namespace, ctx).await?;
    if labels.is_some_and(|labels| selector.matches(&labels)) {
        return Ok(());
    }
    Err(ReconcileError::NamespaceNotSelected {
        namespace,
        selector: selector.canonical(),
    })
}

/// The labels of `namespace` (`None`: it is gone), from the Namespace watch when it runs.
///
/// # Errors
/// [`ReconcileError::NamespaceLabels`] when they cannot be read.
pub(super) async fn namespace_labels(
    namespace: &str,
    ctx: &Ctx,
) -> Result<Option<std::collections::BTreeMap<String, String>>, ReconcileError> {
    ctx.namespaces
        .labels(namespace)
        .await
        .map_err(|err| ReconcileError::NamespaceLabels {
            namespace: namespace.to_owned(),
            source: Box::new(err.into()),
        })
}
