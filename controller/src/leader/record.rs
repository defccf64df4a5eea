//! The sans-IO record and decision: which fields of a Lease matter, and client-go's rule on
//! them (see the module docs of [`super`]).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use tokio::time::Instant;

/// The fields of a Lease that matter for the election; two equal records mean "no change".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeaseRecord {
    /// `None` for missing or empty: free.
    pub(crate) holder: Option<String>,
    /// `None` for missing or non-positive.
    pub(crate) lease_duration: Option<Duration>,
    pub(crate) acquire_time: Option<MicroTime>,
    pub(crate) renew_time: Option<MicroTime>,
    pub(crate) transitions: i32,
}

impl LeaseRecord {
    pub(crate) fn of(lease: &Lease) -> Self {
        let Some(spec) = lease.spec.as_ref() else {
            return Self::default();
        };
        Self {
            holder: spec.holder_identity.clone().filter(|h| !h.is_empty()),
            lease_duration: spec
                .lease_duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            acquire_time: spec.acquire_time.clone(),
            renew_time: spec.renew_time.clone(),
            transitions: spec.lease_transitions.unwrap_or(0),
        }
    }
}

/// What to do about an observed Lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// It is free or expired: take it (new acquire time, one more transition).
    Acquire,
    /// It is ours: renew it (keep acquire time and transitions).
    Renew,
    /// Someone else holds it and it has not expired by our clock.
    Follow {
        /// The holder.
        holder: String,
        /// When it expires unless it changes before.
        expires_at: Instant,
    },
}

/// client-go's rule. `first_seen` is when *we* first saw `observed` unchanged (local monotonic
/// clock); the Lease's own timestamps are never compared with our wall clock. A Lease without a
/// usable duration is given `fallback` (ours) rather than treated as expired.
pub(crate) fn decide(
    observed: &LeaseRecord,
    now: Instant,
    first_seen: Instant,
    me: &str,
    fallback: Duration,
) -> Decision {
    match observed.holder.as_deref() {
        None => Decision::Acquire,
        Some(holder) if holder == me => Decision::Renew,
        Some(holder) => {
            let duration = observed.lease_duration.unwrap_or(fallback);
            match first_seen.checked_add(duration) {
                Some(expires_at) if now < expires_at => Decision::Follow {
                    holder: holder.to_owned(),
                    expires_at,
                },
                // An overflowing expiry is "never"; `expires_at` is only informative.
                None => Decision::Follow {
                    holder: holder.to_owned(),
                    expires_at: now,
                },
                Some(_) => Decision::Acquire,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn record(holder: Option<&str>, seconds: Option<u64>) -> LeaseRecord {
        LeaseRecord {
            holder: holder.map(str::to_owned),
            lease_duration: seconds.map(Duration::from_secs),
            ..LeaseRecord::default()
        }
    }

    #[test]
    fn a_free_lease_is_acquired() {
        let t0 = Instant::now();
        assert_eq!(
            decide(&record(None, Some(15)), t0, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
    }

    #[test]
    fn a_lease_held_by_me_is_renewed_even_when_old() {
        let t0 = Instant::now();
        assert_eq!(
            decide(
                &record(Some("me"), Some(15)),
                t0 + 60 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Renew
        );
    }

    #[test]
    fn a_fresh_lease_held_by_another_is_followed() {
        let t0 = Instant::now();
        assert_eq!(
            decide(
                &record(Some("other"), Some(15)),
                t0 + 14 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Follow {
                holder: "other".into(),
                expires_at: t0 + 15 * SECOND
            }
        );
    }

    #[test]
    fn a_lease_held_by_another_expires_by_the_local_clock() {
        let t0 = Instant::now();
        let held = record(Some("other"), Some(15));
        // Exactly at first_seen + duration it is expired (client-go: valid iff expiry > now).
        assert_eq!(
            decide(&held, t0 + 15 * SECOND, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
        // The record's own duration counts, not ours.
        assert_eq!(
            decide(
                &record(Some("other"), Some(3)),
                t0 + 3 * SECOND,
                t0,
                "me",
                15 * SECOND
            ),
            Decision::Acquire
        );
    }

    #[test]
    fn a_lease_without_a_duration_gets_ours() {
        let t0 = Instant::now();
        let held = record(Some("other"), None);
        assert!(matches!(
            decide(&held, t0 + 14 * SECOND, t0, "me", 15 * SECOND),
            Decision::Follow { .. }
        ));
        assert_eq!(
            decide(&held, t0 + 15 * SECOND, t0, "me", 15 * SECOND),
            Decision::Acquire
        );
    }

    #[test]
    fn record_of_normalises_empty_and_missing_fields() {
        let mut lease = Lease::default();
        assert_eq!(LeaseRecord::of(&lease), LeaseRecord::default());
        lease.spec = Some(k8s_openapi::api::coordination::v1::LeaseSpec {
            holder_identity: Some(String::new()),
            lease_duration_seconds: Some(0),
            ..Default::default()
        });
        assert_eq!(LeaseRecord::of(&lease), LeaseRecord::default());
    }
}
