//! The admission webhook on the real control plane (docs/admission.md): the API server calls
//! the controller by URL (`https://127.0.0.1:PORT/...`, the controller's own CA in the
//! `caBundle`, patched by the controller). One controller, one webhook configuration selecting
//! only this test's namespace (other tests share the cluster):
//! * a SealedSecret sealed for another cluster is refused with the message, a good one passes
//!   and syncs (status `Synced`, `observedGeneration`), and the latency the webhook adds is
//!   measured (printed, never asserted);
//! * the plaintext guard in deny and warn modes, with each exemption;
//! * the controller stopped: writes still pass (failure policy `Ignore`).

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use sealant_controller::crd::SealedSecret;
use sealant_tests::controller::*;
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, wait_for};

/// The user the admin kubeconfig authenticates as: the controller runs as it, so it is the
/// controller's own user for the guard.
const CONTROLLER_USER: &str = "sealant-admin";
const NAMESPACE_LABEL: &str = "sealant-e2e-admission";
const GUARD_LABEL: &str = "sealant.dev/plaintext-guard";

/// A client acting as `user` (with every right, so only the webhook can refuse it).
fn acting_as(cluster: &TestCluster, user: &str) -> anyhow::Result<Client> {
    let mut config = cluster.config().clone();
    config.auth_info.impersonate = Some(user.to_owned());
    config.auth_info.impersonate_groups = Some(vec!["system:masters".to_owned()]);
    Ok(Client::try_from(config)?)
}

/// The webhook configuration: the chart's three webhooks, by URL, selecting only `namespace`.
fn webhook_config(
    name: &str,
    namespace: &str,
    addr: &str,
) -> anyhow::Result<ValidatingWebhookConfiguration> {
    let hook = |name: &str, path: &str, rule: serde_json::Value, guard: Option<&str>| {
        let mut labels = serde_json::json!({ NAMESPACE_LABEL: namespace });
        if let Some(mode) = guard {
            labels[GUARD_LABEL] = mode.into();
        }
        serde_json::json!({
            "name": name,
            "clientConfig": { "url": format!("https://{addr}{path}") },
            "rules": [rule],
            "namespaceSelector": { "matchLabels": labels },
            "failurePolicy": "Ignore",
            "sideEffects": "None",
            "timeoutSeconds": 3,
            "admissionReviewVersions": ["v1"],
        })
    };
    let sealed_rule = serde_json::json!({
        "apiGroups": ["bitnami.com"], "apiVersions": ["v1alpha1"],
        "resources": ["sealedsecrets"], "operations": ["CREATE", "UPDATE"],
    });
    let secret_rule = serde_json::json!({
        "apiGroups": [""], "apiVersions": ["v1"],
        "resources": ["secrets"], "operations": ["CREATE", "UPDATE"],
    });
    Ok(serde_json::from_value(serde_json::json!({
        "metadata": { "name": name },
        "webhooks": [
            hook("sealedsecrets.sealant.dev", "/validate/sealedsecrets", sealed_rule, None),
            hook("plaintext-guard-deny.sealant.dev", "/guard/deny", secret_rule.clone(), Some("deny")),
            hook("plaintext-guard-warn.sealant.dev", "/guard/warn", secret_rule, Some("warn")),
        ],
    }))?)
}

async fn label_namespace(
    cluster: &TestCluster,
    namespace: &str,
    labels: serde_json::Value,
) -> anyhow::Result<()> {
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    namespaces
        .patch(
            namespace,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "metadata": { "labels": labels } })),
        )
        .await?;
    Ok(())
}

/// The message of a refusal, or an error if the write went through or failed otherwise.
fn refusal<T>(result: Result<T, kube::Error>, code: u16) -> anyhow::Result<String> {
    match result {
        Err(kube::Error::Api(status)) if status.code == code => Ok(status.message),
        Err(err) => bail!("expected a {code} refusal, got {err}"),
        Ok(_) => bail!("expected a {code} refusal, the write went through"),
    }
}

fn plain_secret(
    name: &str,
    type_: Option<&str>,
    owner_kind: Option<&str>,
) -> anyhow::Result<Secret> {
    let mut secret = serde_json::json!({
        "metadata": { "name": name },
        "stringData": { "password": "not-a-real-password" },
    });
    if let Some(type_) = type_ {
        secret["type"] = type_.into();
    }
    if let Some(kind) = owner_kind {
        secret["metadata"]["ownerReferences"] = serde_json::json!([{
            "apiVersion": "v1", "kind": kind, "name": "owner",
            "uid": "00000000-0000-4000-8000-000000000000",
        }]);
    }
    Ok(serde_json::from_value(secret)?)
}

/// Creates `secret` and returns the admission warnings the API server relayed; `None` when it
/// was refused by policy (403).
async fn create_with_warnings(
    client: &Client,
    namespace: &str,
    secret: &Secret,
) -> anyhow::Result<Option<Vec<String>>> {
    let request = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/secrets"))
        .create(&PostParams::default(), serde_json::to_vec(secret)?)?;
    let response = client.send(request.map(kube::client::Body::from)).await?;
    if response.status() == http::StatusCode::FORBIDDEN {
        return Ok(None);
    }
    if !response.status().is_success() {
        bail!(
            "creating {:?}: HTTP {}",
            secret.metadata.name,
            response.status()
        );
    }
    Ok(Some(
        response
            .headers()
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect(),
    ))
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// Dry-run creates of `object`, timed.
async fn timed_creates(
    api: &Api<SealedSecret>,
    object: &SealedSecret,
    rounds: usize,
) -> anyhow::Result<Vec<Duration>> {
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        api.create(&dry_run, object).await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

#[tokio::test]
#[ignore = "needs the e2e control plane: bash tests/e2e.sh"]
async fn admission_refuses_wrong_sealedsecrets_and_guards_plaintext() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("admission").await?;
    let namespace = ns.name().to_owned();
    label_namespace(
        &cluster,
        &namespace,
        serde_json::json!({ NAMESPACE_LABEL: namespace }),
    )
    .await?;
    let addr = free_local_addr()?;
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(cluster.client());
    let config_name = format!("sealant-{namespace}");
    configs
        .create(
            &PostParams::default(),
            &webhook_config(&config_name, &namespace, &addr)?,
        )
        .await?;
    let mut controller = ControllerProcess::start(
        &cluster,
        &namespace,
        &[
            "--admission-listen-addr",
            &addr,
            "--admission-webhook-config",
            &config_name,
            "--admission-cert-hosts",
            "127.0.0.1",
            "--admission-controller-user",
            CONTROLLER_USER,
            "--plaintext-guard-exempt-users",
            "bob",
            "--plaintext-guard-exempt-owners",
            "ConfigMap",
        ],
    )?;
    let cert = controller_cert(&cluster, &ns).await?;
    let alice = acting_as(&cluster, "alice")?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(alice.clone(), &namespace);

    // Sealed for another cluster: refused, once the API server trusts the controller's CA.
    let elsewhere = sealant_core::generate_key(&sealant_core::KeyGenOptions {
        bits: 2048,
        common_name: String::new(),
        validity: time::Duration::days(1),
        now: time::OffsetDateTime::now_utc(),
    })?
    .1;
    let wrong = sealed(&elsewhere, &namespace, "wrong", &[("password", "pw")], None)?;
    wait_for(
        "the webhook to refuse a wrong-cluster SealedSecret",
        DEFAULT_TIMEOUT,
        // Dry runs until the API server trusts the controller's CA (until then, Ignore admits).
        || async {
            let dry_run = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            Ok(refusal(sealed_api.create(&dry_run, &wrong).await, 422).ok())
        },
    )
    .await?;
    let message = refusal(sealed_api.create(&PostParams::default(), &wrong).await, 422)?;
    assert!(
        message.contains(&format!(
            "SealedSecret {namespace}/wrong: no key of this controller can decrypt item(s) password for scope strict"
        )),
        "{message}"
    );
    assert!(
        message.contains("seal it again with this cluster's certificate"),
        "{message}"
    );

    // Sealed for this controller: admitted, and it syncs as ever.
    let good = sealed(&cert, &namespace, "good", &[("password", "pw")], None)?;
    sealed_api.create(&PostParams::default(), &good).await?;
    wait_synced(&sealed_api, "good", "True", 1).await?;

    // Latency the webhook adds: dry-run creates with it and, after the namespace leaves its
    // selector, without it.
    let rounds = 30;
    let timed = sealed(&cert, &namespace, "timed", &[("password", "pw")], None)?;
    let with = timed_creates(&sealed_api, &timed, rounds).await?;
    label_namespace(
        &cluster,
        &namespace,
        serde_json::json!({ NAMESPACE_LABEL: null }),
    )
    .await?;
    // The wrong object passing proves the webhook is no longer called.
    wait_for(
        "the webhook to leave the namespace",
        DEFAULT_TIMEOUT,
        || async {
            let dry_run = PostParams {
                dry_run: true,
                ..PostParams::default()
            };
            Ok(sealed_api
                .create(&dry_run, &wrong)
                .await
                .is_ok()
                .then_some(()))
        },
    )
    .await?;
    let without = timed_creates(&sealed_api, &timed, rounds).await?;
    eprintln!(
        "admission latency over {rounds} dry-run creates: with the webhook p50 {:?} p95 {:?}; without p50 {:?} p95 {:?}",
        percentile(&with, 50),
        percentile(&with, 95),
        percentile(&without, 50),
        percentile(&without, 95),
    );

    // The plaintext guard, deny mode: each exemption passes, a plain Secret does not.
    label_namespace(
        &cluster,
        &namespace,
        serde_json::json!({ NAMESPACE_LABEL: namespace, GUARD_LABEL: "deny" }),
    )
    .await?;
    let secrets_as = |client: &Client| Api::<Secret>::namespaced(client.clone(), &namespace);
    // A new name each try: the API server may still see the namespace unlabelled for a moment.
    let (name, message) = wait_for(
        "the guard to refuse a plain Secret",
        DEFAULT_TIMEOUT,
        || async {
            let name = sealant_tests::unique_name("plain");
            let result = secrets_as(&alice)
                .create(&PostParams::default(), &plain_secret(&name, None, None)?)
                .await;
            Ok(refusal(result, 403).ok().map(|message| (name, message)))
        },
    )
    .await?;
    assert_eq!(
        message,
        format!(
            "admission webhook \"plaintext-guard-deny.sealant.dev\" denied the request: Secret {namespace}/{name} carries plaintext data in a namespace labelled {GUARD_LABEL}=deny: commit a SealedSecret instead (sealant seal)"
        )
    );
    let exempt: [(&str, Client, Secret); 5] = [
        (
            "the controller",
            cluster.client(),
            plain_secret("by-controller", None, None)?,
        ),
        (
            "a listed user",
            acting_as(&cluster, "bob")?,
            plain_secret("by-bob", None, None)?,
        ),
        (
            "a Helm release",
            alice.clone(),
            plain_secret("helm-release", Some("helm.sh/release.v1"), None)?,
        ),
        (
            "a listed owner kind",
            alice.clone(),
            plain_secret("owned", None, Some("ConfigMap"))?,
        ),
        (
            "no data",
            alice.clone(),
            serde_json::from_value(serde_json::json!({"metadata": {"name": "empty"}}))?,
        ),
    ];
    for (case, client, secret) in exempt {
        secrets_as(&client)
            .create(&PostParams::default(), &secret)
            .await
            .with_context(|| format!("the guard refused {case}"))?;
    }
    // A service-account token: the token controller fills it in, as an exempt type.
    let token = serde_json::from_value::<Secret>(serde_json::json!({
        "metadata": { "name": "token", "annotations": { "kubernetes.io/service-account.name": "default" } },
        "type": "kubernetes.io/service-account-token",
        "stringData": { "extra": "value" },
    }))?;
    secrets_as(&alice)
        .create(&PostParams::default(), &token)
        .await
        .context("the guard refused a service-account token")?;
    // The controller's own Secret (from "good") was written before the label: a metadata-only
    // update of it by anyone still passes.
    secrets_as(&alice)
        .patch(
            "good",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "metadata": { "labels": { "touched": "yes" } } })),
        )
        .await
        .context("the guard refused a metadata-only update")?;

    // Warn mode: admitted, with the warning relayed to the client (the API server may still
    // see the namespace as deny-labelled for a moment).
    label_namespace(
        &cluster,
        &namespace,
        serde_json::json!({ GUARD_LABEL: "warn" }),
    )
    .await?;
    let warnings = wait_for("the guard to warn", DEFAULT_TIMEOUT, || async {
        let name = sealant_tests::unique_name("warned");
        let warnings =
            create_with_warnings(&alice, &namespace, &plain_secret(&name, None, None)?).await?;
        Ok(warnings.filter(|w| !w.is_empty()))
    })
    .await?;
    assert!(
        warnings[0].contains(
            "carries plaintext data in a namespace labelled sealant.dev/plaintext-guard=warn"
        ),
        "{warnings:?}"
    );
    let quiet = create_with_warnings(
        &acting_as(&cluster, "bob")?,
        &namespace,
        &plain_secret("bob-warn", None, None)?,
    )
    .await?;
    assert_eq!(
        quiet,
        Some(Vec::new()),
        "an exempt user was warned or refused"
    );

    // The controller down: with failure policy Ignore, writes go through unchecked.
    label_namespace(
        &cluster,
        &namespace,
        serde_json::json!({ GUARD_LABEL: "deny" }),
    )
    .await?;
    controller.child.kill()?;
    controller.child.wait()?;
    let started = Instant::now();
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(
                &elsewhere,
                &namespace,
                "while-down",
                &[("password", "pw")],
                None,
            )?,
        )
        .await
        .context("a SealedSecret was refused while the controller was down")?;
    secrets_as(&alice)
        .create(
            &PostParams::default(),
            &plain_secret("while-down", None, None)?,
        )
        .await
        .context("a Secret was refused while the controller was down")?;
    eprintln!(
        "two writes with the controller down took {:?}",
        started.elapsed()
    );

    configs
        .delete(&config_name, &DeleteParams::default())
        .await?;
    drop(controller);
    ns.cleanup().await
}
