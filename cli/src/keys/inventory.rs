//! The inventory model: the key Secrets of the controller namespace ([`KeyEntry`]), which one
//! seals, the SealedSecrets that need each key, and the rules that refuse a state change while
//! something may still need the key.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use sealant_core::keysecret::KeyState;
use sealant_core::object::SealedSecretStatus;
use sealant_core::{Fingerprint, KeyOwner};
use sealant_k8s::keys::{
    KeyKind, KeyRecord, OrderPriority, Owners, SealingCandidate, sealing_key, sort_oldest_first,
};
use time::OffsetDateTime;

use super::words::{agree, count, count_verb, quote_names};
use crate::error::{CliError, Result};

/// `RSA` or `age`, as a sentence names the kind.
pub(super) fn kind_title(kind: KeyKind) -> &'static str {
    match kind {
        KeyKind::Rsa => "RSA",
        KeyKind::Age => "age",
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
    /// The cluster's key, or a tenant's (its `sealant.dev/tenant` label).
    pub owner: KeyOwner,
    /// The Secret's `resourceVersion`, so a state change does not overwrite a concurrent one.
    pub resource_version: Option<String>,
    /// Why the controller cannot use this key Secret (it skips it).
    pub problem: Option<String>,
    /// The newest active usable key of its kind and owner: the one the controller seals with
    /// and publishes for the owner's namespaces.
    pub sealing: bool,
    /// SealedSecrets (`namespace/name`) whose inventory lists this key.
    pub used_by: Vec<String>,
}

impl KeyEntry {
    /// A key Secret as `sealant_k8s::keys` reads it (RSA keys ordered by certificate
    /// NotBefore, the controller's default `--key-order-priority`). Only public data is kept.
    pub fn from_record(record: KeyRecord) -> Self {
        KeyEntry {
            kind: record.kind,
            fingerprint: record.fingerprint,
            state: record.state,
            created: record.order_time,
            secret: record.secret,
            owner: record.owner,
            resource_version: record.resource_version,
            problem: record.problem.map(|p| p.to_string()),
            sealing: false,
            used_by: Vec::new(),
        }
    }

    /// A key Secret found by `kind`'s label.
    pub fn from_secret(kind: KeyKind, secret: &K8sSecret) -> Self {
        Self::from_record(KeyRecord::read(kind, secret, OrderPriority::CertNotBefore))
    }

    pub(super) fn usable(&self) -> bool {
        self.fingerprint.is_some() && self.problem.is_none()
    }

    pub(super) fn fingerprint_text(&self) -> &str {
        self.fingerprint.as_ref().map_or("-", Fingerprint::as_str)
    }

    pub(super) fn describe(&self) -> String {
        let owner = match &self.owner {
            KeyOwner::Cluster => String::new(),
            KeyOwner::Tenant(tenant) => format!(" of tenant {tenant}"),
        };
        format!(
            "{} ({} key{owner}, Secret {})",
            self.fingerprint_text(),
            self.kind.name(),
            self.secret
        )
    }
}

impl SealingCandidate for KeyEntry {
    fn order_time(&self) -> Option<OffsetDateTime> {
        self.created
    }

    fn state(&self) -> &KeyState {
        &self.state
    }

    fn usable(&self) -> bool {
        KeyEntry::usable(self)
    }
}

/// Marks the sealing key of each kind and owner, by the controller's rule
/// ([`sealant_k8s::keys::sealing_key`]): the newest usable active one. Every Secret holding
/// that key is marked. Each owner has its own sealing key (docs/multi-tenancy.md, "Tenant
/// keys"): a tenant's key is never the cluster's sealing key, nor the reverse.
pub fn mark_sealing(keys: &mut [KeyEntry]) {
    let owners: BTreeSet<KeyOwner> = keys.iter().map(|k| k.owner.clone()).collect();
    for owner in &owners {
        for kind in KeyKind::ALL {
            let mine = |k: &KeyEntry| k.kind == kind && &k.owner == owner;
            let newest =
                sealing_key(keys.iter().filter(|k| mine(k))).and_then(|k| k.fingerprint.clone());
            for key in keys.iter_mut().filter(|k| mine(k)) {
                key.sealing = newest.is_some() && key.fingerprint == newest;
            }
        }
    }
}

/// The owners whose keys a command shows or acts on: one owner, or every one (`None`).
pub type Selection = Option<KeyOwner>;

/// The label selection of `selection` for `sealant_k8s::keys::list`.
pub fn owners_of(selection: &Selection) -> Owners<'_> {
    match selection {
        None => Owners::All,
        Some(KeyOwner::Cluster) => Owners::Cluster,
        Some(KeyOwner::Tenant(tenant)) => Owners::Tenant(tenant),
    }
}

/// `--tenant T` as the flag to repeat in a hint, or nothing for the cluster.
pub(super) fn tenant_flag(owner: &KeyOwner) -> String {
    owner
        .tenant()
        .map(|t| format!(" --tenant {t}"))
        .unwrap_or_default()
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
    /// The key Secrets of the selected owners, RSA first, each kind oldest first.
    pub keys: Vec<KeyEntry>,
    /// Whose keys `keys` holds (`None`: every owner's).
    pub selection: Selection,
    /// The key Secrets of the other owners, which commands on the selection leave alone.
    pub elsewhere: Vec<KeyEntry>,
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
    /// and every SealedSecret counted against the keys its inventory lists. The cluster's keys
    /// are selected, as before tenants; [`Self::select`] picks others.
    pub fn new(namespace: &str, mut keys: Vec<KeyEntry>, sealed: &[SealedRecord]) -> Self {
        // Oldest first as the controller ranks them, then by kind (both sorts are stable: equal
        // times keep the API's list order).
        sort_oldest_first(&mut keys);
        keys.sort_by_key(|k| k.kind);
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
        inventory.select(Some(KeyOwner::Cluster))
    }

    /// Keeps the keys of `selection` in [`Self::keys`] and moves the others to
    /// [`Self::elsewhere`]. The counts stay those of every key: a SealedSecret that needs
    /// another owner's key is not counted as needing an unknown key.
    #[must_use]
    pub fn select(mut self, selection: Selection) -> Self {
        let mut all = std::mem::take(&mut self.keys);
        all.append(&mut self.elsewhere);
        sort_oldest_first(&mut all);
        all.sort_by_key(|k| k.kind);
        let (mine, others): (Vec<KeyEntry>, Vec<KeyEntry>) = all
            .into_iter()
            .partition(|k| selection.as_ref().is_none_or(|owner| &k.owner == owner));
        self.keys = mine;
        self.elsewhere = others;
        self.selection = selection;
        self
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
            [] => Err(self.not_selected(arg, body)),
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

    /// No key of the selection matches: say whose key it is, if another owner's.
    fn not_selected(&self, arg: &str, body: &str) -> CliError {
        let whose = match &self.selection {
            Some(KeyOwner::Tenant(tenant)) => format!(" of tenant {tenant}"),
            _ => String::new(),
        };
        let error = CliError::new(format!(
            "no key {arg}{whose} in namespace {}",
            self.namespace
        ));
        let other = self.elsewhere.iter().find(|k| {
            k.fingerprint
                .as_ref()
                .and_then(|f| f.as_str().strip_prefix("SHA256:"))
                .is_some_and(|b| b.starts_with(body))
        });
        match other.map(|k| &k.owner) {
            Some(KeyOwner::Tenant(tenant)) => error.hint(format!(
                "it is a key of tenant {tenant}: pass --tenant {tenant}"
            )),
            Some(KeyOwner::Cluster) => {
                error.hint("it is a cluster key: leave --tenant out".to_owned())
            }
            None => error.hint(format!(
                "list the keys with `sealant keys list --all-tenants` (is --controller-namespace {} the controller's?)",
                self.namespace
            )),
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
                kind_title(sealing.kind)
            ));
            hints.push(format!(
                "run `sealant keys rotate{}` first, then re-encrypt (`sealant reencrypt PATH…`) and apply",
                tenant_flag(&sealing.owner)
            ));
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
