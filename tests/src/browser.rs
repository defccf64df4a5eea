//! A headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`,
//! installed by `tests/setup.sh`), for the sealing page's tests (docs/webui.md).
//!
//! The W3C WebDriver protocol is JSON over HTTP; the few commands the tests need are spoken
//! here directly with the blocking HTTP client the CLI already uses, so no WebDriver crate and
//! its dependencies enter the tree. Each [`Browser`] has its own chromedriver, port and fresh
//! profile, and records Chrome's performance log (every network request) for
//! [`Browser::requests`].

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

/// The WebDriver key code of Tab.
pub const TAB: &str = "\u{E004}";
/// The WebDriver key code of Enter.
pub const ENTER: &str = "\u{E007}";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const POLL: Duration = Duration::from_millis(100);
const WAIT: Duration = Duration::from_secs(30);

/// One request the browser sent, from its performance log.
#[derive(Debug, Clone)]
pub struct SentRequest {
    /// The method.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// The body, if any (Chrome logs it for small bodies).
    pub body: Option<String>,
    /// The whole log entry, headers included, as text: what the plaintext is searched in.
    pub raw: String,
}

/// A headless Chromium session; the browser and its driver are stopped when dropped.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    profile: PathBuf,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// An element of the page.
#[derive(Debug)]
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session with a fresh profile.
    ///
    /// # Errors
    /// Chromium or chromedriver missing (`bash tests/setup.sh` installs them) or not starting.
    pub fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver (bash tests/setup.sh installs chromium-driver)")?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let profile = std::env::temp_dir().join(crate::unique_name("chromium-profile"));
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            profile,
        };
        let deadline = Instant::now() + WAIT;
        while browser.call("GET", "/status", None).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not start");
            }
            std::thread::sleep(POLL);
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1000,1500",
            &format!("--user-data-dir={}", browser.profile.display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium()?, "args": args },
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        }}});
        let session = browser.call("POST", "/session", Some(caps))?;
        browser.session = session["sessionId"]
            .as_str()
            .context("no session id")?
            .to_owned();
        Ok(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut response = match (method, body) {
            ("GET", _) => self.agent.get(&url).call()?,
            ("DELETE", _) => self.agent.delete(&url).call()?,
            (_, body) => self
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(serde_json::to_vec(&body.unwrap_or_else(|| json!({})))?)?,
        };
        let status = response.status();
        let value: Value = serde_json::from_slice(&response.body_mut().read_to_vec()?)?;
        if !status.is_success() {
            bail!(
                "WebDriver {method} {path}: {status}: {}",
                value["value"]["message"]
            );
        }
        Ok(value.get("value").cloned().unwrap_or(Value::Null))
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url` and waits for it to load.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.session_call("POST", "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    /// The first element matching the CSS selector.
    ///
    /// # Errors
    /// None matches.
    pub fn find(&self, css: &str) -> anyhow::Result<Element<'_>> {
        let found = self.session_call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        self.element(&found)
            .with_context(|| format!("no element {css}"))
    }

    fn element(&self, value: &Value) -> anyhow::Result<Element<'_>> {
        Ok(Element {
            browser: self,
            id: value[ELEMENT_KEY]
                .as_str()
                .context("not an element")?
                .to_owned(),
        })
    }

    /// The focused element.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn active(&self) -> anyhow::Result<Element<'_>> {
        let found = self.session_call("GET", "/element/active", None)?;
        self.element(&found)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; returns its value.
    ///
    /// # Errors
    /// The script throws.
    pub fn execute(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs `script`, which calls its last argument with the result when done.
    ///
    /// # Errors
    /// The script throws or times out.
    pub fn execute_async(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.session_call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Polls the JavaScript expression `condition` until it is truthy.
    ///
    /// # Errors
    /// It stays falsy for 30 s.
    pub fn wait_until(&self, condition: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.execute(&format!("return !!({condition});"), json!([]))?;
            if value == json!(true) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {condition}");
            }
            std::thread::sleep(POLL);
        }
    }

    /// A PNG of the window.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        let text = self.session_call("GET", "/screenshot", None)?;
        let png = sealant_core::base64::decode(text.as_str().context("no screenshot")?)?;
        Ok(png.expose_secret().to_vec())
    }

    /// Every request the browser sent since the last call (Chrome's performance log).
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn requests(&self) -> anyhow::Result<Vec<SentRequest>> {
        let entries =
            self.session_call("POST", "/se/log", Some(json!({ "type": "performance" })))?;
        let mut out = Vec::new();
        for entry in entries.as_array().into_iter().flatten() {
            let Some(text) = entry["message"].as_str() else {
                continue;
            };
            let message: Value = serde_json::from_str(text)?;
            let message = &message["message"];
            if message["method"] != "Network.requestWillBeSent" {
                continue;
            }
            let request = &message["params"]["request"];
            out.push(SentRequest {
                method: request["method"].as_str().unwrap_or_default().to_owned(),
                url: request["url"].as_str().unwrap_or_default().to_owned(),
                body: request["postData"].as_str().map(str::to_owned),
                raw: text.to_owned(),
            });
        }
        Ok(out)
    }

    /// The browser console's messages since the last call (CSP violations land here).
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn console(&self) -> anyhow::Result<Vec<String>> {
        let entries = self.session_call("POST", "/se/log", Some(json!({ "type": "browser" })))?;
        Ok(entries
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .collect())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Element<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        self.browser
            .session_call(method, &format!("/element/{}{path}", self.id), body)
    }

    /// Types `text` into it (WebDriver key codes such as [`TAB`] included).
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn send_keys(&self, text: &str) -> anyhow::Result<()> {
        self.call("POST", "/value", Some(json!({ "text": text })))?;
        Ok(())
    }

    /// Empties an input.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn clear(&self) -> anyhow::Result<()> {
        self.call("POST", "/clear", None)?;
        Ok(())
    }

    /// Clicks it.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn click(&self) -> anyhow::Result<()> {
        self.call("POST", "/click", None)?;
        Ok(())
    }

    /// A DOM property (`value`, `id`, …).
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn property(&self, name: &str) -> anyhow::Result<Value> {
        self.call("GET", &format!("/property/{name}"), None)
    }

    /// Its `id` attribute.
    ///
    /// # Errors
    /// WebDriver errors.
    pub fn id(&self) -> anyhow::Result<String> {
        Ok(self.property("id")?.as_str().unwrap_or_default().to_owned())
    }
}

/// Debian's Chromium binary.
fn chromium() -> anyhow::Result<String> {
    for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(path).exists() {
            return Ok(path.to_owned());
        }
    }
    bail!("no chromium: bash tests/setup.sh installs it")
}

/// What `kubectl proxy` does for the browser: a loopback HTTP server that sends each GET on to
/// the API server with the test cluster's credentials, so the page can be opened under the
/// API server's service proxy path. Answers keep their status and headers (the page's
/// Content-Security-Policy among them). Stops when dropped.
pub struct ApiProxy {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ApiProxy {
    /// Starts it on a free loopback port.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start(client: kube::Client) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let client = client.clone();
                let service =
                    hyper::service::service_fn(move |request| forward(client.clone(), request));
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ApiProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    client: kube::Client,
    request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    let failed = |status: http::StatusCode| {
        let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::new()));
        *response.status_mut() = status;
        response
    };
    if request.method() != http::Method::GET {
        return Ok(failed(http::StatusCode::METHOD_NOT_ALLOWED));
    }
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
        .to_owned();
    let Ok(outgoing) = http::Request::get(path).body(kube::client::Body::empty()) else {
        return Ok(failed(http::StatusCode::BAD_REQUEST));
    };
    let Ok(response) = client.send(outgoing).await else {
        return Ok(failed(http::StatusCode::BAD_GATEWAY));
    };
    let (parts, body) = response.into_parts();
    let Ok(bytes) = body.collect_bytes().await else {
        return Ok(failed(http::StatusCode::BAD_GATEWAY));
    };
    let mut out = http::Response::from_parts(parts, http_body_util::Full::new(bytes));
    // The body was collected (and decoded): its framing headers no longer apply.
    out.headers_mut().remove(http::header::TRANSFER_ENCODING);
    out.headers_mut().remove(http::header::CONTENT_LENGTH);
    out.headers_mut().remove(http::header::CONTENT_ENCODING);
    Ok(out)
}

/// What `kubectl port-forward` is to the browser: a loopback port relaying every connection to
/// `target` (the controller's API port). Pages on `127.0.0.1` are a secure context, where
/// browsers offer WebCrypto; an `http://` page at a Pod's address is not. Stops when dropped.
pub struct PortForward {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl PortForward {
    /// Starts relaying from a free loopback port.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start(target: std::net::SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}
