//! kubeseal's flags with Go pflag's conventions, their `SEALED_SECRETS_*` environment
//! variables, and pflag's words for flag errors.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::builder::ValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use sealant_core::sealing::SealOptions;
use sealant_core::{Format, Scope, SecretString};

use super::{ENV_PREFIX, KubesealError, Mode};
use crate::args::ClusterArgs;
use crate::cluster::{self, KubeOverrides};
use crate::error::Result;
/// How a flag takes its value, after pflag's flag types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct FlagSpec {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
    value_name: &'static str,
    default: Option<&'static str>,
    help: &'static str,
}

pub(super) const fn flag(
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
pub(super) const KUBESEAL_FLAGS: &[FlagSpec] = &[
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
pub(super) const KUBE_FLAGS: &[FlagSpec] = &[
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
pub(super) const KLOG_FLAGS: &[FlagSpec] = &[
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
pub(super) const NO_ENV: &[&str] = &["version"];

pub(super) const ABOUT: &str =
    "kubeseal (sealant): seal Kubernetes Secrets for GitOps, with upstream kubeseal's flags.";

pub(super) const AFTER_HELP: &str = "\
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
        .mut_arg("scope", |arg| {
            arg.value_parser(crate::args::ScopeNames(scope_name))
        })
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
pub(super) fn go_bool(text: &str) -> std::result::Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {text:?}: invalid syntax"
        )),
    }
}

/// `--scope`'s values, checked while parsing (a bad scope is a flag error, as upstream).
pub(super) fn scope_name(text: &str) -> std::result::Result<String, String> {
    if text == crate::seal::SCOPE_NAMESPACE_SELECTOR {
        return Err("the namespace-selector scope is a sealant extension that upstream controllers cannot open: kubeseal mode does not seal for it (use `sealant seal --scope namespace-selector --namespace-selector SELECTOR`)".to_owned());
    }
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

pub(super) fn text(matches: &ArgMatches, id: &str) -> Option<String> {
    matches
        .try_get_one::<String>(id)
        .ok()
        .flatten()
        .filter(|value| !value.is_empty())
        .cloned()
}

pub(super) fn boolean(matches: &ArgMatches, id: &str) -> bool {
    matches
        .try_get_one::<bool>(id)
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
}

pub(super) fn list(matches: &ArgMatches, id: &str) -> Vec<String> {
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
    pub(super) fn scope(&self) -> Result<Scope> {
        crate::seal::parse_scope(self.scope.as_deref()).map(Option::unwrap_or_default)
    }

    /// The output file: `-w`, else for `--re-encrypt -f FILE` the input file itself.
    pub(super) fn output_file(&self, mode: Mode) -> Option<PathBuf> {
        match (&self.output_file, mode) {
            (Some(path), _) => Some(path.clone()),
            (None, Mode::ReEncrypt) => self.input_file.clone(),
            (None, _) => None,
        }
    }

    /// The format of objects written to `output_file`: YAML for a `.yaml`/`.yml` name
    /// whatever `-o` says, else `-o` (default JSON).
    pub(super) fn object_format(&self, output_file: Option<&Path>) -> Result<Format> {
        let yaml_name = output_file
            .and_then(Path::extension)
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if yaml_name {
            return Ok(Format::Yaml);
        }
        parse_format(self.format.as_deref().unwrap_or("json"))
    }

    pub(super) fn seal_options(&self, cluster: &ClusterArgs) -> Result<SealOptions> {
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
pub(super) fn parse_format(text: &str) -> Result<Format> {
    match text.to_ascii_lowercase().as_str() {
        "" | "json" => Ok(Format::Json),
        "yaml" => Ok(Format::Yaml),
        _ => Err(KubesealError::OutputFormat(text.to_owned()).into()),
    }
}

/// A clap error in the words pflag uses for it.
pub(super) fn pflag_message(err: &clap::Error) -> String {
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
