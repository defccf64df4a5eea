//! `sealant keys list|retire|compromise|reactivate|rotate`: the commands on key states.

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use sealant_core::keysecret::{KeyState, RENEW_REQUEST_ANNOTATION};
use sealant_core::{Fingerprint, KeyOwner};
use sealant_k8s::KubeError;
use sealant_k8s::keys::KeyKind;
use serde_json::json;
use time::OffsetDateTime;

use super::cluster::{api_error, connect, inventory, keys_client, note, read_keys, set_state};
use super::inventory::{Inventory, KeyEntry, kind_title, mark_sealing, owners_of, tenant_flag};
use super::words::{count_verb, format_time, quote_names};
use crate::args::{
    KeysListArgs, KeysListFormat, KeysReactivateArgs, KeysRetireArgs, KeysRotateArgs, KeysStateArgs,
};
use crate::error::{CliError, Result};

/// How often `keys rotate` looks for the new key.
const ROTATE_POLL: Duration = Duration::from_secs(1);

/// `sealant keys list`.
///
/// # Errors
/// As [`inventory`].
pub fn list(args: &KeysListArgs) -> Result<()> {
    let selection = if args.all_tenants {
        None
    } else {
        Some(
            args.tenant
                .clone()
                .map_or(KeyOwner::Cluster, KeyOwner::Tenant),
        )
    };
    let inventory = inventory(&args.cluster, &args.scope, selection)?;
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

/// `sealant keys retire`.
///
/// # Errors
/// A refusal (exit code 2) while something may need the key, unless `--force`; cluster errors.
pub fn retire(args: &KeysRetireArgs) -> Result<()> {
    crate::runtime()?.block_on(async {
        let (client, inventory, fingerprint) =
            connect(&args.cluster, &args.scope, &args.fingerprint, true, args.tenant.owner()).await?;
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
        let (client, inventory, fingerprint) = connect(
            &args.cluster,
            &args.scope,
            &args.fingerprint,
            false,
            args.tenant.owner(),
        )
        .await?;
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
        match after
            .iter()
            .find(|k| k.kind == sealing.kind && k.owner == sealing.owner && k.sealing)
        {
            Some(next) => lines.push(format!(
                "Sealing falls back to the next newest active {} key, {}; `sealant keys rotate{}` makes a fresh one.",
                kind_title(sealing.kind),
                next.fingerprint_text(),
                tenant_flag(&sealing.owner)
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
            connect(&args.cluster, &args.scope, &args.fingerprint, false, args.tenant.owner()).await?;
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
    let owner = args.tenant.owner();
    let selection = Some(owner.clone());
    crate::runtime()?.block_on(async {
        let client = keys_client(&args.cluster).await?;
        let mut keys = read_keys(&client, &namespace, owners_of(&selection)).await?;
        keys.retain(|k| k.owner == owner);
        mark_sealing(&mut keys);
        let Some(current) = keys.iter().find(|k| k.kind == KeyKind::Rsa && k.sealing).cloned()
        else {
            return Err(match &owner {
                KeyOwner::Cluster => CliError::new(format!(
                    "no active RSA key in namespace {namespace} to renew"
                ))
                .hint("the controller creates its first key when it starts: is it running, with this --controller-namespace?"),
                KeyOwner::Tenant(tenant) => CliError::new(format!(
                    "no active RSA key of tenant {tenant} in namespace {namespace} to renew"
                ))
                .hint(format!("the controller's leader makes a tenant's keys once a namespace has the tenant label (with --tenant-keys): is tenant {tenant} spelled right? `sealant keys list --all-tenants` lists every tenant's keys")),
            });
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
                &KubeError::from(e),
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
            let mut keys = read_keys(&client, &namespace, owners_of(&selection)).await?;
            keys.retain(|k| k.owner == owner);
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
