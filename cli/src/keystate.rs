//! `sealant keys list|rotate|retire|compromise|reactivate`: the controller's key Secrets, their
//! states, and which SealedSecrets in the cluster still need each key.
//!
//! Everything goes through the Kubernetes API with the user's credentials; the controller is
//! never called. A key's state is its key Secret's label value ([`KeyState`], the same rule the
//! controller follows); which keys a SealedSecret needs is its `status.keyFingerprints`, which
//! the controller records each time it unseals the object. Key Secrets are parsed with core's
//! readers (what the controller cannot use is shown as unusable), and only public data leaves
//! this module: fingerprints, names, times.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use sealant_core::age::keysecret::{
    AGE_KEY_LABEL, age_key_created, age_key_state, read_age_key_secret,
};
use sealant_core::keysecret::{
    DEFAULT_KEY_PREFIX, KEY_LABEL, KeyState, RENEW_REQUEST_ANNOTATION, read_key_secret,
};
use sealant_core::object::SealedSecretStatus;
use sealant_core::{Fingerprint, Secret};
use sealant_k8s::crd::SealedSecret;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{
    ClusterArgs, InventoryScopeArgs, KeysListArgs, KeysListFormat, KeysReactivateArgs,
    KeysRetireArgs, KeysRotateArgs, KeysStateArgs,
};
use crate::cluster::KubeOverrides;
use crate::error::{CliError, Result};
use crate::keys::{kube_message, to_core};

/// How many names an error or the table quotes before `… and N more`.
const NAMES_SHOWN: usize = 5;

/// How often `keys rotate` looks for the new key.
const ROTATE_POLL: Duration = Duration::from_secs(1);

/// The two kinds of sealing keys a controller holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyKind {
    /// RSA (upstream's key Secrets, label `sealedsecrets.bitnami.com/sealed-secrets-key`).
    Rsa,
    /// age (label `sealant.dev/age-key`).
    Age,
}

impl KeyKind {
    /// `rsa` or `age`.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Rsa => "rsa",
            KeyKind::Age => "age",
        }
    }

    /// The label whose value is this kind's state.
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Rsa => KEY_LABEL,
            KeyKind::Age => AGE_KEY_LABEL,
        }
    }

    fn upper(self) -> &'static str {
        match self {
            KeyKind::Rsa => "RSA",
            KeyKind::Age => "age",
        }
    }
}

/// One key Secret of the controller namespace.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// RSA or age.
    pub kind: KeyKind,
    /// The key's fingerprint; `None` when the Secret cannot be read as a key.
    pub fingerprint: Option<Fingerprint>,
    /// The state its label gives it.
    pub state: KeyState,
    /// The time keys are ordered by, as the controller orders them (RSA: the certificate's
    /// NotBefore, the controller's default `--key-order-priority`; age: `sealant.dev/created-at`).
    pub created: Option<OffsetDateTime>,
    /// The key Secret's name.
    pub secret: String,
    /// The Secret's `resourceVersion`, so a state change does not overwrite a concurrent one.
    pub resource_version: Option<String>,
    /// Why the controller cannot use this key Secret (it skips it).
    pub problem: Option<String>,
    /// The newest active usable key of its kind: the one the controller seals with and
    /// publishes.
    pub sealing: bool,
    /// SealedSecrets (`namespace/name`) whose inventory lists this key.
    pub used_by: Vec<String>,
}

impl KeyEntry {
    /// A key Secret found by `kind`'s label.
    pub fn from_secret(kind: KeyKind, secret: &Secret) -> Self {
        let state = match kind {
            KeyKind::Rsa => KeyState::of(secret),
            KeyKind::Age => age_key_state(secret),
        }
        .unwrap_or_else(|| KeyState::Other(String::new()));
        let mut entry = KeyEntry {
            kind,
            fingerprint: None,
            state,
            created: None,
            secret: secret.metadata.name_or_empty().to_owned(),
            resource_version: secret
                .metadata
                .extra
                .get("resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
            problem: None,
            sealing: false,
            used_by: Vec::new(),
        };
        match kind {
            KeyKind::Rsa => match read_key_secret(secret) {
                Ok((key, Some(cert))) => {
                    entry.fingerprint = Some(key.fingerprint().clone());
                    entry.created = Some(cert.not_before());
                }
                Ok((key, None)) => {
                    entry.fingerprint = Some(key.fingerprint().clone());
                    entry.problem = Some("no 'tls.crt': the controller skips it".into());
                }
                Err(err) => entry.problem = Some(err.to_string()),
            },
            KeyKind::Age => match read_age_key_secret(secret) {
                Ok(identity) => {
                    entry.fingerprint = Some(identity.fingerprint().clone());
                    entry.created = age_key_created(secret);
                }
                Err(err) => entry.problem = Some(err.to_string()),
            },
        }
        entry
    }

    fn usable(&self) -> bool {
        self.fingerprint.is_some() && self.problem.is_none()
    }

    fn fingerprint_text(&self) -> &str {
        self.fingerprint.as_ref().map_or("-", Fingerprint::as_str)
    }

    fn describe(&self) -> String {
        format!(
            "{} ({} key, Secret {})",
            self.fingerprint_text(),
            self.kind.name(),
            self.secret
        )
    }
}

/// Marks the sealing key of each kind: the newest active usable one. Ties go to the later one
/// in list order, as the controller's stable sort leaves it last.
pub fn mark_sealing(keys: &mut [KeyEntry]) {
    for kind in [KeyKind::Rsa, KeyKind::Age] {
        let newest = keys
            .iter()
            .filter(|k| k.kind == kind && k.state.seals() && k.usable())
            .max_by_key(|k| k.created.unwrap_or(OffsetDateTime::UNIX_EPOCH))
            .and_then(|k| k.fingerprint.clone());
        for key in keys.iter_mut().filter(|k| k.kind == kind) {
            key.sealing = newest.is_some() && key.fingerprint == newest;
        }
    }
}

/// What the cluster says about one SealedSecret.
#[derive(Debug, Clone)]
pub struct SealedRecord {
    /// `namespace/name`.
    pub name: String,
    /// `metadata.generation`.
    pub generation: Option<i64>,
    /// Its status, if it has a readable one.
    pub status: Option<SealedSecretStatus>,
}

/// The keys and what needs them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The controller namespace.
    pub namespace: String,
    /// Every key Secret, RSA first, each kind oldest first.
    pub keys: Vec<KeyEntry>,
    /// The namespaces whose SealedSecrets were counted; empty: every namespace.
    pub scope: Vec<String>,
    /// How many SealedSecrets were counted.
    pub sealed_secrets: usize,
    /// SealedSecrets without `status.keyFingerprints`: not unsealed by a sealant controller
    /// since it records the inventory (or status updates are off).
    pub not_inventoried: Vec<String>,
    /// SealedSecrets changed since their inventory was recorded (`status.observedGeneration`
    /// behind `metadata.generation`): what their current ciphertexts need is not known yet.
    pub pending: Vec<String>,
    /// Fingerprints named by inventories that match no key Secret here (another controller's
    /// keys, or a key Secret deleted since), with how many SealedSecrets name each.
    pub other_keys: BTreeMap<String, usize>,
}

impl Inventory {
    /// Builds the inventory: keys sorted as the controller sorts them, sealing keys marked,
    /// and every SealedSecret counted against the keys its inventory lists.
    pub fn new(namespace: &str, mut keys: Vec<KeyEntry>, sealed: &[SealedRecord]) -> Self {
        // Stable: equal times keep the API's list order, as in the controller.
        keys.sort_by_key(|k| (k.kind, k.created.unwrap_or(OffsetDateTime::UNIX_EPOCH)));
        mark_sealing(&mut keys);
        let mut inventory = Inventory {
            namespace: namespace.to_owned(),
            keys,
            sealed_secrets: sealed.len(),
            ..Inventory::default()
        };
        for record in sealed {
            let fingerprints = record
                .status
                .as_ref()
                .and_then(|s| s.key_fingerprints.as_ref());
            let Some(fingerprints) = fingerprints else {
                inventory.not_inventoried.push(record.name.clone());
                continue;
            };
            let observed = record.status.as_ref().and_then(|s| s.observed_generation);
            if record.generation.is_some() && observed != record.generation {
                inventory.pending.push(record.name.clone());
            }
            let distinct: BTreeSet<&String> = fingerprints.iter().collect();
            for fingerprint in distinct {
                let mut known = false;
                for key in inventory
                    .keys
                    .iter_mut()
                    .filter(|k| k.fingerprint_text() == fingerprint.as_str())
                {
                    key.used_by.push(record.name.clone());
                    known = true;
                }
                if !known {
                    *inventory.other_keys.entry(fingerprint.clone()).or_default() += 1;
                }
            }
        }
        inventory.not_inventoried.sort();
        inventory.pending.sort();
        for key in &mut inventory.keys {
            key.used_by.sort();
        }
        inventory
    }

    /// The key Secrets holding `fingerprint` (usually one; a key restored under a second name
    /// is two).
    pub fn entries(&self, fingerprint: &Fingerprint) -> Vec<&KeyEntry> {
        self.keys
            .iter()
            .filter(|k| k.fingerprint.as_ref() == Some(fingerprint))
            .collect()
    }

    /// The fingerprint a command-line argument names: the full `SHA256:…`, or an unambiguous
    /// prefix of at least 8 characters after `SHA256:` (which may be left out).
    ///
    /// # Errors
    /// A prefix too short or matching several keys (usage errors), or no such key.
    pub fn resolve(&self, arg: &str) -> Result<Fingerprint> {
        let arg = arg.trim();
        let body = fingerprint_body(arg)?;
        let known: BTreeSet<&Fingerprint> = self
            .keys
            .iter()
            .filter_map(|k| k.fingerprint.as_ref())
            .collect();
        if let Some(exact) = known
            .iter()
            .find(|f| f.as_str().strip_prefix("SHA256:") == Some(body))
        {
            return Ok((*exact).clone());
        }
        let matches: Vec<&&Fingerprint> = known
            .iter()
            .filter(|f| {
                f.as_str()
                    .strip_prefix("SHA256:")
                    .is_some_and(|b| b.starts_with(body))
            })
            .collect();
        match matches.as_slice() {
            [one] => Ok((**one).clone()),
            [] => Err(CliError::new(format!(
                "no key {arg} in namespace {}",
                self.namespace
            ))
            .hint(format!(
                "list the keys with `sealant keys list` (is --controller-namespace {} the controller's?)",
                self.namespace
            ))),
            several => Err(CliError::usage(format!(
                "{arg} matches {} keys: {}",
                several.len(),
                several
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .hint("give more characters of the fingerprint")),
        }
    }

    /// Why `fingerprint` is not marked compromised (a note: nothing to do), if so. Only an active
    /// key becomes compromised: a retired one no longer unseals, and the compromised label would
    /// let it unseal again.
    pub fn compromise_skip(&self, fingerprint: &Fingerprint) -> Option<String> {
        let entries = self.entries(fingerprint);
        if entries.iter().all(|k| k.state == KeyState::Compromised) {
            Some(format!(
                "{fingerprint} is already marked compromised; nothing changed"
            ))
        } else if !entries.iter().any(|k| k.state == KeyState::Active) {
            Some(format!(
                "{fingerprint} is not active: it neither seals nor unseals, and marking it compromised would let it unseal again; nothing changed"
            ))
        } else {
            None
        }
    }

    /// Whether `fingerprint` becomes the sealing key of its kind once active.
    pub fn seals_once_active(&self, fingerprint: &Fingerprint) -> bool {
        let mut after = self.keys.clone();
        for key in &mut after {
            if key.fingerprint.as_ref() == Some(fingerprint) {
                key.state = KeyState::Active;
            }
        }
        mark_sealing(&mut after);
        after
            .iter()
            .any(|k| k.sealing && k.fingerprint.as_ref() == Some(fingerprint))
    }

    /// Why `fingerprint` must not be reactivated without `--force`: a compromised key that
    /// would become the sealing key.
    pub fn reactivation_refusal(&self, fingerprint: &Fingerprint) -> Option<CliError> {
        let compromised = self
            .entries(fingerprint)
            .iter()
            .any(|k| k.state == KeyState::Compromised);
        (compromised && self.seals_once_active(fingerprint)).then(|| {
            CliError::refused(format!(
                "{fingerprint} is marked compromised and would become the key the controller seals with"
            ))
            .hint("whoever holds a copy could open everything sealed from then on; make a new key with `sealant keys rotate` instead, or pass --force if the key was not exposed after all")
        })
    }

    /// Why `fingerprint` must not be retired now, if anything may still need it.
    pub fn retire_refusal(&self, fingerprint: &Fingerprint) -> Option<CliError> {
        let entries = self.entries(fingerprint);
        let mut reasons = Vec::new();
        let mut hints = Vec::new();
        if let Some(sealing) = entries.iter().find(|k| k.sealing) {
            reasons.push(format!(
                "it is the newest active {} key, the one the controller seals with",
                sealing.kind.upper()
            ));
            hints.push(
                "run `sealant keys rotate` first, then re-encrypt (`sealant reencrypt PATH…`) and apply"
                    .to_owned(),
            );
        }
        let used: BTreeSet<&String> = entries.iter().flat_map(|k| &k.used_by).collect();
        if !used.is_empty() {
            reasons.push(format!(
                "{} still {} it: {}",
                count(used.len(), "SealedSecret"),
                agree(used.len(), "needs", "need"),
                quote_names(used.iter().copied())
            ));
            hints.push(
                "re-encrypt them to the newest key (`sealant reencrypt PATH…`), apply, and wait until `sealant keys list` shows 0 for this key".to_owned(),
            );
        }
        let unknown = self.not_inventoried.len() + self.pending.len();
        if !self.not_inventoried.is_empty() {
            reasons.push(format!(
                "{} no key inventory yet, so {} might: {}",
                count_verb(self.not_inventoried.len(), "SealedSecret", "has", "have"),
                agree(self.not_inventoried.len(), "it", "they"),
                quote_names(self.not_inventoried.iter())
            ));
        }
        if !self.pending.is_empty() {
            reasons.push(format!(
                "{} changed since the controller last unsealed {}: {}",
                count(self.pending.len(), "SealedSecret"),
                agree(self.pending.len(), "it", "them"),
                quote_names(self.pending.iter())
            ));
        }
        if unknown > 0 {
            hints.push(
                "wait for the controller to unseal them (it records status.keyFingerprints; upstream controllers and --update-status=false do not)".to_owned(),
            );
        }
        if reasons.is_empty() {
            return None;
        }
        hints.push(
            "--force retires it anyway: what still needs it can then no longer be unsealed"
                .to_owned(),
        );
        Some(
            CliError::refused(format!(
                "refusing to retire {fingerprint}: {}",
                reasons.join("; ")
            ))
            .hint(hints.join("; ")),
        )
    }

    /// The table `keys list` prints.
    pub fn render_table(&self) -> String {
        let header = [
            "KIND",
            "FINGERPRINT",
            "STATE",
            "CREATED",
            "SEALEDSECRETS",
            "SECRET",
        ];
        let rows: Vec<[String; 6]> = self
            .keys
            .iter()
            .map(|k| {
                [
                    k.kind.name().to_owned(),
                    k.fingerprint_text().to_owned(),
                    if k.sealing {
                        format!("{} *", k.state)
                    } else if k.problem.is_some() {
                        format!("{} (unusable)", k.state)
                    } else {
                        k.state.to_string()
                    },
                    k.created.map_or_else(|| "-".to_owned(), format_time),
                    k.used_by.len().to_string(),
                    k.secret.clone(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if i == 4 {
                    // Counts line up on the right.
                    text.push_str(&format!("{cell:>width$}  "));
                } else if i == 5 {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text.push('\n');
            text
        };
        let mut out = line(header);
        for row in &rows {
            out.push_str(&line([
                &row[0], &row[1], &row[2], &row[3], &row[4], &row[5],
            ]));
        }
        if self.keys.is_empty() {
            out.push_str(&format!(
                "(no key Secret in namespace {}: is it the controller's? --controller-namespace)\n",
                self.namespace
            ));
        }
        if self.keys.iter().any(|k| k.sealing) {
            out.push_str("* seals new SealedSecrets (the newest active key of its kind)\n");
        }
        for key in self.keys.iter().filter(|k| k.problem.is_some()) {
            out.push_str(&format!(
                "unusable: Secret {}: {}\n",
                key.secret,
                key.problem.as_deref().unwrap_or_default()
            ));
        }
        let place = if self.scope.is_empty() {
            "the cluster".to_owned()
        } else {
            format!("namespace {}", self.scope.join(", "))
        };
        out.push_str(&format!(
            "{} in {place}",
            count(self.sealed_secrets, "SealedSecret")
        ));
        if self.not_inventoried.is_empty() && self.pending.is_empty() {
            out.push_str(", all with a key inventory\n");
        } else {
            out.push('\n');
        }
        if !self.not_inventoried.is_empty() {
            out.push_str(&format!(
                "{} without key inventory yet (not unsealed by this controller since it records one): {}\n",
                self.not_inventoried.len(),
                quote_names(self.not_inventoried.iter())
            ));
        }
        if !self.pending.is_empty() {
            out.push_str(&format!(
                "{} changed since their last unseal (inventory not current): {}\n",
                self.pending.len(),
                quote_names(self.pending.iter())
            ));
        }
        if !self.other_keys.is_empty() {
            out.push_str(&format!(
                "keys not in namespace {} named by inventories: {}\n",
                self.namespace,
                self.other_keys
                    .iter()
                    .map(|(fingerprint, n)| format!("{fingerprint} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out
    }

    /// The JSON document `keys list -o json` prints (schema in docs/rotation.md).
    pub fn to_json(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({
                    "kind": k.kind.name(),
                    "fingerprint": k.fingerprint.as_ref().map(Fingerprint::as_str),
                    "state": k.state.label_value(),
                    "sealing": k.sealing,
                    "created": k.created.map(format_time),
                    "secret": k.secret,
                    "sealedSecrets": k.used_by.len(),
                    "usedBy": k.used_by,
                    "problem": k.problem,
                })
            })
            .collect();
        json!({
            "namespace": self.namespace,
            "keys": keys,
            "sealedSecrets": {
                "namespaces": if self.scope.is_empty() { Value::Null } else { json!(self.scope) },
                "total": self.sealed_secrets,
                "notInventoried": self.not_inventoried,
                "pending": self.pending,
                "otherKeys": self.other_keys,
            },
        })
    }
}

/// The base64 part of a fingerprint argument (`SHA256:` may be left out), checked before
/// anything is read from the cluster.
///
/// # Errors
/// Too short to name one key, or not a fingerprint at all (usage errors).
pub fn fingerprint_body(arg: &str) -> Result<&str> {
    let arg = arg.trim();
    let hint =
        "give the full SHA256:… of `sealant keys list`, or at least 8 characters after SHA256:";
    let Some(body) = Fingerprint::prefix_body(arg) else {
        return Err(CliError::usage(format!("{arg:?} is not a key fingerprint")).hint(hint));
    };
    if body.len() < 8 {
        return Err(
            CliError::usage(format!("fingerprint {arg:?} is too short to name one key")).hint(hint),
        );
    }
    Ok(body)
}

fn format_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `one` for 1, else `many`.
fn agree<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `1 SealedSecret has`, `2 SealedSecrets have` (the noun's first word takes the plural).
fn count_verb(n: usize, noun: &str, one: &str, many: &str) -> String {
    let noun = match noun.split_once(' ') {
        Some((head, rest)) if n != 1 => format!("{head}s {rest}"),
        _ if n != 1 => format!("{noun}s"),
        _ => noun.to_owned(),
    };
    format!("{n} {noun} {}", agree(n, one, many))
}

/// `a, b, c, d, e and 3 more`.
fn quote_names<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> String {
    let total = names.len();
    let shown: Vec<&str> = names.take(NAMES_SHOWN).map(String::as_str).collect();
    let mut text = shown.join(", ");
    if total > shown.len() {
        text.push_str(&format!(" and {} more", total - shown.len()));
    }
    text
}

/// A kube error as a CLI error: `what` failed, with `denied` as the hint when the API server
/// refused it, and a reachability hint when it was not reached at all.
fn api_error(what: String, err: &kube::Error, denied: &str) -> CliError {
    let cli = CliError::new(format!("{what}: {}", kube_message(err)));
    match err {
        kube::Error::Api(_) => cli.hint(denied.to_owned()),
        _ => cli.hint("the API server was not reached: check --kubeconfig/--context (`kubectl get ns` should work)"),
    }
}

/// A client for the user's cluster; `sealant keys` has no offline fallback.
async fn keys_client(cluster: &ClusterArgs) -> Result<Client> {
    crate::cluster::client(cluster, &KubeOverrides::default())
        .await
        .map_err(|e| {
            if e.message().starts_with("cannot find the cluster") {
                e.hint("pass --kubeconfig/--context: `sealant keys` works on the cluster's key Secrets")
            } else {
                e
            }
        })
}

/// The key Secrets of the controller namespace, of both kinds, in the API's list order.
async fn read_keys(client: &Client, namespace: &str) -> Result<Vec<KeyEntry>> {
    let api: Api<K8sSecret> = Api::namespaced(client.clone(), namespace);
    let mut keys = Vec::new();
    for kind in [KeyKind::Rsa, KeyKind::Age] {
        let list = api
            .list(&ListParams::default().labels(kind.label()))
            .await
            .map_err(|e| {
                api_error(
                    format!("cannot list key Secrets in namespace {namespace}"),
                    &e,
                    "`sealant keys` needs `list` on Secrets in the controller namespace (--controller-namespace)",
                )
            })?;
        for item in &list.items {
            keys.push(KeyEntry::from_secret(kind, &to_core(item)?));
        }
    }
    // Upstream's legacy single key, unlabelled, which controllers load as active (without the
    // right to read it by name, it is left out as if absent).
    let legacy = match api.get_opt(DEFAULT_KEY_PREFIX).await {
        Ok(legacy) => legacy,
        Err(kube::Error::Api(status)) if status.code == 403 => None,
        Err(e) => {
            return Err(api_error(
                format!("cannot read Secret {namespace}/{DEFAULT_KEY_PREFIX}"),
                &e,
                "`sealant keys` reads the key Secrets in the controller namespace (--controller-namespace)",
            ));
        }
    };
    if let Some(legacy) = legacy.filter(|l| {
        !keys
            .iter()
            .any(|k| Some(k.secret.as_str()) == l.metadata.name.as_deref())
    }) {
        let mut entry = KeyEntry::from_secret(KeyKind::Rsa, &to_core(&legacy)?);
        entry.state = KeyState::of_loaded(None);
        keys.push(entry);
    }
    Ok(keys)
}

/// The SealedSecrets of `scope`'s namespaces (empty: of the cluster): name, generation and
/// status only are kept.
///
/// Listed untyped (the resource is the typed CRD's): one object whose status does not fit the
/// typed model would fail a whole typed page, and upstream's CRD leaves `status` unchecked.
/// Such an object is counted without inventory instead (see [`sealed_record`]).
async fn read_sealed(client: &Client, scope: &[String]) -> Result<Vec<SealedRecord>> {
    let resource = ApiResource::erase::<SealedSecret>(&());
    let mut records = Vec::new();
    if scope.is_empty() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        read_sealed_pages(&api, &mut records).await?;
    }
    let namespaces: BTreeSet<&String> = scope.iter().collect();
    for namespace in namespaces {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        read_sealed_pages(&api, &mut records).await?;
    }
    Ok(records)
}

async fn read_sealed_pages(
    api: &Api<DynamicObject>,
    records: &mut Vec<SealedRecord>,
) -> Result<()> {
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.map_err(|e| match &e {
            kube::Error::Api(status) if status.code == 404 => api_error(
                "cannot list SealedSecrets".into(),
                &e,
                "the SealedSecret CRD (sealedsecrets.bitnami.com) is not installed in this cluster",
            ),
            _ => api_error(
                "cannot list SealedSecrets".into(),
                &e,
                "the key inventory needs `list` on sealedsecrets.bitnami.com in every namespace",
            ),
        })?;
        records.extend(page.items.iter().map(sealed_record));
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    Ok(())
}

/// What the inventory keeps of a listed SealedSecret; a status of the wrong shape reads as none.
fn sealed_record(object: &DynamicObject) -> SealedRecord {
    let name = format!(
        "{}/{}",
        object.metadata.namespace.as_deref().unwrap_or_default(),
        object.metadata.name.as_deref().unwrap_or_default()
    );
    let status = object
        .data
        .get("status")
        .and_then(|s| serde_json::from_value::<SealedSecretStatus>(s.clone()).ok());
    SealedRecord {
        name,
        generation: object.metadata.generation,
        status,
    }
}

/// The keys and the SealedSecrets of `scope` (empty: the cluster), counted.
async fn read_inventory(
    client: &Client,
    namespace: &str,
    scope: &InventoryScopeArgs,
) -> Result<Inventory> {
    let keys = read_keys(client, namespace).await?;
    let sealed = read_sealed(client, &scope.sealed_secrets_namespace).await?;
    let mut inventory = Inventory::new(namespace, keys, &sealed);
    inventory.scope = scope.sealed_secrets_namespace.clone();
    Ok(inventory)
}

/// The inventory `keys list` shows, read with the user's kubeconfig.
///
/// # Errors
/// No cluster, or no right to list key Secrets or SealedSecrets.
pub fn inventory(cluster: &ClusterArgs, scope: &InventoryScopeArgs) -> Result<Inventory> {
    crate::runtime()?.block_on(async {
        let client = keys_client(cluster).await?;
        read_inventory(&client, &cluster.controller_namespace, scope).await
    })
}

/// `sealant keys list`.
///
/// # Errors
/// As [`inventory`].
pub fn list(args: &KeysListArgs) -> Result<()> {
    let inventory = inventory(&args.cluster, &args.scope)?;
    let text = match args.output {
        KeysListFormat::Table => inventory.render_table(),
        KeysListFormat::Json => {
            let mut text = serde_json::to_string_pretty(&inventory.to_json()).map_err(|e| {
                CliError::new(format!("cannot encode the key list: {e}"))
                    .hint("`-o table` prints the same list")
            })?;
            text.push('\n');
            text
        }
    };
    crate::io::write_stdout(text.as_bytes())
}

/// Sets `kind`'s state label of every Secret holding `fingerprint` (with `only`: of those in
/// that state). The `resourceVersion` read with the inventory makes the change conditional: a
/// key Secret changed meanwhile is not overwritten.
async fn set_state(
    client: &Client,
    inventory: &Inventory,
    fingerprint: &Fingerprint,
    state: &KeyState,
    only: Option<&KeyState>,
) -> Result<Vec<KeyEntry>> {
    let api: Api<K8sSecret> = Api::namespaced(client.clone(), &inventory.namespace);
    let mut changed = Vec::new();
    for entry in inventory.entries(fingerprint) {
        if &entry.state == state || only.is_some_and(|only| &entry.state != only) {
            continue;
        }
        let mut metadata = json!({ "labels": { entry.kind.label(): state.label_value() } });
        if let Some(version) = &entry.resource_version {
            metadata["resourceVersion"] = json!(version);
        }
        api.patch(
            &entry.secret,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "metadata": metadata })),
        )
        .await
        .map_err(|e| {
            let what = format!(
                "cannot label Secret {}/{} {}",
                inventory.namespace,
                entry.secret,
                state.label_value()
            );
            match &e {
                kube::Error::Api(status) if status.code == 409 => api_error(
                    what,
                    &e,
                    "the key Secret changed meanwhile: run the command again",
                ),
                _ => api_error(
                    what,
                    &e,
                    "changing a key's state needs `patch` on Secrets in the controller namespace",
                ),
            }
        })?;
        changed.push(entry.clone());
    }
    Ok(changed)
}

/// Resolves the argument and reads what a state change needs. Without `sealed_required`,
/// SealedSecrets that cannot be listed only leave the counts out (with a note): marking a
/// key compromised must not wait for rights it does not need.
async fn connect(
    cluster: &ClusterArgs,
    scope: &InventoryScopeArgs,
    fingerprint: &str,
    sealed_required: bool,
) -> Result<(Client, Inventory, Fingerprint)> {
    fingerprint_body(fingerprint)?;
    let client = keys_client(cluster).await?;
    let keys = read_keys(&client, &cluster.controller_namespace).await?;
    let sealed = match read_sealed(&client, &scope.sealed_secrets_namespace).await {
        Ok(sealed) => sealed,
        Err(err) if !sealed_required => {
            note(&format!(
                "note: SealedSecrets not counted: {}",
                err.message()
            ));
            Vec::new()
        }
        Err(err) => return Err(err),
    };
    let mut inventory = Inventory::new(&cluster.controller_namespace, keys, &sealed);
    inventory.scope = scope.sealed_secrets_namespace.clone();
    let fingerprint = inventory.resolve(fingerprint)?;
    Ok((client, inventory, fingerprint))
}

fn note(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `sealant keys retire`.
///
/// # Errors
/// A refusal (exit code 2) while something may need the key, unless `--force`; cluster errors.
pub fn retire(args: &KeysRetireArgs) -> Result<()> {
    crate::runtime()?.block_on(async {
        let (client, inventory, fingerprint) =
            connect(&args.cluster, &args.scope, &args.fingerprint, true).await?;
        let entries = inventory.entries(&fingerprint);
        if entries.iter().all(|k| k.state == KeyState::Retired) {
            note(&format!("{fingerprint} is already retired; nothing changed"));
            return Ok(());
        }
        if let Some(refusal) = inventory.retire_refusal(&fingerprint) {
            if !args.force {
                return Err(refusal);
            }
            note(&format!("warning: --force: {}", refusal.message()));
        }
        let changed =
            set_state(&client, &inventory, &fingerprint, &KeyState::Retired, None).await?;
        for entry in &changed {
            note(&format!(
                "retired: {} — it no longer seals nor unseals; undo with `sealant keys reactivate {fingerprint}`",
                entry.describe()
            ));
        }
        Ok(())
    })
}

/// `sealant keys compromise`.
///
/// # Errors
/// Cluster errors.
pub fn compromise(args: &KeysStateArgs) -> Result<()> {
    crate::runtime()?.block_on(async {
        let (client, inventory, fingerprint) =
            connect(&args.cluster, &args.scope, &args.fingerprint, false).await?;
        if let Some(skip) = inventory.compromise_skip(&fingerprint) {
            note(&skip);
            return Ok(());
        }
        let changed = set_state(
            &client,
            &inventory,
            &fingerprint,
            &KeyState::Compromised,
            Some(&KeyState::Active),
        )
        .await?;
        let Some(entry) = changed.first() else {
            return Ok(());
        };
        note(&format!(
            "compromised: {} — it still unseals, and never seals again",
            entry.describe()
        ));
        for text in compromise_next_steps(&inventory, &fingerprint) {
            note(&text);
        }
        Ok(())
    })
}

/// What happens after `fingerprint` is marked compromised, from the inventory read before.
pub fn compromise_next_steps(inventory: &Inventory, fingerprint: &Fingerprint) -> Vec<String> {
    let entries = inventory.entries(fingerprint);
    let mut lines = Vec::new();
    if let Some(sealing) = entries.iter().find(|k| k.sealing) {
        let mut after: Vec<KeyEntry> = inventory.keys.clone();
        for key in &mut after {
            if key.fingerprint.as_ref() == Some(fingerprint) {
                key.state = KeyState::Compromised;
            }
        }
        mark_sealing(&mut after);
        match after.iter().find(|k| k.kind == sealing.kind && k.sealing) {
            Some(next) => lines.push(format!(
                "Sealing falls back to the next newest active {} key, {}; `sealant keys rotate` makes a fresh one.",
                sealing.kind.upper(),
                next.fingerprint_text()
            )),
            None if sealing.kind == KeyKind::Rsa => lines.push(
                "It was the only active RSA key: the controller's leader generates a new one at its next key reload (within seconds); `sealant cert` shows it.".to_owned(),
            ),
            None => lines.push(
                "It was the only active age key: the controller's leader generates a new one at its next key reload (when age keys are on).".to_owned(),
            ),
        }
    }
    let used: BTreeSet<&String> = entries.iter().flat_map(|k| &k.used_by).collect();
    if !used.is_empty() {
        lines.push(format!(
            "{} a KeyCompromised condition and a Warning event: {}",
            count_verb(used.len(), "SealedSecret opened with it", "gets", "get"),
            quote_names(used.iter().copied())
        ));
    }
    lines.push(format!(
        "Next: re-encrypt the repository (`sealant reencrypt PATH…`) and apply; change the secret values themselves (whoever holds the key may have read them); then `sealant keys retire {fingerprint}`. Runbook: docs/rotation.md."
    ));
    lines
}

/// `sealant keys reactivate`.
///
/// # Errors
/// Cluster errors.
pub fn reactivate(args: &KeysReactivateArgs) -> Result<()> {
    crate::runtime()?.block_on(async {
        let (client, inventory, fingerprint) =
            connect(&args.cluster, &args.scope, &args.fingerprint, false).await?;
        let entries = inventory.entries(&fingerprint);
        let was_compromised = entries.iter().any(|k| k.state == KeyState::Compromised);
        if entries.iter().all(|k| k.state == KeyState::Active) {
            note(&format!("{fingerprint} is already active; nothing changed"));
            return Ok(());
        }
        let will_seal = inventory.seals_once_active(&fingerprint);
        if !args.force
            && let Some(refusal) = inventory.reactivation_refusal(&fingerprint)
        {
            return Err(refusal);
        }
        let changed =
            set_state(&client, &inventory, &fingerprint, &KeyState::Active, None).await?;
        for entry in &changed {
            note(&format!("active again: {}", entry.describe()));
        }
        if will_seal {
            note("It is the newest active key of its kind: the controller seals with it again.");
        }
        if was_compromised {
            note("warning: it was marked compromised; whoever holds a copy can open what is sealed to it");
        }
        Ok(())
    })
}

/// `sealant keys rotate`: the new key's fingerprint, or `None` with `--wait 0`.
///
/// # Errors
/// No active RSA key, no cluster or rights, or no new key within `--wait`.
pub fn rotate(args: &KeysRotateArgs) -> Result<Option<Fingerprint>> {
    let wait = crate::cluster::parse_go_duration(&args.wait).ok_or_else(|| {
        CliError::usage(format!("invalid --wait {:?}", args.wait))
            .hint("give a duration with a unit, like 60s or 5m (0 asks without waiting)")
    })?;
    let namespace = args.cluster.controller_namespace.clone();
    crate::runtime()?.block_on(async {
        let client = keys_client(&args.cluster).await?;
        let mut keys = read_keys(&client, &namespace).await?;
        mark_sealing(&mut keys);
        let Some(current) = keys.iter().find(|k| k.kind == KeyKind::Rsa && k.sealing).cloned()
        else {
            return Err(CliError::new(format!(
                "no active RSA key in namespace {namespace} to renew"
            ))
            .hint("the controller creates its first key when it starts: is it running, with this --controller-namespace?"));
        };
        let requested = format!(
            "sealant keys rotate at {}",
            format_time(OffsetDateTime::now_utc())
        );
        let api: Api<K8sSecret> = Api::namespaced(client.clone(), &namespace);
        api.patch(
            &current.secret,
            &PatchParams::default(),
            &Patch::Merge(&json!({
                "metadata": { "annotations": { RENEW_REQUEST_ANNOTATION: requested } }
            })),
        )
        .await
        .map_err(|e| {
            api_error(
                format!("cannot annotate Secret {namespace}/{}", current.secret),
                &e,
                "`sealant keys rotate` needs `patch` on Secrets in the controller namespace",
            )
        })?;
        if wait.is_zero() {
            note(&format!(
                "requested a new key (annotation {RENEW_REQUEST_ANNOTATION} on Secret {}); the controller's leader acts on it at its next key reload",
                current.secret
            ));
            return Ok(None);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::time::sleep(ROTATE_POLL).await;
            let mut keys = read_keys(&client, &namespace).await?;
            mark_sealing(&mut keys);
            // A key made for the request: newer than the one asked on (not an older key that
            // took over because the current one was retired or compromised meanwhile).
            let newest = keys
                .iter()
                .find(|k| k.kind == KeyKind::Rsa && k.sealing && k.created > current.created)
                .and_then(|k| k.fingerprint.clone());
            if let Some(newest) = newest.filter(|f| Some(f) != current.fingerprint.as_ref()) {
                note(&format!(
                    "new sealing key {newest} (was {}); re-encrypt with `sealant reencrypt PATH…`, then retire the old key once `sealant keys list` shows it unused",
                    current.fingerprint_text()
                ));
                return Ok(Some(newest));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CliError::new(format!(
                    "the controller did not create a new key within {}",
                    args.wait
                ))
                .hint(format!(
                    "is a sealant controller (upstream ignores the request) running in namespace {namespace}, with a leader? Only the leader creates keys; the request stays on Secret {} and is honoured at its next key reload",
                    current.secret
                )));
            }
        }
    })
}

/// Runs `sealant keys rotate` and prints the new fingerprint on stdout.
///
/// # Errors
/// As [`rotate`].
pub fn rotate_cmd(args: &KeysRotateArgs) -> Result<()> {
    match rotate(args)? {
        Some(fingerprint) => crate::io::write_stdout(format!("{fingerprint}\n").as_bytes()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

    use super::*;

    const FP_OLD: &str = "SHA256:AAAAAAAAold11111111111111111111111111111111";
    const FP_NEW: &str = "SHA256:AAAAAAAAnew22222222222222222222222222222222";
    const FP_AGE: &str = "SHA256:BBBBBBBBage33333333333333333333333333333333";

    fn fp(text: &str) -> Fingerprint {
        Fingerprint::parse(text).unwrap()
    }

    fn at(seconds: i64) -> Option<OffsetDateTime> {
        Some(OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap())
    }

    fn key(kind: KeyKind, fingerprint: &str, state: &str, created: i64, secret: &str) -> KeyEntry {
        KeyEntry {
            kind,
            fingerprint: Some(fp(fingerprint)),
            state: KeyState::from_label(state),
            created: at(created),
            secret: secret.into(),
            resource_version: Some("1".into()),
            problem: None,
            sealing: false,
            used_by: Vec::new(),
        }
    }

    fn record(
        name: &str,
        fingerprints: Option<&[&str]>,
        generation: i64,
        observed: i64,
    ) -> SealedRecord {
        SealedRecord {
            name: name.into(),
            generation: Some(generation),
            status: Some(SealedSecretStatus {
                observed_generation: Some(observed),
                key_fingerprints: fingerprints.map(|f| f.iter().map(|s| (*s).to_owned()).collect()),
                ..SealedSecretStatus::default()
            }),
        }
    }

    #[test]
    fn only_an_active_key_is_marked_compromised() {
        let mut keys = keys();
        keys[2].state = KeyState::Retired;
        let inventory = Inventory::new("ns", keys, &[]);
        // Retired: compromising it would make it unseal again.
        let skip = inventory.compromise_skip(&fp(FP_OLD)).unwrap();
        assert!(skip.contains("is not active"), "{skip}");
        assert_eq!(inventory.compromise_skip(&fp(FP_NEW)), None);
        let mut keys = keys_with_state(FP_NEW, "compromised");
        keys.retain(|k| k.fingerprint == Some(fp(FP_NEW)));
        let skip = Inventory::new("ns", keys, &[])
            .compromise_skip(&fp(FP_NEW))
            .unwrap();
        assert!(skip.contains("already marked compromised"), "{skip}");
    }

    #[test]
    fn reactivating_a_compromised_key_that_would_seal_is_refused() {
        // The newest key compromised (no newer one made yet): reactivating it would seal with it.
        let inventory = Inventory::new("ns", keys_with_state(FP_NEW, "compromised"), &[]);
        let refusal = inventory.reactivation_refusal(&fp(FP_NEW)).unwrap();
        assert_eq!(refusal.exit_code(), crate::error::EXIT_REFUSED);
        assert!(refusal.hint_text().is_some_and(|h| h.contains("--force")));
        // An older compromised key stays behind the newest active one: allowed.
        let inventory = Inventory::new("ns", keys_with_state(FP_OLD, "compromised"), &[]);
        assert!(inventory.reactivation_refusal(&fp(FP_OLD)).is_none());
        assert!(!inventory.seals_once_active(&fp(FP_OLD)));
        // A retired newest key is not compromised: reactivating it is an undo.
        let inventory = Inventory::new("ns", keys_with_state(FP_NEW, "retired"), &[]);
        assert!(inventory.reactivation_refusal(&fp(FP_NEW)).is_none());
        assert!(inventory.seals_once_active(&fp(FP_NEW)));
    }

    fn keys_with_state(fingerprint: &str, state: &str) -> Vec<KeyEntry> {
        let mut keys = keys();
        for key in &mut keys {
            if key.fingerprint == Some(fp(fingerprint)) {
                key.state = KeyState::from_label(state);
            }
        }
        keys
    }

    /// Keys listed newest first (as the API might list them), to prove sorting by time.
    fn keys() -> Vec<KeyEntry> {
        vec![
            key(KeyKind::Age, FP_AGE, "active", 5, "sealant-age-key1"),
            key(KeyKind::Rsa, FP_NEW, "active", 10, "sealed-secrets-key2"),
            key(KeyKind::Rsa, FP_OLD, "active", 0, "sealed-secrets-key1"),
        ]
    }

    #[test]
    fn key_secrets_are_read_with_core_rules() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/age/key-secrets.yaml"),
        )
        .unwrap();
        let secrets = sealant_core::age::backup::read_key_secrets(&text).unwrap();
        let rsa = KeyEntry::from_secret(KeyKind::Rsa, &secrets[0]);
        let (key, cert) = read_key_secret(&secrets[0]).unwrap();
        assert_eq!(rsa.fingerprint.as_ref(), Some(key.fingerprint()));
        assert_eq!(rsa.created, Some(cert.unwrap().not_before()));
        assert_eq!(
            (rsa.state.clone(), rsa.problem.clone()),
            (KeyState::Active, None)
        );
        assert_eq!(rsa.secret, "sealed-secrets-keyabcde");
        let age = KeyEntry::from_secret(KeyKind::Age, &secrets[1]);
        assert_eq!(
            age.fingerprint.as_ref(),
            Some(read_age_key_secret(&secrets[1]).unwrap().fingerprint())
        );
        assert_eq!(
            age.created.map(format_time).as_deref(),
            Some("2026-05-28T20:26:40Z")
        );
        // An age Secret found by the RSA label is unusable as an RSA key, with core's reason.
        let wrong = KeyEntry::from_secret(KeyKind::Rsa, &secrets[1]);
        assert_eq!(wrong.fingerprint, None);
        assert_eq!(
            wrong.problem.as_deref(),
            Some("secret must contain a 'tls.key' key")
        );
        // No private material in what is shown.
        let inventory = Inventory::new("kube-system", vec![rsa, age, wrong], &[]);
        let shown = format!("{}{}", inventory.render_table(), inventory.to_json());
        assert!(
            !shown.contains("PRIVATE") && !shown.contains("AGE-SECRET-KEY"),
            "{shown}"
        );
    }

    #[test]
    fn the_newest_active_key_of_each_kind_seals() {
        let inventory = Inventory::new("ns", keys(), &[]);
        let sealing: Vec<&str> = inventory
            .keys
            .iter()
            .filter(|k| k.sealing)
            .map(|k| k.secret.as_str())
            .collect();
        assert_eq!(sealing, ["sealed-secrets-key2", "sealant-age-key1"]);
        // Sorted: RSA first, oldest first.
        assert_eq!(inventory.keys[0].secret, "sealed-secrets-key1");
        // Compromised and retired keys never seal: the older active key takes over.
        for state in ["compromised", "retired", "unknown-value"] {
            let mut list = keys();
            list[1].state = KeyState::from_label(state);
            mark_sealing(&mut list);
            assert!(list[2].sealing && !list[1].sealing, "{state}");
        }
        // An unusable key never seals either.
        let mut list = keys();
        list[1].problem = Some("broken".into());
        mark_sealing(&mut list);
        assert!(list[2].sealing && !list[1].sealing);
        // Equal times: the later in list order wins, as the controller's stable sort leaves it.
        let mut tie = vec![
            key(KeyKind::Rsa, FP_OLD, "active", 0, "a"),
            key(KeyKind::Rsa, FP_NEW, "active", 0, "b"),
        ];
        mark_sealing(&mut tie);
        assert!(tie[1].sealing && !tie[0].sealing);
    }

    #[test]
    fn usage_is_counted_from_status_key_fingerprints() {
        let other = "SHA256:CCCCCCCCother444444444444444444444444444444";
        let sealed = [
            record("prod/b", Some(&[FP_OLD]), 1, 1),
            record("prod/a", Some(&[FP_OLD, FP_NEW, FP_OLD]), 2, 2),
            record("dev/c", Some(&[FP_NEW, FP_AGE]), 1, 1),
            record("dev/d", None, 1, 1),
            record("dev/e", Some(&[FP_NEW]), 3, 2),
            record("x/y", Some(&[other]), 1, 1),
            SealedRecord {
                name: "x/no-status".into(),
                generation: Some(1),
                status: None,
            },
        ];
        let inventory = Inventory::new("ns", keys(), &sealed);
        let used = |secret: &str| {
            inventory
                .keys
                .iter()
                .find(|k| k.secret == secret)
                .unwrap()
                .used_by
                .clone()
        };
        assert_eq!(used("sealed-secrets-key1"), ["prod/a", "prod/b"]);
        assert_eq!(used("sealed-secrets-key2"), ["dev/c", "dev/e", "prod/a"]);
        assert_eq!(used("sealant-age-key1"), ["dev/c"]);
        assert_eq!(inventory.sealed_secrets, 7);
        assert_eq!(inventory.not_inventoried, ["dev/d", "x/no-status"]);
        assert_eq!(inventory.pending, ["dev/e"]);
        assert_eq!(
            inventory.other_keys,
            BTreeMap::from([(other.to_owned(), 1)])
        );
    }

    #[test]
    fn fingerprints_resolve_from_unambiguous_prefixes() {
        let inventory = Inventory::new("ns", keys(), &[]);
        assert_eq!(inventory.resolve(FP_OLD).unwrap(), fp(FP_OLD));
        assert_eq!(inventory.resolve("SHA256:AAAAAAAAo").unwrap(), fp(FP_OLD));
        assert_eq!(inventory.resolve(" BBBBBBBB ").unwrap(), fp(FP_AGE));
        let ambiguous = inventory.resolve("SHA256:AAAAAAAA").unwrap_err();
        assert_eq!(ambiguous.exit_code(), crate::error::EXIT_USAGE);
        assert!(ambiguous.message().contains(FP_OLD) && ambiguous.message().contains(FP_NEW));
        let short = inventory.resolve("SHA256:AAAAAAA").unwrap_err();
        assert_eq!(short.exit_code(), crate::error::EXIT_USAGE);
        assert!(short.message().contains("too short"), "{short}");
        for bad in ["SHA256:not-base64!", "kube-system/sealed-secrets-key"] {
            let err = inventory.resolve(bad).unwrap_err();
            assert_eq!(err.exit_code(), crate::error::EXIT_USAGE, "{bad}");
            assert!(err.message().contains("is not a key fingerprint"), "{err}");
        }
        let unknown = inventory.resolve("SHA256:ZZZZZZZZZ").unwrap_err();
        assert_eq!(unknown.exit_code(), crate::error::EXIT_FAILURE);
        assert!(unknown.hint_text().unwrap().contains("sealant keys list"));
    }

    #[test]
    fn retiring_is_refused_while_anything_may_need_the_key() {
        let refusal = |sealed: &[SealedRecord], fingerprint: &str| {
            Inventory::new("ns", keys(), sealed).retire_refusal(&fp(fingerprint))
        };
        let clean = [record("a/b", Some(&[FP_NEW]), 1, 1)];
        assert!(
            refusal(&clean, FP_OLD).is_none(),
            "unused, fully inventoried: allowed"
        );

        let sealing = refusal(&clean, FP_NEW).unwrap();
        assert_eq!(sealing.exit_code(), crate::error::EXIT_REFUSED);
        assert!(
            sealing
                .message()
                .contains("the one the controller seals with"),
            "{sealing}"
        );
        assert!(
            sealing.hint_text().unwrap().contains("sealant keys rotate"),
            "{sealing}"
        );
        assert!(refusal(&clean, FP_AGE).is_some(), "the published age key");

        let names: Vec<SealedRecord> = (0..7)
            .map(|i| record(&format!("ns/s{i}"), Some(&[FP_OLD]), 1, 1))
            .collect();
        let used = refusal(&names, FP_OLD).unwrap();
        assert!(
            used.message().contains(
                "7 SealedSecrets still need it: ns/s0, ns/s1, ns/s2, ns/s3, ns/s4 and 2 more"
            ),
            "{used}"
        );
        assert!(used.hint_text().unwrap().contains("--force"), "{used}");

        let unknown = refusal(&[record("a/b", None, 1, 1)], FP_OLD).unwrap();
        assert!(
            unknown
                .message()
                .contains("1 SealedSecret has no key inventory yet, so it might: a/b"),
            "{unknown}"
        );
        let pending = refusal(&[record("a/b", Some(&[FP_NEW]), 2, 1)], FP_OLD).unwrap();
        assert!(
            pending
                .message()
                .contains("1 SealedSecret changed since the controller last unsealed it: a/b"),
            "{pending}"
        );
    }

    #[test]
    fn the_table_lines_up_and_says_what_blocks_retiring() {
        let sealed = [
            record("prod/a", Some(&[FP_OLD]), 1, 1),
            record("prod/b", None, 1, 1),
        ];
        let mut list = keys();
        list[0].state = KeyState::Retired;
        list.push(KeyEntry {
            fingerprint: None,
            problem: Some("secret must contain a 'tls.key' key".into()),
            ..key(KeyKind::Rsa, FP_OLD, "active", 20, "broken")
        });
        let table = Inventory::new("kube-system", list, &sealed).render_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[..5],
            [
                "KIND  FINGERPRINT                                         STATE              CREATED               SEALEDSECRETS  SECRET",
                "rsa   SHA256:AAAAAAAAold11111111111111111111111111111111  active             2027-01-15T08:00:00Z              1  sealed-secrets-key1",
                "rsa   SHA256:AAAAAAAAnew22222222222222222222222222222222  active *           2027-01-15T08:00:10Z              0  sealed-secrets-key2",
                "rsa   -                                                   active (unusable)  2027-01-15T08:00:20Z              0  broken",
                "age   SHA256:BBBBBBBBage33333333333333333333333333333333  retired            2027-01-15T08:00:05Z              0  sealant-age-key1",
            ],
            "{table}"
        );
        assert!(table.contains("* seals new SealedSecrets"), "{table}");
        assert!(
            table.contains("unusable: Secret broken: secret must contain a 'tls.key' key"),
            "{table}"
        );
        assert!(
            table.contains("2 SealedSecrets in the cluster\n"),
            "{table}"
        );
        assert!(table.contains("1 without key inventory yet (not unsealed by this controller since it records one): prod/b"), "{table}");
    }

    #[test]
    fn json_follows_the_documented_schema() {
        let inventory = Inventory::new("ns", keys(), &[record("a/b", Some(&[FP_OLD]), 1, 1)]);
        let json = inventory.to_json();
        assert_eq!(json["namespace"], "ns");
        assert_eq!(
            json["keys"][0],
            json!({
                "kind": "rsa", "fingerprint": FP_OLD, "state": "active", "sealing": false,
                "created": "2027-01-15T08:00:00Z", "secret": "sealed-secrets-key1",
                "sealedSecrets": 1, "usedBy": ["a/b"], "problem": null,
            })
        );
        assert_eq!(json["keys"][1]["sealing"], true);
        assert_eq!(
            json["sealedSecrets"],
            json!({ "namespaces": null, "total": 1, "notInventoried": [], "pending": [], "otherKeys": {} })
        );
        let mut scoped = inventory.clone();
        scoped.scope = vec!["prod".into(), "dev".into()];
        assert_eq!(
            scoped.to_json()["sealedSecrets"]["namespaces"],
            json!(["prod", "dev"])
        );
        assert!(
            scoped
                .render_table()
                .contains("1 SealedSecret in namespace prod, dev"),
            "{}",
            scoped.render_table()
        );
    }

    #[test]
    fn compromise_says_what_seals_next() {
        let inventory = Inventory::new("ns", keys(), &[record("a/b", Some(&[FP_NEW]), 1, 1)]);
        let steps = compromise_next_steps(&inventory, &fp(FP_NEW)).join("\n");
        assert!(
            steps.contains(&format!(
                "falls back to the next newest active RSA key, {FP_OLD}"
            )),
            "{steps}"
        );
        assert!(
            steps.contains("1 SealedSecret opened with it gets a KeyCompromised condition"),
            "{steps}"
        );
        assert!(
            steps.contains(&format!("sealant keys retire {FP_NEW}")),
            "{steps}"
        );
        let only = Inventory::new("ns", keys().split_off(1).into_iter().take(1).collect(), &[]);
        let steps = compromise_next_steps(&only, &fp(FP_NEW)).join("\n");
        assert!(
            steps.contains("only active RSA key: the controller's leader generates a new one"),
            "{steps}"
        );
        // Not the sealing key: nothing changes for sealing.
        let steps = compromise_next_steps(&inventory, &fp(FP_OLD)).join("\n");
        assert!(
            !steps.contains("Sealing") && !steps.contains("only active"),
            "{steps}"
        );
    }

    #[test]
    fn sealed_secrets_are_listed_as_the_typed_crd_and_a_bad_status_is_not_fatal() {
        let resource = ApiResource::erase::<SealedSecret>(&());
        assert_eq!(
            (
                resource.group.as_str(),
                resource.version.as_str(),
                resource.plural.as_str()
            ),
            ("bitnami.com", "v1alpha1", "sealedsecrets")
        );
        let object = |name: &str, status: Value| {
            json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                   "metadata": {"name": name, "namespace": "team", "generation": 2},
                   "spec": {"encryptedData": {}}, "status": status})
        };
        let page = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecretList",
        "metadata": {}, "items": [
            object("good", json!({"observedGeneration": 2, "keyFingerprints": [FP_OLD]})),
            object("odd", json!({"conditions": [{"reason": "no type, no status"}]})),
        ]});
        // The typed model reads a status of the wrong shape as empty instead of refusing the
        // whole page (a status is a report; sealant_core reads its fields leniently)...
        let typed: kube::core::ObjectList<SealedSecret> =
            serde_json::from_value(page.clone()).unwrap();
        assert_eq!(typed.items.len(), 2);
        assert!(
            typed.items[1]
                .status
                .as_ref()
                .is_some_and(|s| { s.conditions.is_none() && s.key_fingerprints.is_none() })
        );
        // ...and the untyped listing counts that object, without inventory.
        let page: kube::core::ObjectList<DynamicObject> = serde_json::from_value(page).unwrap();
        let records: Vec<SealedRecord> = page.items.iter().map(sealed_record).collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name, "team/good");
        assert_eq!(
            records[0]
                .status
                .as_ref()
                .and_then(|s| s.key_fingerprints.clone()),
            Some(vec![FP_OLD.to_owned()])
        );
        assert_eq!(records[1].name, "team/odd");
        assert_eq!(records[1].generation, Some(2));
        assert!(
            records[1]
                .status
                .as_ref()
                .is_none_or(|s| s.key_fingerprints.is_none() && s.conditions.is_none())
        );
    }
}
