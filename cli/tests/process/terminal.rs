//! What reaches the terminal: a closed stdout, and never a plaintext on failure.

use super::*;

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
