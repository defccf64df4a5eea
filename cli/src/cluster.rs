//! Talking to a cluster: kubeconfig handling like kubectl, and the controller's HTTP API
//! reached through the API server's service proxy (so no port-forward is needed).

use std::path::PathBuf;
use std::time::Duration;

use http::{Request, StatusCode};
use k8s_openapi::api::core::v1::Service;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use sealant_core::{KeyOwner, SecretString};

use crate::args::ClusterArgs;

/// Result alias for this module.
type Result<T, E = ClusterError> = std::result::Result<T, E>;

pub use crate::error::ClusterError;

/// kubectl's connection override flags (`--server`, `--token`, `--user`, …). Only kubeseal mode
/// takes them; `sealant`'s own commands pass [`KubeOverrides::default`], which changes nothing.
/// Not `Clone`: it holds the `--token` and `--password` secrets.
#[derive(Default)]
pub struct KubeOverrides {
    /// `--cluster`: the kubeconfig cluster entry to use instead of the context's.
    pub cluster: Option<String>,
    /// `--user`: the kubeconfig user entry to use instead of the context's.
    pub user: Option<String>,
    /// `--server`: the API server URL. Enough on its own, without a kubeconfig.
    pub server: Option<String>,
    /// `--tls-server-name`: the name the API server's certificate must carry.
    pub tls_server_name: Option<String>,
    /// `--certificate-authority`: a PEM file of CAs for the API server.
    pub certificate_authority: Option<PathBuf>,
    /// `--insecure-skip-tls-verify`: do not check the API server's certificate.
    pub insecure_skip_tls_verify: bool,
    /// `--proxy-url`: refused at connection time (this build has no proxy support).
    pub proxy_url: Option<String>,
    /// `--disable-compression`.
    pub disable_compression: bool,
    /// `--client-certificate`: a PEM client certificate file.
    pub client_certificate: Option<String>,
    /// `--client-key`: the PEM key file of `--client-certificate`.
    pub client_key: Option<String>,
    /// `--token`: a bearer token; replaces the kubeconfig user's credentials.
    pub token: Option<SecretString>,
    /// `--as`: the user to impersonate.
    pub impersonate: Option<String>,
    /// `--as-uid`: the UID to impersonate.
    pub impersonate_uid: Option<String>,
    /// `--as-group`: the groups to impersonate (repeatable).
    pub impersonate_groups: Vec<String>,
    /// `--username`: basic authentication user.
    pub username: Option<String>,
    /// `--password`: basic authentication password.
    pub password: Option<SecretString>,
    /// `--request-timeout`: a Go duration (`30s`, `1m`, a bare number of seconds); `0` is none.
    pub request_timeout: Option<String>,
}

impl KubeOverrides {
    /// True when any flag selects which kubeconfig entries to load.
    fn selects_entries(&self) -> bool {
        self.cluster.is_some() || self.user.is_some()
    }

    /// A suffix for the certificate cache key, so that `--server`/`--cluster` pointing
    /// elsewhere do not share (and trip) the pin of the context's usual cluster.
    pub(crate) fn cache_key(&self) -> String {
        [&self.cluster, &self.server]
            .into_iter()
            .flatten()
            .map(|part| format!("_{part}"))
            .collect()
    }

    /// Applies the overrides to a loaded configuration, as kubectl layers its flags over the
    /// kubeconfig.
    fn apply(&self, config: &mut Config) -> Result<()> {
        if let Some(server) = &self.server {
            config.cluster_url = parse_server(server)?;
        }
        if let Some(name) = &self.tls_server_name {
            config.tls_server_name = Some(name.clone());
        }
        if let Some(path) = &self.certificate_authority {
            config.root_cert = None;
            config.root_cert_file = Some(path.clone());
        }
        if self.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
            config.root_cert = None;
            config.root_cert_file = None;
        }
        if let Some(url) = &self.proxy_url {
            return Err(ClusterError::ProxyUnsupported(url.clone()));
        }
        config.disable_compression |= self.disable_compression;
        let auth = &mut config.auth_info;
        if let Some(path) = &self.client_certificate {
            auth.client_certificate = Some(path.clone());
            auth.client_certificate_data = None;
        }
        if let Some(path) = &self.client_key {
            auth.client_key = Some(path.clone());
            auth.client_key_data = None;
        }
        if self.token.is_some() || self.username.is_some() {
            // Flags win over every credential the kubeconfig user has.
            auth.auth_provider = None;
            auth.exec = None;
            auth.token_file = None;
            auth.token = None;
            auth.username = None;
            auth.password = None;
        }
        if let Some(token) = &self.token {
            auth.token = Some(token.expose_secret().to_owned().into());
        }
        if let Some(username) = &self.username {
            auth.username = Some(username.clone());
            auth.password = self
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned().into());
        }
        if let Some(user) = &self.impersonate {
            auth.impersonate = Some(user.clone());
        }
        if let Some(uid) = &self.impersonate_uid {
            auth.impersonate_uid = Some(uid.clone());
        }
        if !self.impersonate_groups.is_empty() {
            auth.impersonate_groups = Some(self.impersonate_groups.clone());
        }
        if let Some(text) = &self.request_timeout {
            let timeout = parse_go_duration(text)
                .ok_or_else(|| ClusterError::RequestTimeout(text.clone()))?;
            if !timeout.is_zero() {
                config.connect_timeout = Some(timeout);
                config.read_timeout = Some(timeout);
                config.write_timeout = Some(timeout);
            }
        }
        Ok(())
    }
}

fn parse_server(server: &str) -> Result<http::Uri> {
    server
        .parse::<http::Uri>()
        .map_err(|source| ClusterError::Server {
            server: server.to_owned(),
            source,
        })
}

/// Parses a Go duration (`1h2m3.5s`, `300ms`) or, as kubectl also accepts, a bare number of
/// seconds. Negative durations are refused.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest.get(..number_len)?.parse().ok()?;
        rest = rest.get(number_len..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match rest.get(..unit_len)? {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = rest.get(unit_len..)?;
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// The namespace for inputs that name none: `-n`, else the kubeconfig context's, else
/// `default`. A missing kubeconfig is fine (offline use with --cert).
///
/// # Errors
/// A kubeconfig that exists but cannot be read, or a `--context` it does not have.
pub fn default_namespace(args: &ClusterArgs) -> Result<String> {
    Ok(configured_namespace(args)?.unwrap_or_else(|| "default".to_owned()))
}

/// Like [`default_namespace`], but `None` when there is neither `-n` nor a kubeconfig, for
/// callers that must not guess (kubeseal's `--raw`).
///
/// # Errors
/// As [`default_namespace`].
pub fn configured_namespace(args: &ClusterArgs) -> Result<Option<String>> {
    let kubeconfig = read_kubeconfig(args)?;
    // An explicit --context must exist, even when -n makes its namespace moot (as kubectl).
    let context = match (&kubeconfig, &args.context) {
        (None, Some(name)) => {
            return Err(ClusterError::NoKubeconfigForContext(name.clone()));
        }
        (Some(config), Some(name)) => match config.contexts.iter().find(|c| &c.name == name) {
            Some(context) => Some(context),
            None => {
                return Err(ClusterError::ContextNotFound(name.clone()));
            }
        },
        (Some(config), None) => config
            .current_context
            .as_ref()
            .and_then(|current| config.contexts.iter().find(|c| &c.name == current)),
        (None, None) => None,
    };
    if let Some(namespace) = &args.namespace {
        return Ok(Some(namespace.clone()));
    }
    if kubeconfig.is_none() {
        return Ok(None);
    }
    Ok(Some(
        context
            .and_then(|named| named.context.as_ref())
            .and_then(|c| c.namespace.clone())
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_owned()),
    ))
}

fn read_kubeconfig(args: &ClusterArgs) -> Result<Option<Kubeconfig>> {
    let result = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map(Some),
        None => {
            let env_set = std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
            let default_exists = std::env::var_os("HOME")
                .map(|home| std::path::Path::new(&home).join(".kube/config").exists())
                .unwrap_or(false);
            if !env_set && !default_exists {
                return Ok(None);
            }
            Kubeconfig::read().map(Some)
        }
    };
    result.map_err(ClusterError::Kubeconfig)
}

/// A client for the cluster the arguments point at (kubeconfig, else in-cluster), with
/// kubectl's override flags layered on top.
///
/// # Errors
/// No usable configuration.
pub async fn client(args: &ClusterArgs, overrides: &KubeOverrides) -> crate::error::Result<Client> {
    Ok(cluster_client(args, overrides).await?)
}

/// [`client`], with the error as it is.
async fn cluster_client(args: &ClusterArgs, overrides: &KubeOverrides) -> Result<Client> {
    Client::try_from(cluster_config(args, overrides).await?).map_err(ClusterError::Client)
}

/// The client configuration: kubeconfig (else in-cluster), overrides applied.
async fn cluster_config(args: &ClusterArgs, overrides: &KubeOverrides) -> Result<Config> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: overrides.cluster.clone(),
        user: overrides.user.clone(),
    };
    let loaded = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| ClusterError::KubeconfigFile {
                    path: path.clone(),
                    source,
                })?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(Box::from)
        }
        None if args.context.is_some() || overrides.selects_entries() => {
            Config::from_kubeconfig(&options).await.map_err(Box::from)
        }
        None => Config::infer().await.map_err(Box::from),
    };
    let mut config = match (loaded, &overrides.server) {
        (Ok(config), _) => config,
        // Like kubectl, `--server` (with `--token` or a client certificate) needs no kubeconfig.
        (Err(_), Some(server))
            if args.kubeconfig.is_none()
                && args.context.is_none()
                && !overrides.selects_entries() =>
        {
            Config::new(parse_server(server)?)
        }
        (Err(e), _) => return Err(ClusterError::NoCluster(e)),
    };
    overrides.apply(&mut config)?;
    Ok(config)
}

/// The controller's HTTP API, through the API server's service proxy.
pub struct Controller {
    client: Client,
    namespace: String,
    proxy_base: String,
}

impl Controller {
    /// Finds the controller's Service (its first port names the proxy target, as upstream).
    ///
    /// # Errors
    /// The Service does not exist or cannot be read.
    pub async fn connect(args: &ClusterArgs, overrides: &KubeOverrides) -> Result<Self> {
        let config = cluster_config(args, overrides).await?;
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config).map_err(ClusterError::Client)?;
        let services: Api<Service> = Api::namespaced(client.clone(), &args.controller_namespace);
        let service = services
            .get(&args.controller_name)
            .await
            .map_err(|source| {
                ClusterError::service(
                    server,
                    &args.controller_namespace,
                    &args.controller_name,
                    source,
                )
            })?;
        let port_name = service
            .spec
            .and_then(|spec| spec.ports)
            .and_then(|ports| ports.into_iter().next())
            .and_then(|port| port.name)
            .unwrap_or_default();
        let proxy_base = format!(
            "/api/v1/namespaces/{}/services/http:{}:{}/proxy",
            args.controller_namespace, args.controller_name, port_name
        );
        Ok(Self {
            client,
            namespace: args.controller_namespace.clone(),
            proxy_base,
        })
    }

    async fn call(
        &self,
        method: http::Method,
        path: &str,
        accept: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let (status, _, body) = self.call_with_headers(method, path, accept, body).await?;
        Ok((status, body))
    }

    /// [`Self::call`], with the answer's headers.
    async fn call_with_headers(
        &self,
        method: http::Method,
        path: &str,
        accept: &str,
        body: Vec<u8>,
    ) -> Result<(StatusCode, http::HeaderMap, Vec<u8>)> {
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.proxy_base))
            .header(http::header::ACCEPT, accept)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(kube::client::Body::from(body))
            .map_err(ClusterError::Request)?;
        let response =
            self.client
                .send(request)
                .await
                .map_err(|source| ClusterError::Unreachable {
                    namespace: self.namespace.clone(),
                    source,
                })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(ClusterError::Answer)?;
        Ok((status, headers, bytes.to_vec()))
    }

    /// `GET /v1/cert.pem`: the cluster certificate (upstream's call).
    ///
    /// # Errors
    /// Transport errors or a non-200 answer.
    pub async fn cert_pem(&self) -> Result<Vec<u8>> {
        Ok(self.cert_for(None).await?.0)
    }

    /// `GET /v1/cert.pem?namespace=NS`: the sealing certificate of `namespace`'s owner, and the
    /// owner the `Sealant-Key-Owner` header names (docs/multi-tenancy.md, "Tenant keys").
    /// Without `namespace`, the plain call: the cluster certificate. An answer without the
    /// header (an upstream or older controller, which ignores the query) is the cluster's.
    ///
    /// # Errors
    /// Transport errors, a tenant whose keys are not ready (503), another non-200 answer, or a
    /// header that names no owner.
    pub async fn cert_for(&self, namespace: Option<&str>) -> Result<(Vec<u8>, KeyOwner)> {
        let (status, headers, body) = self
            .call_with_headers(
                http::Method::GET,
                &namespaced_path("/v1/cert.pem", namespace),
                "application/x-pem-file, */*",
                Vec::new(),
            )
            .await
            .map_err(ClusterError::during("cannot fetch certificate"))?;
        if status != StatusCode::OK {
            return Err(
                not_ready(status, &body, namespace).unwrap_or(ClusterError::CertStatus(status))
            );
        }
        Ok((body, owner_of(&headers)?))
    }

    /// `GET /v1/recipient`: the controller's newest age recipient; `None` when it has none
    /// (404: an upstream or older controller, or age keys turned off).
    ///
    /// # Errors
    /// Transport errors, another answer, or a body that is not one recipient.
    pub async fn recipient(&self) -> Result<Option<sealant_core::AgeRecipient>> {
        self.recipient_for(None).await
    }

    /// `GET /v1/recipient?namespace=NS`: the age recipient of `namespace`'s owner (as
    /// [`Self::cert_for`]); `None` when there is none.
    ///
    /// # Errors
    /// As [`Self::recipient`]; a tenant whose keys are not ready (503).
    pub async fn recipient_for(
        &self,
        namespace: Option<&str>,
    ) -> Result<Option<sealant_core::AgeRecipient>> {
        let (status, body) = self
            .call(
                http::Method::GET,
                &namespaced_path("/v1/recipient", namespace),
                "text/plain, */*",
                Vec::new(),
            )
            .await
            .map_err(ClusterError::during("cannot fetch the age recipient"))?;
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            other => {
                return Err(not_ready(other, &body, namespace)
                    .unwrap_or(ClusterError::RecipientStatus(other)));
            }
        }
        let text = std::str::from_utf8(&body).unwrap_or_default().trim();
        text.parse().map(Some).map_err(ClusterError::BadRecipient)
    }

    /// `POST /v1/verify`: true when the controller can unseal it, false on 409.
    ///
    /// # Errors
    /// Transport errors or any other answer.
    pub async fn verify(&self, sealed_json: Vec<u8>) -> Result<bool> {
        let (status, body) = self
            .call(http::Method::POST, "/v1/verify", "*/*", sealed_json)
            .await
            .map_err(ClusterError::during("cannot validate sealed secret"))?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::CONFLICT => Ok(false),
            status => Err(ClusterError::VerifyStatus {
                status,
                body: short_body(&body),
            }),
        }
    }

    /// `POST /v1/rotate`: the SealedSecret re-encrypted to the newest key.
    ///
    /// # Errors
    /// Transport errors or a non-200 answer.
    pub async fn rotate(&self, sealed_json: Vec<u8>) -> Result<Vec<u8>> {
        let (status, body) = self
            .call(
                http::Method::POST,
                "/v1/rotate",
                "application/json",
                sealed_json,
            )
            .await
            .map_err(ClusterError::during("cannot re-encrypt secret"))?;
        if status != StatusCode::OK {
            return Err(ClusterError::RotateStatus {
                status,
                body: short_body(&body),
            });
        }
        Ok(body)
    }
}

/// The name of the answer header that says whose key a certificate is.
pub const KEY_OWNER_HEADER: &str = "Sealant-Key-Owner";

/// `path?namespace=NS` (percent-encoded), or `path` alone.
pub(crate) fn namespaced_path(path: &str, namespace: Option<&str>) -> String {
    match namespace.filter(|ns| !ns.is_empty()) {
        Some(namespace) => format!("{path}?namespace={}", percent_encode(namespace)),
        None => path.to_owned(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The owner the `Sealant-Key-Owner` header names: `cluster`, or `tenant=T`. No header: the
/// cluster (upstream controllers, and ours with tenant keys off, answer for the cluster).
///
/// # Errors
/// A header that is neither.
pub(crate) fn owner_of(headers: &http::HeaderMap) -> Result<KeyOwner> {
    let Some(value) = headers.get(KEY_OWNER_HEADER) else {
        return Ok(KeyOwner::Cluster);
    };
    let text = value.to_str().unwrap_or_default().trim();
    parse_owner(text).ok_or_else(|| ClusterError::BadOwner(text.chars().take(80).collect()))
}

/// `cluster` or `tenant=T` (T a tenant name).
pub(crate) fn parse_owner(text: &str) -> Option<KeyOwner> {
    KeyOwner::from_wire_name(text)
}

/// A 503 from the controller itself (plain text, not the API server's `Status` object that the
/// service proxy answers when the controller cannot be reached): the keys of the namespace's
/// tenant do not exist yet.
fn not_ready(status: StatusCode, body: &[u8], namespace: Option<&str>) -> Option<ClusterError> {
    let from_proxy = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("kind").and_then(serde_json::Value::as_str) == Some("Status"));
    (status == StatusCode::SERVICE_UNAVAILABLE && !from_proxy && namespace.is_some()).then(|| {
        ClusterError::TenantKeysNotReady {
            namespace: namespace.unwrap_or_default().to_owned(),
            message: short_body(body),
        }
    })
}

/// The gist of an error response: the `message` of a Kubernetes `Status` (what the API server's
/// service proxy answers when the controller cannot be reached), else the body's first 200
/// characters.
fn short_body(body: &[u8]) -> String {
    let status_message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| Some(value.get("message")?.as_str()?.to_owned()));
    let text = status_message.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    text.trim().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealant_core::TenantName;

    #[test]
    fn short_body_reports_a_status_message_not_its_json() {
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"error trying to reach service: dial tcp 10.0.0.1:8080: connect: connection refused","reason":"ServiceUnavailable","code":503}"#;
        assert_eq!(
            short_body(status),
            "error trying to reach service: dial tcp 10.0.0.1:8080: connect: connection refused"
        );
        assert_eq!(short_body(b"  plain text\n"), "plain text");
        assert_eq!(short_body(&[b'x'; 300]).len(), 200);
    }

    #[test]
    fn the_namespace_goes_in_the_query_percent_encoded() {
        assert_eq!(namespaced_path("/v1/cert.pem", None), "/v1/cert.pem");
        assert_eq!(namespaced_path("/v1/cert.pem", Some("")), "/v1/cert.pem");
        assert_eq!(
            namespaced_path("/v1/cert.pem", Some("team-a")),
            "/v1/cert.pem?namespace=team-a"
        );
        assert_eq!(
            namespaced_path("/v1/recipient", Some("a b&c=d/é")),
            "/v1/recipient?namespace=a%20b%26c%3Dd%2F%C3%A9"
        );
    }

    #[test]
    fn the_owner_header_names_the_cluster_or_a_tenant() {
        let headers = |value: &str| {
            let mut map = http::HeaderMap::new();
            map.insert(KEY_OWNER_HEADER, value.parse().unwrap());
            map
        };
        assert_eq!(
            owner_of(&http::HeaderMap::new()).unwrap(),
            KeyOwner::Cluster
        );
        assert_eq!(owner_of(&headers("cluster")).unwrap(), KeyOwner::Cluster);
        let tenant = owner_of(&headers("tenant=payments")).unwrap();
        assert_eq!(tenant.tenant().map(TenantName::as_str), Some("payments"));
        for bad in [
            "tenant=",
            "tenant=Pay",
            "tenants=a",
            "Cluster",
            "tenant=a b",
        ] {
            assert!(
                matches!(owner_of(&headers(bad)), Err(ClusterError::BadOwner(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn only_the_controllers_own_503_means_not_ready() {
        let ns = Some("team-a");
        let plain = b"keys of tenant a are not ready\n";
        let err = not_ready(StatusCode::SERVICE_UNAVAILABLE, plain, ns).unwrap();
        assert_eq!(
            err.to_string(),
            "cannot fetch certificate for namespace team-a: keys of tenant a are not ready"
        );
        assert!(err.hint().is_some_and(|h| h.contains("retry")));
        // The API server's service proxy answers 503 with a Status when the controller is down.
        let proxy = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service","code":503}"#;
        assert!(not_ready(StatusCode::SERVICE_UNAVAILABLE, proxy, ns).is_none());
        assert!(not_ready(StatusCode::INTERNAL_SERVER_ERROR, plain, ns).is_none());
        assert!(not_ready(StatusCode::SERVICE_UNAVAILABLE, plain, None).is_none());
    }

    #[test]
    fn go_durations() {
        let secs = |s: &str| parse_go_duration(s).map(|d| d.as_secs_f64());
        assert_eq!(secs("0"), Some(0.0));
        assert_eq!(secs("30"), Some(30.0), "a bare number is seconds");
        assert_eq!(secs("30s"), Some(30.0));
        assert_eq!(secs("1m30s"), Some(90.0));
        assert_eq!(secs("1h"), Some(3600.0));
        assert_eq!(secs("1.5s"), Some(1.5));
        assert_eq!(secs("300ms"), Some(0.3));
        assert_eq!(secs("2us"), Some(0.000_002));
        for bad in ["", "abc", "-1s", "5x", "s", "1..2s", "+"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }

    fn config() -> Config {
        Config::new(http::Uri::from_static("https://kube.invalid:6443"))
    }

    #[test]
    fn no_overrides_change_nothing() {
        let mut config = config();
        KubeOverrides::default().apply(&mut config).unwrap();
        assert_eq!(config.cluster_url, "https://kube.invalid:6443");
        assert!(!config.accept_invalid_certs);
        assert!(config.auth_info.token.is_none());
        assert!(config.read_timeout.is_none());
    }

    #[test]
    fn overrides_are_applied_like_kubectl() {
        let mut config = config();
        config.auth_info.token_file = Some("/var/run/token".into());
        config.root_cert = Some(vec![vec![1, 2, 3]]);
        let overrides = KubeOverrides {
            server: Some("https://127.0.0.1:1".into()),
            tls_server_name: Some("api".into()),
            certificate_authority: Some("ca.pem".into()),
            client_certificate: Some("c.crt".into()),
            client_key: Some("c.key".into()),
            token: Some(SecretString::new("t0k".into())),
            impersonate: Some("me".into()),
            impersonate_uid: Some("7".into()),
            impersonate_groups: vec!["g1".into(), "g2".into()],
            request_timeout: Some("5s".into()),
            disable_compression: true,
            ..KubeOverrides::default()
        };
        overrides.apply(&mut config).unwrap();
        assert_eq!(config.cluster_url, "https://127.0.0.1:1");
        assert_eq!(config.tls_server_name.as_deref(), Some("api"));
        assert!(config.root_cert.is_none());
        assert_eq!(config.root_cert_file, Some(PathBuf::from("ca.pem")));
        let auth = &config.auth_info;
        assert_eq!(auth.client_certificate.as_deref(), Some("c.crt"));
        assert_eq!(auth.client_key.as_deref(), Some("c.key"));
        assert!(auth.token.is_some());
        assert!(
            auth.token_file.is_none(),
            "--token replaces the user's credentials"
        );
        assert_eq!(auth.impersonate.as_deref(), Some("me"));
        assert_eq!(auth.impersonate_uid.as_deref(), Some("7"));
        assert_eq!(
            auth.impersonate_groups.as_deref(),
            Some(&["g1".to_owned(), "g2".to_owned()][..])
        );
        assert_eq!(config.read_timeout, Some(Duration::from_secs(5)));
        assert_eq!(config.connect_timeout, Some(Duration::from_secs(5)));
        assert!(config.disable_compression);

        let mut config = self::config();
        let insecure = KubeOverrides {
            insecure_skip_tls_verify: true,
            username: Some("u".into()),
            password: Some(SecretString::new("p".into())),
            ..KubeOverrides::default()
        };
        insecure.apply(&mut config).unwrap();
        assert!(config.accept_invalid_certs && config.root_cert_file.is_none());
        assert_eq!(config.auth_info.username.as_deref(), Some("u"));
        assert!(config.auth_info.password.is_some());
    }

    #[test]
    fn unusable_overrides_are_errors() {
        for overrides in [
            KubeOverrides {
                server: Some("not a url".into()),
                ..KubeOverrides::default()
            },
            KubeOverrides {
                request_timeout: Some("soon".into()),
                ..KubeOverrides::default()
            },
            KubeOverrides {
                proxy_url: Some("http://proxy:3128".into()),
                ..KubeOverrides::default()
            },
        ] {
            assert!(overrides.apply(&mut config()).is_err());
        }
    }

    #[test]
    fn cache_key_names_the_overridden_target() {
        assert_eq!(KubeOverrides::default().cache_key(), "");
        let overrides = KubeOverrides {
            cluster: Some("prod".into()),
            server: Some("https://x".into()),
            ..KubeOverrides::default()
        };
        assert_eq!(overrides.cache_key(), "_prod_https://x");
    }
}
