//! Key backups to age plugin recipients, through the real plugin protocol: `sealant keys
//! backup|restore` (run in-process) with `age-plugin-sealanttest` (this crate's binary) on
//! `PATH`. The test re-runs itself as a child process with that `PATH`, since the `age` crate
//! finds plugins there and this process's environment cannot be changed safely.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const CHILD: &str = "SEALANT_TEST_PLUGIN_CHILD";

/// Runs `name` again in a child process with the plugin's directory first on `PATH`; true in
/// that child, where the test body runs.
fn in_child_with_plugin_on_path(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let plugin = Path::new(env!("CARGO_BIN_EXE_age-plugin-sealanttest"));
    let mut path = OsString::from(plugin.parent().unwrap());
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(status.success(), "{name} failed in the child: {status}");
    false
}

fn bech32(hrp: &str, bytes: &[u8]) -> String {
    bech32::encode::<bech32::Bech32>(bech32::Hrp::parse(hrp).unwrap(), bytes).unwrap()
}

fn plugin_recipient(key: [u8; 16]) -> String {
    bech32("age1sealanttest", &key)
}

fn plugin_identity(dir: &Path, name: &str, key: [u8; 16]) -> PathBuf {
    let path = dir.join(name);
    let text = bech32("AGE-PLUGIN-SEALANTTEST-", &key).to_ascii_uppercase();
    std::fs::write(&path, format!("# test plugin identity\n{text}\n")).unwrap();
    path
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../cli/tests/fixtures/age")
        .join(name)
}

fn sealant(args: &[&dyn AsRef<std::ffi::OsStr>]) -> ExitCode {
    let mut argv: Vec<OsString> = vec!["sealant".into()];
    argv.extend(args.iter().map(|a| a.as_ref().to_owned()));
    sealant::run(argv)
}

#[test]
fn backups_round_trip_through_a_plugin() {
    if !in_child_with_plugin_on_path("backups_round_trip_through_a_plugin") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let secrets = fixture("key-secrets.yaml");
    let key = [7u8; 16];
    let identity = plugin_identity(dir.path(), "plugin.txt", key);
    let other = plugin_identity(dir.path(), "other.txt", [8u8; 16]);
    let failing = plugin_identity(dir.path(), "failing.txt", [0xff; 16]);
    let (plain, restored) = (
        dir.path().join("plain.age"),
        dir.path().join("restored.yaml"),
    );

    // A plain backup to the plugin recipient, and back.
    let recipient = plugin_recipient(key);
    let code = sealant(&[
        &"keys",
        &"backup",
        &"-f",
        &secrets,
        &"--recipient",
        &recipient,
        &"-w",
        &plain,
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    let code = sealant(&[
        &"keys",
        &"restore",
        &"-f",
        &plain,
        &"--identity",
        &identity,
        &"-w",
        &restored,
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    let text = std::fs::read_to_string(&restored).unwrap();
    assert!(text.contains("sealant.dev/age-key"), "{text}");
    // Another plugin key does not open it; a failing device is an error too.
    for wrong in [&other, &failing] {
        let code = sealant(&[&"keys", &"restore", &"-f", &plain, &"--identity", wrong]);
        assert_eq!(code, ExitCode::FAILURE, "{}", wrong.display());
    }

    // 2-of-3 with one plugin holder: the plugin and the offline key restore; the plugin alone
    // does not (exit code 3).
    let threshold = dir.path().join("keys.backup");
    let offline_pub = fixture("offline.pub");
    let cluster = "age1kc9txppf87azj2v6vt689z6zq92lzqq03meakgv3wrpmz5fztd2swlysf7";
    let code = sealant(&[
        &"keys",
        &"backup",
        &"-f",
        &secrets,
        &"--threshold",
        &"2",
        &"--recipient",
        &recipient,
        &"--recipients-file",
        &offline_pub,
        &"--group",
        &format!("cluster={cluster}"),
        &"-w",
        &threshold,
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    let offline = fixture("offline.txt");
    let code = sealant(&[
        &"keys",
        &"restore",
        &"-f",
        &threshold,
        &"--identity",
        &identity,
    ]);
    assert_eq!(code, ExitCode::from(3));
    let share = dir.path().join("plugin.share");
    let code = sealant(&[
        &"keys",
        &"share-decrypt",
        &"-f",
        &threshold,
        &"--identity",
        &identity,
        &"-w",
        &share,
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    let both = dir.path().join("both.yaml");
    let code = sealant(&[
        &"keys",
        &"restore",
        &"-f",
        &threshold,
        &"--identity",
        &offline,
        &"--share",
        &share,
        &"-w",
        &both,
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(std::fs::read_to_string(&both).unwrap(), text);
}
