//! Key protection on the real control plane (docs/key-protection.md), with SoftHSM2 as the HSM:
//! a token made here (default SoftHSM configuration, a unique label, deleted at the end).
//!
//! One cluster, one test function, one token (SoftHSM lists tokens once per process): the
//! module missing at start (not ready, an event, no key), then present (ready, a key written
//! wrapped, no private key material in it), unsealing before and after a restart (unwrap at
//! start), a key whose KEK is not on the token reported on its own while the others work, a
//! wrong PIN giving one clear error; then `keys protect`, `keys backup` and `keys unprotect`
//! with the controller unsealing throughout. An HSM lost after start is covered by the unit
//! tests (controller/src/keys/protection_tests.rs): SoftHSM cannot be taken away from a
//! process that loaded it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ListParams, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::keysecret::wrapped::{PROTECTION_ANNOTATION, WRAPPED_DEK, WRAPPED_KEY};
use sealant_core::keysecret::{KEY_LABEL, KeySecretError, read_key_secret};
use sealant_core::{PrivateKey, SecretBytes, SecretString};
use sealant_tests::controller::{
    ControllerProcess, cluster_with_crd, controller_cert, fetch_metrics, free_local_addr, http_get,
    metric_value, sealed, wait_secret_data,
};
use sealant_tests::{
    DEFAULT_TIMEOUT, FIELD_MANAGER, TestNamespace, repo_file, unique_name, wait_for,
};

const PIN: &str = "4711-user";
const KEK: &str = "sealant-kek-e2e";

/// A SoftHSM token in the default token directory, deleted on drop.
struct Token {
    label: String,
}

impl Token {
    fn init() -> anyhow::Result<Self> {
        let label = unique_name("sealant-e2e");
        let status = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", &label, "--pin", PIN])
            .args(["--so-pin", "0815-so"])
            .stdout(std::process::Stdio::null())
            .status()
            .context("softhsm2-util (run tests/setup.sh)")?;
        ensure!(status.success(), "softhsm2-util --init-token failed");
        Ok(Token { label })
    }

    fn config(&self, pin: &str) -> sealant_kms::pkcs11::Pkcs11Config {
        sealant_kms::pkcs11::Pkcs11Config {
            module: module(),
            token_label: self.label.clone(),
            pin: SecretString::new(pin.to_owned()),
            kek_label: KEK.to_owned(),
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        let _ = Command::new("softhsm2-util")
            .args(["--delete-token", "--token", &self.label])
            .stdout(std::process::Stdio::null())
            .status();
    }
}

fn module() -> std::path::PathBuf {
    [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists())
    .unwrap_or_else(|| "/usr/lib/softhsm/libsofthsm2.so".into())
}

fn flags<'a>(token: &'a Token, module: &'a str, pin_file: &'a str) -> Vec<&'a str> {
    vec![
        "--key-protection",
        "pkcs11",
        "--pkcs11-module",
        module,
        "--pkcs11-token-label",
        &token.label,
        "--pkcs11-pin-file",
        pin_file,
        "--pkcs11-kek-label",
        KEK,
    ]
}

/// The first event with `reason` about `name` in `ns`.
async fn wait_event(ns: &TestNamespace, reason: &str, name: &str) -> anyhow::Result<Event> {
    let events: Api<Event> = ns.api();
    wait_for(
        &format!("event {reason} on {name}"),
        DEFAULT_TIMEOUT,
        || async {
            Ok(events
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                }))
        },
    )
    .await
}

async fn key_secrets(ns: &TestNamespace) -> anyhow::Result<Vec<Secret>> {
    let secrets: Api<Secret> = ns.api();
    Ok(secrets
        .list(&ListParams::default().labels(KEY_LABEL))
        .await?
        .items)
}

/// What a reader of the namespace's Secrets gets from a protected key Secret: no key.
fn assert_no_key_material(secret: &Secret) -> anyhow::Result<()> {
    let data = secret.data.clone().unwrap_or_default();
    ensure!(
        data.get("tls.key").is_some_and(|v| v.0.is_empty()),
        "tls.key not empty"
    );
    for name in [WRAPPED_KEY, WRAPPED_DEK] {
        ensure!(data.contains_key(name), "{name} missing");
    }
    for (name, value) in &data {
        ensure!(
            PrivateKey::from_pem(&value.0).is_err()
                && PrivateKey::from_pkcs8_der(&value.0).is_err(),
            "item {name} parses as a private key"
        );
        let text = String::from_utf8_lossy(&value.0);
        ensure!(
            !text.contains("PRIVATE KEY"),
            "item {name} holds a PEM private key"
        );
    }
    // The upstream reader (what `keys backup`, kubeseal's recovery and any Secret reader's
    // tooling use) finds no key; the envelope does not open with a DEK guessed from the Secret.
    let core: sealant_core::object::Secret = serde_json::from_value(serde_json::to_value(secret)?)?;
    let Err(KeySecretError::Protected(wrapped)) = read_key_secret(&core) else {
        anyhow::bail!("the key Secret does not read as protected");
    };
    for guess in [
        vec![0u8; 32],
        data[WRAPPED_DEK].0.iter().copied().take(32).collect(),
    ] {
        ensure!(
            wrapped.open(&SecretBytes::from_slice(&guess)).is_err(),
            "the envelope opened without the KEK"
        );
    }
    Ok(())
}

async fn apply_sealed(
    ns: &TestNamespace,
    cert: &sealant_core::Certificate,
    name: &str,
) -> anyhow::Result<()> {
    let sealed = sealed(cert, ns.name(), name, &[("password", name)], None)?;
    ns.api::<SealedSecret>()
        .create(
            &PostParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..PostParams::default()
            },
            &sealed,
        )
        .await?;
    wait_secret_data(&ns.api(), name, &[("password", name)]).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn protected_keys_start_kek_loss_and_cli_round_trip() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let token = Token::init()?;
    sealant_kms::pkcs11::Pkcs11Provider::create_kek(token.config(PIN)).await?;
    let dir = tempfile_dir()?;
    let pin_file = dir.join("pin");
    std::fs::write(&pin_file, format!("{PIN}\n"))?;
    // The module path exists only once the test links it: "HSM unreachable at start".
    let link = dir.join("libpkcs11.so");
    let (link_s, pin_s) = (
        link.to_string_lossy().into_owned(),
        pin_file.to_string_lossy().into_owned(),
    );

    let ns = cluster.namespace("kp").await?;
    let (api, metrics) = (free_local_addr()?, free_local_addr()?);
    let args = flags(&token, &link_s, &pin_s);
    let controller =
        ControllerProcess::start_with_addrs(&cluster, ns.name(), &args, &api, &metrics)?;
    let event = wait_event(&ns, "KeyProviderUnavailable", &controller.identity).await?;
    let note = event.note.unwrap_or_default();
    ensure!(
        note.contains("cannot be reached") && note.contains("no key generated"),
        "{note}"
    );
    ensure!(
        http_get(&api, "/readyz").await.is_none(),
        "ready without its HSM"
    );
    ensure!(
        key_secrets(&ns).await?.is_empty(),
        "a key was generated without the HSM"
    );
    ensure!(
        controller
            .log()
            .contains("key protection provider unavailable"),
        "no log line"
    );

    // The HSM comes back: recovery without a restart.
    std::os::unix::fs::symlink(module(), &link)?;
    wait_for("/readyz", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api, "/readyz").await)
    })
    .await
    .with_context(|| controller.log())?;
    wait_event(&ns, "KeyProviderRecovered", &controller.identity).await?;
    let cert = controller_cert(&cluster, &ns).await?;
    let keys = key_secrets(&ns).await?;
    ensure!(keys.len() == 1, "{} key Secrets", keys.len());
    assert_no_key_material(&keys[0])?;
    // age identities cannot be wrapped yet: with protection on, none is written in plaintext.
    let age_keys = ns
        .api::<Secret>()
        .list(&ListParams::default().labels(sealant_core::keysecret::age::AGE_KEY_LABEL))
        .await?
        .items;
    ensure!(
        age_keys.is_empty(),
        "{} age key Secrets in plaintext",
        age_keys.len()
    );
    let annotation = keys[0]
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PROTECTION_ANNOTATION));
    ensure!(
        annotation.is_some_and(|a| a.contains(KEK)),
        "{annotation:?}"
    );
    apply_sealed(&ns, &cert, "before-restart").await?;
    let page = fetch_metrics(&metrics).await.unwrap_or_default();
    ensure!(
        metric_value(
            &page,
            r#"sealant_key_provider_calls_total{provider="pkcs11",operation="wrap"}"#
        ) >= 1.0,
        "no wrap call counted:\n{page}"
    );
    drop(controller);

    // A key whose KEK is not on the token (a key wrapped, then its label pointed elsewhere, as
    // a deleted KEK looks to the token): reported on its own, the others keep working.
    let provider = sealant_kms::pkcs11::Pkcs11Provider::connect(token.config(PIN)).await?;
    let key = PrivateKey::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/multi-1.key",
    ))?)?;
    let key_cert = sealant_core::Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/multi-1.crt",
    ))?)?;
    let wrapped = sealant_kms::protect(&provider, &key, &key_cert).await?;
    let mut lost = sealant_core::keysecret::wrapped::wrapped_key_secret(
        ns.name(),
        "sealed-secrets-key",
        &wrapped,
        &BTreeMap::new(),
        &BTreeMap::new(),
    );
    lost.metadata.name = Some("kek-gone".into());
    lost.metadata.extra.remove("generateName");
    if let Some(a) = lost
        .metadata
        .annotations
        .as_mut()
        .and_then(|a| a.get_mut(PROTECTION_ANNOTATION))
    {
        *a = a.replace(KEK, "sealant-kek-deleted");
    }
    let lost: Secret = serde_json::from_value(serde_json::to_value(&lost)?)?;
    ns.api::<Secret>()
        .create(&PostParams::default(), &lost)
        .await?;

    let controller =
        ControllerProcess::start_with_addrs(&cluster, ns.name(), &args, &api, &metrics)?;
    wait_for("/readyz after restart", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api, "/readyz").await)
    })
    .await
    .with_context(|| controller.log())?;
    wait_event(&ns, "KeyUnwrapFailed", "kek-gone").await?;
    let page = wait_for("the unwrap failure metric", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics).await.filter(|p| {
            metric_value(p, r#"sealant_keys_unwrap_failed{kind="kek_missing"}"#) == 1.0
        }))
    })
    .await?;
    ensure!(metric_value(&page, r#"sealant_keys_unwrap_failed{kind="unreachable"}"#) == 0.0);
    // Unwrapped at start: the first object still opens, and a new one does.
    apply_sealed(&ns, &cert, "after-restart").await?;
    ensure!(
        key_secrets(&ns).await?.len() == 2,
        "a key was generated or deleted"
    );
    drop(controller);

    // A wrong PIN: one clear error, not ready, no key.
    let ns2 = cluster.namespace("kp-pin").await?;
    let wrong = dir.join("wrong-pin");
    std::fs::write(&wrong, "0000\n")?;
    let wrong_s = wrong.to_string_lossy().into_owned();
    let module_s = module().to_string_lossy().into_owned();
    let api2 = free_local_addr()?;
    let bad = ControllerProcess::start_with_addrs(
        &cluster,
        ns2.name(),
        &flags(&token, &module_s, &wrong_s),
        &api2,
        "127.0.0.1:0",
    )?;
    let event = wait_event(&ns2, "KeyProviderUnavailable", &bad.identity).await?;
    let note = event.note.unwrap_or_default();
    ensure!(note.contains("refused the credentials"), "{note}");
    ensure!(
        http_get(&api2, "/readyz").await.is_none(),
        "ready with a wrong PIN"
    );
    ensure!(
        key_secrets(&ns2).await?.is_empty(),
        "a key was generated with a wrong PIN"
    );
    let log = bad.log();
    ensure!(
        !log.contains(PIN) && !log.contains("0000\n"),
        "a PIN in the log"
    );
    ensure!(
        log.matches("key protection provider unavailable").count() == 1,
        "not one error line:\n{log}"
    );
    drop(bad);
    ns2.cleanup().await?;
    ns.cleanup().await?;

    keys_protect_and_unprotect_round_trip(&cluster, &token, &dir).await?;
    drop(dir_guard(dir));
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(unique_name("sealant-kp"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

struct DirGuard(std::path::PathBuf);
impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
fn dir_guard(dir: impl AsRef<Path>) -> DirGuard {
    DirGuard(dir.as_ref().to_path_buf())
}

/// Runs `sealant keys ARGS` against the cluster, with the controller namespace `ns`.
async fn keys_cli(
    cluster: &sealant_tests::TestCluster,
    ns: &TestNamespace,
    args: &[&str],
) -> anyhow::Result<sealant_tests::cli::CliOutput> {
    let mut argv: Vec<String> = std::iter::once("keys".to_owned())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect();
    argv.extend([
        "--kubeconfig".into(),
        cluster.kubeconfig_path().to_string_lossy().into_owned(),
        "--controller-namespace".into(),
        ns.name().into(),
    ]);
    sealant_tests::cli::Sealant::new(&argv)?.run_async().await
}

/// `keys protect` (refused without a backup, then with one that holds the key), `keys backup`
/// of the protected key (restorable without the HSM), `keys unprotect`: the controller keeps
/// unsealing throughout, picking each change up live. Part of the test above: SoftHSM lists
/// tokens once per process, so one token serves the whole file.
async fn keys_protect_and_unprotect_round_trip(
    cluster: &sealant_tests::TestCluster,
    token: &Token,
    dir: &Path,
) -> anyhow::Result<()> {
    use sealant_core::age::{AgeIdentity, IdentityKind};

    let pin_file = dir.join("pin");
    let (module_s, pin_s) = (
        module().to_string_lossy().into_owned(),
        pin_file.to_string_lossy().into_owned(),
    );
    let provider_flags = flags(token, &module_s, &pin_s);

    // An upstream plaintext key, then a controller with protection on: it uses the key as is.
    let ns = cluster.namespace("kp-cli").await?;
    let (_, cert) = sealant_tests::controller::add_key_secret(
        cluster,
        ns.name(),
        "upstream-key",
        "core/tests/vectors/keys/multi-2.key",
        "core/tests/vectors/keys/multi-2.crt",
    )
    .await?;
    let (api, metrics) = (free_local_addr()?, free_local_addr()?);
    let controller =
        ControllerProcess::start_with_addrs(cluster, ns.name(), &provider_flags, &api, &metrics)?;
    apply_sealed(&ns, &cert, "plaintext-key")
        .await
        .with_context(|| controller.log())?;

    // Refused without a backup (exit 2), nothing changed.
    let mut protect: Vec<&str> = vec!["protect"];
    protect.extend(&provider_flags);
    let refused = keys_cli(cluster, &ns, &protect).await?;
    ensure!(refused.code() == Some(2), "{refused:?}");
    ensure!(
        refused.stderr.contains("without a fresh backup"),
        "{}",
        refused.stderr
    );
    let secrets: Api<Secret> = ns.api();
    let plain = secrets.get("upstream-key").await?;
    ensure!(
        plain
            .data
            .as_ref()
            .is_some_and(|d| !d["tls.key"].0.is_empty()),
        "a refused run changed the key"
    );

    // A backup of the namespace's keys, then protect with it.
    let identity = AgeIdentity::generate(IdentityKind::X25519)?;
    let identity_file = dir.join("identity.txt");
    std::fs::write(&identity_file, identity.to_secret_string().expose_secret())?;
    let backup_file = dir.join("keys.age");
    let recipient = identity.recipient().to_string();
    let (id_s, backup_s) = (
        identity_file.to_string_lossy().into_owned(),
        backup_file.to_string_lossy().into_owned(),
    );
    let made = keys_cli(
        cluster,
        &ns,
        &["backup", "--recipient", &recipient, "-w", &backup_s],
    )
    .await?;
    ensure!(made.code() == Some(0), "{made:?}");
    let mut with_backup = protect.clone();
    with_backup.extend(["--backup", &backup_s, "--identity", &id_s]);
    let done = keys_cli(cluster, &ns, &with_backup).await?;
    ensure!(done.code() == Some(0), "{done:?}");
    assert_no_key_material(&secrets.get("upstream-key").await?)?;
    // Live pickup: the controller unwraps the now protected key (its first unwrap) and keeps
    // unsealing.
    wait_for(
        "the controller to unwrap the protected key",
        DEFAULT_TIMEOUT,
        || async {
            Ok(fetch_metrics(&metrics).await.filter(|page| {
                metric_value(
                    page,
                    r#"sealant_key_provider_calls_total{provider="pkcs11",operation="unwrap"}"#,
                ) >= 1.0
            }))
        },
    )
    .await
    .with_context(|| controller.log())?;
    apply_sealed(&ns, &cert, "protected-key")
        .await
        .with_context(|| controller.log())?;
    // Again: nothing left to protect.
    let again = keys_cli(cluster, &ns, &with_backup).await?;
    ensure!(
        again.stderr.contains("already protected"),
        "{}",
        again.stderr
    );

    // A backup of the protected key holds it unwrapped: restorable without the HSM.
    let protected_backup = dir.join("protected.age");
    let pb = protected_backup.to_string_lossy().into_owned();
    let mut backup: Vec<&str> = vec!["backup", "--recipient", &recipient, "-w", &pb];
    let no_hsm = keys_cli(cluster, &ns, &backup).await?;
    ensure!(
        no_hsm.code() == Some(1),
        "backup of protected keys without the HSM: {no_hsm:?}"
    );
    backup.extend(&provider_flags);
    let made = keys_cli(cluster, &ns, &backup).await?;
    ensure!(made.code() == Some(0), "{made:?}");
    let restored = keys_cli(cluster, &ns, &["restore", "-f", &pb, "--identity", &id_s]).await?;
    ensure!(restored.code() == Some(0), "{restored:?}");
    ensure!(
        restored.stdout.contains("tls.key") && !restored.stdout.contains(WRAPPED_KEY),
        "the restored key Secret is not plaintext"
    );

    // Back to upstream's layout.
    let mut unprotect: Vec<&str> = vec!["unprotect"];
    unprotect.extend(&provider_flags);
    let done = keys_cli(cluster, &ns, &unprotect).await?;
    ensure!(done.code() == Some(0), "{done:?}");
    let back = secrets.get("upstream-key").await?;
    let core: sealant_core::object::Secret = serde_json::from_value(serde_json::to_value(&back)?)?;
    ensure!(
        read_key_secret(&core).is_ok(),
        "not upstream's plaintext layout again"
    );
    ensure!(
        back.metadata
            .annotations
            .as_ref()
            .is_none_or(|a| !a.contains_key(PROTECTION_ANNOTATION)),
        "the protection annotation stayed"
    );
    apply_sealed(&ns, &cert, "unprotected-key")
        .await
        .with_context(|| controller.log())?;
    drop(controller);
    ns.cleanup().await?;
    Ok(())
}

/// moto's KMS on a loopback port (`kms/setup.sh` installs it), killed when dropped.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Moto {
    async fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("moto_server (run tests/setup.sh)")?;
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        wait_for("moto_server", DEFAULT_TIMEOUT, || async {
            Ok(tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok())
        })
        .await?;
        Ok(moto)
    }

    /// A symmetric key, made through boto3 (kms/tests/moto_admin.py), not through sealant.
    fn create_key(&self) -> anyhow::Result<String> {
        let out = Command::new("python3")
            .arg(repo_file("kms/tests/moto_admin.py"))
            .args([&self.endpoint, "create-key"])
            .output()?;
        ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// AWS KMS (moto) lost after start: keys in memory keep unsealing, a requested renewal waits
/// and says so in a metric and an event, and nothing is created or deleted.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn kms_lost_after_start_renewal_waits() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let moto = Moto::start().await?;
    let key_id = moto.create_key()?;
    let ns = cluster.namespace("kp-aws").await?;
    let (api, metrics) = (free_local_addr()?, free_local_addr()?);
    let flags = [
        "--key-protection",
        "aws-kms",
        "--aws-kms-region",
        "us-east-1",
        "--aws-kms-key-id",
        &key_id,
        "--aws-kms-endpoint",
        &moto.endpoint,
    ];
    let controller = ControllerProcess::launch_with_env(
        &sealant_tests::controller::Launch {
            kubeconfig: cluster.kubeconfig_path(),
            namespace: ns.name(),
            extra: &flags,
            api_addr: &api,
            metrics_addr: &metrics,
            netns: None,
        },
        // moto checks no signature by default; these only have to be present.
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    )?;
    wait_for("/readyz", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api, "/readyz").await)
    })
    .await
    .with_context(|| controller.log())?;
    let cert = controller_cert(&cluster, &ns).await?;
    let keys = key_secrets(&ns).await?;
    ensure!(keys.len() == 1, "{} key Secrets", keys.len());
    assert_no_key_material(&keys[0])?;
    let annotation = keys[0]
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PROTECTION_ANNOTATION));
    ensure!(
        annotation.is_some_and(|a| a.contains("aws-kms") && a.contains(&key_id)),
        "{annotation:?}"
    );

    // The KMS goes away; a new key is asked for.
    drop(moto);
    let name = keys[0].metadata.name.clone().unwrap_or_default();
    ns.api::<Secret>()
        .patch(
            &name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&serde_json::json!({
                "metadata": {"annotations": {sealant_core::keysecret::RENEW_REQUEST_ANNOTATION: "e2e"}}
            })),
        )
        .await?;
    let page = wait_for("renewal waiting", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics)
            .await
            .filter(|p| metric_value(p, "sealant_key_provider_renewal_waiting") == 1.0))
    })
    .await
    .with_context(|| controller.log())?;
    ensure!(
        metric_value(
            &page,
            r#"sealant_key_provider_errors_total{provider="aws-kms",operation="wrap",kind="unreachable"}"#
        ) >= 1.0,
        "{page}"
    );
    let event = wait_event(&ns, "KeyRenewalWaiting", &controller.identity).await?;
    ensure!(
        event.note.unwrap_or_default().contains("cannot be reached"),
        "the event does not say why"
    );
    // The key in memory keeps unsealing; nothing was created or deleted.
    apply_sealed(&ns, &cert, "kms-gone")
        .await
        .with_context(|| controller.log())?;
    ensure!(
        key_secrets(&ns).await?.len() == 1,
        "a key Secret came or went"
    );
    ensure!(
        http_get(&api, "/readyz").await.is_some(),
        "not ready any more"
    );
    drop(controller);
    ns.cleanup().await?;
    Ok(())
}
