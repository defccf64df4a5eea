//! e2e: the status fields GitOps health checks read.

use super::*;

// --- e2e: GitOps health ------------------------------------------------------------------

/// Argo CD's built-in health check of SealedSecrets (resource_customizations/bitnami.com/
/// SealedSecret/health.lua), plus the generation check newer versions and kstatus-based tools
/// (Flux) make: Progressing while the status describes an older generation.
fn argo_health(object: &Value) -> (&'static str, String) {
    let generation = object["metadata"]["generation"].as_i64();
    let observed = object["status"]["observedGeneration"].as_i64();
    if observed.is_some() && observed != generation {
        return ("Progressing", "status is for an older generation".into());
    }
    for condition in object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if condition["type"] == "Synced" {
            let message = condition["message"].as_str().unwrap_or("").to_owned();
            match condition["status"].as_str() {
                Some("False") => return ("Degraded", message),
                Some("True") => return ("Healthy", message),
                _ => {}
            }
        }
    }
    (
        "Progressing",
        "Waiting for Sealed Secret to be decrypted".into(),
    )
}

/// The fields GitOps health checks read, for success, failure and a spec change; and no status
/// churn: a restarted controller leaves an unchanged object's status alone.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn status_carries_what_gitops_health_checks_read() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("gitops").await?;
    let controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    let cert = controller_cert(&cluster, &ns).await?;
    let api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let as_value = |o: &SealedSecret| serde_json::to_value(o);

    // Before the controller has seen it: Progressing.
    let fresh = sealed(&cert, ns.name(), "good", &[("k", "v")], None)?;
    ensure!(argo_health(&as_value(&fresh)?).0 == "Progressing");
    api.create(&PostParams::default(), &fresh).await?;
    let good = wait_synced(&api, "good", "True", 1)
        .await
        .with_context(|| controller.log())?;
    let good = as_value(&good)?;
    let synced: Vec<&Value> = good["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["type"] == "Synced")
        .collect();
    ensure!(synced.len() == 1, "one Synced condition: {good}");
    ensure!(synced[0]["status"] == "True" && synced[0]["message"] == "");
    ensure!(good["status"]["observedGeneration"] == good["metadata"]["generation"]);
    ensure!(argo_health(&good) == ("Healthy", String::new()));

    // Sealed for another cluster: Degraded, with the reason.
    let other = sealant_core::Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    api.create(
        &PostParams::default(),
        &sealed(&other, ns.name(), "bad", &[("k", "v")], None)?,
    )
    .await?;
    let bad = as_value(&wait_synced(&api, "bad", "False", 1).await?)?;
    ensure!(bad["status"]["observedGeneration"] == bad["metadata"]["generation"]);
    let (health, message) = argo_health(&bad);
    ensure!(health == "Degraded", "{bad}");
    ensure!(message == "no key could decrypt secret (k)", "{message}");

    // Fixed in git (a new spec, generation 2): Healthy again once observed.
    let fixed = sealed(&cert, ns.name(), "bad", &[("k", "v2")], None)?;
    replace_sealed(&api, "bad", fixed).await?;
    let fixed = as_value(&wait_synced(&api, "bad", "True", 2).await?)?;
    ensure!(argo_health(&fixed).0 == "Healthy", "{fixed}");

    // A restart reconciles everything again but rewrites no status (no churn for Argo CD).
    let before = api.get("good").await?.resource_version();
    drop(controller);
    let metrics = free_local_addr()?;
    let controller = ControllerProcess::start_with_metrics(&cluster, ns.name(), &[], &metrics)?;
    wait_requests(&metrics, 2.0).await?;
    // Both reconciles have started; give a status write, if any, time to land.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    ensure!(
        api.get("good").await?.resource_version() == before,
        "status rewritten on restart:\n{}",
        controller.log()
    );
    ns.cleanup().await?;
    Ok(())
}
