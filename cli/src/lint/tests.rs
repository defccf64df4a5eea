//! `sealant lint` rules, on text.

use super::walk::*;
use super::*;

#[test]
fn globs() {
    assert!(glob_match(b"*.yaml", b"a.yaml"));
    assert!(!glob_match(b"*.yaml", b"d/a.yaml"));
    assert!(glob_match(b"**/a.yaml", b"a.yaml"));
    assert!(glob_match(b"**/a.yaml", b"x/y/a.yaml"));
    assert!(glob_match(b"fixtures/**", b"fixtures/x/y.json"));
    assert!(glob_match(b"a?c", b"abc") && !glob_match(b"a?c", b"a/c"));
    assert!(!glob_match(b"abc", b"abcd"));
    let excluded = |p: &str, pat: &str| is_excluded(Path::new(p), &[pat.to_owned()]);
    assert!(excluded("./cli/tests/fixtures/secret.yaml", "fixtures/**"));
    assert!(excluded("cli/tests/fixtures", "fixtures"));
    assert!(excluded("a/b/x.example.yaml", "*.example.yaml"));
    assert!(!excluded("a/b/x.yaml", "*.example.yaml"));
    // Many stars cannot make matching slow.
    let pattern = "*a".repeat(200);
    assert!(!glob_match(pattern.as_bytes(), "a".repeat(150).as_bytes()));
    assert!(glob_match(pattern.as_bytes(), "a".repeat(300).as_bytes()));
}

/// Every prefix of every fixture manifest (cut anywhere, as a truncated file or a bad merge
/// would) goes through the reader and every check without a panic.
#[test]
fn truncated_manifests_never_panic() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert =
        Certificate::from_pem(&std::fs::read(fixtures.join("keys/rsa4096.crt")).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    for name in [
        "lint/broken-sealed.yaml",
        "lint/kustomize/kustomization.yaml",
        "diff/old.yaml",
        "sealed-db.json",
        "key-list.json",
        "multi.yaml",
    ] {
        let text = std::fs::read_to_string(fixtures.join(name)).unwrap();
        let step = (text.len() / 400).max(1);
        for end in (0..=text.len())
            .step_by(step)
            .filter(|&e| text.is_char_boundary(e))
        {
            let mut findings = Vec::new();
            lint_text(
                name,
                &text[..end],
                true,
                std::slice::from_ref(&cert),
                now,
                &mut findings,
            );
            let _ = crate::inspect::textconv_text(&text[..end]);
            let _ = crate::manifest::sealed_secrets(name, &text[..end]);
        }
    }
}

#[test]
fn summary_lines() {
    assert_eq!(
        summary_line(3, 0, 0),
        "sealant lint: no problems in 3 files"
    );
    assert_eq!(
        summary_line(1, 1, 2),
        "sealant lint: 1 error, 2 warnings in 1 file"
    );
}
