//! Rules on single items of a whole SealedSecret, offline: opening one item with a key ring,
//! and keeping the ciphertext of the items whose value did not change when a Secret is sealed
//! again into an existing SealedSecret (`sealant seal --merge-into`, `sealant diff`). Every item
//! format and binding rule stays [`crate::sealing::unseal`]'s.

use std::collections::{BTreeMap, BTreeSet};

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
    let mut unsealed = unseal(&single, ring, options).ok()?;
    let key = unsealed
        .opened_with
        .get(item)
        .map(ToString::to_string)
        .unwrap_or_default();
    let value = unsealed.secret.data.as_mut()?.remove(item)?;
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

/// Which items of a SealedSecret hold the same value as the Secret about to be sealed again
/// into it (see [`unchanged_items`]). Item names only, never values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnchangedItems {
    /// Items whose existing ciphertext opens to the new value.
    pub same: BTreeSet<String>,
    /// Items whose existing ciphertext no key of the ring opens.
    pub unopened: BTreeSet<String>,
}

/// Compares the items of `target` with `plaintexts` (the new values, e.g.
/// [`crate::Secret::merged_items`]) by opening them with `ring`. It runs before sealing, so the
/// plaintext is borrowed from the Secret rather than copied to outlive it.
pub fn unchanged_items(
    target: &SealedSecret,
    ring: &KeyRing,
    plaintexts: &BTreeMap<&str, &[u8]>,
) -> UnchangedItems {
    let mut found = UnchangedItems::default();
    for (item, new) in plaintexts {
        let Some(existing) = target.spec.encrypted_data.get(*item) else {
            continue;
        };
        match open_sealed_item(target, ring, item, existing) {
            Some((old, _)) if old.ct_eq_bytes(new) => {
                found.same.insert((*item).to_owned());
            }
            Some(_) => {}
            None => {
                found.unopened.insert((*item).to_owned());
            }
        }
    }
    found
}

/// Puts the ciphertext of `target` back into `update` (`target` sealed again) for every item
/// [`unchanged_items`] found unchanged, so that re-sealing an unchanged value changes nothing
/// in the file. When every item is kept, `update`'s key hint is dropped too, leaving
/// `target`'s as it was.
pub fn keep_unchanged_items(
    target: &SealedSecret,
    update: &mut SealedSecret,
    unchanged: &UnchangedItems,
) -> KeptItems {
    let mut report = KeptItems::default();
    for (item, sealed) in &mut update.spec.encrypted_data {
        let Some(existing) = target.spec.encrypted_data.get(item) else {
            report.added.push(item.clone());
            continue;
        };
        if unchanged.same.contains(item) {
            sealed.clone_from(existing);
            report.kept.push(item.clone());
        } else {
            if unchanged.unopened.contains(item) {
                report.unopened.push(item.clone());
            }
            report.resealed.push(item.clone());
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

    /// What [`Secret::merged_items`] would give for `pairs`.
    fn items<'a>(pairs: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a [u8]> {
        pairs.iter().map(|(k, v)| (*k, v.as_bytes())).collect()
    }

    fn keep(
        target: &SealedSecret,
        update: &mut SealedSecret,
        ring: &KeyRing,
        pairs: &[(&str, &str)],
    ) -> KeptItems {
        let unchanged = unchanged_items(target, ring, &items(pairs));
        keep_unchanged_items(target, update, &unchanged)
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
        let report = keep(&target, &mut update, &ring, &new);
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
        let report = keep(&target, &mut update, &ring, &same);
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
        let report = keep(&target, &mut update, &other, &same);
        assert_eq!(report.unopened, ["password", "user"]);
        assert_eq!(report.resealed, report.unopened);
        assert!(report.kept.is_empty());
    }
}
