//! The hybrid post-quantum age recipient type (`age1pq1…`, stanza `mlkem768x25519`).
//!
//! c2sp.org/age specifies it as HPKE base mode with the MLKEM768-X25519 KEM (X-Wing), HKDF-SHA256
//! and ChaCha20-Poly1305, `info = "age-encryption.org/mlkem768x25519"`, empty AAD. The `age`
//! crate (0.12.1) does not ship it, so it is built here and plugged in through
//! `age::Recipient` / `age::Identity`: key generation from the seed, the combiner and the HPKE
//! key schedule on RustCrypto, ML-KEM-768 encapsulation and decapsulation and X25519 on AWS-LC
//! (a third of the CPU time; docs/benchmarks.md, "Per item, in process: seal and unseal").
//! Byte-for-byte the same as the npm package `age-encryption` 0.3.1 (tests in
//! `core/tests/age_interop.rs`).
//!
//! ```text
//! identity seed   32 random bytes                      (Bech32, HRP AGE-SECRET-KEY-PQ-)
//! expanded        SHAKE256(seed, 96) = d ‖ z ‖ sk_X     ML-KEM-768 KeyGen(d, z), X25519 secret sk_X
//! recipient       ek_M (1184) ‖ pk_X (32)              (Bech32 without length limit, HRP age1pq)
//! encapsulate     ct_M, ss_M = ML-KEM.Encaps(ek_M, m);  ct_X = X25519(e, G); ss_X = X25519(e, pk_X)
//! shared secret   SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ "\.//^\")
//! enc             ct_M (1088) ‖ ct_X (32)              stanza: -> mlkem768x25519 base64(enc)
//! body            ChaCha20-Poly1305(key, base_nonce) of the 16-byte file key (32 bytes)
//! ```

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use age::{DecryptError as AgeDecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::secrecy::ExposeSecret as _;
use aws_lc_rs::agreement::{self, X25519};
use aws_lc_rs::kem::{self, ML_KEM_768};
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use hkdf::Hkdf;
#[cfg(test)]
use ml_kem::EncapsulateDeterministic as _;
use ml_kem::{EncodedSizeUser as _, KemCore, MlKem768};
use sha2::Sha256;
use sha3::digest::{ExtendableOutput as _, Update as _, XofReader as _};
use sha3::{Digest as _, Sha3_256, Shake256};
#[cfg(test)]
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

use super::{AgeKeyError, random_bytes};

/// Stanza tag (first argument) of the hybrid recipient type.
pub const STANZA_TAG: &str = "mlkem768x25519";
/// HPKE `info` of the hybrid recipient type.
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// X-Wing's combiner label, the six ASCII bytes `\.//^\`.
const XWING_LABEL: &[u8] = b"\\.//^\\";
/// HPKE KEM id of MLKEM768-X25519 (draft-ietf-hpke-pq).
const KEM_ID: u16 = 0x647a;
/// HPKE KDF id of HKDF-SHA256.
const KDF_ID: u16 = 0x0001;
/// HPKE AEAD id of ChaCha20Poly1305.
const AEAD_ID: u16 = 0x0003;

/// Bytes of an ML-KEM-768 encapsulation key.
const MLKEM_EK_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext.
const MLKEM_CT_LEN: usize = 1088;
/// Bytes of a hybrid recipient (public key): `ek_M ‖ pk_X`.
pub const RECIPIENT_LEN: usize = MLKEM_EK_LEN + 32;
/// Bytes of the encapsulated key `enc`: `ct_M ‖ ct_X`.
pub const ENC_LEN: usize = MLKEM_CT_LEN + 32;
/// Bytes of a stanza body: the file key and the Poly1305 tag.
const BODY_LEN: usize = FILE_KEY_BYTES + 16;

pub(crate) const RECIPIENT_HRP: bech32::Hrp = bech32::Hrp::parse_unchecked("age1pq");
pub(crate) const IDENTITY_HRP: bech32::Hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");

type EncapsulationKey = <MlKem768 as KemCore>::EncapsulationKey;

/// A hybrid ML-KEM-768 + X25519 recipient (`age1pq1…`).
#[derive(Clone)]
pub struct HybridRecipient {
    bytes: Box<[u8; RECIPIENT_LEN]>,
    /// AWS-LC's key, for sealing (a third of RustCrypto's CPU time).
    lc_ek: Arc<kem::EncapsulationKey>,
}

impl HybridRecipient {
    /// Parses the raw 1216-byte public key.
    ///
    /// # Errors
    /// The length is wrong, or the ML-KEM key fails FIPS 203's modulus check (a coefficient
    /// not below q would not survive re-encoding).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AgeKeyError> {
        let bytes: [u8; RECIPIENT_LEN] = bytes
            .try_into()
            .map_err(|_| AgeKeyError::invalid_recipient("wrong public key length"))?;
        let ek_bytes = ml_kem::array::Array::try_from(&bytes[..MLKEM_EK_LEN])
            .map_err(|_| AgeKeyError::invalid_recipient("wrong public key length"))?;
        let ek = EncapsulationKey::from_bytes(&ek_bytes);
        if ek.as_bytes().as_slice() != &bytes[..MLKEM_EK_LEN] {
            return Err(AgeKeyError::invalid_recipient(
                "ML-KEM public key fails the modulus check",
            ));
        }
        let lc_ek = kem::EncapsulationKey::new(&ML_KEM_768, &bytes[..MLKEM_EK_LEN])
            .map_err(|_| AgeKeyError::invalid_recipient("unusable ML-KEM public key"))?;
        Ok(Self {
            bytes: Box::new(bytes),
            lc_ek: Arc::new(lc_ek),
        })
    }

    /// The raw public key, `ek_M ‖ pk_X`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..]
    }

    fn pk_x(&self) -> [u8; 32] {
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&self.bytes[MLKEM_EK_LEN..]);
        pk
    }

    /// X-Wing encapsulation with caller-chosen randomness (`m` for ML-KEM, `e` for X25519):
    /// returns `enc` and the shared secret. Only tests pick the randomness.
    #[cfg(test)]
    pub(crate) fn encapsulate_with(
        &self,
        m: &[u8; 32],
        e: &[u8; 32],
    ) -> Option<([u8; ENC_LEN], Zeroizing<[u8; 32]>)> {
        let ek_bytes = ml_kem::array::Array::try_from(&self.bytes[..MLKEM_EK_LEN]).ok()?;
        let ek = EncapsulationKey::from_bytes(&ek_bytes);
        let (ct_m, mut ss_m) = ek.encapsulate_deterministic(&(*m).into()).ok()?;
        let pk_x = self.pk_x();
        let ct_x = x25519_dalek::x25519(*e, x25519_dalek::X25519_BASEPOINT_BYTES);
        let ss_x = Zeroizing::new(x25519_dalek::x25519(*e, pk_x));
        let shared = combine(&ss_m, &ss_x, &ct_x, &pk_x);
        ss_m.as_mut_slice().zeroize();
        if is_all_zero(&ss_x) {
            return None;
        }
        let mut enc = [0u8; ENC_LEN];
        enc[..MLKEM_CT_LEN].copy_from_slice(&ct_m);
        enc[MLKEM_CT_LEN..].copy_from_slice(&ct_x);
        Some((enc, shared))
    }

    /// X-Wing encapsulation with fresh randomness, on AWS-LC: `enc` and the shared secret, or
    /// `None` if the random source or the recipient's X25519 key (low order) fails.
    fn encapsulate(&self) -> Option<([u8; ENC_LEN], Zeroizing<[u8; 32]>)> {
        let (ct_m, ss_m) = self.lc_ek.encapsulate().ok()?;
        let pk_x = self.pk_x();
        let ephemeral = agreement::PrivateKey::generate(&X25519).ok()?;
        let ct_x: [u8; 32] = ephemeral
            .compute_public_key()
            .ok()?
            .as_ref()
            .try_into()
            .ok()?;
        let peer = agreement::UnparsedPublicKey::new(&X25519, &pk_x);
        let ss_x = agreement::agree(&ephemeral, peer, (), |ss| {
            <[u8; 32]>::try_from(ss).map(Zeroizing::new).map_err(|_| ())
        })
        .ok()?;
        let shared = combine(ss_m.as_ref(), &ss_x, &ct_x, &pk_x);
        let mut enc = [0u8; ENC_LEN];
        enc[..MLKEM_CT_LEN].copy_from_slice(ct_m.as_ref());
        enc[MLKEM_CT_LEN..].copy_from_slice(&ct_x);
        Some((enc, shared))
    }
}

impl PartialEq for HybridRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.bytes[..] == other.bytes[..]
    }
}

impl Eq for HybridRecipient {}

impl fmt::Display for HybridRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        age_core::primitives::bech32_encode_to_fmt(f, RECIPIENT_HRP, &self.bytes[..])
    }
}

impl fmt::Debug for HybridRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HybridRecipient({self})")
    }
}

impl age::Recipient for HybridRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        // An all-zero X25519 output only comes from a low-order public key, which no honest
        // key generator produces; refuse rather than encrypt to a half-broken key.
        let (enc, shared) = self.encapsulate().ok_or_else(|| {
            EncryptError::Io(std::io::Error::other(
                "the hybrid recipient has a low-order X25519 key, or the random source failed",
            ))
        })?;
        let (key, nonce) = hpke_key_schedule(&shared);
        let body = ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]))
            .encrypt(
                chacha20poly1305::Nonce::from_slice(&nonce[..]),
                Payload {
                    msg: file_key.expose_secret(),
                    aad: b"",
                },
            )
            .map_err(|_| EncryptError::Io(std::io::Error::other("ChaCha20-Poly1305 failed")))?;
        Ok((
            vec![Stanza {
                tag: STANZA_TAG.to_owned(),
                args: vec![super::base64_arg_encode(&enc)],
                body,
            }],
            // c2sp.org/age: this type SHOULD NOT share a file with non-quantum-resistant
            // recipients; the label makes `age` refuse such a mix.
            HashSet::from(["postquantum".to_owned()]),
        ))
    }
}

/// A hybrid ML-KEM-768 + X25519 identity (`AGE-SECRET-KEY-PQ-1…`). The 32-byte seed is the
/// identity; the expanded keys are cached so unwrapping does not re-run key generation.
///
/// Key generation from the seed is RustCrypto's `ml-kem` (AWS-LC cannot derive a key from a
/// seed); decapsulation is AWS-LC's, on the same FIPS 203 key bytes, at a third of the CPU time
/// (docs/benchmarks.md, "Per item, in process: seal and unseal").
#[derive(Clone)]
pub struct HybridIdentity {
    seed: Zeroizing<[u8; 32]>,
    dk: Arc<kem::DecapsulationKey>,
    sk_x: Arc<agreement::PrivateKey>,
    recipient: HybridRecipient,
}

impl HybridIdentity {
    /// Expands a 32-byte seed into the key pair.
    ///
    /// # Errors
    /// Only if the derived public key is unusable, which does not happen for ML-KEM KeyGen.
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, AgeKeyError> {
        let mut expanded = Zeroizing::new([0u8; 96]);
        let mut shake = Shake256::default();
        shake.update(seed);
        shake.finalize_xof().read(&mut expanded[..]);
        let mut d = Zeroizing::new([0u8; 32]);
        let mut z = Zeroizing::new([0u8; 32]);
        let mut sk_x = Zeroizing::new([0u8; 32]);
        d.copy_from_slice(&expanded[..32]);
        z.copy_from_slice(&expanded[32..64]);
        sk_x.copy_from_slice(&expanded[64..]);
        let (dk, ek) = MlKem768::generate_deterministic(&(*d).into(), &(*z).into());
        let mut dk_bytes = dk.as_bytes();
        let lc_dk = kem::DecapsulationKey::new(&ML_KEM_768, &dk_bytes);
        dk_bytes.as_mut_slice().zeroize();
        let lc_dk = lc_dk.map_err(|_| AgeKeyError::InvalidIdentity("unusable ML-KEM key"))?;
        let lc_x = agreement::PrivateKey::from_private_key(&X25519, &sk_x[..])
            .map_err(|_| AgeKeyError::InvalidIdentity("unusable X25519 key"))?;
        let pk_x = x25519_dalek::x25519(*sk_x, x25519_dalek::X25519_BASEPOINT_BYTES);
        let mut bytes = Vec::with_capacity(RECIPIENT_LEN);
        bytes.extend_from_slice(&ek.as_bytes());
        bytes.extend_from_slice(&pk_x);
        let recipient = HybridRecipient::from_bytes(&bytes)
            .map_err(|_| AgeKeyError::InvalidIdentity("derived public key is unusable"))?;
        Ok(Self {
            seed: Zeroizing::new(*seed),
            dk: Arc::new(lc_dk),
            sk_x: Arc::new(lc_x),
            recipient,
        })
    }

    /// A new identity from the system random source.
    ///
    /// # Errors
    /// The random source failed.
    pub fn generate() -> Result<Self, AgeKeyError> {
        let seed = Zeroizing::new(random_bytes::<32>().map_err(|_| AgeKeyError::Random)?);
        Self::from_seed(&seed)
    }

    /// The seed (the secret). Keep the borrow short.
    pub(crate) fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The matching recipient.
    pub fn recipient(&self) -> &HybridRecipient {
        &self.recipient
    }

    /// X-Wing decapsulation of `enc`: the shared secret, or `None` for a low-order X25519 share.
    pub(crate) fn decapsulate(&self, enc: &[u8; ENC_LEN]) -> Option<Zeroizing<[u8; 32]>> {
        let mut ct_x = [0u8; 32];
        ct_x.copy_from_slice(&enc[MLKEM_CT_LEN..]);
        // ML-KEM decapsulation never fails on a well-sized ciphertext (implicit rejection);
        // the shared secret is wiped on drop.
        let ss_m = self
            .dk
            .decapsulate(kem::Ciphertext::from(&enc[..MLKEM_CT_LEN]))
            .ok()?;
        // AWS-LC refuses an all-zero X25519 output (a low-order share).
        let peer = agreement::UnparsedPublicKey::new(&X25519, &ct_x);
        let ss_x = agreement::agree(&self.sk_x, peer, (), |ss| {
            <[u8; 32]>::try_from(ss).map(Zeroizing::new).map_err(|_| ())
        })
        .ok()?;
        Some(combine(ss_m.as_ref(), &ss_x, &ct_x, &self.recipient.pk_x()))
    }
}

impl fmt::Debug for HybridIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HybridIdentity([redacted])")
    }
}

impl age::Identity for HybridIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, AgeDecryptError>> {
        if stanza.tag != STANZA_TAG {
            return None;
        }
        // c2sp.org/age: exactly one more argument, canonical base64 of 1120 bytes, and a
        // 32-byte body checked before any decryption (partitioning oracles).
        let enc = match &stanza.args[..] {
            [arg] => match super::base64_arg_decode::<ENC_LEN>(arg) {
                Some(enc) => enc,
                None => return Some(Err(AgeDecryptError::InvalidHeader)),
            },
            _ => return Some(Err(AgeDecryptError::InvalidHeader)),
        };
        if stanza.body.len() != BODY_LEN {
            return Some(Err(AgeDecryptError::InvalidHeader));
        }
        let shared = match self.decapsulate(&enc) {
            Some(shared) => shared,
            None => return Some(Err(AgeDecryptError::InvalidHeader)),
        };
        let (key, nonce) = hpke_key_schedule(&shared);
        // Not ours (or tampered): let other identities try, as for X25519 stanzas.
        let mut file_key = ChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]))
            .decrypt(
                chacha20poly1305::Nonce::from_slice(&nonce[..]),
                Payload {
                    msg: &stanza.body,
                    aad: b"",
                },
            )
            .ok()?;
        let result = FileKey::try_init_with_mut(|out| {
            if file_key.len() == FILE_KEY_BYTES {
                out.copy_from_slice(&file_key);
                Ok(())
            } else {
                Err(AgeDecryptError::DecryptionFailed)
            }
        });
        file_key.zeroize();
        Some(result)
    }
}

/// X-Wing's SHA3-256 combiner.
fn combine(ss_m: &[u8], ss_x: &[u8; 32], ct_x: &[u8; 32], pk_x: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut hash = Sha3_256::new();
    sha3::Digest::update(&mut hash, ss_m);
    sha3::Digest::update(&mut hash, ss_x);
    sha3::Digest::update(&mut hash, ct_x);
    sha3::Digest::update(&mut hash, pk_x);
    sha3::Digest::update(&mut hash, XWING_LABEL);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&hash.finalize());
    out
}

#[cfg(test)]
fn is_all_zero(bytes: &[u8; 32]) -> bool {
    bytes.ct_eq(&[0u8; 32]).into()
}

fn suite_id() -> [u8; 10] {
    let mut id = [0u8; 10];
    id[..4].copy_from_slice(b"HPKE");
    id[4..6].copy_from_slice(&KEM_ID.to_be_bytes());
    id[6..8].copy_from_slice(&KDF_ID.to_be_bytes());
    id[8..].copy_from_slice(&AEAD_ID.to_be_bytes());
    id
}

/// RFC 9180 `LabeledExtract(salt, label, ikm)`.
fn labeled_extract(salt: &[u8], label: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut labeled = Zeroizing::new(Vec::with_capacity(7 + 10 + label.len() + ikm.len()));
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(&suite_id());
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(ikm);
    let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), &labeled);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&prk);
    out
}

/// RFC 9180 `LabeledExpand(prk, label, info, L)`, `L` = `out.len()`.
fn labeled_expand(prk: &[u8; 32], label: &[u8], info: &[u8], out: &mut [u8]) -> Option<()> {
    let length = u16::try_from(out.len()).ok()?;
    let mut labeled = Vec::with_capacity(2 + 7 + 10 + label.len() + info.len());
    labeled.extend_from_slice(&length.to_be_bytes());
    labeled.extend_from_slice(b"HPKE-v1");
    labeled.extend_from_slice(&suite_id());
    labeled.extend_from_slice(label);
    labeled.extend_from_slice(info);
    Hkdf::<Sha256>::from_prk(prk)
        .ok()?
        .expand(&labeled, out)
        .ok()
}

/// RFC 9180 §5.1 key schedule, base mode, empty PSK: the AEAD key and base nonce. The first
/// (and only) message uses the base nonce unchanged (sequence number 0).
fn hpke_key_schedule(shared_secret: &[u8; 32]) -> (Zeroizing<[u8; 32]>, Zeroizing<[u8; 12]>) {
    let context = key_schedule_context();
    let secret = labeled_extract(shared_secret, b"secret", b"");
    let mut key = Zeroizing::new([0u8; 32]);
    let mut nonce = Zeroizing::new([0u8; 12]);
    // Both lengths are far below HKDF-SHA256's 8160-byte limit, so expansion cannot fail.
    let _ = labeled_expand(&secret, b"key", context, &mut key[..]);
    let _ = labeled_expand(&secret, b"base_nonce", context, &mut nonce[..]);
    (key, nonce)
}

/// RFC 9180 §5.1 `key_schedule_context` of base mode with our fixed `info`: mode, then the
/// hashes of the empty PSK id and of `info`. Public constants, computed once.
fn key_schedule_context() -> &'static [u8; 65] {
    static CONTEXT: OnceLock<[u8; 65]> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let psk_id_hash = labeled_extract(b"", b"psk_id_hash", b"");
        let info_hash = labeled_extract(b"", b"info_hash", HPKE_INFO);
        let mut context = [0u8; 65];
        context[1..33].copy_from_slice(&psk_id_hash[..]);
        context[33..].copy_from_slice(&info_hash[..]);
        context
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_schedule_is_deterministic_and_domain_separated() {
        let (k1, n1) = hpke_key_schedule(&[1u8; 32]);
        let (k2, n2) = hpke_key_schedule(&[1u8; 32]);
        let (k3, _) = hpke_key_schedule(&[2u8; 32]);
        assert_eq!(*k1, *k2);
        assert_eq!(*n1, *n2);
        assert_ne!(*k1, *k3);
    }

    #[test]
    fn encapsulation_round_trips_and_rejects_low_order_shares() {
        let identity = HybridIdentity::from_seed(&[7u8; 32]).unwrap();
        let (enc, shared) = identity
            .recipient()
            .encapsulate_with(&[1u8; 32], &[2u8; 32])
            .unwrap();
        assert_eq!(*identity.decapsulate(&enc).unwrap(), *shared);
        let mut low_order = enc;
        low_order[MLKEM_CT_LEN..].fill(0);
        assert!(identity.decapsulate(&low_order).is_none());
    }

    fn unhex(value: &serde_json::Value) -> Vec<u8> {
        let text = value.as_str().unwrap();
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// X-Wing with fixed randomness against @noble/post-quantum (what age-encryption uses),
    /// from `tests/vectors/age/vectors.json`.
    #[test]
    fn matches_the_noble_x_wing_vectors() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/age/vectors.json")).unwrap();
        let cases = vectors["xwing"].as_array().unwrap();
        assert!(!cases.is_empty());
        for case in cases {
            let seed: [u8; 32] = unhex(&case["seed_hex"]).try_into().unwrap();
            let identity = HybridIdentity::from_seed(&seed).unwrap();
            assert_eq!(
                identity.recipient().as_bytes(),
                unhex(&case["public_key_hex"])
            );
            let rand = unhex(&case["rand_hex"]);
            let m: [u8; 32] = rand[..32].try_into().unwrap();
            let e: [u8; 32] = rand[32..].try_into().unwrap();
            let (enc, shared) = identity.recipient().encapsulate_with(&m, &e).unwrap();
            assert_eq!(enc.to_vec(), unhex(&case["enc_hex"]));
            assert_eq!(shared.to_vec(), unhex(&case["shared_secret_hex"]));
            assert_eq!(*identity.decapsulate(&enc).unwrap(), *shared);
        }
    }

    /// Sealing (AWS-LC, fresh randomness) and opening agree, and a low-order X25519 half of a
    /// recipient is refused rather than encrypted to.
    #[test]
    fn wrapped_file_keys_unwrap_and_low_order_recipients_are_refused() {
        use age::{Identity as _, Recipient as _};
        let identity = HybridIdentity::from_seed(&[9u8; 32]).unwrap();
        let file_key = FileKey::new(Box::new([3u8; FILE_KEY_BYTES]));
        let (stanzas, labels) = identity.recipient().wrap_file_key(&file_key).unwrap();
        assert!(labels.contains("postquantum"));
        let opened = identity.unwrap_stanza(&stanzas[0]).unwrap().unwrap();
        assert_eq!(opened.expose_secret(), file_key.expose_secret());
        let other = HybridIdentity::from_seed(&[10u8; 32]).unwrap();
        assert!(other.unwrap_stanza(&stanzas[0]).is_none());

        let mut bytes = identity.recipient().as_bytes().to_vec();
        bytes[MLKEM_EK_LEN..].fill(0);
        let low_order = HybridRecipient::from_bytes(&bytes).unwrap();
        assert!(low_order.wrap_file_key(&file_key).is_err());
    }

    #[test]
    fn modulus_check_rejects_unreduced_keys() {
        let identity = HybridIdentity::from_seed(&[7u8; 32]).unwrap();
        let mut bytes = identity.recipient().as_bytes().to_vec();
        // 0xfff as the first 12-bit coefficient is not below q = 3329.
        bytes[0] = 0xff;
        bytes[1] |= 0x0f;
        assert!(HybridRecipient::from_bytes(&bytes).is_err());
        assert!(HybridRecipient::from_bytes(&bytes[1..]).is_err());
    }
}
