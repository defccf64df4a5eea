//! sealant-controller on the real control plane: upstream's integration scenarios
//! (docs/upstream.md, "Upstream's test scenarios"). Each test runs its own controller process,
//! confined to a throwaway namespace that also holds its keys, so tests run in parallel without
//! seeing each other.

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_core::keysecret::KEY_LABEL;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, repo_file, wait_for};

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn create_update_and_recreate() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-basic").await?;
    let controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());

    let object = sealed(
        &cert,
        ns.name(),
        "app",
        &[("user", "admin"), ("password", "s3cret")],
        None,
    )?;
    sealed_api.create(&PostParams::default(), &object).await?;
    let secret = wait_secret_data(
        &secrets,
        "app",
        &[("user", "admin"), ("password", "s3cret")],
    )
    .await
    .with_context(|| controller.log())?;
    assert_eq!(secret.labels().get("app").map(String::as_str), Some("demo"));
    let owner = &secret.owner_references()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.controller),
        ("SealedSecret", "app", Some(true))
    );
    let synced = wait_synced(&sealed_api, "app", "True", 1).await?;
    let condition = &synced.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
    assert_eq!(condition.message.as_deref(), Some(""));

    // An update (one more item) reaches the Secret, and the status follows the generation.
    let update = sealed(
        &cert,
        ns.name(),
        "app",
        &[("user", "admin"), ("password", "n3w"), ("extra", "1")],
        None,
    )?;
    replace_sealed(&sealed_api, "app", update).await?;
    wait_secret_data(
        &secrets,
        "app",
        &[("user", "admin"), ("password", "n3w"), ("extra", "1")],
    )
    .await?;
    wait_synced(&sealed_api, "app", "True", 2).await?;

    // A deleted owned Secret comes back.
    secrets.delete("app", &DeleteParams::default()).await?;
    wait_secret_data(
        &secrets,
        "app",
        &[("user", "admin"), ("password", "n3w"), ("extra", "1")],
    )
    .await
    .with_context(|| controller.log())?;

    assert!(
        !controller.log().contains("s3cret") && !controller.log().contains("n3w"),
        "plaintext in the controller log"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn wrong_key_and_wrong_namespace_fail_with_status_and_no_secret() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-wrong").await?;
    let _controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());

    let other = Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&other, ns.name(), "wrongkey", &[("k", "v")], None)?,
        )
        .await?;
    let failed = wait_synced(&sealed_api, "wrongkey", "False", 1).await?;
    let message = failed.status.unwrap().conditions.unwrap()[0]
        .message
        .clone()
        .unwrap_or_default();
    assert_eq!(message, "no key could decrypt secret (k)");
    assert!(secrets.get_opt("wrongkey").await?.is_none());

    // Sealed (strictly) for another namespace: same opaque failure.
    let cert = controller_cert(&cluster, &ns).await?;
    let mut moved = sealed(&cert, "elsewhere", "moved", &[("k", "v")], None)?;
    moved.metadata.namespace = Some(ns.name().to_owned());
    sealed_api.create(&PostParams::default(), &moved).await?;
    wait_synced(&sealed_api, "moved", "False", 1).await?;
    assert!(secrets.get_opt("moved").await?.is_none());
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn existing_secrets_follow_the_managed_and_patch_rules() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-owner").await?;
    let _controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let existing = |name: &str, annotations: &[(&str, &str)]| Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            annotations: Some(
                annotations
                    .iter()
                    .map(|(k, v)| ((*k).into(), (*v).into()))
                    .collect(),
            ),
            labels: Some([("old".to_owned(), "label".to_owned())].into()),
            ..ObjectMeta::default()
        },
        string_data: Some([("kept".to_owned(), "old".to_owned())].into()),
        ..Secret::default()
    };

    // Not ours, no annotation: refused, untouched.
    secrets
        .create(&PostParams::default(), &existing("plain", &[]))
        .await?;
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "plain", &[("k", "v")], None)?,
        )
        .await?;
    let failed = wait_synced(&sealed_api, "plain", "False", 1).await?;
    assert!(
        failed.status.unwrap().conditions.unwrap()[0]
            .message
            .as_deref()
            .unwrap_or("")
            .contains("is not managed by SealedSecret")
    );
    assert!(secrets.get("plain").await?.owner_references().is_empty());

    // Not ours, and no key of ours opens the object either: the ownership gate still answers
    // first, although a new object is decrypted before its Secret is created
    // (docs/controller.md, "Writes").
    secrets
        .create(
            &PostParams::default(),
            &existing("plain-undecryptable", &[]),
        )
        .await?;
    let other_key = Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(
                &other_key,
                ns.name(),
                "plain-undecryptable",
                &[("k", "v")],
                None,
            )?,
        )
        .await?;
    let failed = wait_synced(&sealed_api, "plain-undecryptable", "False", 1).await?;
    let message = failed.status.unwrap().conditions.unwrap()[0]
        .message
        .clone()
        .unwrap_or_default();
    assert!(
        message.contains("is not managed by SealedSecret"),
        "{message}"
    );

    // managed: overwritten (data, labels) and owned.
    secrets
        .create(
            &PostParams::default(),
            &existing("managed", &[("sealedsecrets.bitnami.com/managed", "true")]),
        )
        .await?;
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "managed", &[("k", "v")], None)?,
        )
        .await?;
    let taken = wait_secret_data(&secrets, "managed", &[("k", "v")]).await?;
    assert_eq!(taken.owner_references().len(), 1);
    assert!(!taken.labels().contains_key("old"));

    // patch: merged, not owned.
    secrets
        .create(
            &PostParams::default(),
            &existing("patched", &[("sealedsecrets.bitnami.com/patch", "true")]),
        )
        .await?;
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "patched", &[("k", "v")], None)?,
        )
        .await?;
    let merged = wait_secret_data(&secrets, "patched", &[("k", "v"), ("kept", "old")]).await?;
    assert!(merged.owner_references().is_empty());
    assert_eq!(
        merged.labels().get("old").map(String::as_str),
        Some("label")
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn upstream_key_secret_added_by_hand_is_used_without_restart() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-byok").await?;
    let controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    controller_cert(&cluster, &ns).await?;
    // An upstream-format key Secret (the vector key), added while the controller runs.
    let (_, cert) = add_key_secret(
        &cluster,
        ns.name(),
        "imported-key",
        "core/tests/vectors/keys/rsa2048.key",
        "core/tests/vectors/keys/rsa2048.crt",
    )
    .await?;

    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "byok", &[("k", "v")], None)?,
        )
        .await?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    wait_secret_data(&secrets, "byok", &[("k", "v")])
        .await
        .with_context(|| controller.log())?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn two_replicas_share_one_key_and_the_standby_takes_over() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-ha").await?;
    let fast = ["--leader-election-lease", "sealant-ha"];
    let first = ControllerProcess::start(&cluster, ns.name(), &fast)?;
    let second = ControllerProcess::start(&cluster, ns.name(), &fast)?;
    let cert = controller_cert(&cluster, &ns).await?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());

    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "before", &[("k", "1")], None)?,
        )
        .await?;
    wait_secret_data(&secrets, "before", &[("k", "1")]).await?;
    // Both started with no key: only the leader may create one, so there is exactly one.
    let keys = secrets
        .list(&ListParams::default().labels(&format!("{KEY_LABEL}=active")))
        .await?;
    assert_eq!(keys.items.len(), 1, "a second first key appeared");

    // Kill the leader (whichever holds the Lease); the other one carries on.
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(cluster.client(), ns.name());
    let holder = leases
        .get("sealant-ha")
        .await?
        .spec
        .and_then(|s| s.holder_identity)
        .unwrap_or_default();
    let (leader, standby) = if holder.starts_with(&format!("{}_", first.identity)) {
        (first, second)
    } else {
        assert!(
            holder.starts_with(&format!("{}_", second.identity)),
            "unexpected Lease holder {holder:?}"
        );
        (second, first)
    };
    drop(leader);
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "after", &[("k", "2")], None)?,
        )
        .await?;
    wait_secret_data(&secrets, "after", &[("k", "2")])
        .await
        .with_context(|| standby.log())?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn restart_with_secrets_in_sync_decrypts_nothing() -> anyhow::Result<()> {
    const COUNT: usize = 20;
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-restart").await?;
    // No leader election: a killed leader's Lease would only delay the second start.
    let flags = ["--leader-elect=false"];
    let first_addr = free_local_addr()?;
    let first = ControllerProcess::start_with_metrics(&cluster, ns.name(), &flags, &first_addr)?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());

    let value = |i: usize| format!("value-{i}");
    // Every third object templated (type, template annotation) and with labels and
    // annotations of its own: the watch cache cuts those it does not read from in-sync copies
    // (docs/design/memory.md, "What is cut"); the restarted controller must still find them
    // in sync, and report the instance label it keeps.
    let templated = |i: usize| i.is_multiple_of(3);
    for i in 0..COUNT {
        let mut object = sealed(
            &cert,
            ns.name(),
            &format!("s{i}"),
            &[("a", "x"), ("b", &value(i))],
            None,
        )?;
        if templated(i) {
            let template = &mut std::sync::Arc::make_mut(&mut object.spec.inner).template;
            template.type_ = Some("example.com/custom".into());
            template
                .metadata
                .get_or_insert_with(Default::default)
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert("example.com/note".into(), format!("n{i}"));
            object.metadata.labels = Some(BTreeMap::from([
                ("app.kubernetes.io/instance".into(), format!("inst{i}")),
                ("team".into(), "a".into()),
            ]));
            object.metadata.annotations =
                Some(BTreeMap::from([("example.com/free".into(), "x".into())]));
        }
        sealed_api.create(&PostParams::default(), &object).await?;
    }
    for i in 0..COUNT {
        let secret = wait_secret_data(&secrets, &format!("s{i}"), &[("a", "x"), ("b", &value(i))])
            .await
            .with_context(|| first.log())?;
        let digest = secret
            .annotations()
            .get("sealant.dev/unsealed-digest")
            .cloned()
            .unwrap_or_default();
        assert!(digest.starts_with("v1:"), "no digest on s{i}: {digest:?}");
        if templated(i) {
            assert_eq!(secret.type_.as_deref(), Some("example.com/custom"), "s{i}");
            assert_eq!(
                secret.annotations().get("example.com/note"),
                Some(&format!("n{i}")),
                "s{i}"
            );
        }
        wait_synced(&sealed_api, &format!("s{i}"), "True", 1).await?;
    }
    // The first controller did decrypt (2 items each), which the metric shows.
    let page = wait_requests(&first_addr, COUNT as f64).await?;
    assert!(
        metric_value(&page, RECONCILE_RSA) >= (2 * COUNT) as f64,
        "{page}"
    );
    let sync_key = secrets.get("sealant-sync-key").await?;
    assert_eq!(
        sync_key
            .labels()
            .get("sealant.dev/sync-key")
            .map(String::as_str),
        Some("true")
    );
    drop(first);

    let addr = free_local_addr()?;
    let second = ControllerProcess::start_with_metrics(&cluster, ns.name(), &flags, &addr)?;
    let page = wait_requests(&addr, COUNT as f64)
        .await
        .with_context(|| second.log())?;
    assert_eq!(
        metric_value(&page, RECONCILE_RSA),
        0.0,
        "the restarted controller decrypted Secrets that were in sync:\n{page}\n{}",
        second.log()
    );
    // The metrics' instance label, read from the cut copy (of s0 and every other templated
    // object once reconciled).
    let instance = format!(
        "sealed_secrets_controller_condition_info{{namespace=\"{}\",name=\"s0\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"inst0\"}}",
        ns.name()
    );
    wait_for(
        "s0's instance label in the metrics",
        DEFAULT_TIMEOUT,
        || async {
            Ok(fetch_metrics(&addr)
                .await
                .filter(|page| metric_value(page, &instance) == 1.0))
        },
    )
    .await
    .with_context(|| second.log())?;
    // The sync key was reused, not replaced.
    assert_eq!(
        secrets.get("sealant-sync-key").await?.data,
        sync_key.data,
        "the sync key changed across the restart"
    );

    // Drift in one Secret's data: the owned-Secret watch brings its SealedSecret back, the
    // digest no longer matches the data, so it is decrypted and repaired.
    let mut tampered = secrets.get("s7").await?;
    tampered
        .data
        .get_or_insert_with(BTreeMap::new)
        .insert("b".into(), k8s_openapi::ByteString(b"tampered".to_vec()));
    secrets
        .replace("s7", &PostParams::default(), &tampered)
        .await?;
    wait_secret_data(&secrets, "s7", &[("a", "x"), ("b", &value(7))])
        .await
        .with_context(|| second.log())?;
    let page = fetch_metrics(&addr).await.context("metrics after repair")?;
    let rsa = metric_value(&page, RECONCILE_RSA);
    assert!(
        (1.0..=4.0).contains(&rsa),
        "expected only s7 to be decrypted (2 items), got {rsa}:\n{page}"
    );
    assert!(
        !second.log().contains("tampered") && !second.log().contains("value-7"),
        "plaintext in the controller log"
    );
    Ok(())
}

/// Regression: `/readyz` stayed 503 forever, because kube-runtime's store readiness wakes only
/// the last waiter and the controller's own runner waits on it too.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn regression_readyz_turns_ready_once_watches_sync() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-ready").await?;
    let (api, metrics) = (free_local_addr()?, free_local_addr()?);
    let controller = ControllerProcess::start_with_addrs(&cluster, ns.name(), &[], &api, &metrics)?;
    let cert = wait_for(
        "the certificate at /v1/cert.pem",
        DEFAULT_TIMEOUT,
        || async { Ok(http_get(&api, "/v1/cert.pem").await) },
    )
    .await?;
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    wait_for("/readyz to answer 200", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api, "/readyz").await)
    })
    .await
    .with_context(|| controller.log())?;
    Ok(())
}
