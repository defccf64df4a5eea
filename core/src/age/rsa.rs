//! age's `ssh-rsa` recipient stanza over sealant's RSA keys, so one age item can also serve
//! clusters that hold only upstream-style RSA keys.
//!
//! ```text
//! -> ssh-rsa base64(SHA-256(ssh-rsa wire public key)[:4])
//! base64(RSA-OAEP(SHA-256, MGF1-SHA-256, label "age-encryption.org/v1/ssh-rsa") of the file key)
//! ```
//! This is the stanza the reference `age` writes for an `ssh-rsa` recipient, so `age -d -i
//! tls.key` opens such an item too. The tag is the first four bytes of the digest behind
//! [`Fingerprint`]. The `age` crate's own implementation needs its `ssh` feature and the `rsa`
//! crate (not constant-time); this one runs the private-key operation in AWS-LC.

use std::collections::HashSet;

use age::{DecryptError as AgeDecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::secrecy::ExposeSecret as _;
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey};
use zeroize::Zeroizing;

use crate::keys::{PrivateKey, PublicKey};

/// Stanza tag of age's RSA recipient type.
pub(crate) const STANZA_TAG: &str = "ssh-rsa";
const OAEP_LABEL: &[u8] = b"age-encryption.org/v1/ssh-rsa";

fn tag_of(key: &PublicKey) -> Option<[u8; 4]> {
    let digest = key.fingerprint().sha256()?;
    let mut tag = [0u8; 4];
    tag.copy_from_slice(&digest[..4]);
    Some(tag)
}

/// An RSA public key as an age recipient.
pub(crate) struct RsaRecipient<'a>(pub(crate) &'a PublicKey);

impl age::Recipient for RsaRecipient<'_> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let fail = |what: &str| EncryptError::Io(std::io::Error::other(what.to_owned()));
        let tag = tag_of(self.0).ok_or_else(|| fail("RSA fingerprint is malformed"))?;
        let oaep = OaepPublicEncryptingKey::new(self.0.encrypting_key().clone())
            .map_err(|_| fail("unusable RSA public key"))?;
        let mut body = vec![0u8; oaep.ciphertext_size()];
        let written = oaep
            .encrypt(
                &OAEP_SHA256_MGF1SHA256,
                file_key.expose_secret(),
                &mut body,
                Some(OAEP_LABEL),
            )
            .map_err(|_| fail("RSA-OAEP encryption failed"))?
            .len();
        body.truncate(written);
        Ok((
            vec![Stanza {
                tag: STANZA_TAG.to_owned(),
                args: vec![super::base64_arg_encode(&tag)],
                body,
            }],
            HashSet::new(),
        ))
    }
}

/// An RSA private key as an age identity.
pub(crate) struct RsaIdentity<'a>(pub(crate) &'a PrivateKey);

impl age::Identity for RsaIdentity<'_> {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, AgeDecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        let tag = match &stanza.args[..] {
            [arg] => match super::base64_arg_decode::<4>(arg) {
                Some(tag) => tag,
                None => return Some(Err(AgeDecryptError::InvalidHeader)),
            },
            _ => return Some(Err(AgeDecryptError::InvalidHeader)),
        };
        let public = self.0.public_key();
        if Some(tag) != tag_of(public) || stanza.body.len() != public.modulus_len() {
            return None;
        }
        let oaep = OaepPrivateDecryptingKey::new(self.0.decrypting_key().clone()).ok()?;
        let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
        // Four-byte tags collide now and then: a failure leaves the stanza to other keys.
        let len = oaep
            .decrypt(
                &OAEP_SHA256_MGF1SHA256,
                &stanza.body,
                &mut out,
                Some(OAEP_LABEL),
            )
            .ok()?
            .len();
        if len != FILE_KEY_BYTES {
            return None;
        }
        Some(Ok(FileKey::init_with_mut(|key| {
            key.copy_from_slice(&out[..FILE_KEY_BYTES]);
        })))
    }
}
