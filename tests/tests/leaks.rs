//! Leak canary (docs/bad-input.md, "Secret values inside bad input"). The whole e2e suite runs with
//! the canary of
//! `sealant_tests::canary` in front of every value it seals, and the harness checks every
//! controller log (at TRACE) and metrics page, every test namespace's events, statuses and
//! Secret metadata, every HTTP answer and every CLI output for it. The tests here:
//!
//! - drive the controller through its success and failure paths with canary values (bad
//!   templates, wrong keys, moved objects, every API path with canaries in bodies, headers and
//!   the path) and search all of its outputs;
//! - drive the CLI through its success and error paths with canary values (bad base64, broken
//!   YAML and JSON, wrong kinds, bad literals and env files, lint, inspect, diff, unseal);
//! - plant the canary in each place the harness checks and assert each check sees it, so that a
//!   check that stopped looking fails here instead of passing quietly everywhere.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use sealant_controller::crd::SealedSecret;
use sealant_core::Certificate;
use sealant_tests::canary::{self, canary, embed};
use sealant_tests::cli::Sealant;
use sealant_tests::controller::*;
use sealant_tests::faults::{post, request, send_raw};
use sealant_tests::{DEFAULT_TIMEOUT, TestCluster, repo_file, wait_for};

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn no_secret_value_reaches_logs_events_status_metrics_or_http_answers() -> anyhow::Result<()>
{
    let canary_b64 = sealant_core::base64::encode(canary().as_bytes());
    // `sealed` puts the canary in front of every value already; the values sent in plain
    // (API bodies, headers) get it here.
    let value = |tag: &str| embed(tag);

    let cluster = cluster_with_crd().await?;
    let ns = cluster.namespace("leaks").await?;
    let api = free_local_addr()?;
    let metrics = free_local_addr()?;
    // TRACE is the most verbose level there is (it also turns on the libraries' own tracing).
    let controller = ControllerProcess::start_with_addrs(
        &cluster,
        ns.name(),
        &[
            "--log-level",
            "TRACE",
            "--rate-limit",
            "0",
            "--max-request-bytes",
            "8192",
        ],
        &api,
        &metrics,
    )?;
    let cert = controller_cert(&cluster, &ns).await?;
    let other = Certificate::from_pem(&std::fs::read(repo_file(
        "core/tests/vectors/keys/other-2048.crt",
    ))?)?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    let create = |object: SealedSecret| {
        let sealed_api = sealed_api.clone();
        async move { sealed_api.create(&PostParams::default(), &object).await }
    };

    // Create, then update: the canary does reach the Secret (the positive control).
    let (v1, v2) = (value("-one"), value("-two"));
    create(sealed(&cert, ns.name(), "app", &[("password", &v1)], None)?).await?;
    wait_secret_data(&secrets, "app", &[("password", &v1)])
        .await
        .with_context(|| controller.log())?;
    let update = sealed(&cert, ns.name(), "app", &[("password", &v2)], None)?;
    replace_sealed(&sealed_api, "app", update).await?;
    wait_secret_data(&secrets, "app", &[("password", &v2)]).await?;

    // Failures: another key, a strict secret moved to another name, and templates that fail on
    // the values in every way the engine can fail.
    create(sealed(
        &other,
        ns.name(),
        "wrongkey",
        &[("password", &value("-w"))],
        None,
    )?)
    .await?;
    let mut moved = sealed(
        &cert,
        ns.name(),
        "origin",
        &[("password", &value("-m"))],
        None,
    )?;
    moved.metadata.name = Some("moved".into());
    create(moved).await?;
    let templates = [
        "{{ index .password 99999 }}",
        "{{ .password.field }}",
        "{{ fromJson .password }}",
        "{{ b64dec .password }}",
        "{{ div 1 (atoi .password) }}",
        "{{ range .password }}{{ end }}",
        "{{ printf \"%d\" .password | fail }}",
        "{{ .password | toJson | fromJson | index 3 }}",
    ];
    for (i, template) in templates.iter().enumerate() {
        let mut object = sealed(
            &cert,
            ns.name(),
            &format!("tpl{i}"),
            &[("password", &value("-t"))],
            None,
        )?;
        std::sync::Arc::make_mut(&mut object.spec.inner)
            .template
            .data = Some(BTreeMap::from([("out".to_owned(), (*template).to_owned())]));
        create(object).await?;
    }
    // A Secret in the way (not owned): the SealedSecret must not copy anything into status.
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({
                "metadata": {"name": "taken"},
                "stringData": {"password": value("-taken")},
            }))?,
        )
        .await?;
    create(sealed(
        &cert,
        ns.name(),
        "taken",
        &[("password", &value("-x"))],
        None,
    )?)
    .await?;
    for name in ["wrongkey", "moved", "taken"] {
        wait_synced(&sealed_api, name, "False", 1)
            .await
            .with_context(|| controller.log())?;
    }
    // Some of those fail, some succeed (Sprig's lenient functions); either way the controller
    // must have handled each one before the outputs are searched.
    for i in 0..templates.len() {
        let name = format!("tpl{i}");
        wait_for(
            &format!("{name} to be handled"),
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_api.get(&name).await?;
                Ok(object
                    .status
                    .filter(|s| s.observed_generation == Some(1) && s.conditions.is_some())
                    .map(|_| ()))
            },
        )
        .await?;
    }

    // The HTTP API on every path, with the canary in the bodies.
    let mut answers = Vec::new();
    let good = sealed(
        &cert,
        ns.name(),
        "app",
        &[("password", &value("-api"))],
        None,
    )?;
    let foreign = sealed(
        &other,
        ns.name(),
        "app",
        &[("password", &value("-api"))],
        None,
    )?;
    let plain = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: app}}\nstringData: {{password: {}}}\n",
        value("-plain")
    );
    let bodies: Vec<Vec<u8>> = vec![
        serde_json::to_vec(&good)?,
        serde_json::to_vec(&foreign)?,
        plain.into_bytes(),
        format!("{{\"kind\": \"{}", value("-json")).into_bytes(),
        format!("kind: [{}\n", value("-yaml")).into_bytes(),
        format!("{}\n---\n{}", value("-a"), value("-b")).into_bytes(),
        value("-big").repeat(400).into_bytes(),
    ];
    for body in &bodies {
        for path in ["/v1/verify", "/v1/rotate"] {
            let reply = post(&api, path, body).await?;
            answers.push(format!("{path} {}: {}", reply.status, reply.text()));
        }
    }
    // The canary in headers and the path, too.
    let reply = send_raw(
        &api,
        request(
            "POST",
            &format!("/v1/{}", value("-path")),
            &[("X-Forwarded-For", &value("-xff"))],
            b"",
        ),
        None,
    )
    .await?;
    answers.push(format!("404 path {}: {}", reply.status, reply.text()));

    // Give the controller a moment to log whatever it logs after answering.
    let page = wait_for("the metrics page", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics).await)
    })
    .await?;
    let events = Api::<Event>::namespaced(cluster.client(), ns.name())
        .list(&ListParams::default())
        .await?;
    anyhow::ensure!(
        !events.items.is_empty(),
        "the controller recorded no events"
    );
    let statuses: Vec<_> = sealed_api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .map(|s| (s.metadata.name, s.status))
        .collect();
    let sources = [
        ("controller log".to_owned(), controller.log()),
        (
            "events".to_owned(),
            serde_json::to_string_pretty(&events.items)?,
        ),
        (
            "statuses".to_owned(),
            serde_json::to_string_pretty(&statuses)?,
        ),
        ("metrics".to_owned(), page),
        ("HTTP answers".to_owned(), answers.join("\n")),
    ];
    // The failures above must have produced something to search, or the test proves nothing.
    assert!(
        sources[2]
            .1
            .contains("no key could decrypt secret (password)"),
        "{}",
        sources[2].1
    );
    assert!(
        sources[0].1.contains(" TRACE ") && sources[0].1.contains(" DEBUG "),
        "not a TRACE log"
    );
    let leaks: Vec<String> = sources
        .iter()
        .filter_map(|(source, text)| canary::check(source, text).err())
        .map(|leak| leak.to_string())
        .collect();
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    // Control: the canary is findable where it belongs.
    let secret = secrets.get("app").await?;
    let data = serde_json::to_string(&secret.data)?;
    assert!(
        data.contains(&canary_b64) && canary::check("data", &data).is_err(),
        "the canary search cannot see base64"
    );
    ns.cleanup().await?;
    Ok(())
}

/// Runs `sealant ARGS` (stdin `input`) through the harness, which fails on the canary in its
/// output; returns its exit code (one of the documented 0, 1, 2: never a panic's 101) and
/// output.
fn sealant_cli(args: &[&str], input: &str) -> anyhow::Result<(i32, String)> {
    let output = Sealant::new(args)?.stdin(input).run()?;
    let code = output.code().unwrap_or(-1);
    let text = format!("{}{}", output.stdout, output.stderr);
    anyhow::ensure!(
        (0..=2).contains(&code),
        "sealant {args:?}: exit {code}: {text}"
    );
    Ok((code, text))
}

/// The CLI's success and error paths with canary values: what it prints, on stdout or stderr,
/// at exit 0, 1 or 2, never holds a value (the harness checks every run).
#[test]
#[ignore = "needs the CLI binary: bash tests/e2e.sh"]
fn no_secret_value_reaches_cli_output_on_success_or_error() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-cli-leaks"));
    std::fs::create_dir_all(&dir)?;
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let cert = repo_file("core/tests/vectors/keys/rsa2048.crt")
        .to_string_lossy()
        .into_owned();
    let key = repo_file("core/tests/vectors/keys/rsa2048.key")
        .to_string_lossy()
        .into_owned();
    let other_key = repo_file("core/tests/vectors/keys/other-2048.key")
        .to_string_lossy()
        .into_owned();
    let v = |tag: &str| embed(tag);
    let secret = |data: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: ns\n{data}")
    };

    // Success: sealed output holds no value; unsealing gives it back (the positive control).
    let (code, sealed_text) = sealant_cli(
        &["seal", "--cert", &cert],
        &secret(&format!("stringData:\n  password: {}\n", v("-ok"))),
    )?;
    anyhow::ensure!(code == 0, "seal failed: {sealed_text}");
    let sealed_file = path("sealed.yaml");
    std::fs::write(&sealed_file, &sealed_text)?;
    let unsealed = Sealant::new(&["unseal", "--recovery-private-key", &key, "-f", &sealed_file])?
        .stdout_is_plaintext()
        .run()?;
    anyhow::ensure!(
        unsealed.code() == Some(0) && canary::check("unsealed", &unsealed.stdout).is_err(),
        "the canary did not survive sealing: {}{}",
        unsealed.stdout,
        unsealed.stderr
    );

    // Errors on input that holds values.
    let bad_inputs = [
        (
            "bad base64",
            secret(&format!("data:\n  password: \"{}!!\"\n", v("-b64"))),
        ),
        (
            "broken YAML after a value",
            secret(&format!(
                "stringData:\n  password: {}\n   bad: [\n",
                v("-yaml")
            )),
        ),
        (
            "broken JSON after a value",
            format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{{\"name\":\"app\"}},\"stringData\":{{\"password\":\"{}\"",
                v("-json")
            ),
        ),
        (
            "a value where a map belongs",
            secret(&format!("stringData: {}\n", v("-notamap"))),
        ),
        (
            "a number where a string belongs",
            secret(&format!("stringData:\n  password: [{}]\n", v("-list"))),
        ),
        (
            "wrong kind",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata:\n  password: {}\n",
                v("-kind")
            ),
        ),
        (
            "two documents",
            format!(
                "{}---\n{}",
                secret(&format!("stringData:\n  a: {}\n", v("-one"))),
                secret(&format!("stringData:\n  b: {}\n", v("-two")))
            ),
        ),
    ];
    let mut outcomes = Vec::new();
    for (what, input) in &bad_inputs {
        let (code, text) = sealant_cli(&["seal", "--cert", &cert], input)?;
        outcomes.push(format!("seal, {what}: exit {code}"));
        // Each is an error path (the two documents are both sealed: the one success here).
        anyhow::ensure!(
            (code == 0) == (*what == "two documents") && text.contains("error:") == (code != 0),
            "{what}: exit {code}: {text}"
        );
    }
    // Values on the command line and in env files: a line that is not KEY=VALUE (say, the
    // second line of a PEM value) and an unterminated quote.
    let (bare, quoted, repeated) = (path("bare.env"), path("quote.env"), path("twice.env"));
    std::fs::write(&bare, format!("GOOD=x\n{}\n", v("+/line")))?;
    std::fs::write(&quoted, format!("GOOD=\"{}\nOTHER=x\n", v("-quote")))?;
    std::fs::write(&repeated, format!("K={}\nK={}\n", v("-1"), v("-2")))?;
    let (literal, twice_a, twice_b) = (
        format!("--from-literal={}", v("-noequals")),
        format!("--from-literal=k={}", v("-a")),
        format!("--from-literal=k={}", v("-b")),
    );
    let base = ["seal", "app", "-n", "ns", "--cert", &cert];
    for (what, extra, fails) in [
        ("literal without =", vec![literal.as_str()], true),
        ("a literal key twice", vec![&twice_a, &twice_b], true),
        ("env line without =", vec!["--from-env-file", &bare], true),
        ("env key twice", vec!["--from-env-file", &repeated], true),
        (
            "env value with an open quote",
            vec!["--from-env-file", &quoted],
            false,
        ),
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra).collect();
        let (code, text) = sealant_cli(&args, "")?;
        outcomes.push(format!("seal, {what}: exit {code}"));
        anyhow::ensure!((code != 0) == fails, "{what}: exit {code}: {text}");
    }

    // Other commands over files with values.
    let plain_file = path("plain.yaml");
    std::fs::write(
        &plain_file,
        secret(&format!("stringData:\n  password: {}\n", v("-lint"))),
    )?;
    let changed_file = path("changed.yaml");
    let (_, changed) = sealant_cli(
        &["seal", "--cert", &cert],
        &secret(&format!("stringData:\n  password: {}\n", v("-changed"))),
    )?;
    std::fs::write(&changed_file, changed)?;
    for (what, args) in [
        ("lint of a plain Secret", vec!["lint", &plain_file]),
        ("inspect", vec!["inspect", &sealed_file]),
        ("inspect of a plain Secret", vec!["inspect", &plain_file]),
        (
            "diff with keys, masked",
            vec![
                "diff",
                &sealed_file,
                &changed_file,
                "--recovery-private-key",
                &key,
            ],
        ),
        (
            "unseal with the wrong key",
            vec![
                "unseal",
                "--recovery-private-key",
                &other_key,
                "-f",
                &sealed_file,
            ],
        ),
        (
            "reencrypt with the wrong key",
            vec![
                "reencrypt",
                "--private-key",
                &other_key,
                "--cert",
                &cert,
                "-f",
                &sealed_file,
            ],
        ),
        (
            "seal --merge-into a plain Secret",
            vec!["seal", "--cert", &cert, "--merge-into", &plain_file],
        ),
    ] {
        let (code, _) = sealant_cli(
            &args,
            &secret(&format!("stringData:\n  extra: {}\n", v("-merge"))),
        )?;
        outcomes.push(format!("{what}: exit {code}"));
    }
    eprintln!("CLI runs checked:\n  {}", outcomes.join("\n  "));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A tiny HTTP server on loopback that answers every connection with `body`; its address.
fn leaking_server(body: String) -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(addr)
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// The harness's checks are live: the canary planted in a controller's log, an HTTP answer, a
/// CLI's output, and a namespace's events, Secret metadata and SealedSecret status is caught
/// each time, and the checks counted what they read. A check that stopped looking (or a
/// controller that stopped logging at TRACE) fails here.
#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn every_leak_check_of_the_harness_catches_a_planted_canary() -> anyhow::Result<()> {
    let cluster: TestCluster = cluster_with_crd().await?;
    let ns = cluster.namespace("leak-plant").await?;
    let controller = ControllerProcess::start(&cluster, ns.name(), &[])?;
    let cert = controller_cert(&cluster, &ns).await?;
    let sealed_api: Api<SealedSecret> = Api::namespaced(cluster.client(), ns.name());
    let secrets: Api<Secret> = Api::namespaced(cluster.client(), ns.name());
    sealed_api
        .create(
            &PostParams::default(),
            &sealed(&cert, ns.name(), "app", &[("k", "v")], None)?,
        )
        .await?;
    let secret = wait_secret_data(&secrets, "app", &[("k", "v")]).await?;
    // The canary went in with the value: the data holds it (base64), so the harness finds it.
    anyhow::ensure!(
        canary::check("data", &serde_json::to_string(&secret.data)?).is_err(),
        "sealed() did not put the canary in the value"
    );

    // The controller: logs at TRACE by default, its metrics are found, a clean log passes, a
    // planted line fails both the explicit check and the one in Drop.
    let log = controller.log();
    anyhow::ensure!(
        log.contains(" TRACE ") && log.contains(" DEBUG "),
        "the controller does not log at TRACE"
    );
    let metrics = controller
        .listening("metrics")
        .context("no metrics address in the log")?;
    wait_for("the metrics page", DEFAULT_TIMEOUT, || async {
        Ok(fetch_metrics(&metrics).await)
    })
    .await?;
    controller.check_log()?;
    let before = canary::tally();
    {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&controller.log)?;
        writeln!(file, "planted: value={}", embed("-planted"))?;
    }
    anyhow::ensure!(controller.check_log().is_err(), "check_log missed it");
    let log_len = std::fs::metadata(&controller.log)?.len();
    let dropped = std::panic::catch_unwind(AssertUnwindSafe(move || drop(controller)));
    let message = dropped.err().map(|p| panic_text(&*p)).unwrap_or_default();
    anyhow::ensure!(
        message.contains("leak canary") && message.contains("log of controller"),
        "dropping the controller did not fail on its log: {message:?}"
    );
    let after = canary::tally();
    anyhow::ensure!(
        after.bytes >= before.bytes + 2 * log_len && after.texts >= before.texts + 3,
        "the checks did not read the log and metrics: {before:?} → {after:?}"
    );

    // HTTP answers, through both clients.
    let addr = leaking_server(format!("echo {}", embed("-http")))?;
    let err = post(&addr, "/v1/verify", b"{}")
        .await
        .expect_err("send_raw must refuse a leaking answer");
    anyhow::ensure!(format!("{err:#}").contains("leak canary"), "{err:#}");
    let get = tokio::spawn({
        let addr = addr.clone();
        async move { http_get(&addr, "/").await }
    })
    .await;
    anyhow::ensure!(
        get.is_err_and(|e| e.is_panic()),
        "http_get must fail on a leaking answer"
    );

    // The CLI: an error that quotes its input (a path here) is caught on stderr.
    let missing = format!("/nonexistent/{}.pem", embed("-path"));
    let err = Sealant::new(&["seal", "--cert", &missing])?
        .stdin("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n")
        .run()
        .expect_err("the CLI check must see the canary");
    anyhow::ensure!(format!("{err:#}").contains("sealant stderr"), "{err:#}");

    // The namespace: events, Secret metadata and SealedSecret status.
    let planted = cluster.namespace("leak-planted").await?;
    let event: Event = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "planted" },
        "involvedObject": { "kind": "Secret", "name": "x", "namespace": planted.name() },
        "reason": "Planted",
        "message": embed("-event"),
        "type": "Normal",
    }))?;
    Api::<Event>::namespaced(cluster.client(), planted.name())
        .create(&PostParams::default(), &event)
        .await?;
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "planted", "annotations": { "note": embed("-annotation") } },
    }))?;
    Api::<Secret>::namespaced(cluster.client(), planted.name())
        .create(&PostParams::default(), &secret)
        .await?;
    let planted_sealed: Api<SealedSecret> = Api::namespaced(cluster.client(), planted.name());
    planted_sealed
        .create(
            &PostParams::default(),
            &sealed(&cert, planted.name(), "s", &[("k", "v")], None)?,
        )
        .await?;
    let status = serde_json::json!({ "status": { "conditions": [{
        "type": "Synced", "status": "False", "message": embed("-status"),
    }]}});
    planted_sealed
        .patch_status("s", &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    let err = planted
        .check_leaks()
        .await
        .expect_err("the namespace check must see the canary");
    let text = err.to_string();
    for source in ["events of namespace", "metadata of Secret", "SealedSecret"] {
        anyhow::ensure!(text.contains(source), "{source} not reported: {text}");
    }
    let err = planted
        .cleanup()
        .await
        .expect_err("cleanup reports the leak");
    anyhow::ensure!(format!("{err:#}").contains("leak canary"), "{err:#}");
    ns.cleanup().await
}
