//! Talking to a cluster: kubeconfig handling like kubectl, and the controller's HTTP API
//! reached through the API server's service proxy (so no port-forward is needed).

use http::{Request, StatusCode};
use k8s_openapi::api::core::v1::Service;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::args::ClusterArgs;
use crate::error::{CliError, Result};

/// The namespace for inputs that name none: `-n`, else the kubeconfig context's, else
/// `default`. A missing kubeconfig is fine (offline use with --cert).
///
/// # Errors
/// A kubeconfig that exists but cannot be read, or a `--context` it does not have.
pub fn default_namespace(args: &ClusterArgs) -> Result<String> {
    if let Some(namespace) = &args.namespace {
        return Ok(namespace.clone());
    }
    let Some(kubeconfig) = read_kubeconfig(args)? else {
        return Ok("default".to_owned());
    };
    let context_name = args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone());
    let Some(context_name) = context_name else {
        return Ok("default".to_owned());
    };
    let context = kubeconfig.contexts.iter().find(|c| c.name == context_name);
    match context {
        Some(named) => Ok(named
            .context
            .as_ref()
            .and_then(|c| c.namespace.clone())
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".to_owned())),
        None if args.context.is_some() => Err(CliError::usage(format!(
            "context {context_name:?} not found in kubeconfig"
        ))
        .hint("list contexts with `kubectl config get-contexts`")),
        None => Ok("default".to_owned()),
    }
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
    result.map_err(|e| {
        CliError::new(format!("cannot read kubeconfig: {e}"))
            .hint("check --kubeconfig or $KUBECONFIG")
    })
}

/// A client for the cluster the arguments point at (kubeconfig, else in-cluster).
///
/// # Errors
/// No usable configuration.
pub async fn client(args: &ClusterArgs) -> Result<Client> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| CliError::new(format!("cannot read kubeconfig {}: {e}", path.display())))?;
            Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| e.to_string())
        }
        None if args.context.is_some() => Config::from_kubeconfig(&options).await.map_err(|e| e.to_string()),
        None => Config::infer().await.map_err(|e| e.to_string()),
    }
    .map_err(|e| {
        CliError::new(format!("cannot find the cluster: {e}"))
            .hint("pass --kubeconfig/--context, or seal offline with --cert FILE (save one with `sealant cert -w FILE`)")
    })?;
    Client::try_from(config)
        .map_err(|e| CliError::new(format!("cannot set up a cluster client: {e}")))
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
    pub async fn connect(args: &ClusterArgs) -> Result<Self> {
        let client = client(args).await?;
        let services: Api<Service> = Api::namespaced(client.clone(), &args.controller_namespace);
        let service = services.get(&args.controller_name).await.map_err(|e| {
            CliError::new(format!("cannot get sealed secret service: {}", kube_message(&e))).hint(format!(
                "no Service {}/{} here: use --controller-name and --controller-namespace to point at the sealed secrets controller",
                args.controller_namespace, args.controller_name
            ))
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
        let request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.proxy_base))
            .header(http::header::ACCEPT, accept)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(kube::client::Body::from(body))
            .map_err(|e| CliError::new(format!("cannot build request: {e}")))?;
        let response = self.client.send(request).await.map_err(|e| {
            CliError::new(format!(
                "cannot reach the controller in namespace {}: {}",
                self.namespace,
                kube_message(&e)
            ))
        })?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| CliError::new(format!("cannot read the controller's answer: {e}")))?;
        Ok((status, bytes.to_vec()))
    }

    /// `GET /v1/cert.pem`.
    ///
    /// # Errors
    /// Transport errors or a non-200 answer.
    pub async fn cert_pem(&self) -> Result<Vec<u8>> {
        let (status, body) = self
            .call(
                http::Method::GET,
                "/v1/cert.pem",
                "application/x-pem-file, */*",
                Vec::new(),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(CliError::new(format!(
                "cannot fetch certificate: the controller answered {status}"
            ))
            .hint("check the controller is running: kubectl -n <controller namespace> get pods"));
        }
        Ok(body)
    }

    /// `POST /v1/verify`: true when the controller can unseal it, false on 409.
    ///
    /// # Errors
    /// Transport errors or any other answer.
    pub async fn verify(&self, sealed_json: Vec<u8>) -> Result<bool> {
        let (status, body) = self
            .call(http::Method::POST, "/v1/verify", "*/*", sealed_json)
            .await?;
        match status {
            StatusCode::OK => Ok(true),
            StatusCode::CONFLICT => Ok(false),
            other => Err(CliError::new(format!(
                "cannot validate sealed secret: {other}: {}",
                short_body(&body)
            ))),
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
            .await?;
        if status != StatusCode::OK {
            return Err(CliError::new(format!(
                "cannot re-encrypt secret: {status}: {}",
                short_body(&body)
            )));
        }
        Ok(body)
    }
}

fn short_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    text.chars().take(200).collect()
}

fn kube_message(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => format!("{} ({})", status.message, status.code),
        other => other.to_string(),
    }
}
