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
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
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

mod page;
mod tenant;

use page::{check_bad_input, check_csp, check_keyboard_and_labels, check_yaml_quoting};
use tenant::*;

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
        // The one thing the page sends: the namespace it seals for (a name, never a value).
        let facts_for_namespace = path
            .strip_prefix("cert.json?namespace=")
            .is_some_and(|ns| sealant_core::TenantName::parse(ns).is_ok());
        ensure!(
            PAGE_PATHS.contains(&path) || facts_for_namespace,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the test control plane and chromium: bash tests/e2e.sh"]
async fn webui_controller_page_seals_for_the_controller() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("webui").await?;
    // Tenant keys (docs/multi-tenancy.md, "Tenant keys"): a namespace of tenant `webui`, named
    // by a label key of this test's own, so that the other controllers with tenant keys on the
    // shared cluster (tenant_keys.rs) neither see this tenant nor make keys for it. `ns` is a
    // namespace of no tenant: the cluster key.
    // A label that names no tenant: no key at all for that namespace (fail closed).
    let tenant_ns = cluster.namespace("webui-tenant").await?;
    let bad_ns = cluster.namespace("webui-badlabel").await?;
    for (namespace, tenant) in [(&tenant_ns, WEBUI_TENANT), (&bad_ns, "Not_A_Tenant")] {
        let label = json!({ "metadata": { "labels": { WEBUI_TENANT_LABEL: tenant } } });
        Api::<Namespace>::all(cluster.client())
            .patch(
                namespace.name(),
                &PatchParams::default(),
                &Patch::Merge(&label),
            )
            .await?;
    }
    let controller = ProxiedController::start(
        &cluster,
        ns.name(),
        &[
            "--web-ui",
            "--tenant-keys",
            "--tenant-label",
            WEBUI_TENANT_LABEL,
            "--additional-namespaces",
            tenant_ns.name(),
        ],
    )
    .await?;
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
    let tenant_facts = format!("/ui/cert.json?namespace={}", tenant_ns.name());
    let fp_tenant = sealant_tests::wait_for(
        "the tenant's certificate",
        sealant_tests::DEFAULT_TIMEOUT,
        || async { Ok(sealant_tests::controller::http_get(&api_addr, &tenant_facts).await) },
    )
    .await
    .map(|body| facts_of(&body, &format!("tenant={WEBUI_TENANT}")))??;
    let fp_cluster = sealant_tests::controller::http_get(&api_addr, "/ui/cert.json")
        .await
        .map(|body| facts_of(&body, "cluster"))
        .context("the cluster's facts")??;
    ensure!(fp_tenant != fp_cluster, "one key for both owners");
    let value = canary::embed("s3cret value");
    let tenant_value = canary::embed("tenant s3cret");
    let tenant_sealed = tokio::task::spawn_blocking({
        let (direct, value, namespace, bad) = (
            direct.clone(),
            tenant_value.clone(),
            tenant_ns.name().to_owned(),
            bad_ns.name().to_owned(),
        );
        move || seal_for_tenant(&direct, &namespace, &bad, &value)
    });
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
    ensure!(
        hint(&object) == fp_cluster,
        "sealed for no tenant: {}",
        hint(&object)
    );
    // Sealed in the page for the tenant's namespace: the tenant's key, Synced by the controller.
    let tenant_sealed = tenant_sealed.await??;
    let core = sealant_core::object::read_sealed_secrets(&tenant_sealed)?.remove(0);
    let object: SealedSecret = serde_json::from_value(serde_json::to_value(core)?)?;
    ensure!(
        hint(&object) == fp_tenant,
        "sealed for the tenant: {}",
        hint(&object)
    );
    let tenant_api = Api::<SealedSecret>::namespaced(cluster.client(), tenant_ns.name());
    tenant_api.create(&PostParams::default(), &object).await?;
    let tenant_secrets: Api<Secret> = Api::namespaced(cluster.client(), tenant_ns.name());
    wait_secret_data(&tenant_secrets, "for-tenant", &[("value", &tenant_value)]).await?;
    let synced = sealant_tests::wait_for(
        "for-tenant Synced=True",
        sealant_tests::DEFAULT_TIMEOUT,
        || async {
            let object = tenant_api.get("for-tenant").await?;
            let status = object.status.clone().unwrap_or_default();
            let synced = status.conditions.unwrap_or_default().iter().any(|c| {
                c.type_ == "Synced"
                    && c.status == "True"
                    && status.observed_generation == object.metadata.generation
            });
            Ok(synced.then_some(
                status
                    .key_fingerprints
                    .as_deref()
                    .unwrap_or_default()
                    .to_vec(),
            ))
        },
    )
    .await?;
    ensure!(synced == vec![fp_tenant.clone()], "opened with {synced:?}");
    check_cli_web_per_namespace(
        &cluster,
        ns.name(),
        tenant_ns.name(),
        &fp_tenant,
        &fp_cluster,
    )
    .await?;
    controller.process.check_log()?;
    drop(controller);
    ns.cleanup().await?;
    tenant_ns.cleanup().await?;
    bad_ns.cleanup().await?;
    Ok(())
}
