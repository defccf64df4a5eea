//! e2e: the admission webhook (docs/admission.md) runs with exactly the RBAC of the base and
//! of `deploy/components/admission`: as the manifests' ServiceAccount the controller writes its
//! certificate Secret and fills in the `caBundle` of the component's webhook configuration,
//! after which the API server refuses a SealedSecret sealed elsewhere.

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::DeleteParams;

use super::rbac::{service_account_kubeconfig, start_as_service_account};
use super::*;

/// The base with the admission component, as an overlay adding it renders it.
fn base_with_admission() -> anyhow::Result<Vec<Value>> {
    // Two levels below the repository: kustomize takes relative paths only.
    let dir = repo_file("target/e2e-kustomize").join(unique_name("admission"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("kustomization.yaml"),
        "resources:\n  - ../../../deploy/base\ncomponents:\n  - ../../../deploy/components/admission\n",
    )?;
    let docs = documents(&run(Command::new("kubectl").arg("kustomize").arg(&dir))?);
    let _ = std::fs::remove_dir_all(&dir);
    docs
}

/// The value of `--name=` among the rendered Deployment's arguments.
fn flag(docs: &[Value], name: &str) -> anyhow::Result<String> {
    let prefix = format!("--{name}=");
    kinds(docs, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find_map(|arg| arg.strip_prefix(&prefix).map(str::to_owned))
        .with_context(|| format!("the component sets no {prefix}"))
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn admission_runs_with_the_component_rbac_only() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rbac-admission").await?;
    let docs = base_with_admission()?;
    let config_name = flag(&docs, "admission-webhook-config")?;
    let tls_secret = flag(&docs, "admission-tls-secret")?;
    // The component's ClusterRole names that configuration; the test's stands in for it, by
    // URL and selecting only the test namespace (other tests share the cluster).
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    namespaces
        .patch(
            ns.name(),
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"sealant.dev/rbac-test": ns.name()}}})),
        )
        .await?;
    let addr = free_local_addr()?;
    let config: ValidatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": config_name},
        "webhooks": [{
            "name": "sealedsecrets.sealant.dev",
            "clientConfig": {"url": format!("https://{addr}/validate/sealedsecrets")},
            "rules": [{
                "apiGroups": ["bitnami.com"], "apiVersions": ["v1alpha1"],
                "resources": ["sealedsecrets"], "operations": ["CREATE", "UPDATE"],
            }],
            "namespaceSelector": {"matchLabels": {"sealant.dev/rbac-test": ns.name()}},
            "failurePolicy": "Ignore",
            "sideEffects": "None",
            "timeoutSeconds": 3,
            "admissionReviewVersions": ["v1"],
        }],
    }))?;
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(cluster.client());
    configs.create(&PostParams::default(), &config).await?;

    let kubeconfig = service_account_kubeconfig(&cluster, &docs, "kube-system", ns.name()).await?;
    let selector = format!("--label-selector=sealant.dev/rbac-test={}", ns.name());
    let user = format!(
        "system:serviceaccount:{}:sealed-secrets-controller",
        ns.name()
    );
    let controller = start_as_service_account(
        &kubeconfig,
        ns.name(),
        &[
            &selector,
            &format!("--admission-listen-addr={addr}"),
            &format!("--admission-webhook-config={config_name}"),
            &format!("--admission-tls-secret={tls_secret}"),
            "--admission-cert-hosts=127.0.0.1",
            &format!("--admission-controller-user={user}"),
        ],
    )?;
    let result = async {
        let elsewhere = sealant_core::generate_key(&sealant_core::KeyGenOptions {
            bits: 2048,
            common_name: String::new(),
            validity: time::Duration::days(1),
            now: time::OffsetDateTime::now_utc(),
        })?
        .1;
        let wrong = sealed(&elsewhere, ns.name(), "wrong", &[("password", "pw")], None)?;
        let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
        let dry_run = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        wait_for("the webhook to refuse", DEFAULT_TIMEOUT, || async {
            Ok(match sealed_api.create(&dry_run, &wrong).await {
                Err(kube::Error::Api(status)) if status.code == 422 => Some(()),
                _ => None,
            })
        })
        .await?;
        let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
        ensure!(
            secrets.get_opt(&tls_secret).await?.is_some(),
            "no certificate Secret {tls_secret}"
        );
        let log = controller.log();
        ensure!(
            !log.contains("forbidden"),
            "a request was forbidden:\n{log}"
        );
        Ok(())
    }
    .await;
    configs
        .delete(&config_name, &DeleteParams::default())
        .await?;
    result.with_context(|| format!("controller log:\n{}", controller.log()))?;
    drop(controller);
    ns.cleanup().await
}
