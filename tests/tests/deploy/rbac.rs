//! e2e: the controller runs with exactly the RBAC of the manifests.

use super::*;

// --- e2e: least privilege ------------------------------------------------------------------

/// A controller process authenticated as the ServiceAccount of the manifests.
pub(super) struct ServiceAccountController {
    child: Child,
    log: PathBuf,
}

impl Drop for ServiceAccountController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServiceAccountController {
    pub(super) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Applies the ServiceAccount and RBAC objects of `docs` for real, moved from `from` to the
/// controller namespace `ns`; returns a kubeconfig holding the ServiceAccount's token.
pub(super) async fn service_account_kubeconfig(
    cluster: &TestCluster,
    docs: &[Value],
    from: &str,
    ns: &str,
) -> anyhow::Result<PathBuf> {
    let mut rbac: Vec<Value> = docs
        .iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some(
                    "ServiceAccount"
                        | "ClusterRole"
                        | "ClusterRoleBinding"
                        | "Role"
                        | "RoleBinding"
                )
            )
        })
        .cloned()
        .collect();
    retarget(&mut rbac, from, ns);
    suffix_cluster_rbac(&mut rbac, ns);
    kubectl_apply(cluster, &rbac, false)?;
    token_kubeconfig(cluster, ns).await
}

/// A kubeconfig holding the token of the ServiceAccount `sealed-secrets-controller` in `ns`.
pub(super) async fn token_kubeconfig(cluster: &TestCluster, ns: &str) -> anyhow::Result<PathBuf> {
    // Kubernetes 1.20's token controller writes the token into a Secret the account lists.
    let accounts: Api<ServiceAccount> = Api::namespaced(cluster.client(), ns);
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns);
    let (token, ca) = wait_for("the ServiceAccount's token", DEFAULT_TIMEOUT, || async {
        let account = accounts.get("sealed-secrets-controller").await?;
        for reference in account.secrets.into_iter().flatten() {
            let Some(name) = reference.name else { continue };
            let Some(secret) = secrets.get_opt(&name).await? else {
                continue;
            };
            let data = secret.data.unwrap_or_default();
            if let (Some(token), Some(ca)) = (data.get("token"), data.get("ca.crt")) {
                return Ok(Some((String::from_utf8(token.0.clone())?, ca.0.clone())));
            }
        }
        Ok(None)
    })
    .await?;
    let server = cluster.config().cluster_url.to_string();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: controller\n  user:\n    token: {token}\ncontexts:\n- name: controller\n  context: {{cluster: test, user: controller, namespace: {ns}}}\ncurrent-context: controller\n",
        ca = sealant_core::base64::encode(&ca),
    );
    let path = std::env::temp_dir().join(format!("{}.kubeconfig", unique_name("sealant-sa")));
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(kubeconfig.as_bytes())?;
    }
    Ok(path)
}

/// Starts the controller with `kubeconfig` (the ServiceAccount's) and otherwise the
/// manifests' configuration: in-cluster defaults, keys and Lease in `ns`.
pub(super) fn start_as_service_account(
    kubeconfig: &Path,
    ns: &str,
    flags: &[&str],
) -> anyhow::Result<ServiceAccountController> {
    let binary = std::env::var_os("SEALANT_CONTROLLER_BIN")
        .context("SEALANT_CONTROLLER_BIN is not set: run the e2e suite with `bash tests/e2e.sh`")?;
    let log = std::env::temp_dir().join(format!("{}.log", unique_name("sealant-sa-controller")));
    let file = std::fs::File::create(&log)?;
    let child = Command::new(binary)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--listen-addr", "127.0.0.1:0"])
        .args(["--listen-metrics-addr", &free_local_addr()?])
        .args(["--key-size", "2048"])
        .args(flags)
        // Every level, so that a refusal logged only at DEBUG is seen too.
        .env("SEALED_SECRETS_LOG_LEVEL", "TRACE")
        // As the Deployment sets them.
        .env("POD_NAMESPACE", ns)
        .env("POD_NAME", format!("{ns}-sa"))
        .env_remove("KUBECONFIG")
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .context("starting sealant-controller")?;
    Ok(ServiceAccountController { child, log })
}

/// Asks the API server whether the controller's ServiceAccount in `ns` may do something.
async fn may(
    cluster: &TestCluster,
    ns: &str,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> anyhow::Result<bool> {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(format!(
                "system:serviceaccount:{ns}:sealed-secrets-controller"
            )),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                "system:authenticated".into(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: namespace.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(cluster.client());
    let answer = api.create(&PostParams::default(), &review).await?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}

/// Unseals one SealedSecret in `app_ns` through a controller that holds only the rights of
/// `docs`, and checks it used them all (leader Lease, keys, sync key, events).
async fn unseal_with_manifest_rbac(
    cluster: &TestCluster,
    docs: &[Value],
    from: &str,
    ns: &str,
    app_ns: &str,
    flags: &[&str],
) -> anyhow::Result<()> {
    let kubeconfig = service_account_kubeconfig(cluster, docs, from, ns).await?;
    let controller = start_as_service_account(&kubeconfig, ns, flags)?;
    let result = async {
        let cert = wait_for("the controller's first key", DEFAULT_TIMEOUT, || async {
            let keys: Api<Secret> = Api::namespaced(cluster.client(), ns);
            let list = keys
                .list(
                    &kube::api::ListParams::default()
                        .labels("sealedsecrets.bitnami.com/sealed-secrets-key=active"),
                )
                .await?;
            Ok(list.items.iter().find_map(|s| {
                let pem = s.data.as_ref()?.get("tls.crt")?;
                sealant_core::Certificate::from_pem(&pem.0).ok()
            }))
        })
        .await?;
        let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), app_ns);
        let mut object = sealed(
            &cert,
            app_ns,
            "rbac",
            &[("password", "least-privilege")],
            None,
        )?;
        object
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("sealant.dev/rbac-test".into(), ns.into());
        sealed_api.create(&PostParams::default(), &object).await?;
        let secrets: Api<Secret> = Api::namespaced(cluster.client(), app_ns);
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        wait_synced(&sealed_api, "rbac", "True", 1).await?;
        // Re-created after deletion: the watch on owned Secrets works with these rights.
        secrets.delete("rbac", &Default::default()).await?;
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        let leases: Api<Lease> = Api::namespaced(cluster.client(), ns);
        ensure!(
            leases.get_opt("sealant-controller").await?.is_some(),
            "no leader Lease"
        );
        let own: Api<Secret> = Api::namespaced(cluster.client(), ns);
        ensure!(
            own.get_opt("sealant-sync-key").await?.is_some(),
            "no sync key"
        );

        // Repair: once in sync with a key inventory, the watch cache holds the object without
        // its ciphertexts; a changed Secret makes the controller fetch it whole (`get` on
        // sealedsecrets) and write the Secret back, with no 403 on the way.
        wait_for(
            "the key inventory in the status",
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_api.get("rbac").await?;
                Ok(object
                    .status
                    .as_ref()
                    .and_then(|s| s.key_fingerprints.clone())
                    .filter(|k| !k.is_empty()))
            },
        )
        .await?;
        let mut tampered = secrets.get("rbac").await?;
        tampered.data = Some(BTreeMap::from([(
            "password".to_owned(),
            k8s_openapi::ByteString(b"tampered".to_vec()),
        )]));
        secrets
            .replace("rbac", &PostParams::default(), &tampered)
            .await?;
        wait_secret_data(&secrets, "rbac", &[("password", "least-privilege")]).await?;
        wait_synced(&sealed_api, "rbac", "True", 1).await?;

        // Renewal (as `sealant keys rotate` asks for it): a new key is generated, and an object
        // sealed with it unseals.
        let active = |list: &kube::core::ObjectList<Secret>| {
            list.items
                .iter()
                .filter_map(|s| s.metadata.name.clone())
                .collect::<BTreeSet<_>>()
        };
        let key_label = "sealedsecrets.bitnami.com/sealed-secrets-key=active";
        let before = active(
            &own.list(&kube::api::ListParams::default().labels(key_label))
                .await?,
        );
        let newest = before.iter().next_back().context("no active key")?.clone();
        own.patch(
            &newest,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                sealant_core::keysecret::RENEW_REQUEST_ANNOTATION: "true"}}})),
        )
        .await?;
        let renewed = wait_for("the renewed key", DEFAULT_TIMEOUT, || async {
            let list = own
                .list(&kube::api::ListParams::default().labels(key_label))
                .await?;
            Ok(list.items.into_iter().find_map(|s| {
                let name = s.metadata.name.clone()?;
                if before.contains(&name) {
                    return None;
                }
                sealant_core::Certificate::from_pem(&s.data.as_ref()?.get("tls.crt")?.0).ok()
            }))
        })
        .await?;
        let mut rotated = sealed(
            &renewed,
            app_ns,
            "rbac-renewed",
            &[("password", "renewed")],
            None,
        )?;
        rotated
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("sealant.dev/rbac-test".into(), ns.into());
        sealed_api.create(&PostParams::default(), &rotated).await?;
        wait_secret_data(&secrets, "rbac-renewed", &[("password", "renewed")]).await?;
        let events: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(cluster.client(), app_ns);
        wait_for("the Unsealed event", DEFAULT_TIMEOUT, || async {
            let list = events.list(&Default::default()).await?;
            Ok(list
                .items
                .iter()
                .any(|e| e.reason.as_deref() == Some("Unsealed"))
                .then_some(()))
        })
        .await?;
        // The controller runs at TRACE: a refusal logged at any level shows here.
        let log = controller.log();
        ensure!(
            !log.contains("forbidden") && !log.contains("Forbidden"),
            "the controller was refused something:\n{log}"
        );
        Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&kubeconfig);
    result.with_context(|| format!("controller log:\n{}", controller.log()))
}

/// The kustomize base's RBAC (a ClusterRole for unsealing): the controller watches every
/// namespace (narrowed by a label selector, so it leaves other tests' objects alone) and
/// unseals in a namespace other than its own. Nothing beyond that is granted.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn controller_runs_with_the_base_rbac_only() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rbac-base").await?;
    let apps = cluster.namespace("rbac-base-apps").await?;
    let docs = kustomize("deploy")?;
    let selector = format!("--label-selector=sealant.dev/rbac-test={}", ns.name());
    unseal_with_manifest_rbac(
        &cluster,
        &docs,
        "kube-system",
        ns.name(),
        apps.name(),
        &[&selector],
    )
    .await?;

    let (n, a) = (ns.name(), Some(apps.name()));
    // What it needs is granted; what it does not need is not.
    // Secrets are created, then written by server-side apply (a PATCH), never updated.
    ensure!(may(&cluster, n, "patch", "", "secrets", a).await?);
    ensure!(may(&cluster, n, "update", "", "secrets", Some(n)).await?);
    ensure!(
        may(
            &cluster,
            n,
            "patch",
            "bitnami.com",
            "sealedsecrets/status",
            a
        )
        .await?
    );
    for (verb, group, resource, namespace) in [
        ("delete", "", "secrets", a),
        ("update", "", "secrets", a),
        ("update", "bitnami.com", "sealedsecrets", a),
        ("create", "bitnami.com", "sealedsecrets", a),
        ("get", "", "namespaces", None),
        ("create", "coordination.k8s.io", "leases", a),
        ("get", "", "configmaps", Some(n)),
        ("delete", "", "secrets", Some(n)),
        (
            "list",
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None,
        ),
    ] {
        ensure!(
            !may(&cluster, n, verb, group, resource, namespace).await?,
            "the base RBAC allows {verb} {group}/{resource} in {namespace:?}"
        );
    }
    ns.cleanup().await?;
    apps.cleanup().await?;
    Ok(())
}

/// The single-namespace overlay's RBAC: Roles only (plus reading the CRD); the controller
/// unseals in its namespace and may not touch Secrets anywhere else.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn controller_runs_with_the_single_namespace_rbac_only() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("rbac-ns").await?;
    let other = cluster.namespace("rbac-ns-other").await?;
    let docs = kustomize("deploy/overlays/single-namespace")?;
    let deployment = kinds(&docs, "Deployment")[0].clone();
    let args: Vec<String> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_owned))
        .collect();
    ensure!(
        args.contains(&"--all-namespaces=false".to_owned()),
        "{args:?}"
    );
    let flags: Vec<&str> = args.iter().map(String::as_str).collect();
    unseal_with_manifest_rbac(&cluster, &docs, "sealant", ns.name(), ns.name(), &flags).await?;

    let (n, o) = (ns.name(), Some(other.name()));
    for (verb, resource) in [
        ("get", "secrets"),
        ("list", "secrets"),
        ("create", "secrets"),
    ] {
        ensure!(
            !may(&cluster, n, verb, "", resource, o).await?,
            "the single-namespace RBAC allows {verb} {resource} in another namespace"
        );
    }
    ensure!(!may(&cluster, n, "list", "bitnami.com", "sealedsecrets", o).await?);
    ensure!(!may(&cluster, n, "list", "", "secrets", None).await?);
    ns.cleanup().await?;
    other.cleanup().await?;
    Ok(())
}
