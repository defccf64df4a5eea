//! The PKCS#11 provider against a real SoftHSM2 token (docs/key-protection.md, "Test status").
//! Each test runs in its own process with its own token (common::softhsm_child).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use sealant_core::SecretBytes;
use sealant_core::keysecret::wrapped::{read_wrapped_key_secret, wrapped_key_secret};
use sealant_kms::pkcs11::{Pkcs11Config, Pkcs11Provider, read_pin_file};
use sealant_kms::{
    CallObserver, CallRecord, ErrorKind, KeyProvider, Observed, Operation, ProtectError,
    WrappedDek, protect, unprotect,
};

use common::{PIN, SO_PIN, TOKEN_LABEL, Token, softhsm_child, test_key};

const KEK: &str = "sealant-kek-1";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn kind<T: std::fmt::Debug>(result: Result<T, sealant_kms::KmsError>) -> ErrorKind {
    result.expect_err("expected an error").kind()
}

/// A second handle on the token, as an administrator would use (pkcs11-tool, an HSM console).
fn admin_session(token: &Token) -> cryptoki::session::Session {
    let ctx = Pkcs11::new(&token.module).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(err) => panic!("{err}"),
    }
    let slot = ctx.get_slots_with_token().unwrap()[0];
    let session = ctx.open_rw_session(slot).unwrap();
    match session.login(UserType::User, Some(&AuthPin::from(PIN.to_owned()))) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
        Err(err) => panic!("{err}"),
    }
    session
}

#[derive(Default)]
struct Calls(Mutex<Vec<(Operation, Option<ErrorKind>)>>);

impl CallObserver for Calls {
    fn observe(&self, call: &CallRecord<'_>) {
        assert_eq!(call.provider, "pkcs11");
        self.0.lock().unwrap().push((call.operation, call.error));
    }
}

#[test]
fn pkcs11_round_trip_and_tampering() {
    let Some(token) = softhsm_child("pkcs11_round_trip_and_tampering") else {
        return;
    };
    runtime().block_on(async {
        Pkcs11Provider::create_kek(token.config(PIN, KEK))
            .await
            .unwrap();
        // The label is taken now.
        let again = Pkcs11Provider::create_kek(token.config(PIN, KEK)).await;
        assert_eq!(kind(again), ErrorKind::Config);

        let calls = Arc::new(Calls::default());
        let provider = Observed::new(
            Pkcs11Provider::connect(token.config(PIN, KEK))
                .await
                .unwrap(),
            calls.clone(),
        );
        assert_eq!(provider.describe().provider, "pkcs11");
        assert_eq!(provider.describe().kek, KEK);
        let shown = format!("{provider:?}");
        assert!(!shown.contains(PIN), "{shown}");

        // A whole key through the envelope and a key Secret, and back.
        let (key, cert) = test_key("rsa2048");
        let wrapped = protect(&provider, &key, &cert).await.unwrap();
        let secret = wrapped_key_secret(
            "ns",
            "sealed-secrets-key",
            &wrapped,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        let read = read_wrapped_key_secret(&secret).unwrap();
        assert_eq!(read.protection().kek, KEK);
        let opened = unprotect(&provider, &read).await.unwrap();
        assert_eq!(opened.fingerprint(), key.fingerprint());

        // The provider's own calls: the blob is bound to the associated data.
        let dek = SecretBytes::new(vec![42; 32]);
        let blob = provider.wrap(&dek, b"aad-1").await.unwrap();
        assert_eq!(blob.blob.len(), 61, "version, IV, DEK, tag");
        let back = provider.unwrap(&blob, b"aad-1").await.unwrap();
        assert!(back.ct_eq(&dek));
        let err = provider.unwrap(&blob, b"aad-2").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
        for at in [1, 20, 60] {
            let mut tampered = blob.clone();
            tampered.blob[at] ^= 1;
            assert_eq!(
                kind(provider.unwrap(&tampered, b"aad-1").await),
                ErrorKind::Refused,
                "byte {at}"
            );
        }
        let short = WrappedDek {
            kek: KEK.to_owned(),
            blob: blob.blob[..40].to_vec(),
        };
        assert_eq!(
            kind(provider.unwrap(&short, b"aad-1").await),
            ErrorKind::Refused
        );
        // A tampered envelope: the wrapped DEK of another key.
        let (other_key, other_cert) = test_key("other-2048");
        let other = protect(&provider, &other_key, &other_cert).await.unwrap();
        let mut swapped = secret;
        let data = swapped.data.as_mut().unwrap();
        data.insert(
            "sealant.wrapped-dek".to_owned(),
            SecretBytes::from_slice(other.wrapped_dek()),
        );
        let swapped = read_wrapped_key_secret(&swapped).unwrap();
        match unprotect(&provider, &swapped).await {
            Err(ProtectError::Kms(err)) => assert_eq!(err.kind(), ErrorKind::Refused),
            other => panic!("expected a refused unwrap, got {other:?}"),
        }
        // The session is kept across a refused call.
        assert!(provider.unwrap(&blob, b"aad-1").await.is_ok());

        let calls = calls.0.lock().unwrap();
        assert!(calls.contains(&(Operation::Wrap, None)));
        assert!(calls.contains(&(Operation::Unwrap, Some(ErrorKind::Refused))));
    });
}

#[test]
fn pkcs11_wrong_pin_is_an_auth_error() {
    let Some(token) = softhsm_child("pkcs11_wrong_pin_is_an_auth_error") else {
        return;
    };
    runtime().block_on(async {
        let err = Pkcs11Provider::connect(token.config("0000", KEK))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        let text = err.to_string();
        assert!(
            text.contains("PinIncorrect") || text.contains("PIN"),
            "{text}"
        );
        assert!(!text.contains("0000"), "the PIN is never shown: {text}");
        // A token label that is not there: as unreachable as an unplugged HSM.
        let mut config = token.config(PIN, KEK);
        config.token_label = "no-such-token".to_owned();
        assert_eq!(
            kind(Pkcs11Provider::connect(config).await),
            ErrorKind::Unreachable
        );
    });
}

#[test]
fn pkcs11_deleted_kek_is_reported_as_missing() {
    let Some(token) = softhsm_child("pkcs11_deleted_kek_is_reported_as_missing") else {
        return;
    };
    runtime().block_on(async {
        // No KEK yet.
        assert_eq!(
            kind(Pkcs11Provider::connect(token.config(PIN, KEK)).await),
            ErrorKind::KekMissing
        );
        Pkcs11Provider::create_kek(token.config(PIN, KEK))
            .await
            .unwrap();
        let provider = Pkcs11Provider::connect(token.config(PIN, KEK))
            .await
            .unwrap();
        let dek = SecretBytes::new(vec![7; 32]);
        let blob = provider.wrap(&dek, b"aad").await.unwrap();

        let admin = admin_session(&token);
        let found = admin
            .find_objects(&[Attribute::Label(KEK.as_bytes().to_vec())])
            .unwrap();
        assert_eq!(found.len(), 1);
        admin.destroy_object(found[0]).unwrap();

        assert_eq!(
            kind(provider.unwrap(&blob, b"aad").await),
            ErrorKind::KekMissing
        );
        assert_eq!(
            kind(provider.wrap(&dek, b"aad").await),
            ErrorKind::KekMissing
        );
        let err = Pkcs11Provider::connect(token.config(PIN, KEK))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KekMissing);
        assert!(err.to_string().contains(KEK), "{err}");
    });
}

#[test]
fn pkcs11_extractable_kek_is_refused() {
    let Some(token) = softhsm_child("pkcs11_extractable_kek_is_refused") else {
        return;
    };
    let admin = admin_session(&token);
    admin
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Label(b"leaky".to_vec()),
                Attribute::Token(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::ValueLen(32.into()),
            ],
        )
        .unwrap();
    runtime().block_on(async {
        let err = Pkcs11Provider::connect(token.config(PIN, "leaky"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    });
}

#[test]
fn pkcs11_missing_module_is_unreachable() {
    runtime().block_on(async {
        let config = Pkcs11Config {
            module: "/nonexistent/libpkcs11-vendor.so".into(),
            token_label: TOKEN_LABEL.to_owned(),
            pin: sealant_core::SecretString::new(PIN.to_owned()),
            kek_label: KEK.to_owned(),
        };
        let err = Pkcs11Provider::connect(config).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreachable);
        assert!(
            err.to_string().contains("/nonexistent/libpkcs11-vendor.so"),
            "{err}"
        );
    });
}

#[test]
fn pin_files_drop_the_newline_and_must_not_be_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pin");
    std::fs::write(&path, "1234\n").unwrap();
    assert_eq!(read_pin_file(&path).unwrap().expose_secret(), "1234");
    std::fs::write(&path, "\n").unwrap();
    assert_eq!(kind(read_pin_file(&path)), ErrorKind::Config);
    assert_eq!(
        kind(read_pin_file(&dir.path().join("none"))),
        ErrorKind::Config
    );
    let _ = SO_PIN;
}

/// Start-up cost: unwrap of 1, 10 and 100 keys through SoftHSM, and what SoftHSM offers.
/// `cargo test -p sealant-kms --test softhsm -- --ignored --nocapture` (bench/keyprotect.sh).
#[test]
#[ignore = "a measurement: bench/keyprotect.sh"]
fn pkcs11_measure_unwrap() {
    let Some(token) = softhsm_child("pkcs11_measure_unwrap") else {
        return;
    };
    let admin = admin_session(&token);
    let info = |m: MechanismType| {
        let ctx = Pkcs11::new(&token.module).unwrap();
        let slot = ctx.get_slots_with_token().unwrap()[0];
        ctx.get_mechanism_info(slot, m)
            .map(|i| format!("{i:?}"))
            .unwrap_or_else(|e| format!("not supported ({e})"))
    };
    for m in [
        MechanismType::AES_GCM,
        MechanismType::AES_KEY_WRAP_PAD,
        MechanismType::AES_KEY_WRAP,
        MechanismType::RSA_PKCS_OAEP,
    ] {
        println!("mechanism {m}: {}", info(m));
    }
    drop(admin);
    runtime().block_on(async {
        Pkcs11Provider::create_kek(token.config(PIN, KEK))
            .await
            .unwrap();
        let started = Instant::now();
        let provider = Pkcs11Provider::connect(token.config(PIN, KEK))
            .await
            .unwrap();
        println!(
            "connect (load module, find token, log in, check KEK): {:?}",
            started.elapsed()
        );
        let (key, cert) = test_key("rsa2048");
        let mut wrapped = Vec::new();
        for _ in 0..100 {
            wrapped.push(protect(&provider, &key, &cert).await.unwrap());
        }
        for n in [1usize, 10, 100] {
            let started = Instant::now();
            for w in &wrapped[..n] {
                unprotect(&provider, w).await.unwrap();
            }
            let elapsed = started.elapsed();
            println!(
                "unwrap+open {n:>3} keys: {:>9.2?} total, {:>7.2?} per key",
                elapsed,
                elapsed / u32::try_from(n).unwrap()
            );
        }
        let dek = SecretBytes::new(vec![1; 32]);
        let blob = provider.wrap(&dek, b"aad").await.unwrap();
        let started = Instant::now();
        for _ in 0..100 {
            provider.unwrap(&blob, b"aad").await.unwrap();
        }
        println!(
            "provider unwrap alone: {:?} per call",
            started.elapsed() / 100
        );
    });
}
