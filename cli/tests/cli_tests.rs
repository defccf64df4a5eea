//! Snapshot tests of the `sealant` binary: stdout, stderr and exit status of every offline mode
//! are locked in `tests/cmd/*.toml` (one command each) and `tests/cmd/*.trycmd` (several commands
//! sharing one sandbox, for round trips such as seal to a file then unseal it).
//!
//! Cases run in `tests/fixtures/` (see its README), or in a temporary copy of it when they write
//! files (`fs.sandbox = true` or a `.out/` directory, whose files are compared afterwards).
//! Sealing is randomized, so ciphertexts are matched with `[..]`; round trips show the plaintext.
//!
//! Update after an intended change: `TRYCMD=overwrite cargo test -p sealant --test cli_tests`,
//! then put the `[..]` wildcards back over ciphertexts and review the diff.

#[test]
fn cli_tests() {
    trycmd::TestCases::new()
        .register_bin(
            "sealant",
            std::path::Path::new(env!("CARGO_BIN_EXE_sealant")),
        )
        .default_bin_name("sealant")
        // Hermetic: no developer kubeconfig or cluster, whatever the environment holds. Cases that
        // need a kubeconfig pass `--kubeconfig kubeconfig` (a step's env cannot override these).
        .env("KUBECONFIG", "")
        .env("HOME", "/nonexistent/sealant-test-home")
        .env("XDG_CACHE_HOME", "/nonexistent/sealant-test-cache")
        .case("tests/cmd/*.toml")
        .case("tests/cmd/*.trycmd");
}
