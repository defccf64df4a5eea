//! The Secret / SealedSecret readers (YAML and JSON, multi-document) on arbitrary UTF-8, and the
//! whole unseal path on every SealedSecret they accept.
//!
//! Properties (besides "never panics"):
//! - every Secret read, written with `to_text` as YAML and as JSON, reads back as one Secret with
//!   equal apiVersion, kind, metadata, data, stringData, type and immutable;
//! - every SealedSecret read round-trips the same way (it is `PartialEq`);
//! - `unseal` (ring: the fixed rsa2048 key + multi-2) either fails with an error or returns a
//!   Secret named and namespaced like the SealedSecret, holding exactly the `encryptedData` items;
//!   a v1 `spec.data` blob is always refused when v1 is not accepted.
#![no_main]

use libfuzzer_sys::{Corpus, fuzz_target};
use sealant_core::object::{Format, read_documents, read_sealed_secrets, read_secrets, to_text};
use sealant_core::{SealedSecret, Secret, UnsealError, UnsealOptions, unseal};
use sealant_fuzz::KEY_RING;

const FORMATS: [Format; 2] = [Format::Yaml, Format::Json];

fn data_eq(a: &Secret, b: &Secret) -> bool {
    match (&a.data, &b.data) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && va.expose_secret() == vb.expose_secret())
        }
        _ => false,
    }
}

fn string_data_eq(a: &Secret, b: &Secret) -> bool {
    match (&a.string_data, &b.string_data) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && va.ct_eq(vb))
        }
        _ => false,
    }
}

fn check_secret_round_trip(secret: &Secret) {
    for format in FORMATS {
        let text = to_text(secret, format).expect("a Secret that was read can be written");
        let mut back = read_secrets(&text)
            .unwrap_or_else(|e| panic!("{format:?} written by to_text does not read back: {e}\n{text}"));
        assert_eq!(back.len(), 1, "{format:?} round trip gave {} Secrets\n{text}", back.len());
        let back = back.remove(0);
        assert_eq!(secret.api_version, back.api_version, "{format:?}: apiVersion changed\n{text}");
        assert_eq!(secret.kind, back.kind, "{format:?}: kind changed\n{text}");
        assert_eq!(secret.metadata, back.metadata, "{format:?}: metadata changed\n{text}");
        assert!(data_eq(secret, &back), "{format:?}: data changed\n{text}");
        assert!(string_data_eq(secret, &back), "{format:?}: stringData changed\n{text}");
        assert_eq!(secret.type_, back.type_, "{format:?}: type changed\n{text}");
        assert_eq!(secret.immutable, back.immutable, "{format:?}: immutable changed\n{text}");
    }
}

fn check_sealed_round_trip(sealed: &SealedSecret) {
    for format in FORMATS {
        let text = to_text(sealed, format).expect("a SealedSecret that was read can be written");
        let back = read_sealed_secrets(&text)
            .unwrap_or_else(|e| panic!("{format:?} written by to_text does not read back: {e}\n{text}"));
        assert_eq!(back.len(), 1, "{format:?} round trip gave {} SealedSecrets\n{text}", back.len());
        assert_eq!(&back[0], sealed, "{format:?}: SealedSecret changed in the round trip\n{text}");
    }
}

fn check_unseal(sealed: &SealedSecret) {
    for accept_v1_data in [false, true] {
        let result = unseal(sealed, &KEY_RING, UnsealOptions { accept_v1_data, render_templates: true });
        if sealed.spec.data.is_some() && !accept_v1_data {
            assert!(matches!(result, Err(UnsealError::V1Rejected)), "a v1 blob was not refused");
            continue;
        }
        let Ok(unsealed) = result else { continue };
        let secret = &unsealed.secret;
        assert_eq!(secret.metadata.name, sealed.metadata.name, "unsealed Secret has another name");
        assert_eq!(secret.metadata.namespace, sealed.metadata.namespace, "unsealed Secret has another namespace");
        if sealed.spec.data.is_none() {
            let items: Vec<&String> = sealed.spec.encrypted_data.keys().collect();
            let opened: Vec<&String> = unsealed.data().keys().collect();
            assert_eq!(items, opened, "unsealed items differ from encryptedData items");
            assert_eq!(unsealed.opened_with.len(), items.len(), "opened_with misses items");
        }
        // What the controller would write must be writable and read back.
        check_secret_round_trip(secret);
    }
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let _ = read_documents::<serde_json::Value>(text);
    if let Ok(secrets) = read_secrets(text) {
        for secret in &secrets {
            check_secret_round_trip(secret);
        }
    }
    if let Ok(sealed_secrets) = read_sealed_secrets(text) {
        for sealed in &sealed_secrets {
            check_sealed_round_trip(sealed);
            check_unseal(sealed);
        }
    }
    Corpus::Keep
});
