//! Tenant keys on the real control plane (docs/multi-tenancy.md, "Tenant keys"): one controller
//! with `--tenant-keys` for two tenants (namespaces labelled `sealant.dev/tenant`) and an
//! unlabelled namespace (the cluster key), reached through the API server's service proxy as
//! users reach it. In one run: a key set per owner; `/v1/cert.pem?namespace=` per owner;
//! `sealant seal` picking the tenant's certificate by itself; copies into another tenant or the
//! cluster's namespace failing with the opaque error; the migration switch
//! (`--tenant-allow-cluster-key`) and `sealant reencrypt` moving an object to its tenant's key;
//! `keys list` per tenant; `keys compromise --tenant` touching one tenant only; `keys backup`
//! holding every owner's keys. Each check prints a `tenant keys check passed:` line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use sealant_controller::crd::SealedSecret;
use sealant_core::keysecret::KEY_LABEL;
use sealant_core::keysecret::age::AGE_KEY_LABEL;
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::tenant::TENANT_LABEL;
use sealant_core::{AgeIdentity, Certificate, IdentityKind};
use sealant_tests::cli::{CliOutput, Sealant};
use sealant_tests::controller::{
    PROXIED_SERVICE, ProxiedController, cluster_with_crd, sealed, wait_secret_data,
};
use sealant_tests::{DEFAULT_TIMEOUT, FIELD_MANAGER, TestCluster, TestNamespace, wait_for};
use serde_json::{Value, json};

const ALPHA: &str = "alpha";
const BETA: &str = "beta";
/// The one error a SealedSecret gets when no key of its ring opens it.
const OPAQUE: &str = "no key could decrypt";

/// Printed as the checks pass, so a failing run shows how far it got (cargo prints a failed
/// test's output).
#[allow(clippy::print_stdout)]
fn passed(check: &str) {
    println!("tenant keys check passed: {check}");
}

/// The `sealant` binary against the test cluster's controller in `ctl`.
struct Cli {
    admin: PathBuf,
    ctl: String,
}

impl Cli {
    async fn run(&self, args: &[&str]) -> anyhow::Result<CliOutput> {
        let mut argv: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        argv.extend([
            "--kubeconfig".into(),
            self.admin.to_string_lossy().into_owned(),
            "--controller-namespace".into(),
            self.ctl.clone(),
            "--controller-name".into(),
            PROXIED_SERVICE.into(),
        ]);
        Sealant::new(&argv)?.run_async().await
    }

    async fn ok(&self, args: &[&str]) -> anyhow::Result<CliOutput> {
        let out = self.run(args).await?;
        ensure!(
            out.code() == Some(0),
            "sealant {args:?} exited {:?}:\n{}{}",
            out.code(),
            out.stdout,
            out.stderr
        );
        Ok(out)
    }

    /// `keys list -o json` with `extra`; the fingerprints of its RSA keys.
    async fn rsa_keys(&self, extra: &[&str]) -> anyhow::Result<(Value, BTreeSet<String>)> {
        let mut args = vec!["keys", "list", "-o", "json"];
        args.extend_from_slice(extra);
        let out = self.ok(&args).await?;
        let list: Value = serde_json::from_str(&out.stdout)
            .with_context(|| format!("keys list {extra:?}: {}", out.stdout))?;
        let rsa = list["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|k| k["kind"] == "rsa")
            .filter_map(|k| k["fingerprint"].as_str().map(str::to_owned))
            .collect();
        Ok((list, rsa))
    }
}

/// One key Secret as the test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyView {
    name: String,
    owner: Option<String>,
    state: String,
    fingerprint: Option<String>,
    resource_version: Option<String>,
}

/// The key Secrets of the kind `label` names (RSA or age), every state.
async fn keys(api: &Api<Secret>, label: &str) -> anyhow::Result<Vec<KeyView>> {
    let list = api.list(&ListParams::default().labels(label)).await?;
    Ok(list
        .items
        .iter()
        .map(|s| {
            let labels = s.metadata.labels.clone().unwrap_or_default();
            KeyView {
                name: s.name_any(),
                owner: labels.get(TENANT_LABEL).cloned(),
                state: labels.get(label).cloned().unwrap_or_default(),
                fingerprint: s
                    .data
                    .as_ref()
                    .and_then(|d| d.get("tls.crt"))
                    .and_then(|pem| Certificate::from_pem(&pem.0).ok())
                    .map(|c| c.public_key().fingerprint().to_string()),
                resource_version: s.metadata.resource_version.clone(),
            }
        })
        .collect())
}

/// The one active key of `owner` (`None`: the cluster) in `list`.
fn active<'a>(list: &'a [KeyView], owner: Option<&str>) -> Option<&'a KeyView> {
    let mut found = list
        .iter()
        .filter(|k| k.owner.as_deref() == owner && k.state == "active");
    let first = found.next();
    found.next().is_none().then_some(first).flatten()
}

/// An HTTP answer: status, headers, body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// A bare HTTP/1.1 GET.
async fn get(addr: &str, path: &str) -> anyhow::Result<Answer> {
    let (addr, path) = (addr.to_owned(), path.to_owned());
    tokio::task::spawn_blocking(move || -> anyhow::Result<Answer> {
        use std::io::{Read as _, Write as _};
        let timeout = Duration::from_secs(10);
        let mut stream = std::net::TcpStream::connect_timeout(&addr.parse()?, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, body) = response
            .split_once("\r\n\r\n")
            .context("an answer without the end of its headers")?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("an answer without a status")?;
        Ok(Answer {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        })
    })
    .await?
}

/// The certificate `/v1/cert.pem` serves for `namespace` (none: the plain call) and its
/// `Sealant-Key-Owner` header.
async fn served(
    addr: &str,
    namespace: Option<&str>,
) -> anyhow::Result<(Option<String>, Certificate)> {
    let path = namespace.map_or_else(
        || "/v1/cert.pem".to_owned(),
        |ns| format!("/v1/cert.pem?namespace={ns}"),
    );
    let answer = get(addr, &path).await?;
    ensure!(
        answer.status == 200,
        "GET {path}: {} {}",
        answer.status,
        answer.body
    );
    let cert = Certificate::from_pem(answer.body.as_bytes())
        .with_context(|| format!("GET {path}: not a certificate"))?;
    Ok((answer.header("Sealant-Key-Owner"), cert))
}

fn fingerprint(cert: &Certificate) -> String {
    cert.public_key().fingerprint().to_string()
}

/// A condition of `object`: status and message.
fn condition(object: &SealedSecret, type_: &str) -> Option<(String, String)> {
    let c = object
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status.clone(), c.message.clone().unwrap_or_default()))
}

fn key_fingerprints(object: &SealedSecret) -> Vec<String> {
    object
        .status
        .as_ref()
        .and_then(|s| s.key_fingerprints.as_deref().map(<[String]>::to_vec))
        .unwrap_or_default()
}

/// Waits until `name` reports `Synced=status` for its current generation.
async fn wait_status(
    api: &Api<SealedSecret>,
    name: &str,
    status: &str,
) -> anyhow::Result<SealedSecret> {
    wait_for(
        &format!("{name} Synced={status} at its generation"),
        DEFAULT_TIMEOUT,
        || async {
            let object = api.get(name).await?;
            let current = object.status.as_ref().and_then(|s| s.observed_generation)
                == object.metadata.generation;
            let ok = current && condition(&object, "Synced").is_some_and(|(s, _)| s == status);
            Ok(ok.then_some(object))
        },
    )
    .await
}

/// Waits for the opaque decrypt error on `name` and checks that no Secret was written.
async fn wait_opaque_failure(ns: &TestNamespace, name: &str) -> anyhow::Result<()> {
    let failed = wait_status(&ns.api(), name, "False").await?;
    let (_, message) = condition(&failed, "Synced").unwrap_or_default();
    ensure!(message.contains(OPAQUE), "{}/{name}: {message}", ns.name());
    let secrets: Api<Secret> = ns.api();
    ensure!(
        secrets.get_opt(name).await?.is_none(),
        "{}/{name}: a Secret was written",
        ns.name()
    );
    Ok(())
}

/// `object` moved to `namespace`, without server-set fields.
fn copied(object: &SealedSecret, namespace: &str) -> SealedSecret {
    let mut copy = object.clone();
    copy.metadata.namespace = Some(namespace.to_owned());
    copy.metadata.resource_version = None;
    copy.metadata.uid = None;
    copy.metadata.creation_timestamp = None;
    copy.metadata.generation = None;
    copy.metadata.managed_fields = None;
    copy.status = None;
    copy
}

/// Server-side applies the SealedSecret in `file` (as a GitOps tool would); its name.
async fn apply_file(api: &Api<SealedSecret>, file: &Path) -> anyhow::Result<String> {
    let value: Value = sealant_core::yaml::from_str(&std::fs::read_to_string(file)?)?;
    let name = value["metadata"]["name"]
        .as_str()
        .context("a SealedSecret without a name")?
        .to_owned();
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&value),
    )
    .await
    .with_context(|| format!("applying {}", file.display()))?;
    Ok(name)
}

/// The key hint of the SealedSecret in `file`.
fn hint_of(file: &Path) -> anyhow::Result<String> {
    let value: Value = sealant_core::yaml::from_str(&std::fs::read_to_string(file)?)?;
    Ok(value["metadata"]["annotations"][KEY_HINT_ANNOTATION]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The namespaces and the controller flags every phase shares.
struct Setup {
    ctl: TestNamespace,
    a: TestNamespace,
    b: TestNamespace,
    plain: TestNamespace,
    flags: Vec<String>,
}

impl Setup {
    fn flags_with(&self, extra: &[&str]) -> Vec<String> {
        let mut flags = self.flags.clone();
        flags.extend(extra.iter().map(|s| (*s).to_owned()));
        flags
    }
}

#[tokio::test]
#[ignore = "needs the test control plane: bash tests/e2e.sh"]
async fn tenant_keys_two_tenants_and_the_cluster_key() -> anyhow::Result<()> {
    let started = Instant::now();
    let cluster = cluster_with_crd().await?;
    let setup = Setup {
        ctl: cluster.namespace("tk-ctl").await?,
        a: cluster.namespace("tk-a").await?,
        b: cluster.namespace("tk-b").await?,
        plain: cluster.namespace("tk-plain").await?,
        flags: Vec::new(),
    };
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    for (ns, tenant) in [(&setup.a, ALPHA), (&setup.b, BETA)] {
        let patch = json!({ "metadata": { "labels": { TENANT_LABEL: tenant } } });
        namespaces
            .patch(ns.name(), &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    let watched = format!(
        "{},{},{}",
        setup.a.name(),
        setup.b.name(),
        setup.plain.name()
    );
    let setup = Setup {
        flags: [
            "--leader-elect=false",
            "--additional-namespaces",
            &watched,
            "--tenant-keys",
        ]
        .map(str::to_owned)
        .to_vec(),
        ..setup
    };
    let flags: Vec<&str> = setup.flags.iter().map(String::as_str).collect();
    let mut controller = ProxiedController::start(&cluster, setup.ctl.name(), &flags).await?;
    let dir = std::env::temp_dir().join(sealant_tests::unique_name("sealant-tenant-keys"));
    std::fs::create_dir_all(&dir)?;
    let result = checks(&cluster, &setup, &mut controller, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result.with_context(|| format!("controller log:\n{}", controller.process.log()))?;
    println!(
        "tenant keys figures: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(controller);
    let Setup {
        ctl, a, b, plain, ..
    } = setup;
    for ns in [ctl, a, b, plain] {
        ns.cleanup().await?;
    }
    Ok(())
}

/// Every check, in order; the first failure ends the run.
#[allow(clippy::too_many_lines)]
async fn checks(
    cluster: &TestCluster,
    setup: &Setup,
    controller: &mut ProxiedController,
    dir: &Path,
) -> anyhow::Result<()> {
    let (a, b, plain) = (&setup.a, &setup.b, &setup.plain);
    let cli = Cli {
        admin: cluster.kubeconfig_path().to_path_buf(),
        ctl: setup.ctl.name().to_owned(),
    };
    let key_secrets: Api<Secret> = setup.ctl.api();
    let (sealed_a, sealed_b): (Api<SealedSecret>, Api<SealedSecret>) = (a.api(), b.api());
    let (secrets_a, secrets_b): (Api<Secret>, Api<Secret>) = (a.api(), b.api());
    let owners = [None, Some(ALPHA), Some(BETA)];

    // 1. One key set per owner: RSA and age, labelled by tenant, named after it.
    let (rsa, age) = wait_for("a key set per owner", DEFAULT_TIMEOUT, || async {
        let rsa = keys(&key_secrets, KEY_LABEL).await?;
        let age = keys(&key_secrets, AGE_KEY_LABEL).await?;
        let complete = owners
            .iter()
            .all(|o| active(&rsa, *o).is_some() && active(&age, *o).is_some());
        Ok(complete.then_some((rsa, age)))
    })
    .await?;
    ensure!(rsa.len() == 3 && age.len() == 3, "{rsa:?}\n{age:?}");
    for tenant in [ALPHA, BETA] {
        let (r, g) = (
            active(&rsa, Some(tenant)).context("rsa")?,
            active(&age, Some(tenant)).context("age")?,
        );
        ensure!(
            r.name.starts_with(&format!("sealed-secrets-key-{tenant}-")),
            "{r:?}"
        );
        ensure!(
            g.name.starts_with(&format!("sealant-age-key-{tenant}-")),
            "{g:?}"
        );
    }
    let fp = |owner: Option<&str>| {
        active(&rsa, owner)
            .and_then(|k| k.fingerprint.clone())
            .context("a key without a certificate")
    };
    let (fp_cluster, fp_a, fp_b) = (fp(None)?, fp(Some(ALPHA))?, fp(Some(BETA))?);
    ensure!(fp_cluster != fp_a && fp_cluster != fp_b && fp_a != fp_b);
    passed(
        "one RSA and one age key Secret per owner, labelled sealant.dev/tenant, named <prefix>-<tenant>-",
    );

    // 2. The certificate per namespace, with its owner; the plain call is the cluster's.
    let addr = controller.api_addr();
    let [
        (owner_a, cert_a),
        (owner_b, cert_b),
        (owner_plain, cert_plain),
    ] = wait_for("the certificates served", DEFAULT_TIMEOUT, || async {
        let mut all = Vec::new();
        for ns in [a, b, plain] {
            match served(&addr, Some(ns.name())).await {
                Ok(answer) => all.push(answer),
                Err(_) => return Ok(None),
            }
        }
        Ok(<[_; 3]>::try_from(all).ok())
    })
    .await?;
    ensure!(
        owner_a.as_deref() == Some("tenant=alpha") && fingerprint(&cert_a) == fp_a,
        "{owner_a:?} {}",
        fingerprint(&cert_a)
    );
    ensure!(
        owner_b.as_deref() == Some("tenant=beta") && fingerprint(&cert_b) == fp_b,
        "{owner_b:?} {}",
        fingerprint(&cert_b)
    );
    ensure!(
        owner_plain.as_deref() == Some("cluster") && fingerprint(&cert_plain) == fp_cluster,
        "{owner_plain:?} {}",
        fingerprint(&cert_plain)
    );
    let (owner, cert_cluster) = served(&addr, None).await?;
    ensure!(
        fingerprint(&cert_cluster) == fp_cluster && owner.as_deref().is_none_or(|o| o == "cluster"),
        "plain /v1/cert.pem: {owner:?} {}",
        fingerprint(&cert_cluster)
    );
    passed(
        "/v1/cert.pem?namespace= serves each owner's certificate with Sealant-Key-Owner; the plain call the cluster's",
    );

    // 3. `sealant seal`, no new flag: the tenant's certificate for a Secret in its namespace.
    let input = dir.join("app.secret.yaml");
    std::fs::write(
        &input,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: {}\nstringData:\n  token: {:?}\n",
            a.name(),
            sealant_tests::canary::embed("alpha-token")
        ),
    )?;
    let output = dir.join("app.sealed.yaml");
    let (input_arg, output_arg) = (
        input.to_string_lossy().into_owned(),
        output.to_string_lossy().into_owned(),
    );
    let out = cli
        .ok(&[
            "seal",
            "--no-cert-cache",
            "--scope",
            "cluster-wide",
            "-f",
            &input_arg,
            "-w",
            &output_arg,
        ])
        .await?;
    ensure!(
        out.stderr.contains(ALPHA),
        "seal does not say it sealed for tenant {ALPHA}: {}",
        out.stderr
    );
    ensure!(hint_of(&output)? == fp_a, "sealed to {}", hint_of(&output)?);
    apply_file(&sealed_a, &output).await?;
    wait_secret_data(&secrets_a, "app", &[("token", "alpha-token")]).await?;
    let synced = wait_status(&sealed_a, "app", "True").await?;
    ensure!(
        key_fingerprints(&synced) == vec![fp_a.clone()],
        "{synced:?}"
    );
    // Tenant beta's own object, for the compromise check below.
    sealed_b
        .create(
            &PostParams::default(),
            &sealed(&cert_b, b.name(), "b-app", &[("token", "beta-token")], None)?,
        )
        .await?;
    wait_secret_data(&secrets_b, "b-app", &[("token", "beta-token")]).await?;
    let b_app = wait_status(&sealed_b, "b-app", "True").await?;
    ensure!(key_fingerprints(&b_app) == vec![fp_b.clone()], "{b_app:?}");
    passed("sealant seal picks tenant alpha's certificate and says so; the object syncs");

    // 4. Cluster-wide copies into the other tenant and into the cluster's namespace: opaque.
    let original = sealed_a.get("app").await?;
    for ns in [b, plain] {
        let api: Api<SealedSecret> = ns.api();
        api.create(&PostParams::default(), &copied(&original, ns.name()))
            .await?;
    }
    for ns in [b, plain] {
        wait_opaque_failure(ns, "app").await?;
    }
    passed(
        "copies into tenant beta and the unlabelled namespace fail with the opaque error, no Secret",
    );

    // 5. Migration: the cluster key in alpha's namespace fails, then opens with the switch;
    // reencrypt moves it to alpha's key.
    let legacy = sealed(
        &cert_cluster,
        a.name(),
        "legacy",
        &[("token", "legacy-token")],
        None,
    )?;
    sealed_a.create(&PostParams::default(), &legacy).await?;
    wait_opaque_failure(a, "legacy").await?;
    let switched = setup.flags_with(&["--tenant-allow-cluster-key", ALPHA]);
    let switched: Vec<&str> = switched.iter().map(String::as_str).collect();
    controller.restart_with(&switched)?;
    wait_secret_data(&secrets_a, "legacy", &[("token", "legacy-token")]).await?;
    let opened = wait_status(&sealed_a, "legacy", "True").await?;
    ensure!(
        key_fingerprints(&opened) == vec![fp_cluster.clone()],
        "{opened:?}"
    );
    // The switch names alpha only: the cluster key still opens nothing in beta's namespace.
    sealed_b
        .create(
            &PostParams::default(),
            &sealed(
                &cert_cluster,
                b.name(),
                "legacy-b",
                &[("token", "legacy-b")],
                None,
            )?,
        )
        .await?;
    wait_opaque_failure(b, "legacy-b").await?;
    passed(
        "cluster-key object in alpha fails, syncs with --tenant-allow-cluster-key alpha; beta still refused",
    );

    let legacy_file = dir.join("legacy.yaml");
    let mut legacy_value = serde_json::to_value(&legacy)?;
    if let Some(fields) = legacy_value.as_object_mut() {
        fields.remove("status");
    }
    std::fs::write(&legacy_file, sealant_core::yaml::to_string(&legacy_value)?)?;
    let moved = dir.join("legacy.moved.yaml");
    let (legacy_arg, moved_arg) = (
        legacy_file.to_string_lossy().into_owned(),
        moved.to_string_lossy().into_owned(),
    );
    // The controller's API may still be starting after the restart.
    wait_for("reencrypt through the proxy", DEFAULT_TIMEOUT, || async {
        let out = cli
            .run(&["reencrypt", "-f", &legacy_arg, "-w", &moved_arg])
            .await?;
        Ok((out.code() == Some(0)).then_some(()))
    })
    .await?;
    ensure!(
        hint_of(&moved)? == fp_a,
        "re-encrypted to {}",
        hint_of(&moved)?
    );
    apply_file(&sealed_a, &moved).await?;
    let reencrypted = wait_for(
        "legacy unsealed with alpha's key",
        DEFAULT_TIMEOUT,
        || async {
            let object = sealed_a.get("legacy").await?;
            let done = object.status.as_ref().and_then(|s| s.observed_generation)
                == object.metadata.generation
                && condition(&object, "Synced").is_some_and(|(s, _)| s == "True")
                && key_fingerprints(&object) == vec![fp_a.clone()];
            Ok(done.then_some(object))
        },
    )
    .await?;
    ensure!(reencrypted.metadata.generation > Some(1));
    wait_secret_data(&secrets_a, "legacy", &[("token", "legacy-token")]).await?;
    passed(
        "sealant reencrypt moves the cluster-key object to alpha's key (hint and status.keyFingerprints)",
    );

    // 6. keys list per tenant, then compromise alpha's key: beta is untouched.
    let ns_arg = format!("{},{},{}", a.name(), b.name(), plain.name());
    let scope = ["--sealed-secrets-namespace", ns_arg.as_str()];
    let (_, listed_a) = cli
        .rsa_keys(&[&["--tenant", ALPHA][..], &scope].concat())
        .await?;
    ensure!(listed_a == BTreeSet::from([fp_a.clone()]), "{listed_a:?}");
    let (_, listed_cluster) = cli.rsa_keys(&scope).await?;
    ensure!(
        listed_cluster == BTreeSet::from([fp_cluster.clone()]),
        "{listed_cluster:?}"
    );
    let (_, listed_all) = cli
        .rsa_keys(&[&["--all-tenants"][..], &scope].concat())
        .await?;
    ensure!(
        listed_all == BTreeSet::from([fp_a.clone(), fp_b.clone(), fp_cluster.clone()]),
        "{listed_all:?}"
    );
    let table = cli
        .ok(&[&["keys", "list", "--all-tenants"][..], &scope].concat())
        .await?;
    ensure!(
        table
            .stdout
            .lines()
            .next()
            .is_some_and(|h| h.contains("TENANT"))
            && table.stdout.contains(ALPHA)
            && table.stdout.contains(BETA),
        "{}",
        table.stdout
    );
    passed("keys list --tenant / --all-tenants (TENANT column) / cluster keys by default");

    let beta_before: Vec<KeyView> = [
        keys(&key_secrets, KEY_LABEL).await?,
        keys(&key_secrets, AGE_KEY_LABEL).await?,
    ]
    .concat()
    .into_iter()
    .filter(|k| k.owner.as_deref() != Some(ALPHA))
    .collect();
    cli.ok(&[
        &["keys", "compromise", "--tenant", ALPHA, &fp_a][..],
        &scope,
    ]
    .concat())
        .await?;
    let new_a = wait_for("a new key for alpha", DEFAULT_TIMEOUT, || async {
        let rsa = keys(&key_secrets, KEY_LABEL).await?;
        let old_compromised = rsa
            .iter()
            .any(|k| k.fingerprint.as_deref() == Some(&fp_a) && k.state == "compromised");
        let new = active(&rsa, Some(ALPHA)).and_then(|k| k.fingerprint.clone());
        Ok(new.filter(|f| old_compromised && *f != fp_a))
    })
    .await?;
    wait_for("the new certificates served", DEFAULT_TIMEOUT, || async {
        let Ok((_, now_a)) = served(&addr, Some(a.name())).await else {
            return Ok(None);
        };
        Ok((fingerprint(&now_a) == new_a).then_some(()))
    })
    .await?;
    ensure!(fingerprint(&served(&addr, Some(b.name())).await?.1) == fp_b);
    ensure!(fingerprint(&served(&addr, None).await?.1) == fp_cluster);
    for name in ["app", "legacy"] {
        wait_for(
            &format!("{name}: KeyCompromised"),
            DEFAULT_TIMEOUT,
            || async {
                let object = sealed_a.get(name).await?;
                let flagged = condition(&object, "KeyCompromised")
                    .is_some_and(|(s, m)| s == "True" && m.contains(&fp_a));
                Ok(flagged.then_some(()))
            },
        )
        .await?;
    }
    let beta_after: Vec<KeyView> = [
        keys(&key_secrets, KEY_LABEL).await?,
        keys(&key_secrets, AGE_KEY_LABEL).await?,
    ]
    .concat()
    .into_iter()
    .filter(|k| k.owner.as_deref() != Some(ALPHA))
    .collect();
    ensure!(
        beta_before == beta_after,
        "beta's or the cluster's key Secrets changed:\n{beta_before:?}\n{beta_after:?}"
    );
    let b_app = sealed_b.get("b-app").await?;
    ensure!(
        condition(&b_app, "KeyCompromised").is_none()
            && condition(&b_app, "Synced").is_some_and(|(s, _)| s == "True"),
        "{b_app:?}"
    );
    passed(
        "keys compromise --tenant alpha: alpha gets a new key, its objects KeyCompromised; beta and the cluster untouched",
    );

    // 7. keys backup: every owner's keys by default; --tenant beta: beta's only.
    let identity = AgeIdentity::generate(IdentityKind::X25519)?;
    let recipient = identity.recipient().to_string();
    let backed_up = |file: PathBuf| {
        let identity = &identity;
        async move {
            let bytes = std::fs::read(&file)?;
            let secrets =
                sealant_core::backup::open_backup(std::slice::from_ref(identity), &bytes)?;
            anyhow::Ok(
                secrets
                    .iter()
                    .map(|s| s.metadata.name_or_empty().to_owned())
                    .collect::<BTreeSet<String>>(),
            )
        }
    };
    let all_keys: Vec<KeyView> = [
        keys(&key_secrets, KEY_LABEL).await?,
        keys(&key_secrets, AGE_KEY_LABEL).await?,
    ]
    .concat();
    let every: BTreeSet<String> = all_keys.iter().map(|k| k.name.clone()).collect();
    let only_beta: BTreeSet<String> = all_keys
        .iter()
        .filter(|k| k.owner.as_deref() == Some(BETA))
        .map(|k| k.name.clone())
        .collect();
    let backup = dir.join("all.backup");
    let backup_arg = backup.to_string_lossy().into_owned();
    cli.ok(&[
        "keys",
        "backup",
        "--recipient",
        &recipient,
        "-w",
        &backup_arg,
    ])
    .await?;
    let names = backed_up(backup).await?;
    ensure!(names == every, "backup {names:?}, key Secrets {every:?}");
    for owner in owners {
        ensure!(
            all_keys
                .iter()
                .filter(|k| k.owner.as_deref() == owner)
                .count()
                >= 2,
            "no RSA and age key of {owner:?} in {all_keys:?}"
        );
    }
    let beta_backup = dir.join("beta.backup");
    let beta_arg = beta_backup.to_string_lossy().into_owned();
    cli.ok(&[
        "keys",
        "backup",
        "--tenant",
        BETA,
        "--recipient",
        &recipient,
        "-w",
        &beta_arg,
    ])
    .await?;
    let names = backed_up(beta_backup).await?;
    ensure!(
        names == only_beta,
        "beta's backup {names:?}, beta's keys {only_beta:?}"
    );
    passed("keys backup holds every key Secret of every owner; --tenant beta only beta's");
    Ok(())
}
