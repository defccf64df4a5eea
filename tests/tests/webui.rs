//! The sealing page (docs/webui.md) in a real headless Chromium (`sealant_tests::browser`):
//! served by `sealant web` it seals exactly what `sealant seal` writes, opens with the
//! recovery path, sends no value anywhere, blocks injected scripts and works from the
//! keyboard; served by the controller (`--web-ui`) through the API server's service proxy
//! and directly (as through `kubectl port-forward`), what it seals is unsealed by the
//! controller on the real control plane.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use sealant_controller::crd::SealedSecret;
use sealant_core::keys::{KeyGenOptions, generate_key};
use sealant_core::{KeyRing, UnsealOptions, unseal};
use sealant_tests::browser::{Browser, ENTER, SentRequest, TAB};
use sealant_tests::canary;
use sealant_tests::cli::{RunningSealant, Sealant};
use sealant_tests::controller::{
    PROXIED_SERVICE, ProxiedController, cluster_with_crd, free_local_addr, wait_secret_data,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

/// The files of the page: the only paths the browser may ask for.
const PAGE_PATHS: &[&str] = &[
    "",
    "app.css",
    "app.js",
    "seal.js",
    "yaml.js",
    "rules.js",
    "paste.js",
    "cert.json",
];

struct Keys {
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    fingerprint: String,
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A 2048-bit key and certificate valid from `start` for `days`, in a directory of their own.
fn keys(start: OffsetDateTime, days: i64) -> anyhow::Result<Keys> {
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("webui-keys"));
    std::fs::create_dir_all(&dir)?;
    let mut options = KeyGenOptions::upstream_defaults(start);
    options.bits = 2048;
    options.validity = time::Duration::days(days);
    let (private, cert) = generate_key(&options)?;
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&key_path, private.to_pkcs1_pem()?.as_bytes())?;
    Ok(Keys {
        dir,
        cert: cert_path,
        key: key_path,
        fingerprint: cert.public_key().fingerprint().to_string(),
    })
}

/// `sealant web --cert CERT` on a free port; returns it and the page's URL once it answers.
fn serve(cert: &Path) -> anyhow::Result<(RunningSealant, String)> {
    let addr = free_local_addr()?;
    let port = addr.rsplit(':').next().context("port")?;
    let cert = cert.to_string_lossy();
    let server = Sealant::new(&["web", "--cert", &cert, "--port", port])?.spawn()?;
    let url = format!("http://{addr}/");
    for _ in 0..300 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return Ok((server, url));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("sealant web did not listen on {addr}")
}

/// What one seal in the page is given.
struct Form<'a> {
    namespace: &'a str,
    name: &'a str,
    scope: &'a str,
    type_: &'a str,
    items: &'a [(&'a str, &'a str)],
}

fn set_value(browser: &Browser, css: &str, value: &str) -> anyhow::Result<()> {
    let element = browser.find(css)?;
    element.clear()?;
    if !value.is_empty() {
        element.send_keys(value)?;
    }
    Ok(())
}

/// Fills the form as a person would (typing), with one row per item.
fn fill(browser: &Browser, form: &Form<'_>) -> anyhow::Result<()> {
    browser.find("#clear")?.click()?;
    set_value(browser, "#namespace", form.namespace)?;
    set_value(browser, "#name", form.name)?;
    browser.execute(
        "document.getElementById('scope').value = arguments[0];",
        json!([form.scope]),
    )?;
    set_value(browser, "#type", form.type_)?;
    for (i, (key, value)) in form.items.iter().enumerate() {
        if i > 0 {
            browser.find("#add-item")?.click()?;
        }
        let n = i + 1;
        set_value(
            browser,
            &format!("#items .item:nth-child({n}) .item-key"),
            key,
        )?;
        set_value(
            browser,
            &format!("#items .item:nth-child({n}) .item-value"),
            value,
        )?;
    }
    Ok(())
}

/// Clicks Seal; returns the result as YAML and as JSON.
fn seal(browser: &Browser) -> anyhow::Result<(String, String)> {
    browser.find("#seal")?.click()?;
    if let Err(err) = browser.wait_until("!document.getElementById('output').hidden") {
        let errors = browser.execute(
            "return [...document.querySelectorAll('.error')].map(e => e.textContent).filter(t => t);",
            json!([]),
        )?;
        bail!(
            "{err}: the page says {errors}; console: {:?}",
            browser.console()?
        );
    }
    let result = |format: &str| -> anyhow::Result<String> {
        browser
            .execute(
                "const f = document.getElementById('format'); f.value = arguments[0];\
             f.dispatchEvent(new Event('change')); return document.getElementById('result').value;",
                json!([format]),
            )?
            .as_str()
            .map(str::to_owned)
            .context("no result")
    };
    Ok((result("yaml")?, result("json")?))
}

/// `text` with every ciphertext of `sealed` replaced by a marker.
fn masked(text: &str) -> anyhow::Result<String> {
    let sealed = sealant_core::object::read_sealed_secrets(text)?.remove(0);
    let mut out = text.to_owned();
    for value in sealed.spec.encrypted_data.values() {
        out = out.replace(value.as_str(), "CIPHERTEXT");
    }
    Ok(out)
}

/// The page's and the CLI's output for the same Secret agree but for the ciphertexts, and the
/// page's opens with the private key (in process and with `sealant unseal`).
fn check_like_cli(
    keys: &Keys,
    scope: &str,
    manifest: &str,
    page: &(String, String),
    expected: &BTreeMap<String, Vec<u8>>,
) -> anyhow::Result<()> {
    let file = keys.dir.join("secret.yaml");
    std::fs::write(&file, manifest)?;
    let (cert, file_arg) = (keys.cert.to_string_lossy(), file.to_string_lossy());
    for (format, text) in [("yaml", &page.0), ("json", &page.1)] {
        let cli = Sealant::new(&[
            "seal", "--cert", &cert, "--scope", scope, "-f", &file_arg, "-o", format,
        ])?
        .run()?;
        ensure!(cli.status.success(), "sealant seal: {}", cli.stderr);
        ensure!(
            masked(text)? == masked(&cli.stdout)?,
            "{scope} {format}: the page wrote\n{text}\nthe CLI wrote\n{}",
            cli.stdout
        );
    }
    let sealed = sealant_core::object::read_sealed_secrets(&page.0)?.remove(0);
    let ring: KeyRing = [sealant_core::PrivateKey::from_pem(&std::fs::read(
        &keys.key,
    )?)?]
    .into_iter()
    .collect();
    let unsealed = unseal(&sealed, &ring, UnsealOptions::default())?;
    let opened: BTreeMap<String, Vec<u8>> = unsealed
        .data()
        .iter()
        .map(|(k, v)| (k.clone(), v.expose_secret().to_vec()))
        .collect();
    ensure!(
        &opened == expected,
        "{scope}: the items open to other values"
    );
    let sealed_file = keys.dir.join("sealed.yaml");
    std::fs::write(&sealed_file, &page.0)?;
    let recovered = Sealant::new(&[
        "unseal",
        "--recovery-private-key",
        &keys.key.to_string_lossy(),
        "-f",
        &sealed_file.to_string_lossy(),
        "-o",
        "json",
    ])?
    .stdout_is_plaintext()
    .run()?;
    ensure!(
        recovered.status.success(),
        "sealant unseal: {}",
        recovered.stderr
    );
    let secret: Value = serde_json::from_str(&recovered.stdout)?;
    for (key, value) in expected {
        let got = secret["data"][key].as_str().context("item missing")?;
        ensure!(
            sealant_core::base64::decode(got)?.expose_secret() == value.as_slice(),
            "{key}"
        );
    }
    Ok(())
}

/// No request carries a value (URL, headers, body), and every request is for the page's own
/// files at `base`.
fn check_requests(requests: &[SentRequest], base: &str, values: &[&str]) -> anyhow::Result<()> {
    ensure!(
        !requests.is_empty(),
        "the performance log recorded no request"
    );
    // The browser's own pages (`chrome://new-tab-page`, `data:` icons) are no network requests.
    for request in requests
        .iter()
        .filter(|r| !r.url.starts_with("chrome") && !r.url.starts_with("data:"))
    {
        for value in values.iter().chain([&canary::canary()]) {
            ensure!(
                !request.raw.contains(value),
                "a request carries a value: {}",
                request.url
            );
            ensure!(
                !request
                    .raw
                    .contains(&sealant_core::base64::encode(value.as_bytes())),
                "a request carries a value in base64: {}",
                request.url
            );
        }
        ensure!(
            request.method == "GET" && request.body.is_none(),
            "{} {}",
            request.method,
            request.url
        );
        let path = request
            .url
            .strip_prefix(base)
            .with_context(|| format!("request elsewhere: {}", request.url))?;
        ensure!(
            PAGE_PATHS.contains(&path),
            "unexpected request {}",
            request.url
        );
    }
    Ok(())
}

/// Opens the page and waits until its certificate is loaded.
fn open(browser: &Browser, url: &str) -> anyhow::Result<()> {
    browser.goto(url)?;
    browser
        .wait_until("document.body.dataset.ready === 'true'")
        .with_context(|| {
            let status = browser
                .execute(
                    "return document.getElementById('cert-status')?.textContent;",
                    json!([]),
                )
                .unwrap_or_default();
            format!("{url}: the page says {status}")
        })
}

#[test]
#[ignore = "needs chromium and chromium-driver: bash tests/e2e.sh"]
fn webui_seals_in_the_browser_like_the_cli() -> anyhow::Result<()> {
    let keys = keys(OffsetDateTime::now_utc(), 30)?;
    let (server, url) = serve(&keys.cert)?;
    let browser = Browser::start()?;
    open(&browser, &url)?;
    let shown = browser.find("#cert-fingerprint")?.property("textContent")?;
    ensure!(
        shown == json!(keys.fingerprint),
        "fingerprint shown: {shown}"
    );

    let password = canary::embed("correct horse battery staple");
    let user = canary::embed("ops");
    let items = [
        ("password", password.as_str()),
        ("user.name", user.as_str()),
    ];
    let expected: BTreeMap<String, Vec<u8>> = items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    for (scope, namespace) in [
        ("strict", "shop"),
        ("namespace-wide", "shop"),
        ("cluster-wide", ""),
    ] {
        let form = Form {
            namespace,
            name: "db",
            scope,
            type_: "kubernetes.io/basic-auth",
            items: &items,
        };
        fill(&browser, &form)?;
        let page = seal(&browser)?;
        let ns_line = if namespace.is_empty() {
            String::new()
        } else {
            format!("  namespace: {namespace}\n")
        };
        let manifest = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n{ns_line}type: kubernetes.io/basic-auth\nstringData:\n  password: {password}\n  user.name: {user}\n"
        );
        check_like_cli(&keys, scope, &manifest, &page, &expected)?;
    }
    // docs/webui.png, on demand: the example Secret of examples/secret.yaml, sealed.
    if std::env::var_os("SEALANT_WEBUI_SCREENSHOT").is_some() {
        let demo = [
            ("password", "correct horse battery staple"),
            ("username", "shop"),
        ];
        fill(
            &browser,
            &Form {
                namespace: "shop",
                name: "db-credentials",
                scope: "strict",
                type_: "kubernetes.io/basic-auth",
                items: &demo,
            },
        )?;
        seal(&browser)?;
        browser.execute("document.getElementById('format').value = 'yaml';            document.getElementById('format').dispatchEvent(new Event('change')); window.scrollTo(0, 0);", json!([]))?;
        std::fs::write(
            sealant_tests::repo_file("docs/webui.png"),
            browser.screenshot()?,
        )?;
    }

    // A pasted `kubectl get secret -o yaml`: labels and annotations kept, server fields and
    // the last-applied copy dropped, data and stringData merged, as `sealant seal` does.
    let pasted = format!(
        "apiVersion: v1\ndata:\n  token: {}\n  bin: /wD+\nimmutable: true\nkind: Secret\nmetadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {{\"stringData\":{{\"token\":\"x\"}}}}\n    team: \"payments # core\"\n    yes: \"on\"\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  labels:\n    app.kubernetes.io/name: shop\n    tier: \"007\"\n  name: api-token\n  namespace: shop\n  resourceVersion: \"42\"\n  uid: 0b1c\nstringData:\n  note: '{}'\ntype: Opaque\n",
        sealant_core::base64::encode(user.as_bytes()),
        password.replace('\'', "''")
    );
    browser.find("#clear")?.click()?;
    browser.find("#paste-text")?.send_keys(&pasted)?;
    browser.find("#paste-load")?.click()?;
    browser.wait_until("document.getElementById('name').value === 'api-token'")?;
    let page = seal(&browser)?;
    let mut expected_pasted = BTreeMap::new();
    expected_pasted.insert("token".to_owned(), user.as_bytes().to_vec());
    expected_pasted.insert("bin".to_owned(), vec![0xff, 0x00, 0xfe]);
    expected_pasted.insert("note".to_owned(), password.as_bytes().to_vec());
    check_like_cli(&keys, "strict", &pasted, &page, &expected_pasted)?;

    check_requests(&browser.requests()?, &url, &[&password, &user])?;
    check_yaml_quoting(&browser)?;
    check_csp(&browser)?;
    check_keyboard_and_labels(&browser)?;
    check_bad_input(&browser)?;
    // Since then (the CSP test's request to another origin was blocked before leaving): only
    // the page's own files, and no value.
    for request in browser
        .requests()?
        .iter()
        .filter(|r| r.url.starts_with("http"))
    {
        ensure!(
            request.url.starts_with(&url) && !request.raw.contains(canary::canary()),
            "a later request: {}",
            request.url
        );
    }
    drop(browser);
    server.kill()?;

    // An expired certificate is shown, and sealing refused.
    let expired = keys_expired()?;
    let (server, url) = serve(&expired.cert)?;
    let browser = Browser::start()?;
    browser.goto(&url)?;
    browser.wait_until("document.getElementById('cert-status').textContent.includes('expired')")?;
    ensure!(browser.find("#seal")?.property("disabled")? == json!(true));
    drop(browser);
    server.kill()?;
    Ok(())
}

fn keys_expired() -> anyhow::Result<Keys> {
    keys(OffsetDateTime::now_utc() - time::Duration::days(3), 1)
}

/// The page's YAML writer against the CLI's on awkward strings, as keys and as values.
fn check_yaml_quoting(browser: &Browser) -> anyhow::Result<()> {
    let mut strings: Vec<String> = [
        "yes",
        "No",
        "on",
        "y",
        "~",
        "null",
        "NULL",
        "true",
        "1",
        "-1",
        "+1",
        "0x1F",
        "0o17",
        "0b101",
        "1_000",
        "1e3",
        ".5",
        "5.",
        ".inf",
        "-.INF",
        ".nan",
        "1:20",
        "190:20:30.15",
        "2026-01-01",
        "2026-1-1 10:00:00 +02:00",
        "2026-01-01T10:00:00Z",
        "<<",
        "=",
        "-",
        "?",
        "- a",
        "-a",
        ":a",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "'a'",
        "\"a\"",
        "%a",
        "@a",
        "`a",
        "{a}",
        "[a]",
        "a,b",
        " a",
        "a ",
        "---",
        "--- a",
        "...",
        "a\tb",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{feff}a",
        "\u{1b}",
        "é",
        "日本",
        "\\",
        "a'b",
        "0755",
        "Opaque",
        "kubernetes.io/tls",
        "SHA256:abc/def+g=",
        "1.2.3",
        "0.",
        "+.5",
        "_1",
        "1__0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // And short random strings over the characters that matter.
    let alphabet: Vec<char> = "aZ019-._:#'\" \\?!&*@`%|>{[,~exobyn+=<é\u{85}\u{2028}\t"
        .chars()
        .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1500 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let len = 1 + (state >> 60) as usize % 6;
        let s: String = (0..len)
            .map(|i| alphabet[((state >> (8 * i)) as usize) % alphabet.len()])
            .collect();
        strings.push(s);
    }
    let page = browser.execute_async(
        "const [strings, done] = arguments;\
         import('./yaml.js').then(m => done(strings.map(s => m.toYaml({ [s]: s }))), e => done(String(e)));",
        json!([strings]),
    )?;
    let page = page.as_array().context("the page's writer failed")?;
    for (s, text) in strings.iter().zip(page) {
        let cli = format!("---\n{}", sealant_core::yaml::to_string(&json!({ s: s }))?);
        ensure!(
            text.as_str() == Some(cli.as_str()),
            "{s:?}: page {text} vs CLI {cli:?}"
        );
    }
    Ok(())
}

/// An injected inline script does not run and is reported; a request elsewhere is blocked.
fn check_csp(browser: &Browser) -> anyhow::Result<()> {
    let outcome = browser.execute_async(
        "const done = arguments[0]; const seen = [];\
         document.addEventListener('securitypolicyviolation', e => seen.push(e.violatedDirective));\
         const s = document.createElement('script'); s.textContent = 'window.injected = 1;';\
         document.head.appendChild(s);\
         fetch('http://127.0.0.1:9/x').then(() => 'sent', () => 'blocked').then(f =>\
           setTimeout(() => done({ ran: window.injected === 1, fetch: f, seen }), 200));",
        json!([]),
    )?;
    ensure!(
        outcome["ran"] == json!(false),
        "the injected script ran: {outcome}"
    );
    ensure!(outcome["fetch"] == json!("blocked"), "{outcome}");
    let seen = outcome["seen"].to_string();
    ensure!(
        seen.contains("script-src") && seen.contains("connect-src"),
        "violations: {seen}"
    );
    Ok(())
}

/// Every field has a label; Tab reaches Seal and Enter presses it.
fn check_keyboard_and_labels(browser: &Browser) -> anyhow::Result<()> {
    let unlabelled = browser.execute(
        "return [...document.querySelectorAll('input, select, textarea')]\
           .filter(e => e.labels.length === 0 || !e.labels[0].textContent.trim()).map(e => e.id || e.className);",
        json!([]),
    )?;
    ensure!(
        unlabelled == json!([]),
        "fields without a label: {unlabelled}"
    );
    fill(
        browser,
        &Form {
            namespace: "shop",
            name: "kb",
            scope: "strict",
            type_: "Opaque",
            items: &[("k", "v")],
        },
    )?;
    browser.execute(
        "document.getElementById('output').hidden = true;",
        json!([]),
    )?;
    browser.find("#type")?.click()?;
    let mut reached = false;
    for _ in 0..20 {
        browser.active()?.send_keys(TAB)?;
        if browser.active()?.id()? == "seal" {
            reached = true;
            break;
        }
    }
    ensure!(reached, "Tab never reached the Seal button");
    browser.active()?.send_keys(ENTER)?;
    browser.wait_until("!document.getElementById('output').hidden")
}

/// Bad input gets inline errors, and nothing is sealed.
fn check_bad_input(browser: &Browser) -> anyhow::Result<()> {
    let error_of = |id: &str| -> anyhow::Result<String> {
        Ok(browser
            .find(&format!("#{id}"))?
            .property("textContent")?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    fill(
        browser,
        &Form {
            namespace: "shop",
            name: "",
            scope: "strict",
            type_: "Opaque",
            items: &[("bad key!", "v")],
        },
    )?;
    browser.find("#seal")?.click()?;
    ensure!(error_of("name-error")?.contains("name"), "empty name");
    ensure!(browser.find("#name")?.property("ariaInvalid")? == json!("true"));
    let key_error = browser
        .find("#items .item-error")?
        .property("textContent")?;
    ensure!(
        key_error.as_str().is_some_and(|e| e.contains("letters")),
        "bad key: {key_error}"
    );
    ensure!(
        browser.find("#output")?.property("hidden")? == json!(true),
        "sealed despite errors"
    );

    fill(
        browser,
        &Form {
            namespace: "Shop_1",
            name: "ok",
            scope: "strict",
            type_: "Opaque",
            items: &[("big", "x")],
        },
    )?;
    browser.execute(
        "document.querySelector('.item-value').value = 'x'.repeat(1048577);",
        json!([]),
    )?;
    browser.find("#seal")?.click()?;
    ensure!(
        error_of("namespace-error")?.contains("namespace"),
        "bad namespace"
    );
    ensure!(
        error_of("items-error")?.contains("1 MiB"),
        "oversized: {}",
        error_of("items-error")?
    );

    for (manifest, needle) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
            "not a Secret",
        ),
        ("{\"kind\": \"Secret\", ", "not valid JSON"),
        ("kind: Secret\nmetadata:\n  name: &a x\n", "anchors"),
    ] {
        set_value(browser, "#paste-text", manifest)?;
        browser.find("#paste-load")?.click()?;
        let error = error_of("paste-error")?;
        ensure!(error.contains(needle), "{manifest:?}: {error}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane and chromium: bash tests/e2e.sh"]
async fn webui_controller_page_seals_for_the_controller() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("webui").await?;
    let controller = ProxiedController::start(&cluster, ns.name(), &["--web-ui"]).await?;
    let proxy = sealant_tests::browser::ApiProxy::start(cluster.client()).await?;
    let via_proxy = format!(
        "{}/api/v1/namespaces/{}/services/{PROXIED_SERVICE}:http/proxy/ui/",
        proxy.url(),
        ns.name()
    );
    let forward =
        sealant_tests::browser::PortForward::start(controller.api_addr().parse()?).await?;
    let direct = format!("{}/ui/", forward.url());
    // The page loads the certificate once: wait until the controller has its key.
    let api_addr = controller.api_addr();
    sealant_tests::wait_for(
        "the controller's certificate",
        sealant_tests::DEFAULT_TIMEOUT,
        || {
            let api_addr = api_addr.clone();
            async move { Ok(sealant_tests::controller::http_get(&api_addr, "/ui/cert.json").await) }
        },
    )
    .await?;
    let value = canary::embed("s3cret value");
    let sealed = tokio::task::spawn_blocking({
        let (via_proxy, direct, value, namespace) = (
            via_proxy.clone(),
            direct.clone(),
            value.clone(),
            ns.name().to_owned(),
        );
        move || -> anyhow::Result<String> {
            let browser = Browser::start()?;
            // As through `kubectl port-forward`: the controller's port on a loopback address.
            open(&browser, &direct)?;
            // Through the API server's service proxy; `…/ui` lands on `…/ui/`.
            open(&browser, via_proxy.trim_end_matches('/'))?;
            fill(
                &browser,
                &Form {
                    namespace: &namespace,
                    name: "from-browser",
                    scope: "strict",
                    type_: "Opaque",
                    items: &[("value", &value)],
                },
            )?;
            let (yaml, _) = seal(&browser)?;
            let requests = browser.requests()?;
            for base in [&direct, &via_proxy] {
                let own: Vec<SentRequest> = requests
                    .iter()
                    .filter(|r| r.url.starts_with(base.as_str()))
                    .cloned()
                    .collect();
                check_requests(&own, base, &[&value])?;
            }
            for r in requests.iter().filter(|r| r.url.starts_with("http")) {
                ensure!(
                    r.url.starts_with(&direct)
                        || r.url.starts_with(via_proxy.trim_end_matches('/')),
                    "a request elsewhere: {}",
                    r.url
                );
            }
            Ok(yaml)
        }
    })
    .await??;
    let core = sealant_core::object::read_sealed_secrets(&sealed)?.remove(0);
    let object: SealedSecret = serde_json::from_value(serde_json::to_value(core)?)?;
    Api::<SealedSecret>::namespaced(cluster.client(), ns.name())
        .create(&PostParams::default(), &object)
        .await?;
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    wait_secret_data(&secrets, "from-browser", &[("value", &value)]).await?;
    controller.process.check_log()?;
    drop(controller);
    ns.cleanup().await?;
    Ok(())
}
