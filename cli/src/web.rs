//! `sealant web`: the browser sealing page (docs/webui.md) served on loopback, for the
//! certificate `sealant seal` would use. The page seals in the browser; this server only hands
//! out the embedded files and the certificate's facts, and accepts no request body.
//!
//! The page asks for the namespace it seals for (`cert.json?namespace=NS`); the certificate is
//! then chosen as `sealant seal` chooses it for a Secret of NS (`certsrc::load_for`:
//! the namespace owner's, docs/multi-tenancy.md, "Tenant keys"). A `--cert` file or URL is
//! used as it is, for every namespace (owner `given certificate`).

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
use sealant_webui::{Facts, Owner};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::args::{CertSourceArgs, ClusterArgs, WebArgs};
use crate::certsrc;
use crate::cluster::KubeOverrides;
use crate::error::{CliError, ClusterError, Result};
use crate::io::IoError;

/// Where the page's certificates come from.
struct Source {
    /// The certificate loaded at start: the cluster's (no namespace asked), or the given one.
    first: Certificate,
    /// Whose it is.
    first_owner: Owner,
    /// `--cert`: the same certificate for every namespace.
    given: bool,
    /// How `sealant seal` finds a namespace's certificate.
    cert_args: CertSourceArgs,
    cluster: ClusterArgs,
}

/// Loads the certificate as `sealant seal` does, prints the page's address and serves it until
/// interrupted. An expired certificate is served with a warning: the page shows it and refuses
/// to seal.
///
/// # Errors
/// The certificate cannot be loaded, or the address cannot be listened on.
pub fn run(args: &WebArgs) -> Result<()> {
    let loaded = certsrc::load(&args.cert, &args.cluster, &KubeOverrides::default())?;
    let given = args.cert.cert.is_some();
    let source = Arc::new(Source {
        first: loaded.cert,
        first_owner: if given {
            Owner::Given
        } else {
            Owner::Key(loaded.owner)
        },
        given,
        cert_args: args.cert.clone(),
        cluster: args.cluster.clone(),
    });
    let cert = &source.first;
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
        serve(listener, local, source).await;
        Ok(())
    })
}

/// Serves connections one task each, for ever.
async fn serve(listener: TcpListener, local: SocketAddr, source: Arc<Source>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let source = source.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let source = source.clone();
            async move { Ok::<_, Infallible>(answer(&request, local, &source).await) }
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
async fn answer<B>(
    request: &Request<B>,
    local: SocketAddr,
    source: &Source,
) -> Response<Full<Bytes>> {
    if !host_is_local(request.headers().get(HOST), local.port()) {
        let mut response = Response::new(Full::new(Bytes::from_static(b"wrong host\n")));
        *response.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return response;
    }
    let path = request.uri().path().strip_prefix('/').unwrap_or_default();
    let fetched;
    let facts = if sealant_webui::wants_facts(request.method(), path) {
        let namespace = sealant_webui::query_namespace(request.uri().query());
        match choose(source, namespace) {
            Choice::First => Some(Facts::Ready {
                cert: &source.first,
                owner: source.first_owner.clone(),
            }),
            Choice::Refused(facts) => Some(facts),
            Choice::Namespace(namespace) => {
                fetched = for_namespace(source, namespace).await;
                Some(match &fetched {
                    Ok(loaded) => Facts::Ready {
                        cert: &loaded.cert,
                        owner: Owner::Key(loaded.owner.clone()),
                    },
                    Err(err) => refusal(namespace, err),
                })
            }
        }
    } else {
        None
    };
    let reply = sealant_webui::respond(request.method(), path, facts, OffsetDateTime::now_utc());
    reply.map(|body| Full::new(Bytes::from(body.into_owned())))
}

/// What a facts request is answered with, before any request to the cluster.
#[derive(Debug)]
enum Choice<'a> {
    /// The certificate loaded at start: no namespace asked, or `--cert`.
    First,
    /// The certificate `sealant seal` would fetch for this namespace.
    Namespace(&'a str),
    /// A bad namespace name (400).
    Refused(Facts<'static>),
}

fn choose<'a>(source: &Source, namespace: Option<&'a str>) -> Choice<'a> {
    let Some(namespace) = namespace else {
        return Choice::First;
    };
    // A namespace name is an RFC 1123 label, the rule of a tenant name (core's check).
    if sealant_core::TenantName::parse(namespace).is_err() {
        return Choice::Refused(Facts::Refused {
            status: StatusCode::BAD_REQUEST,
            message: "invalid namespace: expected a lowercase RFC 1123 label\n".into(),
        });
    }
    if source.given {
        Choice::First
    } else {
        Choice::Namespace(namespace)
    }
}

/// `sealant seal`'s choice for a Secret of `namespace`, off the async threads (it makes its
/// own runtime to ask the controller, and may read and write the certificate cache).
async fn for_namespace(source: &Source, namespace: &str) -> Result<certsrc::LoadedCert> {
    let (cert_args, cluster, namespace) = (
        source.cert_args.clone(),
        source.cluster.clone(),
        namespace.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        certsrc::load_for(
            &cert_args,
            &cluster,
            &KubeOverrides::default(),
            Some(&namespace),
        )
    })
    .await
    .map_err(|err| IoError::Runtime(std::io::Error::other(err)))?
}

/// The page's answer when `namespace`'s certificate cannot be had: 503 while its tenant's keys
/// are not ready, the controller's own status when it refused, 502 otherwise.
fn refusal(namespace: &str, err: &CliError) -> Facts<'static> {
    let status = match err {
        CliError::Cluster(ClusterError::TenantKeysNotReady { .. }) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        CliError::Cluster(ClusterError::CertStatus(status)) => *status,
        _ => StatusCode::BAD_GATEWAY,
    };
    Facts::Refused {
        status,
        message: format!("no certificate for namespace {namespace}: {err}\n").into(),
    }
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
    use clap::Parser as _;

    use super::*;

    const CERT: &[u8] = include_bytes!("../../examples/cert.pem");

    /// `sealant web` with these arguments, and the example certificate as loaded at start.
    fn source(argv: &[&str], owner: Owner) -> Source {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            web: WebArgs,
        }
        let args = Cli::try_parse_from(std::iter::once("web").chain(argv.iter().copied()))
            .expect("arguments")
            .web;
        Source {
            first: Certificate::from_pem(CERT).expect("example certificate"),
            first_owner: owner,
            given: args.cert.cert.is_some(),
            cert_args: args.cert,
            cluster: args.cluster,
        }
    }

    fn get(source: &Source, path: &str, host: &str) -> Response<Full<Bytes>> {
        let request = Request::get(path)
            .header(HOST, host)
            .body(())
            .expect("request");
        let runtime = crate::runtime().expect("runtime");
        runtime.block_on(answer(
            &request,
            SocketAddr::from((Ipv4Addr::LOCALHOST, 8123)),
            source,
        ))
    }

    fn facts(reply: Response<Full<Bytes>>) -> serde_json::Value {
        let runtime = crate::runtime().expect("runtime");
        let body = runtime
            .block_on(http_body_util::BodyExt::collect(reply.into_body()))
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&body).expect("json")
    }

    #[test]
    fn serves_the_page_and_facts_to_loopback_names_only() {
        let source = source(&["--cert", "cert.pem"], Owner::Given);
        let page = get(&source, "/", "127.0.0.1:8123");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            page.headers()["content-security-policy"],
            sealant_webui::CONTENT_SECURITY_POLICY
        );
        assert_eq!(
            get(&source, "/cert.json?x=1", "localhost:8123").status(),
            StatusCode::OK
        );
        assert_eq!(
            get(&source, "/nope", "localhost:8123").status(),
            StatusCode::NOT_FOUND
        );
        for host in ["evil.example:8123", "127.0.0.1:80", "127.0.0.1", ""] {
            assert_eq!(
                get(&source, "/", host).status(),
                StatusCode::MISDIRECTED_REQUEST,
                "{host}"
            );
        }
    }

    /// `--cert`: the namespace changes nothing, and the page is told so.
    #[test]
    fn a_given_certificate_serves_every_namespace() {
        let source = source(&["--cert", "cert.pem"], Owner::Given);
        for path in ["/cert.json", "/cert.json?namespace=shop"] {
            let reply = get(&source, path, "127.0.0.1:8123");
            assert_eq!(reply.status(), StatusCode::OK, "{path}");
            assert_eq!(facts(reply)["owner"], "given certificate", "{path}");
        }
    }

    /// From the controller: no namespace is the cluster certificate loaded at start; a
    /// namespace is `sealant seal`'s choice for it; a bad name is refused before any request.
    #[test]
    fn namespaces_are_chosen_as_seal_chooses() {
        let source = source(&[], Owner::Key(sealant_core::KeyOwner::Cluster));
        assert!(!source.given);
        assert!(matches!(choose(&source, None), Choice::First));
        assert!(matches!(
            choose(&source, Some("shop")),
            Choice::Namespace("shop")
        ));
        let reply = get(&source, "/cert.json?namespace=", "127.0.0.1:8123");
        assert_eq!(facts(reply)["owner"], "cluster");
        for bad in ["Shop", "a%2Fb", "-a", "a.b"] {
            let reply = get(
                &source,
                &format!("/cert.json?namespace={bad}"),
                "127.0.0.1:8123",
            );
            assert_eq!(reply.status(), StatusCode::BAD_REQUEST, "{bad}");
        }
        let given = self::source(&["--cert", "cert.pem"], Owner::Given);
        assert!(matches!(choose(&given, Some("shop")), Choice::First));
    }

    #[test]
    fn refusals_keep_the_controllers_verdict() {
        let status = |err: CliError| match refusal("shop", &err) {
            Facts::Refused { status, message } => {
                assert!(message.contains("namespace shop"), "{message}");
                status
            }
            Facts::Ready { .. } => panic!("ready"),
        };
        assert_eq!(
            status(CliError::Cluster(ClusterError::TenantKeysNotReady {
                namespace: "shop".into(),
                message: "keys of tenant t are not ready".into(),
            })),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status(CliError::Cluster(ClusterError::CertStatus(
                StatusCode::BAD_REQUEST
            ))),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(CliError::Cluster(ClusterError::ContextNotFound("x".into()))),
            StatusCode::BAD_GATEWAY
        );
    }

    /// `certsrc::load_for` makes a runtime of its own: that must work where the server calls it.
    #[test]
    fn a_blocking_task_may_run_its_own_runtime() {
        let runtime = crate::runtime().expect("runtime");
        let value = runtime
            .block_on(async {
                tokio::task::spawn_blocking(|| {
                    crate::runtime()
                        .expect("inner runtime")
                        .block_on(async { 7 })
                })
                .await
            })
            .expect("joined");
        assert_eq!(value, 7);
    }
}
