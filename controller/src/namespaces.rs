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
//!
//! With tenant keys (docs/multi-tenancy.md, "Tenant keys") the same watch runs: a namespace
//! whose tenant label changes (added, changed, removed) sends every SealedSecret in it back to
//! the queue, and the set of tenants that have a namespace goes to the key manager, which
//! makes each one's keys.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::{Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Namespace;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, ResourceExt as _};
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::tenant::{TenantName, tenant_of};
use tokio::sync::watch;
use tracing::warn;

use crate::crd::SealedSecret;

/// Where the set of tenants that have a namespace goes: the tenant label, and the sender the
/// key manager follows.
#[derive(Clone)]
pub struct TenantFeed {
    /// `--tenant-label`.
    pub label: String,
    /// The tenants seen.
    pub seen: watch::Sender<BTreeSet<TenantName>>,
}

type NamespaceMeta = PartialObjectMeta<Namespace>;

/// Where namespace labels come from: the Namespace watches' caches once they have listed, else
/// the API server.
pub struct Namespaces {
    client: Client,
    watches: parking_lot::RwLock<Vec<Watch>>,
    /// With tenant keys on.
    tenants: Option<TenantFeed>,
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
            tenants: None,
        }
    }

    /// Tenant keys on: relabels of `feed.label` re-queue every object of the namespace, and
    /// the tenants seen go to `feed.seen`.
    #[must_use]
    pub fn with_tenants(mut self, feed: Option<TenantFeed>) -> Self {
        self.tenants = feed;
        self
    }

    /// The tenants that have a namespace in the listed caches; `None` until every watch has
    /// listed (a partial set would be no worse, but it would change at once).
    fn tenants_seen(watches: &[Watch], label: &str) -> Option<BTreeSet<TenantName>> {
        let mut seen = BTreeSet::new();
        for watch in watches {
            if !watch.listed.load(Ordering::Acquire) {
                return None;
            }
            for ns in watch.store.state() {
                if let Ok(Some(tenant)) = tenant_of(Some(ns.labels()), label) {
                    seen.insert(tenant);
                }
            }
        }
        Some(seen)
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
    /// yields the selector-scoped SealedSecrets of `sealed` whose namespace's labels changed,
    /// and with tenant keys every SealedSecret of a namespace whose tenant label changed (feed
    /// it to `Controller::reconcile_on`).
    pub fn watch(
        self: &Arc<Self>,
        scope: Option<&str>,
        sealed: Store<SealedSecret>,
    ) -> impl Stream<Item = ObjectRef<SealedSecret>> + Send + 'static {
        let (store, mut writer) = kube::runtime::reflector::store();
        let listed = Arc::new(AtomicBool::new(false));
        self.watches.write().push(Watch {
            store: store.clone(),
            listed: listed.clone(),
        });
        let this = self.clone();
        let mut config = watcher::Config::default();
        if let Some(name) = scope {
            config = config.fields(&format!("metadata.name={name}"));
        }
        let api: Api<NamespaceMeta> = Api::all(self.client.clone());
        watcher(api, config)
            .default_backoff()
            .map(move |event| {
                let tenant_label = this.tenants.as_ref().map(|feed| feed.label.as_str());
                let triggers = match &event {
                    // Before the event reaches the store, which still has the old labels.
                    Ok(watcher::Event::Apply(ns) | watcher::Event::InitApply(ns))
                        if tenant_label.is_some_and(|label| retenanted(&store, ns, label)) =>
                    {
                        every_object_in(&sealed, &ns.name_any())
                    }
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
                    if !matches!(event, watcher::Event::InitApply(_) | watcher::Event::Init) {
                        this.publish_tenants();
                    }
                }
                futures::stream::iter(triggers)
            })
            .flatten()
    }
}

impl Namespaces {
    /// Sends the tenants seen to the key manager when the set changed.
    fn publish_tenants(&self) {
        let Some(feed) = &self.tenants else {
            return;
        };
        let Some(seen) = Self::tenants_seen(&self.watches.read(), &feed.label) else {
            return;
        };
        feed.seen.send_if_modified(|old| {
            let changed = *old != seen;
            if changed {
                *old = seen;
            }
            changed
        });
    }
}

/// Whether `ns`'s tenant label `label` differs from the cached copy's (added, changed,
/// removed; a new namespace with the label counts).
fn retenanted(store: &Store<NamespaceMeta>, ns: &NamespaceMeta, label: &str) -> bool {
    let old = store.get(&ObjectRef::new(&ns.name_any()));
    let old_value = old.as_ref().and_then(|old| old.labels().get(label));
    old_value != ns.labels().get(label)
}

fn every_object_in(sealed: &Store<SealedSecret>, namespace: &str) -> Vec<ObjectRef<SealedSecret>> {
    sealed
        .state_filter(|s| s.metadata.namespace.as_deref() == Some(namespace))
        .iter()
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
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

    #[test]
    fn only_a_tenant_label_change_retenants() {
        let label = "sealant.dev/tenant";
        let (store, mut writer) = kube::runtime::reflector::store();
        let old = meta("a", &[(label, "one"), ("team", "x")]);
        writer.apply_watcher_event(&watcher::Event::Apply(old.clone()));
        assert!(!retenanted(&store, &old, label));
        assert!(!retenanted(&store, &meta("a", &[(label, "one")]), label));
        assert!(retenanted(&store, &meta("a", &[(label, "two")]), label));
        assert!(retenanted(&store, &meta("a", &[("team", "x")]), label));
        assert!(retenanted(&store, &meta("b", &[(label, "one")]), label));
        assert!(!retenanted(&store, &meta("c", &[]), label));
    }

    #[test]
    fn tenants_seen_once_listed_bad_values_skipped() {
        let label = "sealant.dev/tenant";
        let (store, mut writer) = kube::runtime::reflector::store();
        for ns in [
            meta("a", &[(label, "one")]),
            meta("b", &[(label, "one")]),
            meta("c", &[(label, "Two")]),
            meta("d", &[]),
            meta("e", &[(label, "three")]),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(ns));
        }
        let listed = Arc::new(AtomicBool::new(false));
        let watches = vec![Watch {
            store,
            listed: listed.clone(),
        }];
        assert_eq!(Namespaces::tenants_seen(&watches, label), None);
        listed.store(true, Ordering::Release);
        let seen = Namespaces::tenants_seen(&watches, label).unwrap();
        let names: Vec<&str> = seen.iter().map(TenantName::as_str).collect();
        assert_eq!(names, ["one", "three"]);
    }
}
