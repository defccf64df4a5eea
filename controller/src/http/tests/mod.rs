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
use crate::http::serve_metrics;
use crate::keys::{KeyInfo, KeySnapshot, KeyStore};
use crate::metrics::Metrics;

const RSA2048_KEY: &[u8] = include_bytes!("../../../../core/tests/vectors/keys/rsa2048.key");
const RSA2048_CRT: &[u8] = include_bytes!("../../../../core/tests/vectors/keys/rsa2048.crt");
const OTHER_KEY: &[u8] = include_bytes!("../../../../core/tests/vectors/keys/other-2048.key");
const OTHER_CRT: &[u8] = include_bytes!("../../../../core/tests/vectors/keys/other-2048.crt");

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
    /// The connection flags, for a metrics listener next to the API.
    serving: crate::http::Serving,
}

async fn start(snapshot: KeySnapshot, configure: impl FnOnce(&mut Args)) -> Harness {
    let mut args = Args::try_parse_from(["sealant-controller"]).unwrap();
    configure(&mut args);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ready, ready_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::new(&args));
    let serving = crate::http::Serving::from_args(&args);
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
        serving,
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

// Connection helpers (docs/controller.md, "HTTP connections").

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
        server.serving,
        server.metrics.clone(),
        server.ready.subscribe(),
        server.shutdown.clone(),
    ));
    addr
}

mod api;
mod conns;
