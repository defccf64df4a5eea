//! Hostile input to a running controller's HTTP API (docs/bad-input.md, "HTTP API"): oversized and
//! slow bodies, malformed and multi-document bodies, wrong kinds, crafted templates (no decryption
//! oracle), the CVE-2026-22728 scope-widening replay through `/v1/rotate`, and the rate limit.
//! Every answer is checked to the byte, as listed in docs/bad-input.md.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_tests::controller::*;
use sealant_tests::faults::{Reply, post, request, send_raw};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, TestNamespace, repo_file, wait_for};

const NOT_AN_ORACLE: &str = "s3cr3t-value";

/// A controller with a small body limit and short read timeout, and its API address.
async fn controller(
    cluster: &TestCluster,
    ns: &TestNamespace,
    extra: &[&str],
) -> anyhow::Result<(ControllerProcess, String, Certificate)> {
    let api_addr = free_local_addr()?;
    let controller =
        ControllerProcess::start_with_addrs(cluster, ns.name(), extra, &api_addr, "127.0.0.1:0")?;
    let cert = controller_cert(cluster, ns).await?;
    // Ready, not only alive: the key Secret is in the API before the controller's own key
    // snapshot has it, and /v1/rotate or /v1/verify then has no key to answer with.
    wait_for("the controller to be ready", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&api_addr, "/readyz").await)
    })
    .await?;
    Ok((controller, api_addr, cert))
}

fn json(sealed: &SealedSecret) -> anyhow::Result<Vec<u8>> {
    Ok(serde_json::to_vec(sealed)?)
}

fn other_cert() -> anyhow::Result<Certificate> {
    Ok(Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?)
}

fn assert_reply(reply: &Reply, status: u16, body: &str, what: &str) {
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (status, body),
        "{what}"
    );
    if status != 200 {
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn api_answers_bad_bodies_exactly_and_keeps_serving() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("hostile-api").await?;
    let (controller, api, cert) = controller(
        &cluster,
        &ns,
        &[
            "--max-request-bytes",
            "4096",
            "--read-timeout",
            "3s",
            "--rate-limit",
            "0",
        ],
    )
    .await?;
    // Exact (no leak canary in front): the crafted templates below guess this very value.
    let good = sealed_exact(
        &cert,
        ns.name(),
        "app",
        &[("password", NOT_AN_ORACLE)],
        None,
    )?;

    // Oversized, announced by Content-Length: refused before the body is read.
    let big = vec![b'a'; 5000];
    let reply = post(&api, "/v1/verify", &big).await?;
    assert_reply(
        &reply,
        413,
        "request body too large\n",
        "Content-Length over the limit",
    );
    let reply = post(&api, "/v1/rotate", &big).await?;
    assert_reply(
        &reply,
        413,
        "request body too large\n",
        "rotate, over the limit",
    );
    // Oversized, chunked (no length known up front): refused once the limit is crossed.
    let mut chunked = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend_from_slice(&[b'a'; 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let reply = send_raw(&api, chunked, None).await?;
    assert_reply(
        &reply,
        413,
        "request body too large\n",
        "chunked over the limit",
    );

    // A slow client: half the body, then silence past --read-timeout.
    let body = json(&good)?;
    let bytes = request("POST", "/v1/verify", &[], &body);
    let half = bytes.len() - body.len() / 2;
    let reply = send_raw(&api, bytes, Some((half, Duration::from_secs(6)))).await?;
    assert_reply(
        &reply,
        408,
        "timed out reading the request body\n",
        "body slower than --read-timeout",
    );
    // Headers never finished: the connection is dropped without an answer (or with 408).
    let slow_headers = send_raw(
        &api,
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n".to_vec(),
        Some((10, Duration::from_secs(6))),
    )
    .await;
    if let Ok(reply) = &slow_headers {
        assert_eq!(reply.status, 408, "headers slower than --read-timeout");
    }

    // Not exactly one SealedSecret: upstream's 500, never quoting the body.
    let multi = [
        sealant_core::yaml::to_string(&good)?,
        sealant_core::yaml::to_string(&good)?,
    ]
    .join("---\n");
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: {}}}\nstringData: {{password: {NOT_AN_ORACLE}}}\n",
        ns.name()
    );
    let cases: [(&str, Vec<u8>, &str); 7] = [
        (
            "malformed JSON",
            format!("{{\"apiVersion\": \"{NOT_AN_ORACLE}").into_bytes(),
            "cannot decode the SealedSecret: malformed JSON in document 1\n",
        ),
        (
            "malformed YAML",
            format!("kind: [SealedSecret\nvalue: {NOT_AN_ORACLE}\n").into_bytes(),
            "cannot decode the SealedSecret: malformed YAML in document 1\n",
        ),
        (
            "two documents",
            multi.into_bytes(),
            "cannot decode the SealedSecret: expected one object, got 2\n",
        ),
        (
            "a Secret",
            secret.into_bytes(),
            "cannot decode the SealedSecret: document 1 is not a bitnami.com/v1alpha1 SealedSecret\n",
        ),
        (
            "an empty body",
            Vec::new(),
            "cannot decode the SealedSecret: the body holds none\n",
        ),
        (
            "not UTF-8",
            vec![0xff, 0xfe, b'{', b'}'],
            "cannot decode the SealedSecret: the body is not UTF-8\n",
        ),
        (
            "a JSON array",
            b"[1, 2, 3]".to_vec(),
            "cannot decode the SealedSecret: document 1 is not a bitnami.com/v1alpha1 SealedSecret\n",
        ),
    ];
    for (what, body, expected) in &cases {
        for path in ["/v1/verify", "/v1/rotate"] {
            let reply = post(&api, path, body).await?;
            assert_reply(&reply, 500, expected, &format!("{what} to {path}"));
        }
    }

    // Sealed to another key: 409 from verify, 500 from rotate, naming the item only.
    let foreign = sealed(&other_cert()?, ns.name(), "app", &[("password", "x")], None)?;
    let reply = post(&api, "/v1/verify", &json(&foreign)?).await?;
    assert_reply(
        &reply,
        409,
        "cannot unseal: no key could decrypt secret (password)\n",
        "verify, wrong key",
    );
    let reply = post(&api, "/v1/rotate", &json(&foreign)?).await?;
    assert_reply(
        &reply,
        500,
        "cannot re-encrypt secret: no key could decrypt secret (password)\n",
        "rotate, wrong key",
    );
    // Unknown path, any method.
    let reply = send_raw(&api, request("DELETE", "/v1/keys", &[], b""), None).await?;
    assert_reply(&reply, 404, "404 page not found\n", "unknown path");

    // Crafted templates do not make verify or rotate an oracle: the right guess, a wrong guess
    // and a template that always fails all get the same answer as the plain object.
    let probe = |template: String| {
        let mut crafted = good.clone();
        std::sync::Arc::make_mut(&mut crafted.spec.inner)
            .template
            .data = Some(BTreeMap::from([("probe".to_owned(), template)]));
        crafted
    };
    let probes = [
        probe(format!(
            "{{{{ if eq (toString .password) \"{NOT_AN_ORACLE}\" }}}}{{{{ div 1 0 }}}}{{{{ end }}}}"
        )),
        probe("{{ if eq (toString .password) \"guess\" }}{{ div 1 0 }}{{ end }}".to_owned()),
        probe("{{ div 1 (len .nothing) }}".to_owned()),
        good.clone(),
    ];
    for crafted in &probes {
        let reply = post(&api, "/v1/verify", &json(crafted)?).await?;
        assert_reply(&reply, 200, "", "verify of a crafted template");
        let reply = post(&api, "/v1/rotate", &json(crafted)?).await?;
        assert_eq!(
            reply.status,
            200,
            "rotate of a crafted template: {}",
            reply.text()
        );
        assert!(
            !reply.text().contains(NOT_AN_ORACLE)
                || serde_json::to_string(&crafted.spec.inner.template.data)?
                    .contains(NOT_AN_ORACLE),
            "rotate returned the plaintext"
        );
    }

    // After all that the controller is alive, healthy and did not panic.
    assert_eq!(http_get(&api, "/healthz").await.as_deref(), Some("ok\n"));
    let log = controller.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains(NOT_AN_ORACLE), "plaintext in the log:\n{log}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn verify_is_rate_limited_with_429_and_headers() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("hostile-rate").await?;
    // Upstream's defaults: 2 requests per second, burst 2.
    let (_controller, api, cert) = controller(&cluster, &ns, &[]).await?;
    let body = json(&sealed(&cert, ns.name(), "app", &[("k", "v")], None)?)?;
    let verify_as = |client: &'static str| {
        let body = body.clone();
        let api = api.clone();
        async move {
            send_raw(
                &api,
                request("POST", "/v1/verify", &[("X-Forwarded-For", client)], &body),
                None,
            )
            .await
        }
    };
    let mut replies = Vec::new();
    for _ in 0..8 {
        replies.push(verify_as("192.0.2.1").await?);
    }
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert!(
        !limited.is_empty(),
        "8 requests at once were never limited: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies[0].status == 200, "the first request is allowed");
    for reply in &replies {
        assert!(reply.status == 200 || reply.status == 429, "{reply:?}");
        assert!(reply.header("x-ratelimit-limit").is_some(), "{reply:?}");
        assert!(reply.header("x-ratelimit-remaining").is_some(), "{reply:?}");
        assert!(reply.header("x-ratelimit-reset").is_some(), "{reply:?}");
    }
    let first = limited[0];
    assert_eq!(first.text(), "limit exceeded\n");
    let retry: u64 = first.header("retry-after").unwrap_or("").parse()?;
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(first.header("x-ratelimit-remaining"), Some("0"));
    // Another client is not limited by the first one's requests.
    assert_eq!(verify_as("192.0.2.2").await?.status, 200);
    // And the limited client gets through again after Retry-After.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    let again = wait_for("the limit to lift", DEFAULT_TIMEOUT, || async {
        let reply = verify_as("192.0.2.1").await?;
        Ok((reply.status == 200).then_some(reply))
    })
    .await?;
    assert_eq!(again.status, 200);
    Ok(())
}

/// CVE-2026-22728 (GHSA-465p-v42x-3fmj): upstream's `/v1/rotate` took the output scope from
/// `spec.template.metadata`, so anyone could turn a strict SealedSecret cluster-wide and move it.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn regression_cve_2026_22728_rotate_cannot_widen_the_scope() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("hostile-cve").await?;
    let (controller, api, cert) = controller(&cluster, &ns, &["--rate-limit", "0"]).await?;
    let victim = sealed(&cert, ns.name(), "victim", &[("token", "t0ken")], None)?;

    let mut crafted = victim.clone();
    let template = std::sync::Arc::make_mut(&mut crafted.spec.inner)
        .template
        .metadata
        .get_or_insert_with(Default::default);
    template.name = Some("stolen".into());
    template.namespace = Some("attacker".into());
    template.annotations = Some(BTreeMap::from([(
        "sealedsecrets.bitnami.com/cluster-wide".to_owned(),
        "true".to_owned(),
    )]));
    let reply = post(&api, "/v1/rotate", &json(&crafted)?).await?;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rotated: SealedSecret = serde_json::from_slice(&reply.body)?;
    let wide = |annotations: &Option<BTreeMap<String, String>>| {
        annotations.as_ref().is_some_and(|a| {
            a.keys()
                .any(|k| k.ends_with("/cluster-wide") || k.ends_with("/namespace-wide"))
        })
    };
    assert!(!wide(&rotated.metadata.annotations), "{rotated:?}");
    let template = rotated
        .spec
        .inner
        .template
        .metadata
        .clone()
        .unwrap_or_default();
    assert!(!wide(&template.annotations), "{template:?}");
    assert_eq!(template.name.as_deref(), Some("victim"));
    assert_eq!(template.namespace.as_deref(), Some(ns.name()));
    assert!(
        controller
            .log()
            .contains("rotate: spec.template.metadata named another name"),
        "the attempt is logged"
    );

    // The re-sealed items are still strict: under another name they do not open, under the
    // victim's they do.
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let mut moved = rotated.clone();
    moved.metadata.name = Some("stolen".into());
    moved.metadata.resource_version = None;
    sealed_api.create(&PostParams::default(), &moved).await?;
    let failed = wait_synced(&sealed_api, "stolen", "False", 1).await?;
    let message = failed.status.and_then(|s| s.conditions).unwrap_or_default()[0]
        .message
        .clone();
    assert_eq!(
        message.as_deref(),
        Some("no key could decrypt secret (token)")
    );
    assert!(secrets.get_opt("stolen").await?.is_none());
    sealed_api.create(&PostParams::default(), &rotated).await?;
    wait_secret_data(&secrets, "victim", &[("token", "t0ken")]).await?;

    // Re-annotating the original as cluster-wide at the top level does not open it either.
    let mut widened = victim;
    widened.metadata.annotations = Some(BTreeMap::from([(
        "sealedsecrets.bitnami.com/cluster-wide".to_owned(),
        "true".to_owned(),
    )]));
    let reply = post(&api, "/v1/rotate", &json(&widened)?).await?;
    assert_reply(
        &reply,
        500,
        "cannot re-encrypt secret: no key could decrypt secret (token)\n",
        "rotate of a re-annotated strict secret",
    );
    let reply = post(&api, "/v1/verify", &json(&widened)?).await?;
    assert_reply(
        &reply,
        409,
        "cannot unseal: no key could decrypt secret (token)\n",
        "verify of a re-annotated strict secret",
    );
    Ok(())
}
