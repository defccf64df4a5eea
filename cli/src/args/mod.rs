//! The command line, as clap types. Man page and completions are generated from these.
#![allow(missing_docs)] // flattened flag groups carry no help text of their own

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod keys;
pub use keys::*;

const EXAMPLES: &str = "\
Examples:
  # Seal a Secret file with the controller's certificate fetched from the cluster
  sealant seal -f secret.yaml -w sealed.yaml

  # Build and seal a Secret without writing it to disk first
  sealant seal db-creds -n prod --from-literal user=app --from-file password=./pw.txt

  # Seal offline against a saved certificate
  sealant cert > cert.pem && sealant seal -f secret.yaml --cert cert.pem

  # Seal once for two clusters: a saved certificate and an age recipient
  sealant seal -f secret.yaml --cert prod-eu.pem --recipient age1... -w sealed.yaml

  # Add or change one item of an existing SealedSecret file
  sealant seal db-creds -n prod --from-literal password=new --merge-into sealed.yaml

  # Recover Secrets with a backup of the controller's keys
  sealant unseal -f sealed.yaml --recovery-private-key keys-backup.yaml

  # Back up every key of the controller, encrypted to an offline age recipient
  sealant keys backup --recipient age1... -w keys.age

  # Rotate: a new key now, re-encrypt the repository, retire the old key once nothing needs it
  sealant keys rotate && sealant reencrypt manifests/ && sealant keys list
  sealant keys retire SHA256:old...

  # Before a commit: no plain Secret anywhere, no broken SealedSecret
  sealant lint .

  # Review a change without keys: items added, removed or re-sealed
  sealant diff --git HEAD

Exit codes: 0 success, 1 failure, 2 usage error. lint and diff: 0 clean, 1 findings or
differences, 2 error. keys retire: 2 when it refuses (something may still need the key).";

/// Seal Kubernetes Secrets for GitOps: encrypt them to a cluster's key so that the result can be
/// committed to git. Compatible with Bitnami Sealed Secrets.
#[derive(Debug, Parser)]
#[command(name = "sealant", version, about, after_long_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seal Secrets (from files, stdin, or built from literals) into SealedSecrets.
    Seal(Box<SealArgs>),
    /// Recover Secrets from SealedSecrets offline, with the controller's private keys.
    Unseal(UnsealArgs),
    /// Print or save the controller's certificate (and age recipient), with fingerprint, key
    /// size and expiry.
    Cert(CertArgs),
    /// The controller's keys: list, rotate, retire, mark compromised, back up, restore.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Ask the controller whether SealedSecrets can be unsealed.
    Validate(ValidateArgs),
    /// Re-encrypt SealedSecrets to the controller's newest key.
    Reencrypt(ReencryptArgs),
    /// Find plain Secrets and broken SealedSecrets in files and directories (pre-commit, CI).
    Lint(LintArgs),
    /// Show what a SealedSecret holds, without any key: scope, items, sizes, key sizes, key hint.
    Inspect(InspectArgs),
    /// Compare SealedSecrets: items added, removed or re-sealed, scope and metadata changes.
    Diff(Box<DiffArgs>),
    /// Generate SealedSecrets during a kustomize build (exec plugin or KRM function).
    Kustomize(KustomizeArgs),
    /// Serve a page on 127.0.0.1 to seal in a browser; the values never leave the browser.
    Web(WebArgs),
    /// Print a shell completion script (with --kubeseal: for a `kubeseal` link).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        /// Complete kubeseal's flags for the name `kubeseal` (a link to sealant).
        #[arg(long)]
        kubeseal: bool,
    },
    /// Print the man page (roff), or write every page to a directory.
    #[command(hide = true)]
    Man {
        /// Write `sealant.1` and one page per subcommand (`sealant-seal.1`, …) here.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Run with upstream kubeseal's flags and behaviour (also chosen when invoked as `kubeseal`).
    #[command(disable_help_flag = true)]
    Kubeseal {
        /// kubeseal's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<std::ffi::OsString>,
    },
}

/// The names `--scope` takes, for completion and help (parsing checks them: `Scope::from_str`).
pub const SCOPE_NAMES: [&str; 3] = ["strict", "namespace-wide", "cluster-wide"];

/// A value parser that offers [`SCOPE_NAMES`] to shell completion and help, and leaves the
/// checking to the parser it wraps, so that a bad name keeps its own message and hint.
#[derive(Clone)]
pub struct ScopeNames<P>(pub P);

impl<P: clap::builder::TypedValueParser> clap::builder::TypedValueParser for ScopeNames<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            SCOPE_NAMES
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

/// Output encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// YAML documents, each starting with `---`.
    Yaml,
    /// Pretty-printed JSON objects.
    Json,
}

impl From<OutputFormat> for sealant_core::Format {
    fn from(format: OutputFormat) -> Self {
        match format {
            OutputFormat::Yaml => sealant_core::Format::Yaml,
            OutputFormat::Json => sealant_core::Format::Json,
        }
    }
}

/// Report encodings of lint, inspect and diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Lines for people.
    Text,
    /// One JSON document for programs (schema in docs/workflow.md).
    Json,
    /// The JSON document as YAML.
    Yaml,
}

/// Where the cluster is and where its controller runs.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The Secret's namespace: set only by the commands that take `-n` (`seal`, kubeseal
    /// mode), so that no other command accepts a `-n` it would ignore.
    #[arg(skip)]
    pub namespace: Option<String>,
    /// Name of the controller's Service.
    #[arg(
        long,
        global = true,
        env = "SEALED_SECRETS_CONTROLLER_NAME",
        default_value = "sealed-secrets-controller",
        value_name = "NAME"
    )]
    pub controller_name: String,
    /// Namespace of the controller's Service.
    #[arg(
        long,
        global = true,
        env = "SEALED_SECRETS_CONTROLLER_NAMESPACE",
        default_value = "kube-system",
        value_name = "NAMESPACE"
    )]
    pub controller_namespace: String,
}

/// Where the sealing certificate comes from.
#[derive(Debug, Clone, Args)]
pub struct CertSourceArgs {
    /// Certificate to seal with: a file, an http(s):// or file:// URL. Without it, the
    /// certificate is fetched from the controller through the Kubernetes API.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "PATH|URL")]
    pub cert: Option<String>,
    /// Never use or update the per-context certificate cache.
    #[arg(long)]
    pub no_cert_cache: bool,
}

/// Output destination and encoding.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Write to this file instead of stdout: atomically, mode 0600, only on success.
    /// A `.json` name selects JSON and `.yaml`/`.yml` YAML unless -o says otherwise.
    #[arg(
        short = 'w',
        long = "output-file",
        visible_alias = "sealed-secret-file",
        value_name = "FILE"
    )]
    pub output_file: Option<PathBuf>,
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        visible_alias = "format",
        value_enum,
        value_name = "FORMAT"
    )]
    pub output: Option<OutputFormat>,
}

/// How several recipients share one SealedSecret (see docs/format.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// Every value is the classic RSA item for the first --cert (upstream controllers holding
    /// that key unseal it); all other recipients share one age item per value in the
    /// `sealant.dev/age-items` annotation.
    Compatible,
    /// Every value is one age item for all recipients: smaller, sealant controllers only.
    Combined,
}

impl From<LayoutArg> for sealant_core::sealing::Layout {
    fn from(layout: LayoutArg) -> Self {
        match layout {
            LayoutArg::Compatible => sealant_core::sealing::Layout::Compatible,
            LayoutArg::Combined => sealant_core::sealing::Layout::Combined,
        }
    }
}

/// Whom `sealant seal` seals for.
#[derive(Debug, Clone, Args)]
pub struct SealRecipientArgs {
    /// Certificate to seal for: a file, an http(s):// or file:// URL. Repeatable: one
    /// SealedSecret that each cluster can unseal. Without --cert, --recipient or
    /// --recipients-file, the certificate is fetched from the controller.
    #[arg(long, env = "SEALED_SECRETS_CERT", value_name = "PATH|URL")]
    pub cert: Vec<String>,
    /// age recipient to seal for (`age1…`, or post-quantum `age1pq1…`), e.g. a cluster's from
    /// `sealant cert --age`. Repeatable. With recipients, the controller is not asked for its
    /// certificate: name every cluster (--cert FILE for RSA ones).
    #[arg(long, value_name = "AGE_RECIPIENT")]
    pub recipient: Vec<String>,
    /// File of age recipients, one per line (`#` comments), as `age -R` reads it. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,
    /// How several recipients share the SealedSecret (only matters with more than one).
    #[arg(long, value_enum, default_value = "compatible", value_name = "LAYOUT")]
    pub layout: LayoutArg,
    /// Never use or update the per-context certificate cache.
    #[arg(long)]
    pub no_cert_cache: bool,
}

/// `sealant seal`.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// Name of a Secret to build from --from-literal/--from-file/--from-env-file.
    pub name: Option<String>,
    /// Secret file(s) to seal (YAML or JSON, several documents allowed); `-` is stdin.
    #[arg(
        short = 'f',
        long = "file",
        visible_alias = "secret-file",
        value_name = "FILE"
    )]
    pub files: Vec<PathBuf>,
    /// Scope: strict (name and namespace), namespace-wide, cluster-wide, or namespace-selector
    /// (sealant only). Default: the input's scope annotations, else strict.
    #[arg(long, value_name = "SCOPE", value_parser = ScopeNames(clap::builder::StringValueParser::new()))]
    pub scope: Option<String>,
    /// Bind the items to the namespaces this label selector matches (kubectl syntax, e.g.
    /// 'team=payments,env in (prod)'): the namespace-selector scope, which only sealant
    /// controllers open (docs/multi-tenancy.md).
    #[arg(long, value_name = "SELECTOR")]
    pub namespace_selector: Option<String>,
    /// Seal a Secret with no data instead of refusing it.
    #[arg(long)]
    pub allow_empty_data: bool,
    /// Add an item: KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub from_literal: Vec<String>,
    /// Add an item from a file: [KEY=]PATH; a directory adds each file in it (repeatable).
    #[arg(long, value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,
    /// Add items from an env file of KEY=VALUE lines (repeatable).
    #[arg(long, value_name = "PATH")]
    pub from_env_file: Vec<PathBuf>,
    /// Type of the Secret built from literals.
    #[arg(long = "type", value_name = "TYPE", default_value = "Opaque")]
    pub secret_type: String,
    /// Seal one raw value (from stdin, or the single --from-file) and print its base64 alone.
    #[arg(long)]
    pub raw: bool,
    /// Secret name: the name for --raw, or a replacement for the input's name.
    #[arg(long = "name", value_name = "NAME")]
    pub name_override: Option<String>,
    /// Namespace of the Secret (default: the context's namespace, else `default`).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Merge the sealed items into this SealedSecret file, in place (its format is kept).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["raw", "output_file"])]
    pub merge_into: Option<PathBuf>,
    /// With --merge-into: private keys that open the file's items here, offline. An item whose
    /// value did not change keeps its ciphertext byte for byte, so GitOps tools see no change.
    /// PEM files, key Secrets or a List; repeatable or comma-separated.
    #[arg(
        long,
        value_name = "FILE",
        value_delimiter = ',',
        requires = "merge_into"
    )]
    pub recovery_private_key: Vec<PathBuf>,
    #[command(flatten)]
    pub recipients: SealRecipientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant unseal`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("backup_keys").args(["recovery_identity", "share"]).multiple(true)))]
pub struct UnsealArgs {
    /// SealedSecret file(s) to unseal; `-` is stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Private keys: PEM files, key Secrets (RSA or age; YAML/JSON) or a List of them, or age
    /// identity files. Repeatable, or comma-separated.
    #[arg(
        long,
        value_name = "FILE",
        value_delimiter = ',',
        required_unless_present_any = ["recovery_identity", "share"]
    )]
    pub recovery_private_key: Vec<PathBuf>,
    /// age identity file (`age-keygen` output, or age plugin identities). Its keys unseal age
    /// items sealed to them, and open the encrypted key backups given with --backup (or their
    /// shares). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub recovery_identity: Vec<PathBuf>,
    /// An encrypted key backup (`sealant keys backup`), opened with --recovery-identity (or,
    /// for an m-of-n backup, with --share files), whose keys unseal directly. Repeatable.
    #[arg(long, value_name = "FILE", requires = "backup_keys")]
    pub backup: Vec<PathBuf>,
    /// A share of an m-of-n --backup (`sealant keys share-decrypt` output, plain or
    /// age-encrypted to a --recovery-identity). Repeatable; docs/recovery.md.
    #[arg(long, value_name = "FILE", requires = "backup")]
    pub share: Vec<PathBuf>,
    /// Accept the deprecated v1 `spec.data` format.
    #[arg(long)]
    pub accept_deprecated_v1_data: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `sealant cert`.
#[derive(Debug, Args)]
pub struct CertArgs {
    #[command(flatten)]
    pub cert: CertSourceArgs,
    /// Print (or save) the controller's age recipient instead of the certificate; an error if
    /// the controller publishes none (upstream controllers, or `--age-keys=false`).
    #[arg(long)]
    pub age: bool,
    /// Save the PEM (or, with --age, the recipient) to this file instead of printing it.
    #[arg(short = 'w', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant web`.
#[derive(Debug, Args)]
pub struct WebArgs {
    #[command(flatten)]
    pub cert: CertSourceArgs,
    /// Port on 127.0.0.1 to serve the page on (default: a free one, printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// SealedSecret file(s); `-` is stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant reencrypt`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
With PATHs, every SealedSecret in those files, documents and items of List documents \
(directories are walked for *.yaml, *.yml and *.json, skipping hidden entries, target and \
node_modules), is re-encrypted to the \
newest key and only its ciphertexts and sealant.dev/key-hint annotation are rewritten in \
place: other documents, comments, key order and formatting stay. With -f (or stdin) the \
re-encrypted objects are printed instead, as before.

Offline, --private-key opens the items and --cert is the newest certificate; otherwise the \
controller re-encrypts (/v1/rotate) and its certificate is the newest. A SealedSecret is \
stale when its key hint names another certificate than the newest; without a hint, offline it \
is stale unless the newest key opens every item, online it is always stale. --check --cert NEW \
needs no private key: it decides from the key hints alone (no hint: stale).

Exit codes: 0 done (--check: nothing stale), 1 --check found stale SealedSecrets, 2 errors \
(bad flags or paths, no SealedSecret found, one that cannot be re-encrypted). Runbook: \
docs/rotation.md.")]
pub struct ReencryptArgs {
    /// Files and directories whose SealedSecrets are re-encrypted in place.
    #[arg(value_name = "PATH", conflicts_with_all = ["files", "output_file", "output"])]
    pub paths: Vec<PathBuf>,
    /// SealedSecret file(s) to re-encrypt to stdout (or -w); `-` is stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Offline: the old private keys (PEM files, key Secrets in YAML/JSON or a List of them).
    /// Repeatable, or comma-separated. Needs --cert.
    #[arg(long, value_name = "FILE", value_delimiter = ',', requires = "cert")]
    pub private_key: Vec<PathBuf>,
    /// Offline: the newest certificate (a file, an http(s):// or file:// URL) to re-encrypt to.
    #[arg(long, value_name = "PATH|URL")]
    pub cert: Option<String>,
    /// Report what would be re-encrypted (and that it can be), write nothing.
    #[arg(long, requires = "paths", conflicts_with = "check")]
    pub dry_run: bool,
    /// Exit 1 if any SealedSecret is sealed to a key other than the newest; write nothing.
    #[arg(long, requires = "paths")]
    pub check: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant lint`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Checks: plain Secrets with data (plain-secret), kustomize secretGenerator entries \
(secret-generator), SealedSecretGenerator literals (generator-literals), and SealedSecrets: \
invalid base64, items too short for their key size, unknown item formats, scope annotations \
that disagree between top level and template, a name or namespace that no longer matches the \
one the items are bound to, and with --cert a key hint naming an unknown or expired \
certificate. Documents annotated sealant.dev/lint: ignore are skipped.

Exit codes: 0 no error (warnings allowed unless --deny-warnings), 1 findings, 2 the check \
could not run (unreadable path or certificate, bad flags).")]
pub struct LintArgs {
    /// Files and directories to check (`-` is stdin, e.g. a kustomize build). Directories are
    /// walked for *.yaml, *.yml, *.json and Kustomization files, skipping hidden entries.
    /// Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Skip paths matching this glob (`*`, `?`, `**`), matched against the path and each of
    /// its trailing parts (`fixtures/**`, `*.example.yaml`). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The controller's certificates, current and past (PEM files; repeatable). A key hint
    /// naming none of them is an error, one naming an expired one a warning.
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Report format.
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: ReportFormat,
}

/// `sealant inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// SealedSecret files (YAML or JSON, several documents allowed; other kinds are skipped);
    /// `-` or none is stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Certificates to match the key hint against (PEM files; repeatable).
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
    /// Print a stable text for `git diff` (a git textconv filter): each SealedSecret as YAML
    /// with every item replaced by its format, size and digest; anything else as it is.
    #[arg(long, conflicts_with_all = ["output", "cert"])]
    pub textconv: bool,
    /// Report format.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ReportFormat>,
}

/// `sealant diff`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Items are matched by name within SealedSecrets matched by namespace and name. Without keys an \
item is added, removed, re-sealed (its ciphertext changed) or unchanged; a changed plaintext \
length shows that its value changed. With --recovery-private-key the values are compared \
here, offline, and shown masked (changed or unchanged, lengths) unless --show-values.

Exit codes: 0 no difference, 1 differences, 2 the comparison could not run.")]
pub struct DiffArgs {
    /// OLD and NEW files. With --git: working-tree files to compare with REV (default: every
    /// file changed since REV that holds a SealedSecret on either side).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Compare working-tree files with their version at this git revision.
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Private keys to compare values with, offline: PEM files, key Secrets or a List.
    /// Repeatable or comma-separated.
    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    pub recovery_private_key: Vec<PathBuf>,
    /// Print changed values in clear text (needs --recovery-private-key). Not for CI logs.
    #[arg(long, requires = "recovery_private_key")]
    pub show_values: bool,
    /// Certificates to match key hints against (PEM files; repeatable).
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
    /// Report format.
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub output: ReportFormat,
}

/// `sealant kustomize`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
As a kustomize exec plugin: link the binary as \
$KUSTOMIZE_PLUGIN_HOME/sealant.dev/v1alpha1/sealedsecretgenerator/SealedSecretGenerator and \
run `kustomize build --enable-alpha-plugins` (or `kubectl kustomize`). As a KRM exec function \
(`kustomize build --enable-alpha-plugins --enable-exec`): point the config's \
config.kubernetes.io/function `exec.path` at a link named sealant-kustomize. Configuration and \
examples: docs/workflow.md.")]
pub struct KustomizeArgs {
    /// A SealedSecretGenerator config file (exec plugin protocol: the SealedSecret is printed).
    /// Without it, a KRM ResourceList is read from stdin and written to stdout with the
    /// generated SealedSecret added (KRM function protocol).
    #[arg(value_name = "CONFIG")]
    pub config: Option<PathBuf>,
}
