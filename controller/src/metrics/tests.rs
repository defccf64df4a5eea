use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::Method;

use super::*;
use crate::keys::KeySnapshot;

/// A key inventory for tests: (namespace/name) → the fingerprints of its keys.
#[derive(Default)]
struct Inventory(parking_lot::Mutex<BTreeMap<String, Option<Vec<String>>>>);

impl Inventory {
    fn record(&self, namespace: &str, name: &str, fingerprints: Option<Vec<String>>) {
        self.0
            .lock()
            .insert(format!("{namespace}/{name}"), fingerprints);
    }

    fn forget(&self, namespace: &str, name: &str) {
        self.0.lock().remove(&format!("{namespace}/{name}"));
    }
}

impl KeyUsageSource for Inventory {
    fn key_usage(&self) -> KeyUsage {
        let mut usage = KeyUsage::default();
        for fingerprints in self.0.lock().values() {
            match fingerprints {
                Some(fingerprints) => {
                    for fingerprint in fingerprints {
                        *usage.by_key.entry(fingerprint.clone()).or_default() += 1;
                    }
                }
                None => usage.unknown += 1,
            }
        }
        usage
    }
}

#[test]
fn upstream_names_and_labels() {
    let metrics = Metrics::for_tests(false);
    metrics.unseal_request();
    metrics.unseal_error("unseal", "ns1");
    metrics.set_condition("ns1", "db", Some("grafana"), -1);
    metrics.rsa_operations("reconcile", 3);
    metrics.http_request("/v1/verify", &Method::POST, 409, Duration::from_millis(7));
    metrics.http_request(
        "/v1/verify",
        &Method::from_bytes(b"BREW").unwrap(),
        200,
        Duration::from_millis(1),
    );
    let text = metrics.encode().unwrap();
    for line in [
        "# TYPE sealed_secrets_controller_build_info gauge",
        &format!(
            "sealed_secrets_controller_build_info{{revision=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
        "sealed_secrets_controller_unseal_requests_total 1",
        "sealed_secrets_controller_unseal_errors_total{reason=\"unseal\",namespace=\"ns1\"} 1",
        "sealed_secrets_controller_condition_info{namespace=\"ns1\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"grafana\"} -1",
        "sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"409\",method=\"post\"} 1",
        "sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"unknown\"} 1",
        "sealed_secrets_controller_http_request_duration_seconds_bucket{le=\"0.01\",path=\"/v1/verify\",method=\"post\"} 1",
        "sealed_secrets_controller_http_request_duration_seconds_count{path=\"/v1/verify\",method=\"post\"} 1",
        "sealant_unseal_rsa_operations_total{source=\"reconcile\"} 3",
        "sealant_unseal_rsa_operations_total{source=\"verify\"} 0",
        "sealant_sealedsecrets{namespace=\"ns1\",condition=\"Synced\",status=\"False\"} 1",
        "# EOF",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn conditions_move_and_are_removed_with_their_instance() {
    let metrics = Metrics::for_tests(false);
    metrics.set_condition("ns", "a", Some("one"), -1);
    metrics.set_condition("ns", "a", Some("two"), 1);
    metrics.set_condition("ns", "b", None, 1);
    let text = metrics.encode().unwrap();
    assert!(
        !text.contains("ss_app_kubernetes_io_instance=\"one\""),
        "{text}"
    );
    assert!(
        text.contains("name=\"a\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"two\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "sealant_sealedsecrets{namespace=\"ns\",condition=\"Synced\",status=\"True\"} 2"
        ),
        "{text}"
    );
    assert!(!text.contains("status=\"False\""), "{text}");
    metrics.remove_condition("ns", "a");
    metrics.remove_condition("ns", "never-seen");
    let text = metrics.encode().unwrap();
    assert!(!text.contains("name=\"a\""), "{text}");
    assert!(text.contains("status=\"True\"} 1"), "{text}");
}

#[test]
fn omitting_secret_labels_keeps_names_out() {
    let metrics = Metrics::for_tests(true);
    metrics.set_condition("team-a", "stripe-prod-key", Some("payments"), 1);
    metrics.set_condition("team-a", "db", None, -1);
    let text = metrics.encode().unwrap();
    assert!(
        !text.contains("stripe-prod-key") && !text.contains("name=\"db\""),
        "{text}"
    );
    assert!(
        !text.contains("sealed_secrets_controller_condition_info{"),
        "{text}"
    );
    assert!(
        text.contains(
            "sealant_sealedsecrets{namespace=\"team-a\",condition=\"Synced\",status=\"True\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "sealant_sealedsecrets{namespace=\"team-a\",condition=\"Synced\",status=\"False\"} 1"
        ),
        "{text}"
    );
}

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

fn key_info(
    name: &str,
    state: sealant_core::keysecret::KeyState,
    age: time::Duration,
) -> (crate::keys::KeyInfo, sealant_core::PrivateKey) {
    let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
    let key = sealant_core::PrivateKey::from_pem(&read("key")).unwrap();
    let cert = sealant_core::Certificate::from_pem(&read("crt")).unwrap();
    let info = crate::keys::KeyInfo {
        fingerprint: key.fingerprint().clone(),
        secret_name: name.to_owned(),
        order_time: time::OffsetDateTime::now_utc() - age,
        cert,
        state,
    };
    (info, key)
}

/// rsa2048 active (700 h old), other-2048 compromised, one active age key.
fn keys(active_age: time::Duration) -> (KeySnapshot, [String; 3]) {
    use sealant_core::keysecret::KeyState;
    let mut snapshot = KeySnapshot::default();
    let mut fingerprints = Vec::new();
    for (info, key) in [
        key_info(
            "other-2048",
            KeyState::Compromised,
            time::Duration::hours(900),
        ),
        key_info("rsa2048", KeyState::Active, active_age),
    ] {
        fingerprints.push(info.fingerprint.to_string());
        snapshot.keys.push(info);
        snapshot.ring.insert(key);
    }
    let identity =
        sealant_core::AgeIdentity::generate(sealant_core::age::IdentityKind::X25519).unwrap();
    fingerprints.push(identity.fingerprint().to_string());
    snapshot.age.push(crate::keys::AgeKeyInfo {
        fingerprint: identity.fingerprint().clone(),
        secret_name: "age".into(),
        order_time: time::OffsetDateTime::now_utc(),
        recipient: identity.recipient().clone(),
        state: KeyState::Active,
    });
    snapshot.ring.insert_age(identity);
    let [compromised, active, age] = <[String; 3]>::try_from(fingerprints).unwrap();
    (snapshot, [active, compromised, age])
}

/// The value of the one series whose line starts with `prefix`.
fn value(text: &str, prefix: &str) -> Option<f64> {
    let mut found = text
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok());
    let value = found.next();
    assert!(found.next().is_none(), "{prefix} twice in\n{text}");
    value
}

#[test]
fn key_metrics_report_states_usage_and_renewal() {
    let metrics = Metrics::for_tests(false);
    let (snapshot, [active, compromised, age]) = keys(time::Duration::hours(700));
    metrics.watch_keys(KeyStore::fixed(snapshot));
    // A follower: keys, no usage.
    let text = metrics.encode().unwrap();
    for (line, n) in [
        (
            "sealant_keys{kind=\"rsa\",state=\"active\",tenant=\"\"} ",
            1.0,
        ),
        (
            "sealant_keys{kind=\"rsa\",state=\"compromised\",tenant=\"\"} ",
            1.0,
        ),
        (
            "sealant_keys{kind=\"age\",state=\"active\",tenant=\"\"} ",
            1.0,
        ),
        (
            "sealant_keys{kind=\"age\",state=\"compromised\",tenant=\"\"} ",
            0.0,
        ),
    ] {
        assert_eq!(value(&text, line), Some(n), "{line} in\n{text}");
    }
    let compromised_age = value(
        &text,
        &format!("sealant_key_age_seconds{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\",tenant=\"\"}}"),
    )
    .unwrap();
    assert!((900.0 * 3600.0..900.0 * 3600.0 + 60.0).contains(&compromised_age));
    // 720 h period, newest active key 700 h old: due in 20 h (the compromised one is older
    // and the age key newer: neither counts).
    let renewal = value(&text, "sealant_key_renewal_seconds{tenant=\"\"} ").unwrap();
    assert!(
        (20.0 * 3600.0 - 60.0..=20.0 * 3600.0).contains(&renewal),
        "{renewal}"
    );
    assert!(!text.contains("sealant_key_sealedsecrets"), "{text}");

    // The leader: usage per loaded key, 0 included, and the unknown ones.
    let inventory = Arc::new(Inventory::default());
    inventory.record("a", "one", Some(vec![active.clone()]));
    inventory.record("a", "two", Some(vec![active.clone(), compromised.clone()]));
    inventory.record("b", "three", None);
    inventory.record("b", "four", Some(vec!["SHA256:retiredkey".into()]));
    metrics.watch_inventory(Some(inventory.clone() as Arc<dyn KeyUsageSource>));
    let text = metrics.encode().unwrap();
    for (line, n) in [
        (format!("sealant_key_sealedsecrets{{fingerprint=\"{active}\",kind=\"rsa\",state=\"active\",tenant=\"\"}} "), 2.0),
        (format!("sealant_key_sealedsecrets{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\",tenant=\"\"}} "), 1.0),
        (format!("sealant_key_sealedsecrets{{fingerprint=\"{age}\",kind=\"age\",state=\"active\",tenant=\"\"}} "), 0.0),
        ("sealant_key_sealedsecrets{fingerprint=\"SHA256:retiredkey\",kind=\"unknown\",state=\"unloaded\",tenant=\"\"} ".to_owned(), 1.0),
        ("sealant_key_sealedsecrets_unknown ".to_owned(), 1.0),
    ] {
        assert_eq!(value(&text, &line), Some(n), "{line} in\n{text}");
    }
    inventory.forget("a", "two");
    inventory.record("b", "three", Some(vec![age.clone()]));
    let text = metrics.encode().unwrap();
    assert_eq!(
        value(
            &text,
            &format!(
                "sealant_key_sealedsecrets{{fingerprint=\"{compromised}\",kind=\"rsa\",state=\"compromised\",tenant=\"\"}} "
            )
        ),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&text, "sealant_key_sealedsecrets_unknown "),
        Some(0.0)
    );
    // Leadership lost: usage goes.
    metrics.watch_inventory(None);
    assert!(
        !metrics
            .encode()
            .unwrap()
            .contains("sealant_key_sealedsecrets")
    );
}

#[test]
fn renewal_is_negative_when_overdue_and_absent_when_off() {
    let metrics = Metrics::for_tests(false);
    metrics.watch_keys(KeyStore::fixed(keys(time::Duration::hours(730)).0));
    let renewal = value(
        &metrics.encode().unwrap(),
        "sealant_key_renewal_seconds{tenant=\"\"} ",
    )
    .unwrap();
    assert!(
        (-10.0 * 3600.0 - 60.0..=-10.0 * 3600.0).contains(&renewal),
        "{renewal}"
    );

    let off = Metrics::with_options(false, Duration::ZERO);
    off.watch_keys(KeyStore::fixed(keys(time::Duration::hours(730)).0));
    let text = off.encode().unwrap();
    assert!(!text.contains("sealant_key_renewal"), "{text}");
    assert!(text.contains("sealant_key_age_seconds{"), "{text}");
}

#[test]
fn method_labels_follow_promhttp() {
    assert_eq!(method_label(&Method::GET), "get");
    assert_eq!(method_label(&Method::PATCH), "patch");
    assert_eq!(
        method_label(&Method::from_bytes(b"PROPFIND").unwrap()),
        "unknown"
    );
}

#[test]
fn tenant_keys_are_reported_under_their_tenant() {
    use sealant_core::keysecret::KeyState;
    let metrics = Metrics::for_tests(false);
    let (mut snapshot, _) = keys(time::Duration::hours(700));
    // Tenant alpha: one active RSA key, 10 h old; tenant beta: only a compromised one.
    let (alpha, _) = key_info("rsa2048", KeyState::Active, time::Duration::hours(10));
    let alpha_fingerprint = alpha.fingerprint.to_string();
    let mut alpha_keys = crate::keys::TenantKeys::default();
    alpha_keys.own.keys.push(alpha);
    let (beta, _) = key_info(
        "other-2048",
        KeyState::Compromised,
        time::Duration::hours(1),
    );
    let mut beta_keys = crate::keys::TenantKeys::default();
    beta_keys.own.keys.push(beta);
    for (name, keys) in [("alpha", alpha_keys), ("beta", beta_keys)] {
        snapshot
            .tenants
            .insert(sealant_core::TenantName::parse(name).unwrap(), keys);
    }
    metrics.watch_keys(KeyStore::fixed(snapshot));
    let text = metrics.encode().unwrap();
    for (line, n) in [
        (
            "sealant_keys{kind=\"rsa\",state=\"active\",tenant=\"\"} ",
            1.0,
        ),
        (
            "sealant_keys{kind=\"rsa\",state=\"active\",tenant=\"alpha\"} ",
            1.0,
        ),
        (
            "sealant_keys{kind=\"rsa\",state=\"active\",tenant=\"beta\"} ",
            0.0,
        ),
        (
            "sealant_keys{kind=\"rsa\",state=\"compromised\",tenant=\"beta\"} ",
            1.0,
        ),
    ] {
        assert_eq!(value(&text, line), Some(n), "{line} in\n{text}");
    }
    assert!(
        value(
            &text,
            &format!(
                "sealant_key_age_seconds{{fingerprint=\"{alpha_fingerprint}\",kind=\"rsa\",state=\"active\",tenant=\"alpha\"}}"
            )
        )
        .is_some(),
        "{text}"
    );
    // Each owner's own renewal: alpha's newest key is 10 h old, due in 710 h; beta has none.
    let alpha_renewal = value(&text, "sealant_key_renewal_seconds{tenant=\"alpha\"} ").unwrap();
    assert!(
        (710.0 * 3600.0 - 60.0..=710.0 * 3600.0).contains(&alpha_renewal),
        "{alpha_renewal}"
    );
    assert!(
        !text.contains("sealant_key_renewal_seconds{tenant=\"beta\"}"),
        "{text}"
    );
}

#[test]
fn decryption_cpu_adds_up_and_never_goes_down() {
    let metrics = Metrics::for_tests(false);
    assert!(
        metrics
            .encode()
            .unwrap()
            .contains("sealant_unseal_cpu_seconds_total 0.0"),
        "present at zero before any decryption"
    );
    metrics.unseal_cpu(0.25);
    metrics.unseal_cpu(0.5);
    // A clock that went backwards (it cannot, but a counter must not either).
    metrics.unseal_cpu(-1.0);
    let text = metrics.encode().unwrap();
    assert!(
        text.contains("# TYPE sealant_unseal_cpu_seconds counter"),
        "{text}"
    );
    assert!(
        text.contains("sealant_unseal_cpu_seconds_total 0.75"),
        "{text}"
    );
}
