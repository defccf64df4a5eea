//! Properties of sealing and unsealing: tamper resistance, the scope matrix, round trips,
//! upstream's sealing rules, key generation and key Secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use common::{certificate, private_key};
use proptest::prelude::*;
use sealant_core::keysecret::{KeyState, key_secret, read_key_secret, read_private_keys};
use sealant_core::object::{ObjectMeta, read_secrets};
use sealant_core::sealing::{KEY_HINT_ANNOTATION, SKIP_SET_OWNER_REFERENCES_ANNOTATION, seal_raw};
use sealant_core::{
    KeyGenOptions, KeyRing, PrivateKey, Scope, SealOptions, SealedSecret, SealingError, Secret,
    SecretBytes, UnsealOptions, generate_key, merge_into, open_item, seal_item, seal_secret,
    unseal,
};

fn rsa2048() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| private_key("rsa2048"))
}

fn ring(keys: &[&PrivateKey]) -> KeyRing {
    keys.iter().map(|k| (*k).clone()).collect()
}

fn secret(yaml: &str) -> Secret {
    read_secrets(yaml).unwrap().remove(0)
}

fn options(default_namespace: &str) -> SealOptions {
    SealOptions {
        default_namespace: default_namespace.into(),
        ..SealOptions::default()
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let key = rsa2048();
    let label = Scope::Strict.label("myns", "myname");
    let item = seal_item(key.public_key(), &label, b"flip me").unwrap();
    assert_eq!(
        open_item(key, &label, &item).unwrap().expose_secret(),
        b"flip me"
    );
    for bit in 0..item.len() * 8 {
        let mut tampered = item.clone();
        tampered[bit / 8] ^= 1 << (bit % 8);
        assert!(
            open_item(key, &label, &tampered).is_err(),
            "flip of bit {bit} was accepted"
        );
    }
}

/// Upstream's scope matrix (docs/upstream.md, "Scopes and the OAEP label"): which moves of a
/// SealedSecret still unseal.
#[test]
fn scope_matrix() {
    let key = rsa2048();
    let keys = ring(&[key]);
    let moves = [
        ("myns", "myname"),
        ("myns", "renamed"),
        ("otherns", "myname"),
        ("otherns", "renamed"),
    ];
    for scope in Scope::ALL {
        let input =
            secret("kind: Secret\nmetadata: {name: myname, namespace: myns}\nstringData: {k: v}\n");
        let sealed = seal_secret(
            input,
            key.public_key(),
            &SealOptions {
                scope: Some(scope),
                ..options("default")
            },
        )
        .unwrap();
        for (namespace, name) in moves {
            let mut moved = sealed.clone();
            moved.metadata.namespace = Some(namespace.into());
            moved.metadata.name = Some(name.into());
            let opens = unseal(&moved, &keys, UnsealOptions::default()).is_ok();
            let expected = match scope {
                Scope::Strict => (namespace, name) == ("myns", "myname"),
                Scope::NamespaceWide => namespace == "myns",
                Scope::ClusterWide => true,
            };
            assert_eq!(opens, expected, "{scope} moved to {namespace}/{name}");
        }
    }
}

#[test]
fn scope_comes_from_top_level_metadata_not_the_template() {
    let key = rsa2048();
    let input = secret("kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {k: v}\n");
    let mut sealed = seal_secret(input, key.public_key(), &options("default")).unwrap();
    // Claiming cluster-wide in the template (CVE-2026-22728's shape) changes nothing.
    Scope::ClusterWide.write_annotations(
        sealed
            .spec
            .template
            .metadata
            .as_mut()
            .unwrap()
            .annotations_mut(),
    );
    sealed.metadata.namespace = Some("elsewhere".into());
    assert!(unseal(&sealed, &ring(&[key]), UnsealOptions::default()).is_err());
}

#[test]
fn sealed_output_shape() {
    let key = rsa2048();
    let input = secret(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  namespace: n\n  uid: x\n  resourceVersion: '5'\n  labels: {app: web}\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"stringData\":{\"k\":\"v\"}}'\n    sealedsecrets.bitnami.com/namespace-wide: 'true'\n    note: kept\n  ownerReferences: [{apiVersion: v1, kind: X, name: o, uid: '1'}]\ntype: kubernetes.io/basic-auth\nimmutable: true\ndata: {username: YWRtaW4=}\nstringData: {password: hunter2}\n",
    );
    let sealed = seal_secret(input, key.public_key(), &options("default")).unwrap();
    assert_eq!(sealed.api_version, "bitnami.com/v1alpha1");
    assert_eq!(sealed.kind, "SealedSecret");
    let top = &sealed.metadata;
    assert_eq!(
        (top.name.as_deref(), top.namespace.as_deref()),
        (Some("a"), Some("n"))
    );
    assert_eq!(
        top.annotation("sealedsecrets.bitnami.com/namespace-wide"),
        Some("true")
    );
    assert_eq!(
        top.annotation(KEY_HINT_ANNOTATION),
        Some(key.fingerprint().as_str())
    );
    assert!(top.labels.is_none(), "labels belong in the template only");
    let template = sealed.spec.template.metadata.as_ref().unwrap();
    assert_eq!(template.annotation("note"), Some("kept"));
    assert_eq!(
        template.annotation("sealedsecrets.bitnami.com/namespace-wide"),
        Some("true")
    );
    assert!(
        template
            .annotation("kubectl.kubernetes.io/last-applied-configuration")
            .is_none()
    );
    assert!(template.owner_references.is_none() && template.uid.is_none());
    assert!(!template.extra.contains_key("resourceVersion"));
    assert_eq!(
        sealed.spec.template.type_.as_deref(),
        Some("kubernetes.io/basic-auth")
    );
    assert_eq!(sealed.spec.template.immutable, Some(true));
    assert_eq!(
        sealed.spec.encrypted_data.keys().collect::<Vec<_>>(),
        ["password", "username"]
    );
    let text = sealant_core::object::to_text(&sealed, sealant_core::Format::Yaml).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("YWRtaW4="),
        "plaintext in output"
    );

    let unsealed = unseal(&sealed, &ring(&[key]), UnsealOptions::default()).unwrap();
    assert_eq!(unsealed.data()["password"].expose_secret(), b"hunter2");
    assert_eq!(unsealed.data()["username"].expose_secret(), b"admin");
    assert_eq!(
        unsealed.secret.type_.as_deref(),
        Some("kubernetes.io/basic-auth")
    );
    assert_eq!(
        unsealed.secret.metadata.labels.as_ref().unwrap()["app"],
        "web"
    );
    let owners = unsealed.secret.metadata.owner_references.as_ref().unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(
        (
            owners[0].kind.as_str(),
            owners[0].name.as_str(),
            owners[0].controller
        ),
        ("SealedSecret", "a", Some(true))
    );
}

#[test]
fn skip_set_owner_references_leaves_the_secret_unowned() {
    let key = rsa2048();
    let input = secret(&format!(
        "kind: Secret\nmetadata:\n  name: a\n  namespace: n\n  annotations: {{{SKIP_SET_OWNER_REFERENCES_ANNOTATION}: 'true'}}\nstringData: {{k: v}}\n"
    ));
    let sealed = seal_secret(input, key.public_key(), &options("default")).unwrap();
    let unsealed = unseal(&sealed, &ring(&[key]), UnsealOptions::default()).unwrap();
    assert!(unsealed.secret.metadata.owner_references.is_none());
}

/// Upstream's namespace rules for sealing (docs/upstream.md, "Sealing rules (kubeseal)"), as a
/// table.
#[test]
fn namespace_resolution_matrix() {
    let key = rsa2048();
    // (input namespace, cluster-wide?, -n flag, default, expected namespace or error)
    type Case<'a> = (
        Option<&'a str>,
        bool,
        Option<&'a str>,
        &'a str,
        Result<Option<&'a str>, SealingError>,
    );
    let cases: &[Case<'_>] = &[
        (None, false, None, "ctx", Ok(Some("ctx"))),
        (None, false, Some("flag"), "ctx", Ok(Some("flag"))),
        (Some("in"), false, None, "ctx", Ok(Some("in"))),
        (Some("in"), false, Some("in"), "ctx", Ok(Some("in"))),
        (
            Some("in"),
            false,
            Some("flag"),
            "ctx",
            Err(SealingError::NamespaceMismatch {
                input: "in".into(),
                flag: "flag".into(),
            }),
        ),
        (None, false, None, "", Err(SealingError::MissingNamespace)),
        (None, true, Some("flag"), "ctx", Ok(None)),
        (Some("in"), true, Some("flag"), "ctx", Ok(Some("in"))),
    ];
    for (index, (input_ns, cluster_wide, flag, default, expected)) in cases.iter().enumerate() {
        let mut input = secret("kind: Secret\nmetadata: {name: a}\nstringData: {k: v}\n");
        input.metadata.namespace = input_ns.map(str::to_owned);
        let options = SealOptions {
            scope: cluster_wide.then_some(Scope::ClusterWide),
            namespace_flag: flag.map(str::to_owned),
            default_namespace: (*default).to_owned(),
            ..SealOptions::default()
        };
        let result = seal_secret(input, key.public_key(), &options).map(|s| s.metadata.namespace);
        assert_eq!(
            result,
            expected.clone().map(|ns| ns.map(str::to_owned)),
            "case {index}"
        );
    }
}

#[test]
fn sealing_errors_use_upstream_texts() {
    let key = rsa2048();
    let empty = || secret("kind: Secret\nmetadata: {name: a, namespace: n}\n");
    let err = seal_secret(empty(), key.public_key(), &options("d")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("secret.data is empty in input Secret")
    );
    let allowed = SealOptions {
        allow_empty_data: true,
        ..options("d")
    };
    assert!(
        seal_secret(empty(), key.public_key(), &allowed)
            .unwrap()
            .spec
            .encrypted_data
            .is_empty()
    );

    let unnamed = || secret("kind: Secret\nmetadata: {namespace: n}\nstringData: {k: v}\n");
    assert_eq!(
        seal_secret(unnamed(), key.public_key(), &options("d"))
            .unwrap_err()
            .to_string(),
        "missing metadata.name in input Secret"
    );
    let named = SealOptions {
        name: Some("given".into()),
        ..options("d")
    };
    assert_eq!(
        seal_secret(unnamed(), key.public_key(), &named)
            .unwrap()
            .metadata
            .name
            .as_deref(),
        Some("given")
    );

    let err = SealingError::NamespaceMismatch {
        input: "a".into(),
        flag: "b".into(),
    };
    assert_eq!(
        err.to_string(),
        "namespace mismatch: input secret is in namespace \"a\" but \"b\" was specified"
    );
}

#[test]
fn raw_values_open_under_their_scope() {
    let key = rsa2048();
    let raw = seal_raw(key.public_key(), Scope::NamespaceWide, "n", "", b"value\n").unwrap();
    let bytes = sealant_core::base64::decode(&raw).unwrap();
    assert_eq!(
        open_item(key, b"n", bytes.expose_secret())
            .unwrap()
            .expose_secret(),
        b"value\n"
    );
    assert!(open_item(key, b"n/x", bytes.expose_secret()).is_err());
}

#[test]
fn merge_into_adds_and_replaces_without_panicking_on_missing_maps() {
    let key = rsa2048();
    let base = secret(
        "kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {keep: '1', replace: old}\n",
    );
    let mut target = seal_secret(base, key.public_key(), &options("d")).unwrap();
    target.spec.template.metadata = None; // upstream panics on this shape
    let keep_before = target.spec.encrypted_data["keep"].clone();
    let update = secret(
        "kind: Secret\nmetadata: {name: a, namespace: n, labels: {l: v}, annotations: {x: y}}\nstringData: {replace: new, added: '2'}\n",
    );
    let update = seal_secret(update, key.public_key(), &options("d")).unwrap();
    merge_into(&mut target, update);
    assert_eq!(target.spec.encrypted_data["keep"], keep_before);
    let unsealed = unseal(&target, &ring(&[key]), UnsealOptions::default()).unwrap();
    let values: BTreeMap<_, _> = unsealed
        .data()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str(),
                String::from_utf8(v.expose_secret().to_vec()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        values,
        BTreeMap::from([
            ("added", "2".into()),
            ("keep", "1".into()),
            ("replace", "new".into())
        ])
    );
    let meta = target.spec.template.metadata.as_ref().unwrap();
    assert_eq!(meta.labels.as_ref().unwrap()["l"], "v");
    assert_eq!(meta.annotation("x"), Some("y"));
}

#[test]
fn hinted_key_is_tried_first_and_a_wrong_hint_still_works() {
    let keys = [
        private_key("multi-1"),
        private_key("multi-2"),
        private_key("multi-3"),
    ];
    let ring: KeyRing = keys.iter().cloned().collect();
    let label = Scope::Strict.label("n", "a");
    let item = seal_item(keys[2].public_key(), &label, b"x").unwrap();
    let (_, fp) = ring
        .open(&label, &item, Some(keys[2].fingerprint()))
        .unwrap();
    assert_eq!(fp, keys[2].fingerprint());
    let (_, fp) = ring
        .open(&label, &item, Some(keys[0].fingerprint()))
        .unwrap();
    assert_eq!(fp, keys[2].fingerprint());
    assert!(KeyRing::new().open(&label, &item, None).is_err());
}

#[test]
fn generated_keys_have_upstream_shaped_certificates_and_key_secrets() {
    use der::Decode as _;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let options = KeyGenOptions {
        bits: 2048,
        ..KeyGenOptions::upstream_defaults(now)
    };
    let (key, cert) = generate_key(&options).unwrap();
    assert_eq!(cert.public_key().fingerprint(), key.fingerprint());
    assert_eq!(cert.not_before(), now);
    assert_eq!(cert.not_after(), now + time::Duration::hours(87_600));
    assert_eq!(cert.serial_hex().len(), 32, "128-bit serial");

    let (_, der) = pem_rfc7468::decode_vec(cert.pem().as_bytes()).unwrap();
    let parsed = x509_cert::Certificate::from_der(&der).unwrap();
    let tbs = parsed.tbs_certificate();
    assert!(
        tbs.subject().is_empty() && tbs.issuer().is_empty(),
        "empty DN by default"
    );
    let (critical, usage) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(critical && usage.encipher_only());
    let (critical, constraints) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(critical && constraints.ca);

    let secret = key_secret(
        "kube-system",
        "sealed-secrets-key",
        &key,
        &cert,
        &BTreeMap::new(),
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(KeyState::of(&secret), Some(KeyState::Active));
    assert_eq!(secret.metadata.extra["generateName"], "sealed-secrets-key");
    let (read_back, read_cert) = read_key_secret(&secret).unwrap();
    assert_eq!(read_back.fingerprint(), key.fingerprint());
    assert_eq!(
        read_cert.unwrap().public_key().fingerprint(),
        key.fingerprint()
    );

    // A key Secret round-trips through YAML, alone or in a List, as recovery reads it.
    let yaml = sealant_core::object::to_text(&secret, sealant_core::Format::Yaml).unwrap();
    assert_eq!(
        read_private_keys(yaml.as_bytes()).unwrap()[0].fingerprint(),
        key.fingerprint()
    );
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [serde_json::to_value(&secret).unwrap()]});
    assert_eq!(
        read_private_keys(list.to_string().as_bytes())
            .unwrap()
            .len(),
        1
    );
    let no_key = "apiVersion: v1\nkind: Secret\nmetadata: {name: k}\ndata: {other: eA==}\n";
    assert_eq!(
        read_private_keys(no_key.as_bytes())
            .unwrap_err()
            .to_string(),
        "secret must contain a 'tls.key' key"
    );
}

#[test]
fn key_secret_with_someone_elses_certificate_is_refused() {
    let mut secret = key_secret(
        "ns",
        "p",
        &private_key("rsa2048"),
        &certificate("rsa2048"),
        &BTreeMap::new(),
        &BTreeMap::new(),
    )
    .unwrap();
    let other = SecretBytes::from_slice(certificate("other-2048").pem().as_bytes());
    secret
        .data
        .as_mut()
        .unwrap()
        .insert("tls.crt".into(), other);
    assert!(read_key_secret(&secret).is_err());
}

#[test]
fn key_secret_labels_cannot_demote_the_key() {
    let labels = BTreeMap::from([(
        "sealedsecrets.bitnami.com/sealed-secrets-key".to_owned(),
        "nope".to_owned(),
    )]);
    let secret = key_secret(
        "ns",
        "p",
        &private_key("rsa2048"),
        &certificate("rsa2048"),
        &labels,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(KeyState::of(&secret), Some(KeyState::Active));
}

fn arbitrary_name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn items_round_trip(value in proptest::collection::vec(any::<u8>(), 0..2048), ns in arbitrary_name(), name in arbitrary_name(), scope_index in 0usize..3) {
        let key = rsa2048();
        let scope = Scope::ALL[scope_index];
        let label = scope.label(&ns, &name);
        let item = seal_item(key.public_key(), &label, &value).unwrap();
        prop_assert_eq!(item.len(), 2 + 256 + value.len() + 16);
        let opened = open_item(key, &label, &item).unwrap();
        prop_assert_eq!(opened.expose_secret(), &value[..]);
        let encoded = sealant_core::base64::encode(&item);
        let decoded = sealant_core::base64::decode(&encoded).unwrap();
        prop_assert_eq!(decoded.expose_secret(), &item[..]);
    }

    #[test]
    fn secrets_round_trip_through_text(items in proptest::collection::btree_map("[a-zA-Z0-9._-]{1,12}", proptest::collection::vec(any::<u8>(), 0..64), 1..5), name in arbitrary_name(), ns in arbitrary_name(), json in any::<bool>()) {
        let key = rsa2048();
        let mut input = Secret::new(ObjectMeta::named(name, Some(ns)));
        input.data = Some(items.iter().map(|(k, v)| (k.clone(), SecretBytes::from_slice(v))).collect());
        let format = if json { sealant_core::Format::Json } else { sealant_core::Format::Yaml };
        let input_text = sealant_core::object::to_text(&input, format).unwrap();
        let input = read_secrets(&input_text).unwrap().remove(0);
        let sealed = seal_secret(input, key.public_key(), &options("d")).unwrap();
        let text = sealant_core::object::to_text(&sealed, format).unwrap();
        let read_back: SealedSecret = sealant_core::object::read_sealed_secrets(&text).unwrap().remove(0);
        prop_assert_eq!(&read_back, &sealed);
        let unsealed = unseal(&read_back, &ring(&[key]), UnsealOptions::default()).unwrap();
        let data: BTreeMap<String, Vec<u8>> = unsealed.data().iter().map(|(k, v)| (k.clone(), v.expose_secret().to_vec())).collect();
        prop_assert_eq!(data, items);
    }
}

#[test]
fn template_data_is_rendered_only_when_asked() {
    let key = rsa2048();
    let input = secret(
        "kind: Secret\nmetadata: {name: a, namespace: n}\nstringData: {user: app, password: 'p@ss'}\n",
    );
    let mut sealed = seal_secret(input, key.public_key(), &options("d")).unwrap();
    sealed.spec.template.data = Some(BTreeMap::from([
        (
            "dsn".to_owned(),
            "postgres://{{ .user }}:{{ .password | urlquery }}@db/app".to_owned(),
        ),
        ("user".to_owned(), "{{ .user | upper }}".to_owned()),
    ]));
    let keys = ring(&[key]);
    let rendered = unseal(
        &sealed,
        &keys,
        UnsealOptions {
            render_templates: true,
            ..UnsealOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        rendered.data()["dsn"].expose_secret(),
        b"postgres://app:p%40ss@db/app"
    );
    assert_eq!(
        rendered.data()["user"].expose_secret(),
        b"APP",
        "templates win over items"
    );
    let plain = unseal(&sealed, &keys, UnsealOptions::default()).unwrap();
    assert!(!plain.data().contains_key("dsn"));

    sealed.spec.template.data = Some(BTreeMap::from([(
        "x".to_owned(),
        "{{ env \"HOME\" }}".to_owned(),
    )]));
    let err = unseal(
        &sealed,
        &keys,
        UnsealOptions {
            render_templates: true,
            ..UnsealOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("function \"env\" not defined"),
        "{err}"
    );
    assert!(err.to_string().ends_with("(x)"), "{err}");
}
