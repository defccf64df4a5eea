//! Whole-process checks of the GitOps workflow tools that trycmd cannot express: a merge that
//! leaves a file byte-identical, git's textconv and `diff --git` in a real repository, the
//! kustomize exec plugin run by a real `kubectl kustomize`, and plaintext never reaching the
//! terminal unless `--show-values` asks for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealant");
/// Appears in the fixtures only as a plaintext value; no command may print it uninvited.
const CANARY: &str = "CANARY-plaintext-d41d8cd9";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn sealant(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("KUBECONFIG", "")
        .env("HOME", "/nonexistent/sealant-test-home")
        .env("XDG_CACHE_HOME", "/nonexistent/sealant-test-cache")
        .env_remove("SEALED_SECRETS_CERT")
        .stdin(Stdio::null())
        .output()
        .expect("run sealant")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixtures().join(from), to).unwrap();
}

/// `spec.encryptedData` of the only SealedSecret in a YAML file, item → base64.
fn items(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let sealed = sealant_core::object::read_sealed_secrets(&text).unwrap();
    assert_eq!(sealed.len(), 1, "{text}");
    sealed[0]
        .spec
        .encrypted_data
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Re-sealing the same values must not change the file, or GitOps tools see drift
/// (docs/upstream.md, "Known upstream problems we avoid"); changing one value changes that item
/// only.
#[test]
fn merge_with_recovery_key_changes_only_changed_items() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("sealed.yaml");
    // A hand-edited file (a comment, another key order): kept as is when nothing changed.
    let original = format!(
        "# owned by team-db\n{}",
        std::fs::read_to_string(fixtures().join("sealed-db.yaml")).unwrap()
    );
    std::fs::write(&target, &original).unwrap();
    copy("keys/rsa4096.crt", &dir.path().join("cert.pem"));
    copy("keys/rsa4096.key", &dir.path().join("key.pem"));
    let merge = |password: &str| {
        let literal = format!("password={password}");
        sealant(
            dir.path(),
            &[
                "seal",
                "db-creds",
                "-n",
                "prod",
                "--from-literal",
                "user=app",
                "--from-literal",
                &literal,
                "--cert",
                "cert.pem",
                "--merge-into",
                "sealed.yaml",
                "--recovery-private-key",
                "key.pem",
            ],
        )
    };

    let out = merge("correct horse battery staple");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), original);
    assert!(!text(&out.stderr).contains("correct horse"));

    let before = items(&target);
    let out = merge("rotated");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let after = items(&target);
    assert_eq!(before.len(), after.len());
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        match name.as_str() {
            "user" => assert_eq!(old, new, "an unchanged value keeps its ciphertext"),
            "password" => assert_ne!(old, new, "a changed value is sealed again"),
            other => panic!("unexpected item {other}"),
        }
    }
    assert!(
        !text(&out.stderr).contains("rotated"),
        "{}",
        text(&out.stderr)
    );

    // Without the key there is nothing to compare with: every item is sealed again.
    let out = sealant(
        dir.path(),
        &[
            "seal",
            "db-creds",
            "-n",
            "prod",
            "--from-literal",
            "user=app",
            "--cert",
            "cert.pem",
            "--merge-into",
            "sealed.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let without_key = items(&target);
    assert_ne!(after[1], without_key[1]);
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git must be installed for the git integration tests");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    out
}

/// A repository with `apps/db.yaml` (a SealedSecret) committed, then changed in the working
/// tree: `password` sealed again with a new value.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    copy("sealed-db.yaml", &root.join("apps/db.yaml"));
    copy("keys/rsa4096.crt", &root.join("cert.pem"));
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "init"]);
    let out = sealant(
        root,
        &[
            "seal",
            "db-creds",
            "-n",
            "prod",
            "--from-literal",
            "password=rotated",
            "--cert",
            "cert.pem",
            "--merge-into",
            "apps/db.yaml",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

#[test]
fn diff_git_compares_the_working_tree_with_a_revision() {
    let repo = repository();
    let out = sealant(repo.path(), &["diff", "--git", "HEAD"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("--- HEAD:./apps/db.yaml\n+++ apps/db.yaml\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "~ password  re-sealed  RSA-4096, 28 bytes -> RSA-4096, 7 bytes; value changed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("  user      unchanged  RSA-4096, 3 bytes"),
        "{stdout}"
    );
    // From a subdirectory, with the file named: the same comparison.
    let out = sealant(
        &repo.path().join("apps"),
        &["diff", "--git", "HEAD", "db.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("+++ db.yaml\n"));
    // Against the working tree itself there is no difference.
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "rotate"]);
    let out = sealant(repo.path(), &["diff", "--git", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "");
}

/// The recipe of docs/workflow.md: `git diff` shows which items changed, not base64 noise.
#[test]
fn git_textconv_recipe_shows_item_changes() {
    let repo = repository();
    let root = repo.path();
    std::fs::write(
        root.join(".gitattributes"),
        "apps/*.yaml diff=sealedsecret\n",
    )
    .unwrap();
    git(
        root,
        &[
            "config",
            "diff.sealedsecret.textconv",
            &format!("{BIN} inspect --textconv"),
        ],
    );
    let out = git(root, &["diff", "--", "apps/db.yaml"]);
    let diff = text(&out.stdout);
    assert!(
        diff.contains("-    password: RSA-4096, 28 bytes, sha256:"),
        "{diff}"
    );
    assert!(
        diff.contains("+    password: RSA-4096, 7 bytes, sha256:"),
        "{diff}"
    );
    assert!(!diff.contains("+    user:"), "user did not change: {diff}");
    assert!(!diff.contains("AgC"), "no ciphertext in the diff: {diff}");
}

#[test]
fn plaintext_stays_hidden_unless_show_values() {
    let dir = fixtures();
    for args in [
        &["lint", "lint/kustomize", "bad-base64.yaml"][..],
        &["lint", "-o", "json", "lint/kustomize"],
        &["kustomize", "kustomize/typo.yaml"],
        &["inspect", "bad-base64.yaml"],
    ] {
        let out = sealant(&dir, args);
        let all = text(&out.stdout) + &text(&out.stderr);
        assert!(
            !all.contains(CANARY),
            "sealant {args:?} printed the canary: {all}"
        );
        assert!(!out.status.success(), "sealant {args:?} should fail");
    }
    let masked = sealant(
        &dir,
        &[
            "diff",
            "diff/old.yaml",
            "diff/new.yaml",
            "--recovery-private-key",
            "keys/rsa4096.key",
        ],
    );
    let shown = sealant(
        &dir,
        &[
            "diff",
            "diff/old.yaml",
            "diff/new.yaml",
            "--recovery-private-key",
            "keys/rsa4096.key",
            "--show-values",
        ],
    );
    for value in ["correct horse battery staple", "rotated", "t0k3n", "abc123"] {
        assert!(
            !text(&masked.stdout).contains(value),
            "{value} shown without --show-values"
        );
        assert!(
            text(&shown.stdout).contains(value),
            "{value} missing with --show-values"
        );
    }
}

/// The exec plugin layout of docs/workflow.md, run by the kustomize inside kubectl.
#[test]
fn kubectl_kustomize_runs_the_exec_plugin() {
    let kubectl = std::env::var_os("SEALANT_TEST_KUBECTL").unwrap_or_else(|| "kubectl".into());
    if Command::new(&kubectl)
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        panic!(
            "kubectl (with its built-in kustomize) is needed for this test: install it, or point \
             SEALANT_TEST_KUBECTL at it"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    let plugin_dir = plugins.join("sealant.dev/v1alpha1/sealedsecretgenerator");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, plugin_dir.join("SealedSecretGenerator")).unwrap();
    let app = dir.path().join("app");
    for file in ["db-creds.yaml", "cert.pem", "password.txt", "app.env"] {
        copy(&format!("kustomize/{file}"), &app.join(file));
    }
    std::fs::write(
        app.join("kustomization.yaml"),
        "generators:\n- db-creds.yaml\nresources:\n- deployment.yaml\n",
    )
    .unwrap();
    copy(
        "lint/kustomize/deployment.yaml",
        &app.join("deployment.yaml"),
    );
    let out = Command::new(&kubectl)
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(&app)
        .env("KUSTOMIZE_PLUGIN_HOME", &plugins)
        .env_remove("SEALED_SECRETS_CERT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("correct horse"), "{stdout}");
    let documents: Vec<serde_json::Value> = sealant_core::object::read_documents(&stdout).unwrap();
    let mut kinds: Vec<&str> = documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["Deployment", "SealedSecret"], "{stdout}");
    let sealed = documents
        .iter()
        .find(|d| d["kind"] == "SealedSecret")
        .unwrap();
    std::fs::write(
        dir.path().join("built.yaml"),
        serde_json::to_vec(sealed).unwrap(),
    )
    .unwrap();

    let key = fixtures().join("keys/rsa4096.key");
    let out = sealant(
        dir.path(),
        &[
            "unseal",
            "-f",
            "built.yaml",
            "--recovery-private-key",
            key.to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = |k: &str| {
        let b64 = secret["data"][k].as_str().unwrap();
        String::from_utf8(
            sealant_core::base64::decode(b64)
                .unwrap()
                .expose_secret()
                .to_vec(),
        )
        .unwrap()
    };
    assert_eq!(value("password"), "correct horse battery staple");
    assert_eq!(value("user"), "app");
    assert_eq!(value("DB_HOST"), "db.prod.svc");
    assert_eq!(secret["metadata"]["namespace"], "prod");
    assert_eq!(secret["metadata"]["labels"]["app"], "db");
}

/// The hook definition points at `sealant lint` and matches the files it should see.
#[test]
fn pre_commit_hook_runs_lint_on_manifests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let hooks = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<serde_json::Value> =
        sealant_core::object::read_documents::<Vec<serde_json::Value>>(&hooks)
            .unwrap()
            .remove(0);
    let lint = hooks
        .iter()
        .find(|h| h["id"] == "sealant-lint")
        .expect("a sealant-lint hook");
    assert_eq!(lint["entry"], "sealant lint");
    assert_eq!(lint["language"], "system");
    let files = lint["files"].as_str().unwrap();
    assert!(files.contains("ya?ml") && files.contains("json") && files.contains("Kustomization"));
    // pre-commit appends the staged files that match; a plain Secret among them fails the hook.
    let out = sealant(&fixtures(), &["lint", "secret.yaml", "sealed-db.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a plain Secret blocks the commit"
    );
    let out = sealant(&fixtures(), &["lint", "sealed-db.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
