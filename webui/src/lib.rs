//! The browser sealing page (docs/webui.md): hand-written assets embedded in the binary, the
//! security headers every answer carries, and the one router both servers use (the controller
//! under `/ui/`, `sealant web` at the root), so the page is the same wherever it is served.
//!
//! The page seals in the browser with WebCrypto; the server hands it the certificate's facts
//! (computed here by sealant-core, so the page needs no X.509 parser) and nothing else. No
//! route accepts a body: nothing a user types can reach a server through this crate; the one
//! thing the page puts in a request is the namespace it seals for (`cert.json?namespace=NS`,
//! docs/webui.md, "Tenant keys"), whose certificate each server chooses as its sealing
//! command does.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod facts;

use std::borrow::Cow;

use http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode};
use sealant_core::Certificate;
use time::OffsetDateTime;

pub use facts::{CertFacts, Owner, cert_facts};

/// The page's Content-Security-Policy: only the page's own scripts, styles and requests; no
/// inline script, no form target, no framing, no `<base>` (docs/webui.md, "What the page
/// can do").
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Headers on every answer, assets, facts and errors alike.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), clipboard-read=(), interest-cohort=()",
    ),
];

/// The file name under which the page fetches the certificate's facts.
pub const FACTS_PATH: &str = "cert.json";

/// The query parameter naming the namespace the page seals for.
pub const NAMESPACE_PARAM: &str = "namespace";

/// The certificate a facts request is answered with, as the server chose it for the request's
/// namespace.
#[derive(Debug, Clone)]
pub enum Facts<'a> {
    /// Seal for `cert`, `owner`'s key.
    Ready {
        /// The certificate.
        cert: &'a Certificate,
        /// Whose key it is.
        owner: Owner,
    },
    /// No certificate for this namespace: `status` (400 for a bad namespace name, 503 while
    /// its owner's keys are not ready, …) and a short text naming no value, shown by the page.
    Refused {
        /// The answer's status.
        status: StatusCode,
        /// Its text.
        message: Cow<'static, str>,
    },
}

/// True when [`respond`] answers this request with the facts: servers choose the certificate
/// (which may take a request to the cluster) only then.
pub fn wants_facts(method: &Method, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD) && path == FACTS_PATH
}

/// The raw value of the [`NAMESPACE_PARAM`] of `query` (`None`: absent or empty). Not checked
/// here: the server that chooses the certificate checks it, as its API does.
pub fn query_namespace(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix(NAMESPACE_PARAM)?.strip_prefix('='))
        .filter(|value| !value.is_empty())
}

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its path relative to the page (`index.html`, `app.js`, …).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../assets/", $name)),
        }
    };
}

/// Every file of the page. The scripts are ES modules: `app.js` imports the others.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.css", CSS),
    asset!("app.js", JS),
    asset!("seal.js", JS),
    asset!("yaml.js", JS),
    asset!("rules.js", JS),
    asset!("paste.js", JS),
];

/// The asset at `path` (relative to the page; empty means `index.html`).
pub fn asset(path: &str) -> Option<&'static Asset> {
    let name = if path.is_empty() { "index.html" } else { path };
    ASSETS.iter().find(|a| a.name == name)
}

/// An answer of the page's router: what both servers send, headers included.
pub type Reply = Response<Cow<'static, [u8]>>;

/// Answers one request for `path`, relative to where the page is mounted (no leading `/`;
/// empty for the page itself). `facts` is the certificate to seal for, chosen per request (for
/// the query's namespace, see [`wants_facts`]) so that a renewed key is picked up; `None`
/// answers 503 for the facts. Only GET and HEAD.
pub fn respond(
    method: &Method,
    path: &str,
    facts: Option<Facts<'_>>,
    now: OffsetDateTime,
) -> Reply {
    if method != Method::GET && method != Method::HEAD {
        let mut reply = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        reply
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return reply;
    }
    if path == FACTS_PATH {
        return match facts {
            Some(Facts::Ready { cert, owner }) => {
                let json = serde_json::to_vec(&cert_facts(cert, &owner, now)).unwrap_or_default();
                with_headers(StatusCode::OK, JSON, Cow::Owned(json))
            }
            Some(Facts::Refused { status, message }) => {
                let body = match message {
                    Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
                    Cow::Owned(text) => Cow::Owned(text.into_bytes()),
                };
                with_headers(status, TEXT, body)
            }
            None => plain(StatusCode::SERVICE_UNAVAILABLE, "no certificate yet\n"),
        };
    }
    match asset(path) {
        Some(asset) => with_headers(
            StatusCode::OK,
            asset.content_type,
            Cow::Borrowed(asset.body),
        ),
        None => plain(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Reply {
    with_headers(status, TEXT, Cow::Borrowed(text.as_bytes()))
}

fn with_headers(status: StatusCode, content_type: &'static str, body: Cow<'static, [u8]>) -> Reply {
    let mut reply = Response::new(body);
    *reply.status_mut() = status;
    let headers = reply.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    reply
}

#[cfg(test)]
mod tests;
