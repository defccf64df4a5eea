//! PEM / DER key and certificate parsing on arbitrary bytes.
//!
//! Properties (besides "never panics"):
//! - a private key that parses writes itself as PKCS#1 PEM and PKCS#8 DER, and both read back
//!   to the same fingerprint;
//! - a certificate that parses re-reads from its own `pem()` with the same key, serial and
//!   validity;
//! - `read_private_keys` gives only keys that re-read to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::keysecret::read_private_keys;
use sealant_core::{Certificate, PrivateKey};

fn check_key(key: &PrivateKey) {
    let pem = key.to_pkcs1_pem().expect("a parsed key serializes to PKCS#1");
    let again = PrivateKey::from_pem(pem.as_bytes()).expect("PKCS#1 PEM written by sealant reads back");
    assert_eq!(again.fingerprint(), key.fingerprint(), "PKCS#1 round trip changed the key");
    let der = key.to_pkcs8_der().expect("a parsed key serializes to PKCS#8");
    let again = PrivateKey::from_pkcs8_der(&der).expect("PKCS#8 DER written by sealant reads back");
    assert_eq!(again.fingerprint(), key.fingerprint(), "PKCS#8 round trip changed the key");
}

fn check_cert(cert: &Certificate) {
    let again = Certificate::from_pem(cert.pem().as_bytes()).expect("a certificate's own PEM reads back");
    assert_eq!(again.public_key().fingerprint(), cert.public_key().fingerprint());
    assert_eq!(again.serial_hex(), cert.serial_hex());
    assert_eq!(again.not_before(), cert.not_before());
    assert_eq!(again.not_after(), cert.not_after());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PrivateKey::from_pem(data) {
        check_key(&key);
    }
    if let Ok(key) = PrivateKey::from_pkcs1_der(data) {
        check_key(&key);
    }
    if let Ok(key) = PrivateKey::from_pkcs8_der(data) {
        check_key(&key);
    }
    if let Ok(cert) = Certificate::from_pem(data) {
        check_cert(&cert);
    }
    if let Ok(cert) = Certificate::from_der(data) {
        check_cert(&cert);
    }
    if let Ok(keys) = read_private_keys(data) {
        for key in &keys {
            check_key(key);
        }
    }
});
