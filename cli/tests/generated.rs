//! The committed man page and shell completions are generated from the clap definitions
//! (`src/args/`); these tests fail when a committed file no longer matches what the binary
//! generates, and say how to regenerate it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// Runs `sealant ARGS` and returns its stdout. The environment cannot leak into the output.
fn generate(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_sealant"))
        .args(args)
        .env_remove("SEALED_SECRETS_CERT")
        .env_remove("SEALED_SECRETS_CONTROLLER_NAME")
        .env_remove("SEALED_SECRETS_CONTROLLER_NAMESPACE")
        .output()
        .expect("run sealant");
    assert!(
        out.status.success(),
        "sealant {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn check(committed: &str, args: &[&str]) {
    let path = repo_root().join(committed);
    let expected = generate(args);
    let actual = std::fs::read(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{committed} is out of date with the clap definitions; regenerate it from the repository root:\n\n    \
         cargo run -p sealant -- {} > {committed}\n",
        args.join(" ")
    );
}

#[test]
fn man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    generate(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    let names = |path: &Path| {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let committed_dir = repo_root().join("docs/man");
    let generated = names(dir.path());
    assert!(
        generated.contains(&"sealant-seal.1".to_owned()),
        "{generated:?}"
    );
    let stale = generated != names(&committed_dir)
        || generated.iter().any(|name| {
            std::fs::read(dir.path().join(name)).unwrap()
                != std::fs::read(committed_dir.join(name)).unwrap_or_default()
        });
    assert!(
        !stale,
        "docs/man/ is out of date with the clap definitions; regenerate it from the repository root:\n\n    \
         rm -rf docs/man && cargo run -p sealant -- man --out-dir docs/man\n"
    );
}

#[test]
fn bash_completions_are_up_to_date() {
    check("docs/completions/sealant.bash", &["completions", "bash"]);
    check(
        "docs/completions/kubeseal.bash",
        &["completions", "bash", "--kubeseal"],
    );
}

#[test]
fn zsh_completions_are_up_to_date() {
    check("docs/completions/sealant.zsh", &["completions", "zsh"]);
    check(
        "docs/completions/kubeseal.zsh",
        &["completions", "zsh", "--kubeseal"],
    );
}

#[test]
fn fish_completions_are_up_to_date() {
    check("docs/completions/sealant.fish", &["completions", "fish"]);
    check(
        "docs/completions/kubeseal.fish",
        &["completions", "fish", "--kubeseal"],
    );
}
