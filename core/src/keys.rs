//! RSA keys and certificates: parsing (PEM, PKCS#1, PKCS#8, X.509), fingerprints, generation.
//!
//! Private-key operations run in AWS-LC (through `aws-lc-rs`), whose RSA decryption is
//! constant-time with blinding; see `core/README.md` for why not the `rsa` crate.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey, PublicEncryptingKey};
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode};
use pkcs8::{AlgorithmIdentifierRef, ObjectIdentifier, PrivateKeyInfoRef};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// `rsaEncryption` (PKCS#1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Smallest and largest RSA modulus sealant accepts (what AWS-LC accepts for OAEP).
pub const MIN_KEY_BITS: usize = 2048;
/// Largest RSA modulus sealant accepts.
pub const MAX_KEY_BITS: usize = 8192;

/// Problems with key or certificate material. Never carries key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text holds no PEM block of the expected kind.
    #[error("no {expected} PEM block found")]
    NoPemBlock {
        /// What was looked for, e.g. `CERTIFICATE`.
        expected: &'static str,
    },
    /// A PEM block whose base64 or framing is broken.
    #[error("malformed PEM block: {0}")]
    Pem(String),
    /// A certificate that is not valid DER X.509.
    #[error("malformed certificate: {0}")]
    Certificate(String),
    /// A certificate or public key for an algorithm other than RSA.
    #[error("expected RSA public key but found {0}")]
    NotRsaPublicKey(String),
    /// A private key for an algorithm other than RSA, or of a PEM type we cannot use.
    #[error("unexpected private key type {0}: only RSA private keys can unseal")]
    NotRsaPrivateKey(String),
    /// RSA key material that does not parse or is inconsistent.
    #[error("malformed RSA private key")]
    MalformedPrivateKey,
    /// An RSA key outside the supported sizes.
    #[error("unsupported RSA key size: {bits} bits (supported: {MIN_KEY_BITS} to {MAX_KEY_BITS})")]
    UnsupportedKeySize {
        /// The key's modulus size.
        bits: usize,
    },
    /// The certificate's validity ended.
    #[error("failed to encrypt using an expired certificate on {date}")]
    Expired {
        /// Upstream's date format, e.g. `June 18, 2027`.
        date: String,
    },
    /// The random source or AWS-LC failed while generating a key.
    #[error("key generation failed: {0}")]
    Generation(String),
    /// A key Secret whose certificate is for another key.
    #[error("the certificate does not belong to the private key")]
    CertificateMismatch,
}

/// OpenSSH-style SHA-256 fingerprint of an RSA public key (`SHA256:` + unpadded base64), the
/// identity upstream indexes keys by.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    fn of_rsa(modulus: &[u8], exponent: &[u8]) -> Self {
        use base64::Engine as _;
        let mut wire = Vec::with_capacity(modulus.len() + 32);
        ssh_string(&mut wire, b"ssh-rsa");
        ssh_mpint(&mut wire, exponent);
        ssh_mpint(&mut wire, modulus);
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &wire);
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest.as_ref());
        Fingerprint(format!("SHA256:{b64}"))
    }

    /// Parses the `SHA256:…` text form.
    pub fn parse(text: &str) -> Option<Self> {
        let b64 = text.strip_prefix("SHA256:")?;
        (b64.len() == Self::BODY_LEN && Self::is_body_text(b64))
            .then(|| Fingerprint(text.to_owned()))
    }

    /// Characters after `SHA256:` (unpadded base64 of 32 bytes).
    pub const BODY_LEN: usize = 43;

    /// The part after `SHA256:` (or `sha256:`) of a fingerprint or of a prefix of one, if the
    /// text could be one: base64 characters, at most [`Self::BODY_LEN`] of them.
    pub fn prefix_body(text: &str) -> Option<&str> {
        let body = text
            .strip_prefix("SHA256:")
            .or_else(|| text.strip_prefix("sha256:"))
            .unwrap_or(text);
        (body.len() <= Self::BODY_LEN && Self::is_body_text(body)).then_some(body)
    }

    fn is_body_text(body: &str) -> bool {
        body.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    }

    /// The text form, `SHA256:…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fingerprint of other key material (age identities) whose SHA-256 is `digest`.
    pub(crate) fn from_sha256(digest: &[u8]) -> Self {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest);
        Fingerprint(format!("SHA256:{b64}"))
    }

    /// The SHA-256 digest this fingerprint spells (age's `ssh-rsa` stanza tag is its first
    /// four bytes).
    pub(crate) fn sha256(&self) -> Option<[u8; 32]> {
        use base64::Engine as _;
        let b64 = self.0.strip_prefix("SHA256:")?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .ok()?;
        bytes.try_into().ok()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

fn ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // SSH strings carry a u32 length; key parts are far below 4 GiB.
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn ssh_mpint(out: &mut Vec<u8>, unsigned_be: &[u8]) {
    let trimmed = match unsigned_be.iter().position(|&b| b != 0) {
        Some(first) => &unsigned_be[first..],
        None => &[],
    };
    if trimmed.first().is_some_and(|&b| b & 0x80 != 0) {
        out.extend_from_slice(&(trimmed.len() as u32 + 1).to_be_bytes());
        out.push(0);
        out.extend_from_slice(trimmed);
    } else {
        ssh_string(out, trimmed);
    }
}

/// An RSA public key that items are sealed to.
#[derive(Clone)]
pub struct PublicKey {
    key: PublicEncryptingKey,
    spki_der: Vec<u8>,
    fingerprint: Fingerprint,
    bits: usize,
}

impl PublicKey {
    /// Reads an X.509 `SubjectPublicKeyInfo` (DER).
    ///
    /// # Errors
    /// [`KeyError::NotRsaPublicKey`] for other algorithms, [`KeyError::UnsupportedKeySize`]
    /// outside 2048–8192 bits.
    pub fn from_spki_der(spki_der: &[u8]) -> Result<Self, KeyError> {
        let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyError::NotRsaPublicKey(algorithm_name(
                spki.algorithm.oid,
            )));
        }
        let rsa = pkcs1::RsaPublicKeyRef::from_der(spki.subject_public_key.raw_bytes())
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let modulus = rsa.modulus.as_bytes();
        let bits = modulus_bits(modulus);
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let fingerprint = Fingerprint::of_rsa(modulus, rsa.public_exponent.as_bytes());
        let key = PublicEncryptingKey::from_der(spki_der)
            .map_err(|_| KeyError::UnsupportedKeySize { bits })?;
        Ok(Self {
            key,
            spki_der: spki_der.to_vec(),
            fingerprint,
            bits,
        })
    }

    /// The OpenSSH-style fingerprint.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Modulus size in bytes: the length of every RSA ciphertext for this key.
    pub fn modulus_len(&self) -> usize {
        self.key.key_size_bytes()
    }

    /// The `SubjectPublicKeyInfo` DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    pub(crate) fn encrypting_key(&self) -> &PublicEncryptingKey {
        &self.key
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("fingerprint", &self.fingerprint)
            .field("bits", &self.bits)
            .finish()
    }
}

fn modulus_bits(modulus: &[u8]) -> usize {
    match modulus.iter().position(|&b| b != 0) {
        Some(first) => (modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize,
        None => 0,
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "ECDSA".to_owned(),
        "1.3.101.112" => "Ed25519".to_owned(),
        "1.3.101.110" => "X25519".to_owned(),
        "1.2.840.10040.4.1" => "DSA".to_owned(),
        other => format!("algorithm {other}"),
    }
}

/// An X.509 certificate carrying an RSA public key (the controller's `cert.pem`).
#[derive(Clone)]
pub struct Certificate {
    pem: String,
    public_key: PublicKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial_hex: String,
}

impl Certificate {
    /// Reads the first `CERTIFICATE` block of a PEM text, as upstream does.
    ///
    /// # Errors
    /// No or malformed PEM, malformed X.509, or a public key that is not usable RSA.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = first_pem_block(pem, |label| label == "CERTIFICATE").ok_or(
            KeyError::NoPemBlock {
                expected: "CERTIFICATE",
            },
        )??;
        debug_assert_eq!(label, "CERTIFICATE");
        Self::from_der(&der)
    }

    /// Reads a DER certificate.
    ///
    /// # Errors
    /// Malformed X.509, or a public key that is not usable RSA.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki_der = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let public_key = PublicKey::from_spki_der(&spki_der)?;
        let validity = tbs.validity();
        let to_time = |t: x509_cert::time::Time| {
            OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64)
                .map_err(|e| KeyError::Certificate(e.to_string()))
        };
        let not_before = to_time(validity.not_before)?;
        let not_after = to_time(validity.not_after)?;
        let serial_hex = tbs
            .serial_number()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let pem = pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der)
            .map_err(|e| KeyError::Pem(e.to_string()))?;
        Ok(Self {
            pem,
            public_key,
            not_before,
            not_after,
            serial_hex,
        })
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The certificate as PEM (re-encoded from DER, LF line endings).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Serial number, lowercase hex.
    pub fn serial_hex(&self) -> &str {
        &self.serial_hex
    }

    /// Refuses an expired certificate, with upstream's message. Sealing to an expired
    /// certificate is refused because its key is likely retired.
    ///
    /// # Errors
    /// [`KeyError::Expired`] when `now` is past `not_after`.
    pub fn check_not_expired(&self, now: OffsetDateTime) -> Result<(), KeyError> {
        if now > self.not_after {
            return Err(KeyError::Expired {
                date: format_go_date(self.not_after),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("public_key", &self.public_key)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("serial", &self.serial_hex)
            .finish()
    }
}

/// Go's `January 2, 2006` layout.
pub fn format_go_date(t: OffsetDateTime) -> String {
    format!("{} {}, {}", t.month(), t.day(), t.year())
}

/// An RSA private key that can open items. Its memory is wiped by AWS-LC on drop.
#[derive(Clone)]
pub struct PrivateKey {
    key: PrivateDecryptingKey,
    public: PublicKey,
}

impl PrivateKey {
    /// Reads the first private key in a PEM text: `RSA PRIVATE KEY` (PKCS#1) or
    /// `PRIVATE KEY` (PKCS#8).
    ///
    /// # Errors
    /// No key block, a non-RSA key, malformed key material, or an unsupported size.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let (label, der) = first_pem_block(pem, |label| label.ends_with("PRIVATE KEY")).ok_or(
            KeyError::NoPemBlock {
                expected: "PRIVATE KEY",
            },
        )??;
        let der = Zeroizing::new(der);
        match label.as_str() {
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            other => Err(KeyError::NotRsaPrivateKey(other.to_owned())),
        }
    }

    /// Reads a PKCS#1 `RSAPrivateKey` (DER).
    ///
    /// # Errors
    /// Malformed key material or an unsupported size.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let algorithm = AlgorithmIdentifierRef {
            oid: RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        };
        let private_key = OctetStringRef::new(der).map_err(|_| KeyError::MalformedPrivateKey)?;
        let info = PrivateKeyInfoRef {
            algorithm,
            private_key,
            public_key: None,
        };
        let pkcs8 = Zeroizing::new(info.to_der().map_err(|_| KeyError::MalformedPrivateKey)?);
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (DER) holding an RSA key.
    ///
    /// # Errors
    /// A non-RSA key, malformed key material or an unsupported size.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::MalformedPrivateKey)?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyError::NotRsaPrivateKey(algorithm_name(
                info.algorithm.oid,
            )));
        }
        let key =
            PrivateDecryptingKey::from_pkcs8(der).map_err(|_| KeyError::MalformedPrivateKey)?;
        Self::from_aws_lc(key)
    }

    fn from_aws_lc(key: PrivateDecryptingKey) -> Result<Self, KeyError> {
        let bits = key.key_size_bits();
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        let spki = key
            .public_key()
            .as_der()
            .map_err(|_| KeyError::MalformedPrivateKey)?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        Ok(Self { key, public })
    }

    /// Generates a new key of `bits` (2048, 3072, 4096 or 8192).
    ///
    /// # Errors
    /// [`KeyError::UnsupportedKeySize`] for other sizes, [`KeyError::Generation`] if AWS-LC fails.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            bits => return Err(KeyError::UnsupportedKeySize { bits }),
        };
        let key = PrivateDecryptingKey::generate(size)
            .map_err(|e| KeyError::Generation(e.to_string()))?;
        Self::from_aws_lc(key)
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The fingerprint of the matching public key.
    pub fn fingerprint(&self) -> &Fingerprint {
        self.public.fingerprint()
    }

    /// PKCS#8 DER of the key.
    ///
    /// # Errors
    /// Only if AWS-LC fails to serialize.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let der = self
            .key
            .as_der()
            .map_err(|_| KeyError::MalformedPrivateKey)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// PEM `RSA PRIVATE KEY` (PKCS#1), the form upstream writes into key Secrets.
    ///
    /// # Errors
    /// Only if AWS-LC fails to serialize.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let pkcs8 = self.to_pkcs8_der()?;
        let info =
            PrivateKeyInfoRef::from_der(&pkcs8).map_err(|_| KeyError::MalformedPrivateKey)?;
        let pem = pem_rfc7468::encode_string(
            "RSA PRIVATE KEY",
            pem_rfc7468::LineEnding::LF,
            info.private_key.as_bytes(),
        )
        .map_err(|_| KeyError::MalformedPrivateKey)?;
        Ok(Zeroizing::new(pem))
    }

    pub(crate) fn decrypting_key(&self) -> &PrivateDecryptingKey {
        &self.key
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("fingerprint", self.fingerprint())
            .field("bits", &self.public.bits)
            .finish_non_exhaustive()
    }
}

/// Finds the first PEM block whose label `wanted` accepts; returns its label and DER.
/// Text before, between and after blocks is ignored, as Go's `pem.Decode` loop does.
fn first_pem_block(
    text: &[u8],
    wanted: impl Fn(&str) -> bool,
) -> Option<Result<(String, Vec<u8>), KeyError>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        let block = &rest[start..];
        let label_end = find(&block[BEGIN.len()..], b"-----")? + BEGIN.len();
        let label = String::from_utf8_lossy(&block[BEGIN.len()..label_end]).into_owned();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = find(block, end_marker.as_bytes()) else {
            return Some(Err(KeyError::Pem(format!("missing END line for {label}"))));
        };
        let whole = &block[..end + end_marker.len()];
        if wanted(&label) {
            return Some(
                pem_rfc7468::decode_vec(whole)
                    .map(|(_, der)| (label, der))
                    .map_err(|e| KeyError::Pem(e.to_string())),
            );
        }
        rest = &block[end + end_marker.len()..];
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Options for a new sealing key and its self-signed certificate.
#[derive(Debug, Clone)]
pub struct KeyGenOptions {
    /// Modulus size (upstream's default is 4096).
    pub bits: usize,
    /// Common name of issuer and subject; empty gives an empty DN, like upstream's default.
    pub common_name: String,
    /// Certificate validity (upstream's default is 10 years).
    pub validity: time::Duration,
    /// Start of validity (the caller's clock: `core` reads none).
    pub now: OffsetDateTime,
}

impl KeyGenOptions {
    /// Upstream's defaults: 4096 bits, empty CN, 87 600 hours.
    pub fn upstream_defaults(now: OffsetDateTime) -> Self {
        Self {
            bits: 4096,
            common_name: String::new(),
            validity: time::Duration::hours(87_600),
            now,
        }
    }
}

/// Generates a sealing key and a self-signed certificate shaped like upstream's: random
/// 128-bit serial, KeyUsage encipherOnly (critical), BasicConstraints CA:TRUE (critical),
/// sha256WithRSAEncryption.
///
/// # Errors
/// Unsupported size, or a failure of the random source or of certificate signing.
pub fn generate_key(options: &KeyGenOptions) -> Result<(PrivateKey, Certificate), KeyError> {
    let private = PrivateKey::generate(options.bits)?;
    let cert = self_signed_certificate(&private, options)?;
    Ok((private, cert))
}

/// Issues a self-signed certificate for an existing key.
///
/// # Errors
/// A failure of the random source or of certificate signing.
pub fn self_signed_certificate(
    private: &PrivateKey,
    options: &KeyGenOptions,
) -> Result<Certificate, KeyError> {
    use rand::TryRng as _;
    let generation = |e: &dyn fmt::Display| KeyError::Generation(e.to_string());

    let pkcs8 = private.to_pkcs8_der()?;
    let signing = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(|e| generation(&e))?;

    let mut serial = [0u8; 16];
    rand::rngs::SysRng
        .try_fill_bytes(&mut serial)
        .map_err(|e| generation(&e))?;
    serial[0] &= 0x7f; // a positive INTEGER below 2^127 needs no sign byte
    if serial[0] == 0 {
        serial[0] = 1; // keep the full 16 bytes: DER forbids a leading zero byte
    }

    let mut params = rcgen::CertificateParams::default();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.distinguished_name = rcgen::DistinguishedName::new();
    if !options.common_name.is_empty() {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, options.common_name.clone());
    }
    params.not_before = options.now;
    params.not_after = options.now + options.validity;
    params.key_usages = vec![rcgen::KeyUsagePurpose::EncipherOnly];
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&signing).map_err(|e| generation(&e))?;
    let parsed = Certificate::from_der(cert.der())?;
    if parsed.public_key().fingerprint() != private.fingerprint() {
        return Err(KeyError::CertificateMismatch);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpint_encoding() {
        let mut out = Vec::new();
        ssh_mpint(&mut out, &[0x01, 0x00, 0x01]);
        assert_eq!(out, [0, 0, 0, 3, 1, 0, 1]);
        out.clear();
        ssh_mpint(&mut out, &[0x00, 0x80]);
        assert_eq!(out, [0, 0, 0, 2, 0, 0x80]);
        out.clear();
        ssh_mpint(&mut out, &[0, 0]);
        assert_eq!(out, [0, 0, 0, 0]);
    }

    #[test]
    fn fingerprint_parse() {
        let fp = "SHA256:GGkvu+e9oSv0lC5zQgZeFDtW/h7L0lSIV4QFz6+0tcI";
        assert_eq!(
            Fingerprint::parse(fp).map(|f| f.to_string()).as_deref(),
            Some(fp)
        );
        assert!(Fingerprint::parse("MD5:abc").is_none());
        assert!(Fingerprint::parse("SHA256:short").is_none());
    }

    #[test]
    fn fingerprint_prefixes() {
        let fp = "SHA256:GGkvu+e9oSv0lC5zQgZeFDtW/h7L0lSIV4QFz6+0tcI";
        assert_eq!(Fingerprint::prefix_body(fp), Some(&fp[7..]));
        assert_eq!(
            Fingerprint::prefix_body("sha256:GGkvu+e9"),
            Some("GGkvu+e9")
        );
        assert_eq!(Fingerprint::prefix_body("GGkvu"), Some("GGkvu"));
        assert_eq!(Fingerprint::prefix_body("kube-system/key"), None);
        assert_eq!(Fingerprint::prefix_body(&format!("{fp}A")), None);
    }

    #[test]
    fn go_date_format() {
        let t = time::macros::datetime!(2027-06-18 04:32:45 UTC);
        assert_eq!(format_go_date(t), "June 18, 2027");
    }

    #[test]
    fn pem_blocks_are_found_among_others() {
        let text = b"junk\n-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n-----BEGIN BAR-----\nAQID\n-----END BAR-----\n";
        let (label, der) = first_pem_block(text, |l| l == "BAR").unwrap().unwrap();
        assert_eq!((label.as_str(), der.as_slice()), ("BAR", &[1u8, 2, 3][..]));
        assert!(first_pem_block(text, |l| l == "BAZ").is_none());
        assert!(
            first_pem_block(b"-----BEGIN X-----\nAAAA\n", |_| true)
                .unwrap()
                .is_err()
        );
    }
}
