//! Tenant keys in a reconcile (docs/multi-tenancy.md, "Tenant keys"): whose keys open the
//! object, by the one rule of `crate::keys` (`KeySnapshot::keys_for`), and the owner bound into
//! the in-sync digest, so that an object whose namespace moved to another tenant, or whose
//! tenant lost the migration switch, is decrypted again instead of staying `Synced`.

use std::sync::Arc;

use kube::ResourceExt as _;
use sealant_core::KeyOwner;
use sealant_core::sync::{self, SyncKey};

use super::{Ctx, ReconcileError};
use crate::crd::SealedSecret;
use crate::keys::KeySnapshot;

/// The keys one reconcile uses: one snapshot, and the owner whose keys serve the namespace.
pub(super) struct ObjectKeys {
    pub(super) snapshot: Arc<KeySnapshot>,
    pub(super) owner: KeyOwner,
    /// What the digest binds besides the object (`OwnerKeys::digest_tag`).
    tag: String,
}

impl ObjectKeys {
    /// The keys of `owner` in `snapshot`.
    ///
    /// # Errors
    /// [`ReconcileError::TenantKeysNotReady`]: the tenant has no keys yet.
    pub(super) fn of(snapshot: Arc<KeySnapshot>, owner: KeyOwner) -> Result<Self, ReconcileError> {
        let tag = snapshot
            .keys_for(&owner)
            .map_err(ReconcileError::TenantKeysNotReady)?
            .digest_tag();
        Ok(Self {
            snapshot,
            owner,
            tag,
        })
    }

    /// `inputs` (the object's inputs digest) bound to the owner: unchanged for the cluster keys
    /// (digests written before tenant keys, or with them off, stay valid), else a MAC under the
    /// sync key over the owner tag and `inputs`.
    pub(super) fn bind(&self, inputs: [u8; 32], key: &SyncKey) -> [u8; 32] {
        bind_owner(inputs, &self.tag, key)
    }

    /// The unseal error, with whose keys were tried in a tenant's namespace.
    pub(super) fn unseal_error(&self, source: sealant_core::UnsealError) -> ReconcileError {
        match self.snapshot.keys_for(&self.owner) {
            Ok(keys) if self.owner != KeyOwner::Cluster => ReconcileError::TenantUnseal {
                keys: keys.describe(),
                source,
            },
            _ => ReconcileError::Unseal(source),
        }
    }
}

/// See [`ObjectKeys::bind`]. The entry names hold a `/`, which no Secret data key may (the
/// API server allows `[-._a-zA-Z0-9]` only), so the MAC never equals a data MAC.
pub(super) fn bind_owner(inputs: [u8; 32], tag: &str, key: &SyncKey) -> [u8; 32] {
    if tag.is_empty() {
        return inputs;
    }
    sync::data_mac_entries(
        key,
        [
            ("sealant.dev/key-owner", tag.as_bytes()),
            ("sealant.dev/inputs", inputs.as_slice()),
        ],
    )
}

/// The keys for `sealed`'s namespace: with tenant keys off, the cluster's without a lookup.
///
/// # Errors
/// The namespace's labels cannot be read, its tenant label is not a tenant name, or its tenant
/// has no keys yet.
pub(super) async fn keys(sealed: &SealedSecret, ctx: &Ctx) -> Result<ObjectKeys, ReconcileError> {
    let snapshot = ctx.keys.snapshot();
    if !snapshot.tenancy.enabled {
        return ObjectKeys::of(snapshot, KeyOwner::Cluster);
    }
    let namespace = sealed.namespace().unwrap_or_default();
    let labels = super::selector::namespace_labels(&namespace, ctx).await?;
    let owner = snapshot
        .tenancy
        .owner_of(labels.as_ref())
        .map_err(|source| ReconcileError::TenantLabel { namespace, source })?;
    ObjectKeys::of(snapshot, owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_bound_into_the_inputs() {
        let key = SyncKey::from_bytes(&[7; 32]).unwrap();
        let inputs = [1u8; 32];
        assert_eq!(
            bind_owner(inputs, "", &key),
            inputs,
            "cluster keys: unchanged"
        );
        let alpha = bind_owner(inputs, "tenant=alpha", &key);
        let beta = bind_owner(inputs, "tenant=beta", &key);
        let switched = bind_owner(inputs, "tenant=alpha+cluster", &key);
        assert!(alpha != inputs && alpha != beta && alpha != switched && beta != switched);
        assert_eq!(bind_owner(inputs, "tenant=alpha", &key), alpha);
        assert_ne!(bind_owner([2; 32], "tenant=alpha", &key), alpha);
    }
}
