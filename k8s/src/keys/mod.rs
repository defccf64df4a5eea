//! Key Secrets in the controller namespace, written once for the CLI and the controller
//! (docs/upstream.md, "Key Secrets"; docs/rotation.md, "1. Keys and their states"):
//!
//! - [`list`] and [`legacy`]: which Secrets are key Secrets, by label, and upstream's legacy
//!   unlabelled single key;
//! - [`KeyRecord`]: one key Secret read through sealant-core's readers (no second parser),
//!   with its state, the time keys are ordered by, and why it cannot be used, if so;
//! - [`sealing_key`]: the one rule for which key seals: the newest usable active key of a kind.
//!
//! The rule reads keys through [`SealingCandidate`], so the controller's loaded keys and the
//! CLI's inventory entries are ranked by the same code.

mod record;
mod rule;
#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::ListParams;
use sealant_core::keysecret::age::AGE_KEY_LABEL;
use sealant_core::keysecret::{KEY_LABEL, KEY_STATE_ACTIVE, KEY_STATE_COMPROMISED};
use sealant_core::tenant::{TENANT_LABEL, TenantName};

pub use record::{KeyMaterial, KeyProblem, KeyRecord, OrderPriority};
pub use rule::{SealingCandidate, sealing_key, sort_oldest_first};

use crate::error::KubeError;

/// The two kinds of sealing keys a controller holds. RSA sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// RSA: upstream's key Secrets, label [`KEY_LABEL`].
    Rsa,
    /// age: label [`AGE_KEY_LABEL`].
    Age,
}

impl KeyKind {
    /// Both kinds, RSA first.
    pub const ALL: [KeyKind; 2] = [KeyKind::Rsa, KeyKind::Age];

    /// `rsa` or `age` (also the `kind` label of the controller's metrics).
    pub const fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "rsa",
            KeyKind::Age => "age",
        }
    }

    /// The label that marks a Secret as a key of this kind; its value is the key's state.
    pub const fn label(self) -> &'static str {
        match self {
            KeyKind::Rsa => KEY_LABEL,
            KeyKind::Age => AGE_KEY_LABEL,
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which key Secrets a listing asks the API server for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Every key Secret, whatever its state (the CLI's inventory, backups).
    Every,
    /// Those whose state unseals, active and compromised: what a controller loads. The API
    /// server filters; callers still check the state they read.
    Unsealing,
}

impl Listing {
    /// The label selector for `kind`'s key Secrets of `owners`.
    pub fn selector(self, kind: KeyKind, owners: Owners<'_>) -> String {
        let state = match self {
            Listing::Every => kind.label().to_owned(),
            Listing::Unsealing => format!(
                "{} in ({KEY_STATE_ACTIVE},{KEY_STATE_COMPROMISED})",
                kind.label()
            ),
        };
        match owners {
            Owners::All => state,
            Owners::Cluster => format!("{state},!{TENANT_LABEL}"),
            Owners::Tenant(tenant) => format!("{state},{TENANT_LABEL}={tenant}"),
        }
    }
}

/// Whose key Secrets a listing asks for (docs/multi-tenancy.md, "Tenant keys"): a tenant's key
/// Secrets carry [`TENANT_LABEL`], the cluster's do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owners<'a> {
    /// The cluster key set only (what upstream's tools see as the keys).
    Cluster,
    /// One tenant's key set.
    Tenant(&'a TenantName),
    /// Every key Secret, the cluster's and every tenant's (`KeyRecord::owner` tells them apart).
    All,
}

/// Reading key Secrets from the API server failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyListError {
    /// Listing a kind's key Secrets failed.
    #[error("cannot list {kind} key Secrets: {source}")]
    List {
        /// The kind listed.
        kind: KeyKind,
        /// The API server's answer, status code kept.
        #[source]
        source: KubeError,
    },
    /// Reading the legacy key Secret by name failed.
    #[error("cannot read Secret {name}: {source}")]
    Get {
        /// The Secret's name.
        name: String,
        /// The API server's answer, status code kept.
        #[source]
        source: KubeError,
    },
}

impl KeyListError {
    /// The API error behind it.
    pub fn kube(&self) -> &KubeError {
        match self {
            KeyListError::List { source, .. } | KeyListError::Get { source, .. } => source,
        }
    }
}

/// The key Secrets of `kind` and `owners` that `listing` selects, in the API server's list
/// order. The legacy key ([`legacy`]) is the cluster's and is not listed here.
///
/// # Errors
/// The API server refused or was not reached.
pub async fn list(
    api: &Api<K8sSecret>,
    kind: KeyKind,
    listing: Listing,
    owners: Owners<'_>,
) -> Result<Vec<K8sSecret>, KeyListError> {
    let params = ListParams::default().labels(&listing.selector(kind, owners));
    api.list(&params)
        .await
        .map(|list| list.items)
        .map_err(|e| KeyListError::List {
            kind,
            source: e.into(),
        })
}

/// Upstream's legacy single key (before upstream v0.9): the Secret named exactly `name` (the
/// key prefix), which controllers load as an active RSA key when unlabelled (a label, if it has
/// one, gives its state as for any key). `None` when it does not exist or `listed` (the RSA
/// listing) holds it already.
///
/// # Errors
/// The API server refused or was not reached ([`KubeError::is_forbidden`] tells a caller that
/// may go without it).
pub async fn legacy(
    api: &Api<K8sSecret>,
    name: &str,
    listed: &[K8sSecret],
) -> Result<Option<K8sSecret>, KeyListError> {
    let found = api.get_opt(name).await.map_err(|e| KeyListError::Get {
        name: name.to_owned(),
        source: e.into(),
    })?;
    Ok(found.filter(|l| !listed.iter().any(|s| s.metadata.name == l.metadata.name)))
}
