//! The validating admission webhook (docs/admission.md), opt-in with
//! `--admission-listen-addr`: the SealedSecret checks (`sealed`) and the plaintext guard
//! (`guard`), over HTTPS (`server`) with a certificate the controller keeps or cert-manager
//! mounts (`tls`); AdmissionReview in and out in `review`.
//!
//! Availability first: every replica serves it (the keys are every replica's), and whatever
//! cannot be decided in time or within the budget is admitted with a warning, never refused.
//! The webhook configuration's failure policy covers a controller that is down.

mod guard;
mod review;
mod sealed;
mod server;
#[cfg(test)]
mod tests;
mod tls;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kube::Client;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::flags::Args;
use crate::http::gcra::{DEFAULT_CAPACITY, Gcra};
use crate::keys::KeyStore;
use review::{Request, Verdict};
use server::Route;

pub use guard::{Exemptions, GUARD_LABEL};
pub use review::ReviewError;
pub use server::{GUARD_DENY_PATH, GUARD_WARN_PATH, SEALED_PATH};
pub use tls::{Source, TlsError};

/// How long a SealedSecret review may take before it is admitted unchecked: well within the
/// webhook's `timeoutSeconds` (3 in the chart), so the API server never waits it out.
pub const REVIEW_BUDGET: Duration = Duration::from_secs(2);

/// Why the webhook could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// The TLS settings are unusable.
    #[error("admission webhook TLS: {0}")]
    Tls(#[source] rustls::Error),
}

/// What the webhook's handlers share.
pub(crate) struct Webhook {
    keys: KeyStore,
    args: Arc<Args>,
    exemptions: Exemptions,
    /// The key-check budget per user (`--admission-rate-limit*`); `None` with a rate of 0.
    limiter: Option<Mutex<Gcra<String>>>,
    /// Key checks at once (one per CPU), so reviews cannot take every blocking thread.
    slots: Semaphore,
}

impl Webhook {
    fn new(keys: KeyStore, args: Arc<Args>) -> Self {
        let limiter = Gcra::new(
            args.admission_rate_limit,
            args.admission_rate_limit_burst,
            DEFAULT_CAPACITY,
            Instant::now(),
        )
        .map(Mutex::new);
        let exemptions = Exemptions::from_lists(
            &args.admission_controller_user,
            &args.plaintext_guard_exempt_users,
            &args.plaintext_guard_exempt_types,
            &args.plaintext_guard_exempt_owners,
        );
        let slots = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            keys,
            args,
            exemptions,
            limiter,
            slots: Semaphore::new(slots),
        }
    }

    /// The verdict on one review.
    async fn review(&self, route: Route, request: &Request) -> Verdict {
        match route {
            Route::Guard(mode) => guard::decide(&self.exemptions, mode, request),
            Route::Sealed => {
                let started = Instant::now();
                match tokio::time::timeout(REVIEW_BUDGET, self.sealed(request)).await {
                    Ok(verdict) => verdict,
                    Err(_) => Verdict::warn(format!(
                        "sealant: not checked against the controller's keys (no answer within {}s)",
                        started.elapsed().as_secs()
                    )),
                }
            }
            Route::Healthz | Route::NotFound => Verdict::allow(),
        }
    }

    async fn sealed(&self, request: &Request) -> Verdict {
        let (sealed, mut warnings) = match sealed::plan(request) {
            sealed::Plan::Done(verdict) => return verdict,
            sealed::Plan::Open { sealed, warnings } => (sealed, warnings),
        };
        let user = request.user_info.username.clone().unwrap_or_default();
        if !self.within_budget(user) {
            warnings.push(
                "sealant: not checked against the controller's keys (over the admission rate limit of this user)".into(),
            );
            return Verdict::Allow { warnings };
        }
        let snapshot = self.keys.snapshot();
        if snapshot.keys.is_empty() && snapshot.age.is_empty() {
            warnings.push("sealant: not checked: the controller has no keys yet".into());
            return Verdict::Allow { warnings };
        }
        let Ok(_slot) = self.slots.acquire().await else {
            return Verdict::Allow { warnings };
        };
        // Whose keys open it: the rule of /v1/verify (docs/multi-tenancy.md, "Tenant keys").
        let (owner, mut warnings) =
            match sealed::key_owner(&self.keys, &snapshot, &sealed, warnings).await {
                Ok(found) => found,
                Err(verdict) => return verdict,
            };
        let accept_v1 = self.args.accept_deprecated_v1_data;
        let checked = tokio::task::spawn_blocking(move || {
            let result = match snapshot.keys_for(&owner) {
                Ok(keys) => crate::http::opens(&sealed, &keys, accept_v1),
                // Checked by `key_owner` on this very snapshot.
                Err(_) => Ok(0),
            };
            (sealed, result)
        })
        .await;
        match checked {
            Ok((sealed, result)) => sealed::opened(&sealed, result, warnings),
            Err(_) => {
                warnings.push("sealant: not checked: internal error".into());
                Verdict::Allow { warnings }
            }
        }
    }

    /// Takes one key check from `user`'s budget.
    fn within_budget(&self, user: String) -> bool {
        let Some(limiter) = &self.limiter else {
            return true;
        };
        let mut limiter = limiter.lock().unwrap_or_else(PoisonError::into_inner);
        limiter
            .reserve(&user, Instant::now(), Duration::ZERO)
            .0
            .allowed
    }
}

/// Where the serving certificate comes from, as the flags say.
pub fn tls_source(args: &Args) -> Source {
    if let Some(dir) = &args.admission_cert_dir {
        return Source::Files(dir.clone());
    }
    match Some(args.admission_cert_secret.trim()).filter(|s| !s.is_empty()) {
        Some(secret) => Source::Secret(secret.to_owned()),
        None => Source::Managed {
            secret: args.admission_tls_secret.clone(),
            hosts: args
                .admission_cert_hosts
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_owned)
                .collect(),
            webhook_config: Some(args.admission_webhook_config.trim().to_owned())
                .filter(|c| !c.is_empty()),
        },
    }
}

/// Serves the webhook on `listener` until `shutdown`, keeping its certificate current in the
/// background.
///
/// # Errors
/// [`AdmissionError::Tls`] when no TLS configuration can be built.
pub async fn serve(
    listener: tokio::net::TcpListener,
    client: Client,
    namespace: String,
    keys: KeyStore,
    args: Arc<Args>,
    shutdown: CancellationToken,
) -> Result<(), AdmissionError> {
    let served = Arc::new(tls::Served::default());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(AdmissionError::Tls)?
    .with_no_client_auth()
    .with_cert_resolver(served.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio::spawn(tls::keep_current(
        client,
        namespace,
        tls_source(&args),
        served,
        shutdown.clone(),
    ));
    let webhook = Arc::new(Webhook::new(keys, args));
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    // Accept errors are logged and retried inside; the server itself never fails.
    let _ = server::serve(listener, webhook, acceptor, shutdown).await;
    Ok(())
}
