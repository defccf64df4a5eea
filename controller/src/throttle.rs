//! Client-side rate limit for API server requests (`--kubeclient-qps`, `--kubeclient-burst`),
//! as a tower layer under kube's client.
//!
//! client-go's token bucket semantics: `burst` requests may go at once, then tokens come back
//! at `qps` per second. A request that finds the bucket empty waits for its token instead of
//! failing. Long-running watches take one token when they start, as in client-go.
//!
//! kube's `Client` puts a `Buffer` in front of this service, so one task drives it and no lock
//! is needed around the bucket.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

/// A token bucket with client-go's rules; time is passed in so it can be tested without sleeping.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens (at least one) refilled at `qps` per second, or `None`
    /// when `qps` is not positive (no limit, as upstream's negative QPS).
    pub fn new(qps: f64, burst: u32, now: Instant) -> Option<Self> {
        if !(qps.is_finite() && qps > 0.0) {
            return None;
        }
        let burst = f64::from(burst.max(1));
        Some(Self {
            qps,
            burst,
            tokens: burst,
            last: now,
        })
    }

    /// Takes one token at `now`; returns how long the caller must wait before using it.
    /// Tokens may go negative: later callers queue up behind earlier reservations.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

/// The layer: wraps a service so that each call first waits for a token.
#[derive(Debug, Clone)]
pub struct ThrottleLayer {
    qps: f64,
    burst: u32,
    counter: Option<crate::metrics::KubeRequests>,
}

impl ThrottleLayer {
    /// `qps` requests per second after a burst of `burst`; `qps` ≤ 0 disables the limit.
    pub fn new(qps: f64, burst: u32) -> Self {
        Self {
            qps,
            burst,
            counter: None,
        }
    }

    /// Also counts every request that goes through.
    #[must_use]
    pub fn counting(mut self, counter: crate::metrics::KubeRequests) -> Self {
        self.counter = Some(counter);
        self
    }
}

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Throttle {
            inner,
            bucket: TokenBucket::new(self.qps, self.burst, Instant::now()),
            state: State::NeedToken,
            counter: self.counter.clone(),
        }
    }
}

/// The service made by [`ThrottleLayer`].
pub struct Throttle<S> {
    inner: S,
    bucket: Option<TokenBucket>,
    state: State,
    counter: Option<crate::metrics::KubeRequests>,
}

enum State {
    NeedToken,
    Waiting(Pin<Box<Sleep>>),
    HaveToken,
}

impl<S, B> Service<http::Request<B>> for Throttle<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        loop {
            match &mut self.state {
                State::HaveToken => return self.inner.poll_ready(cx),
                State::Waiting(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    self.state = State::HaveToken;
                }
                State::NeedToken => {
                    let wait = self
                        .bucket
                        .as_mut()
                        .map_or(Duration::ZERO, |b| b.reserve(Instant::now()));
                    self.state = if wait.is_zero() {
                        State::HaveToken
                    } else {
                        State::Waiting(Box::pin(tokio::time::sleep(wait)))
                    };
                }
            }
        }
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The token is spent by this call; the next one needs its own.
        self.state = State::NeedToken;
        if let Some(counter) = &self.counter {
            counter.count(&request);
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::ServiceExt as _;

    #[test]
    fn burst_goes_at_once_then_one_every_interval() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, start).unwrap();
        for _ in 0..3 {
            assert_eq!(bucket.reserve(start), Duration::ZERO);
        }
        // The 4th and 5th queue up 100 ms apart.
        assert_eq!(bucket.reserve(start).as_millis(), 100);
        assert_eq!(bucket.reserve(start).as_millis(), 200);
        // After a quiet second the bucket is full again, but never more than `burst`.
        let later = start + Duration::from_secs(10);
        for _ in 0..3 {
            assert_eq!(bucket.reserve(later), Duration::ZERO);
        }
        assert!(bucket.reserve(later) > Duration::ZERO);
    }

    #[test]
    fn non_positive_qps_means_no_limit() {
        let now = Instant::now();
        assert!(TokenBucket::new(-1.0, 10, now).is_none());
        assert!(TokenBucket::new(0.0, 10, now).is_none());
        assert!(TokenBucket::new(f64::NAN, 10, now).is_none());
    }

    #[test]
    fn zero_burst_still_lets_requests_through() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(5.0, 0, now).unwrap();
        assert_eq!(bucket.reserve(now), Duration::ZERO);
        assert_eq!(bucket.reserve(now).as_millis(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn the_layer_delays_requests_beyond_the_burst() {
        let inner =
            tower::service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(Instant::now()) });
        let mut service = ThrottleLayer::new(2.0, 2).layer(inner);
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..4 {
            let request = http::Request::new(());
            sent.push(service.ready().await.unwrap().call(request).await.unwrap() - start);
        }
        let millis: Vec<u128> = sent.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [0, 0, 500, 1000]);
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_layer_never_waits() {
        let inner =
            tower::service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(Instant::now()) });
        let counter = crate::metrics::KubeRequests::default();
        let mut service = ThrottleLayer::new(-1.0, 1)
            .counting(counter.clone())
            .layer(inner);
        let start = Instant::now();
        for i in 0..100 {
            let request = http::Request::builder()
                .method(if i % 2 == 0 { "GET" } else { "PATCH" })
                .uri(if i % 4 == 0 {
                    "/api/v1/secrets?watch=true"
                } else {
                    "/api/v1/secrets"
                })
                .body(())
                .unwrap();
            let at = service.ready().await.unwrap().call(request).await.unwrap();
            assert_eq!(at, start);
        }
        assert_eq!(
            [
                counter.get("watch"),
                counter.get("get"),
                counter.get("patch")
            ],
            [25, 25, 50]
        );
    }
}
