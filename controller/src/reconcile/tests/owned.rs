//! The owned-Secret cache: its records agree with the full in-sync check, and the watch keeps
//! one record per existing Secret (docs/controller.md, "Caches").

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::runtime::watcher::Event;

use super::super::owned::{OwnedSecrets, Record};
use super::*;

/// The fast path's decision on a record, next to the full check's on the whole Secret.
fn both(live: &K8sSecret, shape: &K8sSecret, inputs: &[u8; 32], key: &SyncKey) -> (bool, bool) {
    (
        Record::of(live, key).in_sync(shape, inputs, key),
        in_sync(live, shape, false, inputs, key),
    )
}

fn labels(secret: &mut K8sSecret) -> &mut BTreeMap<String, String> {
    secret.metadata.labels.get_or_insert_with(BTreeMap::new)
}

fn annotations(secret: &mut K8sSecret) -> &mut BTreeMap<String, String> {
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
}

fn owner(secret: &mut K8sSecret) -> &mut OwnerReference {
    &mut secret.metadata.owner_references.as_mut().unwrap()[0]
}

type Edit = Box<dyn Fn(&mut K8sSecret)>;

fn edit(change: impl Fn(&mut K8sSecret) + 'static) -> Edit {
    Box::new(change)
}

#[test]
fn record_holds_only_macs_and_agrees_with_the_full_check() {
    let (live, shape, inputs, key) = written(false);
    let record = Record::of(&live, &key);
    assert!(record.in_sync(&shape, &inputs, &key));
    assert_eq!(
        record.data_mac(),
        super::super::insync::live_data_mac(&live, &key)
    );

    let mut tampered = live.clone();
    tampered
        .data
        .get_or_insert_with(BTreeMap::new)
        .insert("k".into(), k8s_openapi::ByteString(b"w".to_vec()));
    assert!(!Record::of(&tampered, &key).in_sync(&shape, &inputs, &key));
    let mut other_inputs = inputs;
    other_inputs[31] ^= 1;
    assert!(!record.in_sync(&shape, &other_inputs, &key));
    let other_key = SyncKey::from_bytes(&[8; 32]).unwrap();
    assert!(!record.in_sync(&shape, &inputs, &other_key));
    let mut retyped = shape.clone();
    retyped.type_ = Some("kubernetes.io/tls".into());
    assert!(!record.in_sync(&retyped, &inputs, &key));
    // Without a digest, or in patch mode: the slow path decides.
    let mut undigested = live.clone();
    annotations(&mut undigested).remove(DIGEST_ANNOTATION);
    assert!(!Record::of(&undigested, &key).in_sync(&shape, &inputs, &key));
    let (patched, shape, inputs, key) = written(true);
    assert!(in_sync(&patched, &shape, true, &inputs, &key));
    assert!(!Record::of(&patched, &key).in_sync(&shape, &inputs, &key));
}

/// Any change to the Secret's labels, annotations, ownerReferences, type, digest or data makes
/// it out of sync, on the record as in the full check.
#[test]
fn a_changed_secret_is_not_in_sync() {
    let (live, shape, inputs, key) = written(false);
    let changes: Vec<(&str, Edit)> = vec![
        (
            "label added",
            edit(|s| _ = labels(s).insert("x".into(), "y".into())),
        ),
        (
            "label changed",
            edit(|s| _ = labels(s).insert("app".into(), "other".into())),
        ),
        (
            "our label removed",
            edit(|s| _ = labels(s).remove(OWNED_LABEL)),
        ),
        (
            "annotation added",
            edit(|s| _ = annotations(s).insert("x".into(), "y".into())),
        ),
        // Older versions kept the data MAC under this name in memory: a real one is foreign.
        (
            "old cache annotation",
            edit(|s| {
                _ = annotations(s).insert("sealant.dev/cached-data-mac".into(), "0".repeat(64))
            }),
        ),
        (
            "digest changed",
            edit(|s| _ = annotations(s).insert(DIGEST_ANNOTATION.into(), "v1:AAAA".into())),
        ),
        ("owner uid", edit(|s| owner(s).uid = "uid-2".into())),
        ("owner name", edit(|s| owner(s).name = "other".into())),
        ("owner kind", edit(|s| owner(s).kind = "Deployment".into())),
        ("owner not controller", edit(|s| owner(s).controller = None)),
        (
            "owner blocks deletion",
            edit(|s| owner(s).block_owner_deletion = Some(true)),
        ),
        (
            "owners empty",
            edit(|s| s.metadata.owner_references = Some(Vec::new())),
        ),
        (
            "owners absent",
            edit(|s| s.metadata.owner_references = None),
        ),
        (
            "type changed",
            edit(|s| s.type_ = Some("kubernetes.io/tls".into())),
        ),
        ("type absent", edit(|s| s.type_ = None)),
        (
            "data changed",
            edit(|s| {
                s.data
                    .get_or_insert_with(BTreeMap::new)
                    .insert("k".into(), k8s_openapi::ByteString(b"w".to_vec()));
            }),
        ),
    ];
    for (what, change) in changes {
        let mut changed = live.clone();
        change(&mut changed);
        assert_eq!(
            both(&changed, &shape, &inputs, &key),
            (false, false),
            "{what}"
        );
    }
    // A label key that looks like the digest annotation is a label like any other.
    let mut lookalike = live.clone();
    labels(&mut lookalike).insert(DIGEST_ANNOTATION.into(), "x".into());
    assert_eq!(both(&lookalike, &shape, &inputs, &key), (false, false));
}

/// The template asking for another label, annotation, owner or type is not in sync either.
#[test]
fn a_changed_template_is_not_in_sync() {
    let (live, shape, inputs, key) = written(false);
    let changes: Vec<(&str, Edit)> = vec![
        (
            "label added",
            edit(|s| _ = labels(s).insert("x".into(), "y".into())),
        ),
        ("label removed", edit(|s| _ = labels(s).remove("app"))),
        (
            "annotation added",
            edit(|s| _ = annotations(s).insert("x".into(), "y".into())),
        ),
        ("owner uid", edit(|s| owner(s).uid = "uid-2".into())),
        (
            "owners absent",
            edit(|s| s.metadata.owner_references = None),
        ),
        (
            "type changed",
            edit(|s| s.type_ = Some("kubernetes.io/tls".into())),
        ),
    ];
    for (what, change) in changes {
        let mut desired = shape.clone();
        change(&mut desired);
        assert_eq!(
            both(&live, &desired, &inputs, &key),
            (false, false),
            "{what}"
        );
    }
}

/// What the typed comparison took as equal, the record does too: maps built in another order,
/// an absent annotation map and an empty one, no type asked for, a digest annotation or our
/// label in the template (both overridden).
#[test]
fn the_same_shape_is_in_sync_however_it_is_built() {
    let (mut live, mut shape, inputs, key) = written(false);
    // Several labels and annotations, inserted in opposite orders on the two sides.
    let entries = [("a", "1"), ("m", "2"), ("z", "3")];
    for (k, v) in entries {
        labels(&mut shape).insert(k.into(), v.into());
        annotations(&mut shape).insert(format!("note/{k}"), v.into());
    }
    for (k, v) in entries.iter().rev() {
        labels(&mut live).insert((*k).into(), (*v).into());
        annotations(&mut live).insert(format!("note/{k}"), (*v).into());
    }
    assert_eq!(both(&live, &shape, &inputs, &key), (true, true));

    let (live, shape, inputs, key) = written(false);
    let same: Vec<(&str, Edit)> = vec![
        (
            "annotations empty",
            edit(|s| s.metadata.annotations = Some(BTreeMap::new())),
        ),
        ("no type", edit(|s| s.type_ = None)),
        (
            "digest in the template",
            edit(|s| _ = annotations(s).insert(DIGEST_ANNOTATION.into(), "v1:x".into())),
        ),
        (
            "our label in the template",
            edit(|s| _ = labels(s).insert(OWNED_LABEL.into(), "other".into())),
        ),
    ];
    for (what, change) in same {
        let mut desired = shape.clone();
        change(&mut desired);
        assert_eq!(both(&live, &desired, &inputs, &key), (true, true), "{what}");
    }
    // No type asked for: whatever type the Secret has.
    let mut retyped = live.clone();
    retyped.type_ = Some("kubernetes.io/tls".into());
    let mut untyped = shape.clone();
    untyped.type_ = None;
    assert_eq!(both(&retyped, &untyped, &inputs, &key), (true, true));
}

/// A record made for a Secret of another SealedSecret (the same name, deleted and created
/// again: another UID) is not taken for this one's.
#[test]
fn a_record_for_another_uid_is_not_used() {
    let (live, shape, inputs, key) = written(false);
    let mut recreated = shape.clone();
    owner(&mut recreated).uid = "uid-2".into();
    assert_eq!(both(&live, &recreated, &inputs, &key), (false, false));
    // Written for the new one, it is.
    let mut rewritten = live.clone();
    owner(&mut rewritten).uid = "uid-2".into();
    assert_eq!(both(&rewritten, &recreated, &inputs, &key), (true, true));
}

/// The record's digest check accepts exactly what `verify_digest_annotation` accepts: the
/// canonical annotation, no other spelling of the same tag.
#[test]
fn digest_record_agrees_with_verification() {
    let (live, shape, inputs, key) = written(false);
    let canonical = live.annotations()[DIGEST_ANNOTATION].clone();
    let spellings = [
        canonical.clone(),
        format!("{canonical}="),
        format!("{canonical} "),
        canonical.replacen("v1:", "V1:", 1),
        canonical.replacen("v1:", "v2:", 1),
        canonical[..canonical.len() - 1].to_owned(),
        // The last character carries unused bits: another character may decode to the same
        // tag if trailing bits were allowed.
        {
            let mut s = canonical.clone();
            let last = s.pop().unwrap();
            s.push(if last == 'A' { 'B' } else { 'A' });
            s
        },
    ];
    let mac = super::super::insync::live_data_mac(&live, &key);
    for (i, spelling) in spellings.iter().enumerate() {
        let verified = sync::verify_digest_annotation(&key, &inputs, &mac, spelling);
        assert_eq!(verified, i == 0, "{spelling}");
        let mut respelled = live.clone();
        annotations(&mut respelled).insert(DIGEST_ANNOTATION.into(), spelling.clone());
        assert_eq!(
            both(&respelled, &shape, &inputs, &key),
            (verified, verified),
            "{spelling}"
        );
    }
}

#[test]
fn a_record_is_small() {
    // uid hash, three MACs, relist epoch, two flags: no string, no map, nothing on the heap.
    assert!(
        std::mem::size_of::<Record>() <= 112,
        "{}",
        std::mem::size_of::<Record>()
    );
}

/// An owned Secret as the watch delivers it.
fn watched(name: &str, uid: &str, owner_name: &str) -> K8sSecret {
    let (mut secret, _, _, _) = written(false);
    secret.metadata.name = Some(name.into());
    secret.metadata.namespace = Some("team".into());
    secret.metadata.uid = Some(uid.into());
    owner(&mut secret).name = owner_name.into();
    secret
}

fn cache() -> OwnedSecrets {
    OwnedSecrets::new(std::sync::Arc::new(SyncKey::from_bytes(&[9; 32]).unwrap()))
}

#[test]
fn the_watch_keeps_one_record_per_secret_and_triggers_owners() {
    let owned = cache();
    let (a, b) = (watched("a", "uid-a", "a"), watched("b", "uid-b", "b"));
    assert!(owned.observe(Event::Init).is_empty());
    assert_eq!(
        owned.observe(Event::InitApply(a.clone())),
        [key("team", "a")]
    );
    assert_eq!(
        owned.observe(Event::InitApply(b.clone())),
        [key("team", "b")]
    );
    assert!(owned.observe(Event::InitDone).is_empty());
    assert_eq!(owned.len(), 2);
    assert_eq!(
        owned.get("team", "a"),
        Some(Record::of(&a, &SyncKey::from_bytes(&[9; 32]).unwrap()))
    );
    assert_eq!(owned.get("other", "a"), None);

    // An edit replaces the record and triggers the owner.
    let mut edited = a.clone();
    labels(&mut edited).insert("x".into(), "y".into());
    assert_eq!(
        owned.observe(Event::Apply(edited.clone())),
        [key("team", "a")]
    );
    let key9 = SyncKey::from_bytes(&[9; 32]).unwrap();
    assert_eq!(owned.get("team", "a"), Some(Record::of(&edited, &key9)));
    let (_, shape, inputs, _) = written(false);
    assert!(
        !owned
            .get("team", "a")
            .unwrap()
            .in_sync(&shape, &inputs, &key9)
    );

    // A deleted Secret goes, and its owner is sent back to re-create it.
    assert_eq!(owned.observe(Event::Delete(b.clone())), [key("team", "b")]);
    assert_eq!(owned.get("team", "b"), None);
    assert_eq!(owned.len(), 1);
    // A delete of another object of that name (another UID) leaves the record alone.
    owned.observe(Event::Apply(b.clone()));
    let older = watched("b", "uid-old", "b");
    assert_eq!(owned.observe(Event::Delete(older)), [key("team", "b")]);
    assert!(owned.get("team", "b").is_some());

    // Owners are the controller references of kind SealedSecret, as lanes::owners maps them.
    let foreign = watched("c", "uid-c", "app-c");
    assert_eq!(
        owned.observe(Event::Apply(foreign.clone())),
        [key("team", "app-c")]
    );
    for secret in [a, b, foreign] {
        owned.observe(Event::Delete(secret));
    }
    assert!(owned.is_empty());
}

/// A relist drops what it did not list (deleted while the watch was down) and sends the
/// owners back; what it listed again stays, updated.
#[test]
fn a_relist_drops_what_it_no_longer_lists() {
    let owned = cache();
    let (a, b, c) = (
        watched("a", "uid-a", "a"),
        watched("b", "uid-b", "b"),
        watched("c", "uid-c", "other"),
    );
    owned.observe(Event::Init);
    for secret in [&a, &b, &c] {
        owned.observe(Event::InitApply(secret.clone()));
    }
    owned.observe(Event::InitDone);
    assert_eq!(owned.len(), 3);

    assert!(owned.observe(Event::Init).is_empty());
    // Until the relist ends, the records stay readable.
    assert_eq!(owned.len(), 3);
    let mut edited = a.clone();
    labels(&mut edited).insert("x".into(), "y".into());
    assert_eq!(
        owned.observe(Event::InitApply(edited.clone())),
        [key("team", "a")]
    );
    // b and c are gone: b's owner is its namesake and goes back to the queue; c's record
    // names no owner it could give (its owner has another name), so it is only dropped.
    assert_eq!(owned.observe(Event::InitDone), [key("team", "b")]);
    assert_eq!(owned.len(), 1);
    let key9 = SyncKey::from_bytes(&[9; 32]).unwrap();
    assert_eq!(owned.get("team", "a"), Some(Record::of(&edited, &key9)));

    // A relist that broke off before its end and started again: only the last one counts.
    owned.observe(Event::Init);
    owned.observe(Event::InitApply(b.clone()));
    owned.observe(Event::Init);
    owned.observe(Event::InitApply(a.clone()));
    assert_eq!(owned.observe(Event::InitDone), [key("team", "b")]);
    assert_eq!(owned.get("team", "b"), None);
    assert!(owned.get("team", "a").is_some());
    // An empty relist empties the cache.
    owned.observe(Event::Init);
    assert_eq!(owned.observe(Event::InitDone), [key("team", "a")]);
    assert!(owned.is_empty());
}
