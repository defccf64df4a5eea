//! The sealing keys: loaded from key Secrets in upstream's layout (§3.2 of the spec), generated
//! on first start and on renewal, and re-read while running so that keys added, relabelled or
//! removed by hand take effect without a restart. Keys are never deleted here.
//!
//! Next to the RSA keys, the controller holds age X25519 identities (issue 6) as key Secrets
//! of their own type and label (`sealant_core::age::keysecret`), under the same rules: loaded
//! and re-read with the RSA keys, one generated on first start and at each renewal by the
//! leader only, the newest published (at `/v1/recipient`), all of them used to unseal.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use sealant_core::age::keysecret::{
    AGE_KEY_LABEL, DEFAULT_AGE_KEY_PREFIX, age_key_created, age_key_secret, read_age_key_secret,
};
use sealant_core::age::{AgeIdentity, AgeRecipient, IdentityKind};
use sealant_core::keysecret::{KEY_LABEL, KEY_STATE_ACTIVE, key_secret, read_key_secret};
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
    /// The certificate (served at /v1/cert.pem when newest).
    pub cert: Certificate,
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
    /// The public recipient (served at /v1/recipient when newest).
    pub recipient: AgeRecipient,
}

/// The keys at one moment: every key decrypts, the newest seals.
#[derive(Debug, Default)]
pub struct KeySnapshot {
    /// Every active key, RSA and age.
    pub ring: KeyRing,
    /// RSA keys, oldest first; the last is the newest.
    pub keys: Vec<KeyInfo>,
    /// age keys, oldest first; the last is the newest.
    pub age: Vec<AgeKeyInfo>,
}

impl KeySnapshot {
    /// The newest key: the one to seal with and to publish.
    pub fn newest(&self) -> Option<&KeyInfo> {
        self.keys.last()
    }

    /// The newest age key: the recipient to publish.
    pub fn newest_age(&self) -> Option<&AgeKeyInfo> {
        self.age.last()
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

    /// Waits until the set of keys changes (a key added, renewed or removed); `false` once the
    /// key manager is gone. Changes before the first call count from this handle's creation.
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
        let selector = format!("{KEY_LABEL}={KEY_STATE_ACTIVE}");
        let mut secrets = self
            .api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| self.api_error(e))?
            .items;
        // The legacy single key (before upstream v0.9) is named exactly the prefix, unlabelled.
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
        let mut keys: Vec<(KeyInfo, PrivateKey)> = Vec::new();
        for secret in secrets {
            let name = secret.metadata.name.clone().unwrap_or_default();
            match parse_key_secret(&secret, self.order) {
                Ok(pair) => keys.push(pair),
                Err(reason) => {
                    warn!(secret = %name, namespace = %self.namespace, %reason, "skipping unusable key Secret")
                }
            }
        }
        // Stable sort: equal times keep list order, so the first registered wins ties.
        keys.sort_by_key(|(info, _)| info.order_time);
        let mut snapshot = KeySnapshot::default();
        for (info, key) in keys {
            if snapshot.ring.insert(key) {
                snapshot.keys.push(info);
            }
        }
        for (info, identity) in self.load_age_keys().await? {
            if snapshot.ring.insert_age(identity) {
                snapshot.age.push(info);
            }
        }
        let snapshot = Arc::new(snapshot);
        let changed = {
            let old = self.tx.borrow();
            old.keys
                .iter()
                .map(|k| &k.fingerprint)
                .ne(snapshot.keys.iter().map(|k| &k.fingerprint))
                || old
                    .age
                    .iter()
                    .map(|k| &k.fingerprint)
                    .ne(snapshot.age.iter().map(|k| &k.fingerprint))
        };
        if changed {
            info!(
                keys = snapshot.keys.len(),
                newest = ?snapshot.newest().map(|k| k.fingerprint.to_string()),
                age_keys = snapshot.age.len(),
                newest_age = ?snapshot.newest_age().map(|k| k.fingerprint.to_string()),
                "sealing keys loaded"
            );
            // Only a changed set wakes [`KeyStore::changed`] waiters (they re-queue every object).
            self.tx.send_replace(snapshot.clone());
        }
        Ok(snapshot)
    }

    /// The active age key Secrets, oldest first. Read even with `--age-keys=false`, so that
    /// age items sealed before age keys were turned off still open.
    async fn load_age_keys(&self) -> Result<Vec<(AgeKeyInfo, AgeIdentity)>, KeyManagerError> {
        let selector = format!("{AGE_KEY_LABEL}={KEY_STATE_ACTIVE}");
        let secrets = self
            .api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| self.api_error(e))?
            .items;
        let mut keys = Vec::with_capacity(secrets.len());
        for secret in secrets {
            let name = secret.metadata.name.clone().unwrap_or_default();
            match parse_age_key_secret(&secret) {
                Ok(pair) => keys.push(pair),
                Err(reason) => {
                    warn!(secret = %name, namespace = %self.namespace, %reason, "skipping unusable age key Secret")
                }
            }
        }
        keys.sort_by_key(|(info, _)| info.order_time);
        Ok(keys)
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
    ) -> Result<K8sSecret, KeyManagerError> {
        let secret: K8sSecret = serde_json::from_value(
            serde_json::to_value(secret).map_err(|e| KeyManagerError::Generate(e.to_string()))?,
        )
        .map_err(|e| KeyManagerError::Generate(e.to_string()))?;
        self.api
            .create(&PostParams::default(), &secret)
            .await
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
    /// schedule and on SIGUSR1 (followers never create keys: no second key from a race).
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
                    if let Err(err) = self.reload().await {
                        warn!(%err, "cannot re-read key Secrets");
                    }
                }
                () = sleep_or_forever(renew_in), if leader.is_leader() => {
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
                    if let Err(err) = self.generate().await {
                        warn!(%err, "key generation on SIGUSR1 failed");
                    }
                }
            }
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

fn parse_key_secret(
    secret: &K8sSecret,
    order: OrderPriority,
) -> Result<(KeyInfo, PrivateKey), String> {
    let value = serde_json::to_value(secret).map_err(|e| e.to_string())?;
    let core: sealant_core::Secret =
        serde_json::from_value(value).map_err(|_| "not a readable Secret".to_owned())?;
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
    };
    Ok((info, key))
}

fn parse_age_key_secret(secret: &K8sSecret) -> Result<(AgeKeyInfo, AgeIdentity), String> {
    let value = serde_json::to_value(secret).map_err(|e| e.to_string())?;
    let core: sealant_core::Secret =
        serde_json::from_value(value).map_err(|_| "not a readable Secret".to_owned())?;
    let identity = read_age_key_secret(&core).map_err(|e| e.to_string())?;
    let order_time = age_key_created(&core).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let info = AgeKeyInfo {
        fingerprint: identity.fingerprint().clone(),
        secret_name: secret.metadata.name.clone().unwrap_or_default(),
        order_time,
        recipient: identity.recipient().clone(),
    };
    Ok((info, identity))
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
    use super::*;

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
