//! Migration from upstream Sealed Secrets, proven on the test control plane (docs/migration.md).
//!
//! The cluster is left as upstream's controller leaves it: key Secrets made by openssl in
//! upstream's layout (type kubernetes.io/tls, PKCS#1 key, self-signed CA certificate with an
//! empty name, label `sealedsecrets.bitnami.com/sealed-secrets-key=active`, names from
//! generateName `sealed-secrets-key`), one of them older (a past renewal); SealedSecrets sealed
//! by an independent implementation of upstream's format (core/tests/vectors/independent.py)
//! with every scope, both keys, a template and a non-Opaque type; the Secrets upstream made
//! from them (ownerReference with controller: true) and the Synced status it wrote.
//!
//! Then sealant-controller starts with upstream's default flags and names (the test confines it
//! to its namespaces, listens on loopback and gets a kubeconfig, as every e2e test does) and
//! must: adopt every Secret in place (same UID, same data: nothing re-created or re-sealed),
//! leave the SealedSecrets and their status alone, create no key, serve the newest upstream
//! key's certificate, and unseal a SealedSecret made by `sealant seal` with that certificate,
//! which upstream's format can still open (so switching back stays possible).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail, ensure};
use clap::Parser as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant::args::{Cli, Command as CliCommand};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_core::base64;
use sealant_tests::controller::{
    ControllerProcess, cluster_with_crd, free_local_addr, http_get, wait_secret_data,
};
use sealant_tests::{DEFAULT_TIMEOUT, repo_file, unique_name, wait_for};
use serde_json::{Value, json};

const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Added by sealant-controller to the Secrets it owns (`reconcile::OWNED_LABEL`).
const OWNED_LABEL: &str = "sealant.dev/owned-by";

/// An upstream-style key pair made by openssl: the files and the PEM texts.
struct UpstreamKey {
    key_file: PathBuf,
    cert_file: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running openssl")?;
    ensure!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Upstream's controller key: RSA, self-signed, empty subject and issuer, CA:TRUE and
/// KeyUsage encipherOnly (both critical), key in PKCS#1 ("RSA PRIVATE KEY").
fn upstream_key(dir: &Path, stem: &str, bits: u32) -> anyhow::Result<UpstreamKey> {
    let (pkcs8, key, cert) = (
        format!("{stem}.pkcs8.pem"),
        format!("{stem}.key"),
        format!("{stem}.crt"),
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            &format!("rsa:{bits}"),
            "-nodes",
            "-keyout",
            &pkcs8,
            "-out",
            &cert,
            "-days",
            "3650",
            "-subj",
            "/",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,encipherOnly",
        ],
    )?;
    openssl(dir, &["rsa", "-in", &pkcs8, "-traditional", "-out", &key])?;
    Ok(UpstreamKey {
        key_file: dir.join(key),
        cert_file: dir.join(cert),
    })
}

/// Runs independent.py's batch mode (JSON array in, JSON array out).
fn independent(command: &str, entries: &Value) -> anyhow::Result<Vec<Value>> {
    let mut child = Command::new("python3")
        .arg(repo_file("core/tests/vectors/independent.py"))
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running core/tests/vectors/independent.py")?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().context("stdin")?;
        stdin.write_all(serde_json::to_string(entries)?.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    ensure!(
        output.status.success(),
        "independent.py {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout)?;
    for result in &results {
        ensure!(result["ok"] == true, "independent.py {command}: {result}");
    }
    Ok(results)
}

/// Seals `plaintext` to `cert` with upstream's format and OAEP `label`.
fn upstream_seal(cert: &Path, label: &str, plaintext: &str) -> anyhow::Result<String> {
    let results = independent(
        "encrypt-batch",
        &json!([{
            "cert": cert.display().to_string(),
            "label_b64": base64::encode(label.as_bytes()),
            "plaintext_b64": base64::encode(plaintext.as_bytes()),
        }]),
    )?;
    results[0]["ciphertext_b64"]
        .as_str()
        .map(str::to_owned)
        .context("no ciphertext")
}

/// One SealedSecret of the fixture and what upstream unsealed from it.
struct Fixture {
    name: &'static str,
    /// Top-level annotations (the scope).
    annotations: BTreeMap<String, String>,
    /// Items: (name, sealed with the newest key (else the older one), plaintext).
    items: Vec<(&'static str, bool, &'static str)>,
    secret_type: &'static str,
    /// template.data (Go templates) and what upstream rendered from them.
    templates: Vec<(&'static str, &'static str, &'static str)>,
}

fn fixtures() -> Vec<Fixture> {
    let scope = |key: &str| BTreeMap::from([(key.to_owned(), "true".to_owned())]);
    vec![
        Fixture {
            name: "db",
            annotations: BTreeMap::new(),
            items: vec![("username", true, "app"), ("password", true, "s3cr3t!")],
            secret_type: "Opaque",
            templates: vec![],
        },
        // Sealed before the last key renewal: the older key must still open it.
        Fixture {
            name: "from-old-key",
            annotations: scope("sealedsecrets.bitnami.com/namespace-wide"),
            items: vec![("token", false, "old-but-valid")],
            secret_type: "Opaque",
            templates: vec![],
        },
        Fixture {
            name: "wide",
            annotations: scope("sealedsecrets.bitnami.com/cluster-wide"),
            items: vec![("api-key", true, "k-123")],
            secret_type: "Opaque",
            templates: vec![],
        },
        // Items sealed at different times with different keys, and a template.
        Fixture {
            name: "mixed",
            annotations: BTreeMap::new(),
            items: vec![
                ("user", false, "svc"),
                ("password", true, "p@ss \"quoted\""),
            ],
            secret_type: "Opaque",
            templates: vec![(
                "config.json",
                "{\"user\": {{ toJson .user }}, \"password\": {{ toJson .password }}}",
                "{\"user\": \"svc\", \"password\": \"p@ss \\\"quoted\\\"\"}",
            )],
        },
        Fixture {
            name: "registry",
            annotations: BTreeMap::new(),
            items: vec![(
                ".dockerconfigjson",
                true,
                "{\"auths\":{\"registry.example\":{\"auth\":\"dTpw\"}}}",
            )],
            secret_type: "kubernetes.io/dockerconfigjson",
            templates: vec![],
        },
    ]
}

/// OAEP label for the fixture's scope (docs/upstream.md, "Scopes and the OAEP label").
fn label(fixture: &Fixture, namespace: &str) -> String {
    if fixture
        .annotations
        .contains_key("sealedsecrets.bitnami.com/cluster-wide")
    {
        String::new()
    } else if fixture
        .annotations
        .contains_key("sealedsecrets.bitnami.com/namespace-wide")
    {
        namespace.to_owned()
    } else {
        format!("{namespace}/{}", fixture.name)
    }
}

/// `sealant seal NAME --from-literal ... --cert CERT`, in process, to a YAML file.
fn sealant_seal(
    name: &str,
    namespace: &str,
    literal: &str,
    cert: &Path,
    out: &Path,
) -> anyhow::Result<()> {
    let argv = [
        "sealant",
        "seal",
        name,
        "--from-literal",
        literal,
        "--namespace",
        namespace,
        "--cert",
        cert.to_str().context("cert path is not UTF-8")?,
        "--output-file",
        out.to_str().context("output path is not UTF-8")?,
    ];
    let CliCommand::Seal(args) = Cli::try_parse_from(argv)?.command else {
        bail!("`sealant seal` parsed as another command");
    };
    std::thread::spawn(move || sealant::seal::run(&args))
        .join()
        .map_err(|_| anyhow::anyhow!("sealant seal panicked"))?
        .map_err(|e| anyhow::anyhow!("sealant seal: {e}"))
}

fn data_of(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    secret
        .data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn upstream_keys_sealed_secrets_and_secrets_are_adopted_in_place() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    // Stand-ins for kube-system (keys) and an application namespace.
    let ctl = cluster.namespace("mig-ctl").await?;
    let app = cluster.namespace("mig-app").await?;
    let work = std::env::temp_dir().join(unique_name("sealant-migration"));
    std::fs::create_dir_all(&work)?;

    // --- the cluster as upstream leaves it ---------------------------------------------
    let old = upstream_key(&work, "old", 2048)?;
    // Certificates are ordered by NotBefore (seconds): the second key is the newest.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let new = upstream_key(&work, "new", 4096)?;
    let keys: Api<Secret> = Api::namespaced(cluster.client(), ctl.name());
    for key in [&old, &new] {
        let secret = Secret {
            metadata: ObjectMeta {
                generate_name: Some("sealed-secrets-key".into()),
                labels: Some([(KEY_LABEL.to_owned(), "active".to_owned())].into()),
                ..ObjectMeta::default()
            },
            type_: Some("kubernetes.io/tls".into()),
            data: Some(
                [
                    (
                        "tls.crt".to_owned(),
                        ByteString(std::fs::read(&key.cert_file)?),
                    ),
                    (
                        "tls.key".to_owned(),
                        ByteString(std::fs::read(&key.key_file)?),
                    ),
                ]
                .into(),
            ),
            ..Secret::default()
        };
        keys.create(&PostParams::default(), &secret).await?;
    }
    let key_list = |keys: Api<Secret>| async move {
        let list = keys
            .list(&ListParams::default().labels(&format!("{KEY_LABEL}=active")))
            .await?;
        anyhow::Ok(
            list.items
                .into_iter()
                .map(|s| {
                    (
                        s.uid().unwrap_or_default(),
                        s.metadata.resource_version.clone(),
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let keys_before = key_list(keys.clone()).await?;
    ensure!(keys_before.len() == 2);

    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), app.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), app.name());
    let fingerprint = |key: &UpstreamKey| -> anyhow::Result<String> {
        let cert = Certificate::from_pem(&std::fs::read(&key.cert_file)?)?;
        Ok(cert.public_key().fingerprint().to_string())
    };
    let (old_fingerprint, new_fingerprint) = (fingerprint(&old)?, fingerprint(&new)?);
    let mut before: BTreeMap<&str, (Secret, SealedSecret)> = BTreeMap::new();
    let mut inventories: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for fixture in fixtures() {
        let label = label(&fixture, app.name());
        let mut encrypted = serde_json::Map::new();
        let mut data = BTreeMap::new();
        let mut inventory: Vec<String> = fixture
            .items
            .iter()
            .map(|(_, newest, _)| {
                if *newest {
                    new_fingerprint.clone()
                } else {
                    old_fingerprint.clone()
                }
            })
            .collect();
        inventory.sort();
        inventory.dedup();
        inventories.insert(fixture.name, inventory);
        for (item, newest, plaintext) in &fixture.items {
            let cert = if *newest {
                &new.cert_file
            } else {
                &old.cert_file
            };
            encrypted.insert(
                (*item).to_owned(),
                json!(upstream_seal(cert, &label, plaintext)?),
            );
            data.insert(
                (*item).to_owned(),
                ByteString(plaintext.as_bytes().to_vec()),
            );
        }
        let mut template_data = serde_json::Map::new();
        for (key, template, rendered) in &fixture.templates {
            template_data.insert((*key).to_owned(), json!(template));
            data.insert((*key).to_owned(), ByteString(rendered.as_bytes().to_vec()));
        }
        let labels = json!({"app": fixture.name});
        // As kubeseal writes it: the scope annotation on both metadata.
        let object: SealedSecret = serde_json::from_value(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": fixture.name, "namespace": app.name(), "annotations": fixture.annotations},
            "spec": {
                "encryptedData": encrypted,
                "template": {
                    "metadata": {"name": fixture.name, "namespace": app.name(), "labels": labels, "annotations": fixture.annotations},
                    "type": fixture.secret_type,
                    "data": if template_data.is_empty() { Value::Null } else { Value::Object(template_data) },
                },
            },
        }))?;
        sealed_api.create(&PostParams::default(), &object).await?;
        // Upstream's Synced status (message omitted when empty, as Go's omitempty does).
        let now = "2026-01-01T00:00:00Z";
        let status = json!({"status": {"observedGeneration": 1, "conditions": [
            {"type": "Synced", "status": "True", "lastUpdateTime": now, "lastTransitionTime": now}
        ]}});
        let created = sealed_api
            .patch_status(
                fixture.name,
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await?;
        // Upstream's Secret: the template's metadata, the data, one controlling owner.
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(fixture.name.into()),
                labels: Some([("app".to_owned(), fixture.name.to_owned())].into()),
                annotations: (!fixture.annotations.is_empty()).then(|| fixture.annotations.clone()),
                owner_references: Some(vec![
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                        api_version: "bitnami.com/v1alpha1".into(),
                        kind: "SealedSecret".into(),
                        name: fixture.name.into(),
                        uid: created.uid().context("uid")?,
                        controller: Some(true),
                        block_owner_deletion: None,
                    },
                ]),
                ..ObjectMeta::default()
            },
            type_: Some(fixture.secret_type.into()),
            data: Some(data),
            ..Secret::default()
        };
        let secret = secrets.create(&PostParams::default(), &secret).await?;
        before.insert(fixture.name, (secret, created));
    }

    // --- sealant-controller takes over ----------------------------------------------------
    let api_addr = free_local_addr()?;
    let controller = ControllerProcess::start_with_addrs(
        &cluster,
        ctl.name(),
        &["--additional-namespaces", app.name()],
        &api_addr,
        &free_local_addr()?,
    )?;
    for (name, (old_secret, old_sealed)) in &before {
        // Reconciled: the controller marks the Secrets it owns.
        let adopted = wait_for(
            &format!("Secret {name} adopted"),
            DEFAULT_TIMEOUT,
            || async {
                let secret = secrets.get(name).await?;
                Ok(secret.labels().contains_key(OWNED_LABEL).then_some(secret))
            },
        )
        .await
        .with_context(|| controller.log())?;
        ensure!(adopted.uid() == old_secret.uid(), "{name} was re-created");
        ensure!(
            adopted.metadata.creation_timestamp == old_secret.metadata.creation_timestamp,
            "{name} was re-created"
        );
        ensure!(
            data_of(&adopted) == data_of(old_secret),
            "{name}: data changed"
        );
        ensure!(adopted.type_ == old_secret.type_, "{name}: type changed");
        ensure!(
            adopted.owner_references() == old_secret.owner_references(),
            "{name}: owner changed"
        );
        ensure!(adopted.labels().get("app").map(String::as_str) == Some(*name));
        // The SealedSecret is untouched: no re-seal, spec, metadata and generation as they
        // were, upstream's Synced condition as it wrote it. The only write is the key inventory
        // (status.keyFingerprints, which upstream ignores), once: GitOps tools compare the
        // spec and see no change.
        let expected = &inventories[name];
        let sealed = wait_for(
            &format!("{name}: key inventory"),
            DEFAULT_TIMEOUT,
            || async {
                let sealed = sealed_api.get(name).await?;
                let recorded = sealed
                    .status
                    .as_ref()
                    .and_then(|s| s.key_fingerprints.as_deref());
                Ok((recorded == Some(&expected[..])).then_some(sealed))
            },
        )
        .await
        .with_context(|| controller.log())?;
        ensure!(sealed.spec == old_sealed.spec, "{name}: the spec changed");
        ensure!(
            sealed.metadata.generation == old_sealed.metadata.generation
                && sealed.metadata.labels == old_sealed.metadata.labels
                && sealed.metadata.annotations == old_sealed.metadata.annotations,
            "{name}: the metadata changed"
        );
        let (status, old_status) = (
            sealed.status.clone().unwrap_or_default(),
            old_sealed.status.clone().unwrap_or_default(),
        );
        ensure!(
            status.conditions == old_status.conditions
                && status.observed_generation == old_status.observed_generation,
            "{name}: upstream's Synced status was rewritten: {status:?}"
        );
    }
    // No key was made: upstream's keys are used as they are.
    ensure!(
        key_list(keys.clone()).await? == keys_before,
        "key Secrets changed"
    );

    // The certificate served is the newest upstream key's.
    let served = wait_for("/v1/cert.pem", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api_addr, "/v1/cert.pem").await)
    })
    .await?;
    let served = Certificate::from_pem(served.as_bytes())?;
    let newest = Certificate::from_pem(&std::fs::read(&new.cert_file)?)?;
    ensure!(
        served.public_key().fingerprint() == newest.public_key().fingerprint(),
        "the served certificate is not the newest upstream key's"
    );

    // A new seal against that certificate works...
    let cert_file = work.join("served.pem");
    std::fs::write(&cert_file, served.pem())?;
    let out = work.join("new.yaml");
    sealant_seal(
        "after-switch",
        app.name(),
        "api-key=fresh",
        &cert_file,
        &out,
    )?;
    let text = std::fs::read_to_string(&out)?;
    let object: SealedSecret = sealant_core::yaml::from_str(text.trim_start_matches("---\n"))?;
    sealed_api.create(&PostParams::default(), &object).await?;
    wait_secret_data(&secrets, "after-switch", &[("api-key", "fresh")])
        .await
        .with_context(|| controller.log())?;
    // ...and upstream's format opens it with upstream's key: switching back stays possible.
    let item = serde_json::to_value(&object)?["spec"]["encryptedData"]["api-key"]
        .as_str()
        .context("no api-key item")?
        .to_owned();
    let opened = independent(
        "decrypt-batch",
        &json!([{
            "key": new.key_file.display().to_string(),
            "label_b64": base64::encode(format!("{}/after-switch", app.name()).as_bytes()),
            "ciphertext_b64": item,
        }]),
    )?;
    ensure!(opened[0]["plaintext_b64"] == base64::encode(b"fresh"));

    assert!(
        !controller.log().contains("s3cr3t") && !controller.log().contains("old-but-valid"),
        "plaintext in the controller log"
    );
    drop(controller);
    let _ = std::fs::remove_dir_all(&work);
    ctl.cleanup().await?;
    app.cleanup().await?;
    Ok(())
}
