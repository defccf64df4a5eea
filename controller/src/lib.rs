//! sealant-controller: the in-cluster half of sealant. Unseals SealedSecrets into Secrets,
//! manages the sealing keys and serves upstream's HTTP API. `main` only parses flags, sets up
//! logging and calls [`run`].
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub use sealant_k8s::crd;
pub mod admission;
pub mod flags;
pub mod http;
pub mod keys;
pub mod lanes;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod namespaces;
pub mod preflight;
pub mod reconcile;
pub mod rollout;
pub mod synckey;
pub mod text;
pub mod throttle;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret as K8sSecret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::runtime::controller::{self, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client, Config};
use sealant_k8s::KubeError;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::crd::SealedSecret;
use crate::flags::Args;
use crate::keys::KeyManager;
use crate::metrics::Metrics;
use crate::reconcile::{Ctx, error_policy, reconcile};

/// Why the controller could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// No cluster configuration, or the API server is unreachable.
    #[error("cannot connect to the cluster: {0}")]
    Connect(#[source] ConnectError),
    /// The SealedSecret CRD is not installed.
    #[error(
        "the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed; install it first: kubectl apply -f deploy/crd.yaml"
    )]
    MissingCrd,
    /// Keys could not be loaded or created.
    #[error(transparent)]
    Keys(#[from] keys::KeyManagerError),
    /// The sync key could not be loaded or created.
    #[error(transparent)]
    SyncKey(#[from] synckey::SyncKeySecretError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A flag value is unusable.
    #[error(transparent)]
    Flag(#[from] FlagError),
    /// Leader election ended on its own (no rights on the Lease, or a bug): the controller
    /// cannot go on without it.
    #[error("leader election stopped: {0}")]
    Leader(#[from] leader::LeaderError),
    /// `--check-key-protection` failed.
    #[error(transparent)]
    Preflight(#[from] preflight::PreflightError),
}

/// Why the controller could not reach the cluster, by step. Each shows its cause's text:
/// `main` prints only the top error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// `--kubeconfig` cannot be read, or does not make a usable configuration.
    #[error(transparent)]
    Kubeconfig(kube::config::KubeconfigError),
    /// No `--kubeconfig`, and neither an in-cluster configuration nor `$KUBECONFIG`.
    #[error(transparent)]
    Infer(kube::config::InferConfigError),
    /// The configuration does not make a client (e.g. bad TLS material).
    #[error(transparent)]
    Client(Box<KubeError>),
    /// The first call to the API server (the CRD check) failed; the status code is kept.
    #[error(transparent)]
    Api(Box<KubeError>),
}

/// A flag value the controller cannot use, by what was wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlagError {
    /// The leader election settings made of `--leader-election-lease`, the controller's
    /// namespace and this replica's identity break a rule of [`leader::LeaderConfig::validate`]
    /// (in practice: an empty lease name).
    #[error("--leader-election-lease {lease:?}: {source}")]
    LeaderElection {
        /// The flag's value.
        lease: String,
        /// The rule broken.
        #[source]
        source: Box<leader::LeaderError>,
    },
}

/// The leader election settings `args` ask for, checked.
fn leader_config(args: &Args, namespace: &str) -> Result<leader::LeaderConfig, FlagError> {
    let config = leader::LeaderConfig::new(
        namespace,
        &args.leader_election_lease,
        leader::default_identity(),
    );
    config
        .validate()
        .map_err(|source| leader_flag_error(args, source))?;
    Ok(config)
}

fn leader_flag_error(args: &Args, source: leader::LeaderError) -> FlagError {
    FlagError::LeaderElection {
        lease: args.leader_election_lease.clone(),
        source: Box::new(source),
    }
}

/// The namespace the controller runs in: the flag, `$POD_NAMESPACE`, the service account's,
/// else `default`.
pub fn controller_namespace(args: &Args) -> String {
    args.controller_namespace
        .clone()
        .or_else(|| std::env::var("POD_NAMESPACE").ok())
        .or_else(|| {
            std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace").ok()
        })
        .map(|ns| ns.trim().to_owned())
        .filter(|ns| !ns.is_empty())
        .unwrap_or_else(|| "default".to_owned())
}

async fn client(args: &Args, metrics: &Metrics) -> Result<Client, RunError> {
    let connect = RunError::Connect;
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| connect(ConnectError::Kubeconfig(e)))?;
            Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| connect(ConnectError::Kubeconfig(e)))?
        }
        None => Config::infer()
            .await
            .map_err(|e| connect(ConnectError::Infer(e)))?,
    };
    let throttle = throttle::ThrottleLayer::new(args.kubeclient_qps, args.kubeclient_burst)
        .counting(metrics.kube_requests());
    Ok(kube::client::ClientBuilder::try_from(config)
        .map_err(|e| connect(ConnectError::Client(Box::new(e.into()))))?
        .with_layer(&throttle)
        .build())
}

/// Runs the controller until SIGTERM/SIGINT.
///
/// # Errors
/// Start-up failures (cluster, CRD, keys, listeners); see [`RunError`].
pub async fn run(args: Args) -> Result<(), RunError> {
    if args.check_key_protection {
        // A one-shot check that never contacts the cluster (docs/key-protection.md).
        let line = preflight::check_key_protection(&args).await?;
        // The check's one line of output, for people and scripts (logs go to stderr).
        let mut stdout = std::io::stdout().lock();
        let _ = std::io::Write::write_all(&mut stdout, format!("{line}\n").as_bytes());
        return Ok(());
    }
    let args = Arc::new(args);
    let metrics = Arc::new(Metrics::new(&args));
    let client = client(&args, &metrics).await?;
    let namespace = controller_namespace(&args);
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    // Its metadata only: the check needs the CRD to exist, and decoding its whole schema would
    // link a decoder for every CRD type into the binary (docs/design/memory.md, "Idle").
    match crds
        .get_metadata_opt("sealedsecrets.bitnami.com")
        .await
        .map_err(KubeError::from)
    {
        Ok(Some(_)) => {}
        Ok(None) => return Err(RunError::MissingCrd),
        // Single-namespace installs need no cluster-scoped rights: a missing CRD then shows
        // up as the SealedSecret watch failing, with the API server's message.
        Err(err) if err.is_forbidden() => {
            warn!("cannot check for the SealedSecret CRD (forbidden); carrying on");
        }
        Err(err) => return Err(RunError::Connect(ConnectError::Api(Box::new(err)))),
    }

    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());
    let (manager, keys) = KeyManager::new(client.clone(), &namespace, args.clone());
    // Tenant keys (docs/multi-tenancy.md, "Tenant keys"): the Namespace watch tells the key
    // manager which tenants have a namespace.
    let (tenants_seen, seen) = tokio::sync::watch::channel(Default::default());
    let tenant_feed = args.tenant_keys.then(|| namespaces::TenantFeed {
        label: args.tenant_label.trim().to_owned(),
        seen: tenants_seen,
    });
    let manager = Arc::new(
        manager
            .with_protection(metrics.key_protection().clone())?
            .with_escrow(client.clone(), metrics.key_escrow().clone())?
            .with_tenants(seen)?,
    );
    manager.reload().await?;

    // The elector is stopped last, once the controllers have: see the end of this function.
    let (mut leader, elector) = if args.leader_elect {
        let config = leader_config(&args, &namespace)?;
        let (handle, task) = leader::LeaderElector::new(client.clone(), config)
            .map_err(|source| leader_flag_error(&args, source))?
            .start();
        (handle, Some(task))
    } else {
        (leader::LeaderHandle::always(), None)
    };

    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let api_listener = bind(args.listen_addr).await?;
    let metrics_listener = bind(args.listen_metrics_addr).await?;
    let state = Arc::new(http::ApiState {
        keys: keys.clone(),
        args: args.clone(),
        metrics: metrics.clone(),
        ready: ready_rx.clone(),
    });
    tokio::spawn(log_exit(
        "API server",
        http::serve_api(api_listener, state, shutdown.clone()),
    ));
    tokio::spawn(log_exit(
        "metrics server",
        http::serve_metrics(
            metrics_listener,
            http::Serving::from_args(&args),
            metrics.clone(),
            ready_rx,
            shutdown.clone(),
        ),
    ));

    if let Some(addr) = args.admission_listen_addr {
        let listener = bind(addr).await?;
        let webhook = admission::serve(
            listener,
            client.clone(),
            namespace.clone(),
            keys.clone(),
            args.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            if let Err(err) = webhook.await {
                error!(%err, "admission webhook stopped");
            }
        });
    }

    let reporter = Reporter {
        controller: "sealed-secrets".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let scopes = watch_scopes(&args, &namespace);
    info!(namespace = %namespace, leader_election = args.leader_elect, "sealant-controller started");

    // Protected keys: not ready until the HSM or KMS unwrapped them (docs/key-protection.md).
    manager.wait_for_keys(&shutdown).await;
    // Every replica re-reads keys (live pickup); only the leader renews.
    tokio::spawn(
        manager
            .clone()
            .run(Duration::from_secs(10), leader.clone(), shutdown.clone()),
    );
    loop {
        // Followers serve the certificate and /v1/verify from the keys they re-read; they are
        // ready once keys are loaded. Only a leader creates keys and reconciles.
        if !leader.is_leader() {
            let _ = ready_tx.send(true);
        }
        let term = tokio::select! {
            () = shutdown.cancelled() => break,
            term = leader.acquired() => match term {
                Some(term) => term,
                None => break,
            },
        };
        info!(term, "leading: reconciling");
        // Re-read after acquiring leadership, so a key another leader just wrote is seen and no
        // second first key is created; then apply --key-cutoff-time.
        manager.ensure_usable_key().await?;
        // Then the sync key (created by the leader only, race-free): every term re-reads it,
        // so a key written by the previous leader is the one used.
        let sync_key = synckey::load_or_create(
            &Api::<K8sSecret>::namespaced(client.clone(), &namespace),
            &namespace,
        )
        .await?;
        let ctx = Arc::new(Ctx {
            client: client.clone(),
            args: args.clone(),
            keys: keys.clone(),
            metrics: metrics.clone(),
            recorder: Recorder::new(client.clone(), reporter.clone()),
            reporter: reporter.clone(),
            failures: Default::default(),
            sync_key: Arc::new(sync_key),
            owned: Default::default(),
            status: Default::default(),
            inventory: Default::default(),
            stripped: Default::default(),
            namespace_share: reconcile::NamespaceShare::for_concurrency(usize::from(
                args.concurrency,
            )),
            render_slots: tokio::sync::Semaphore::new(reconcile::RENDER_SLOTS),
            rollouts: Default::default(),
            namespaces: Arc::new(
                namespaces::Namespaces::new(client.clone()).with_tenants(tenant_feed.clone()),
            ),
            lanes: lanes::Gate::new(usize::from(args.concurrency)),
        });
        // The per-key usage metrics are the leader's: they come from its reconciles.
        metrics.watch_inventory(Some(ctx.inventory.clone()));
        let _ = ready_tx.send(false);
        let stop = CancellationToken::new();
        let (lost, stopper, done) = (leader.clone(), stop.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = lost.lost(term) => {}
                () = done.cancelled() => {}
            }
            stopper.cancel();
        });
        run_controllers(&client, &args, &scopes, ctx, stop, ready_tx.clone()).await;
        metrics.watch_inventory(None);
        if shutdown.is_cancelled() {
            break;
        }
        warn!(term, "leadership lost: reconcilers stopped");
    }
    shutdown.cancel();
    // The reconcilers have stopped: now release the Lease for a standby, and wait for it. An
    // elector that ended on its own (the loop above ends then too) fails the run.
    if let Some(elector) = elector {
        elector.stop().await?;
    }
    info!("sealant-controller stopped");
    Ok(())
}

/// Where SealedSecrets are watched: every namespace, or the controller's plus the extra ones.
fn watch_scopes(args: &Args, namespace: &str) -> Vec<Option<String>> {
    if args.all_namespaces && args.additional_namespaces.trim().is_empty() {
        return vec![None];
    }
    let mut namespaces = vec![namespace.to_owned()];
    for extra in args
        .additional_namespaces
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !namespaces.iter().any(|n| n == extra) {
            namespaces.push(extra.to_owned());
        }
    }
    namespaces.into_iter().map(Some).collect()
}

/// Runs one controller per scope until `stop`; flips `ready` once every watch has synced.
/// How long reconciles in flight may take to finish once the controller stops leading.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

async fn run_controllers(
    client: &Client,
    args: &Args,
    scopes: &[Option<String>],
    ctx: Arc<Ctx>,
    stop: CancellationToken,
    ready: tokio::sync::watch::Sender<bool>,
) {
    let mut watcher_config = watcher::Config::default();
    if !args.label_selector.is_empty() {
        watcher_config = watcher_config.labels(&args.label_selector);
    }
    let mut runs = Vec::new();
    let mut stores = Vec::new();
    for scope in scopes {
        let sealed = sealed_api(client, scope);
        let secrets: Api<K8sSecret> = match scope {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        };
        // Cached without managedFields, and without ciphertexts once in sync: those are most
        // of an object's bytes (see reconcile::Stripped).
        let (sealed_store, sealed_writer) = kube::runtime::reflector::store();
        // New objects first: the initial list takes the backlog lane (see lanes).
        let initial = lanes::InitialList::default();
        let relist = reconcile::Relist::default();
        let sealed_stream = watcher(sealed, watcher_config.clone())
            .default_backoff()
            .inspect({
                let (ctx, initial, scope) = (ctx.clone(), initial.clone(), scope.clone());
                move |event| {
                    // Objects deleted while the watch was down get no delete event: a relist
                    // that no longer lists them drops their state (reconcile::forget_unlisted).
                    if let Some(listed) = event.as_ref().ok().and_then(|e| relist.observe(e)) {
                        let gone = reconcile::forget_unlisted(scope.as_deref(), &listed, &ctx);
                        if gone > 0 {
                            info!(
                                gone,
                                "relist: forgot SealedSecrets deleted while the watch was down"
                            );
                        }
                    }
                    match event {
                        // Counted from the first sight.
                        Ok(watcher::Event::Apply(sealed) | watcher::Event::InitApply(sealed)) => {
                            ctx.inventory.observe(sealed);
                        }
                        // kube-runtime's controller does not call the reconciler for objects that
                        // are gone: their per-object state is dropped here (and with
                        // --old-gc-behavior their Secret deleted), off the watch's task.
                        Ok(watcher::Event::Delete(sealed)) => {
                            let (ctx, sealed) = (ctx.clone(), sealed.clone());
                            tokio::spawn(
                                async move { reconcile::forget_deleted(&sealed, &ctx).await },
                            );
                        }
                        Ok(watcher::Event::InitDone) => initial.observe(event),
                        _ => {}
                    }
                }
            })
            .modify({
                let ctx = ctx.clone();
                move |sealed| ctx.stripped.make_cacheable(sealed)
            })
            .reflect(sealed_writer)
            .applied_objects()
            .filter_map(|sealed| futures::future::ready(sealed.ok()))
            // Only changes we react to start a reconcile: not our own status writes (see
            // reconcile::StatusMemory::triggers). The store above still sees every event.
            .filter({
                let ctx = ctx.clone();
                move |sealed| futures::future::ready(ctx.status.triggers(sealed, &ctx.stripped))
            })
            .map(move |sealed| (initial.lane(), reconcile::object_key(&sealed)));
        // Every trigger goes through the lanes; the controller's own trigger stream is empty.
        let mut triggers = vec![sealed_stream.boxed()];
        let mut controller = Controller::for_stream(
            futures::stream::pending::<Result<SealedSecret, watcher::Error>>(),
            sealed_store.clone(),
        )
        .with_config(controller::Config::default().concurrency(args.concurrency));
        if !args.skip_recreate {
            // A deleted owned Secret brings its SealedSecret back to the queue, which re-creates
            // it. Only Secrets we own are watched (and cached): not every Secret in the cluster.
            let owned = format!(
                "{}={}",
                reconcile::OWNED_LABEL,
                reconcile::OWNED_LABEL_VALUE
            );
            // Cached as a compact record each (MACs, no data), for the in-sync check; the
            // watch triggers the owners of every Secret applied or deleted.
            let cache = Arc::new(reconcile::OwnedSecrets::new(ctx.sync_key.clone()));
            ctx.owned.write().push(cache.clone());
            let initial = lanes::InitialList::default();
            let observer = initial.clone();
            let owned_secrets = watcher(secrets, watcher::Config::default().labels(&owned))
                .default_backoff()
                .inspect(move |event| observer.observe(event))
                .filter_map(|event| futures::future::ready(event.ok()))
                .flat_map(move |event| {
                    let lane = initial.lane();
                    futures::stream::iter(cache.observe(event).into_iter().map(move |k| (lane, k)))
                });
            triggers.push(owned_secrets.boxed());
        }
        // A key change re-checks every object: a resync, in the backlog lane.
        let resync = key_changes(&ctx).flat_map(move |()| {
            let keys: Vec<_> = sealed_store
                .state()
                .iter()
                .map(|sealed| (lanes::Lane::Backlog, reconcile::object_key(sealed)))
                .collect();
            futures::stream::iter(keys)
        });
        triggers.push(resync.boxed());
        controller = controller.reconcile_on(lanes::LaneStream::new(
            futures::stream::select_all(triggers),
            ctx.lanes.clone(),
        ));
        // Namespace relabels re-check the selector-scoped objects at once (docs/multi-tenancy.md,
        // "Namespace-selector scope"), and with tenant keys every object of a namespace whose
        // tenant changed ("Tenant keys").
        if args.namespace_selector_scope || args.tenant_keys {
            let relabelled = ctx.namespaces.watch(scope.as_deref(), controller.store());
            controller = controller.reconcile_on(relabelled);
        }
        stores.push(controller.store());
        let token = stop.clone();
        let run = controller
            .graceful_shutdown_on(async move { token.cancelled().await })
            .run(reconcile, error_policy, ctx.clone())
            .for_each(|_| futures::future::ready(()));
        // kube-runtime holds a runner whose store has not synced yet even through a graceful
        // shutdown: a leader stopped right after taking over would never exit (and never
        // release its Lease). Reconciles in flight get a grace period; then they are dropped.
        let deadline = stop.clone();
        runs.push(async move {
            tokio::select! {
                () = run => {}
                () = async {
                    deadline.cancelled().await;
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                } => warn!(
                    grace_s = SHUTDOWN_GRACE.as_secs(),
                    "reconcilers did not stop within the grace period: stopping them"
                ),
            }
        });
    }
    tokio::spawn(async move {
        for store in stores {
            store_synced(&store).await;
        }
        let _ = ready.send(true);
        info!("watches synced: ready");
    });
    futures::future::join_all(runs).await;
}

/// Ticks whenever the set of keys changes, so SealedSecrets that no key could open (and that
/// may have used up their retries) are tried again with the new set: a restored or hand-made
/// key Secret takes effect without touching every SealedSecret. In-sync objects cost no
/// decryption on these passes.
fn key_changes(ctx: &Arc<Ctx>) -> futures::channel::mpsc::UnboundedReceiver<()> {
    let (tx, rx) = futures::channel::mpsc::unbounded();
    let mut keys = ctx.keys.clone();
    keys.mark_seen();
    let ctx = ctx.clone();
    tokio::spawn(async move {
        while keys.changed().await {
            ctx.failures.clear_all();
            if tx.unbounded_send(()).is_err() {
                return;
            }
        }
    });
    rx
}

fn sealed_api(client: &Client, scope: &Option<String>) -> Api<SealedSecret> {
    match scope {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Waits until a reflector store has its first full list. kube-runtime's `wait_until_ready`
/// wakes only the last task that polled it, and the controller's own runner polls it too, so a
/// second waiter can sleep forever: poll it again on a short timer instead.
async fn store_synced<K>(store: &kube::runtime::reflector::Store<K>)
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: std::hash::Hash + Eq + Clone,
{
    loop {
        match tokio::time::timeout(Duration::from_millis(200), store.wait_until_ready()).await {
            Ok(_) => return,
            Err(_elapsed) => continue,
        }
    }
}

async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener, RunError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Listen { addr, source })
}

async fn log_exit(
    what: &'static str,
    server: impl std::future::Future<Output = std::io::Result<()>>,
) {
    if let Err(err) = server.await {
        error!(%err, "{what} stopped");
    }
}

fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(err) => {
                    warn!(%err, "cannot listen for SIGTERM");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => info!("SIGINT: shutting down"),
        }
        shutdown.cancel();
    });
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn args(flags: &[&str]) -> Args {
        Args::parse_from(std::iter::once("sealant-controller").chain(flags.iter().copied()))
    }

    #[test]
    fn an_empty_lease_name_is_a_flag_error() {
        let err = leader_config(&args(&["--leader-election-lease", ""]), "ns").unwrap_err();
        let FlagError::LeaderElection { lease, source } = &err;
        assert_eq!(lease, "");
        assert!(matches!(**source, leader::LeaderError::Config(_)));
        let run = RunError::from(err);
        assert!(matches!(run, RunError::Flag(_)));
        assert!(
            run.to_string()
                .starts_with("--leader-election-lease \"\": "),
            "{run}"
        );
        assert!(leader_config(&args(&[]), "ns").is_ok());
    }

    #[tokio::test]
    async fn an_unreadable_kubeconfig_is_a_typed_connect_error() {
        let args = args(&["--kubeconfig", "/nonexistent/sealant/kubeconfig"]);
        let metrics = Metrics::new(&args);
        let Err(err) = client(&args, &metrics).await else {
            panic!("a missing kubeconfig made a client");
        };
        assert!(
            matches!(err, RunError::Connect(ConnectError::Kubeconfig(_))),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot connect to the cluster: "),
            "{err}"
        );
        let source = std::error::Error::source(&err).expect("the cause is kept");
        assert!(source.is::<ConnectError>());
    }
}
