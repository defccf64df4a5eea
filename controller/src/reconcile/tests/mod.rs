//! Unit tests of the reconcile modules (the e2e tests in tests/tests/ run them on a cluster);
//! the status conditions and inventory as written are in `status`.

mod owned;
mod relist;
mod status;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::ResourceExt;
use sealant_core::keysecret::KeyState;
use sealant_core::sync::{self, DIGEST_ANNOTATION, SyncKey};
use sealant_core::{UnsealOptions, unseal};
use serde_json::{Value, json};

use super::error::{IMMUTABLE_MESSAGE, truncate};
use super::insync::{in_sync, set_digest, with_shape};
use super::inventory::{compromised_message, inventory_of};
use super::status::{
    DesiredStatus, WrittenStatus, current_compromised, desired_status, recorded_inventory,
};
use super::*;
use crate::keys::KeySnapshot;

#[test]
fn reasons_and_permanence() {
    let immutable = ReconcileError::Immutable {
        namespace: "a".into(),
        name: "b".into(),
    };
    assert!(immutable.is_permanent());
    assert_eq!(immutable.kind(), "update");
    assert_eq!(
        immutable.to_string(),
        format!("Error updating a/b: {IMMUTABLE_MESSAGE}")
    );
    // Decided by the status code, not the text.
    let api = |code: u16| {
        ReconcileError::Update(sealant_k8s::KubeError::from(kube::Error::Api(
            kube::core::Status::failure("the target Secret is immutable", "Invalid")
                .with_code(code)
                .boxed(),
        )))
    };
    assert!(api(422).is_permanent());
    assert!(!api(409).is_permanent());
    assert!(!api(503).is_permanent());
    let unmanaged = ReconcileError::Unmanaged("x".into());
    assert_eq!(
        unmanaged.to_string(),
        "failed update: Resource \"x\" already exists and is not managed by SealedSecret"
    );
    assert_eq!(unmanaged.event_reason(), "ErrUpdateFailed");
    assert_eq!(
        ReconcileError::Unseal(sealant_core::UnsealError::V1Rejected).event_reason(),
        "ErrUnsealFailed"
    );
}

#[test]
fn backoff_doubles_and_caps() {
    let no_jitter = 100; // seed 100 → jitter 0
    assert_eq!(backoff_delay(1, no_jitter), Duration::from_secs(1));
    assert_eq!(backoff_delay(2, no_jitter), Duration::from_secs(2));
    assert_eq!(backoff_delay(4, no_jitter), Duration::from_secs(8));
    assert_eq!(backoff_delay(30, no_jitter), Duration::from_secs(300));
    assert!(
        backoff_delay(3, 0) >= Duration::from_millis(3600)
            && backoff_delay(3, 200) <= Duration::from_millis(4400)
    );
}

fn written(patch: bool) -> (K8sSecret, K8sSecret, [u8; 32], SyncKey) {
    let key = SyncKey::from_bytes(&[9; 32]).unwrap();
    let inputs = [3u8; 32];
    let owner = k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        api_version: "bitnami.com/v1alpha1".into(),
        kind: "SealedSecret".into(),
        name: "app".into(),
        uid: "uid-1".into(),
        controller: Some(true),
        block_owner_deletion: None,
    };
    let shape = K8sSecret {
        metadata: kube::api::ObjectMeta {
            name: Some("app".into()),
            labels: Some([("app".to_owned(), "demo".to_owned())].into()),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        ..Default::default()
    };
    let mut desired = shape.clone();
    desired.data = Some([("k".to_owned(), k8s_openapi::ByteString(b"v".to_vec()))].into());
    let mut live = K8sSecret {
        metadata: kube::api::ObjectMeta {
            name: Some("app".into()),
            annotations: patch.then(|| [(PATCH_ANNOTATION.to_owned(), "true".to_owned())].into()),
            labels: Some([("foreign".to_owned(), "x".to_owned())].into()),
            ..Default::default()
        },
        ..Default::default()
    };
    live = K8sSecret::clone(&with_shape(&live, &desired, patch));
    if patch {
        live.data = Some([("kept".to_owned(), k8s_openapi::ByteString(b"old".to_vec()))].into());
        live.data
            .get_or_insert_with(BTreeMap::new)
            .extend(desired.data.clone().unwrap_or_default());
    } else {
        live.data = desired.data.clone();
    }
    set_digest(&mut live, &inputs, &key);
    (live, shape, inputs, key)
}

#[test]
fn written_secret_is_in_sync_until_anything_changes() {
    for patch in [false, true] {
        let (live, shape, inputs, key) = written(patch);
        assert!(
            in_sync(&live, &shape, patch, &inputs, &key),
            "patch={patch}"
        );
        // The annotation survives overwrite mode and is the only addition.
        assert!(live.annotations().contains_key(DIGEST_ANNOTATION));

        let mut tampered = live.clone();
        tampered
            .data
            .get_or_insert_with(BTreeMap::new)
            .insert("k".into(), k8s_openapi::ByteString(b"w".to_vec()));
        assert!(!in_sync(&tampered, &shape, patch, &inputs, &key));
        let mut added = live.clone();
        added
            .data
            .get_or_insert_with(BTreeMap::new)
            .insert("new".into(), k8s_openapi::ByteString(Vec::new()));
        assert!(!in_sync(&added, &shape, patch, &inputs, &key));

        let mut other_inputs = inputs;
        other_inputs[0] ^= 1;
        assert!(!in_sync(&live, &shape, patch, &other_inputs, &key));
        let other_key = SyncKey::from_bytes(&[8; 32]).unwrap();
        assert!(!in_sync(&live, &shape, patch, &inputs, &other_key));

        let mut relabelled = shape.clone();
        relabelled
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert("app".into(), "other".into());
        assert!(!in_sync(&live, &relabelled, patch, &inputs, &key));
        let mut retyped = shape.clone();
        retyped.type_ = Some("kubernetes.io/tls".into());
        assert!(!in_sync(&live, &retyped, patch, &inputs, &key));

        let mut unannotated = live.clone();
        if let Some(a) = unannotated.metadata.annotations.as_mut() {
            a.remove(DIGEST_ANNOTATION);
        }
        assert!(!in_sync(&unannotated, &shape, patch, &inputs, &key));
    }
}

#[test]
fn overwrite_mode_drops_foreign_metadata_and_patch_mode_keeps_it() {
    let (live, shape, inputs, key) = written(false);
    assert!(!live.labels().contains_key("foreign"));
    let mut foreign = live.clone();
    foreign
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("foreign".into(), "x".into());
    assert!(!in_sync(&foreign, &shape, false, &inputs, &key));

    let (live, shape, inputs, key) = written(true);
    assert_eq!(live.labels().get("foreign").map(String::as_str), Some("x"));
    assert!(in_sync(&live, &shape, true, &inputs, &key));
}

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

fn vector(name: &str) -> (sealant_core::PrivateKey, sealant_core::Certificate) {
    let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
    (
        sealant_core::PrivateKey::from_pem(&read("key")).unwrap(),
        sealant_core::Certificate::from_pem(&read("crt")).unwrap(),
    )
}

/// Keys from test vectors with the given states (oldest first).
fn snapshot(keys: &[(&str, KeyState)]) -> KeySnapshot {
    let mut snapshot = KeySnapshot::default();
    for (name, state) in keys {
        let (key, cert) = vector(name);
        snapshot.keys.push(crate::keys::KeyInfo {
            fingerprint: key.fingerprint().clone(),
            secret_name: (*name).to_owned(),
            order_time: cert.not_before(),
            cert,
            state: state.clone(),
        });
        snapshot.ring.insert(key);
    }
    snapshot
}

fn fingerprint(name: &str) -> String {
    vector(name).0.fingerprint().as_str().to_owned()
}

fn sealed_with(items: &[(&str, &str)]) -> sealant_core::SealedSecret {
    let mut sealed: Option<sealant_core::SealedSecret> = None;
    for (item, key) in items {
        let secret = sealant_core::object::read_secrets(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: team}}\nstringData: {{{item}: not-logged}}\n"
        ))
        .unwrap()
        .remove(0);
        let one = sealant_core::seal_secret(
            secret,
            vector(key).1.public_key(),
            &sealant_core::SealOptions::default(),
        )
        .unwrap();
        match &mut sealed {
            None => sealed = Some(one),
            Some(all) => all.spec.encrypted_data.extend(one.spec.encrypted_data),
        }
    }
    sealed.unwrap()
}

#[test]
fn inventory_is_the_sorted_distinct_keys_that_opened_the_items() {
    let keys = snapshot(&[
        ("rsa2048", KeyState::Active),
        ("other-2048", KeyState::Compromised),
    ]);
    let sealed = sealed_with(&[("a", "rsa2048"), ("b", "other-2048"), ("c", "rsa2048")]);
    let options = UnsealOptions {
        accept_v1_data: false,
        render_templates: true,
    };
    let unsealed = unseal(&sealed, &keys.ring, options).unwrap();
    let mut expected = vec![fingerprint("rsa2048"), fingerprint("other-2048")];
    expected.sort();
    assert_eq!(inventory_of(&sealed, &unsealed), Some(expected));
    let single = sealed_with(&[("a", "other-2048"), ("b", "other-2048")]);
    let unsealed_single = unseal(&single, &keys.ring, options).unwrap();
    assert_eq!(
        inventory_of(&single, &unsealed_single),
        Some(vec![fingerprint("other-2048")])
    );
    // A v1 blob's opening key is not reported by core: unknown, never an empty list.
    let mut v1 = sealed.clone();
    v1.spec.data = Some("AAAA".into());
    assert_eq!(inventory_of(&v1, &unsealed), None);
}

#[test]
fn only_compromised_keys_raise_the_warning() {
    let keys = snapshot(&[
        ("rsa2048", KeyState::Active),
        ("other-2048", KeyState::Compromised),
        ("multi-1", KeyState::Compromised),
    ]);
    let (active, bad, worse) = (
        fingerprint("rsa2048"),
        fingerprint("other-2048"),
        fingerprint("multi-1"),
    );
    let unloaded = fingerprint("multi-2");
    assert_eq!(compromised_message(None, &keys), None);
    assert_eq!(compromised_message(Some(&[]), &keys), None);
    assert_eq!(
        compromised_message(Some(&[active.clone(), unloaded.clone()]), &keys),
        None
    );
    assert_eq!(
        compromised_message(Some(&[active.clone(), bad.clone()]), &keys),
        Some(format!(
            "sealed to compromised key {bad}; re-encrypt it (sealant reencrypt)"
        ))
    );
    assert_eq!(
        compromised_message(Some(&[bad.clone(), worse.clone()]), &keys),
        Some(format!(
            "sealed to compromised keys {bad}, {worse}; re-encrypt it (sealant reencrypt)"
        ))
    );
    // Reactivated: no longer a warning.
    let reactivated = snapshot(&[("other-2048", KeyState::Active)]);
    assert_eq!(compromised_message(Some(&[bad]), &reactivated), None);
}

fn upstream_status() -> Value {
    json!({"observedGeneration": 2, "conditions": [
        {"type": "Synced", "status": "True", "lastUpdateTime": "2026-01-01T00:00:00Z",
         "lastTransitionTime": "2026-01-01T00:00:00Z"}
    ]})
}

fn sealed_object(status: Value) -> SealedSecret {
    serde_json::from_value(json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "app", "namespace": "team", "uid": "uid-1", "generation": 2},
        "spec": {"encryptedData": {"k": "AQ=="}},
        "status": status,
    }))
    .unwrap()
}

#[test]
fn cache_drops_ciphertexts_only_of_objects_synced_with_an_inventory() {
    let full = sealed_object(upstream_status());
    let inputs = sync::inputs_digest(&full.to_core().unwrap());

    let stripped = Stripped::default();
    let mut synced_status = upstream_status();
    synced_status["keyFingerprints"] = json!(["SHA256:abc"]);
    let mut cached = sealed_object(synced_status.clone());
    stripped.make_cacheable(&mut cached);
    assert!(
        cached.spec.inner.encrypted_data.is_empty(),
        "ciphertext kept"
    );
    assert!(cached.spec.stripped, "not marked");
    assert_eq!(stripped.digest_of(&cached), Some(inputs));

    // Not synced, no inventory yet (it must be decrypted to learn it), another generation:
    // kept whole, since reconciling them needs the ciphertexts.
    let mut failed = synced_status.clone();
    failed["conditions"][0]["status"] = json!("False");
    let mut other_generation = synced_status;
    other_generation["observedGeneration"] = json!(1);
    for status in [upstream_status(), failed, other_generation, Value::Null] {
        let mut kept = sealed_object(status.clone());
        stripped.make_cacheable(&mut kept);
        assert_eq!(kept.spec.inner.encrypted_data["k"], "AQ==", "{status}");
        assert!(!kept.spec.stripped, "{status}");
        assert_eq!(stripped.digest_of(&kept), None, "{status}");
    }
}

#[test]
fn whole_copy_of_a_stripped_object_is_never_taken_for_the_stripped_one() {
    let mut status = upstream_status();
    status["keyFingerprints"] = json!(["SHA256:abc"]);
    let stripped = Stripped::default();
    let whole = sealed_object(status);
    let mut cached = whole.clone();
    stripped.make_cacheable(&mut cached);
    assert!(stripped.digest_of(&cached).is_some());
    // The same version fetched with GET has its ciphertexts: it is decrypted, not trusted.
    assert_eq!(stripped.digest_of(&whole), None);
    // Another object or version under the same name: not the one the digest is for.
    let mut recreated = cached.clone();
    recreated.metadata.uid = Some("uid-2".into());
    assert_eq!(stripped.digest_of(&recreated), None);
    let mut newer = cached.clone();
    newer.metadata.resource_version = Some("99".into());
    assert_eq!(stripped.digest_of(&newer), None);
    stripped.forget(&key("team", "app"));
    assert_eq!(stripped.digest_of(&cached), None);
}

/// A reconcile may still hold the stripped copy of a version after the watch moved the entry
/// to a newer one (or dropped it): that copy is fetched whole, never decrypted, and never
/// yields an empty Secret.
#[test]
fn stripped_copy_with_a_stale_entry_is_fetched_whole_never_decrypted() {
    use super::apply::ensure_whole;
    use super::insync::CachedCopy;
    let mut status = upstream_status();
    status["keyFingerprints"] = json!(["SHA256:abc"]);
    let stripped = Stripped::default();
    let mut v1 = sealed_object(status.clone());
    v1.metadata.resource_version = Some("1".into());
    let whole_v1 = v1.clone();
    stripped.make_cacheable(&mut v1);
    assert!(matches!(stripped.classify(&v1), CachedCopy::Stripped(_)));
    assert_eq!(stripped.classify(&whole_v1), CachedCopy::Whole);
    assert!(matches!(ensure_whole(&v1), Err(ReconcileError::NotWhole)));
    assert!(ensure_whole(&whole_v1).is_ok());

    // v2, in sync too: the entry is v2's.
    let mut v2 = sealed_object(status);
    v2.metadata.resource_version = Some("2".into());
    stripped.make_cacheable(&mut v2);
    assert_eq!(stripped.classify(&v1), CachedCopy::Stale);
    assert_eq!(stripped.digest_of(&v1), None);
    // v3, not in sync: no entry at all.
    let mut v3 = sealed_object(upstream_status());
    v3.metadata.resource_version = Some("3".into());
    stripped.make_cacheable(&mut v3);
    assert_eq!(stripped.classify(&v2), CachedCopy::Stale);
    assert_eq!(stripped.classify(&v3), CachedCopy::Whole);
    // What decrypting the stripped copy would have given: nothing, and no error. Refused above.
    let keys = snapshot(&[("rsa2048", KeyState::Active)]);
    let empty = unseal(&v1.to_core().unwrap(), &keys.ring, UnsealOptions::default());
    assert!(empty.is_ok_and(|u| u.secret.data.as_ref().is_none_or(|d| d.is_empty())));
}

/// The cut copy keeps what the reconcile reads (identity, status, template, the instance
/// label, the selector and rollout annotations) and drops the rest.
#[test]
fn stripped_copy_keeps_only_what_is_read() {
    let mut status = upstream_status();
    status["keyFingerprints"] = json!(["SHA256:abc"]);
    let mut object: SealedSecret = serde_json::from_value(json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {
            "name": "app", "namespace": "team", "uid": "uid-1", "generation": 2,
            "resourceVersion": "7", "generateName": "ap", "finalizers": ["x/y"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u"}],
            "labels": {"app.kubernetes.io/instance": "i", "team": "t"},
            "annotations": {
                "sealant.dev/namespace-selector": "tier=web",
                "sealant.dev/rollout": "deployment/web",
                "sealant.dev/age-items": "k",
                "sealedsecrets.bitnami.com/namespace-wide": "true"
            }
        },
        "spec": {
            "encryptedData": {"k": "AQ=="},
            "template": {"type": "kubernetes.io/tls",
                         "metadata": {"name": "app", "labels": {"l": "v"}, "creationTimestamp": null}}
        },
        "status": status,
    }))
    .unwrap();
    let whole = object.clone();
    Stripped::default().make_cacheable(&mut object);
    assert!(object.spec.stripped);
    assert!(object.spec.inner.encrypted_data.is_empty());
    // The template keeps its shape (labels, annotations, type); its identity is the object's.
    let template = &object.spec.inner.template;
    assert_eq!(template.type_, whole.spec.inner.template.type_);
    let template_meta = template.metadata.as_ref().unwrap();
    assert_eq!(
        template_meta.labels,
        whole.spec.inner.template.metadata.as_ref().unwrap().labels
    );
    assert_eq!(template_meta.name, None);
    assert_eq!(object.status, whole.status);
    let meta = &object.metadata;
    assert_eq!(
        (
            &meta.name,
            &meta.namespace,
            &meta.uid,
            &meta.resource_version,
            meta.generation
        ),
        (
            &whole.metadata.name,
            &whole.metadata.namespace,
            &whole.metadata.uid,
            &whole.metadata.resource_version,
            whole.metadata.generation
        )
    );
    assert_eq!(
        object.labels().keys().collect::<Vec<_>>(),
        ["app.kubernetes.io/instance"]
    );
    assert_eq!(
        object.annotations().keys().collect::<Vec<_>>(),
        ["sealant.dev/namespace-selector", "sealant.dev/rollout"]
    );
    assert_eq!(
        (
            &meta.finalizers,
            &meta.owner_references,
            &meta.generate_name
        ),
        (&None, &None, &None)
    );
}

#[test]
fn one_namespace_gets_at_most_half_the_workers() {
    let share = NamespaceShare::for_concurrency(4);
    let first = share.try_enter("noisy").unwrap();
    let _second = share.try_enter("noisy").unwrap();
    assert!(
        share.try_enter("noisy").is_none(),
        "a third turn for one namespace"
    );
    let _other = share.try_enter("quiet").unwrap();
    drop(first);
    assert!(
        share.try_enter("noisy").is_some(),
        "a turn given back is free again"
    );
    assert!(
        NamespaceShare::for_concurrency(1)
            .try_enter("any")
            .is_some()
    );
}

/// Regression: a SealedSecret whose `sealant.dev/cached-inputs-digest` annotation was set
/// through the API made `apply` fetch and recurse until the stack overflowed, or kept a
/// stale Secret `Synced=True`. No annotation is read for cache state any more.
#[test]
fn forged_cached_inputs_digest_annotation_is_not_read() {
    let stripped = Stripped::default();
    let mut object = sealed_object(upstream_status());
    object.metadata.annotations = Some(BTreeMap::from([(
        "sealant.dev/cached-inputs-digest".to_owned(),
        "07".repeat(32),
    )]));
    std::sync::Arc::make_mut(&mut object.spec.inner)
        .encrypted_data
        .insert("k".into(), String::new());
    assert_eq!(stripped.digest_of(&object), None);
    stripped.make_cacheable(&mut object);
    assert_eq!(stripped.digest_of(&object), None);
}

#[test]
fn objects_count_before_their_first_reconcile() {
    let inventory = Inventory::default();
    let mut recorded = upstream_status();
    recorded["keyFingerprints"] = json!(["SHA256:old"]);
    inventory.observe(&sealed_object(recorded.clone()));
    let mut other = sealed_object(upstream_status());
    other.metadata.name = Some("other".into());
    inventory.observe(&other);
    let mut usage = inventory.usage();
    assert_eq!(usage.by_key.remove("SHA256:old"), Some(1));
    assert_eq!(usage.unknown, 1);
    // A reconcile's record wins over what a later watch event's status says.
    inventory.record(&key("team", "app"), Some(vec!["SHA256:new".into()]));
    inventory.observe(&sealed_object(recorded));
    assert_eq!(inventory.usage().by_key.get("SHA256:new"), Some(&1));
    assert_eq!(inventory.usage().by_key.get("SHA256:old"), None);
}

/// Thousands of objects share a few key lists: the inventory holds each distinct list once and
/// lets it go with the last object that uses it.
#[test]
fn inventory_shares_key_lists_and_lets_them_go() {
    let inventory = Inventory::default();
    for i in 0..100 {
        inventory.record(&key("a", &format!("o{i}")), Some(vec!["SHA256:x".into()]));
    }
    inventory.record(&key("a", "other"), Some(vec!["SHA256:y".into()]));
    assert_eq!(inventory.shared_lists(), 2);
    inventory.record(&key("a", "other"), Some(vec!["SHA256:x".into()]));
    assert_eq!(inventory.shared_lists(), 1, "a replaced list was kept");
    for i in 0..100 {
        inventory.forget(&key("a", &format!("o{i}")));
    }
    assert_eq!(inventory.shared_lists(), 1, "a list still held was dropped");
    assert_eq!(inventory.usage().by_key.get("SHA256:x"), Some(&1));
    inventory.forget(&key("a", "other"));
    assert_eq!(inventory.shared_lists(), 0, "a list nobody holds was kept");
}

#[test]
fn inventory_counts_keys_and_warns_once_per_change() {
    let inventory = Inventory::default();
    inventory.record(&key("a", "one"), Some(vec!["SHA256:x".into()]));
    inventory.record(
        &key("a", "two"),
        Some(vec!["SHA256:x".into(), "SHA256:y".into()]),
    );
    inventory.record(&key("b", "three"), None);
    inventory.record(&key("b", "four"), Some(Vec::new()));
    let usage = inventory.usage();
    assert_eq!(usage.unknown, 1);
    assert_eq!(
        usage.by_key,
        [("SHA256:x".to_owned(), 2), ("SHA256:y".to_owned(), 1)].into()
    );
    inventory.record(&key("a", "two"), Some(vec!["SHA256:y".into()]));
    inventory.forget(&key("b", "three"));
    let usage = inventory.usage();
    assert_eq!(usage.unknown, 0);
    assert_eq!(
        usage.by_key,
        [("SHA256:x".to_owned(), 1), ("SHA256:y".to_owned(), 1)].into()
    );

    assert!(inventory.warn_once(&key("a", "one"), Some("m1")));
    assert!(!inventory.warn_once(&key("a", "one"), Some("m1")));
    assert!(inventory.warn_once(&key("a", "one"), Some("m2")));
    assert!(!inventory.warn_once(&key("a", "one"), None));
    assert!(
        inventory.warn_once(&key("a", "one"), Some("m2")),
        "resolved, then again"
    );
    // The inventory itself is untouched by warnings.
    assert_eq!(inventory.usage().by_key.get("SHA256:x"), Some(&1));
}

#[test]
fn truncation_respects_char_boundaries() {
    assert_eq!(truncate("abc", 10), "abc");
    assert_eq!(truncate("ééééé", 6), "é...");
}

fn key(namespace: &str, name: &str) -> ObjectKey {
    kube::runtime::reflector::ObjectRef::new(name).within(namespace)
}

fn managed_by(
    entries: &[(&str, &str)],
) -> Option<Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry>> {
    Some(
        entries
            .iter()
            .map(|(manager, operation)| {
                k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry {
                    manager: Some((*manager).to_owned()),
                    operation: Some((*operation).to_owned()),
                    ..Default::default()
                }
            })
            .collect(),
    )
}

/// A Secret written by update keeps keys an apply does not set: they are removed once, with
/// managedFields cleared; a Secret whose fields are all ours by apply needs no takeover.
#[test]
fn takeover_only_where_an_apply_would_leave_something_behind() {
    let (mut live, _, _, _) = written(false);
    live.metadata.resource_version = Some("7".into());
    let updated = live.clone();
    live.data
        .get_or_insert_with(BTreeMap::new)
        .insert("dropped".into(), k8s_openapi::ByteString(b"x".to_vec()));
    live.metadata.managed_fields = managed_by(&[("controller", "Update")]);
    let patch = apply::takeover_patch(&live, &updated).expect("a takeover");
    assert_eq!(patch["data"], json!({"dropped": null}));
    let entries = patch["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["manager"], FIELD_MANAGER);
    assert_eq!(entries[0]["operation"], "Apply");
    assert_eq!(patch["metadata"]["resourceVersion"], "7");
    assert!(patch["metadata"].get("ownerReferences").is_none());

    // Ours by apply only: the apply prunes it.
    live.metadata.managed_fields = managed_by(&[(FIELD_MANAGER, "Apply")]);
    assert_eq!(apply::takeover_patch(&live, &updated), None);
    // Shared with an update entry, but nothing extra: the apply is enough for now.
    let mut shared = updated.clone();
    shared.metadata.managed_fields =
        managed_by(&[(FIELD_MANAGER, "Apply"), ("controller", "Update")]);
    assert_eq!(apply::takeover_patch(&shared, &updated), None);
    // A foreign label in overwrite mode goes too.
    let mut labelled = updated.clone();
    labelled.metadata.managed_fields = managed_by(&[("kubectl-edit", "Update")]);
    labelled
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("foreign".into(), "x".into());
    let patch = apply::takeover_patch(&labelled, &updated).expect("a takeover");
    assert_eq!(patch["metadata"]["labels"], json!({"foreign": null}));
}

/// What is applied: in overwrite mode the whole shape; in patch mode only what the
/// SealedSecret brings (the Secret's own keys and labels stay its owners').
#[test]
fn apply_config_holds_only_our_fields() {
    for patch in [false, true] {
        let (mut live, shape, inputs, key) = written(patch);
        live.metadata.resource_version = Some("7".into());
        live.metadata.uid = Some("secret-uid".into());
        let mut desired = shape.clone();
        desired.data = Some([("k".to_owned(), k8s_openapi::ByteString(b"v".to_vec()))].into());
        let mut updated = K8sSecret::clone(&with_shape(&live, &desired, patch));
        updated.data = if patch {
            live.data.clone()
        } else {
            desired.data.clone()
        };
        set_digest(&mut updated, &inputs, &key);
        let config = apply::apply_config(&live, &desired, &updated, patch, Some("7".into()));
        assert_eq!(config.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(config.metadata.uid, None);
        assert_eq!(config.metadata.managed_fields, None);
        assert!(config.annotations().contains_key(DIGEST_ANNOTATION));
        let keys: Vec<&String> = config.data.iter().flatten().map(|(k, _)| k).collect();
        assert_eq!(keys, ["k"], "patch={patch}");
        assert!(!config.labels().contains_key("foreign"), "patch={patch}");
        assert_eq!(config.type_.as_deref(), Some("Opaque"));
    }
}

/// Stripped copies with equal cut specs hold one spec between them, whatever their templates'
/// names, and one key inventory; a spec no copy holds any more is let go; a different shape is
/// never shared.
#[test]
fn stripped_copies_share_equal_specs_and_let_them_go() {
    let stripped = Stripped::default();
    let mut status = upstream_status();
    status["keyFingerprints"] = json!(["SHA256:abc"]);
    let object = |name: &str, template: Value| -> SealedSecret {
        let mut object: SealedSecret = serde_json::from_value(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": "team", "uid": name, "generation": 2},
            "spec": {"encryptedData": {"k": "AQ=="}, "template": template},
            "status": status,
        }))
        .unwrap();
        stripped.make_cacheable(&mut object);
        assert!(object.spec.stripped);
        object
    };
    let plain = |name: &str| json!({"metadata": {"name": name, "namespace": "team"}});
    let a = object("a", plain("a"));
    let b = object("b", plain("b"));
    assert!(std::sync::Arc::ptr_eq(&a.spec.inner, &b.spec.inner));
    let inventory = |o: &SealedSecret| o.status.as_ref().unwrap().key_fingerprints.clone().unwrap();
    assert!(std::sync::Arc::ptr_eq(&inventory(&a), &inventory(&b)));
    let labelled = object("c", json!({"metadata": {"labels": {"l": "v"}}}));
    assert!(!std::sync::Arc::ptr_eq(&a.spec.inner, &labelled.spec.inner));
    assert_eq!(stripped.shared_specs(), 2);
    // Once no copy holds them, sweeps let the specs go: the table stays bounded by the copies.
    drop((a, b, labelled));
    let held: Vec<_> = (0..200)
        .map(|i| object(&format!("o{i}"), json!({"type": format!("t{i}")})))
        .collect();
    assert!(stripped.shared_specs() <= held.len() * 2);
    assert!(stripped.shared_specs() >= held.len());
}
