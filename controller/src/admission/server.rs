//! The webhook's HTTPS server: the API server's connections under the same caps and deadlines
//! as the other servers (`crate::http::conns`: `--max-connections*`, `--header-read-timeout`,
//! which also bounds the TLS handshake, `--idle-timeout`), one route per check.
//!
//! A separate accept loop from `crate::http::serve` because each connection starts with a TLS
//! handshake, which must run on the connection's task, not the accept loop.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Webhook;
use crate::http::conns::{Caps, ReadDeadline, ReadLimits, Registry, Slot};
use crate::http::{Body, StallGuard, drive_http1};

/// The routes: the SealedSecret checks, and the guard in each mode.
pub const SEALED_PATH: &str = "/validate/sealedsecrets";
/// The plaintext guard, refusing.
pub const GUARD_DENY_PATH: &str = "/guard/deny";
/// The plaintext guard, warning.
pub const GUARD_WARN_PATH: &str = "/guard/warn";

/// How long in-flight reviews may take to finish after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves the webhook on `listener` until `shutdown`, then drains.
pub(crate) async fn serve(
    listener: TcpListener,
    webhook: Arc<Webhook>,
    acceptor: TlsAcceptor,
    shutdown: CancellationToken,
) -> io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        info!(server = "admission", addr = %addr, "listening");
    }
    let args = &webhook.args;
    let registry = Registry::new(Caps {
        total: args.max_connections,
        per_peer: args.max_connections_per_peer,
    });
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        warn!(server = "admission", %err, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(admitted) = registry.admit(peer.ip().to_canonical(), Instant::now(), &shutdown) else {
                    debug!(server = "admission", %peer, "connection cap reached: closed the new connection");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                connections.spawn(connection(stream, peer, admitted.slot, webhook.clone(), acceptor.clone()));
            }
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        connections.abort_all();
    }
    info!(server = "admission", "stopped");
    Ok(())
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    webhook: Arc<Webhook>,
    acceptor: TlsAcceptor,
) {
    let args = &webhook.args;
    let reads = ReadLimits {
        header_read: args.header_read_timeout,
        idle: args.idle_timeout,
    };
    // The deadlines sit under TLS: the handshake must be done within the header deadline too.
    let raw = ReadDeadline::new(
        StallGuard::new(stream, args.write_timeout),
        slot.phase.clone(),
        reads,
    );
    let tls = tokio::select! {
        tls = acceptor.accept(raw) => match tls {
            Ok(tls) => tls,
            Err(err) => {
                debug!(%peer, %err, "admission TLS handshake failed");
                return;
            }
        },
        () = slot.stop.cancelled() => return,
    };
    let handler = move |request, peer| {
        let webhook = webhook.clone();
        async move { handle(&webhook, request, peer).await }
    };
    let io = TokioIo::new(tls);
    drive_http1(
        io,
        peer,
        slot,
        reads,
        handler,
        "admission connection ended with an error",
    )
    .await;
}

/// Which check a path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Sealed,
    Guard(super::guard::Mode),
    Healthz,
    NotFound,
}

impl Route {
    pub(crate) fn of(path: &str) -> Self {
        match path {
            SEALED_PATH => Route::Sealed,
            GUARD_DENY_PATH => Route::Guard(super::guard::Mode::Deny),
            GUARD_WARN_PATH => Route::Guard(super::guard::Mode::Warn),
            "/healthz" => Route::Healthz,
            _ => Route::NotFound,
        }
    }
}

async fn handle(webhook: &Webhook, request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = std::time::Instant::now();
    let route = Route::of(request.uri().path());
    if route == Route::Healthz {
        return text(StatusCode::OK, "ok\n");
    }
    if route == Route::NotFound {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    if request.method() != http::Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
    }
    let body = match read_body(webhook, request).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let response = match super::review::parse(&body) {
        Err(err) => {
            debug!(%peer, %err, "not an AdmissionReview");
            super::review::invalid(err)
        }
        Ok(review) => {
            let verdict = webhook.review(route, &review).await;
            let allowed = matches!(verdict, super::review::Verdict::Allow { .. });
            debug!(
                %peer,
                route = ?route,
                namespace = review.namespace.as_deref().unwrap_or_default(),
                name = %review.name,
                allowed,
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "admission review"
            );
            verdict.respond(&review)
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(super::review::encode(response))));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The body, at most `--max-request-bytes`, within `--read-timeout`.
async fn read_body(webhook: &Webhook, request: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    let args = &webhook.args;
    match tokio::time::timeout(
        args.read_timeout,
        Limited::new(request.into_body(), args.max_request_bytes).collect(),
    )
    .await
    {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(_)) => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable\n",
        )),
        Err(_) => Err(text(
            StatusCode::REQUEST_TIMEOUT,
            "timed out reading the request body\n",
        )),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
