//! Namespace labels for the namespace-selector scope (docs/multi-tenancy.md, "Namespace-selector
//! scope"): whether a selector-scoped SealedSecret's namespace is selected is decided from the
//! namespace's labels at reconcile time.
//!
//! Every watched scope runs a Namespace watch (metadata only): all Namespaces for a cluster-wide
//! controller, each watched namespace by name (a field selector) for a controller of a list of
//! namespaces. When a namespace's labels change, the selector-scoped SealedSecrets in it go
//! back to the queue, so relabelling takes effect at once. Namespaces are not namespaced: no
//! Role can grant reading them, so the scope needs one ClusterRole even for a controller that
//! otherwise has Roles only (deploy/components/namespace-selector). Until a watch has listed,
//! or if it cannot, labels are read with a `get`; when that fails too, the object fails closed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, ResourceExt as _};
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use tracing::warn;

use crate::crd::SealedSecret;

type NamespaceMeta = PartialObjectMeta<Namespace>;

/// Where namespace labels come from: the Namespace watches' caches once they have listed, else
/// the API server.
pub struct Namespaces {
    client: Client,
    watches: parking_lot::RwLock<Vec<Watch>>,
}

/// One Namespace watch's cache, and whether it has listed.
struct Watch {
    store: Store<NamespaceMeta>,
    listed: Arc<AtomicBool>,
}

impl Namespaces {
    /// No watch yet: every lookup is a `get`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            watches: parking_lot::RwLock::new(Vec::new()),
        }
    }

    /// The labels of namespace `name` (`None`: it does not exist).
    ///
    /// # Errors
    /// The API server's error when no listed cache has the namespace and the `get` fails.
    pub async fn labels(
        &self,
        name: &str,
    ) -> Result<Option<BTreeMap<String, String>>, kube::Error> {
        let reference = ObjectRef::new(name);
        let cached = self.watches.read().iter().find_map(|watch| {
            if !watch.listed.load(Ordering::Acquire) {
                return None;
            }
            watch.store.get(&reference)
        });
        if let Some(ns) = cached {
            return Ok(Some(ns.labels().clone()));
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        Ok(api
            .get_metadata_opt(name)
            .await?
            .map(|ns| ns.labels().clone()))
    }

    /// Watches the metadata of namespace `scope` (every Namespace for `None`); the stream
    /// yields the selector-scoped SealedSecrets of `sealed` whose namespace's labels changed
    /// (feed it to `Controller::reconcile_on`).
    pub fn watch(
        &self,
        scope: Option<&str>,
        sealed: Store<SealedSecret>,
    ) -> impl Stream<Item = ObjectRef<SealedSecret>> + Send + 'static {
        let (store, mut writer) = kube::runtime::reflector::store();
        let listed = Arc::new(AtomicBool::new(false));
        self.watches.write().push(Watch {
            store: store.clone(),
            listed: listed.clone(),
        });
        let mut config = watcher::Config::default();
        if let Some(name) = scope {
            config = config.fields(&format!("metadata.name={name}"));
        }
        let api: Api<NamespaceMeta> = Api::all(self.client.clone());
        watcher(api, config)
            .default_backoff()
            .map(move |event| {
                let triggers = match &event {
                    // Before the event reaches the store, which still has the old labels.
                    Ok(watcher::Event::Apply(ns) | watcher::Event::InitApply(ns))
                        if relabelled(&store, ns) =>
                    {
                        selector_scoped_in(&sealed, &ns.name_any())
                    }
                    Ok(_) => Vec::new(),
                    Err(err) => {
                        warn!(%err, "namespace watch failed: labels are read with get until it recovers");
                        Vec::new()
                    }
                };
                if let Ok(event) = &event {
                    writer.apply_watcher_event(event);
                    if matches!(event, watcher::Event::InitDone) {
                        listed.store(true, Ordering::Release);
                    }
                }
                futures::stream::iter(triggers)
            })
            .flatten()
    }
}

/// Whether `ns` carries other labels than the cached copy (a new namespace counts: objects
/// may wait for it).
fn relabelled(store: &Store<NamespaceMeta>, ns: &NamespaceMeta) -> bool {
    store
        .get(&ObjectRef::new(&ns.name_any()))
        .is_none_or(|old| old.labels() != ns.labels())
}

fn selector_scoped_in(
    sealed: &Store<SealedSecret>,
    namespace: &str,
) -> Vec<ObjectRef<SealedSecret>> {
    sealed
        .state_filter(|s| {
            s.metadata.namespace.as_deref() == Some(namespace)
                && s.annotations().contains_key(ANNOTATION_NAMESPACE_SELECTOR)
        })
        .iter()
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(name: &str, labels: &[(&str, &str)]) -> NamespaceMeta {
        let mut ns = NamespaceMeta::default();
        ns.metadata.name = Some(name.into());
        ns.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        );
        ns
    }

    #[test]
    fn only_a_label_change_or_a_new_namespace_counts() {
        let (store, mut writer) = kube::runtime::reflector::store();
        let old = meta("a", &[("team", "payments")]);
        writer.apply_watcher_event(&watcher::Event::Apply(old.clone()));
        assert!(!relabelled(&store, &old));
        let mut annotated = old.clone();
        annotated.metadata.annotations = Some(BTreeMap::from([("x".into(), "y".into())]));
        assert!(!relabelled(&store, &annotated));
        assert!(relabelled(&store, &meta("a", &[("team", "billing")])));
        assert!(relabelled(&store, &meta("a", &[])));
        assert!(relabelled(&store, &meta("b", &[("team", "payments")])));
    }
}
