//! The rollout digest and annotation against vectors written from docs/rollout.md by an
//! independent script (`vectors/rollout.py`, Python's standard library only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::read_vector;
use sealant_core::rollout::{
    TargetError, digest_annotation_key, parse_targets, rollout_digest, same_key,
};
use sealant_core::sync::{SyncKey, data_mac};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    format: String,
    digests: Vec<Digest>,
    annotation_keys: Vec<AnnotationKey>,
    parse: Vec<Parse>,
}

#[derive(Deserialize)]
struct Digest {
    id: String,
    key_hex: String,
    namespace: String,
    name: String,
    data_b64: BTreeMap<String, String>,
    data_mac_hex: String,
    digest: String,
}

#[derive(Deserialize)]
struct AnnotationKey {
    secret: String,
    annotation_key: String,
}

#[derive(Deserialize)]
struct Parse {
    value: String,
    targets: Option<Vec<String>>,
    error: Option<String>,
}

fn vectors() -> File {
    let file: File = serde_json::from_slice(&read_vector("rollout.json")).unwrap();
    assert_eq!(file.format, "sealant-rollout-vectors-1");
    file
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn digests_match_the_independent_script() {
    let file = vectors();
    assert!(file.digests.len() >= 8);
    for vector in &file.digests {
        let key = SyncKey::from_bytes(&unhex(&vector.key_hex)).unwrap();
        let data: BTreeMap<String, Vec<u8>> = vector
            .data_b64
            .iter()
            .map(|(k, v)| {
                let value = base64::engine::general_purpose::STANDARD.decode(v).unwrap();
                (k.clone(), value)
            })
            .collect();
        let mac = data_mac(&key, &data);
        assert_eq!(mac.to_vec(), unhex(&vector.data_mac_hex), "{}", vector.id);
        let digest = rollout_digest(&key, &vector.namespace, &vector.name, &mac);
        assert_eq!(digest, vector.digest, "{}", vector.id);
        assert!(same_key(&key, &digest), "{}", vector.id);
    }
    // What the vectors are there to show: a one-character change of a low-entropy value, or
    // the same values in another Secret, give unrelated digests.
    let by_id = |id: &str| &file.digests.iter().find(|v| v.id == id).unwrap().digest;
    assert_ne!(by_id("low-entropy-a"), by_id("low-entropy-b"));
    assert_ne!(by_id("low-entropy-a"), by_id("same-data-other-name"));
    assert_ne!(by_id("boundary-a"), by_id("boundary-b"));
}

#[test]
fn annotation_keys_match_the_independent_script() {
    for vector in vectors().annotation_keys {
        assert_eq!(
            digest_annotation_key(&vector.secret),
            vector.annotation_key,
            "{}",
            vector.secret
        );
    }
}

#[test]
fn annotation_values_parse_or_say_why_not() {
    let file = vectors();
    assert!(file.parse.iter().any(|p| p.error.is_some()));
    for case in &file.parse {
        let parsed = parse_targets(&case.value);
        match (&case.targets, &case.error, parsed) {
            (Some(expected), None, Ok(targets)) => {
                let mut expected = expected.clone();
                expected.sort_by_key(|t| {
                    let (kind, name) = t.split_once('/').unwrap();
                    let rank = ["deployment", "statefulset", "daemonset"]
                        .iter()
                        .position(|k| *k == kind)
                        .unwrap();
                    (rank, name.to_owned())
                });
                let got: Vec<String> = targets.iter().map(ToString::to_string).collect();
                assert_eq!(got, expected, "{:?}", case.value);
            }
            (None, Some(variant), Err(err)) => {
                let got = match &err {
                    TargetError::Namespaced { .. } => "Namespaced",
                    TargetError::NoKind { .. } => "NoKind",
                    TargetError::UnknownKind { .. } => "UnknownKind",
                    TargetError::BadName { .. } => "BadName",
                    TargetError::TooMany { .. } => "TooMany",
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(got, variant, "{:?}: {err}", case.value);
                // The message names the entry, cut short: a long one is not copied whole.
                assert!(err.to_string().len() < 400, "{err}");
            }
            (_, _, result) => panic!("{:?}: got {result:?}", case.value),
        }
    }
}

#[test]
fn a_namespace_is_refused_with_a_message_that_says_so() {
    for value in ["prod/web", "prod/deployment/web", "deployment/prod/web"] {
        let message = parse_targets(value).unwrap_err().to_string();
        assert!(message.contains("namespace"), "{value}: {message}");
        assert!(message.contains(value), "{value}: {message}");
    }
}
