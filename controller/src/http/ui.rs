//! The browser sealing page at `/ui/` (`--web-ui`, docs/webui.md): sealant-webui's embedded
//! files and the newest key's certificate facts. The page seals in the browser; no route here
//! reads a request body, so nothing a user types reaches the controller.

use bytes::Bytes;
use http::header::{HeaderValue, LOCATION};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use time::OffsetDateTime;

use super::{ApiState, Body};

/// Where the page is mounted on the API port.
pub(crate) const PREFIX: &str = "/ui";

/// True for the paths this module answers (with `--web-ui`).
pub(crate) fn is_ui_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/ui/")
}

/// Answers one request under [`PREFIX`]. `/ui` redirects to `/ui/` with a relative location,
/// so it also works under the API server's service proxy prefix.
pub(crate) fn handle<B>(state: &ApiState, request: &Request<B>) -> Response<Body> {
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
    let cert = snapshot.newest().map(|key| &key.cert);
    sealant_webui::respond(request.method(), rest, cert, OffsetDateTime::now_utc())
        .map(|body| Full::new(Bytes::from(body.into_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_prefix_is_ours() {
        for path in ["/ui", "/ui/", "/ui/app.js", "/ui/cert.json"] {
            assert!(is_ui_path(path), "{path}");
        }
        for path in ["/uix", "/v1/cert.pem", "/", "/healthz", "/u"] {
            assert!(!is_ui_path(path), "{path}");
        }
    }
}
