//! The AWS KMS provider against moto's server mode on loopback (docs/key-protection.md, "Test
//! status"): what moto models of KMS, not the real service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use sealant_core::{SecretBytes, SecretString};
use sealant_kms::aws::{AwsCredentials, AwsKmsConfig, AwsKmsProvider};
use sealant_kms::{ErrorKind, KeyProvider, KmsError, WrappedDek, protect, unprotect};

use common::{Moto, free_port, test_key};

fn config(endpoint: &str, key_id: &str) -> AwsKmsConfig {
    AwsKmsConfig {
        region: "us-east-1".to_owned(),
        key_id: key_id.to_owned(),
        endpoint: Some(endpoint.to_owned()),
        credentials: AwsCredentials {
            access_key_id: "testing".to_owned(),
            secret_access_key: SecretString::new("testing-secret".to_owned()),
            session_token: None,
        },
        timeout: Duration::from_secs(10),
    }
}

fn kind<T: std::fmt::Debug>(result: Result<T, KmsError>) -> ErrorKind {
    result.expect_err("expected an error").kind()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_round_trip_binding_and_missing_key() {
    let moto = Moto::start(None);
    let key_id = moto.admin(&["create-key"]);
    let provider = AwsKmsProvider::new(config(&moto.endpoint, &key_id)).unwrap();
    assert_eq!(provider.describe().provider, "aws-kms");
    assert_eq!(provider.describe().kek, key_id);
    assert!(!format!("{provider:?}").contains("testing-secret"));

    // A key through the envelope and back.
    let (key, cert) = test_key("rsa2048");
    let wrapped = protect(&provider, &key, &cert).await.unwrap();
    assert_eq!(
        unprotect(&provider, &wrapped).await.unwrap().fingerprint(),
        key.fingerprint()
    );

    // The encryption context binds the associated data; a tampered blob is refused.
    let dek = SecretBytes::new(vec![3; 32]);
    let blob = provider.wrap(&dek, b"aad-1").await.unwrap();
    assert!(provider.unwrap(&blob, b"aad-1").await.unwrap().ct_eq(&dek));
    let err = provider.unwrap(&blob, b"aad-2").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    let mut tampered = blob.clone();
    let last = tampered.blob.len() - 1;
    tampered.blob[last] ^= 1;
    assert_eq!(
        kind(provider.unwrap(&tampered, b"aad-1").await),
        ErrorKind::Refused
    );
    assert_eq!(
        kind(provider.wrap(&dek, &[0xff, 0xfe]).await),
        ErrorKind::Config
    );

    // A key id that does not exist.
    let missing = AwsKmsProvider::new(config(&moto.endpoint, "alias/no-such-key")).unwrap();
    assert_eq!(
        kind(missing.wrap(&dek, b"aad").await),
        ErrorKind::KekMissing
    );

    // moto 5 lets disabled keys and keys pending deletion encrypt and decrypt (it does not model
    // key states); aws_key_state_answers_are_kek_missing covers AWS's answers for them.
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_signatures_and_credentials_are_checked() {
    // moto checks SigV4 signatures and credentials only with its IAM checks on: on after the
    // four set-up requests (a user with kms:*, its access key, a key).
    let moto = Moto::start(Some(4));
    let user = moto.admin(&["create-user", "sealant"]);
    let (access_key_id, secret) = user.split_once(' ').unwrap();
    let key_id = moto.admin(&["create-key"]);
    let with = |id: &str, secret: &str| {
        let mut config = config(&moto.endpoint, &key_id);
        config.credentials.access_key_id = id.to_owned();
        config.credentials.secret_access_key = SecretString::new(secret.to_owned());
        AwsKmsProvider::new(config).unwrap()
    };
    let dek = SecretBytes::new(vec![1; 32]);
    // Correctly signed: works.
    let good = with(access_key_id, secret);
    let blob = good.wrap(&dek, b"aad").await.unwrap();
    assert!(good.unwrap(&blob, b"aad").await.unwrap().ct_eq(&dek));
    // A wrong secret (bad signature) and an unknown access key.
    for provider in [
        with(access_key_id, "wrong-secret"),
        with("AKIAUNKNOWN000000000", secret),
    ] {
        let err = provider.wrap(&dek, b"aad").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
        assert!(!err.to_string().contains(secret), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_endpoint_down_or_silent_is_unreachable() {
    let dek = SecretBytes::new(vec![1; 32]);
    // Nothing listens there.
    let down = format!("http://127.0.0.1:{}", free_port());
    let provider = AwsKmsProvider::new(config(&down, "alias/k")).unwrap();
    let err = provider.wrap(&dek, b"aad").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.kind().is_transient());
    // Accepts connections, never answers: the timeout ends the call.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = config(
        &format!("http://{}", silent.local_addr().unwrap()),
        "alias/k",
    );
    config.timeout = Duration::from_millis(300);
    let provider = AwsKmsProvider::new(config).unwrap();
    let wrapped = WrappedDek {
        kek: "alias/k".to_owned(),
        blob: vec![1; 100],
    };
    let err = provider.unwrap(&wrapped, b"aad").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
}

/// One canned HTTP answer per connection, in the shape AWS KMS sends (JSON `__type`), for the
/// answers moto does not give.
fn canned(status: u16, body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    endpoint
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_key_state_answers_are_kek_missing() {
    let dek = SecretBytes::new(vec![1; 32]);
    let wrapped = WrappedDek {
        kek: "k".to_owned(),
        blob: vec![1; 100],
    };
    for (status, body, want) in [
        (
            400,
            r#"{"__type":"DisabledException","message":"key is disabled"}"#,
            ErrorKind::KekMissing,
        ),
        (
            400,
            r#"{"__type":"KMSInvalidStateException","message":"pending deletion"}"#,
            ErrorKind::KekMissing,
        ),
        (
            400,
            r#"{"__type":"AccessDeniedException","message":"no"}"#,
            ErrorKind::Auth,
        ),
        (
            503,
            r#"{"__type":"KMSInternalException"}"#,
            ErrorKind::Unreachable,
        ),
    ] {
        let provider = AwsKmsProvider::new(config(&canned(status, body), "k")).unwrap();
        let err = provider.unwrap(&wrapped, b"aad").await.unwrap_err();
        assert_eq!(err.kind(), want, "{err}");
        let err = provider.wrap(&dek, b"aad").await.unwrap_err();
        assert_eq!(err.kind(), want, "{err}");
    }
}

#[test]
fn aws_config_is_checked() {
    let mut bad = config("http://127.0.0.1:1", "k");
    bad.region = "us-east-1/../x".to_owned();
    assert_eq!(kind(AwsKmsProvider::new(bad)), ErrorKind::Config);
    assert_eq!(
        kind(AwsKmsProvider::new(config("ftp://x", "k"))),
        ErrorKind::Config
    );
    assert_eq!(
        kind(AwsKmsProvider::new(config("http://127.0.0.1:1", ""))),
        ErrorKind::Config
    );
}
