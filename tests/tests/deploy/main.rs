//! deploy/: the kustomize base and overlays, the Helm chart and the image definition.
//!
//! Plain tests (no cluster): the CRD copies are the generated CRD, the chart's values map to
//! real controller flags, versions and default names agree with the code; with helm
//! (tests/setup-deploy.sh), upstream's chart values render with upstream's meaning and the
//! chart refuses what cannot work (values.rs, docs/helm-values.md).
//!
//! e2e tests (`bash tests/e2e.sh manifests_and_chart controller_runs_with status_carries
//! upstream_static helm_upgrade`; helm and kubectl from tests/setup-deploy.sh):
//! every manifest and the rendered chart pass a server-side dry run with strict field
//! validation on the test control plane; the controller runs with exactly the RBAC of the
//! manifests (a ServiceAccount token, no admin rights) and unseals; the status fields GitOps
//! health checks read are asserted for success and failure; `helm upgrade` of an upstream
//! release keeps its keys and unsealing (helm_upgrade.rs).

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
    ControllerProcess, cluster_with_crd, controller_cert, free_local_addr, replace_sealed, sealed,
    wait_requests, wait_secret_data, wait_synced,
};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, repo_file, unique_name, wait_for};

/// Held by the e2e tests that create or dry-run cluster-scoped objects under the chart's
/// default names (the ClusterRoleBinding `sealed-secrets-controller-unsealer`): a dry run of
/// the default render fails with "cannot change roleRef" while the upgrade test's real
/// binding, bound to its own ClusterRole, exists.
static DEFAULT_CLUSTER_NAMES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
        // Set by the chart from admission.* (templates/_admission.tpl, docs/admission.md).
        "admission-listen-addr",
        "admission-webhook-config",
        "admission-tls-secret",
        "admission-cert-hosts",
        "admission-cert-dir",
        "admission-cert-secret",
        "admission-controller-user",
        "plaintext-guard-exempt-users",
        "plaintext-guard-exempt-types",
        "plaintext-guard-exempt-owners",
        // Set by the chart from webUi.enabled (docs/webui.md).
        "web-ui",
        // Set by the chart from keyProtection.* (templates/_keyprotection.tpl,
        // docs/key-protection.md).
        "key-protection",
        "pkcs11-module",
        "pkcs11-token-label",
        "pkcs11-pin-file",
        "pkcs11-kek-label",
        "aws-kms-region",
        "aws-kms-key-id",
        "aws-kms-endpoint",
        // Set by the chart from controller.tenantKeys.* (templates/_tenantkeys.tpl,
        // docs/multi-tenancy.md); tenantKeys itself is the --tenant-keys flag.
        "tenant-label",
        "tenant-allow-cluster-key",
        // Set by the chart from escrow.* (templates/_escrow.tpl, docs/recovery.md).
        "escrow-recipient",
        "escrow-recipients-file",
        "escrow-threshold",
        "escrow-group",
        // A one-shot check run by hand or as an init container, not a controller setting
        // (docs/key-protection.md, "Checking the setup").
        "check-key-protection",
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
    // (The chart's defaults: values::pdb_never_blocks_drains_by_default renders them.)
    let values = read_yaml(&repo_file("deploy/helm/sealant/values.yaml")).unwrap();
    assert!(values["controller"]["keyPrefix"].is_null());
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
        // The tests never pull it; the chart refuses the placeholder image otherwise.
        .args(["--set", "image.allowPlaceholder=true"])
        .args(extra))?)
}

fn kinds<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

const CLUSTER_SCOPED: [&str; 5] = [
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Namespace",
    "ValidatingWebhookConfiguration",
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

mod admission;
mod dry_run;
mod gitops;
mod helm_upgrade;
mod rbac;
mod upstream;
mod values;
