//! The metrics listener (`--listen-metrics-addr`): `/metrics` (the text of
//! [`crate::metrics::Metrics`]) and the probes `/healthz` and `/readyz`.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::Full;
use hyper::Response;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Body, Serving, serve};
use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE};

/// Serves `/metrics`, `/healthz` and `/readyz` (`ready`: as the API's) on `listener` until
/// `shutdown`, with the same connection caps and timeouts as the API but its own count: the
/// deployed probes use this port, which a flood of the API port cannot reach
/// (docs/controller.md, "HTTP connections").
///
/// # Errors
/// None so far; see [`super::serve_api`].
pub(crate) async fn serve_metrics(
    listener: TcpListener,
    serving: Serving,
    metrics: Arc<Metrics>,
    ready: tokio::sync::watch::Receiver<bool>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    serve(
        listener,
        "metrics",
        serving,
        shutdown,
        move |request, _peer| {
            let metrics = metrics.clone();
            let ready = *ready.borrow();
            async move { metrics_response(&metrics, request.uri().path(), ready) }
        },
    )
    .await
}

fn metrics_response(metrics: &Metrics, path: &str, ready: bool) -> Response<Body> {
    let (status, content_type, body) = match path {
        "/metrics" => match metrics.encode() {
            Ok(text) => (StatusCode::OK, OPENMETRICS_CONTENT_TYPE, text),
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "cannot encode metrics\n".to_owned(),
            ),
        },
        "/healthz" => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ok\n".to_owned(),
        ),
        "/readyz" if ready => (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ok\n".to_owned(),
        ),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "not ready\n".to_owned(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "404 page not found\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
