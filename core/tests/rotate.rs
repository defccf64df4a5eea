//! Re-encryption to a newer key (`sealant_core::rotate`): the scope comes from the top-level
//! metadata whatever the template claims (CVE-2026-22728), items open with the new key only,
//! and the key hint follows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use sealant_core::object::read_secrets;
use sealant_core::rotate::reencrypt;
use sealant_core::sealing::{KEY_HINT_ANNOTATION, key_hint};
use sealant_core::{KeyRing, Scope, SealOptions, UnsealOptions, seal_secret, unseal};

fn ring(stem: &str) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(common::private_key(stem));
    ring
}

fn sealed_strict() -> sealant_core::SealedSecret {
    let secret = read_secrets(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: prod}\nstringData: {password: hunter2}\n",
    )
    .unwrap()
    .remove(0);
    let old = common::certificate("rsa4096");
    seal_secret(secret, old.public_key(), &SealOptions::default()).unwrap()
}

#[test]
fn reencrypt_moves_items_and_hint_to_the_new_key() {
    let new_key = common::private_key("other-2048");
    let rotated = reencrypt(
        &sealed_strict(),
        &ring("rsa4096"),
        new_key.public_key(),
        false,
    )
    .unwrap();
    assert!(!rotated.template_aligned);
    assert_eq!(rotated.opened, 1);
    assert_eq!(
        key_hint(&rotated.sealed).as_ref(),
        Some(new_key.fingerprint())
    );
    let opened = unseal(
        &rotated.sealed,
        &ring("other-2048"),
        UnsealOptions::default(),
    )
    .unwrap();
    assert_eq!(opened.data()["password"].expose_secret(), b"hunter2");
    assert!(unseal(&rotated.sealed, &ring("rsa4096"), UnsealOptions::default()).is_err());
}

#[test]
fn a_template_cannot_widen_the_scope() {
    let mut sealed = sealed_strict();
    let template = sealed.spec.template.metadata.as_mut().unwrap();
    template.annotations_mut().insert(
        "sealedsecrets.bitnami.com/cluster-wide".into(),
        "true".into(),
    );
    template.namespace = Some("other".into());
    let new_key = common::private_key("other-2048");
    let rotated = reencrypt(&sealed, &ring("rsa4096"), new_key.public_key(), false).unwrap();
    assert!(rotated.template_aligned);
    let out = &rotated.sealed;
    assert_eq!(
        Scope::from_annotations(out.metadata.annotations.as_ref()),
        Scope::Strict
    );
    let template = out.spec.template.metadata.as_ref().unwrap();
    assert_eq!(template.namespace.as_deref(), Some("prod"));
    assert!(
        template
            .annotation("sealedsecrets.bitnami.com/cluster-wide")
            .is_none()
    );
    // Bound to prod/db: renamed, it no longer opens.
    let mut moved = out.clone();
    moved.metadata.namespace = Some("other".into());
    assert!(unseal(&moved, &ring("other-2048"), UnsealOptions::default()).is_err());
    assert!(out.metadata.annotation(KEY_HINT_ANNOTATION).is_some());
}
