//! In-process tests of the API: a real listener on 127.0.0.1:0 and raw HTTP/1.1 over TCP.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use sealant_core::object::{read_secrets, sealed_secret_from_value};
use sealant_core::scope::ANNOTATION_CLUSTER_WIDE;
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::{
    Certificate, KeyRing, PrivateKey, Scope, SealOptions, SealedSecret, UnsealOptions, seal_secret,
    unseal,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{ApiState, StallGuard, align_template_metadata, serve_api};
use crate::flags::Args;
use crate::keys::{KeyInfo, KeySnapshot, KeyStore};
use crate::metrics::{Metrics, serve_metrics};

const RSA2048_KEY: &[u8] = include_bytes!("../../../core/tests/vectors/keys/rsa2048.key");
const RSA2048_CRT: &[u8] = include_bytes!("../../../core/tests/vectors/keys/rsa2048.crt");
const OTHER_KEY: &[u8] = include_bytes!("../../../core/tests/vectors/keys/other-2048.key");
const OTHER_CRT: &[u8] = include_bytes!("../../../core/tests/vectors/keys/other-2048.crt");

const PASSWORD: &str = "hunter2-correct-horse";

struct TestKey {
    key: PrivateKey,
    cert: Certificate,
    name: &'static str,
}

fn rsa2048() -> TestKey {
    TestKey {
        key: PrivateKey::from_pem(RSA2048_KEY).unwrap(),
        cert: Certificate::from_pem(RSA2048_CRT).unwrap(),
        name: "sealed-secrets-keyaaaaa",
    }
}

fn other2048() -> TestKey {
    TestKey {
        key: PrivateKey::from_pem(OTHER_KEY).unwrap(),
        cert: Certificate::from_pem(OTHER_CRT).unwrap(),
        name: "sealed-secrets-keybbbbb",
    }
}

/// Keys oldest first: the last one is the newest.
fn snapshot(keys: Vec<TestKey>) -> KeySnapshot {
    let mut snapshot = KeySnapshot::default();
    for test_key in keys {
        snapshot.keys.push(KeyInfo {
            fingerprint: test_key.key.fingerprint().clone(),
            secret_name: test_key.name.to_owned(),
            order_time: test_key.cert.not_before(),
            cert: test_key.cert,
            state: sealant_core::keysecret::KeyState::Active,
        });
        snapshot.ring.insert(test_key.key);
    }
    snapshot
}

fn ring(key: TestKey) -> KeyRing {
    std::iter::once(key.key).collect()
}

/// A strict-scope SealedSecret `team-a/db` with one item, sealed to `cert`.
fn sealed_to(cert: &Certificate) -> SealedSecret {
    let secret = read_secrets(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\n  labels:\n    app: db\nstringData:\n  password: {PASSWORD}\n"
    ))
    .unwrap()
    .remove(0);
    seal_secret(secret, cert.public_key(), &SealOptions::default()).unwrap()
}

fn json(sealed: &SealedSecret) -> Vec<u8> {
    serde_json::to_vec(sealed).unwrap()
}

struct Harness {
    addr: SocketAddr,
    ready: watch::Sender<bool>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(snapshot: KeySnapshot, configure: impl FnOnce(&mut Args)) -> Harness {
    let mut args = Args::try_parse_from(["sealant-controller"]).unwrap();
    configure(&mut args);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ready, ready_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::new(&args));
    let state = Arc::new(ApiState {
        keys: KeyStore::fixed(snapshot),
        args: Arc::new(args),
        metrics: metrics.clone(),
        ready: ready_rx,
    });
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve_api(listener, state, shutdown.clone()));
    Harness {
        addr,
        ready,
        metrics,
        shutdown,
        task,
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Sends raw bytes, reads until the server closes, parses one response.
async fn raw(addr: SocketAddr, request: Vec<u8>) -> Reply {
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(&request).unwrap();
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(err) if !bytes.is_empty() => {
                    eprintln!("read ended with {err} after {} bytes", bytes.len());
                    break;
                }
                Err(err) => panic!("no response: {err}"),
            }
        }
        parse(&bytes)
    })
    .await
    .unwrap()
}

fn parse(bytes: &[u8]) -> Reply {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&bytes[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

fn request(method: &str, path: &str, extra_headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: sealant\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

async fn get(addr: SocketAddr, path: &str) -> Reply {
    raw(addr, request("GET", path, &[], b"")).await
}

async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> Reply {
    raw(addr, request("POST", path, &[], body)).await
}

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
        "sealant_keys{kind=\"rsa\",state=\"active\"} 2",
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

// --- connections: caps, deadlines, the probes' port (docs/controller.md, "HTTP connections")

/// Reads until the server closes the connection: true when it did (EOF or reset), false when
/// nothing happened for 20 s (a safety net for a failing test, not a measure).
fn closed_by_server(stream: &mut std::net::TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) => {
                return matches!(
                    err.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                );
            }
        }
    }
}

/// Reads one response with a `Content-Length` from a keep-alive connection.
fn read_response(stream: &mut std::net::TcpStream) -> Reply {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before a whole response");
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let reply = parse(&bytes);
            let length: usize = reply.header("content-length").unwrap().parse().unwrap();
            if bytes.len() >= end + 4 + length {
                return reply;
            }
        }
    }
}

/// `n` connections from 127.0.0.1 that send nothing.
async fn idle_connections(addr: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    tokio::task::spawn_blocking(move || {
        (0..n)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect()
    })
    .await
    .unwrap()
}

/// `GET path` from the address `source` (another loopback address is another peer); `None`
/// when the connection is closed without an answer.
async fn get_from(source: &str, addr: SocketAddr, path: &str) -> Option<Reply> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let stream = socket.connect(addr).await.ok()?.into_std().unwrap();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = stream;
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(&request("GET", &path, &[], b"")).ok()?;
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).ok()?;
        (!bytes.is_empty()).then(|| parse(&bytes))
    })
    .await
    .unwrap()
}

/// Serves the harness's metrics (with its flags and readiness) on a new listener.
async fn start_metrics(server: &Harness) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_metrics(
        listener,
        server.metrics.clone(),
        server.ready.subscribe(),
        server.shutdown.clone(),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_its_connection_cap_does_not_crowd_out_others() {
    const CAP: usize = 8;
    const OVER: usize = 12;
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.max_connections_per_peer = CAP;
        args.max_connections = 64;
        // Long deadlines: whatever closes a connection here is the cap.
        args.header_read_timeout = Duration::from_secs(600);
        args.idle_timeout = Duration::from_secs(600);
    })
    .await;
    let mut flood = idle_connections(server.addr, CAP + OVER).await;
    let reply = get_from("127.0.0.2", server.addr, "/healthz")
        .await
        .expect("another peer is answered");
    assert_eq!((reply.status, reply.text().as_str()), (200, "ok\n"));
    // The flooding peer only recycled its own share: its oldest idle connections were closed,
    // its newest one is still served.
    let mut newest = flood.pop().unwrap();
    let oldest: Vec<_> = flood.drain(..OVER).collect();
    let (closed, newest_status) = tokio::task::spawn_blocking(move || {
        let closed = oldest
            .into_iter()
            .filter(|stream| closed_by_server(&mut stream.try_clone().unwrap()))
            .count();
        newest
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        (closed, read_response(&mut newest).status)
    })
    .await
    .unwrap();
    assert_eq!(closed, OVER);
    assert_eq!(newest_status, 200);
    drop(flood);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_header_connections_are_closed() {
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.header_read_timeout = Duration::from_millis(300);
        args.idle_timeout = Duration::from_millis(300);
    })
    .await;
    let addr = server.addr;
    let (silent, trickling, kept_alive) = tokio::task::spawn_blocking(move || {
        // Connected, nothing sent.
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        // Half a request line, then nothing.
        let mut trickling = std::net::TcpStream::connect(addr).unwrap();
        trickling.write_all(b"GET /heal").unwrap();
        // One request answered on a keep-alive connection, then nothing.
        let mut kept = std::net::TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert_eq!(read_response(&mut kept).status, 200);
        (
            closed_by_server(&mut silent),
            closed_by_server(&mut trickling),
            closed_by_server(&mut kept),
        )
    })
    .await
    .unwrap();
    assert!(silent, "a connection that never sends stays open");
    assert!(trickling, "unfinished headers keep the connection");
    assert!(kept_alive, "an idle keep-alive connection stays open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_port_serves_probes_while_the_api_port_is_flooded() {
    const TOTAL: usize = 32;
    let server = start(snapshot(vec![rsa2048()]), |args| {
        args.max_connections = TOTAL;
        args.max_connections_per_peer = TOTAL;
        args.header_read_timeout = Duration::from_secs(600);
        args.idle_timeout = Duration::from_secs(600);
        args.read_timeout = Duration::from_secs(600);
        args.rate_limit = 0;
    })
    .await;
    let metrics = start_metrics(&server).await;
    let status = |reply: Option<Reply>| reply.map(|reply| reply.status);

    // Idle connections up to the cap and beyond.
    let idle = idle_connections(server.addr, TOTAL + 8).await;
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/healthz").await),
        Some(200)
    );
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/readyz").await),
        Some(503)
    );
    server.ready.send(true).unwrap();
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/readyz").await),
        Some(200)
    );
    // Idle connections make room for new ones, so the API port answers too.
    assert_eq!(
        status(get_from("127.0.0.2", server.addr, "/healthz").await),
        Some(200)
    );
    drop(idle);

    // Busy connections (a body that never comes, held for --read-timeout) cannot be displaced
    // and can fill the API port; the probes' port is another listener with its own count.
    let addr = server.addr;
    let busy = tokio::task::spawn_blocking(move || {
        (0..TOTAL + 8)
            .map(|_| {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                let _ = stream.write_all(
                    b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
                );
                stream
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(
        status(get_from("127.0.0.2", metrics, "/healthz").await),
        Some(200)
    );
    assert_eq!(
        status(get_from("127.0.0.1", metrics, "/readyz").await),
        Some(200)
    );
    drop(busy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_is_rate_limited_with_the_verify_budget() {
    let key = rsa2048();
    let good = json(&sealed_to(&key.cert));
    let snapshot_keys = || snapshot(vec![rsa2048()]);
    let server = start(snapshot(vec![key]), |args| {
        args.rate_limit = 1;
        args.rate_limit_burst = 1;
        args.rotate_max_wait = Duration::ZERO;
    })
    .await;
    let send = |path: &'static str, client: &'static str, addr: SocketAddr| {
        let body = good.clone();
        async move {
            let headers = [("X-Forwarded-For", client)];
            raw(addr, request("POST", path, &headers, &body)).await
        }
    };
    // One budget of 2 for both endpoints.
    let first = send("/v1/verify", "10.0.0.1", server.addr).await;
    assert_eq!(
        (first.status, first.header("x-ratelimit-remaining")),
        (200, Some("1"))
    );
    let second = send("/v1/rotate", "10.0.0.1", server.addr).await;
    assert_eq!(second.status, 200, "{}", second.text());
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));
    for path in ["/v1/verify", "/v1/rotate"] {
        let limited = send(path, "10.0.0.1", server.addr).await;
        assert_eq!(
            (limited.status, limited.text().as_str()),
            (429, "limit exceeded\n"),
            "{path}"
        );
        assert_eq!(limited.header("x-ratelimit-limit"), Some("2"), "{path}");
        assert!(limited.header("retry-after").is_some(), "{path}");
    }
    // Per client: another one has its own budget.
    assert_eq!(
        send("/v1/rotate", "10.0.0.2", server.addr).await.status,
        200
    );
    let metrics = server.metrics.encode().unwrap();
    assert!(metrics.contains("sealed_secrets_controller_http_requests_total{path=\"/v1/rotate\",code=\"429\",method=\"post\"} 1"), "{metrics}");

    // With --rotate-max-wait (10 s by default), rotate over the budget waits for its turn
    // instead, and that turn is gone for verify.
    let paced = start(snapshot_keys(), |args| {
        args.rate_limit = 1;
        args.rate_limit_burst = 0;
    })
    .await;
    assert_eq!(send("/v1/rotate", "10.0.0.1", paced.addr).await.status, 200);
    let waited = send("/v1/rotate", "10.0.0.1", paced.addr).await;
    assert_eq!(waited.status, 200, "{}", waited.text());
    assert_eq!(send("/v1/verify", "10.0.0.1", paced.addr).await.status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_has_at_most_burst_plus_one_opening_requests_in_progress() {
    let key = rsa2048();
    let good = json(&sealed_to(&key.cert));
    // Burst 1: two at once. A high rate, so that only requests in progress count.
    let server = start(snapshot(vec![key]), |args| {
        args.rate_limit = 1000;
        args.rate_limit_burst = 1;
        args.read_timeout = Duration::from_secs(600);
    })
    .await;
    let addr = server.addr;
    // Requests from 10.0.0.9 whose bodies never come (as through the API server's proxy,
    // where every user is the same peer).
    let open_slow = move |path: &'static str| {
        tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream
                .write_all(
                    format!(
                        "POST {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.9\r\nContent-Length: 100\r\n\r\n{{"
                    )
                    .as_bytes(),
                )
                .unwrap();
            stream
        })
    };
    let mut slow = vec![
        open_slow("/v1/verify").await.unwrap(),
        open_slow("/v1/rotate").await.unwrap(),
    ];
    let verify_as = |client: &'static str| {
        let body = good.clone();
        raw(
            addr,
            request("POST", "/v1/verify", &[("X-Forwarded-For", client)], &body),
        )
    };
    // Once two are in their handlers, a third from the same client is refused. On a loaded
    // machine a probe can reach its handler before a slow request does and take its place
    // (that slow request is then refused): another slow request is opened now and then, until
    // two hold their places.
    let mut refused = None;
    for attempt in 0..200 {
        let reply = verify_as("10.0.0.9").await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        if attempt % 10 == 9 {
            slow.push(open_slow("/v1/verify").await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = refused.expect("a third request in progress was accepted");
    assert_eq!(refused.text(), "too many requests in progress\n");
    assert_eq!(refused.header("retry-after"), Some("1"));
    // Other clients are not affected.
    assert_eq!(verify_as("10.0.0.10").await.status, 200);
    // The slow requests gone, the client is served again.
    drop(slow);
    let mut served = false;
    for _ in 0..200 {
        if verify_as("10.0.0.9").await.status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the places of closed requests were not given back");
}

/// Figures for docs/controller.md ("HTTP connections"), with the default flags: `N` idle
/// connections from one peer (`SEALANT_FLOOD_N`, default 1,030), then `/healthz` from another
/// peer, and how long idle connections live. Run with
/// `cargo test -p sealant-controller --lib flood_figures -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints figures"]
async fn flood_figures() {
    let n: usize = std::env::var("SEALANT_FLOOD_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1030);
    let server = start(snapshot(vec![rsa2048()]), |_| {}).await;
    let metrics = start_metrics(&server).await;
    let opened = std::time::Instant::now();
    let flood = idle_connections(server.addr, n).await;
    eprintln!(
        "{n} idle connections from 127.0.0.1 opened in {:?}",
        opened.elapsed()
    );
    let asked = std::time::Instant::now();
    let api = get_from("127.0.0.2", server.addr, "/healthz").await;
    eprintln!(
        "API /healthz from 127.0.0.2: {:?} after {:?}",
        api.as_ref().map(|reply| reply.status),
        asked.elapsed()
    );
    let probe = get_from("127.0.0.2", metrics, "/healthz").await;
    eprintln!(
        "metrics /healthz from 127.0.0.2: {:?}",
        probe.as_ref().map(|reply| reply.status)
    );
    // Which of the flood's sockets the server still holds once the flood is over (a read that
    // would block: open; EOF: closed), and when the last of them is closed.
    let (held, all_closed) = tokio::task::spawn_blocking(move || {
        let ended = std::time::Instant::now();
        let mut held = 0;
        for stream in &flood {
            stream.set_nonblocking(true).unwrap();
            let would_block = matches!(
                (&*stream).read(&mut [0u8; 1]),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock
            );
            held += usize::from(would_block);
            stream.set_nonblocking(false).unwrap();
        }
        for mut stream in flood {
            assert!(
                closed_by_server(&mut stream),
                "an idle connection outlived 20 s"
            );
        }
        (held, ended.elapsed())
    })
    .await
    .unwrap();
    eprintln!(
        "held by the server when the flood ended: {held} of {n} (the others displaced); \
         the last closed {all_closed:?} later"
    );
    let addr = server.addr;
    let (silent, kept) = tokio::task::spawn_blocking(move || {
        let connected = std::time::Instant::now();
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        assert!(closed_by_server(&mut silent));
        let silent = connected.elapsed();
        let mut kept = std::net::TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        read_response(&mut kept);
        let answered = std::time::Instant::now();
        assert!(closed_by_server(&mut kept));
        (silent, answered.elapsed())
    })
    .await
    .unwrap();
    eprintln!("a silent connection closed {silent:?} after connecting");
    eprintln!("a keep-alive connection closed {kept:?} after its answer");
    assert_eq!(api.map(|reply| reply.status), Some(200));
    assert_eq!(probe.map(|reply| reply.status), Some(200));
}
