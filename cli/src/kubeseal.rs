//! kubeseal mode: upstream `kubeseal`'s command line on top of `sealant`'s own code paths.
//!
//! Chosen when the binary runs as `kubeseal` (argv\[0\], e.g. through a symlink) or as
//! `sealant kubeseal …`. It takes kubeseal's flags with Go pflag's conventions (`--flag value`,
//! `--flag=value`, booleans as `--raw` or `--raw=false`, repeated flags: last wins, lists
//! comma-separated or repeated, positional arguments ignored), the `SEALED_SECRETS_*`
//! environment variables (the command line wins), kubeseal's defaults (JSON output, controller
//! `kube-system/sealed-secrets-controller`), its mode order, messages and exit codes: 0 success,
//! 1 any runtime error (`error: …`), 2 a flag error (message and usage on stderr).
//!
//! Every mode calls the functions of [`crate::commands`] that `sealant`'s subcommands call;
//! only flag resolution and mode order live here. See `docs/kubeseal-compat.md`.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use sealant_core::sealing::{Recipients, SealOptions};
use sealant_core::{Format, Scope, SecretString};

use crate::args::{CertSourceArgs, ClusterArgs};
use crate::certsrc::{self, LoadedCert};
use crate::cluster::{self, KubeOverrides};
use crate::commands;
use crate::error::{CliError, EXIT_FAILURE, EXIT_USAGE, Result};
use crate::io::{self, Input};

/// What `--version` reports after `kubeseal version: `.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Prefix of the environment variable of each flag: `--controller-name` is read from
/// `SEALED_SECRETS_CONTROLLER_NAME`.
pub const ENV_PREFIX: &str = "SEALED_SECRETS_";

/// Runs kubeseal mode with these arguments (the first is the program name) and returns the
/// exit code.
pub fn run(argv: Vec<OsString>) -> ExitCode {
    let flags = match parse(argv, |name| std::env::var_os(name)) {
        Ok(flags) => flags,
        Err(err) if err.kind() == ErrorKind::DisplayHelp => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // pflag's ExitOnError: the error, then the usage, on stderr; exit 2.
            let usage = command().about(None).after_help(None).render_help();
            eprint!("{}\n{usage}", pflag_message(&err));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match dispatch(&flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Upstream exits 1 for every error once the flags are parsed.
            eprintln!("{err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Flags

/// How a flag takes its value, after pflag's flag types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A string: `--flag value` or `--flag=value`.
    Text,
    /// A bool: `--flag` (true) or `--flag=<bool>`; a separate word is not its value.
    Bool,
    /// A string slice: repeatable, and each value is split at commas.
    List,
    /// A string array: repeatable, commas kept.
    Array,
}

/// One flag of the table below.
struct FlagSpec {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
    value_name: &'static str,
    default: Option<&'static str>,
    help: &'static str,
}

const fn flag(
    long: &'static str,
    kind: Kind,
    value_name: &'static str,
    help: &'static str,
) -> FlagSpec {
    FlagSpec {
        long,
        short: None,
        kind,
        value_name,
        default: None,
        help,
    }
}

impl FlagSpec {
    const fn short(mut self, short: char) -> Self {
        self.short = Some(short);
        self
    }

    const fn with_default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    fn arg(&self) -> Arg {
        let mut arg = Arg::new(self.long).long(self.long).help(self.help);
        if let Some(short) = self.short {
            arg = arg.short(short);
        }
        if let Some(default) = self.default {
            arg = arg.default_value(default);
        }
        match self.kind {
            Kind::Bool => arg
                .action(ArgAction::Set)
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("true")
                .value_name("BOOL")
                .value_parser(go_bool),
            Kind::Text => arg
                .action(ArgAction::Set)
                .value_name(self.value_name)
                .allow_hyphen_values(true),
            Kind::List => arg
                .action(ArgAction::Append)
                .value_name(self.value_name)
                .value_delimiter(',')
                .allow_hyphen_values(true),
            Kind::Array => arg
                .action(ArgAction::Append)
                .value_name(self.value_name)
                .allow_hyphen_values(true),
        }
    }
}

/// kubeseal's own flags, in upstream's help order.
#[rustfmt::skip]
const KUBESEAL_FLAGS: &[FlagSpec] = &[
    flag("allow-empty-data", Kind::Bool, "", "Seal a Secret that has no data instead of refusing it"),
    flag("cert", Kind::Text, "PATH|URL", "Seal with this certificate: a file, or an http(s):// or file:// URL (the controller is then not asked)"),
    flag("controller-name", Kind::Text, "NAME", "Name of the controller's Service").with_default("sealed-secrets-controller"),
    flag("controller-namespace", Kind::Text, "NAMESPACE", "Namespace of the controller's Service").with_default("kube-system"),
    flag("fetch-cert", Kind::Bool, "", "Print the controller's certificate (or save it with -w) and stop; seal offline later with --cert"),
    flag("format", Kind::Text, "FORMAT", "How to write objects: json (default) or yaml, in any case").short('o'),
    flag("from-file", Kind::List, "[KEY=]PATH", "With --raw: the file holding the value (a KEY= prefix is ignored); at most one"),
    flag("kubeconfig", Kind::Text, "PATH", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)"),
    flag("merge-into", Kind::Text, "FILE", "Seal the input and add its items to this SealedSecret file, rewriting it in place"),
    flag("name", Kind::Text, "NAME", "With --raw: the Secret name the value is bound to; otherwise replaces the input's name"),
    flag("raw", Kind::Bool, "", "Seal one value (stdin or --from-file) and print only its base64"),
    flag("re-encrypt", Kind::Bool, "", "Have the controller re-encrypt the input SealedSecrets to its newest key (-f FILE without -w is rewritten in place)"),
    flag("recovery-private-key", Kind::List, "FILE", "Keys for --recovery-unseal: PEM RSA keys, key Secret backups (YAML/JSON) or Lists of them; repeat or comma-separate"),
    flag("recovery-unseal", Kind::Bool, "", "Decrypt SealedSecrets offline with the --recovery-private-key keys (disaster recovery)"),
    flag("rotate", Kind::Bool, "", "Old name of --re-encrypt (deprecated)"),
    flag("scope", Kind::Text, "SCOPE", "strict, namespace-wide or cluster-wide; without it the input's scope annotations decide (else strict)"),
    flag("sealed-secret-file", Kind::Text, "FILE", "Write the output to this file (atomically, only on success); a .yaml/.yml name means YAML").short('w'),
    flag("secret-file", Kind::Text, "FILE", "Read the input from this file instead of stdin").short('f'),
    flag("validate", Kind::Bool, "", "Ask the controller whether it can decrypt the input SealedSecrets"),
    flag("version", Kind::Bool, "", "Print the version and exit"),
];

/// client-go's kubeconfig override flags (kubectl's connection flags).
#[rustfmt::skip]
const KUBE_FLAGS: &[FlagSpec] = &[
    flag("as", Kind::Text, "USER", "Act as this user (impersonation)"),
    flag("as-group", Kind::Array, "GROUP", "Act as a member of this group (repeatable)"),
    flag("as-uid", Kind::Text, "UID", "Act as the user with this UID"),
    flag("certificate-authority", Kind::Text, "PATH", "CA certificate file to check the API server's certificate with"),
    flag("client-certificate", Kind::Text, "PATH", "Client certificate file for TLS authentication"),
    flag("client-key", Kind::Text, "PATH", "Key file of --client-certificate"),
    flag("cluster", Kind::Text, "NAME", "kubeconfig cluster entry to use instead of the context's"),
    flag("context", Kind::Text, "NAME", "kubeconfig context to use instead of the current one"),
    flag("disable-compression", Kind::Bool, "", "Ask for uncompressed API responses (sealant never asks for compressed ones)"),
    flag("insecure-skip-tls-verify", Kind::Bool, "", "Do not verify the API server's certificate (insecure)"),
    flag("namespace", Kind::Text, "NAMESPACE", "Namespace for Secrets that name none (default: the context's, else default); must match the input's").short('n'),
    flag("password", Kind::Text, "PASSWORD", "Password for basic authentication"),
    flag("proxy-url", Kind::Text, "URL", "Proxy to reach the API server through (not supported: refused when the cluster is contacted)"),
    flag("request-timeout", Kind::Text, "DURATION", "Give up on each API request after this long: 30s, 2m, 1h or a number of seconds; 0 waits forever").with_default("0"),
    flag("server", Kind::Text, "URL", "API server URL (works without a kubeconfig)"),
    flag("tls-server-name", Kind::Text, "NAME", "Name to expect in the API server's certificate"),
    flag("token", Kind::Text, "TOKEN", "Bearer token for the API server"),
    flag("user", Kind::Text, "NAME", "kubeconfig user entry to use instead of the context's"),
    flag("username", Kind::Text, "NAME", "User name for basic authentication"),
];

/// klog's flags, which upstream also accepts: taken and ignored (sealant does not log).
#[rustfmt::skip]
const KLOG_FLAGS: &[FlagSpec] = &[
    flag("add_dir_header", Kind::Bool, "", ""),
    flag("alsologtostderr", Kind::Bool, "", ""),
    flag("log_backtrace_at", Kind::Text, "", ""),
    flag("log_dir", Kind::Text, "", ""),
    flag("log_file", Kind::Text, "", ""),
    flag("log_file_max_size", Kind::Text, "", ""),
    flag("log_flush_frequency", Kind::Text, "", ""),
    flag("logtostderr", Kind::Bool, "", ""),
    flag("one_output", Kind::Bool, "", ""),
    flag("skip_headers", Kind::Bool, "", ""),
    flag("skip_log_headers", Kind::Bool, "", ""),
    flag("stderrthreshold", Kind::Text, "", ""),
    flag("v", Kind::Text, "", "").short('v'),
    flag("vmodule", Kind::Text, "", ""),
];

/// Flags with no environment variable.
const NO_ENV: &[&str] = &["version"];

const ABOUT: &str =
    "kubeseal (sealant): seal Kubernetes Secrets for GitOps, with upstream kubeseal's flags.";

const AFTER_HELP: &str = "\
Every flag can also be set with an environment variable SEALED_SECRETS_<FLAG> (upper case, '-' as
'_'), e.g. SEALED_SECRETS_CONTROLLER_NAMESPACE; the command line wins.
Exit codes: 0 success, 1 error, 2 bad flags. sealant's own commands: sealant --help.";

/// The clap command that mimics kubeseal's pflag set.
pub fn command() -> Command {
    let kubeseal = KUBESEAL_FLAGS.iter().map(FlagSpec::arg);
    let kube = KUBE_FLAGS
        .iter()
        .map(|spec| spec.arg().help_heading("Kubernetes connection"));
    let klog = KLOG_FLAGS.iter().map(|spec| spec.arg().hide(true));
    Command::new("kubeseal")
        .about(ABOUT)
        .after_help(AFTER_HELP)
        .override_usage("kubeseal [flags] < secret.yaml > sealed-secret.json")
        .disable_version_flag(true)
        .args_override_self(true)
        .args(kubeseal)
        .mut_arg("scope", |arg| arg.value_parser(scope_name))
        .args(kube)
        .args(klog)
        .arg(
            // pflag parses flags anywhere and leaves the rest; kubeseal ignores the rest.
            Arg::new("ignored-arguments")
                .action(ArgAction::Append)
                .num_args(0..)
                .value_parser(ValueParser::os_string())
                .hide(true),
        )
}

/// Go's `strconv.ParseBool`.
fn go_bool(text: &str) -> std::result::Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {text:?}: invalid syntax"
        )),
    }
}

/// `--scope`'s values, checked while parsing (a bad scope is a flag error, as upstream).
fn scope_name(text: &str) -> std::result::Result<String, String> {
    text.parse::<Scope>()
        .map(|_| text.to_owned())
        .map_err(|e| e.to_string())
}

/// The environment variable of a flag.
pub fn env_name(long: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        long.to_ascii_uppercase().replace('-', "_")
    )
}

/// kubeseal's flags, resolved: command line, else `SEALED_SECRETS_*`, else the default.
pub struct Flags {
    /// `--cert`.
    pub cert: Option<String>,
    /// `-o`/`--format` as given (checked when output is written, as upstream does).
    pub format: Option<String>,
    /// `-w`/`--sealed-secret-file`.
    pub output_file: Option<PathBuf>,
    /// `-f`/`--secret-file`.
    pub input_file: Option<PathBuf>,
    /// `--fetch-cert`.
    pub fetch_cert: bool,
    /// `--allow-empty-data`.
    pub allow_empty_data: bool,
    /// `--version`.
    pub version: bool,
    /// `--validate`.
    pub validate: bool,
    /// `--merge-into`.
    pub merge_into: Option<PathBuf>,
    /// `--raw`.
    pub raw: bool,
    /// `--name`.
    pub name: Option<String>,
    /// `--from-file`, comma lists split.
    pub from_file: Vec<String>,
    /// `--scope`; `Some` only when given (strict included).
    pub scope: Option<String>,
    /// `--re-encrypt` or `--rotate`.
    pub re_encrypt: bool,
    /// `--rotate` was used (deprecated).
    pub rotate: bool,
    /// `--recovery-unseal`.
    pub recovery_unseal: bool,
    /// `--recovery-private-key`, comma lists split.
    pub recovery_private_keys: Vec<PathBuf>,
    /// `--kubeconfig`, `--context`, `-n`, `--controller-name`, `--controller-namespace`.
    pub cluster: ClusterArgs,
    /// The other kubectl connection flags.
    pub overrides: KubeOverrides,
}

/// Parses kubeseal's command line, reading unset flags from the environment through `env`.
///
/// # Errors
/// A clap error for bad flags (and for `-h`, [`ErrorKind::DisplayHelp`]).
pub fn parse(
    argv: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> std::result::Result<Flags, clap::Error> {
    let command = command();
    let from_command_line = command.clone().try_get_matches_from(&argv)?;
    // pflag-style env support: each flag not on the command line is set from its variable,
    // placed before the user's arguments so that a repeated flag on the command line wins.
    let mut env_args = Vec::new();
    for spec in KUBESEAL_FLAGS.iter().chain(KUBE_FLAGS) {
        if NO_ENV.contains(&spec.long)
            || from_command_line.value_source(spec.long) == Some(ValueSource::CommandLine)
        {
            continue;
        }
        if let Some(value) = env(&env_name(spec.long)).filter(|v| !v.is_empty()) {
            let mut arg = OsString::from(format!("--{}=", spec.long));
            arg.push(value);
            env_args.push(arg);
        }
    }
    if env_args.is_empty() {
        return Ok(Flags::from_matches(&from_command_line));
    }
    let mut full = argv;
    let rest = full.split_off(full.len().min(1));
    full.extend(env_args);
    full.extend(rest);
    Ok(Flags::from_matches(&command.try_get_matches_from(full)?))
}

fn text(matches: &ArgMatches, id: &str) -> Option<String> {
    matches
        .try_get_one::<String>(id)
        .ok()
        .flatten()
        .filter(|value| !value.is_empty())
        .cloned()
}

fn boolean(matches: &ArgMatches, id: &str) -> bool {
    matches
        .try_get_one::<bool>(id)
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
}

fn list(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .try_get_many::<String>(id)
        .ok()
        .flatten()
        .map(|values| values.filter(|v| !v.is_empty()).cloned().collect())
        .unwrap_or_default()
}

impl Flags {
    fn from_matches(m: &ArgMatches) -> Self {
        let path = |id: &str| text(m, id).map(PathBuf::from);
        Self {
            cert: text(m, "cert"),
            format: text(m, "format"),
            output_file: path("sealed-secret-file"),
            input_file: path("secret-file"),
            fetch_cert: boolean(m, "fetch-cert"),
            allow_empty_data: boolean(m, "allow-empty-data"),
            version: boolean(m, "version"),
            validate: boolean(m, "validate"),
            merge_into: path("merge-into"),
            raw: boolean(m, "raw"),
            name: text(m, "name"),
            from_file: list(m, "from-file"),
            scope: m.try_get_one::<String>("scope").ok().flatten().cloned(),
            re_encrypt: boolean(m, "re-encrypt") || boolean(m, "rotate"),
            rotate: boolean(m, "rotate"),
            recovery_unseal: boolean(m, "recovery-unseal"),
            recovery_private_keys: list(m, "recovery-private-key")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            cluster: ClusterArgs {
                kubeconfig: path("kubeconfig"),
                context: text(m, "context"),
                namespace: text(m, "namespace"),
                controller_name: text(m, "controller-name")
                    .unwrap_or_else(|| "sealed-secrets-controller".to_owned()),
                controller_namespace: text(m, "controller-namespace")
                    .unwrap_or_else(|| "kube-system".to_owned()),
            },
            overrides: KubeOverrides {
                cluster: text(m, "cluster"),
                user: text(m, "user"),
                server: text(m, "server"),
                tls_server_name: text(m, "tls-server-name"),
                certificate_authority: path("certificate-authority"),
                insecure_skip_tls_verify: boolean(m, "insecure-skip-tls-verify"),
                proxy_url: text(m, "proxy-url"),
                disable_compression: boolean(m, "disable-compression"),
                client_certificate: text(m, "client-certificate"),
                client_key: text(m, "client-key"),
                token: text(m, "token").map(SecretString::new),
                impersonate: text(m, "as"),
                impersonate_uid: text(m, "as-uid"),
                impersonate_groups: list(m, "as-group"),
                username: text(m, "username"),
                password: text(m, "password").map(SecretString::new),
                request_timeout: text(m, "request-timeout").filter(|t| t != "0"),
            },
        }
    }

    /// `--scope`, where an empty value means strict, as upstream.
    fn scope(&self) -> Result<Scope> {
        commands::parse_scope(self.scope.as_deref()).map(Option::unwrap_or_default)
    }

    /// The output file: `-w`, else for `--re-encrypt -f FILE` the input file itself.
    fn output_file(&self, mode: Mode) -> Option<PathBuf> {
        match (&self.output_file, mode) {
            (Some(path), _) => Some(path.clone()),
            (None, Mode::ReEncrypt) => self.input_file.clone(),
            (None, _) => None,
        }
    }

    /// The format of objects written to `output_file`: YAML for a `.yaml`/`.yml` name
    /// whatever `-o` says, else `-o` (default JSON).
    fn object_format(&self, output_file: Option<&Path>) -> Result<Format> {
        let yaml_name = output_file
            .and_then(Path::extension)
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if yaml_name {
            return Ok(Format::Yaml);
        }
        parse_format(self.format.as_deref().unwrap_or("json"))
    }

    fn seal_options(&self, cluster: &ClusterArgs) -> Result<SealOptions> {
        // Upstream's strict scope is the "unset" value: it cannot override an annotation.
        let scope = Some(self.scope()?).filter(|scope| *scope != Scope::Strict);
        Ok(SealOptions {
            name: self.name.clone(),
            scope,
            namespace_flag: cluster.namespace.clone(),
            default_namespace: cluster::default_namespace(cluster)?,
            allow_empty_data: self.allow_empty_data,
        })
    }
}

/// `-o`: `json` or `yaml`, in any case.
fn parse_format(text: &str) -> Result<Format> {
    match text.to_ascii_lowercase().as_str() {
        "" | "json" => Ok(Format::Json),
        "yaml" => Ok(Format::Yaml),
        _ => Err(CliError::new(format!("unsupported output format: {text}"))),
    }
}

/// A clap error in the words pflag uses for it.
fn pflag_message(err: &clap::Error) -> String {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(value)) => Some(value.clone()),
        _ => None,
    };
    // clap names the flag as `--cert <PATH|URL>` or `--raw[=<BOOL>]`: keep the flag.
    let flag_name = |shown: String| {
        shown
            .split([' ', '[', '='])
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let fallback = || {
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        first.strip_prefix("error: ").unwrap_or(first).to_owned()
    };
    match err.kind() {
        ErrorKind::UnknownArgument => match context(ContextKind::InvalidArg) {
            Some(arg) if arg.starts_with("--") => format!("unknown flag: {}", flag_name(arg)),
            Some(arg) => {
                let letter = arg.chars().nth(1).unwrap_or('-');
                format!("unknown shorthand flag: '{letter}' in {arg}")
            }
            None => fallback(),
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let Some(arg) = context(ContextKind::InvalidArg).map(flag_name) else {
                return fallback();
            };
            match context(ContextKind::InvalidValue).filter(|v| !v.is_empty()) {
                None => format!("flag needs an argument: {arg}"),
                Some(value) => {
                    let reason = std::error::Error::source(err)
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "invalid value".to_owned());
                    format!("invalid argument {value:?} for \"{arg}\" flag: {reason}")
                }
            }
        }
        _ => fallback(),
    }
}

// ---------------------------------------------------------------------------------------------
// Modes

/// What a kubeseal run does, chosen in upstream's order (first match wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--version`.
    Version,
    /// `--recovery-unseal`: offline, with private keys.
    RecoveryUnseal,
    /// `--validate`, through the controller.
    Validate,
    /// `--re-encrypt`/`--rotate`, through the controller.
    ReEncrypt,
    /// `--fetch-cert`.
    FetchCert,
    /// `--merge-into FILE`.
    MergeInto,
    /// `--raw`.
    Raw,
    /// Seal every input Secret.
    Seal,
}

/// Chooses the mode.
///
/// # Errors
/// `--from-file requires --raw`.
pub fn mode(flags: &Flags) -> Result<Mode> {
    if !flags.from_file.is_empty() && !flags.raw {
        return Err(CliError::new("--from-file requires --raw"));
    }
    Ok(if flags.version {
        Mode::Version
    } else if flags.recovery_unseal {
        Mode::RecoveryUnseal
    } else if flags.validate {
        Mode::Validate
    } else if flags.re_encrypt {
        Mode::ReEncrypt
    } else if flags.fetch_cert {
        Mode::FetchCert
    } else if flags.merge_into.is_some() {
        Mode::MergeInto
    } else if flags.raw {
        Mode::Raw
    } else {
        Mode::Seal
    })
}

/// Where the input comes from: `-f FILE` (read at once, as upstream opens it first) or stdin
/// (read when a mode needs it, with the terminal note).
enum Source {
    File(Input),
    Stdin,
}

impl Source {
    fn open(path: Option<&Path>) -> Result<Self> {
        match path {
            Some(path) => io::read_file_text(path).map(Self::File).map_err(|e| {
                CliError::new(format!(
                    "Could not read file specified with --secret-file: {}",
                    e.message()
                ))
            }),
            None => Ok(Self::Stdin),
        }
    }

    fn read(self) -> Result<Input> {
        match self {
            Self::File(input) => Ok(input),
            Self::Stdin => io::read_stdin(),
        }
    }
}

fn dispatch(flags: &Flags) -> Result<()> {
    if flags.rotate {
        eprintln!("Flag --rotate has been deprecated, use --re-encrypt instead");
    }
    let mode = mode(flags)?;
    if mode == Mode::Version {
        return io::write_stdout(format!("kubeseal version: {VERSION}\n").as_bytes());
    }
    let scope = flags.scope()?;
    let input = Source::open(flags.input_file.as_deref())?;
    let output_file = flags.output_file(mode);
    let out = output_file.as_deref();
    let cluster = &flags.cluster;
    if mode != Mode::RecoveryUnseal
        && !flags.recovery_private_keys.is_empty()
        && std::io::stderr().is_terminal()
    {
        eprintln!(
            "warning: --recovery-private-key is only used with --recovery-unseal; ignoring it"
        );
    }
    match mode {
        Mode::RecoveryUnseal => {
            let ring = commands::load_keys(&flags.recovery_private_keys)?;
            // kubeseal never accepts the deprecated v1 format offline.
            let secrets = commands::unseal_inputs(vec![input.read()?], &ring, false)?;
            commands::emit_objects(&secrets, flags.object_format(out)?, out)
        }
        Mode::Validate => {
            let all = commands::parse_sealed(vec![input.read()?]).map_err(|e| {
                CliError::new(format!("unable to decrypt sealed secret: {}", e.message()))
            })?;
            commands::validate_sealed(&all, cluster, &flags.overrides, false)
        }
        Mode::ReEncrypt => {
            let all = commands::parse_sealed(vec![input.read()?])?;
            let rotated = commands::reencrypt_sealed(&all, cluster, &flags.overrides)?;
            commands::emit_objects(&rotated, flags.object_format(out)?, out)
        }
        Mode::Version | Mode::FetchCert | Mode::MergeInto | Mode::Raw | Mode::Seal => {
            let loaded = certsrc::load(
                &CertSourceArgs {
                    cert: flags.cert.clone(),
                    no_cert_cache: false,
                },
                cluster,
                &flags.overrides,
            )?;
            if mode == Mode::FetchCert {
                return crate::io::emit(out, &loaded.pem);
            }
            certsrc::check_usable(&loaded)?;
            seal_with(flags, mode, scope, input, out, loaded)
        }
    }
}

/// The sealing modes (`--merge-into`, `--raw`, or every input Secret), once the certificate is
/// loaded and checked.
fn seal_with(
    flags: &Flags,
    mode: Mode,
    scope: Scope,
    input: Source,
    out: Option<&Path>,
    loaded: LoadedCert,
) -> Result<()> {
    let cluster = &flags.cluster;
    match (mode, &flags.merge_into) {
        (Mode::MergeInto, Some(target)) => {
            if out.is_some() {
                eprintln!("warning: -w is not used with --merge-into, which rewrites its own file");
            }
            let secrets = commands::parse_secrets(vec![input.read()?])?;
            // Upstream rewrites the file as JSON unless -o says otherwise; the file's own
            // format is kept instead, so that a YAML file stays YAML.
            let format = flags.format.as_deref().map(parse_format).transpose()?;
            commands::merge_sealed(
                target,
                secrets,
                flags.seal_options(cluster)?,
                format,
                None,
                || Ok(Recipients::rsa(loaded.cert.public_key())),
            )
        }
        (Mode::Raw, _) => {
            let namespace = match scope {
                Scope::ClusterWide => String::new(),
                // Unlike a Secret, a raw value carries no namespace to check later: never
                // guess `default` when there is neither -n nor a kubeconfig.
                _ => cluster::configured_namespace(cluster)?.unwrap_or_default(),
            };
            let name = flags.name.as_deref().unwrap_or_default();
            let sealed =
                commands::seal_raw_item(scope, &namespace, name, &flags.from_file, || {
                    Ok(Recipients::rsa(loaded.cert.public_key()))
                })?;
            crate::io::emit(out, sealed.as_bytes())
        }
        _ => {
            let secrets = commands::parse_secrets(vec![input.read()?])?;
            let sealed = commands::seal_all(secrets, &loaded.cert, &flags.seal_options(cluster)?)?;
            commands::emit_objects(&sealed, flags.object_format(out)?, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

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
            assert!(
                err.starts_with("cannot get sealed secret service: "),
                "{mode}: {err}"
            );
        }
        assert_eq!(
            before,
            read("sealed.json"),
            "a failed --re-encrypt leaves its file alone"
        );
    }
}
