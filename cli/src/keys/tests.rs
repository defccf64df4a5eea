use std::collections::BTreeMap;

use kube::api::{ApiResource, DynamicObject};
use sealant_core::keysecret::age::read_age_key_secret;
use sealant_core::keysecret::{KeyState, read_key_secret};
use sealant_core::object::SealedSecretStatus;
use sealant_core::{Fingerprint, KeyOwner, TenantName};
use sealant_k8s::crd::SealedSecret;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::cluster::sealed_record;
use super::words::format_time;
use super::*;

const FP_OLD: &str = "SHA256:AAAAAAAAold11111111111111111111111111111111";
const FP_NEW: &str = "SHA256:AAAAAAAAnew22222222222222222222222222222222";
const FP_AGE: &str = "SHA256:BBBBBBBBage33333333333333333333333333333333";

fn fp(text: &str) -> Fingerprint {
    Fingerprint::parse(text).unwrap()
}

fn at(seconds: i64) -> Option<OffsetDateTime> {
    Some(OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap())
}

fn key(kind: KeyKind, fingerprint: &str, state: &str, created: i64, secret: &str) -> KeyEntry {
    KeyEntry {
        kind,
        fingerprint: Some(fp(fingerprint)),
        state: KeyState::from_label(state),
        created: at(created),
        secret: secret.into(),
        owner: KeyOwner::Cluster,
        resource_version: Some("1".into()),
        problem: None,
        sealing: false,
        used_by: Vec::new(),
    }
}

fn record(
    name: &str,
    fingerprints: Option<&[&str]>,
    generation: i64,
    observed: i64,
) -> SealedRecord {
    SealedRecord {
        name: name.into(),
        generation: Some(generation),
        status: Some(SealedSecretStatus {
            observed_generation: Some(observed),
            key_fingerprints: fingerprints.map(|f| f.iter().map(|s| (*s).to_owned()).collect()),
            ..SealedSecretStatus::default()
        }),
    }
}

#[test]
fn only_an_active_key_is_marked_compromised() {
    let mut keys = keys();
    keys[2].state = KeyState::Retired;
    let inventory = Inventory::new("ns", keys, &[]);
    // Retired: compromising it would make it unseal again.
    let skip = inventory.compromise_skip(&fp(FP_OLD)).unwrap();
    assert!(skip.contains("is not active"), "{skip}");
    assert_eq!(inventory.compromise_skip(&fp(FP_NEW)), None);
    let mut keys = keys_with_state(FP_NEW, "compromised");
    keys.retain(|k| k.fingerprint == Some(fp(FP_NEW)));
    let skip = Inventory::new("ns", keys, &[])
        .compromise_skip(&fp(FP_NEW))
        .unwrap();
    assert!(skip.contains("already marked compromised"), "{skip}");
}

#[test]
fn reactivating_a_compromised_key_that_would_seal_is_refused() {
    // The newest key compromised (no newer one made yet): reactivating it would seal with it.
    let inventory = Inventory::new("ns", keys_with_state(FP_NEW, "compromised"), &[]);
    let refusal = inventory.reactivation_refusal(&fp(FP_NEW)).unwrap();
    assert_eq!(refusal.exit_code(), crate::error::EXIT_REFUSED);
    assert!(refusal.hint_text().is_some_and(|h| h.contains("--force")));
    // An older compromised key stays behind the newest active one: allowed.
    let inventory = Inventory::new("ns", keys_with_state(FP_OLD, "compromised"), &[]);
    assert!(inventory.reactivation_refusal(&fp(FP_OLD)).is_none());
    assert!(!inventory.seals_once_active(&fp(FP_OLD)));
    // A retired newest key is not compromised: reactivating it is an undo.
    let inventory = Inventory::new("ns", keys_with_state(FP_NEW, "retired"), &[]);
    assert!(inventory.reactivation_refusal(&fp(FP_NEW)).is_none());
    assert!(inventory.seals_once_active(&fp(FP_NEW)));
}

fn keys_with_state(fingerprint: &str, state: &str) -> Vec<KeyEntry> {
    let mut keys = keys();
    for key in &mut keys {
        if key.fingerprint == Some(fp(fingerprint)) {
            key.state = KeyState::from_label(state);
        }
    }
    keys
}

/// Keys listed newest first (as the API might list them), to prove sorting by time.
fn keys() -> Vec<KeyEntry> {
    vec![
        key(KeyKind::Age, FP_AGE, "active", 5, "sealant-age-key1"),
        key(KeyKind::Rsa, FP_NEW, "active", 10, "sealed-secrets-key2"),
        key(KeyKind::Rsa, FP_OLD, "active", 0, "sealed-secrets-key1"),
    ]
}

#[test]
fn key_secrets_are_read_with_core_rules() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/age/key-secrets.yaml"),
    )
    .unwrap();
    let secrets = sealant_core::backup::read_key_secrets(&text).unwrap();
    let k8s = |secret: &sealant_core::Secret| sealant_k8s::PlainSecret::try_from(secret).unwrap();
    let rsa = KeyEntry::from_secret(KeyKind::Rsa, &k8s(&secrets[0]));
    let (key, cert) = read_key_secret(&secrets[0]).unwrap();
    assert_eq!(rsa.fingerprint.as_ref(), Some(key.fingerprint()));
    assert_eq!(rsa.created, Some(cert.unwrap().not_before()));
    assert_eq!(
        (rsa.state.clone(), rsa.problem.clone()),
        (KeyState::Active, None)
    );
    assert_eq!(rsa.secret, "sealed-secrets-keyabcde");
    let age = KeyEntry::from_secret(KeyKind::Age, &k8s(&secrets[1]));
    assert_eq!(
        age.fingerprint.as_ref(),
        Some(read_age_key_secret(&secrets[1]).unwrap().fingerprint())
    );
    assert_eq!(
        age.created.map(format_time).as_deref(),
        Some("2026-05-28T20:26:40Z")
    );
    // An age Secret found by the RSA label is unusable as an RSA key, with core's reason.
    let wrong = KeyEntry::from_secret(KeyKind::Rsa, &k8s(&secrets[1]));
    assert_eq!(wrong.fingerprint, None);
    assert_eq!(
        wrong.problem.as_deref(),
        Some("secret must contain a 'tls.key' key")
    );
    // No private material in what is shown.
    let inventory = Inventory::new("kube-system", vec![rsa, age, wrong], &[]);
    let shown = format!("{}{}", inventory.render_table(), inventory.to_json());
    assert!(
        !shown.contains("PRIVATE") && !shown.contains("AGE-SECRET-KEY"),
        "{shown}"
    );
}

#[test]
fn the_newest_active_key_of_each_kind_seals() {
    let inventory = Inventory::new("ns", keys(), &[]);
    let sealing: Vec<&str> = inventory
        .keys
        .iter()
        .filter(|k| k.sealing)
        .map(|k| k.secret.as_str())
        .collect();
    assert_eq!(sealing, ["sealed-secrets-key2", "sealant-age-key1"]);
    // Sorted: RSA first, oldest first.
    assert_eq!(inventory.keys[0].secret, "sealed-secrets-key1");
    // Compromised and retired keys never seal: the older active key takes over.
    for state in ["compromised", "retired", "unknown-value"] {
        let mut list = keys();
        list[1].state = KeyState::from_label(state);
        mark_sealing(&mut list);
        assert!(list[2].sealing && !list[1].sealing, "{state}");
    }
    // An unusable key never seals either.
    let mut list = keys();
    list[1].problem = Some("broken".into());
    mark_sealing(&mut list);
    assert!(list[2].sealing && !list[1].sealing);
    // Equal times: the later in list order wins, as the controller's stable sort leaves it.
    let mut tie = vec![
        key(KeyKind::Rsa, FP_OLD, "active", 0, "a"),
        key(KeyKind::Rsa, FP_NEW, "active", 0, "b"),
    ];
    mark_sealing(&mut tie);
    assert!(tie[1].sealing && !tie[0].sealing);
}

#[test]
fn usage_is_counted_from_status_key_fingerprints() {
    let other = "SHA256:CCCCCCCCother444444444444444444444444444444";
    let sealed = [
        record("prod/b", Some(&[FP_OLD]), 1, 1),
        record("prod/a", Some(&[FP_OLD, FP_NEW, FP_OLD]), 2, 2),
        record("dev/c", Some(&[FP_NEW, FP_AGE]), 1, 1),
        record("dev/d", None, 1, 1),
        record("dev/e", Some(&[FP_NEW]), 3, 2),
        record("x/y", Some(&[other]), 1, 1),
        SealedRecord {
            name: "x/no-status".into(),
            generation: Some(1),
            status: None,
        },
    ];
    let inventory = Inventory::new("ns", keys(), &sealed);
    let used = |secret: &str| {
        inventory
            .keys
            .iter()
            .find(|k| k.secret == secret)
            .unwrap()
            .used_by
            .clone()
    };
    assert_eq!(used("sealed-secrets-key1"), ["prod/a", "prod/b"]);
    assert_eq!(used("sealed-secrets-key2"), ["dev/c", "dev/e", "prod/a"]);
    assert_eq!(used("sealant-age-key1"), ["dev/c"]);
    assert_eq!(inventory.sealed_secrets, 7);
    assert_eq!(inventory.not_inventoried, ["dev/d", "x/no-status"]);
    assert_eq!(inventory.pending, ["dev/e"]);
    assert_eq!(
        inventory.other_keys,
        BTreeMap::from([(other.to_owned(), 1)])
    );
}

#[test]
fn fingerprints_resolve_from_unambiguous_prefixes() {
    let inventory = Inventory::new("ns", keys(), &[]);
    assert_eq!(inventory.resolve(FP_OLD).unwrap(), fp(FP_OLD));
    assert_eq!(inventory.resolve("SHA256:AAAAAAAAo").unwrap(), fp(FP_OLD));
    assert_eq!(inventory.resolve(" BBBBBBBB ").unwrap(), fp(FP_AGE));
    let ambiguous = inventory.resolve("SHA256:AAAAAAAA").unwrap_err();
    assert_eq!(ambiguous.exit_code(), crate::error::EXIT_USAGE);
    assert!(ambiguous.message().contains(FP_OLD) && ambiguous.message().contains(FP_NEW));
    let short = inventory.resolve("SHA256:AAAAAAA").unwrap_err();
    assert_eq!(short.exit_code(), crate::error::EXIT_USAGE);
    assert!(short.message().contains("too short"), "{short}");
    for bad in ["SHA256:not-base64!", "kube-system/sealed-secrets-key"] {
        let err = inventory.resolve(bad).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE, "{bad}");
        assert!(err.message().contains("is not a key fingerprint"), "{err}");
    }
    let unknown = inventory.resolve("SHA256:ZZZZZZZZZ").unwrap_err();
    assert_eq!(unknown.exit_code(), crate::error::EXIT_FAILURE);
    assert!(unknown.hint_text().unwrap().contains("sealant keys list"));
}

#[test]
fn retiring_is_refused_while_anything_may_need_the_key() {
    let refusal = |sealed: &[SealedRecord], fingerprint: &str| {
        Inventory::new("ns", keys(), sealed).retire_refusal(&fp(fingerprint))
    };
    let clean = [record("a/b", Some(&[FP_NEW]), 1, 1)];
    assert!(
        refusal(&clean, FP_OLD).is_none(),
        "unused, fully inventoried: allowed"
    );

    let sealing = refusal(&clean, FP_NEW).unwrap();
    assert_eq!(sealing.exit_code(), crate::error::EXIT_REFUSED);
    assert!(
        sealing
            .message()
            .contains("the one the controller seals with"),
        "{sealing}"
    );
    assert!(
        sealing.hint_text().unwrap().contains("sealant keys rotate"),
        "{sealing}"
    );
    assert!(refusal(&clean, FP_AGE).is_some(), "the published age key");

    let names: Vec<SealedRecord> = (0..7)
        .map(|i| record(&format!("ns/s{i}"), Some(&[FP_OLD]), 1, 1))
        .collect();
    let used = refusal(&names, FP_OLD).unwrap();
    assert!(
        used.message().contains(
            "7 SealedSecrets still need it: ns/s0, ns/s1, ns/s2, ns/s3, ns/s4 and 2 more"
        ),
        "{used}"
    );
    assert!(used.hint_text().unwrap().contains("--force"), "{used}");

    let unknown = refusal(&[record("a/b", None, 1, 1)], FP_OLD).unwrap();
    assert!(
        unknown
            .message()
            .contains("1 SealedSecret has no key inventory yet, so it might: a/b"),
        "{unknown}"
    );
    let pending = refusal(&[record("a/b", Some(&[FP_NEW]), 2, 1)], FP_OLD).unwrap();
    assert!(
        pending
            .message()
            .contains("1 SealedSecret changed since the controller last unsealed it: a/b"),
        "{pending}"
    );
}

#[test]
fn the_table_lines_up_and_says_what_blocks_retiring() {
    let sealed = [
        record("prod/a", Some(&[FP_OLD]), 1, 1),
        record("prod/b", None, 1, 1),
    ];
    let mut list = keys();
    list[0].state = KeyState::Retired;
    list.push(KeyEntry {
        fingerprint: None,
        problem: Some("secret must contain a 'tls.key' key".into()),
        ..key(KeyKind::Rsa, FP_OLD, "active", 20, "broken")
    });
    let table = Inventory::new("kube-system", list, &sealed).render_table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "KIND  FINGERPRINT                                         STATE              CREATED               SEALEDSECRETS  SECRET",
            "rsa   SHA256:AAAAAAAAold11111111111111111111111111111111  active             2027-01-15T08:00:00Z              1  sealed-secrets-key1",
            "rsa   SHA256:AAAAAAAAnew22222222222222222222222222222222  active *           2027-01-15T08:00:10Z              0  sealed-secrets-key2",
            "rsa   -                                                   active (unusable)  2027-01-15T08:00:20Z              0  broken",
            "age   SHA256:BBBBBBBBage33333333333333333333333333333333  retired            2027-01-15T08:00:05Z              0  sealant-age-key1",
        ],
        "{table}"
    );
    assert!(table.contains("* seals new SealedSecrets"), "{table}");
    assert!(
        table.contains("unusable: Secret broken: secret must contain a 'tls.key' key"),
        "{table}"
    );
    assert!(
        table.contains("2 SealedSecrets in the cluster\n"),
        "{table}"
    );
    assert!(table.contains("1 without key inventory yet (not unsealed by this controller since it records one): prod/b"), "{table}");
}

#[test]
fn json_follows_the_documented_schema() {
    let inventory = Inventory::new("ns", keys(), &[record("a/b", Some(&[FP_OLD]), 1, 1)]);
    let json = inventory.to_json();
    assert_eq!(json["namespace"], "ns");
    assert_eq!(
        json["keys"][0],
        json!({
            "tenant": null, "kind": "rsa", "fingerprint": FP_OLD, "state": "active", "sealing": false,
            "created": "2027-01-15T08:00:00Z", "secret": "sealed-secrets-key1",
            "sealedSecrets": 1, "usedBy": ["a/b"], "problem": null,
        })
    );
    assert_eq!(json["keys"][1]["sealing"], true);
    assert_eq!(
        json["sealedSecrets"],
        json!({ "namespaces": null, "total": 1, "notInventoried": [], "pending": [], "otherKeys": {} })
    );
    let mut scoped = inventory.clone();
    scoped.scope = vec!["prod".into(), "dev".into()];
    assert_eq!(
        scoped.to_json()["sealedSecrets"]["namespaces"],
        json!(["prod", "dev"])
    );
    assert!(
        scoped
            .render_table()
            .contains("1 SealedSecret in namespace prod, dev"),
        "{}",
        scoped.render_table()
    );
}

#[test]
fn compromise_says_what_seals_next() {
    let inventory = Inventory::new("ns", keys(), &[record("a/b", Some(&[FP_NEW]), 1, 1)]);
    let steps = compromise_next_steps(&inventory, &fp(FP_NEW)).join("\n");
    assert!(
        steps.contains(&format!(
            "falls back to the next newest active RSA key, {FP_OLD}"
        )),
        "{steps}"
    );
    assert!(
        steps.contains("1 SealedSecret opened with it gets a KeyCompromised condition"),
        "{steps}"
    );
    assert!(
        steps.contains(&format!("sealant keys retire {FP_NEW}")),
        "{steps}"
    );
    let only = Inventory::new("ns", keys().split_off(1).into_iter().take(1).collect(), &[]);
    let steps = compromise_next_steps(&only, &fp(FP_NEW)).join("\n");
    assert!(
        steps.contains("only active RSA key: the controller's leader generates a new one"),
        "{steps}"
    );
    // Not the sealing key: nothing changes for sealing.
    let steps = compromise_next_steps(&inventory, &fp(FP_OLD)).join("\n");
    assert!(
        !steps.contains("Sealing") && !steps.contains("only active"),
        "{steps}"
    );
}

#[test]
fn sealed_secrets_are_listed_as_the_typed_crd_and_a_bad_status_is_not_fatal() {
    let resource = ApiResource::erase::<SealedSecret>(&());
    assert_eq!(
        (
            resource.group.as_str(),
            resource.version.as_str(),
            resource.plural.as_str()
        ),
        ("bitnami.com", "v1alpha1", "sealedsecrets")
    );
    let object = |name: &str, status: Value| {
        json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
               "metadata": {"name": name, "namespace": "team", "generation": 2},
               "spec": {"encryptedData": {}}, "status": status})
    };
    let page = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecretList",
    "metadata": {}, "items": [
        object("good", json!({"observedGeneration": 2, "keyFingerprints": [FP_OLD]})),
        object("odd", json!({"conditions": [{"reason": "no type, no status"}]})),
    ]});
    // The typed model reads a status of the wrong shape as empty instead of refusing the
    // whole page (a status is a report; sealant_core reads its fields leniently)...
    let typed: kube::core::ObjectList<SealedSecret> = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(typed.items.len(), 2);
    assert!(
        typed.items[1]
            .status
            .as_ref()
            .is_some_and(|s| { s.conditions.is_none() && s.key_fingerprints.is_none() })
    );
    // ...and the untyped listing counts that object, without inventory.
    let page: kube::core::ObjectList<DynamicObject> = serde_json::from_value(page).unwrap();
    let records: Vec<SealedRecord> = page.items.iter().map(sealed_record).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].name, "team/good");
    assert_eq!(
        records[0]
            .status
            .as_ref()
            .and_then(|s| s.key_fingerprints.as_deref()),
        Some(&[FP_OLD.to_owned()][..])
    );
    assert_eq!(records[1].name, "team/odd");
    assert_eq!(records[1].generation, Some(2));
    assert!(
        records[1]
            .status
            .as_ref()
            .is_none_or(|s| s.key_fingerprints.is_none() && s.conditions.is_none())
    );
}

const FP_TENANT: &str = "SHA256:CCCCCCCCten44444444444444444444444444444444";
const FP_TENANT_OLD: &str = "SHA256:DDDDDDDDten55555555555555555555555555555555";

fn tenant(name: &str) -> KeyOwner {
    KeyOwner::Tenant(TenantName::parse(name).unwrap())
}

/// The cluster's keys, and two RSA keys of tenant `payments`, the newer one the newest of all.
fn tenant_keys() -> Vec<KeyEntry> {
    let mut list = keys();
    for (fingerprint, created, secret) in [
        (FP_TENANT, 30, "sealed-secrets-key-payments-b"),
        (FP_TENANT_OLD, 2, "sealed-secrets-key-payments-a"),
    ] {
        list.push(KeyEntry {
            owner: tenant("payments"),
            ..key(KeyKind::Rsa, fingerprint, "active", created, secret)
        });
    }
    list
}

#[test]
fn each_owner_has_its_own_sealing_key() {
    // The tenant's key is the newest of all, yet the cluster's sealing key stays the cluster's.
    let mut list = tenant_keys();
    mark_sealing(&mut list);
    let sealing: Vec<(&str, String)> = list
        .iter()
        .filter(|k| k.sealing)
        .map(|k| (k.fingerprint_text(), k.owner.to_string()))
        .collect();
    assert_eq!(sealing.len(), 3, "{sealing:?}");
    assert!(sealing.contains(&(FP_NEW, "cluster".into())), "{sealing:?}");
    assert!(sealing.contains(&(FP_AGE, "cluster".into())), "{sealing:?}");
    assert!(
        sealing.contains(&(FP_TENANT, "tenant payments".into())),
        "{sealing:?}"
    );
}

#[test]
fn the_inventory_shows_the_selected_owners_keys() {
    let sealed = [
        record("shop/a", Some(&[FP_TENANT_OLD]), 1, 1),
        record("prod/b", Some(&[FP_OLD]), 1, 1),
    ];
    // Default: the cluster's keys only; a tenant key's use is not an unknown key.
    let cluster = Inventory::new("ns", tenant_keys(), &sealed);
    assert_eq!(cluster.keys.len(), 3);
    assert!(cluster.keys.iter().all(|k| k.owner == KeyOwner::Cluster));
    assert!(cluster.other_keys.is_empty(), "{:?}", cluster.other_keys);
    assert!(!cluster.render_table().contains("TENANT"));
    // A tenant key named without --tenant: the error says which flag finds it.
    let err = cluster.resolve(FP_TENANT).unwrap_err();
    assert!(
        err.hint_text()
            .is_some_and(|h| h.contains("pass --tenant payments")),
        "{err:?}"
    );

    let payments = cluster.clone().select(Some(tenant("payments")));
    let names: Vec<&str> = payments.keys.iter().map(|k| k.secret.as_str()).collect();
    assert_eq!(
        names,
        [
            "sealed-secrets-key-payments-a",
            "sealed-secrets-key-payments-b"
        ]
    );
    assert_eq!(payments.keys[0].used_by, ["shop/a"]);
    assert_eq!(payments.resolve(FP_TENANT).unwrap(), fp(FP_TENANT));
    let err = payments.resolve(FP_OLD).unwrap_err();
    assert!(
        err.hint_text().is_some_and(|h| h.contains("cluster key")),
        "{err:?}"
    );
    // Retiring the tenant's sealing key points at the tenant's rotate.
    let refusal = payments.retire_refusal(&fp(FP_TENANT)).unwrap();
    assert!(
        refusal
            .hint_text()
            .is_some_and(|h| h.contains("sealant keys rotate --tenant payments")),
        "{refusal:?}"
    );
    let json = payments.to_json();
    assert_eq!(json["tenant"], "payments");
    assert_eq!(json["allTenants"], false);
    assert_eq!(json["keys"][1]["tenant"], "payments");
    assert_eq!(json["keys"][1]["sealing"], true);

    let none = cluster.clone().select(Some(tenant("other")));
    assert!(none.keys.is_empty());
    assert!(
        none.render_table()
            .contains("no key Secret of tenant other"),
        "{}",
        none.render_table()
    );
}

#[test]
fn all_tenants_adds_a_tenant_column() {
    let all = Inventory::new("ns", tenant_keys(), &[]).select(None);
    assert_eq!(all.keys.len(), 5);
    let table = all.render_table();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("TENANT    KIND  FINGERPRINT"),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("payments  rsa   ")
            && l.contains(FP_TENANT)
            && l.contains("active *")),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("-         rsa   ")
            && l.contains(FP_NEW)
            && l.contains("active *")),
        "{table}"
    );
    assert!(table.contains("of its kind and tenant"), "{table}");
    let json = all.to_json();
    assert_eq!(json["allTenants"], true);
    assert_eq!(json["tenant"], Value::Null);
}

#[test]
fn tenant_flags_take_tenant_names_only() {
    use clap::Parser as _;
    let parse = |args: &[&str]| crate::args::Cli::try_parse_from(args);
    let ok = parse(&["sealant", "keys", "rotate", "--tenant", "payments"]).unwrap();
    let crate::args::Command::Keys(crate::args::KeysCommand::Rotate(rotate)) = ok.command else {
        panic!("not keys rotate");
    };
    assert_eq!(rotate.tenant.owner(), tenant("payments"));
    for bad in ["Payments", "-x", "a_b", ""] {
        let arg = format!("--tenant={bad}");
        let err = parse(&["sealant", "keys", "list", &arg]).unwrap_err();
        let text = err.render().to_string();
        assert_eq!(err.exit_code(), 2, "{text}");
        assert!(
            text.contains("is not a lowercase RFC 1123 label")
                && text.contains("hint: a tenant is"),
            "{text}"
        );
    }
    assert!(parse(&["sealant", "keys", "list", "--tenant", "a", "--all-tenants"]).is_err());
    for command in ["retire", "compromise", "reactivate"] {
        assert!(
            parse(&[
                "sealant",
                "keys",
                command,
                "SHA256:abcdefgh",
                "--tenant",
                "t1"
            ])
            .is_ok(),
            "{command}"
        );
    }
    assert!(
        parse(&[
            "sealant",
            "keys",
            "backup",
            "--recipient",
            "age1x",
            "--tenant",
            "t1"
        ])
        .is_ok()
    );
}
