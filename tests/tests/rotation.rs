//! Key rotation end to end (docs/rotation.md), with the `sealant` binary against a live controller
//! on the real control plane: a repository tree sealed with `sealant seal` and applied, `keys
//! rotate`,
//! `reencrypt --check` failing before and passing after an online `reencrypt` (through the API
//! server's service proxy, so the controller runs in a network namespace as in `proxy.rs`), the
//! inventory (`keys list -o json`, status.keyFingerprints, metrics) showing the old key unused,
//! `keys retire` refused while anything needs the key and allowed after, and every Secret still
//! in sync. A second test marks the sealing key compromised.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_core::keysecret::{KEY_LABEL, RENEW_REQUEST_ANNOTATION};
use sealant_core::object::read_documents;
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_tests::cli::{CliOutput, Sealant};
use sealant_tests::controller::{
    ControllerProcess, PROXIED_SERVICE, ProxiedController, cluster_with_crd, controller_cert,
    fetch_metrics, free_local_addr, http_get, sealed, wait_secret_data, wait_synced,
};
use sealant_tests::{DEFAULT_TIMEOUT, FIELD_MANAGER, wait_for};
use serde_json::Value;

/// Runs `sealant ARGS` (the built binary) against the test cluster, with the controller in
/// `namespace`.
async fn sealant(kubeconfig: &Path, namespace: &str, args: &[&str]) -> anyhow::Result<CliOutput> {
    let mut argv: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    argv.extend([
        "--kubeconfig".into(),
        kubeconfig.to_string_lossy().into_owned(),
        "--controller-namespace".into(),
        namespace.into(),
        "--controller-name".into(),
        PROXIED_SERVICE.into(),
    ]);
    Sealant::new(&argv)?.run_async().await
}

/// Like [`sealant`], failing unless it exits 0.
async fn sealant_ok(
    kubeconfig: &Path,
    namespace: &str,
    args: &[&str],
) -> anyhow::Result<CliOutput> {
    let out = sealant(kubeconfig, namespace, args).await?;
    ensure!(
        out.code() == Some(0),
        "sealant {args:?} exited {:?}:\n{}{}",
        out.code(),
        out.stdout,
        out.stderr
    );
    Ok(out)
}

/// `sealant keys list -o json`, counting only the SealedSecrets of the test's namespace (other
/// tests' objects share the cluster, watched by their own controllers).
async fn key_list(kubeconfig: &Path, namespace: &str) -> anyhow::Result<Value> {
    let out = sealant_ok(
        kubeconfig,
        namespace,
        &[
            "keys",
            "list",
            "-o",
            "json",
            "--sealed-secrets-namespace",
            namespace,
        ],
    )
    .await?;
    serde_json::from_str(&out.stdout).with_context(|| format!("keys list -o json: {}", out.stdout))
}

/// The arguments of `keys retire KEY`, its guard counting only the SealedSecrets of the test's
/// namespace (as [`key_list`] does).
fn retire_args<'a>(namespace: &'a str, key: &'a str) -> [&'a str; 5] {
    [
        "keys",
        "retire",
        key,
        "--sealed-secrets-namespace",
        namespace,
    ]
}

/// The entry of `fingerprint` in a `keys list -o json` document.
fn key_entry<'a>(list: &'a Value, fingerprint: &str) -> anyhow::Result<&'a Value> {
    list["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["fingerprint"] == fingerprint))
        .with_context(|| format!("{fingerprint} is not in the key list: {list:#}"))
}

/// The fingerprint of the RSA key `keys list` marks as sealing.
fn sealing_rsa(list: &Value) -> Option<String> {
    list["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kind"] == "rsa" && k["sealing"] == true)?["fingerprint"]
        .as_str()
        .map(str::to_owned)
}

/// The SealedSecrets of a file's text: its documents and the items of its `List` documents.
fn sealed_values(text: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for value in read_documents::<Value>(text)? {
        if value["kind"] == "List" {
            out.extend(
                value["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|item| item["kind"] == "SealedSecret")
                    .cloned(),
            );
        } else if value["kind"] == "SealedSecret" {
            out.push(value);
        }
    }
    Ok(out)
}

/// The text with every ciphertext and key hint of its SealedSecrets replaced by a placeholder.
fn normalized(text: &str) -> anyhow::Result<String> {
    let mut text = text.to_owned();
    for value in sealed_values(&text.clone())? {
        let items = value["spec"]["encryptedData"].as_object().cloned();
        for secret in items
            .into_iter()
            .flatten()
            .filter_map(|(_, v)| v.as_str().map(str::to_owned))
        {
            text = text.replace(&secret, "<SEALED>");
        }
        if let Some(hint) = value["metadata"]["annotations"][KEY_HINT_ANNOTATION].as_str() {
            text = text.replace(hint, "<HINT>");
        }
    }
    Ok(text)
}

/// Every `*.yaml`/`*.yml`/`*.json` file under `dir`, sorted.
fn manifest_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files.extend(manifest_files(&path)?);
        } else if ["yaml", "yml", "json"]
            .iter()
            .any(|ext| path.extension().is_some_and(|e| e == *ext))
        {
            files.push(path);
        }
    }
    Ok(files)
}

/// Applies every SealedSecret of the tree (server-side apply, as a GitOps tool would); returns
/// their names.
async fn apply_tree(api: &Api<SealedSecret>, repo: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for file in manifest_files(repo)? {
        for value in sealed_values(&std::fs::read_to_string(&file)?)? {
            let name = value["metadata"]["name"]
                .as_str()
                .context("a SealedSecret without a name")?
                .to_owned();
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&value),
            )
            .await
            .with_context(|| format!("applying {name} from {}", file.display()))?;
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Waits until `name` is synced at its current generation and its inventory is `expected`.
async fn wait_inventory(
    api: &Api<SealedSecret>,
    name: &str,
    expected: &[&str],
) -> anyhow::Result<SealedSecret> {
    let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    wait_for(
        &format!("{name} with status.keyFingerprints {expected:?}"),
        DEFAULT_TIMEOUT,
        || async {
            let object = api.get(name).await?;
            let current = object.status.as_ref().is_some_and(|s| {
                s.observed_generation == object.metadata.generation
                    && s.key_fingerprints.as_deref() == Some(&expected[..])
            });
            Ok(current.then_some(object))
        },
    )
    .await
}

/// The value of the first series of `metric` whose labels include `fingerprint="…"`.
fn key_metric(page: &str, metric: &str, fingerprint: &str) -> Option<f64> {
    let label = format!("fingerprint=\"{fingerprint}\"");
    page.lines()
        .filter(|line| line.starts_with(&format!("{metric}{{")) && line.contains(&label))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

/// The controller's key Secrets as a `v1` List, as `kubectl get secret -l … -o yaml` prints it.
async fn export_keys(
    cluster: &sealant_tests::TestCluster,
    ns: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let items = secrets
        .list(&ListParams::default().labels(KEY_LABEL))
        .await?
        .items;
    let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
    std::fs::write(out, sealant_core::yaml::to_string(&list)?)?;
    Ok(())
}

/// The Secrets of the sample tree: name and items.
fn sample_secrets() -> BTreeMap<&'static str, Vec<(&'static str, &'static str)>> {
    BTreeMap::from([
        ("db", vec![("user", "app"), ("password", "rotation-db-pw")]),
        ("api", vec![("token", "rotation-api-t0ken")]),
        ("cache", vec![("password", "rotation-cache-pw")]),
        ("listed", vec![("token", "rotation-listed-t0ken")]),
    ])
}

/// Seals the sample Secrets with `sealant seal` (certificate through the proxy) into a tree:
/// `app.yaml` (a comment, a ConfigMap and two SealedSecrets), `nested/cache.yml`,
/// `list.yaml` (a `List` holding a SealedSecret), `plain.yaml` (no SealedSecret at all).
async fn write_sample_tree(admin: &Path, ns: &str, dir: &Path, repo: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(repo.join("nested"))?;
    let secrets = sample_secrets();
    let secret_doc = |name: &str| {
        let items: String = secrets[name]
            .iter()
            .map(|(k, v)| format!("  {k}: {v}\n"))
            .collect();
        format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\nstringData:\n{items}"
        )
    };
    let seal_to_text = |input: String, out: PathBuf| async move {
        let input_file = out.with_extension("secret");
        std::fs::write(&input_file, input)?;
        sealant_ok(
            admin,
            ns,
            &[
                "seal",
                "--no-cert-cache",
                "-f",
                &input_file.to_string_lossy(),
                "-w",
                &out.to_string_lossy(),
            ],
        )
        .await?;
        std::fs::remove_file(&input_file)?;
        anyhow::Ok(std::fs::read_to_string(&out)?)
    };
    // A multi-document stream for app.yaml.
    let app = seal_to_text(
        format!("{}{}", secret_doc("db"), secret_doc("api")),
        dir.join("app-sealed.yaml"),
    )
    .await?;
    std::fs::write(
        repo.join("app.yaml"),
        format!(
            "# Application manifests: reviewers read these comments\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config   # kept as is\n  namespace: {ns}\ndata:\n  mode: 'rotation'\n{app}# end of the stream\n"
        ),
    )?;
    let cache = seal_to_text(secret_doc("cache"), dir.join("cache-sealed.yaml")).await?;
    std::fs::write(
        repo.join("nested/cache.yml"),
        format!(
            "# the cache's credentials\n{}",
            cache.trim_start_matches("---\n")
        ),
    )?;
    // The same SealedSecret as an item of a v1 List, indented under `items:`.
    let listed = seal_to_text(secret_doc("listed"), dir.join("listed-sealed.yaml")).await?;
    let mut item = String::new();
    for (i, line) in listed.trim_start_matches("---\n").lines().enumerate() {
        item.push_str(if i == 0 { "  - " } else { "    " });
        item.push_str(line);
        item.push('\n');
    }
    std::fs::write(
        repo.join("list.yaml"),
        format!(
            "# exported with kubectl get sealedsecrets -o yaml\napiVersion: v1\nkind: List\nitems:\n{item}metadata:\n  resourceVersion: \"\"\n"
        ),
    )?;
    std::fs::write(
        repo.join("plain.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: {ns}\ndata: {{a: b}}\n"
        ),
    )?;
    std::fs::write(repo.join("README.md"), "not a manifest\n")?;
    Ok(())
}

/// Copies a directory tree.
fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn rotation_reencrypt_then_retire_the_unused_key() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rotation").await?;
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-rotation"));
    std::fs::create_dir_all(&dir)?;

    // The controller in a network namespace, reached through the API server's service proxy.
    let controller =
        ProxiedController::start(&cluster, ns.name(), &["--leader-elect=false"]).await?;
    let metrics_addr = controller.metrics_addr();
    let admin = cluster.kubeconfig_path().to_path_buf();
    let old_key = controller_cert(&cluster, &ns)
        .await
        .with_context(|| controller.process.log())?
        .public_key()
        .fingerprint()
        .to_string();
    wait_for(
        "the certificate through the proxy",
        DEFAULT_TIMEOUT,
        || async {
            let out = sealant(&admin, ns.name(), &["cert", "--no-cert-cache"]).await?;
            Ok((out.code() == Some(0)).then_some(()))
        },
    )
    .await
    .with_context(|| controller.process.log())?;

    let result = async {
        // A repository sealed with `sealant seal`, applied, unsealed, inventoried.
        let repo = dir.join("repo");
        write_sample_tree(&admin, ns.name(), &dir, &repo).await?;
        let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
        let secrets_api: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
        let names = apply_tree(&sealed_api, &repo).await?;
        let samples = sample_secrets();
        ensure!(
            names.iter().map(String::as_str).eq(samples.keys().copied()),
            "applied {names:?}"
        );
        for (name, items) in &samples {
            wait_secret_data(&secrets_api, name, items).await?;
            wait_inventory(&sealed_api, name, &[&old_key]).await?;
        }
        let list = key_list(&admin, ns.name()).await?;
        let old = key_entry(&list, &old_key)?;
        ensure!(
            old["sealing"] == true && old["sealedSecrets"] == 4,
            "{list:#}"
        );
        ensure!(
            list["sealedSecrets"]["notInventoried"] == serde_json::json!([]),
            "{list:#}"
        );

        // The sealing key cannot be retired.
        let refused = sealant(&admin, ns.name(), &retire_args(ns.name(), &old_key)).await?;
        ensure!(refused.code() == Some(2), "{refused:?}");
        ensure!(
            refused.stderr.contains("the one the controller seals with"),
            "{}",
            refused.stderr
        );

        // `keys rotate`: a new key, published through the proxy.
        let rotated = sealant_ok(&admin, ns.name(), &["keys", "rotate", "--wait", "90s"]).await?;
        let new_key = rotated.stdout.trim().to_owned();
        ensure!(
            new_key.starts_with("SHA256:") && new_key != old_key,
            "{rotated:?}"
        );
        let list = key_list(&admin, ns.name()).await?;
        ensure!(
            sealing_rsa(&list).as_deref() == Some(new_key.as_str()),
            "{list:#}"
        );
        ensure!(
            key_entry(&list, &old_key)?["sealedSecrets"] == 4,
            "{list:#}"
        );
        let cert_file = dir.join("new.pem");
        let cert_arg = cert_file.to_string_lossy().into_owned();
        wait_for(
            "the new certificate through the proxy",
            DEFAULT_TIMEOUT,
            || async {
                sealant_ok(
                    &admin,
                    ns.name(),
                    &["cert", "--no-cert-cache", "-w", &cert_arg],
                )
                .await?;
                let served = Certificate::from_pem(&std::fs::read(&cert_file)?)?;
                Ok((served.public_key().fingerprint().as_str() == new_key).then_some(()))
            },
        )
        .await?;

        // The fulfilled request is removed, so it cannot fire again once the old key is the
        // newest active one again (the new one retired or compromised).
        let key_secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
        wait_for("the renewal request removed", DEFAULT_TIMEOUT, || async {
            let requested = key_secrets
                .list(&ListParams::default().labels(KEY_LABEL))
                .await?
                .items
                .iter()
                .filter(|s| {
                    s.metadata
                        .annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key(RENEW_REQUEST_ANNOTATION))
                })
                .count();
            Ok((requested == 0).then_some(()))
        })
        .await?;

        // The guard: the old key is still needed, so retiring it is refused, naming them.
        let refused = sealant(&admin, ns.name(), &retire_args(ns.name(), &old_key[..20])).await?;
        ensure!(refused.code() == Some(2), "{refused:?}");
        ensure!(
            refused.stderr.contains("4 SealedSecrets still need it")
                && refused.stderr.contains(&format!("{}/db", ns.name()))
                && refused.stderr.contains("hint: "),
            "{}",
            refused.stderr
        );

        // `reencrypt --check` fails, then an online `reencrypt` (/v1/rotate through the proxy).
        let repo_arg = repo.to_string_lossy().into_owned();
        let before = dir.join("before");
        copy_dir(&repo, &before)?;
        let check = sealant(&admin, ns.name(), &["reencrypt", "--check", &repo_arg]).await?;
        ensure!(check.code() == Some(1), "{check:?}");
        ensure!(
            check
                .stdout
                .lines()
                .filter(|l| l.starts_with("stale: "))
                .count()
                == 4,
            "{check:?}"
        );
        let run = sealant_ok(&admin, ns.name(), &["reencrypt", &repo_arg]).await?;
        ensure!(
            run.stderr.contains("re-encrypted              4"),
            "{run:?}"
        );
        sealant_ok(&admin, ns.name(), &["reencrypt", "--check", &repo_arg]).await?;
        // Offline, from a key export and the new certificate, the verdicts are the same.
        let keys_file = dir.join("keys.yaml");
        export_keys(&cluster, ns.name(), &keys_file).await?;
        let keys_arg = keys_file.to_string_lossy().into_owned();
        for (tree, expected) in [(&repo, 0), (&before, 1)] {
            let out = sealant(
                &admin,
                ns.name(),
                &[
                    "reencrypt",
                    "--check",
                    &tree.to_string_lossy(),
                    "--private-key",
                    &keys_arg,
                    "--cert",
                    &cert_arg,
                ],
            )
            .await?;
            ensure!(
                out.code() == Some(expected),
                "offline --check of {}: {out:?}",
                tree.display()
            );
        }
        // Only ciphertexts and hints changed: comments, the ConfigMaps, the List, README stay.
        for file in manifest_files(&before)? {
            let relative = file.strip_prefix(&before)?;
            let (old_text, new_text) = (
                std::fs::read_to_string(&file)?,
                std::fs::read_to_string(repo.join(relative))?,
            );
            ensure!(
                normalized(&old_text)? == normalized(&new_text)?,
                "{} changed beyond its ciphertexts:\n{new_text}",
                relative.display()
            );
            let (old_sealed, new_sealed) = (sealed_values(&old_text)?, sealed_values(&new_text)?);
            for (old, new) in old_sealed.iter().zip(&new_sealed) {
                ensure!(
                    old["spec"]["encryptedData"] != new["spec"]["encryptedData"],
                    "{} kept a ciphertext",
                    relative.display()
                );
                ensure!(
                    new["metadata"]["annotations"][KEY_HINT_ANNOTATION] == new_key.as_str(),
                    "{}",
                    relative.display()
                );
            }
        }
        ensure!(std::fs::read_to_string(repo.join("README.md"))? == "not a manifest\n");

        // Apply: the controller unseals with the new key; the inventory moves over.
        apply_tree(&sealed_api, &repo).await?;
        for (name, items) in &samples {
            wait_inventory(&sealed_api, name, &[&new_key]).await?;
            wait_secret_data(&secrets_api, name, items).await?;
        }
        let list = wait_for(
            "the old key unused in keys list",
            DEFAULT_TIMEOUT,
            || async {
                let list = key_list(&admin, ns.name()).await?;
                let done = key_entry(&list, &old_key)?["sealedSecrets"] == 0
                    && list["sealedSecrets"]["pending"] == serde_json::json!([]);
                Ok(done.then_some(list))
            },
        )
        .await?;
        ensure!(
            key_entry(&list, &new_key)?["sealedSecrets"] == 4,
            "{list:#}"
        );
        ensure!(key_entry(&list, &old_key)?["state"] == "active", "{list:#}");
        // The leader's metrics agree: the old key is needed by nothing.
        let page = wait_for("per-key metrics", DEFAULT_TIMEOUT, || async {
            Ok(fetch_metrics(&metrics_addr).await.filter(|page| {
                key_metric(page, "sealant_key_sealedsecrets", &old_key) == Some(0.0)
                    && key_metric(page, "sealant_key_sealedsecrets", &new_key) == Some(4.0)
            }))
        })
        .await;
        page.context("sealant_key_sealedsecrets: old key 0, new key 4")?;

        // Now retiring is allowed, and the old key stops unsealing.
        let retired = sealant_ok(&admin, ns.name(), &retire_args(ns.name(), &old_key)).await?;
        ensure!(retired.stderr.contains("retired: "), "{retired:?}");
        let list = key_list(&admin, ns.name()).await?;
        ensure!(
            key_entry(&list, &old_key)?["state"] == "retired",
            "{list:#}"
        );
        let old_file = before
            .join("nested/cache.yml")
            .to_string_lossy()
            .into_owned();
        wait_for(
            "the retired key no longer unsealing",
            DEFAULT_TIMEOUT,
            || async {
                let out = sealant(&admin, ns.name(), &["validate", "-f", &old_file]).await?;
                Ok((out.code() == Some(1)).then_some(()))
            },
        )
        .await?;
        // Every Secret is still in sync, with the same values; one deleted comes back.
        secrets_api.delete("db", &DeleteParams::default()).await?;
        for (name, items) in &samples {
            wait_synced(&sealed_api, name, "True", 2).await?;
            wait_secret_data(&secrets_api, name, items).await?;
        }
        ensure!(
            !controller.process.log().contains("rotation-db-pw"),
            "the controller log must not hold plaintext"
        );
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result.with_context(|| format!("controller log:\n{}", controller.process.log()))?;
    drop(controller);
    ns.cleanup().await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn rotation_compromised_key_warns_and_is_replaced() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("compromise").await?;
    let (api_addr, metrics_addr) = (free_local_addr()?, free_local_addr()?);
    let controller = ControllerProcess::start_with_addrs(
        &cluster,
        ns.name(),
        &["--leader-elect=false"],
        &api_addr,
        &metrics_addr,
    )?;
    let admin = cluster.kubeconfig_path().to_path_buf();
    let result = async {
        let cert = controller_cert(&cluster, &ns).await?;
        let old_key = cert.public_key().fingerprint().to_string();
        let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
        let secrets_api: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
        let items = [("password", "before-the-leak")];
        sealed_api
            .create(
                &PostParams::default(),
                &sealed(&cert, ns.name(), "app", &items, None)?,
            )
            .await?;
        wait_secret_data(&secrets_api, "app", &items).await?;
        wait_inventory(&sealed_api, "app", &[&old_key]).await?;

        // `keys compromise` with a prefix of the fingerprint.
        let out = sealant_ok(&admin, ns.name(), &["keys", "compromise", &old_key[..16]]).await?;
        ensure!(
            out.stderr.contains("compromised: ")
                && out.stderr.contains("only active RSA key")
                && out
                    .stderr
                    .contains("1 SealedSecret opened with it gets a KeyCompromised condition"),
            "{out:?}"
        );
        // A new key replaces it for sealing: /v1/cert.pem serves another certificate.
        let new_cert = wait_for("a new sealing key", DEFAULT_TIMEOUT, || async {
            let pem = http_get(&api_addr, "/v1/cert.pem").await;
            Ok(pem
                .and_then(|pem| Certificate::from_pem(pem.as_bytes()).ok())
                .filter(|c| c.public_key().fingerprint().as_str() != old_key))
        })
        .await?;
        let new_key = new_cert.public_key().fingerprint().to_string();
        let list = key_list(&admin, ns.name()).await?;
        ensure!(
            key_entry(&list, &old_key)?["state"] == "compromised",
            "{list:#}"
        );
        ensure!(key_entry(&list, &old_key)?["sealing"] == false, "{list:#}");
        ensure!(
            sealing_rsa(&list).as_deref() == Some(new_key.as_str()),
            "{list:#}"
        );

        // The object that needs it: a KeyCompromised condition (Synced stays first) and a
        // Warning event; its Secret still unseals (a deleted one comes back).
        let object = wait_for("the KeyCompromised condition", DEFAULT_TIMEOUT, || async {
            let object = sealed_api.get("app").await?;
            let flagged = object
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter().any(|c| {
                        c.type_ == "KeyCompromised"
                            && c.status == "True"
                            && c.reason.as_deref() == Some("SealedWithCompromisedKey")
                            && c.message.as_deref().is_some_and(|m| m.contains(&old_key))
                    })
                });
            Ok(flagged.then_some(object))
        })
        .await?;
        let conditions = object.status.and_then(|s| s.conditions).unwrap_or_default();
        ensure!(
            conditions
                .first()
                .is_some_and(|c| c.type_ == "Synced" && c.status == "True"),
            "{conditions:?}"
        );
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(cluster.client(), ns.name());
        wait_for(
            "the SealedWithCompromisedKey event",
            DEFAULT_TIMEOUT,
            || async {
                let list = events.list(&ListParams::default()).await?;
                Ok(list
                    .items
                    .iter()
                    .any(|e| {
                        e.reason.as_deref() == Some("SealedWithCompromisedKey")
                            && e.type_.as_deref() == Some("Warning")
                            && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("app")
                    })
                    .then_some(()))
            },
        )
        .await?;
        secrets_api.delete("app", &DeleteParams::default()).await?;
        wait_secret_data(&secrets_api, "app", &items).await?;

        // New seals use the new key, and carry no warning.
        let fresh = [("token", "after-the-leak")];
        sealed_api
            .create(
                &PostParams::default(),
                &sealed(&new_cert, ns.name(), "fresh", &fresh, None)?,
            )
            .await?;
        wait_secret_data(&secrets_api, "fresh", &fresh).await?;
        let object = wait_inventory(&sealed_api, "fresh", &[&new_key]).await?;
        let flagged = object.status.and_then(|s| s.conditions).unwrap_or_default();
        ensure!(
            !flagged.iter().any(|c| c.type_ == "KeyCompromised"),
            "{flagged:?}"
        );

        // Re-sealed to the new key (with a new value: the old one may have been read), the
        // warning goes, nothing needs the old key, and it can be retired.
        let changed = [("password", "after-the-leak")];
        let resealed = sealed(&new_cert, ns.name(), "app", &changed, None)?;
        sealed_api
            .patch(
                "app",
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&serde_json::json!({
                    "apiVersion": "bitnami.com/v1alpha1",
                    "kind": "SealedSecret",
                    "spec": serde_json::to_value(&resealed.spec)?,
                })),
            )
            .await?;
        wait_secret_data(&secrets_api, "app", &changed).await?;
        wait_for(
            "the KeyCompromised condition to go",
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_api.get("app").await?;
                let status = object.status.unwrap_or_default();
                let clear = status.key_fingerprints.as_deref() == Some(&[new_key.clone()][..])
                    && status.observed_generation == object.metadata.generation
                    && !status
                        .conditions
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "KeyCompromised");
                Ok(clear.then_some(()))
            },
        )
        .await?;
        sealant_ok(&admin, ns.name(), &retire_args(ns.name(), &old_key)).await?;
        let list = key_list(&admin, ns.name()).await?;
        ensure!(
            key_entry(&list, &old_key)?["state"] == "retired",
            "{list:#}"
        );
        anyhow::Ok(())
    }
    .await;
    result.with_context(|| format!("controller log:\n{}", controller.log()))?;
    drop(controller);
    ns.cleanup().await
}
