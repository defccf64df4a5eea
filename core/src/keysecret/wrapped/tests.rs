//! The envelope against the independent vectors (core/tests/vectors/wrapped/make.py), and every
//! way an envelope can be altered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::*;
use crate::keysecret::{KeySecretError, read_key_secret, read_private_keys};

const SECRET: &str = include_str!("../../../tests/vectors/wrapped/protected-rsa2048.yaml");
const VECTOR: &str = include_str!("../../../tests/vectors/wrapped/protected-rsa2048.json");
const KEY: &str = include_str!("../../../tests/vectors/keys/rsa2048.key");
const CERT: &str = include_str!("../../../tests/vectors/keys/rsa2048.crt");
const OTHER_CERT: &str = include_str!("../../../tests/vectors/keys/other-2048.crt");

fn vector(field: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(VECTOR).unwrap();
    v[field].as_str().unwrap().to_owned()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn secret() -> Secret {
    crate::object::read_secrets(SECRET).unwrap().pop().unwrap()
}

fn dek() -> SecretBytes {
    SecretBytes::new(hex(&vector("dek")))
}

fn open(secret: &Secret) -> Result<PrivateKey, WrappedKeyError> {
    read_wrapped_key_secret(secret)?.open(&dek())
}

fn set_item(secret: &mut Secret, name: &str, value: &[u8]) {
    secret
        .data
        .as_mut()
        .unwrap()
        .insert(name.to_owned(), SecretBytes::from_slice(value));
}

fn item(secret: &Secret, name: &str) -> Vec<u8> {
    secret.merged_items()[name].to_vec()
}

#[test]
fn independent_vector_opens_to_the_key() {
    let secret = secret();
    let wrapped = read_wrapped_key_secret(&secret).unwrap();
    assert_eq!(wrapped.fingerprint().as_str(), vector("fingerprint"));
    assert_eq!(wrapped.aad(), vector("aad").into_bytes());
    assert_eq!(
        wrapped.protection(),
        &Protection::new("pkcs11", "sealant-test/kek-1").unwrap()
    );
    // The wrapped DEK in the vector is AES-GCM under the test KEK, bound to the same AAD.
    let wrapped_dek = wrapped.wrapped_dek();
    let kek = Aes256Gcm::new_from_slice(&hex(&vector("test_kek"))).unwrap();
    let (nonce, body) = wrapped_dek.split_first_chunk::<12>().unwrap();
    let unwrapped = kek
        .decrypt(
            &Nonce::from(*nonce),
            Payload {
                msg: body,
                aad: &wrapped.aad(),
            },
        )
        .unwrap();
    assert_eq!(unwrapped, hex(&vector("dek")));
    let key = wrapped.open(&SecretBytes::new(unwrapped)).unwrap();
    assert_eq!(
        key.fingerprint(),
        PrivateKey::from_pem(KEY.as_bytes()).unwrap().fingerprint()
    );
}

#[test]
fn sealing_with_the_vector_dek_and_nonce_gives_the_vector_bytes() {
    let key = PrivateKey::from_pem(KEY.as_bytes()).unwrap();
    let cert = Certificate::from_pem(CERT.as_bytes()).unwrap();
    let nonce: [u8; NONCE_LEN] = hex(&vector("nonce")).try_into().unwrap();
    let protection = Protection::new("pkcs11", "sealant-test/kek-1").unwrap();
    let pending = seal_key_with(&key, &cert, protection, dek(), nonce).unwrap();
    assert_eq!(pending.aad(), vector("aad").into_bytes());
    let wrapped = pending.finish(item(&secret(), WRAPPED_DEK)).unwrap();
    let mut out = Secret::new(secret().metadata);
    wrapped.write_into(&mut out);
    assert_eq!(item(&out, WRAPPED_KEY), item(&secret(), WRAPPED_KEY));
    assert_eq!(read_wrapped_key_secret(&out).unwrap(), wrapped);
}

#[test]
fn fresh_seal_round_trips_through_a_new_secret_and_back_to_upstream() {
    let key = PrivateKey::from_pem(KEY.as_bytes()).unwrap();
    let cert = Certificate::from_pem(CERT.as_bytes()).unwrap();
    let protection = Protection::new("aws-kms", "arn:aws:kms:eu-west-1:1:key/x").unwrap();
    let first = seal_key(&key, &cert, protection.clone()).unwrap();
    let second = seal_key(&key, &cert, protection).unwrap();
    // Fresh DEK and nonce every time.
    assert!(!first.dek().ct_eq(second.dek()));
    let dek = first.dek().duplicate();
    let wrapped = first.finish(b"opaque provider blob".to_vec()).unwrap();
    let labels = BTreeMap::from([("team".to_owned(), "a".to_owned())]);
    let mut secret = wrapped_key_secret(
        "ns",
        "sealed-secrets-key",
        &wrapped,
        &labels,
        &BTreeMap::new(),
    );
    assert_eq!(secret.type_.as_deref(), Some(KEY_SECRET_TYPE));
    assert_eq!(
        secret.metadata.labels.as_ref().unwrap()[KEY_LABEL],
        "active"
    );
    // No private key in any item.
    for (name, value) in secret.merged_items() {
        assert!(
            !value.windows(11).any(|w| w == b"PRIVATE KEY"),
            "{name} holds a PEM private key"
        );
    }
    let read = read_wrapped_key_secret(&secret).unwrap();
    assert_eq!(read.wrapped_dek(), b"opaque provider blob");
    assert_eq!(read.open(&dek).unwrap().fingerprint(), key.fingerprint());
    match read_key_secret(&secret) {
        Err(KeySecretError::Protected(found)) => assert_eq!(*found, read),
        other => panic!("expected Protected, got {other:?}"),
    }
    unprotect_into(&mut secret, &key).unwrap();
    assert!(!is_wrapped_key_secret(&secret));
    let (back, cert) = read_key_secret(&secret).unwrap();
    assert_eq!(back.fingerprint(), key.fingerprint());
    assert!(cert.is_some());
    assert_eq!(secret.metadata.labels.as_ref().unwrap()["team"], "a");
}

#[test]
fn altered_envelopes_fail_to_open() {
    let flip = |name: &str, at: usize| {
        let mut s = secret();
        let mut value = item(&s, name);
        value[at] ^= 1;
        set_item(&mut s, name, &value);
        s
    };
    // Nonce, body and tag of the sealed key.
    for at in [0, 40, item(&secret(), WRAPPED_KEY).len() - 1] {
        assert_eq!(
            open(&flip(WRAPPED_KEY, at)).unwrap_err(),
            WrappedKeyError::Open
        );
    }
    // The envelope moved onto another key's certificate.
    let mut moved = secret();
    set_item(&mut moved, TLS_CERT, OTHER_CERT.as_bytes());
    assert_eq!(open(&moved).unwrap_err(), WrappedKeyError::Open);
    // Relabelled to another KEK or provider.
    for (provider, kek) in [
        ("pkcs11", "sealant-test/kek-2"),
        ("aws-kms", "sealant-test/kek-1"),
    ] {
        let mut relabelled = secret();
        relabelled.metadata.annotations.as_mut().unwrap().insert(
            PROTECTION_ANNOTATION.to_owned(),
            format!(r#"{{"version":1,"provider":"{provider}","kek":"{kek}"}}"#),
        );
        assert_eq!(open(&relabelled).unwrap_err(), WrappedKeyError::Open);
    }
    // Wrong DEK, and a DEK of the wrong size.
    let wrapped = read_wrapped_key_secret(&secret()).unwrap();
    assert_eq!(
        wrapped.open(&SecretBytes::new(vec![7; 32])).unwrap_err(),
        WrappedKeyError::Open
    );
    assert_eq!(
        wrapped.open(&SecretBytes::new(vec![7; 16])).unwrap_err(),
        WrappedKeyError::DekLength
    );
}

#[test]
fn a_sealed_key_that_is_not_the_certificates_is_refused() {
    // Only someone holding the DEK can build this; the fingerprint check still catches it.
    let other =
        PrivateKey::from_pem(include_bytes!("../../../tests/vectors/keys/other-2048.key")).unwrap();
    let other_cert = Certificate::from_pem(OTHER_CERT.as_bytes()).unwrap();
    let protection = Protection::new("pkcs11", "sealant-test/kek-1").unwrap();
    let nonce = [9; NONCE_LEN];
    let pending = seal_key_with(&other, &other_cert, protection, dek(), nonce).unwrap();
    let mut forged = pending.finish(vec![1]).unwrap();
    forged.cert = Certificate::from_pem(CERT.as_bytes()).unwrap();
    // Re-seal under the forged certificate's AAD so only the fingerprint check remains.
    let der = other.to_pkcs8_der().unwrap();
    let cipher = Aes256Gcm::new_from_slice(dek().expose_secret()).unwrap();
    let body = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &der,
                aad: &forged.aad(),
            },
        )
        .unwrap();
    forged.sealed_key = [nonce.as_slice(), &body].concat();
    assert_eq!(
        forged.open(&dek()).unwrap_err(),
        WrappedKeyError::KeyMismatch
    );
    // And sealing refuses a certificate that is not the key's.
    let cert = Certificate::from_pem(CERT.as_bytes()).unwrap();
    let protection = Protection::new("pkcs11", "k").unwrap();
    assert!(matches!(
        seal_key(&other, &cert, protection),
        Err(WrappedKeyError::Certificate(KeyError::CertificateMismatch))
    ));
}

#[test]
fn malformed_secrets_get_typed_errors() {
    let with_annotation = |value: &str| {
        let mut s = secret();
        s.metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(PROTECTION_ANNOTATION.to_owned(), value.to_owned());
        read_wrapped_key_secret(&s).unwrap_err()
    };
    assert_eq!(
        with_annotation(r#"{"version":2,"provider":"p","kek":"k"}"#),
        WrappedKeyError::Version(2)
    );
    assert_eq!(with_annotation("v1"), WrappedKeyError::Annotation);
    assert_eq!(
        with_annotation(r#"{"version":1,"provider":"p","kek":"k","new":1}"#),
        WrappedKeyError::Annotation
    );
    assert_eq!(
        with_annotation(r#"{"version":1,"provider":"p","kek":"a\nb"}"#),
        WrappedKeyError::BadId
    );
    assert_eq!(
        with_annotation(r#"{"version":1,"provider":"","kek":"k"}"#),
        WrappedKeyError::BadId
    );
    let mut no_annotation = secret();
    no_annotation.metadata.annotations = None;
    assert_eq!(
        read_wrapped_key_secret(&no_annotation).unwrap_err(),
        WrappedKeyError::Annotation
    );
    // Still recognised as protected by its item: never read as a plaintext key.
    assert!(matches!(
        read_key_secret(&no_annotation),
        Err(KeySecretError::Wrapped(WrappedKeyError::Annotation))
    ));
    for name in [WRAPPED_DEK, WRAPPED_KEY, TLS_CERT, TLS_KEY] {
        let mut s = secret();
        s.data.as_mut().unwrap().remove(name);
        let err = read_wrapped_key_secret(&s).unwrap_err();
        assert!(
            matches!(err, WrappedKeyError::MissingItem(n) if n == name),
            "{name}: {err:?}"
        );
    }
    let mut both = secret();
    set_item(&mut both, TLS_KEY, KEY.as_bytes());
    assert_eq!(
        read_wrapped_key_secret(&both).unwrap_err(),
        WrappedKeyError::PlaintextPresent
    );
    for (name, value) in [
        (WRAPPED_KEY, vec![0; 28]),
        (WRAPPED_KEY, vec![0; MAX_WRAPPED_KEY_LEN + 1]),
        (WRAPPED_DEK, vec![]),
        (WRAPPED_DEK, vec![0; MAX_WRAPPED_DEK_LEN + 1]),
    ] {
        let mut s = secret();
        set_item(&mut s, name, &value);
        assert!(
            matches!(read_wrapped_key_secret(&s).unwrap_err(), WrappedKeyError::Length(n) if n == name)
        );
    }
    let mut bad_cert = secret();
    set_item(&mut bad_cert, TLS_CERT, b"not a certificate");
    assert!(matches!(
        read_wrapped_key_secret(&bad_cert).unwrap_err(),
        WrappedKeyError::Certificate(_)
    ));
}

#[test]
fn recovery_input_names_the_protection_and_debug_shows_no_ciphertext() {
    let err = read_private_keys(SECRET.as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("protected by pkcs11 key 'sealant-test/kek-1'"),
        "{text}"
    );
    let debug = format!("{:?}", read_wrapped_key_secret(&secret()).unwrap());
    assert!(debug.contains("SHA256:"), "{debug}");
    assert!(!debug.contains("sealed_key"), "{debug}");
}
