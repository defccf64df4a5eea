//! AWS KMS provider: `Encrypt` and `Decrypt` with a symmetric KMS key, the envelope's associated
//! data carried as the encryption context (docs/key-protection.md, "AWS KMS").
//!
//! Requests are JSON over HTTPS (`X-Amz-Target: TrentService.*`), signed with SigV4 by the
//! `aws-sigv4` crate, sent with hyper (kms/README.md says why not the AWS SDK).

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sealant_core::keysecret::wrapped::{DEK_LEN, Protection};
use sealant_core::{SecretBytes, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{CallFuture, ErrorKind, KeyProvider, KmsError, WrappedDek};

mod errors;

/// The provider kind in the key Secret's annotation.
pub const PROVIDER: &str = "aws-kms";
/// Encryption context key that carries the envelope's associated data (shown in CloudTrail,
/// usable in key policy conditions).
pub const CONTEXT_KEY: &str = "sealant.dev/aad";
/// Largest response body read (KMS answers are well under 1 KiB).
const MAX_RESPONSE: usize = 64 * 1024;

/// Static credentials (an access key, optionally with a session token).
pub struct AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: SecretString,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<SecretString>,
}

impl AwsCredentials {
    /// From `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; `None`
    /// when the first two are not both set.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(AwsCredentials {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: SecretString::new(var("AWS_SECRET_ACCESS_KEY")?),
            session_token: var("AWS_SESSION_TOKEN").map(SecretString::new),
        })
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Which KMS key, where, and as whom.
#[derive(Debug)]
pub struct AwsKmsConfig {
    /// The region, e.g. `eu-west-1`.
    pub region: String,
    /// The KEK: a key id, key ARN, alias name (`alias/...`) or alias ARN. Stored in each key
    /// Secret as given; unwrapping passes it back to KMS.
    pub key_id: String,
    /// The endpoint; `None` for `https://kms.<region>.amazonaws.com`.
    pub endpoint: Option<String>,
    /// The credentials requests are signed with.
    pub credentials: AwsCredentials,
    /// Timeout of one request (connect and answer).
    pub timeout: Duration,
}

/// An AWS KMS key.
pub struct AwsKmsProvider {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Uri,
    region: String,
    credentials: Credentials,
    protection: Protection,
    timeout: Duration,
}

impl fmt::Debug for AwsKmsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKmsProvider")
            .field("endpoint", &self.endpoint)
            .field("protection", &self.protection)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptRequest<'a> {
    key_id: &'a str,
    plaintext: &'a str,
    encryption_context: Context<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptRequest<'a> {
    key_id: &'a str,
    ciphertext_blob: &'a str,
    encryption_context: Context<'a>,
}

#[derive(Serialize)]
struct Context<'a> {
    #[serde(rename = "sealant.dev/aad")]
    aad: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptResponse {
    ciphertext_blob: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptResponse {
    plaintext: Zeroizing<String>,
}

impl AwsKmsProvider {
    /// A provider for `config`. Makes no request (the first wrap or unwrap shows whether the
    /// key and credentials work).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a malformed endpoint, region or key id.
    pub fn new(config: AwsKmsConfig) -> Result<Self, KmsError> {
        let bad = |what: &str| KmsError::new(ErrorKind::Config, PROVIDER, what.to_owned());
        let protection =
            Protection::new(PROVIDER, &config.key_id).map_err(|_| bad("malformed key id"))?;
        if config.region.is_empty()
            || !config
                .region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("malformed region"));
        }
        let endpoint = config
            .endpoint
            .unwrap_or_else(|| format!("https://kms.{}.amazonaws.com", config.region));
        let endpoint: Uri = endpoint.parse().map_err(|_| bad("malformed endpoint"))?;
        if endpoint.authority().is_none()
            || !matches!(endpoint.scheme_str(), Some("https" | "http"))
        {
            return Err(bad("the endpoint must be an http(s) URL"));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|err| bad("TLS setup").with_source(err))?
            .https_or_http()
            .enable_http1()
            .build();
        let credentials = &config.credentials;
        Ok(AwsKmsProvider {
            client: Client::builder(TokioExecutor::new()).build(connector),
            endpoint,
            region: config.region,
            credentials: Credentials::new(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.expose_secret().to_owned(),
                credentials
                    .session_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned()),
                None,
                "sealant",
            ),
            protection,
            timeout: config.timeout,
        })
    }

    /// Sends one signed KMS call and returns the answer's body.
    async fn call(&self, target: &str, body: Zeroizing<Vec<u8>>) -> Result<Bytes, KmsError> {
        let unreachable =
            |what: &str| KmsError::new(ErrorKind::Unreachable, PROVIDER, what.to_owned());
        let host = self
            .endpoint
            .authority()
            .map(|a| a.as_str())
            .unwrap_or_default();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(header::HOST, host)
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", format!("TrentService.{target}"))
            .body(())
            .map_err(|err| {
                KmsError::new(ErrorKind::Config, PROVIDER, "request").with_source(err)
            })?;
        self.sign(&mut request, &body)?;
        // The body owns a wiping buffer: dropped (wiped) once sent.
        let request = request.map(|()| Full::new(Bytes::from_owner(body)));
        let response = tokio::time::timeout(self.timeout, async {
            let response = self.client.request(request).await.map_err(|err| {
                unreachable(&format!("{target}: no answer from {host}")).with_source(err)
            })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|err| {
                    unreachable(&format!("{target}: answer cut short")).with_source(err)
                })?
                .to_bytes();
            Ok::<_, KmsError>((status, body))
        })
        .await
        .map_err(|_| unreachable(&format!("{target}: no answer within {:?}", self.timeout)))??;
        let (status, body) = response;
        if status == StatusCode::OK {
            Ok(body)
        } else {
            Err(errors::from_response(target, status, &body))
        }
    }

    fn sign(&self, request: &mut Request<()>, body: &[u8]) -> Result<(), KmsError> {
        let failed = |err: Box<dyn std::error::Error + Send + Sync>| {
            KmsError::new(ErrorKind::Config, PROVIDER, "cannot sign the request").with_source(err)
        };
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kms")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|err| failed(err.into()))?
            .into();
        let uri = request.uri().to_string();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|err| failed(err.into()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|err| failed(err.into()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

fn aad_text(aad: &[u8]) -> Result<&str, KmsError> {
    std::str::from_utf8(aad).map_err(|_| {
        KmsError::new(
            ErrorKind::Config,
            PROVIDER,
            "the associated data must be text to go into the encryption context",
        )
    })
}

fn json<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    serde_json::to_vec(value)
        .map(Zeroizing::new)
        .map_err(|err| KmsError::new(ErrorKind::Config, PROVIDER, "request").with_source(err))
}

fn malformed(target: &str) -> KmsError {
    KmsError::new(
        ErrorKind::Unreachable,
        PROVIDER,
        format!("{target}: malformed answer"),
    )
}

impl KeyProvider for AwsKmsProvider {
    fn describe(&self) -> &Protection {
        &self.protection
    }

    fn wrap<'a>(&'a self, dek: &'a SecretBytes, aad: &'a [u8]) -> CallFuture<'a, WrappedDek> {
        Box::pin(async move {
            let plaintext = Zeroizing::new(STANDARD.encode(dek.expose_secret()));
            let body = json(&EncryptRequest {
                key_id: &self.protection.kek,
                plaintext: &plaintext,
                encryption_context: Context {
                    aad: aad_text(aad)?,
                },
            })?;
            let answer = self.call("Encrypt", body).await?;
            let answer: EncryptResponse =
                serde_json::from_slice(&answer).map_err(|_| malformed("Encrypt"))?;
            let blob = STANDARD
                .decode(answer.ciphertext_blob)
                .map_err(|_| malformed("Encrypt"))?;
            Ok(WrappedDek {
                kek: self.protection.kek.clone(),
                blob,
            })
        })
    }

    fn unwrap<'a>(&'a self, wrapped: &'a WrappedDek, aad: &'a [u8]) -> CallFuture<'a, SecretBytes> {
        Box::pin(async move {
            let blob = STANDARD.encode(&wrapped.blob);
            let body = json(&DecryptRequest {
                key_id: &wrapped.kek,
                ciphertext_blob: &blob,
                encryption_context: Context {
                    aad: aad_text(aad)?,
                },
            })?;
            let answer = Zeroizing::new(self.call("Decrypt", body).await?.to_vec());
            let answer: DecryptResponse =
                serde_json::from_slice(&answer).map_err(|_| malformed("Decrypt"))?;
            let dek = STANDARD
                .decode(answer.plaintext.as_bytes())
                .map(|d| SecretBytes::from(Zeroizing::new(d)))
                .map_err(|_| malformed("Decrypt"))?;
            if dek.len() != DEK_LEN {
                return Err(KmsError::new(
                    ErrorKind::Refused,
                    PROVIDER,
                    "the unwrapped data key has the wrong length",
                ));
            }
            Ok(dek)
        })
    }
}
