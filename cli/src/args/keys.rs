//! `sealant keys …`: the key commands' arguments (inventory, states, backups, protection).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use sealant_core::TenantName;
use sealant_core::tenant::TENANT_LABEL;

use super::*;

/// Parses `--tenant`: a tenant name (an RFC 1123 label), with an error and a hint when it is
/// not one.
#[derive(Clone)]
pub struct TenantNameParser;

impl clap::builder::TypedValueParser for TenantNameParser {
    type Value = TenantName;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let flag = arg.map_or_else(|| "--tenant".to_owned(), ToString::to_string);
        let parsed = value
            .to_str()
            .ok_or_else(|| "tenant name is not UTF-8".to_owned())
            .and_then(|text| TenantName::parse(text).map_err(|e| e.to_string()));
        parsed.map_err(|message| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "invalid value for '{flag}': {message}\nhint: {}\n",
                    tenant_hint()
                ),
            )
            .with_cmd(cmd)
        })
    }
}

/// Where tenant names come from.
pub fn tenant_hint() -> String {
    format!(
        "a tenant is the value of the {TENANT_LABEL} label of its namespaces (`kubectl get namespaces -L {TENANT_LABEL}`); `sealant keys list --all-tenants` lists every tenant's keys"
    )
}

/// Whose keys a key command acts on (docs/multi-tenancy.md, "Tenant keys").
#[derive(Debug, Clone, Default, Args)]
pub struct TenantArgs {
    /// Act on this tenant's keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of
    /// the cluster's.
    #[arg(long, value_name = "TENANT", value_parser = TenantNameParser)]
    pub tenant: Option<TenantName>,
}

impl TenantArgs {
    /// The owner named: the tenant, else the cluster.
    pub fn owner(&self) -> sealant_core::KeyOwner {
        self.tenant.clone().map_or(
            sealant_core::KeyOwner::Cluster,
            sealant_core::KeyOwner::Tenant,
        )
    }
}

/// `sealant keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write every key of a controller (RSA and age key Secrets) as one age file encrypted to
    /// offline age recipients. `age -d -i IDENTITY FILE` decrypts it without sealant.
    Backup(Box<KeysBackupArgs>),
    /// Decrypt a key backup and create its key Secrets in the controller namespace (--apply),
    /// or print them as YAML.
    Restore(KeysRestoreArgs),
    /// Open your share of an m-of-n key backup with your identity, and write it for the
    /// person who restores (plain, or encrypted to their age recipient).
    ShareDecrypt(KeysShareDecryptArgs),
    /// List the controller's keys (RSA and age, every state) and how many SealedSecrets in the
    /// cluster still need each one.
    List(KeysListArgs),
    /// Ask the controller for a new sealing key now, and wait for it.
    Rotate(KeysRotateArgs),
    /// Take a key out of service: it no longer seals nor unseals. Refused while anything in
    /// the cluster may still need it, unless --force.
    Retire(KeysRetireArgs),
    /// Mark a key as exposed: it never seals again, but still unseals until everything sealed
    /// to it is re-encrypted; objects that need it get a KeyCompromised condition.
    Compromise(KeysStateArgs),
    /// Put a retired or compromised key back into service (active). A compromised key that
    /// would become the sealing key needs --force.
    Reactivate(KeysReactivateArgs),
    /// Wrap the controller's RSA keys in place under a key-encryption key in an HSM (PKCS#11)
    /// or AWS KMS: the key Secrets then hold no plaintext private key. Needs a backup first.
    Protect(KeysProtectArgs),
    /// Turn protected keys back into upstream's plaintext key Secrets (to switch key
    /// protection off, or back to upstream).
    Unprotect(KeysUnprotectArgs),
}

/// Encodings of `sealant keys list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeysListFormat {
    /// A table for people.
    Table,
    /// One JSON document for programs (schema in docs/rotation.md).
    Json,
}

const KEYS_STATES_HELP: &str = "\
Key states are the value of the key Secret's label (sealedsecrets.bitnami.com/sealed-secrets-key \
for RSA keys, sealant.dev/age-key for age keys): active (unseals; the newest seals), compromised \
(unseals, never seals), retired (neither). FINGERPRINT is the full SHA256:… of `sealant keys \
list` or an unambiguous prefix of at least 8 characters after SHA256:. Runbook: docs/rotation.md.";

/// `sealant keys list`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Reads the key Secrets in --controller-namespace and every SealedSecret in the cluster (their \
status.keyFingerprints, which the controller records at each unseal). A key with 0 \
SealedSecrets and no SealedSecret without inventory can be retired. The sealing key (the newest \
active one) is marked with *. Private key material is never printed. Without --tenant or \
--all-tenants, the cluster's keys are listed (key Secrets without the sealant.dev/tenant \
label); each tenant has its own sealing key.")]
pub struct KeysListArgs {
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value = "table",
        value_name = "FORMAT"
    )]
    pub output: KeysListFormat,
    /// List this tenant's keys (key Secrets labelled sealant.dev/tenant=TENANT) instead of the
    /// cluster's.
    #[arg(long, value_name = "TENANT", value_parser = TenantNameParser)]
    pub tenant: Option<TenantName>,
    /// List every key, the cluster's and every tenant's, with a TENANT column.
    #[arg(long, conflicts_with = "tenant")]
    pub all_tenants: bool,
    #[command(flatten)]
    pub scope: InventoryScopeArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Which SealedSecrets the key inventory counts.
#[derive(Debug, Clone, Args)]
pub struct InventoryScopeArgs {
    /// Count only the SealedSecrets of these namespaces (repeatable or comma-separated): for a
    /// controller that watches only some (`--all-namespaces=false`, `--additional-namespaces`),
    /// when other controllers' SealedSecrets share the cluster. Default: every namespace.
    #[arg(long, value_name = "NAMESPACE", value_delimiter = ',')]
    pub sealed_secrets_namespace: Vec<String>,
}

/// `sealant keys rotate`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Puts the sealant.dev/renew-requested annotation on the newest active RSA key Secret; the \
controller's leader generates a new key when it next reads its keys, as it does every renewal \
period. The new key's fingerprint is printed on stdout. Then re-encrypt the repository \
(`sealant reencrypt PATH…`). Runbook: docs/rotation.md.")]
pub struct KeysRotateArgs {
    /// How long to wait for the new key (`30s`, `2m`); `0` asks without waiting.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub wait: String,
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys retire`.
#[derive(Debug, Args)]
#[command(after_long_help = KEYS_STATES_HELP)]
pub struct KeysRetireArgs {
    /// The key's fingerprint (or a prefix of it).
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Retire it even though SealedSecrets still need it, have no inventory yet, or it is the
    /// sealing key. SealedSecrets that need it can no longer be unsealed.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub scope: InventoryScopeArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys compromise`.
#[derive(Debug, Args)]
#[command(after_long_help = KEYS_STATES_HELP)]
pub struct KeysStateArgs {
    /// The key's fingerprint (or a prefix of it).
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub scope: InventoryScopeArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys reactivate`.
#[derive(Debug, Args)]
#[command(after_long_help = KEYS_STATES_HELP)]
pub struct KeysReactivateArgs {
    /// The key's fingerprint (or a prefix of it).
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Reactivate a compromised key even though it becomes the key the controller seals with:
    /// whoever holds a copy of it could open what is sealed from then on.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub tenant: TenantArgs,
    #[command(flatten)]
    pub scope: InventoryScopeArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Encodings of `sealant keys backup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupFormat {
    /// Binary age.
    Binary,
    /// ASCII-armored age, safe to paste.
    Armor,
}

/// `sealant keys backup`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Reads the key Secrets (labels sealedsecrets.bitnami.com/sealed-secrets-key and \
sealant.dev/age-key, any state; the cluster's and every tenant's unless --tenant) in \
--controller-namespace, or from -f files offline. Keep the identity of the backup recipient \
offline: whoever holds it and the backup can unseal every SealedSecret of the cluster. Runbook: docs/multi-cluster.md.")]
pub struct KeysBackupArgs {
    /// Backup recipient (`age1…`, post-quantum `age1pq1…`, or an age plugin's `age1NAME1…`).
    /// Repeatable. With --threshold, each one holds a share of its own.
    #[arg(
        long,
        value_name = "AGE_RECIPIENT",
        required_unless_present_any = ["recipients_file", "group"]
    )]
    pub recipient: Vec<String>,
    /// File of backup recipients, one per line. Repeatable. With --threshold, each line holds
    /// a share of its own.
    #[arg(long, value_name = "FILE")]
    pub recipients_file: Vec<PathBuf>,
    /// Write an m-of-n backup: any M holders (each --recipient, recipients-file line and
    /// --group) restore it together, fewer learn nothing. docs/recovery.md.
    #[arg(long, value_name = "M", conflicts_with_all = ["output", "armor"])]
    pub threshold: Option<usize>,
    /// With --threshold: one holder made of several recipients, any of whom opens its share:
    /// `[LABEL=]RECIPIENT[,RECIPIENT…]` (LABEL names the share in the file). Repeatable.
    #[arg(long, value_name = "[LABEL=]RECIPIENTS", requires = "threshold")]
    pub group: Vec<String>,
    /// Back up key Secrets from these files (YAML/JSON, a List or a stream; `-` is stdin)
    /// instead of reading them from the cluster.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Back up only this tenant's keys (key Secrets labelled sealant.dev/tenant=TENANT).
    /// Default: every key, the cluster's and every tenant's.
    #[arg(long, value_name = "TENANT", value_parser = TenantNameParser)]
    pub tenant: Option<TenantName>,
    /// Write the backup to this file (atomically, mode 0600) instead of stdout.
    #[arg(short = 'w', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Output format: binary age, or ASCII-armored (`-----BEGIN AGE ENCRYPTED FILE-----`).
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<BackupFormat>,
    /// Same as `-o armor`.
    #[arg(long, conflicts_with = "output")]
    pub armor: bool,
    /// For protected keys: the HSM or KMS that unwraps them (the backup holds them unwrapped,
    /// restorable without it).
    #[command(flatten)]
    pub provider: KeyProviderArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys restore`.
#[derive(Debug, Args)]
pub struct KeysRestoreArgs {
    /// The backup file (binary or armored); `-` is stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// age identity file that opens the backup, or its shares (age plugin identities too).
    /// Repeatable.
    #[arg(long, value_name = "FILE", required_unless_present = "share")]
    pub identity: Vec<PathBuf>,
    /// A share of an m-of-n backup (`sealant keys share-decrypt` output, plain or
    /// age-encrypted to an --identity). Repeatable; docs/recovery.md.
    #[arg(long, value_name = "FILE")]
    pub share: Vec<PathBuf>,
    /// Create the key Secrets in --controller-namespace. Existing ones with the same content
    /// are left alone; one with other content is an error (nothing is overwritten).
    #[arg(long, conflicts_with_all = ["output_file", "output"])]
    pub apply: bool,
    /// Without --apply: write the key Secrets to this file (mode 0600) instead of stdout.
    #[arg(short = 'w', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Without --apply: the key Secrets' format (default: yaml).
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys share-decrypt`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Writes the share as a file that `keys restore --share` and `unseal --share` read. Without \
--recipient it is in clear (mode 0600 with -w): whoever gathers enough shares and the backup \
restores every key. Runbook: docs/recovery.md.")]
pub struct KeysShareDecryptArgs {
    /// The m-of-n backup file; `-` is stdin.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Your age identity file (age plugin identities too). Repeatable.
    #[arg(long, value_name = "FILE", required = true)]
    pub identity: Vec<PathBuf>,
    /// Encrypt the share to the person who restores (their age recipient) instead of writing
    /// it in clear. Repeatable.
    #[arg(short = 'r', long, value_name = "AGE_RECIPIENT")]
    pub recipient: Vec<String>,
    /// Which share, when your identities open several (1-based, as in the backup).
    #[arg(long, value_name = "N")]
    pub index: Option<u8>,
    /// Write the share to this file (atomically, mode 0600) instead of stdout.
    #[arg(short = 'w', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
}

/// The HSM or KMS that protects keys (docs/key-protection.md): the controller's flags.
#[derive(Debug, Clone, Default, Args)]
pub struct KeyProviderArgs {
    /// The provider: pkcs11 or aws-kms.
    #[arg(long, value_name = "PROVIDER", env = "SEALANT_KEY_PROTECTION")]
    pub key_protection: Option<String>,
    /// PKCS#11: the vendor's module (shared library).
    #[arg(long, value_name = "PATH", env = "SEALANT_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,
    /// PKCS#11: the token's label.
    #[arg(
        long,
        value_name = "LABEL",
        env = "SEALANT_PKCS11_TOKEN_LABEL",
        default_value = ""
    )]
    pub pkcs11_token_label: String,
    /// PKCS#11: a file holding the user PIN (else $SEALANT_PKCS11_PIN).
    #[arg(long, value_name = "FILE", env = "SEALANT_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// PKCS#11: the label of the AES-256 key-encryption key on the token.
    #[arg(
        long,
        value_name = "LABEL",
        env = "SEALANT_PKCS11_KEK_LABEL",
        default_value = ""
    )]
    pub pkcs11_kek_label: String,
    /// AWS KMS: the region (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
    #[arg(
        long,
        value_name = "REGION",
        env = "SEALANT_AWS_KMS_REGION",
        default_value = ""
    )]
    pub aws_kms_region: String,
    /// AWS KMS: the key-encryption key (key id, ARN, alias name or alias ARN).
    #[arg(
        long,
        value_name = "KEY",
        env = "SEALANT_AWS_KMS_KEY_ID",
        default_value = ""
    )]
    pub aws_kms_key_id: String,
    /// AWS KMS: endpoint override (default https://kms.REGION.amazonaws.com).
    #[arg(
        long,
        value_name = "URL",
        env = "SEALANT_AWS_KMS_ENDPOINT",
        default_value = ""
    )]
    pub aws_kms_endpoint: String,
}

/// `sealant keys protect`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Run it once the controller has key protection on (same provider settings), so that it reads \
the keys it finds protected. Each key Secret is wrapped and written on its own (one update with \
the resourceVersion read, checked by unwrapping it again first): stopped half-way, every key \
stays usable, protected or not; run it again to finish. age keys are left as they are. \
Refused without a fresh backup: --backup FILE with --identity, a `sealant keys backup` file \
holding every RSA key in the namespace, or --i-have-a-backup. Runbook: docs/key-protection.md.")]
pub struct KeysProtectArgs {
    /// A `sealant keys backup` file; it must hold every RSA key now in the namespace.
    #[arg(long, value_name = "FILE", requires = "identity")]
    pub backup: Option<PathBuf>,
    /// age identity file that opens --backup (to check what it holds). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    /// Skip the backup check: a copy of every key is kept somewhere else.
    #[arg(long, conflicts_with = "backup")]
    pub i_have_a_backup: bool,
    #[command(flatten)]
    pub provider: KeyProviderArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `sealant keys unprotect`.
#[derive(Debug, Args)]
#[command(after_long_help = "\
Each protected key Secret is unwrapped through the provider that wrapped it (the KEK named in \
its sealant.dev/key-protection annotation) and written back in upstream's layout, one update \
per key. Switch the controller's key protection off only after this. Runbook: \
docs/key-protection.md.")]
pub struct KeysUnprotectArgs {
    #[command(flatten)]
    pub provider: KeyProviderArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}
