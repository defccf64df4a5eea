//! Types for secret bytes: zeroized on drop, redacted in `Debug`, never `Display`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Secret bytes (a plaintext value, a session key, private key material).
///
/// The buffer is wiped when dropped. `Debug` prints only `[redacted]`; there is no `Display`,
/// so a value cannot end up in an error or log line by accident. Read it with
/// [`SecretBytes::expose_secret`] where the plaintext is really needed.
///
/// Not `Clone` and not `Default`, like `secrecy`'s `SecretBox`: every copy of the plaintext is
/// an explicit, greppable [`SecretBytes::duplicate`], and an empty value is spelt
/// [`SecretBytes::empty`]. A future derive is caught by these checks:
///
/// ```compile_fail
/// let a = sealant_core::SecretBytes::new(vec![1]);
/// let _b = a.clone();
/// ```
///
/// ```compile_fail
/// let _a = sealant_core::SecretBytes::default();
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when this value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// An empty value (what `Default` would give; spelt out so that no secret type is `Default`).
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Copies `bytes` into a new secret buffer.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// An explicit copy; each copy is wiped on drop. Prefer moving or borrowing: this is the only
    /// way to copy a secret, so `duplicate(` finds every copy of a plaintext.
    pub fn duplicate(&self) -> Self {
        Self::from_slice(&self.0)
    }

    /// The plaintext. Keep the borrow short and never log it.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (the length is not secret in this format: ciphertexts reveal it).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares two values in constant time.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.ct_eq_bytes(&other.0)
    }

    /// Compares with borrowed plaintext in constant time (the lengths are not hidden).
    pub fn ct_eq_bytes(&self, other: &[u8]) -> bool {
        self.0.ct_eq(other).into()
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut bytes: Zeroizing<Vec<u8>>) -> Self {
        // Move the buffer out without copying; the emptied `Zeroizing` has nothing left to wipe.
        Self(std::mem::take(&mut *bytes))
    }
}

impl From<SecretString> for SecretBytes {
    fn from(mut text: SecretString) -> Self {
        // A move, not a copy: the emptied `SecretString` has nothing left to wipe.
        Self(std::mem::take(&mut text.0).into_bytes())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

/// Secret text (a `stringData` value): wiped on drop, redacted in `Debug`. No `PartialEq`: an
/// `==` on secrets would compare in variable time; use [`SecretString::ct_eq`]. Not `Clone` and
/// not `Default` either (see [`SecretBytes`]):
///
/// ```compile_fail
/// let a = sealant_core::SecretString::new("x".into());
/// let _b = a.clone();
/// ```
///
/// ```compile_fail
/// let _a = sealant_core::SecretString::default();
/// ```
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretString(String);

impl SecretString {
    /// Takes ownership of `text`; it is wiped when this value is dropped.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The plaintext. Keep the borrow short and never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Constant-time equality (the lengths are not hidden).
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut text = Zeroizing::<String>::deserialize(deserializer)?;
        Ok(Self(std::mem::take(&mut *text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let value = SecretBytes::from_slice(b"hunter2");
        assert_eq!(format!("{value:?}"), "SecretBytes([redacted])");
        let text = SecretString::new("hunter2".into());
        assert!(!format!("{text:?}").contains("hunter2"));
    }

    #[test]
    fn constant_time_equality_compares_content() {
        let a = SecretBytes::from_slice(b"abc");
        assert!(a.ct_eq(&SecretBytes::from_slice(b"abc")));
        assert!(!a.ct_eq(&SecretBytes::from_slice(b"abd")));
        assert!(!a.ct_eq(&SecretBytes::from_slice(b"ab")));
        assert!(a.ct_eq_bytes(b"abc"));
        assert!(!a.ct_eq_bytes(b"abd"));
    }

    #[test]
    fn copies_and_moves_keep_the_content() {
        let a = SecretBytes::from_slice(b"abc");
        let b = a.duplicate();
        drop(a);
        assert_eq!(b.expose_secret(), b"abc");
        assert!(SecretBytes::empty().is_empty());
        let moved = SecretBytes::from(SecretString::new("text".into()));
        assert_eq!(moved.expose_secret(), b"text");
    }

    #[test]
    fn serde_is_base64_and_errors_do_not_echo_input() {
        let value: SecretBytes = serde_json::from_str("\"aHVudGVyMg==\"").unwrap();
        assert_eq!(value.expose_secret(), b"hunter2");
        assert_eq!(serde_json::to_string(&value).unwrap(), "\"aHVudGVyMg==\"");
        let err = serde_json::from_str::<SecretBytes>("\"plain!text\"").unwrap_err();
        assert!(!err.to_string().contains("plain"), "{err}");
    }
}
