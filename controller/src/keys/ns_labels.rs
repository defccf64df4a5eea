//! Namespace labels for [`super::KeyStore::owner_of_namespace`] on the HTTP API's path
//! (docs/multi-tenancy.md, "Tenant keys"): `?namespace=` comes from anyone who can reach the
//! API, so answering it must not cost a request to the API server each time (a flood would
//! spend the controller's client budget, which its reconciles need). With tenant keys on, every
//! replica keeps a Namespace metadata watch and answers from its cache; only until the watch has
//! listed (start-up, or a watch that cannot list) is a namespace read with a `get`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, ResourceExt as _};
use tracing::warn;

type NamespaceMeta = PartialObjectMeta<Namespace>;

/// A Namespace metadata cache, with a `get` until it has listed.
pub(super) struct NamespaceLabels {
    api: Api<Namespace>,
    cache: Option<(Store<NamespaceMeta>, Arc<AtomicBool>)>,
}

impl NamespaceLabels {
    /// Reads with `get` only (tenant keys off: never asked).
    pub(super) fn uncached(client: Client) -> Self {
        Self {
            api: Api::all(client),
            cache: None,
        }
    }

    /// Starts the watch (on the current tokio runtime) and reads from it once it has listed.
    pub(super) fn watched(client: Client) -> Self {
        let (store, mut writer) = kube::runtime::reflector::store();
        let listed = Arc::new(AtomicBool::new(false));
        let flag = listed.clone();
        let watched: Api<NamespaceMeta> = Api::all(client.clone());
        let events = watcher(watched, watcher::Config::default()).default_backoff();
        tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                match event {
                    Ok(event) => {
                        writer.apply_watcher_event(&event);
                        if matches!(event, watcher::Event::InitDone) {
                            flag.store(true, Ordering::Release);
                        }
                    }
                    Err(err) => warn!(%err, "namespace watch (tenant keys) failed; retrying"),
                }
            }
        });
        Self {
            api: Api::all(client),
            cache: Some((store, listed)),
        }
    }

    /// The labels of namespace `name` (`None`: it does not exist, or has none).
    ///
    /// # Errors
    /// The API server's, when the cache has not listed and the `get` fails.
    pub(super) async fn labels(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, kube::Error> {
        if let Some((store, listed)) = &self.cache
            && listed.load(Ordering::Acquire)
        {
            return Ok(store
                .get(&ObjectRef::new(name))
                .map(|ns| ns.labels().clone()));
        }
        Ok(self
            .api
            .get_metadata_opt(name)
            .await?
            .and_then(|ns| ns.metadata.labels))
    }
}
