//! Rollouts on the real control plane (docs/rollout.md): kube-controller-manager runs the
//! Deployment controller, so a rollout is a new ReplicaSet. One controller with `--rollout`, one
//! Deployment: a change of data rolls it out exactly once; an unchanged re-seal and a restart
//! roll nothing; a change whose patch a stop missed is caught up at the next start; a workload
//! of another namespace cannot be named.

use anyhow::Context as _;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, wait_for};

const ANNOTATION: &str = "sealant.dev/rollout";
const DIGEST_KEY: &str = "rollout.sealant.dev/app";

/// Deployment `name` in `namespace` that reads Secret `app` through its environment.
async fn deployment(cluster: &TestCluster, namespace: &str, name: &str) -> anyhow::Result<()> {
    let object: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [{
                    "name": "app",
                    "image": "example.invalid/app:1",
                    "envFrom": [{ "secretRef": { "name": "app" } }],
                }] },
            },
        },
    }))?;
    Api::<Deployment>::namespaced(cluster.client(), namespace)
        .create(&PostParams::default(), &object)
        .await?;
    Ok(())
}

/// The ReplicaSets of Deployment `name`: one per pod template it has had.
async fn replica_sets(cluster: &TestCluster, namespace: &str, name: &str) -> anyhow::Result<usize> {
    let sets = Api::<ReplicaSet>::namespaced(cluster.client(), namespace)
        .list(&ListParams::default().labels(&format!("app={name}")))
        .await?;
    Ok(sets
        .items
        .iter()
        .filter(|rs| rs.owner_references().iter().any(|o| o.name == name))
        .count())
}

async fn wait_replica_sets(
    cluster: &TestCluster,
    namespace: &str,
    name: &str,
    count: usize,
) -> anyhow::Result<()> {
    wait_for(
        &format!("{count} ReplicaSets of {namespace}/{name}"),
        DEFAULT_TIMEOUT,
        || async { Ok((replica_sets(cluster, namespace, name).await? == count).then_some(())) },
    )
    .await
}

/// The digest of Secret `app` on the pod template of Deployment `name`.
async fn template_digest(
    cluster: &TestCluster,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Option<String>> {
    let object = Api::<Deployment>::namespaced(cluster.client(), namespace)
        .get(name)
        .await?;
    Ok(object
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .and_then(|a| a.get(DIGEST_KEY).cloned()))
}

/// SealedSecret `app` with `password` and the rollout annotation.
fn app(
    cert: &Certificate,
    namespace: &str,
    password: &str,
    targets: &str,
) -> anyhow::Result<SealedSecret> {
    let mut object = sealed(cert, namespace, "app", &[("password", password)], None)?;
    object
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(ANNOTATION.into(), targets.into());
    Ok(object)
}

/// Replaces SealedSecret `app`; returns the new generation.
async fn replace(api: &Api<SealedSecret>, object: SealedSecret) -> anyhow::Result<i64> {
    let replaced = replace_sealed(api, "app", object).await?;
    replaced.metadata.generation.context("no generation")
}

/// The `RolloutFailed` condition's message, once it says `needle`.
async fn wait_rollout_condition(api: &Api<SealedSecret>, needle: &str) -> anyhow::Result<String> {
    wait_for(
        &format!("a RolloutFailed condition saying {needle:?}"),
        DEFAULT_TIMEOUT,
        || async {
            let object = api.get("app").await?;
            Ok(object
                .status
                .and_then(|s| s.conditions)
                .into_iter()
                .flatten()
                .find(|c| c.type_ == "RolloutFailed" && c.status == "True")
                .and_then(|c| c.message)
                .filter(|m| m.contains(needle)))
        },
    )
    .await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn rollout_once_per_change_never_on_restart_nor_reseal() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rollout").await?;
    let other = cluster.namespace("rollout-other").await?;
    let n = ns.name();
    let flags = ["--leader-elect=false", "--rollout"];
    let mut controller = ControllerProcess::start(&cluster, n, &flags)?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), n);
    let secrets = Api::namespaced(cluster.client(), n);
    deployment(&cluster, n, "web").await?;
    deployment(&cluster, other.name(), "web").await?;
    wait_replica_sets(&cluster, n, "web", 1).await?;
    wait_replica_sets(&cluster, other.name(), "web", 1).await?;

    // Created: the Deployment was waiting for the Secret; nothing to roll out.
    sealed_api
        .create(
            &PostParams::default(),
            &app(&cert, n, "v1", "deployment/web")?,
        )
        .await?;
    wait_secret_data(&secrets, "app", &[("password", "v1")]).await?;
    wait_synced(&sealed_api, "app", "True", 1)
        .await
        .with_context(|| controller.log())?;
    assert_eq!(template_digest(&cluster, n, "web").await?, None);

    // Changed data: one rollout, one new ReplicaSet.
    let generation = replace(&sealed_api, app(&cert, n, "v2", "deployment/web")?).await?;
    wait_secret_data(&secrets, "app", &[("password", "v2")]).await?;
    wait_synced(&sealed_api, "app", "True", generation).await?;
    let digest = template_digest(&cluster, n, "web")
        .await?
        .context("no digest on the pod template after a change")?;
    assert!(digest.starts_with("v1:"), "{digest}");
    wait_replica_sets(&cluster, n, "web", 2).await?;

    // The same values sealed again (new ciphertexts): the data is unchanged, nothing rolls.
    let generation = replace(&sealed_api, app(&cert, n, "v2", "deployment/web")?).await?;
    wait_synced(&sealed_api, "app", "True", generation).await?;
    assert_eq!(
        template_digest(&cluster, n, "web").await?,
        Some(digest.clone())
    );

    // A restart: every object is looked at again, nothing rolls. The missing workload added to
    // the annotation marks a reconcile after the restart (it checks `web` with empty memory).
    controller.child.kill()?;
    controller.child.wait()?;
    controller = ControllerProcess::start(&cluster, n, &flags)?;
    let mut object = sealed_api.get("app").await?;
    object
        .annotations_mut()
        .insert(ANNOTATION.into(), "deployment/web, deployment/ghost".into());
    replace_sealed(&sealed_api, "app", object).await?;
    let message = wait_rollout_condition(&sealed_api, "deployment/ghost: not found")
        .await
        .with_context(|| controller.log())?;
    assert!(!message.contains("deployment/web"), "{message}");
    assert_eq!(
        template_digest(&cluster, n, "web").await?,
        Some(digest.clone())
    );

    // A stop between the Secret write and the patch: the data is already in the Secret when the
    // controller starts, so the reconcile changes no data; the workload still carries the
    // older digest of ours, which is caught up once.
    controller.child.kill()?;
    controller.child.wait()?;
    let generation = replace(&sealed_api, app(&cert, n, "v3", "deployment/web")?).await?;
    let v3 = k8s_openapi::ByteString(sealant_tests::canary::embed("v3").into_bytes());
    let written = serde_json::json!({ "data": { "password": v3 } });
    secrets
        .patch("app", &PatchParams::default(), &Patch::Merge(&written))
        .await?;
    controller = ControllerProcess::start(&cluster, n, &flags)?;
    wait_synced(&sealed_api, "app", "True", generation)
        .await
        .with_context(|| controller.log())?;
    let caught_up = template_digest(&cluster, n, "web")
        .await?
        .context("no digest")?;
    assert_ne!(caught_up, digest, "the missed change was not caught up");
    wait_replica_sets(&cluster, n, "web", 3).await?;

    // Another namespace cannot be named: refused as a whole with a message, even with a change
    // of data, and neither Deployment is touched.
    let targets = format!("deployment/web, {}/web", other.name());
    let generation = replace(&sealed_api, app(&cert, n, "v4", &targets)?).await?;
    wait_secret_data(&secrets, "app", &[("password", "v4")]).await?;
    wait_synced(&sealed_api, "app", "True", generation).await?;
    let refused = format!("{}/web", other.name());
    let message = wait_rollout_condition(&sealed_api, &refused).await?;
    assert!(message.contains("namespace"), "{message}");
    assert_eq!(template_digest(&cluster, n, "web").await?, Some(caught_up));
    assert_eq!(template_digest(&cluster, other.name(), "web").await?, None);

    // Exactly once per change: two changes rolled out, two ReplicaSets after the first, two
    // RolledOut events.
    assert_eq!(replica_sets(&cluster, n, "web").await?, 3);
    assert_eq!(replica_sets(&cluster, other.name(), "web").await?, 1);
    let events = Api::<Event>::namespaced(cluster.client(), n)
        .list(&ListParams::default())
        .await?;
    let rolled = events
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("RolledOut"))
        .count();
    assert_eq!(rolled, 2, "RolledOut events");
    drop(controller);
    other.cleanup().await?;
    ns.cleanup().await?;
    Ok(())
}

/// Runs a command; its stdout.
fn run(command: &mut std::process::Command) -> anyhow::Result<String> {
    let output = command.output().with_context(|| format!("{command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

fn helm(extra: &[&str]) -> anyhow::Result<Vec<serde_json::Value>> {
    let text = run(std::process::Command::new("bash")
        .arg(sealant_tests::repo_file("deploy/helm.sh"))
        .args(["template", "sealant"])
        .arg(sealant_tests::repo_file("deploy/helm/sealant"))
        .args([
            "--namespace",
            "apps",
            "--set",
            "image.allowPlaceholder=true",
        ])
        .args(extra))?;
    Ok(sealant_core::yaml::from_str_multiple(&text)?)
}

/// `kubectl kustomize` of the base, with the rollout component when `component`.
fn kustomize(component: bool) -> anyhow::Result<Vec<serde_json::Value>> {
    let dir = tempfile_dir()?;
    let relative = |path: &str| -> anyhow::Result<String> {
        let out = run(std::process::Command::new("realpath")
            .arg(format!("--relative-to={}", dir.display()))
            .arg(sealant_tests::repo_file(path)))?;
        Ok(out.trim().to_owned())
    };
    let mut kustomization = format!("resources:\n  - {}\n", relative("deploy/base")?);
    if component {
        kustomization += &format!(
            "components:\n  - {}\n",
            relative("deploy/components/rollout")?
        );
    }
    std::fs::write(dir.join("kustomization.yaml"), kustomization)?;
    let text = run(std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(sealant_core::yaml::from_str_multiple(&text?)?)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("rollout-kustomize"));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The rules of every RBAC object whose name says rollout, by kind.
fn rollout_rules(docs: &[serde_json::Value]) -> Vec<(String, serde_json::Value)> {
    docs.iter()
        .filter(|d| d["kind"] == "ClusterRole" || d["kind"] == "Role")
        .filter(|d| {
            d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.contains("rollout"))
        })
        .map(|d| {
            (
                d["kind"].as_str().unwrap_or("").to_owned(),
                d["rules"].clone(),
            )
        })
        .collect()
}

fn controller_args(docs: &[serde_json::Value]) -> Vec<String> {
    docs.iter()
        .filter(|d| d["kind"] == "Deployment")
        .flat_map(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["args"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect()
}

/// Plain (helm and kubectl from tests/setup-deploy.sh, no cluster): the workload rights come
/// only with the flag, and are exactly what the controller uses (docs/rollout.md, "RBAC").
#[test]
fn rollout_rbac_only_when_enabled_and_only_get_and_patch() -> anyhow::Result<()> {
    let expected = serde_json::json!([{
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
        "verbs": ["get", "patch"],
    }]);
    let is_rollout_flag = |a: &String| a.starts_with("--rollout");

    // Off by default: no flag, no rule on workloads anywhere.
    for docs in [helm(&[])?, kustomize(false)?] {
        assert!(rollout_rules(&docs).is_empty());
        assert!(!controller_args(&docs).iter().any(is_rollout_flag));
        let text = serde_json::to_string(&docs)?;
        assert!(
            !text.contains("deployments"),
            "a rule on workloads without --rollout"
        );
    }

    // On: one ClusterRole (cluster-wide controller), or one Role per watched namespace.
    let docs = helm(&["--set", "controller.rollout=true"])?;
    assert_eq!(
        rollout_rules(&docs),
        vec![("ClusterRole".to_owned(), expected.clone())]
    );
    assert!(controller_args(&docs).contains(&"--rollout=true".to_owned()));
    let docs = helm(&[
        "--set",
        "controller.rollout=true,controller.allNamespaces=false,controller.additionalNamespaces={team-a}",
    ])?;
    assert_eq!(
        rollout_rules(&docs),
        vec![
            ("Role".to_owned(), expected.clone()),
            ("Role".to_owned(), expected.clone())
        ]
    );
    let docs = kustomize(true)?;
    assert_eq!(
        rollout_rules(&docs),
        vec![("ClusterRole".to_owned(), expected)]
    );
    assert!(controller_args(&docs).contains(&"--rollout".to_owned()));
    Ok(())
}
