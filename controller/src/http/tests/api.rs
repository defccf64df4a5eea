//! The API endpoints: health, certificate, verify, rotate, recipient, metrics names.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_unknown_paths() {
    let server = start(snapshot(vec![rsa2048()]), |_| {}).await;
    let health = get(server.addr, "/healthz").await;
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    assert_eq!(
        health.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    // Any method, like upstream.
    assert_eq!(post(server.addr, "/healthz", b"x").await.status, 200);
    assert_eq!(get(server.addr, "/readyz").await.status, 503);
    server.ready.send(true).unwrap();
    assert_eq!(get(server.addr, "/readyz").await.status, 200);
    for path in [
        "/",
        "/v1/cert.pem/",
        "/v1/verify/../verify",
        "/metrics",
        "/V1/cert.pem",
    ] {
        let reply = get(server.addr, path).await;
        assert_eq!(reply.status, 404, "{path}");
    }
    // The query string is not part of the path.
    assert_eq!(get(server.addr, "/healthz?probe=1").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cert_pem_is_the_newest_certificate() {
    let newest = other2048();
    let expected = newest.cert.pem().to_owned();
    let server = start(snapshot(vec![rsa2048(), newest]), |_| {}).await;
    let reply = get(server.addr, "/v1/cert.pem").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-pem-file"));
    assert_eq!(reply.text(), expected);

    let empty = start(KeySnapshot::default(), |_| {}).await;
    let reply = get(empty.addr, "/v1/cert.pem").await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (500, "cannot get certificate\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_answers_200_or_409() {
    let key = rsa2048();
    let good = sealed_to(&key.cert);
    let foreign = sealed_to(&other2048().cert);
    let server = start(snapshot(vec![key]), |args| args.rate_limit = 0).await;

    let reply = post(server.addr, "/v1/verify", &json(&good)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.body.is_empty());
    let yaml = sealant_core::object::to_text(&good, sealant_core::Format::Yaml).unwrap();
    assert_eq!(
        post(server.addr, "/v1/verify", yaml.as_bytes())
            .await
            .status,
        200
    );

    let reply = post(server.addr, "/v1/verify", &json(&foreign)).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.text(),
        "cannot unseal: no key could decrypt secret (password)\n"
    );

    // Moved to another namespace: the strict scope no longer matches.
    let mut moved = good.clone();
    moved.metadata.namespace = Some("team-b".into());
    assert_eq!(
        post(server.addr, "/v1/verify", &json(&moved)).await.status,
        409
    );

    let metrics = server.metrics.encode().unwrap();
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"200\",method=\"post\"} 2"), "{metrics}");
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"409\",method=\"post\"} 2"), "{metrics}");
    assert!(
        metrics.contains("sealant_unseal_rsa_operations_total{source=\"verify\"} 2"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_rejects_what_is_not_one_sealed_secret_with_500() {
    let key = rsa2048();
    let good = sealed_to(&key.cert);
    let server = start(snapshot(vec![key]), |args| args.rate_limit = 0).await;
    let good_yaml = sealant_core::object::to_text(&good, sealant_core::Format::Yaml).unwrap();
    let two = format!("{good_yaml}{good_yaml}");
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {PASSWORD}\n"
    );
    let mut no_kind = serde_json::to_value(&good).unwrap();
    no_kind.as_object_mut().unwrap().remove("kind");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"{not json".to_vec()),
        ("binary", vec![0xff, 0xfe, 0x00]),
        ("empty", Vec::new()),
        ("multi-document", two.into_bytes()),
        ("wrong kind", secret.into_bytes()),
        ("no kind", serde_json::to_vec(&no_kind).unwrap()),
    ];
    for (what, body) in cases {
        let reply = post(server.addr, "/v1/verify", &body).await;
        assert_eq!(reply.status, 500, "{what}: {}", reply.text());
        assert!(!reply.text().contains(PASSWORD), "{what}");
        let rotate = post(server.addr, "/v1/rotate", &body).await;
        assert_eq!(rotate.status, 500, "{what} (rotate)");
        assert!(!rotate.text().contains(PASSWORD), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_413() {
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.max_request_bytes = 1024;
        args.rate_limit = 0;
    })
    .await;
    // Content-Length says too much: refused before reading anything.
    let head = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10485760\r\n\r\n".to_vec();
    let reply = raw(server.addr, head).await;
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (413, "request body too large\n")
    );
    // Chunked, no length announced: cut off while reading.
    let chunk = vec![b'a'; 2000];
    let mut chunked = b"POST /v1/rotate HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
    chunked.extend_from_slice(&chunk);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(raw(server.addr, chunked).await.status, 413);
    // Exactly at the limit is read (and then fails to decode).
    assert_eq!(
        post(server.addr, "/v1/verify", &[b' '; 1024]).await.status,
        500
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_is_rate_limited_per_client_with_headers() {
    let key = rsa2048();
    let good = json(&sealed_to(&key.cert));
    let server = start(snapshot(vec![key]), |args| {
        args.rate_limit = 1;
        args.rate_limit_burst = 1;
    })
    .await;
    let send = |xff: &'static str| {
        let body = good.clone();
        let headers: Vec<(&str, &str)> = if xff.is_empty() {
            vec![]
        } else {
            vec![("X-Forwarded-For", xff)]
        };
        raw(server.addr, request("POST", "/v1/verify", &headers, &body))
    };
    let first = send("10.0.0.1").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    assert_eq!(first.header("x-ratelimit-reset"), Some("1"));
    assert_eq!(first.header("retry-after"), None);
    // The client prepends whatever it likes; the last element (the proxy's) is what counts.
    let second = send("1.2.3.4, 10.0.0.1").await;
    assert_eq!(
        (second.status, second.header("x-ratelimit-remaining")),
        (200, Some("0"))
    );
    let third = send("5.6.7.8,10.0.0.1").await;
    assert_eq!(third.status, 429);
    assert_eq!(third.text(), "limit exceeded\n");
    assert_eq!(third.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(third.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(third.header("retry-after"), Some("1"));
    assert_eq!(third.header("x-ratelimit-reset"), Some("2"));
    // Another client, and a direct one (keyed by its peer address), have their own budgets.
    assert_eq!(send("10.0.0.2").await.status, 200);
    assert_eq!(send("").await.status, 200);
    // A non-address last element is ignored: keyed by the peer (127.0.0.1), which has 1 left.
    assert_eq!(send("10.0.0.1, not-an-ip").await.status, 200);
    assert_eq!(send("").await.status, 429);
    // Rotate shares the budget: over it, it waits for its turn (up to --rotate-max-wait)
    // instead of failing, and takes that turn.
    let rotated = post(server.addr, "/v1/rotate", &good).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(rotated.header("x-ratelimit-remaining"), Some("0"));
    // The certificate is not limited.
    assert_eq!(
        get(server.addr, "/v1/cert.pem")
            .await
            .header("x-ratelimit-limit"),
        None
    );
    let metrics = server.metrics.encode().unwrap();
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/verify\",code=\"429\",method=\"post\"} 2"), "{metrics}");
}

/// Upstream's verify executed `spec.template.data`, so a template that fails depending on a
/// value turned 200/409 into a decryption oracle. Here the answer must not depend on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_not_an_oracle_in_verify_or_rotate() {
    let key = rsa2048();
    let victim = sealed_to(&key.cert);
    let foreign = sealed_to(&other2048().cert);
    let probe = |guess: &str| {
        let mut crafted = victim.clone();
        crafted.spec.template.data = Some(BTreeMap::from([(
            "probe".to_owned(),
            format!(
                "{{{{ if eq (toString .password) \"{guess}\" }}}}{{{{ div 1 0 }}}}{{{{ end }}}}"
            ),
        )]));
        crafted
    };
    let right = probe(PASSWORD);
    let wrong = probe("guess");
    let missing = {
        let mut crafted = victim.clone();
        crafted.spec.template.data = Some(BTreeMap::from([(
            "probe".to_owned(),
            "{{ div 1 (len .nothing) }}".to_owned(),
        )]));
        crafted
    };
    // The probes do work as an oracle when templates run (the reconciler's case) ...
    let ring = ring(rsa2048());
    let rendering = UnsealOptions {
        accept_v1_data: false,
        render_templates: true,
    };
    assert!(unseal(&right, &ring, rendering).is_err());
    assert!(unseal(&wrong, &ring, rendering).is_ok());
    assert!(unseal(&missing, &ring, rendering).is_err());

    // ... but not through the API.
    let server = start(snapshot(vec![key]), |args| args.rate_limit = 0).await;
    for crafted in [&right, &wrong, &missing] {
        let reply = post(server.addr, "/v1/verify", &json(crafted)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let rotated = post(server.addr, "/v1/rotate", &json(crafted)).await;
        assert_eq!(rotated.status, 200, "{}", rotated.text());
        let body = rotated.text();
        // No plaintext (the `right` probe carries its guess in the template, nothing else may).
        let template_text = serde_json::to_string(&crafted.spec.template.data).unwrap();
        assert_eq!(body.contains(PASSWORD), template_text.contains(PASSWORD));
        assert!(!body.contains(&sealant_core::base64::encode(PASSWORD.as_bytes())));
        // The template travels verbatim.
        let value: serde_json::Value = serde_json::from_slice(&rotated.body).unwrap();
        let rotated = sealed_secret_from_value(value, 1).unwrap();
        assert_eq!(rotated.spec.template.data, crafted.spec.template.data);
    }
    let mut crafted = foreign;
    crafted.spec.template.data = right.spec.template.data.clone();
    assert_eq!(
        post(server.addr, "/v1/verify", &json(&crafted))
            .await
            .status,
        409
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_reseals_to_the_newest_key_and_keeps_the_top_level_scope() {
    let old = rsa2048();
    let newest = other2048();
    let newest_fingerprint = newest.key.fingerprint().to_string();
    let mut sealed = sealed_to(&old.cert);
    sealed
        .metadata
        .labels_mut()
        .insert("team".into(), "a".into());
    sealed
        .metadata
        .annotations_mut()
        .insert("argocd.argoproj.io/sync-wave".into(), "1".into());
    // CVE-2026-22728: the template claims cluster-wide scope and another name/namespace.
    let template = sealed.spec.template.metadata.as_mut().unwrap();
    template
        .annotations_mut()
        .insert(ANNOTATION_CLUSTER_WIDE.into(), "true".into());
    template.namespace = Some("evil".into());
    template.name = Some("stolen".into());

    let server = start(snapshot(vec![old, newest]), |_| {}).await;
    let reply = post(server.addr, "/v1/rotate", &json(&sealed)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = reply.text();
    assert!(
        !body.contains(PASSWORD) && !body.contains('\n'),
        "compact JSON, no plaintext"
    );
    let value: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(value["apiVersion"], "bitnami.com/v1alpha1");
    assert_eq!(value["kind"], "SealedSecret");
    let rotated = sealed_secret_from_value(value, 1).unwrap();

    assert_eq!(
        Scope::from_annotations(rotated.metadata.annotations.as_ref()),
        Scope::Strict
    );
    assert_eq!(
        rotated.metadata.annotation(KEY_HINT_ANNOTATION),
        Some(newest_fingerprint.as_str())
    );
    assert_eq!(
        rotated.metadata.annotation("argocd.argoproj.io/sync-wave"),
        Some("1")
    );
    assert_eq!(rotated.metadata.labels.as_ref().unwrap()["team"], "a");
    let template = rotated.spec.template.metadata.as_ref().unwrap();
    assert_eq!(
        (template.name.as_deref(), template.namespace.as_deref()),
        (Some("db"), Some("team-a"))
    );
    assert_eq!(
        Scope::from_annotations(template.annotations.as_ref()),
        Scope::Strict
    );
    assert_eq!(template.labels.as_ref().unwrap()["app"], "db");

    // Opens with the newest key alone ...
    let newest_only = ring(other2048());
    let options = UnsealOptions::default();
    let unsealed = unseal(&rotated, &newest_only, options).unwrap();
    assert_eq!(
        unsealed.data()["password"].expose_secret(),
        PASSWORD.as_bytes()
    );
    assert!(unseal(&rotated, &ring(rsa2048()), options).is_err());
    // ... and only where it was: replaying it in another namespace or under another name fails.
    for (namespace, name) in [("evil", "db"), ("team-a", "stolen"), ("evil", "stolen")] {
        let mut replayed = rotated.clone();
        replayed.metadata.namespace = Some(namespace.into());
        replayed.metadata.name = Some(name.into());
        assert!(
            unseal(&replayed, &newest_only, options).is_err(),
            "{namespace}/{name}"
        );
        // Claiming cluster-wide at the top level does not help either.
        replayed
            .metadata
            .annotations_mut()
            .insert(ANNOTATION_CLUSTER_WIDE.into(), "true".into());
        assert!(
            unseal(&replayed, &newest_only, options).is_err(),
            "{namespace}/{name} cluster-wide"
        );
    }
    let metrics = server.metrics.encode().unwrap();
    assert!(
        metrics.contains("sealant_unseal_rsa_operations_total{source=\"rotate\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/rotate\",code=\"200\",method=\"post\"} 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keeps_wider_scopes_and_fails_generically() {
    let key = rsa2048();
    let secret = read_secrets("apiVersion: v1\nkind: Secret\nmetadata:\n  name: shared\n  namespace: ns\nstringData:\n  a: one\n  b: two\n").unwrap().remove(0);
    let options = SealOptions {
        scope: Some(Scope::ClusterWide),
        ..SealOptions::default()
    };
    let cluster_wide = seal_secret(secret, key.cert.public_key(), &options).unwrap();
    let foreign = sealed_to(&other2048().cert);
    let server = start(snapshot(vec![key]), |_| {}).await;

    let reply = post(server.addr, "/v1/rotate", &json(&cluster_wide)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let rotated =
        sealed_secret_from_value(serde_json::from_slice(&reply.body).unwrap(), 1).unwrap();
    assert_eq!(
        Scope::from_annotations(rotated.metadata.annotations.as_ref()),
        Scope::ClusterWide
    );
    let mut moved = rotated.clone();
    moved.metadata.namespace = Some("elsewhere".into());
    moved.metadata.name = Some("renamed".into());
    assert_eq!(
        unseal(&moved, &ring(rsa2048()), UnsealOptions::default())
            .unwrap()
            .data()
            .len(),
        2
    );

    let reply = post(server.addr, "/v1/rotate", &json(&foreign)).await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.text(),
        "cannot re-encrypt secret: no key could decrypt secret (password)\n"
    );
}

#[test]
fn template_metadata_is_aligned_with_the_top_level() {
    let mut sealed = sealed_to(&rsa2048().cert);
    assert!(
        !align_template_metadata(&mut sealed),
        "kubeseal's output is consistent"
    );
    let template = sealed.spec.template.metadata.as_mut().unwrap();
    template.annotations_mut().insert(
        "sealedsecrets.bitnami.com/namespace-wide".into(),
        "true".into(),
    );
    template
        .annotations_mut()
        .insert("keep".into(), "me".into());
    assert!(align_template_metadata(&mut sealed));
    let template = sealed.spec.template.metadata.as_ref().unwrap();
    assert_eq!(
        template.annotation("sealedsecrets.bitnami.com/namespace-wide"),
        None
    );
    assert_eq!(template.annotation("keep"), Some("me"));
    // An absent template is created; an absent name is not a conflict.
    sealed.spec.template.metadata = None;
    assert!(!align_template_metadata(&mut sealed));
    assert_eq!(
        sealed
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("db")
    );
    // A "false" scope annotation on the template is a different claim, and is cleared.
    sealed
        .spec
        .template
        .metadata
        .as_mut()
        .unwrap()
        .annotations_mut()
        .insert(ANNOTATION_CLUSTER_WIDE.into(), "false".into());
    assert!(align_template_metadata(&mut sealed));
    assert!(
        sealed
            .spec
            .template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off() {
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.read_timeout = Duration::from_millis(300);
        args.header_read_timeout = Duration::from_millis(300);
        args.rate_limit = 0;
    })
    .await;
    // Headers that never end: the connection is closed.
    let addr = server.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        closed_by_server(&mut stream)
    })
    .await
    .unwrap();
    assert!(closed, "headers that never end keep the connection");
    // A body that never completes: 408.
    let partial =
        b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"apiVersion\""
            .to_vec();
    let reply = raw(server.addr, partial).await;
    assert_eq!(reply.status, 408);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_the_server() {
    let server = start(snapshot(vec![rsa2048()]), |_| {}).await;
    assert_eq!(get(server.addr, "/healthz").await.status, 200);
    // An idle keep-alive connection must not hold the shutdown up.
    let idle = std::net::TcpStream::connect(server.addr).unwrap();
    server.shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), server.task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))), "{result:?}");
    drop(idle);
    assert!(std::net::TcpStream::connect(server.addr).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_renders_upstream_names() {
    let api = start(snapshot(vec![rsa2048(), other2048()]), |_| {}).await;
    assert_eq!(get(api.addr, "/v1/cert.pem").await.status, 200);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    api.metrics.unseal_request();
    api.metrics.set_condition("ns", "db", None, 1);
    let task = tokio::spawn(serve_metrics(
        listener,
        crate::http::Serving::defaults(),
        api.metrics.clone(),
        api.ready.subscribe(),
        shutdown.clone(),
    ));
    let reply = get(addr, "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = reply.text();
    for needle in [
        "# TYPE sealed_secrets_controller_build_info gauge",
        "sealed_secrets_controller_unseal_requests_total 1",
        "# TYPE sealed_secrets_controller_unseal_requests counter",
        "sealed_secrets_controller_condition_info{namespace=\"ns\",name=\"db\",condition=\"Synced\",ss_app_kubernetes_io_instance=\"\"} 1",
        "sealed_secrets_controller_http_requests_total{path=\"/v1/cert.pem\",code=\"200\",method=\"get\"} 1",
        "# TYPE sealed_secrets_controller_http_request_duration_seconds histogram",
        "sealant_keys{kind=\"rsa\",state=\"active\",tenant=\"\"} 2",
        "# TYPE sealant_key_age_seconds gauge",
        "sealant_unseal_rsa_operations_total{source=\"reconcile\"} 0",
        "# EOF",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(get(addr, "/healthz").await.text(), "ok\n");
    // Readiness as on the API port, for the probes (deploy/).
    assert_eq!(get(addr, "/readyz").await.status, 503);
    api.ready.send(true).unwrap();
    assert_eq!(get(addr, "/readyz").await.text(), "ok\n");
    assert_eq!(get(addr, "/nope").await.status, 404);
    shutdown.cancel();
    assert!(
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_to_a_client_that_stopped_reading_time_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::net::TcpStream::connect(addr).unwrap();
    let (stream, _) = listener.accept().await.unwrap();
    let mut guard = StallGuard::new(stream, Duration::from_millis(200));
    let chunk = vec![0u8; 1 << 16];
    let mut written = 0usize;
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let result = std::future::poll_fn(|cx| {
                tokio::io::AsyncWrite::poll_write(std::pin::Pin::new(&mut guard), cx, &chunk)
            })
            .await;
            match result {
                Ok(n) => written += n,
                Err(err) => return err,
            }
        }
    })
    .await
    .expect("the stalled write must fail, not hang");
    assert_eq!(outcome.kind(), std::io::ErrorKind::TimedOut);
    assert!(
        written > 0,
        "writes went through until the buffers were full"
    );
    drop(client);
}

/// Adds an age identity to a snapshot as its newest age key.
fn with_age(mut snapshot: KeySnapshot, identity: &sealant_core::AgeIdentity) -> KeySnapshot {
    snapshot.age.push(crate::keys::AgeKeyInfo {
        fingerprint: identity.fingerprint().clone(),
        secret_name: "sealant-age-keyaaaaa".into(),
        order_time: time::OffsetDateTime::UNIX_EPOCH,
        recipient: identity.recipient().clone(),
        state: sealant_core::keysecret::KeyState::Active,
    });
    snapshot.ring.insert_age(identity.clone());
    snapshot
}

/// `team-a/db` sealed for several recipients with the given layout.
fn sealed_for(recipients: &sealant_core::sealing::Recipients) -> SealedSecret {
    let secret = read_secrets(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\nstringData:\n  password: {PASSWORD}\n"
    ))
    .unwrap()
    .remove(0);
    sealant_core::sealing::seal_secret_for(secret, recipients, &SealOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipient_is_the_newest_age_key_or_404() {
    use sealant_core::{AgeIdentity, IdentityKind};
    let old = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let new = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let snapshot = with_age(with_age(snapshot(vec![rsa2048()]), &old), &new);
    let server = start(snapshot, |_| {}).await;
    let reply = get(server.addr, "/v1/recipient").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), format!("{}\n", new.recipient()));
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(!reply.text().contains("AGE-SECRET-KEY"));

    // No age key (age keys off, or an upstream controller): 404, as for an unknown path.
    let rsa_only = start(snapshot_rsa_only(), |_| {}).await;
    assert_eq!(get(rsa_only.addr, "/v1/recipient").await.status, 404);
}

fn snapshot_rsa_only() -> KeySnapshot {
    snapshot(vec![rsa2048()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_opens_age_items_in_both_layouts() {
    use sealant_core::sealing::{Layout, Recipients};
    use sealant_core::{AgeIdentity, IdentityKind};
    let ours = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let theirs = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let server = start(with_age(snapshot(vec![rsa2048()]), &ours), |args| {
        args.rate_limit = 0
    })
    .await;
    let other_cert = other2048().cert;
    for layout in [Layout::Compatible, Layout::Combined] {
        // Another cluster's certificate first: this controller holds only the age key.
        let for_us = sealed_for(&Recipients {
            certs: vec![other_cert.public_key().clone()],
            age: vec![ours.recipient().clone()],
            layout,
        });
        let reply = post(server.addr, "/v1/verify", &json(&for_us)).await;
        assert_eq!(reply.status, 200, "{layout}: {}", reply.text());
        let mut moved = for_us.clone();
        moved.metadata.namespace = Some("team-b".into());
        assert_eq!(
            post(server.addr, "/v1/verify", &json(&moved)).await.status,
            409,
            "{layout}: moved"
        );
        let not_us = sealed_for(&Recipients {
            certs: vec![other_cert.public_key().clone()],
            age: vec![theirs.recipient().clone()],
            layout,
        });
        assert_eq!(
            post(server.addr, "/v1/verify", &json(&not_us)).await.status,
            409,
            "{layout}: not for us"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keeps_what_other_clusters_need() {
    use sealant_core::sealing::{AGE_ITEMS_ANNOTATION, Layout, Recipients};
    use sealant_core::{AgeIdentity, IdentityKind};
    let theirs = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    let ours_age = AgeIdentity::generate(IdentityKind::X25519).unwrap();
    // This controller: old key rsa2048, newest other2048, and an age key.
    let server = start(
        with_age(snapshot(vec![rsa2048(), other2048()]), &ours_age),
        |_| {},
    )
    .await;
    let rotate = |sealed: SealedSecret| {
        let addr = server.addr;
        async move {
            let reply = post(addr, "/v1/rotate", &json(&sealed)).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            let value: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            sealed_secret_from_value(value, 1).unwrap()
        }
    };
    let newest = other2048();
    let mut their_ring = KeyRing::new();
    their_ring.insert_age(theirs.clone());
    let options = UnsealOptions::default();

    // Compatible, our old RSA key first: the RSA value is re-sealed to our newest key, the
    // other cluster's age item is kept as it was.
    let ours_first = sealed_for(&Recipients {
        certs: vec![rsa2048().cert.public_key().clone()],
        age: vec![theirs.recipient().clone()],
        layout: Layout::Compatible,
    });
    let rotated = rotate(ours_first.clone()).await;
    assert_ne!(
        rotated.spec.encrypted_data["password"],
        ours_first.spec.encrypted_data["password"]
    );
    assert_eq!(
        rotated.metadata.annotation(AGE_ITEMS_ANNOTATION),
        ours_first.metadata.annotation(AGE_ITEMS_ANNOTATION)
    );
    assert_eq!(
        rotated.metadata.annotation(KEY_HINT_ANNOTATION),
        Some(newest.key.fingerprint().to_string().as_str())
    );
    let mine = unseal(&rotated, &ring(other2048()), options).unwrap();
    assert_eq!(mine.data()["password"].expose_secret(), PASSWORD.as_bytes());
    let theirs_opened = unseal(&rotated, &their_ring, options).unwrap();
    assert_eq!(
        theirs_opened.data()["password"].expose_secret(),
        PASSWORD.as_bytes()
    );

    // Compatible with the other cluster's RSA certificate first, ours in the age item: nothing
    // can be re-sealed for them, so the object comes back with the same items and hint.
    let theirs_first = sealed_for(&Recipients {
        certs: vec![
            rsa2048_elsewhere().public_key().clone(),
            newest.cert.public_key().clone(),
        ],
        age: vec![],
        layout: Layout::Compatible,
    });
    let rotated = rotate(theirs_first.clone()).await;
    assert_eq!(
        rotated.spec.encrypted_data,
        theirs_first.spec.encrypted_data
    );
    assert_eq!(
        rotated.metadata.annotation(KEY_HINT_ANNOTATION),
        theirs_first.metadata.annotation(KEY_HINT_ANNOTATION)
    );
    assert_eq!(
        rotated.metadata.annotation(AGE_ITEMS_ANNOTATION),
        theirs_first.metadata.annotation(AGE_ITEMS_ANNOTATION)
    );

    // Combined: every value is an age item, kept.
    let combined = sealed_for(&Recipients {
        certs: vec![],
        age: vec![ours_age.recipient().clone(), theirs.recipient().clone()],
        layout: Layout::Combined,
    });
    let rotated = rotate(combined.clone()).await;
    assert_eq!(rotated.spec.encrypted_data, combined.spec.encrypted_data);
    unseal(&rotated, &their_ring, options).unwrap();
}

/// A certificate no key of the test controller opens (the EC fixture cannot seal, so a fresh
/// RSA-2048 key stands for the other cluster).
fn rsa2048_elsewhere() -> Certificate {
    let options = sealant_core::KeyGenOptions {
        bits: 2048,
        common_name: String::new(),
        validity: time::Duration::days(30),
        now: time::OffsetDateTime::now_utc(),
    };
    sealant_core::generate_key(&options).unwrap().1
}
