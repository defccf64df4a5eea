//! The API handlers. Nothing here writes a secret value anywhere: responses, logs and errors
//! carry fixed texts, item names and object names only. Templates (`spec.template.data`) are
//! never executed on these paths, so the answers cannot depend on secret values beyond
//! "does this ciphertext open under this object's scope" (the fixes for upstream's verify and
//! rotate decryption oracles).
//!
//! That one answer is still rationed: `/v1/verify` and `/v1/rotate`, the only endpoints that
//! decrypt, share one `--rate-limit`/`--rate-limit-burst` budget per client, so alternating
//! them gains nothing; a client also has at most `--rate-limit-burst` + 1 of them in progress
//! at once, so slow bodies sent through the API server's proxy (one peer for every user)
//! cannot take that peer's connections. Over the budget, verify answers 429 at once
//! (upstream's behaviour) while rotate waits up to `--rotate-max-wait` for its turn, since its
//! clients (`sealant reencrypt`, `kubeseal --re-encrypt`) send one object after another and
//! never retried upstream, where rotate had no limit (docs/controller.md, the "HTTP API"
//! row and "HTTP connections").
//!
//! With tenant keys (docs/multi-tenancy.md, "Tenant keys"), the keys come from the one rule of
//! `crate::keys` (`KeySnapshot::keys_for`) for a namespace: `?namespace=NS` on
//! `/v1/cert.pem` and `/v1/recipient` (without it, the cluster's, for upstream clients), the
//! body's namespace on `/v1/verify` and `/v1/rotate`. Every certificate and recipient answer
//! says whose key it is in `Sealant-Key-Owner` (`cluster`, `tenant=T`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::{Request, Response};
use sealant_core::object::{read_sealed_secrets, sorted};
use sealant_core::{FormatError, SealedSecret, SealingError, UnsealError, UnsealOptions, unseal};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use super::gcra::{DEFAULT_CAPACITY, Decision, Gcra};
use super::{ApiState, Body};
use crate::keys::{KeySnapshot, NamespaceOwnerError, OwnerKeys};

const VERIFY: &str = "/v1/verify";
const ROTATE: &str = "/v1/rotate";
const CERT: &str = "/v1/cert.pem";
const RECIPIENT: &str = "/v1/recipient";
const TEXT: &str = "text/plain; charset=utf-8";
/// The header naming whose key a certificate or recipient is.
const KEY_OWNER_HEADER: &str = "sealant-key-owner";

/// The routes, by exact path; any method, as upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Healthz,
    Readyz,
    Cert,
    Recipient,
    Verify,
    Rotate,
    NotFound,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/healthz" => Route::Healthz,
            "/readyz" => Route::Readyz,
            CERT => Route::Cert,
            RECIPIENT => Route::Recipient,
            VERIFY => Route::Verify,
            ROTATE => Route::Rotate,
            _ => Route::NotFound,
        }
    }

    /// The `path` label of the instrumented routes (upstream's three, and /v1/recipient).
    fn instrumented(self) -> Option<&'static str> {
        match self {
            Route::Cert => Some(CERT),
            Route::Recipient => Some(RECIPIENT),
            Route::Verify => Some(VERIFY),
            Route::Rotate => Some(ROTATE),
            Route::Healthz | Route::Readyz | Route::NotFound => None,
        }
    }

    fn log_name(self) -> &'static str {
        match self {
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::Cert => CERT,
            Route::Recipient => RECIPIENT,
            Route::Verify => VERIFY,
            Route::Rotate => ROTATE,
            Route::NotFound => "(unknown)",
        }
    }
}

/// The API server's state beyond [`ApiState`].
pub(crate) struct Api {
    state: Arc<ApiState>,
    /// The budget of `/v1/verify` and `/v1/rotate`, per client; `None` with `--rate-limit 0`.
    limiter: Option<Mutex<Gcra<IpAddr>>>,
    /// Their requests in progress, per client.
    in_progress: InProgress,
    /// How long a rotate request over the budget may wait for its turn.
    rotate_max_wait: Duration,
    /// RSA work at once (one per CPU), so that a burst of rotate requests cannot take every
    /// blocking thread.
    rsa_slots: Semaphore,
}

impl Api {
    pub(crate) fn new(state: Arc<ApiState>) -> Self {
        let limiter = Gcra::new(
            state.args.rate_limit,
            state.args.rate_limit_burst,
            DEFAULT_CAPACITY,
            Instant::now(),
        )
        .map(Mutex::new);
        // A client may have as many opening requests in progress as it may send at once.
        let in_progress = InProgress::new(
            limiter
                .is_some()
                .then(|| state.args.rate_limit_burst.saturating_add(1)),
        );
        // Leave the request its --write-timeout to do the work after waiting.
        let rotate_max_wait = state.args.rotate_max_wait.min(state.args.write_timeout / 2);
        let slots = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            state,
            limiter,
            in_progress,
            rotate_max_wait,
            rsa_slots: Semaphore::new(slots),
        }
    }

    /// Takes one request from `client`'s budget, or a turn within `max_wait` (to be waited
    /// for); `None` without a limiter.
    fn rate_limit(&self, client: IpAddr, max_wait: Duration) -> Option<(Decision, Duration)> {
        let limiter = self.limiter.as_ref()?;
        let mut limiter = limiter.lock().unwrap_or_else(PoisonError::into_inner);
        Some(limiter.reserve(&client, Instant::now(), max_wait))
    }

    /// Runs CPU-bound key work on `snapshot` off the async threads, one slot per CPU.
    async fn blocking<T: Send + 'static>(
        &self,
        snapshot: Arc<KeySnapshot>,
        work: impl FnOnce(&KeySnapshot) -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let _slot = self
            .rsa_slots
            .acquire()
            .await
            .map_err(|_| refuse(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"))?;
        tokio::task::spawn_blocking(move || work(&snapshot))
            .await
            .map_err(|_| refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal error\n"))
    }
}

/// Handles one request (any path).
pub(crate) async fn handle(
    api: Arc<Api>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let started = Instant::now();
    let route = Route::of(request.uri().path());
    let method = request.method().clone();
    let response = match route {
        Route::Healthz => text(StatusCode::OK, "ok\n"),
        Route::Readyz => {
            if *api.state.ready.borrow() {
                text(StatusCode::OK, "ok\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }
        }
        Route::NotFound => text(StatusCode::NOT_FOUND, "404 page not found\n"),
        Route::Cert | Route::Recipient | Route::Verify | Route::Rotate => {
            let work = async {
                match route {
                    Route::Cert => cert(&api, request.uri().query()).await,
                    Route::Recipient => recipient(&api, request.uri().query()).await,
                    Route::Verify => opening(&api, request, peer, Opening::Verify).await,
                    _ => opening(&api, request, peer, Opening::Rotate).await,
                }
            };
            tokio::time::timeout(api.state.args.write_timeout, work)
                .await
                .unwrap_or_else(|_| text(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n"))
        }
    };
    let elapsed = started.elapsed();
    if let Some(path) = route.instrumented() {
        api.state
            .metrics
            .http_request(path, &method, response.status().as_u16(), elapsed);
    }
    debug!(
        %peer,
        method = %method,
        path = route.log_name(),
        status = response.status().as_u16(),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// The sealing certificate for the owner of `?namespace=` (the cluster's without it).
async fn cert(api: &Api, query: Option<&str>) -> Response<Body> {
    let snapshot = api.state.keys.snapshot();
    let keys = match keys_for_query(&api.state, &snapshot, query).await {
        Ok(keys) => keys,
        Err(refusal) => return refusal.into_response(),
    };
    let mut response = match keys.sealing {
        Some(newest) => {
            let mut response = Response::new(Full::new(Bytes::from(newest.cert.pem().to_owned())));
            response.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            );
            response
        }
        None => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot get certificate\n",
        ),
    };
    owner_header(&mut response, &keys);
    response
}

/// The newest age recipient of the owner of `?namespace=`, one line of text; 404 when it has
/// no age key (as an upstream controller answers, so clients treat both alike).
async fn recipient(api: &Api, query: Option<&str>) -> Response<Body> {
    let snapshot = api.state.keys.snapshot();
    let keys = match keys_for_query(&api.state, &snapshot, query).await {
        Ok(keys) => keys,
        Err(refusal) => return refusal.into_response(),
    };
    let mut response = match keys.recipient() {
        Some(recipient) => text(StatusCode::OK, format!("{recipient}\n")),
        None => text(StatusCode::NOT_FOUND, "no age recipient\n"),
    };
    owner_header(&mut response, &keys);
    response
}

fn owner_header(response: &mut Response<Body>, keys: &OwnerKeys<'_>) {
    if let Ok(value) = HeaderValue::from_str(&keys.header()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(KEY_OWNER_HEADER), value);
    }
}

/// The `namespace` query parameter (`None`: absent or empty).
///
/// # Errors
/// 400 when it is not a namespace name (RFC 1123 label), which also keeps any encoding out.
fn namespace_param(query: Option<&str>) -> Result<Option<&str>, Refusal> {
    let Some(value) = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("namespace="))
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = value.as_bytes();
    let valid = bytes.len() <= 63
        && bytes.first().copied().is_some_and(edge)
        && bytes.last().copied().is_some_and(edge)
        && bytes.iter().all(|b| edge(*b) || *b == b'-');
    if valid {
        Ok(Some(value))
    } else {
        Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid namespace: expected a lowercase RFC 1123 label\n",
        ))
    }
}

/// The keys for the owner of the `?namespace=` of `query` (the cluster's without it); also
/// the sealing page's `cert.json?namespace=` (`super::ui`), so both answer alike.
pub(super) async fn keys_for_query<'a>(
    state: &ApiState,
    snapshot: &'a KeySnapshot,
    query: Option<&str>,
) -> Result<OwnerKeys<'a>, Refusal> {
    let namespace = namespace_param(query)?;
    keys_for_namespace(state, snapshot, namespace.unwrap_or_default()).await
}

/// The keys for `namespace`'s owner (the cluster's for `""`, or with tenant keys off).
///
/// # Errors
/// 503 when the namespace cannot be read or its tenant has no keys yet; 409 when its tenant
/// label is not a tenant name.
async fn keys_for_namespace<'a>(
    state: &ApiState,
    snapshot: &'a KeySnapshot,
    namespace: &str,
) -> Result<OwnerKeys<'a>, Refusal> {
    let owner = state
        .keys
        .owner_of_namespace(snapshot, namespace)
        .await
        .map_err(|err| match err {
            NamespaceOwnerError::Lookup { .. } => {
                debug!(%err, "cannot read a namespace's labels");
                refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("cannot read the labels of namespace {namespace}\n"),
                )
            }
            NamespaceOwnerError::BadLabel { .. } => {
                refuse(StatusCode::CONFLICT, format!("{err}\n"))
            }
        })?;
    snapshot
        .keys_for(&owner)
        .map_err(|err| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("{err}\n")))
}

/// The endpoints that open a ciphertext and tell whether it opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Verify,
    Rotate,
}

/// Runs verify or rotate within the client's share: requests in progress, then the rate
/// budget (shared by both; see the module documentation).
async fn opening(
    api: &Api,
    request: Request<Incoming>,
    peer: SocketAddr,
    which: Opening,
) -> Response<Body> {
    let client = client_address(request.headers(), peer);
    let Some(_in_progress) = api.in_progress.enter(client) else {
        let mut response = text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests in progress\n",
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let max_wait = match which {
        Opening::Verify => Duration::ZERO,
        Opening::Rotate => api.rotate_max_wait,
    };
    let limited = api.rate_limit(client, max_wait);
    let mut response = match limited {
        Some((decision, _)) if !decision.allowed => {
            text(StatusCode::TOO_MANY_REQUESTS, "limit exceeded\n")
        }
        _ => {
            if let Some((_, wait)) = limited
                && !wait.is_zero()
            {
                tokio::time::sleep(wait).await;
            }
            match which {
                Opening::Verify => verify_allowed(api, request).await,
                Opening::Rotate => rotate_allowed(api, request).await,
            }
            .unwrap_or_else(Refusal::into_response)
        }
    };
    if let Some((decision, _)) = limited {
        for (name, value) in decision.headers() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
        }
    }
    response
}

async fn verify_allowed(api: &Api, request: Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let body = read_body(api, request).await?;
    let sealed = decode_one(&body)?;
    let accept_v1 = api.state.args.accept_deprecated_v1_data;
    let (snapshot, owner) = body_owner(api, &sealed).await?;
    let verdict = api
        .blocking(snapshot, move |snapshot| match snapshot.keys_for(&owner) {
            Ok(keys) => opens(&sealed, &keys, accept_v1),
            // Checked in `body_owner` on this very snapshot.
            Err(_) => Ok(0),
        })
        .await?;
    match verdict {
        Ok(opened) => {
            api.state.metrics.rsa_operations("verify", opened);
            Ok(text(StatusCode::OK, ""))
        }
        Err(err) => Ok(text(
            StatusCode::CONFLICT,
            format!("cannot unseal: {err}\n"),
        )),
    }
}

async fn rotate_allowed(api: &Api, request: Request<Incoming>) -> Result<Response<Body>, Refusal> {
    let body = read_body(api, request).await?;
    let sealed = decode_one(&body)?;
    let accept_v1 = api.state.args.accept_deprecated_v1_data;
    let (snapshot, owner) = body_owner(api, &sealed).await?;
    let outcome = api
        .blocking(snapshot, move |snapshot| match snapshot.keys_for(&owner) {
            Ok(keys) => reencrypt(&sealed, &keys, accept_v1),
            Err(_) => Err(RotateError::NoKey),
        })
        .await?;
    let (resealed, opened) = match outcome {
        Ok(pair) => pair,
        Err(err) => {
            debug!(%err, "rotate failed");
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot re-encrypt secret: {err}\n"),
            ));
        }
    };
    api.state.metrics.rsa_operations("rotate", opened);
    let json = serde_json::to_value(&resealed)
        .and_then(|value| serde_json::to_vec(&sorted(value)))
        .map_err(|_| {
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the re-encrypted secret\n",
            )
        })?;
    let mut response = Response::new(Full::new(Bytes::from(json)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// The snapshot and the owner whose keys serve the namespace of a request body's object.
///
/// # Errors
/// As [`keys_for_namespace`].
async fn body_owner(
    api: &Api,
    sealed: &SealedSecret,
) -> Result<(Arc<KeySnapshot>, sealant_core::KeyOwner), Refusal> {
    let snapshot = api.state.keys.snapshot();
    let namespace = sealed.metadata.namespace_or_empty().to_owned();
    let owner = keys_for_namespace(&api.state, &snapshot, &namespace)
        .await?
        .owner;
    Ok((snapshot, owner))
}

/// Why `/v1/rotate` failed. Messages carry item and object names only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// The controller has no key to seal with.
    #[error("no sealing key available")]
    NoKey,
    /// The SealedSecret does not unseal with any key.
    #[error(transparent)]
    Unseal(#[from] UnsealError),
    /// Sealing again failed (no name, no namespace for its scope, …).
    #[error(transparent)]
    Seal(#[from] SealingError),
    /// Any other re-encryption failure.
    #[error(transparent)]
    Other(sealant_core::rotate::RotateError),
}

/// Makes `spec.template.metadata` agree with the top-level metadata (CVE-2026-22728); shared
/// with `sealant reencrypt --private-key` through sealant-core.
pub use sealant_core::rotate::align_template_metadata;

/// `/v1/rotate`'s work: [`sealant_core::rotate::reencrypt`] to the newest key of the owner
/// `keys` are for (the rule is shared with `sealant reencrypt --private-key`): opened with its
/// ring (with the migration switch, the cluster keys too), so a tenant's objects move from the
/// cluster key to the tenant's. Returns the new object and how many items were opened.
///
/// # Errors
/// See [`RotateError`].
pub fn reencrypt(
    sealed: &SealedSecret,
    keys: &OwnerKeys<'_>,
    accept_v1_data: bool,
) -> Result<(SealedSecret, u64), RotateError> {
    let newest = keys.sealing.ok_or(RotateError::NoKey)?;
    let rotated = sealant_core::rotate::reencrypt(
        sealed,
        keys.ring,
        newest.cert.public_key(),
        accept_v1_data,
    )
    .map_err(|err| match err {
        sealant_core::rotate::RotateError::Unseal(err) => RotateError::Unseal(err),
        sealant_core::rotate::RotateError::Seal(err) => RotateError::Seal(err),
        other => RotateError::Other(other),
    })?;
    if rotated.template_aligned {
        warn!(
            namespace = sealed.metadata.namespace_or_empty(),
            name = sealed.metadata.name_or_empty(),
            "rotate: spec.template.metadata named another name, namespace or scope than the SealedSecret; using the SealedSecret's"
        );
    }
    Ok((rotated.sealed, rotated.opened))
}

/// Whether `sealed` opens with the ring of `keys` (its namespace's owner), templates not
/// executed; on success, how many items were opened. The one decryption check of `/v1/verify` and of the admission
/// webhook (`crate::admission`), so neither can tell more than the other. The Secret
/// (plaintext) is dropped here; only the verdict is returned.
///
/// # Errors
/// The [`UnsealError`] (item names and fixed texts only).
pub(crate) fn opens(
    sealed: &SealedSecret,
    keys: &OwnerKeys<'_>,
    accept_v1_data: bool,
) -> Result<u64, UnsealError> {
    let options = UnsealOptions {
        accept_v1_data,
        render_templates: false,
    };
    unseal(sealed, keys.ring, options).map(|unsealed| opened_items(sealed, &unsealed))
}

/// Items opened by an unseal: a lower bound of the RSA decryptions made (failed attempts with
/// other keys are not counted; sealant-core does not report them).
fn opened_items(sealed: &SealedSecret, unsealed: &sealant_core::Unsealed) -> u64 {
    if sealed.spec.data.is_some() {
        1
    } else {
        u64::try_from(unsealed.opened_with.len()).unwrap_or(u64::MAX)
    }
}

/// Requests in progress per client, at most `limit` each (`None`: no limit). Holds only
/// clients with a request in progress, so no more entries than connections.
struct InProgress {
    limit: Option<u32>,
    counts: Mutex<HashMap<IpAddr, u32>>,
}

/// One request in progress; gives its place back when dropped.
struct InProgressGuard<'a> {
    owner: &'a InProgress,
    client: Option<IpAddr>,
}

impl InProgress {
    fn new(limit: Option<u32>) -> Self {
        Self {
            limit,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// A place for a request of `client`; `None` when it has `limit` in progress.
    fn enter(&self, client: IpAddr) -> Option<InProgressGuard<'_>> {
        let Some(limit) = self.limit else {
            return Some(InProgressGuard {
                owner: self,
                client: None,
            });
        };
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(client).or_insert(0);
        if *count >= limit {
            return None;
        }
        *count += 1;
        Some(InProgressGuard {
            owner: self,
            client: Some(client),
        })
    }
}

impl Drop for InProgressGuard<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client else {
            return;
        };
        let mut counts = self
            .owner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&client);
            }
        }
    }
}

/// The client a request is rate-limited as: the last `X-Forwarded-For` element if it is an
/// IP address, else the peer address.
///
/// Upstream keys on the whole header, which a client can vary to dodge the limit. The last
/// element is the one appended by the nearest proxy (the API server's service proxy, the
/// intended access path), so it cannot be forged through that path. A client connecting to the
/// pod directly can still send any header: restrict the port to the API server with a
/// NetworkPolicy where that matters. Only an IP address is accepted, which also bounds the
/// size of the limiter's keys.
fn client_address(headers: &http::HeaderMap, peer: SocketAddr) -> IpAddr {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .rsplit(',')
                .map(str::trim)
                .find(|part| !part.is_empty())
        })
        .and_then(parse_ip)
        .unwrap_or_else(|| peer.ip().to_canonical())
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical())
}

/// Reads the body: 413 above `--max-request-bytes` (at once when Content-Length says so),
/// 408 when it does not arrive within `--read-timeout`, 400 on any other read error.
async fn read_body(api: &Api, request: Request<Incoming>) -> Result<Bytes, Refusal> {
    let max = api.state.args.max_request_bytes;
    let body = request.into_body();
    if body.size_hint().lower() > u64::try_from(max).unwrap_or(u64::MAX) {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        ));
    }
    match tokio::time::timeout(
        api.state.args.read_timeout,
        Limited::new(body, max).collect(),
    )
    .await
    {
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            "timed out reading the request body\n",
        )),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        )),
        Ok(Err(_)) => Err(refuse(
            StatusCode::BAD_REQUEST,
            "Error reading request body\n",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// Exactly one SealedSecret, JSON or YAML, with apiVersion and kind; 500 otherwise (upstream's
/// code). The messages never quote the input.
fn decode_one(body: &[u8]) -> Result<SealedSecret, Refusal> {
    let fail = |message: String| refuse(StatusCode::INTERNAL_SERVER_ERROR, message);
    let text_body = std::str::from_utf8(body)
        .map_err(|_| fail("cannot decode the SealedSecret: the body is not UTF-8\n".into()))?;
    let mut all = read_sealed_secrets(text_body).map_err(|err| fail(describe(&err)))?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(fail(
            "cannot decode the SealedSecret: the body holds none\n".into(),
        )),
        n => Err(fail(format!(
            "cannot decode the SealedSecret: expected one object, got {n}\n"
        ))),
    }
}

fn describe(err: &FormatError) -> String {
    match err {
        FormatError::Malformed {
            format, document, ..
        } => {
            format!("cannot decode the SealedSecret: malformed {format} in document {document}\n")
        }
        FormatError::WrongKind { document, .. } => {
            format!(
                "cannot decode the SealedSecret: document {document} is not a bitnami.com/v1alpha1 SealedSecret\n"
            )
        }
        _ => "cannot decode the SealedSecret\n".to_owned(),
    }
}

/// A request refused: a status and a short message (fixed, or naming items and objects only),
/// turned into a text response at the end.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) message: Cow<'static, str>,
}

fn refuse(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Refusal {
    Refusal {
        status,
        message: message.into(),
    }
}

impl Refusal {
    fn into_response(self) -> Response<Body> {
        let body = match self.message {
            Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        };
        text(self.status, body)
    }
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(TEXT));
    if status != StatusCode::OK {
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
    }
    response
}
