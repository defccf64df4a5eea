//! Leak canary (issue 11, part 2): every value sealed here carries a unique canary; the
//! controller is driven through its success and failure paths at its most verbose log level,
//! and the canary (raw or base64) must then be absent from its log, the namespace's events,
//! every SealedSecret's status, the metrics page and every HTTP answer.

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::Api;
use kube::api::{ListParams, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_tests::controller::*;
use sealant_tests::faults::{find_canary, post, request, send_raw};
use sealant_tests::{DEFAULT_TIMEOUT, repo_file, unique_name, wait_for};

/// A canary whose length is a multiple of 3, so that its base64 form is a fixed prefix of the
/// base64 form of any value that starts with it.
fn canary() -> String {
    let name = unique_name("CANARY").replace('-', "_").to_ascii_uppercase();
    let pad = (3 - name.len() % 3) % 3;
    format!("{name}{}", "X".repeat(pad))
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn no_secret_value_reaches_logs_events_status_metrics_or_http_answers() -> anyhow::Result<()>
{
    let canary = canary();
    let canary_b64 = sealant_core::base64::encode(canary.as_bytes());
    let value = |tag: &str| format!("{canary}{tag}");

    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("leaks").await?;
    let api = free_local_addr()?;
    let metrics = free_local_addr()?;
    // TRACE is the most verbose level there is (it also turns on the libraries' own tracing).
    let controller = ControllerProcess::start_with_addrs(
        &cluster,
        ns.name(),
        &[
            "--log-level",
            "TRACE",
            "--rate-limit",
            "0",
            "--max-request-bytes",
            "8192",
        ],
        &api,
        &metrics,
    )?;
    let cert = controller_cert(&cluster, &ns).await?;
    let other = Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let create = |object: SealedSecret| {
        let sealed_api = sealed_api.clone();
        async move { sealed_api.create(&PostParams::default(), &object).await }
    };

    // Create, then update: the canary does reach the Secret (the positive control).
    let (v1, v2) = (value("-one"), value("-two"));
    create(sealed(&cert, ns.name(), "app", &[("password", &v1)], None)?).await?;
    wait_secret_data(&secrets, "app", &[("password", &v1)])
        .await
        .with_context(|| controller.log())?;
    let mut update = sealed(&cert, ns.name(), "app", &[("password", &v2)], None)?;
    update.metadata.resource_version = sealed_api.get("app").await?.metadata.resource_version;
    sealed_api
        .replace("app", &PostParams::default(), &update)
        .await?;
    wait_secret_data(&secrets, "app", &[("password", &v2)]).await?;

    // Failures: another key, a strict secret moved to another name, and templates that fail on
    // the values in every way the engine can fail.
    create(sealed(
        &other,
        ns.name(),
        "wrongkey",
        &[("password", &value("-w"))],
        None,
    )?)
    .await?;
    let mut moved = sealed(
        &cert,
        ns.name(),
        "origin",
        &[("password", &value("-m"))],
        None,
    )?;
    moved.metadata.name = Some("moved".into());
    create(moved).await?;
    let templates = [
        "{{ index .password 99999 }}",
        "{{ .password.field }}",
        "{{ fromJson .password }}",
        "{{ b64dec .password }}",
        "{{ div 1 (atoi .password) }}",
        "{{ range .password }}{{ end }}",
        "{{ printf \"%d\" .password | fail }}",
        "{{ .password | toJson | fromJson | index 3 }}",
    ];
    for (i, template) in templates.iter().enumerate() {
        let mut object = sealed(
            &cert,
            ns.name(),
            &format!("tpl{i}"),
            &[("password", &value("-t"))],
            None,
        )?;
        object.spec.inner.template.data =
            Some(BTreeMap::from([("out".to_owned(), (*template).to_owned())]));
        create(object).await?;
    }
    // A Secret in the way (not owned): the SealedSecret must not copy anything into status.
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({
                "metadata": {"name": "taken"},
                "stringData": {"password": value("-taken")},
            }))?,
        )
        .await?;
    create(sealed(
        &cert,
        ns.name(),
        "taken",
        &[("password", &value("-x"))],
        None,
    )?)
    .await?;
    for name in ["wrongkey", "moved", "taken"] {
        wait_synced(&sealed_api, name, "False", 1)
            .await
            .with_context(|| controller.log())?;
    }
    // Some of those fail, some succeed (Sprig's lenient functions); either way the controller
    // must have handled each one before the outputs are searched.
    for i in 0..templates.len() {
        let name = format!("tpl{i}");
        wait_for(
            &format!("{name} to be handled"),
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_api.get(&name).await?;
                Ok(object
                    .status
                    .filter(|s| s.observed_generation == Some(1) && s.conditions.is_some())
                    .map(|_| ()))
            },
        )
        .await?;
    }

    // The HTTP API on every path, with the canary in the bodies.
    let mut answers = Vec::new();
    let good = sealed(
        &cert,
        ns.name(),
        "app",
        &[("password", &value("-api"))],
        None,
    )?;
    let foreign = sealed(
        &other,
        ns.name(),
        "app",
        &[("password", &value("-api"))],
        None,
    )?;
    let plain = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: app}}\nstringData: {{password: {}}}\n",
        value("-plain")
    );
    let bodies: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&good)?,
        serde_json::to_vec(&foreign)?,
        plain.into_bytes(),
        format!("{{\"kind\": \"{}", value("-json")).into_bytes(),
        format!("kind: [{}\n", value("-yaml")).into_bytes(),
        format!("{}\n---\n{}", value("-a"), value("-b")).into_bytes(),
        value("-big").repeat(400).into_bytes(),
    ];
    for body in &bodies {
        for path in ["/v1/verify", "/v1/rotate"] {
            let reply = post(&api, path, body).await?;
            answers.push(format!("{path} {}: {}", reply.status, reply.text()));
        }
    }
    // The canary in headers and the path, too.
    let reply = send_raw(
        &api,
        request(
            "POST",
            &format!("/v1/{}", value("-path")),
            &[("X-Forwarded-For", &value("-xff"))],
            b"",
        ),
        None,
    )
    .await?;
    answers.push(format!("404 path {}: {}", reply.status, reply.text()));

    // Give the controller a moment to log whatever it logs after answering.
    let page = wait_for("the metrics page", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics).await)
    })
    .await?;
    let events = Api::<Event>::namespaced(cluster.client(), ns.name())
        .list(&ListParams::default())
        .await?;
    anyhow::ensure!(
        !events.items.is_empty(),
        "the controller recorded no events"
    );
    let statuses: Vec<_> = sealed_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|s| (s.metadata.name, s.status))
        .collect();
    let sources = vec![
        ("controller log".to_owned(), controller.log()),
        (
            "events".to_owned(),
            serde_json::to_string_pretty(&events.items)?,
        ),
        (
            "statuses".to_owned(),
            serde_json::to_string_pretty(&statuses)?,
        ),
        ("metrics".to_owned(), page),
        ("HTTP answers".to_owned(), answers.join("\n")),
    ];
    // The failures above must have produced something to search, or the test proves nothing.
    assert!(
        sources[2]
            .1
            .contains("no key could decrypt secret (password)"),
        "{}",
        sources[2].1
    );
    assert!(sources[0].1.contains("DEBUG"), "not a debug log");
    let found = find_canary(&[canary.as_str(), canary_b64.as_str()], &sources);
    assert!(
        found.is_empty(),
        "the canary leaked:\n{}",
        found
            .iter()
            .map(|(source, context)| format!("  {source}: …{context}…"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Control: the canary is findable where it belongs.
    let secret = secrets.get("app").await?;
    let data = serde_json::to_string(&secret.data)?;
    assert!(
        data.contains(&canary_b64),
        "the canary search cannot see base64"
    );
    ns.cleanup().await?;
    Ok(())
}
