//! Errors of kubeconfig, API server and controller.

use std::path::PathBuf;

use http::StatusCode;
use sealant_k8s::error::message as kube_message;

use super::{EXIT_FAILURE, EXIT_USAGE};

/// Kubeconfig, API server or controller trouble. API errors are kept as they came, with their
/// status code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// `--proxy-url` is not supported by this build.
    #[error("--proxy-url {0}: this build cannot reach the API server through a proxy")]
    ProxyUnsupported(String),
    /// `--request-timeout` is not a duration.
    #[error("invalid --request-timeout {0:?}")]
    RequestTimeout(String),
    /// `--server` is not a URL.
    #[error("invalid --server {server:?}: {source}")]
    Server {
        /// The flag's value.
        server: String,
        /// Why.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// `--context` without any kubeconfig.
    #[error("context {0:?} not found: there is no kubeconfig")]
    NoKubeconfigForContext(String),
    /// `--context` that the kubeconfig does not have.
    #[error("context {0:?} not found in kubeconfig")]
    ContextNotFound(String),
    /// The kubeconfig cannot be read.
    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    /// The `--kubeconfig` file cannot be read.
    #[error("cannot read kubeconfig {}: {source}", path.display())]
    KubeconfigFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// Neither a kubeconfig nor an in-cluster configuration.
    #[error("cannot find the cluster: {0}")]
    NoCluster(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The client cannot be built from the configuration.
    #[error("cannot set up a cluster client: {0}")]
    Client(#[source] kube::Error),
    /// The API server did not answer at all (connection refused, DNS, TLS, timeout): told
    /// apart from an answer by the kube error's type, so the hint is not about the Service.
    #[error("cannot reach the API server at {server}: {source}")]
    ApiServerUnreachable {
        /// The API server's URL, from the kubeconfig or --server.
        server: String,
        /// The transport error.
        #[source]
        source: kube::Error,
    },
    /// The controller's Service cannot be read.
    #[error("cannot get sealed secret service: {}", kube_message(.source))]
    Service {
        /// The controller's namespace.
        namespace: String,
        /// The controller's name.
        name: String,
        /// The API error, with its status code.
        #[source]
        source: kube::Error,
    },
    /// The request to the controller cannot be built.
    #[error("cannot build request: {0}")]
    Request(#[source] http::Error),
    /// The controller cannot be reached through the service proxy.
    #[error("cannot reach the controller in namespace {namespace}: {}", kube_message(.source))]
    Unreachable {
        /// The controller's namespace.
        namespace: String,
        /// The API error, with its status code.
        #[source]
        source: kube::Error,
    },
    /// The controller's answer cannot be read.
    #[error("cannot read the controller's answer: {0}")]
    Answer(#[source] kube::Error),
    /// A call to the controller failed (`action` says which).
    #[error("{action}: {source}")]
    Call {
        /// `cannot fetch certificate`, …
        action: &'static str,
        /// Why.
        #[source]
        source: Box<ClusterError>,
    },
    /// `GET /v1/cert.pem` did not answer 200.
    #[error("cannot fetch certificate: the controller answered {0}")]
    CertStatus(StatusCode),
    /// The controller answered 503 for a namespace of a tenant whose keys it has not made yet
    /// (docs/multi-tenancy.md, "Tenant keys").
    #[error("cannot fetch certificate for namespace {namespace}: {message}")]
    TenantKeysNotReady {
        /// The namespace asked for.
        namespace: String,
        /// The controller's message (`keys of tenant T are not ready`).
        message: String,
    },
    /// The `Sealant-Key-Owner` header names neither the cluster nor a tenant.
    #[error("the controller's Sealant-Key-Owner header {0:?} names no key owner")]
    BadOwner(String),
    /// `GET /v1/recipient` answered neither 200 nor 404.
    #[error("cannot fetch the age recipient: the controller answered {0}")]
    RecipientStatus(StatusCode),
    /// `GET /v1/recipient` answered something that is not a recipient.
    #[error("the controller's /v1/recipient is not an age recipient: {0}")]
    BadRecipient(#[source] sealant_core::age::AgeKeyError),
    /// `POST /v1/verify` answered neither 200 nor 409.
    #[error("cannot validate sealed secret: {status}: {body}")]
    VerifyStatus {
        /// The answer's status.
        status: StatusCode,
        /// The gist of its body.
        body: String,
    },
    /// `POST /v1/rotate` did not answer 200.
    #[error("cannot re-encrypt secret: {status}: {body}")]
    RotateStatus {
        /// The answer's status.
        status: StatusCode,
        /// The gist of its body.
        body: String,
    },
}

impl ClusterError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::ProxyUnsupported(_) => {
                "leave --proxy-url out, or run kubectl port-forward/kubectl proxy and pass --server"
            }
            Self::RequestTimeout(_) => {
                "give a duration with a unit, like 30s, 2m or 1h (0 means no timeout)"
            }
            Self::Server { .. } => "give the API server's URL, like https://127.0.0.1:6443",
            Self::NoKubeconfigForContext(_) => {
                "pass --kubeconfig, set $KUBECONFIG, or drop --context"
            }
            Self::ContextNotFound(_) => "list contexts with `kubectl config get-contexts`",
            Self::Kubeconfig(_) => "check --kubeconfig or $KUBECONFIG",
            Self::NoCluster(_) => {
                "pass --kubeconfig/--context, or seal offline with --cert FILE (save one with `sealant cert -w FILE`)"
            }
            Self::ApiServerUnreachable { .. } => {
                "check that the cluster is up and that --kubeconfig/--context point at it (`kubectl get ns` should work)"
            }
            Self::Service {
                namespace, name, ..
            } => {
                return Some(format!(
                    "no Service {namespace}/{name} here: use --controller-name and --controller-namespace to point at the sealed secrets controller"
                ));
            }
            Self::CertStatus(_) => {
                "check the controller is running: kubectl -n <controller namespace> get pods"
            }
            Self::TenantKeysNotReady { .. } => {
                "the controller's leader makes a tenant's keys soon after its first namespace gets the tenant label: retry in a minute; if it persists, ask a cluster administrator (is the controller running with --tenant-keys, with a leader?)"
            }
            Self::BadOwner(_) => {
                "the controller and this sealant disagree on the API: check their versions, or seal with --cert FILE"
            }
            Self::Call { source, .. } => return source.hint(),
            _ => return None,
        };
        Some(hint.to_owned())
    }

    /// 2 for a `--context` that does not exist, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::NoKubeconfigForContext(_) | Self::ContextNotFound(_) => EXIT_USAGE,
            Self::Call { source, .. } => source.exit_code(),
            _ => EXIT_FAILURE,
        }
    }

    /// The API server's status code, when the API server answered with an error.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Service { source, .. }
            | Self::ApiServerUnreachable { source, .. }
            | Self::Unreachable { source, .. }
            | Self::Answer(source)
            | Self::Client(source) => match source {
                kube::Error::Api(status) => Some(status.code),
                _ => None,
            },
            Self::Call { source, .. } => source.status_code(),
            _ => None,
        }
    }

    /// The error of reading the controller's Service: [`Self::ApiServerUnreachable`] when the
    /// API server did not answer (a transport error, not an API status), else
    /// [`Self::Service`].
    pub(crate) fn service(
        server: String,
        namespace: &str,
        name: &str,
        source: kube::Error,
    ) -> Self {
        match source {
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                Self::ApiServerUnreachable { server, source }
            }
            source => Self::Service {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                source,
            },
        }
    }

    pub(crate) fn during(action: &'static str) -> impl FnOnce(Self) -> Self {
        move |source| Self::Call {
            action,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service_error(source: kube::Error) -> ClusterError {
        ClusterError::service("https://kube.invalid:6443/".into(), "ns", "ctl", source)
    }

    #[test]
    fn no_answer_is_told_apart_from_a_missing_service_by_type() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let unreachable = service_error(kube::Error::Service(Box::new(refused)));
        assert!(
            matches!(unreachable, ClusterError::ApiServerUnreachable { .. }),
            "{unreachable:?}"
        );
        assert!(
            unreachable
                .hint()
                .is_some_and(|h| h.contains("kubectl get ns"))
        );
        assert_eq!(unreachable.status_code(), None);

        let missing = service_error(kube::Error::Api(
            kube::core::Status::failure("services \"ctl\" not found", "NotFound")
                .with_code(404)
                .boxed(),
        ));
        assert!(
            matches!(missing, ClusterError::Service { .. }),
            "{missing:?}"
        );
        assert!(
            missing
                .hint()
                .is_some_and(|h| h.contains("no Service ns/ctl"))
        );
        assert_eq!(missing.status_code(), Some(404));
    }
}
