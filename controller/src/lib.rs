//! sealant-controller: the in-cluster half of sealant. Unseals SealedSecrets into Secrets,
//! manages the sealing keys and serves upstream's HTTP API. `main` only parses flags, sets up
//! logging and calls [`run`].
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]

pub use sealant_k8s::crd;
pub mod flags;
pub mod http;
pub mod keys;
pub mod leader;
pub mod logging;
pub mod metrics;
pub mod reconcile;
pub mod synckey;
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
    Connect(String),
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
    #[error("{0}")]
    Flag(String),
    /// Leader election ended on its own (no rights on the Lease, or a bug): the controller
    /// cannot go on without it.
    #[error("leader election stopped: {0}")]
    Leader(#[from] leader::LeaderError),
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
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| RunError::Connect(e.to_string()))?;
            Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| RunError::Connect(e.to_string()))?
        }
        None => Config::infer()
            .await
            .map_err(|e| RunError::Connect(e.to_string()))?,
    };
    let throttle = throttle::ThrottleLayer::new(args.kubeclient_qps, args.kubeclient_burst)
        .counting(metrics.kube_requests());
    Ok(kube::client::ClientBuilder::try_from(config)
        .map_err(|e| RunError::Connect(e.to_string()))?
        .with_layer(&throttle)
        .build())
}

/// Runs the controller until SIGTERM/SIGINT.
///
/// # Errors
/// Start-up failures (cluster, CRD, keys, listeners); see [`RunError`].
pub async fn run(args: Args) -> Result<(), RunError> {
    let args = Arc::new(args);
    let metrics = Arc::new(Metrics::new(&args));
    let client = client(&args, &metrics).await?;
    let namespace = controller_namespace(&args);
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds.get_opt("sealedsecrets.bitnami.com").await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(RunError::MissingCrd),
        // Single-namespace installs need no cluster-scoped rights: a missing CRD then shows
        // up as the SealedSecret watch failing, with the API server's message.
        Err(kube::Error::Api(status)) if status.code == 403 => {
            warn!("cannot check for the SealedSecret CRD (forbidden); carrying on");
        }
        Err(err) => return Err(RunError::Connect(err.to_string())),
    }

    let shutdown = CancellationToken::new();
    spawn_signal_handler(shutdown.clone());
    let (manager, keys) = KeyManager::new(client.clone(), &namespace, args.clone());
    let manager = Arc::new(manager);
    manager.reload().await?;

    // The elector is stopped last, once the controllers have: see the end of this function.
    let (mut leader, elector) = if args.leader_elect {
        let config = leader::LeaderConfig::new(
            &namespace,
            &args.leader_election_lease,
            leader::default_identity(),
        );
        let (handle, task) = leader::LeaderElector::new(client.clone(), config)
            .map_err(|e| RunError::Flag(e.to_string()))?
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

    let reporter = Reporter {
        controller: "sealed-secrets".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let scopes = watch_scopes(&args, &namespace);
    info!(namespace = %namespace, leader_election = args.leader_elect, "sealant-controller started");

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
        let sealed_stream = watcher(sealed, watcher_config.clone())
            .default_backoff()
            .inspect({
                let ctx = ctx.clone();
                move |event| match event {
                    // Counted from the first sight.
                    Ok(watcher::Event::Apply(sealed) | watcher::Event::InitApply(sealed)) => {
                        ctx.inventory.observe(sealed);
                    }
                    // kube-runtime's controller does not call the reconciler for objects that
                    // are gone: their per-object state is dropped here (and with
                    // --old-gc-behavior their Secret deleted), off the watch's task.
                    Ok(watcher::Event::Delete(sealed)) => {
                        let (ctx, sealed) = (ctx.clone(), sealed.clone());
                        tokio::spawn(async move { reconcile::forget_deleted(&sealed, &ctx).await });
                    }
                    _ => {}
                }
            })
            .modify({
                let ctx = ctx.clone();
                move |sealed| ctx.stripped.make_cacheable(sealed)
            })
            .reflect(sealed_writer)
            .applied_objects()
            // Only changes we react to start a reconcile: not our own status writes (see
            // reconcile::StatusMemory::trigger_hash). The store above still sees every event.
            .predicate_filter(
                {
                    let ctx = ctx.clone();
                    move |sealed: &SealedSecret| Some(ctx.status.trigger_hash(sealed))
                },
                Default::default(),
            );
        let mut controller = Controller::for_stream(sealed_stream, sealed_store)
            .with_config(controller::Config::default().concurrency(args.concurrency));
        if !args.skip_recreate {
            // A deleted owned Secret brings its SealedSecret back to the queue, which re-creates
            // it. Only Secrets we own are watched (and cached): not every Secret in the cluster.
            let owned = format!(
                "{}={}",
                reconcile::OWNED_LABEL,
                reconcile::OWNED_LABEL_VALUE
            );
            // Cached without their data (only its MAC), for the in-sync check.
            let (store, writer) = kube::runtime::reflector::store();
            let sync_key = ctx.sync_key.clone();
            let owned_secrets = watcher(secrets, watcher::Config::default().labels(&owned))
                .default_backoff()
                .modify(move |secret| {
                    *secret = reconcile::cacheable(std::mem::take(secret), &sync_key);
                })
                .reflect(writer)
                .touched_objects();
            ctx.owned.write().push(store);
            controller = controller.owns_stream(owned_secrets);
        }
        controller = controller.reconcile_all_on(key_changes(&ctx));
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
