//! Base64 exactly as upstream reads and writes it (Go's `base64.StdEncoding`).
//!
//! Go's decoder skips `\r` and `\n` anywhere in the input, insists on `=` padding and tolerates
//! non-zero bits in the last quantum; existing SealedSecrets in the wild rely on all three.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::SecretBytes;

const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Invalid base64. Carries only a position, never the offending input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {position}")]
pub struct Base64Error {
    /// Byte offset in the input (line breaks included) where decoding failed.
    pub position: usize,
}

/// Encodes with the standard alphabet and `=` padding.
pub fn encode(bytes: &[u8]) -> String {
    GO_STD.encode(bytes)
}

/// Decodes like Go's `StdEncoding.DecodeString`.
///
/// # Errors
/// [`Base64Error`] with the position of the first bad character, or of the end for bad padding.
pub fn decode(text: &str) -> Result<SecretBytes, Base64Error> {
    // Most inputs have no line breaks: they are decoded in place, without a copy (the copy
    // grew by doubling from a few bytes: several allocations per item).
    let stripped: Zeroizing<Vec<u8>>;
    let input = if text.bytes().any(|b| b == b'\r' || b == b'\n') {
        let mut kept = Zeroizing::new(Vec::with_capacity(text.len()));
        kept.extend(text.bytes().filter(|&b| b != b'\r' && b != b'\n'));
        stripped = kept;
        &stripped[..]
    } else {
        text.as_bytes()
    };
    let mut out = Zeroizing::new(Vec::with_capacity(input.len() / 4 * 3 + 3));
    match GO_STD.decode_vec(input, &mut out) {
        Ok(()) => Ok(SecretBytes::from(out)),
        Err(err) => Err(Base64Error {
            position: original_position(text, stripped_offset(&err, input.len())),
        }),
    }
}

fn stripped_offset(err: &base64::DecodeError, stripped_len: usize) -> usize {
    match *err {
        base64::DecodeError::InvalidByte(offset, _) => offset,
        base64::DecodeError::InvalidLastSymbol { offset, .. } => offset,
        // Go reports an incomplete or badly padded final group at the group's first byte.
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => {
            stripped_len / 4 * 4
        }
    }
}

/// Maps an offset in the line-break-free text back to the caller's text.
fn original_position(text: &str, stripped: usize) -> usize {
    let mut seen = 0;
    for (index, byte) in text.bytes().enumerate() {
        if byte == b'\r' || byte == b'\n' {
            continue;
        }
        if seen == stripped {
            return index;
        }
        seen += 1;
    }
    text.len()
}

// The serde form of secret bytes lives here, not in `secret`, so that `secret` stays the
// lowest layer (no import circle).
/// Serialized as standard padded base64, like a Kubernetes `[]byte` field.
impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_secret(self.expose_secret(), serializer)
    }
}

/// Serializes borrowed secret bytes as [`SecretBytes`] does (the encoded text is wiped too).
pub(crate) fn serialize_secret<S: Serializer>(
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let encoded = Zeroizing::new(encode(bytes));
    serializer.serialize_str(&encoded)
}

/// Deserialized from base64 with Go's lenient rules; the error never echoes the input.
impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let encoded = Zeroizing::<String>::deserialize(deserializer)?;
        decode(&encoded).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            assert_eq!(decode(&encode(&data)).unwrap().expose_secret(), &data[..]);
        }
    }

    #[test]
    fn line_breaks_are_ignored() {
        assert_eq!(
            decode("aHVu\r\ndGVy\nMg==").unwrap().expose_secret(),
            b"hunter2"
        );
    }

    #[test]
    fn trailing_bits_are_tolerated() {
        // "YQ==" is canonical for "a"; "YR==" sets an unused bit, which Go accepts.
        assert_eq!(decode("YR==").unwrap().expose_secret(), b"a");
    }

    #[test]
    fn padding_is_required() {
        assert!(decode("YQ").is_err());
        assert!(decode("aHVudGVyMg").is_err());
    }

    #[test]
    fn error_names_the_position_not_the_data() {
        let err = decode("NOTVALIDBASE64").unwrap_err();
        assert_eq!(err.to_string(), "illegal base64 data at input byte 12");
        // Go's positions for unpadded input: the start of the incomplete group.
        assert_eq!(decode("aGVsbG8").unwrap_err().position, 4);
        assert_eq!(decode("YQ").unwrap_err().position, 0);
        let err = decode("ab\ncd!f").unwrap_err();
        assert_eq!(err.position, 5);
    }
}
