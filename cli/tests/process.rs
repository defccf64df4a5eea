//! Whole-process checks trycmd cannot express: file modes, byte-identical files after a failing
//! run, a closed stdout pipe, secrets never reaching stderr, raw-mode round trips, and the
//! fixture keys staying copies of the core vectors. Each test is named after what it guards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealant");

/// A plaintext that appears in no fixture except `bad-base64.yaml` and `bad.env`; failing
/// commands must never print it.
const CANARY: &str = "CANARY-plaintext-d41d8cd9";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn core_keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors/keys")
}

/// `sealant` in `dir` with no kubeconfig, cluster or certificate from the environment.
fn sealant(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env("KUBECONFIG", "")
        .env("HOME", "/nonexistent/sealant-test-home")
        .env("XDG_CACHE_HOME", "/nonexistent/sealant-test-cache")
        .env_remove("SEALED_SECRETS_CERT")
        .env_remove("SEALED_SECRETS_CONTROLLER_NAME")
        .env_remove("SEALED_SECRETS_CONTROLLER_NAMESPACE")
        .stdin(Stdio::null());
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sealant(dir).args(args).output().expect("run sealant")
}

fn run_with_stdin(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = sealant(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sealant");
    // A command that fails before reading stdin closes it: that is not the test's concern.
    if let Err(err) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::BrokenPipe,
            "write stdin: {err}"
        );
    }
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch copy of the fixtures, so that tests may write.
fn sandbox() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixtures(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn temp_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".sealant-"))
        .collect()
}

#[test]
fn output_file_is_created_with_mode_0600() {
    let dir = sandbox();
    let out = run(
        dir.path(),
        &[
            "seal",
            "-f",
            "secret.yaml",
            "--cert",
            "keys/rsa4096.crt",
            "-w",
            "new.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dir.path().join("new.yaml")), 0o600);

    // Unsealed plaintext is the file that matters most.
    let out = run(
        dir.path(),
        &[
            "unseal",
            "-f",
            "new.yaml",
            "--recovery-private-key",
            "keys/rsa4096.key",
            "-w",
            "plain.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dir.path().join("plain.yaml")), 0o600);
    assert!(temp_leftovers(dir.path()).is_empty());
}

#[test]
fn output_file_replacing_a_world_readable_file_becomes_0600() {
    let dir = sandbox();
    let target = dir.path().join("existing.yaml");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = run(
        dir.path(),
        &[
            "seal",
            "-f",
            "secret.yaml",
            "--cert",
            "keys/rsa4096.crt",
            "-w",
            "existing.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&target), 0o600);
    assert!(
        std::fs::read_to_string(&target)
            .expect("read")
            .contains("kind: SealedSecret")
    );
}

#[test]
fn merge_into_rewrites_the_target_with_mode_0600() {
    let dir = sandbox();
    let target = dir.path().join("sealed-db.yaml");
    let out = run(
        dir.path(),
        &[
            "seal",
            "db-creds",
            "-n",
            "prod",
            "--from-literal",
            "token=t",
            "--cert",
            "keys/rsa4096.crt",
            "--merge-into",
            "sealed-db.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&target), 0o600);
    assert!(temp_leftovers(dir.path()).is_empty());
}

/// Every failing run, whatever step fails, leaves an existing `-w` target byte-identical, with
/// its mode, and leaves no temporary file behind.
#[test]
fn failing_runs_leave_existing_output_file_byte_identical() {
    let cases: &[(&[&str], u8)] = &[
        (
            &["seal", "-f", "malformed.yaml", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &["seal", "-f", "malformed.json", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &["seal", "-f", "configmap.yaml", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &[
                "seal",
                "-f",
                "bad-base64.yaml",
                "--cert",
                "keys/rsa4096.crt",
            ],
            1,
        ),
        (
            &["seal", "-f", "no-name.yaml", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &[
                "seal",
                "-f",
                "empty-data.yaml",
                "--cert",
                "keys/rsa4096.crt",
            ],
            1,
        ),
        (
            &["seal", "-f", "binary.dat", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &["seal", "-f", "missing.yaml", "--cert", "keys/rsa4096.crt"],
            1,
        ),
        (
            &[
                "seal",
                "-f",
                "secret.yaml",
                "-n",
                "staging",
                "--cert",
                "keys/rsa4096.crt",
            ],
            1,
        ),
        (
            &[
                "seal",
                "-f",
                "secret.yaml",
                "--cert",
                "keys/expired-2048.crt",
            ],
            1,
        ),
        (
            &["seal", "-f", "secret.yaml", "--cert", "keys/ec-p256.crt"],
            1,
        ),
        (&["seal", "-f", "secret.yaml", "--cert", "garbage.crt"], 1),
        (&["seal", "-f", "secret.yaml", "--cert", "missing.crt"], 1),
        (
            &[
                "seal",
                "-f",
                "secret.yaml",
                "--scope",
                "global",
                "--cert",
                "keys/rsa4096.crt",
            ],
            2,
        ),
        (
            &[
                "seal",
                "s",
                "-n",
                "p",
                "--from-literal",
                "a=1",
                "--from-literal",
                "a=2",
                "--cert",
                "keys/rsa4096.crt",
            ],
            2,
        ),
        (
            &["seal", "--raw", "-n", "prod", "--cert", "keys/rsa4096.crt"],
            2,
        ),
        (
            &[
                "seal",
                "--raw",
                "--scope",
                "cluster-wide",
                "--cert",
                "keys/expired-2048.crt",
            ],
            1,
        ),
        (
            &[
                "seal",
                "-f",
                "no-namespace.yaml",
                "--kubeconfig",
                "kubeconfig",
                "--context",
                "nope",
                "--cert",
                "keys/rsa4096.crt",
            ],
            2,
        ),
        (&["seal", "-f", "secret.yaml", "--bogus-flag"], 2),
        (
            &[
                "unseal",
                "-f",
                "sealed-db.yaml",
                "--recovery-private-key",
                "keys/other-2048.key",
            ],
            1,
        ),
        (
            &[
                "unseal",
                "-f",
                "sealed-db.yaml",
                "--recovery-private-key",
                "keys/rsa4096.crt",
            ],
            1,
        ),
        (
            &[
                "unseal",
                "-f",
                "secret.yaml",
                "--recovery-private-key",
                "keys/rsa4096.key",
            ],
            1,
        ),
        (&["cert", "--cert", "garbage.crt"], 1),
    ];
    let dir = sandbox();
    let target = dir.path().join("existing.yaml");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = std::fs::read(&target).expect("read");
    for (args, code) in cases {
        let mut args = args.to_vec();
        args.extend(["-w", "existing.yaml"]);
        let out = run_with_stdin(dir.path(), &args, b"s3cret");
        assert_eq!(
            out.status.code(),
            Some(i32::from(*code)),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert!(
            text(&out.stderr).starts_with("error: "),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            std::fs::read(&target).expect("read"),
            before,
            "{args:?} changed the -w file"
        );
        assert_eq!(mode(&target), 0o640, "{args:?} changed the -w file's mode");
        assert!(
            temp_leftovers(dir.path()).is_empty(),
            "{args:?} left a temporary file"
        );
    }
}

#[test]
fn failing_merge_leaves_target_byte_identical() {
    let dir = sandbox();
    let target = dir.path().join("sealed-db.json");
    let before = std::fs::read(&target).expect("read");
    for args in [
        // the certificate step fails
        &[
            "seal",
            "-f",
            "rotated.yaml",
            "--cert",
            "keys/expired-2048.crt",
            "--merge-into",
            "sealed-db.json",
        ][..],
        // the input fails
        &[
            "seal",
            "-f",
            "bad-base64.yaml",
            "--cert",
            "keys/rsa4096.crt",
            "--merge-into",
            "sealed-db.json",
        ],
        // the scope would not match the file's
        &[
            "seal",
            "-f",
            "rotated.yaml",
            "--scope",
            "namespace-wide",
            "--cert",
            "keys/rsa4096.crt",
            "--merge-into",
            "sealed-db.json",
        ],
    ] {
        let out = run(dir.path(), args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(std::fs::read(&target).expect("read"), before, "{args:?}");
    }
}

/// `sealant completions bash | head -1`: the reader goes away; sealant exits 0 quietly instead
/// of printing `Broken pipe` or dying of SIGPIPE.
#[test]
fn closed_stdout_pipe_is_a_quiet_success() {
    let dir = fixtures();
    let cases: &[&[&str]] = &[
        &["completions", "bash"],
        &["man"],
        &["--help"],
        &["cert", "--cert", "keys/rsa4096.crt"],
        &["seal", "-f", "multi.yaml", "--cert", "keys/rsa4096.crt"],
        &[
            "unseal",
            "-f",
            "sealed-db.yaml",
            "--recovery-private-key",
            "keys/rsa4096.key",
        ],
    ];
    for args in cases {
        // The read end is closed before the child starts, so the first write gets EPIPE: no race.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = sealant(&dir)
            .args(*args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run sealant");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let stderr = text(&out.stderr);
        // `cert` prints its information to stderr on purpose; nothing else may appear.
        assert!(
            !stderr.contains("error") && !stderr.to_lowercase().contains("broken pipe"),
            "{args:?}: {stderr}"
        );
        if args[0] != "cert" {
            assert!(stderr.is_empty(), "{args:?}: {stderr}");
        }
    }
}

/// No failing command prints a secret value, on stderr or stdout.
#[test]
fn canary_plaintext_never_reaches_the_terminal_on_failure() {
    let dir = sandbox();
    let header = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: prod\n";
    let documents = [
        // invalid base64 under data
        format!("{header}data:\n  k: {CANARY}!\n"),
        // base64 with trailing garbage
        format!("{header}data:\n  k: Q0FOQVJZ{CANARY}=x\n"),
        // stringData of the wrong type (serde would quote the string it found)
        format!("{header}stringData: {CANARY}\n"),
        format!("{header}data: {CANARY}\n"),
        format!("{header}stringData:\n  k: [{CANARY}]\n"),
        format!("{header}stringData:\n  k: {{a: {CANARY}}}\n"),
        // YAML syntax errors around the value
        format!("{header}stringData:\n  k: \"{CANARY}\n"),
        format!("{header}stringData:\n  k: '{CANARY}' x\n"),
        format!("{header}stringData:\n  k: {CANARY}\n\tbad: tab\n"),
        format!("{header}stringData:\n  k: &a {CANARY}\n  j: *b\n"),
        // JSON
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"s\",\"namespace\":\"prod\"}},\"stringData\":\"{CANARY}\"}}"
        ),
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"s\"}},\"stringData\":{{\"k\":{CANARY}}}}}"
        ),
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"s\"}},\"data\":{{\"k\":\"{CANARY}\"}}}}"
        ),
        // the second document is bad
        format!("{header}stringData:\n  k: {CANARY}\n---\n{header}data:\n  k: {CANARY}\n"),
    ];
    let mut runs: Vec<(Vec<String>, Vec<u8>)> = Vec::new();
    let valid = format!("{header}stringData:\n  k: {CANARY}\n");
    // A valid Secret that fails later: certificate, namespace mismatch, empty name.
    for args in [
        &["seal", "--cert", "keys/expired-2048.crt"][..],
        &["seal", "--cert", "keys/ec-p256.crt"],
        &["seal", "--cert", "garbage.crt"],
        &["seal", "-n", "staging", "--cert", "keys/rsa4096.crt"],
        &["seal", "--name", "", "--cert", "keys/rsa4096.crt"],
    ] {
        runs.push((
            args.iter().map(|s| (*s).to_owned()).collect(),
            valid.clone().into_bytes(),
        ));
    }
    for document in &documents {
        for cert in ["keys/rsa4096.crt", "keys/expired-2048.crt"] {
            runs.push((
                vec!["seal".into(), "--cert".into(), cert.into()],
                document.clone().into_bytes(),
            ));
        }
        runs.push((
            vec![
                "seal".into(),
                "-n".into(),
                "staging".into(),
                "--cert".into(),
                "keys/rsa4096.crt".into(),
            ],
            document.clone().into_bytes(),
        ));
    }
    let argv = |args: &[&str]| args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    for args in [
        // the fixtures that hold the canary
        argv(&[
            "seal",
            "-f",
            "bad-base64.yaml",
            "--cert",
            "keys/rsa4096.crt",
        ]),
        argv(&[
            "seal",
            "s",
            "-n",
            "p",
            "--from-env-file",
            "bad.env",
            "--cert",
            "keys/rsa4096.crt",
        ]),
        // on the command line
        argv(&[
            "seal",
            "s",
            "-n",
            "p",
            "--from-literal",
            CANARY,
            "--cert",
            "keys/rsa4096.crt",
        ]),
        argv(&[
            "seal",
            "s",
            "-n",
            "p",
            "--from-literal",
            &format!("k={CANARY}"),
            "--from-literal",
            "k=x",
            "--cert",
            "keys/rsa4096.crt",
        ]),
        argv(&[
            "seal",
            "s",
            "-n",
            "p",
            "--from-literal",
            &format!("bad/key={CANARY}"),
            "--cert",
            "keys/rsa4096.crt",
        ]),
        argv(&[
            "seal",
            "s",
            "-n",
            "p",
            "--from-literal",
            &format!("k={CANARY}"),
            "--cert",
            "keys/expired-2048.crt",
        ]),
        argv(&[
            "seal",
            "--from-literal",
            &format!("k={CANARY}"),
            "--cert",
            "keys/rsa4096.crt",
        ]),
    ] {
        runs.push((args, Vec::new()));
    }
    // --raw reads the value from stdin; every refusal must keep it to itself.
    for args in [
        argv(&["seal", "--raw", "-n", "prod", "--cert", "keys/rsa4096.crt"]),
        argv(&[
            "seal",
            "--raw",
            "--name",
            "s",
            "-n",
            "prod",
            "--cert",
            "keys/expired-2048.crt",
        ]),
        argv(&[
            "seal",
            "--raw",
            "--scope",
            "cluster-wide",
            "--cert",
            "garbage.crt",
        ]),
    ] {
        runs.push((args, CANARY.as_bytes().to_vec()));
    }

    for (args, stdin) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_with_stdin(dir.path(), &args, stdin);
        assert!(
            !out.status.success(),
            "expected a failure: {args:?} with {}",
            text(stdin)
        );
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("error: "),
            "{args:?} with {}: {stderr}",
            text(stdin)
        );
        for (stream, bytes) in [("stderr", &out.stderr), ("stdout", &out.stdout)] {
            assert!(
                !text(bytes).contains(CANARY) && !text(bytes).contains("CANARY"),
                "{args:?} with input {:?} printed the plaintext on {stream}: {}",
                text(stdin),
                text(bytes)
            );
        }
    }
}

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
            "-o",
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
        let secrets = sealant_core::age::backup::read_key_secrets(&plain).expect("key Secrets");
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
            "-o",
            "restored.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dir.path().join("restored.yaml")), 0o600);
}
