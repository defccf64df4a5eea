//! The CLI against a live controller reached the way users reach it: through the API server's
//! service proxy. The proxy refuses loopback endpoints, so the controller runs in a test-made
//! network namespace with an address of its own (`sealant_tests::netns`), and a selector-less
//! Service with hand-made Endpoints points at it (`sealant_tests::controller::ProxiedController`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use clap::Parser as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use sealant::args::{Cli, Command};
use sealant::error::CliError;
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_tests::controller::{
    PROXIED_SERVICE, ProxiedController, cluster_with_crd, controller_cert, wait_secret_data,
};
use sealant_tests::{DEFAULT_TIMEOUT, FIELD_MANAGER, wait_for};

/// Runs one `sealant` command in-process (on its own thread: commands build their own
/// runtime), pointed at the controller Service in `namespace`.
async fn sealant(
    kubeconfig: &Path,
    namespace: &str,
    args: &[&str],
) -> anyhow::Result<Result<(), CliError>> {
    let mut argv: Vec<String> = vec!["sealant".into()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv.extend([
        "--kubeconfig".into(),
        kubeconfig.to_string_lossy().into_owned(),
        "--controller-namespace".into(),
        namespace.into(),
        "--controller-name".into(),
        PROXIED_SERVICE.into(),
    ]);
    let cli = Cli::try_parse_from(&argv)?;
    let run = move || match cli.command {
        Command::Cert(args) => sealant::cert::run(&args),
        Command::Seal(args) => sealant::seal::run(&args),
        Command::Validate(args) => sealant::validate::run(&args),
        Command::Reencrypt(args) => sealant::reencrypt::run(&args).and_then(|code| {
            (code == 0)
                .then_some(())
                .ok_or_else(|| CliError::new(format!("reencrypt exited {code}")))
        }),
        _ => Err(CliError::new("not a command this test runs")),
    };
    tokio::task::spawn_blocking(run)
        .await
        .map_err(|_| anyhow::anyhow!("sealant panicked"))
}

fn read_sealed(path: &Path) -> anyhow::Result<SealedSecret> {
    let text = std::fs::read_to_string(path)?;
    let core = sealant_core::object::read_sealed_secrets(&text)?.remove(0);
    Ok(serde_json::from_value(serde_json::to_value(core)?)?)
}

fn encrypted_data(sealed: &SealedSecret) -> BTreeMap<String, String> {
    serde_json::to_value(&sealed.spec)
        .ok()
        .and_then(|spec| serde_json::from_value(spec["encryptedData"].clone()).ok())
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn cert_seal_validate_and_reencrypt_through_the_service_proxy() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("proxy").await?;
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-proxy"));
    std::fs::create_dir_all(&dir)?;

    let controller =
        ProxiedController::start(&cluster, ns.name(), &["--leader-elect=false"]).await?;
    let key_cert = controller_cert(&cluster, &ns)
        .await
        .with_context(|| controller.process.log())?;

    // `sealant cert`: the certificate served through the proxy is the key Secret's.
    let cert_file = dir.join("cert.pem");
    let cert_arg = cert_file.to_string_lossy().into_owned();
    let admin = cluster.kubeconfig_path().to_path_buf();
    wait_for(
        "the certificate through the proxy",
        DEFAULT_TIMEOUT,
        || async {
            Ok(sealant(
                &admin,
                ns.name(),
                &["cert", "--no-cert-cache", "-w", &cert_arg],
            )
            .await?
            .ok())
        },
    )
    .await
    .with_context(|| controller.process.log())?;
    let served = Certificate::from_pem(&std::fs::read(&cert_file)?)?;
    assert_eq!(
        served.public_key().fingerprint(),
        key_cert.public_key().fingerprint()
    );
    // `sealant cert --age`: the age recipient (`/v1/recipient`), the same way.
    let recipient_file = dir.join("recipient.txt");
    let recipient_arg = recipient_file.to_string_lossy().into_owned();
    // The age key is written just after the RSA key: wait for it as for the certificate.
    wait_for(
        "the age recipient through the proxy",
        DEFAULT_TIMEOUT,
        || async {
            Ok(sealant(
                &admin,
                ns.name(),
                &["cert", "--no-cert-cache", "--age", "-w", &recipient_arg],
            )
            .await?
            .ok())
        },
    )
    .await
    .with_context(|| controller.process.log())?;
    let recipient = std::fs::read_to_string(&recipient_file)?;
    recipient
        .trim()
        .parse::<sealant_core::age::AgeRecipient>()
        .with_context(|| format!("{recipient:?} is not an age recipient"))?;

    // `sealant seal`, certificate fetched the same way; the controller unseals the result.
    let secret_file = dir.join("secret.yaml");
    std::fs::write(
        &secret_file,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: {}\nstringData:\n  user: app\n  password: proxy-s3cret\n",
            ns.name()
        ),
    )?;
    let sealed_file = dir.join("sealed.yaml");
    let (secret_arg, sealed_arg) = (
        secret_file.to_string_lossy().into_owned(),
        sealed_file.to_string_lossy().into_owned(),
    );
    sealant(
        &admin,
        ns.name(),
        &[
            "seal",
            "--no-cert-cache",
            "-f",
            &secret_arg,
            "-w",
            &sealed_arg,
        ],
    )
    .await??;
    let sealed = read_sealed(&sealed_file)?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    sealed_api.create(&PostParams::default(), &sealed).await?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    wait_secret_data(
        &secrets,
        "db",
        &[("user", "app"), ("password", "proxy-s3cret")],
    )
    .await
    .with_context(|| controller.process.log())?;

    // `sealant validate`: yes for the file, no once it is bound to another name.
    sealant(&admin, ns.name(), &["validate", "-f", &sealed_arg]).await??;
    let moved_file = dir.join("moved.yaml");
    std::fs::write(
        &moved_file,
        std::fs::read_to_string(&sealed_file)?.replace("name: db", "name: other"),
    )?;
    let err = sealant(
        &admin,
        ns.name(),
        &["validate", "-f", &moved_file.to_string_lossy()],
    )
    .await?
    .expect_err("a strict-scoped SealedSecret under another name cannot be unsealed");
    assert_eq!(err.exit_code(), 1, "{err}");
    assert!(!err.to_string().contains("proxy-s3cret"), "{err}");

    // `sealant reencrypt`: new ciphertexts that the controller still unseals to the same data.
    let rotated_file = dir.join("rotated.yaml");
    sealant(
        &admin,
        ns.name(),
        &[
            "reencrypt",
            "-f",
            &sealed_arg,
            "-w",
            &rotated_file.to_string_lossy(),
        ],
    )
    .await??;
    let rotated = read_sealed(&rotated_file)?;
    let (before, after) = (encrypted_data(&sealed), encrypted_data(&rotated));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert!(
        before.iter().all(|(item, value)| after[item] != *value),
        "every item is sealed anew"
    );
    let patch = serde_json::json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "spec": { "encryptedData": after },
    });
    sealed_api
        .patch(
            "db",
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    sealant_tests::controller::wait_synced(&sealed_api, "db", "True", 2)
        .await
        .with_context(|| controller.process.log())?;
    wait_secret_data(
        &secrets,
        "db",
        &[("user", "app"), ("password", "proxy-s3cret")],
    )
    .await?;
    assert!(
        !controller.process.log().contains("proxy-s3cret"),
        "the controller log must not hold plaintext"
    );

    drop(controller);
    let _ = std::fs::remove_dir_all(&dir);
    ns.cleanup().await
}
