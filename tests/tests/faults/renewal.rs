//! e2e: a controller killed during key renewal leaves whole keys and Secrets in sync.

use super::*;

/// One key Secret (RSA or age) as an administrator sees it: its state label, whether it is
/// whole (key and certificate or identity parse), and a digest of its data (a key that
/// changed is as bad as one lost; the digest keeps private keys out of failure messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRecord {
    kind: &'static str,
    state: String,
    whole: bool,
    digest: u64,
    cert: Option<String>,
}

/// Every key Secret in `ns`, RSA and age, by name.
pub(crate) async fn key_records(
    cluster: &TestCluster,
    ns: &str,
) -> anyhow::Result<BTreeMap<String, KeyRecord>> {
    use std::hash::{Hash as _, Hasher as _};
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let mut records = BTreeMap::new();
    for (kind, label) in [("rsa", KEY_LABEL), ("age", AGE_KEY_LABEL)] {
        for secret in secrets
            .list(&ListParams::default().labels(label))
            .await?
            .items
        {
            let data = secret.data.clone().unwrap_or_default();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            for (item, value) in &data {
                (item, &value.0).hash(&mut hasher);
            }
            let cert = data
                .get("tls.crt")
                .and_then(|c| Certificate::from_pem(&c.0).ok());
            let whole = if kind == "rsa" {
                cert.is_some()
                    && data
                        .get("tls.key")
                        .is_some_and(|k| PrivateKey::from_pem(&k.0).is_ok())
            } else {
                serde_json::to_value(&secret)
                    .ok()
                    .and_then(|v| serde_json::from_value::<sealant_core::Secret>(v).ok())
                    .is_some_and(|core| read_age_key_secret(&core).is_ok())
            };
            records.insert(
                secret.name_any(),
                KeyRecord {
                    kind,
                    state: secret.labels().get(label).cloned().unwrap_or_default(),
                    whole,
                    digest: hasher.finish(),
                    cert: cert.map(|c| c.pem().to_owned()),
                },
            );
        }
    }
    Ok(records)
}

pub(crate) fn count(records: &BTreeMap<String, KeyRecord>, kind: &str) -> usize {
    records.values().filter(|r| r.kind == kind).count()
}

/// Creates SealedSecret `name` (in `api`'s namespace) holding `k = value` sealed to `cert`, and
/// records it in `expected`.
pub(crate) async fn create_expected(
    api: &Api<SealedSecret>,
    cert: &Certificate,
    expected: &mut BTreeMap<String, String>,
    name: String,
    value: String,
) -> anyhow::Result<()> {
    let namespace = api.namespace().context("a namespaced Api")?;
    let object = sealed(cert, namespace, &name, &[("k", &value)], None)?;
    api.create(&PostParams::default(), &object).await?;
    expected.insert(name, value);
    Ok(())
}

/// Where in a renewal the leader is SIGKILLed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// This long after SIGUSR1.
    After(Duration),
    /// As soon as the new RSA key Secret is visible (before its age key is written).
    RsaKeyWritten,
}

/// The controller SIGKILLed at points throughout a key renewal (SIGUSR1: generate, write the
/// RSA key Secret, re-read, write the age key Secret), then started again. After each round:
/// no key lost or changed, at most one new RSA and one new age key (never an age key without
/// its RSA key), every key Secret whole, the certificate served is the newest key's and a
/// SealedSecret sealed to it unseals (its private key is there), and every SealedSecret is in
/// sync.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn controller_killed_during_key_renewal_leaves_whole_keys_and_secrets_in_sync()
-> anyhow::Result<()> {
    const SECRETS: usize = 4;
    let points = [
        KillPoint::After(Duration::ZERO),
        KillPoint::After(Duration::from_millis(20)),
        KillPoint::After(Duration::from_millis(100)),
        KillPoint::After(Duration::from_millis(300)),
        KillPoint::RsaKeyWritten,
        KillPoint::After(Duration::from_millis(700)),
        KillPoint::After(Duration::from_millis(1500)),
        KillPoint::After(Duration::from_millis(4000)),
    ];
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("fault-renew").await?;
    // One replica, no Lease: the restarted process leads at once.
    let flags = ["--leader-elect=false"];
    let mut controller = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..SECRETS {
        let (name, value) = (format!("s{i}"), format!("v{i}"));
        create_expected(&sealed_api, &cert, &mut expected, name, value).await?;
    }
    for (name, value) in &expected {
        wait_secret_data(&secrets, name, &[("k", value)])
            .await
            .with_context(|| controller.log())?;
    }
    let mut before = wait_for("the first RSA and age keys", DEFAULT_TIMEOUT, || async {
        let records = key_records(&cluster, ns.name()).await?;
        Ok((count(&records, "rsa") == 1 && count(&records, "age") == 1).then_some(records))
    })
    .await?;

    let mut outcomes = Vec::new();
    for (round, point) in points.into_iter().enumerate() {
        // SIGUSR1 before the handler is installed would end the process (the default action):
        // wait until its watches synced, well after the key manager started listening.
        wait_for("the controller to be ready", DEFAULT_TIMEOUT, || async {
            Ok(controller
                .log()
                .contains("watches synced: ready")
                .then_some(()))
        })
        .await
        .with_context(|| controller.log())?;
        let rsa_before = count(&before, "rsa");
        signal(controller.child.id(), "USR1")?;
        match point {
            KillPoint::After(delay) => tokio::time::sleep(delay).await,
            KillPoint::RsaKeyWritten => {
                let deadline = Instant::now() + DEFAULT_TIMEOUT;
                while count(&key_records(&cluster, ns.name()).await?, "rsa") == rsa_before {
                    anyhow::ensure!(Instant::now() < deadline, "no new key after SIGUSR1");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        }
        let log_path = controller.log.clone();
        drop(controller); // SIGKILL (and the leak check of its log)
        let log = std::fs::read_to_string(&log_path)?;
        let at_kill = key_records(&cluster, ns.name()).await?;
        controller = ControllerProcess::start(&cluster, ns.name(), &flags)?;

        // The restarted controller serves the newest key's certificate.
        let newest = at_kill
            .values()
            .filter(|r| r.kind == "rsa")
            .filter_map(|r| Certificate::from_pem(r.cert.as_deref()?.as_bytes()).ok())
            .max_by_key(Certificate::not_before)
            .context("no RSA key")?;
        let api = wait_for("the API address", DEFAULT_TIMEOUT, || async {
            Ok(controller.listening("api"))
        })
        .await?;
        let served = wait_for(
            "the newest certificate to be served",
            DEFAULT_TIMEOUT,
            || async {
                let pem = http_get(&api, "/v1/cert.pem").await;
                Ok(pem.and_then(|pem| Certificate::from_pem(pem.as_bytes()).ok()))
            },
        )
        .await?;
        assert_eq!(
            served.public_key().fingerprint(),
            newest.public_key().fingerprint(),
            "round {round} ({point:?}): the certificate served is not the newest key's"
        );
        let after = key_records(&cluster, ns.name()).await?;
        assert_eq!(after, at_kill, "round {round}: a restart changed the keys");
        for (name, record) in &before {
            assert_eq!(
                after.get(name),
                Some(record),
                "round {round} ({point:?}): key {name} lost or changed"
            );
        }
        let (new_rsa, new_age) = (
            count(&after, "rsa") - rsa_before,
            count(&after, "age") - count(&before, "age"),
        );
        assert!(
            new_rsa <= 1 && new_age <= new_rsa,
            "round {round} ({point:?}): {new_rsa} new RSA and {new_age} new age keys: {after:?}"
        );
        assert!(
            after.values().all(|r| r.whole && r.state == "active"),
            "round {round} ({point:?}): a key that is not whole and active: {after:?}"
        );

        // The newest key opens what is sealed to it; everything else stays in sync.
        let (name, value) = (format!("probe{round}"), format!("p{round}"));
        create_expected(&sealed_api, &served, &mut expected, name, value).await?;
        for (name, value) in &expected {
            wait_secret_data(&secrets, name, &[("k", value)])
                .await
                .with_context(|| controller.log())?;
            wait_synced(&sealed_api, name, "True", 1).await?;
        }
        // How far the renewal got, from what the killed process logged after the signal.
        let stage = match log.rfind("SIGUSR1: generating") {
            None => "before the signal was handled",
            Some(at) if log[at..].contains("New age key written") => "both keys written",
            Some(at) if log[at..].contains("New key written") => "RSA key written",
            Some(_) => "generating",
        };
        outcomes.push(format!(
            "{point:?}: +{new_rsa} RSA +{new_age} age ({stage})"
        ));
        before = after;
    }
    eprintln!("renewal kill rounds:\n  {}", outcomes.join("\n  "));
    ns.cleanup().await
}

/// Regression: a renewal in the same second as the key it replaced (SIGUSR1 just after the
/// first start) kept the old key published about half of the time, since keys rank by whole
/// seconds and a tie went by list order. Three renewals back to back each publish a new key.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn regression_renewals_within_one_second_each_publish_the_new_key() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("renew-tie").await?;
    let proxied = ProxiedController::start(&cluster, ns.name(), &["--leader-elect=false"]).await?;
    let api = proxied.api_addr();
    let served = || async {
        http_get(&api, "/v1/cert.pem")
            .await
            .and_then(|pem| Certificate::from_pem(pem.as_bytes()).ok())
            .map(|cert| cert.public_key().fingerprint().to_string())
    };
    let mut previous = wait_for("the first certificate", DEFAULT_TIMEOUT, || async {
        Ok(served().await)
    })
    .await
    .with_context(|| proxied.process.log())?;
    // SIGUSR1 before its handler is installed would end the process.
    wait_for("the controller to be ready", DEFAULT_TIMEOUT, || async {
        Ok(proxied
            .process
            .log()
            .contains("watches synced: ready")
            .then_some(()))
    })
    .await?;
    for round in 0..3 {
        signal(proxied.process.child.id(), "USR1")?;
        previous = wait_for("the renewed certificate", DEFAULT_TIMEOUT, || async {
            Ok(served().await.filter(|served| *served != previous))
        })
        .await
        .with_context(|| format!("round {round}: {}", proxied.process.log()))?;
    }
    Ok(())
}
