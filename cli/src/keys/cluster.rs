//! Reading the inventory from the cluster with the user's credentials, and writing key states.
//! Key Secrets are listed and read by `sealant_k8s::keys`, as the controller lists them.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use sealant_core::keysecret::{DEFAULT_KEY_PREFIX, KeyState};
use sealant_core::object::SealedSecretStatus;
use sealant_core::{Fingerprint, KeyOwner};
use sealant_k8s::KubeError;
use sealant_k8s::crd::SealedSecret;
use sealant_k8s::keys::{self as key_secrets, KeyKind, Listing, Owners};
use serde_json::json;

use super::inventory::{Inventory, KeyEntry, SealedRecord, Selection, fingerprint_body};
use crate::args::{ClusterArgs, InventoryScopeArgs};
use crate::cluster::KubeOverrides;
use crate::error::{CliError, ClusterError, Result};

/// A kube error as a CLI error: `what` failed, with `denied` as the hint when the API server
/// refused it, and a reachability hint when it was not reached at all.
pub(super) fn api_error(what: String, err: &KubeError, denied: &str) -> CliError {
    let cli = CliError::new(format!("{what}: {err}"));
    if err.code().is_some() {
        cli.hint(denied.to_owned())
    } else {
        cli.hint("the API server was not reached: check --kubeconfig/--context (`kubectl get ns` should work)")
    }
}

/// A client for the user's cluster; `sealant keys` has no offline fallback.
pub(super) async fn keys_client(cluster: &ClusterArgs) -> Result<Client> {
    crate::cluster::client(cluster, &KubeOverrides::default())
        .await
        .map_err(|e| match e {
            CliError::Cluster(ClusterError::NoCluster(_)) => e.hint(
                "pass --kubeconfig/--context: `sealant keys` works on the cluster's key Secrets",
            ),
            e => e,
        })
}

/// The key Secrets of `owners` in the controller namespace, of both kinds, in the API's list
/// order, read as the controller reads them (`sealant_k8s::keys`). Upstream's legacy key is the
/// cluster's.
pub(super) async fn read_keys(
    client: &Client,
    namespace: &str,
    owners: Owners<'_>,
) -> Result<Vec<KeyEntry>> {
    let api: Api<K8sSecret> = Api::namespaced(client.clone(), namespace);
    let mut keys = Vec::new();
    let mut listed = Vec::new();
    for kind in KeyKind::ALL {
        let secrets = key_secrets::list(&api, kind, Listing::Every, owners)
            .await
            .map_err(|e| {
                api_error(
                    format!("cannot list key Secrets in namespace {namespace}"),
                    e.kube(),
                    "`sealant keys` needs `list` on Secrets in the controller namespace (--controller-namespace)",
                )
            })?;
        keys.extend(secrets.iter().map(|s| KeyEntry::from_secret(kind, s)));
        listed.extend(secrets);
    }
    if matches!(owners, Owners::Tenant(_)) {
        return Ok(keys);
    }
    // Upstream's legacy single key, unlabelled, which controllers load as active (without the
    // right to read it by name, it is left out as if absent).
    let legacy = match key_secrets::legacy(&api, DEFAULT_KEY_PREFIX, &listed).await {
        Ok(legacy) => legacy,
        Err(e) if e.kube().is_forbidden() => None,
        Err(e) => {
            return Err(api_error(
                format!("cannot read Secret {namespace}/{DEFAULT_KEY_PREFIX}"),
                e.kube(),
                "`sealant keys` reads the key Secrets in the controller namespace (--controller-namespace)",
            ));
        }
    };
    keys.extend(legacy.map(|l| KeyEntry::from_secret(KeyKind::Rsa, &l)));
    Ok(keys)
}

/// The SealedSecrets of `scope`'s namespaces (empty: of the cluster): name, generation and
/// status only are kept.
///
/// Listed untyped (the resource is the typed CRD's): one object whose status does not fit the
/// typed model would fail a whole typed page, and upstream's CRD leaves `status` unchecked.
/// Such an object is counted without inventory instead (see [`sealed_record`]).
pub(super) async fn read_sealed(client: &Client, scope: &[String]) -> Result<Vec<SealedRecord>> {
    let resource = ApiResource::erase::<SealedSecret>(&());
    let mut records = Vec::new();
    if scope.is_empty() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        read_sealed_pages(&api, &mut records).await?;
    }
    let namespaces: BTreeSet<&String> = scope.iter().collect();
    for namespace in namespaces {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        read_sealed_pages(&api, &mut records).await?;
    }
    Ok(records)
}

async fn read_sealed_pages(
    api: &Api<DynamicObject>,
    records: &mut Vec<SealedRecord>,
) -> Result<()> {
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.map_err(|e| {
            let e = KubeError::from(e);
            if e.is_not_found() {
                api_error(
                "cannot list SealedSecrets".into(),
                &e,
                "the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed in this cluster",
            )
            } else {
                api_error(
                "cannot list SealedSecrets".into(),
                &e,
                "the key inventory needs `list` on sealedsecrets.bitnami.com in every namespace",
            )
            }
        })?;
        records.extend(page.items.iter().map(sealed_record));
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    Ok(())
}

/// What the inventory keeps of a listed SealedSecret; a status of the wrong shape reads as none.
pub(super) fn sealed_record(object: &DynamicObject) -> SealedRecord {
    let name = format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default()
    );
    let status = object
        .data
        .get("status")
        .and_then(|s| serde_json::from_value::<SealedSecretStatus>(s.clone()).ok());
    SealedRecord {
        name,
        generation: object.metadata.generation,
        status,
    }
}

/// The keys and the SealedSecrets of `scope` (empty: the cluster), counted; the keys of
/// `selection` shown. Every owner's keys are read, so that a SealedSecret needing another
/// owner's key does not count as needing an unknown one.
pub(super) async fn read_inventory(
    client: &Client,
    namespace: &str,
    scope: &InventoryScopeArgs,
    selection: Selection,
) -> Result<Inventory> {
    let keys = read_keys(client, namespace, Owners::All).await?;
    let sealed = read_sealed(client, &scope.sealed_secrets_namespace).await?;
    let mut inventory = Inventory::new(namespace, keys, &sealed).select(selection);
    inventory.scope = scope.sealed_secrets_namespace.clone();
    Ok(inventory)
}

/// The inventory `keys list` shows, read with the user's kubeconfig: the keys of `selection`
/// (`None`: every owner's).
///
/// # Errors
/// No cluster, or no right to list key Secrets or SealedSecrets.
pub fn inventory(
    cluster: &ClusterArgs,
    scope: &InventoryScopeArgs,
    selection: Selection,
) -> Result<Inventory> {
    crate::runtime()?.block_on(async {
        let client = keys_client(cluster).await?;
        read_inventory(&client, &cluster.controller_namespace, scope, selection).await
    })
}

/// Sets `kind`'s state label of every Secret holding `fingerprint` (with `only`: of those in
/// that state). The `resourceVersion` read with the inventory makes the change conditional: a
/// key Secret changed meanwhile is not overwritten.
pub(super) async fn set_state(
    client: &Client,
    inventory: &Inventory,
    fingerprint: &Fingerprint,
    state: &KeyState,
    only: Option<&KeyState>,
) -> Result<Vec<KeyEntry>> {
    let api: Api<K8sSecret> = Api::namespaced(client.clone(), &inventory.namespace);
    let mut changed = Vec::new();
    for entry in inventory.entries(fingerprint) {
        if &entry.state == state || only.is_some_and(|only| &entry.state != only) {
            continue;
        }
        let mut metadata = json!({ "labels": { entry.kind.label(): state.label_value() } });
        if let Some(version) = &entry.resource_version {
            metadata["resourceVersion"] = json!(version);
        }
        api.patch(
            &entry.secret,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "metadata": metadata })),
        )
        .await
        .map_err(|e| {
            let e = KubeError::from(e);
            let what = format!(
                "cannot label Secret {}/{} {}",
                inventory.namespace,
                entry.secret,
                state.label_value()
            );
            let hint = if e.is_conflict() {
                "the key Secret changed meanwhile: run the command again"
            } else {
                "changing a key's state needs `patch` on Secrets in the controller namespace"
            };
            api_error(what, &e, hint)
        })?;
        changed.push(entry.clone());
    }
    Ok(changed)
}

/// Resolves the argument and reads what a state change needs. Without `sealed_required`,
/// SealedSecrets that cannot be listed only leave the counts out (with a note): marking a
/// key compromised must not wait for rights it does not need.
pub(super) async fn connect(
    cluster: &ClusterArgs,
    scope: &InventoryScopeArgs,
    fingerprint: &str,
    sealed_required: bool,
    owner: KeyOwner,
) -> Result<(Client, Inventory, Fingerprint)> {
    fingerprint_body(fingerprint)?;
    let client = keys_client(cluster).await?;
    let keys = read_keys(&client, &cluster.controller_namespace, Owners::All).await?;
    let sealed = match read_sealed(&client, &scope.sealed_secrets_namespace).await {
        Ok(sealed) => sealed,
        Err(err) if !sealed_required => {
            note(&format!(
                "note: SealedSecrets not counted: {}",
                err.message()
            ));
            Vec::new()
        }
        Err(err) => return Err(err),
    };
    let mut inventory =
        Inventory::new(&cluster.controller_namespace, keys, &sealed).select(Some(owner));
    inventory.scope = scope.sealed_secrets_namespace.clone();
    let fingerprint = inventory.resolve(fingerprint)?;
    Ok((client, inventory, fingerprint))
}

pub(super) fn note(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A key Secret read from the cluster as core's type.
pub(super) fn to_core(secret: &K8sSecret) -> Result<sealant_core::Secret> {
    sealant_k8s::convert::secret_to_core(secret).map_err(|_| {
        CliError::new(format!(
            "cannot read Secret {}",
            secret.metadata.name.as_deref().unwrap_or("")
        ))
        .hint("its fields do not have the shape of a Kubernetes Secret: check it with `kubectl get secret NAME -o yaml`")
    })
}

/// A key Secret to write, wiped from memory when dropped.
pub(super) fn to_kube(secret: &sealant_core::Secret) -> Result<sealant_k8s::PlainSecret> {
    sealant_k8s::PlainSecret::try_from(secret).map_err(|_| {
        CliError::new(format!(
            "cannot encode Secret {}",
            secret.metadata.name_or_empty()
        ))
    })
}
