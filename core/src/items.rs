//! Rules on single items of a whole SealedSecret, offline: opening one item with a key ring,
//! and keeping the ciphertext of the items whose value did not change when a Secret is sealed
//! again into an existing SealedSecret (`sealant seal --merge-into`, `sealant diff`). Every item
//! format and binding rule stays [`crate::sealing::unseal`]'s.

use std::collections::BTreeMap;

use crate::item::KeyRing;
use crate::object::SealedSecret;
use crate::sealing::{KEY_HINT_ANNOTATION, UnsealOptions, unseal};
use crate::secret::SecretBytes;

/// Opens item `item` (ciphertext `encoded`) of `sealed` with `ring`: the value and the
/// fingerprint text of the key that opened it (empty if unknown). `None` when no key opens it,
/// for whatever reason: one opaque outcome. It unseals a copy of `sealed` that holds only this
/// item, so the item's binding is `sealed`'s, and templates are not run.
pub fn open_sealed_item(
    sealed: &SealedSecret,
    ring: &KeyRing,
    item: &str,
    encoded: &str,
) -> Option<(SecretBytes, String)> {
    let mut single = sealed.clone();
    single.spec.encrypted_data = std::iter::once((item.to_owned(), encoded.to_owned())).collect();
    single.spec.data = None;
    single.spec.template.data = None;
    let options = UnsealOptions {
        accept_v1_data: false,
        render_templates: false,
    };
    let unsealed = unseal(&single, ring, options).ok()?;
    let value = unsealed.data().get(item)?.clone();
    let key = unsealed
        .opened_with
        .get(item)
        .map(ToString::to_string)
        .unwrap_or_default();
    Some((value, key))
}

/// What [`keep_unchanged_items`] did, by item name (names only, never values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptItems {
    /// Items whose value is unchanged: the existing ciphertext was put back.
    pub kept: Vec<String>,
    /// Items sealed again: their value changed, or no key opens the existing ciphertext.
    pub resealed: Vec<String>,
    /// Items the existing SealedSecret did not have.
    pub added: Vec<String>,
    /// Of `resealed`, those whose existing ciphertext no key of the ring opens (so whether
    /// they changed is not known).
    pub unopened: Vec<String>,
}

/// Puts the ciphertext of `target` back into `update` (`target` sealed again from
/// `plaintexts`) for every item whose value `ring` shows to be unchanged, so that re-sealing
/// an unchanged value changes nothing in the file. When every item is kept, `update`'s key
/// hint is dropped too, leaving `target`'s as it was.
pub fn keep_unchanged_items(
    target: &SealedSecret,
    update: &mut SealedSecret,
    ring: &KeyRing,
    plaintexts: &BTreeMap<String, SecretBytes>,
) -> KeptItems {
    let mut report = KeptItems::default();
    for (item, sealed) in &mut update.spec.encrypted_data {
        let Some(existing) = target.spec.encrypted_data.get(item) else {
            report.added.push(item.clone());
            continue;
        };
        match (
            open_sealed_item(target, ring, item, existing),
            plaintexts.get(item),
        ) {
            (Some((old, _)), Some(new)) if old.ct_eq(new) => {
                sealed.clone_from(existing);
                report.kept.push(item.clone());
            }
            (Some(_), _) => report.resealed.push(item.clone()),
            (None, _) => {
                report.unopened.push(item.clone());
                report.resealed.push(item.clone());
            }
        }
    }
    if report.resealed.is_empty()
        && report.added.is_empty()
        && let Some(annotations) = update.metadata.annotations.as_mut()
    {
        annotations.remove(KEY_HINT_ANNOTATION);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Certificate, PrivateKey};
    use crate::object::{ObjectMeta, Secret};
    use crate::sealing::{SealOptions, seal_secret};

    const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/keys/");

    fn key(name: &str) -> (PrivateKey, Certificate) {
        let read = |ext: &str| std::fs::read(format!("{KEYS}{name}.{ext}")).unwrap();
        (
            PrivateKey::from_pem(&read("key")).unwrap(),
            Certificate::from_pem(&read("crt")).unwrap(),
        )
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, SecretBytes> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), SecretBytes::from_slice(v.as_bytes())))
            .collect()
    }

    fn seal(cert: &Certificate, pairs: &[(&str, &str)]) -> SealedSecret {
        let mut secret = Secret::new(ObjectMeta {
            name: Some("db".into()),
            namespace: Some("prod".into()),
            ..ObjectMeta::default()
        });
        secret.data = Some(values(pairs));
        seal_secret(secret, cert.public_key(), &SealOptions::default()).unwrap()
    }

    #[test]
    fn one_item_opens_with_its_key_and_binding() {
        let (key, cert) = key("rsa2048");
        let mut ring = KeyRing::new();
        ring.insert(key.clone());
        let sealed = seal(&cert, &[("user", "alice"), ("password", "hunter2")]);
        let encoded = &sealed.spec.encrypted_data["password"];
        let (value, opened_with) = open_sealed_item(&sealed, &ring, "password", encoded).unwrap();
        assert_eq!(value.expose_secret(), b"hunter2");
        assert_eq!(opened_with, key.fingerprint().to_string());
        // Another object's binding (name) does not open it; nor does another key.
        let mut renamed = sealed.clone();
        renamed.metadata.name = Some("other".into());
        assert!(open_sealed_item(&renamed, &ring, "password", encoded).is_none());
        let mut other = KeyRing::new();
        other.insert(key_of("other-2048"));
        assert!(open_sealed_item(&sealed, &other, "password", encoded).is_none());
    }

    fn key_of(name: &str) -> PrivateKey {
        key(name).0
    }

    #[test]
    fn unchanged_values_keep_their_ciphertext() {
        let (key, cert) = key("rsa2048");
        let mut ring = KeyRing::new();
        ring.insert(key);
        let target = seal(&cert, &[("user", "alice"), ("password", "hunter2")]);
        let new = [("user", "alice"), ("password", "changed"), ("token", "t")];
        let mut update = seal(&cert, &new);
        let report = keep_unchanged_items(&target, &mut update, &ring, &values(&new));
        assert_eq!(report.kept, ["user"]);
        assert_eq!(report.resealed, ["password"]);
        assert_eq!(report.added, ["token"]);
        assert!(report.unopened.is_empty());
        let data = &update.spec.encrypted_data;
        assert_eq!(data["user"], target.spec.encrypted_data["user"]);
        assert_ne!(data["password"], target.spec.encrypted_data["password"]);
        assert!(
            update
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(KEY_HINT_ANNOTATION)),
            "something was sealed again: the new key hint stays"
        );

        // Everything unchanged: every ciphertext and the old key hint stay.
        let same = [("user", "alice"), ("password", "hunter2")];
        let mut update = seal(&cert, &same);
        let report = keep_unchanged_items(&target, &mut update, &ring, &values(&same));
        assert_eq!(report.kept, ["password", "user"]);
        assert_eq!(update.spec.encrypted_data, target.spec.encrypted_data);
        assert!(
            !update
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(KEY_HINT_ANNOTATION))
        );

        // A ring that opens nothing: every item sealed again, and said so.
        let mut other = KeyRing::new();
        other.insert(key_of("other-2048"));
        let mut update = seal(&cert, &same);
        let report = keep_unchanged_items(&target, &mut update, &other, &values(&same));
        assert_eq!(report.unopened, ["password", "user"]);
        assert_eq!(report.resealed, report.unopened);
        assert!(report.kept.is_empty());
    }
}
