//! e2e: `helm upgrade` of a release of upstream's chart to sealant's chart (docs/migration.md,
//! path B), with upstream's values unchanged but for the image.

use super::rbac::{start_as_service_account, token_kubeconfig};
use super::*;

/// A stand-in for upstream's `sealed-secrets` chart 2.18.5 as installed with
/// `fullnameOverride=sealed-secrets-controller`: the objects it renders with its default
/// values, under the same names, labels and selector (the CRD comes from its `crds/`, which Helm
/// never deletes; here the test cluster has it already). `CLUSTER_ROLE` is the cluster-scoped
/// ClusterRole's name, made unique per test.
const UPSTREAM_CHART: &str = r#"
{{- $labels := dict "app.kubernetes.io/name" "sealed-secrets" "helm.sh/chart" "sealed-secrets-2.18.5" "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/managed-by" .Release.Service "app.kubernetes.io/version" "0.36.6" "app.kubernetes.io/part-of" "sealed-secrets" }}
{{- $select := dict "app.kubernetes.io/name" "sealed-secrets" "app.kubernetes.io/instance" .Release.Name }}
{{- $name := "sealed-secrets-controller" }}
{{- $sa := dict "apiGroup" "" "kind" "ServiceAccount" "name" $name "namespace" .Release.Namespace }}
apiVersion: v1
kind: ServiceAccount
metadata: {name: {{ $name }}, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: {{ .Values.clusterRole }}, labels: {{ toJson $labels }}}
rules:
  - {apiGroups: [bitnami.com], resources: [sealedsecrets], verbs: [get, list, watch]}
  - {apiGroups: [bitnami.com], resources: [sealedsecrets/status], verbs: [update]}
  - {apiGroups: [""], resources: [secrets], verbs: [get, list, create, update, delete, watch]}
  - {apiGroups: [""], resources: [events], verbs: [create, patch]}
  - {apiGroups: [""], resources: [namespaces], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: {{ $name }}-{{ .Release.Namespace }}, labels: {{ toJson $labels }}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ .Values.clusterRole }}}
subjects: [{{ toJson $sa }}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: {{ $name }}-key-admin, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [create, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: {{ $name }}-key-admin, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ $name }}-key-admin}
subjects: [{{ toJson $sa }}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: {{ $name }}-service-proxier, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
rules:
  - {apiGroups: [""], resources: [services], resourceNames: [{{ $name }}], verbs: [get]}
  - {apiGroups: [""], resources: [services/proxy], resourceNames: ["http:{{ $name }}:", "http:{{ $name }}:http", {{ $name }}], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: {{ $name }}-service-proxier, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ $name }}-service-proxier}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}]
---
apiVersion: v1
kind: Service
metadata: {name: {{ $name }}, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
spec:
  type: ClusterIP
  selector: {{ toJson $select }}
  ports: [{name: http, port: 8080, targetPort: http, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: {{ $name }}-metrics, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
spec:
  type: ClusterIP
  selector: {{ toJson $select }}
  ports: [{name: http-metrics, port: 8081, targetPort: metrics, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ $name }}, namespace: {{ .Release.Namespace }}, labels: {{ toJson $labels }}}
spec:
  selector: {matchLabels: {{ toJson $select }}}
  template:
    metadata: {labels: {{ toJson $labels }}}
    spec:
      serviceAccountName: {{ $name }}
      securityContext: {fsGroup: 65534}
      containers:
        - name: controller
          image: docker.io/bitnami/sealed-secrets-controller:0.36.6
          command: [controller]
          args: [--update-status, --key-prefix, sealed-secrets-key, --listen-addr, ":8080", --listen-metrics-addr, ":8081"]
          ports: [{name: http, containerPort: 8080, protocol: TCP}, {name: metrics, containerPort: 8081, protocol: TCP}]
          livenessProbe: {httpGet: {path: /healthz, port: http}}
          readinessProbe: {httpGet: {path: /healthz, port: http}}
          securityContext: {readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1001, capabilities: {drop: [ALL]}}
          volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
"#;

fn helm(cluster: &TestCluster, args: &[&str]) -> anyhow::Result<String> {
    run(Command::new("bash")
        .arg(repo_file("deploy/helm.sh"))
        .args(args)
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_path()))
}

/// Name -> (UID, data) of the key Secrets in `ns`.
async fn key_secrets(
    cluster: &TestCluster,
    ns: &str,
) -> anyhow::Result<BTreeMap<String, (String, Value)>> {
    let api: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let list = api
        .list(
            &kube::api::ListParams::default()
                .labels("sealedsecrets.bitnami.com/sealed-secrets-key"),
        )
        .await?;
    Ok(list
        .items
        .into_iter()
        .map(|s| {
            let data = serde_json::to_value(&s.data).unwrap_or_default();
            (s.name_any(), (s.uid().unwrap_or_default(), data))
        })
        .collect())
}

/// Upstream's release, upgraded in place to sealant's chart with upstream's default values
/// (plus the image): the Deployment, its selector and the Services are the same objects, the
/// key Secrets are untouched, and unsealing goes on across the switch: the old controller (the
/// stand-in for upstream's pod, which a rolling update with `maxUnavailable: 0` keeps until
/// the new pod is ready) unseals before, the new one, with exactly the upgraded release's
/// RBAC, takes over with the same keys and creates none.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn helm_upgrade_from_upstream_release_keeps_keys_and_unsealing() -> anyhow::Result<()> {
    let _names = DEFAULT_CLUSTER_NAMES.lock().await;
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("helm-upgrade").await?;
    let n = ns.name();
    let cluster_role = format!("secrets-unsealer-{n}");
    let selector_label = format!("sealant.dev/helm-upgrade-test={n}");

    // 1. Upstream's release, and its controller making a key and unsealing.
    let chart = std::env::temp_dir().join(unique_name("upstream-chart"));
    std::fs::create_dir_all(chart.join("templates"))?;
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: sealed-secrets\nversion: 2.18.5\nappVersion: 0.36.6\n",
    )?;
    std::fs::write(chart.join("templates/all.yaml"), UPSTREAM_CHART)?;
    let release_values = format!("clusterRole={cluster_role}");
    helm(
        &cluster,
        &[
            "install",
            "sealed-secrets",
            chart.to_str().unwrap(),
            "-n",
            n,
            "--set",
            &release_values,
        ],
    )?;
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(cluster.client(), n);
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(cluster.client(), n);
    let before = serde_json::to_value(deployments.get("sealed-secrets-controller").await?)?;
    let service_uid = services.get("sealed-secrets-controller").await?.uid();

    let old = ControllerProcess::start(
        &cluster,
        n,
        &[
            "--leader-elect=false",
            &format!("--label-selector={selector_label}"),
        ],
    )?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), n);
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), n);
    let labelled = |mut object: SealedSecret| {
        let (k, v) = selector_label.split_once('=').unwrap();
        object
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        object
    };
    sealed_api
        .create(
            &PostParams::default(),
            &labelled(sealed(&cert, n, "before", &[("password", "old")], None)?),
        )
        .await?;
    wait_secret_data(&secrets, "before", &[("password", "old")]).await?;
    let before_secret_uid = secrets.get("before").await?.uid();
    let keys_before = key_secrets(&cluster, n).await?;
    ensure!(keys_before.len() == 1, "{keys_before:?}");

    // 2. The upgrade: upstream's default values, unchanged but for the image (and the unique
    // ClusterRole name of this test), as docs/migration.md says.
    let upstream_values = repo_file("deploy/helm/upstream-values/default.yaml");
    // One that would rename the release's objects (here through nameOverride) is refused
    // before anything changes, with the fullnameOverride that keeps them (checked below: the
    // same Deployment and Service afterwards).
    let renaming = format!(
        "nameOverride=renamed,image.registry=registry.example,\
         image.repository=platform/sealant-controller,image.tag=0.1.0,rbac.clusterRoleName={cluster_role}"
    );
    let refused = helm(
        &cluster,
        &[
            "upgrade",
            "sealed-secrets",
            repo_file("deploy/helm/sealant").to_str().unwrap(),
            "-n",
            n,
            "-f",
            upstream_values.to_str().unwrap(),
            "--set",
            &renaming,
        ],
    );
    let message = refused
        .err()
        .context("an upgrade renaming the objects was accepted")?
        .to_string();
    ensure!(
        message.contains("set fullnameOverride=sealed-secrets-controller to keep the names"),
        "{message}"
    );
    let set = format!(
        "fullnameOverride=sealed-secrets-controller,image.registry=registry.example,\
         image.repository=platform/sealant-controller,image.tag=0.1.0,rbac.clusterRoleName={cluster_role}"
    );
    helm(
        &cluster,
        &[
            "upgrade",
            "sealed-secrets",
            repo_file("deploy/helm/sealant").to_str().unwrap(),
            "-n",
            n,
            "-f",
            upstream_values.to_str().unwrap(),
            "--set",
            &set,
        ],
    )?;

    // The same Deployment, rolled (not replaced): its selector kept, no pod taken down first.
    let after = serde_json::to_value(deployments.get("sealed-secrets-controller").await?)?;
    ensure!(
        after["metadata"]["uid"] == before["metadata"]["uid"],
        "the Deployment was re-created"
    );
    ensure!(
        after["spec"]["selector"] == before["spec"]["selector"],
        "{}",
        after["spec"]["selector"]
    );
    ensure!(after["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0);
    let containers = after["spec"]["template"]["spec"]["containers"]
        .as_array()
        .context("containers")?;
    ensure!(containers.len() == 1, "{containers:?}");
    ensure!(containers[0]["image"] == "registry.example/platform/sealant-controller:0.1.0");
    ensure!(
        containers[0]["command"].is_null(),
        "upstream's command is gone: {}",
        containers[0]
    );
    ensure!(
        after["spec"]["template"]["spec"]["volumes"].is_null(),
        "upstream's volume is gone"
    );
    ensure!(services.get("sealed-secrets-controller").await?.uid() == service_uid);
    ensure!(
        key_secrets(&cluster, n).await? == keys_before,
        "the key Secrets changed"
    );
    // Upstream's broader rights are gone: the ClusterRole is sealant's now.
    let roles: Api<k8s_openapi::api::rbac::v1::ClusterRole> = Api::all(cluster.client());
    let rules = serde_json::to_value(roles.get(&cluster_role).await?.rules)?;
    ensure!(
        !rules.to_string().contains("delete") && !rules.to_string().contains("namespaces"),
        "{rules}"
    );

    // 3. The new pod: sealant-controller with the upgraded release's ServiceAccount and its
    // Deployment's flags, started while the old one still runs (the rolling update's overlap).
    let args: Vec<String> = containers[0]["args"]
        .as_array()
        .context("args")?
        .iter()
        .filter_map(Value::as_str)
        .filter(|a| !a.starts_with("--listen"))
        .map(str::to_owned)
        .chain([format!("--label-selector={selector_label}")])
        .collect();
    let flags: Vec<&str> = args.iter().map(String::as_str).collect();
    let kubeconfig = token_kubeconfig(&cluster, n).await?;
    let new = start_as_service_account(&kubeconfig, n, &flags)?;
    let result = async {
        wait_for(
            "the new controller's leader Lease",
            DEFAULT_TIMEOUT,
            || async {
                let leases: Api<Lease> = Api::namespaced(cluster.client(), n);
                Ok(leases.get_opt("sealant-controller").await?.map(|_| ()))
            },
        )
        .await?;
        drop(old);
        // Sealed with the old key after the switch: the new controller unseals it.
        sealed_api
            .create(
                &PostParams::default(),
                &labelled(sealed(&cert, n, "after", &[("password", "new")], None)?),
            )
            .await?;
        wait_secret_data(&secrets, "after", &[("password", "new")]).await?;
        wait_synced(&sealed_api, "after", "True", 1).await?;
        // The earlier Secret stays the same object, with the same data.
        wait_synced(&sealed_api, "before", "True", 1).await?;
        ensure!(
            secrets.get("before").await?.uid() == before_secret_uid,
            "Secret re-created"
        );
        wait_secret_data(&secrets, "before", &[("password", "old")]).await?;
        // No key lost, none made.
        ensure!(
            key_secrets(&cluster, n).await? == keys_before,
            "the key Secrets changed"
        );
        let log = new.log();
        ensure!(
            !log.contains("forbidden") && !log.contains("Forbidden"),
            "refused:\n{log}"
        );
        Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&kubeconfig);
    let _ = std::fs::remove_dir_all(&chart);
    result.with_context(|| format!("new controller log:\n{}", new.log()))?;
    helm(&cluster, &["uninstall", "sealed-secrets", "-n", n])?;
    ns.cleanup().await?;
    Ok(())
}
