//! Output files: mode 0600, atomic replacement, nothing changed when a run fails.

use super::*;

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
