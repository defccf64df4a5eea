//! The namespace-selector scope end to end in core (docs/multi-tenancy.md, "Namespace-selector
//! scope"): the selector is bound by the label, so moving, renaming and re-spelling keep working
//! while any change of the selector, or its removal, fails like every other wrong binding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use sealant_core::object::read_secrets;
use sealant_core::rotate::reencrypt;
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::{
    KeyRing, Scope, SealOptions, SealedSecret, SealingError, UnsealOptions, seal_secret, unseal,
};

fn ring() -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(common::private_key("rsa4096"));
    ring
}

fn seal(selector: &str) -> Result<SealedSecret, SealingError> {
    let secret = read_secrets(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  annotations: {{{ANNOTATION_NAMESPACE_SELECTOR}: '{selector}'}}\nstringData: {{password: hunter2}}\n"
    ))
    .unwrap()
    .remove(0);
    let cert = common::certificate("rsa4096");
    seal_secret(secret, cert.public_key(), &SealOptions::default())
}

fn opens(sealed: &SealedSecret) -> bool {
    unseal(sealed, &ring(), UnsealOptions::default()).is_ok()
}

fn set_selector(sealed: &mut SealedSecret, value: Option<&str>) {
    let annotations = sealed.metadata.annotations_mut();
    match value {
        Some(v) => annotations.insert(ANNOTATION_NAMESPACE_SELECTOR.into(), v.into()),
        None => annotations.remove(ANNOTATION_NAMESPACE_SELECTOR),
    };
}

#[test]
fn the_annotation_is_written_canonical_and_the_items_open_anywhere_by_any_name() {
    let mut sealed = seal(" team == payments , env in (prod)").unwrap();
    assert_eq!(
        sealed.metadata.annotation(ANNOTATION_NAMESPACE_SELECTOR),
        Some("team=payments,env in (prod)")
    );
    assert!(opens(&sealed));
    // Which namespace is allowed is the controller's check; the ciphertext binds only the
    // selector, so moving and renaming still open.
    sealed.metadata.namespace = Some("elsewhere".into());
    sealed.metadata.name = Some("renamed".into());
    assert!(opens(&sealed));
    // Another spelling of the same selector is the same binding.
    set_selector(&mut sealed, Some("env in (prod), team=payments"));
    assert!(opens(&sealed));
}

#[test]
fn changing_or_dropping_the_selector_fails_like_any_wrong_binding() {
    let sealed = seal("team=payments").unwrap();
    for changed in [
        Some("team=billing"),
        Some("team"),
        Some("team in (payments,billing)"),
        Some("not a selector ("),
        None,
    ] {
        let mut copy = sealed.clone();
        set_selector(&mut copy, changed);
        let err = unseal(&copy, &ring(), UnsealOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("no key could decrypt"),
            "{changed:?}: {err}"
        );
    }
    // An upstream scope annotation added on top changes nothing for sealant, and upstream
    // (which ignores the selector annotation) would try the cluster-wide label and fail.
    let mut widened = sealed.clone();
    widened.metadata.annotations_mut().insert(
        "sealedsecrets.bitnami.com/cluster-wide".into(),
        "true".into(),
    );
    assert!(opens(&widened));
    set_selector(&mut widened, None);
    assert!(!opens(&widened));
}

#[test]
fn bad_selectors_and_mixed_scopes_are_refused_at_seal_time() {
    assert!(matches!(seal(""), Err(SealingError::Selector(_))));
    assert!(matches!(seal("a<3"), Err(SealingError::Selector(_))));
    let secret = read_secrets(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\n  annotations: {{{ANNOTATION_NAMESPACE_SELECTOR}: a, sealedsecrets.bitnami.com/namespace-wide: 'true'}}\nstringData: {{p: x}}\n"
    ))
    .unwrap()
    .remove(0);
    let cert = common::certificate("rsa4096");
    assert_eq!(
        seal_secret(secret, cert.public_key(), &SealOptions::default()).unwrap_err(),
        SealingError::SelectorWithScope(Scope::NamespaceWide)
    );
}

#[test]
fn reencrypt_keeps_the_selector_whatever_the_template_claims() {
    let mut sealed = seal("team=payments").unwrap();
    let template = sealed.spec.template.metadata.as_mut().unwrap();
    template
        .annotations_mut()
        .insert(ANNOTATION_NAMESPACE_SELECTOR.into(), "team".into());
    let new_key = common::private_key("other-2048");
    let rotated = reencrypt(&sealed, &ring(), new_key.public_key(), false).unwrap();
    assert!(rotated.template_aligned);
    assert_eq!(
        rotated
            .sealed
            .metadata
            .annotation(ANNOTATION_NAMESPACE_SELECTOR),
        Some("team=payments")
    );
    let mut new_ring = KeyRing::new();
    new_ring.insert(new_key);
    assert!(unseal(&rotated.sealed, &new_ring, UnsealOptions::default()).is_ok());
}

#[test]
fn a_renamed_copy_is_no_identity_problem_for_inspect() {
    use sealant_core::inspect::{Problem, analyze};
    let mut sealed = seal("team=payments").unwrap();
    sealed.metadata.name = Some("renamed".into());
    sealed.metadata.namespace = Some("elsewhere".into());
    let problems = analyze(&sealed).problems;
    assert!(
        !problems
            .iter()
            .any(|p| matches!(p, Problem::IdentityMismatch { .. })),
        "{problems:?}"
    );
    // Without the selector the same move is reported.
    set_selector(&mut sealed, None);
    assert!(
        analyze(&sealed)
            .problems
            .iter()
            .any(|p| matches!(p, Problem::IdentityMismatch { .. }))
    );
}
