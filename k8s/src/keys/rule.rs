//! The one rule for which key seals, and the order keys are ranked in.

use sealant_core::keysecret::KeyState;
use time::OffsetDateTime;

/// What the sealing-key rule reads of a key: the controller's loaded keys and the CLI's
/// inventory entries both answer it.
pub trait SealingCandidate {
    /// The time keys are ordered by; `None` (unknown) ranks as the oldest.
    fn order_time(&self) -> Option<OffsetDateTime>;
    /// The state its label gives it.
    fn state(&self) -> &KeyState;
    /// Whether the key can be used at all (parses, has what sealing needs).
    fn usable(&self) -> bool;
}

fn rank<T: SealingCandidate + ?Sized>(key: &T) -> OffsetDateTime {
    key.order_time().unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Sorts keys of one kind oldest first. Stable: keys with equal times keep their list order.
pub fn sort_oldest_first<T: SealingCandidate>(keys: &mut [T]) {
    keys.sort_by_key(|k| rank(k));
}

/// The key that seals among `keys` of one kind: the newest usable key whose state seals
/// (active). A compromised key never seals, however new. Of keys with equal times the later
/// in `keys` wins, which is the last of a stable [`sort_oldest_first`], so a sorted and an
/// unsorted list agree.
pub fn sealing_key<'a, T, I>(keys: I) -> Option<&'a T>
where
    T: SealingCandidate + 'a,
    I: IntoIterator<Item = &'a T>,
{
    keys.into_iter()
        .filter(|k| k.usable() && k.state().seals())
        .max_by_key(|k| rank(*k))
}

impl SealingCandidate for super::KeyRecord {
    fn order_time(&self) -> Option<OffsetDateTime> {
        self.order_time
    }

    fn state(&self) -> &KeyState {
        &self.state
    }

    fn usable(&self) -> bool {
        super::KeyRecord::usable(self)
    }
}
