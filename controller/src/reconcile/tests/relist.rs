//! A relist of the SealedSecret watch: what it listed, and which counted objects it no longer
//! lists (deleted while the watch was down).

use std::collections::HashSet;

use kube::runtime::watcher::Event;
use serde_json::json;

use super::super::inventory::Inventory;
use super::super::{ObjectKey, Relist, object_key};
use crate::crd::SealedSecret;

fn object(namespace: &str, name: &str) -> SealedSecret {
    serde_json::from_value(json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": namespace, "uid": "u", "generation": 1},
        "spec": {"encryptedData": {"k": "AQ=="}},
    }))
    .unwrap()
}

fn keys(listed: &HashSet<ObjectKey>) -> Vec<String> {
    let mut names: Vec<String> = listed.iter().map(ToString::to_string).collect();
    names.sort();
    names
}

#[test]
fn a_relist_returns_what_it_listed_once_it_is_done() {
    let relist = Relist::default();
    // Events outside a relist list nothing.
    assert!(relist.observe(&Event::Apply(object("a", "x"))).is_none());
    assert!(relist.observe(&Event::Init).is_none());
    assert!(
        relist
            .observe(&Event::InitApply(object("a", "one")))
            .is_none()
    );
    assert!(
        relist
            .observe(&Event::InitApply(object("b", "two")))
            .is_none()
    );
    // An Apply during the relist is not part of the listing.
    assert!(relist.observe(&Event::Apply(object("c", "live"))).is_none());
    let listed = relist.observe(&Event::InitDone).expect("the listing");
    assert_eq!(keys(&listed).len(), 2, "{:?}", keys(&listed));
    assert!(listed.contains(&object_key(&object("a", "one"))));
    assert!(listed.contains(&object_key(&object("b", "two"))));
    // The listing is handed out once; a second InitDone without an Init hands out nothing.
    assert!(relist.observe(&Event::InitDone).is_none());
}

#[test]
fn a_restarted_relist_starts_its_listing_afresh() {
    let relist = Relist::default();
    relist.observe(&Event::Init);
    relist.observe(&Event::InitApply(object("a", "stale")));
    // The watch failed mid-relist and starts over.
    relist.observe(&Event::Init);
    relist.observe(&Event::InitApply(object("a", "fresh")));
    let listed = relist.observe(&Event::InitDone).unwrap();
    assert!(listed.contains(&object_key(&object("a", "fresh"))));
    assert!(!listed.contains(&object_key(&object("a", "stale"))));
}

#[test]
fn counted_objects_are_found_per_scope() {
    let inventory = Inventory::default();
    for (ns, name) in [("a", "one"), ("a", "two"), ("b", "three")] {
        inventory.observe(&object(ns, name));
    }
    assert_eq!(inventory.keys_in(None).len(), 3);
    let in_a = inventory.keys_in(Some("a"));
    assert_eq!(in_a.len(), 2);
    assert!(in_a.iter().all(|key| key.namespace.as_deref() == Some("a")));
    assert!(inventory.keys_in(Some("elsewhere")).is_empty());
}
