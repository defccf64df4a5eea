//! The HTTP API (docs/upstream.md, "HTTP API"): `/healthz`, `/readyz`, `/v1/cert.pem`,
//! `/v1/verify` and `/v1/rotate`, served with hyper 1 directly (five fixed paths need no
//! framework).
//!
//! Connection handling, shared with the metrics server (docs/controller.md, "HTTP
//! connections"), so that no client, idle or slow, can lock either port:
//! * at most `--max-connections` connections per server and `--max-connections-per-peer` per
//!   source address; over a cap the oldest idle connection (of that peer, or of anyone) is
//!   closed to make room, else the new one is closed at once (`conns`); the total also keeps
//!   the file descriptors the Kubernetes watches need;
//! * request headers must arrive within `--header-read-timeout`, and a keep-alive connection
//!   may wait at most `--idle-timeout` for its next request (`conns::ReadDeadline`);
//! * a body must arrive within `--read-timeout` of the handler asking for it (408 otherwise);
//! * a handler runs at most `--write-timeout` (503 otherwise), and a client that stops reading
//!   its response loses the connection once a write has made no progress for `--write-timeout`;
//! * on shutdown the listener closes, idle connections close, in-flight requests get
//!   [`DRAIN_TIMEOUT`] to finish.

mod api;
pub(crate) mod conns;
pub(crate) mod gcra;
mod probes;
#[cfg(test)]
mod tests;
mod ui;

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
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::flags::Args;
use crate::keys::KeyStore;
use crate::metrics::Metrics;
use conns::{Caps, ReadDeadline, ReadLimits, Refused, Registry, Slot};

pub(crate) use api::opens;
pub use api::{RotateError, align_template_metadata, reencrypt};
pub(crate) use probes::serve_metrics;

/// How long in-flight requests may take to finish after shutdown is requested.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// At most one warning per this period when connections are refused (they are counted in
/// between), so that a flood does not flood the log too.
const REFUSAL_WARNING_PERIOD: Duration = Duration::from_secs(60);

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
    let serving = Serving::from_args(&state.args);
    // `--web-ui`: the sealing page under /ui/ (ui.rs); every other path is the API's.
    let ui_state = state.args.web_ui.then(|| state.clone());
    let api = Arc::new(api::Api::new(state));
    serve(listener, "api", serving, shutdown, move |request, peer| {
        let ui = ui_state
            .clone()
            .filter(|_| ui::is_ui_path(request.uri().path()));
        let api = api.clone();
        async move {
            match ui {
                Some(state) => ui::handle(&state, &request).await,
                None => api::handle(api, request, peer).await,
            }
        }
    })
    .await
}

/// The response type of every handler: small bodies, built in memory.
pub(crate) type Body = Full<Bytes>;

/// How a server treats its connections: the time limits and caps of the flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Serving {
    /// `--write-timeout`: a handler, and the longest stall of a response write.
    pub(crate) write: Duration,
    /// `--header-read-timeout` and `--idle-timeout`.
    reads: ReadLimits,
    /// `--max-connections` and `--max-connections-per-peer`.
    caps: Caps,
}

impl Serving {
    /// The flags' values.
    pub(crate) fn from_args(args: &Args) -> Self {
        Self {
            write: args.write_timeout,
            reads: ReadLimits {
                header_read: args.header_read_timeout,
                idle: args.idle_timeout,
            },
            caps: Caps {
                total: args.max_connections,
                per_peer: args.max_connections_per_peer,
            },
        }
    }
}

#[cfg(test)]
impl Serving {
    /// The flags' defaults.
    pub(crate) fn defaults() -> Self {
        let args = <Args as clap::Parser>::try_parse_from(["sealant-controller"])
            .expect("the defaults parse");
        Self::from_args(&args)
    }
}

/// Accepts connections and serves HTTP/1.1 on them with `handler`, until `shutdown`.
pub(crate) async fn serve<H, F>(
    listener: TcpListener,
    server: &'static str,
    serving: Serving,
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
    let registry = Registry::new(serving.caps);
    let mut refusals = RefusalLog::default();
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
                let admitted = match registry.admit(peer.ip().to_canonical(), Instant::now(), &shutdown) {
                    Ok(admitted) => admitted,
                    Err(refused) => {
                        // Closed at once: the accept loop never waits on a refused client.
                        drop(stream);
                        refusals.refused(server, refused, serving.caps);
                        continue;
                    }
                };
                if let Some(displaced) = admitted.displaced {
                    debug!(server, %peer, %displaced, "connection cap reached; closed the oldest idle connection");
                }
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                connections.spawn(serve_connection(stream, peer, admitted.slot, serving, handler));
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

/// Refused connections, logged at most once per [`REFUSAL_WARNING_PERIOD`].
#[derive(Debug, Default)]
struct RefusalLog {
    last_warning: Option<Instant>,
    since_warning: u64,
}

impl RefusalLog {
    fn refused(&mut self, server: &'static str, refused: Refused, caps: Caps) {
        self.since_warning += 1;
        let now = Instant::now();
        if self
            .last_warning
            .is_some_and(|last| now.duration_since(last) < REFUSAL_WARNING_PERIOD)
        {
            return;
        }
        let reason = match refused {
            Refused::PeerFull => "a client holds --max-connections-per-peer busy connections",
            Refused::Full => "--max-connections busy connections are open",
        };
        warn!(
            server,
            refused = self.since_warning,
            max_connections = caps.total,
            max_connections_per_peer = caps.per_peer,
            "closing new connections: {reason}"
        );
        self.last_warning = Some(now);
        self.since_warning = 0;
    }
}

async fn serve_connection<H, F>(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    serving: Serving,
    handler: H,
) where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let io = TokioIo::new(ReadDeadline::new(
        StallGuard::new(stream, serving.write),
        slot.phase.clone(),
        serving.reads,
    ));
    drive_http1(
        io,
        peer,
        slot,
        serving.reads,
        handler,
        "connection ended with an error",
    )
    .await;
}

/// Serves HTTP/1.1 on one accepted connection (`io`, already under [`ReadDeadline`] and
/// [`StallGuard`], maybe under TLS) until it ends or `slot` is stopped: each request marks the
/// connection busy until its handler is done, which the connection caps read. Shared by the API
/// and the admission webhook.
pub(crate) async fn drive_http1<I, H, F>(
    io: I,
    peer: SocketAddr,
    slot: Slot,
    reads: ReadLimits,
    handler: H,
    ended_with_error: &'static str,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    H: Fn(Request<Incoming>, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let phase = slot.phase.clone();
    let service = hyper::service::service_fn(move |request| {
        phase.request_started();
        let done = RequestDone(phase.clone());
        let response = handler(request, peer);
        async move {
            let response = response.await;
            drop(done);
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The header and idle deadlines are ReadDeadline's (hyper's one timer cannot tell them
    // apart). Hyper's is still set, as a backstop that never fires first (it starts no earlier
    // than ours and lasts both), because only with it does hyper poll the stream again as soon
    // as a response is out, which is when ReadDeadline arms the idle deadline.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(reads.idle + reads.header_read);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = slot.stop.cancelled() => {
            // Shutdown, or displaced while idle: an idle connection closes at once, a request
            // that just started is still answered.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(err) = result {
        debug!(%peer, %err, "{ended_with_error}");
    }
    drop(slot);
}

/// Marks the connection idle again when its request's handler is done (or dropped).
struct RequestDone(Arc<conns::Phase>);

impl Drop for RequestDone {
    fn drop(&mut self) {
        self.0.request_finished(Instant::now());
    }
}

/// A TCP stream whose writes fail with `TimedOut` once they have been stuck for `limit`:
/// a peer that stops reading cannot hold the connection (Go's `WriteTimeout`, per stall).
pub(crate) struct StallGuard {
    inner: TcpStream,
    limit: Duration,
    stalled_since: Option<Pin<Box<Sleep>>>,
}

impl StallGuard {
    pub(crate) fn new(inner: TcpStream, limit: Duration) -> Self {
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
