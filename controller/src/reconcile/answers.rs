//! Writes whose answers are read only for what the reconcile uses. kube's `Api` parses every
//! answer into the whole object: for a Secret its data (decoded from base64), for a
//! SealedSecret its ciphertexts, for both their managedFields, only to drop them. Each is a few
//! hundred allocations per write on the allocator's one lock (docs/design/cpu.md, "What is
//! done"). The requests are kube's own (`Api::resource_url`, `kube::core::Request`), and errors
//! come back as the same `kube::Error`s.

use kube::api::{Patch, PatchParams, PostParams};
use kube::core::Request;
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

/// Creates `object`, reading nothing of the answer but its success.
pub(super) async fn create_unread<K, T>(
    api: &Api<K>,
    params: &PostParams,
    object: &T,
) -> kube::Result<()>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    T: Serialize,
{
    let body = serde_json::to_vec(object).map_err(kube::Error::SerdeError)?;
    let mut request = Request::new(api.resource_url())
        .create(params, body)
        .map_err(kube::Error::BuildRequest)?;
    request.extensions_mut().insert("create");
    api.clone()
        .into_client()
        .request::<IgnoredAny>(request)
        .await
        .map(drop)
}

/// Patches the status of `name`, reading the answer as `A` (the fields it names; serde skips
/// the rest without keeping it).
pub(super) async fn patch_status_read<K, P, A>(
    api: &Api<K>,
    name: &str,
    params: &PatchParams,
    patch: &Patch<P>,
) -> kube::Result<A>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    P: Serialize,
    A: DeserializeOwned,
{
    let mut request = Request::new(api.resource_url())
        .patch_subresource("status", name, params, patch)
        .map_err(kube::Error::BuildRequest)?;
    request.extensions_mut().insert("patch_status");
    api.clone().into_client().request::<A>(request).await
}
