//! Automatic key escrow on the real control plane (docs/recovery.md, "Automatic escrow").
//!
//! - 2-of-3: a controller escrows each key it makes to three holders before the key Secret
//!   exists (the escrow ConfigMap's resourceVersion is older); two holders restore the RSA key
//!   from the escrow into another namespace with its own controller (the "fresh cluster": the
//!   same API server, another namespace), which unseals what was sealed with the first
//!   controller's certificate; one holder alone restores nothing (exit code 3).
//! - Blocked: a controller whose rights lack ConfigMaps never publishes its new key (checked
//!   while it retries), says why in an event and its metrics, and is killed there — killed
//!   between key creation and publication. Granted the right, a new run escrows, then
//!   publishes, and escrows the key that was there before (backfill). Without a threshold,
//!   Debian's `age -d` opens the escrow and gives the key Secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::Api;
use kube::api::{ListParams, ObjectMeta, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::backup::escrow::{escrow_name, key_fingerprint};
use sealant_core::keysecret::KEY_LABEL;
use sealant_core::keysecret::age::AGE_KEY_LABEL;
use sealant_core::{AgeIdentity, IdentityKind};
use sealant_tests::cli::sealant_keys;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, unique_name, wait_for};

const ITEMS: &[(&str, &str)] = &[("user", "admin"), ("password", "s3cret-escrowed")];

/// Writes an identity file, mode 0600, and returns its path as text.
fn identity_file(dir: &Path, name: &str, id: &AgeIdentity) -> anyhow::Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?
        .write_all(
            id.to_identity_file(time::OffsetDateTime::now_utc())
                .expose_secret()
                .as_bytes(),
        )?;
    Ok(path.to_str().context("path")?.to_owned())
}

fn resource_version(meta: &ObjectMeta) -> anyhow::Result<u64> {
    Ok(meta
        .resource_version
        .as_deref()
        .context("resourceVersion")?
        .parse()?)
}

/// The one key Secret with `label`, once it exists.
async fn wait_key(secrets: &Api<Secret>, label: &str) -> anyhow::Result<Secret> {
    wait_for(
        &format!("a key Secret {label}"),
        DEFAULT_TIMEOUT,
        || async {
            let list = secrets.list(&ListParams::default().labels(label)).await?;
            Ok(list.items.into_iter().next())
        },
    )
    .await
}

/// The escrow of `key` (a key Secret as read from the API); checks it was written before the
/// Secret and names it.
async fn escrow_of(configmaps: &Api<ConfigMap>, key: &Secret) -> anyhow::Result<ConfigMap> {
    let core: sealant_core::Secret = serde_json::from_value(serde_json::to_value(key)?)?;
    let (kind, fingerprint) = key_fingerprint(&core)?;
    let escrow = configmaps.get(&escrow_name(kind, &fingerprint)).await?;
    let notes = escrow.metadata.annotations.clone().unwrap_or_default();
    ensure!(
        notes.get("sealant.dev/escrow-secret") == key.metadata.name.as_ref(),
        "the escrow names its key Secret: {notes:?}"
    );
    ensure!(
        notes
            .get("sealant.dev/escrow-fingerprint")
            .map(String::as_str)
            == Some(fingerprint.as_str())
    );
    ensure!(
        resource_version(&escrow.metadata)? < resource_version(&key.metadata)?,
        "escrow written before the key Secret"
    );
    Ok(escrow)
}

fn escrow_text(escrow: &ConfigMap, key: &str) -> anyhow::Result<String> {
    escrow
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .cloned()
        .with_context(|| format!("escrow data {key}"))
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn escrow_two_of_three_restores_and_one_does_not() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let source = cluster.namespace("escrow-src").await?;
    let target = cluster.namespace("escrow-rst").await?;
    let kubeconfig = cluster
        .kubeconfig_path()
        .to_str()
        .context("kubeconfig path")?
        .to_owned();
    let dir = std::env::temp_dir().join(unique_name("sealant-escrow"));
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

    let mut flags = vec!["--escrow-threshold", "2"];
    for recipient in &pubs {
        flags.extend(["--escrow-recipient", recipient.as_str()]);
    }
    let original = ControllerProcess::start(&cluster, source.name(), &flags)?;
    let (from, to): (Api<Secret>, Api<Secret>) = (source.api(), target.api());
    let configmaps: Api<ConfigMap> = source.api();
    let rsa = wait_key(&from, KEY_LABEL)
        .await
        .with_context(|| original.log())?;
    let age = wait_key(&from, AGE_KEY_LABEL)
        .await
        .with_context(|| original.log())?;
    let escrow = escrow_of(&configmaps, &rsa).await?;
    escrow_of(&configmaps, &age).await?;
    let cert = controller_cert(&cluster, &source).await?;
    drop(original);

    let backup = dir.join("rsa.escrow");
    std::fs::write(&backup, escrow_text(&escrow, "backup.threshold")?)?;
    let backup = backup.to_str().context("path")?;
    let restore = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "restore",
            "-f",
            backup,
            "--apply",
            "--kubeconfig",
            &kubeconfig,
            "--controller-namespace",
            target.name(),
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect()
    };
    // One holder alone: exit code 3, nothing restored.
    let alone = restore(&["--identity", &ids[0]]);
    let alone: Vec<&str> = alone.iter().map(String::as_str).collect();
    let err = sealant_keys(&alone)?
        .err()
        .context("one share of two restores nothing")?;
    ensure!(err.exit_code() == 3, "exit code {}", err.exit_code());
    ensure!(key_material(&to, KEY_LABEL).await?.is_empty());

    // Holder 2 decrypts its share and passes it on; holder 0 restores with it.
    let share = dir.join("holder2.share");
    let share = share.to_str().context("path")?;
    sealant_keys(&[
        "share-decrypt",
        "-f",
        backup,
        "--identity",
        &ids[2],
        "-w",
        share,
    ])??;
    let together = restore(&["--identity", &ids[0], "--share", share]);
    let together: Vec<&str> = together.iter().map(String::as_str).collect();
    sealant_keys(&together)??;
    ensure!(key_material(&to, KEY_LABEL).await? == key_material(&from, KEY_LABEL).await?);

    // The restored key serves: sealed with the first controller's certificate, unsealed by
    // the second.
    let controller = ControllerProcess::start(&cluster, target.name(), &[])?;
    let sealed = sealed(&cert, target.name(), "escrowed", ITEMS, None)?;
    let api: Api<SealedSecret> = target.api();
    api.create(&PostParams::default(), &sealed).await?;
    wait_secret_data(&to, "escrowed", ITEMS)
        .await
        .with_context(|| controller.log())?;
    drop(controller);
    std::fs::remove_dir_all(&dir)?;
    for ns in [source, target] {
        ns.cleanup().await?;
    }
    Ok(())
}

/// What a single-namespace controller needs in its namespace (deploy/overlays/single-namespace
/// and deploy/base/rbac.yaml's key Role), with or without ConfigMaps.
fn controller_rules(configmaps: bool) -> Vec<PolicyRule> {
    let rule = |group: &str, resource: &str, verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(vec![resource.to_owned()]),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    };
    let mut rules = vec![
        rule("bitnami.com", "sealedsecrets", &["get", "list", "watch"]),
        rule("bitnami.com", "sealedsecrets/status", &["patch"]),
        rule(
            "",
            "secrets",
            &["get", "list", "watch", "create", "update", "patch"],
        ),
        rule("events.k8s.io", "events", &["create", "patch"]),
    ];
    if configmaps {
        rules.push(rule("", "configmaps", &["get", "list", "create"]));
    }
    rules
}

/// A copy of the test kubeconfig that impersonates `user` (the admin may impersonate).
fn impersonating(cluster: &TestCluster, user: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    let text = std::fs::read_to_string(cluster.kubeconfig_path())?;
    let mut config: serde_json::Value = sealant_core::yaml::from_str(&text)?;
    for entry in config["users"].as_array_mut().context("users")? {
        entry["user"]["as"] = serde_json::json!(user);
    }
    let path = dir.join("impersonating.kubeconfig");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?
            .write_all(sealant_core::yaml::to_string(&config)?.as_bytes())?;
    }
    Ok(path)
}

/// The controller's rights in `ns`, as Role `escrow-controller` bound to `user`.
async fn grant(ns: &TestNamespace, user: &str, configmaps: bool) -> anyhow::Result<()> {
    let roles: Api<Role> = ns.api();
    let role = Role {
        metadata: ObjectMeta {
            name: Some("escrow-controller".into()),
            ..ObjectMeta::default()
        },
        rules: Some(controller_rules(configmaps)),
    };
    match roles.get_opt("escrow-controller").await? {
        Some(existing) => {
            let mut role = role;
            role.metadata.resource_version = existing.metadata.resource_version;
            roles
                .replace("escrow-controller", &PostParams::default(), &role)
                .await?;
        }
        None => {
            roles.create(&PostParams::default(), &role).await?;
            let bindings: Api<RoleBinding> = ns.api();
            let binding = RoleBinding {
                metadata: ObjectMeta {
                    name: Some("escrow-controller".into()),
                    ..ObjectMeta::default()
                },
                role_ref: RoleRef {
                    api_group: "rbac.authorization.k8s.io".into(),
                    kind: "Role".into(),
                    name: "escrow-controller".into(),
                },
                subjects: Some(vec![Subject {
                    api_group: Some("rbac.authorization.k8s.io".into()),
                    kind: "User".into(),
                    name: user.into(),
                    ..Subject::default()
                }]),
            };
            bindings.create(&PostParams::default(), &binding).await?;
        }
    }
    Ok(())
}

fn run_controller(
    kubeconfig: &Path,
    ns: &str,
    extra: &[&str],
) -> anyhow::Result<ControllerProcess> {
    ControllerProcess::launch(&Launch {
        kubeconfig,
        namespace: ns,
        extra,
        api_addr: "127.0.0.1:0",
        metrics_addr: "127.0.0.1:0",
        netns: None,
    })
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn escrow_blocked_publishes_nothing_and_age_opens_the_escrow() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("escrow-blk").await?;
    let dir = std::env::temp_dir().join(unique_name("sealant-escrow-blk"));
    std::fs::create_dir_all(&dir)?;
    let user = format!("escrow-controller-{}", ns.name());
    let kubeconfig = impersonating(&cluster, &user, &dir)?;
    let holder = AgeIdentity::generate(IdentityKind::X25519)?;
    let identity = identity_file(&dir, "holder.txt", &holder)?;
    let recipient = holder.recipient().to_string();
    let flags = [
        "--leader-elect=false",
        "--escrow-recipient",
        recipient.as_str(),
    ];
    // An RSA key from before escrow: it stays, and the age key is the one the controller
    // makes (and must escrow first).
    add_key_secret(
        &cluster,
        ns.name(),
        "imported-key",
        "core/tests/vectors/keys/rsa2048.key",
        "core/tests/vectors/keys/rsa2048.crt",
    )
    .await?;
    let secrets: Api<Secret> = ns.api();
    let configmaps: Api<ConfigMap> = ns.api();

    // No right on ConfigMaps: the escrow fails, the new age key is never published.
    grant(&ns, &user, false).await?;
    let blocked = run_controller(&kubeconfig, ns.name(), &flags)?;
    let events: Api<Event> = ns.api();
    let event = wait_for("a KeyEscrowFailed event", DEFAULT_TIMEOUT, || async {
        Ok(events
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("KeyEscrowFailed")))
    })
    .await
    .with_context(|| blocked.log())?;
    ensure!(
        event.type_.as_deref() == Some("Warning")
            && event.note.as_deref().unwrap_or("").contains("forbidden"),
        "{:?}",
        event.note
    );
    let metrics = blocked.listening("metrics").context("metrics address")?;
    let page = wait_for("escrow metrics", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics).await.filter(|page| {
            metric_value(
                page,
                "sealant_key_escrow_failures_total{reason=\"forbidden\"}",
            ) >= 1.0
        }))
    })
    .await?;
    ensure!(
        metric_value(&page, "sealant_key_escrow_pending") == 1.0,
        "{page}"
    );
    // While it retries: no age key Secret, and no escrow.
    ensure!(key_material(&secrets, AGE_KEY_LABEL).await?.is_empty());
    ensure!(
        configmaps
            .list(&ListParams::default().labels("sealant.dev/escrow"))
            .await?
            .items
            .is_empty()
    );
    // Killed between key creation and publication.
    drop(blocked);
    ensure!(key_material(&secrets, AGE_KEY_LABEL).await?.is_empty());

    // With the right: escrow, then the key; the imported key is escrowed too (backfill).
    grant(&ns, &user, true).await?;
    let controller = run_controller(&kubeconfig, ns.name(), &flags)?;
    let age = wait_key(&secrets, AGE_KEY_LABEL)
        .await
        .with_context(|| controller.log())?;
    let escrow = escrow_of(&configmaps, &age).await?;
    let imported = secrets.get("imported-key").await?;
    let core: sealant_core::Secret = serde_json::from_value(serde_json::to_value(&imported)?)?;
    let (kind, fingerprint) = key_fingerprint(&core)?;
    wait_for("the imported key's escrow", DEFAULT_TIMEOUT, || async {
        Ok(configmaps.get_opt(&escrow_name(kind, &fingerprint)).await?)
    })
    .await
    .with_context(|| controller.log())?;
    drop(controller);

    // Debian's age opens the plain escrow: the output is the key Secret.
    let file = dir.join("age.escrow");
    std::fs::write(&file, escrow_text(&escrow, "backup.age")?)?;
    let output = Command::new("age")
        .args(["-d", "-i", &identity])
        .arg(&file)
        .output()
        .context("running age (tests/setup.sh installs it)")?;
    ensure!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout)?;
    let opened = sealant_core::backup::read_key_secrets(&text)?;
    ensure!(opened.len() == 1, "one key Secret");
    ensure!(opened[0].metadata.name == age.metadata.name);
    let data: BTreeMap<String, Vec<u8>> = age
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    let merged = opened[0].merged_items();
    ensure!(
        merged.len() == data.len()
            && merged
                .iter()
                .all(|(k, v)| data.get(*k).map(Vec::as_slice) == Some(*v)),
        "the escrow holds the key Secret's data"
    );
    std::fs::remove_dir_all(&dir)?;
    ns.cleanup().await?;
    Ok(())
}
