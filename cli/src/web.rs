//! `sealant web`: the browser sealing page (docs/webui.md) served on loopback, for the
//! certificate `sealant seal` would use. The page seals in the browser; this server only hands
//! out the embedded files and the certificate's facts, and accepts no request body.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::header::HOST;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sealant_core::Certificate;
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::args::WebArgs;
use crate::certsrc;
use crate::cluster::KubeOverrides;
use crate::error::Result;
use crate::io::IoError;

/// Loads the certificate as `sealant seal` does, prints the page's address and serves it until
/// interrupted. An expired certificate is served with a warning: the page shows it and refuses
/// to seal.
///
/// # Errors
/// The certificate cannot be loaded, or the address cannot be listened on.
pub fn run(args: &WebArgs) -> Result<()> {
    let loaded = certsrc::load(&args.cert, &args.cluster, &KubeOverrides::default())?;
    let cert = Arc::new(loaded.cert);
    eprintln!(
        "source:      {}\nfingerprint: {}\nkey:         RSA {} bits, valid until {}",
        loaded.origin,
        cert.public_key().fingerprint(),
        cert.public_key().bits(),
        cert.not_after().date(),
    );
    if cert.check_not_expired(OffsetDateTime::now_utc()).is_err() {
        eprintln!("warning: this certificate has expired: the page will refuse to seal");
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    crate::runtime()?.block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| IoError::Listen { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| IoError::Listen { addr, source })?;
        eprintln!("Open this address in a browser; Ctrl-C stops the server.");
        crate::io::write_stdout(format!("http://{local}/\n").as_bytes())?;
        serve(listener, local, cert).await;
        Ok(())
    })
}

/// Serves connections one task each, for ever.
async fn serve(listener: TcpListener, local: SocketAddr, cert: Arc<Certificate>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let cert = cert.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let reply = answer(&request, local, &cert);
            async move { Ok::<_, Infallible>(reply) }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// One answer. Requests naming another host are refused: a web site cannot reach this server
/// by pointing a name of its own at 127.0.0.1 (DNS rebinding).
fn answer<B>(request: &Request<B>, local: SocketAddr, cert: &Certificate) -> Response<Full<Bytes>> {
    if !host_is_local(request.headers().get(HOST), local.port()) {
        let mut response = Response::new(Full::new(Bytes::from_static(b"wrong host\n")));
        *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return response;
    }
    let path = request.uri().path().strip_prefix('/').unwrap_or_default();
    let reply = sealant_webui::respond(
        request.method(),
        path,
        Some(cert),
        OffsetDateTime::now_utc(),
    );
    reply.map(|body| Full::new(Bytes::from(body.into_owned())))
}

fn host_is_local(host: Option<&http::HeaderValue>, port: u16) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    ["127.0.0.1", "localhost"]
        .iter()
        .any(|name| host == format!("{name}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &[u8] = include_bytes!("../../examples/cert.pem");

    fn get(path: &str, host: &str) -> Response<Full<Bytes>> {
        let cert = Certificate::from_pem(CERT).expect("example certificate");
        let request = Request::get(path)
            .header(HOST, host)
            .body(())
            .expect("request");
        answer(
            &request,
            SocketAddr::from((Ipv4Addr::LOCALHOST, 8123)),
            &cert,
        )
    }

    #[test]
    fn serves_the_page_and_facts_to_loopback_names_only() {
        let page = get("/", "127.0.0.1:8123");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            page.headers()["content-security-policy"],
            sealant_webui::CONTENT_SECURITY_POLICY
        );
        assert_eq!(
            get("/cert.json?x=1", "localhost:8123").status(),
            StatusCode::OK
        );
        assert_eq!(
            get("/nope", "localhost:8123").status(),
            StatusCode::NOT_FOUND
        );
        for host in ["evil.example:8123", "127.0.0.1:80", "127.0.0.1", ""] {
            assert_eq!(
                get("/", host).status(),
                StatusCode::MISDIRECTED_REQUEST,
                "{host}"
            );
        }
    }
}
