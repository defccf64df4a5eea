//! deploy/: the kustomize base and overlays, the Helm chart and the image definition.
//!
//! Plain tests (no cluster, no tools): the CRD copies are the generated CRD, the chart's
//! values map to real controller flags, versions and default names agree with the code.
//!
//! e2e tests (`bash tests/e2e.sh manifests_and_chart controller_runs_with status_carries
//! upstream_static`; helm and kubectl from tests/setup-deploy.sh):
//! every manifest and the rendered chart pass a server-side dry run with strict field
//! validation on the test control plane; the controller runs with exactly the RBAC of the
//! manifests (a ServiceAccount token, no admin rights) and unseals; the status fields GitOps
//! health checks read are asserted for success and failure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail, ensure};
use clap::CommandFactory as _;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use sealant_controller::crd::SealedSecret;
use sealant_tests::controller::{
    ControllerProcess, cluster_with_crd, controller_cert, free_local_addr, sealed, wait_requests,
    wait_secret_data, wait_synced,
};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, repo_file, unique_name, wait_for};

// --- plain tests -------------------------------------------------------------------------

/// kustomize and Helm read no file outside their own directory, so each keeps a copy of the
/// generated deploy/crd.yaml (`bash deploy/sync-crd.sh` refreshes them).
#[test]
fn crd_copies_are_the_generated_crd() {
    let generated = sealant_controller::crd::crd_yaml().expect("render the CRD");
    for copy in [
        "deploy/crd.yaml",
        "deploy/base/crd.yaml",
        "deploy/helm/sealant/crds/crd.yaml",
    ] {
        let text = std::fs::read_to_string(repo_file(copy)).expect(copy);
        assert!(
            text == generated,
            "{copy} is not the generated CRD: run `bash deploy/sync-crd.sh`"
        );
    }
    let base = read_yaml(&repo_file("deploy/base/kustomization.yaml")).unwrap();
    assert_eq!(
        base["resources"][0], "crd.yaml",
        "the base installs the CRD"
    );
}

/// `keyRenewPeriod` → `key-renew-period`, as the chart's `kebabcase` does.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `controller:` value of the chart becomes a flag the controller has, and every flag
/// an operator may want is a value (the rest are set by the chart itself or make no sense in a
/// pod).
#[test]
fn helm_values_map_to_controller_flags() {
    let values = read_yaml(&repo_file("deploy/helm/sealant/values.yaml")).unwrap();
    let keys: BTreeSet<String> = values["controller"]
        .as_object()
        .expect("values.controller is a map")
        .keys()
        .filter(|k| *k != "extraArgs")
        .map(|k| kebab(k))
        .collect();
    let command = sealant_controller::flags::Args::command();
    let flags: BTreeSet<String> = command
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    let unknown: Vec<_> = keys.difference(&flags).collect();
    assert!(unknown.is_empty(), "values without a flag: {unknown:?}");
    // Set by the chart (listen addresses from containerPorts; the namespace from the pod),
    // meaningless in a pod (kubeconfig), or a hidden deprecated alias.
    let not_values: BTreeSet<String> = [
        "help",
        "version",
        "listen-addr",
        "listen-metrics-addr",
        "kubeconfig",
        "controller-namespace",
        "rotate-period",
    ]
    .map(str::to_owned)
    .into();
    let missing: Vec<_> = flags
        .difference(&keys)
        .filter(|f| !not_values.contains(*f))
        .collect();
    assert!(missing.is_empty(), "flags without a value: {missing:?}");
    // The schema covers exactly the same names (it refuses unknown ones).
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("deploy/helm/sealant/values.schema.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let schema_keys: BTreeSet<String> = schema["properties"]["controller"]["properties"]
        .as_object()
        .expect("schema lists controller values")
        .keys()
        .filter(|k| *k != "extraArgs")
        .map(|k| kebab(k))
        .collect();
    assert_eq!(schema_keys, keys);
}

#[test]
fn versions_and_default_names_agree_with_the_code() {
    let version = env!("CARGO_PKG_VERSION");
    let chart = read_yaml(&repo_file("deploy/helm/sealant/Chart.yaml")).unwrap();
    assert_eq!(chart["version"], version);
    assert_eq!(chart["appVersion"], version);
    let base = read_yaml(&repo_file("deploy/base/kustomization.yaml")).unwrap();
    assert_eq!(base["images"][0]["newTag"], version);

    // The image builds with the toolchain the workspace declares.
    let dockerfile = std::fs::read_to_string(repo_file("deploy/image/Dockerfile")).unwrap();
    let rust = env!("CARGO_PKG_RUST_VERSION");
    assert!(
        dockerfile.contains(&format!(
            "FROM docker.io/library/rust:{rust}-bookworm AS build"
        )),
        "deploy/image/Dockerfile does not build with Rust {rust}"
    );

    // The Service carries the name and namespace the CLI looks for by default (docs/upstream.md,
    // "Known upstream problems we avoid").
    let defaults = cli_defaults();
    let services =
        documents(&std::fs::read_to_string(repo_file("deploy/base/service.yaml")).unwrap())
            .unwrap();
    let service = &services[0];
    assert_eq!(
        service["metadata"]["name"].as_str(),
        defaults.get("controller-name").map(String::as_str)
    );
    assert_eq!(
        service["metadata"]["namespace"].as_str(),
        defaults.get("controller-namespace").map(String::as_str)
    );
    assert_eq!(
        defaults.get("controller-name").map(String::as_str),
        Some("sealed-secrets-controller")
    );

    // RBAC names the key prefix and Lease the controller uses by default.
    let args =
        <sealant_controller::flags::Args as clap::Parser>::try_parse_from(["sealant-controller"])
            .unwrap();
    let rbac = std::fs::read_to_string(repo_file("deploy/base/rbac.yaml")).unwrap();
    assert!(rbac.contains(&format!(
        "resourceNames: [{}, sealant-sync-key]",
        args.key_prefix
    )));
    assert!(rbac.contains(&format!("resourceNames: [{}]", args.leader_election_lease)));
    let values = read_yaml(&repo_file("deploy/helm/sealant/values.yaml")).unwrap();
    assert_eq!(values["controller"]["keyPrefix"], args.key_prefix.as_str());
    assert_eq!(
        values["controller"]["leaderElectionLease"],
        args.leader_election_lease.as_str()
    );
}

/// Defaults of the CLI's long flags, from every subcommand.
fn cli_defaults() -> BTreeMap<String, String> {
    fn walk(command: &clap::Command, out: &mut BTreeMap<String, String>) {
        for arg in command.get_arguments() {
            if let (Some(long), Some(default)) = (arg.get_long(), arg.get_default_values().first())
            {
                out.insert(long.to_owned(), default.to_string_lossy().into_owned());
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = BTreeMap::new();
    walk(&sealant::args::Cli::command(), &mut out);
    out
}

/// The kustomize base's Deployment, checked without rendering (the e2e tests check every
/// rendered variant the same way).
#[test]
fn base_deployment_is_hardened() {
    let deployment = read_yaml(&repo_file("deploy/base/deployment.yaml")).unwrap();
    assert_hardened(&deployment).unwrap();
    assert_eq!(deployment["spec"]["replicas"], 2);
}

fn read_yaml(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    sealant_core::yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, resources,
/// and probes: readiness on /readyz (watch sync), liveness on /healthz.
fn assert_hardened(deployment: &Value) -> anyhow::Result<()> {
    let name = deployment["metadata"]["name"].as_str().unwrap_or("?");
    let pod = &deployment["spec"]["template"]["spec"];
    ensure!(
        pod["securityContext"]["runAsNonRoot"] == true,
        "{name}: pod runAsNonRoot"
    );
    ensure!(
        pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault",
        "{name}: pod seccomp"
    );
    ensure!(
        pod["securityContext"]["runAsUser"].as_i64().unwrap_or(0) > 0,
        "{name}: pod runs as a non-zero uid"
    );
    let containers = pod["containers"].as_array().context("containers")?;
    ensure!(!containers.is_empty(), "{name}: no container");
    for c in containers {
        let sc = &c["securityContext"];
        ensure!(sc["runAsNonRoot"] == true, "{name}: runAsNonRoot");
        ensure!(
            sc["readOnlyRootFilesystem"] == true,
            "{name}: readOnlyRootFilesystem"
        );
        ensure!(
            sc["allowPrivilegeEscalation"] == false,
            "{name}: allowPrivilegeEscalation"
        );
        ensure!(sc["privileged"] != true, "{name}: privileged");
        ensure!(
            sc["capabilities"]["drop"] == json!(["ALL"]),
            "{name}: capabilities"
        );
        ensure!(
            sc["capabilities"]["add"].is_null(),
            "{name}: added capabilities"
        );
        ensure!(
            sc["seccompProfile"]["type"] == "RuntimeDefault",
            "{name}: seccomp"
        );
        // Probes on the metrics port: a flood of the API port (open to every pod) must not
        // fail them and get the controller restarted.
        for probe in ["livenessProbe", "readinessProbe"] {
            ensure!(
                c[probe]["httpGet"]["port"] == "metrics",
                "{name}: {probe} is not on the metrics port: {}",
                c[probe]
            );
        }
        for kind in ["requests", "limits"] {
            ensure!(
                c["resources"][kind]["memory"].is_string(),
                "{name}: memory {kind}"
            );
        }
        ensure!(
            c["readinessProbe"]["httpGet"]["path"] == "/readyz",
            "{name}: readiness must reflect watch sync (/readyz)"
        );
        ensure!(
            c["livenessProbe"]["httpGet"]["path"] == "/healthz",
            "{name}: liveness on /healthz"
        );
        let env: Vec<&str> = c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str())
            .collect();
        ensure!(env.contains(&"POD_NAMESPACE"), "{name}: POD_NAMESPACE");
        ensure!(env.contains(&"POD_NAME"), "{name}: POD_NAME");
        let args: Vec<&str> = c["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        ensure!(
            !args.iter().any(|a| a.starts_with("--kubeconfig")),
            "{name}: in-cluster configuration only"
        );
    }
    Ok(())
}

// --- rendering ---------------------------------------------------------------------------

/// Runs a command; its stdout, or an error with its stderr.
fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// The documents of a YAML stream, nulls (empty documents) left out.
fn documents(text: &str) -> anyhow::Result<Vec<Value>> {
    Ok(sealant_core::yaml::from_str_multiple(text)?)
}

fn kustomize(dir: &str) -> anyhow::Result<Vec<Value>> {
    documents(&run(Command::new("kubectl")
        .arg("kustomize")
        .arg(repo_file(dir)))?)
}

/// `helm template` of the chart (helm from tests/setup-deploy.sh, through deploy/helm.sh).
fn helm_template(namespace: &str, extra: &[&str]) -> anyhow::Result<Vec<Value>> {
    documents(&run(Command::new("bash")
        .arg(repo_file("deploy/helm.sh"))
        .args(["template", "sealant"])
        .arg(repo_file("deploy/helm/sealant"))
        .args(["--namespace", namespace])
        .args(extra))?)
}

fn kinds<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

const CLUSTER_SCOPED: [&str; 4] = [
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Namespace",
];

/// Moves namespaced objects (and ServiceAccount subjects) from `from` to `to`.
fn retarget(docs: &mut [Value], from: &str, to: &str) {
    for doc in docs.iter_mut() {
        if doc["kind"] == "Namespace" && doc["metadata"]["name"] == from {
            doc["metadata"]["name"] = json!(to);
        }
        if doc["metadata"]["namespace"] == from {
            doc["metadata"]["namespace"] = json!(to);
        }
        // get_mut, not [..]: indexing a map mutably inserts a null for a missing key.
        if let Some(subjects) = doc.get_mut("subjects").and_then(Value::as_array_mut) {
            for subject in subjects {
                if subject["namespace"] == from {
                    subject["namespace"] = json!(to);
                }
            }
        }
    }
}

/// Gives cluster-scoped RBAC objects a unique suffix (tests run side by side on one cluster).
fn suffix_cluster_rbac(docs: &mut [Value], suffix: &str) {
    for doc in docs.iter_mut() {
        if doc["kind"] == "ClusterRole" || doc["kind"] == "ClusterRoleBinding" {
            let name = format!(
                "{}-{suffix}",
                doc["metadata"]["name"].as_str().unwrap_or("")
            );
            doc["metadata"]["name"] = json!(name);
        }
        if doc["roleRef"]["kind"] == "ClusterRole" {
            let name = format!("{}-{suffix}", doc["roleRef"]["name"].as_str().unwrap_or(""));
            doc["roleRef"]["name"] = json!(name);
        }
    }
}

/// Kubernetes before 1.21 serves PodDisruptionBudget only as policy/v1beta1 (same fields).
fn pdb_for(docs: &mut [Value], minor: u32) {
    if minor < 21 {
        for doc in docs.iter_mut() {
            if doc["kind"] == "PodDisruptionBudget" && doc["apiVersion"] == "policy/v1" {
                doc["apiVersion"] = json!("policy/v1beta1");
            }
        }
    }
}

fn write_docs(docs: &[Value]) -> anyhow::Result<PathBuf> {
    let mut text = String::new();
    for doc in docs {
        text.push_str("---\n");
        text.push_str(&sealant_core::yaml::to_string(doc)?);
    }
    let path = std::env::temp_dir().join(format!("{}.yaml", unique_name("sealant-deploy")));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `kubectl apply --server-side` of `docs`, as a dry run or for real, with strict field
/// validation (unknown fields fail, which the API server of 1.20 would otherwise drop).
fn kubectl_apply(cluster: &TestCluster, docs: &[Value], dry_run: bool) -> anyhow::Result<String> {
    let path = write_docs(docs)?;
    let mut command = Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_path())
        .args([
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=sealant-deploy-check",
            "--validate=strict",
            "-f",
        ])
        .arg(&path);
    if dry_run {
        command.arg("--dry-run=server");
    }
    let result = run(&mut command);
    let _ = std::fs::remove_file(&path);
    result
}

/// Client-side `kubectl apply` (what upstream's instructions use), with the three-way merge
/// from the last-applied annotation.
fn kubectl_apply_client_side(cluster: &TestCluster, docs: &[Value]) -> anyhow::Result<String> {
    let path = write_docs(docs)?;
    let result = run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_path())
        .args(["apply", "--validate=strict", "-f"])
        .arg(&path));
    let _ = std::fs::remove_file(&path);
    result
}

async fn server_minor(cluster: &TestCluster) -> anyhow::Result<u32> {
    let version = cluster.client().apiserver_version().await?;
    Ok(version.minor.trim_end_matches('+').parse()?)
}

/// A subset of Prometheus Operator's CRDs (monitoring.coreos.com/v1), with the fields deploy/
/// uses, so that the ServiceMonitor and PrometheusRule can be dry-run here: the test control
/// plane has no Prometheus Operator. Field names and types follow the operator's API; fields
/// deploy/ does not use are left out, so a typo fails strict validation.
const MONITORING_CRDS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [selector, endpoints]
            properties:
              jobLabel: {type: string}
              selector:
                type: object
                properties:
                  matchLabels: {type: object, additionalProperties: {type: string}}
                  matchExpressions: {type: array, items: {type: object, x-kubernetes-preserve-unknown-fields: true}}
              namespaceSelector:
                type: object
                properties:
                  any: {type: boolean}
                  matchNames: {type: array, items: {type: string}}
              endpoints:
                type: array
                items:
                  type: object
                  properties:
                    port: {type: string}
                    targetPort: {x-kubernetes-int-or-string: true}
                    path: {type: string}
                    scheme: {type: string}
                    interval: {type: string, pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                    scrapeTimeout: {type: string, pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$'}
                    honorLabels: {type: boolean}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: prometheusrules.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: PrometheusRule, listKind: PrometheusRuleList, plural: prometheusrules, singular: prometheusrule}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            properties:
              groups:
                type: array
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string, minLength: 1}
                    interval: {type: string}
                    rules:
                      type: array
                      items:
                        type: object
                        required: [expr]
                        properties:
                          alert: {type: string}
                          record: {type: string}
                          expr: {x-kubernetes-int-or-string: true}
                          for: {type: string}
                          labels: {type: object, additionalProperties: {type: string}}
                          annotations: {type: object, additionalProperties: {type: string}}
"#;

async fn install_monitoring_crds(cluster: &TestCluster) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client());
    for doc in documents(MONITORING_CRDS)? {
        let crd: CustomResourceDefinition = serde_json::from_value(doc)?;
        let name = crd.name_any();
        api.patch(
            &name,
            &PatchParams::apply("sealant-tests").force(),
            &Patch::Apply(&crd),
        )
        .await?;
        wait_for(&format!("CRD {name}"), DEFAULT_TIMEOUT, || async {
            let crd = api.get(&name).await?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Established" && c.status == "True");
            Ok(established.then_some(()))
        })
        .await?;
    }
    Ok(())
}

// --- e2e: server-side dry runs ------------------------------------------------------------

/// Every kustomization (base and overlays) and the chart (default values and each ci/ values
/// file) render, are hardened, and are accepted by the API server; a typo is not.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn manifests_and_chart_pass_server_side_dry_run() -> anyhow::Result<()> {
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

// --- e2e: least privilege ------------------------------------------------------------------

/// A controller process authenticated as the ServiceAccount of the manifests.
struct ServiceAccountController {
    child: Child,
    log: PathBuf,
}

impl Drop for ServiceAccountController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServiceAccountController {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Applies the ServiceAccount and RBAC objects of `docs` for real, moved from `from` to the
/// controller namespace `ns`; returns a kubeconfig holding the ServiceAccount's token.
async fn service_account_kubeconfig(
    cluster: &TestCluster,
    docs: &[Value],
    from: &str,
    ns: &str,
) -> anyhow::Result<PathBuf> {
    let mut rbac: Vec<Value> = docs
        .iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some(
                    "ServiceAccount"
                        | "ClusterRole"
                        | "ClusterRoleBinding"
                        | "Role"
                        | "RoleBinding"
                )
            )
        })
        .cloned()
        .collect();
    retarget(&mut rbac, from, ns);
    suffix_cluster_rbac(&mut rbac, ns);
    kubectl_apply(cluster, &rbac, false)?;

    // Kubernetes 1.20's token controller writes the token into a Secret the account lists.
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let (token, ca) = wait_for("the ServiceAccount's token", DEFAULT_TIMEOUT, || async {
        let account = accounts.get("sealed-secrets-controller").await?;
        for reference in account.secrets.into_iter().flatten() {
            let Some(name) = reference.name else { continue };
            let Some(secret) = secrets.get_opt(&name).await? else {
                continue;
            };
            let data = secret.data.unwrap_or_default();
            if let (Some(token), Some(ca)) = (data.get("token"), data.get("ca.crt")) {
                return Ok(Some((String::from_utf8(token.0.clone())?, ca.0.clone())));
            }
        }
        Ok(None)
    })
    .await?;
    let server = cluster.config().cluster_url.to_string();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: controller\n  user:\n    token: {token}\ncontexts:\n- name: controller\n  context: {{cluster: test, user: controller, namespace: {ns}}}\ncurrent-context: controller\n",
        ca = sealant_core::base64::encode(&ca),
    );
    let path = std::env::temp_dir().join(format!("{}.kubeconfig", unique_name("sealant-sa")));
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(kubeconfig.as_bytes())?;
    }
    Ok(path)
}

/// Starts the controller with `kubeconfig` (the ServiceAccount's) and otherwise the
/// manifests' configuration: in-cluster defaults, keys and Lease in `ns`.
fn start_as_service_account(
    kubeconfig: &Path,
    ns: &str,
    flags: &[&str],
) -> anyhow::Result<ServiceAccountController> {
    let binary = std::env::var_os("SEALANT_CONTROLLER_BIN")
        .context("SEALANT_CONTROLLER_BIN is not set: run the e2e suite with `bash tests/e2e.sh`")?;
    let log = std::env::temp_dir().join(format!("{}.log", unique_name("sealant-sa-controller")));
    let file = std::fs::File::create(&log)?;
    let child = Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--listen-addr", "127.0.0.1:0"])
        .args(["--listen-metrics-addr", &free_local_addr()?])
        .args(["--key-size", "2048"])
        .args(flags)
        // Every level, so that a refusal logged only at DEBUG is seen too.
        .env("SEALED_SECRETS_LOG_LEVEL", "TRACE")
        // As the Deployment sets them.
        .env("POD_NAMESPACE", ns)
        .env("POD_NAME", format!("{ns}-sa"))
        .env_remove("KUBECONFIG")
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .context("starting sealant-controller")?;
    Ok(ServiceAccountController { child, log })
}

/// Asks the API server whether the controller's ServiceAccount in `ns` may do something.
async fn may(
    cluster: &TestCluster,
    ns: &str,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> anyhow::Result<bool> {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(format!(
                "system:serviceaccount:{ns}:sealed-secrets-controller"
            )),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: namespace.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(cluster.client());
    let answer = api.create(&PostParams::default(), &review).await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// Unseals one SealedSecret in `app_ns` through a controller that holds only the rights of
/// `docs`, and checks it used them all (leader Lease, keys, sync key, events).
async fn unseal_with_manifest_rbac(
    cluster: &TestCluster,
    docs: &[Value],
    from: &str,
    ns: &str,
    app_ns: &str,
    flags: &[&str],
) -> anyhow::Result<()> {
    let kubeconfig = service_account_kubeconfig(cluster, docs, from, ns).await?;
    let controller = start_as_service_account(&kubeconfig, ns, flags)?;
    let result = async {
        let cert = wait_for("the controller's first key", DEFAULT_TIMEOUT, || async {
            let keys: Api<Secret> = Api::namespaced(cluster.client(), ns);
            let list = keys
                .list(
                    &kube::api::ListParams::default()
                        .labels("sealedsecrets.bitnami.com/sealed-secrets-key=active"),
                )
                .await?;
            Ok(list.items.iter().find_map(|s| {
                let pem = s.data.as_ref()?.get("tls.crt")?;
                sealant_core::Certificate::from_pem(&pem.0).ok()
            }))
        })
        .await?;
        let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), app_ns);
        let mut object = sealed(
            &cert,
            app_ns,
            "rbac",
            &[("password", "least-privilege")],
            None,
        )?;
        object
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("sealant.dev/rbac-test".into(), ns.into());
        sealed_api.create(&PostParams::default(), &object).await?;
        let secrets: Api<Secret> = Api::namespaced(cluster.client(), app_ns);
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        wait_synced(&sealed_api, "rbac", "True", 1).await?;
        // Re-created after deletion: the watch on owned Secrets works with these rights.
        secrets.delete("rbac", &Default::default()).await?;
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        let leases: Api<Lease> = Api::namespaced(cluster.client(), ns);
        ensure!(
            leases.get_opt("sealant-controller").await?.is_some(),
            "no leader Lease"
        );
        let own: Api<Secret> = Api::namespaced(cluster.client(), ns);
        ensure!(
            own.get_opt("sealant-sync-key").await?.is_some(),
            "no sync key"
        );

        // Repair: once in sync with a key inventory, the watch cache holds the object without
        // its ciphertexts; a changed Secret makes the controller fetch it whole (`get` on
        // sealedsecrets) and write the Secret back, with no 403 on the way.
        wait_for(
            "the key inventory in the status",
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_api.get("rbac").await?;
                Ok(object
                    .status
                    .as_ref()
                    .and_then(|s| s.key_fingerprints.clone())
                    .filter(|k| !k.is_empty()))
            },
        )
        .await?;
        let mut tampered = secrets.get("rbac").await?;
        tampered.data = Some(BTreeMap::from([(
            "password".to_owned(),
            k8s_openapi::ByteString(b"tampered".to_vec()),
        )]));
        secrets
            .replace("rbac", &PostParams::default(), &tampered)
            .await?;
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        wait_synced(&sealed_api, "rbac", "True", 1).await?;

        // Renewal (as `sealant keys rotate` asks for it): a new key is generated, and an object
        // sealed with it unseals.
        let active = |list: &kube::core::ObjectList<Secret>| {
            list.items
                .iter()
                .filter_map(|s| s.metadata.name.clone())
                .collect::<BTreeSet<_>>()
        };
        let key_label = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
        let before = active(
            &own.list(&kube::api::ListParams::default().labels(key_label))
                .await?,
        );
        let newest = before.iter().next_back().context("no active key")?.clone();
        own.patch(
            &newest,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                sealant_core::keysecret::RENEW_REQUEST_ANNOTATION: "true"}}})),
        )
        .await?;
        let renewed = wait_for("the renewed key", DEFAULT_TIMEOUT, || async {
            let list = own
                .list(&kube::api::ListParams::default().labels(key_label))
                .await?;
            Ok(list.items.into_iter().find_map(|s| {
                let name = s.metadata.name.clone()?;
                if before.contains(&name) {
                    return None;
                }
                sealant_core::Certificate::from_pem(&s.data.as_ref()?.get("tls.crt")?.0).ok()
            }))
        })
        .await?;
        let mut rotated = sealed(
            &renewed,
            app_ns,
            "rbac-renewed",
            &[("password", "renewed")],
            None,
        )?;
        rotated
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("sealant.dev/rbac-test".into(), ns.into());
        sealed_api.create(&PostParams::default(), &rotated).await?;
        wait_secret_data(&secrets, "rbac-renewed", &[("password", "renewed")]).await?;
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(cluster.client(), app_ns);
        wait_for("the Unsealed event", DEFAULT_TIMEOUT, || async {
            let list = events.list(&Default::default()).await?;
            Ok(list
                .items
                .iter()
                .any(|e| e.reason.as_deref() == Some("Unsealed"))
                .then_some(()))
        })
        .await?;
        // The controller runs at TRACE: a refusal logged at any level shows here.
        let log = controller.log();
        ensure!(
            !log.contains("forbidden") && !log.contains("Forbidden"),
            "the controller was refused something:\n{log}"
        );
        Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&kubeconfig);
    result.with_context(|| format!("controller log:\n{}", controller.log()))
}

/// The kustomize base's RBAC (a ClusterRole for unsealing): the controller watches every
/// namespace (narrowed by a label selector, so it leaves other tests' objects alone) and
/// unseals in a namespace other than its own. Nothing beyond that is granted.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn controller_runs_with_the_base_rbac_only() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rbac-base").await?;
    let apps = cluster.namespace("rbac-base-apps").await?;
    let docs = kustomize("deploy")?;
    let selector = format!("--label-selector=sealant.dev/rbac-test={}", ns.name());
    unseal_with_manifest_rbac(
        &cluster,
        &docs,
        "kube-system",
        ns.name(),
        apps.name(),
        &[&selector],
    )
    .await?;

    let (n, a) = (ns.name(), Some(apps.name()));
    // What it needs is granted; what it does not need is not.
    ensure!(may(&cluster, n, "update", "", "secrets", a).await?);
    ensure!(
        may(
            &cluster,
            n,
            "patch",
            "bitnami.com",
            "sealedsecrets/status",
            a
        )
        .await?
    );
    for (verb, group, resource, namespace) in [
        ("delete", "", "secrets", a),
        ("patch", "", "secrets", a),
        ("update", "bitnami.com", "sealedsecrets", a),
        ("create", "bitnami.com", "sealedsecrets", a),
        ("get", "", "namespaces", None),
        ("create", "coordination.k8s.io", "leases", a),
        ("get", "", "configmaps", Some(n)),
        ("delete", "", "secrets", Some(n)),
        (
            "list",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None,
        ),
    ] {
        ensure!(
            !may(&cluster, n, verb, group, resource, namespace).await?,
            "the base RBAC allows {verb} {group}/{resource} in {namespace:?}"
        );
    }
    ns.cleanup().await?;
    apps.cleanup().await?;
    Ok(())
}

/// The single-namespace overlay's RBAC: Roles only (plus reading the CRD); the controller
/// unseals in its namespace and may not touch Secrets anywhere else.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn controller_runs_with_the_single_namespace_rbac_only() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rbac-ns").await?;
    let other = cluster.namespace("rbac-ns-other").await?;
    let docs = kustomize("deploy/overlays/single-namespace")?;
    let deployment = kinds(&docs, "Deployment")[0].clone();
    let args: Vec<String> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    ensure!(
        args.contains(&"--all-namespaces=false".to_owned()),
        "{args:?}"
    );
    let flags: Vec<&str> = args.iter().map(String::as_str).collect();
    unseal_with_manifest_rbac(&cluster, &docs, "sealant", ns.name(), ns.name(), &flags).await?;

    let (n, o) = (ns.name(), Some(other.name()));
    for (verb, resource) in [
        ("get", "secrets"),
        ("list", "secrets"),
        ("create", "secrets"),
    ] {
        ensure!(
            !may(&cluster, n, verb, "", resource, o).await?,
            "the single-namespace RBAC allows {verb} {resource} in another namespace"
        );
    }
    ensure!(!may(&cluster, n, "list", "bitnami.com", "sealedsecrets", o).await?);
    ensure!(!may(&cluster, n, "list", "", "secrets", None).await?);
    ns.cleanup().await?;
    other.cleanup().await?;
    Ok(())
}

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
    let mut fixed = sealed(&cert, ns.name(), "bad", &[("k", "v2")], None)?;
    fixed.metadata.resource_version = api.get("bad").await?.metadata.resource_version;
    api.replace("bad", &PostParams::default(), &fixed).await?;
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
