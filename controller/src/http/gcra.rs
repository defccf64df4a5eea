//! A GCRA (generic cell rate algorithm) rate limiter with the semantics of the `throttled`
//! library upstream uses for `/v1/verify` (docs/upstream.md, "HTTP API"), so that clients see
//! the same `X-RateLimit-*` numbers.
//!
//! With emission interval `T = 1 s / rate` and tolerance `τ = T · (burst + 1)`, each key keeps a
//! theoretical arrival time (TAT). A request at `now` would move it to `new = max(TAT, now) + T`;
//! it is allowed iff `now ≥ new − τ`. So `burst + 1` requests pass at once, then one every `T`.
//! Time is passed in by the caller, which keeps the algorithm testable without sleeping.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Keys kept at most, as upstream's in-memory store (65 536).
pub(crate) const DEFAULT_CAPACITY: usize = 65_536;

/// The outcome of one check, with what the rate-limit headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Whether the request may proceed.
    pub(crate) allowed: bool,
    /// Requests allowed at once (`burst + 1`): `X-RateLimit-Limit`.
    pub(crate) limit: u32,
    /// Requests still allowed now: `X-RateLimit-Remaining`.
    pub(crate) remaining: u32,
    /// Until the key is back to a full allowance: `X-RateLimit-Reset`.
    pub(crate) reset_after: Duration,
    /// When denied, until the next request would be allowed: `Retry-After`.
    pub(crate) retry_after: Option<Duration>,
}

impl Decision {
    /// The rate-limit headers (`X-RateLimit-Limit`, `-Remaining`, `-Reset`, and `Retry-After`
    /// when denied; names in lower case, as `http` wants them), seconds rounded up as
    /// `throttled` does.
    pub(crate) fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            (
                "x-ratelimit-reset",
                ceil_seconds(self.reset_after).to_string(),
            ),
        ];
        if let Some(retry) = self.retry_after {
            headers.push(("retry-after", ceil_seconds(retry).to_string()));
        }
        headers
    }
}

fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Per-key GCRA state, bounded to `capacity` keys.
#[derive(Debug)]
pub(crate) struct Gcra<K> {
    /// `T`, nanoseconds.
    interval: i128,
    /// `τ`, nanoseconds.
    tolerance: i128,
    limit: u32,
    /// Times are kept as nanoseconds since this instant.
    origin: Instant,
    tat: HashMap<K, i128>,
    capacity: usize,
}

impl<K: Hash + Eq + Clone> Gcra<K> {
    /// A limiter allowing `rate` requests per second after a burst of `burst + 1`, or `None`
    /// when `rate` is 0 (no limit; upstream would crash on it).
    pub(crate) fn new(rate: u32, burst: u32, capacity: usize, origin: Instant) -> Option<Self> {
        if rate == 0 {
            return None;
        }
        let interval = (1_000_000_000i128 / i128::from(rate)).max(1);
        let limit = burst.saturating_add(1);
        Some(Self {
            interval,
            tolerance: interval * i128::from(limit),
            limit,
            origin,
            tat: HashMap::new(),
            capacity: capacity.max(1),
        })
    }

    /// Checks (and, when allowed, records) one request for `key` at `now`.
    #[cfg(test)]
    pub(crate) fn check(&mut self, key: &K, now: Instant) -> Decision {
        self.reserve(key, now, Duration::ZERO).0
    }

    /// Like `check`, but a request over the limit whose turn comes within `max_wait` is
    /// allowed and its turn recorded at once: it must wait the returned duration before going
    /// ahead. Requests queued this way still go at the limiter's rate, since each one moves
    /// the key's TAT as an allowed request does. With `max_wait` 0 this is `throttled`'s check.
    pub(crate) fn reserve(
        &mut self,
        key: &K,
        now: Instant,
        max_wait: Duration,
    ) -> (Decision, Duration) {
        let now = nanos(now.saturating_duration_since(self.origin));
        let stored = self.tat.get(key).copied();
        let tat = stored.unwrap_or(now).max(now);
        let new_tat = tat + self.interval;
        let allow_at = new_tat - self.tolerance;
        if allow_at - now > nanos(max_wait) {
            // Denied: state unchanged. `tat > now` here, since τ ≥ T.
            let ttl = tat - now;
            let decision = Decision {
                allowed: false,
                limit: self.limit,
                remaining: self.remaining(ttl),
                reset_after: duration(ttl),
                retry_after: Some(duration(allow_at - now)),
            };
            return (decision, Duration::ZERO);
        }
        if stored.is_none() && self.tat.len() >= self.capacity {
            self.evict(now);
        }
        self.tat.insert(key.clone(), new_tat);
        // The headers describe the moment the request goes ahead.
        let starts = now.max(allow_at);
        let ttl = new_tat - starts;
        let decision = Decision {
            allowed: true,
            limit: self.limit,
            remaining: self.remaining(ttl),
            reset_after: duration(ttl),
            retry_after: None,
        };
        (decision, duration(starts - now))
    }

    /// `throttled`'s rule: `floor((τ − ttl) / T)`, never negative.
    fn remaining(&self, ttl: i128) -> u32 {
        let next = self.tolerance - ttl;
        if next <= 0 {
            return 0;
        }
        u32::try_from(next / self.interval).unwrap_or(u32::MAX)
    }

    /// Makes room for one key: drops every key whose TAT has passed (an absent key behaves
    /// the same), and if none has, the key with the oldest TAT.
    fn evict(&mut self, now: i128) {
        self.tat.retain(|_, tat| *tat > now);
        if self.tat.len() < self.capacity {
            return;
        }
        if let Some(oldest) = self
            .tat
            .iter()
            .min_by_key(|(_, tat)| **tat)
            .map(|(key, _)| key.clone())
        {
            self.tat.remove(&oldest);
        }
    }

    /// Number of keys held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.tat.len()
    }
}

fn nanos(duration: Duration) -> i128 {
    i128::try_from(duration.as_nanos()).unwrap_or(i128::MAX / 4)
}

fn duration(nanos: i128) -> Duration {
    Duration::from_nanos(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn burst_then_one_per_interval_like_throttled() {
        // Upstream defaults: 2 per second, burst 2 → 3 at once, then one every 500 ms.
        let t0 = Instant::now();
        let mut gcra = Gcra::new(2, 2, 16, t0).unwrap();
        let key = "client";
        let d1 = gcra.check(&key, t0);
        assert_eq!(
            (d1.allowed, d1.limit, d1.remaining, d1.reset_after),
            (true, 3, 2, 500 * MS)
        );
        let d2 = gcra.check(&key, t0);
        assert_eq!(
            (d2.allowed, d2.remaining, d2.reset_after),
            (true, 1, 1000 * MS)
        );
        let d3 = gcra.check(&key, t0);
        assert_eq!(
            (d3.allowed, d3.remaining, d3.reset_after, d3.retry_after),
            (true, 0, 1500 * MS, None)
        );
        let d4 = gcra.check(&key, t0);
        assert!(!d4.allowed);
        assert_eq!(
            (d4.remaining, d4.reset_after, d4.retry_after),
            (0, 1500 * MS, Some(500 * MS))
        );
        // A denied request does not push the TAT further.
        let d5 = gcra.check(&key, t0 + 100 * MS);
        assert_eq!((d5.allowed, d5.retry_after), (false, Some(400 * MS)));
        // Exactly at the retry time it passes, and the next one is denied again.
        let d6 = gcra.check(&key, t0 + 500 * MS);
        assert_eq!((d6.allowed, d6.remaining), (true, 0));
        assert!(!gcra.check(&key, t0 + 500 * MS).allowed);
        // After the full tolerance the allowance is whole again.
        let d7 = gcra.check(&key, t0 + 5000 * MS);
        assert_eq!((d7.allowed, d7.remaining), (true, 2));
    }

    #[test]
    fn headers_round_seconds_up_and_add_retry_after_only_when_denied() {
        let t0 = Instant::now();
        let mut gcra = Gcra::new(2, 0, 16, t0).unwrap();
        let allowed = gcra.check(&1u8, t0);
        assert_eq!(
            allowed.headers(),
            vec![
                ("x-ratelimit-limit", "1".to_owned()),
                ("x-ratelimit-remaining", "0".to_owned()),
                ("x-ratelimit-reset", "1".to_owned()),
            ]
        );
        let denied = gcra.check(&1u8, t0 + 100 * MS);
        assert!(!denied.allowed);
        assert_eq!(
            denied.headers().last(),
            Some(&("retry-after", "1".to_owned()))
        );
        assert_eq!(ceil_seconds(Duration::from_secs(2)), 2);
        assert_eq!(ceil_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(ceil_seconds(Duration::ZERO), 0);
    }

    #[test]
    fn keys_are_independent() {
        let t0 = Instant::now();
        let mut gcra = Gcra::new(1, 0, 16, t0).unwrap();
        assert!(gcra.check(&"a", t0).allowed);
        assert!(!gcra.check(&"a", t0).allowed);
        assert!(gcra.check(&"b", t0).allowed);
        assert!(gcra.check(&"a", t0 + 1000 * MS).allowed);
    }

    #[test]
    fn reserve_queues_within_max_wait_at_the_same_rate() {
        // 2 per second, burst 1: 2 at once, then one every 500 ms.
        let t0 = Instant::now();
        let mut gcra = Gcra::new(2, 1, 16, t0).unwrap();
        let key = "client";
        for _ in 0..2 {
            let (decision, wait) = gcra.reserve(&key, t0, Duration::from_secs(1));
            assert_eq!((decision.allowed, wait), (true, Duration::ZERO));
        }
        // Over the burst: queued for the next two turns, 500 ms apart.
        let (third, wait3) = gcra.reserve(&key, t0, Duration::from_secs(1));
        assert_eq!((third.allowed, wait3, third.remaining), (true, 500 * MS, 0));
        let (_, wait4) = gcra.reserve(&key, t0, Duration::from_secs(1));
        assert_eq!(wait4, 1000 * MS);
        // The next turn is 1.5 s away: beyond the wait allowed, refused without being recorded.
        let (fifth, wait5) = gcra.reserve(&key, t0, Duration::from_secs(1));
        assert_eq!((fifth.allowed, wait5), (false, Duration::ZERO));
        assert_eq!(fifth.retry_after, Some(1500 * MS));
        // A plain check sees the queued turns too: nothing before 1.5 s.
        assert!(!gcra.check(&key, t0 + 1400 * MS).allowed);
        assert!(gcra.check(&key, t0 + 1500 * MS).allowed);
        // Another key is not affected.
        assert_eq!(gcra.reserve(&"other", t0, Duration::ZERO).1, Duration::ZERO);
    }

    #[test]
    fn rate_zero_means_no_limiter() {
        assert!(Gcra::<u8>::new(0, 2, 16, Instant::now()).is_none());
    }

    #[test]
    fn capacity_is_bounded_expired_keys_go_first_then_the_oldest() {
        let t0 = Instant::now();
        let mut gcra = Gcra::new(1, 0, 3, t0).unwrap();
        for key in 0..3u32 {
            assert!(gcra.check(&key, t0 + key * 100 * MS).allowed);
        }
        assert_eq!(gcra.len(), 3);
        // Full and nothing expired: the oldest TAT (key 0) goes.
        assert!(gcra.check(&3, t0 + 300 * MS).allowed);
        assert_eq!(gcra.len(), 3);
        assert!(
            gcra.check(&0, t0 + 300 * MS).allowed,
            "key 0 was evicted, so it starts afresh"
        );
        assert!(
            !gcra.check(&3, t0 + 300 * MS).allowed,
            "key 3 is still tracked"
        );
        // Much later everything has expired and is dropped at once.
        assert!(gcra.check(&99, t0 + 10_000 * MS).allowed);
        assert_eq!(gcra.len(), 1);
    }

    #[test]
    fn extreme_settings_do_not_overflow() {
        let t0 = Instant::now();
        let mut gcra = Gcra::new(u32::MAX, u32::MAX, 4, t0).unwrap();
        let decision = gcra.check(&0u8, t0 + Duration::from_secs(10 * 365 * 24 * 3600));
        assert!(decision.allowed);
        let mut slow = Gcra::new(1, 0, 4, t0).unwrap();
        // A clock before the origin counts as the origin.
        assert!(
            slow.check(&0u8, t0.checked_sub(Duration::from_secs(5)).unwrap_or(t0))
                .allowed
        );
    }
}
