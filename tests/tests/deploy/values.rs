//! Plain tests (helm from tests/setup-deploy.sh, no cluster): upstream's chart values work
//! unchanged (docs/helm-values.md), and the chart refuses what cannot work.

use super::*;

const UPSTREAM_DEFAULTS: &str = "deploy/helm/upstream-values/default.yaml";
const UPSTREAM_EVERY_KEY: &str = "deploy/helm/upstream-values/every-key.yaml";
const OUR_IMAGE: &str =
    "image.registry=registry.example,image.repository=platform/sealant-controller,image.tag=0.1.0";

/// `helm template` without the test default `image.allowPlaceholder=true`: its error text on
/// failure (helm's `fail` message), its documents on success.
fn render_raw(args: &[&str]) -> Result<Vec<Value>, String> {
    let output = Command::new("bash")
        .arg(repo_file("deploy/helm.sh"))
        .args(["template", "rel"])
        .arg(repo_file("deploy/helm/sealant"))
        .args(["--namespace", "kube-system"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running deploy/helm.sh: {e}"))?;
    if output.status.success() {
        documents(&String::from_utf8_lossy(&output.stdout)).map_err(|e| format!("{e:#}"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn file_arg(path: &str) -> String {
    repo_file(path).display().to_string()
}

fn one<'a>(docs: &'a [Value], kind: &str, name: &str) -> anyhow::Result<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .with_context(|| format!("no {kind} {name} rendered"))
}

/// The Deployment's container (null when there is none: the assertions then fail).
fn container(docs: &[Value]) -> &Value {
    kinds(docs, "Deployment").first().map_or(&Value::Null, |d| {
        &d["spec"]["template"]["spec"]["containers"][0]
    })
}

fn args_of(docs: &[Value]) -> Vec<String> {
    container(docs)["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Every key of upstream's values.yaml (the spec's table) is in the data file, so that the
/// renders below cover them all.
#[test]
fn upstream_value_files_cover_every_upstream_key() -> anyhow::Result<()> {
    fn leaves(prefix: &str, value: &Value, out: &mut BTreeSet<String>) {
        match value.as_object() {
            // Maps that are values themselves (labels, annotations...) stop at their key.
            Some(map) if !map.is_empty() && prefix.matches('.').count() < 2 => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&key, v, out);
                }
            }
            _ => {
                out.insert(prefix.to_owned());
            }
        }
    }
    let defaults = read_yaml(&repo_file(UPSTREAM_DEFAULTS)).unwrap();
    let every = read_yaml(&repo_file(UPSTREAM_EVERY_KEY)).unwrap();
    let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
    leaves("", &defaults, &mut a);
    leaves("", &every, &mut b);
    // 136 keys, maps followed down to three levels as the spec's table lists them.
    assert!(a.len() >= 136, "{} keys in {UPSTREAM_DEFAULTS}", a.len());
    // A map set in every-key.yaml is followed further: its key counts when a path starts with it.
    let missing: Vec<_> = a
        .iter()
        .filter(|k| !b.iter().any(|p| p == *k || p.starts_with(&format!("{k}."))))
        .collect();
    assert!(missing.is_empty(), "{UPSTREAM_EVERY_KEY} lacks {missing:?}");
    // And the mapping table names each one.
    let table = std::fs::read_to_string(repo_file("docs/helm-values.md")).unwrap();
    let undocumented: Vec<_> = a
        .iter()
        .filter(|k| !table.contains(&format!("| `{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/helm-values.md lacks {undocumented:?}"
    );
    Ok(())
}

/// Upstream's default values, unchanged but for the image: they render, with upstream's names,
/// labels and flags, and the pod keeps sealant's hardening.
#[test]
fn upstream_default_values_render_with_upstream_meaning() -> anyhow::Result<()> {
    let upstream = file_arg(UPSTREAM_DEFAULTS);
    let docs = render_raw(&["-f", &upstream, "--set", OUR_IMAGE]).unwrap();
    let deployment = one(&docs, "Deployment", "sealed-secrets-controller")?;
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/name": "sealed-secrets", "app.kubernetes.io/instance": "rel"}),
        "upstream's selector, so that helm upgrade keeps the Deployment"
    );
    assert_hardened(deployment).unwrap();
    let c = container(&docs);
    assert_eq!(
        c["image"],
        "registry.example/platform/sealant-controller:0.1.0"
    );
    assert_eq!(c["securityContext"]["runAsUser"], 1001);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["fsGroup"],
        65534
    );
    assert_eq!(c["livenessProbe"]["periodSeconds"], 10);
    assert_eq!(c["livenessProbe"]["timeoutSeconds"], 1);
    assert!(c["startupProbe"].is_null(), "startupProbe.enabled=false");
    let args = args_of(&docs);
    assert!(
        args.contains(&"--update-status=true".to_owned()),
        "{args:?}"
    );
    assert!(
        args.contains(&"--key-prefix=sealed-secrets-key".to_owned()),
        "{args:?}"
    );
    // false booleans add no flag, as upstream's chart: the controller's defaults apply.
    for flag in [
        "--skip-recreate",
        "--log-info-stdout",
        "--watch-for-secrets",
    ] {
        assert!(
            !args.iter().any(|a| a.starts_with(flag)),
            "{flag}: {args:?}"
        );
    }
    assert!(
        kinds(&docs, "NetworkPolicy").is_empty(),
        "networkPolicy.enabled=false"
    );
    assert!(
        kinds(&docs, "PodDisruptionBudget").is_empty(),
        "pdb.create=false"
    );
    assert!(kinds(&docs, "Ingress").is_empty());
    assert_eq!(
        one(&docs, "ClusterRole", "secrets-unsealer")?["rules"][0]["resources"],
        json!(["sealedsecrets"])
    );
    assert_eq!(
        one(
            &docs,
            "RoleBinding",
            "sealed-secrets-controller-service-proxier"
        )?["subjects"][0]["name"],
        "system:authenticated"
    );
    assert_eq!(
        one(&docs, "Service", "sealed-secrets-controller-metrics")?["spec"]["ports"][0]["port"],
        8081
    );
    Ok(())
}

/// Every upstream key set: each setting reaches the object upstream's chart puts it in.
#[test]
fn every_upstream_key_is_applied() -> anyhow::Result<()> {
    let every = file_arg(UPSTREAM_EVERY_KEY);
    let docs = render_raw(&["-f", &every]).unwrap();
    let deployment = one(&docs, "Deployment", "sealed-secrets-controller")?;
    let pod = &deployment["spec"]["template"]["spec"];
    let c = container(&docs);
    let args = args_of(&docs);
    let has = |flag: &str| assert!(args.iter().any(|a| a == flag), "{flag} not in {args:?}");
    // Controller settings -> flags.
    for flag in [
        "--key-prefix=custom-sealing-key",
        "--update-status=true",
        "--skip-recreate=true",
        "--key-renew-period=2160h",
        "--key-ttl=8760h",
        "--key-cutoff-time=2026-01-01T00:00:00Z",
        "--rate-limit=5",
        "--rate-limit-burst=7",
        "--additional-namespaces=team-a,team-b",
        "--privatekey-annotations=backup.example/vault=yes",
        "--privatekey-labels=backup=true",
        "--log-info-stdout=true",
        "--log-level=DEBUG",
        "--log-format=json",
        "--max-unseal-retries=9",
        "--watch-for-secrets=true",
        "--kubeclient-qps=40",
        "--kubeclient-burst=80",
        "--listen-addr=:9080",
        "--listen-metrics-addr=:9081",
    ] {
        has(flag);
    }
    // Names, namespace, common labels and annotations.
    assert_eq!(deployment["metadata"]["namespace"], "secrets");
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "sealed"
    );
    for doc in docs
        .iter()
        .filter(|d| !d["kind"].as_str().unwrap_or("").starts_with("ConfigMap"))
    {
        let kind = &doc["kind"];
        if doc["kind"] != "Secret" {
            assert_eq!(
                doc["metadata"]["labels"]["team.example/tier"], "security",
                "{kind}"
            );
            assert_eq!(
                doc["metadata"]["annotations"]["team.example/owner"], "platform",
                "{kind}"
            );
        }
    }
    one(&docs, "ConfigMap", "extra-from-map")?;
    one(&docs, "ConfigMap", "extra-from-string")?;
    // Image and pod.
    assert_eq!(
        c["image"],
        "registry.example/platform/sealant-controller:0.1.0"
    );
    assert_eq!(c["imagePullPolicy"], "Always");
    assert_eq!(pod["imagePullSecrets"], json!([{"name": "regcred"}]));
    assert_eq!(deployment["spec"]["revisionHistoryLimit"], 7);
    assert_eq!(c["command"], json!(["/usr/local/bin/sealant-controller"]));
    assert_eq!(c["livenessProbe"]["initialDelaySeconds"], 11);
    assert_eq!(c["livenessProbe"]["timeoutSeconds"], 13);
    assert!(
        c["readinessProbe"].is_null(),
        "readinessProbe.enabled=false"
    );
    assert_eq!(
        c["startupProbe"],
        json!({"tcpSocket": {"port": "http"}, "failureThreshold": 30})
    );
    assert_eq!(c["resources"]["limits"]["memory"], "300Mi");
    assert_eq!(c["resources"]["requests"]["cpu"], "70m");
    assert_eq!(pod["securityContext"]["fsGroup"], 2000);
    assert_eq!(c["securityContext"]["runAsUser"], 1234);
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    assert_eq!(pod["runtimeClassName"], "gvisor");
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
    assert_eq!(pod["nodeSelector"]["kubernetes.io/os"], "linux");
    assert_eq!(pod["tolerations"][0]["key"], "dedicated");
    assert!(pod["affinity"]["nodeAffinity"].is_object());
    assert_eq!(pod["volumes"][0]["name"], "extra");
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/extra");
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["labels"]["pod-label"],
        "yes"
    );
    assert_eq!(
        deployment["spec"]["template"]["metadata"]["annotations"]["pod-annotation"],
        "yes"
    );
    assert_eq!(c["ports"][0]["hostPort"], 19080);
    assert_eq!(c["ports"][1]["hostPort"], 19081);
    // Services.
    let service = one(&docs, "Service", "sealed-secrets-controller")?;
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    assert_eq!(service["spec"]["loadBalancerClass"], "example.com/lb");
    assert_eq!(service["spec"]["ports"][0]["port"], 8443);
    assert_eq!(service["spec"]["ports"][0]["nodePort"], 30080);
    assert_eq!(
        service["metadata"]["annotations"]["service-annotation"],
        "yes"
    );
    let metrics = one(&docs, "Service", "sealed-secrets-controller-metrics")?;
    assert_eq!(metrics["spec"]["type"], "NodePort");
    assert_eq!(metrics["spec"]["ports"][0]["port"], 9999);
    assert_eq!(metrics["spec"]["ports"][0]["nodePort"], 30081);
    assert_eq!(
        metrics["metadata"]["annotations"]["metrics-annotation"],
        "yes"
    );
    // Ingress and its TLS Secret.
    let ingress = one(&docs, "Ingress", "sealed-secrets-controller")?;
    assert_eq!(ingress["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert_eq!(
        ingress["metadata"]["annotations"]["ingress-annotation"],
        "yes"
    );
    let rules = ingress["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules[0]["host"], "sealed.example");
    let paths = rules[0]["http"]["paths"].as_array().unwrap();
    assert_eq!(paths[0]["path"], "/healthz", "extraPaths first");
    assert_eq!(paths[1]["path"], "/v1/");
    assert_eq!(paths[1]["pathType"], "Prefix");
    assert_eq!(rules[1]["host"], "sealed2.example");
    assert_eq!(
        ingress["spec"]["tls"],
        json!([
            {"hosts": ["sealed.example"], "secretName": "sealed.example-tls"},
            {"hosts": ["sealed2.example"], "secretName": "sealed2-tls"}
        ])
    );
    assert_eq!(
        one(&docs, "Secret", "sealed.example-tls")?["type"],
        "kubernetes.io/tls"
    );
    // NetworkPolicy egress to the API address.
    let policy = one(&docs, "NetworkPolicy", "sealed-secrets-controller")?;
    assert_eq!(
        policy["spec"]["egress"],
        json!([{"ports": [{"port": 6443, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}]}])
    );
    // ServiceAccount and RBAC.
    let sa = one(&docs, "ServiceAccount", "sealant-sa")?;
    assert_eq!(sa["metadata"]["labels"]["sa-label"], "yes");
    assert_eq!(sa["metadata"]["annotations"]["sa-annotation"], "yes");
    assert_eq!(pod["serviceAccountName"], "sealant-sa");
    for ns in ["secrets", "team-a", "team-b"] {
        let role = docs
            .iter()
            .find(|d| {
                d["kind"] == "Role"
                    && d["metadata"]["name"] == "custom-ns-unsealer"
                    && d["metadata"]["namespace"] == ns
            })
            .unwrap_or_else(|| panic!("no unsealer Role in {ns}"));
        assert_eq!(role["metadata"]["labels"]["rbac-label"], "yes");
    }
    let key_admin = one(&docs, "Role", "sealed-secrets-controller-key-admin")?;
    assert_eq!(
        key_admin["rules"][1]["resourceNames"][0],
        "custom-sealing-key"
    );
    assert_eq!(
        one(
            &docs,
            "RoleBinding",
            "sealed-secrets-controller-service-proxier"
        )?["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "sealing-team"}])
    );
    // ServiceMonitor.
    let sm = one(&docs, "ServiceMonitor", "sealed-secrets-controller")?;
    assert_eq!(sm["metadata"]["namespace"], "monitoring");
    assert_eq!(sm["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(sm["metadata"]["annotations"]["sm-annotation"], "yes");
    let endpoint = &sm["spec"]["endpoints"][0];
    assert_eq!(endpoint["interval"], "15s");
    assert_eq!(endpoint["scrapeTimeout"], "5s");
    assert_eq!(endpoint["honorLabels"], false);
    assert_eq!(endpoint["metricRelabelings"][0]["action"], "labeldrop");
    assert_eq!(endpoint["relabelings"][0]["targetLabel"], "cluster");
    // PDB: maxUnavailable wins over minAvailable; kubeVersion picks policy/v1.
    let pdb = one(&docs, "PodDisruptionBudget", "sealed-secrets-controller")?;
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_eq!(
        pdb["spec"],
        json!({"maxUnavailable": 1, "selector": pdb["spec"]["selector"].clone()})
    );
    Ok(())
}

/// The keys checked on their own: `args`, createController=false, rbac.clusterRoleName, the
/// service proxier off, sealant's older names still accepted.
#[test]
fn upstream_keys_that_change_the_shape() -> anyhow::Result<()> {
    let set = |s: &str| render_raw(&["--set", OUR_IMAGE, "--set", s]).unwrap();
    let docs = set("args={--key-prefix=x,--log-level=INFO}");
    assert_eq!(args_of(&docs), ["--key-prefix=x", "--log-level=INFO"]);
    let docs = set("createController=false");
    assert!(kinds(&docs, "Deployment").is_empty());
    assert!(kinds(&docs, "PodDisruptionBudget").is_empty());
    one(&docs, "Service", "sealed-secrets-controller")?;
    let docs = set("rbac.clusterRoleName=secrets-unsealer");
    assert_eq!(
        one(
            &docs,
            "ClusterRoleBinding",
            "sealed-secrets-controller-unsealer"
        )?["roleRef"]["name"],
        "secrets-unsealer"
    );
    one(&docs, "ClusterRole", "secrets-unsealer")?;
    let docs = set("rbac.clusterRole=false");
    assert!(!docs.iter().any(|d| d["kind"] == "ClusterRole"
        && d["metadata"]["name"] == "sealed-secrets-controller-unsealer"));
    let docs = set("rbac.serviceProxier=false");
    assert!(
        !docs
            .iter()
            .any(|d| d["metadata"]["name"] == "sealed-secrets-controller-service-proxier")
    );
    let docs = set("rbac.serviceProxier.bind=false");
    one(&docs, "Role", "sealed-secrets-controller-service-proxier")?;
    assert!(
        kinds(&docs, "RoleBinding")
            .iter()
            .all(|d| d["metadata"]["name"] != "sealed-secrets-controller-service-proxier")
    );
    // Sealant's name wins over upstream's when both are set.
    let docs = set("controller.keyRenewPeriod=100h,keyrenewperiod=200h,metricsService.port=7000");
    assert!(args_of(&docs).contains(&"--key-renew-period=100h".to_owned()));
    assert_eq!(
        one(&docs, "Service", "sealed-secrets-controller-metrics")?["spec"]["ports"][0]["port"],
        7000
    );
    // ingress.selfSigned generates the TLS Secret.
    let docs = set("ingress.enabled=true,ingress.tls=true,ingress.selfSigned=true");
    let secret = one(&docs, "Secret", "sealed-secrets.local-tls")?;
    assert!(
        secret["data"]["tls.crt"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    Ok(())
}

/// What cannot work is refused by `helm`, with a message naming the value.
#[test]
fn chart_refuses_values_that_cannot_work() -> anyhow::Result<()> {
    let refusals: [(&[&str], &str); 8] = [
        (&[], "image.repository is the placeholder"),
        (&["-f", UPSTREAM_DEFAULTS], "is upstream's controller image"),
        (
            &["--set", OUR_IMAGE, "--set", "controller.leaderElect=false"],
            "replicaCount=2 needs leader election",
        ),
        (
            &[
                "--set",
                OUR_IMAGE,
                "--set",
                "replicaCount=1,pdb.enabled=true",
            ],
            "pdb.minAvailable=1 with replicaCount=1 blocks every node drain",
        ),
        (
            &[
                "--set",
                OUR_IMAGE,
                "--set",
                "pdb.create=true,pdb.maxUnavailable=0",
            ],
            "pdb.maxUnavailable=0 blocks every node drain",
        ),
        (
            &["--set", OUR_IMAGE, "--set", "rbac.pspEnabled=true"],
            "rbac.pspEnabled=true",
        ),
        (
            &[
                "--set",
                OUR_IMAGE,
                "--set",
                "ingress.enabled=true,ingress.apiVersion=extensions/v1beta1",
            ],
            "ingress.apiVersion=extensions/v1beta1",
        ),
        (
            &["--set", OUR_IMAGE, "--set", "unknownKey=1"],
            "additional properties 'unknownKey' not allowed",
        ),
    ];
    for (args, message) in refusals {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.ends_with(".yaml") {
                    file_arg(a)
                } else {
                    (*a).to_owned()
                }
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match render_raw(&refs) {
            Ok(_) => panic!("{args:?} rendered; expected a refusal with {message:?}"),
            Err(e) => assert!(e.contains(message), "{args:?}: {e}"),
        }
    }
    // The placeholder renders when told to (CI, these tests).
    render_raw(&["--set", "image.allowPlaceholder=true"]).unwrap();
    Ok(())
}

/// No PodDisruptionBudget that blocks drains: none with one replica by default, one with two.
#[test]
fn pdb_never_blocks_drains_by_default() -> anyhow::Result<()> {
    let with = |s: &str| render_raw(&["--set", OUR_IMAGE, "--set", s]).unwrap();
    assert_eq!(
        kinds(&with("replicaCount=2"), "PodDisruptionBudget").len(),
        1
    );
    assert!(kinds(&with("replicaCount=1"), "PodDisruptionBudget").is_empty());
    assert!(
        kinds(
            &with("replicaCount=1,controller.leaderElect=false"),
            "PodDisruptionBudget"
        )
        .is_empty()
    );
    assert!(
        kinds(
            &with("replicaCount=3,pdb.enabled=false"),
            "PodDisruptionBudget"
        )
        .is_empty()
    );
    // The default values' key Secret names in RBAC are the controller's defaults.
    let args =
        <sealant_controller::flags::Args as clap::Parser>::try_parse_from(["sealant-controller"])
            .unwrap();
    let docs = with("replicaCount=2");
    assert_eq!(
        one(&docs, "Role", "sealed-secrets-controller-key-admin")?["rules"][1]["resourceNames"],
        json!([args.key_prefix, "sealant-sync-key"])
    );
    Ok(())
}
