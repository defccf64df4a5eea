//! One SealedSecret for several clusters: RSA certificates and age recipients together, the
//! upstream-compatible and the combined layouts, scope binding, merging and the limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::collections::BTreeMap;

use sealant_core::age::envelope::Binding;
use sealant_core::age::{AgeIdentity, IdentityKind, ItemKind, item_kind, seal_age_item};
use sealant_core::object::ObjectMeta;
use sealant_core::sealing::{
    AGE_ITEMS_ANNOTATION, KEY_HINT_ANNOTATION, age_items, seal_raw_for, unseal_binding,
};
use sealant_core::{
    KeyRing, Layout, PrivateKey, Recipients, Scope, SealOptions, SealedSecret, SealingError,
    Secret, UnsealError, UnsealOptions, base64, merge_into, open_item, seal_secret_for, unseal,
};

struct Fleet {
    eu: PrivateKey,
    us: PrivateKey,
    dr: AgeIdentity,
}

fn fleet() -> Fleet {
    Fleet {
        eu: common::private_key("multi-1"),
        us: common::private_key("multi-2"),
        dr: AgeIdentity::generate(IdentityKind::X25519).unwrap(),
    }
}

fn recipients(fleet: &Fleet, layout: Layout) -> Recipients {
    Recipients {
        certs: vec![fleet.eu.public_key().clone(), fleet.us.public_key().clone()],
        age: vec![fleet.dr.recipient().clone()],
        layout,
    }
}

fn secret(scope: Scope, data: &[(&str, &[u8])]) -> Secret {
    let mut metadata = ObjectMeta::named("db", Some("prod".into()));
    scope.write_annotations(metadata.annotations_mut());
    let mut secret = Secret::new(metadata);
    secret.data = Some(
        data.iter()
            .map(|(k, v)| ((*k).to_owned(), sealant_core::SecretBytes::from_slice(v)))
            .collect(),
    );
    secret
}

fn options() -> SealOptions {
    SealOptions {
        default_namespace: "default".into(),
        ..SealOptions::default()
    }
}

fn ring_rsa(key: &PrivateKey) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(key.clone());
    ring
}

fn ring_age(identity: &AgeIdentity) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert_age(identity.clone());
    ring
}

fn values(sealed: &SealedSecret, ring: &KeyRing) -> Result<BTreeMap<String, Vec<u8>>, UnsealError> {
    let unsealed = unseal(sealed, ring, UnsealOptions::default())?;
    Ok(unsealed
        .data()
        .iter()
        .map(|(k, v)| (k.clone(), v.expose_secret().to_vec()))
        .collect())
}

fn decoded(value: &str) -> Vec<u8> {
    base64::decode(value).unwrap().expose_secret().to_vec()
}

#[test]
fn compatible_layout_keeps_the_first_certificate_upstream_readable() {
    let fleet = fleet();
    let data: &[(&str, &[u8])] = &[("password", b"hunter2"), ("user", b"admin")];
    let sealed = seal_secret_for(
        secret(Scope::Strict, data),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap();
    let label = b"prod/db";
    for (item, value) in &sealed.spec.encrypted_data {
        // The value is upstream's item for the first certificate, byte format and all.
        let bytes = decoded(value);
        assert_eq!(item_kind(&bytes), ItemKind::RsaHybrid);
        let plain = open_item(&fleet.eu, label, &bytes).unwrap();
        assert_eq!(
            plain.expose_secret(),
            data.iter().find(|d| d.0 == item).unwrap().1
        );
        assert!(open_item(&fleet.us, label, &bytes).is_err());
    }
    assert_eq!(
        sealed.metadata.annotation(KEY_HINT_ANNOTATION),
        Some(fleet.eu.fingerprint().as_str())
    );
    let extra = age_items(&sealed);
    assert_eq!(extra.keys().collect::<Vec<_>>(), ["password", "user"]);
    assert!(
        extra
            .values()
            .all(|v| item_kind(&decoded(v)) == ItemKind::Age)
    );

    // Each cluster's keys alone unseal every item.
    let expected: BTreeMap<String, Vec<u8>> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
        .collect();
    for (name, ring) in [
        ("eu", ring_rsa(&fleet.eu)),
        ("us", ring_rsa(&fleet.us)),
        ("dr", ring_age(&fleet.dr)),
    ] {
        assert_eq!(values(&sealed, &ring).unwrap(), expected, "{name}");
    }
    let unsealed = unseal(&sealed, &ring_rsa(&fleet.us), UnsealOptions::default()).unwrap();
    assert!(
        unsealed
            .opened_with
            .values()
            .all(|fp| fp == fleet.us.fingerprint())
    );
    let unsealed = unseal(&sealed, &ring_age(&fleet.dr), UnsealOptions::default()).unwrap();
    assert!(
        unsealed
            .opened_with
            .values()
            .all(|fp| fp == fleet.dr.fingerprint())
    );

    let stranger = ring_rsa(&common::private_key("other-2048"));
    let err = values(&sealed, &stranger).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no key could decrypt secret (password, user)"
    );
}

#[test]
fn moved_or_renamed_it_unseals_for_nobody() {
    let fleet = fleet();
    for layout in [Layout::Compatible, Layout::Combined] {
        for scope in Scope::ALL {
            let sealed = seal_secret_for(
                secret(scope, &[("k", b"v")]),
                &recipients(&fleet, layout),
                &options(),
            )
            .unwrap();
            let mut moved = sealed.clone();
            moved.metadata.namespace = Some("staging".into());
            let mut renamed = sealed.clone();
            renamed.metadata.name = Some("db2".into());
            for (name, ring) in [
                ("eu", ring_rsa(&fleet.eu)),
                ("us", ring_rsa(&fleet.us)),
                ("dr", ring_age(&fleet.dr)),
            ] {
                let what = format!("{layout} {scope} {name}");
                assert!(values(&sealed, &ring).is_ok(), "{what}");
                assert_eq!(
                    values(&moved, &ring).is_ok(),
                    scope == Scope::ClusterWide,
                    "{what}"
                );
                assert_eq!(
                    values(&renamed, &ring).is_ok(),
                    scope != Scope::Strict,
                    "{what}"
                );
            }
            // Widening the scope by annotation does not help either.
            let mut widened = sealed.clone();
            Scope::ClusterWide.write_annotations(widened.metadata.annotations_mut());
            if scope != Scope::ClusterWide {
                assert!(
                    values(&widened, &ring_age(&fleet.dr)).is_err(),
                    "{layout} {scope}"
                );
                assert!(
                    values(&widened, &ring_rsa(&fleet.us)).is_err(),
                    "{layout} {scope}"
                );
            }
        }
    }
}

#[test]
fn combined_layout_is_age_items_only() {
    let fleet = fleet();
    let sealed = seal_secret_for(
        secret(Scope::Strict, &[("k", b"v")]),
        &recipients(&fleet, Layout::Combined),
        &options(),
    )
    .unwrap();
    let value = decoded(&sealed.spec.encrypted_data["k"]);
    assert_eq!(item_kind(&value), ItemKind::Age);
    let header = String::from_utf8_lossy(&value[..value.len().min(4000)]).into_owned();
    assert_eq!(header.matches("-> ssh-rsa ").count(), 2, "{header}");
    assert_eq!(header.matches("-> X25519 ").count(), 1, "{header}");
    assert!(sealed.metadata.annotation(AGE_ITEMS_ANNOTATION).is_none());
    assert!(sealed.metadata.annotation(KEY_HINT_ANNOTATION).is_none());
    for ring in [
        ring_rsa(&fleet.eu),
        ring_rsa(&fleet.us),
        ring_age(&fleet.dr),
    ] {
        assert_eq!(values(&sealed, &ring).unwrap()["k"], b"v");
    }
}

#[test]
fn post_quantum_seals_are_all_post_quantum() {
    let fleet = fleet();
    let pq = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
    let pq2 = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
    let only_pq = Recipients {
        age: vec![pq.recipient().clone(), pq2.recipient().clone()],
        ..Recipients::default()
    };
    let sealed =
        seal_secret_for(secret(Scope::Strict, &[("k", b"v")]), &only_pq, &options()).unwrap();
    let value = decoded(&sealed.spec.encrypted_data["k"]);
    let header = String::from_utf8_lossy(&value[..value.len().min(8000)]).into_owned();
    assert_eq!(header.matches("-> mlkem768x25519 ").count(), 2);
    assert!(!header.contains("-> X25519 "));
    for identity in [&pq, &pq2] {
        assert_eq!(values(&sealed, &ring_age(identity)).unwrap()["k"], b"v");
    }

    let with_cert = Recipients {
        certs: vec![fleet.eu.public_key().clone()],
        ..only_pq.clone()
    };
    let with_x25519 = Recipients {
        age: vec![pq.recipient().clone(), fleet.dr.recipient().clone()],
        ..Recipients::default()
    };
    for mixed in [with_cert, with_x25519] {
        let err =
            seal_secret_for(secret(Scope::Strict, &[("k", b"v")]), &mixed, &options()).unwrap_err();
        assert!(matches!(err, SealingError::MixedRecipients(_)), "{err}");
    }
    let err = seal_secret_for(
        secret(Scope::Strict, &[("k", b"v")]),
        &Recipients::default(),
        &options(),
    )
    .unwrap_err();
    assert_eq!(err, SealingError::NoRecipients);
}

#[test]
fn rsa_and_age_items_mix_in_one_sealed_secret() {
    let fleet = fleet();
    let binding = Binding::new(Scope::Strict, "prod", "db");
    let mut sealed = seal_secret_for(
        secret(Scope::Strict, &[("rsa", b"one")]),
        &Recipients::rsa(fleet.eu.public_key()),
        &options(),
    )
    .unwrap();
    let age_item = seal_age_item(&[fleet.dr.recipient().clone()], &[], &binding, b"two").unwrap();
    sealed
        .spec
        .encrypted_data
        .insert("age".into(), base64::encode(&age_item));
    assert_eq!(unseal_binding(&sealed), binding);
    let mut both = ring_rsa(&fleet.eu);
    both.insert_age(fleet.dr.clone());
    let opened = values(&sealed, &both).unwrap();
    assert_eq!(opened["rsa"], b"one");
    assert_eq!(opened["age"], b"two");
    let err = values(&sealed, &ring_rsa(&fleet.eu)).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (age)");
}

#[test]
fn merging_drops_stale_age_items_of_replaced_values() {
    let fleet = fleet();
    let mut target = seal_secret_for(
        secret(Scope::Strict, &[("password", b"old"), ("user", b"admin")]),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap();
    let update = seal_secret_for(
        secret(Scope::Strict, &[("password", b"new")]),
        &Recipients::rsa(fleet.eu.public_key()),
        &options(),
    )
    .unwrap();
    merge_into(&mut target, update);
    assert_eq!(age_items(&target).keys().collect::<Vec<_>>(), ["user"]);
    assert_eq!(
        values(&target, &ring_rsa(&fleet.eu)).unwrap()["password"],
        b"new"
    );
    // The DR key no longer sees the old password: it fails instead.
    let err = values(&target, &ring_age(&fleet.dr)).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (password)");

    let refresh = seal_secret_for(
        secret(Scope::Strict, &[("password", b"newer")]),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap();
    merge_into(&mut target, refresh);
    assert_eq!(
        values(&target, &ring_age(&fleet.dr)).unwrap()["password"],
        b"newer"
    );

    let mut plain = seal_secret_for(
        secret(Scope::Strict, &[("user", b"x")]),
        &Recipients::rsa(fleet.eu.public_key()),
        &options(),
    )
    .unwrap();
    let only_user = seal_secret_for(
        secret(Scope::Strict, &[("user", b"y")]),
        &Recipients::rsa(fleet.eu.public_key()),
        &options(),
    )
    .unwrap();
    merge_into(&mut plain, only_user);
    assert!(plain.metadata.annotation(AGE_ITEMS_ANNOTATION).is_none());
}

#[test]
fn oversized_age_items_are_refused_with_the_limit() {
    let fleet = fleet();
    let big = vec![b'x'; 200 * 1024];
    let err = seal_secret_for(
        secret(Scope::Strict, &[("blob", &big)]),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap_err();
    assert!(
        matches!(err, SealingError::AnnotationsTooLarge { size, limit } if size > limit),
        "{err}"
    );
    // The combined layout has no annotation, so the same Secret seals.
    let sealed = seal_secret_for(
        secret(Scope::Strict, &[("blob", &big)]),
        &recipients(&fleet, Layout::Combined),
        &options(),
    )
    .unwrap();
    assert_eq!(values(&sealed, &ring_age(&fleet.dr)).unwrap()["blob"], big);
}

#[test]
fn raw_values_are_classic_for_one_certificate_and_age_otherwise() {
    let fleet = fleet();
    let one = Recipients::rsa(fleet.eu.public_key());
    let raw = seal_raw_for(&one, Scope::Strict, "prod", "db", b"v").unwrap();
    assert_eq!(item_kind(&decoded(&raw)), ItemKind::RsaHybrid);
    let many = recipients(&fleet, Layout::Compatible);
    let raw = seal_raw_for(&many, Scope::Strict, "prod", "db", b"v").unwrap();
    let bytes = decoded(&raw);
    assert_eq!(item_kind(&bytes), ItemKind::Age);
    let binding = Binding::new(Scope::Strict, "prod", "db");
    for ring in [
        ring_rsa(&fleet.eu),
        ring_rsa(&fleet.us),
        ring_age(&fleet.dr),
    ] {
        let (value, _) = ring.open_scoped(&binding, &bytes, None).unwrap();
        assert_eq!(value.expose_secret(), b"v");
    }
}

#[test]
fn malformed_age_items_annotations_are_ignored() {
    let fleet = fleet();
    let mut sealed = seal_secret_for(
        secret(Scope::Strict, &[("k", b"v")]),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap();
    sealed
        .metadata
        .annotations_mut()
        .insert(AGE_ITEMS_ANNOTATION.into(), "{not json".into());
    assert!(values(&sealed, &ring_rsa(&fleet.eu)).is_ok());
    let err = values(&sealed, &ring_age(&fleet.dr)).unwrap_err();
    assert_eq!(err.to_string(), "no key could decrypt secret (k)");
}

#[test]
fn a_key_ring_opens_age_items_through_rsa_keys_and_identities() {
    let rsa = common::private_key("rsa2048");
    let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let binding = Binding::new(Scope::Strict, "ns", "name");
    let item = seal_age_item(
        &[identity.recipient().clone()],
        &[rsa.public_key().clone()],
        &binding,
        b"v",
    )
    .unwrap();
    let rsa_ring = ring_rsa(&rsa);
    let (value, fingerprint) = rsa_ring.open_scoped(&binding, &item, None).unwrap();
    assert_eq!(value.expose_secret(), b"v");
    assert_eq!(fingerprint, rsa.fingerprint());
    let ring = ring_age(&identity);
    let (_, fingerprint) = ring.open_scoped(&binding, &item, None).unwrap();
    assert_eq!(fingerprint, identity.fingerprint());
    let other = Binding::new(Scope::Strict, "ns", "other");
    assert!(rsa_ring.open_scoped(&other, &item, None).is_err());
}

#[test]
fn the_in_sync_digest_covers_the_age_items() {
    let fleet = fleet();
    let sealed = seal_secret_for(
        secret(Scope::Strict, &[("k", b"v")]),
        &recipients(&fleet, Layout::Compatible),
        &options(),
    )
    .unwrap();
    let before = sealant_core::sync::inputs_digest(&sealed);
    let mut edited = sealed.clone();
    edited
        .metadata
        .annotations_mut()
        .insert(AGE_ITEMS_ANNOTATION.into(), "{}".into());
    assert_ne!(sealant_core::sync::inputs_digest(&edited), before);
    let mut hint_only = sealed.clone();
    hint_only
        .metadata
        .annotations_mut()
        .remove(KEY_HINT_ANNOTATION);
    assert_eq!(sealant_core::sync::inputs_digest(&hint_only), before);
}
