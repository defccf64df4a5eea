//! The classic X25519 identity (`AGE-SECRET-KEY-1…`), unwrapping `X25519` stanzas on AWS-LC.
//!
//! The stanza is c2sp.org/age's, byte for byte what the `age` crate reads (docs/format.md); only
//! the arithmetic moves: AWS-LC's X25519 takes half the CPU time of x25519-dalek's, and the
//! identity's public key (HKDF salt) is computed once here, where `age::x25519::Identity`
//! recomputes it, a second scalar multiplication, for every stanza (docs/benchmarks.md, "Per
//! item, in process: seal and unseal").
//!
//! ```text
//! stanza          -> X25519 base64(epk)             epk: the sender's ephemeral share
//! shared          X25519(sk, epk)                    all zero (low-order epk): invalid header
//! wrap key        HKDF-SHA256(salt = epk ‖ pk, info = "age-encryption.org/v1/X25519", shared)
//! body            ChaCha20-Poly1305(wrap key, zero nonce) of the 16-byte file key (32 bytes)
//! ```

use std::collections::HashSet;
use std::sync::Arc;

use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret as _;
use aws_lc_rs::agreement::{self, X25519};
use zeroize::{Zeroize as _, Zeroizing};

use super::AgeKeyError;

/// Stanza tag of the X25519 recipient type.
const STANZA_TAG: &str = "X25519";
/// HKDF `info` of the X25519 recipient type.
const KEY_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
/// Bytes of a stanza body: the file key and the Poly1305 tag.
const BODY_LEN: usize = FILE_KEY_BYTES + 16;

/// An X25519 identity: `age`'s type for its text form and recipient, the AWS-LC key and the
/// public key for unwrapping.
#[derive(Clone)]
pub(super) struct X25519Identity {
    age: age::x25519::Identity,
    key: Arc<agreement::PrivateKey>,
    public: [u8; 32],
}

/// The 32 secret bytes of a Bech32 identity (`AGE-SECRET-KEY-…`, either kind), zeroized on
/// drop. The error never contains the input.
pub(super) fn decode_secret32(
    text: &str,
    wrong_length: &'static str,
) -> Result<Zeroizing<[u8; 32]>, AgeKeyError> {
    age_core::primitives::bech32_decode(
        text,
        |_| AgeKeyError::InvalidIdentity("invalid Bech32 encoding"),
        |_| Ok(()),
        |_, bytes| {
            let bytes = Zeroizing::new(bytes.collect::<Vec<u8>>());
            <[u8; 32]>::try_from(&bytes[..])
                .map(Zeroizing::new)
                .map_err(|_| AgeKeyError::InvalidIdentity(wrong_length))
        },
    )
}

impl X25519Identity {
    /// The identity of a 32-byte secret scalar.
    pub(super) fn from_secret(secret: &[u8; 32]) -> Result<Self, AgeKeyError> {
        let lower = Zeroizing::new(age_core::primitives::bech32_encode(
            bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-"),
            secret,
        ));
        let text = Zeroizing::new(lower.to_ascii_uppercase());
        let age = text
            .parse::<age::x25519::Identity>()
            .map_err(AgeKeyError::InvalidIdentity)?;
        let key = agreement::PrivateKey::from_private_key(&X25519, secret)
            .map_err(|_| AgeKeyError::InvalidIdentity("unusable X25519 key"))?;
        let public = key
            .compute_public_key()
            .map_err(|_| AgeKeyError::InvalidIdentity("unusable X25519 key"))?;
        let public: [u8; 32] = public
            .as_ref()
            .try_into()
            .map_err(|_| AgeKeyError::InvalidIdentity("unusable X25519 key"))?;
        Ok(Self {
            age,
            key: Arc::new(key),
            public,
        })
    }

    /// Parses `AGE-SECRET-KEY-1…` (either case) with `age`'s own parser. The error never
    /// contains the input.
    pub(super) fn parse(text: &str) -> Result<Self, AgeKeyError> {
        let age = text
            .parse::<age::x25519::Identity>()
            .map_err(AgeKeyError::InvalidIdentity)?;
        // `age` keeps the scalar to itself: read it back from its canonical text form.
        let canonical = age.to_string();
        let secret = decode_secret32(canonical.expose_secret(), "incorrect identity length")?;
        Self::from_secret(&secret)
    }

    /// `age`'s identity: the text form and the recipient.
    pub(super) fn as_age(&self) -> &age::x25519::Identity {
        &self.age
    }
}

impl age::Identity for X25519Identity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        // c2sp.org/age: exactly one argument, canonical base64 of 32 bytes, and a 32-byte body.
        let epk = match &stanza.args[..] {
            [arg] => match super::base64_arg_decode::<32>(arg) {
                Some(epk) => epk,
                None => return Some(Err(age::DecryptError::InvalidHeader)),
            },
            _ => return Some(Err(age::DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != BODY_LEN {
            return Some(Err(age::DecryptError::InvalidHeader));
        }
        // AWS-LC refuses an all-zero shared secret (a low-order share), as age does.
        let peer = agreement::UnparsedPublicKey::new(&X25519, &epk);
        let shared = match agreement::agree(&self.key, peer, (), |shared| {
            <[u8; 32]>::try_from(shared)
                .map(Zeroizing::new)
                .map_err(|_| ())
        }) {
            Ok(shared) => shared,
            Err(()) => return Some(Err(age::DecryptError::InvalidHeader)),
        };
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&epk);
        salt[32..].copy_from_slice(&self.public);
        let wrap_key = Zeroizing::new(hkdf(&salt, KEY_LABEL, &shared[..]));
        // Not ours: another identity may match the stanza (age cannot tell which one does).
        let mut file_key = aead_decrypt(&wrap_key, FILE_KEY_BYTES, &stanza.body).ok()?;
        let result = FileKey::try_init_with_mut(|out| {
            if file_key.len() == FILE_KEY_BYTES {
                out.copy_from_slice(&file_key);
                Ok(())
            } else {
                Err(age::DecryptError::DecryptionFailed)
            }
        });
        file_key.zeroize();
        Some(result)
    }
}

/// An X25519 recipient (`age1…`) for sealing: the ephemeral key and the Diffie-Hellman on
/// AWS-LC, the stanza as `age::x25519::Recipient` writes it.
pub(super) struct X25519Recipient {
    public: [u8; 32],
}

impl X25519Recipient {
    /// The raw public key of `age`'s recipient (read back from its Bech32 form).
    pub(super) fn of(recipient: &age::x25519::Recipient) -> Option<Self> {
        let text = recipient.to_string();
        age_core::primitives::bech32_decode(
            &text,
            |_| (),
            |_| Ok(()),
            |_, bytes| <[u8; 32]>::try_from(bytes.collect::<Vec<u8>>()).map_err(|_| ()),
        )
        .ok()
        .map(|public| Self { public })
    }
}

impl age::Recipient for X25519Recipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let failed = |what: &str| age::EncryptError::Io(std::io::Error::other(what.to_owned()));
        let ephemeral = agreement::PrivateKey::generate(&X25519)
            .map_err(|_| failed("the system random source failed"))?;
        let epk: [u8; 32] = ephemeral
            .compute_public_key()
            .ok()
            .and_then(|epk| epk.as_ref().try_into().ok())
            .ok_or_else(|| failed("X25519 failed"))?;
        // An all-zero output means a low-order recipient key: refuse to encrypt to it.
        let peer = agreement::UnparsedPublicKey::new(&X25519, &self.public);
        let shared = agreement::agree(&ephemeral, peer, (), |shared| {
            <[u8; 32]>::try_from(shared)
                .map(Zeroizing::new)
                .map_err(|_| ())
        })
        .map_err(|()| failed("the X25519 recipient is a low-order point"))?;
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&epk);
        salt[32..].copy_from_slice(&self.public);
        let wrap_key = Zeroizing::new(hkdf(&salt, KEY_LABEL, &shared[..]));
        let body = aead_encrypt(&wrap_key, file_key.expose_secret());
        Ok((
            vec![Stanza {
                tag: STANZA_TAG.to_owned(),
                args: vec![super::base64_arg_encode(&epk)],
                body,
            }],
            HashSet::new(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use age::{Identity as _, Recipient as _};

    use super::*;

    fn copy(stanza: &Stanza) -> Stanza {
        Stanza {
            tag: stanza.tag.clone(),
            args: stanza.args.clone(),
            body: stanza.body.clone(),
        }
    }

    /// The same stanzas as `age`'s own identity: opens what it opens, refuses what it refuses.
    #[test]
    fn unwraps_exactly_like_the_age_crate() {
        let ours = X25519Identity::from_secret(&[0x5a; 32]).unwrap();
        let theirs = ours.as_age().clone();
        let file_key = FileKey::new(Box::new([7u8; FILE_KEY_BYTES]));
        let (stanzas, _) = theirs.to_public().wrap_file_key(&file_key).unwrap();
        let opened = ours.unwrap_stanza(&stanzas[0]).unwrap().unwrap();
        assert_eq!(opened.expose_secret(), file_key.expose_secret());

        let other = X25519Identity::from_secret(&[0x33; 32]).unwrap();
        assert!(other.unwrap_stanza(&stanzas[0]).is_none());
        assert!(other.as_age().unwrap_stanza(&stanzas[0]).is_none());

        let mut low_order = copy(&stanzas[0]);
        low_order.args = vec![super::super::base64_arg_encode(&[0u8; 32])];
        assert!(matches!(
            ours.unwrap_stanza(&low_order),
            Some(Err(age::DecryptError::InvalidHeader))
        ));
        assert!(matches!(
            theirs.unwrap_stanza(&low_order),
            Some(Err(age::DecryptError::InvalidHeader))
        ));

        let mut short_body = copy(&stanzas[0]);
        short_body.body.pop();
        assert!(matches!(
            ours.unwrap_stanza(&short_body),
            Some(Err(age::DecryptError::InvalidHeader))
        ));
        let mut padded = copy(&stanzas[0]);
        padded.args[0].push('=');
        assert!(matches!(
            ours.unwrap_stanza(&padded),
            Some(Err(age::DecryptError::InvalidHeader))
        ));
        let mut other_tag = copy(&stanzas[0]);
        other_tag.tag = "scrypt".into();
        assert!(ours.unwrap_stanza(&other_tag).is_none());
    }

    #[test]
    fn age_s_identity_unwraps_what_our_recipient_wraps() {
        let theirs = X25519Identity::from_secret(&[0x5a; 32])
            .unwrap()
            .as_age()
            .clone();
        let ours = X25519Recipient::of(&theirs.to_public()).unwrap();
        let file_key = FileKey::new(Box::new([9u8; FILE_KEY_BYTES]));
        let (stanzas, labels) = ours.wrap_file_key(&file_key).unwrap();
        assert!(labels.is_empty());
        let opened = theirs.unwrap_stanza(&stanzas[0]).unwrap().unwrap();
        assert_eq!(opened.expose_secret(), file_key.expose_secret());
        let low_order = X25519Recipient { public: [0u8; 32] };
        assert!(low_order.wrap_file_key(&file_key).is_err());
    }

    #[test]
    fn the_public_key_is_age_s() {
        let ours = X25519Identity::from_secret(&[0x42; 32]).unwrap();
        assert_eq!(
            ours.as_age().to_public().to_string(),
            age_core::primitives::bech32_encode(bech32::Hrp::parse_unchecked("age"), &ours.public)
        );
        let text = ours.as_age().to_string();
        let parsed = X25519Identity::parse(text.expose_secret()).unwrap();
        assert_eq!(parsed.public, ours.public);
        let lower = X25519Identity::parse(&text.expose_secret().to_ascii_lowercase()).unwrap();
        assert_eq!(lower.public, ours.public);
        assert!(X25519Identity::parse("AGE-SECRET-KEY-PQ-1QQQQ").is_err());
    }
}
