//! `sealant reencrypt PATH…` offline, without any cluster: `--check` fails before and passes
//! after, only ciphertexts and key hints change in the files (comments, key order, quoting,
//! other documents and file modes stay), and the result unseals with the new key only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sealant_core::object::read_documents;
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::{KeyRing, PrivateKey, UnsealOptions, unseal};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_sealant");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn reencrypt(dir: &Path, extra: &[&str]) -> Output {
    let fixtures = fixtures();
    Command::new(BIN)
        .current_dir(dir)
        .env("KUBECONFIG", "")
        .env("HOME", "/nonexistent/sealant-test-home")
        .env_remove("SEALED_SECRETS_CERT")
        .stdin(Stdio::null())
        .arg("reencrypt")
        .args(extra)
        .arg("repo")
        .arg("--private-key")
        .arg(fixtures.join("keys/rsa4096.key"))
        .arg("--cert")
        .arg(fixtures.join("keys/other-2048.crt"))
        .output()
        .expect("run sealant")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn ring(key: &str) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(PrivateKey::from_pem(&std::fs::read(fixtures().join(key)).unwrap()).unwrap());
    ring
}

/// The SealedSecrets of `text`: its documents, and the items of its `List` documents.
fn sealed_values(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for value in read_documents::<Value>(text).unwrap() {
        if value["kind"] == "List" {
            out.extend(
                value["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|item| item["kind"] == "SealedSecret")
                    .cloned(),
            );
        } else if value["kind"] == "SealedSecret" {
            out.push(value);
        }
    }
    out
}

/// Every ciphertext and key hint of the SealedSecrets in `text`.
fn sealed_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for value in sealed_values(text) {
        if let Some(items) = value["spec"]["encryptedData"].as_object() {
            out.extend(items.values().map(|v| v.as_str().unwrap().to_owned()));
        }
        if let Some(hint) = value["metadata"]["annotations"][KEY_HINT_ANNOTATION].as_str() {
            out.push(hint.to_owned());
        }
    }
    out
}

/// The text with its ciphertexts and hints replaced by a placeholder.
fn normalized(text: &str) -> String {
    let mut text = text.to_owned();
    for secret in sealed_strings(&text) {
        text = text.replace(&secret, "<SEALED>");
    }
    text
}

/// Plaintexts of every SealedSecret in `text`, unsealed with `ring`.
fn unsealed(text: &str, ring: &KeyRing) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for value in sealed_values(text) {
        let sealed = sealant_core::object::sealed_secret_from_value(value, 1).unwrap();
        let opened = unseal(&sealed, ring, UnsealOptions::default()).map_err(|e| e.to_string())?;
        for (item, bytes) in opened.data() {
            out.insert(
                format!("{}/{item}", sealed.metadata.name_or_empty()),
                String::from_utf8(bytes.expose_secret().to_vec()).unwrap(),
            );
        }
    }
    Ok(out)
}

#[test]
fn offline_reencrypt_rewrites_only_ciphertexts_and_hints() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&fixtures().join("rotation/repo"), &repo);
    let app = repo.join("app.yaml");
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before: BTreeMap<PathBuf, String> = ["app.yaml", "nested/shared.yml", "current.json"]
        .iter()
        .map(|f| {
            (
                PathBuf::from(f),
                std::fs::read_to_string(repo.join(f)).unwrap(),
            )
        })
        .collect();
    let skipped = [".hidden/skipped.yaml", "target/skipped.yaml"]
        .map(|f| std::fs::read(repo.join(f)).unwrap());

    let check = reencrypt(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(1), "stale before: {check:?}");
    let dry = reencrypt(dir.path(), &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{dry:?}");
    for (file, text) in &before {
        assert_eq!(
            &std::fs::read_to_string(repo.join(file)).unwrap(),
            text,
            "--dry-run wrote {file:?}"
        );
    }

    let run = reencrypt(dir.path(), &[]);
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("re-encrypted              3"), "{stderr}");
    let check = reencrypt(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(0), "current after: {check:?}");

    let old = ring("keys/rsa4096.key");
    let new = ring("keys/other-2048.key");
    for (file, old_text) in &before {
        let new_text = std::fs::read_to_string(repo.join(file)).unwrap();
        if file.ends_with("current.json") {
            assert_eq!(&new_text, old_text, "an up-to-date file is left alone");
            continue;
        }
        assert_ne!(&new_text, old_text);
        // Everything but the ciphertexts and hints is byte-identical; the one SealedSecret
        // without a hint gains exactly one hint line, next to its other annotations.
        let (old_norm, new_norm) = (normalized(old_text), normalized(&new_text));
        let (old_lines, new_lines): (Vec<&str>, Vec<&str>) =
            (old_norm.lines().collect(), new_norm.lines().collect());
        let mut inserted = Vec::new();
        let mut o = 0;
        for (n, line) in new_lines.iter().enumerate() {
            if old_lines.get(o) == Some(line) {
                o += 1;
            } else {
                inserted.push((n + 1, *line));
            }
        }
        assert_eq!(o, old_lines.len(), "{file:?}: lines lost:\n{new_norm}");
        let expected: Vec<(usize, &str)> = if file.ends_with("app.yaml") {
            vec![(39, "    sealant.dev/key-hint: <SEALED>")]
        } else {
            vec![]
        };
        assert_eq!(inserted, expected, "{file:?}:\n{new_norm}");
        // The old ciphertexts are all gone, and the new key (only) opens the new ones.
        for secret in sealed_strings(old_text) {
            if !secret.starts_with("SHA256:") {
                assert!(
                    !new_text.contains(&secret),
                    "{file:?} kept an old ciphertext"
                );
            }
        }
        assert_eq!(
            unsealed(&new_text, &new).unwrap(),
            unsealed(old_text, &old).unwrap()
        );
        assert!(unsealed(&new_text, &old).is_err());
    }
    let plaintexts = unsealed(&std::fs::read_to_string(&app).unwrap(), &new).unwrap();
    assert_eq!(
        plaintexts["db-creds/password"],
        "correct horse battery staple"
    );
    assert_eq!(plaintexts["api-token/token"], "s3cr3t-token");
    assert_eq!(
        std::fs::metadata(&app).unwrap().permissions().mode() & 0o777,
        0o644,
        "the file's mode is kept"
    );
    for (file, bytes) in [".hidden/skipped.yaml", "target/skipped.yaml"]
        .iter()
        .zip(skipped)
    {
        assert_eq!(
            std::fs::read(repo.join(file)).unwrap(),
            bytes,
            "{file} was walked"
        );
    }
}

#[test]
fn failed_reencrypt_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&fixtures().join("rotation/repo"), &repo);
    let before = std::fs::read(repo.join("app.yaml")).unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .env("KUBECONFIG", "")
        .stdin(Stdio::null())
        .args(["reencrypt", "repo/app.yaml", "--private-key"])
        .arg(fixtures().join("keys/other-2048.key"))
        .arg("--cert")
        .arg(fixtures().join("keys/other-2048.crt"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read(repo.join("app.yaml")).unwrap(), before);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no key could decrypt secret"), "{stderr}");
    assert!(!stderr.contains("correct horse"), "no plaintext in errors");
}

/// Lines of `new` that are not in `old` (after normalizing both), with their line numbers;
/// panics when a line of `old` is missing from `new`.
fn inserted_lines(old: &str, new: &str) -> Vec<(usize, String)> {
    let (old, new) = (normalized(old), normalized(new));
    let old_lines: Vec<&str> = old.lines().collect();
    let mut inserted = Vec::new();
    let mut o = 0;
    for (n, line) in new.lines().enumerate() {
        if old_lines.get(o) == Some(&line) {
            o += 1;
        } else {
            inserted.push((n + 1, line.to_owned()));
        }
    }
    assert_eq!(o, old_lines.len(), "lines lost:\n{new}");
    inserted
}

/// SealedSecrets inside a `kind: List` (what `kubectl get sealedsecrets -o yaml` prints) are
/// found, reported with their item's line, and re-encrypted in place like documents.
#[test]
fn sealed_secrets_inside_a_list_are_reencrypted() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&fixtures().join("rotation/list"), &repo);
    let (yaml, json) = (repo.join("sealed-list.yaml"), repo.join("sealed-list.json"));
    let old_yaml = std::fs::read_to_string(&yaml).unwrap();
    let old_json = std::fs::read_to_string(&json).unwrap();

    let check = reencrypt(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(1), "stale before: {check:?}");
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "stale: repo/sealed-list.json:1 SealedSecret prod/list-cache (List item 1) (sealed to SHA256:HKMhMS0Ly40sp738L7Yt7537+0RKdB1STTybrCASdGI)",
            "stale: repo/sealed-list.yaml:6 SealedSecret prod/list-db (List item 1) (sealed to SHA256:HKMhMS0Ly40sp738L7Yt7537+0RKdB1STTybrCASdGI)",
            "stale: repo/sealed-list.yaml:27 SealedSecret prod/list-token (List item 3) (no key hint; opened with an older key)",
        ]
    );

    let run = reencrypt(dir.path(), &[]);
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("re-encrypted              3"), "{stderr}");
    // JSON Lists are rendered anew, and say so; the YAML List is edited in place, silently.
    assert!(
        stderr.contains("warning: repo/sealed-list.json:1: the List could not be edited in place"),
        "{stderr}"
    );
    assert!(!stderr.contains("sealed-list.yaml:"), "{stderr}");
    let check = reencrypt(dir.path(), &["--check"]);
    assert_eq!(check.status.code(), Some(0), "current after: {check:?}");

    // YAML: comments, the ConfigMap item, quoting, flow style, the document after the List are
    // kept byte for byte; the item without a hint gains it under a new `annotations:`.
    let new_yaml = std::fs::read_to_string(&yaml).unwrap();
    assert_eq!(
        inserted_lines(&old_yaml, &new_yaml),
        [
            (28, "      annotations:".to_owned()),
            (29, "        sealant.dev/key-hint: <SEALED>".to_owned()),
        ],
        "{new_yaml}"
    );
    // JSON: the same object, only ciphertexts and hint changed.
    let new_json = std::fs::read_to_string(&json).unwrap();
    let parse = |text: &str| serde_json::from_str::<Value>(&normalized(text)).unwrap();
    assert_eq!(parse(&new_json), parse(&old_json));

    let (old, new) = (ring("keys/rsa4096.key"), ring("keys/other-2048.key"));
    for (old_text, new_text) in [(&old_yaml, &new_yaml), (&old_json, &new_json)] {
        for secret in sealed_strings(old_text) {
            assert!(
                !new_text.contains(&secret),
                "an old ciphertext or hint was kept"
            );
        }
        assert_eq!(
            unsealed(new_text, &new).unwrap(),
            unsealed(old_text, &old).unwrap()
        );
        assert!(unsealed(new_text, &old).is_err());
    }
    let plaintexts = unsealed(&new_yaml, &new).unwrap();
    assert_eq!(plaintexts["list-db/password"], "list-s3cret");
    assert_eq!(plaintexts["list-token/token"], "list-t0ken");
}
