//! Tenant keys: the rule for which key set serves a namespace, the snapshot split by owner, the
//! names and labels of a tenant's key Secrets, and what the leader generates per owner.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_core::KeyOwner;
use sealant_core::keysecret::key_secret;
use sealant_core::tenant::{TENANT_LABEL, TenantName};
use sealant_k8s::keys::OrderPriority;

use super::load::{Loaded, read_rsa};
use super::manager::KeyAction;
use super::tests::{age_secret, request_renewal, rsa_secret, vector};
use super::*;

fn tenant(name: &str) -> TenantName {
    TenantName::parse(name).unwrap()
}

fn owned_by(mut secret: K8sSecret, name: &str) -> K8sSecret {
    secret
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(TENANT_LABEL.to_owned(), name.to_owned());
    secret
}

fn load(rsa: &[K8sSecret], age: &[K8sSecret], tenancy: Tenancy) -> Loaded {
    let order = OrderPriority::SecretCreationTimestamp;
    Loaded::from_records(read_rsa(rsa, order), age, order, "ns", &Arc::new(tenancy))
}

fn on(allow: &str) -> Tenancy {
    Tenancy::parse(true, TENANT_LABEL, allow).unwrap()
}

/// The cluster key `rsa2048`, alpha's `multi-1`, beta's `multi-2` (and an age key for alpha).
fn three_owners(tenancy: Tenancy) -> (Loaded, [Fingerprint; 3]) {
    let (cluster, cluster_fp) = rsa_secret("rsa2048", Some("active"), 100);
    let (alpha, alpha_fp) = rsa_secret("multi-1", Some("active"), 200);
    let (beta, beta_fp) = rsa_secret("multi-2", Some("active"), 300);
    let (alpha_age, _) = age_secret("active", 250);
    let loaded = load(
        &[cluster, owned_by(alpha, "alpha"), owned_by(beta, "beta")],
        &[owned_by(alpha_age, "alpha")],
        tenancy,
    );
    (loaded, [cluster_fp, alpha_fp, beta_fp])
}

#[test]
fn the_snapshot_splits_keys_by_owner() {
    let (loaded, [cluster_fp, alpha_fp, beta_fp]) = three_owners(on(""));
    let snapshot = &loaded.snapshot;
    assert_eq!(snapshot.keys.len(), 1);
    assert!(snapshot.ring.get(&cluster_fp).is_some());
    assert!(snapshot.ring.get(&alpha_fp).is_none() && snapshot.ring.get(&beta_fp).is_none());
    assert!(snapshot.age.is_empty(), "alpha's age key is alpha's only");
    let alpha = &snapshot.tenants[&tenant("alpha")];
    assert_eq!(alpha.own.newest().unwrap().fingerprint, alpha_fp);
    assert_eq!(alpha.own.age.len(), 1);
    assert!(alpha.own.ring.get(&cluster_fp).is_none() && alpha.own.ring.get(&beta_fp).is_none());
    assert!(alpha.with_cluster.is_none(), "no migration switch");
    assert_eq!(snapshot.tenants.len(), 2);
    // Key states are found whoever owns the key (the KeyCompromised condition).
    assert!(snapshot.key_state(beta_fp.as_str()).is_some());
}

#[test]
fn tenant_keys_off_ignore_tenant_key_secrets() {
    let (loaded, [cluster_fp, alpha_fp, _]) = three_owners(Tenancy::default());
    let snapshot = &loaded.snapshot;
    assert!(snapshot.tenants.is_empty());
    assert!(snapshot.ring.get(&alpha_fp).is_none());
    let keys = snapshot.keys_for(&KeyOwner::Cluster).unwrap();
    assert_eq!(keys.sealing.unwrap().fingerprint, cluster_fp);
    assert_eq!(keys.digest_tag(), "");
}

#[test]
fn the_rule_which_ring_opens_and_which_key_seals() {
    let (loaded, [cluster_fp, alpha_fp, beta_fp]) = three_owners(on(""));
    let snapshot = &loaded.snapshot;
    let alpha = snapshot
        .keys_for(&KeyOwner::Tenant(tenant("alpha")))
        .unwrap();
    assert_eq!(alpha.sealing.unwrap().fingerprint, alpha_fp);
    assert!(alpha.recipient().is_some());
    assert!(alpha.ring.get(&alpha_fp).is_some());
    assert!(
        alpha.ring.get(&cluster_fp).is_none(),
        "no cluster key without the switch"
    );
    assert!(
        alpha.ring.get(&beta_fp).is_none(),
        "never another tenant's key"
    );
    assert_eq!(alpha.header(), "tenant=alpha");
    let cluster = snapshot.keys_for(&KeyOwner::Cluster).unwrap();
    assert!(cluster.ring.get(&alpha_fp).is_none());
    assert_eq!(cluster.header(), "cluster");
    // A tenant without keys yet: not ready, never the cluster keys.
    let err = snapshot
        .keys_for(&KeyOwner::Tenant(tenant("gamma")))
        .unwrap_err();
    assert_eq!(err.to_string(), "keys of tenant gamma are not ready");
}

#[test]
fn the_migration_switch_adds_the_cluster_keys_for_the_tenants_listed() {
    let (loaded, [cluster_fp, alpha_fp, beta_fp]) = three_owners(on("alpha"));
    let snapshot = &loaded.snapshot;
    let alpha = snapshot
        .keys_for(&KeyOwner::Tenant(tenant("alpha")))
        .unwrap();
    assert!(alpha.with_cluster);
    assert!(alpha.ring.get(&cluster_fp).is_some() && alpha.ring.get(&alpha_fp).is_some());
    assert!(alpha.ring.get(&beta_fp).is_none());
    // It still seals with its own key.
    assert_eq!(alpha.sealing.unwrap().fingerprint, alpha_fp);
    let beta = snapshot
        .keys_for(&KeyOwner::Tenant(tenant("beta")))
        .unwrap();
    assert!(!beta.with_cluster && beta.ring.get(&cluster_fp).is_none());
    let (all, _) = three_owners(on("*"));
    let beta = all
        .snapshot
        .keys_for(&KeyOwner::Tenant(tenant("beta")))
        .unwrap();
    assert!(beta.ring.get(&cluster_fp).is_some());
}

#[test]
fn digest_tags_differ_by_owner_and_switch() {
    let (plain, _) = three_owners(on(""));
    let (switched, _) = three_owners(on("alpha"));
    let tag =
        |loaded: &Loaded, owner: &KeyOwner| loaded.snapshot.keys_for(owner).unwrap().digest_tag();
    let alpha = KeyOwner::Tenant(tenant("alpha"));
    let beta = KeyOwner::Tenant(tenant("beta"));
    let tags = [
        tag(&plain, &KeyOwner::Cluster),
        tag(&plain, &alpha),
        tag(&plain, &beta),
        tag(&switched, &alpha),
    ];
    assert_eq!(
        tags[0], "",
        "the cluster keys keep the digests written before"
    );
    let distinct: BTreeSet<&String> = tags.iter().collect();
    assert_eq!(distinct.len(), tags.len(), "{tags:?}");
}

#[test]
fn namespaces_map_to_owners_and_bad_labels_fail_closed() {
    let labels = |value: &str| BTreeMap::from([(TENANT_LABEL.to_owned(), value.to_owned())]);
    let tenancy = on("");
    assert_eq!(
        tenancy.owner_of(Some(&labels("alpha"))).unwrap(),
        KeyOwner::Tenant(tenant("alpha"))
    );
    assert_eq!(tenancy.owner_of(None).unwrap(), KeyOwner::Cluster);
    assert_eq!(
        tenancy.owner_of(Some(&BTreeMap::new())).unwrap(),
        KeyOwner::Cluster
    );
    let err = tenancy.owner_of(Some(&labels("Not_A_Name"))).unwrap_err();
    assert!(err.to_string().contains(TENANT_LABEL), "{err}");
    // Off: every namespace is the cluster's, whatever its labels.
    assert_eq!(
        Tenancy::default()
            .owner_of(Some(&labels("Not_A_Name")))
            .unwrap(),
        KeyOwner::Cluster
    );
    // Another label key.
    let custom = Tenancy::parse(true, "example.com/team", "").unwrap();
    assert_eq!(
        custom.owner_of(Some(&labels("alpha"))).unwrap(),
        KeyOwner::Cluster
    );
}

#[test]
fn tenant_flags_are_checked() {
    assert_eq!(on("").allow_cluster, AllowCluster::None);
    assert_eq!(on(" * ").allow_cluster, AllowCluster::All);
    assert_eq!(
        on("alpha, beta").allow_cluster,
        AllowCluster::Listed(BTreeSet::from([tenant("alpha"), tenant("beta")]))
    );
    assert!(Tenancy::parse(true, TENANT_LABEL, "Alpha").is_err());
    assert!(Tenancy::parse(true, " ", "").is_err());
}

#[test]
fn a_tenant_key_secret_is_named_and_labelled_for_its_tenant() {
    let owner = KeyOwner::Tenant(tenant("alpha"));
    assert_eq!(
        generate_name("sealed-secrets-key", &owner),
        "sealed-secrets-key-alpha-"
    );
    assert_eq!(
        generate_name("sealant-age-key-", &owner),
        "sealant-age-key-alpha-"
    );
    assert_eq!(
        generate_name("sealed-secrets-key", &KeyOwner::Cluster),
        "sealed-secrets-key"
    );
    let (key, cert) = vector("rsa2048");
    let secret = key_secret(
        "kube-system",
        &generate_name("sealed-secrets-key", &owner),
        &key,
        &cert,
        &owner.key_labels(),
        &BTreeMap::new(),
    )
    .unwrap();
    let json = serde_json::to_value(&secret).unwrap();
    assert_eq!(
        json["metadata"]["generateName"],
        "sealed-secrets-key-alpha-"
    );
    assert_eq!(json["metadata"]["labels"][TENANT_LABEL], "alpha");
    // Read back, it is alpha's key.
    let read = load(&[super::tests::to_k8s(&secret, "k", 1)], &[], on(""));
    assert!(read.snapshot.keys.is_empty());
    assert_eq!(read.snapshot.tenants[&tenant("alpha")].own.keys.len(), 1);
}

#[test]
fn the_leader_makes_keys_per_owner() {
    let (loaded, _) = three_owners(on(""));
    let seen = BTreeSet::from([tenant("alpha"), tenant("gamma")]);
    let plan = KeyAction::plan(&loaded, &seen, false);
    assert_eq!(
        plan,
        [(KeyOwner::Tenant(tenant("gamma")), KeyAction::NoActiveKey)],
        "gamma has a namespace and no key; beta keeps its keys"
    );
    // With age keys: beta lacks an age key; alpha has one.
    let plan = KeyAction::plan(&loaded, &BTreeSet::new(), true);
    assert!(plan.contains(&(KeyOwner::Cluster, KeyAction::NoActiveAgeKey)));
    assert!(plan.contains(&(KeyOwner::Tenant(tenant("beta")), KeyAction::NoActiveAgeKey)));
    assert!(
        !plan
            .iter()
            .any(|(o, _)| *o == KeyOwner::Tenant(tenant("alpha")))
    );
    // A renewal request on alpha's newest key renews alpha only.
    let (cluster, _) = rsa_secret("rsa2048", Some("active"), 100);
    let (mut alpha, _) = rsa_secret("multi-1", Some("active"), 200);
    request_renewal(&mut alpha);
    let requested = load(&[cluster, owned_by(alpha, "alpha")], &[], on(""));
    assert_eq!(
        KeyAction::plan(&requested, &BTreeSet::new(), false),
        [(KeyOwner::Tenant(tenant("alpha")), KeyAction::RenewRequested)]
    );
    // Tenant keys off: tenants seen make nothing.
    let (off, _) = three_owners(Tenancy::default());
    assert!(KeyAction::plan(&off, &seen, false).is_empty());
}
