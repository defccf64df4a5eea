//! Multi-tenancy on the real control plane (docs/multi-tenancy.md): the namespace-selector
//! scope across matching, non-matching and relabelled namespaces, and two namespace-scoped
//! controllers side by side, each with its own keys, neither touching the other's objects.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::{Certificate, SealOptions, seal_secret};
use sealant_tests::controller::*;
use sealant_tests::{
    DEFAULT_TIMEOUT, TEST_NAMESPACE_LABEL, TestCluster, repo_file, unique_name, wait_for,
};
use serde_json::{Value, json};

/// A SealedSecret of `{token: value}` bound to `selector`, with the leak canary in front of the
/// value as [`sealed`] does.
fn selector_sealed(
    cert: &Certificate,
    namespace: &str,
    name: &str,
    selector: &str,
    value: &str,
) -> anyhow::Result<SealedSecret> {
    let value = sealant_tests::canary::embed(value);
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  annotations: {{{ANNOTATION_NAMESPACE_SELECTOR}: {selector:?}}}\nstringData:\n  token: {value:?}\n"
    );
    let secret = sealant_core::object::read_secrets(&yaml)?.remove(0);
    let core = seal_secret(secret, cert.public_key(), &SealOptions::default())?;
    Ok(serde_json::from_value(serde_json::to_value(core)?)?)
}

/// `object` moved to `namespace` (a tenant's copy), without server-set fields.
fn copied(object: &SealedSecret, namespace: &str) -> SealedSecret {
    let mut copy = object.clone();
    copy.metadata.namespace = Some(namespace.to_owned());
    copy.metadata.resource_version = None;
    copy.metadata.uid = None;
    copy.metadata.creation_timestamp = None;
    copy.metadata.generation = None;
    copy.metadata.managed_fields = None;
    copy.status = None;
    copy
}

/// Sets (or with `None` removes) label `team` on namespace `name`.
async fn label_team(
    namespaces: &Api<Namespace>,
    name: &str,
    team: Option<&str>,
) -> anyhow::Result<()> {
    let patch = serde_json::json!({ "metadata": { "labels": { "team": team } } });
    namespaces
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// The `Synced` condition: status, reason, message.
fn synced(object: &SealedSecret) -> Option<(String, Option<String>, String)> {
    let condition = object
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Synced")?;
    Some((
        condition.status.clone(),
        condition.reason.clone(),
        condition.message.clone().unwrap_or_default(),
    ))
}

/// Waits until `name` reports `Synced=status` with `reason`.
async fn wait_condition(
    api: &Api<SealedSecret>,
    name: &str,
    status: &str,
    reason: Option<&str>,
) -> anyhow::Result<SealedSecret> {
    wait_for(
        &format!("{name} Synced={status} reason {reason:?}"),
        DEFAULT_TIMEOUT,
        || async {
            let object = api.get(name).await?;
            let ok = synced(&object).is_some_and(|(s, r, _)| s == status && r.as_deref() == reason);
            Ok(ok.then_some(object))
        },
    )
    .await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn namespace_selector_scope_follows_namespace_labels() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let cluster = cluster_with_crd().await?;
    let ctl = cluster.namespace("sel-ctl").await?;
    let payments = cluster.namespace("sel-pay").await?;
    let other = cluster.namespace("sel-other").await?;
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    label_team(&namespaces, payments.name(), Some("payments")).await?;
    let watched = format!("{},{}", payments.name(), other.name());
    let controller = ControllerProcess::start(
        &cluster,
        ctl.name(),
        &[
            "--leader-elect=false",
            "--additional-namespaces",
            &watched,
            "--namespace-selector-scope",
        ],
    )?;
    let cert = controller_cert(&cluster, &ctl).await?;
    let pay_sealed: Api<SealedSecret> = Api::namespaced(cluster.client(), payments.name());
    let pay_secrets: Api<Secret> = Api::namespaced(cluster.client(), payments.name());
    let other_sealed: Api<SealedSecret> = Api::namespaced(cluster.client(), other.name());
    let other_secrets: Api<Secret> = Api::namespaced(cluster.client(), other.name());

    // A matching namespace: unsealed.
    let object = selector_sealed(&cert, payments.name(), "db", "team in (payments)", "pw-1")?;
    pay_sealed.create(&PostParams::default(), &object).await?;
    wait_secret_data(&pay_secrets, "db", &[("token", "pw-1")])
        .await
        .with_context(|| controller.log())?;
    wait_condition(&pay_sealed, "db", "True", None).await?;

    // A copy into a namespace the selector does not match: refused with the reason, no Secret.
    other_sealed
        .create(&PostParams::default(), &copied(&object, other.name()))
        .await?;
    let refused = wait_condition(&other_sealed, "db", "False", Some("NamespaceNotSelected"))
        .await
        .with_context(|| controller.log())?;
    let (_, _, message) = synced(&refused).unwrap_or_default();
    anyhow::ensure!(message.contains("team in (payments)"), "{message}");
    anyhow::ensure!(other_secrets.get_opt("db").await?.is_none());

    // A tenant who rewrites the selector to match its namespace gets the opaque decrypt error.
    let mut widened = copied(&object, other.name());
    widened.metadata.name = Some("widened".into());
    widened.annotations_mut().insert(
        ANNOTATION_NAMESPACE_SELECTOR.into(),
        TEST_NAMESPACE_LABEL.into(),
    );
    other_sealed
        .create(&PostParams::default(), &widened)
        .await?;
    let failed = wait_condition(&other_sealed, "widened", "False", None).await?;
    let (_, _, message) = synced(&failed).unwrap_or_default();
    anyhow::ensure!(message.contains("no key could decrypt"), "{message}");
    anyhow::ensure!(other_secrets.get_opt("widened").await?.is_none());

    // The namespace stops matching: the Secret stays as it is, the status says why.
    label_team(&namespaces, payments.name(), Some("billing")).await?;
    wait_condition(&pay_sealed, "db", "False", Some("NamespaceNotSelected"))
        .await
        .with_context(|| controller.log())?;
    let kept = pay_secrets.get("db").await?;
    anyhow::ensure!(stripped_data(&kept).get("token").map(Vec::as_slice) == Some(&b"pw-1"[..]));
    // ...and a new value is not unsealed into it meanwhile.
    let update = selector_sealed(&cert, payments.name(), "db", "team in (payments)", "pw-2")?;
    let generation = replace_sealed(&pay_sealed, "db", update)
        .await?
        .metadata
        .generation
        .unwrap_or_default();
    wait_for("the update refused", DEFAULT_TIMEOUT, || async {
        let object = pay_sealed.get("db").await?;
        let done = object.status.as_ref().and_then(|s| s.observed_generation) == Some(generation)
            && synced(&object).is_some_and(|(s, _, _)| s == "False");
        Ok(done.then_some(()))
    })
    .await?;
    let kept = pay_secrets.get("db").await?;
    anyhow::ensure!(stripped_data(&kept).get("token").map(Vec::as_slice) == Some(&b"pw-1"[..]));

    // Labelled back: the pending value is unsealed; the other namespace relabelled to match
    // gets its copy unsealed too.
    label_team(&namespaces, payments.name(), Some("payments")).await?;
    wait_secret_data(&pay_secrets, "db", &[("token", "pw-2")])
        .await
        .with_context(|| controller.log())?;
    wait_condition(&pay_sealed, "db", "True", None).await?;
    label_team(&namespaces, other.name(), Some("payments")).await?;
    wait_secret_data(&other_secrets, "db", &[("token", "pw-1")])
        .await
        .with_context(|| controller.log())?;

    println!(
        "tenancy figures [selector scope]: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(controller);
    ctl.cleanup().await?;
    payments.cleanup().await?;
    other.cleanup().await?;
    Ok(())
}

/// Runs `command`; its stdout, or an error with its output.
fn run(command: &mut Command) -> anyhow::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    anyhow::ensure!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// Applies the ServiceAccount and RBAC of the single-namespace overlay
/// (deploy/overlays/single-namespace), moved to `ns`, and returns a kubeconfig holding that
/// ServiceAccount's token. Fails if any ClusterRole grants more than reading the CRD: the
/// controller runs with Roles only.
async fn single_namespace_rights(cluster: &TestCluster, ns: &str) -> anyhow::Result<PathBuf> {
    let rendered = run(Command::new("kubectl")
        .arg("kustomize")
        .arg(repo_file("deploy/overlays/single-namespace")))?;
    let docs: Vec<Value> = sealant_core::yaml::from_str_multiple(&rendered)?;
    let kinds = [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
    ];
    let mut text = String::new();
    for mut doc in docs
        .into_iter()
        .filter(|d| d["kind"].as_str().is_some_and(|k| kinds.contains(&k)))
    {
        if doc["kind"] == "ClusterRole" {
            let rules = doc["rules"].as_array().cloned().unwrap_or_default();
            anyhow::ensure!(
                rules
                    .iter()
                    .all(|r| r["resources"] == json!(["customresourcedefinitions"])),
                "the single-namespace overlay grants cluster-wide rights: {doc}"
            );
        }
        if doc["metadata"]["namespace"] == "sealant" {
            doc["metadata"]["namespace"] = json!(ns);
        }
        if let Some(subjects) = doc.get_mut("subjects").and_then(Value::as_array_mut) {
            for subject in subjects.iter_mut().filter(|s| s["namespace"] == "sealant") {
                subject["namespace"] = json!(ns);
            }
        }
        // Cluster-scoped names get the namespace, so the two controllers' objects coexist.
        if doc["kind"] == "ClusterRole" || doc["kind"] == "ClusterRoleBinding" {
            let name = format!("{}-{ns}", doc["metadata"]["name"].as_str().unwrap_or(""));
            doc["metadata"]["name"] = json!(name);
        }
        if doc["roleRef"]["kind"] == "ClusterRole" {
            let name = format!("{}-{ns}", doc["roleRef"]["name"].as_str().unwrap_or(""));
            doc["roleRef"]["name"] = json!(name);
        }
        text.push_str("---\n");
        text.push_str(&sealant_core::yaml::to_string(&doc)?);
    }
    let manifest = std::env::temp_dir().join(format!("{}.yaml", unique_name("sealant-tenancy")));
    std::fs::write(&manifest, text)?;
    let applied = run(Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig_path())
        .args([
            "apply",
            "--server-side",
            "--field-manager=sealant-tenancy",
            "-f",
        ])
        .arg(&manifest));
    let _ = std::fs::remove_file(&manifest);
    applied?;

    // The token controller of the test control plane writes the token into a Secret the
    // ServiceAccount lists.
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let (token, ca) = wait_for("the ServiceAccount's token", DEFAULT_TIMEOUT, || async {
        let account = accounts.get("sealed-secrets-controller").await?;
        for name in account.secrets.into_iter().flatten().filter_map(|r| r.name) {
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
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: controller\n  user:\n    token: {token}\ncontexts:\n- name: controller\n  context: {{cluster: test, user: controller, namespace: {ns}}}\ncurrent-context: controller\n",
        server = cluster.config().cluster_url,
        ca = sealant_core::base64::encode(&ca),
    );
    let path = std::env::temp_dir().join(format!("{}.kubeconfig", unique_name("sealant-tenancy")));
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?
            .write_all(kubeconfig.as_bytes())?;
    }
    Ok(path)
}

/// A controller for namespace `ns` only, running as the single-namespace overlay's
/// ServiceAccount (`kubeconfig`).
fn scoped_controller(kubeconfig: &Path, ns: &str) -> anyhow::Result<ControllerProcess> {
    ControllerProcess::launch(&Launch {
        kubeconfig,
        namespace: ns,
        extra: &["--leader-elect=false"],
        api_addr: "127.0.0.1:0",
        metrics_addr: "127.0.0.1:0",
        netns: None,
    })
}

/// Two controllers, each confined to its own namespace with the single-namespace overlay's
/// rights (Roles; a ClusterRole that only reads the CRD) and its own keys: each unseals its
/// tenant's objects; an object in A's namespace sealed for B's key stays sealed (A cannot open
/// it, B never sees it), and neither touches the other's objects.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn namespace_scoped_controllers_side_by_side() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let cluster = cluster_with_crd().await?;
    let ns_a = cluster.namespace("side-a").await?;
    let ns_b = cluster.namespace("side-b").await?;
    let kubeconfig_a = single_namespace_rights(&cluster, ns_a.name()).await?;
    let kubeconfig_b = single_namespace_rights(&cluster, ns_b.name()).await?;
    let a = scoped_controller(&kubeconfig_a, ns_a.name())?;
    let b = scoped_controller(&kubeconfig_b, ns_b.name())?;
    let (cert_a, cert_b) = (
        controller_cert(&cluster, &ns_a).await?,
        controller_cert(&cluster, &ns_b).await?,
    );
    anyhow::ensure!(
        cert_a.public_key().fingerprint() != cert_b.public_key().fingerprint(),
        "the controllers share a key"
    );
    let sealed_a: Api<SealedSecret> = Api::namespaced(cluster.client(), ns_a.name());
    let sealed_b: Api<SealedSecret> = Api::namespaced(cluster.client(), ns_b.name());
    let secrets_a: Api<Secret> = Api::namespaced(cluster.client(), ns_a.name());
    let secrets_b: Api<Secret> = Api::namespaced(cluster.client(), ns_b.name());

    sealed_a
        .create(
            &PostParams::default(),
            &sealed(&cert_a, ns_a.name(), "mine", &[("k", "a-value")], None)?,
        )
        .await?;
    sealed_b
        .create(
            &PostParams::default(),
            &sealed(&cert_b, ns_b.name(), "mine", &[("k", "b-value")], None)?,
        )
        .await?;
    // Sealed for B's key, applied in A's namespace: A cannot open it, B does not watch there.
    sealed_a
        .create(
            &PostParams::default(),
            &sealed(&cert_b, ns_a.name(), "foreign", &[("k", "b-secret")], None)?,
        )
        .await?;
    wait_secret_data(&secrets_a, "mine", &[("k", "a-value")])
        .await
        .with_context(|| a.log())?;
    wait_secret_data(&secrets_b, "mine", &[("k", "b-value")])
        .await
        .with_context(|| b.log())?;
    let foreign = wait_synced(&sealed_a, "foreign", "False", 1)
        .await
        .with_context(|| a.log())?;
    let (_, _, message) = synced(&foreign).unwrap_or_default();
    anyhow::ensure!(message.contains("no key could decrypt"), "{message}");
    anyhow::ensure!(secrets_a.get_opt("foreign").await?.is_none());

    // Each status was written by its own controller's keys only: A's objects carry A's key,
    // B's carry B's, and neither log names the other's namespace.
    let fingerprint = |object: &SealedSecret| {
        object
            .status
            .as_ref()
            .and_then(|s| s.key_fingerprints.as_deref().map(<[String]>::to_vec))
            .unwrap_or_default()
    };
    let mine_a = wait_synced(&sealed_a, "mine", "True", 1).await?;
    let mine_b = wait_synced(&sealed_b, "mine", "True", 1).await?;
    anyhow::ensure!(fingerprint(&mine_a) == vec![cert_a.public_key().fingerprint().to_string()]);
    anyhow::ensure!(fingerprint(&mine_b) == vec![cert_b.public_key().fingerprint().to_string()]);
    anyhow::ensure!(!b.log().contains(ns_a.name()), "B saw A's namespace");
    anyhow::ensure!(!a.log().contains(ns_b.name()), "A saw B's namespace");
    // Everything they did, they were allowed to.
    for (log, who) in [(a.log(), "A"), (b.log(), "B")] {
        anyhow::ensure!(
            !log.contains("forbidden"),
            "{who} was refused something:\n{log}"
        );
    }

    println!(
        "tenancy figures [side by side]: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop((a, b));
    let _ = std::fs::remove_file(&kubeconfig_a);
    let _ = std::fs::remove_file(&kubeconfig_b);
    ns_a.cleanup().await?;
    ns_b.cleanup().await?;
    Ok(())
}
