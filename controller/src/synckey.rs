//! The sync key's Secret (`sealant-sync-key` in the controller namespace;
//! docs/design/controller.md, "6. Sync key and the in-sync digest"): the random HMAC key behind the `sealant.dev/unsealed-digest`
//! annotation, shared by every replica and every restart so that Secrets already in sync need no
//! decryption.
//!
//! Only the leader creates it (create; on 409 AlreadyExists re-read, so two racing leaders end
//! up with the same key). Losing it is harmless: every object is decrypted once more and
//! re-annotated. Anyone able to read it can also read the sealing keys next to it.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use sealant_core::sync::{SyncKey, SyncKeyError};
use sealant_k8s::KubeError;
use tracing::{info, warn};

/// The Secret's name.
pub const SYNC_KEY_SECRET: &str = "sealant-sync-key";
/// The one data item, holding the 32 key bytes.
pub const SYNC_KEY_ITEM: &str = "key";
/// Label on the Secret.
pub const SYNC_KEY_LABEL: &str = "sealant.dev/sync-key";

/// Why the sync key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncKeySecretError {
    /// Reading or writing the Secret failed.
    #[error("sync key Secret {name}: {source}")]
    Api {
        /// The Secret's name.
        name: String,
        /// The cause, with the API server's status code.
        #[source]
        source: KubeError,
    },
    /// The key could not be generated.
    #[error(transparent)]
    Key(#[from] SyncKeyError),
    /// The Secret kept changing under us.
    #[error("sync key Secret {0}: gave up after repeated conflicts")]
    Conflict(String),
}

fn api_error(source: impl Into<KubeError>) -> SyncKeySecretError {
    SyncKeySecretError::Api {
        name: SYNC_KEY_SECRET.to_owned(),
        source: source.into(),
    }
}

/// The key stored in `secret`, if it holds a well-formed one.
fn parse(secret: &K8sSecret) -> Result<SyncKey, SyncKeyError> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(SYNC_KEY_ITEM))
        .map_or(&[][..], |b| b.0.as_slice());
    SyncKey::from_bytes(bytes)
}

fn secret_for(key: &SyncKey, namespace: &str) -> K8sSecret {
    K8sSecret {
        metadata: ObjectMeta {
            name: Some(SYNC_KEY_SECRET.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some([(SYNC_KEY_LABEL.to_owned(), "true".to_owned())].into()),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(BTreeMap::from([(
            SYNC_KEY_ITEM.to_owned(),
            ByteString(key.expose_bytes().to_vec()),
        )])),
        ..K8sSecret::default()
    }
}

/// Reads the sync key; `None` if the Secret does not exist (yet) or is malformed.
///
/// # Errors
/// [`SyncKeySecretError::Api`] if the API server cannot be asked.
pub async fn load(api: &Api<K8sSecret>) -> Result<Option<SyncKey>, SyncKeySecretError> {
    let Some(secret) = api.get_opt(SYNC_KEY_SECRET).await.map_err(api_error)? else {
        return Ok(None);
    };
    match parse(&secret) {
        Ok(key) => Ok(Some(key)),
        Err(err) => {
            warn!(%err, secret = SYNC_KEY_SECRET, "malformed sync key Secret");
            Ok(None)
        }
    }
}

/// Leader only: reads the sync key, creating it if missing (race-free: on 409 AlreadyExists the
/// winner's key is re-read). A malformed Secret is replaced (guarded by its resourceVersion).
///
/// # Errors
/// See [`SyncKeySecretError`].
pub async fn load_or_create(
    api: &Api<K8sSecret>,
    namespace: &str,
) -> Result<SyncKey, SyncKeySecretError> {
    for _ in 0..5 {
        let live = api.get_opt(SYNC_KEY_SECRET).await.map_err(api_error)?;
        match live {
            Some(secret) => match parse(&secret) {
                Ok(key) => return Ok(key),
                Err(err) => {
                    warn!(%err, secret = SYNC_KEY_SECRET, "malformed sync key Secret: replacing it");
                    let key = SyncKey::generate()?;
                    let mut fresh = secret_for(&key, namespace);
                    fresh.metadata.resource_version = secret.metadata.resource_version.clone();
                    match api
                        .replace(SYNC_KEY_SECRET, &PostParams::default(), &fresh)
                        .await
                        .map_err(KubeError::from)
                    {
                        Ok(_) => return Ok(key),
                        // Changed meanwhile: read it again.
                        Err(err) if err.is_conflict() => continue,
                        Err(err) => return Err(api_error(err)),
                    }
                }
            },
            None => {
                let key = SyncKey::generate()?;
                match api
                    .create(&PostParams::default(), &secret_for(&key, namespace))
                    .await
                    .map_err(KubeError::from)
                {
                    Ok(_) => {
                        info!(secret = SYNC_KEY_SECRET, "sync key created");
                        return Ok(key);
                    }
                    // Another leader won the race (AlreadyExists): use its key.
                    Err(err) if err.is_conflict() => continue,
                    Err(err) => return Err(api_error(err)),
                }
            }
        }
    }
    Err(SyncKeySecretError::Conflict(SYNC_KEY_SECRET.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_round_trips_and_rejects_bad_lengths() {
        let key = SyncKey::generate().unwrap();
        let secret = secret_for(&key, "ns");
        assert_eq!(secret.type_.as_deref(), Some("Opaque"));
        assert_eq!(
            secret.metadata.labels.as_ref().unwrap()[SYNC_KEY_LABEL],
            "true"
        );
        assert_eq!(secret.data.as_ref().unwrap().len(), 1);
        assert_eq!(parse(&secret).unwrap().expose_bytes(), key.expose_bytes());
        let mut short = secret.clone();
        short.data = Some([(SYNC_KEY_ITEM.to_owned(), ByteString(vec![0; 16]))].into());
        assert!(parse(&short).is_err());
        assert!(parse(&K8sSecret::default()).is_err());
    }
}
