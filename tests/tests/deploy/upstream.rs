//! e2e: upstream's static manifest replaced in place.

use super::*;

// --- e2e: replacing upstream's static manifest ----------------------------------------------

/// Upstream's `controller.yaml` (v0.36, from controller.jsonnet) without its CRD, in namespace
/// `ns`, cluster-scoped names suffixed with `ns`.
fn upstream_controller_yaml(ns: &str) -> anyhow::Result<Vec<Value>> {
    let text = format!(
        r#"
apiVersion: v1
kind: ServiceAccount
metadata: {{name: sealed-secrets-controller, namespace: {ns}, labels: {{name: sealed-secrets-controller}}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: secrets-unsealer-{ns}, labels: {{name: secrets-unsealer}}}}
rules:
- {{apiGroups: [bitnami.com], resources: [sealedsecrets], verbs: [get, list, watch]}}
- {{apiGroups: [bitnami.com], resources: [sealedsecrets/status], verbs: [update]}}
- {{apiGroups: [""], resources: [secrets], verbs: [get, list, create, update, delete, watch]}}
- {{apiGroups: [""], resources: [events], verbs: [create, patch]}}
- {{apiGroups: [""], resources: [namespaces], verbs: [get]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: sealed-secrets-controller-{ns}, labels: {{name: sealed-secrets-controller}}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secrets-unsealer-{ns}}}
subjects: [{{kind: ServiceAccount, name: sealed-secrets-controller, namespace: {ns}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: sealed-secrets-key-admin, namespace: {ns}, labels: {{name: sealed-secrets-key-admin}}}}
rules:
- {{apiGroups: [""], resources: [secrets], verbs: [create, list]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: sealed-secrets-controller, namespace: {ns}, labels: {{name: sealed-secrets-controller}}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: sealed-secrets-key-admin}}
subjects: [{{kind: ServiceAccount, name: sealed-secrets-controller, namespace: {ns}}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: sealed-secrets-service-proxier, namespace: {ns}, labels: {{name: sealed-secrets-service-proxier}}}}
rules:
- apiGroups: [""]
  resources: [services/proxy]
  resourceNames: ["http:sealed-secrets-controller:", sealed-secrets-controller]
  verbs: [create, get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: sealed-secrets-service-proxier, namespace: {ns}, labels: {{name: sealed-secrets-service-proxier}}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: sealed-secrets-service-proxier}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}}]
---
apiVersion: v1
kind: Service
metadata: {{name: sealed-secrets-controller, namespace: {ns}, labels: {{name: sealed-secrets-controller}}}}
spec:
  selector: {{name: sealed-secrets-controller}}
  ports: [{{port: 8080, targetPort: 8080}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: sealed-secrets-controller, namespace: {ns}, labels: {{name: sealed-secrets-controller}}}}
spec:
  selector: {{matchLabels: {{name: sealed-secrets-controller}}}}
  template:
    metadata: {{labels: {{name: sealed-secrets-controller}}}}
    spec:
      serviceAccountName: sealed-secrets-controller
      securityContext: {{fsGroup: 65534}}
      containers:
      - name: sealed-secrets-controller
        image: docker.io/bitnami/sealed-secrets-controller:0.36.6
        command: [controller]
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe: {{httpGet: {{path: /healthz, port: http}}}}
        livenessProbe: {{httpGet: {{path: /healthz, port: http}}}}
        securityContext: {{readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1001}}
        volumeMounts: [{{name: tmp, mountPath: /tmp}}]
      volumes: [{{name: tmp, emptyDir: {{}}}}]
"#
    );
    documents(&text)
}

/// docs/migration.md, path A: over upstream's static manifest (applied with `kubectl apply`),
/// delete upstream's Deployment and `kubectl apply -k deploy/`. Every object ends up exactly as
/// deploy/ describes it: nothing of upstream's container, and upstream's broader RBAC rules gone
/// (the bindings, whose roleRef cannot change, are the same objects).
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn upstream_static_manifest_is_replaced_in_place() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("deploy-upstream").await?;
    kubectl_apply_client_side(&cluster, &upstream_controller_yaml(ns.name())?)?;
    let client = cluster.client();
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), ns.name());
    let binding_uid = |name: String| {
        let api: Api<k8s_openapi::api::rbac::v1::ClusterRoleBinding> = Api::all(client.clone());
        async move { anyhow::Ok(api.get(&name).await?.uid()) }
    };
    let binding = format!("sealed-secrets-controller-{}", ns.name());
    let binding_before = binding_uid(binding.clone()).await?;

    // The guide's steps.
    run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_path())
        .args([
            "delete",
            "deployment",
            "sealed-secrets-controller",
            "-n",
            ns.name(),
        ]))?;
    let mut ours: Vec<Value> = kustomize("deploy")?
        .into_iter()
        .filter(|d| d["kind"] != "CustomResourceDefinition")
        .collect();
    retarget(&mut ours, "kube-system", ns.name());
    suffix_cluster_rbac(&mut ours, ns.name());
    pdb_for(&mut ours, server_minor(&cluster).await?);
    kubectl_apply_client_side(&cluster, &ours)?;

    ensure!(
        binding_uid(binding).await? == binding_before,
        "the binding was re-created"
    );
    let deployment = serde_json::to_value(deployments.get("sealed-secrets-controller").await?)?;
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .context("containers")?;
    ensure!(containers.len() == 1, "{containers:?}");
    ensure!(containers[0]["name"] == "controller" && containers[0]["command"].is_null());
    ensure!(deployment["spec"]["template"]["spec"]["volumes"].is_null());
    assert_hardened(&deployment)?;

    // Every object's content is deploy/'s: RBAC rules and Service ports replaced, not merged.
    for doc in &ours {
        let (kind, name) = (
            doc["kind"].as_str().unwrap_or(""),
            doc["metadata"]["name"].as_str().unwrap_or(""),
        );
        let live = serde_json::from_str::<Value>(&run(Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(cluster.kubeconfig_path())
            .args(["get", kind, name, "-n", ns.name(), "-o", "json"]))?)?;
        for field in ["rules", "roleRef", "subjects"] {
            ensure!(
                live[field] == doc[field],
                "{kind} {name}: {field} {}",
                live[field]
            );
        }
        if kind == "Service" {
            let ports = live["spec"]["ports"].as_array().context("ports")?;
            ensure!(ports.len() == 1, "{name}: {ports:?}");
            for key in ["name", "port", "targetPort"] {
                ensure!(
                    ports[0][key] == doc["spec"]["ports"][0][key],
                    "{name}: {key} {}",
                    ports[0][key]
                );
            }
        }
    }
    ns.cleanup().await?;
    Ok(())
}
