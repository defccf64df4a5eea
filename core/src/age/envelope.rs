//! The scope envelope: the plaintext of an age item, which binds the value to a scope the way
//! the OAEP label binds an RSA item.
//!
//! ```text
//! 20 bytes   "sealant.dev/item/v1\n"        magic and version
//! 1 byte     scope kind                      0 strict, 1 namespace-wide, 2 cluster-wide,
//!                                            3 namespace selector (docs/multi-tenancy.md)
//! u16 BE     L                               length of the label
//! L bytes    label                           Scope::label(namespace, name): "ns/name", "ns" or "",
//!                                            or Selector::label()
//! rest       the value
//! ```
//!
//! The label is the RSA item's OAEP label byte for byte ([`Scope::label`] is the one place
//! the rule lives), so an age item opens under exactly the SealedSecret metadata an RSA item
//! would; the kind byte additionally pins the scope annotation (an RSA label cannot tell a
//! cluster-wide item from a namespace-wide one in the empty namespace). age authenticates the
//! whole envelope, so nothing here needs a MAC.

use zeroize::Zeroizing;

use crate::error::{DecryptError, SealError};
use crate::object::SealedSecret;
use crate::scope::Scope;
use crate::secret::SecretBytes;
use crate::selector::{Selector, SelectorError};

/// The first bytes of every envelope.
pub const MAGIC: &[u8; 20] = b"sealant.dev/item/v1\n";

/// Where a value may be unsealed: a scope and its label, from the input Secret when sealing
/// and from the SealedSecret's top-level metadata when unsealing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binding {
    scope: Scope,
    /// Set for the namespace-selector scope, which replaces `scope`'s label.
    selector: Option<Selector>,
    label: Vec<u8>,
}

/// The envelope kind byte of the namespace-selector scope.
const SELECTOR_KIND: u8 = 3;

impl Binding {
    /// The binding of `scope` for `namespace`/`name` (parts the scope ignores are ignored).
    pub fn new(scope: Scope, namespace: &str, name: &str) -> Self {
        Self {
            scope,
            selector: None,
            label: scope.label(namespace, name),
        }
    }

    /// The binding of the namespace-selector scope: any name, any namespace `selector`
    /// matches (the controller checks the match; the label binds the selector).
    pub fn namespace_selector(selector: Selector) -> Self {
        Self {
            scope: Scope::ClusterWide,
            label: selector.label(),
            selector: Some(selector),
        }
    }

    /// The binding metadata with `annotations`, `namespace` and `name` asks for: the
    /// namespace-selector annotation wins over upstream's scope annotations.
    ///
    /// # Errors
    /// [`SelectorError`] if the selector annotation does not parse.
    pub fn of_metadata(
        annotations: Option<&std::collections::BTreeMap<String, String>>,
        namespace: &str,
        name: &str,
    ) -> Result<Self, SelectorError> {
        Ok(match Selector::from_annotations(annotations)? {
            Some(selector) => Self::namespace_selector(selector),
            None => Self::new(Scope::from_annotations(annotations), namespace, name),
        })
    }

    /// The binding a SealedSecret's items are checked against: its top-level metadata, never
    /// the template's (which anyone can edit without breaking a ciphertext). A selector
    /// annotation that does not parse binds to a label nothing was sealed with, so every item
    /// fails as any other wrong binding does.
    pub fn of_sealed(sealed: &SealedSecret) -> Self {
        let annotations = sealed.metadata.annotations.as_ref();
        Self::of_metadata(
            annotations,
            sealed.metadata.namespace_or_empty(),
            sealed.metadata.name_or_empty(),
        )
        .unwrap_or_else(|_| Self {
            scope: Scope::ClusterWide,
            selector: None,
            label: b"sealant.dev/namespace-selector!invalid".to_vec(),
        })
    }

    /// The upstream scope (cluster-wide for the namespace-selector scope, which binds no
    /// namespace or name; see [`Binding::selector`]).
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The namespace selector, for the namespace-selector scope.
    pub fn selector(&self) -> Option<&Selector> {
        self.selector.as_ref()
    }

    fn kind(&self) -> u8 {
        match self.selector {
            Some(_) => SELECTOR_KIND,
            None => kind_byte(self.scope),
        }
    }

    /// The label, identical to the RSA item's OAEP label.
    pub fn label(&self) -> &[u8] {
        &self.label
    }
}

/// The envelope's scope-kind byte: upstream's enum values for the scopes.
pub fn kind_byte(scope: Scope) -> u8 {
    match scope {
        Scope::Strict => 0,
        Scope::NamespaceWide => 1,
        Scope::ClusterWide => 2,
    }
}

/// Wraps `value` for `binding`.
///
/// # Errors
/// Only for a label longer than 65535 bytes, which no Kubernetes name allows.
pub fn wrap(binding: &Binding, value: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let label_len = u16::try_from(binding.label.len())
        .map_err(|_| SealError::new("namespace and name are too long"))?;
    let mut out = Zeroizing::new(Vec::with_capacity(
        MAGIC.len() + 3 + binding.label.len() + value.len(),
    ));
    out.extend_from_slice(MAGIC);
    out.push(binding.kind());
    out.extend_from_slice(&label_len.to_be_bytes());
    out.extend_from_slice(&binding.label);
    out.extend_from_slice(value);
    Ok(out)
}

/// Unwraps an envelope, returning the value only if it was sealed for exactly `binding`.
///
/// # Errors
/// [`DecryptError`] for a malformed envelope or any other binding, the same error as every
/// other way an item can fail to open.
pub fn unwrap(binding: &Binding, envelope: &[u8]) -> Result<SecretBytes, DecryptError> {
    let rest = envelope.strip_prefix(&MAGIC[..]).ok_or(DecryptError)?;
    let (&kind, rest) = rest.split_first().ok_or(DecryptError)?;
    let (len, rest) = rest.split_first_chunk::<2>().ok_or(DecryptError)?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return Err(DecryptError);
    }
    let (label, value) = rest.split_at(len);
    if kind != binding.kind() || label != binding.label.as_slice() {
        return Err(DecryptError);
    }
    Ok(SecretBytes::from_slice(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_envelope_bytes() {
        let binding = Binding::new(Scope::Strict, "myns", "myname");
        let wrapped = wrap(&binding, b"v").unwrap();
        let mut expected = b"sealant.dev/item/v1\n\x00\x00\x0bmyns/myname".to_vec();
        expected.push(b'v');
        assert_eq!(&wrapped[..], &expected[..]);
        assert_eq!(unwrap(&binding, &wrapped).unwrap().expose_secret(), b"v");
    }

    #[test]
    fn every_other_binding_is_rejected() {
        let bindings = [
            Binding::new(Scope::Strict, "ns", "a"),
            Binding::new(Scope::Strict, "ns", "b"),
            Binding::new(Scope::Strict, "other", "a"),
            Binding::new(Scope::NamespaceWide, "ns", "a"),
            Binding::new(Scope::NamespaceWide, "other", "a"),
            Binding::new(Scope::ClusterWide, "ns", "a"),
            // Same (empty) label as cluster-wide: only the kind byte tells them apart.
            Binding::new(Scope::NamespaceWide, "", "a"),
        ];
        for (i, sealed_for) in bindings.iter().enumerate() {
            let wrapped = wrap(sealed_for, b"secret").unwrap();
            for (j, opened_as) in bindings.iter().enumerate() {
                let result = unwrap(opened_as, &wrapped);
                if i == j || sealed_for == opened_as {
                    assert_eq!(result.unwrap().expose_secret(), b"secret");
                } else {
                    assert_eq!(result.unwrap_err(), DecryptError, "{i} opened as {j}");
                }
            }
        }
    }

    #[test]
    fn names_the_scope_ignores_do_not_matter() {
        let sealed = Binding::new(Scope::NamespaceWide, "ns", "a");
        assert_eq!(sealed, Binding::new(Scope::NamespaceWide, "ns", "renamed"));
        let sealed = Binding::new(Scope::ClusterWide, "ns", "a");
        assert_eq!(sealed, Binding::new(Scope::ClusterWide, "moved", "renamed"));
    }

    #[test]
    fn malformed_envelopes_are_rejected() {
        let binding = Binding::new(Scope::ClusterWide, "", "");
        let good = wrap(&binding, b"").unwrap();
        assert!(unwrap(&binding, &good).unwrap().is_empty());
        for cut in 0..good.len() {
            assert!(unwrap(&binding, &good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_magic = good.to_vec();
        bad_magic[0] ^= 1;
        assert!(unwrap(&binding, &bad_magic).is_err());
        let mut long_label = good.to_vec();
        long_label[MAGIC.len() + 2] = 1;
        assert!(unwrap(&binding, &long_label).is_err());
    }
}
