//! e2e: reencrypt with the controller or the CLI killed leaves whole files and Secrets in sync.

use super::renewal::{count, key_records};
use super::*;

/// A fault injected into one `sealant reencrypt` run.
#[derive(Debug, Clone, Copy)]
enum RotateFault {
    /// SIGKILL the controller once it answered this many `/v1/rotate` requests.
    Controller(usize),
    /// SIGKILL the CLI once the controller answered this many.
    Cli(usize),
    /// SIGKILL the CLI as soon as it has rewritten its first file.
    CliWhileWriting,
    /// None: the run completes.
    None,
}

/// Documents of a repository file split at `---` lines (the layout [`repository`] writes).
fn split_documents(text: &str) -> Vec<&str> {
    text.split("\n---\n").collect()
}

/// The repository: `files` files, each a comment and a ConfigMap (never touched) followed by
/// SealedSecret documents with a comment each, as YAML.
fn repository(files: &[Vec<SealedSecret>]) -> anyhow::Result<Vec<String>> {
    files
        .iter()
        .enumerate()
        .map(|(index, docs)| {
            let mut text = format!(
                "# file {index}: comments, key order and this ConfigMap stay as they are\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{index}\ndata:\n  a: b\n"
            );
            for doc in docs {
                text.push_str("---\n# a SealedSecret\n");
                text.push_str(&sealant_core::yaml::to_string(doc)?);
            }
            Ok(text)
        })
        .collect()
}

fn read_one(text: &str) -> anyhow::Result<sealant_core::SealedSecret> {
    let mut all = sealant_core::object::read_sealed_secrets(text)?;
    anyhow::ensure!(
        all.len() == 1,
        "{} SealedSecrets in one document",
        all.len()
    );
    Ok(all.remove(0))
}

/// Checks one file after a run: the same documents, each either byte for byte the original or
/// re-encrypted whole (same object and item names, every ciphertext new, the key hint naming
/// `newest`). Returns (untouched, re-encrypted) SealedSecrets and the re-encrypted ones.
fn check_file(
    original: &str,
    now: &str,
    newest: &sealant_core::Fingerprint,
) -> anyhow::Result<(usize, Vec<sealant_core::SealedSecret>)> {
    let (before, after) = (split_documents(original), split_documents(now));
    anyhow::ensure!(
        before.len() == after.len(),
        "{} documents instead of {}:\n{now}",
        after.len(),
        before.len()
    );
    anyhow::ensure!(before[0] == after[0], "the ConfigMap document changed");
    let (mut untouched, mut rotated) = (0, Vec::new());
    for (old, new) in before[1..].iter().zip(&after[1..]) {
        if old == new {
            untouched += 1;
            continue;
        }
        let (old, new) = (
            read_one(old)?,
            read_one(new).context("a rewritten document")?,
        );
        anyhow::ensure!(
            (
                old.metadata.namespace_or_empty(),
                old.metadata.name_or_empty()
            ) == (
                new.metadata.namespace_or_empty(),
                new.metadata.name_or_empty()
            ),
            "a document changed identity"
        );
        anyhow::ensure!(
            old.spec
                .encrypted_data
                .keys()
                .eq(new.spec.encrypted_data.keys()),
            "{}: items changed",
            new.metadata.name_or_empty()
        );
        anyhow::ensure!(
            old.spec
                .encrypted_data
                .iter()
                .all(|(item, value)| new.spec.encrypted_data[item] != *value),
            "{}: partly re-encrypted",
            new.metadata.name_or_empty()
        );
        anyhow::ensure!(
            sealant_core::sealing::key_hint(&new).as_ref() == Some(newest),
            "{}: key hint {:?} is not the newest key",
            new.metadata.name_or_empty(),
            sealant_core::sealing::key_hint(&new)
        );
        rotated.push(new);
    }
    Ok((untouched, rotated))
}

/// `sealant reencrypt PATH` against a controller reached through the API server's service
/// proxy, with the controller or the CLI SIGKILLed at points of the run (after some
/// `/v1/rotate` answers, one of them for a 150-item SealedSecret that takes a while, or while
/// the CLI writes). After each run every file is whole and each document either untouched or
/// fully re-encrypted to the newest key (the CLI writes each file by rename); the re-encrypted
/// documents, applied, unseal to the same values; every Secret stays in sync; the keys are
/// untouched.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn reencrypt_with_the_controller_or_cli_killed_leaves_whole_files_and_secrets_in_sync()
-> anyhow::Result<()> {
    const FILES: usize = 4;
    const DOCS: usize = 5;
    const ITEMS: usize = 6;
    const BIG_ITEMS: usize = 150;
    let rounds = [
        RotateFault::Controller(1),
        RotateFault::Controller(7),
        RotateFault::Cli(4),
        RotateFault::CliWhileWriting,
        RotateFault::Controller(15),
        RotateFault::None,
    ];
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("fault-rotate").await?;
    let mut proxied =
        ProxiedController::start(&cluster, ns.name(), &["--leader-elect=false"]).await?;
    let old_cert = controller_cert(&cluster, &ns)
        .await
        .with_context(|| proxied.process.log())?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());

    // The repository, and the same objects in the cluster, sealed to the first key.
    let mut expected: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut files = Vec::new();
    for f in 0..FILES {
        let mut docs = Vec::new();
        for d in 0..DOCS {
            let name = format!("f{f}d{d}");
            let items = if (f, d) == (1, 2) { BIG_ITEMS } else { ITEMS };
            let values: Vec<(String, String)> = (0..items)
                .map(|i| (format!("item{i}"), format!("{name}-value{i}")))
                .collect();
            let refs: Vec<(&str, &str)> = values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let object = sealed(&old_cert, ns.name(), &name, &refs, None)?;
            sealed_api.create(&PostParams::default(), &object).await?;
            docs.push(object);
            expected.insert(name, values);
        }
        files.push(docs);
    }
    let originals = repository(&files)?;
    let wait_all_in_sync = || async {
        for (name, values) in &expected {
            let refs: Vec<(&str, &str)> = values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            wait_secret_data(&secrets, name, &refs).await?;
        }
        anyhow::Ok(())
    };
    wait_all_in_sync()
        .await
        .with_context(|| proxied.process.log())?;

    // A renewal: the first key is now the old one, every document is stale.
    signal(proxied.process.child.id(), "USR1")?;
    let api = proxied.api_addr();
    let new_cert = wait_for("the renewed certificate", DEFAULT_TIMEOUT, || async {
        let pem = http_get(&api, "/v1/cert.pem").await;
        Ok(pem
            .and_then(|pem| Certificate::from_pem(pem.as_bytes()).ok())
            .filter(|c| c.public_key().fingerprint() != old_cert.public_key().fingerprint()))
    })
    .await
    .with_context(|| proxied.process.log())?;
    let newest = new_cert.public_key().fingerprint().clone();
    let keys_before = wait_for("the renewed keys", DEFAULT_TIMEOUT, || async {
        let records = key_records(&cluster, ns.name()).await?;
        Ok((count(&records, "rsa") == 2 && count(&records, "age") == 2).then_some(records))
    })
    .await?;

    let workdir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-fault-rotate"));
    let kubeconfig = cluster.kubeconfig_path().to_string_lossy().into_owned();
    let mut report = Vec::new();
    for (round, fault) in rounds.into_iter().enumerate() {
        let dir = workdir.join(format!("round{round}"));
        std::fs::create_dir_all(&dir)?;
        let paths: Vec<std::path::PathBuf> = (0..FILES)
            .map(|f| dir.join(format!("secrets{f}.yaml")))
            .collect();
        for (path, text) in paths.iter().zip(&originals) {
            std::fs::write(path, text)?;
        }
        let rotate_count = || async {
            fetch_metrics(&proxied.metrics_addr()).await.map(|page| {
                metric_sum(
                    &page,
                    "sealed_secrets_controller_http_requests_total",
                    &["path=\"/v1/rotate\""],
                )
            })
        };
        let base = wait_for("the metrics page", DEFAULT_TIMEOUT, || async {
            Ok(rotate_count().await)
        })
        .await?;
        let dir_arg = dir.to_string_lossy().into_owned();
        let mut cli = sealant_tests::cli::Sealant::new(&[
            "reencrypt",
            &dir_arg,
            "--kubeconfig",
            &kubeconfig,
            "--controller-namespace",
            ns.name(),
        ])?
        .spawn()?;
        let output = match fault {
            RotateFault::Controller(after) | RotateFault::Cli(after) => {
                let after = after as f64;
                let deadline = Instant::now() + DEFAULT_TIMEOUT;
                let reached = loop {
                    if cli.try_wait()?.is_some() {
                        break false;
                    }
                    if rotate_count().await.is_some_and(|n| n >= base + after) {
                        break true;
                    }
                    anyhow::ensure!(Instant::now() < deadline, "no rotate answers");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                };
                if matches!(fault, RotateFault::Cli(_)) {
                    cli.kill()?
                } else {
                    if reached {
                        proxied.kill();
                    }
                    let deadline = Instant::now() + DEFAULT_TIMEOUT;
                    while cli.try_wait()?.is_none() {
                        anyhow::ensure!(Instant::now() < deadline, "the CLI hangs");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    let output = cli.wait()?;
                    proxied.restart()?;
                    output
                }
            }
            RotateFault::CliWhileWriting => {
                let deadline = Instant::now() + DEFAULT_TIMEOUT;
                loop {
                    let changed = paths
                        .iter()
                        .zip(&originals)
                        .any(|(p, o)| std::fs::read_to_string(p).is_ok_and(|t| t != *o));
                    if changed || cli.try_wait()?.is_some() {
                        break;
                    }
                    anyhow::ensure!(Instant::now() < deadline, "the CLI wrote nothing");
                    std::thread::sleep(Duration::from_millis(1));
                }
                cli.kill()?
            }
            RotateFault::None => {
                let deadline = Instant::now() + DEFAULT_TIMEOUT;
                while cli.try_wait()?.is_none() {
                    anyhow::ensure!(Instant::now() < deadline, "the CLI hangs");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                cli.wait()?
            }
        };

        // Every file whole, every document untouched or re-encrypted whole.
        let (mut untouched, mut rotated) = (0, Vec::new());
        for (path, original) in paths.iter().zip(&originals) {
            let now = std::fs::read_to_string(path)?;
            let (same, new) = check_file(original, &now, &newest).with_context(|| {
                format!(
                    "round {round} ({fault:?}), {}; sealant said:\n{}{}",
                    path.display(),
                    output.stdout,
                    output.stderr
                )
            })?;
            untouched += same;
            rotated.extend(new);
        }
        let leftovers = std::fs::read_dir(&dir)?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".sealant-"))
            .count();
        if matches!(fault, RotateFault::None) {
            assert_eq!(
                (output.code(), untouched),
                (Some(0), 0),
                "a clean run re-encrypts everything:\n{}{}",
                output.stdout,
                output.stderr
            );
        }
        if matches!(fault, RotateFault::Controller(_)) && output.code() == Some(2) {
            // Those it could not re-encrypt are named, with what to do, in words, not JSON.
            assert!(
                output.stderr.contains("\nhint: ")
                    && !output.stderr.contains("\"kind\":\"Status\""),
                "round {round} ({fault:?}): no hint, or a raw Status:\n{}",
                output.stderr
            );
        }
        if matches!(fault, RotateFault::Controller(_) | RotateFault::None) {
            // The CLI was not killed: it never leaves a temporary file behind.
            assert_eq!(leftovers, 0, "round {round}: temporary files left");
        }

        // The re-encrypted documents, applied, unseal to the same values.
        for new in &rotated {
            let name = new.metadata.name_or_empty().to_owned();
            let mut object = sealed_api.get(&name).await?;
            let new: SealedSecret = serde_json::from_value(serde_json::to_value(new)?)?;
            object.spec = new.spec;
            object.metadata.annotations = new.metadata.annotations;
            let replaced = replace_sealed(&sealed_api, &name, object).await?;
            wait_synced(
                &sealed_api,
                &name,
                "True",
                replaced.metadata.generation.unwrap_or(1),
            )
            .await
            .with_context(|| proxied.process.log())?;
        }
        wait_all_in_sync()
            .await
            .with_context(|| proxied.process.log())?;
        assert_eq!(
            key_records(&cluster, ns.name()).await?,
            keys_before,
            "round {round} ({fault:?}): keys changed"
        );
        let first_error = output
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        report.push(format!(
            "{fault:?}: exit {:?}, {} re-encrypted, {untouched} untouched, {leftovers} temporary files left {first_error}",
            output.code(),
            rotated.len()
        ));
    }
    eprintln!("reencrypt fault rounds:\n  {}", report.join("\n  "));
    let _ = std::fs::remove_dir_all(&workdir);
    drop(proxied);
    ns.cleanup().await
}
