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

mod files;
mod keys;
mod terminal;
