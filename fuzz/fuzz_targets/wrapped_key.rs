//! Protected key Secrets (docs/key-protection.md, "Envelope") on arbitrary Secret text.
//!
//! Properties (besides "never panics"):
//! - a Secret that reads as protected is also what `read_key_secret` reports as protected, never
//!   as a plaintext key;
//! - written into a fresh Secret, it reads back equal;
//! - opening it with the vector's data key either fails or gives the certificate's own key (the
//!   seed core/tests/vectors/wrapped/protected-rsa2048.yaml opens).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::keysecret::wrapped::read_wrapped_key_secret;
use sealant_core::keysecret::{KeySecretError, read_key_secret};
use sealant_core::object::read_secrets;
use sealant_core::{ObjectMeta, Secret, SecretBytes};

/// The data key of core/tests/vectors/wrapped/protected-rsa2048.json.
fn vector_dek() -> SecretBytes {
    SecretBytes::new((0u8..32).collect())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(secrets) = read_secrets(text) else {
        return;
    };
    for secret in secrets {
        let Ok(wrapped) = read_wrapped_key_secret(&secret) else {
            continue;
        };
        match read_key_secret(&secret) {
            Err(KeySecretError::Protected(found)) => assert_eq!(*found, wrapped),
            other => panic!("a protected Secret read as {other:?}"),
        }
        let mut fresh = Secret::new(ObjectMeta::default());
        wrapped.write_into(&mut fresh);
        assert_eq!(
            read_wrapped_key_secret(&fresh).as_ref(),
            Ok(&wrapped),
            "write/read round trip"
        );
        let aad = wrapped.aad();
        assert!(aad.ends_with(wrapped.fingerprint().as_str().as_bytes()));
        if let Ok(key) = wrapped.open(&vector_dek()) {
            assert_eq!(
                key.fingerprint(),
                wrapped.fingerprint(),
                "opened another key"
            );
        }
    }
});
