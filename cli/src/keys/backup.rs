//! `sealant keys backup|restore|share-decrypt`: a controller's key Secrets (RSA and age) as
//! one age file for offline recipients, or as an m-of-n backup whose shares holders open one
//! by one (docs/recovery.md), and back.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::PostParams;
use sealant_core::age::plugin::FileRecipient;
use sealant_core::backup::escrow::EscrowSetupError;
use sealant_core::backup::threshold::seal_threshold_backup;
use sealant_core::backup::{BackupError, Holder, ThresholdBackup, restorable, seal_backup_to};
use sealant_core::keysecret::age::{AGE_KEY_LABEL, is_age_key_secret, read_age_key_secret};
use sealant_core::keysecret::{KEY_LABEL, read_key_secret};
use sealant_core::object::to_text_stream;
use sealant_core::tenant::TENANT_LABEL;
use sealant_core::{Format, KeyOwner, Secret};
use sealant_k8s::KubeError;
use sealant_k8s::keys::{self as key_secrets, KeyKind, Listing, Owners};

use super::age::{file_recipients, load_file_identities, open_any_backup, plugin_message};
use super::cluster::{to_core, to_kube};
use crate::args::{BackupFormat, KeysBackupArgs, KeysRestoreArgs, KeysShareDecryptArgs};
use crate::cluster::KubeOverrides;
use crate::error::{CliError, Hinted, KeyBackupError, Result, with_sources};

/// `sealant keys backup`.
pub(super) fn backup(args: &KeysBackupArgs) -> Result<()> {
    let recipients = file_recipients(&args.recipient, &args.recipients_file)?;
    let holders = match args.threshold {
        Some(_) => Some(holders(recipients.clone(), &args.group)?),
        None => None,
    };
    let armor = args.armor || args.output == Some(BackupFormat::Armor);
    if args.output_file.is_none() && !armor && holders.is_none() && std::io::stdout().is_terminal()
    {
        return Err(
            CliError::usage("refusing to write a binary backup to a terminal")
                .hint("pass -w FILE, or -o armor for text"),
        );
    }
    let mut secrets = if args.files.is_empty() {
        cluster_key_secrets(args)?
    } else {
        let mut all = Vec::new();
        for input in crate::io::read_inputs(&args.files)? {
            let secrets = sealant_core::backup::read_key_secrets(&input.text)
                .map_err(|e| e.into_cli().context(&input.origin))?;
            all.extend(secrets);
        }
        if let Some(tenant) = &args.tenant {
            all.retain(|s| key_owner(s).tenant() == Some(tenant));
        }
        all
    };
    // Protected keys go into the backup unwrapped: restorable without the HSM or KMS.
    crate::runtime()?.block_on(super::protect::unwrap_for_backup(
        &mut secrets,
        &args.provider,
    ))?;
    let hint = |e: BackupError| {
        let err = CliError::from(KeyBackupError::Seal { source: e.clone() });
        match e {
            BackupError::Empty => match &args.tenant {
                Some(tenant) => err.hint(format!(
                    "no key Secret of tenant {tenant} found: check the name (`sealant keys list --all-tenants`), --controller-namespace ({}) and your access to its Secrets",
                    args.cluster.controller_namespace
                )),
                None => err.hint(format!(
                    "no key Secret found: check --controller-namespace ({}) and your access to its Secrets",
                    args.cluster.controller_namespace
                )),
            },
            BackupError::NotAKey { .. } => err.hint(
                "-f takes key Secrets only (kubectl get secret -n NAMESPACE -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml, and -l sealant.dev/age-key)",
            ),
            _ => err,
        }
    };
    let (backup, to_whom) = match (&holders, args.threshold) {
        (Some(holders), Some(threshold)) => {
            let text = seal_threshold_backup(holders, threshold, &secrets, plugin_message)
                .map_err(hint)?;
            let parsed = ThresholdBackup::parse(text.as_bytes())
                .map_err(|e| hint(BackupError::Threshold(e)))?;
            let whom = format!(
                "as a {threshold}-of-{} backup (id {})",
                holders.len(),
                parsed.id()
            );
            (text.into_bytes(), whom)
        }
        _ => (
            seal_backup_to(&recipients, &secrets, armor, plugin_message).map_err(hint)?,
            format!("for {} recipient(s)", recipients.len()),
        ),
    };
    let (rsa, age) = secrets.iter().fold((0, 0), |(r, a), s| {
        if is_age_key_secret(s) {
            (r, a + 1)
        } else {
            (r + 1, a)
        }
    });
    crate::io::emit(args.output_file.as_deref(), &backup)?;
    eprintln!(
        "backed up {} key Secrets ({rsa} RSA, {age} age) {to_whom}{}",
        secrets.len(),
        args.output_file
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default()
    );
    for secret in &secrets {
        eprintln!(
            "  {} {}",
            secret.metadata.name_or_empty(),
            describe_key(secret)
        );
    }
    for (index, holder) in holders.iter().flatten().enumerate() {
        eprintln!(
            "  share {} {}: {} recipient(s)",
            index + 1,
            holder.label.as_deref().unwrap_or("-"),
            holder.recipients.len()
        );
    }
    Ok(())
}

/// The holders of an m-of-n backup: each recipient on its own, then each `--group` (parsed by
/// core, as the controller's `--escrow-group`).
fn holders(recipients: Vec<FileRecipient>, groups: &[String]) -> Result<Vec<Holder>> {
    let group_hint =
        "--group takes [LABEL=]RECIPIENT[,RECIPIENT…], e.g. --group alice=age1…,age1yubikey1…";
    sealant_core::backup::escrow::holders(recipients, groups).map_err(|e| {
        let message = format!("--group: {}", with_sources(&e));
        match e {
            EscrowSetupError::Recipient { .. } => KeyBackupError::recipient(message).into(),
            _ => KeyBackupError::usage(message, group_hint).into(),
        }
    })
}

/// `sealant keys share-decrypt`.
pub(super) fn share_decrypt(args: &KeysShareDecryptArgs) -> Result<()> {
    let identities = load_file_identities(&args.identity)?;
    let recipients = file_recipients(&args.recipient, &[])?;
    let open = |source| KeyBackupError::Open {
        path: args.file.clone(),
        source,
    };
    let bytes = if args.file == std::path::Path::new("-") {
        crate::io::read_stdin_bytes()?
    } else {
        crate::io::read_file_bytes(&args.file)?
    };
    let backup = ThresholdBackup::parse(&bytes).map_err(|e| open(e.into()))?;
    let mut shares = backup
        .open_shares(&identities, plugin_message)
        .map_err(open)?;
    if let Some(index) = args.index {
        shares.retain(|s| s.index() == index);
    }
    let share = match shares.len() {
        1 => shares.remove(0),
        0 => {
            return Err(CliError::from(open(BackupError::Decrypt)).hint(
                "none of your identities opens a share of this backup (or not the --index asked for): check the file and --identity",
            ));
        }
        _ => {
            let indices: Vec<String> = shares.iter().map(|s| s.index().to_string()).collect();
            return Err(CliError::usage(format!(
                "your identities open shares {} of this backup",
                indices.join(", ")
            ))
            .hint("pass --index N to write one of them"));
        }
    };
    let text = share.to_text();
    let out = if recipients.is_empty() {
        text.expose_secret().as_bytes().to_vec()
    } else {
        sealant_core::age::plugin::encrypt_to(
            &recipients,
            text.expose_secret().as_bytes(),
            true,
            plugin_message,
        )
        .map_err(|e| {
            CliError::from(KeyBackupError::Seal {
                source: match e {
                    sealant_core::age::plugin::FileEncryptError::Plugin(e) => e.into(),
                    sealant_core::age::plugin::FileEncryptError::Seal(e) => e.into(),
                    _ => BackupError::NoRecipient,
                },
            })
        })?
    };
    let out = zeroize::Zeroizing::new(out);
    crate::io::emit(args.output_file.as_deref(), &out)?;
    eprintln!(
        "share {} of backup {} (threshold {}){}",
        share.index(),
        share.backup_id(),
        backup.threshold(),
        if recipients.is_empty() {
            ", in clear: pass it on privately, or use -r to encrypt it to the person who restores"
        } else {
            ", encrypted to the given recipient(s)"
        }
    );
    Ok(())
}

/// Whose key a key Secret is, by its tenant label (an unreadable label reads as the cluster's:
/// the key is still backed up).
fn key_owner(secret: &Secret) -> KeyOwner {
    KeyOwner::of_key_labels(secret.metadata.labels.as_ref()).unwrap_or_default()
}

/// `RSA SHA256:…` or `age SHA256:…` (public fingerprints only), and the tenant of a tenant's
/// key.
fn describe_key(secret: &Secret) -> String {
    let key = describe_key_alone(secret);
    match key_owner(secret) {
        KeyOwner::Cluster => key,
        KeyOwner::Tenant(tenant) => format!("{key} (tenant {tenant})"),
    }
}

fn describe_key_alone(secret: &Secret) -> String {
    if is_age_key_secret(secret) {
        read_age_key_secret(secret)
            .map(|identity| format!("age {}", identity.fingerprint()))
            .unwrap_or_else(|_| "age (unreadable)".to_owned())
    } else {
        read_key_secret(secret)
            .map(|(key, _)| format!("RSA {}", key.fingerprint()))
            .unwrap_or_else(|_| "RSA (unreadable)".to_owned())
    }
}

/// Every key Secret (RSA and age, whatever their state) in the controller namespace: the
/// cluster's and every tenant's, or with `--tenant`, that tenant's (docs/multi-tenancy.md,
/// "Tenant keys").
fn cluster_key_secrets(args: &KeysBackupArgs) -> Result<Vec<Secret>> {
    let owners = args.tenant.as_ref().map_or(Owners::All, Owners::Tenant);
    let namespace = args.cluster.controller_namespace.clone();
    crate::runtime()?.block_on(async {
        let client = crate::cluster::client(&args.cluster, &KubeOverrides::default()).await?;
        let api: Api<K8sSecret> = Api::namespaced(client, &namespace);
        let mut secrets = Vec::new();
        for kind in KeyKind::ALL {
            let list = key_secrets::list(&api, kind, Listing::Every, owners)
                .await
                .map_err(|e| {
                    CliError::new(format!(
                        "cannot list key Secrets in namespace {namespace}: {}",
                        e.kube()
                    ))
                    .hint("backups need `list` on Secrets in the controller namespace (--controller-namespace)")
                })?;
            for item in &list {
                secrets.push(to_core(item)?);
            }
        }
        Ok(secrets)
    })
}

/// `sealant keys restore`.
pub(super) fn restore(args: &KeysRestoreArgs) -> Result<()> {
    let identities = load_file_identities(&args.identity)?;
    let secrets = open_any_backup(&args.file, &identities, &args.share)?;
    if !args.apply {
        let restored: Vec<Secret> = secrets.into_iter().map(|s| restorable(s, None)).collect();
        let text = zeroize::Zeroizing::new(
            to_text_stream(&restored, args.output.map_or(Format::Yaml, Format::from))
                .map_err(Hinted::into_cli)?,
        );
        crate::io::emit(args.output_file.as_deref(), text.as_bytes())?;
        eprintln!(
            "{} key Secrets; apply them with `kubectl apply -f` or `sealant keys restore --apply`",
            restored.len()
        );
        return Ok(());
    }
    let namespace = args.cluster.controller_namespace.clone();
    let restored: Vec<Secret> = secrets
        .into_iter()
        .map(|s| restorable(s, Some(&namespace)))
        .collect();
    crate::runtime()?.block_on(async {
        let client = crate::cluster::client(&args.cluster, &KubeOverrides::default()).await?;
        let api: Api<K8sSecret> = Api::namespaced(client, &namespace);
        // Check every name first, so that a conflict leaves the cluster untouched.
        let mut to_create = Vec::new();
        for secret in &restored {
            let wanted = to_kube(secret)?;
            let existing = match &wanted.metadata.name {
                Some(name) => api.get_opt(name).await.map_err(|e| {
                    CliError::new(format!(
                        "cannot read Secret {namespace}/{name}: {}",
                        KubeError::from(e)
                    ))
                })?,
                None => None,
            };
            match existing {
                Some(existing) if same_content(&existing, &wanted) => {
                    eprintln!(
                        "unchanged: {namespace}/{} ({})",
                        secret.metadata.name_or_empty(),
                        describe_key(secret)
                    );
                }
                Some(_) => {
                    return Err(CliError::new(format!(
                        "Secret {namespace}/{} exists with other content; nothing was restored",
                        secret.metadata.name_or_empty()
                    ))
                    .hint("restore into another --controller-namespace, or inspect the two and delete or rename the existing Secret by hand"));
                }
                None => to_create.push((secret, wanted)),
            }
        }
        for (secret, wanted) in to_create {
            api.create(&PostParams::default(), &wanted)
                .await
                .map_err(|e| {
                    CliError::new(format!(
                        "cannot create Secret {namespace}/{}: {}",
                        secret.metadata.name_or_empty(),
                        KubeError::from(e)
                    ))
                })?;
            eprintln!(
                "created: {namespace}/{} ({})",
                secret.metadata.name_or_empty(),
                describe_key(secret)
            );
        }
        Ok(())
    })
}

/// Same type, data and key labels (state and tenant): restoring it again changes nothing.
fn same_content(existing: &K8sSecret, wanted: &K8sSecret) -> bool {
    let labels = |secret: &K8sSecret| -> BTreeMap<String, String> {
        secret
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(key, _)| [KEY_LABEL, AGE_KEY_LABEL, TENANT_LABEL].contains(&key.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    existing.type_ == wanted.type_
        && existing.data.as_ref().filter(|d| !d.is_empty())
            == wanted.data.as_ref().filter(|d| !d.is_empty())
        && labels(existing) == labels(wanted)
}
