//! The browser sealing page (docs/webui.md): hand-written assets embedded in the binary, the
//! security headers every answer carries, and the one router both servers use (the controller
//! under `/ui/`, `sealant web` at the root), so the page is the same wherever it is served.
//!
//! The page seals in the browser with WebCrypto; the server hands it the certificate's facts
//! (computed here by sealant-core, so the page needs no X.509 parser) and nothing else. No
//! route accepts a body: nothing a user types can reach a server through this crate.

#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

mod facts;

use std::borrow::Cow;

use http::header::{ALLOW, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Response, StatusCode};
use sealant_core::Certificate;
use time::OffsetDateTime;

pub use facts::{CertFacts, cert_facts};

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
/// empty for the page itself). `cert` is the certificate to seal for, looked up per request so
/// that a renewed key is picked up; `None` answers 503 for the facts. Only GET and HEAD.
pub fn respond(
    method: &Method,
    path: &str,
    cert: Option<&Certificate>,
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
        return match cert {
            Some(cert) => {
                let json = serde_json::to_vec(&cert_facts(cert, now)).unwrap_or_default();
                with_headers(StatusCode::OK, JSON, Cow::Owned(json))
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
