//! What the arena uses besides [`Arena`]: status and data checks, the tenant's Role and
//! impersonated client, memory sampling, log tails.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client};
use sealant_controller::crd::SealedSecret;

use super::{ATTACKER_USER, POLL, Peak};
use crate::TestCluster;

/// The `Synced` condition's status.
#[must_use]
pub fn synced_status(object: &SealedSecret) -> Option<String> {
    object
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Synced")
        .map(|c| c.status.clone())
}

/// `status.observedGeneration`.
#[must_use]
pub fn observed(object: &SealedSecret) -> Option<i64> {
    object.status.as_ref()?.observed_generation
}

/// Whether `secret` holds exactly `items` once the leak canary is stripped.
#[must_use]
pub fn data_equals(secret: &Secret, items: &[(&str, &str)]) -> bool {
    let expected: BTreeMap<String, Vec<u8>> = items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    crate::controller::stripped_data(secret) == expected
}

/// True for the API server's 403 Forbidden.
#[must_use]
pub fn forbidden(result: Result<(), kube::Error>) -> bool {
    matches!(result, Err(kube::Error::Api(status)) if status.code == 403)
}

/// A Role for the tenant in `namespace` (everything on SealedSecrets, their status, Secrets
/// and ConfigMaps; reading Events) and its RoleBinding to [`ATTACKER_USER`]. The manifests ship
/// no role aggregated to `edit`, so the test grants the rights itself, status included: the
/// strongest tenant a cluster admin might make.
pub(super) async fn grant_tenant(cluster: &TestCluster, namespace: &str) -> anyhow::Result<()> {
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "tenant" },
        "rules": [
            {
                "apiGroups": ["bitnami.com"],
                "resources": ["sealedsecrets", "sealedsecrets/status"],
                "verbs": ["*"],
            },
            { "apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["*"] },
            { "apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"] },
        ],
    }))?;
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "tenant" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tenant" },
        "subjects": [
            { "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ATTACKER_USER },
        ],
    }))?;
    Api::<Role>::namespaced(cluster.client(), namespace)
        .create(&PostParams::default(), &role)
        .await?;
    Api::<RoleBinding>::namespaced(cluster.client(), namespace)
        .create(&PostParams::default(), &binding)
        .await?;
    Ok(())
}

/// A client that impersonates `user` (group `system:authenticated`) with the admin's
/// credentials, which may impersonate anyone.
pub(super) fn impersonating(cluster: &TestCluster, user: &str) -> anyhow::Result<Client> {
    let mut config = cluster.config().clone();
    config.auth_info.impersonate = Some(user.to_owned());
    config.auth_info.impersonate_groups = Some(vec!["system:authenticated".to_owned()]);
    Ok(Client::try_from(config)?)
}

/// (VmRSS, VmHWM) of `pid` in KiB.
pub(super) fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse::<u64>()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples `pid`'s memory every 100 ms into `peak` until the process is gone.
pub(super) async fn sample_memory(pid: u32, peak: Arc<Peak>) {
    while let Some((rss, hwm)) = memory_kib(pid) {
        peak.rss_kib.fetch_max(rss, Ordering::Relaxed);
        peak.hwm_kib.fetch_max(hwm, Ordering::Relaxed);
        tokio::time::sleep(POLL).await;
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a failure report shows of a controller log (it runs at TRACE, so not all of it): the
/// lines that tell of a crash or an error, and the last lines, each cut to 300 characters.
pub(super) fn tail(log: &str) -> String {
    const MARKERS: [&str; 4] = ["panicked", "overflowed", "fatal runtime error", " ERROR "];
    let lines: Vec<&str> = log.lines().collect();
    let mut shown: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| MARKERS.iter().any(|m| line.contains(m)))
        .collect();
    shown = shown[shown.len().saturating_sub(5)..].to_vec();
    for line in &lines[lines.len().saturating_sub(3)..] {
        if !shown.contains(line) {
            shown.push(line);
        }
    }
    shown
        .iter()
        .map(|line| match line.char_indices().nth(300) {
            Some((at, _)) => format!("{}...", &line[..at]),
            None => (*line).to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_figures() {
        let (rss, hwm) = memory_kib(std::process::id()).expect("own /proc status");
        assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
    }

    #[test]
    fn tails_keep_crash_lines_and_the_last_lines() {
        let mut log: String = (0..100).map(|i| format!("line {i}\n")).collect();
        log.insert_str(0, "thread 'x' has overflowed its stack\n");
        log.push_str(&"y".repeat(1000));
        let tail = tail(&log);
        let crash = "thread 'x' has overflowed its stack\nline 98\nline 99\n";
        assert!(tail.starts_with(crash), "{tail}");
        assert!(tail.ends_with(&format!("{}...", "y".repeat(300))), "{tail}");
        assert_eq!(super::tail(""), "");
    }

    #[test]
    fn data_is_compared_without_the_canary() {
        let secret = Secret {
            data: Some(
                [(
                    "k".to_owned(),
                    k8s_openapi::ByteString(crate::canary::embed("v").into_bytes()),
                )]
                .into(),
            ),
            ..Secret::default()
        };
        assert!(data_equals(&secret, &[("k", "v")]));
        assert!(!data_equals(&secret, &[("k", "w")]));
        assert!(!data_equals(&secret, &[("k", "v"), ("j", "v")]));
    }
}
