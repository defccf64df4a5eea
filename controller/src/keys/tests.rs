use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sealant_core::age::{AgeIdentity, IdentityKind};
use sealant_core::keysecret::age::{AGE_KEY_LABEL, DEFAULT_AGE_KEY_PREFIX, age_key_secret};
use sealant_core::keysecret::{KEY_LABEL, KeyState, RENEW_REQUEST_ANNOTATION, key_secret};
use sealant_core::{Certificate, Fingerprint, PrivateKey};
use sealant_k8s::keys::OrderPriority;
use time::OffsetDateTime;

use super::load::Loaded;
use super::manager::KeyAction;
use super::*;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

pub(super) fn vector(name: &str) -> (PrivateKey, Certificate) {
    let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
    (
        PrivateKey::from_pem(&read("key")).unwrap(),
        Certificate::from_pem(&read("crt")).unwrap(),
    )
}

pub(super) fn to_k8s(secret: &sealant_core::Secret, name: &str, created: i64) -> K8sSecret {
    let mut secret: K8sSecret =
        serde_json::from_value(serde_json::to_value(secret).unwrap()).unwrap();
    secret.metadata.name = Some(name.to_owned());
    secret.metadata.creation_timestamp = Some(Time(
        k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
    ));
    secret
}

/// An RSA key Secret from a test vector, created at `created`, with the key label set to
/// `state` (`None`: unlabelled, as the legacy key).
pub(super) fn rsa_secret(
    vector_name: &str,
    state: Option<&str>,
    created: i64,
) -> (K8sSecret, Fingerprint) {
    let (key, cert) = vector(vector_name);
    let core = key_secret(
        "kube-system",
        "sealed-secrets-key",
        &key,
        &cert,
        &BTreeMap::new(),
        &BTreeMap::new(),
    )
    .unwrap();
    let mut secret = to_k8s(&core, vector_name, created);
    let labels = secret.metadata.labels.get_or_insert_with(BTreeMap::new);
    match state {
        Some(state) => labels.insert(KEY_LABEL.to_owned(), state.to_owned()),
        None => labels.remove(KEY_LABEL),
    };
    (secret, key.fingerprint().clone())
}

pub(super) fn age_secret(state: &str, created: i64) -> (K8sSecret, Fingerprint) {
    let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let core = age_key_secret(
        "kube-system",
        DEFAULT_AGE_KEY_PREFIX,
        &identity,
        OffsetDateTime::from_unix_timestamp(created).unwrap(),
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    let mut secret = to_k8s(&core, &format!("age-{state}-{created}"), created);
    secret
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(AGE_KEY_LABEL.to_owned(), state.to_owned());
    (secret, identity.fingerprint().clone())
}

pub(super) fn request_renewal(secret: &mut K8sSecret) {
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(RENEW_REQUEST_ANNOTATION.to_owned(), "alice".to_owned());
}

fn loaded(secrets: &[K8sSecret], age: &[K8sSecret]) -> Loaded {
    Loaded::of(secrets, age, OrderPriority::SecretCreationTimestamp, "ns")
}

#[test]
fn states_decide_which_rsa_keys_load_and_which_one_seals() {
    let (legacy, legacy_fp) = rsa_secret("multi-1", None, 100);
    let (active, active_fp) = rsa_secret("rsa2048", Some("active"), 200);
    let (retired, retired_fp) = rsa_secret("multi-2", Some("retired"), 300);
    let (compromised, compromised_fp) = rsa_secret("other-2048", Some("compromised"), 400);
    let (other, other_fp) = rsa_secret("multi-3", Some("disabled"), 500);
    let all = [legacy, active, retired, compromised, other];
    let snapshot = loaded(&all, &[]).snapshot;

    let fingerprints: Vec<_> = snapshot.keys.iter().map(|k| &k.fingerprint).collect();
    assert_eq!(fingerprints, [&legacy_fp, &active_fp, &compromised_fp]);
    assert_eq!(snapshot.ring.len(), 3);
    assert!(
        snapshot.ring.get(&compromised_fp).is_some(),
        "compromised keys unseal"
    );
    assert!(snapshot.ring.get(&retired_fp).is_none() && snapshot.ring.get(&other_fp).is_none());
    // The compromised key is the newest, but never the one that seals.
    assert_eq!(snapshot.newest().map(|k| &k.fingerprint), Some(&active_fp));
    assert_eq!(
        snapshot.key_state(compromised_fp.as_str()),
        Some((&KeyState::Compromised, KIND_RSA))
    );
    assert_eq!(
        snapshot.key_state(legacy_fp.as_str()),
        Some((&KeyState::Active, KIND_RSA))
    );
    assert_eq!(snapshot.key_state(retired_fp.as_str()), None);
}

#[test]
fn a_labelled_legacy_key_keeps_its_state() {
    let (mut legacy, _) = rsa_secret("multi-1", Some("retired"), 100);
    legacy.metadata.name = Some("sealed-secrets-key".into());
    assert!(loaded(&[legacy], &[]).snapshot.keys.is_empty());
}

#[test]
fn no_active_key_left_asks_for_a_new_one() {
    let (old, _) = rsa_secret("rsa2048", Some("compromised"), 100);
    let (new, _) = rsa_secret("other-2048", Some("compromised"), 200);
    let state = loaded(&[old, new], &[]);
    assert!(state.snapshot.newest().is_none());
    assert_eq!(state.snapshot.keys.len(), 2, "still loaded to unseal");
    assert_eq!(KeyAction::of(&state, false), Some(KeyAction::NoActiveKey));
    assert_eq!(
        KeyAction::of(&loaded(&[], &[]), false),
        Some(KeyAction::NoActiveKey)
    );
}

#[test]
fn only_a_request_on_the_newest_active_key_renews() {
    let (mut old, _) = rsa_secret("rsa2048", Some("active"), 100);
    let (new, _) = rsa_secret("other-2048", Some("active"), 200);
    let (mut newer_compromised, _) = rsa_secret("multi-1", Some("compromised"), 300);
    request_renewal(&mut newer_compromised);
    let idle = loaded(&[old.clone(), new.clone(), newer_compromised.clone()], &[]);
    assert_eq!(KeyAction::of(&idle, false), None);
    // A request left on an older key (fulfilled already, or stale) does nothing.
    request_renewal(&mut old);
    let stale = loaded(&[old, new.clone()], &[]);
    assert_eq!(KeyAction::of(&stale, false), None);
    let mut requested = new;
    request_renewal(&mut requested);
    let asked = loaded(&[requested, newer_compromised], &[]);
    assert_eq!(
        KeyAction::of(&asked, false),
        Some(KeyAction::RenewRequested)
    );
}

#[test]
fn age_keys_follow_the_same_states() {
    let (active, active_fp) = age_secret("active", 100);
    let (compromised, compromised_fp) = age_secret("compromised", 200);
    let (retired, retired_fp) = age_secret("retired", 300);
    let (rsa, _) = rsa_secret("rsa2048", Some("active"), 100);
    let state = loaded(
        std::slice::from_ref(&rsa),
        &[active, compromised.clone(), retired],
    );
    let fingerprints: Vec<_> = state.snapshot.age.iter().map(|k| &k.fingerprint).collect();
    assert_eq!(fingerprints, [&active_fp, &compromised_fp]);
    assert!(state.snapshot.ring.get_age(&compromised_fp).is_some());
    assert!(state.snapshot.ring.get_age(&retired_fp).is_none());
    assert_eq!(
        state.snapshot.newest_age().map(|k| &k.fingerprint),
        Some(&active_fp)
    );
    assert_eq!(
        state.snapshot.key_state(compromised_fp.as_str()),
        Some((&KeyState::Compromised, KIND_AGE))
    );
    assert_eq!(KeyAction::of(&state, true), None);
    let only_compromised = loaded(std::slice::from_ref(&rsa), &[compromised]);
    assert_eq!(
        KeyAction::of(&only_compromised, true),
        Some(KeyAction::NoActiveAgeKey)
    );
    assert_eq!(KeyAction::of(&only_compromised, false), None);
}

#[test]
fn a_relabel_is_a_change() {
    let (a, _) = rsa_secret("rsa2048", Some("active"), 100);
    let (b, _) = rsa_secret("other-2048", Some("active"), 200);
    let (age, _) = age_secret("active", 100);
    let before = loaded(&[a.clone(), b.clone()], std::slice::from_ref(&age)).snapshot;
    let same = loaded(&[a.clone(), b.clone()], std::slice::from_ref(&age)).snapshot;
    assert!(before.same_keys(&same));
    let mut compromised = a.clone();
    compromised
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(KEY_LABEL.to_owned(), "compromised".to_owned());
    let relabelled = loaded(&[compromised, b.clone()], std::slice::from_ref(&age)).snapshot;
    assert!(!before.same_keys(&relabelled));
    let mut age_compromised = age;
    age_compromised
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(AGE_KEY_LABEL.to_owned(), "compromised".to_owned());
    let age_relabelled = loaded(&[a, b], &[age_compromised]).snapshot;
    assert!(!before.same_keys(&age_relabelled));
}

#[test]
fn cutoff_time_is_rfc1123_with_numeric_zone() {
    let t = parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700")
        .unwrap()
        .unwrap();
    assert_eq!(t.unix_timestamp(), 1_136_239_445);
    assert_eq!(parse_cutoff("").unwrap(), None);
    assert!(parse_cutoff("2006-01-02").is_err());
}

/// A new key waits for the second of the newest key of its kind and owner to pass (keys of the
/// same second rank by list order), never longer than the cap, and not at all when that
/// second is over or there is no such key.
#[test]
fn a_new_key_waits_out_the_second_of_the_newest() {
    use super::plan::tie_wait;
    use sealant_core::KeyOwner;
    let (rsa, _) = rsa_secret("rsa2048", Some("active"), 100);
    let snapshot = loaded(std::slice::from_ref(&rsa), &[]).snapshot;
    let at = |seconds: i64, millis: i64| {
        time::OffsetDateTime::from_unix_timestamp(seconds).unwrap()
            + time::Duration::milliseconds(millis)
    };
    let cluster = KeyOwner::Cluster;
    assert_eq!(
        tie_wait(&snapshot, &cluster, false, at(100, 250)),
        Some(std::time::Duration::from_millis(750))
    );
    assert_eq!(tie_wait(&snapshot, &cluster, false, at(101, 0)), None);
    assert_eq!(tie_wait(&snapshot, &cluster, false, at(102, 0)), None);
    // A key time ahead of our clock: capped.
    assert_eq!(
        tie_wait(&snapshot, &cluster, false, at(90, 0)),
        Some(std::time::Duration::from_secs(2))
    );
    // No age key yet: nothing to wait for.
    assert_eq!(tie_wait(&snapshot, &cluster, true, at(100, 0)), None);
}
