//! Command-line flags, upstream's names and defaults (docs/upstream.md, "Flags and
//! environment"), each also readable from `SEALED_SECRETS_<FLAG>`; the command line wins.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Unseals SealedSecrets into Secrets, manages the sealing keys, and serves the certificate.
#[derive(Debug, Clone, Parser)]
#[command(name = "sealant-controller", version, about)]
pub struct Args {
    /// Name prefix of key Secrets (their generateName), and the name of the legacy single key.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_PREFIX",
        default_value = "sealed-secrets-key"
    )]
    pub key_prefix: String,
    /// RSA modulus size of new keys.
    #[arg(long, env = "SEALED_SECRETS_KEY_SIZE", default_value_t = 4096)]
    pub key_size: usize,
    /// Validity of new keys' certificates (Go duration, e.g. 87600h).
    #[arg(long, env = "SEALED_SECRETS_KEY_TTL", default_value = "87600h", value_parser = parse_duration)]
    pub key_ttl: Duration,
    /// Common name of new certificates (empty: empty DN).
    #[arg(long, env = "SEALED_SECRETS_MY_CN", default_value = "")]
    pub my_cn: String,
    /// How often to generate a new key; 0 disables renewal.
    #[arg(long, env = "SEALED_SECRETS_KEY_RENEW_PERIOD", default_value = "720h", value_parser = parse_duration)]
    pub key_renew_period: Duration,
    /// Deprecated alias of --key-renew-period.
    #[arg(long, env = "SEALED_SECRETS_ROTATE_PERIOD", value_parser = parse_duration, hide = true)]
    pub rotate_period: Option<Duration>,
    /// How the newest key is chosen: CertNotBefore or SecretCreationTimestamp.
    #[arg(
        long,
        env = "SEALED_SECRETS_KEY_ORDER_PRIORITY",
        default_value = "CertNotBefore"
    )]
    pub key_order_priority: String,
    /// Make a new key at start if the newest is older than this (RFC 1123 with numeric zone).
    #[arg(long, env = "SEALED_SECRETS_KEY_CUTOFF_TIME", default_value = "")]
    pub key_cutoff_time: String,
    /// Accept the deprecated v1 `spec.data` format.
    #[arg(long, env = "SEALED_SECRETS_ACCEPT_DEPRECATED_V1_DATA", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub accept_deprecated_v1_data: bool,
    /// Watch all namespaces (else only the controller's and --additional-namespaces).
    #[arg(long, env = "SEALED_SECRETS_ALL_NAMESPACES", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub all_namespaces: bool,
    /// Comma-separated extra namespaces to watch.
    #[arg(long, env = "SEALED_SECRETS_ADDITIONAL_NAMESPACES", default_value = "")]
    pub additional_namespaces: String,
    /// Only handle SealedSecrets matching this label selector.
    #[arg(long, env = "SEALED_SECRETS_LABEL_SELECTOR", default_value = "")]
    pub label_selector: String,
    /// Sustained requests per second per client, /v1/verify and /v1/rotate together (one
    /// budget: both tell whether a ciphertext opens); 0: no limit.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT", default_value_t = 2)]
    pub rate_limit: u32,
    /// Burst allowed per client on /v1/verify and /v1/rotate; a client may also have this
    /// many + 1 of them in progress at once.
    #[arg(long, env = "SEALED_SECRETS_RATE_LIMIT_BURST", default_value_t = 2)]
    pub rate_limit_burst: u32,
    /// How long a /v1/rotate request over the rate limit waits for its turn before 429 (at
    /// most half of --write-timeout); 0: 429 at once, as /v1/verify.
    #[arg(long, env = "SEALED_SECRETS_ROTATE_MAX_WAIT", default_value = "10s", value_parser = parse_duration)]
    pub rotate_max_wait: Duration,
    /// Annotations for new key Secrets: k=v,k2=v2.
    #[arg(
        long,
        env = "SEALED_SECRETS_PRIVATEKEY_ANNOTATIONS",
        default_value = ""
    )]
    pub privatekey_annotations: String,
    /// Labels for new key Secrets: k=v,k2=v2 (cannot override the key label).
    #[arg(long, env = "SEALED_SECRETS_PRIVATEKEY_LABELS", default_value = "")]
    pub privatekey_labels: String,
    /// Delete Secrets explicitly when their SealedSecret goes, instead of relying on GC.
    #[arg(long, env = "SEALED_SECRETS_OLD_GC_BEHAVIOR", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub old_gc_behavior: bool,
    /// Maintain SealedSecret status.
    #[arg(long, env = "SEALED_SECRETS_UPDATE_STATUS", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub update_status: bool,
    /// Pick up key Secrets added while running (sealant always does; kept for compatibility).
    #[arg(long, env = "SEALED_SECRETS_WATCH_FOR_SECRETS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub watch_for_secrets: bool,
    /// Don't re-create deleted Secrets.
    #[arg(long, env = "SEALED_SECRETS_SKIP_RECREATE", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub skip_recreate: bool,
    /// Retry budget per object before giving up until it changes.
    #[arg(long, env = "SEALED_SECRETS_MAX_UNSEAL_RETRIES", default_value_t = 5)]
    pub max_unseal_retries: u32,
    /// Client-side API requests per second (0 or negative: unlimited). Upstream's 5 made 4,000
    /// objects take half an hour (docs/upstream.md, "Known upstream problems we avoid"); a new
    /// SealedSecret costs 3 writes, and in-flight requests are already bounded by --concurrency,
    /// so this is a ceiling against runaway loops.
    #[arg(
        long,
        env = "SEALED_SECRETS_KUBECLIENT_QPS",
        default_value_t = 500.0,
        allow_negative_numbers = true
    )]
    pub kubeclient_qps: f64,
    /// Client-side API burst.
    #[arg(long, env = "SEALED_SECRETS_KUBECLIENT_BURST", default_value_t = 1000)]
    pub kubeclient_burst: u32,
    /// Split logs: INFO and below to stdout, WARN and above to stderr.
    #[arg(long, env = "SEALED_SECRETS_LOG_INFO_STDOUT", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub log_info_stdout: bool,
    /// Log level: DEBUG, INFO, WARN, ERROR.
    #[arg(long, env = "SEALED_SECRETS_LOG_LEVEL", default_value = "INFO")]
    pub log_level: String,
    /// Log format: text or json.
    #[arg(long, env = "SEALED_SECRETS_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Address of the HTTP API.
    #[arg(long, env = "SEALED_SECRETS_LISTEN_ADDR", default_value = ":8080", value_parser = parse_listen_addr)]
    pub listen_addr: SocketAddr,
    /// Address of the metrics endpoint.
    #[arg(long, env = "SEALED_SECRETS_LISTEN_METRICS_ADDR", default_value = ":8081", value_parser = parse_listen_addr)]
    pub listen_metrics_addr: SocketAddr,
    /// Time a request body has to arrive once its handler reads it (408 after).
    #[arg(long, env = "SEALED_SECRETS_READ_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub read_timeout: Duration,
    /// Time a new connection has to send its request headers, and a keep-alive request its
    /// headers from its first byte; the connection is closed after. Both HTTP servers.
    #[arg(long, env = "SEALED_SECRETS_HEADER_READ_TIMEOUT", default_value = "5s", value_parser = parse_timeout)]
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request. Both HTTP servers.
    #[arg(long, env = "SEALED_SECRETS_IDLE_TIMEOUT", default_value = "5s", value_parser = parse_timeout)]
    pub idle_timeout: Duration,
    /// Connections each HTTP server (API, metrics) holds at once; over it the oldest idle one
    /// is closed, or the new one if none is idle.
    #[arg(long, env = "SEALED_SECRETS_MAX_CONNECTIONS", default_value = "1024", value_parser = parse_count)]
    pub max_connections: usize,
    /// Connections one source address may hold on each HTTP server; over it that address's
    /// oldest idle one is closed, or the new one. The API server's service proxy is one
    /// address for all its users: keep this well above their concurrent requests.
    #[arg(long, env = "SEALED_SECRETS_MAX_CONNECTIONS_PER_PEER", default_value = "256", value_parser = parse_count)]
    pub max_connections_per_peer: usize,
    /// HTTP write timeout.
    #[arg(long, env = "SEALED_SECRETS_WRITE_TIMEOUT", default_value = "2m", value_parser = parse_duration)]
    pub write_timeout: Duration,
    /// Largest request body accepted by /v1/verify and /v1/rotate (413 above).
    #[arg(long, env = "SEALED_SECRETS_MAX_REQUEST_BYTES", default_value_t = 1 << 20)]
    pub max_request_bytes: usize,
    /// Leave SealedSecret names out of metric labels (they are an inventory on an open port).
    #[arg(long, env = "SEALED_SECRETS_METRICS_OMIT_SECRET_LABELS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub metrics_omit_secret_labels: bool,
    /// Elect a leader through a Lease, so several replicas can run: only the leader reconciles
    /// and creates keys; every replica serves the certificate and /v1/verify.
    #[arg(long, env = "SEALED_SECRETS_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// Name of the leader-election Lease (in the controller namespace).
    #[arg(
        long,
        env = "SEALED_SECRETS_LEADER_ELECTION_LEASE",
        default_value = "sealant-controller"
    )]
    pub leader_election_lease: String,
    /// SealedSecrets reconciled at once.
    #[arg(long, env = "SEALED_SECRETS_CONCURRENCY", default_value_t = 16)]
    pub concurrency: u16,
    /// Generate age X25519 keys next to the RSA keys (on first start and at each renewal) and
    /// publish the newest recipient at /v1/recipient. Existing age keys unseal either way.
    #[arg(long, env = "SEALED_SECRETS_AGE_KEYS", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub age_keys: bool,
    /// Kubeconfig to use out of cluster (default: in-cluster, else $KUBECONFIG).
    #[arg(long, env = "SEALED_SECRETS_KUBECONFIG")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// Namespace of the controller (default: $POD_NAMESPACE, the service account's, else default).
    #[arg(long, env = "SEALED_SECRETS_CONTROLLER_NAMESPACE")]
    pub controller_namespace: Option<String>,
    /// Roll out the workloads a SealedSecret names in its `sealant.dev/rollout` annotation when
    /// its Secret's data changes (docs/rollout.md). Needs get and patch on Deployments,
    /// StatefulSets and DaemonSets; off: the annotation is reported as ignored.
    #[arg(long, env = "SEALED_SECRETS_ROLLOUT", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub rollout: bool,
    /// Address of the validating admission webhook (HTTPS; docs/admission.md); unset: off.
    #[arg(long, env = "SEALED_SECRETS_ADMISSION_LISTEN_ADDR", value_parser = parse_listen_addr)]
    pub admission_listen_addr: Option<SocketAddr>,
    /// ValidatingWebhookConfiguration whose caBundle the controller keeps equal to its own
    /// webhook certificate's CA; empty: not patched (cert-manager, or set by hand).
    #[arg(
        long,
        env = "SEALED_SECRETS_ADMISSION_WEBHOOK_CONFIG",
        default_value = ""
    )]
    pub admission_webhook_config: String,
    /// Secret (in the controller namespace) holding the webhook certificate it makes.
    #[arg(
        long,
        env = "SEALED_SECRETS_ADMISSION_TLS_SECRET",
        default_value = "sealant-admission-tls"
    )]
    pub admission_tls_secret: String,
    /// DNS names and IP addresses of the webhook certificate it makes, comma-separated (the
    /// webhook Service's `NAME.NAMESPACE.svc`).
    #[arg(long, env = "SEALED_SECRETS_ADMISSION_CERT_HOSTS", default_value = "")]
    pub admission_cert_hosts: String,
    /// Read the webhook certificate from tls.crt and tls.key here (e.g. cert-manager's)
    /// instead of making one.
    #[arg(long, env = "SEALED_SECRETS_ADMISSION_CERT_DIR")]
    pub admission_cert_dir: Option<std::path::PathBuf>,
    /// Read the webhook certificate from tls.crt and tls.key of this Secret of the controller
    /// namespace (cert-manager's Certificate) instead of making one.
    #[arg(long, env = "SEALED_SECRETS_ADMISSION_CERT_SECRET", default_value = "")]
    pub admission_cert_secret: String,
    /// SealedSecret key checks per second per user at the webhook (past it, admitted with a
    /// warning, unchecked); 0: no limit.
    #[arg(
        long,
        env = "SEALED_SECRETS_ADMISSION_RATE_LIMIT",
        default_value_t = 20
    )]
    pub admission_rate_limit: u32,
    /// Burst of SealedSecret key checks per user at the webhook.
    #[arg(
        long,
        env = "SEALED_SECRETS_ADMISSION_RATE_LIMIT_BURST",
        default_value_t = 200
    )]
    pub admission_rate_limit_burst: u32,
    /// The controller's own user (`system:serviceaccount:NS:NAME`): the plaintext guard always
    /// admits its Secrets.
    #[arg(
        long,
        env = "SEALED_SECRETS_ADMISSION_CONTROLLER_USER",
        default_value = ""
    )]
    pub admission_controller_user: String,
    /// Users whose Secrets the plaintext guard admits, comma-separated.
    #[arg(
        long,
        env = "SEALED_SECRETS_PLAINTEXT_GUARD_EXEMPT_USERS",
        default_value = ""
    )]
    pub plaintext_guard_exempt_users: String,
    /// Secret types the plaintext guard admits, comma-separated.
    #[arg(
        long,
        env = "SEALED_SECRETS_PLAINTEXT_GUARD_EXEMPT_TYPES",
        default_value = "kubernetes.io/service-account-token,helm.sh/release.v1"
    )]
    pub plaintext_guard_exempt_types: String,
    /// Owner kinds (`Kind` or `group/Kind`) whose Secrets the plaintext guard admits.
    #[arg(
        long,
        env = "SEALED_SECRETS_PLAINTEXT_GUARD_EXEMPT_OWNERS",
        default_value = ""
    )]
    pub plaintext_guard_exempt_owners: String,
    /// Serve the browser sealing page at /ui/ on the API port (docs/webui.md): values are
    /// encrypted in the browser, the controller only hands out the page and its certificate.
    #[arg(long, env = "SEALED_SECRETS_WEB_UI", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub web_ui: bool,
    /// Keep new and renewed keys wrapped by an HSM or KMS: `none`, `pkcs11` or `aws-kms`
    /// (docs/key-protection.md).
    #[arg(long, env = "SEALANT_KEY_PROTECTION", default_value = "none")]
    pub key_protection: String,
    /// PKCS#11: the vendor's module (shared library).
    #[arg(long, env = "SEALANT_PKCS11_MODULE")]
    pub pkcs11_module: Option<std::path::PathBuf>,
    /// PKCS#11: the token's label.
    #[arg(long, env = "SEALANT_PKCS11_TOKEN_LABEL", default_value = "")]
    pub pkcs11_token_label: String,
    /// PKCS#11: a file holding the user PIN (else $SEALANT_PKCS11_PIN); never logged.
    #[arg(long, env = "SEALANT_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<std::path::PathBuf>,
    /// PKCS#11: the label of the AES-256 key-encryption key on the token.
    #[arg(long, env = "SEALANT_PKCS11_KEK_LABEL", default_value = "")]
    pub pkcs11_kek_label: String,
    /// AWS KMS: the region (credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
    /// AWS_SESSION_TOKEN).
    #[arg(long, env = "SEALANT_AWS_KMS_REGION", default_value = "")]
    pub aws_kms_region: String,
    /// AWS KMS: the key-encryption key (key id, ARN, alias name or alias ARN).
    #[arg(long, env = "SEALANT_AWS_KMS_KEY_ID", default_value = "")]
    pub aws_kms_key_id: String,
    /// AWS KMS: endpoint override (a VPC endpoint); default https://kms.<region>.amazonaws.com.
    #[arg(long, env = "SEALANT_AWS_KMS_ENDPOINT", default_value = "")]
    pub aws_kms_endpoint: String,
    /// Escrow (docs/recovery.md, "Automatic escrow"): an age recipient (`age1…`, `age1pq1…`,
    /// or an age plugin's `age1<name>1…`, whose `age-plugin-<name>` must be on PATH) to which
    /// every new key is encrypted, into a ConfigMap, before it is used. Repeatable.
    #[arg(
        long = "escrow-recipient",
        env = "SEALANT_ESCROW_RECIPIENTS",
        value_delimiter = ','
    )]
    pub escrow_recipients: Vec<String>,
    /// Escrow recipients from a file: one per line, `#` comments.
    #[arg(long, env = "SEALANT_ESCROW_RECIPIENTS_FILE")]
    pub escrow_recipients_file: Option<std::path::PathBuf>,
    /// Escrow as an m-of-n backup: any M holders restore a key together (each recipient is a
    /// holder, and each --escrow-group).
    #[arg(long, env = "SEALANT_ESCROW_THRESHOLD")]
    pub escrow_threshold: Option<usize>,
    /// An escrow holder of several recipients, `[LABEL=]RECIPIENT[,RECIPIENT…]`, as
    /// `sealant keys backup --group` (with --escrow-threshold). Repeatable.
    #[arg(long = "escrow-group")]
    pub escrow_groups: Vec<String>,
    /// Check key protection and exit: connect to the HSM or KMS, protect and open a throwaway
    /// key, print one line (exit 0) or the error (exit 1). Never contacts the cluster.
    #[arg(long, default_value_t = false)]
    pub check_key_protection: bool,
    /// Unseal SealedSecrets of the namespace-selector scope into namespaces whose labels match
    /// (docs/multi-tenancy.md). Needs get on Namespaces, plus list and watch when watching all
    /// namespaces; off: such objects fail with an error saying the scope is not enabled.
    #[arg(long, env = "SEALANT_NAMESPACE_SELECTOR_SCOPE", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub namespace_selector_scope: bool,
    /// Tenant keys (docs/multi-tenancy.md, "Tenant keys"): one key set per tenant, a tenant
    /// being the namespaces labelled `<--tenant-label>=NAME`; their SealedSecrets open with
    /// that tenant's keys only. Needs get, list and watch on Namespaces. Off: the cluster keys
    /// serve every namespace, as before.
    #[arg(long, env = "SEALANT_TENANT_KEYS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub tenant_keys: bool,
    /// The Namespace label whose value names the namespace's tenant (with --tenant-keys).
    #[arg(
        long,
        env = "SEALANT_TENANT_LABEL",
        default_value = "sealant.dev/tenant"
    )]
    pub tenant_label: String,
    /// Migration switch (with --tenant-keys): comma-separated tenant names, or `*`, whose
    /// SealedSecrets may also open with the cluster keys while they move to their own key.
    #[arg(long, env = "SEALANT_TENANT_ALLOW_CLUSTER_KEY", default_value = "")]
    pub tenant_allow_cluster_key: String,
}

impl Args {
    /// The key protection flags, checked together (`None`: protection off).
    ///
    /// # Errors
    /// An unknown provider or a missing setting.
    pub fn key_protection(
        &self,
    ) -> Result<Option<sealant_kms::ProviderSettings>, sealant_kms::SettingsError> {
        sealant_kms::ProviderSettings::from_raw(&sealant_kms::RawSettings {
            provider: &self.key_protection,
            pkcs11_module: self.pkcs11_module.as_deref(),
            pkcs11_token_label: &self.pkcs11_token_label,
            pkcs11_pin_file: self.pkcs11_pin_file.as_deref(),
            pkcs11_kek_label: &self.pkcs11_kek_label,
            aws_region: &self.aws_kms_region,
            aws_key_id: &self.aws_kms_key_id,
            aws_endpoint: &self.aws_kms_endpoint,
        })
    }

    /// The renewal period, honouring the deprecated alias.
    pub fn renew_period(&self) -> Duration {
        self.rotate_period.unwrap_or(self.key_renew_period)
    }

    /// `--privatekey-labels` as a map.
    ///
    /// # Errors
    /// An entry without `=`.
    pub fn key_labels(&self) -> Result<BTreeMap<String, String>, String> {
        parse_pairs(&self.privatekey_labels)
    }

    /// `--privatekey-annotations` as a map.
    ///
    /// # Errors
    /// An entry without `=`.
    pub fn key_annotations(&self) -> Result<BTreeMap<String, String>, String> {
        parse_pairs(&self.privatekey_annotations)
    }
}

/// Parses `k=v,k2=v2` (upstream crashes on an entry without `=`; we refuse it).
///
/// # Errors
/// An entry without `=` or with an empty key.
pub fn parse_pairs(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(format!("{entry:?} is not key=value")),
        })
        .collect()
}

/// Parses a Go duration: `87600h`, `2m0s`, `1h30m`, `500ms`, `0`.
///
/// # Errors
/// Anything else.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => {
                return Err(format!(
                    "invalid duration {text:?}: use units like 720h, 2m, 30s"
                ));
            }
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|e| format!("invalid duration {text:?}: {e}"))
}

/// A duration above zero (a zero timeout would close every connection at once).
///
/// # Errors
/// Not a duration, or zero.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!(
            "{text:?} is zero: use a duration above zero, e.g. 5s"
        ));
    }
    Ok(duration)
}

/// A count of 1 or more.
///
/// # Errors
/// Not a whole number, or 0.
pub fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 would refuse every connection: use 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// Parses Go's listen addresses: `:8080` means all interfaces.
///
/// # Errors
/// Not `host:port`.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_owned()
    };
    full.parse()
        .map_err(|e| format!("invalid listen address {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(
            parse_duration("87600h"),
            Ok(Duration::from_secs(87_600 * 3600))
        );
        assert_eq!(parse_duration("2m0s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("10 days").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn connection_limits_refuse_zero() {
        for bad in [
            ["--idle-timeout", "0"],
            ["--header-read-timeout", "0s"],
            ["--max-connections", "0"],
            ["--max-connections-per-peer", "-1"],
            ["--max-connections", "many"],
        ] {
            let parsed = Args::try_parse_from(["sealant-controller", bad[0], bad[1]]);
            assert!(parsed.is_err(), "{bad:?} was accepted");
        }
        let args = Args::try_parse_from([
            "sealant-controller",
            "--idle-timeout",
            "500ms",
            "--max-connections-per-peer",
            "8",
            "--rotate-max-wait",
            "0",
        ])
        .unwrap();
        assert_eq!(args.idle_timeout, Duration::from_millis(500));
        assert_eq!(args.max_connections_per_peer, 8);
        assert_eq!(args.rotate_max_wait, Duration::ZERO);
    }

    #[test]
    fn pairs_and_addresses() {
        let pairs =
            parse_pairs("testAnnotation1=additional.annotation,test.annotation.2=test/2").unwrap();
        assert_eq!(pairs["test.annotation.2"], "test/2");
        assert!(parse_pairs("novalue").is_err());
        assert_eq!(parse_listen_addr(":8080").unwrap().port(), 8080);
        assert_eq!(
            parse_listen_addr("127.0.0.1:0").unwrap().ip().to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn defaults_match_upstream_and_env_is_read() {
        let args = Args::try_parse_from(["sealant-controller"]).unwrap();
        assert_eq!(args.key_prefix, "sealed-secrets-key");
        assert_eq!(args.key_size, 4096);
        assert_eq!(args.renew_period(), Duration::from_secs(720 * 3600));
        assert!(args.accept_deprecated_v1_data && args.update_status && args.all_namespaces);
        assert_eq!(args.header_read_timeout, Duration::from_secs(5));
        assert_eq!(args.idle_timeout, Duration::from_secs(5));
        assert_eq!(args.rotate_max_wait, Duration::from_secs(10));
        assert_eq!(
            (args.max_connections, args.max_connections_per_peer),
            (1024, 256)
        );
        let args = Args::try_parse_from([
            "sealant-controller",
            "--update-status=false",
            "--rotate-period",
            "1h",
        ])
        .unwrap();
        assert!(!args.update_status);
        assert_eq!(args.renew_period(), Duration::from_secs(3600));
    }
}
