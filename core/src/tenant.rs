//! Tenants (docs/multi-tenancy.md, "Tenant keys"): a cluster administrator groups namespaces
//! into tenants with a label on the Namespace objects (only an administrator can change a
//! Namespace), and the controller keeps one key set per tenant. A key Secret of a tenant carries
//! the label [`TENANT_LABEL`] with the tenant's name; a key Secret without it is a cluster key.
//!
//! Only names and the rule for which key set a label map belongs to live here; reading
//! namespaces and key Secrets is the Kubernetes layer's.

use std::collections::BTreeMap;
use std::fmt;

/// The label that names a key Secret's tenant, and the default Namespace label that puts a
/// namespace in a tenant (the controller's `--tenant-label` may name another one).
pub const TENANT_LABEL: &str = "sealant.dev/tenant";

/// A tenant's name: an RFC 1123 label (lowercase letters, digits and `-`, starting and ending
/// with a letter or digit, at most 63 characters), so it fits a label value and a Secret name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantName(String);

/// A tenant name that is not an RFC 1123 label. The text is kept short: a label value is
/// written by an administrator, but it is still echoed back only up to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tenant name {shown:?} is not a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63)")]
pub struct TenantNameError {
    shown: String,
}

/// The longest tenant name (a DNS label).
pub const MAX_TENANT_NAME: usize = 63;

impl TenantName {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`TenantNameError`] unless `name` is a lowercase RFC 1123 label.
    pub fn parse(name: &str) -> Result<Self, TenantNameError> {
        let bytes = name.as_bytes();
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let ok = !bytes.is_empty()
            && bytes.len() <= MAX_TENANT_NAME
            && bytes.first().is_some_and(edge)
            && bytes.last().is_some_and(edge)
            && bytes.iter().all(|b| edge(b) || *b == b'-');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(TenantNameError {
                shown: name.chars().take(MAX_TENANT_NAME).collect(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantName {
    type Err = TenantNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whose key a key Secret is: the cluster's, or one tenant's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum KeyOwner {
    /// The cluster key set (no [`TENANT_LABEL`]): upstream's keys.
    #[default]
    Cluster,
    /// One tenant's key set.
    Tenant(TenantName),
}

impl KeyOwner {
    /// The owner a key Secret's labels give it.
    ///
    /// # Errors
    /// A [`TENANT_LABEL`] whose value is not a tenant name: such a key belongs to nobody (the
    /// controller skips it rather than guess).
    pub fn of_key_labels(
        labels: Option<&BTreeMap<String, String>>,
    ) -> Result<Self, TenantNameError> {
        tenant_of(labels, TENANT_LABEL).map(|t| t.map_or(KeyOwner::Cluster, KeyOwner::Tenant))
    }

    /// The tenant, if any.
    pub fn tenant(&self) -> Option<&TenantName> {
        match self {
            KeyOwner::Cluster => None,
            KeyOwner::Tenant(name) => Some(name),
        }
    }

    /// The labels a new key Secret of this owner carries besides the state label.
    pub fn key_labels(&self) -> BTreeMap<String, String> {
        self.tenant()
            .map(|t| BTreeMap::from([(TENANT_LABEL.to_owned(), t.as_str().to_owned())]))
            .unwrap_or_default()
    }
}

impl KeyOwner {
    /// The owner as the HTTP API names it (the `Sealant-Key-Owner` header, the sealing page's
    /// facts): `cluster` or `tenant=T` (docs/multi-tenancy.md, "Tenant keys").
    pub fn wire_name(&self) -> String {
        match self {
            KeyOwner::Cluster => "cluster".to_owned(),
            KeyOwner::Tenant(name) => format!("tenant={name}"),
        }
    }

    /// The owner a [`KeyOwner::wire_name`] names; `None` for anything else.
    pub fn from_wire_name(text: &str) -> Option<Self> {
        if text == "cluster" {
            return Some(KeyOwner::Cluster);
        }
        let tenant = text.strip_prefix("tenant=")?;
        TenantName::parse(tenant).ok().map(KeyOwner::Tenant)
    }
}

impl fmt::Display for KeyOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOwner::Cluster => f.write_str("cluster"),
            KeyOwner::Tenant(name) => write!(f, "tenant {name}"),
        }
    }
}

/// The tenant the label `key` of `labels` names (`None`: no such label).
///
/// # Errors
/// The label is there but its value is not a tenant name.
pub fn tenant_of(
    labels: Option<&BTreeMap<String, String>>,
    key: &str,
) -> Result<Option<TenantName>, TenantNameError> {
    labels
        .and_then(|l| l.get(key))
        .map(|v| TenantName::parse(v))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_rfc1123_labels() {
        for good in ["a", "team-a", "0", "a1-b2", &"x".repeat(63)] {
            assert_eq!(TenantName::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "A",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "é",
            &"x".repeat(64),
            "a b",
        ] {
            assert!(TenantName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_error_echoes_at_most_63_characters() {
        let err = TenantName::parse(&"Y".repeat(500)).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }

    #[test]
    fn owner_from_key_labels() {
        assert_eq!(KeyOwner::of_key_labels(None).unwrap(), KeyOwner::Cluster);
        let labels = BTreeMap::from([(TENANT_LABEL.to_owned(), "payments".to_owned())]);
        let owner = KeyOwner::of_key_labels(Some(&labels)).unwrap();
        assert_eq!(owner.tenant().unwrap().as_str(), "payments");
        assert_eq!(owner.key_labels(), labels);
        assert!(KeyOwner::Cluster.key_labels().is_empty());
        let bad = BTreeMap::from([(TENANT_LABEL.to_owned(), "Payments".to_owned())]);
        assert!(KeyOwner::of_key_labels(Some(&bad)).is_err());
    }

    #[test]
    fn wire_names_round_trip_and_refuse_the_rest() {
        let tenant = KeyOwner::Tenant(TenantName::parse("payments").unwrap());
        assert_eq!(tenant.wire_name(), "tenant=payments");
        assert_eq!(KeyOwner::Cluster.wire_name(), "cluster");
        for owner in [KeyOwner::Cluster, tenant] {
            assert_eq!(KeyOwner::from_wire_name(&owner.wire_name()), Some(owner));
        }
        for bad in [
            "",
            "Cluster",
            "tenant=",
            "tenant=Payments",
            "tenant payments",
            "x=y",
        ] {
            assert_eq!(KeyOwner::from_wire_name(bad), None, "{bad:?}");
        }
    }
}
