use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use sealant_core::age::{AgeIdentity, IdentityKind};
use sealant_core::keysecret::age::{DEFAULT_AGE_KEY_PREFIX, age_key_secret};
use sealant_core::keysecret::{KeyState, RENEW_REQUEST_ANNOTATION, key_secret};
use sealant_core::{Certificate, PrivateKey};
use time::OffsetDateTime;

use super::*;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

fn vector(name: &str) -> (PrivateKey, Certificate) {
    let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
    (
        PrivateKey::from_pem(&read("key")).unwrap(),
        Certificate::from_pem(&read("crt")).unwrap(),
    )
}

fn to_k8s(secret: &sealant_core::Secret, name: &str, created: i64) -> K8sSecret {
    let mut secret: K8sSecret =
        serde_json::from_value(serde_json::to_value(secret).unwrap()).unwrap();
    secret.metadata.name = Some(name.to_owned());
    secret.metadata.resource_version = Some("7".to_owned());
    secret.metadata.creation_timestamp = Some(Time(
        k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
    ));
    secret
}

/// An RSA key Secret from a test vector, with the key label set to `state` (`None`:
/// unlabelled, as the legacy key).
fn rsa_secret(vector_name: &str, state: Option<&str>, created: i64) -> K8sSecret {
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
        Some(state) => labels.insert(KeyKind::Rsa.label().to_owned(), state.to_owned()),
        None => labels.remove(KeyKind::Rsa.label()),
    };
    secret
}

fn age_secret(created: i64) -> (K8sSecret, AgeIdentity) {
    let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let core = age_key_secret(
        "kube-system",
        DEFAULT_AGE_KEY_PREFIX,
        &identity,
        OffsetDateTime::from_unix_timestamp(created).unwrap(),
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    (to_k8s(&core, "age", created + 1000), identity)
}

#[test]
fn selectors_name_the_labels_and_the_unsealing_states() {
    assert_eq!(
        Listing::Every.selector(KeyKind::Rsa, Owners::All),
        "sealedsecrets.bitnami.com/sealed-secrets-key"
    );
    assert_eq!(
        Listing::Unsealing.selector(KeyKind::Age, Owners::All),
        "sealant.dev/age-key in (active,compromised)"
    );
    assert_eq!(
        Listing::Unsealing.selector(KeyKind::Rsa, Owners::Cluster),
        "sealedsecrets.bitnami.com/sealed-secrets-key in (active,compromised),!sealant.dev/tenant"
    );
    let tenant = sealant_core::TenantName::parse("payments").unwrap();
    assert_eq!(
        Listing::Every.selector(KeyKind::Age, Owners::Tenant(&tenant)),
        "sealant.dev/age-key,sealant.dev/tenant=payments"
    );
    assert_eq!(KeyKind::ALL.map(KeyKind::name), ["rsa", "age"]);
    assert!(KeyKind::Rsa < KeyKind::Age);
}

#[test]
fn rsa_key_secrets_are_read_with_core_rules() {
    let (key, cert) = vector("rsa2048");
    let mut secret = rsa_secret("rsa2048", Some("compromised"), 100);
    secret
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(RENEW_REQUEST_ANNOTATION.to_owned(), "alice".to_owned());
    let record = KeyRecord::read(KeyKind::Rsa, &secret, OrderPriority::CertNotBefore);
    assert_eq!(record.fingerprint.as_ref(), Some(key.fingerprint()));
    assert_eq!(record.state, KeyState::Compromised);
    assert_eq!(record.order_time, Some(cert.not_before()));
    assert_eq!(record.resource_version.as_deref(), Some("7"));
    assert_eq!(record.secret, "rsa2048");
    assert!(record.renew_requested && record.usable() && record.problem.is_none());
    let by_creation = KeyRecord::read(
        KeyKind::Rsa,
        &secret,
        OrderPriority::SecretCreationTimestamp,
    );
    assert_eq!(
        by_creation.order_time.map(|t| t.unix_timestamp()),
        Some(100)
    );
    // Debug shows no key material.
    let shown = format!("{record:?}");
    assert!(
        !shown.contains("PRIVATE") && !shown.contains("MII"),
        "{shown}"
    );

    // Unlabelled: the legacy key, active.
    let legacy = KeyRecord::read(
        KeyKind::Rsa,
        &rsa_secret("rsa2048", None, 100),
        OrderPriority::CertNotBefore,
    );
    assert_eq!(legacy.state, KeyState::Active);

    // No certificate: the fingerprint is known, the key unusable.
    let mut no_cert = rsa_secret("rsa2048", Some("active"), 100);
    no_cert.data.as_mut().unwrap().remove("tls.crt");
    let record = KeyRecord::read(KeyKind::Rsa, &no_cert, OrderPriority::CertNotBefore);
    assert!(record.fingerprint.is_some() && !record.usable());
    assert!(matches!(record.problem, Some(KeyProblem::NoCertificate)));
    assert_eq!(record.order_time, None);
}

#[test]
fn age_key_secrets_are_read_with_core_rules() {
    let (mut secret, identity) = age_secret(500);
    let record = KeyRecord::read(KeyKind::Age, &secret, OrderPriority::CertNotBefore);
    assert_eq!(record.fingerprint.as_ref(), Some(identity.fingerprint()));
    assert_eq!(record.order_time.map(|t| t.unix_timestamp()), Some(500));
    assert_eq!(record.state, KeyState::Active);
    assert!(record.usable());
    assert!(!format!("{record:?}").contains("AGE-SECRET-KEY"));
    // There is no legacy age key: unlabelled is no state at all.
    secret
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .remove(KeyKind::Age.label());
    let record = KeyRecord::read(KeyKind::Age, &secret, OrderPriority::CertNotBefore);
    assert_eq!(record.state, KeyState::Other(String::new()));

    // An age Secret found by the RSA label is unusable as an RSA key, with core's reason.
    let wrong = KeyRecord::read(KeyKind::Rsa, &secret, OrderPriority::CertNotBefore);
    assert_eq!(wrong.fingerprint, None);
    assert!(matches!(wrong.problem, Some(KeyProblem::Rsa(_))));
    assert_eq!(
        wrong.problem.map(|p| p.to_string()).as_deref(),
        Some("secret must contain a 'tls.key' key")
    );
}

/// A candidate for the rule alone.
#[derive(Debug)]
struct Candidate {
    name: &'static str,
    time: Option<i64>,
    state: KeyState,
    usable: bool,
}

impl SealingCandidate for Candidate {
    fn order_time(&self) -> Option<OffsetDateTime> {
        self.time
            .map(|t| OffsetDateTime::from_unix_timestamp(t).unwrap())
    }
    fn state(&self) -> &KeyState {
        &self.state
    }
    fn usable(&self) -> bool {
        self.usable
    }
}

fn candidate(name: &'static str, time: Option<i64>, state: &str) -> Candidate {
    Candidate {
        name,
        time,
        state: KeyState::from_label(state),
        usable: true,
    }
}

fn sealing(keys: &[Candidate]) -> Option<&'static str> {
    sealing_key(keys).map(|k| k.name)
}

#[test]
fn the_newest_usable_active_key_seals() {
    let mut keys = vec![
        candidate("newest-compromised", Some(400), "compromised"),
        candidate("new", Some(200), "active"),
        candidate("retired", Some(300), "retired"),
        candidate("old", Some(100), "active"),
        candidate("unknown-time", None, "active"),
    ];
    assert_eq!(sealing(&keys), Some("new"));
    sort_oldest_first(&mut keys);
    let order: Vec<&str> = keys.iter().map(|k| k.name).collect();
    assert_eq!(
        order,
        [
            "unknown-time",
            "old",
            "new",
            "retired",
            "newest-compromised"
        ]
    );
    assert_eq!(sealing(&keys), Some("new"), "sorted or not, the same key");
    keys[2].usable = false;
    assert_eq!(sealing(&keys), Some("old"), "an unusable key never seals");
    keys[1].state = KeyState::Other("disabled".into());
    assert_eq!(sealing(&keys), Some("unknown-time"));
    keys[0].state = KeyState::Retired;
    assert_eq!(sealing(&keys), None);
}

#[test]
fn of_equal_times_the_later_in_list_order_seals() {
    let mut keys = vec![
        candidate("b", Some(100), "active"),
        candidate("a", Some(100), "active"),
        candidate("older", Some(50), "active"),
    ];
    assert_eq!(sealing(&keys), Some("a"));
    sort_oldest_first(&mut keys);
    assert_eq!(keys.last().map(|k| k.name), Some("a"), "stable");
    assert_eq!(sealing(&keys), Some("a"));
}

#[test]
fn protected_key_secrets_are_reported_as_needing_unwrap() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/vectors/wrapped/protected-rsa2048.yaml"
    ))
    .unwrap();
    let core = sealant_core::object::read_secrets(&text)
        .unwrap()
        .pop()
        .unwrap();
    let secret = to_k8s(&core, "protected", 100);
    let record = KeyRecord::read(KeyKind::Rsa, &secret, OrderPriority::CertNotBefore);
    let (key, cert) = vector("rsa2048");
    assert_eq!(record.fingerprint.as_ref(), Some(key.fingerprint()));
    assert_eq!(record.order_time, Some(cert.not_before()));
    assert!(!record.usable());
    match &record.problem {
        Some(KeyProblem::NeedsUnwrap(wrapped)) => {
            assert_eq!(wrapped.protection().kek, "sealant-test/kek-1");
        }
        other => panic!("expected NeedsUnwrap, got {other:?}"),
    }
}
