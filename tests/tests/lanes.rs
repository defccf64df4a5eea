//! New objects first, on the real control plane (docs/design/memory.md, "New objects first"):
//! objects created while a backlog waits for the workers are reconciled ahead of it.
//!
//! The backlog: SealedSecrets created while no controller runs, each costing the controller
//! eight RSA decryptions, with few workers (`--concurrency 4`). Once the restarted
//! controller's initial list is done, a few newcomers are created in the same namespace. The
//! test asserts an order, not a time: every newcomer is Synced while most of the backlog is
//! not yet. Without the lanes kube-runtime takes waiting objects in no particular order, so
//! all newcomers would be done that early by chance only (about 0.3⁵ for five of them).

use anyhow::{Context as _, ensure};
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt as _};
use sealant_controller::crd::SealedSecret;
use sealant_tests::controller::{
    ControllerProcess, cluster_with_crd, controller_cert, free_local_addr, http_get, sealed,
    wait_synced,
};
use sealant_tests::{DEFAULT_TIMEOUT, wait_for};

/// Objects waiting when the controller starts.
const BACKLOG: usize = 300;
/// Objects created once it has listed them.
const NEWCOMERS: usize = 5;
/// Items per object: one RSA decryption each.
const ITEMS: [(&str, &str); 8] = [
    ("a", "alpha"),
    ("b", "bravo"),
    ("c", "charlie"),
    ("d", "delta"),
    ("e", "echo"),
    ("f", "foxtrot"),
    ("g", "golf"),
    ("h", "hotel"),
];
/// Clients creating the backlog at once.
const CLIENTS: usize = 8;

fn is_synced(object: &SealedSecret) -> bool {
    object.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Synced" && c.status == "True")
    })
}

async fn create_all(api: &Api<SealedSecret>, objects: Vec<SealedSecret>) -> anyhow::Result<()> {
    let mut chunks: Vec<Vec<SealedSecret>> = (0..CLIENTS).map(|_| Vec::new()).collect();
    for (i, object) in objects.into_iter().enumerate() {
        chunks[i % CLIENTS].push(object);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in chunks {
        let api = api.clone();
        tasks.spawn(async move {
            for object in chunk {
                api.create(&PostParams::default(), &object).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn lanes_newcomers_pass_the_backlog() -> anyhow::Result<()> {
    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("lanes").await?;
    let api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    // No leader election: the restarted controller lists at once (a follower would be ready
    // before it leads, and the newcomers would then be part of its initial list).
    let flags = ["--concurrency", "4", "--leader-elect=false"];

    // A first run makes the key; the backlog is created while no controller runs.
    let first = ControllerProcess::start(&cluster, ns.name(), &flags)?;
    let cert = controller_cert(&cluster, &ns).await?;
    drop(first);
    let backlog = (0..BACKLOG)
        .map(|i| sealed(&cert, ns.name(), &format!("backlog-{i}"), &ITEMS, None))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let newcomers = (0..NEWCOMERS)
        .map(|i| sealed(&cert, ns.name(), &format!("newcomer-{i}"), &ITEMS, None))
        .collect::<anyhow::Result<Vec<_>>>()?;
    create_all(&api, backlog).await?;

    let addr = free_local_addr()?;
    let controller =
        ControllerProcess::start_with_addrs(&cluster, ns.name(), &flags, &addr, "127.0.0.1:0")?;
    // Ready: the initial list is done, so what is created now is new to the controller.
    wait_for("/readyz", DEFAULT_TIMEOUT, || async {
        Ok(http_get(&addr, "/readyz").await)
    })
    .await
    .with_context(|| controller.log())?;
    for newcomer in &newcomers {
        api.create(&PostParams::default(), newcomer).await?;
    }
    for newcomer in &newcomers {
        wait_synced(&api, &newcomer.name_any(), "True", 1)
            .await
            .with_context(|| controller.log())?;
    }
    // Counted after the last newcomer was seen Synced: the backlog only shrinks meanwhile, so
    // this is at most what was still waiting at that moment.
    let objects = api.list(&ListParams::default()).await?.items;
    let waiting = objects
        .iter()
        .filter(|o| o.name_any().starts_with("backlog-") && !is_synced(o))
        .count();
    println!(
        "lanes: {NEWCOMERS} newcomers Synced with {waiting} of {BACKLOG} backlog objects not Synced yet"
    );
    ensure!(
        waiting * 10 >= BACKLOG * 7,
        "the newcomers were Synced only after {} of {BACKLOG} backlog objects",
        BACKLOG - waiting
    );

    // And the backlog still gets done.
    wait_for("the whole backlog Synced", DEFAULT_TIMEOUT, || async {
        let objects = api.list(&ListParams::default()).await?.items;
        Ok(objects.iter().all(is_synced).then_some(()))
    })
    .await
    .with_context(|| controller.log())?;
    drop(controller);
    ns.cleanup().await?;
    Ok(())
}
