//! `sealant keys protect|unprotect` (docs/key-protection.md, "Migrating"): RSA key Secrets
//! wrapped in place under an HSM's or KMS's key, and back to upstream's plaintext layout; and
//! unwrapping protected keys for `keys backup`, whose files stay restorable without the KMS.
//!
//! Every key is one Secret update with the resourceVersion just read, so a run stopped
//! half-way leaves each key either plaintext or protected, both readable by a controller with
//! key protection on. A wrapped key is unwrapped again and compared before it is written.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::PostParams;
use sealant_core::Secret;
use sealant_core::keysecret::wrapped::unprotect_into;
use sealant_core::keysecret::{DEFAULT_KEY_PREFIX, KeySecretError, read_key_secret};
use sealant_k8s::KubeError;
use sealant_k8s::keys::{self as key_secrets, KeyKind, Listing, Owners};
use sealant_kms::{KeyProvider, ProviderSettings, RawSettings};

use super::age::{load_identities, open_backup_file};
use super::cluster::{api_error, keys_client, to_core, to_kube};
use crate::args::{KeyProviderArgs, KeysProtectArgs, KeysUnprotectArgs};
use crate::error::{KeyProtectionError, Result};

/// The provider the options name (`None`: no `--key-protection`).
pub(super) fn settings(args: &KeyProviderArgs) -> Result<Option<ProviderSettings>> {
    Ok(ProviderSettings::from_raw(&RawSettings {
        provider: args.key_protection.as_deref().unwrap_or_default(),
        pkcs11_module: args.pkcs11_module.as_deref(),
        pkcs11_token_label: &args.pkcs11_token_label,
        pkcs11_pin_file: args.pkcs11_pin_file.as_deref(),
        pkcs11_kek_label: &args.pkcs11_kek_label,
        aws_region: &args.aws_kms_region,
        aws_key_id: &args.aws_kms_key_id,
        aws_endpoint: &args.aws_kms_endpoint,
    })
    .map_err(KeyProtectionError::from)?)
}

async fn connect(settings: &ProviderSettings) -> Result<Arc<dyn KeyProvider>> {
    Ok(settings
        .connect(None)
        .await
        .map_err(KeyProtectionError::from)?)
}

/// The RSA key Secrets of the namespace (every state, and upstream's legacy key).
async fn rsa_key_secrets(api: &Api<K8sSecret>, namespace: &str) -> Result<Vec<Secret>> {
    let listed = key_secrets::list(api, KeyKind::Rsa, Listing::Every, Owners::All)
        .await
        .map_err(|e| {
            api_error(
                format!("cannot list key Secrets in namespace {namespace}"),
                e.kube(),
                "this needs `list` on Secrets in the controller namespace (--controller-namespace)",
            )
        })?;
    let legacy = key_secrets::legacy(api, DEFAULT_KEY_PREFIX, &listed)
        .await
        .ok()
        .flatten();
    listed.iter().chain(legacy.as_ref()).map(to_core).collect()
}

async fn write(api: &Api<K8sSecret>, secret: &Secret) -> Result<()> {
    let name = secret.metadata.name_or_empty().to_owned();
    let wanted = to_kube(secret)?;
    api.replace(&name, &PostParams::default(), &wanted)
        .await
        .map_err(|e| KeyProtectionError::Write {
            secret: name,
            source: Box::new(KubeError::from(e)),
        })?;
    Ok(())
}

/// `--backup` must hold every RSA key now in the namespace (the definition of "fresh").
fn check_backup(args: &KeysProtectArgs, secrets: &[Secret]) -> Result<()> {
    let Some(path) = &args.backup else {
        // `protect` refused earlier unless --i-have-a-backup.
        return Ok(());
    };
    let identities = load_identities(&args.identity)?;
    let backed_up: BTreeSet<String> = open_backup_file(path, &identities)?
        .iter()
        .filter_map(fingerprint)
        .collect();
    let missing: Vec<String> = secrets
        .iter()
        .filter_map(fingerprint)
        .filter(|f| !backed_up.contains(f))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(KeyProtectionError::BackupIncomplete(missing).into())
    }
}

/// A key Secret's key fingerprint, plaintext or protected.
fn fingerprint(secret: &Secret) -> Option<String> {
    match read_key_secret(secret) {
        Ok((key, _)) => Some(key.fingerprint().to_string()),
        Err(KeySecretError::Protected(wrapped)) => Some(wrapped.fingerprint().to_string()),
        Err(_) => None,
    }
}

/// `sealant keys protect`.
pub(super) fn protect(args: &KeysProtectArgs) -> Result<()> {
    // Refused before anything is read: no backup named, none vouched for.
    if args.backup.is_none() && !args.i_have_a_backup {
        return Err(KeyProtectionError::NoBackup.into());
    }
    let settings = settings(&args.provider)?.ok_or(KeyProtectionError::NoProvider(0))?;
    let namespace = args.cluster.controller_namespace.clone();
    crate::runtime()?.block_on(async {
        let client = keys_client(&args.cluster).await?;
        let api: Api<K8sSecret> = Api::namespaced(client, &namespace);
        let secrets = rsa_key_secrets(&api, &namespace).await?;
        check_backup(args, &secrets)?;
        let provider = connect(&settings).await?;
        let (mut done, mut skipped) = (0, 0);
        for mut secret in secrets {
            let name = secret.metadata.name_or_empty().to_owned();
            let (key, cert) = match read_key_secret(&secret) {
                Ok((key, Some(cert))) => (key, cert),
                Err(KeySecretError::Protected(wrapped)) => {
                    eprintln!(
                        "already protected: {namespace}/{name} ({})",
                        wrapped.protection()
                    );
                    skipped += 1;
                    continue;
                }
                Ok((_, None)) | Err(_) => {
                    eprintln!("skipped: {namespace}/{name} (not a usable RSA key Secret)");
                    skipped += 1;
                    continue;
                }
            };
            let key_error = |source| KeyProtectionError::Key {
                secret: name.clone(),
                source,
            };
            let wrapped = sealant_kms::protect(provider.as_ref(), &key, &cert)
                .await
                .map_err(key_error)?;
            // Unwrapped once more before the plaintext goes: a wrap that does not come back
            // never replaces a key.
            let again = sealant_kms::unprotect(provider.as_ref(), &wrapped)
                .await
                .map_err(key_error)?;
            if again.fingerprint() != key.fingerprint() {
                return Err(KeyProtectionError::Verify(name).into());
            }
            wrapped.write_into(&mut secret);
            write(&api, &secret).await?;
            eprintln!(
                "protected: {namespace}/{name} (RSA {}) under {}",
                key.fingerprint(),
                wrapped.protection()
            );
            done += 1;
        }
        eprintln!("{done} key(s) protected, {skipped} left as they were");
        Ok(())
    })
}

/// `sealant keys unprotect`.
pub(super) fn unprotect(args: &KeysUnprotectArgs) -> Result<()> {
    let settings = settings(&args.provider)?;
    let namespace = args.cluster.controller_namespace.clone();
    crate::runtime()?.block_on(async {
        let client = keys_client(&args.cluster).await?;
        let api: Api<K8sSecret> = Api::namespaced(client, &namespace);
        let mut secrets = rsa_key_secrets(&api, &namespace).await?;
        let protected = secrets
            .iter()
            .filter(|s| matches!(read_key_secret(s), Err(KeySecretError::Protected(_))))
            .count();
        if protected == 0 {
            eprintln!("no protected key in namespace {namespace}: nothing to do");
            return Ok(());
        }
        let settings = settings.ok_or(KeyProtectionError::NoProvider(protected))?;
        let provider = connect(&settings).await?;
        for secret in &mut secrets {
            let name = secret.metadata.name_or_empty().to_owned();
            let Err(KeySecretError::Protected(wrapped)) = read_key_secret(secret) else {
                continue;
            };
            let key = sealant_kms::unprotect(provider.as_ref(), &wrapped)
                .await
                .map_err(|source| KeyProtectionError::Key {
                    secret: name.clone(),
                    source,
                })?;
            unprotect_into(secret, &key)?;
            write(&api, secret).await?;
            eprintln!(
                "unprotected: {namespace}/{name} (RSA {})",
                key.fingerprint()
            );
        }
        eprintln!("{protected} key(s) back in upstream's plaintext layout");
        Ok(())
    })
}

/// Turns the protected key Secrets among `secrets` into plaintext ones, in memory only, for a
/// backup restorable without the HSM or KMS.
pub(super) async fn unwrap_for_backup(
    secrets: &mut [Secret],
    provider: &KeyProviderArgs,
) -> Result<()> {
    let protected = secrets
        .iter()
        .filter(|s| matches!(read_key_secret(s), Err(KeySecretError::Protected(_))))
        .count();
    if protected == 0 {
        return Ok(());
    }
    let settings = settings(provider)?.ok_or(KeyProtectionError::NoProvider(protected))?;
    let provider = connect(&settings).await?;
    for secret in secrets.iter_mut() {
        let Err(KeySecretError::Protected(wrapped)) = read_key_secret(secret) else {
            continue;
        };
        let key = sealant_kms::unprotect(provider.as_ref(), &wrapped)
            .await
            .map_err(|source| KeyProtectionError::Key {
                secret: secret.metadata.name_or_empty().to_owned(),
                source,
            })?;
        unprotect_into(secret, &key)?;
    }
    Ok(())
}
