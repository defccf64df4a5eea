//! Why a reconcile failed, and what follows from it by type: the metric label, the event reason,
//! whether a retry can help.

/// Why a reconcile failed; [`ReconcileError::kind`] is the metric's `reason`.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The items could not be unsealed (opaque crypto error, bad base64, template error).
    #[error("{0}")]
    Unseal(#[from] sealant_core::UnsealError),
    /// As [`ReconcileError::Unseal`], in a tenant's namespace: the same opaque error, and whose
    /// keys were tried (docs/multi-tenancy.md, "Tenant keys").
    #[error("{source} (tried the {keys})")]
    TenantUnseal {
        /// `keys of tenant T` (and the cluster keys, with the migration switch).
        keys: String,
        /// The opaque error.
        #[source]
        source: sealant_core::UnsealError,
    },
    /// The namespace's tenant label is not a tenant name: no key opens its objects (fail
    /// closed) until an administrator fixes the label.
    #[error("namespace {namespace:?}: {source}")]
    TenantLabel {
        /// The object's namespace.
        namespace: String,
        /// The label and why its value is refused.
        #[source]
        source: crate::keys::BadTenantLabel,
    },
    /// The namespace's tenant has no keys yet (the leader makes them): retried.
    #[error("{0}; the controller creates them, retrying")]
    TenantKeysNotReady(#[source] crate::keys::TenantKeysNotReady),
    /// The blocking task that unseals died.
    #[error("unseal task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// The render slots closed: the controller is shutting down.
    #[error("unseal task failed: the controller is shutting down")]
    ShuttingDown,
    /// The Secret exists and is neither ours nor `managed`/`patch`.
    #[error("failed update: Resource {0:?} already exists and is not managed by SealedSecret")]
    Unmanaged(String),
    /// Reading or writing an object failed at the API server (status code kept).
    #[error("{}", .0.kube())]
    Update(#[source] sealant_k8s::KubeError),
    /// The Secret is immutable and its data would change (upstream's message).
    #[error("Error updating {namespace}/{name}: {IMMUTABLE_MESSAGE}")]
    Immutable {
        /// The Secret's namespace.
        namespace: String,
        /// The Secret's name.
        name: String,
    },
    /// The object cannot be represented (should not happen).
    #[error("malformed SealedSecret: {0}")]
    Malformed(#[source] sealant_k8s::ConvertError),
    /// A copy fetched whole from the API server still lacks its ciphertexts.
    #[error("malformed SealedSecret: the copy fetched whole still lacks its ciphertexts")]
    NotWhole,
    /// A namespace-selector scoped object whose namespace's labels do not match its selector
    /// (or whose namespace is gone): nothing is unsealed, the Secret is left as it is
    /// (docs/multi-tenancy.md, "Namespace-selector scope").
    #[error(
        "namespace {namespace:?} is not selected by this SealedSecret's namespace selector {selector:?}: not unsealed, the Secret is left as it is"
    )]
    NamespaceNotSelected {
        /// The object's namespace.
        namespace: String,
        /// The canonical selector.
        selector: String,
    },
    /// A selector-scoped object, and the controller runs without --namespace-selector-scope.
    #[error(
        "this SealedSecret has the namespace-selector scope, which this controller does not enable (--namespace-selector-scope)"
    )]
    SelectorScopeDisabled,
    /// The namespace-selector annotation does not parse.
    #[error("invalid {annotation} annotation: {0}", annotation = sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR)]
    Selector(#[source] sealant_core::SelectorError),
    /// The namespace's labels could not be read (status code kept).
    #[error("cannot read the labels of namespace {namespace:?}: {}", .source.kube())]
    NamespaceLabels {
        /// The object's namespace.
        namespace: String,
        /// The API server's error (boxed: it would double every reconcile result's size).
        #[source]
        source: Box<sealant_k8s::KubeError>,
    },
}

impl From<kube::Error> for ReconcileError {
    fn from(err: kube::Error) -> Self {
        ReconcileError::Update(err.into())
    }
}

impl ReconcileError {
    /// Upstream's `unseal_errors_total` reason: `unseal`, `unmanaged` or `update`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_)
            | ReconcileError::TenantUnseal { .. }
            | ReconcileError::TenantLabel { .. }
            | ReconcileError::TenantKeysNotReady(_)
            | ReconcileError::Task(_)
            | ReconcileError::ShuttingDown
            | ReconcileError::Malformed(_)
            | ReconcileError::NotWhole
            | ReconcileError::Selector(_)
            | ReconcileError::SelectorScopeDisabled => "unseal",
            ReconcileError::NamespaceNotSelected { .. }
            | ReconcileError::NamespaceLabels { .. } => "namespace",
            ReconcileError::Unmanaged(_) => "unmanaged",
            ReconcileError::Update(_) | ReconcileError::Immutable { .. } => "update",
        }
    }

    /// Upstream's event reason.
    pub(super) fn event_reason(&self) -> &'static str {
        match self {
            ReconcileError::Unseal(_)
            | ReconcileError::TenantUnseal { .. }
            | ReconcileError::TenantLabel { .. }
            | ReconcileError::TenantKeysNotReady(_)
            | ReconcileError::Task(_)
            | ReconcileError::ShuttingDown
            | ReconcileError::Malformed(_)
            | ReconcileError::NotWhole
            | ReconcileError::Selector(_)
            | ReconcileError::SelectorScopeDisabled
            | ReconcileError::NamespaceLabels { .. } => "ErrUnsealFailed",
            ReconcileError::NamespaceNotSelected { .. } => REASON_NAMESPACE_NOT_SELECTED,
            ReconcileError::Unmanaged(_)
            | ReconcileError::Update(_)
            | ReconcileError::Immutable { .. } => "ErrUpdateFailed",
        }
    }

    /// Retrying cannot help until the object changes: an immutable Secret (upstream gives up
    /// at once too), or an object the API server refuses as such (400, 413, 422).
    pub(super) fn is_permanent(&self) -> bool {
        match self {
            // A namespace that is not selected comes back through the Namespace watch when it
            // is relabelled (crate::namespaces): retries cannot help before.
            ReconcileError::Immutable { .. }
            | ReconcileError::Selector(_)
            | ReconcileError::SelectorScopeDisabled
            | ReconcileError::NamespaceNotSelected { .. }
            // Comes back through the Namespace watch when the label is fixed.
            | ReconcileError::TenantLabel { .. } => true,
            ReconcileError::Update(err) => err.is_invalid(),
            _ => false,
        }
    }
}

/// Reason of the `Synced=False` condition and of the Warning event while a selector-scoped
/// object's namespace is not selected.
pub const REASON_NAMESPACE_NOT_SELECTED: &str = "NamespaceNotSelected";

/// The reason of a failed `Synced` condition (upstream sets none).
pub(super) fn condition_reason(err: &ReconcileError) -> Option<&'static str> {
    match err {
        ReconcileError::NamespaceNotSelected { .. } => Some(REASON_NAMESPACE_NOT_SELECTED),
        _ => None,
    }
}

pub(super) const IMMUTABLE_MESSAGE: &str = "the target Secret is immutable. Once a Secret is marked as immutable, it is not possible to revert this change nor to mutate the contents of the data field. You can only delete and recreate the Secret.";

pub(super) use crate::text::truncate;
