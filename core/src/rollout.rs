//! Rollouts of the workloads that read a Secret (docs/rollout.md): the opt-in annotation on a
//! SealedSecret that names them, and the digest the controller puts on their pod template when
//! the Secret's data changes.
//!
//! The annotation `sealant.dev/rollout` lists workloads by kind and name only
//! (`deployment/web, statefulset/db`): a namespace cannot be written, so a SealedSecret can
//! only ever name workloads of its own namespace.
//!
//! The digest ([`rollout_digest`]) sits in the pod template, where anyone who can read the
//! workload sees it: like the in-sync digest (`sync`), it is a MAC under the sync key, never a
//! plain hash of the data, so it tells nothing about low-entropy values. It is computed from
//! the data MAC ([`crate::sync::data_mac`]), which the controller keeps for the Secrets it owns
//! without their values; it binds the Secret's namespace and name, so two Secrets holding the
//! same values get different digests.

use std::fmt;

use aws_lc_rs::hmac;

use crate::sync::SyncKey;

/// The SealedSecret annotation naming the workloads to roll out.
pub const ROLLOUT_ANNOTATION: &str = "sealant.dev/rollout";
/// Prefix of the pod-template annotation that carries a Secret's digest; the Secret's name
/// follows (see [`digest_annotation_key`]).
pub const DIGEST_ANNOTATION_PREFIX: &str = "rollout.sealant.dev/";
/// Most workloads one SealedSecret may name: each costs requests at every change.
pub const MAX_TARGETS: usize = 16;

const DIGEST_DOMAIN: &[u8] = b"sealant.dev/rollout-digest/v1\0";
const KEY_ID_DOMAIN: &[u8] = b"sealant.dev/sync-key-id/v1\0";
const VALUE_PREFIX: &str = "v1:";
/// Bytes of the key id and of the digest kept (hex doubles them).
const KEY_ID_LEN: usize = 4;
const DIGEST_LEN: usize = 16;
/// The name part of an annotation key is at most 63 characters.
const NAME_PART_MAX: usize = 63;
/// An entry is quoted in errors up to this many characters.
const ENTRY_SHOWN_MAX: usize = 80;

/// A workload kind that can be rolled out by a change of its pod template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
}

impl WorkloadKind {
    /// The kind as written in the annotation: `deployment`, `statefulset`, `daemonset`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    /// The kind as the API names it: `Deployment`, `StatefulSet`, `DaemonSet`.
    pub fn api_kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
        }
    }

    /// kubectl's spellings, case-insensitive, with an optional `.apps` group.
    fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        let kind = lower.strip_suffix(".apps").unwrap_or(&lower);
        match kind {
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Some(WorkloadKind::DaemonSet),
            _ => None,
        }
    }
}

/// One workload named by the annotation, in the SealedSecret's namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its name.
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

/// Why the annotation names no usable list of workloads. Each variant quotes the entry (cut to
/// 80 characters): the annotation is metadata, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// `ns/kind/name` or `kind/ns/name`: a namespace cannot be named.
    #[error(
        "{entry:?}: a namespace cannot be named; write kind/name, the workload is always in the SealedSecret's namespace"
    )]
    Namespaced {
        /// The entry.
        entry: String,
    },
    /// No `/`.
    #[error("{entry:?}: write kind/name, e.g. deployment/{entry}")]
    NoKind {
        /// The entry.
        entry: String,
    },
    /// Not a kind that has a pod template (this also catches `namespace/name`).
    #[error(
        "{entry:?}: unknown kind {kind:?}; use deployment, statefulset or daemonset (no namespace: the workload is always in the SealedSecret's namespace)"
    )]
    UnknownKind {
        /// The entry.
        entry: String,
        /// The part before `/`.
        kind: String,
    },
    /// The name is not a valid object name (lowercase letters, digits, `-` and `.`, at most
    /// 253 characters).
    #[error("{entry:?}: {name:?} is not a valid workload name")]
    BadName {
        /// The entry.
        entry: String,
        /// The part after `/`.
        name: String,
    },
    /// More than [`MAX_TARGETS`] workloads.
    #[error("{count} workloads named; at most {MAX_TARGETS}")]
    TooMany {
        /// How many (after removing repeats).
        count: usize,
    },
}

/// The workloads an annotation value names, sorted, each once. Entries are separated by
/// commas or whitespace; an empty value names none. Any bad entry refuses the whole list, so a
/// typo never leaves half of the workloads behind silently.
///
/// # Errors
/// The first bad entry (see [`TargetError`]), or too many workloads.
pub fn parse_targets(value: &str) -> Result<Vec<Target>, TargetError> {
    let mut targets = Vec::new();
    for entry in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
    {
        let shown = || shorten(entry);
        let mut parts = entry.split('/');
        let (kind, name) = match (parts.next(), parts.next(), parts.next()) {
            (Some(kind), Some(name), None) => (kind, name),
            (Some(_), None, _) => return Err(TargetError::NoKind { entry: shown() }),
            _ => return Err(TargetError::Namespaced { entry: shown() }),
        };
        let Some(kind) = WorkloadKind::parse(kind) else {
            return Err(TargetError::UnknownKind {
                entry: shown(),
                kind: shorten(kind),
            });
        };
        if !is_object_name(name) {
            return Err(TargetError::BadName {
                entry: shown(),
                name: shorten(name),
            });
        }
        targets.push(Target {
            kind,
            name: name.to_owned(),
        });
        // Bounded while parsing: a huge annotation costs no more than this.
        if targets.len() > 4 * MAX_TARGETS {
            break;
        }
    }
    targets.sort();
    targets.dedup();
    if targets.len() > MAX_TARGETS {
        return Err(TargetError::TooMany {
            count: targets.len(),
        });
    }
    Ok(targets)
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(ENTRY_SHOWN_MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// A DNS-1123 subdomain: what Deployments, StatefulSets and DaemonSets may be named.
fn is_object_name(name: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 253
        && bytes.iter().all(|&b| alnum(b) || b == b'-' || b == b'.')
        && bytes.first().copied().is_some_and(alnum)
        && bytes.last().copied().is_some_and(alnum)
}

/// The pod-template annotation key for Secret `secret_name`: the prefix and the name, or, for
/// a name longer than an annotation key's name part allows (63), its first 46 characters,
/// `-` and 16 hex digits of its SHA-256 (so long names sharing a beginning stay apart).
pub fn digest_annotation_key(secret_name: &str) -> String {
    if secret_name.len() <= NAME_PART_MAX {
        return format!("{DIGEST_ANNOTATION_PREFIX}{secret_name}");
    }
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret_name.as_bytes());
    let mut end = NAME_PART_MAX - 17;
    while !secret_name.is_char_boundary(end) {
        end -= 1;
    }
    // Cut before a character that cannot end a name part.
    let head = secret_name[..end].trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    format!(
        "{DIGEST_ANNOTATION_PREFIX}{head}-{}",
        hex(&hash.as_ref()[..8])
    )
}

/// The value of the digest annotation for the Secret `namespace`/`name` whose data has
/// `data_mac` ([`crate::sync::data_mac`] under the same key): `v1:` + the key id (8 hex digits,
/// see [`same_key`]) + `:` + 32 hex digits of
/// `HMAC-SHA256(key, domain ‖ LP(namespace) ‖ LP(name) ‖ LP(data_mac))`.
pub fn rollout_digest(key: &SyncKey, namespace: &str, name: &str, data_mac: &[u8; 32]) -> String {
    let mut ctx = hmac::Context::with_key(&hmac_key(key));
    ctx.update(DIGEST_DOMAIN);
    for part in [namespace.as_bytes(), name.as_bytes(), data_mac.as_slice()] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let tag = ctx.sign();
    format!(
        "{VALUE_PREFIX}{}:{}",
        key_id(key),
        hex(&tag.as_ref()[..DIGEST_LEN])
    )
}

/// Whether `value` is a digest made under `key` (its key id matches). A digest under another
/// sync key (the key was lost and made anew) cannot be compared: a rollout that catches up on
/// a missed change only trusts digests under the current key.
pub fn same_key(key: &SyncKey, value: &str) -> bool {
    value
        .strip_prefix(VALUE_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(id, _)| id == key_id(key))
}

/// Names the key without revealing it: `HMAC(key, domain)`, 4 bytes in hex.
fn key_id(key: &SyncKey) -> String {
    let tag = hmac::sign(&hmac_key(key), KEY_ID_DOMAIN);
    hex(&tag.as_ref()[..KEY_ID_LEN])
}

fn hmac_key(key: &SyncKey) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, key.expose_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SyncKey {
        SyncKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn digest_binds_key_secret_and_data() {
        let (k1, k2) = (key(1), key(2));
        let mac = [7u8; 32];
        let base = rollout_digest(&k1, "prod", "db", &mac);
        assert_eq!(base, rollout_digest(&k1, "prod", "db", &mac));
        assert_eq!(base.len(), 3 + 8 + 1 + 32);
        let mut other_mac = mac;
        other_mac[31] ^= 1;
        for other in [
            rollout_digest(&k2, "prod", "db", &mac),
            rollout_digest(&k1, "prod2", "db", &mac),
            rollout_digest(&k1, "prod", "db2", &mac),
            rollout_digest(&k1, "prodd", "b", &mac),
            rollout_digest(&k1, "prod", "db", &other_mac),
        ] {
            assert_ne!(other, base);
        }
        // The same data under the same key: the same key id, whatever the digest.
        assert!(same_key(&k1, &base));
        assert!(same_key(&k1, &rollout_digest(&k1, "x", "y", &other_mac)));
        assert!(!same_key(&k2, &base));
        for garbage in ["", "v1:", "v2:", &base[3..], &base.replace("v1:", "v2:")] {
            assert!(!same_key(&k1, garbage), "{garbage:?}");
        }
    }

    #[test]
    fn annotation_keys_fit_the_name_part() {
        assert_eq!(digest_annotation_key("db"), "rollout.sealant.dev/db");
        let long = "a".repeat(63);
        assert_eq!(
            digest_annotation_key(&long),
            format!("rollout.sealant.dev/{long}")
        );
        let (a, b) = ("x".repeat(70) + "a", "x".repeat(70) + "b");
        let (ka, kb) = (digest_annotation_key(&a), digest_annotation_key(&b));
        assert_ne!(ka, kb);
        for key in [
            ka,
            kb,
            digest_annotation_key(&format!("{}.{}", "y".repeat(45), "z".repeat(40))),
        ] {
            let part = key.strip_prefix(DIGEST_ANNOTATION_PREFIX).unwrap();
            assert!(part.len() <= 63, "{key}");
            assert!(part.ends_with(|c: char| c.is_ascii_alphanumeric()), "{key}");
            assert!(!part.contains(".-"), "{key}");
        }
    }
}
