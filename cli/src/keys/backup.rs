//! `sealant keys backup|restore`: a controller's key Secrets (RSA and age) as one age file for
//! an offline recipient, and back.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::PostParams;
use sealant_core::backup::{restorable, seal_backup};
use sealant_core::keysecret::age::{AGE_KEY_LABEL, is_age_key_secret, read_age_key_secret};
use sealant_core::keysecret::{KEY_LABEL, read_key_secret};
use sealant_core::object::to_text_stream;
use sealant_core::{Format, Secret};
use sealant_k8s::KubeError;
use sealant_k8s::keys::{self as key_secrets, KeyKind, Listing};

use super::age::{age_recipients, load_identities, open_backup_file};
use crate::args::{BackupFormat, KeysBackupArgs, KeysRestoreArgs};
use crate::cluster::KubeOverrides;
use crate::error::{CliError, Hinted, Result, with_sources};

/// `sealant keys backup`.
pub(super) fn backup(args: &KeysBackupArgs) -> Result<()> {
    let recipients = age_recipients(&args.recipient, &args.recipients_file)?;
    let armor = args.armor || args.output == Some(BackupFormat::Armor);
    if args.output_file.is_none() && !armor && std::io::stdout().is_terminal() {
        return Err(
            CliError::usage("refusing to write a binary backup to a terminal")
                .hint("pass -w FILE, or -o armor for text"),
        );
    }
    let secrets = if args.files.is_empty() {
        cluster_key_secrets(args)?
    } else {
        let mut all = Vec::new();
        for input in crate::io::read_inputs(&args.files)? {
            let secrets = sealant_core::backup::read_key_secrets(&input.text)
                .map_err(|e| e.into_cli().context(&input.origin))?;
            all.extend(secrets);
        }
        all
    };
    let backup = seal_backup(&recipients, &secrets, armor).map_err(|e| {
        let err = CliError::new(with_sources(&e));
        match e {
            sealant_core::backup::BackupError::Empty => err.hint(format!(
                "no key Secret found: check --controller-namespace ({}) and your access to its Secrets",
                args.cluster.controller_namespace
            )),
            sealant_core::backup::BackupError::MixedRecipients(_) => {
                err.hint("use only age1pq1… or only age1… backup recipients")
            }
            sealant_core::backup::BackupError::NotAKey { .. } => err.hint(
                "-f takes key Secrets only (kubectl get secret -n NAMESPACE -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml, and -l sealant.dev/age-key)",
            ),
            _ => err,
        }
    })?;
    let (rsa, age) = secrets.iter().fold((0, 0), |(r, a), s| {
        if is_age_key_secret(s) {
            (r, a + 1)
        } else {
            (r + 1, a)
        }
    });
    crate::io::emit(args.output_file.as_deref(), &backup)?;
    eprintln!(
        "backed up {} key Secrets ({rsa} RSA, {age} age) for {} recipient(s){}",
        secrets.len(),
        recipients.len(),
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
    Ok(())
}

/// `RSA SHA256:…` or `age SHA256:…` (public fingerprints only).
fn describe_key(secret: &Secret) -> String {
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

/// Every key Secret (RSA and age, whatever their state) in the controller namespace.
fn cluster_key_secrets(args: &KeysBackupArgs) -> Result<Vec<Secret>> {
    let namespace = args.cluster.controller_namespace.clone();
    crate::runtime()?.block_on(async {
        let client = crate::cluster::client(&args.cluster, &KubeOverrides::default()).await?;
        let api: Api<K8sSecret> = Api::namespaced(client, &namespace);
        let mut secrets = Vec::new();
        for kind in KeyKind::ALL {
            let list = key_secrets::list(&api, kind, Listing::Every)
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

/// A key Secret read from the cluster as core's type.
fn to_core(secret: &K8sSecret) -> Result<Secret> {
    sealant_k8s::convert::secret_to_core(secret).map_err(|_| {
        CliError::new(format!(
            "cannot read Secret {}",
            secret.metadata.name.as_deref().unwrap_or("")
        ))
        .hint("its fields do not have the shape of a Kubernetes Secret: check it with `kubectl get secret NAME -o yaml`")
    })
}

/// A key Secret to write, wiped from memory when dropped.
fn to_kube(secret: &Secret) -> Result<sealant_k8s::PlainSecret> {
    sealant_k8s::PlainSecret::try_from(secret).map_err(|_| {
        CliError::new(format!(
            "cannot encode Secret {}",
            secret.metadata.name_or_empty()
        ))
    })
}

/// `sealant keys restore`.
pub(super) fn restore(args: &KeysRestoreArgs) -> Result<()> {
    let identities = load_identities(&args.identity)?;
    let secrets = open_backup_file(&args.file, &identities)?;
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

/// Same type, data and key labels: restoring it again changes nothing.
fn same_content(existing: &K8sSecret, wanted: &K8sSecret) -> bool {
    let labels = |secret: &K8sSecret| -> BTreeMap<String, String> {
        secret
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(key, _)| key.as_str() == KEY_LABEL || key.as_str() == AGE_KEY_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    existing.type_ == wanted.type_
        && existing.data.as_ref().filter(|d| !d.is_empty())
            == wanted.data.as_ref().filter(|d| !d.is_empty())
        && labels(existing) == labels(wanted)
}
