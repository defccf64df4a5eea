//! [`KeyManager`]: reads the key Secrets into the snapshot [`KeyStore`]s follow, and, on the
//! leader only, generates keys (first start, renewal, a request, no active key left). With key
//! protection on (docs/key-protection.md), protected keys are unwrapped as they are read and new
//! keys are written wrapped; while the HSM or KMS fails, nothing is generated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::PostParams;
use kube::{Api, Client};
use sealant_core::age::{AgeIdentity, AgeKeyError, IdentityKind};
use sealant_core::keysecret::age::{DEFAULT_AGE_KEY_PREFIX, age_key_secret};
use sealant_core::keysecret::wrapped::wrapped_key_secret;
use sealant_core::keysecret::{KeyState, RENEW_REQUEST_ANNOTATION, key_secret};
use sealant_core::tenant::TenantName;
use sealant_core::{KeyError, KeyGenOptions, KeyOwner, generate_key};
use sealant_k8s::keys::{
    self as key_secrets, KeyKind, KeyListError, Listing, OrderPriority, Owners,
};
use sealant_k8s::{ConvertError, KubeError, PlainSecret};
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{info, warn};

use super::KmsMetrics;
use super::escrow::{Escrow, EscrowError, EscrowFlagError, EscrowMetrics};
use super::events::ProtectionEvents;
use super::load::{Loaded, read_rsa};
use super::plan::{CutoffError, parse_cutoff, tie_wait};
use super::protection::KeyProtection;
use super::{KeySnapshot, KeyStore, Tenancy, TenancyFlagError, generate_name};
use crate::flags::Args;

/// Labels or annotations.
type Pairs = BTreeMap<String, String>;

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
    protection: KeyProtection,
    /// Key escrow (docs/recovery.md, "Automatic escrow"): new keys are escrowed before use.
    escrow: Option<Escrow>,
    events: ProtectionEvents,
    /// What the last read of the key Secrets found waiting for the HSM or KMS.
    blocked: parking_lot::Mutex<Option<sealant_kms::ErrorKind>>,
    /// No generation attempt before this (a failed one backs off).
    retry_at: parking_lot::Mutex<Option<(tokio::time::Instant, Duration)>>,
    /// The tenant flags (docs/multi-tenancy.md, "Tenant keys").
    tenancy: Arc<Tenancy>,
    /// The tenants that have at least one namespace (the Namespace watch's): each gets a key
    /// set.
    tenants_seen: watch::Receiver<BTreeSet<TenantName>>,
}

/// Backoff of generation attempts that failed, and of the start-up wait for the provider.
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub(super) use super::plan::KeyAction;

/// Key handling failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyManagerError {
    /// The key Secrets could not be read.
    #[error("key Secrets in namespace {namespace}: {source}")]
    List {
        /// The controller namespace.
        namespace: String,
        /// The cause, with the API server's status code (boxed: kube errors are large).
        #[source]
        source: Box<KeyListError>,
    },
    /// The API server refused to create a key Secret.
    #[error("cannot create a key Secret in namespace {namespace}: {source}")]
    Create {
        /// The controller namespace.
        namespace: String,
        /// The cause, with the API server's status code (boxed: kube errors are large).
        #[source]
        source: Box<KubeError>,
    },
    /// Generating or encoding an RSA key failed.
    #[error("cannot generate an RSA key: {0}")]
    Rsa(#[source] KeyError),
    /// Generating an age identity failed.
    #[error("cannot generate an age key: {0}")]
    Age(#[source] AgeKeyError),
    /// The key generation task did not finish (it panicked or the runtime stopped).
    #[error("key generation did not finish: {0}")]
    Interrupted(#[source] tokio::task::JoinError),
    /// The new key Secret cannot be encoded for the API.
    #[error("cannot encode the new key Secret: {0}")]
    Encode(#[source] ConvertError),
    /// A flag value is unusable.
    #[error("{flag}: {reason}")]
    Flag {
        /// The flag, as typed (`--privatekey-labels`).
        flag: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// `--key-ttl` does not fit a certificate's validity.
    #[error("--key-ttl: {0}")]
    KeyTtl(#[source] time::error::ConversionRange),
    /// `--key-cutoff-time` does not parse.
    #[error(transparent)]
    Cutoff(#[from] CutoffError),
    /// The key protection flags are unusable.
    #[error(transparent)]
    ProtectionFlags(#[from] sealant_kms::SettingsError),
    /// The escrow flags are unusable.
    #[error(transparent)]
    EscrowFlags(#[from] EscrowFlagError),
    /// The new key's escrow could not be written: the key Secret was not created.
    #[error("the new key is not published: {0}")]
    Escrow(#[source] EscrowError),
    /// The HSM or KMS could not wrap the new key: nothing was written.
    #[error("cannot wrap the new key: {0}")]
    Protect(#[source] sealant_kms::ProtectError),
    /// The tenant flags are unusable.
    #[error(transparent)]
    TenancyFlags(#[from] TenancyFlagError),
}

impl KeyManagerError {
    /// The provider's error kind, when the HSM or KMS failed.
    pub fn provider_kind(&self) -> Option<sealant_kms::ErrorKind> {
        match self {
            KeyManagerError::Protect(sealant_kms::ProtectError::Kms(err)) => Some(err.kind()),
            KeyManagerError::Protect(_) => Some(sealant_kms::ErrorKind::Config),
            _ => None,
        }
    }
}

impl KeyManager {
    /// A manager for the key Secrets in `namespace`, and a store that follows it.
    pub fn new(client: Client, namespace: &str, args: Arc<Args>) -> (Self, KeyStore) {
        let order = OrderPriority::from_flag(&args.key_order_priority).unwrap_or_else(|| {
            warn!(
                value = %args.key_order_priority,
                "unknown --key-order-priority, using CertNotBefore"
            );
            OrderPriority::CertNotBefore
        });
        let (tx, rx) = watch::channel(Arc::new(KeySnapshot::default()));
        let (_seen_tx, tenants_seen) = watch::channel(BTreeSet::new());
        let manager = Self {
            api: Api::namespaced(client.clone(), namespace),
            namespace: namespace.to_owned(),
            args,
            order,
            tx,
            generating: tokio::sync::Mutex::new(()),
            protection: KeyProtection::new(None, KmsMetrics::unregistered()),
            escrow: None,
            events: ProtectionEvents::new(client.clone(), namespace),
            blocked: parking_lot::Mutex::new(None),
            retry_at: parking_lot::Mutex::new(None),
            tenancy: Arc::new(Tenancy::default()),
            tenants_seen,
        };
        let namespaces = if manager.args.tenant_keys {
            super::ns_labels::NamespaceLabels::watched(client)
        } else {
            super::ns_labels::NamespaceLabels::uncached(client)
        };
        let store = KeyStore {
            rx,
            namespaces: Some(Arc::new(namespaces)),
        };
        (manager, store)
    }

    /// Turns on tenant keys as the flags say (`--tenant-keys`, docs/multi-tenancy.md, "Tenant
    /// keys"): key sets per tenant, one generated for each tenant `seen` names.
    ///
    /// # Errors
    /// The tenant flags are unusable.
    pub fn with_tenants(
        mut self,
        seen: watch::Receiver<BTreeSet<TenantName>>,
    ) -> Result<Self, KeyManagerError> {
        let tenancy = Tenancy::from_args(&self.args)?;
        if tenancy.enabled {
            info!(label = %tenancy.label, allow_cluster_key = ?tenancy.allow_cluster, "tenant keys on");
        }
        self.tenancy = Arc::new(tenancy);
        self.tenants_seen = seen;
        Ok(self)
    }

    /// Turns on key protection as the flags say (`--key-protection`), reporting to `metrics`.
    ///
    /// # Errors
    /// An unknown provider or a missing setting.
    pub fn with_protection(mut self, metrics: KmsMetrics) -> Result<Self, KeyManagerError> {
        let settings = self.args.key_protection()?;
        if let Some(settings) = &settings {
            info!(?settings, "key protection on: new keys are written wrapped");
            if self.args.age_keys {
                // docs/key-protection.md, "What it protects, and what not".
                warn!("key protection on: no age keys are generated (they cannot be wrapped yet)");
            }
        }
        self.protection = KeyProtection::new(settings, metrics);
        Ok(self)
    }

    /// Whether to keep an active age key: `--age-keys`, except with key protection on, since
    /// age identities cannot be wrapped yet and a key Secret must not hold a plaintext key.
    fn age_keys(&self) -> bool {
        self.args.age_keys && !self.protection.is_on()
    }

    /// Turns on key escrow as the flags say (`--escrow-recipient`, docs/recovery.md,
    /// "Automatic escrow"), reporting to `metrics`.
    ///
    /// # Errors
    /// Escrow flags that are unusable (a recipient that does not parse, a bad threshold).
    pub fn with_escrow(
        mut self,
        client: Client,
        metrics: EscrowMetrics,
    ) -> Result<Self, KeyManagerError> {
        if let Some(target) = super::escrow::escrow_target(&self.args)? {
            self.escrow = Some(Escrow::new(client, &self.namespace, target, metrics));
        }
        Ok(self)
    }

    /// Until every protected key is unwrapped or known lost (its KEK gone), and the provider is
    /// connected: retries with backoff, says why in a log line and an event. Readiness stays
    /// false meanwhile; nothing is generated or deleted. Starts from the last read
    /// ([`KeyManager::reload`]): without protection and protected keys, no request at all.
    pub async fn wait_for_keys(&self, shutdown: &tokio_util::sync::CancellationToken) {
        let mut backoff = BACKOFF_MIN;
        loop {
            let blocked = self.blocked.lock().map(|kind| (kind, String::new()));
            let blocked = match (blocked, self.protection.provider().await) {
                (Some(blocked), _) => Some(blocked),
                (None, Err(err)) => Some((err.kind(), err.to_string())),
                (None, Ok(_)) => None,
            };
            let Some((kind, message)) = blocked else {
                self.events.recovered().await;
                return;
            };
            let message = if message.is_empty() {
                "protected keys cannot be unwrapped".to_owned()
            } else {
                message
            };
            self.events.unavailable(kind, &message, true).await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
            if let Err(err) = self.load().await {
                warn!(%err, "cannot re-read key Secrets");
            }
        }
    }

    fn list_error(&self, source: KeyListError) -> KeyManagerError {
        KeyManagerError::List {
            namespace: self.namespace.clone(),
            source: Box::new(source),
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
        // Tenant keys off: the cluster keys only, as before.
        let owners = if self.tenancy.enabled {
            Owners::All
        } else {
            Owners::Cluster
        };
        let mut rsa = key_secrets::list(&self.api, KeyKind::Rsa, Listing::Unsealing, owners)
            .await
            .map_err(|e| self.list_error(e))?;
        let legacy = key_secrets::legacy(&self.api, &self.args.key_prefix, &rsa)
            .await
            .map_err(|e| self.list_error(e))?;
        rsa.extend(legacy);
        // Read even with `--age-keys=false`, so that age items sealed before age keys were
        // turned off still open.
        let age = key_secrets::list(&self.api, KeyKind::Age, Listing::Unsealing, owners)
            .await
            .map_err(|e| self.list_error(e))?;
        let mut records = read_rsa(&rsa, self.order);
        let resolution = self.protection.resolve(&mut records).await;
        self.events.resolution(&resolution).await;
        if let Some(kind) = resolution.blocked {
            let message = resolution
                .failures
                .iter()
                .find(|f| f.kind == kind)
                .map_or("cannot connect", |f| f.message.as_str());
            let starting = self.tx.borrow().keys.is_empty();
            self.events.unavailable(kind, message, starting).await;
        } else if self.protection.connected() {
            self.events.recovered().await;
        }
        let mut loaded =
            Loaded::from_records(records, &age, self.order, &self.namespace, &self.tenancy);
        loaded.blocked = resolution.blocked;
        *self.blocked.lock() = resolution.blocked;
        let snapshot = &loaded.snapshot;
        let changed = !self.tx.borrow().same_keys(snapshot);
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
                tenants = snapshot.tenants.len(),
                tenant_keys = snapshot.tenants.values().map(|t| t.own.keys.len()).sum::<usize>(),
                "sealing keys loaded"
            );
            // Only a changed set wakes [`KeyStore::changed`] waiters (they re-queue every object).
            self.tx.send_replace(snapshot.clone());
        }
        Ok(loaded)
    }

    /// `--privatekey-labels` and `--privatekey-annotations`, for a new key Secret of `owner`
    /// (a tenant's also carries the tenant label, which the flags cannot override).
    fn key_metadata(&self, owner: &KeyOwner) -> Result<(Pairs, Pairs), KeyManagerError> {
        let mut labels = self
            .args
            .key_labels()
            .map_err(|reason| KeyManagerError::Flag {
                flag: "--privatekey-labels",
                reason,
            })?;
        let annotations = self
            .args
            .key_annotations()
            .map_err(|reason| KeyManagerError::Flag {
                flag: "--privatekey-annotations",
                reason,
            })?;
        labels.remove(sealant_core::tenant::TENANT_LABEL);
        labels.extend(owner.key_labels());
        Ok((labels, annotations))
    }

    /// Generates an age X25519 identity of `owner`, stores it as an age key Secret and
    /// publishes it.
    ///
    /// # Errors
    /// Generation or the API write failed; nothing half-written is used.
    pub async fn generate_age(&self, owner: &KeyOwner) -> Result<(), KeyManagerError> {
        self.after_newest_second(owner, true).await;
        let (labels, annotations) = self.key_metadata(owner)?;
        let identity = AgeIdentity::generate(IdentityKind::X25519).map_err(KeyManagerError::Age)?;
        let secret = age_key_secret(
            &self.namespace,
            &generate_name(DEFAULT_AGE_KEY_PREFIX, owner),
            &identity,
            OffsetDateTime::now_utc(),
            &labels,
            &annotations,
        );
        let created = self.store_key_secret(secret, None).await?;
        info!(
            secret = created.metadata.name.as_deref().unwrap_or(""),
            fingerprint = %identity.fingerprint(),
            recipient = %identity.recipient(),
            %owner,
            "New age key written"
        );
        self.reload().await?;
        Ok(())
    }

    /// Waits out the second of `owner`'s newest key of the kind (`plan::tie_wait`).
    async fn after_newest_second(&self, owner: &KeyOwner, age: bool) {
        let wait = tie_wait(&self.tx.borrow(), owner, age, OffsetDateTime::now_utc());
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }

    /// Creates a key Secret made by core (never overwrites: a name clash is an error). With
    /// escrow on, the Secret is named here and its escrow written first (`key`: the RSA key in
    /// clear, for a protected key's escrow); no escrow, no Secret.
    async fn store_key_secret(
        &self,
        mut secret: sealant_core::object::Secret,
        key: Option<&sealant_core::PrivateKey>,
    ) -> Result<PlainSecret, KeyManagerError> {
        if let Some(escrow) = &self.escrow {
            super::escrow::name_now(&mut secret).map_err(KeyManagerError::Escrow)?;
            let (back, written) = escrow.write_for(secret, key).await;
            written.map_err(KeyManagerError::Escrow)?;
            secret = back;
        }
        let secret = PlainSecret::try_from(&secret).map_err(KeyManagerError::Encode)?;
        // The answer carries the private key: kept wiped-on-drop until the caller is done.
        self.api
            .create(&PostParams::default(), &secret)
            .await
            .map(PlainSecret::new)
            .map_err(|e| KeyManagerError::Create {
                namespace: self.namespace.clone(),
                source: Box::new(e.into()),
            })
    }

    /// Generates a key of `owner`, stores it as a key Secret and publishes it as the newest.
    ///
    /// # Errors
    /// Generation or the API write failed; nothing half-written is used.
    pub async fn generate(&self, owner: &KeyOwner) -> Result<(), KeyManagerError> {
        self.after_newest_second(owner, false).await;
        let (labels, annotations) = self.key_metadata(owner)?;
        let prefix = generate_name(&self.args.key_prefix, owner);
        let options = KeyGenOptions {
            bits: self.args.key_size,
            common_name: self.args.my_cn.clone(),
            validity: time::Duration::try_from(self.args.key_ttl)
                .map_err(KeyManagerError::KeyTtl)?,
            now: OffsetDateTime::now_utc(),
        };
        let (key, cert) = tokio::task::spawn_blocking(move || generate_key(&options))
            .await
            .map_err(KeyManagerError::Interrupted)?
            .map_err(KeyManagerError::Rsa)?;
        let secret = match self.protection.provider().await {
            Ok(None) => key_secret(&self.namespace, &prefix, &key, &cert, &labels, &annotations)
                .map_err(KeyManagerError::Rsa)?,
            Ok(Some(provider)) => {
                let wrapped = sealant_kms::protect(provider.as_ref(), &key, &cert)
                    .await
                    .map_err(KeyManagerError::Protect)?;
                wrapped_key_secret(&self.namespace, &prefix, &wrapped, &labels, &annotations)
            }
            Err(err) => return Err(KeyManagerError::Protect(err.into())),
        };
        let created = self.store_key_secret(secret, Some(&key)).await?;
        // Only now, with the Secret stored, is the key used. The certificate is logged, as
        // upstream does, so that it can be recovered from logs (it is public).
        info!(
            secret = created.metadata.name.as_deref().unwrap_or(""),
            fingerprint = %key.fingerprint(),
            certificate = cert.pem(),
            %owner,
            "New key written"
        );
        self.reload().await?;
        if self.age_keys() {
            self.generate_age(owner).await?;
        }
        Ok(())
    }

    /// [`KeyManager::generate`], its outcome reported: a failure of the HSM or KMS sets
    /// `sealant_key_provider_renewal_waiting`, sends an event and backs off the next attempt
    /// (1 s doubling to 30 s).
    async fn generate_reported(&self, owner: &KeyOwner) -> Result<(), KeyManagerError> {
        let result = self.generate(owner).await;
        let metrics = self.protection.metrics();
        match &result {
            Ok(()) => {
                metrics.set_renewal_waiting(false);
                self.events.renewal_done();
                *self.retry_at.lock() = None;
            }
            // Only a provider failure backs off: other failures retry as before.
            Err(err) => {
                if let Some(kind) = err.provider_kind() {
                    metrics.set_renewal_waiting(true);
                    self.events.renewal_waiting(kind, &err.to_string()).await;
                    let mut retry = self.retry_at.lock();
                    let backoff = retry.map_or(BACKOFF_MIN, |(_, b)| (b * 2).min(BACKOFF_MAX));
                    *retry = Some((tokio::time::Instant::now() + backoff, backoff));
                } else if matches!(err, KeyManagerError::Escrow(_)) {
                    // Reported by the escrow (event, metric); retried with the same backoff.
                    let mut retry = self.retry_at.lock();
                    let backoff = retry.map_or(BACKOFF_MIN, |(_, b)| (b * 2).min(BACKOFF_MAX));
                    *retry = Some((tokio::time::Instant::now() + backoff, backoff));
                }
            }
        }
        result
    }

    /// Whether a failed generation's backoff has passed.
    fn attempt_due(&self) -> bool {
        self.retry_at
            .lock()
            .is_none_or(|(at, _)| tokio::time::Instant::now() >= at)
    }

    /// Generates the first key, or a new one when the newest is older than --key-cutoff-time;
    /// then the keys tenants lack. Nothing while protected keys wait for their HSM or KMS; a
    /// key the provider cannot wrap is reported and retried by [`KeyManager::run`], not an
    /// error.
    ///
    /// # Errors
    /// As [`KeyManager::reload`] and [`KeyManager::generate`], or a malformed cutoff time.
    pub async fn ensure_usable_key(&self) -> Result<(), KeyManagerError> {
        let _generating = self.generating.lock().await;
        let loaded = self.load().await?;
        if loaded.blocked.is_some() {
            return Ok(());
        }
        let snapshot = loaded.snapshot.clone();
        let cutoff = parse_cutoff(&self.args.key_cutoff_time)?;
        let needs_key = match (snapshot.newest(), cutoff) {
            (None, _) => true,
            (Some(newest), Some(cutoff)) => newest.order_time < cutoff,
            (Some(_), None) => false,
        };
        if needs_key {
            match self.generate_reported(&KeyOwner::Cluster).await {
                Err(err) if err.provider_kind().is_some() => {}
                // No escrow, no key: reported, retried by [`KeyManager::run`].
                Err(KeyManagerError::Escrow(_)) => {}
                other => other?,
            }
        } else if self.age_keys() && snapshot.newest_age().is_none() {
            // An upgrade from upstream or an older sealant: RSA keys exist, no age key yet.
            match self.generate_age(&KeyOwner::Cluster).await {
                Err(KeyManagerError::Escrow(_)) => {}
                other => other?,
            }
        }
        if let Some(escrow) = &self.escrow {
            // Keys made before escrow was on get theirs (docs/recovery.md, "Automatic escrow").
            escrow.backfill().await;
        }
        let seen = self.tenants_seen.borrow().clone();
        for (owner, action) in KeyAction::plan(&loaded, &seen, self.age_keys()) {
            if owner != KeyOwner::Cluster
                && let Err(err) = self.perform(&loaded, &owner, action).await
            {
                // One tenant's keys (escrow, HSM, API) never stop the controller nor the other
                // owners: reported, retried by [`KeyManager::run`].
                warn!(%err, %owner, "cannot make the tenant's keys yet; retrying");
            }
        }
        Ok(())
    }

    /// Runs until `shutdown`: re-reads keys every `poll`; while `leader` says so, renews on
    /// schedule, on SIGUSR1 (the cluster keys) and on request, replaces the last active key of
    /// an owner once it is compromised or retired, and makes the keys of a tenant whose first
    /// namespace appears (followers never create keys: no second key from a race).
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
        let mut seen = self.tenants_seen.clone();
        let mut seen_open = true;
        loop {
            let renew_in = self.time_to_renewal();
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    match self.load().await {
                        Ok(loaded) => {
                            let seen = self.tenants_seen.borrow().clone();
                            if leader.is_leader()
                                && !KeyAction::plan(&loaded, &seen, self.age_keys()).is_empty()
                            {
                                self.act().await;
                            }
                        }
                        Err(err) => warn!(%err, "cannot re-read key Secrets"),
                    }
                }
                changed = seen.changed(), if seen_open => {
                    // A tenant's first namespace: its keys now, not at the next poll.
                    seen_open = changed.is_ok();
                    if seen_open && leader.is_leader() {
                        self.act().await;
                    }
                }
                () = sleep_or_forever(renew_in), if leader.is_leader() => {
                    let _generating = self.generating.lock().await;
                    if !self.attempt_due() {
                        continue;
                    }
                    // A key made meanwhile (a request, a replaced compromised key) renewed it.
                    for owner in self.due_for_renewal() {
                        info!(%owner, "key renewal period elapsed: generating a new key");
                        if let Err(err) = self.generate_reported(&owner).await {
                            warn!(%err, %owner, "key renewal failed; retrying at the next check");
                            break;
                        }
                    }
                }
                Some(()) = recv_signal(&mut usr1) => {
                    if !leader.is_leader() {
                        info!("SIGUSR1 ignored: only the leader creates keys");
                        continue;
                    }
                    info!("SIGUSR1: generating a new cluster key");
                    let _generating = self.generating.lock().await;
                    if let Err(err) = self.generate_reported(&KeyOwner::Cluster).await {
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
        let seen = self.tenants_seen.borrow().clone();
        let plan = KeyAction::plan(&loaded, &seen, self.age_keys());
        if plan.is_empty() || !self.attempt_due() {
            return;
        }
        for (owner, action) in plan {
            if let Err(err) = self.perform(&loaded, &owner, action).await {
                warn!(%err, %owner, "key generation failed; retrying at the next check");
                return;
            }
        }
    }

    /// Does `action` for `owner`'s keys (the generation lock held).
    async fn perform(
        &self,
        loaded: &Loaded,
        owner: &KeyOwner,
        action: KeyAction,
    ) -> Result<(), KeyManagerError> {
        let set = loaded.snapshot.owner_set(owner);
        match action {
            KeyAction::NoActiveKey => {
                info!(
                    %owner,
                    keys = set.map_or(0, |s| s.keys.len()),
                    "no active key (none yet, compromised or retired): generating a new key"
                );
                self.generate_reported(owner).await
            }
            KeyAction::RenewRequested => {
                info!(
                    %owner,
                    annotation = RENEW_REQUEST_ANNOTATION,
                    "key renewal requested: generating a new key"
                );
                let generated = self.generate_reported(owner).await;
                if generated.is_ok()
                    && let Some(requester) = set.and_then(KeySnapshot::newest)
                {
                    self.clear_renew_request(&requester.secret_name).await;
                }
                generated
            }
            KeyAction::NoActiveAgeKey => {
                info!(%owner, "no active age key: generating a new one");
                self.generate_age(owner).await
            }
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

    /// Time until the newest key of the owner renewed soonest is one renewal period old
    /// (None: renewal off or no key).
    fn time_to_renewal(&self) -> Option<Duration> {
        let left = {
            let snapshot = self.tx.borrow();
            snapshot
                .owners()
                .filter_map(|(_, set)| self.renewal_left(set))
                .min()?
        };
        // After a failed attempt, not before its backoff (no busy loop on an overdue key).
        let backoff = self.retry_at.lock().map_or(Duration::ZERO, |(at, _)| {
            at.saturating_duration_since(tokio::time::Instant::now())
        });
        Some(left.max(backoff))
    }

    /// The owners whose newest key is one renewal period old.
    fn due_for_renewal(&self) -> Vec<KeyOwner> {
        let snapshot = self.tx.borrow();
        snapshot
            .owners()
            .filter(|(_, set)| self.renewal_left(set).is_some_and(|left| left.is_zero()))
            .map(|(owner, _)| owner)
            .collect()
    }

    /// Time until the newest key of `set` is one renewal period old (None: renewal off or no
    /// key).
    fn renewal_left(&self, set: &KeySnapshot) -> Option<Duration> {
        let period = self.args.renew_period();
        if period.is_zero() {
            return None;
        }
        let newest = set.newest()?;
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
