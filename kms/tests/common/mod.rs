//! Test helpers: a throwaway SoftHSM2 token, a moto KMS server on loopback, and sealant's test
//! keys. `kms/setup.sh` installs SoftHSM2 and moto; these tests fail, never skip, without them.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sealant_core::{Certificate, PrivateKey, SecretString};

pub(crate) const TOKEN_LABEL: &str = "sealant-test";
pub(crate) const PIN: &str = "1234-user";
pub(crate) const SO_PIN: &str = "5678-so";
/// Marks the child process that runs one SoftHSM test (see [`softhsm_child`]).
const CHILD_DIR: &str = "SEALANT_TEST_SOFTHSM_DIR";

/// A test key pair from core's vectors.
pub(crate) fn test_key(name: &str) -> (PrivateKey, Certificate) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors/keys");
    let read = |ext: &str| std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap();
    (
        PrivateKey::from_pem(&read("key")).unwrap(),
        Certificate::from_pem(&read("crt")).unwrap(),
    )
}

/// SoftHSM2's PKCS#11 module (Debian's path; the multiarch one on other layouts).
pub(crate) fn softhsm_module() -> PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib64/pkcs11/libsofthsm2.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("libsofthsm2.so not found: run kms/setup.sh (tests/setup.sh runs it)")
}

/// A SoftHSM token in the child process that runs a test.
pub(crate) struct Token {
    pub(crate) module: PathBuf,
}

impl Token {
    pub(crate) fn config(&self, pin: &str, kek: &str) -> sealant_kms::pkcs11::Pkcs11Config {
        sealant_kms::pkcs11::Pkcs11Config {
            module: self.module.clone(),
            token_label: TOKEN_LABEL.to_owned(),
            pin: SecretString::new(pin.to_owned()),
            kek_label: kek.to_owned(),
        }
    }
}

/// SoftHSM reads `SOFTHSM2_CONF` when the module initializes, once per process, and a test
/// cannot set its own environment without `unsafe`. So each SoftHSM test runs twice: in the
/// test process this makes a token directory and re-runs the same test in a child process with
/// `SOFTHSM2_CONF` set, checks it passed, and returns `None`; in the child it returns the token.
pub(crate) fn softhsm_child(test: &str) -> Option<Token> {
    if std::env::var_os(CHILD_DIR).is_some() {
        return Some(Token {
            module: softhsm_module(),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", TOKEN_LABEL])
        .args(["--pin", PIN, "--so-pin", SO_PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util not found: run kms/setup.sh (tests/setup.sh runs it)");
    assert!(
        init.status.success(),
        "softhsm2-util --init-token: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&child.stderr));
    assert!(
        child.status.success(),
        "{test} failed in its SoftHSM process"
    );
    // A filter that matched nothing would pass silently.
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run in its SoftHSM process"
    );
    None
}

/// A free loopback port (bound, then released).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto's server on a loopback port, stopped when dropped.
pub(crate) struct Moto {
    child: Child,
    pub(crate) endpoint: String,
}

impl Moto {
    /// Starts `moto_server`; `Some(n)` turns on its IAM checks after `n` requests (each request
    /// after those must be signed, correctly, by a user moto knows and allows).
    pub(crate) fn start(auth_after: Option<u32>) -> Self {
        let port = free_port();
        let mut command = Command::new("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(n) = auth_after {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
        }
        let child = command
            .spawn()
            .expect("moto_server not found: run kms/setup.sh (tests/setup.sh runs it)");
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// Runs kms/tests/moto_admin.py (boto3, independent of sealant): `create-key`,
    /// `disable-key ID`, `schedule-deletion ID`. Prints the key id for `create-key`.
    pub(crate) fn admin(&self, args: &[&str]) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_admin.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&self.endpoint)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "moto_admin {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
