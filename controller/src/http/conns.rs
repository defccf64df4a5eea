//! Connection admission and per-connection read deadlines, for both HTTP servers (API and
//! metrics; docs/controller.md, "HTTP connections"):
//!
//! * a server holds at most `--max-connections`, and at most `--max-connections-per-peer` from
//!   one source address. A connection over either cap makes room by closing the oldest *idle*
//!   connection (no request in progress: waiting for its first request, between keep-alive
//!   requests, or still sending headers) of that peer, or of any peer for the total; when there
//!   is none, the new connection is closed at once. Idle sockets therefore cannot lock the port:
//!   a new client always displaces the oldest idle one, and a peer flooding connections only
//!   recycles its own.
//! * a new connection must deliver its request headers within `--header-read-timeout` of
//!   being accepted; after a response, the next request must start within `--idle-timeout`,
//!   and its headers complete within `--header-read-timeout` of its first byte. While a request
//!   is in progress these deadlines are off (its body has `--read-timeout`, its handler and
//!   writes `--write-timeout`).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

/// Connection caps of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    /// Connections at once.
    pub(crate) total: usize,
    /// Connections at once from one source address.
    pub(crate) per_peer: usize,
}

/// Why a new connection was closed on accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its peer holds its share of connections, all busy.
    PeerFull,
    /// The server holds all the connections it may, all busy.
    Full,
}

/// The connections of one server, in accept order.
#[derive(Debug)]
pub(crate) struct Registry {
    caps: Caps,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    /// By id, which grows with each accept: the first idle one found is the oldest.
    conns: BTreeMap<u64, Entry>,
    per_peer: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct Entry {
    peer: IpAddr,
    phase: Arc<Phase>,
    stop: CancellationToken,
}

/// An admitted connection's place in the registry, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    registry: Arc<Registry>,
    id: u64,
    /// Where the connection is between requests.
    pub(crate) phase: Arc<Phase>,
    /// Cancelled when the connection must close: shutdown, or displaced by a newer one.
    pub(crate) stop: CancellationToken,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.lock().remove(self.id);
    }
}

/// What [`Registry::admit`] did.
#[derive(Debug)]
pub(crate) struct Admitted {
    /// The new connection's slot.
    pub(crate) slot: Slot,
    /// The idle connection closed to make room, if any (its peer).
    pub(crate) displaced: Option<IpAddr>,
}

impl Registry {
    pub(crate) fn new(caps: Caps) -> Arc<Self> {
        Arc::new(Self {
            caps: Caps {
                total: caps.total.max(1),
                per_peer: caps.per_peer.max(1),
            },
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a connection from `peer`, closing the oldest idle one if a cap is reached
    /// (see the module documentation); `parent` is the server's shutdown token.
    pub(crate) fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        now: Instant,
        parent: &CancellationToken,
    ) -> Result<Admitted, Refused> {
        let mut inner = self.lock();
        let mut displaced = None;
        if inner.per_peer.get(&peer).copied().unwrap_or(0) >= self.caps.per_peer {
            let id = inner.oldest_idle(Some(peer)).ok_or(Refused::PeerFull)?;
            displaced = inner.remove(id).map(|entry| entry.close());
        }
        if inner.conns.len() >= self.caps.total {
            let id = inner.oldest_idle(None).ok_or(Refused::Full)?;
            displaced = inner.remove(id).map(|entry| entry.close());
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let phase = Arc::new(Phase::new(now));
        let stop = parent.child_token();
        inner.conns.insert(
            id,
            Entry {
                peer,
                phase: phase.clone(),
                stop: stop.clone(),
            },
        );
        *inner.per_peer.entry(peer).or_insert(0) += 1;
        Ok(Admitted {
            slot: Slot {
                registry: self.clone(),
                id,
                phase,
                stop,
            },
            displaced,
        })
    }

    /// Connections held, and from how many peers.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.conns.len(), inner.per_peer.len())
    }
}

impl Inner {
    /// The oldest connection without a request in progress, of `peer` or of anyone.
    /// Linear, but only run when a cap is reached, over at most `--max-connections` entries.
    fn oldest_idle(&self, peer: Option<IpAddr>) -> Option<u64> {
        self.conns
            .iter()
            .find(|(_, entry)| peer.is_none_or(|p| entry.peer == p) && entry.phase.is_idle())
            .map(|(id, _)| *id)
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.conns.remove(&id)?;
        if let Some(count) = self.per_peer.get_mut(&entry.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_peer.remove(&entry.peer);
            }
        }
        Some(entry)
    }
}

impl Entry {
    fn close(self) -> IpAddr {
        self.stop.cancel();
        self.peer
    }
}

/// Where a connection is: serving a request (busy) or waiting for one, and since when.
/// Written by the connection's own task; read by [`Registry::admit`] (`busy` only).
#[derive(Debug)]
pub(crate) struct Phase {
    busy: AtomicBool,
    times: Mutex<Times>,
}

#[derive(Debug, Clone, Copy)]
struct Times {
    /// Accepted (fresh) or last response progress (keep-alive).
    since: Instant,
    /// No request yet: the header deadline counts from the accept.
    fresh: bool,
    /// First byte of the next request.
    head_started: Option<Instant>,
}

impl Phase {
    fn new(now: Instant) -> Self {
        Self {
            busy: AtomicBool::new(false),
            times: Mutex::new(Times {
                since: now,
                fresh: true,
                head_started: None,
            }),
        }
    }

    fn times(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_idle(&self) -> bool {
        !self.busy.load(Ordering::Acquire)
    }

    /// A request's headers are in and its handler runs.
    pub(crate) fn request_started(&self) {
        self.busy.store(true, Ordering::Release);
    }

    /// The handler has answered: the connection waits for the next request from `now`.
    pub(crate) fn request_finished(&self, now: Instant) {
        *self.times() = Times {
            since: now,
            fresh: false,
            head_started: None,
        };
        self.busy.store(false, Ordering::Release);
    }

    fn bytes_read(&self, now: Instant) {
        if self.is_idle() {
            self.times().head_started.get_or_insert(now);
        }
    }

    /// Response bytes still going out: the idle time starts after them.
    fn bytes_written(&self, now: Instant) {
        if self.is_idle() {
            let mut times = self.times();
            if times.head_started.is_none() {
                times.since = times.since.max(now);
            }
        }
    }

    /// When reading must have produced a request head; `None` while a request is in progress.
    fn read_deadline(&self, limits: ReadLimits) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let times = *self.times();
        Some(match (times.fresh, times.head_started) {
            (true, _) => times.since + limits.header_read,
            (false, None) => times.since + limits.idle,
            (false, Some(first_byte)) => first_byte + limits.header_read,
        })
    }
}

/// `--header-read-timeout` and `--idle-timeout`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadLimits {
    pub(crate) header_read: Duration,
    pub(crate) idle: Duration,
}

/// A stream whose reads fail with `TimedOut` once the connection's [`Phase`] deadline has
/// passed, so hyper closes it (hyper's own `header_read_timeout`, off, cannot tell the idle
/// wait from the header read).
pub(crate) struct ReadDeadline<S> {
    inner: S,
    phase: Arc<Phase>,
    limits: ReadLimits,
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl<S> ReadDeadline<S> {
    pub(crate) fn new(inner: S, phase: Arc<Phase>, limits: ReadLimits) -> Self {
        Self {
            inner,
            phase,
            limits,
            timer: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.phase.bytes_read(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                let Some(deadline) = this.phase.read_deadline(this.limits) else {
                    return Poll::Pending;
                };
                let (armed, timer) = this.timer.get_or_insert_with(|| {
                    (deadline, Box::pin(tokio::time::sleep_until(deadline)))
                });
                if *armed != deadline {
                    timer.as_mut().reset(deadline);
                    *armed = deadline;
                }
                if timer.as_mut().poll(cx).is_ready() {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request from the client in time",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ReadDeadline<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.phase.bytes_written(Instant::now());
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.phase.bytes_written(Instant::now());
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn registry(total: usize, per_peer: usize) -> Arc<Registry> {
        Registry::new(Caps { total, per_peer })
    }

    #[test]
    fn a_peer_over_its_cap_displaces_its_own_oldest_idle_connection() {
        let registry = registry(10, 2);
        let server = CancellationToken::new();
        let now = Instant::now();
        let first = registry.admit(A, now, &server).unwrap();
        let second = registry.admit(A, now, &server).unwrap();
        let b = registry.admit(B, now, &server).unwrap();
        let third = registry.admit(A, now, &server).unwrap();
        assert_eq!(third.displaced, Some(A));
        assert!(first.slot.stop.is_cancelled(), "the oldest of A's went");
        assert!(!second.slot.stop.is_cancelled());
        assert!(!b.slot.stop.is_cancelled(), "B is not touched");
        assert_eq!(registry.counts(), (3, 2));
        // All of A's busy: the next one from A is refused, B still gets in.
        second.slot.phase.request_started();
        third.slot.phase.request_started();
        assert_eq!(
            registry.admit(A, now, &server).err(),
            Some(Refused::PeerFull)
        );
        assert!(registry.admit(B, now, &server).is_ok());
        // A displaced slot dropping later does not free anyone else's place.
        drop(first);
        assert_eq!(registry.counts(), (3, 2));
    }

    #[test]
    fn a_full_server_displaces_the_oldest_idle_connection_of_anyone() {
        let registry = registry(3, 3);
        let server = CancellationToken::new();
        let now = Instant::now();
        let a1 = registry.admit(A, now, &server).unwrap();
        let a2 = registry.admit(A, now, &server).unwrap();
        let b1 = registry.admit(B, now, &server).unwrap();
        a1.slot.phase.request_started();
        let b2 = registry.admit(B, now, &server).unwrap();
        assert_eq!(b2.displaced, Some(A));
        assert!(!a1.slot.stop.is_cancelled(), "busy connections stay");
        assert!(a2.slot.stop.is_cancelled(), "the oldest idle one went");
        // Everything busy: refused.
        for slot in [&b1.slot, &b2.slot] {
            slot.phase.request_started();
        }
        assert_eq!(registry.admit(B, now, &server).err(), Some(Refused::Full));
        // A finished request makes its connection idle, so displaceable again.
        b1.slot.phase.request_finished(now);
        let a3 = registry.admit(A, now, &server).unwrap();
        assert_eq!(a3.displaced, Some(B));
        assert!(b1.slot.stop.is_cancelled());
        // Slots give their place back when dropped; the server's shutdown reaches them all.
        drop(a1);
        assert_eq!(registry.counts().0, 2);
        server.cancel();
        assert!(b2.slot.stop.is_cancelled());
    }

    #[test]
    fn read_deadlines_follow_the_phase() {
        let limits = ReadLimits {
            header_read: Duration::from_secs(5),
            idle: Duration::from_secs(30),
        };
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let phase = Phase::new(t0);
        // Fresh: headers within 5 s of the accept, bytes or not.
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(5)));
        phase.bytes_read(t0 + secs(1));
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(5)));
        // Busy: no deadline.
        phase.request_started();
        assert_eq!(phase.read_deadline(limits), None);
        phase.bytes_read(t0 + secs(2));
        // Answered: idle for at most 30 s after the last response bytes.
        phase.request_finished(t0 + secs(3));
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(33)));
        phase.bytes_written(t0 + secs(4));
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(34)));
        // The next request's first byte: its headers within 5 s of it.
        phase.bytes_read(t0 + secs(10));
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(15)));
        phase.bytes_read(t0 + secs(12));
        phase.bytes_written(t0 + secs(12));
        assert_eq!(phase.read_deadline(limits), Some(t0 + secs(15)));
    }
}
