//! The HTTP API (§3.7 of the spec): `/healthz`, `/readyz`, `/v1/cert.pem`, `/v1/verify` and
//! `/v1/rotate`, served with hyper 1 directly (five fixed paths need no framework).
//!
//! Connection handling, shared with the metrics server:
//! * request headers (and the idle time between keep-alive requests) must arrive within
//!   `--read-timeout` (hyper's `header_read_timeout`), and a body within `--read-timeout`
//!   of the handler asking for it (408 otherwise);
//! * a handler runs at most `--write-timeout` (503 otherwise), and a client that stops reading
//!   its response loses the connection once a write has made no progress for `--write-timeout`;
//!   so a slow client cannot pin a connection for ever;
//! * at most [`MAX_CONNECTIONS`] connections per server; more are closed at once, so that
//!   idle sockets cannot exhaust the file descriptors the Kubernetes watches need;
//! * on shutdown the listener closes, idle connections close, in-flight requests get
//!   [`DRAIN_TIMEOUT`] to finish.

mod api;
mod gcra;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::flags::Args;
use crate::keys::KeyStore;
use crate::metrics::Metrics;

pub use api::{RotateError, align_template_metadata, reencrypt};

/// Connections served at once by one server; further connections are closed on accept.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long in-flight requests may take to finish after shutdown is requested.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the API handlers need.
pub struct ApiState {
    /// The sealing keys (the newest seals and is published; all decrypt).
    pub keys: KeyStore,
    /// The flags (timeouts, body limit, rate limit, `--accept-deprecated-v1-data`).
    pub args: Arc<Args>,
    /// Where request counts and durations go.
    pub metrics: Arc<Metrics>,
    /// True once the watches have synced: `/readyz` answers 200 from then on.
    pub ready: tokio::sync::watch::Receiver<bool>,
}

/// Serves the API on `listener` until `shutdown` is cancelled, then drains.
///
/// # Errors
/// None so far: accept errors (such as running out of file descriptors) are logged and
/// retried, since the controller must keep reconciling whatever happens to its API.
pub async fn serve_api(
    listener: TcpListener,
    state: Arc<ApiState>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    state.metrics.watch_keys(state.keys.clone());
    let timeouts = Timeouts {
        read: state.args.read_timeout,
        write: state.args.write_timeout,
    };
    let api = Arc::new(api::Api::new(state));
    serve(listener, "api", timeouts, shutdown, move |request, peer| {
        api::handle(api.clone(), request, peer)
    })
    .await
}

/// The response type of every handler: small bodies, built in memory.
pub(crate) type Body = Full<Bytes>;

/// Per-connection time limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// Header read (and keep-alive idle) limit.
    pub(crate) read: Duration,
    /// Longest stall of a response write.
    pub(crate) write: Duration,
}

/// Accepts connections and serves HTTP/1.1 on them with `handler`, until `shutdown`.
pub(crate) async fn serve<H, F>(
    listener: TcpListener,
    server: &'static str,
    timeouts: Timeouts,
    shutdown: CancellationToken,
    handler: H,
) -> io::Result<()>
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    if let Ok(addr) = listener.local_addr() {
        info!(server, addr = %addr, "listening");
    }
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        warn!(server, %err, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if connections.len() >= MAX_CONNECTIONS {
                    debug!(server, %peer, "too many connections; closing a new one");
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                let shutdown = shutdown.clone();
                connections.spawn(serve_connection(stream, peer, timeouts, shutdown, handler));
            }
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        warn!(
            server,
            remaining = connections.len(),
            "closing connections still busy after the drain timeout"
        );
        connections.abort_all();
    }
    info!(server, "stopped");
    Ok(())
}

async fn serve_connection<H, F>(
    stream: TcpStream,
    peer: SocketAddr,
    timeouts: Timeouts,
    shutdown: CancellationToken,
    handler: H,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let io = TokioIo::new(StallGuard::new(stream, timeouts.write));
    let service = hyper::service::service_fn(move |request| {
        let response = handler(request, peer);
        async move { Ok::<_, Infallible>(response.await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.read);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = result {
        debug!(%peer, %err, "connection ended with an error");
    }
}

/// A TCP stream whose writes fail with `TimedOut` once they have been stuck for `limit`:
/// a peer that stops reading cannot hold the connection (Go's `WriteTimeout`, per stall).
struct StallGuard {
    inner: TcpStream,
    limit: Duration,
    stalled_since: Option<Pin<Box<Sleep>>>,
}

impl StallGuard {
    fn new(inner: TcpStream, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled_since: None,
        }
    }

    fn guard<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.stalled_since = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let limit = self.limit;
                let deadline = self
                    .stalled_since
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if deadline.as_mut().poll(cx).is_ready() {
                    self.stalled_since = None;
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.guard(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.guard(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.guard(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.guard(cx, poll)
    }
}
