//! Smoke tests for the test control plane: the SealedSecret CRD installs and
//! behaves like upstream's (schema, status subresource), and the garbage
//! collector removes Secrets owned by a deleted SealedSecret.

use anyhow::Context;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ObjectMeta, Patch, PatchParams,
    PostParams,
};
use kube::{Api, ResourceExt};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, is_not_found, repo_file, wait_for};
use serde_json::json;

fn sealed_secret_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("bitnami.com", "v1alpha1", "SealedSecret"),
        "sealedsecrets",
    )
}

/// Attaches to the cluster and installs the generated SealedSecret CRD (`deploy/crd.yaml`),
/// which proves the API server accepts its schema.
async fn cluster_with_crd() -> anyhow::Result<TestCluster> {
    let cluster = TestCluster::from_env().await?;
    cluster.install_crd(&repo_file("deploy/crd.yaml")).await?;
    Ok(cluster)
}

fn sealed_secret(name: &str, spec: serde_json::Value) -> DynamicObject {
    DynamicObject::new(name, &sealed_secret_resource()).data(json!({ "spec": spec }))
}

/// Waits until `get` reports 404 for `name`.
async fn wait_deleted<K>(api: &Api<K>, name: &str) -> anyhow::Result<()>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    wait_for(
        &format!("{name} to be deleted"),
        DEFAULT_TIMEOUT,
        || async {
            match api.get(name).await {
                Ok(_) => Ok(None),
                Err(err) if is_not_found(&err) => Ok(Some(())),
                Err(err) => Err(err.into()),
            }
        },
    )
    .await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn sealed_secret_create_read_update_delete() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("crud").await?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client(), ns.name(), &sealed_secret_resource());

    // Create.
    let created = api
        .create(
            &PostParams::default(),
            &sealed_secret(
                "db",
                json!({
                    "encryptedData": { "password": "AgBy3i4OJSWK+PiTySYZZA==" },
                    "template": {
                        "metadata": { "labels": { "app": "db" } },
                        "type": "Opaque",
                        // Empty strings must survive validation (build.sh
                        // patches a validator that rejected them).
                        "data": { "empty": "" },
                    },
                }),
            ),
        )
        .await
        .context("creating a SealedSecret")?;
    assert!(created.uid().is_some(), "the API server assigns a uid");
    assert_eq!(created.metadata.generation, Some(1));

    // Read back what was stored.
    let read = api.get("db").await?;
    assert_eq!(read.uid(), created.uid());
    assert_eq!(
        read.data["spec"]["encryptedData"]["password"],
        "AgBy3i4OJSWK+PiTySYZZA=="
    );
    assert_eq!(
        read.data["spec"]["template"]["metadata"]["labels"]["app"],
        "db"
    );
    assert_eq!(read.data["spec"]["template"]["type"], "Opaque");
    assert_eq!(read.data["spec"]["template"]["data"]["empty"], "");

    // Update the spec: a new generation.
    let mut changed = read.clone();
    changed.data["spec"]["encryptedData"]["username"] = json!("AgCKs3xSm0+1FXg7rEtYOg==");
    let updated = api.replace("db", &PostParams::default(), &changed).await?;
    assert_eq!(updated.metadata.generation, Some(2));
    assert_eq!(
        updated.data["spec"]["encryptedData"]["username"],
        "AgCKs3xSm0+1FXg7rEtYOg=="
    );

    // Status goes through the status subresource and leaves the generation alone.
    let status = json!({
        "status": {
            "observedGeneration": 2,
            "conditions": [{ "type": "Synced", "status": "True", "message": "" }],
        }
    });
    let with_status = api
        .patch_status("db", &PatchParams::default(), &Patch::Merge(&status))
        .await
        .context("patching status")?;
    assert_eq!(
        with_status.data["status"]["conditions"][0]["type"],
        "Synced"
    );
    assert_eq!(with_status.data["status"]["observedGeneration"], 2);
    assert_eq!(with_status.metadata.generation, Some(2));

    // ...and a write to the main resource cannot change status.
    let mut sneaky = with_status.clone();
    sneaky.data["status"]["conditions"][0]["status"] = json!("False");
    let after = api.replace("db", &PostParams::default(), &sneaky).await?;
    assert_eq!(after.data["status"]["conditions"][0]["status"], "True");

    // Delete.
    api.delete("db", &DeleteParams::default()).await?;
    wait_deleted(&api, "db").await?;

    ns.cleanup().await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn sealed_secret_schema_is_enforced() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("schema").await?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client(), ns.name(), &sealed_secret_resource());

    let cases = [
        (
            "no-spec",
            DynamicObject::new("no-spec", &sealed_secret_resource()),
        ),
        (
            "no-encrypted-data",
            sealed_secret("no-encrypted-data", json!({})),
        ),
        (
            "bad-item",
            sealed_secret("bad-item", json!({ "encryptedData": { "password": 42 } })),
        ),
        (
            "bad-immutable",
            sealed_secret(
                "bad-immutable",
                json!({ "encryptedData": {}, "template": { "immutable": "yes" } }),
            ),
        ),
    ];
    for (name, object) in cases {
        match api.create(&PostParams::default(), &object).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422, "{name}: {status:?}");
            }
            other => panic!("{name}: expected a 422 rejection, got {other:?}"),
        }
    }

    ns.cleanup().await
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn secret_owned_by_a_deleted_sealed_secret_is_garbage_collected() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("gc").await?;
    let sealed: Api<DynamicObject> =
        Api::namespaced_with(cluster.client(), ns.name(), &sealed_secret_resource());
    let secrets: Api<Secret> = ns.api();

    let owner = sealed
        .create(
            &PostParams::default(),
            &sealed_secret("db", json!({ "encryptedData": {} })),
        )
        .await?;
    let owner_uid = owner.uid().context("SealedSecret has no uid")?;

    // Owned the way the controller owns the Secrets it makes.
    let owned = Secret {
        metadata: ObjectMeta {
            name: Some("db".into()),
            owner_references: Some(vec![OwnerReference {
                api_version: "bitnami.com/v1alpha1".into(),
                kind: "SealedSecret".into(),
                name: "db".into(),
                uid: owner_uid.clone(),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..ObjectMeta::default()
        },
        string_data: Some([("password".to_owned(), "hunter2".to_owned())].into()),
        ..Secret::default()
    };
    secrets.create(&PostParams::default(), &owned).await?;
    // A bystander with no owner, which must survive.
    let bystander = Secret {
        metadata: ObjectMeta {
            name: Some("bystander".into()),
            ..ObjectMeta::default()
        },
        ..Secret::default()
    };
    secrets.create(&PostParams::default(), &bystander).await?;

    let stored = secrets.get("db").await?;
    assert_eq!(stored.owner_references()[0].uid, owner_uid);

    sealed.delete("db", &DeleteParams::background()).await?;
    wait_deleted(&sealed, "db").await?;
    wait_deleted(&secrets, "db")
        .await
        .context("the garbage collector should delete the owned Secret")?;
    secrets
        .get("bystander")
        .await
        .context("the unowned Secret must survive")?;

    ns.cleanup().await
}
