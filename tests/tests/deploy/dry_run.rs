//! e2e: every manifest and the rendered chart pass a server-side dry run.

use super::*;

// --- e2e: server-side dry runs ------------------------------------------------------------

/// Every kustomization (base and overlays) and the chart (default values and each ci/ values
/// file) render, are hardened, and are accepted by the API server; a typo is not.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn manifests_and_chart_pass_server_side_dry_run() -> anyhow::Result<()> {
    let _names = DEFAULT_CLUSTER_NAMES.lock().await;
    let cluster = cluster_with_crd().await?;
    install_monitoring_crds(&cluster).await?;
    let minor = server_minor(&cluster).await?;
    let ns = cluster.namespace("deploy-dry").await?;
    let extra = cluster.namespace("deploy-dry-extra").await?;

    let mut variants: Vec<(String, Vec<Value>)> = Vec::new();
    for dir in [
        "deploy",
        "deploy/overlays/metrics",
        "deploy/overlays/single-namespace",
    ] {
        let mut docs = kustomize(dir)?;
        // The single-namespace example's namespace does not exist here: use a test one.
        retarget(&mut docs, "sealant", ns.name());
        pdb_for(&mut docs, minor);
        variants.push((dir.to_owned(), docs));
    }
    let kube_version = format!("1.{minor}.0");
    let extra_ns = format!("controller.additionalNamespaces={{{}}}", extra.name());
    let upstream_defaults = repo_file("deploy/helm/upstream-values/default.yaml")
        .display()
        .to_string();
    for (label, args) in [
        ("helm default", vec![]),
        (
            "helm ci/namespaced-values.yaml",
            vec![
                "-f",
                "ci/namespaced-values.yaml",
                "--set",
                extra_ns.as_str(),
            ],
        ),
        (
            "helm ci/monitoring-values.yaml",
            vec!["-f", "ci/monitoring-values.yaml"],
        ),
        (
            "helm ci/admission-values.yaml",
            vec!["-f", "ci/admission-values.yaml"],
        ),
        (
            "helm ci/rollout-values.yaml",
            vec!["-f", "ci/rollout-values.yaml"],
        ),
        // Upstream's chart values, unchanged but for the image (docs/helm-values.md).
        (
            "helm upstream default values",
            vec![
                "-f",
                upstream_defaults.as_str(),
                "--set",
                "image.registry=registry.example,image.repository=platform/sealant-controller,image.tag=0.1.0",
            ],
        ),
    ] {
        let chart = repo_file("deploy/helm/sealant");
        let mut full: Vec<String> = vec!["--kube-version".into(), kube_version.clone()];
        for arg in args {
            full.push(match arg.strip_prefix("ci/") {
                Some(file) => chart.join("ci").join(file).display().to_string(),
                None => arg.to_owned(),
            });
        }
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        let namespace = if label == "helm default" {
            "kube-system"
        } else {
            ns.name()
        };
        let mut docs = helm_template(namespace, &refs)?;
        // Helm installs crds/ itself; a dry run of the rendered output includes it too.
        docs.insert(
            0,
            documents(&sealant_controller::crd::crd_yaml()?)?.remove(0),
        );
        variants.push((label.to_owned(), docs));
    }

    let mut kinds_seen = BTreeSet::new();
    for (label, docs) in &variants {
        let deployments = kinds(docs, "Deployment");
        ensure!(deployments.len() == 1, "{label}: one Deployment");
        assert_hardened(deployments[0]).with_context(|| label.clone())?;
        for doc in docs {
            kinds_seen.insert(doc["kind"].as_str().unwrap_or("").to_owned());
            let namespaced = !CLUSTER_SCOPED.contains(&doc["kind"].as_str().unwrap_or(""));
            ensure!(
                !namespaced || doc["metadata"]["namespace"].is_string(),
                "{label}: {} {} has no namespace",
                doc["kind"],
                doc["metadata"]["name"]
            );
        }
        let out = kubectl_apply(&cluster, docs, true).with_context(|| label.clone())?;
        let applied = out
            .lines()
            .filter(|l| l.contains("(server dry run)"))
            .count();
        ensure!(
            applied == docs.len(),
            "{label}: {applied} of {} objects dry-run:\n{out}",
            docs.len()
        );
    }
    for kind in [
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceMonitor",
        "PrometheusRule",
        "ValidatingWebhookConfiguration",
    ] {
        ensure!(kinds_seen.contains(kind), "no {kind} was dry-run");
    }

    // Defaults: two replicas, and the Service under the CLI's default name and namespace.
    for (label, docs) in variants
        .iter()
        .filter(|(l, _)| l == "deploy" || l == "helm default")
    {
        ensure!(
            kinds(docs, "Deployment")[0]["spec"]["replicas"] == 2,
            "{label}: replicas"
        );
        let services = kinds(docs, "Service");
        ensure!(
            services
                .iter()
                .any(|s| s["metadata"]["name"] == "sealed-secrets-controller"
                    && s["metadata"]["namespace"] == "kube-system"),
            "{label}: no Service kube-system/sealed-secrets-controller"
        );
    }

    // The check can fail: an unknown field is refused.
    let mut typo = variants[0].1.clone();
    let deployment = typo
        .iter_mut()
        .find(|d| d["kind"] == "Deployment")
        .context("Deployment")?;
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = json!({});
    let err = kubectl_apply(&cluster, &typo, true).expect_err("a misspelt field must fail");
    ensure!(format!("{err:#}").contains("securityContxt"), "{err:#}");

    // The Prometheus rules of the overlay are the chart's (with its default values).
    let chart_rules = helm_template(
        "kube-system",
        &[
            "--set",
            "metrics.prometheusRule.enabled=true",
            "--show-only",
            "templates/prometheusrule.yaml",
        ],
    )?;
    let overlay = &variants[1].1;
    let overlay_rules = kinds(overlay, "PrometheusRule");
    ensure!(
        overlay_rules.len() == 1 && chart_rules.len() == 1,
        "one PrometheusRule each"
    );
    ensure!(
        overlay_rules[0]["spec"] == chart_rules[0]["spec"],
        "deploy/overlays/metrics/prometheusrule.yaml and the chart's template differ"
    );
    ns.cleanup().await?;
    extra.cleanup().await?;
    Ok(())
}
