//! Key escrow (docs/recovery.md, "Automatic escrow"): with `--escrow-recipient`s, every key
//! Secret the key manager creates is first encrypted to them (core's
//! `sealant_core::backup::escrow`: exactly what `sealant keys backup` writes for that one
//! Secret) into a ConfigMap of the controller namespace, `sealant-escrow-<kind>-<fingerprint>`;
//! only once that ConfigMap exists is the key Secret created, so no key ever seals without its
//! escrow. A failed escrow write stops the new key: a Warning event (`KeyEscrowFailed`, once per
//! cause), `sealant_key_escrow_failures_total{reason}` and `sealant_key_escrow_pending` say why,
//! and the key manager retries with its backoff.
//!
//! A ConfigMap, not a Secret: it holds only ciphertext to recipients whose identities never
//! enter the cluster, so backup tools and GitOps exports that skip or encrypt Secrets still
//! carry it, and reading it needs no right on Secrets (docs/recovery.md, "Automatic escrow").
//!
//! Backfill: at the start of each leadership term, key Secrets without an escrow (keys made
//! before escrow was turned on) get one, once per key.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `sealant_key_escrow_failures_total` | counter: escrow writes that failed | `reason` (forbidden, api, conflict, encrypt) |
//! | `sealant_key_escrow_pending` | gauge: 1 while a new key waits for its escrow | – |

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference, Secret as K8sSecret};
use kube::api::{ListParams, PostParams};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::{Api, Client};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sealant_core::age::plugin::{FileRecipient, parse_file_recipients};
use sealant_core::backup::BackupError;
use sealant_core::backup::escrow::{
    EscrowSetupError, EscrowTarget, escrow_name, generated_name, key_fingerprint, parse_recipient,
    seal_escrow,
};
use sealant_core::keysecret::wrapped::{is_wrapped_key_secret, unprotect_into};
use sealant_k8s::keys::{self as key_secrets, KeyKind, Listing, Owners};
use sealant_k8s::{KubeError, PlainSecret};
use tracing::{debug, info, warn};

use crate::flags::Args;

/// The label every escrow ConfigMap carries; its value is the key kind (`rsa`, `age`).
pub(super) const ESCROW_LABEL: &str = "sealant.dev/escrow";
/// The annotation with the escrowed key's fingerprint (`SHA256:…`).
pub(super) const FINGERPRINT_ANNOTATION: &str = "sealant.dev/escrow-fingerprint";
/// The annotation with the escrowed key Secret's name.
pub(super) const SECRET_ANNOTATION: &str = "sealant.dev/escrow-secret";
/// The data key of a plain escrow: an armored age file (`age -d` opens it).
pub(super) const PLAIN_KEY: &str = "backup.age";
/// The data key of an m-of-n escrow (`sealant keys restore --share` opens it).
pub(super) const THRESHOLD_KEY: &str = "backup.threshold";

/// Event reasons.
const ESCROW_FAILED: &str = "KeyEscrowFailed";
const ESCROW_RECOVERED: &str = "KeyEscrowWritten";

/// Every failure reason, so the counter shows zeros rather than nothing.
const REASONS: [&str; 4] = ["forbidden", "api", "conflict", "encrypt"];

/// The escrow flags cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscrowFlagError {
    /// `--escrow-recipients-file` cannot be read.
    #[error("--escrow-recipients-file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A recipient of `--escrow-recipients-file` does not parse.
    #[error("--escrow-recipients-file {path}: {source}")]
    FileRecipient {
        /// The file.
        path: PathBuf,
        /// Why (with the line).
        #[source]
        source: sealant_core::age::AgeKeyError,
    },
    /// A recipient, group or threshold that cannot be used.
    #[error("escrow flags: {0}")]
    Setup(#[from] EscrowSetupError),
    /// A threshold or group without recipients.
    #[error(
        "--escrow-threshold and --escrow-group need escrow recipients (--escrow-recipient or --escrow-recipients-file)"
    )]
    NoRecipient,
}

/// The escrow target the flags ask for (`None`: escrow off), checked.
///
/// # Errors
/// See [`EscrowFlagError`].
pub(super) fn escrow_target(args: &Args) -> Result<Option<EscrowTarget>, EscrowFlagError> {
    let mut recipients: Vec<FileRecipient> = args
        .escrow_recipients
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| parse_recipient(r))
        .collect::<Result<_, _>>()?;
    if let Some(path) = &args.escrow_recipients_file {
        let text = std::fs::read_to_string(path).map_err(|source| EscrowFlagError::File {
            path: path.clone(),
            source,
        })?;
        recipients.extend(parse_file_recipients(&text).map_err(|source| {
            EscrowFlagError::FileRecipient {
                path: path.clone(),
                source,
            }
        })?);
    }
    if recipients.is_empty() && args.escrow_groups.is_empty() {
        return match args.escrow_threshold {
            Some(_) => Err(EscrowFlagError::NoRecipient),
            None => Ok(None),
        };
    }
    Ok(Some(EscrowTarget::new(
        recipients,
        &args.escrow_groups,
        args.escrow_threshold,
    )?))
}

/// An escrow that could not be written: the new key is not published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscrowError {
    /// The key could not be encrypted to the escrow recipients (a plugin missing or failing).
    #[error("cannot encrypt the escrow of key Secret {secret}: {source}")]
    Seal {
        /// The key Secret's name.
        secret: String,
        /// Why.
        #[source]
        source: BackupError,
    },
    /// The API server refused the escrow ConfigMap.
    #[error("cannot write escrow ConfigMap {namespace}/{name}: {source}")]
    Write {
        /// The controller namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
        /// The cause, with the API server's status code (boxed: kube errors are large).
        #[source]
        source: Box<KubeError>,
    },
    /// A ConfigMap of that name exists for another key or Secret.
    #[error(
        "escrow ConfigMap {namespace}/{name} exists and holds another key Secret's escrow; delete or rename it"
    )]
    Conflict {
        /// The controller namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
    },
    /// A protected key Secret whose key is not at hand in clear (never expected).
    #[error("cannot escrow the protected key Secret {secret}: its key is not at hand in clear")]
    NotInClear {
        /// The key Secret's name.
        secret: String,
    },
    /// The encryption task did not finish.
    #[error("the escrow encryption did not finish: {0}")]
    Interrupted(#[source] tokio::task::JoinError),
}

impl EscrowError {
    /// The metric label: forbidden, api, conflict or encrypt.
    pub fn reason(&self) -> &'static str {
        match self {
            EscrowError::Write { source, .. } if source.is_forbidden() => "forbidden",
            EscrowError::Write { .. } => "api",
            EscrowError::Conflict { .. } => "conflict",
            EscrowError::Seal { .. }
            | EscrowError::NotInClear { .. }
            | EscrowError::Interrupted(_) => "encrypt",
        }
    }
}

/// Names `secret` now, as the API server's `generateName` would (the escrow, written first,
/// must hold the exact Secret created after). A named Secret keeps its name.
///
/// # Errors
/// The system random source failed.
pub(super) fn name_now(secret: &mut sealant_core::Secret) -> Result<(), EscrowError> {
    if secret.metadata.name.is_some() {
        return Ok(());
    }
    let prefix = secret
        .metadata
        .extra
        .remove("generateName")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let name = generated_name(&prefix).map_err(|source| EscrowError::Seal {
        secret: prefix.clone(),
        source,
    })?;
    secret.metadata.name = Some(name);
    Ok(())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

/// The escrow metrics; clones share the series.
#[derive(Clone)]
pub struct EscrowMetrics {
    failures: Family<ReasonLabels, Counter>,
    pending: Gauge,
}

impl std::fmt::Debug for EscrowMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscrowMetrics").finish_non_exhaustive()
    }
}

impl EscrowMetrics {
    /// Registers the series in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let metrics = EscrowMetrics {
            failures: Family::default(),
            pending: Gauge::default(),
        };
        for reason in REASONS {
            metrics
                .failures
                .get_or_create(&ReasonLabels {
                    reason: reason.to_owned(),
                })
                .inc_by(0);
        }
        registry.register(
            "sealant_key_escrow_failures",
            "Escrow writes of new or existing keys that failed, by reason",
            metrics.failures.clone(),
        );
        registry.register(
            "sealant_key_escrow_pending",
            "1 while a new key waits for its escrow (and is not published)",
            metrics.pending.clone(),
        );
        metrics
    }

    /// Series registered nowhere.
    pub fn unregistered() -> Self {
        Self::register(&mut Registry::default())
    }

    fn failed(&self, reason: &'static str) {
        self.failures
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

/// Shows an age plugin's messages in the log (no one can touch a key in a cluster).
fn plugin_message(text: &str) {
    info!(message = text, "age plugin (escrow)");
}

/// Writes escrows and reports their failures.
pub(super) struct Escrow {
    configmaps: Api<ConfigMap>,
    secrets: Api<K8sSecret>,
    namespace: String,
    target: std::sync::Arc<EscrowTarget>,
    metrics: EscrowMetrics,
    recorder: Recorder,
    pod: String,
    /// The last failure reason an event told, until a write succeeds.
    said: parking_lot::Mutex<Option<&'static str>>,
    /// Escrows known to exist (backfill looks once per key).
    done: parking_lot::Mutex<HashSet<String>>,
}

impl Escrow {
    pub(super) fn new(
        client: Client,
        namespace: &str,
        target: EscrowTarget,
        metrics: EscrowMetrics,
    ) -> Self {
        let pod = std::env::var("POD_NAME").unwrap_or_else(|_| "sealant-controller".to_owned());
        let reporter = Reporter {
            controller: "sealed-secrets".into(),
            instance: Some(pod.clone()),
        };
        info!(escrow = %target.describe(), "key escrow on: new keys are escrowed before use");
        Escrow {
            configmaps: Api::namespaced(client.clone(), namespace),
            secrets: Api::namespaced(client.clone(), namespace),
            namespace: namespace.to_owned(),
            target: std::sync::Arc::new(target),
            metrics,
            recorder: Recorder::new(client, reporter),
            pod,
            said: parking_lot::Mutex::new(None),
            done: parking_lot::Mutex::new(HashSet::new()),
        }
    }

    /// Writes the escrow of `secret` (a key Secret as core makes it, named, its key in clear),
    /// or finds it written by an earlier attempt, and hands `secret` back. Failures are
    /// reported (metric, event, log); on one the caller must not create the key Secret.
    pub(super) async fn write(
        &self,
        secret: sealant_core::Secret,
    ) -> (sealant_core::Secret, Result<(), EscrowError>) {
        let (secret, result) = self.write_unreported(secret).await;
        let name = secret.metadata.name_or_empty();
        match &result {
            Ok(()) => {
                self.metrics.pending.set(0);
                if self.said.lock().take().is_some() {
                    self.publish(
                        EventType::Normal,
                        ESCROW_RECOVERED,
                        format!(
                            "escrow of key Secret {name} written; new keys are published again"
                        ),
                    )
                    .await;
                }
            }
            Err(err) => {
                self.metrics.pending.set(1);
                self.report(err, name).await;
            }
        }
        (secret, result)
    }

    /// [`Escrow::write`] for a key Secret as the key manager stores it: a protected one
    /// (docs/key-protection.md) is escrowed in clear, with `key`, so that its escrow restores
    /// without the HSM or KMS, as `sealant keys backup` does.
    ///
    /// # Errors
    /// See [`EscrowError`].
    pub(super) async fn write_for(
        &self,
        secret: sealant_core::Secret,
        key: Option<&sealant_core::PrivateKey>,
    ) -> (sealant_core::Secret, Result<(), EscrowError>) {
        if !is_wrapped_key_secret(&secret) {
            return self.write(secret).await;
        }
        // A protected key Secret holds no key in clear, so this copy copies none; the key goes
        // into the copy only, which is wiped on drop.
        let copy = serde_json::to_value(&secret)
            .ok()
            .and_then(|v| serde_json::from_value::<sealant_core::Secret>(v).ok());
        let plain = match (copy, key) {
            (Some(mut plain), Some(key)) => unprotect_into(&mut plain, key).ok().map(|()| plain),
            _ => None,
        };
        let Some(plain) = plain else {
            let err = EscrowError::NotInClear {
                secret: secret.metadata.name_or_empty().to_owned(),
            };
            self.metrics.pending.set(1);
            self.report(&err, secret.metadata.name_or_empty()).await;
            return (secret, Err(err));
        };
        let (_, written) = self.write(plain).await;
        (secret, written)
    }

    async fn report(&self, err: &EscrowError, secret: &str) {
        let reason = err.reason();
        self.metrics.failed(reason);
        warn!(%err, reason, secret, "key escrow failed: the new key is not published; retrying");
        if self.said.lock().replace(reason) == Some(reason) {
            return;
        }
        self.publish(
            EventType::Warning,
            ESCROW_FAILED,
            format!(
                "key escrow failed ({reason}): {err}; the new key is not published, the current keys keep working; retrying"
            ),
        )
        .await;
    }

    async fn write_unreported(
        &self,
        secret: sealant_core::Secret,
    ) -> (sealant_core::Secret, Result<(), EscrowError>) {
        let secret_name = secret.metadata.name_or_empty().to_owned();
        let (kind, fingerprint) = match key_fingerprint(&secret) {
            Ok(found) => found,
            Err(source) => {
                let err = EscrowError::Seal {
                    secret: secret_name,
                    source,
                };
                return (secret, Err(err));
            }
        };
        let target = self.target.clone();
        // The Secret goes to the blocking pool (age plugins are processes) and comes back.
        let sealed = tokio::task::spawn_blocking(move || {
            let text = seal_escrow(&target, &secret, plugin_message);
            (secret, text)
        })
        .await;
        let (secret, text) = match sealed {
            Ok(done) => done,
            Err(join) => {
                // The task owned the Secret; a caller that gets this error stores nothing.
                return (
                    sealant_core::Secret::default(),
                    Err(EscrowError::Interrupted(join)),
                );
            }
        };
        let result = match text {
            Ok(text) => self.store(kind, &fingerprint, &secret_name, text).await,
            Err(source) => Err(EscrowError::Seal {
                secret: secret_name,
                source,
            }),
        };
        (secret, result)
    }

    /// Creates the escrow ConfigMap, or finds the one an earlier attempt wrote for this key.
    async fn store(
        &self,
        kind: sealant_core::backup::escrow::EscrowKind,
        fingerprint: &sealant_core::Fingerprint,
        secret_name: &str,
        text: String,
    ) -> Result<(), EscrowError> {
        let secret_name = secret_name.to_owned();
        let name = escrow_name(kind, fingerprint);
        let data_key = match *self.target {
            EscrowTarget::Plain(_) => PLAIN_KEY,
            EscrowTarget::Threshold { .. } => THRESHOLD_KEY,
        };
        let configmap = ConfigMap {
            metadata: kube::api::ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(self.namespace.clone()),
                labels: Some(BTreeMap::from([(
                    ESCROW_LABEL.to_owned(),
                    kind.as_str().to_owned(),
                )])),
                annotations: Some(BTreeMap::from([
                    (
                        FINGERPRINT_ANNOTATION.to_owned(),
                        fingerprint.as_str().to_owned(),
                    ),
                    (SECRET_ANNOTATION.to_owned(), secret_name.clone()),
                ])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(data_key.to_owned(), text)])),
            ..Default::default()
        };
        let write_error = |e: kube::Error| EscrowError::Write {
            namespace: self.namespace.clone(),
            name: name.clone(),
            source: Box::new(e.into()),
        };
        match self
            .configmaps
            .create(&PostParams::default(), &configmap)
            .await
            .map_err(KubeError::from)
        {
            Ok(_) => {}
            Err(err) if err.is_conflict() => {
                // An earlier attempt's escrow of this very key Secret: a retry.
                let existing = self.configmaps.get(&name).await.map_err(write_error)?;
                let notes = existing.metadata.annotations.unwrap_or_default();
                let same = notes.get(FINGERPRINT_ANNOTATION).map(String::as_str)
                    == Some(fingerprint.as_str())
                    && notes.get(SECRET_ANNOTATION) == Some(&secret_name);
                if !same {
                    return Err(EscrowError::Conflict {
                        namespace: self.namespace.clone(),
                        name,
                    });
                }
            }
            Err(err) => {
                return Err(EscrowError::Write {
                    namespace: self.namespace.clone(),
                    name,
                    source: Box::new(err),
                });
            }
        }
        info!(
            escrow = %name,
            secret = %secret_name,
            fingerprint = %fingerprint,
            "key escrow written"
        );
        self.done.lock().insert(name);
        Ok(())
    }

    /// Escrows the unsealing key Secrets of the cluster key set that have none yet (keys made
    /// before escrow was on). Protected keys are skipped: their escrow needs the key in clear,
    /// which only a new key or `sealant keys backup` has (docs/recovery.md, "Automatic escrow").
    /// Failures are reported and retried at the next term; never fatal.
    pub(super) async fn backfill(&self) {
        let existing = match self
            .configmaps
            .list(&ListParams::default().labels(ESCROW_LABEL))
            .await
        {
            Ok(list) => list.items,
            Err(err) => {
                let err = EscrowError::Write {
                    namespace: self.namespace.clone(),
                    name: format!("-l {ESCROW_LABEL}"),
                    source: Box::new(err.into()),
                };
                self.metrics.failed(err.reason());
                warn!(%err, "cannot list escrows; existing keys are not backfilled");
                return;
            }
        };
        self.done
            .lock()
            .extend(existing.into_iter().filter_map(|c| c.metadata.name));
        for kind in KeyKind::ALL {
            let listed =
                match key_secrets::list(&self.secrets, kind, Listing::Unsealing, Owners::All).await
                {
                    Ok(listed) => listed,
                    Err(err) => {
                        warn!(%err, "cannot list key Secrets; existing keys are not backfilled");
                        return;
                    }
                };
            for item in listed.into_iter().map(PlainSecret::new) {
                let Ok(secret) = sealant_k8s::convert::secret_to_core(&item) else {
                    continue;
                };
                if is_wrapped_key_secret(&secret) {
                    debug!(
                        secret = secret.metadata.name_or_empty(),
                        "protected key: not backfilled"
                    );
                    continue;
                }
                let Ok((kind, fingerprint)) = key_fingerprint(&secret) else {
                    continue;
                };
                if self.done.lock().contains(&escrow_name(kind, &fingerprint)) {
                    continue;
                }
                let (secret, written) = self.write_unreported(secret).await;
                match written {
                    Ok(()) => info!(
                        secret = secret.metadata.name_or_empty(),
                        "existing key escrowed (backfill)"
                    ),
                    Err(err) => {
                        self.metrics.failed(err.reason());
                        warn!(%err, "cannot escrow an existing key; retrying at the next term");
                    }
                }
            }
        }
    }

    async fn publish(&self, type_: EventType, reason: &str, note: String) {
        // The API server refuses notes over 1 kB.
        let note = crate::text::truncate(&note, 1000);
        let regarding = ObjectReference {
            api_version: Some("v1".to_owned()),
            kind: Some("Pod".to_owned()),
            name: Some(self.pod.clone()),
            namespace: Some(self.namespace.clone()),
            ..ObjectReference::default()
        };
        let event = Event {
            type_,
            reason: reason.to_owned(),
            note: Some(note),
            action: "KeyEscrow".to_owned(),
            secondary: None,
        };
        if let Err(err) = self.recorder.publish(&event, &regarding).await {
            debug!(%err, reason, "cannot record a key escrow event");
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["sealant-controller"];
        argv.extend_from_slice(extra);
        Args::parse_from(argv)
    }

    const R1: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn flags_turn_escrow_on_and_are_checked() {
        assert!(escrow_target(&args(&[])).unwrap().is_none());
        let plain = escrow_target(&args(&["--escrow-recipient", R1])).unwrap();
        assert!(matches!(plain, Some(EscrowTarget::Plain(ref r)) if r.len() == 1));
        let group = format!("ops={R1},{R1}");
        let mofn = escrow_target(&args(&[
            "--escrow-recipient",
            R1,
            "--escrow-group",
            &group,
            "--escrow-threshold",
            "2",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(mofn.describe(), "2 of 2 holders");
        assert!(matches!(
            escrow_target(&args(&["--escrow-threshold", "2"])),
            Err(EscrowFlagError::NoRecipient)
        ));
        assert!(matches!(
            escrow_target(&args(&["--escrow-recipient", "age1nope"])),
            Err(EscrowFlagError::Setup(_))
        ));
        assert!(matches!(
            escrow_target(&args(&[
                "--escrow-recipient",
                R1,
                "--escrow-threshold",
                "3"
            ])),
            Err(EscrowFlagError::Setup(_))
        ));
        assert!(matches!(
            escrow_target(&args(&["--escrow-recipients-file", "/nonexistent/escrow"])),
            Err(EscrowFlagError::File { .. })
        ));
    }

    #[test]
    fn failures_are_counted_by_reason() {
        let mut registry = Registry::default();
        let metrics = EscrowMetrics::register(&mut registry);
        metrics.failed("forbidden");
        metrics.pending.set(1);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("sealant_key_escrow_failures_total{reason=\"forbidden\"} 1"),
            "{text}"
        );
        assert!(text.contains("sealant_key_escrow_failures_total{reason=\"conflict\"} 0"));
        assert!(text.contains("sealant_key_escrow_pending 1"), "{text}");
    }
}
