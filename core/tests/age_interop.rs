//! sealant's age layer against other age implementations, in both directions:
//! - the npm package `age-encryption` 0.3.1 (typage), which has the post-quantum `age1pq1`
//!   recipient, driven by `interop/age-js.mjs` under node;
//! - the reference Go `age` CLI as Debian ships it (1.1.1: X25519 and ssh-rsa, no `age1pq1`).
//!
//! `tests/setup-age.sh` installs both. These tests fail, never skip, when they are missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sealant_core::Scope;
use sealant_core::age::envelope::{self, Binding};
use sealant_core::age::{
    AgeIdentity, AgeRecipient, IdentityKind, decrypt_file, encrypt_file, parse_identities,
    parse_recipients, seal_age_item,
};
use sealant_core::backup::{backup_plaintext, seal_backup};
use sealant_core::keysecret::age::age_key_secret;
use sealant_core::keysecret::key_secret;
use time::OffsetDateTime;

const SETUP_HINT: &str = "run `bash tests/setup-age.sh` (tests/setup.sh runs it in CI)";

fn npm_dir() -> PathBuf {
    let dir = std::env::var_os("SEALANT_NPM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/sealant/npm")
        });
    let package = dir.join("node_modules/age-encryption/package.json");
    let text = std::fs::read_to_string(&package).unwrap_or_else(|_| {
        panic!(
            "the npm package age-encryption is not installed in {}: {SETUP_HINT}",
            dir.display()
        )
    });
    assert!(
        text.contains("\"version\": \"0.3.1\""),
        "{} is not age-encryption 0.3.1: {SETUP_HINT}",
        package.display()
    );
    dir
}

fn run(mut command: Command, stdin: &[u8], what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what} ({e}): {SETUP_HINT}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(output: Output, what: &str) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `interop/age-js.mjs` under node.
fn js(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/age-js.mjs");
    let mut command = Command::new("node");
    command.arg(script).arg(npm_dir()).args(args);
    ok(run(command, stdin, "node"), &format!("age-js {}", args[0]))
}

/// Runs the `age` CLI.
fn age_cli(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = Command::new("age");
    command.args(args);
    run(command, stdin, "the age CLI")
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_secret_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
    path
}

const PLAINTEXT: &[u8] = b"sealant interop \x00\xff plaintext";

#[test]
fn typage_opens_what_we_encrypt() {
    for kind in [IdentityKind::X25519, IdentityKind::PostQuantum] {
        let identity = AgeIdentity::generate(kind).unwrap();
        let secret = identity.to_secret_string();
        for armor in [false, true] {
            let file = encrypt_file(&[identity.recipient().clone()], PLAINTEXT, armor).unwrap();
            let opened = js(&["decrypt", secret.expose_secret()], &file);
            assert_eq!(opened, PLAINTEXT, "{kind:?} armor={armor}");
        }
        // An item's raw age payload is a standard age file whose plaintext is the envelope.
        let binding = Binding::new(Scope::Strict, "prod", "db");
        let item = seal_age_item(&[identity.recipient().clone()], &[], &binding, b"v").unwrap();
        let opened = js(&["decrypt", secret.expose_secret()], &item);
        assert_eq!(opened, *envelope::wrap(&binding, b"v").unwrap(), "{kind:?}");
    }
}

#[test]
fn we_open_what_typage_encrypts() {
    for kind in ["x25519", "pq"] {
        // typage's keys, parsed by us.
        let keys = lines(&js(&["keygen", kind], b""));
        let identity: AgeIdentity = keys[0].parse().unwrap();
        assert_eq!(identity.recipient().to_string(), keys[1], "{kind}");
        let recipient: AgeRecipient = keys[1].parse().unwrap();
        assert_eq!(recipient.is_post_quantum(), kind == "pq");
        let file = js(&["encrypt", &keys[1]], PLAINTEXT);
        let opened = decrypt_file(std::slice::from_ref(&identity), &file).unwrap();
        assert_eq!(opened.expose_secret(), PLAINTEXT, "{kind}");

        // Our keys, used by typage.
        let ours = AgeIdentity::generate(if kind == "pq" {
            IdentityKind::PostQuantum
        } else {
            IdentityKind::X25519
        })
        .unwrap();
        let derived = lines(&js(
            &["recipient", ours.to_secret_string().expose_secret()],
            b"",
        ));
        assert_eq!(derived[0], ours.recipient().to_string(), "{kind}");
        let file = js(&["encrypt", &ours.recipient().to_string()], PLAINTEXT);
        let opened = decrypt_file(std::slice::from_ref(&ours), &file).unwrap();
        assert_eq!(opened.expose_secret(), PLAINTEXT, "{kind}");
        let stranger = AgeIdentity::generate(ours.kind()).unwrap();
        assert!(decrypt_file(&[stranger], &file).is_err());
    }
}

#[test]
fn typage_multi_recipient_files_open_with_each_identity() {
    let a = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
    let b = AgeIdentity::generate(IdentityKind::PostQuantum).unwrap();
    let file = js(
        &[
            "encrypt",
            &a.recipient().to_string(),
            &b.recipient().to_string(),
        ],
        PLAINTEXT,
    );
    for identity in [a, b] {
        let opened = decrypt_file(&[identity], &file).unwrap();
        assert_eq!(opened.expose_secret(), PLAINTEXT);
    }
}

#[test]
fn checked_in_cctv_vectors_match_the_registry_package() {
    let dir = tempfile::tempdir().unwrap();
    js(&["cctv", dir.path().to_str().unwrap()], b"");
    let checked_in = common::vectors_dir().join("age/cctv");
    let mut compared = 0;
    for entry in std::fs::read_dir(&checked_in).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let fresh = std::fs::read(dir.path().join(&name))
            .unwrap_or_else(|e| panic!("{name:?} is not in cctv-age: {e}"));
        assert!(fresh == std::fs::read(&path).unwrap(), "{name:?} differs");
        compared += 1;
    }
    assert!(compared >= 90, "{compared}");
}

fn x25519_key_secret(identity: &AgeIdentity) -> sealant_core::Secret {
    let mut secret = age_key_secret(
        "kube-system",
        "sealant-age-key",
        identity,
        OffsetDateTime::UNIX_EPOCH,
        &Default::default(),
        &Default::default(),
    );
    secret.metadata.name = Some("sealant-age-keyabcde".into());
    secret
}

#[test]
fn age_cli_decrypts_our_backups() {
    let dir = tempfile::tempdir().unwrap();
    let offline = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let id_file = write_secret_file(
        dir.path(),
        "offline.txt",
        offline
            .to_identity_file(OffsetDateTime::now_utc())
            .expose_secret(),
    );
    let rsa = common::private_key("rsa2048");
    let mut rsa_secret = key_secret(
        "kube-system",
        "sealed-secrets-key",
        &rsa,
        &common::certificate("rsa2048"),
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    rsa_secret.metadata.name = Some("sealed-secrets-keyxyz12".into());
    let controller_age = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let secrets = [rsa_secret, x25519_key_secret(&controller_age)];
    let expected = backup_plaintext(&secrets).unwrap();
    for armor in [false, true] {
        let backup = seal_backup(&[offline.recipient().clone()], &secrets, armor).unwrap();
        let path = dir.path().join(format!("backup-{armor}.age"));
        std::fs::write(&path, &backup).unwrap();
        let output = age_cli(
            &[
                "-d",
                "-i",
                id_file.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
            b"",
        );
        assert_eq!(ok(output, "age -d"), expected.as_bytes(), "armor={armor}");
    }
}

#[test]
fn age_cli_opens_item_payloads_and_rsa_stanzas() {
    let dir = tempfile::tempdir().unwrap();
    let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let id_file = write_secret_file(
        dir.path(),
        "id.txt",
        identity
            .to_identity_file(OffsetDateTime::now_utc())
            .expose_secret(),
    );
    let rsa_key = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/keys/rsa2048.key");
    let cert = common::certificate("rsa2048");
    let binding = Binding::new(Scope::NamespaceWide, "prod", "");
    let item = seal_age_item(
        &[identity.recipient().clone()],
        &[cert.public_key().clone()],
        &binding,
        PLAINTEXT,
    )
    .unwrap();
    let envelope = envelope::wrap(&binding, PLAINTEXT).unwrap();
    // Through the X25519 stanza, and through the ssh-rsa stanza with the key Secret's tls.key.
    for key in [id_file.as_path(), rsa_key.as_path()] {
        let output = age_cli(&["-d", "-i", key.to_str().unwrap()], &item);
        assert_eq!(ok(output, "age -d"), *envelope, "{}", key.display());
    }
}

#[test]
fn we_open_what_the_age_cli_encrypts() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("key.txt");
    let mut keygen = Command::new("age-keygen");
    keygen.arg("-o").arg(&key_path);
    ok(run(keygen, b"", "age-keygen"), "age-keygen");
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    let identities = parse_identities(&key_text).unwrap();
    let public = key_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    assert_eq!(identities[0].recipient().to_string(), public);

    // age-keygen's own identity, and ours; a recipients file with comments for -R.
    let ours = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let recipients = format!("# ours\n{}\n\n# age-keygen's\n{public}\n", ours.recipient());
    assert_eq!(parse_recipients(&recipients).unwrap().len(), 2);
    let recipients_path = dir.path().join("recipients.txt");
    std::fs::write(&recipients_path, &recipients).unwrap();
    for armor in [false, true] {
        let mut args = vec!["-R", recipients_path.to_str().unwrap()];
        if armor {
            args.push("-a");
        }
        let file = ok(age_cli(&args, PLAINTEXT), "age -R");
        for identity in [&identities[0], &ours] {
            let opened = decrypt_file(std::slice::from_ref(identity), &file).unwrap();
            assert_eq!(opened.expose_secret(), PLAINTEXT, "armor={armor}");
        }
    }
}
