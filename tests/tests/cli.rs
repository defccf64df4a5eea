//! The CLI's cluster path on the real API server: kubeconfig, controller Service lookup and the
//! service proxy. (Fetching a real certificate through the proxy needs the controller, whose
//! end-to-end tests cover it.)

use std::path::Path;

use clap::Parser as _;
use sealant::args::{Cli, Command};
use sealant::error::CliError;
use sealant_tests::TestCluster;
use sealant_tests::controller::create_controller_service;

/// Runs `sealant cert` against the test cluster, for the controller Service `name` in `namespace`.
fn sealant_cert(
    kubeconfig: &Path,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Result<(), CliError>> {
    let argv = [
        "sealant",
        "cert",
        "--no-cert-cache",
        "--kubeconfig",
        kubeconfig
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("kubeconfig path is not UTF-8"))?,
        "--controller-namespace",
        namespace,
        "--controller-name",
        name,
    ];
    let Command::Cert(args) = Cli::try_parse_from(argv)?.command else {
        anyhow::bail!("`sealant cert` parsed as another command");
    };
    // The command runs its own runtime, so it must not run on a tokio worker thread.
    std::thread::spawn(move || sealant::cert::run(&args))
        .join()
        .map_err(|_| anyhow::anyhow!("sealant cert panicked"))
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn cert_fetch_names_a_missing_controller_service() -> anyhow::Result<()> {
    let cluster = TestCluster::from_env().await?;
    let ns = cluster.namespace("cli-nosvc").await?;
    let err = sealant_cert(
        cluster.kubeconfig_path(),
        ns.name(),
        "sealed-secrets-controller",
    )?
    .expect_err("there is no controller Service");
    assert!(
        err.message()
            .starts_with("cannot get sealed secret service: "),
        "{err}"
    );
    assert!(err.message().contains("not found"), "{err}");
    assert!(
        err.hint_text()
            .is_some_and(|h| h.contains("--controller-name")),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn cert_fetch_goes_through_the_service_proxy() -> anyhow::Result<()> {
    let cluster = TestCluster::from_env().await?;
    let ns = cluster.namespace("cli-proxy").await?;
    // A controller Service with no endpoints: the request reaches the API server's service
    // proxy (on the port name upstream's kubeseal uses), which has nowhere to send it.
    create_controller_service(cluster.client(), ns.name(), "sealed-secrets-controller").await?;
    let err = sealant_cert(
        cluster.kubeconfig_path(),
        ns.name(),
        "sealed-secrets-controller",
    )?
    .expect_err("the Service has no endpoints");
    assert!(
        err.message().starts_with("cannot fetch certificate"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 1);
    Ok(())
}
