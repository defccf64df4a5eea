//! The sans-IO term tracking: step outcomes and the clock in, leadership changes out.

use std::time::Duration;

use tokio::time::Instant;

use super::Leadership;

/// The result of one acquire-or-renew step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// We hold the Lease: our create or replace succeeded.
    Held,
    /// Someone else holds a live Lease.
    HeldByOther(String),
    /// Nothing known this round: write conflict, API error or timeout.
    Unknown,
}

/// A leadership change to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    None,
    /// Still leader, term extended.
    Renewed,
    /// A new term began.
    Acquired(u64),
    /// The term ended.
    Lost(LossReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LossReason {
    HeldByOther(String),
    RenewDeadline,
}

/// Turns step outcomes into terms. Pure: the caller passes the clock.
#[derive(Debug)]
pub(crate) struct Tracker {
    renew_deadline: Duration,
    terms: u64,
    state: Leadership,
}

impl Tracker {
    pub(crate) fn new(renew_deadline: Duration) -> Self {
        Self {
            renew_deadline,
            terms: 0,
            state: Leadership::Follower,
        }
    }

    pub(crate) fn state(&self) -> Leadership {
        self.state
    }

    pub(crate) fn valid_until(&self) -> Option<Instant> {
        match self.state {
            Leadership::Leader { valid_until, .. } => valid_until,
            Leadership::Follower => None,
        }
    }

    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.state, Leadership::Leader { .. })
    }

    /// How long the next step may take: a leader must not wait past its deadline.
    pub(crate) fn step_budget(&self, now: Instant) -> Duration {
        match self.valid_until() {
            Some(until) => until
                .saturating_duration_since(now)
                .min(self.renew_deadline),
            None => self.renew_deadline,
        }
    }

    /// After a step that started at `started` and ended at `now`.
    pub(crate) fn on_step(&mut self, outcome: &Outcome, started: Instant, now: Instant) -> Change {
        match outcome {
            Outcome::Held => {
                let until = started + self.renew_deadline;
                if now >= until {
                    // The write took so long that its term would already be over.
                    return self.on_tick(now);
                }
                match self.state {
                    Leadership::Leader { term, .. } => {
                        self.state = Leadership::Leader {
                            term,
                            valid_until: Some(until),
                        };
                        Change::Renewed
                    }
                    Leadership::Follower => {
                        self.terms += 1;
                        self.state = Leadership::Leader {
                            term: self.terms,
                            valid_until: Some(until),
                        };
                        Change::Acquired(self.terms)
                    }
                }
            }
            Outcome::HeldByOther(holder) if self.is_leader() => {
                self.state = Leadership::Follower;
                Change::Lost(LossReason::HeldByOther(holder.clone()))
            }
            Outcome::HeldByOther(_) => Change::None,
            Outcome::Unknown => self.on_tick(now),
        }
    }

    /// Ends the term once its deadline has passed.
    pub(crate) fn on_tick(&mut self, now: Instant) -> Change {
        match self.valid_until() {
            Some(until) if now >= until => {
                self.state = Leadership::Follower;
                Change::Lost(LossReason::RenewDeadline)
            }
            _ => Change::None,
        }
    }

    /// Stops leading (shutdown).
    pub(crate) fn step_down(&mut self) {
        self.state = Leadership::Follower;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn tracker_terms_renewals_and_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(
            tracker.on_step(&Outcome::HeldByOther("x".into()), t0, t0),
            Change::None
        );
        assert_eq!(tracker.on_step(&Outcome::Held, t0, t0), Change::Acquired(1));
        assert_eq!(
            tracker.state(),
            Leadership::Leader {
                term: 1,
                valid_until: Some(t0 + 2 * SECOND)
            }
        );
        // A renewal moves the deadline; the term stays.
        let t1 = t0 + SECOND;
        assert_eq!(tracker.on_step(&Outcome::Held, t1, t1), Change::Renewed);
        assert_eq!(tracker.valid_until(), Some(t1 + 2 * SECOND));
        // Failures before the deadline keep the term…
        assert_eq!(
            tracker.on_step(&Outcome::Unknown, t1, t1 + SECOND),
            Change::None
        );
        assert!(tracker.is_leader());
        // …at the deadline it ends.
        assert_eq!(
            tracker.on_tick(t1 + 2 * SECOND),
            Change::Lost(LossReason::RenewDeadline)
        );
        assert!(!tracker.is_leader());
        // The next acquisition is a new term.
        let t2 = t1 + 5 * SECOND;
        assert_eq!(tracker.on_step(&Outcome::Held, t2, t2), Change::Acquired(2));
    }

    #[test]
    fn tracker_loses_at_once_when_another_holds_the_lease() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        tracker.on_step(&Outcome::Held, t0, t0);
        assert_eq!(
            tracker.on_step(&Outcome::HeldByOther("x".into()), t0, t0),
            Change::Lost(LossReason::HeldByOther("x".into()))
        );
    }

    #[test]
    fn tracker_ignores_a_success_that_arrives_after_its_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(
            tracker.on_step(&Outcome::Held, t0, t0 + 2 * SECOND),
            Change::None
        );
        assert!(!tracker.is_leader());
    }

    #[test]
    fn tracker_step_budget_never_passes_the_deadline() {
        let t0 = Instant::now();
        let mut tracker = Tracker::new(2 * SECOND);
        assert_eq!(tracker.step_budget(t0), 2 * SECOND);
        tracker.on_step(&Outcome::Held, t0, t0);
        assert_eq!(tracker.step_budget(t0 + SECOND), SECOND);
        assert_eq!(tracker.step_budget(t0 + 3 * SECOND), Duration::ZERO);
    }
}
