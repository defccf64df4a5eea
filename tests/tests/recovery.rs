//! m-of-n key backups on the real control plane (docs/recovery.md): a 2-of-3 backup of a
//! controller's keys; one holder alone restores nothing (exit code 3); two holders (one by
//! identity, one by a share file passed along) restore them into another namespace, where a
//! new controller unseals what was sealed for the first.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;
use sealant_controller::crd::SealedSecret;
use sealant_core::keysecret::KEY_LABEL;
use sealant_core::keysecret::age::{AGE_KEY_LABEL, AGE_PUB};
use sealant_core::sealing::{Layout, Recipients, seal_secret_for};
use sealant_core::{AgeIdentity, AgeRecipient, IdentityKind, SealOptions};
use sealant_tests::cli::sealant_keys;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, wait_for};

const ITEMS: &[(&str, &str)] = &[("user", "admin"), ("password", "s3cret-recovered")];

/// Writes an identity file, mode 0600, and returns its path as text.
fn identity_file(dir: &std::path::Path, name: &str, id: &AgeIdentity) -> anyhow::Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(
        id.to_identity_file(time::OffsetDateTime::now_utc())
            .expose_secret()
            .as_bytes(),
    )?;
    Ok(path.to_str().context("path")?.to_owned())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn threshold_backup_two_of_three_restore_and_one_does_not() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let source = cluster.namespace("mofn-bak").await?;
    let target = cluster.namespace("mofn-rst").await?;
    let kubeconfig = cluster
        .kubeconfig_path()
        .to_str()
        .context("kubeconfig path")?
        .to_owned();
    let (from, to): (Api<Secret>, Api<Secret>) = (source.api(), target.api());

    // The source controller makes its keys (RSA and age); then it is stopped.
    let original = ControllerProcess::start(&cluster, source.name(), &[])?;
    controller_cert(&cluster, &source)
        .await
        .with_context(|| original.log())?;
    let recipient: AgeRecipient = wait_for("the age key", DEFAULT_TIMEOUT, || async {
        let keys = from
            .list(&ListParams::default().labels(AGE_KEY_LABEL))
            .await?;
        Ok(keys.items.iter().find_map(|s| {
            let text = s.data.as_ref()?.get(AGE_PUB)?;
            String::from_utf8_lossy(&text.0).trim().parse().ok()
        }))
    })
    .await
    .with_context(|| original.log())?;
    drop(original);

    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-mofn"));
    std::fs::create_dir_all(&dir)?;
    let holders: Vec<AgeIdentity> = (0..3)
        .map(|_| AgeIdentity::generate(IdentityKind::X25519))
        .collect::<Result<_, _>>()?;
    let ids: Vec<String> = holders
        .iter()
        .enumerate()
        .map(|(i, id)| identity_file(&dir, &format!("holder{i}.txt"), id))
        .collect::<Result<_, _>>()?;
    let pubs: Vec<String> = holders.iter().map(|h| h.recipient().to_string()).collect();
    let backup = dir.join("keys.backup");
    let backup = backup.to_str().context("path")?;
    let team = format!("team={}", pubs[2]);
    let cluster_args = ["--kubeconfig", &kubeconfig, "--controller-namespace"];
    sealant_keys(
        &[
            &["backup"][..],
            &cluster_args,
            &[source.name(), "--threshold", "2", "--recipient", &pubs[0]],
            &["--recipient", &pubs[1], "--group", &team, "-w", backup],
        ]
        .concat(),
    )??;

    // One holder: exit code 3, nothing created.
    let restore = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["restore", "-f", backup, "--apply"];
        args.extend_from_slice(&cluster_args);
        args.push(target.name());
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect()
    };
    let alone = restore(&["--identity", &ids[0]]);
    let alone: Vec<&str> = alone.iter().map(String::as_str).collect();
    let err = sealant_keys(&alone)?
        .err()
        .context("one share of two restores nothing")?;
    anyhow::ensure!(err.exit_code() == 3, "exit code {}", err.exit_code());
    anyhow::ensure!(
        err.message().contains("1 share(s) of the 2 needed"),
        "{}",
        err.message()
    );
    for label in [KEY_LABEL, AGE_KEY_LABEL] {
        anyhow::ensure!(
            key_material(&to, label).await?.is_empty(),
            "{label}: nothing"
        );
    }

    // The team's share is passed along, encrypted to holder 0, who restores with it.
    let share = dir.join("team.share.age");
    let share = share.to_str().context("path")?;
    sealant_keys(&[
        "share-decrypt",
        "-f",
        backup,
        "--identity",
        &ids[2],
        "-r",
        &pubs[0],
        "-w",
        share,
    ])??;
    let together = restore(&["--identity", &ids[0], "--share", share]);
    let together: Vec<&str> = together.iter().map(String::as_str).collect();
    sealant_keys(&together)??;
    for label in [KEY_LABEL, AGE_KEY_LABEL] {
        let restored = key_material(&to, label).await?;
        anyhow::ensure!(restored.len() == 1, "{label}: one key restored");
        anyhow::ensure!(
            restored == key_material(&from, label).await?,
            "{label}: the same key material"
        );
    }

    // The restored keys serve: what was sealed for the source opens in the target.
    let controller = ControllerProcess::start(&cluster, target.name(), &[])?;
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: recovered\n  namespace: {}\nstringData:\n{}",
        target.name(),
        ITEMS
            .iter()
            .map(|(k, v)| format!("  {k}: {v:?}\n"))
            .collect::<String>()
    );
    let secret = sealant_core::object::read_secrets(&yaml)?.remove(0);
    let recipients = Recipients {
        certs: vec![],
        age: vec![recipient],
        layout: Layout::Combined,
    };
    let sealed = seal_secret_for(secret, &recipients, &SealOptions::default())?;
    let sealed: SealedSecret = serde_json::from_value(serde_json::to_value(sealed)?)?;
    let api: Api<SealedSecret> = target.api();
    api.create(&Default::default(), &sealed).await?;
    wait_secret_data(&to, "recovered", ITEMS)
        .await
        .with_context(|| controller.log())?;
    drop(controller);
    std::fs::remove_dir_all(&dir)?;
    for ns in [source, target] {
        ns.cleanup().await?;
    }
    Ok(())
}
