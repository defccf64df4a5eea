//! Decrypt-only vectors made by an independent implementation (Python `cryptography`, see
//! `vectors/independent.py`), and key material checked against OpenSSH and OpenSSL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::{certificate, private_key, read_vector, sha256_hex};
use sealant_core::keys::KeyError;
use sealant_core::object::read_sealed_secrets;
use sealant_core::sealing::UnsealError;
use sealant_core::{Certificate, KeyRing, PrivateKey, Scope, UnsealOptions, open_item, unseal};
use serde::Deserialize;

#[derive(Deserialize)]
struct VectorFile {
    format: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    id: String,
    key: String,
    scope: String,
    namespace: String,
    name: String,
    label_b64: String,
    ciphertext_b64: String,
    expect: String,
    plaintext_b64: Option<String>,
    plaintext_sha256: Option<String>,
    plaintext_len: Option<usize>,
}

fn std_b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn items_from_the_independent_implementation() {
    let file: VectorFile = serde_json::from_slice(&read_vector("items.json")).unwrap();
    assert_eq!(file.format, "sealant-item-vectors-1");
    let mut keys = BTreeMap::new();
    let (mut ok, mut failed) = (0, 0);
    for v in &file.vectors {
        let key = keys
            .entry(v.key.clone())
            .or_insert_with(|| private_key(&v.key));
        // The label we compute from the scope rule must be the one the vector was made for.
        let scope: Scope = v.scope.parse().unwrap();
        assert_eq!(
            scope.label(&v.namespace, &v.name),
            std_b64(&v.label_b64),
            "{}: label",
            v.id
        );
        let result = sealant_core::base64::decode(&v.ciphertext_b64)
            .map_err(|_| ())
            .and_then(|bytes| {
                open_item(
                    key,
                    &scope.label(&v.namespace, &v.name),
                    bytes.expose_secret(),
                )
                .map_err(|_| ())
            });
        match (v.expect.as_str(), result) {
            ("ok", Ok(plaintext)) => {
                if let Some(expected) = &v.plaintext_b64 {
                    assert_eq!(plaintext.expose_secret(), std_b64(expected), "{}", v.id);
                } else {
                    assert_eq!(Some(plaintext.len()), v.plaintext_len, "{}", v.id);
                    assert_eq!(
                        Some(sha256_hex(plaintext.expose_secret())),
                        v.plaintext_sha256,
                        "{}",
                        v.id
                    );
                }
                ok += 1;
            }
            ("fail", Err(())) => failed += 1,
            (expect, result) => panic!(
                "{}: expected {expect}, got {:?}",
                v.id,
                result.map(|_| "plaintext")
            ),
        }
    }
    assert!(
        ok >= 15 && failed >= 30,
        "too few vectors: {ok} ok, {failed} fail"
    );
}

#[test]
fn sealed_secret_needing_the_second_of_three_keys() {
    #[derive(Deserialize)]
    struct Expected {
        keys: Vec<String>,
        sealed_to: String,
        data: BTreeMap<String, String>,
    }
    let expected: Expected =
        serde_json::from_slice(&read_vector("sealedsecret-second-of-three.expected.json")).unwrap();
    let text = String::from_utf8(read_vector("sealedsecret-second-of-three.yaml")).unwrap();
    let sealed = read_sealed_secrets(&text).unwrap().remove(0);

    let ring: KeyRing = expected.keys.iter().map(|k| private_key(k)).collect();
    let unsealed = unseal(&sealed, &ring, UnsealOptions::default()).unwrap();
    let data: BTreeMap<_, _> = unsealed
        .data()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                base64::engine::general_purpose::STANDARD.encode(v.expose_secret()),
            )
        })
        .collect();
    assert_eq!(data, expected.data);
    let second = private_key(&expected.sealed_to);
    assert!(
        unsealed
            .opened_with
            .values()
            .all(|fp| fp == second.fingerprint())
    );

    // Without that key nothing opens, and every item is named in the one opaque error.
    let without: KeyRing = expected
        .keys
        .iter()
        .filter(|k| **k != expected.sealed_to)
        .map(|k| private_key(k))
        .collect();
    let err = unseal(&sealed, &without, UnsealOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no key could decrypt secret (blob, password, username)"
    );
}

#[test]
fn legacy_v1_blob_is_accepted_only_when_asked() {
    let text = String::from_utf8(read_vector("legacy-v1.yaml")).unwrap();
    let sealed = read_sealed_secrets(&text).unwrap().remove(0);
    let ring: KeyRing = [private_key("rsa2048")].into_iter().collect();

    let err = unseal(
        &sealed,
        &ring,
        UnsealOptions {
            accept_v1_data: false,
            ..UnsealOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, UnsealError::V1Rejected);
    assert_eq!(
        err.to_string(),
        "using deprecated 'data' field, use 'encryptedData' or flip the feature flag"
    );

    let unsealed = unseal(
        &sealed,
        &ring,
        UnsealOptions {
            accept_v1_data: true,
            ..UnsealOptions::default()
        },
    )
    .unwrap();
    #[derive(Deserialize)]
    struct Expected {
        data: BTreeMap<String, String>,
    }
    let expected: Expected =
        serde_json::from_slice(&read_vector("legacy-v1.expected.json")).unwrap();
    for (key, value) in &expected.data {
        assert_eq!(
            unsealed.data()[key].expose_secret(),
            std_b64(value),
            "{key}"
        );
    }
    assert_eq!(unsealed.secret.metadata.name.as_deref(), Some("legacy"));

    let mut both = sealed.clone();
    both.spec.encrypted_data.insert("x".into(), "AQ==".into());
    assert_eq!(
        unseal(
            &both,
            &ring,
            UnsealOptions {
                accept_v1_data: true,
                ..UnsealOptions::default()
            }
        )
        .unwrap_err(),
        UnsealError::V1Conflict
    );
}

#[test]
fn fingerprints_match_openssh() {
    let text = String::from_utf8(read_vector("fingerprints.txt")).unwrap();
    let mut count = 0;
    for line in text.lines() {
        let (stem, fingerprint) = line.split_once(' ').unwrap();
        assert_eq!(
            private_key(stem).fingerprint().as_str(),
            fingerprint,
            "{stem}"
        );
        count += 1;
    }
    assert_eq!(count, 6);
    assert_eq!(
        certificate("rsa4096").public_key().fingerprint(),
        private_key("rsa4096").fingerprint()
    );
}

#[test]
fn pkcs1_and_pkcs8_encodings_are_the_same_key() {
    let pkcs1 = private_key("rsa4096");
    let pkcs8 = private_key("rsa4096-pkcs8");
    assert_eq!(pkcs1.fingerprint(), pkcs8.fingerprint());
    assert_eq!(pkcs1.public_key().bits(), 4096);
    // Our PKCS#1 output reads back as the same key, and is what upstream writes.
    let pem = pkcs1.to_pkcs1_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert_eq!(
        PrivateKey::from_pem(pem.as_bytes()).unwrap().fingerprint(),
        pkcs1.fingerprint()
    );
}

#[test]
fn non_rsa_material_is_refused_with_a_clear_error() {
    let err = Certificate::from_pem(&read_vector("keys/ec-p256.crt")).unwrap_err();
    assert_eq!(err.to_string(), "expected RSA public key but found ECDSA");
    let err = PrivateKey::from_pem(&read_vector("keys/ec-p256.key")).unwrap_err();
    assert!(matches!(err, KeyError::NotRsaPrivateKey(_)), "{err}");
    assert!(matches!(
        Certificate::from_pem(b"garbage"),
        Err(KeyError::NoPemBlock { .. })
    ));
    let broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(Certificate::from_pem(broken).is_err());
}

#[test]
fn expired_certificate_is_refused_with_its_date() {
    let cert = certificate("expired-2048");
    let now = time::OffsetDateTime::now_utc();
    let err = cert.check_not_expired(now).unwrap_err();
    let date = sealant_core::keys::format_go_date(cert.not_after());
    assert_eq!(
        err.to_string(),
        format!("failed to encrypt using an expired certificate on {date}")
    );
    certificate("rsa4096").check_not_expired(now).unwrap();
}
