//! kubeseal mode: flags, modes and offline runs end to end.

use std::collections::HashMap;
use std::path::PathBuf;

use sealant_core::{Format, SecretString};

use super::flags::*;
use super::*;
use crate::args::ClusterArgs;

fn argv(args: &[&str]) -> Vec<OsString> {
    std::iter::once("kubeseal")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect()
}

fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Flags {
    let env: HashMap<String, OsString> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    parse(argv(args), |name| env.get(name).cloned()).unwrap()
}

fn parse_ok(args: &[&str]) -> Flags {
    parse_env(args, &[])
}

fn parse_err(args: &[&str]) -> clap::Error {
    match parse(argv(args), |_| None) {
        Ok(_) => panic!("{args:?} parsed"),
        Err(err) => err,
    }
}

#[test]
fn values_take_both_pflag_forms() {
    for args in [
        &["--cert", "c.pem", "-o", "yaml", "-n", "ns"][..],
        &["--cert=c.pem", "-o=yaml", "-n=ns"],
        &["--cert=c.pem", "-oyaml", "-nns"],
        &["--cert", "c.pem", "--format", "yaml", "--namespace", "ns"],
    ] {
        let flags = parse_ok(args);
        assert_eq!(flags.cert.as_deref(), Some("c.pem"), "{args:?}");
        assert_eq!(flags.format.as_deref(), Some("yaml"), "{args:?}");
        assert_eq!(flags.cluster.namespace.as_deref(), Some("ns"), "{args:?}");
    }
    // pflag gives a value flag the next word, even one that looks like a flag.
    assert_eq!(parse_ok(&["--name", "-x"]).name.as_deref(), Some("-x"));
}

#[test]
fn booleans_follow_pflag() {
    assert!(parse_ok(&["--raw"]).raw);
    assert!(parse_ok(&["--raw=true"]).raw);
    assert!(parse_ok(&["--raw=1"]).raw);
    assert!(parse_ok(&["--raw=T"]).raw);
    assert!(!parse_ok(&["--raw=false"]).raw);
    assert!(!parse_ok(&["--raw=0"]).raw);
    assert!(!parse_ok(&[]).raw);
    // A separate word is not a bool's value: `false` is an (ignored) argument.
    assert!(parse_ok(&["--raw", "false"]).raw);
    // Repeated flags: the last one wins.
    assert!(!parse_ok(&["--raw", "--raw=false"]).raw);
    assert!(parse_ok(&["--validate=false", "--validate"]).validate);
    let err = parse_err(&["--raw=maybe"]);
    assert_eq!(
        pflag_message(&err),
        "invalid argument \"maybe\" for \"--raw\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
    );
}

#[test]
fn repeated_values_last_wins_and_lists_accumulate() {
    let flags = parse_ok(&["--cert", "a", "--cert", "b", "-o", "json", "-o", "YAML"]);
    assert_eq!(flags.cert.as_deref(), Some("b"));
    assert_eq!(flags.format.as_deref(), Some("YAML"));
    let flags = parse_ok(&[
        "--recovery-private-key",
        "a.key,b.key",
        "--recovery-private-key=c.key",
    ]);
    assert_eq!(
        flags.recovery_private_keys,
        vec![
            PathBuf::from("a.key"),
            PathBuf::from("b.key"),
            PathBuf::from("c.key")
        ]
    );
    assert_eq!(
        parse_ok(&["--from-file", "a,b", "--raw"]).from_file,
        ["a", "b"]
    );
    // --as-group is a string array: commas are kept.
    assert_eq!(
        parse_ok(&["--as-group", "a,b", "--as-group", "c"])
            .overrides
            .impersonate_groups,
        ["a,b", "c"]
    );
}

#[test]
fn positional_arguments_are_ignored() {
    let flags = parse_ok(&["secret.yaml", "--cert", "c.pem", "more", "--", "--raw"]);
    assert_eq!(flags.cert.as_deref(), Some("c.pem"));
    assert!(!flags.raw, "after --, words are arguments");
    assert!(
        flags.input_file.is_none(),
        "a positional is not the input file"
    );
}

#[test]
fn aliases_and_long_names() {
    let flags = parse_ok(&["--sealed-secret-file", "o.json", "--secret-file", "i.yaml"]);
    assert_eq!(flags.output_file, Some(PathBuf::from("o.json")));
    assert_eq!(flags.input_file, Some(PathBuf::from("i.yaml")));
    let flags = parse_ok(&["--rotate"]);
    assert!(flags.re_encrypt && flags.rotate);
    assert!(parse_ok(&["--re-encrypt"]).re_encrypt);
    // klog flags are accepted and ignored.
    parse_ok(&["-v", "5", "--v=3", "--logtostderr", "--vmodule=x=2"]);
}

#[test]
fn kube_override_flags_are_taken() {
    let line = "--kubeconfig=k --context c --cluster=cl --user=u --server https://127.0.0.1:1 --token=t0k --insecure-skip-tls-verify --certificate-authority=ca.pem --client-certificate=c.crt --client-key=c.key --request-timeout=5s --tls-server-name=api --as=me --as-uid=1 --username=u --password=p --disable-compression=true";
    let flags = parse_ok(&line.split(' ').collect::<Vec<_>>());
    let cluster = &flags.cluster;
    assert_eq!(cluster.kubeconfig, Some(PathBuf::from("k")));
    assert_eq!(cluster.context.as_deref(), Some("c"));
    let o = &flags.overrides;
    assert_eq!(o.cluster.as_deref(), Some("cl"));
    assert_eq!(o.user.as_deref(), Some("u"));
    assert_eq!(o.server.as_deref(), Some("https://127.0.0.1:1"));
    assert_eq!(
        o.token.as_ref().map(SecretString::expose_secret),
        Some("t0k")
    );
    assert!(o.insecure_skip_tls_verify && o.disable_compression);
    assert_eq!(o.certificate_authority, Some(PathBuf::from("ca.pem")));
    assert_eq!(o.client_certificate.as_deref(), Some("c.crt"));
    assert_eq!(o.client_key.as_deref(), Some("c.key"));
    assert_eq!(o.request_timeout.as_deref(), Some("5s"));
    assert_eq!(o.tls_server_name.as_deref(), Some("api"));
    assert_eq!(o.impersonate.as_deref(), Some("me"));
    assert_eq!(o.impersonate_uid.as_deref(), Some("1"));
    assert_eq!(o.username.as_deref(), Some("u"));
    assert_eq!(
        o.password.as_ref().map(SecretString::expose_secret),
        Some("p")
    );
    // `--request-timeout 0` (the default) is no timeout.
    assert!(parse_ok(&[]).overrides.request_timeout.is_none());
}

#[test]
fn defaults_are_upstreams() {
    let flags = parse_ok(&[]);
    let cluster = &flags.cluster;
    assert_eq!(cluster.controller_namespace, "kube-system");
    assert_eq!(cluster.controller_name, "sealed-secrets-controller");
    assert_eq!(flags.object_format(None).unwrap(), Format::Json);
    assert_eq!(flags.scope().unwrap(), Scope::Strict);
    assert_eq!(mode(&flags).unwrap(), Mode::Seal);
}

#[test]
fn environment_fills_unset_flags_and_command_line_wins() {
    let env = [
        ("SEALED_SECRETS_CERT", "env.pem"),
        ("SEALED_SECRETS_CONTROLLER_NAMESPACE", "sealed"),
        ("SEALED_SECRETS_CONTROLLER_NAME", "ctrl"),
        ("SEALED_SECRETS_FORMAT", "yaml"),
        ("SEALED_SECRETS_RAW", "true"),
        ("SEALED_SECRETS_RECOVERY_PRIVATE_KEY", "a.key,b.key"),
        ("SEALED_SECRETS_NAMESPACE", "envns"),
        ("SEALED_SECRETS_VERSION", "0.36.6"),
    ];
    let flags = parse_env(&[], &env);
    assert_eq!(flags.cert.as_deref(), Some("env.pem"));
    assert_eq!(flags.cluster.controller_namespace, "sealed");
    assert_eq!(flags.cluster.controller_name, "ctrl");
    assert_eq!(flags.format.as_deref(), Some("yaml"));
    assert!(flags.raw);
    assert_eq!(flags.recovery_private_keys.len(), 2);
    assert_eq!(flags.cluster.namespace.as_deref(), Some("envns"));
    assert!(
        !flags.version,
        "SEALED_SECRETS_VERSION is not a flag variable"
    );

    let flags = parse_env(
        &[
            "--cert",
            "cli.pem",
            "--controller-namespace=cli",
            "--raw=false",
            "--recovery-private-key=c.key",
            "-o",
            "json",
        ],
        &env,
    );
    assert_eq!(flags.cert.as_deref(), Some("cli.pem"));
    assert_eq!(flags.cluster.controller_namespace, "cli");
    assert_eq!(flags.cluster.controller_name, "ctrl");
    assert!(!flags.raw);
    assert_eq!(flags.recovery_private_keys, vec![PathBuf::from("c.key")]);
    assert_eq!(flags.format.as_deref(), Some("json"));

    // An empty variable is unset; a bad one is a flag error.
    assert!(
        parse_env(&[], &[("SEALED_SECRETS_CERT", "")])
            .cert
            .is_none()
    );
    let err = parse(argv(&[]), |name| {
        (name == "SEALED_SECRETS_RAW").then(|| OsString::from("yes"))
    })
    .err()
    .unwrap();
    assert!(pflag_message(&err).contains("for \"--raw\" flag"), "{err}");
}

#[test]
fn every_flag_has_its_env_variable_name() {
    assert_eq!(
        env_name("controller-namespace"),
        "SEALED_SECRETS_CONTROLLER_NAMESPACE"
    );
    assert_eq!(
        env_name("sealed-secret-file"),
        "SEALED_SECRETS_SEALED_SECRET_FILE"
    );
    assert_eq!(
        env_name("insecure-skip-tls-verify"),
        "SEALED_SECRETS_INSECURE_SKIP_TLS_VERIFY"
    );
    command().debug_assert();
}

#[test]
fn flag_errors_read_like_pflag() {
    let err = parse_err(&["--bogus"]);
    assert_eq!(err.kind(), ErrorKind::UnknownArgument);
    assert_eq!(pflag_message(&err), "unknown flag: --bogus");
    assert_eq!(
        pflag_message(&parse_err(&["--bogus=1"])),
        "unknown flag: --bogus"
    );
    assert_eq!(
        pflag_message(&parse_err(&["-x"])),
        "unknown shorthand flag: 'x' in -x"
    );
    assert_eq!(
        pflag_message(&parse_err(&["--cert"])),
        "flag needs an argument: --cert"
    );
    assert_eq!(parse_err(&["-h"]).kind(), ErrorKind::DisplayHelp);
    assert_eq!(parse_err(&["--help"]).kind(), ErrorKind::DisplayHelp);
    // No --sealing-key, --from-literal or -s in kubeseal.
    for args in [
        &["--from-literal", "a=b"][..],
        &["--sealing-key", "x"],
        &["-s", "x"],
    ] {
        assert_eq!(
            parse_err(args).kind(),
            ErrorKind::UnknownArgument,
            "{args:?}"
        );
    }
}

#[test]
fn from_file_requires_raw() {
    let flags = parse_ok(&["--from-file", "v.txt"]);
    assert_eq!(
        mode(&flags).err().unwrap().message(),
        "--from-file requires --raw"
    );
    // Checked before everything else, even --version.
    let flags = parse_ok(&["--from-file", "v.txt", "--version"]);
    assert!(mode(&flags).is_err());
    let flags = parse_ok(&["--from-file", "v.txt", "--raw"]);
    assert_eq!(mode(&flags).unwrap(), Mode::Raw);
}

#[test]
fn modes_are_chosen_in_upstreams_order() {
    let all = [
        "--version",
        "--recovery-unseal",
        "--validate",
        "--re-encrypt",
        "--fetch-cert",
        "--merge-into=m.json",
        "--raw",
    ];
    let expected = [
        Mode::Version,
        Mode::RecoveryUnseal,
        Mode::Validate,
        Mode::ReEncrypt,
        Mode::FetchCert,
        Mode::MergeInto,
        Mode::Raw,
        Mode::Seal,
    ];
    // With every flag from position i on, the flag at i decides.
    for (i, want) in expected.iter().enumerate() {
        let flags = parse_ok(&all[i.min(all.len())..]);
        assert_eq!(
            mode(&flags).unwrap(),
            *want,
            "{:?}",
            &all[i.min(all.len())..]
        );
    }
    assert_eq!(
        mode(&parse_ok(&["--rotate", "--raw"])).unwrap(),
        Mode::ReEncrypt
    );
}

#[test]
fn output_format_rules() {
    let flags = parse_ok(&[]);
    assert_eq!(flags.object_format(None).unwrap(), Format::Json);
    assert_eq!(
        flags.object_format(Some(Path::new("s.json"))).unwrap(),
        Format::Json
    );
    assert_eq!(
        flags.object_format(Some(Path::new("s.yaml"))).unwrap(),
        Format::Yaml
    );
    assert_eq!(
        flags.object_format(Some(Path::new("s.yml"))).unwrap(),
        Format::Yaml
    );
    // -w x.yaml forces YAML over -o json, and over an unsupported -o.
    let flags = parse_ok(&["-o", "json"]);
    assert_eq!(
        flags.object_format(Some(Path::new("s.yaml"))).unwrap(),
        Format::Yaml
    );
    let flags = parse_ok(&["-o", "YaMl"]);
    assert_eq!(flags.object_format(None).unwrap(), Format::Yaml);
    let flags = parse_ok(&["-o", "xml"]);
    assert_eq!(
        flags.object_format(None).err().unwrap().message(),
        "unsupported output format: xml"
    );
    assert_eq!(
        flags.object_format(Some(Path::new("s.yml"))).unwrap(),
        Format::Yaml
    );
}

#[test]
fn re_encrypt_rewrites_its_input_in_place() {
    let flags = parse_ok(&["--re-encrypt", "-f", "s.yaml"]);
    assert_eq!(
        flags.output_file(Mode::ReEncrypt),
        Some(PathBuf::from("s.yaml"))
    );
    let flags = parse_ok(&["--re-encrypt", "-f", "s.yaml", "-w", "o.json"]);
    assert_eq!(
        flags.output_file(Mode::ReEncrypt),
        Some(PathBuf::from("o.json"))
    );
    // Only re-encryption rewrites its input: never a recovered plaintext Secret.
    let flags = parse_ok(&["--re-encrypt", "--recovery-unseal", "-f", "s.yaml"]);
    assert_eq!(flags.output_file(mode(&flags).unwrap()), None);
}

#[test]
fn strict_scope_does_not_override_annotations() {
    let cluster = ClusterArgs {
        namespace: Some("ns".into()),
        ..parse_ok(&[]).cluster
    };
    let flags = parse_ok(&["--scope", "strict"]);
    assert_eq!(flags.seal_options(&cluster).unwrap().scope, None);
    let flags = parse_ok(&["--scope="]);
    assert_eq!(flags.scope().unwrap(), Scope::Strict);
    let flags = parse_ok(&["--scope", "cluster-wide", "--name", "n"]);
    let options = flags.seal_options(&cluster).unwrap();
    assert_eq!(options.scope, Some(Scope::ClusterWide));
    assert_eq!(options.name.as_deref(), Some("n"));
    assert_eq!(options.namespace_flag.as_deref(), Some("ns"));
    let err = parse_err(&["--scope", "bogus"]);
    assert_eq!(err.kind(), ErrorKind::ValueValidation);
    assert!(
        pflag_message(&err).starts_with("invalid argument \"bogus\" for \"--scope\" flag: "),
        "{}",
        pflag_message(&err)
    );
}

#[test]
fn missing_secret_file_is_upstreams_error() {
    let err = Source::open(Some(Path::new("/nonexistent/secret.yaml")))
        .err()
        .unwrap();
    assert!(
        err.message()
            .starts_with("Could not read file specified with --secret-file"),
        "{err}"
    );
}

// End to end, offline: the same dispatch the binary runs, with -f so stdin is never read.

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mysecret\n  namespace: myns\nstringData:\n  password: hunter2\n";

/// Runs a kubeseal command line; `{dir}` is the test's directory and `{keys}` the
/// directory of the test keys.
fn ks(dir: &Path, line: &str) -> Result<()> {
    let keys = format!("{}/../core/tests/vectors/keys", env!("CARGO_MANIFEST_DIR"));
    let line = line
        .replace("{dir}", &dir.display().to_string())
        .replace("{keys}", &keys);
    dispatch(&parse_ok(&line.split_whitespace().collect::<Vec<_>>()))
}

fn ks_err(dir: &Path, line: &str) -> String {
    match ks(dir, line) {
        Ok(()) => panic!("{line} succeeded"),
        Err(err) => err.message().to_owned(),
    }
}

fn setup() -> (tempfile::TempDir, impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), SECRET).unwrap();
    let path = dir.path().to_owned();
    (dir, move |name: &str| {
        std::fs::read_to_string(path.join(name)).unwrap()
    })
}

#[test]
fn seal_defaults_to_json_and_recovers() {
    let (dir, read) = setup();
    let d = dir.path();
    ks(
        d,
        "--cert {keys}/rsa4096.crt -f {dir}/s.yaml -w {dir}/out.json",
    )
    .unwrap();
    let sealed = read("out.json");
    assert!(sealed.starts_with('{'), "JSON by default: {sealed}");
    assert!(sealed.contains("\"password\": \"Ag"), "{sealed}");
    let recover = "--recovery-unseal -f {dir}/out.json -w {dir}/back.yml -o json";
    ks(
        d,
        &format!("{recover} --recovery-private-key {{keys}}/rsa4096.key"),
    )
    .unwrap();
    let secret = read("back.yml");
    assert!(
        secret.starts_with("---\n"),
        "-w .yml forces YAML over -o json: {secret}"
    );
    assert!(secret.contains("password: aHVudGVyMg=="), "{secret}");
    let wrong_key = ks_err(
        d,
        &format!("{recover} --recovery-private-key {{keys}}/other-2048.key"),
    );
    assert!(
        wrong_key.contains("no key could decrypt secret (password)"),
        "{wrong_key}"
    );
}

#[test]
fn merge_into_keeps_the_files_format_and_never_panics() {
    let (dir, read) = setup();
    let d = dir.path();
    // Upstream panics when the input adds labels/annotations to a template without them.
    std::fs::write(
        d.join("more.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  labels: {app: a}\n  annotations: {n: v}\nstringData:\n  token: t\n",
    )
    .unwrap();
    ks(
        d,
        "--cert {keys}/rsa4096.crt -f {dir}/s.yaml -w {dir}/sealed.yaml",
    )
    .unwrap();
    let merge = "--cert {keys}/rsa4096.crt -f {dir}/more.yaml --merge-into {dir}/sealed.yaml";
    ks(d, merge).unwrap();
    let merged = read("sealed.yaml");
    assert!(merged.starts_with("---\n"), "stays YAML: {merged}");
    for want in [
        "password: Ag",
        "token: Ag",
        "app: a",
        "\"n\": v",
        "name: mysecret",
    ] {
        assert!(merged.contains(want), "{want} in {merged}");
    }
    ks(d, &format!("{merge} -o JSON")).unwrap();
    assert!(
        read("sealed.yaml").starts_with('{'),
        "-o wins over the file's format"
    );
}

#[test]
fn certificate_errors_are_upstreams() {
    let (dir, read) = setup();
    let d = dir.path();
    let expired = ks_err(d, "--cert {keys}/expired-2048.crt -f {dir}/s.yaml");
    assert!(
        expired.starts_with("failed to encrypt using an expired certificate on "),
        "{expired}"
    );
    // --fetch-cert copies even an expired certificate: the expiry check comes after it.
    ks(
        d,
        "--cert {keys}/expired-2048.crt --fetch-cert -w {dir}/c.pem",
    )
    .unwrap();
    assert!(read("c.pem").starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        ks_err(d, "--cert {keys}/rsa4096.crt -f {dir}/s.yaml -o xml"),
        "unsupported output format: xml"
    );
}

#[test]
fn raw_mode_checks_and_seals() {
    let (dir, read) = setup();
    let d = dir.path();
    std::fs::write(d.join("v.txt"), "value").unwrap();
    let raw = "--cert {keys}/rsa4096.crt --raw";
    assert_eq!(
        ks_err(d, &format!("{raw} -n ns --from-file {{dir}}/v.txt")),
        "must provide the --name flag with --raw and --scope strict"
    );
    assert_eq!(
        ks_err(
            d,
            &format!("{raw} --scope cluster-wide --from-file {{dir}}/v.txt,{{dir}}/v.txt")
        ),
        "must provide only one --from-file when encrypting a single item with --raw"
    );
    ks(
        d,
        &format!("{raw} -n ns --name n --from-file k={{dir}}/v.txt -w {{dir}}/raw.txt"),
    )
    .unwrap();
    let sealed = read("raw.txt");
    assert!(
        sealed.starts_with("Ag") && !sealed.ends_with('\n'),
        "{sealed}"
    );
}

#[test]
fn cluster_modes_go_to_the_controller() {
    let (dir, read) = setup();
    let d = dir.path();
    let kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\ncurrent-context: c\n";
    std::fs::write(d.join("kc.yaml"), kubeconfig).unwrap();
    ks(
        d,
        "--cert {keys}/rsa4096.crt -f {dir}/s.yaml -w {dir}/sealed.json",
    )
    .unwrap();
    let before = read("sealed.json");
    for mode in ["--validate", "--re-encrypt"] {
        // --cert is not used by these modes: they always ask the controller.
        let line = format!(
            "{mode} --kubeconfig {{dir}}/kc.yaml --cert {{keys}}/rsa4096.crt -f {{dir}}/sealed.json"
        );
        let err = ks_err(d, &line);
        // Nothing listens there: the API server did not answer, no Service was looked at.
        assert!(
            err.starts_with("cannot reach the API server at https://127.0.0.1:1/: "),
            "{mode}: {err}"
        );
    }
    assert_eq!(
        before,
        read("sealed.json"),
        "a failed --re-encrypt leaves its file alone"
    );
}

#[test]
fn version_is_upstreams_with_sealants_as_build_metadata() {
    assert_eq!(
        VERSION,
        format!("{UPSTREAM_VERSION}+sealant.{}", env!("CARGO_PKG_VERSION"))
    );
    assert!(!VERSION.contains([' ', ',']), "scripts split on these");
}
