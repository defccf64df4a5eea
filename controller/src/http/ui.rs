//! The browser sealing page at `/ui/` (`--web-ui`, docs/webui.md): sealant-webui's embedded
//! files and the certificate facts of the namespace the page seals for. The page seals in the
//! browser; no route here reads a request body, so nothing a user types reaches the controller
//! but the namespace's name.
//!
//! `cert.json?namespace=NS` is answered from the owner rule of `/v1/cert.pem?namespace=NS`
//! (`super::api::keys_for_query`, docs/multi-tenancy.md, "Tenant keys"): the same certificate,
//! the same 400 for a bad name and 503 while a tenant's keys are not ready; its owner goes into
//! the facts.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{HeaderValue, LOCATION};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use sealant_webui::{Facts, Owner};
use time::OffsetDateTime;

use super::api::{Refusal, keys_for_query};
use super::{ApiState, Body};
use crate::keys::KeySnapshot;

/// Where the page is mounted on the API port.
pub(crate) const PREFIX: &str = "/ui";

/// True for the paths this module answers (with `--web-ui`).
pub(crate) fn is_ui_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/ui/")
}

/// Answers one request under [`PREFIX`]. `/ui` redirects to `/ui/` with a relative location,
/// so it also works under the API server's service proxy prefix.
pub(crate) async fn handle<B>(state: &ApiState, request: &Request<B>) -> Response<Body> {
    let path = request.uri().path();
    let Some(rest) = path.strip_prefix("/ui/") else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static("ui/"));
        return response;
    };
    let snapshot = state.keys.snapshot();
    let facts = if sealant_webui::wants_facts(request.method(), rest) {
        let lookup = facts_for_query(state, &snapshot, request.uri().query());
        Some(
            tokio::time::timeout(state.args.write_timeout, lookup)
                .await
                .unwrap_or_else(|_| {
                    refused(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n")
                }),
        )
    } else {
        None
    };
    sealant_webui::respond(request.method(), rest, facts, OffsetDateTime::now_utc())
        .map(|body| Full::new(Bytes::from(body.into_owned())))
}

/// The facts for the `?namespace=` of `query`: its owner's newest certificate, or the API's
/// refusal (status and text) for it.
async fn facts_for_query<'a>(
    state: &ApiState,
    snapshot: &'a KeySnapshot,
    query: Option<&str>,
) -> Facts<'a> {
    match keys_for_query(state, snapshot, query).await {
        Ok(keys) => match keys.sealing {
            Some(newest) => Facts::Ready {
                cert: &newest.cert,
                owner: Owner::Key(keys.owner),
            },
            None => refused(StatusCode::SERVICE_UNAVAILABLE, "no certificate yet\n"),
        },
        Err(Refusal { status, message }) => Facts::Refused { status, message },
    }
}

fn refused(status: StatusCode, message: &'static str) -> Facts<'static> {
    Facts::Refused {
        status,
        message: Cow::Borrowed(message),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use clap::Parser as _;
    use http::Method;
    use sealant_core::Certificate;

    use super::*;
    use crate::flags::Args;
    use crate::keys::{KeyInfo, KeyStore};
    use crate::metrics::Metrics;

    const CRT: &[u8] = include_bytes!("../../../core/tests/vectors/keys/rsa2048.crt");

    fn state(with_key: bool) -> (ApiState, Certificate) {
        let cert = Certificate::from_pem(CRT).expect("the test certificate");
        let mut snapshot = KeySnapshot::default();
        if with_key {
            snapshot.keys.push(KeyInfo {
                fingerprint: cert.public_key().fingerprint().clone(),
                secret_name: "sealed-secrets-keyaaaaa".to_owned(),
                order_time: cert.not_before(),
                cert: cert.clone(),
                state: sealant_core::keysecret::KeyState::Active,
            });
        }
        let args = Args::try_parse_from(["sealant-controller", "--web-ui"]).expect("flags");
        let (_ready, ready) = tokio::sync::watch::channel(true);
        let state = ApiState {
            keys: KeyStore::fixed(snapshot),
            metrics: Arc::new(Metrics::new(&args)),
            args: Arc::new(args),
            ready,
        };
        (state, cert)
    }

    async fn get(state: &ApiState, uri: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .body(())
            .expect("request");
        let response = handle(state, &request).await;
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[test]
    fn only_the_prefix_is_ours() {
        for path in ["/ui", "/ui/", "/ui/app.js", "/ui/cert.json"] {
            assert!(is_ui_path(path), "{path}");
        }
        for path in ["/uix", "/v1/cert.pem", "/", "/healthz", "/u"] {
            assert!(!is_ui_path(path), "{path}");
        }
    }

    #[tokio::test]
    async fn facts_per_namespace_name_their_owner() {
        let (state, cert) = state(true);
        for uri in [
            "/ui/cert.json",
            "/ui/cert.json?namespace=",
            "/ui/cert.json?namespace=shop",
            "/ui/cert.json?x=1&namespace=shop-2",
        ] {
            let (status, body) = get(&state, uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {body}");
            let facts: serde_json::Value = serde_json::from_str(&body).expect("json");
            assert_eq!(facts["owner"], "cluster", "{uri}");
            assert_eq!(
                facts["fingerprint"],
                cert.public_key().fingerprint().to_string(),
                "{uri}"
            );
        }
    }

    /// A bad name gets exactly the refusal of `/v1/cert.pem?namespace=` (one rule, reused).
    #[tokio::test]
    async fn bad_namespaces_get_the_apis_refusal() {
        let (state, _) = state(true);
        let snapshot = state.keys.snapshot();
        for query in [
            "namespace=Shop",
            "namespace=-shop",
            "namespace=a%2Fb",
            "namespace=a.b",
        ] {
            let Err(refusal) = keys_for_query(&state, &snapshot, Some(query)).await else {
                panic!("{query} was accepted by the API");
            };
            let (status, body) = get(&state, &format!("/ui/cert.json?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
            assert_eq!((status, body.as_str()), (refusal.status, &*refusal.message));
        }
    }

    #[tokio::test]
    async fn no_key_yet_is_503_and_assets_need_no_key() {
        let (state, _) = state(false);
        let (status, _) = get(&state, "/ui/cert.json?namespace=shop").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = get(&state, "/ui/app.js?namespace=shop").await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = get(&state, "/ui").await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    }
}
