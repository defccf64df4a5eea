//! More of upstream's reconcile scenarios on the real control plane (docs/upstream.md, "Upstream's
//! test scenarios"): template data, custom types and immutable Secrets, the scope matrix, keys that
//! arrive after the SealedSecret, and `--old-gc-behavior`.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, PostParams, PropagationPolicy};
use sealant_controller::crd::SealedSecret;
use sealant_core::{Certificate, Scope};
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, repo_file, wait_for};

/// `sealed` with `spec.template` fields merged in (JSON).
fn with_template(
    object: SealedSecret,
    template: serde_json::Value,
) -> anyhow::Result<SealedSecret> {
    let mut value = serde_json::to_value(object)?;
    let slot = &mut value["spec"]["template"];
    if slot.is_null() {
        *slot = serde_json::json!({});
    }
    for (key, field) in template.as_object().context("template is an object")? {
        slot[key] = field.clone();
    }
    Ok(serde_json::from_value(value)?)
}

fn condition_message(object: &SealedSecret) -> String {
    object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.message.clone())
        .unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn template_data_custom_type_and_immutable_secrets() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-tmpl").await?;
    let controller = ControllerProcess::start(&cluster, ns.name(), &["--leader-elect=false"])?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());

    // Template data renders over the decrypted items; the custom type is kept.
    let object = with_template(
        sealed(
            &cert,
            ns.name(),
            "rendered",
            &[("user", "app"), ("password", "tmpl-s3cret")],
            None,
        )?,
        serde_json::json!({
            "type": "example.com/custom",
            "data": {
                "dsn": "postgres://{{ .user }}:{{ index . \"password\" | b64enc }}@db/{{ \"main\" | upper }}",
                "config.json": "{{ dict \"user\" .user | toJson }}",
            },
        }),
    )?;
    sealed_api.create(&PostParams::default(), &object).await?;
    let secret = wait_secret_data(
        &secrets,
        "rendered",
        &[
            ("user", "app"),
            ("password", "tmpl-s3cret"),
            ("dsn", "postgres://app:dG1wbC1zM2NyZXQ=@db/MAIN"),
            ("config.json", "{\"user\":\"app\"}"),
        ],
    )
    .await
    .with_context(|| controller.log())?;
    assert_eq!(secret.type_.as_deref(), Some("example.com/custom"));

    // An unsupported function is a status error, not a crash, and names no value.
    let object = with_template(
        sealed(&cert, ns.name(), "badtmpl", &[("k", "tmpl-s3cret")], None)?,
        serde_json::json!({ "data": { "x": "{{ .k | env }}" } }),
    )?;
    sealed_api.create(&PostParams::default(), &object).await?;
    let failed = wait_synced(&sealed_api, "badtmpl", "False", 1).await?;
    let message = condition_message(&failed);
    assert!(message.contains("env"), "{message}");
    assert!(!message.contains("tmpl-s3cret"), "{message}");
    assert!(secrets.get_opt("badtmpl").await?.is_none());

    // Immutable: created immutable; a later change cannot be applied and says so.
    let object = with_template(
        sealed(&cert, ns.name(), "frozen", &[("k", "v1")], None)?,
        serde_json::json!({ "immutable": true }),
    )?;
    sealed_api.create(&PostParams::default(), &object).await?;
    let secret = wait_secret_data(&secrets, "frozen", &[("k", "v1")]).await?;
    assert_eq!(secret.immutable, Some(true));
    // The status write follows the Secret's: wait for it, so the replace below does not race it.
    wait_synced(&sealed_api, "frozen", "True", 1).await?;
    let update = with_template(
        sealed(&cert, ns.name(), "frozen", &[("k", "v2")], None)?,
        serde_json::json!({ "immutable": true }),
    )?;
    replace_sealed(&sealed_api, "frozen", update).await?;
    let failed = wait_synced(&sealed_api, "frozen", "False", 2).await?;
    assert!(!condition_message(&failed).is_empty());
    let secret = secrets.get("frozen").await?;
    assert_eq!(
        secret
            .data
            .unwrap_or_default()
            .get("k")
            .map(|v| sealant_tests::canary::strip_bytes(&v.0)),
        Some(b"v1".to_vec()),
        "an immutable Secret keeps its data"
    );
    assert!(!controller.log().contains("tmpl-s3cret"));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn scope_matrix_rename_and_move() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-scope").await?;
    let other = cluster.namespace("ctl-scope2").await?;
    let flags = [
        "--leader-elect=false",
        "--additional-namespaces",
        other.name(),
    ];
    let controller = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    let cert = controller_cert(&cluster, &ns).await?;

    // (scope, renamed in the same namespace unseals, moved to another namespace unseals)
    let matrix = [
        (Scope::Strict, "strict", false, false),
        (Scope::NamespaceWide, "nswide", true, false),
        (Scope::ClusterWide, "cluster", true, true),
    ];
    for (scope, name, rename_ok, move_ok) in matrix {
        // Sealed for (ns, name); deployed as (ns, name-renamed) and (other, name).
        for (namespace, deployed, expect_ok) in [
            (ns.name(), format!("{name}-renamed"), rename_ok),
            (other.name(), name.to_owned(), move_ok),
            (ns.name(), name.to_owned(), true),
        ] {
            let mut object = sealed(&cert, ns.name(), name, &[("k", name)], Some(scope))?;
            object.metadata.name = Some(deployed.clone());
            object.metadata.namespace = Some(namespace.to_owned());
            let api: Api<SealedSecret> = Api::namespaced(cluster.client(), namespace);
            api.create(&PostParams::default(), &object).await?;
            let status = if expect_ok { "True" } else { "False" };
            wait_synced(&api, &deployed, status, 1)
                .await
                .with_context(|| format!("{scope:?} as {namespace}/{deployed}"))
                .with_context(|| controller.log())?;
            let secrets: Api<Secret> = Api::namespaced(cluster.client(), namespace);
            let secret = secrets.get_opt(&deployed).await?;
            assert_eq!(
                secret.is_some(),
                expect_ok,
                "{scope:?} {namespace}/{deployed}"
            );
        }
    }
    other.cleanup().await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn sealed_secret_waiting_for_its_key_unseals_when_the_key_arrives() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-latekey").await?;
    // One retry only: the object gives up before the key arrives, and must come back anyway.
    let flags = ["--leader-elect=false", "--max-unseal-retries", "1"];
    let controller = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    controller_cert(&cluster, &ns).await?;
    let cert = Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "late", &[("k", "v")], None)?,
        )
        .await?;
    wait_synced(&sealed_api, "late", "False", 1).await?;
    // Let the retry budget run out.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;

    add_key_secret(
        &cluster,
        ns.name(),
        "restored-key",
        "core/tests/vectors/keys/other-2048.key",
        "core/tests/vectors/keys/other-2048.crt",
    )
    .await?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    wait_secret_data(&secrets, "late", &[("k", "v")])
        .await
        .with_context(|| controller.log())?;
    wait_synced(&sealed_api, "late", "True", 1).await?;
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn old_gc_behavior_deletes_the_controlled_secret_and_its_metric_series() -> anyhow::Result<()>
{
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("ctl-oldgc").await?;
    let metrics = free_local_addr()?;
    let flags = ["--leader-elect=false", "--old-gc-behavior"];
    let controller = ControllerProcess::start_with_metrics(&cluster, ns.name(), &flags, &metrics)?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "gone", &[("k", "v")], None)?,
        )
        .await?;
    wait_secret_data(&secrets, "gone", &[("k", "v")]).await?;
    let series = format!(
        "sealed_secrets_controller_condition_info{{namespace=\"{}\",name=\"gone\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"\"}}",
        ns.name()
    );
    wait_for("the condition series", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics)
            .await
            .filter(|page| page.contains(&series)))
    })
    .await
    .with_context(|| controller.log())?;

    // Orphan propagation: the garbage collector leaves the Secret, so only the controller
    // can be the one that deletes it.
    sealed_api
        .delete(
            "gone",
            &DeleteParams {
                propagation_policy: Some(PropagationPolicy::Orphan),
                ..DeleteParams::default()
            },
        )
        .await?;
    wait_for("the Secret to be deleted", DEFAULT_TIMEOUT, || async {
        Ok(secrets.get_opt("gone").await?.is_none().then_some(()))
    })
    .await
    .with_context(|| controller.log())?;
    wait_for("the condition series to go", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics)
            .await
            .filter(|page| !page.contains(&series)))
    })
    .await?;
    Ok(())
}
