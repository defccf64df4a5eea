//! The two crypto errors every item format shares: one opaque "cannot decrypt" and a sealing
//! failure that carries no plaintext. Below `item` and `age`, which both return them.

/// The one error for every way an item can fail to open: wrong key, wrong scope, tampering,
/// truncation, no keys at all. Telling them apart would give an attacker an oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no key could decrypt secret")]
pub struct DecryptError;

/// Sealing failed: the random source or the RSA operation failed. Carries no plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encrypt: {0}")]
pub struct SealError(&'static str);

impl SealError {
    pub(crate) fn new(reason: &'static str) -> Self {
        Self(reason)
    }
}
