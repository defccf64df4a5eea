//! Seal once for many clusters (docs/multi-cluster.md) on the real control plane: two controllers
//! with their own keys (RSA and age, each in its own namespace), one SealedSecret sealed for both
//! unseals under each of them, and the same SealedSecret moved to another namespace unseals under
//! neither. The controllers take turns on the shared namespaces: two controllers owning one Secret
//! at once would fight over it (each has its own sync key).

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::keysecret::age::{AGE_KEY_LABEL, AGE_PUB};
use sealant_core::sealing::{AGE_ITEMS_ANNOTATION, Layout, Recipients, seal_secret_for};
use sealant_core::{AgeRecipient, Certificate, SealOptions};
use sealant_tests::cli::sealant_keys;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, wait_for};

const ITEMS: &[(&str, &str)] = &[("user", "admin"), ("password", "s3cret-both")];

/// What a client needs to seal for one controller: its certificate and age recipient.
struct Cluster {
    cert: Certificate,
    recipient: AgeRecipient,
}

/// Reads a running controller's certificate (key Secret) and recipient (`/v1/recipient`), and
/// checks the recipient is the one its age key Secret holds.
async fn keys_of(
    cluster: &TestCluster,
    ns: &TestNamespace,
    api_addr: &str,
    controller: &ControllerProcess,
) -> anyhow::Result<Cluster> {
    let cert = controller_cert(cluster, ns).await?;
    let served = wait_for("/v1/recipient", DEFAULT_TIMEOUT, || async {
        Ok(http_get(api_addr, "/v1/recipient").await)
    })
    .await
    .with_context(|| controller.log())?;
    let recipient: AgeRecipient = served.trim().parse()?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let age_keys = secrets
        .list(&ListParams::default().labels(&format!("{AGE_KEY_LABEL}=active")))
        .await?;
    anyhow::ensure!(
        age_keys.items.len() == 1,
        "one age key Secret on first start"
    );
    let stored = age_keys.items[0]
        .data
        .as_ref()
        .and_then(|d| d.get(AGE_PUB))
        .context("age.pub")?;
    anyhow::ensure!(
        String::from_utf8_lossy(&stored.0).trim() == recipient.to_string(),
        "/v1/recipient serves the age key Secret's recipient"
    );
    anyhow::ensure!(
        !controller.log().contains("AGE-SECRET-KEY"),
        "no identity in the log"
    );
    Ok(Cluster { cert, recipient })
}

/// `name` in `namespace`, sealed (strict scope) for `recipients`.
fn sealed_for(
    recipients: &Recipients,
    namespace: &str,
    name: &str,
) -> anyhow::Result<SealedSecret> {
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\nstringData:\n{}",
        ITEMS
            .iter()
            .map(|(k, v)| format!("  {k}: {v:?}\n"))
            .collect::<String>()
    );
    let secret = sealant_core::object::read_secrets(&yaml)?.remove(0);
    let core = seal_secret_for(secret, recipients, &SealOptions::default())?;
    Ok(serde_json::from_value(serde_json::to_value(core)?)?)
}

/// Creates `objects` in their namespaces (as fresh objects: no status yet).
async fn create_all(cluster: &TestCluster, objects: &[SealedSecret]) -> anyhow::Result<()> {
    for object in objects {
        let namespace = object.metadata.namespace.as_deref().context("namespace")?;
        let api: Api<SealedSecret> = Api::namespaced(cluster.client(), namespace);
        if api
            .get_opt(object.metadata.name.as_deref().unwrap_or_default())
            .await?
            .is_some()
        {
            api.delete(
                object.metadata.name.as_deref().unwrap_or_default(),
                &DeleteParams::default(),
            )
            .await?;
            let name = object.metadata.name.clone().unwrap_or_default();
            wait_for("the old object gone", DEFAULT_TIMEOUT, || async {
                Ok(api.get_opt(&name).await?.is_none().then_some(()))
            })
            .await?;
        }
        api.create(&PostParams::default(), object).await?;
    }
    Ok(())
}

/// The controller unseals every object in `app` and none in `other`, with upstream's opaque
/// error.
async fn check_unseals_only_in_place(
    app: &TestNamespace,
    other: &TestNamespace,
    names: &[&str],
    controller: &ControllerProcess,
) -> anyhow::Result<()> {
    let secrets: Api<Secret> = app.api();
    for name in names {
        wait_secret_data(&secrets, name, ITEMS)
            .await
            .with_context(|| format!("{name}: {}", controller.log()))?;
    }
    let moved_api: Api<SealedSecret> = other.api();
    let other_secrets: Api<Secret> = other.api();
    for name in names {
        let failed = wait_synced(&moved_api, name, "False", 1)
            .await
            .with_context(|| controller.log())?;
        let message = failed
            .status
            .and_then(|s| s.conditions)
            .and_then(|c| c.into_iter().next())
            .and_then(|c| c.message)
            .unwrap_or_default();
        anyhow::ensure!(
            message.starts_with("no key could decrypt secret ("),
            "{name} moved: {message}"
        );
        anyhow::ensure!(
            other_secrets.get_opt(name).await?.is_none(),
            "{name}: no Secret where it was moved"
        );
    }
    let log = controller.log();
    anyhow::ensure!(!log.contains("s3cret-both"), "no plaintext in the log");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn age_one_sealed_secret_for_two_controllers() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns_a = cluster.namespace("age-a").await?;
    let ns_b = cluster.namespace("age-b").await?;
    let app = cluster.namespace("age-app").await?;
    let other = cluster.namespace("age-other").await?;
    let watched = format!("{},{}", app.name(), other.name());

    // B's keys first (it watches only its own namespace meanwhile).
    let addr_b = free_local_addr()?;
    let b = {
        let controller = ControllerProcess::start_with_addrs(
            &cluster,
            ns_b.name(),
            &[],
            &addr_b,
            "127.0.0.1:0",
        )?;
        keys_of(&cluster, &ns_b, &addr_b, &controller).await?
    };
    let addr_a = free_local_addr()?;
    let controller_a = ControllerProcess::start_with_addrs(
        &cluster,
        ns_a.name(),
        &["--additional-namespaces", &watched],
        &addr_a,
        "127.0.0.1:0",
    )?;
    let a = keys_of(&cluster, &ns_a, &addr_a, &controller_a).await?;
    anyhow::ensure!(a.recipient != b.recipient, "two clusters, two age keys");

    // Every way two clusters can share one SealedSecret:
    let cases = [
        // A's RSA item in encryptedData (upstream-compatible), B's age key in the annotation.
        (
            "compat-rsa-age",
            Recipients {
                certs: vec![a.cert.public_key().clone()],
                age: vec![b.recipient.clone()],
                layout: Layout::Compatible,
            },
        ),
        // B's RSA item in encryptedData, A's RSA key through an ssh-rsa stanza.
        (
            "compat-rsa-rsa",
            Recipients {
                certs: vec![b.cert.public_key().clone(), a.cert.public_key().clone()],
                age: vec![],
                layout: Layout::Compatible,
            },
        ),
        // One age item per value: B's RSA key (ssh-rsa) and A's age key.
        (
            "combined",
            Recipients {
                certs: vec![b.cert.public_key().clone()],
                age: vec![a.recipient.clone()],
                layout: Layout::Combined,
            },
        ),
        // age recipients only.
        (
            "age-only",
            Recipients {
                certs: vec![],
                age: vec![a.recipient.clone(), b.recipient.clone()],
                layout: Layout::Compatible,
            },
        ),
    ];
    let names: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
    let mut objects = Vec::new();
    let mut moved = Vec::new();
    for (name, recipients) in &cases {
        let object = sealed_for(recipients, app.name(), name)?;
        if *name == "compat-rsa-age" {
            anyhow::ensure!(
                object
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(AGE_ITEMS_ANNOTATION))
            );
        }
        // The very same object, moved to another namespace.
        let mut elsewhere = object.clone();
        elsewhere.metadata.namespace = Some(other.name().to_owned());
        objects.push(object);
        moved.push(elsewhere);
    }
    create_all(&cluster, &objects).await?;
    create_all(&cluster, &moved).await?;
    check_unseals_only_in_place(&app, &other, &names, &controller_a).await?;
    drop(controller_a);

    // Now B on the same objects: its Secrets are made afresh, the moved copies fail afresh.
    let secrets: Api<Secret> = app.api();
    for name in &names {
        secrets.delete(name, &DeleteParams::default()).await?;
    }
    for name in &names {
        wait_for("the Secret gone", DEFAULT_TIMEOUT, || async {
            Ok(secrets.get_opt(name).await?.is_none().then_some(()))
        })
        .await?;
    }
    create_all(&cluster, &moved).await?;
    let controller_b = ControllerProcess::start(
        &cluster,
        ns_b.name(),
        &["--additional-namespaces", &watched],
    )?;
    check_unseals_only_in_place(&app, &other, &names, &controller_b).await?;
    drop(controller_b);

    for ns in [ns_a, ns_b, app, other] {
        ns.cleanup().await?;
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn age_keys_can_be_turned_off_and_are_picked_up_live() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("age-off").await?;
    let addr = free_local_addr()?;
    let controller = ControllerProcess::start_with_addrs(
        &cluster,
        ns.name(),
        &["--age-keys=false"],
        &addr,
        "127.0.0.1:0",
    )?;
    controller_cert(&cluster, &ns).await?;
    // Ready: its key snapshot is loaded, so a 404 below is not a snapshot still empty.
    wait_for("/readyz", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&addr, "/readyz").await)
    })
    .await?;
    // No age key: /v1/recipient is 404 (http_get gives None for anything but 200).
    anyhow::ensure!(http_get(&addr, "/v1/recipient").await.is_none());
    let secrets: Api<Secret> = ns.api();
    let age_keys = secrets
        .list(&ListParams::default().labels(AGE_KEY_LABEL))
        .await?;
    anyhow::ensure!(age_keys.items.is_empty(), "no age key generated");

    // An age key Secret added by hand (as `sealant keys restore --apply` does) is used at once.
    let identity = sealant_core::AgeIdentity::generate(sealant_core::IdentityKind::X25519)?;
    let key = sealant_core::keysecret::age::age_key_secret(
        ns.name(),
        "sealant-age-key",
        &identity,
        time::OffsetDateTime::now_utc(),
        &Default::default(),
        &Default::default(),
    );
    let key: Secret = serde_json::from_value(serde_json::to_value(&key)?)?;
    secrets.create(&PostParams::default(), &key).await?;
    let served = wait_for(
        "/v1/recipient after a key Secret",
        DEFAULT_TIMEOUT,
        || async { Ok(http_get(&addr, "/v1/recipient").await) },
    )
    .await
    .with_context(|| controller.log())?;
    anyhow::ensure!(served.trim() == identity.recipient().to_string());
    let object = sealed_for(
        &Recipients {
            certs: vec![],
            age: vec![identity.recipient().clone()],
            layout: Layout::Combined,
        },
        ns.name(),
        "live",
    )?;
    create_all(&cluster, &[object]).await?;
    wait_secret_data(&secrets, "live", ITEMS)
        .await
        .with_context(|| controller.log())?;
    drop(controller);
    ns.cleanup().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn age_keys_backup_and_restore_into_another_namespace() -> anyhow::Result<()> {
    use sealant_core::keysecret::KEY_LABEL;
    let cluster = cluster_with_crd().await?;
    let source = cluster.namespace("age-bak").await?;
    let target = cluster.namespace("age-rst").await?;
    let kubeconfig = cluster
        .kubeconfig_path()
        .to_str()
        .context("kubeconfig path")?
        .to_owned();
    let addr = free_local_addr()?;
    let original =
        ControllerProcess::start_with_addrs(&cluster, source.name(), &[], &addr, "127.0.0.1:0")?;
    let keys = keys_of(&cluster, &source, &addr, &original).await?;
    drop(original);

    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-age-backup"));
    std::fs::create_dir_all(&dir)?;
    let offline = sealant_core::AgeIdentity::generate(sealant_core::IdentityKind::X25519)?;
    let identity_path = dir.join("offline.txt");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&identity_path)?;
        file.write_all(
            offline
                .to_identity_file(time::OffsetDateTime::now_utc())
                .expose_secret()
                .as_bytes(),
        )?;
    }
    let backup_path = dir.join("keys.age");
    let (identity_arg, backup_arg) = (
        identity_path.to_str().context("path")?,
        backup_path.to_str().context("path")?,
    );
    let recipient = offline.recipient().to_string();
    sealant_keys(&[
        "backup",
        "--kubeconfig",
        &kubeconfig,
        "--controller-namespace",
        source.name(),
        "--recipient",
        &recipient,
        "-w",
        backup_arg,
    ])??;
    use std::os::unix::fs::PermissionsExt as _;
    anyhow::ensure!(std::fs::metadata(&backup_path)?.permissions().mode() & 0o777 == 0o600);

    let restore = [
        "restore",
        "-f",
        backup_arg,
        "--identity",
        identity_arg,
        "--apply",
        "--kubeconfig",
        &kubeconfig,
        "--controller-namespace",
        target.name(),
    ];
    sealant_keys(&restore)??;
    let (from, to): (Api<Secret>, Api<Secret>) = (source.api(), target.api());
    for label in [KEY_LABEL, AGE_KEY_LABEL] {
        let restored = key_material(&to, label).await?;
        anyhow::ensure!(restored.len() == 1, "{label}: one key restored");
        anyhow::ensure!(
            restored == key_material(&from, label).await?,
            "{label}: the same key material"
        );
    }
    // Again: identical Secrets are left alone.
    sealant_keys(&restore)??;

    // The restored keys serve: a controller in the target namespace opens what was sealed for
    // the original one (age only, so no RSA shortcut).
    let controller = ControllerProcess::start(&cluster, target.name(), &[])?;
    let object = sealed_for(
        &Recipients {
            certs: vec![],
            age: vec![keys.recipient.clone()],
            layout: Layout::Combined,
        },
        target.name(),
        "restored",
    )?;
    create_all(&cluster, &[object]).await?;
    wait_secret_data(&to, "restored", ITEMS)
        .await
        .with_context(|| controller.log())?;
    anyhow::ensure!(
        key_material(&to, AGE_KEY_LABEL).await?.len() == 1,
        "no new age key: the restored one is used"
    );
    drop(controller);

    // A key Secret with other content under the same name is never overwritten.
    let age_keys = to
        .list(&ListParams::default().labels(AGE_KEY_LABEL))
        .await?;
    let mut changed = age_keys.items[0].clone();
    let name = changed.metadata.name.clone().context("name")?;
    changed
        .data
        .get_or_insert_with(Default::default)
        .insert("note".into(), k8s_openapi::ByteString(b"edited".to_vec()));
    to.replace(&name, &PostParams::default(), &changed).await?;
    let err = sealant_keys(&restore)?
        .err()
        .context("a conflicting restore fails")?;
    anyhow::ensure!(
        err.message().contains("exists with other content"),
        "{}",
        err.message()
    );
    std::fs::remove_dir_all(&dir)?;
    for ns in [source, target] {
        ns.cleanup().await?;
    }
    Ok(())
}
