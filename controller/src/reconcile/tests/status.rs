//! The status the reconciler writes: conditions, inventory, observed generation, and which
//! writes start a reconcile.

use super::*;

fn desired(key_fingerprints: Option<Vec<&str>>, compromised: Option<&str>) -> DesiredStatus {
    DesiredStatus {
        synced: "True",
        message: String::new(),
        generation: Some(2),
        key_fingerprints: key_fingerprints.map(|f| f.into_iter().map(str::to_owned).collect()),
        compromised: compromised.map(str::to_owned),
        rollout: None,
        reason: None,
    }
}

/// The status as applied, as JSON.
fn applied(current: &SealedSecret, desired: &DesiredStatus, now: &Option<String>) -> Option<Value> {
    desired_status(current.status.as_ref(), desired, now.clone())
        .map(|status| serde_json::to_value(status).unwrap())
}

#[test]
fn inventory_alone_changes_nothing_else() {
    let object = sealed_object(upstream_status());
    let now = Some("2026-06-01T00:00:00Z".to_owned());
    let status = applied(
        &object,
        &desired(Some(vec!["SHA256:a", "SHA256:b"]), None),
        &now,
    )
    .unwrap();
    // The whole set of fields we own (an apply without one would remove it), with the
    // conditions as they were, times included.
    let mut expected = upstream_status();
    expected["keyFingerprints"] = json!(["SHA256:a", "SHA256:b"]);
    assert_eq!(status, expected);
    // Once recorded, nothing to write.
    let object = sealed_object(expected);
    assert_eq!(
        applied(
            &object,
            &desired(Some(vec!["SHA256:a", "SHA256:b"]), None),
            &now
        ),
        None
    );
    // Unknown after a failure at a new generation: the stale list is left out (removed).
    let mut failed = desired(None, None);
    failed.synced = "False";
    failed.generation = Some(3);
    let status = applied(&object, &failed, &now).unwrap();
    assert!(!status.as_object().unwrap().contains_key("keyFingerprints"));
    assert_eq!(status["conditions"][0]["status"], "False");
    assert_eq!(
        status["conditions"][0]["lastTransitionTime"],
        "2026-06-01T00:00:00Z"
    );
    assert_eq!(status["observedGeneration"], 3);
}

#[test]
fn compromised_condition_comes_second_and_goes_when_resolved() {
    let mut recorded = upstream_status();
    recorded["keyFingerprints"] = json!(["SHA256:bad"]);
    let object = sealed_object(recorded.clone());
    let now = Some("2026-06-01T00:00:00Z".to_owned());
    let message = "sealed to compromised key SHA256:bad; re-encrypt it (sealant reencrypt)";
    let status = applied(
        &object,
        &desired(Some(vec!["SHA256:bad"]), Some(message)),
        &now,
    )
    .unwrap();
    let conditions = status["conditions"].as_array().unwrap();
    assert_eq!(conditions.len(), 2);
    // Synced first and unchanged (its times stay), KeyCompromised second.
    assert_eq!(conditions[0], recorded["conditions"][0]);
    assert_eq!(conditions[1]["type"], CONDITION_KEY_COMPROMISED);
    assert_eq!(conditions[1]["status"], "True");
    assert_eq!(conditions[1]["reason"], REASON_COMPROMISED);
    assert_eq!(conditions[1]["message"], message);
    assert_eq!(conditions[1]["lastTransitionTime"], "2026-06-01T00:00:00Z");
    assert_eq!(status["keyFingerprints"], json!(["SHA256:bad"]));

    // Applied: stable.
    let object = sealed_object(status.clone());
    assert_eq!(
        applied(
            &object,
            &desired(Some(vec!["SHA256:bad"]), Some(message)),
            &now
        ),
        None
    );
    assert_eq!(current_compromised(object.status.as_ref()), Some(message));
    // Re-encrypted (or the key reactivated): the condition goes, Synced stays.
    let status = applied(&object, &desired(Some(vec!["SHA256:good"]), None), &now).unwrap();
    assert_eq!(status["conditions"], json!([recorded["conditions"][0]]));
    assert_eq!(status["keyFingerprints"], json!(["SHA256:good"]));
}

#[test]
fn recorded_inventory_belongs_to_the_current_generation() {
    let mut recorded = upstream_status();
    recorded["keyFingerprints"] = json!(["SHA256:a"]);
    let object = sealed_object(recorded.clone());
    assert_eq!(
        recorded_inventory(&object, None),
        Some(vec!["SHA256:a".to_owned()])
    );
    // From an older generation: not trusted.
    recorded["observedGeneration"] = json!(1);
    let stale = sealed_object(recorded);
    assert_eq!(recorded_inventory(&stale, None), None);
    // Upstream's status has none; what we wrote (not yet seen in the object) counts.
    let upstream = sealed_object(upstream_status());
    assert_eq!(recorded_inventory(&upstream, None), None);
    let written = desired(Some(vec!["SHA256:b"]), None).written(&upstream);
    assert_eq!(
        recorded_inventory(&upstream, Some(&written)),
        Some(vec!["SHA256:b".to_owned()])
    );
    // ...for that object and generation only.
    let mut recreated = upstream.clone();
    recreated.metadata.uid = Some("uid-0".into());
    assert_eq!(recorded_inventory(&recreated, Some(&written)), None);
    let mut newer = upstream.clone();
    newer.metadata.generation = Some(3);
    assert_eq!(recorded_inventory(&newer, Some(&written)), None);
    let mut without_uid = upstream.clone();
    without_uid.metadata.uid = None;
    let unknown = desired(Some(vec!["SHA256:b"]), None).written(&without_uid);
    assert_eq!(recorded_inventory(&without_uid, Some(&unknown)), None);
    let other_uid = WrittenStatus {
        uid: written.uid ^ 1,
        ..written
    };
    assert_eq!(recorded_inventory(&upstream, Some(&other_uid)), None);
}

/// The compact record of a write means "this exact status over this exact version": any
/// difference of status, object or version is written again.
#[test]
fn written_status_is_this_status_over_this_version() {
    let memory = StatusMemory::default();
    let mut object = sealed_object(upstream_status());
    object.metadata.resource_version = Some("10".into());
    let key = object_key(&object);
    let wanted = || {
        let mut wanted = desired(Some(vec!["SHA256:a"]), Some("compromised"));
        wanted.rollout = Some(rollout::Condition {
            reason: "Restarted",
            message: "deployment/app".into(),
        });
        wanted
    };
    assert!(!memory.already_written(&key, &wanted().written(&object)));
    memory.remember(&key, wanted().written(&object));
    assert!(memory.already_written(&key, &wanted().written(&object)));

    // The object moved on (someone else's write): not ours any more.
    let mut moved = object.clone();
    moved.metadata.resource_version = Some("11".into());
    assert!(!memory.already_written(&key, &wanted().written(&moved)));
    // Recreated under the same name.
    let mut recreated = object.clone();
    recreated.metadata.uid = Some("uid-2".into());
    assert!(!memory.already_written(&key, &wanted().written(&recreated)));
    // Another object.
    let mut other = object.clone();
    other.metadata.name = Some("app2".into());
    assert!(!memory.already_written(&object_key(&other), &wanted().written(&other)));

    let changes: [fn(&mut DesiredStatus); 7] = [
        |d| d.synced = "False",
        |d| d.reason = Some("Other"),
        |d| d.generation = Some(3),
        |d| d.key_fingerprints = Some(vec!["SHA256:b".into()]),
        |d| d.key_fingerprints = None,
        |d| d.compromised = Some("other".into()),
        |d| d.rollout.as_mut().unwrap().message = "deployment/other".into(),
    ];
    for (i, change) in changes.iter().enumerate() {
        let mut changed = wanted();
        change(&mut changed);
        assert!(
            !memory.already_written(&key, &changed.written(&object)),
            "change {i} taken for the status written"
        );
    }
    let mut plain = wanted();
    plain.compromised = None;
    plain.rollout = None;
    assert!(!memory.already_written(&key, &plain.written(&object)));
    memory.remember(&key, plain.written(&object));
    assert!(memory.already_written(&key, &plain.written(&object)));
    assert!(!memory.already_written(&key, &wanted().written(&object)));
    memory.forget(&key);
    assert!(!memory.already_written(&key, &plain.written(&object)));
}

/// Thousands of objects sealed to the same keys hold one list; a list goes when its last
/// object moves to another or is gone (the interner never outgrows the records).
#[test]
fn key_inventories_are_shared_and_let_go() {
    let memory = StatusMemory::default();
    let object = |i: usize| {
        let mut object = sealed_object(upstream_status());
        object.metadata.name = Some(format!("app-{i}"));
        object.metadata.uid = Some(format!("uid-{i}"));
        object
    };
    let shared = vec!["SHA256:a", "SHA256:b"];
    for i in 0..100 {
        let object = object(i);
        let wanted = desired(Some(shared.clone()), None);
        memory.remember(&object_key(&object), wanted.written(&object));
    }
    assert_eq!(memory.interned_inventories(), 1);
    let expected = Some(vec!["SHA256:a".to_owned(), "SHA256:b".to_owned()]);
    assert_eq!(memory.recorded_inventory(&object(7)), expected);

    // Two objects re-encrypted to another key: a second list, shared by both.
    for i in [3, 4] {
        let object = object(i);
        let wanted = desired(Some(vec!["SHA256:c"]), None);
        memory.remember(&object_key(&object), wanted.written(&object));
    }
    assert_eq!(memory.interned_inventories(), 2);
    assert_eq!(
        memory.recorded_inventory(&object(3)),
        Some(vec!["SHA256:c".to_owned()])
    );
    assert_eq!(memory.recorded_inventory(&object(5)), expected);
    // Written again with the same list: still shared, nothing new.
    let again = object(3);
    let wanted = desired(Some(vec!["SHA256:c"]), None);
    memory.remember(&object_key(&again), wanted.written(&again));
    assert_eq!(memory.interned_inventories(), 2);
    // The last holders of the second list move back, or are gone: the list goes.
    memory.forget(&object_key(&object(3)));
    assert_eq!(memory.interned_inventories(), 2);
    let back = object(4);
    let wanted = desired(Some(shared.clone()), None);
    memory.remember(&object_key(&back), wanted.written(&back));
    assert_eq!(memory.interned_inventories(), 1);
    // Unknown inventories hold nothing.
    let unknown = object(5);
    memory.remember(&object_key(&unknown), desired(None, None).written(&unknown));
    assert_eq!(memory.recorded_inventory(&unknown), None);
    for i in 0..100 {
        memory.forget(&object_key(&object(i)));
    }
    assert_eq!(memory.interned_inventories(), 0);
}

/// `object` with one more label, as a tenant's relabel.
fn with_team_label(object: &SealedSecret) -> SealedSecret {
    let mut relabelled = object.clone();
    relabelled
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("team".into(), "b".into());
    relabelled
}

/// Our own status writes start no reconcile; anyone else's status, and changes of the spec or
/// of the metadata that templates and upstream's annotations read, do.
#[test]
fn trigger_hash_ignores_only_our_own_status_writes() {
    let memory = StatusMemory::default();
    let stripped = Stripped::default();
    let object = sealed_object(upstream_status());
    let first = memory.trigger_hash(&object, &stripped);
    assert_eq!(
        memory.trigger_hash(&object, &stripped),
        first,
        "not a function of the object"
    );

    let mut ours = object.clone();
    ours.status.as_mut().unwrap().key_fingerprints = Some(["SHA256:a".to_owned()].into());
    memory.own(&object_key(&ours), ours.status.as_ref());
    assert_eq!(
        memory.trigger_hash(&ours, &stripped),
        first,
        "our own write started a reconcile"
    );

    let mut forged = ours.clone();
    forged.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "False".into();
    let forged_hash = memory.trigger_hash(&forged, &stripped);
    assert_ne!(forged_hash, first, "a forged status went unseen");
    // Forged again after our correction: seen again.
    memory.own(&object_key(&ours), ours.status.as_ref());
    assert_eq!(memory.trigger_hash(&ours, &stripped), first);
    assert_eq!(memory.trigger_hash(&forged, &stripped), forged_hash);

    let relabelled = with_team_label(&ours);
    assert_ne!(memory.trigger_hash(&relabelled, &stripped), first);
    let mut annotated = ours.clone();
    annotated.metadata.annotations = Some(BTreeMap::from([(
        "sealant.dev/age-items".to_owned(),
        "k".to_owned(),
    )]));
    assert_ne!(memory.trigger_hash(&annotated, &stripped), first);
    let mut newer = ours.clone();
    newer.metadata.generation = Some(3);
    assert_ne!(memory.trigger_hash(&newer, &stripped), first);
    // The version alone (what each of our writes bumps) is not a change.
    let mut bumped = ours;
    bumped.metadata.resource_version = Some("1234".into());
    assert_eq!(memory.trigger_hash(&bumped, &stripped), first);
}

/// The trigger filter (what kube-runtime's predicate filter did, kept in the status memory's
/// entry): a first sight starts a reconcile, the same event again or our own status write does
/// not, a change does once, and a re-created object (another uid) does even if it hashes alike.
#[test]
fn triggers_once_per_change_and_for_a_recreated_object() {
    let memory = StatusMemory::default();
    let stripped = Stripped::default();
    let mut object = sealed_object(upstream_status());
    object.metadata.uid = Some("uid-1".into());
    assert!(memory.triggers(&object, &stripped), "first sight");
    assert!(!memory.triggers(&object, &stripped), "the same event twice");

    let mut ours = object.clone();
    ours.status.as_mut().unwrap().key_fingerprints = Some(["SHA256:a".to_owned()].into());
    memory.own(&object_key(&ours), ours.status.as_ref());
    assert!(!memory.triggers(&ours, &stripped), "our own status write");

    let relabelled = with_team_label(&ours);
    assert!(memory.triggers(&relabelled, &stripped), "a relabel");
    assert!(
        !memory.triggers(&relabelled, &stripped),
        "the relabel seen twice"
    );

    let mut recreated = relabelled.clone();
    recreated.metadata.uid = Some("uid-2".into());
    assert!(
        memory.triggers(&recreated, &stripped),
        "a re-created object"
    );

    memory.forget(&object_key(&recreated));
    assert!(
        memory.triggers(&recreated, &stripped),
        "a forgotten object is new again"
    );
}

/// The watch cache cuts the labels and annotations of an in-sync copy after the trigger hash's
/// input was taken: the cut copy hashes like the whole one (the cut starts no reconcile), and
/// a tenant's change of any label or annotation, even one the cut drops, still starts one.
#[test]
fn trigger_hash_of_a_stripped_copy_is_that_of_its_whole_copy() {
    let memory = StatusMemory::default();
    let stripped = Stripped::default();
    let mut status = upstream_status();
    status["keyFingerprints"] = json!(["SHA256:abc"]);
    let mut whole = sealed_object(status);
    whole.metadata.resource_version = Some("1".into());
    whole.metadata.labels = Some(BTreeMap::from([
        ("app.kubernetes.io/instance".to_owned(), "a".to_owned()),
        ("team".to_owned(), "a".to_owned()),
    ]));
    whole.metadata.annotations = Some(BTreeMap::from([(
        "sealant.dev/age-items".to_owned(),
        "k".to_owned(),
    )]));
    let first = memory.trigger_hash(&whole, &stripped);
    let mut cached = whole.clone();
    stripped.make_cacheable(&mut cached);
    assert!(cached.spec.stripped);
    assert_eq!(memory.trigger_hash(&cached, &stripped), first);

    // The next version, with a label the cut drops changed: seen.
    let mut relabelled = whole.clone();
    relabelled.metadata.resource_version = Some("2".into());
    relabelled
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("team".into(), "b".into());
    let mut cached_relabelled = relabelled.clone();
    stripped.make_cacheable(&mut cached_relabelled);
    assert_eq!(cached.metadata.labels, cached_relabelled.metadata.labels);
    assert_ne!(memory.trigger_hash(&cached_relabelled, &stripped), first);
    assert_eq!(
        memory.trigger_hash(&cached_relabelled, &stripped),
        memory.trigger_hash(&relabelled, &stripped)
    );
    // An annotation the cut drops, likewise.
    let mut annotated = whole;
    annotated.metadata.resource_version = Some("3".into());
    annotated.metadata.annotations = None;
    let mut cached_annotated = annotated.clone();
    stripped.make_cacheable(&mut cached_annotated);
    assert_eq!(
        cached.metadata.annotations,
        cached_annotated.metadata.annotations
    );
    assert_ne!(memory.trigger_hash(&cached_annotated, &stripped), first);
}

/// A namespace that stops matching a selector-scoped object: the error says which namespace
/// and selector, waits for a relabel instead of burning retries, and the condition carries the
/// `NamespaceNotSelected` reason, written even when `Synced` was already `False` for another
/// reason and removed once it unseals again.
#[test]
fn namespace_not_selected_has_its_own_reason_and_condition() {
    let err = ReconcileError::NamespaceNotSelected {
        namespace: "team-a".into(),
        selector: "team=payments".into(),
    };
    assert_eq!(err.event_reason(), REASON_NAMESPACE_NOT_SELECTED);
    assert_eq!(err.kind(), "namespace");
    // The Namespace watch brings it back on a relabel; retries cannot help before.
    assert!(err.is_permanent());
    assert_eq!(
        error::condition_reason(&err),
        Some(REASON_NAMESPACE_NOT_SELECTED)
    );
    assert!(err.to_string().contains("\"team-a\""), "{err}");
    assert!(err.to_string().contains("\"team=payments\""), "{err}");
    let other = ReconcileError::Unmanaged("x".into());
    assert_eq!(error::condition_reason(&other), None);
    let bad = ReconcileError::Selector(sealant_core::Selector::parse("").unwrap_err());
    assert!(bad.is_permanent());
    assert_eq!(bad.event_reason(), "ErrUnsealFailed");

    let now = Some("2026-06-01T00:00:00Z".to_owned());
    let mut failed = desired(None, None);
    failed.synced = "False";
    failed.generation = Some(1);
    let object = sealed_object(json!({"observedGeneration": 1, "conditions": [
        {"type": "Synced", "status": "False", "message": "cannot decrypt"}
    ]}));
    let not_selected = DesiredStatus {
        message: err.to_string(),
        ..failed.with_reason(Some(REASON_NAMESPACE_NOT_SELECTED))
    };
    let status = applied(&object, &not_selected, &now).expect("the reason changed");
    assert_eq!(
        status["conditions"][0]["reason"],
        REASON_NAMESPACE_NOT_SELECTED
    );
    assert_eq!(status["conditions"][0]["status"], "False");
    let object = sealed_object(status);
    assert_eq!(applied(&object, &not_selected, &now), None);
    let mut synced = desired(None, None);
    synced.generation = Some(1);
    let status = applied(&object, &synced, &now).unwrap();
    assert_eq!(status["conditions"][0]["status"], "True");
    assert!(
        status["conditions"][0]
            .get("reason")
            .is_none_or(Value::is_null)
    );
}
