//! Raw items, certificates, fixture keys and key backups opened by the age CLI.

use super::*;

/// A `--raw` item opens when placed in a SealedSecret of the same scope, name and namespace: the
/// label used by raw mode is the one the controller will check.
#[test]
fn raw_items_unseal_inside_a_sealed_secret_of_their_scope() {
    let dir = sandbox();
    let cases = [
        ("strict", "db-creds", "prod", ""),
        (
            "namespace-wide",
            "any-name",
            "prod",
            "    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
        ),
        (
            "cluster-wide",
            "any-name",
            "anywhere",
            "    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n",
        ),
    ];
    for (scope, name, namespace, annotations) in cases {
        let mut args = vec![
            "seal",
            "--raw",
            "--scope",
            scope,
            "--cert",
            "keys/rsa4096.crt",
        ];
        if scope != "cluster-wide" {
            args.extend(["-n", namespace]);
        }
        if scope == "strict" {
            args.extend(["--name", name]);
        }
        let plaintext = format!("raw value for {scope}\n");
        let out = run_with_stdin(dir.path(), &args, plaintext.as_bytes());
        assert!(out.status.success(), "{scope}: {}", text(&out.stderr));
        let item = text(&out.stdout);
        assert!(!item.ends_with('\n'), "raw output is the bare base64");
        let metadata_annotations = if annotations.is_empty() {
            String::new()
        } else {
            format!("  annotations:\n{annotations}")
        };
        let sealed = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n{metadata_annotations}spec:\n  encryptedData:\n    value: {item}\n"
        );
        let out = run_with_stdin(
            dir.path(),
            &[
                "unseal",
                "--recovery-private-key",
                "keys/rsa4096.key",
                "-o",
                "json",
            ],
            sealed.as_bytes(),
        );
        assert!(out.status.success(), "{scope}: {}", text(&out.stderr));
        let secret: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let value = secret["data"]["value"].as_str().expect("value");
        assert_eq!(value, base64(plaintext.as_bytes()), "{scope}");

        // The same item under another identity does not open (except cluster-wide).
        let moved = sealed.replace(&format!("namespace: {namespace}"), "namespace: elsewhere");
        let out = run_with_stdin(
            dir.path(),
            &["unseal", "--recovery-private-key", "keys/rsa4096.key"],
            moved.as_bytes(),
        );
        assert_eq!(out.status.success(), scope == "cluster-wide", "{scope}");
    }
}

/// `sealant cert` prints the certificate exactly as read (upstream's `--fetch-cert`).
#[test]
fn cert_prints_the_pem_verbatim() {
    let dir = fixtures();
    let out = run(&dir, &["cert", "--cert", "keys/rsa4096.crt"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        out.stdout,
        std::fs::read(dir.join("keys/rsa4096.crt")).expect("read")
    );
}

/// An empty `SEALED_SECRETS_CERT` means "not given" (upstream's default is ""): sealant goes to
/// the cluster, instead of failing to read a file named "".
#[test]
fn empty_cert_env_is_no_cert() {
    let dir = fixtures();
    let out = sealant(&dir)
        .args(["seal", "-f", "secret.yaml"])
        .env("SEALED_SECRETS_CERT", "")
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("cannot read certificate"), "{stderr}");
    assert!(
        stderr.contains("--cert"),
        "the hint offers --cert: {stderr}"
    );
}

/// The keys under `tests/fixtures/keys` are copies (trycmd's sandbox cannot follow a symlink out
/// of the fixture directory); they must stay identical to the core vectors.
#[test]
fn fixture_keys_match_core_vectors() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures().join("keys")).expect("read keys") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let core = core_keys().join(&name);
        assert_eq!(
            std::fs::read(entry.path()).expect("read fixture"),
            std::fs::read(&core).unwrap_or_default(),
            "cli/tests/fixtures/keys/{0} differs from core/tests/vectors/keys/{0}: \
             cp core/tests/vectors/keys/{0} cli/tests/fixtures/keys/ (and re-create the fixtures \
             that depend on it, see cli/tests/fixtures/README.md)",
            name.to_string_lossy()
        );
        checked += 1;
    }
    assert!(checked >= 5, "fixture keys are missing");
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `sealant keys backup` writes a 0600 file that the reference Go `age` CLI (Debian's `age`,
/// installed by tests/setup-age.sh) decrypts with the offline identity, armored or not, and the
/// plaintext is the key Secrets: the backup does not need sealant to be restored.
#[test]
fn key_backups_open_with_the_age_cli_and_are_0600() {
    let dir = sandbox();
    for (armor, name) in [(false, "keys.age"), (true, "keys.age.asc")] {
        let mut args = vec![
            "keys",
            "backup",
            "-f",
            "age/key-secrets.yaml",
            "--recipients-file",
            "age/offline.pub",
            "-w",
            name,
        ];
        if armor {
            args.push("--armor");
        }
        let out = run(dir.path(), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            !text(&out.stderr).contains("AGE-SECRET-KEY"),
            "no key text on stderr"
        );
        let path = dir.path().join(name);
        assert_eq!(mode(&path), 0o600);
        let backup = std::fs::read(&path).expect("read backup");
        assert_eq!(
            backup.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
            armor
        );
        let decrypted = Command::new("age")
            .current_dir(dir.path())
            .args(["-d", "-i", "age/offline.txt", name])
            .output()
            .expect("the age CLI is installed (bash tests/setup-age.sh)");
        assert!(decrypted.status.success(), "{}", text(&decrypted.stderr));
        let plain = text(&decrypted.stdout);
        assert!(plain.starts_with("# sealant key backup v1"), "{plain}");
        let secrets = sealant_core::backup::read_key_secrets(&plain).expect("key Secrets");
        let names: Vec<&str> = secrets.iter().map(|s| s.metadata.name_or_empty()).collect();
        assert_eq!(names, ["sealed-secrets-keyabcde", "sealant-age-keyabcde"]);
        // The wrong identity does not open it.
        let wrong = Command::new("age")
            .current_dir(dir.path())
            .args(["-d", "-i", "age/identity.txt", name])
            .output()
            .expect("run age");
        assert!(!wrong.status.success());
    }
    let out = run(
        dir.path(),
        &[
            "keys",
            "restore",
            "-f",
            "keys.age",
            "--identity",
            "age/offline.txt",
            "-w",
            "restored.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dir.path().join("restored.yaml")), 0o600);
}
