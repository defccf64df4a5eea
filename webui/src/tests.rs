use http::Method;
use sealant_core::Certificate;
use time::OffsetDateTime;

use super::*;

const CERT: &[u8] = include_bytes!("../../examples/cert.pem");

fn cert() -> Certificate {
    Certificate::from_pem(CERT).expect("the example certificate parses")
}

fn ready(cert: &Certificate) -> Option<Facts<'_>> {
    Some(Facts::Ready {
        cert,
        owner: Owner::Key(sealant_core::KeyOwner::Cluster),
    })
}

#[test]
fn every_answer_carries_the_security_headers() {
    let now = OffsetDateTime::now_utc();
    for path in [
        "",
        "index.html",
        "app.js",
        "app.css",
        FACTS_PATH,
        "nope",
        "../secret",
    ] {
        let reply = respond(&Method::GET, path, ready(&cert()), now);
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(reply.headers()[*name], *value, "{path}: {name}");
        }
    }
    let refused = respond(&Method::POST, "", ready(&cert()), now);
    assert_eq!(refused.status(), http::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        refused.headers()["content-security-policy"],
        CONTENT_SECURITY_POLICY
    );
}

#[test]
fn the_policy_is_at_least_the_documented_one() {
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
    }
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
}

#[test]
fn routes_serve_the_embedded_files_only() {
    let now = OffsetDateTime::now_utc();
    let page = respond(&Method::GET, "", None, now);
    assert_eq!(page.status(), http::StatusCode::OK);
    assert_eq!(
        page.body().as_ref(),
        asset("index.html").map(|a| a.body).unwrap_or_default()
    );
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let js = respond(&Method::HEAD, "seal.js", None, now);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    for path in ["/", "/index.html", "app.js/", "x", "index.html?x"] {
        assert_eq!(
            respond(&Method::GET, path, None, now).status(),
            http::StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        respond(&Method::GET, FACTS_PATH, None, now).status(),
        http::StatusCode::SERVICE_UNAVAILABLE
    );
}

/// The page loads nothing from elsewhere and has no inline script or style: every asset
/// reference is a relative path to an embedded file (so the page works under any prefix).
#[test]
fn the_page_references_only_embedded_relative_assets() {
    let html = std::str::from_utf8(asset("index.html").map(|a| a.body).unwrap_or_default())
        .expect("utf-8");
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let target = piece.split('"').next().unwrap_or_default();
            // `data:,` is the empty icon, so that the browser asks for no /favicon.ico.
            assert!(
                target == "data:," || asset(target).is_some(),
                "{target} is not embedded"
            );
        }
    }
    assert!(!html.contains("<script>") && !html.contains("<style") && !html.contains(" style="));
    assert!(!html.contains("<form"), "no form: nothing can be submitted");
    for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let js = std::str::from_utf8(a.body).expect("utf-8");
        for import in js.lines().filter(|l| l.starts_with("import ")) {
            let target = import
                .rsplit("\"./")
                .next()
                .unwrap_or_default()
                .trim_end_matches("\";");
            assert!(asset(target).is_some(), "{}: {import}", a.name);
        }
        for forbidden in [
            "http://",
            "https://",
            "localStorage",
            "sessionStorage",
            "indexedDB",
            "document.cookie",
            "eval(",
            "innerHTML",
        ] {
            assert!(!js.contains(forbidden), "{} uses {forbidden}", a.name);
        }
    }
}

#[test]
fn facts_match_core() {
    let cert = cert();
    let facts = cert_facts(&cert, &Owner::Given, cert.not_before());
    assert_eq!(
        facts.fingerprint,
        cert.public_key().fingerprint().to_string()
    );
    assert_eq!(facts.key_hint, facts.fingerprint);
    assert_eq!(facts.bits, cert.public_key().bits());
    assert_eq!(
        sealant_core::base64::decode(&facts.spki)
            .expect("base64")
            .expose_secret(),
        cert.public_key().spki_der()
    );
    assert!(!facts.expired);
    let later = cert.not_after() + time::Duration::seconds(1);
    assert!(cert_facts(&cert, &Owner::Given, later).expired);
    let json: serde_json::Value =
        serde_json::from_slice(respond(&Method::GET, FACTS_PATH, ready(&cert), later).body())
            .expect("json");
    assert_eq!(json["expired"], true);
    assert_eq!(json["keyHintAnnotation"], "sealant.dev/key-hint");
    assert!(json["notAfter"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[test]
fn facts_name_their_owner() {
    let cert = cert();
    let tenant = sealant_core::KeyOwner::Tenant(
        sealant_core::TenantName::parse("payments").expect("a tenant name"),
    );
    let now = OffsetDateTime::now_utc();
    for (owner, text) in [
        (Owner::Key(sealant_core::KeyOwner::Cluster), "cluster"),
        (Owner::Key(tenant), "tenant=payments"),
        (Owner::Given, "given certificate"),
    ] {
        let reply = respond(
            &Method::GET,
            FACTS_PATH,
            Some(Facts::Ready { cert: &cert, owner }),
            now,
        );
        let json: serde_json::Value = serde_json::from_slice(reply.body()).expect("json");
        assert_eq!(json["owner"], text);
    }
}

#[test]
fn refused_facts_keep_their_status_text_and_headers() {
    let now = OffsetDateTime::now_utc();
    for (status, message) in [
        (http::StatusCode::BAD_REQUEST, "invalid namespace\n"),
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            "keys of tenant t are not ready\n",
        ),
    ] {
        let reply = respond(
            &Method::GET,
            FACTS_PATH,
            Some(Facts::Refused {
                status,
                message: message.to_owned().into(),
            }),
            now,
        );
        assert_eq!(reply.status(), status);
        assert_eq!(reply.body().as_ref(), message.as_bytes());
        assert_eq!(reply.headers()["content-type"], "text/plain; charset=utf-8");
        assert_eq!(
            reply.headers()["content-security-policy"],
            CONTENT_SECURITY_POLICY
        );
    }
}

#[test]
fn the_namespace_comes_from_its_parameter_only() {
    for (query, namespace) in [
        (None, None),
        (Some(""), None),
        (Some("namespace="), None),
        (Some("namespace=shop"), Some("shop")),
        (Some("x=1&namespace=shop&namespace=other"), Some("shop")),
        (Some("namespaces=shop"), None),
        (Some("xnamespace=shop"), None),
        (Some("namespace=Bad%2F"), Some("Bad%2F")),
    ] {
        assert_eq!(query_namespace(query), namespace, "{query:?}");
    }
    assert!(wants_facts(&Method::GET, FACTS_PATH));
    assert!(wants_facts(&Method::HEAD, FACTS_PATH));
    assert!(!wants_facts(&Method::POST, FACTS_PATH));
    assert!(!wants_facts(&Method::GET, "app.js"));
}
