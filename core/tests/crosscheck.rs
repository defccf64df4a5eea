//! What sealant seals, the independent implementation (`vectors/independent.py`, Python
//! `cryptography`) must open. This test needs python3 with `cryptography`; it fails, never
//! skips, when they are missing (`tests/setup.sh` installs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use common::{certificate, vectors_dir};
use sealant_core::{Scope, seal_item};
use serde::Deserialize;
use serde_json::json;

#[test]
fn independent_implementation_opens_our_items() {
    let b64 = base64::engine::general_purpose::STANDARD;
    let values: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"hunter2".to_vec(),
        (0..=255u8).collect(),
        vec![0x5a; 70_000],
    ];
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for stem in ["rsa2048", "rsa4096"] {
        let cert = certificate(stem);
        for scope in Scope::ALL {
            for value in &values {
                let label = scope.label("myns", "myname");
                let item = seal_item(cert.public_key(), &label, value).unwrap();
                requests.push(json!({
                    "key": vectors_dir().join(format!("keys/{stem}.key")),
                    "label_b64": b64.encode(&label),
                    "ciphertext_b64": b64.encode(&item),
                }));
                expected.push(Some(value.clone()));
                // The same item under a wrong label must fail there too.
                requests.push(json!({
                    "key": vectors_dir().join(format!("keys/{stem}.key")),
                    "label_b64": b64.encode(b"myns/other"),
                    "ciphertext_b64": b64.encode(&item),
                }));
                expected.push(None);
            }
        }
    }

    let mut child = Command::new("python3")
        .arg(vectors_dir().join("independent.py"))
        .arg("decrypt-batch")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the cross-check (run tests/setup.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&requests).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "independent.py failed (is python `cryptography` installed?)"
    );

    #[derive(Deserialize)]
    struct Answer {
        ok: bool,
        plaintext_b64: Option<String>,
    }
    let answers: Vec<Answer> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answers.len(), expected.len());
    for (index, (answer, expected)) in answers.iter().zip(&expected).enumerate() {
        match expected {
            Some(value) => {
                assert!(answer.ok, "request {index} did not open");
                assert_eq!(
                    &b64.decode(answer.plaintext_b64.as_deref().unwrap())
                        .unwrap(),
                    value,
                    "request {index}"
                );
            }
            None => assert!(!answer.ok, "request {index} opened under a wrong label"),
        }
    }
}
