//! The sealing keys: loaded from key Secrets in upstream's layout (docs/upstream.md, "Key
//! Secrets"), generated on first start and on renewal, and re-read while running so that keys
//! added, relabelled or removed by hand take effect without a restart. Keys are never deleted
//! here.
//!
//! Next to the RSA keys, the controller holds age X25519 identities (docs/format.md §7) as key
//! Secrets of their own type and label (`sealant_core::age::keysecret`), under the same rules:
//! loaded and re-read with the RSA keys, one generated on first start and at each renewal by the
//! leader only, the newest published (at `/v1/recipient`), all of them used to unseal.
//!
//! Key states (docs/rotation.md §1) are the label's value, for both kinds: `active` keys unseal and
//! the newest active one seals and is published; `compromised` keys still unseal (so running
//! workloads keep their Secrets while the repository is re-encrypted) but never seal and are never
//! published; `retired` keys and any other value are not loaded at all. Upstream loads only
//! `active`, so a compromised key is a documented deviation. When no active RSA key is left, the
//! leader generates one, and a renewal request (`sealant keys rotate`, the
//! [`RENEW_REQUEST_ANNOTATION`] on the newest active key Secret) makes it generate one now.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use sealant_core::age::keysecret::{
    AGE_KEY_LABEL, DEFAULT_AGE_KEY_PREFIX, age_key_created, age_key_secret, age_key_state,
    read_age_key_secret,
};
use sealant_core::age::{AgeIdentity, AgeRecipient, IdentityKind};
use sealant_core::keysecret::{
    KEY_LABEL, KEY_STATE_ACTIVE, KEY_STATE_COMPROMISED, KeyState, RENEW_REQUEST_ANNOTATION,
    key_secret, read_key_secret,
};
use sealant_core::{Certificate, Fingerprint, KeyGenOptions, KeyRing, PrivateKey, generate_key};
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::flags::Args;

/// One usable key and what is known about it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Fingerprint of the public key.
    pub fingerprint: Fingerprint,
    /// The key Secret's name.
    pub secret_name: String,
    /// The time keys are ordered by (certificate NotBefore, or Secret creation).
    pub order_time: OffsetDateTime,
    /// The certificate (served at /v1/cert.pem when newest active).
    pub cert: Certificate,
    /// Its state (active or compromised: no other state is loaded).
    pub state: KeyState,
}

/// One usable age identity and what is known about it (never the identity itself: that is in
/// the ring).
#[derive(Debug, Clone)]
pub struct AgeKeyInfo {
    /// Fingerprint of the recipient (`SHA256:` of the recipient string).
    pub fingerprint: Fingerprint,
    /// The key Secret's name.
    pub secret_name: String,
    /// The time age keys are ordered by (`sealant.dev/created-at`, else Secret creation).
    pub order_time: OffsetDateTime,
    /// The public recipient (served at /v1/recipient when newest active).
    pub recipient: AgeRecipient,
    /// Its state (active or compromised: no other state is loaded).
    pub state: KeyState,
}

/// Label value of `kind` in metrics for RSA keys.
pub const KIND_RSA: &str = "rsa";
/// Label value of `kind` in metrics for age keys.
pub const KIND_AGE: &str = "age";

/// The keys at one moment: every loaded key (active or compromised) decrypts, the newest
/// active one seals.
#[derive(Debug, Default)]
pub struct KeySnapshot {
    /// Every loaded key, RSA and age.
    pub ring: KeyRing,
    /// RSA keys, oldest first.
    pub keys: Vec<KeyInfo>,
    /// age keys, oldest first.
    pub age: Vec<AgeKeyInfo>,
}

impl KeySnapshot {
    /// The newest active key: the one to seal with and to publish. A compromised key never is,
    /// however new.
    pub fn newest(&self) -> Option<&KeyInfo> {
        self.keys.iter().rev().find(|k| k.state.seals())
    }

    /// The newest active age key: the recipient to publish.
    pub fn newest_age(&self) -> Option<&AgeKeyInfo> {
        self.age.iter().rev().find(|k| k.state.seals())
    }

    /// The state and kind ([`KIND_RSA`], [`KIND_AGE`]) of a loaded key, by fingerprint text.
    pub fn key_state(&self, fingerprint: &str) -> Option<(&KeyState, &'static str)> {
        self.keys
            .iter()
            .find(|k| k.fingerprint.as_str() == fingerprint)
            .map(|k| (&k.state, KIND_RSA))
            .or_else(|| {
                self.age
                    .iter()
                    .find(|k| k.fingerprint.as_str() == fingerprint)
                    .map(|k| (&k.state, KIND_AGE))
            })
    }

    /// Whether `other` holds the same keys in the same states (what [`KeyStore::changed`]
    /// waiters are woken for: a relabel from active to compromised matters as much as a new
    /// key, since every object's `KeyCompromised` condition depends on it).
    fn same_keys(&self, other: &KeySnapshot) -> bool {
        self.keys
            .iter()
            .map(|k| (&k.fingerprint, &k.state))
            .eq(other.keys.iter().map(|k| (&k.fingerprint, &k.state)))
            && self
                .age
                .iter()
                .map(|k| (&k.fingerprint, &k.state))
                .eq(other.age.iter().map(|k| (&k.fingerprint, &k.state)))
    }
}

/// A read handle on the current keys, cheap to clone and share.
#[derive(Clone)]
pub struct KeyStore {
    rx: watch::Receiver<Arc<KeySnapshot>>,
}

impl KeyStore {
    /// The keys now.
    pub fn snapshot(&self) -> Arc<KeySnapshot> {
        self.rx.borrow().clone()
    }

    /// Waits until the set of keys or their states change (a key added, renewed, removed,
    /// compromised or reactivated); `false` once the key manager is gone. Changes before the first call count from this handle's creation.
    pub async fn changed(&mut self) -> bool {
        self.rx.changed().await.is_ok()
    }

    /// Takes the current keys as seen, so [`KeyStore::changed`] waits for the next change.
    pub fn mark_seen(&mut self) {
        drop(self.rx.borrow_and_update());
    }

    /// A store with fixed keys (tests and offline use).
    pub fn fixed(snapshot: KeySnapshot) -> Self {
        let (_tx, rx) = watch::channel(Arc::new(snapshot));
        Self { rx }
    }
}

/// How key Secrets are ordered to find the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderPriority {
    CertNotBefore,
    SecretCreationTimestamp,
}

/// Loads, generates and renews keys, and publishes them to [`KeyStore`]s.
pub struct KeyManager {
    api: Api<K8sSecret>,
    namespace: String,
    args: Arc<Args>,
    order: OrderPriority,
    tx: watch::Sender<Arc<KeySnapshot>>,
    /// Held from "no usable key" to "key written", so the start of a leadership term and the
    /// run loop never both create a key for the same gap.
    generating: tokio::sync::Mutex<()>,
}

/// What one read of the key Secrets found.
struct Loaded {
    snapshot: Arc<KeySnapshot>,
    /// The newest active RSA key Secret carries [`RENEW_REQUEST_ANNOTATION`].
    renew_requested: bool,
}

/// What the leader has to do about the keys it just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyAction {
    /// No active RSA key (none yet, or every one compromised or retired): generate one.
    NoActiveKey,
    /// `sealant keys rotate` asked for a new key.
    RenewRequested,
    /// age keys are on and no active age key is left.
    NoActiveAgeKey,
}

impl KeyAction {
    fn of(loaded: &Loaded, age_keys: bool) -> Option<KeyAction> {
        if loaded.snapshot.newest().is_none() {
            Some(KeyAction::NoActiveKey)
        } else if loaded.renew_requested {
            Some(KeyAction::RenewRequested)
        } else if age_keys && loaded.snapshot.newest_age().is_none() {
            Some(KeyAction::NoActiveAgeKey)
        } else {
            None
        }
    }
}

/// Key handling failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyManagerError {
    /// The API server refused a list or create.
    #[error("key Secrets in namespace {namespace}: {source}")]
    Api {
        /// The controller namespace.
        namespace: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// Generating or encoding a key failed.
    #[error("cannot generate a key: {0}")]
    Generate(String),
    /// A flag value is unusable.
    #[error("{0}")]
    Flag(String),
}

impl KeyManager {
    /// A manager for the key Secrets in `namespace`, and a store that follows it.
    pub fn new(client: Client, namespace: &str, args: Arc<Args>) -> (Self, KeyStore) {
        let order = match args.key_order_priority.as_str() {
            "SecretCreationTimestamp" => OrderPriority::SecretCreationTimestamp,
            "CertNotBefore" => OrderPriority::CertNotBefore,
            other => {
                warn!(
                    value = other,
                    "unknown --key-order-priority, using CertNotBefore"
                );
                OrderPriority::CertNotBefore
            }
        };
        let (tx, rx) = watch::channel(Arc::new(KeySnapshot::default()));
        let manager = Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            args,
            order,
            tx,
            generating: tokio::sync::Mutex::new(()),
        };
        (manager, KeyStore { rx })
    }

    fn api_error(&self, source: kube::Error) -> KeyManagerError {
        KeyManagerError::Api {
            namespace: self.namespace.clone(),
            source,
        }
    }

    /// Re-reads the key Secrets and publishes the result. A malformed key Secret is reported
    /// and skipped, never fatal.
    ///
    /// # Errors
    /// The API server cannot be read.
    pub async fn reload(&self) -> Result<Arc<KeySnapshot>, KeyManagerError> {
        Ok(self.load().await?.snapshot)
    }

    async fn load(&self) -> Result<Loaded, KeyManagerError> {
        let mut secrets = self
            .api
            .list(&ListParams::default().labels(&unsealing_selector(KEY_LABEL)))
            .await
            .map_err(|e| self.api_error(e))?
            .items;
        // The legacy single key (before upstream v0.9) is named exactly the prefix, unlabelled
        // (a label, if it has one, gives its state as for any key).
        let legacy = self
            .api
            .get_opt(&self.args.key_prefix)
            .await
            .map_err(|e| self.api_error(e))?;
        if let Some(legacy) =
            legacy.filter(|l| !secrets.iter().any(|s| s.metadata.name == l.metadata.name))
        {
            secrets.push(legacy);
        }
        let (keys, requested) = rsa_keys(&secrets, self.order, &self.namespace);
        let age = age_keys(&self.list_age_keys().await?, &self.namespace);
        let snapshot = Arc::new(snapshot_of(keys, age));
        let renew_requested = snapshot
            .newest()
            .is_some_and(|k| requested.contains(&k.secret_name));
        let changed = !self.tx.borrow().same_keys(&snapshot);
        if changed {
            let compromised = snapshot
                .keys
                .iter()
                .map(|k| &k.state)
                .chain(snapshot.age.iter().map(|k| &k.state))
                .filter(|state| **state == KeyState::Compromised)
                .count();
            info!(
                keys = snapshot.keys.len(),
                compromised,
                newest = ?snapshot.newest().map(|k| k.fingerprint.to_string()),
                age_keys = snapshot.age.len(),
                newest_age = ?snapshot.newest_age().map(|k| k.fingerprint.to_string()),
                "sealing keys loaded"
            );
            // Only a changed set wakes [`KeyStore::changed`] waiters (they re-queue every object).
            self.tx.send_replace(snapshot.clone());
        }
        Ok(Loaded {
            snapshot,
            renew_requested,
        })
    }

    /// The age key Secrets that unseal. Read even with `--age-keys=false`, so that age items
    /// sealed before age keys were turned off still open.
    async fn list_age_keys(&self) -> Result<Vec<K8sSecret>, KeyManagerError> {
        Ok(self
            .api
            .list(&ListParams::default().labels(&unsealing_selector(AGE_KEY_LABEL)))
            .await
            .map_err(|e| self.api_error(e))?
            .items)
    }

    /// Generates an age X25519 identity, stores it as an age key Secret and publishes it.
    ///
    /// # Errors
    /// Generation or the API write failed; nothing half-written is used.
    pub async fn generate_age(&self) -> Result<(), KeyManagerError> {
        let labels = self
            .args
            .key_labels()
            .map_err(|e| KeyManagerError::Flag(format!("--privatekey-labels: {e}")))?;
        let annotations = self
            .args
            .key_annotations()
            .map_err(|e| KeyManagerError::Flag(format!("--privatekey-annotations: {e}")))?;
        let identity = AgeIdentity::generate(IdentityKind::X25519)
            .map_err(|e| KeyManagerError::Generate(e.to_string()))?;
        let secret = age_key_secret(
            &self.namespace,
            DEFAULT_AGE_KEY_PREFIX,
            &identity,
            OffsetDateTime::now_utc(),
            &labels,
            &annotations,
        );
        let created = self.store_key_secret(&secret).await?;
        info!(
            secret = created.metadata.name.as_deref().unwrap_or(""),
            fingerprint = %identity.fingerprint(),
            recipient = %identity.recipient(),
            "New age key written"
        );
        self.reload().await?;
        Ok(())
    }

    /// Creates a key Secret made by core (never overwrites: a name clash is an error).
    async fn store_key_secret(
        &self,
        secret: &sealant_core::object::Secret,
    ) -> Result<sealant_k8s::PlainSecret, KeyManagerError> {
        let secret = sealant_k8s::PlainSecret::try_from(secret)
            .map_err(|e| KeyManagerError::Generate(e.to_string()))?;
        // The answer carries the private key: kept wiped-on-drop until the caller is done.
        self.api
            .create(&PostParams::default(), &secret)
            .await
            .map(sealant_k8s::PlainSecret::new)
            .map_err(|e| self.api_error(e))
    }

    /// Generates a key, stores it as a key Secret and publishes it as the newest.
    ///
    /// # Errors
    /// Generation or the API write failed; nothing half-written is used.
    pub async fn generate(&self) -> Result<(), KeyManagerError> {
        let labels = self
            .args
            .key_labels()
            .map_err(|e| KeyManagerError::Flag(format!("--privatekey-labels: {e}")))?;
        let annotations = self
            .args
            .key_annotations()
            .map_err(|e| KeyManagerError::Flag(format!("--privatekey-annotations: {e}")))?;
        let options = KeyGenOptions {
            bits: self.args.key_size,
            common_name: self.args.my_cn.clone(),
            validity: time::Duration::try_from(self.args.key_ttl)
                .map_err(|e| KeyManagerError::Flag(e.to_string()))?,
            now: OffsetDateTime::now_utc(),
        };
        let (key, cert) = tokio::task::spawn_blocking(move || generate_key(&options))
            .await
            .map_err(|e| KeyManagerError::Generate(e.to_string()))?
            .map_err(|e| KeyManagerError::Generate(e.to_string()))?;
        let secret = key_secret(
            &self.namespace,
            &self.args.key_prefix,
            &key,
            &cert,
            &labels,
            &annotations,
        )
        .map_err(|e| KeyManagerError::Generate(e.to_string()))?;
        let created = self.store_key_secret(&secret).await?;
        // Only now, with the Secret stored, is the key used. The certificate is logged, as
        // upstream does, so that it can be recovered from logs (it is public).
        info!(
            secret = created.metadata.name.as_deref().unwrap_or(""),
            fingerprint = %key.fingerprint(),
            certificate = cert.pem(),
            "New key written"
        );
        self.reload().await?;
        if self.args.age_keys {
            self.generate_age().await?;
        }
        Ok(())
    }

    /// Generates the first key, or a new one when the newest is older than --key-cutoff-time.
    ///
    /// # Errors
    /// As [`KeyManager::reload`] and [`KeyManager::generate`], or a malformed cutoff time.
    pub async fn ensure_usable_key(&self) -> Result<(), KeyManagerError> {
        let _generating = self.generating.lock().await;
        let snapshot = self.reload().await?;
        let cutoff = parse_cutoff(&self.args.key_cutoff_time).map_err(KeyManagerError::Flag)?;
        let needs_key = match (snapshot.newest(), cutoff) {
            (None, _) => true,
            (Some(newest), Some(cutoff)) => newest.order_time < cutoff,
            (Some(_), None) => false,
        };
        if needs_key {
            self.generate().await?;
        } else if self.args.age_keys && snapshot.newest_age().is_none() {
            // An upgrade from upstream or an older sealant: RSA keys exist, no age key yet.
            self.generate_age().await?;
        }
        Ok(())
    }

    /// Runs until `shutdown`: re-reads keys every `poll`; while `leader` says so, renews on
    /// schedule, on SIGUSR1 and on request, and replaces the last active key once it is
    /// compromised or retired (followers never create keys: no second key from a race).
    pub async fn run(
        self: Arc<Self>,
        poll: Duration,
        leader: crate::leader::LeaderHandle,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut usr1 =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) {
                Ok(signal) => Some(signal),
                Err(err) => {
                    warn!(%err, "cannot listen for SIGUSR1; manual renewal by signal is off");
                    None
                }
            };
        let mut ticker = tokio::time::interval(poll);
        loop {
            let renew_in = self.time_to_renewal();
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    match self.load().await {
                        Ok(loaded) => {
                            if leader.is_leader()
                                && KeyAction::of(&loaded, self.args.age_keys).is_some()
                            {
                                self.act().await;
                            }
                        }
                        Err(err) => warn!(%err, "cannot re-read key Secrets"),
                    }
                }
                () = sleep_or_forever(renew_in), if leader.is_leader() => {
                    let _generating = self.generating.lock().await;
                    // A key made meanwhile (a request, a replaced compromised key) renewed it.
                    if self.time_to_renewal().is_some_and(|left| !left.is_zero()) {
                        continue;
                    }
                    info!("key renewal period elapsed: generating a new key");
                    if let Err(err) = self.generate().await {
                        warn!(%err, "key renewal failed; retrying at the next check");
                    }
                }
                Some(()) = recv_signal(&mut usr1) => {
                    if !leader.is_leader() {
                        info!("SIGUSR1 ignored: only the leader creates keys");
                        continue;
                    }
                    info!("SIGUSR1: generating a new key");
                    let _generating = self.generating.lock().await;
                    if let Err(err) = self.generate().await {
                        warn!(%err, "key generation on SIGUSR1 failed");
                    }
                }
            }
        }
    }

    /// Generates what the keys just read call for, after reading them again under the
    /// generation lock (the start of a term may have acted on the same gap meanwhile).
    async fn act(&self) {
        let _generating = self.generating.lock().await;
        let loaded = match self.load().await {
            Ok(loaded) => loaded,
            Err(err) => {
                warn!(%err, "cannot re-read key Secrets");
                return;
            }
        };
        let result = match KeyAction::of(&loaded, self.args.age_keys) {
            None => return,
            Some(KeyAction::NoActiveKey) => {
                info!(
                    keys = loaded.snapshot.keys.len(),
                    "no active key left (compromised or retired): generating a new key"
                );
                self.generate().await
            }
            Some(KeyAction::RenewRequested) => {
                info!(
                    annotation = RENEW_REQUEST_ANNOTATION,
                    "key renewal requested: generating a new key"
                );
                let generated = self.generate().await;
                if generated.is_ok()
                    && let Some(requester) = loaded.snapshot.newest()
                {
                    self.clear_renew_request(&requester.secret_name).await;
                }
                generated
            }
            Some(KeyAction::NoActiveAgeKey) => {
                info!("no active age key left: generating a new one");
                self.generate_age().await
            }
        };
        if let Err(err) = result {
            warn!(%err, "key generation failed; retrying at the next check");
        }
    }

    /// Removes a fulfilled renewal request, so that it does not fire again when its key becomes
    /// the newest active one again (the newer key retired or compromised). An update with the
    /// resourceVersion just read (RBAC grants `update`, not `patch`): a concurrent change wins,
    /// and a request that stays is only acted on once its key is the newest again.
    async fn clear_renew_request(&self, name: &str) {
        let cleared = async {
            let Some(mut secret) = self.api.get_opt(name).await? else {
                return Ok(());
            };
            let removed = secret
                .metadata
                .annotations
                .as_mut()
                .and_then(|a| a.remove(RENEW_REQUEST_ANNOTATION));
            if removed.is_some() {
                self.api
                    .replace(name, &PostParams::default(), &secret)
                    .await?;
            }
            Ok::<(), kube::Error>(())
        };
        if let Err(err) = cleared.await {
            warn!(%err, secret = name, "cannot remove the fulfilled renewal request");
        }
    }

    /// Time until the newest key is one renewal period old (None: renewal off or no key).
    fn time_to_renewal(&self) -> Option<Duration> {
        let period = self.args.renew_period();
        if period.is_zero() {
            return None;
        }
        let snapshot = self.tx.borrow();
        let newest = snapshot.newest()?;
        let age = OffsetDateTime::now_utc() - newest.order_time;
        let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
        Some(period.saturating_sub(age))
    }
}

async fn sleep_or_forever(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

async fn recv_signal(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}

/// A label selector for the key Secrets whose state unseals (the API server filters; the
/// states are checked again here all the same).
fn unsealing_selector(label: &str) -> String {
    format!("{label} in ({KEY_STATE_ACTIVE},{KEY_STATE_COMPROMISED})")
}

/// The RSA keys to load from key Secrets, oldest first, and the names of the Secrets carrying a
/// renewal request. Secrets whose state does not unseal are left out; an unlabelled Secret is
/// the legacy key, active as upstream reads it; a malformed one is reported and skipped.
fn rsa_keys(
    secrets: &[K8sSecret],
    order: OrderPriority,
    namespace: &str,
) -> (Vec<(KeyInfo, PrivateKey)>, Vec<String>) {
    let mut keys: Vec<(KeyInfo, PrivateKey)> = Vec::new();
    let mut requested = Vec::new();
    for secret in secrets {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let label = secret
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(KEY_LABEL));
        let state = KeyState::of_loaded(label.map(String::as_str));
        if !state.unseals() {
            continue;
        }
        match parse_key_secret(secret, order, state) {
            Ok(pair) => {
                if secret
                    .metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(RENEW_REQUEST_ANNOTATION))
                {
                    requested.push(name);
                }
                keys.push(pair);
            }
            Err(reason) => {
                warn!(secret = %name, %namespace, %reason, "skipping unusable key Secret")
            }
        }
    }
    // Stable sort: equal times keep list order, so the first registered wins ties.
    keys.sort_by_key(|(info, _)| info.order_time);
    (keys, requested)
}

/// The age keys to load from age key Secrets, oldest first (states as for [`rsa_keys`], but
/// there is no legacy age key: an unlabelled Secret is not loaded).
fn age_keys(secrets: &[K8sSecret], namespace: &str) -> Vec<(AgeKeyInfo, AgeIdentity)> {
    let mut keys = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let name = secret.metadata.name.clone().unwrap_or_default();
        match parse_age_key_secret(secret) {
            Ok(Some(pair)) => keys.push(pair),
            Ok(None) => {}
            Err(reason) => {
                warn!(secret = %name, %namespace, %reason, "skipping unusable age key Secret")
            }
        }
    }
    keys.sort_by_key(|(info, _)| info.order_time);
    keys
}

/// The snapshot of sorted keys; a key listed twice (two Secrets with one key) counts once.
fn snapshot_of(
    keys: Vec<(KeyInfo, PrivateKey)>,
    age: Vec<(AgeKeyInfo, AgeIdentity)>,
) -> KeySnapshot {
    let mut snapshot = KeySnapshot::default();
    for (info, key) in keys {
        if snapshot.ring.insert(key) {
            snapshot.keys.push(info);
        }
    }
    for (info, identity) in age {
        if snapshot.ring.insert_age(identity) {
            snapshot.age.push(info);
        }
    }
    snapshot
}

fn parse_key_secret(
    secret: &K8sSecret,
    order: OrderPriority,
    state: KeyState,
) -> Result<(KeyInfo, PrivateKey), String> {
    let core = sealant_k8s::convert::secret_to_core(secret)
        .map_err(|_| "not a readable Secret".to_owned())?;
    let (key, cert) = read_key_secret(&core).map_err(|e| e.to_string())?;
    let cert = cert.ok_or_else(|| "no tls.crt".to_owned())?;
    let order_time = match order {
        OrderPriority::CertNotBefore => cert.not_before(),
        OrderPriority::SecretCreationTimestamp => secret
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t.0.as_second()).ok())
            .unwrap_or(cert.not_before()),
    };
    let info = KeyInfo {
        fingerprint: key.fingerprint().clone(),
        secret_name: secret.metadata.name.clone().unwrap_or_default(),
        order_time,
        cert,
        state,
    };
    Ok((info, key))
}

/// An age key Secret's key, or `None` when its state does not unseal.
fn parse_age_key_secret(secret: &K8sSecret) -> Result<Option<(AgeKeyInfo, AgeIdentity)>, String> {
    let core = sealant_k8s::convert::secret_to_core(secret)
        .map_err(|_| "not a readable Secret".to_owned())?;
    let Some(state) = age_key_state(&core).filter(KeyState::unseals) else {
        return Ok(None);
    };
    let identity = read_age_key_secret(&core).map_err(|e| e.to_string())?;
    let order_time = age_key_created(&core).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let info = AgeKeyInfo {
        fingerprint: identity.fingerprint().clone(),
        secret_name: secret.metadata.name.clone().unwrap_or_default(),
        order_time,
        recipient: identity.recipient().clone(),
        state,
    };
    Ok(Some((info, identity)))
}

/// Parses `--key-cutoff-time` (RFC 1123 with a numeric zone, as `date -R` prints).
///
/// # Errors
/// A non-empty value in another format.
pub fn parse_cutoff(text: &str) -> Result<Option<OffsetDateTime>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc2822)
        .map(Some)
        .map_err(|e| {
            format!("--key-cutoff-time {text:?}: expected a time like `date -R` prints ({e})")
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/vectors/keys/");

    fn vector(name: &str) -> (PrivateKey, Certificate) {
        let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
        (
            PrivateKey::from_pem(&read("key")).unwrap(),
            Certificate::from_pem(&read("crt")).unwrap(),
        )
    }

    fn to_k8s(secret: &sealant_core::Secret, name: &str, created: i64) -> K8sSecret {
        let mut secret: K8sSecret =
            serde_json::from_value(serde_json::to_value(secret).unwrap()).unwrap();
        secret.metadata.name = Some(name.to_owned());
        secret.metadata.creation_timestamp = Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
        ));
        secret
    }

    /// An RSA key Secret from a test vector, created at `created`, with the key label set to
    /// `state` (`None`: unlabelled, as the legacy key).
    fn rsa_secret(
        vector_name: &str,
        state: Option<&str>,
        created: i64,
    ) -> (K8sSecret, Fingerprint) {
        let (key, cert) = vector(vector_name);
        let core = key_secret(
            "kube-system",
            "sealed-secrets-key",
            &key,
            &cert,
            &BTreeMap::new(),
            &BTreeMap::new(),
        )
        .unwrap();
        let mut secret = to_k8s(&core, vector_name, created);
        let labels = secret.metadata.labels.get_or_insert_with(BTreeMap::new);
        match state {
            Some(state) => labels.insert(KEY_LABEL.to_owned(), state.to_owned()),
            None => labels.remove(KEY_LABEL),
        };
        (secret, key.fingerprint().clone())
    }

    fn age_secret(state: &str, created: i64) -> (K8sSecret, Fingerprint) {
        let identity = AgeIdentity::generate(IdentityKind::X25519).unwrap();
        let core = age_key_secret(
            "kube-system",
            DEFAULT_AGE_KEY_PREFIX,
            &identity,
            OffsetDateTime::from_unix_timestamp(created).unwrap(),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        let mut secret = to_k8s(&core, &format!("age-{state}-{created}"), created);
        secret
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(AGE_KEY_LABEL.to_owned(), state.to_owned());
        (secret, identity.fingerprint().clone())
    }

    fn request_renewal(secret: &mut K8sSecret) {
        secret
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(RENEW_REQUEST_ANNOTATION.to_owned(), "alice".to_owned());
    }

    fn loaded(secrets: &[K8sSecret], age: &[K8sSecret]) -> Loaded {
        let (keys, requested) = rsa_keys(secrets, OrderPriority::SecretCreationTimestamp, "ns");
        let snapshot = Arc::new(snapshot_of(keys, age_keys(age, "ns")));
        let renew_requested = snapshot
            .newest()
            .is_some_and(|k| requested.contains(&k.secret_name));
        Loaded {
            snapshot,
            renew_requested,
        }
    }

    #[test]
    fn states_decide_which_rsa_keys_load_and_which_one_seals() {
        let (legacy, legacy_fp) = rsa_secret("multi-1", None, 100);
        let (active, active_fp) = rsa_secret("rsa2048", Some("active"), 200);
        let (retired, retired_fp) = rsa_secret("multi-2", Some("retired"), 300);
        let (compromised, compromised_fp) = rsa_secret("other-2048", Some("compromised"), 400);
        let (other, other_fp) = rsa_secret("multi-3", Some("disabled"), 500);
        let all = [legacy, active, retired, compromised, other];
        let snapshot = loaded(&all, &[]).snapshot;

        let fingerprints: Vec<_> = snapshot.keys.iter().map(|k| &k.fingerprint).collect();
        assert_eq!(fingerprints, [&legacy_fp, &active_fp, &compromised_fp]);
        assert_eq!(snapshot.ring.len(), 3);
        assert!(
            snapshot.ring.get(&compromised_fp).is_some(),
            "compromised keys unseal"
        );
        assert!(snapshot.ring.get(&retired_fp).is_none() && snapshot.ring.get(&other_fp).is_none());
        // The compromised key is the newest, but never the one that seals.
        assert_eq!(snapshot.newest().map(|k| &k.fingerprint), Some(&active_fp));
        assert_eq!(
            snapshot.key_state(compromised_fp.as_str()),
            Some((&KeyState::Compromised, KIND_RSA))
        );
        assert_eq!(
            snapshot.key_state(legacy_fp.as_str()),
            Some((&KeyState::Active, KIND_RSA))
        );
        assert_eq!(snapshot.key_state(retired_fp.as_str()), None);
    }

    #[test]
    fn a_labelled_legacy_key_keeps_its_state() {
        let (mut legacy, _) = rsa_secret("multi-1", Some("retired"), 100);
        legacy.metadata.name = Some("sealed-secrets-key".into());
        assert!(loaded(&[legacy], &[]).snapshot.keys.is_empty());
    }

    #[test]
    fn no_active_key_left_asks_for_a_new_one() {
        let (old, _) = rsa_secret("rsa2048", Some("compromised"), 100);
        let (new, _) = rsa_secret("other-2048", Some("compromised"), 200);
        let state = loaded(&[old, new], &[]);
        assert!(state.snapshot.newest().is_none());
        assert_eq!(state.snapshot.keys.len(), 2, "still loaded to unseal");
        assert_eq!(KeyAction::of(&state, false), Some(KeyAction::NoActiveKey));
        assert_eq!(
            KeyAction::of(&loaded(&[], &[]), false),
            Some(KeyAction::NoActiveKey)
        );
    }

    #[test]
    fn only_a_request_on_the_newest_active_key_renews() {
        let (mut old, _) = rsa_secret("rsa2048", Some("active"), 100);
        let (new, _) = rsa_secret("other-2048", Some("active"), 200);
        let (mut newer_compromised, _) = rsa_secret("multi-1", Some("compromised"), 300);
        request_renewal(&mut newer_compromised);
        let idle = loaded(&[old.clone(), new.clone(), newer_compromised.clone()], &[]);
        assert_eq!(KeyAction::of(&idle, false), None);
        // A request left on an older key (fulfilled already, or stale) does nothing.
        request_renewal(&mut old);
        let stale = loaded(&[old, new.clone()], &[]);
        assert_eq!(KeyAction::of(&stale, false), None);
        let mut requested = new;
        request_renewal(&mut requested);
        let asked = loaded(&[requested, newer_compromised], &[]);
        assert_eq!(
            KeyAction::of(&asked, false),
            Some(KeyAction::RenewRequested)
        );
    }

    #[test]
    fn age_keys_follow_the_same_states() {
        let (active, active_fp) = age_secret("active", 100);
        let (compromised, compromised_fp) = age_secret("compromised", 200);
        let (retired, retired_fp) = age_secret("retired", 300);
        let (rsa, _) = rsa_secret("rsa2048", Some("active"), 100);
        let state = loaded(
            std::slice::from_ref(&rsa),
            &[active, compromised.clone(), retired],
        );
        let fingerprints: Vec<_> = state.snapshot.age.iter().map(|k| &k.fingerprint).collect();
        assert_eq!(fingerprints, [&active_fp, &compromised_fp]);
        assert!(state.snapshot.ring.get_age(&compromised_fp).is_some());
        assert!(state.snapshot.ring.get_age(&retired_fp).is_none());
        assert_eq!(
            state.snapshot.newest_age().map(|k| &k.fingerprint),
            Some(&active_fp)
        );
        assert_eq!(
            state.snapshot.key_state(compromised_fp.as_str()),
            Some((&KeyState::Compromised, KIND_AGE))
        );
        assert_eq!(KeyAction::of(&state, true), None);
        let only_compromised = loaded(std::slice::from_ref(&rsa), &[compromised]);
        assert_eq!(
            KeyAction::of(&only_compromised, true),
            Some(KeyAction::NoActiveAgeKey)
        );
        assert_eq!(KeyAction::of(&only_compromised, false), None);
    }

    #[test]
    fn a_relabel_is_a_change() {
        let (a, _) = rsa_secret("rsa2048", Some("active"), 100);
        let (b, _) = rsa_secret("other-2048", Some("active"), 200);
        let (age, _) = age_secret("active", 100);
        let before = loaded(&[a.clone(), b.clone()], std::slice::from_ref(&age)).snapshot;
        let same = loaded(&[a.clone(), b.clone()], std::slice::from_ref(&age)).snapshot;
        assert!(before.same_keys(&same));
        let mut compromised = a.clone();
        compromised
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(KEY_LABEL.to_owned(), "compromised".to_owned());
        let relabelled = loaded(&[compromised, b.clone()], std::slice::from_ref(&age)).snapshot;
        assert!(!before.same_keys(&relabelled));
        let mut age_compromised = age;
        age_compromised
            .metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(AGE_KEY_LABEL.to_owned(), "compromised".to_owned());
        let age_relabelled = loaded(&[a, b], &[age_compromised]).snapshot;
        assert!(!before.same_keys(&age_relabelled));
    }

    #[test]
    fn cutoff_time_is_rfc1123_with_numeric_zone() {
        let t = parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700")
            .unwrap()
            .unwrap();
        assert_eq!(t.unix_timestamp(), 1_136_239_445);
        assert_eq!(parse_cutoff("").unwrap(), None);
        assert!(parse_cutoff("2006-01-02").is_err());
    }
}
