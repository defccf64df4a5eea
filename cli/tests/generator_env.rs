//! The kustomize generator and the environment: a bare `KEY` line in an env file reads the
//! environment only for the names the user lists in `SEALANT_ALLOW_ENV` (a remote base must not
//! seal the developer's tokens to its own certificate), a KRM function runs only in the
//! kustomization that declares it, and no error shows an env-file line. See docs/workflow.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sealant");
/// The value of `SEALANT_TEST_TOKEN`, which `kustomize/bare-key.env` names on a bare line.
const TOKEN: &str = "ghp_sealant-test-token-7f3a9c";
const ALLOW: &str = "SEALANT_ALLOW_ENV";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `program` in `dir`, with the token in its environment and no opt-in unless `allow` names one.
fn command(program: &Path, dir: &Path, allow: Option<&str>) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env("SEALANT_TEST_TOKEN", TOKEN)
        .env("KUBECONFIG", "")
        .env("HOME", "/nonexistent/sealant-test-home")
        .env("XDG_CACHE_HOME", "/nonexistent/sealant-test-cache")
        .env_remove("SEALED_SECRETS_CERT")
        .env_remove("KUSTOMIZE_PLUGIN_CONFIG_ROOT")
        .env_remove(ALLOW);
    if let Some(allow) = allow {
        cmd.env(ALLOW, allow);
    }
    cmd
}

fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Err(err) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A ResourceList as kustomize sends it, with `generator` (a config file's text) as functionConfig.
fn resource_list(generator: &str) -> String {
    let config: serde_json::Value =
        sealant_core::object::read_documents::<serde_json::Value>(generator)
            .unwrap()
            .remove(0);
    let mut config = config;
    // kustomize marks the config as local before it hands it over.
    config["metadata"]["annotations"]["config.kubernetes.io/local-config"] = "true".into();
    serde_json::json!({
        "apiVersion": "config.kubernetes.io/v1",
        "kind": "ResourceList",
        "items": [],
        "functionConfig": config,
    })
    .to_string()
}

/// The inline generator `token` of `kustomize/kustomization.yaml`.
fn token_generator() -> String {
    let kustomization =
        std::fs::read_to_string(fixtures().join("kustomize/kustomization.yaml")).unwrap();
    let start = kustomization.find("- |-\n").unwrap() + "- |-\n".len();
    kustomization[start..]
        .lines()
        .map(|line| format!("{}\n", line.strip_prefix("  ").unwrap_or(line)))
        .collect()
}

/// The fails-without-opt-in checks every generator mode shares.
fn assert_refused(out: &Output, what: &str) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success(),
        "{what}: exit 0 without opt-in\n{stdout}"
    );
    assert!(stdout.is_empty(), "{what}: {stdout}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("\nhint: ") && stderr.contains(ALLOW),
        "{what}: {stderr}"
    );
    assert!(
        stderr.contains("bare-key.env:3"),
        "{what}: names the line: {stderr}"
    );
    assert!(!stderr.contains(TOKEN), "{what}: {stderr}");
    assert!(
        !stderr.contains("SEALANT_TEST_TOKEN"),
        "{what}: a bare line is not echoed: {stderr}"
    );
}

/// Unseals the one SealedSecret in `output` (a stream or a ResourceList) and returns its data.
fn unseal(output: &str) -> serde_json::Map<String, serde_json::Value> {
    let documents: Vec<serde_json::Value> = sealant_core::object::read_documents(output).unwrap();
    let sealed = documents
        .iter()
        .flat_map(|d| match d["kind"].as_str() {
            Some("ResourceList") => d["items"].as_array().unwrap().clone(),
            _ => vec![d.clone()],
        })
        .find(|d| d["kind"] == "SealedSecret")
        .expect("a SealedSecret");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sealed.json"),
        serde_json::to_vec(&sealed).unwrap(),
    )
    .unwrap();
    let key = fixtures().join("keys/rsa4096.key");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["unseal", "-f", "sealed.json", "-o", "json"])
        .arg("--recovery-private-key")
        .arg(&key)
        .env("KUBECONFIG", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let data = secret["data"].as_object().unwrap().clone();
    data.into_iter()
        .map(|(k, v)| {
            let bytes = sealant_core::base64::decode(v.as_str().unwrap()).unwrap();
            let value = String::from_utf8(bytes.expose_secret().to_vec()).unwrap();
            (k, serde_json::Value::String(value))
        })
        .collect()
}

fn assert_token_sealed(out: &Output, what: &str) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{what}: {stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "{what}");
    let data = unseal(&stdout);
    assert_eq!(data["SEALANT_TEST_TOKEN"], TOKEN, "{what}");
    assert_eq!(data["DB_HOST"], "db.prod.svc", "{what}");
}

/// A directory with links to the binary under the names kustomize calls it by.
fn plugin_links() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let exec_plugin = dir.path().join("SealedSecretGenerator");
    let krm_function = dir.path().join("sealant-kustomize");
    std::os::unix::fs::symlink(BIN, &exec_plugin).unwrap();
    std::os::unix::fs::symlink(BIN, &krm_function).unwrap();
    (dir, exec_plugin, krm_function)
}

#[test]
fn exec_plugin_reads_a_bare_key_only_when_allowed() {
    let fixtures = fixtures();
    let (_links, exec_plugin, _) = plugin_links();
    // kustomize's way: the config in a temporary file, the kustomization's directory in the
    // environment.
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("config.yaml");
    std::fs::copy(fixtures.join("kustomize/bare-key.yaml"), &config).unwrap();
    let plugin = |allow: Option<&str>| {
        let mut cmd = command(&exec_plugin, config_dir.path(), allow);
        cmd.arg(&config)
            .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", fixtures.join("kustomize"));
        run(cmd, b"")
    };
    let by_hand = |allow: Option<&str>| {
        let mut cmd = command(Path::new(BIN), &fixtures, allow);
        cmd.args(["kustomize", "kustomize/bare-key.yaml"]);
        run(cmd, b"")
    };
    for (what, out) in [
        ("exec plugin", plugin(None)),
        (
            "exec plugin, other names allowed",
            plugin(Some("OTHER,GITHUB_TOKEN")),
        ),
        ("exec plugin, empty list", plugin(Some(""))),
        ("sealant kustomize CONFIG", by_hand(None)),
    ] {
        assert_refused(&out, what);
    }
    let allow = Some("OTHER, SEALANT_TEST_TOKEN");
    assert_token_sealed(&plugin(allow), "exec plugin, allowed");
    assert_token_sealed(&by_hand(allow), "sealant kustomize CONFIG, allowed");
}

#[test]
fn krm_function_reads_a_bare_key_only_when_allowed() {
    let dir = fixtures().join("kustomize");
    let (_links, _, krm_function) = plugin_links();
    let input = resource_list(&token_generator());
    let function = |allow: Option<&str>| run(command(&krm_function, &dir, allow), input.as_bytes());
    let subcommand = |allow: Option<&str>| {
        let mut cmd = command(Path::new(BIN), &dir, allow);
        cmd.arg("kustomize");
        run(cmd, input.as_bytes())
    };
    assert_refused(&function(None), "KRM function");
    assert_refused(&function(Some("OTHER")), "KRM function, other name allowed");
    assert_refused(&subcommand(None), "sealant kustomize (KRM)");
    assert_token_sealed(
        &function(Some("SEALANT_TEST_TOKEN")),
        "KRM function, allowed",
    );
    assert_token_sealed(
        &subcommand(Some("SEALANT_TEST_TOKEN")),
        "sealant kustomize (KRM), allowed",
    );
}

/// kustomize runs a KRM function in the kustomization that declares it; run anywhere else, the
/// function must not resolve the config's paths against that other directory.
#[test]
fn krm_function_reads_files_only_from_the_declaring_kustomization() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    for file in [
        "api-token.yaml",
        "kustomization.yaml",
        "cert.pem",
        "password.txt",
        "bare-key.env",
    ] {
        std::fs::copy(fixtures().join("kustomize").join(file), app.join(file)).unwrap();
    }
    // An overlay with its own kustomization, generator and files of the same names.
    let overlay = dir.path().join("overlay");
    std::fs::create_dir(&overlay).unwrap();
    let decoy = "decoy-overlay-password";
    std::fs::write(overlay.join("password.txt"), decoy).unwrap();
    std::fs::copy(
        fixtures().join("kustomize/cert.pem"),
        overlay.join("cert.pem"),
    )
    .unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n- ../app\ngenerators:\n- mine.yaml\n",
    )
    .unwrap();
    std::fs::write(
        overlay.join("mine.yaml"),
        "apiVersion: sealant.dev/v1alpha1\nkind: SealedSecretGenerator\nmetadata:\n  name: mine\n  namespace: prod\ncert: cert.pem\nfiles:\n- token=password.txt\n",
    )
    .unwrap();
    let generator = std::fs::read_to_string(app.join("api-token.yaml")).unwrap();
    let input = resource_list(&generator);
    let (_links, _, krm_function) = plugin_links();
    let function = |cwd: &Path| run(command(&krm_function, cwd, None), input.as_bytes());

    for (cwd, what) in [
        (&overlay, "another kustomization"),
        (&dir.path().to_path_buf(), "no kustomization"),
    ] {
        let out = function(cwd);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{what}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{what}: {stdout}");
        assert!(
            stderr.starts_with("error: ")
                && stderr.contains(
                    "not the kustomization that declares SealedSecretGenerator api-token"
                )
                && stderr.contains("\nhint: "),
            "{what}: {stderr}"
        );
    }

    let out = function(&app);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let data = unseal(&text(&out.stdout));
    assert_eq!(data["token"], "correct horse battery staple");
    assert!(!text(&out.stdout).contains(decoy));
}

/// `hunter2` alone on a line looks like a key but may be a pasted value: no mode shows it.
#[test]
fn a_bare_value_line_is_never_echoed() {
    let fixtures = fixtures();
    let cases: Vec<(&str, Output)> = vec![
        ("seal --from-env-file", {
            let mut cmd = command(Path::new(BIN), &fixtures, None);
            cmd.args([
                "seal",
                "s",
                "-n",
                "prod",
                "--from-env-file",
                "kustomize/bare-value.env",
                "--cert",
                "keys/rsa4096.crt",
            ]);
            run(cmd, b"")
        }),
        ("sealant kustomize CONFIG", {
            let mut cmd = command(Path::new(BIN), &fixtures, Some("hunter2"));
            cmd.args(["kustomize", "kustomize/bare-value.yaml"]);
            run(cmd, b"")
        }),
        ("sealant kustomize CONFIG, not allowed", {
            let mut cmd = command(Path::new(BIN), &fixtures, None);
            cmd.args(["kustomize", "kustomize/bare-value.yaml"]);
            run(cmd, b"")
        }),
    ];
    for (what, out) in cases {
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stdout.is_empty(), "{what}: {stdout}");
        assert!(stderr.contains("bare-value.env:3"), "{what}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{what}: {stderr}");
    }
}

/// On the user's own command line, a bare KEY reads the environment, as with kubectl.
#[test]
fn seal_from_env_file_reads_a_bare_key_like_kubectl() {
    let mut cmd = command(Path::new(BIN), &fixtures(), None);
    cmd.args([
        "seal",
        "token",
        "-n",
        "prod",
        "--from-env-file",
        "kustomize/bare-key.env",
        "--cert",
        "keys/rsa4096.crt",
    ]);
    assert_token_sealed(&run(cmd, b""), "seal --from-env-file");
}

/// The reported attack, run by the kustomize inside kubectl: a base (standing in for a remote
/// one) whose generator lists an env file with a bare `SEALANT_TEST_TOKEN` line. The build fails
/// and the token appears nowhere, unless the user's environment names it in `SEALANT_ALLOW_ENV`;
/// a config cannot opt in by passing arguments (`argsOneLiner`).
#[test]
fn kubectl_kustomize_base_cannot_read_the_environment() {
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
    let plugin_dir = dir
        .path()
        .join("plugins/sealant.dev/v1alpha1/sealedsecretgenerator");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, plugin_dir.join("SealedSecretGenerator")).unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir(&base).unwrap();
    for file in ["bare-key.yaml", "bare-key.env", "cert.pem"] {
        std::fs::copy(fixtures().join("kustomize").join(file), base.join(file)).unwrap();
    }
    let config = std::fs::read_to_string(base.join("bare-key.yaml")).unwrap();
    std::fs::write(
        base.join("args.yaml"),
        config.replace("name: token", "name: args")
            + "argsOneLiner: --allow-env SEALANT_TEST_TOKEN\n",
    )
    .unwrap();
    let overlay = dir.path().join("overlay");
    std::fs::create_dir(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n- ../base\n",
    )
    .unwrap();
    let build = |generators: &str, allow: Option<&str>| {
        std::fs::write(
            base.join("kustomization.yaml"),
            format!("generators:\n- {generators}\n"),
        )
        .unwrap();
        let mut cmd = command(Path::new(&kubectl), dir.path(), allow);
        cmd.args(["kustomize", "--enable-alpha-plugins"])
            .arg(&overlay)
            .env("KUSTOMIZE_PLUGIN_HOME", dir.path().join("plugins"));
        run(cmd, b"")
    };
    for generators in ["bare-key.yaml", "args.yaml"] {
        let out = build(generators, None);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(!out.status.success(), "{generators}: built\n{stdout}");
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "{generators}: {stderr}"
        );
        assert!(
            !stdout.contains("SealedSecret"),
            "{generators}: sealed: {stdout}"
        );
    }
    let out = build("bare-key.yaml", None);
    assert!(text(&out.stderr).contains(ALLOW), "{}", text(&out.stderr));
    let out = build("args.yaml", None);
    assert!(
        text(&out.stderr).contains("unknown field `argsOneLiner`"),
        "{}",
        text(&out.stderr)
    );
    assert_token_sealed(
        &build("bare-key.yaml", Some("SEALANT_TEST_TOKEN")),
        "kubectl kustomize, allowed",
    );
}
