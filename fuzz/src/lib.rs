//! Shared fixtures for the fuzz targets: the fixed test keys, parsed once per process.

use std::sync::LazyLock;

use sealant_core::{KeyRing, PrivateKey};

/// PEM of the fixed RSA-2048 key (PKCS#1) that the item and SealedSecret seeds are sealed to.
pub const FIXED_KEY_PEM: &[u8] = include_bytes!("../../core/tests/vectors/keys/rsa2048.key");

/// PEM of `multi-2`, the key `sealedsecret-second-of-three.yaml` is sealed to. It is added to the
/// ring (after the fixed key) so that seed opens and the key-hint / try-every-key loop of
/// `KeyRing::open` runs with more than one key.
pub const SECOND_KEY_PEM: &[u8] = include_bytes!("../../core/tests/vectors/keys/multi-2.key");

/// The fixed RSA-2048 key.
pub static FIXED_KEY: LazyLock<PrivateKey> =
    LazyLock::new(|| PrivateKey::from_pem(FIXED_KEY_PEM).expect("the fixed test key parses"));

/// A ring holding the fixed key, then `multi-2`.
pub static KEY_RING: LazyLock<KeyRing> = LazyLock::new(|| {
    let second = PrivateKey::from_pem(SECOND_KEY_PEM).expect("the multi-2 test key parses");
    [FIXED_KEY.clone(), second].into_iter().collect()
});

/// Splits a fuzz input into an OAEP label and the rest: the first byte is the label length
/// (capped by what is left), the label follows, the rest is the payload.
pub fn split_label(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((&len, rest)) => rest.split_at(usize::from(len).min(rest.len())),
    }
}
