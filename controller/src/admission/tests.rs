//! Unit tests of the admission webhook: the SealedSecret checks (with real keys through the
//! shared `/v1/verify` check), the guard's decision table, the certificate, the review format.

use std::sync::Arc;

use clap::Parser as _;
use sealant_core::object::read_secrets;
use sealant_core::{Certificate, PrivateKey, Scope, SealOptions, SealedSecret};

use super::guard::{Exemptions, Mode, decide};
use super::review::{Request, ReviewError, Verdict, parse};
use super::server::Route;
use super::{Webhook, tls};
use crate::flags::Args;
use crate::keys::{KeyInfo, KeySnapshot, KeyStore};

/// The leak canary: no verdict may repeat a value.
const VALUE: &str = "canary-s3cr3t-value";

fn key() -> (PrivateKey, Certificate) {
    let options = sealant_core::KeyGenOptions {
        bits: 2048,
        common_name: String::new(),
        validity: time::Duration::days(30),
        now: time::OffsetDateTime::now_utc(),
    };
    sealant_core::generate_key(&options).unwrap()
}

fn webhook(keys: Vec<(PrivateKey, Certificate)>, flags: &[&str]) -> Webhook {
    let mut snapshot = KeySnapshot::default();
    for (index, (key, cert)) in keys.into_iter().enumerate() {
        snapshot.keys.push(KeyInfo {
            fingerprint: key.fingerprint().clone(),
            secret_name: format!("sealed-secrets-key{index}"),
            order_time: cert.not_before(),
            cert,
            state: sealant_core::keysecret::KeyState::Active,
        });
        snapshot.ring.insert(key);
    }
    let args = Args::parse_from(std::iter::once("sealant-controller").chain(flags.iter().copied()));
    Webhook::new(KeyStore::fixed(snapshot), Arc::new(args))
}

fn sealed(cert: &Certificate, scope: Option<Scope>) -> SealedSecret {
    let secret = read_secrets(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\nstringData:\n  password: {VALUE}\n"
    ))
    .unwrap()
    .remove(0);
    let options = SealOptions {
        scope,
        ..SealOptions::default()
    };
    sealant_core::seal_secret(secret, cert.public_key(), &options).unwrap()
}

/// An AdmissionReview request for `object` (and `old`), by `user`.
fn request(
    kind: (&str, &str, &str),
    operation: &str,
    object: Option<serde_json::Value>,
    old: Option<serde_json::Value>,
    user: &str,
) -> Request {
    let (group, version, kind) = kind;
    let resource = if kind == "Secret" {
        "secrets"
    } else {
        "sealedsecrets"
    };
    let body = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "5f3c1e2a-0000-4000-8000-000000000001",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "name": "db",
            "namespace": "team-a",
            "operation": operation,
            "userInfo": {"username": user},
            "object": object,
            "oldObject": old,
            "dryRun": false,
        }
    });
    parse(&serde_json::to_vec(&body).unwrap()).unwrap()
}

fn sealed_request(object: &SealedSecret, operation: &str, old: Option<&SealedSecret>) -> Request {
    request(
        ("bitnami.com", "v1alpha1", "SealedSecret"),
        operation,
        Some(serde_json::to_value(object).unwrap()),
        old.map(|o| serde_json::to_value(o).unwrap()),
        "alice",
    )
}

fn deny_message(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Deny { message, .. } => {
            assert!(!message.contains(VALUE), "{message}");
            message
        }
        Verdict::Allow { .. } => panic!("admitted: {verdict:?}"),
    }
}

fn warnings(verdict: &Verdict) -> &[String] {
    match verdict {
        Verdict::Allow { warnings } => warnings,
        Verdict::Deny { message, .. } => panic!("refused: {message}"),
    }
}

#[tokio::test]
async fn a_sealedsecret_for_our_key_passes_and_one_for_another_is_refused_opaquely() {
    let (ours, theirs) = (key(), key());
    let our_cert = ours.1.clone();
    let hook = webhook(vec![ours], &[]);
    let good = sealed(&our_cert, None);
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&good, "CREATE", None))
        .await;
    assert!(warnings(&verdict).is_empty(), "{verdict:?}");

    let wrong = sealed(&theirs.1, Some(Scope::NamespaceWide));
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&wrong, "CREATE", None))
        .await;
    let message = deny_message(&verdict);
    assert!(
        message.starts_with("SealedSecret team-a/db: no key of this controller can decrypt item(s) password for scope namespace-wide (bound to namespace \"team-a\")"),
        "{message}"
    );
    assert!(matches!(verdict, Verdict::Deny { code: 422, .. }));

    // The same object moved to another name under strict scope: refused too.
    let mut renamed = good.clone();
    renamed.metadata.name = Some("other".into());
    renamed.spec.template.metadata = None;
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&renamed, "CREATE", None))
        .await;
    assert!(deny_message(&verdict).contains("bound to namespace \"team-a\" and name \"other\""));
}

/// A namespace-selector object (docs/multi-tenancy.md) is checked under its own binding and
/// described by its selector, never as if strict.
#[tokio::test]
async fn a_namespace_selector_object_is_checked_and_described_by_its_selector() {
    let (ours, theirs) = (key(), key());
    let our_cert = ours.1.clone();
    let hook = webhook(vec![ours], &[]);
    let selected = |cert: &Certificate| {
        let secret = read_secrets(&format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\n  annotations:\n    sealant.dev/namespace-selector: team=a\nstringData:\n  password: {VALUE}\n"
        ))
        .unwrap()
        .remove(0);
        sealant_core::seal_secret(secret, cert.public_key(), &SealOptions::default()).unwrap()
    };
    let good = selected(&our_cert);
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&good, "CREATE", None))
        .await;
    assert!(matches!(verdict, Verdict::Allow { .. }), "{verdict:?}");

    let wrong = selected(&theirs.1);
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&wrong, "CREATE", None))
        .await;
    let message = deny_message(&verdict);
    assert!(
        message.contains("for scope namespace-selector (bound to the selector \"team=a\")"),
        "{message}"
    );

    // Changing only the selector is not a metadata-only update: it is checked again.
    let mut moved = good.clone();
    moved
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert("sealant.dev/namespace-selector".into(), "team=b".into());
    let verdict = hook
        .review(
            Route::Sealed,
            &sealed_request(&moved, "UPDATE", Some(&good)),
        )
        .await;
    assert!(
        deny_message(&verdict).contains("bound to the selector \"team=b\""),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn without_keys_or_over_budget_it_admits_with_a_warning() {
    let other = key();
    let wrong = sealed(&other.1, None);
    let keyless = webhook(Vec::new(), &[]);
    let verdict = keyless
        .review(Route::Sealed, &sealed_request(&wrong, "CREATE", None))
        .await;
    assert!(warnings(&verdict)[0].contains("no keys yet"), "{verdict:?}");

    let limited = webhook(
        vec![key()],
        &[
            "--admission-rate-limit",
            "1",
            "--admission-rate-limit-burst",
            "0",
        ],
    );
    let review = sealed_request(&wrong, "CREATE", None);
    deny_message(&limited.review(Route::Sealed, &review).await);
    let verdict = limited.review(Route::Sealed, &review).await;
    assert!(
        warnings(&verdict)[0].contains("over the admission rate limit"),
        "{verdict:?}"
    );
}

#[tokio::test]
async fn offline_problems_are_refused_without_keys() {
    let hook = webhook(Vec::new(), &[]);
    let (_, cert) = key();
    let base = sealed(&cert, None);

    let mut both = base.clone();
    let annotations = both
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    annotations.insert(
        sealant_core::scope::ANNOTATION_CLUSTER_WIDE.into(),
        "true".into(),
    );
    annotations.insert(
        sealant_core::scope::ANNOTATION_NAMESPACE_WIDE.into(),
        "true".into(),
    );
    let message = deny_message(
        &hook
            .review(Route::Sealed, &sealed_request(&both, "CREATE", None))
            .await,
    )
    .to_owned();
    assert!(message.contains("are both \"true\""), "{message}");
    // The template stating another scope than the top level is a contradiction too.
    let mut disagreeing = base.clone();
    disagreeing
        .spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            sealant_core::scope::ANNOTATION_CLUSTER_WIDE.into(),
            "true".into(),
        );
    let message = deny_message(
        &hook
            .review(Route::Sealed, &sealed_request(&disagreeing, "CREATE", None))
            .await,
    )
    .to_owned();
    assert!(message.contains("scope annotations disagree"), "{message}");

    let mut malformed = base.clone();
    malformed
        .spec
        .encrypted_data
        .insert("password".into(), "bm90IGFuIGl0ZW0=".into());
    let message = deny_message(
        &hook
            .review(Route::Sealed, &sealed_request(&malformed, "CREATE", None))
            .await,
    )
    .to_owned();
    assert!(message.contains("item \"password\""), "{message}");

    let mut template = base.clone();
    template.spec.template.data = Some(
        [("dsn".to_owned(), "{{ .password | env }}".to_owned())]
            .into_iter()
            .collect(),
    );
    let message = deny_message(
        &hook
            .review(Route::Sealed, &sealed_request(&template, "CREATE", None))
            .await,
    )
    .to_owned();
    assert!(
        message.contains("function \"env\" not defined"),
        "{message}"
    );
    let mut unparsable = base.clone();
    unparsable.spec.template.data = Some(
        [("dsn".to_owned(), "{{ .password ".to_owned())]
            .into_iter()
            .collect(),
    );
    deny_message(
        &hook
            .review(Route::Sealed, &sealed_request(&unparsable, "CREATE", None))
            .await,
    );
}

#[tokio::test]
async fn metadata_only_updates_deletions_and_other_operations_pass_unchecked() {
    let hook = webhook(vec![key()], &[]);
    let (_, cert) = key();
    let wrong = sealed(&cert, None);
    let mut relabelled = wrong.clone();
    relabelled
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert("team".into(), "a".into());
    let verdict = hook
        .review(
            Route::Sealed,
            &sealed_request(&relabelled, "UPDATE", Some(&wrong)),
        )
        .await;
    assert!(warnings(&verdict).is_empty());
    // A changed scope annotation is checked again.
    let mut rescoped = wrong.clone();
    rescoped
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            sealant_core::scope::ANNOTATION_CLUSTER_WIDE.into(),
            "true".into(),
        );
    let verdict = hook
        .review(
            Route::Sealed,
            &sealed_request(&rescoped, "UPDATE", Some(&wrong)),
        )
        .await;
    deny_message(&verdict);
    let verdict = hook
        .review(Route::Sealed, &sealed_request(&wrong, "DELETE", None))
        .await;
    assert!(verdict.allowed());
}

fn secret(data: bool, type_: Option<&str>, owner: Option<(&str, &str)>) -> serde_json::Value {
    let mut secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a"},
    });
    if data {
        secret["data"] =
            serde_json::json!({"password": sealant_core::base64::encode(VALUE.as_bytes())});
    }
    if let Some(type_) = type_ {
        secret["type"] = type_.into();
    }
    if let Some((api_version, kind)) = owner {
        secret["metadata"]["ownerReferences"] = serde_json::json!([{
            "apiVersion": api_version, "kind": kind, "name": "x", "uid": "1"
        }]);
    }
    secret
}

fn secret_request(
    operation: &str,
    object: serde_json::Value,
    old: Option<serde_json::Value>,
    user: &str,
) -> Request {
    request(("", "v1", "Secret"), operation, Some(object), old, user)
}

#[test]
fn the_guard_decision_table() {
    let exemptions = Exemptions::from_lists(
        "system:serviceaccount:sealant:sealant-controller",
        "system:serviceaccount:cert-manager:cert-manager, ",
        "kubernetes.io/service-account-token,helm.sh/release.v1",
        "Certificate,acme.example/Order",
    );
    let alice = "alice";
    let plain = || secret(true, None, None);
    let cases: Vec<(&str, Request, bool)> = vec![
        (
            "plain data",
            secret_request("CREATE", plain(), None, alice),
            false,
        ),
        (
            "no data",
            secret_request("CREATE", secret(false, None, None), None, alice),
            true,
        ),
        (
            "the controller",
            secret_request(
                "CREATE",
                plain(),
                None,
                "system:serviceaccount:sealant:sealant-controller",
            ),
            true,
        ),
        (
            "a listed user",
            secret_request(
                "CREATE",
                plain(),
                None,
                "system:serviceaccount:cert-manager:cert-manager",
            ),
            true,
        ),
        (
            "a service-account token",
            secret_request(
                "CREATE",
                secret(true, Some("kubernetes.io/service-account-token"), None),
                None,
                alice,
            ),
            true,
        ),
        (
            "a Helm release",
            secret_request(
                "CREATE",
                secret(true, Some("helm.sh/release.v1"), None),
                None,
                alice,
            ),
            true,
        ),
        (
            "a docker config (not exempt by default)",
            secret_request(
                "CREATE",
                secret(true, Some("kubernetes.io/dockerconfigjson"), None),
                None,
                alice,
            ),
            false,
        ),
        (
            "an owner kind",
            secret_request(
                "CREATE",
                secret(true, None, Some(("cert-manager.io/v1", "Certificate"))),
                None,
                alice,
            ),
            true,
        ),
        (
            "an owner group/kind",
            secret_request(
                "CREATE",
                secret(true, None, Some(("acme.example/v1", "Order"))),
                None,
                alice,
            ),
            true,
        ),
        (
            "another group's kind",
            secret_request(
                "CREATE",
                secret(true, None, Some(("other.example/v1", "Order"))),
                None,
                alice,
            ),
            false,
        ),
        (
            "an update keeping the data",
            secret_request("UPDATE", plain(), Some(plain()), alice),
            true,
        ),
        (
            "an update writing data",
            secret_request("UPDATE", plain(), Some(secret(false, None, None)), alice),
            false,
        ),
    ];
    for (case, review, admitted) in cases {
        let verdict = decide(&exemptions, Mode::Deny, &review);
        assert_eq!(
            verdict.allowed(),
            admitted,
            "deny mode, {case}: {verdict:?}"
        );
        if !admitted {
            let message = deny_message(&verdict);
            assert_eq!(
                message,
                "Secret team-a/db carries plaintext data in a namespace labelled sealant.dev/plaintext-guard=deny: commit a SealedSecret instead (sealant seal)"
            );
            assert!(matches!(verdict, Verdict::Deny { code: 403, .. }));
        }
        let verdict = decide(&exemptions, Mode::Warn, &review);
        assert!(verdict.allowed(), "warn mode, {case}");
        assert_eq!(
            warnings(&verdict).len(),
            usize::from(!admitted),
            "warn mode, {case}"
        );
    }
    let delete = request(("", "v1", "Secret"), "DELETE", None, Some(plain()), alice);
    assert!(decide(&exemptions, Mode::Deny, &delete).allowed());
}

#[test]
fn a_generated_certificate_loads_and_is_replaced_when_it_no_longer_fits() {
    let hosts = vec![
        "sealant-admission.sealant.svc".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    let now = time::OffsetDateTime::now_utc();
    let material = tls::generate(&hosts, now, None).unwrap();
    tls::certified_key(material.cert.as_bytes(), material.key.as_bytes()).unwrap();
    assert!(!format!("{material:?}").contains("PRIVATE KEY"));
    let secret = tls::to_secret("sealant-admission-tls", &hosts, &material).unwrap();
    assert_eq!(tls::usable(&secret, &hosts, now), Some(material.clone()));
    assert_eq!(tls::usable(&secret, &hosts[..1], now), None, "other hosts");
    let late = material.not_after - tls::RENEW_BEFORE + time::Duration::hours(1);
    assert_eq!(tls::usable(&secret, &hosts, late), None, "near expiry");
    // A new CA is published beside the one it replaces.
    let next = tls::generate(&hosts, now, Some(material.ca.clone())).unwrap();
    let bundle = String::from_utf8(next.bundle()).unwrap();
    assert!(bundle.starts_with(&next.ca) && bundle.ends_with(&material.ca));
    // A key that does not match its certificate does not load.
    assert!(tls::certified_key(material.cert.as_bytes(), next.key.as_bytes()).is_err());
}

#[test]
fn reviews_are_parsed_and_answered_in_kind() {
    assert_eq!(parse(b"{not json").unwrap_err(), ReviewError::Malformed);
    let empty = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
    assert_eq!(parse(empty).unwrap_err(), ReviewError::NoRequest);
    let review = secret_request("CREATE", secret(true, None, None), None, "alice");
    let denied = Verdict::Deny {
        code: 403,
        message: "no".into(),
    }
    .respond(&review);
    let body: serde_json::Value = serde_json::from_slice(&super::review::encode(denied)).unwrap();
    assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(
        body["response"]["uid"],
        "5f3c1e2a-0000-4000-8000-000000000001"
    );
    assert_eq!(body["response"]["allowed"], false);
    assert_eq!(body["response"]["status"]["code"], 403);
    assert_eq!(body["response"]["status"]["message"], "no");
    let warned = Verdict::warn("careful").respond(&review);
    let body: serde_json::Value = serde_json::from_slice(&super::review::encode(warned)).unwrap();
    assert_eq!(body["response"]["allowed"], true);
    assert_eq!(body["response"]["warnings"][0], "careful");
    assert_eq!(Route::of("/guard/warn"), Route::Guard(Mode::Warn));
    assert_eq!(Route::of("/validate/sealedsecrets"), Route::Sealed);
    assert_eq!(Route::of("/other"), Route::NotFound);
}

#[test]
fn the_certificate_source_follows_the_flags() {
    let args = |flags: &[&str]| {
        Args::parse_from(std::iter::once("sealant-controller").chain(flags.iter().copied()))
    };
    match super::tls_source(&args(&[
        "--admission-cert-hosts",
        "hook.ns.svc, 127.0.0.1,",
        "--admission-webhook-config",
        "hook",
    ])) {
        super::Source::Managed {
            secret,
            hosts,
            webhook_config,
        } => {
            assert_eq!(secret, "sealant-admission-tls");
            assert_eq!(hosts, ["hook.ns.svc", "127.0.0.1"]);
            assert_eq!(webhook_config.as_deref(), Some("hook"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        super::tls_source(&args(&["--admission-cert-secret", "from-cert-manager"])),
        super::Source::Secret(name) if name == "from-cert-manager"
    ));
    // Mounted files win over both.
    assert!(matches!(
        super::tls_source(&args(&[
            "--admission-cert-secret",
            "from-cert-manager",
            "--admission-cert-dir",
            "/tls"
        ])),
        super::Source::Files(_)
    ));
}
