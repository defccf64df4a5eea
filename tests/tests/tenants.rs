//! A hostile tenant on the real control plane (docs/bad-input.md, "Hostile tenants"): an
//! attacker with rights in its own namespace only (impersonated, see
//! `sealant_tests::tenant`) forges the controller's cache digest, amplifies templates, floods
//! the API with idle connections, forges status, ownerReferences and labels, and sends huge,
//! many and forever-failing objects, while a victim namespace with 50 SealedSecrets keeps
//! working. Every test ends with `Arena::finish`: the controller never exited, its peak RSS
//! stayed under the bound, the victim's new and updated SealedSecrets synced, and no status
//! claims `Synced=True` for a Secret that differs from its SealedSecret. The figures (peak RSS,
//! victim latency under attack) are printed as `tenant figures [...]` lines.

use std::collections::BTreeMap;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_controller::reconcile::{OWNED_LABEL, OWNED_LABEL_VALUE};
use sealant_core::sealing::AGE_ITEMS_ANNOTATION;
use sealant_tests::controller::{fetch_metrics, replace_sealed};
use sealant_tests::tenant::{Arena, Expect, synced_status};

/// The annotation under which the controller once kept the inputs digest of a cached
/// SealedSecret (docs/controller.md, "Caches"), and trusted it when a tenant wrote it.
const FORGED_DIGEST: &str = "sealant.dev/cached-inputs-digest";

fn random_hex64() -> String {
    (0..4)
        .map(|i| {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u32(i);
            format!("{:016x}", hasher.finish())
        })
        .collect()
}

fn merge(value: serde_json::Value) -> Patch<serde_json::Value> {
    Patch::Merge(value)
}

/// Replaces SealedSecret `name` with `object` (new items), returning the new generation.
async fn update(api: &Api<SealedSecret>, name: &str, object: SealedSecret) -> anyhow::Result<i64> {
    let replaced = replace_sealed(api, name, object).await?;
    Ok(replaced.metadata.generation.unwrap_or_default())
}

fn condition_message(object: &SealedSecret) -> String {
    object
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Synced"))
        .and_then(|c| c.message.clone())
        .unwrap_or_default()
}

/// A random `sealant.dev/cached-inputs-digest`, with a metadata-only change of the inputs or
/// with the Secret's data tampered with, must not crash the controller (the reconciler once
/// re-fetched such an object for ever, until its stack overflowed).
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_forged_random_cache_digest_does_not_crash_the_controller() -> anyhow::Result<()> {
    Arena::run("tnt-digest", forge_random_digest).await
}

/// The previous version's `sealant.dev/cached-inputs-digest`, with the previous Secret (data
/// and its valid digest annotation) replayed, must not keep the stale Secret with
/// `Synced=True`.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_replayed_cache_digest_does_not_keep_a_stale_secret() -> anyhow::Result<()> {
    Arena::run("tnt-replay", replay_digest).await
}

async fn forge_random_digest(arena: &Arena) -> anyhow::Result<()> {
    let sealed_api: Api<SealedSecret> = arena.tenant_api();
    let secrets: Api<Secret> = arena.tenant_api();
    let mut digests = BTreeMap::new();
    for name in ["forge-meta", "forge-data"] {
        let items = [("k", "forged-digest")];
        arena.expect_data(name, &items);
        sealed_api
            .create(&PostParams::default(), &arena.seal(name, &items)?)
            .await?;
        // Synced with a key inventory: the watch cache now keeps it without its ciphertexts.
        arena
            .wait_status(&sealed_api, name, "True", 1, true)
            .await?;
        let secret = arena.wait_data(&secrets, name, &items).await?;
        digests.insert(name, secret.annotations().clone());
    }
    // An empty age-items map changes the inputs, not the data.
    let forged = serde_json::json!({ "metadata": { "annotations": {
        FORGED_DIGEST: random_hex64(),
        AGE_ITEMS_ANNOTATION: "{}",
    } } });
    sealed_api
        .patch("forge-meta", &PatchParams::default(), &merge(forged))
        .await?;
    // The annotation first (the Secret is in sync: nothing to do), then the tampering.
    let forged =
        serde_json::json!({ "metadata": { "annotations": { FORGED_DIGEST: random_hex64() } } });
    sealed_api
        .patch("forge-data", &PatchParams::default(), &merge(forged))
        .await?;
    let tampered = serde_json::json!({ "data": { "k": "dGFtcGVyZWQ=" } });
    secrets
        .patch("forge-data", &PatchParams::default(), &merge(tampered))
        .await?;
    arena.check(
        "victim round with forged random digests",
        arena.victim_round("forged random digest").await,
    );
    // A controller that looked at forge-meta again re-stamps its Secret's digest.
    let before = digests.remove("forge-meta").unwrap_or_default();
    let restamped = arena
        .wait("forge-meta's Secret to be re-verified", || async {
            let secret = secrets.get("forge-meta").await?;
            Ok((secret.annotations() != &before).then_some(()))
        })
        .await;
    arena.check("random digest and a metadata-only change", restamped);
    let repaired = arena
        .wait_data(&secrets, "forge-data", &[("k", "forged-digest")])
        .await;
    arena.check("random digest and tampered Secret data", repaired);
    Ok(())
}

async fn replay_digest(arena: &Arena) -> anyhow::Result<()> {
    let sealed_api: Api<SealedSecret> = arena.tenant_api();
    let secrets: Api<Secret> = arena.tenant_api();
    let name = "forge-replay";
    let old_items = [("k", "replay-old")];
    let new_items = [("k", "replay-new")];
    arena.expect_data(name, &old_items);
    sealed_api
        .create(&PostParams::default(), &arena.seal(name, &old_items)?)
        .await?;
    let old = arena
        .wait_status(&sealed_api, name, "True", 1, true)
        .await?;
    let old_secret = arena.wait_data(&secrets, name, &old_items).await?;
    let old_digest: String = sealant_core::sync::inputs_digest(&old.to_core()?)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    arena.expect_data(name, &new_items);
    let generation = update(&sealed_api, name, arena.seal(name, &new_items)?).await?;
    arena
        .wait_status(&sealed_api, name, "True", generation, true)
        .await?;
    arena.wait_data(&secrets, name, &new_items).await?;
    // The annotation first (the Secret is in sync: nothing to do), then the replay.
    let forged =
        serde_json::json!({ "metadata": { "annotations": { FORGED_DIGEST: old_digest } } });
    sealed_api
        .patch(name, &PatchParams::default(), &merge(forged))
        .await?;
    let mut replay = secrets.get(name).await?;
    replay.data = old_secret.data.clone();
    replay.metadata.annotations = old_secret.metadata.annotations.clone();
    secrets
        .replace(name, &PostParams::default(), &replay)
        .await?;
    arena.check(
        "victim round with a replayed digest",
        arena.victim_round("replayed digest").await,
    );
    let repaired = arena.wait_data(&secrets, name, &new_items).await;
    arena.check(
        "the previous version's digest with its Secret replayed",
        repaired,
    );
    Ok(())
}

/// 300 templates of 1 MiB each (no key needed to write them) must neither blow the
/// controller's memory nor show up in the status.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_template_amplification_keeps_memory_bounded_and_reports_no_values()
-> anyhow::Result<()> {
    Arena::run("tnt-template", amplify_templates).await
}

async fn amplify_templates(arena: &Arena) -> anyhow::Result<()> {
    const OBJECTS: usize = 2;
    const TEMPLATES: usize = 300;
    let sealed_api: Api<SealedSecret> = arena.tenant_api();
    let secrets: Api<Secret> = arena.tenant_api();
    let templates: BTreeMap<String, String> = (0..TEMPLATES)
        .map(|i| (format!("t{i:03}"), "{{ repeat 1048576 \"x\" }}".to_owned()))
        .collect();
    for i in 0..OBJECTS {
        let name = format!("amp-{i}");
        let object: SealedSecret = serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": { "name": name, "namespace": arena.tenant.name() },
            "spec": { "encryptedData": {}, "template": { "data": templates } },
        }))?;
        arena.expect(&name, Expect::Never);
        sealed_api.create(&PostParams::default(), &object).await?;
    }
    arena.check(
        "victim round with amplified templates",
        arena.victim_round("template amplification").await,
    );
    for i in 0..OBJECTS {
        let name = format!("amp-{i}");
        let failed = arena
            .wait_status(&sealed_api, &name, "False", 1, false)
            .await;
        let Some(failed) = arena.check(&format!("{name} fails"), failed) else {
            continue;
        };
        let message = condition_message(&failed);
        let quiet = if message.is_empty() {
            Err(anyhow::anyhow!("the status does not say why"))
        } else if message.contains("xxxxxxxxxxxxxxxx") {
            Err(anyhow::anyhow!("the status quotes rendered output"))
        } else if message.len() > 4096 {
            let start: String = message.chars().take(160).collect();
            Err(anyhow::anyhow!(
                "a status message of {} bytes, starting {start:?}",
                message.len()
            ))
        } else {
            Ok(())
        };
        arena.check(&format!("{name}'s status message"), quiet);
        if secrets.get_opt(&name).await?.is_some() {
            arena.check(&name, Err::<(), _>(anyhow::anyhow!("a Secret was written")));
        }
    }
    let (rss, hwm) = arena.peak_mib();
    arena.note(&format!(
        "after the amplification: VmRSS peak {rss:.1} MiB, VmHWM {hwm:.1} MiB"
    ));
    Ok(())
}

/// 1,100 idle connections to the API port from five addresses, the controller limited to 1,024
/// open files: health (on the metrics listener, where the probes look) still answers, so does
/// the API for another client (docs/controller.md, "HTTP connections"), and the victim syncs.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_idle_connection_flood_leaves_health_and_the_victim_working() -> anyhow::Result<()> {
    Arena::run("tnt-conns", idle_flood).await
}

/// Lowers the controller's open-file limit (soft and hard) to `limit`, with `prlimit`.
fn limit_open_files(arena: &Arena, limit: u32) -> anyhow::Result<()> {
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", arena.controller.child.id()))
        .arg(format!("--nofile={limit}:{limit}"))
        .status()?;
    anyhow::ensure!(status.success(), "prlimit failed: {status}");
    Ok(())
}

/// How many files the controller has open now.
fn open_files(arena: &Arena) -> Option<usize> {
    let fds = std::fs::read_dir(format!("/proc/{}/fd", arena.controller.child.id()));
    fds.ok().map(Iterator::count)
}

async fn idle_flood(arena: &Arena) -> anyhow::Result<()> {
    // From five attacker addresses, more than a server holds in all; the probes below come
    // from 127.0.0.1, another peer.
    const SOURCES: u8 = 5;
    const PER_SOURCE: usize = 220;
    let target: std::net::SocketAddr = arena.api_addr.parse()?;
    let opened = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Each connection idles until the server closes it, and is opened again (a persistent
    // attacker); dropping the set ends the flood.
    let mut flood = tokio::task::JoinSet::new();
    for source in 2..2 + SOURCES {
        for _ in 0..PER_SOURCE {
            let opened = opened.clone();
            flood.spawn(async move {
                loop {
                    if let Ok(socket) = tokio::net::TcpSocket::new_v4()
                        && socket.bind(([127, 0, 0, source], 0).into()).is_ok()
                        && let Ok(Ok(mut stream)) =
                            tokio::time::timeout(Duration::from_secs(5), socket.connect(target))
                                .await
                    {
                        opened.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut [0u8; 1]).await;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
    }
    let total = usize::from(SOURCES) * PER_SOURCE;
    let count = || opened.load(std::sync::atomic::Ordering::Relaxed);
    arena
        .wait(
            &format!("{total} idle connections to be opened"),
            || async { Ok((count() >= total).then_some(())) },
        )
        .await?;
    // Then the same with the controller limited to 1,024 open files, as many container
    // runtimes start a process.
    for (phase, files) in [
        ("1,100 idle API connections", None),
        ("the same, 1,024 open files", Some(1024)),
    ] {
        if let Some(files) = files {
            limit_open_files(arena, files)?;
        }
        // Until the accept loop took what it takes: the controller's open files stop growing.
        let mut fds = open_files(arena);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = open_files(arena);
            if now <= fds {
                break;
            }
            fds = now;
        }
        let health = arena
            .wait("/healthz on the metrics listener", || async {
                Ok(arena.metrics_healthy().await.then_some(()))
            })
            .await;
        arena.check(&format!("health (metrics listener), {phase}"), health);
        if fetch_metrics(&arena.metrics_addr).await.is_none() {
            let none = Err::<(), _>(anyhow::anyhow!("no answer"));
            arena.check(&format!("the metrics page, {phase}"), none);
        }
        let api = arena
            .wait("/healthz on the API listener", || async {
                Ok(arena.api_healthy().await.then_some(()))
            })
            .await;
        arena.check(&format!("the API for another client, {phase}"), api);
        arena.check(
            &format!("victim round, {phase}"),
            arena.victim_round(phase).await,
        );
        arena.note(&format!(
            "{phase}: the controller had {fds:?} files open; {} connections opened so far",
            count()
        ));
    }
    drop(flood);
    let back = arena
        .wait("the API to answer again", || async {
            Ok(arena.api_healthy().await.then_some(()))
        })
        .await;
    arena.check("the API after the flood", back);
    Ok(())
}

/// Forged status (the tenant may write `sealedsecrets/status`), and Secrets squatting on a
/// SealedSecret's name with our owned-by label and a foreign controller ownerReference: the
/// controller corrects the status, never overwrites a Secret it does not own, and says so.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_forged_status_owner_references_and_labels_are_not_trusted() -> anyhow::Result<()> {
    Arena::run("tnt-forgery", forge_status_and_ownership).await
}

async fn forge_status_and_ownership(arena: &Arena) -> anyhow::Result<()> {
    let sealed_api: Api<SealedSecret> = arena.tenant_api();
    let secrets: Api<Secret> = arena.tenant_api();

    // A real SealedSecret of the tenant, whose uid the squatter borrows (so the garbage
    // collector, which deletes Secrets whose owner is gone, keeps it).
    let decoy_items = [("k", "decoy")];
    arena.expect_data("decoy", &decoy_items);
    sealed_api
        .create(&PostParams::default(), &arena.seal("decoy", &decoy_items)?)
        .await?;
    let decoy = arena
        .wait_status(&sealed_api, "decoy", "True", 1, true)
        .await?;
    let fingerprints = decoy
        .status
        .as_ref()
        .and_then(|s| s.key_fingerprints.as_deref().map(<[String]>::to_vec))
        .unwrap_or_default();

    let squatted = "c3F1YXR0ZXI="; // "squatter"
    for (name, owner) in [("squat-owner", true), ("squat-label", false)] {
        let owners = if owner {
            serde_json::json!([{
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "name": "decoy",
                "uid": decoy.uid(),
                "controller": true,
            }])
        } else {
            serde_json::Value::Null
        };
        let squatter: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": name,
                "labels": { OWNED_LABEL: OWNED_LABEL_VALUE },
                "ownerReferences": owners,
            },
            "data": { "k": squatted },
        }))?;
        secrets.create(&PostParams::default(), &squatter).await?;
        let items = [("k", "legit")];
        arena.expect_data(name, &items);
        sealed_api
            .create(&PostParams::default(), &arena.seal(name, &items)?)
            .await?;
    }

    // An object that cannot be unsealed, forged to say Synced=True.
    arena.expect("liar-never", Expect::Never);
    sealed_api
        .create(
            &PostParams::default(),
            &arena.seal_undecryptable("liar-never")?,
        )
        .await?;
    arena
        .wait_status(&sealed_api, "liar-never", "False", 1, false)
        .await?;
    let forged = |generation: i64| {
        serde_json::json!({ "status": {
            "observedGeneration": generation,
            "conditions": [{ "type": "Synced", "status": "True", "message": "" }],
            "keyFingerprints": fingerprints,
        } })
    };
    let forged_object = sealed_api
        .patch_status("liar-never", &PatchParams::default(), &merge(forged(1)))
        .await?;
    anyhow::ensure!(
        synced_status(&forged_object).as_deref() == Some("True"),
        "the tenant could not forge its status"
    );

    // An update of the items with the status forged to say the new generation is synced.
    let name = "liar-update";
    let items = [("k", "first")];
    arena.expect_data(name, &items);
    sealed_api
        .create(&PostParams::default(), &arena.seal(name, &items)?)
        .await?;
    arena
        .wait_status(&sealed_api, name, "True", 1, true)
        .await?;
    arena.wait_data(&secrets, name, &items).await?;
    let items = [("k", "second")];
    arena.expect_data(name, &items);
    let generation = update(&sealed_api, name, arena.seal(name, &items)?).await?;
    sealed_api
        .patch_status(name, &PatchParams::default(), &merge(forged(generation)))
        .await?;

    arena.check(
        "victim round with forged status and ownership",
        arena.victim_round("forged status and ownership").await,
    );
    for name in ["squat-owner", "squat-label"] {
        let failed = arena
            .wait_status(&sealed_api, name, "False", 1, false)
            .await;
        if let Some(failed) = arena.check(&format!("{name} fails"), failed) {
            let message = condition_message(&failed);
            if !message.contains("is not managed by SealedSecret") {
                arena.check(
                    &format!("{name}'s status message"),
                    Err::<(), _>(anyhow::anyhow!("it does not say why: {message:?}")),
                );
            }
        }
        let secret = secrets.get(name).await?;
        let value = secret
            .data
            .unwrap_or_default()
            .get("k")
            .map(|v| v.0.clone());
        if value != Some(b"squatter".to_vec()) {
            arena.check(
                name,
                Err::<(), _>(anyhow::anyhow!(
                    "a Secret the controller does not own was overwritten"
                )),
            );
        }
    }
    let corrected = arena
        .wait_status(&sealed_api, "liar-never", "False", 1, false)
        .await;
    arena.check(
        "a forged Synced=True on an object that cannot be unsealed",
        corrected,
    );
    let updated = arena.wait_data(&secrets, name, &items).await;
    arena.check(
        "an update with a forged Synced=True for its generation",
        updated,
    );
    Ok(())
}

/// Deterministic bytes (xorshift), for garbage that looks like ciphertext.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Objects near the API server's size limit whose ~700 items each cost a private-key
/// operation and fail, 300 objects created at once (half of them unsealable), and objects
/// failing for ever that the tenant keeps touching: the victim still syncs, and the tenant's
/// good objects too.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_huge_many_and_forever_failing_objects_do_not_starve_the_victim()
-> anyhow::Result<()> {
    Arena::run("tnt-objects", flood_objects).await
}

async fn flood_objects(arena: &Arena) -> anyhow::Result<()> {
    const HUGE: usize = 2;
    const HUGE_ITEMS: usize = 680;
    const MANY: usize = 300;
    const TOUCHED: usize = 20;
    let sealed_api: Api<SealedSecret> = arena.tenant_api();

    // Shaped like a v2 item for a 2048-bit key (length prefix 256, then the RSA block and the
    // AES-GCM part), so every item is tried with the private key before it fails.
    for i in 0..HUGE {
        let name = format!("huge-{i}");
        let items: BTreeMap<String, String> = (0..HUGE_ITEMS)
            .map(|j| {
                let mut item = vec![0x01, 0x00];
                item.extend(garbage((i * HUGE_ITEMS + j) as u64 + 7, 1500));
                (format!("item{j:04}"), sealant_core::base64::encode(&item))
            })
            .collect();
        let object: SealedSecret = serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": { "name": name, "namespace": arena.tenant.name() },
            "spec": { "encryptedData": items },
        }))?;
        let size = serde_json::to_vec(&object)?.len();
        anyhow::ensure!(
            (1_300_000..1_500_000).contains(&size),
            "{name} is {size} bytes, meant to be just under the 1.5 MiB limit"
        );
        arena.expect(&name, Expect::Never);
        sealed_api.create(&PostParams::default(), &object).await?;
    }

    let mut objects = Vec::with_capacity(MANY);
    for i in 0..MANY {
        let name = format!("many-{i}");
        if i % 2 == 0 {
            let value = format!("many-{i}-value");
            arena.expect_data(&name, &[("k", &value)]);
            objects.push(arena.seal(&name, &[("k", &value)])?);
        } else {
            arena.expect(&name, Expect::Never);
            objects.push(arena.seal_undecryptable(&name)?);
        }
    }
    let mut creating = tokio::task::JoinSet::new();
    for object in objects {
        let api = sealed_api.clone();
        creating.spawn(async move { api.create(&PostParams::default(), &object).await.map(drop) });
    }
    // Failing objects touched every half second: their retry budget never runs out. Dropping
    // the set stops it.
    let mut toucher = tokio::task::JoinSet::new();
    let api = sealed_api.clone();
    toucher.spawn(async move {
        for round in 0u64.. {
            for i in (1..2 * TOUCHED).step_by(2) {
                let touch = serde_json::json!({ "metadata": { "annotations": {
                    "tenant.example/touch": round.to_string(),
                } } });
                // Not yet created, or a conflict: touched next time.
                let _ = api
                    .patch(&format!("many-{i}"), &PatchParams::default(), &merge(touch))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let round = arena
        .victim_round("300 objects at once, 2 near the size limit, 20 failing for ever")
        .await;
    while let Some(result) = creating.join_next().await {
        result??;
    }
    arena.check("victim round during the flood of objects", round);
    arena.check(
        "victim round after the flood of objects",
        arena
            .victim_round("after the 300 objects, 20 still failing for ever")
            .await,
    );
    // The tenant's good objects sync too.
    let good = MANY / 2;
    let synced = arena
        .wait(
            &format!("the tenant's {good} good objects to sync"),
            || async {
                let list = sealed_api.list(&Default::default()).await?;
                let synced = list
                    .items
                    .iter()
                    .filter(|o| {
                        o.name_any().starts_with("many-")
                            && synced_status(o).as_deref() == Some("True")
                    })
                    .count();
                Ok((synced >= good).then_some(()))
            },
        )
        .await;
    arena.check("the tenant's good objects", synced);
    drop(toucher);
    for i in 0..HUGE {
        let failed = arena
            .wait_status(&sealed_api, &format!("huge-{i}"), "False", 1, false)
            .await;
        if let Some(failed) = arena.check(&format!("huge-{i} fails"), failed) {
            arena.note(&format!(
                "huge-{i}: status message of {} bytes",
                condition_message(&failed).len()
            ));
        }
    }
    Ok(())
}

/// Every attack above at once, against one controller and one victim.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_every_attack_at_once_leaves_the_victim_working() -> anyhow::Result<()> {
    Arena::run("tnt-all", async |arena: &Arena| {
        let (random, replay, templates, connections, forgery, objects) = tokio::join!(
            forge_random_digest(arena),
            replay_digest(arena),
            amplify_templates(arena),
            idle_flood(arena),
            forge_status_and_ownership(arena),
            flood_objects(arena),
        );
        arena.check("forged random digest", random);
        arena.check("replayed digest", replay);
        arena.check("template amplification", templates);
        arena.check("idle connection flood", connections);
        arena.check("forged status and ownership", forgery);
        arena.check("huge, many and failing objects", objects);
        arena.victim_round("after every attack").await.map(drop)
    })
    .await
}
