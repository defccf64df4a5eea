//! Scopes: which namespace/name a sealed value is bound to, and the OAEP label that binds it.
//!
//! This is the one place the scope rule lives. Sealing reads the input Secret's annotations;
//! unsealing reads the SealedSecret's *top-level* annotations, never the template's.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Annotation that makes a value usable under any name in any namespace.
pub const ANNOTATION_CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// Annotation that makes a value usable under any name within its namespace.
pub const ANNOTATION_NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";

/// How tightly a sealed value is bound to where it may be unsealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Scope {
    /// Bound to one namespace and one name (the default).
    #[default]
    Strict,
    /// Bound to one namespace; the SealedSecret may be renamed.
    NamespaceWide,
    /// Bound to nothing: any namespace, any name.
    ClusterWide,
}

/// An unknown scope name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: expected strict, namespace-wide or cluster-wide")]
pub struct UnknownScope(pub String);

impl Scope {
    /// All scopes, narrowest first.
    pub const ALL: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

    /// The scope an object's annotations ask for. Only the exact string `"true"` counts, and
    /// cluster-wide beats namespace-wide, as upstream decides it.
    pub fn from_annotations(annotations: Option<&BTreeMap<String, String>>) -> Scope {
        let is_true = |key: &str| {
            annotations
                .and_then(|a| a.get(key))
                .is_some_and(|v| v == "true")
        };
        if is_true(ANNOTATION_CLUSTER_WIDE) {
            Scope::ClusterWide
        } else if is_true(ANNOTATION_NAMESPACE_WIDE) {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// Rewrites `annotations` so that [`Scope::from_annotations`] returns `self`: both scope
    /// annotations are removed, then the one for `self` (if any) is added.
    pub fn write_annotations(self, annotations: &mut BTreeMap<String, String>) {
        annotations.remove(ANNOTATION_CLUSTER_WIDE);
        annotations.remove(ANNOTATION_NAMESPACE_WIDE);
        if let Some(key) = self.annotation() {
            annotations.insert(key.to_owned(), "true".to_owned());
        }
    }

    /// The annotation that selects this scope (`None` for strict, which is the absence of both).
    pub fn annotation(self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some(ANNOTATION_NAMESPACE_WIDE),
            Scope::ClusterWide => Some(ANNOTATION_CLUSTER_WIDE),
        }
    }

    /// The OAEP label: `ns/name`, `ns`, or empty.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The name used on the command line and in docs.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `strict`, `namespace-wide`, `cluster-wide`; the empty string means strict, as upstream.
impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" | "strict" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn labels_match_upstream_vectors() {
        assert_eq!(Scope::Strict.label("myns", "myname"), b"myns/myname");
        assert_eq!(Scope::NamespaceWide.label("myns", "myname"), b"myns");
        assert_eq!(Scope::ClusterWide.label("myns", "myname"), b"");
    }

    #[test]
    fn only_exact_true_counts_and_cluster_wide_wins() {
        assert_eq!(Scope::from_annotations(None), Scope::Strict);
        for value in ["TRUE", "True", "false", "", "yes", "1"] {
            let a = annotations(&[
                (ANNOTATION_CLUSTER_WIDE, value),
                (ANNOTATION_NAMESPACE_WIDE, value),
            ]);
            assert_eq!(
                Scope::from_annotations(Some(&a)),
                Scope::Strict,
                "{value:?}"
            );
        }
        let both = annotations(&[
            (ANNOTATION_CLUSTER_WIDE, "true"),
            (ANNOTATION_NAMESPACE_WIDE, "true"),
        ]);
        assert_eq!(Scope::from_annotations(Some(&both)), Scope::ClusterWide);
        let ns = annotations(&[(ANNOTATION_NAMESPACE_WIDE, "true")]);
        assert_eq!(Scope::from_annotations(Some(&ns)), Scope::NamespaceWide);
    }

    #[test]
    fn write_annotations_round_trips() {
        for scope in Scope::ALL {
            let mut a = annotations(&[(ANNOTATION_CLUSTER_WIDE, "true"), ("other", "kept")]);
            scope.write_annotations(&mut a);
            assert_eq!(Scope::from_annotations(Some(&a)), scope);
            assert_eq!(a.get("other").map(String::as_str), Some("kept"));
        }
    }

    #[test]
    fn parse_names() {
        assert_eq!("".parse::<Scope>(), Ok(Scope::Strict));
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("Strict".parse::<Scope>().is_err());
    }
}
