//! The in-sync digest (docs/design/controller.md, "Sync key and the in-sync digest"): lets a
//! controller tell, without decrypting, that a Secret already holds what its SealedSecret
//! unseals to.
//!
//! The annotation `sealant.dev/unsealed-digest` binds two things under a dedicated random key
//! ([`SyncKey`], kept in the controller's `sealant-sync-key` Secret):
//!
//! - [`inputs_digest`]: a plain SHA-256 over everything in the SealedSecret that determines the
//!   Secret's data (namespace, name, scope annotation, `spec.encryptedData`, `spec.data`,
//!   `spec.template.data`). All of it is public ciphertext or template source.
//! - [`data_mac`]: an HMAC over the Secret's data. Data is **only ever MACed under the sync
//!   key, never hashed plainly**: the annotation is visible to anyone who can read metadata
//!   (Argo CD, audit logs, backups), and a plain hash would let them test guesses of the values
//!   offline.
//!
//! Every encoding is domain-separated and length-prefixed (`LP(x)` = u64 big-endian length ‖
//! bytes), so no two distinct inputs share an encoding.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::object::SealedSecret;
use crate::sealing::{AGE_ITEMS_ANNOTATION, unseal_label};

/// The annotation on a Secret that carries the digest.
pub const DIGEST_ANNOTATION: &str = "sealant.dev/unsealed-digest";
/// Length of a sync key in bytes.
pub const SYNC_KEY_LEN: usize = 32;

const INPUTS_DOMAIN: &[u8] = b"sealant.dev/sealed-inputs/v1\0";
const DATA_DOMAIN: &[u8] = b"sealant.dev/secret-data/v1\0";
const DIGEST_DOMAIN: &[u8] = b"sealant.dev/unsealed-digest/v1\0";
const ANNOTATION_PREFIX: &str = "v1:";

/// Why a sync key cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncKeyError {
    /// Not exactly [`SYNC_KEY_LEN`] bytes.
    #[error("a sync key must be {SYNC_KEY_LEN} bytes, got {0}")]
    Length(usize),
    /// The system random number generator failed.
    #[error("cannot generate a sync key: {0}")]
    Random(String),
}

/// The secret HMAC key behind the in-sync digest: 32 random bytes, zeroized on drop, never
/// printed.
pub struct SyncKey(Zeroizing<[u8; SYNC_KEY_LEN]>);

impl fmt::Debug for SyncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncKey(<redacted>)")
    }
}

impl SyncKey {
    /// A fresh key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`SyncKeyError::Random`] if the generator fails.
    pub fn generate() -> Result<Self, SyncKeyError> {
        use rand::TryRng as _;
        let mut bytes = Zeroizing::new([0u8; SYNC_KEY_LEN]);
        rand::rngs::SysRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|e| SyncKeyError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// A key from stored bytes.
    ///
    /// # Errors
    /// [`SyncKeyError::Length`] unless `bytes` is exactly [`SYNC_KEY_LEN`] long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SyncKeyError> {
        let mut key = Zeroizing::new([0u8; SYNC_KEY_LEN]);
        if bytes.len() != SYNC_KEY_LEN {
            return Err(SyncKeyError::Length(bytes.len()));
        }
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    /// The raw bytes, for storing the key in its Secret.
    pub fn expose_bytes(&self) -> &[u8; SYNC_KEY_LEN] {
        &self.0
    }

    fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.0.as_slice())
    }
}

fn lp(out: &mut impl FnMut(&[u8]), bytes: &[u8]) {
    out(&(bytes.len() as u64).to_be_bytes());
    out(bytes);
}

fn lp_map<'a>(
    out: &mut impl FnMut(&[u8]),
    entries: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>,
) {
    out(&(entries.len() as u64).to_be_bytes());
    for (key, value) in entries {
        lp(out, key.as_bytes());
        lp(out, value);
    }
}

/// SHA-256 over everything in `sealed` that determines the Secret's *data*: top-level namespace
/// and name, the scope label the items are bound to, `spec.encryptedData`, the v1 `spec.data`
/// blob, `spec.template.data` and the `sealant.dev/age-items` annotation, all in a canonical
/// (sorted, length-prefixed) encoding.
///
/// Deliberately outside: generation, resourceVersion, status, the key hint and the template's
/// metadata, type and immutability (the controller compares those in clear).
pub fn inputs_digest(sealed: &SealedSecret) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut out = |bytes: &[u8]| ctx.update(bytes);
    out(INPUTS_DOMAIN);
    lp(&mut out, sealed.metadata.namespace_or_empty().as_bytes());
    lp(&mut out, sealed.metadata.name_or_empty().as_bytes());
    lp(&mut out, &unseal_label(sealed));
    // BTreeMaps iterate sorted by key.
    lp_map(
        &mut out,
        sealed
            .spec
            .encrypted_data
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes())),
    );
    match &sealed.spec.data {
        Some(blob) => {
            out(&[1]);
            lp(&mut out, blob.as_bytes());
        }
        None => out(&[0]),
    }
    match &sealed.spec.template.data {
        Some(templates) => {
            out(&[1]);
            lp_map(
                &mut out,
                templates.iter().map(|(k, v)| (k.as_str(), v.as_bytes())),
            );
        }
        None => out(&[0]),
    }
    // The age items for other recipients decide the data wherever the encryptedData value does
    // not open. Hashed only when present, so digests of SealedSecrets without it stay the same.
    if let Some(items) = sealed.metadata.annotation(AGE_ITEMS_ANNOTATION) {
        out(b"age-items");
        lp(&mut out, items.as_bytes());
    }
    let mut result = [0u8; 32];
    result.copy_from_slice(ctx.finish().as_ref());
    result
}

/// HMAC-SHA256 under `key` over a Secret's data, in key order.
pub fn data_mac(key: &SyncKey, data: &BTreeMap<String, Vec<u8>>) -> [u8; 32] {
    data_mac_entries(key, data.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
}

/// [`data_mac`] over borrowed entries (no copy of the values). Entries are sorted by key here,
/// so any iteration order gives the same MAC; keys must be unique (as in any map).
pub fn data_mac_entries<'a>(
    key: &SyncKey,
    entries: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> [u8; 32] {
    let mut entries: Vec<(&str, &[u8])> = entries.into_iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut ctx = hmac::Context::with_key(&key.hmac_key());
    let mut out = |bytes: &[u8]| ctx.update(bytes);
    out(DATA_DOMAIN);
    lp_map(&mut out, entries.into_iter());
    let mut result = [0u8; 32];
    result.copy_from_slice(ctx.sign().as_ref());
    result
}

fn digest_message(inputs: &[u8; 32], data_mac: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(DIGEST_DOMAIN.len() + 2 * (8 + 32));
    let mut out = |bytes: &[u8]| message.extend_from_slice(bytes);
    out(DIGEST_DOMAIN);
    lp(&mut out, inputs);
    lp(&mut out, data_mac);
    message
}

/// The value of [`DIGEST_ANNOTATION`]: `v1:` + base64url (no padding) of
/// `HMAC(key, domain ‖ LP(inputs) ‖ LP(data_mac))`.
pub fn digest_annotation(key: &SyncKey, inputs: &[u8; 32], data_mac: &[u8; 32]) -> String {
    let tag = hmac::sign(&key.hmac_key(), &digest_message(inputs, data_mac));
    format!(
        "{ANNOTATION_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

/// Whether `value` is the digest annotation for `inputs` and `data_mac` under `key`. The tag is
/// compared in constant time; anything malformed is simply "no".
pub fn verify_digest_annotation(
    key: &SyncKey,
    inputs: &[u8; 32],
    data_mac: &[u8; 32],
    value: &str,
) -> bool {
    let Some(encoded) = value.strip_prefix(ANNOTATION_PREFIX) else {
        return false;
    };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(encoded) else {
        return false;
    };
    hmac::verify(&key.hmac_key(), &digest_message(inputs, data_mac), &tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{ObjectMeta, SealedSecretSpec, SecretTemplateSpec};

    fn sample() -> SealedSecret {
        let mut metadata = ObjectMeta::named("app", Some("prod".into()));
        metadata.uid = Some("uid-1".into());
        SealedSecret::new(
            metadata,
            SealedSecretSpec {
                template: SecretTemplateSpec {
                    metadata: None,
                    type_: None,
                    immutable: None,
                    data: Some([("url".to_owned(), "{{ .user }}@db".to_owned())].into()),
                },
                encrypted_data: [
                    ("user".to_owned(), "AgBx".to_owned()),
                    ("password".to_owned(), "AgBy".to_owned()),
                ]
                .into(),
                data: None,
            },
        )
    }

    fn data() -> BTreeMap<String, Vec<u8>> {
        [
            ("user".to_owned(), b"admin".to_vec()),
            ("password".to_owned(), b"s3cret".to_vec()),
        ]
        .into()
    }

    fn key(byte: u8) -> SyncKey {
        SyncKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn deterministic() {
        assert_eq!(inputs_digest(&sample()), inputs_digest(&sample()));
        let k = key(1);
        assert_eq!(data_mac(&k, &data()), data_mac(&k, &data()));
        let (i, m) = (inputs_digest(&sample()), data_mac(&k, &data()));
        let annotation = digest_annotation(&k, &i, &m);
        assert_eq!(annotation, digest_annotation(&k, &i, &m));
        assert!(annotation.starts_with("v1:"));
        assert_eq!(annotation.len(), 46);
        assert!(verify_digest_annotation(&k, &i, &m, &annotation));
    }

    #[test]
    fn every_input_matters() {
        let base = inputs_digest(&sample());
        type Mutation = Box<dyn Fn(&mut SealedSecret)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|s| s.metadata.name = Some("app2".into())),
            Box::new(|s| s.metadata.namespace = Some("prod2".into())),
            Box::new(|s| {
                s.metadata.annotations_mut().insert(
                    "sealedsecrets.bitnami.com/namespace-wide".into(),
                    "true".into(),
                );
            }),
            Box::new(|s| {
                s.metadata.annotations_mut().insert(
                    "sealedsecrets.bitnami.com/cluster-wide".into(),
                    "true".into(),
                );
            }),
            Box::new(|s| {
                s.spec.encrypted_data.insert("user".into(), "AgBz".into());
            }),
            Box::new(|s| {
                s.spec.encrypted_data.insert("extra".into(), String::new());
            }),
            Box::new(|s| {
                s.spec.encrypted_data.remove("password");
            }),
            Box::new(|s| s.spec.data = Some("AgB".into())),
            Box::new(|s| s.spec.data = Some(String::new())),
            Box::new(|s| s.spec.template.data = None),
            Box::new(|s| s.spec.template.data = Some(BTreeMap::new())),
            Box::new(|s| {
                s.spec
                    .template
                    .data
                    .get_or_insert_with(BTreeMap::new)
                    .insert("url".into(), "{{ .user }}@db2".into());
            }),
        ];
        for (index, mutate) in mutations.iter().enumerate() {
            let mut changed = sample();
            mutate(&mut changed);
            assert_ne!(inputs_digest(&changed), base, "mutation {index}");
        }
    }

    #[test]
    fn status_and_bookkeeping_do_not_matter() {
        let base = inputs_digest(&sample());
        let mut changed = sample();
        changed.metadata.uid = Some("uid-2".into());
        changed.metadata.labels_mut().insert("a".into(), "b".into());
        changed
            .metadata
            .annotations_mut()
            .insert("sealant.dev/key-hint".into(), "SHA256:x".into());
        changed.spec.template.type_ = Some("kubernetes.io/tls".into());
        assert_eq!(inputs_digest(&changed), base);
    }

    #[test]
    fn length_prefixes_separate_boundaries() {
        let k = key(1);
        let a: BTreeMap<String, Vec<u8>> = [("ab".to_owned(), b"c".to_vec())].into();
        let b: BTreeMap<String, Vec<u8>> = [("a".to_owned(), b"bc".to_vec())].into();
        assert_ne!(data_mac(&k, &a), data_mac(&k, &b));
        let mut s1 = sample();
        s1.spec.encrypted_data = [("ab".to_owned(), "c".to_owned())].into();
        let mut s2 = sample();
        s2.spec.encrypted_data = [("a".to_owned(), "bc".to_owned())].into();
        assert_ne!(inputs_digest(&s1), inputs_digest(&s2));
    }

    #[test]
    fn any_data_byte_changes_the_mac() {
        let k = key(1);
        let base = data_mac(&k, &data());
        let original = data();
        for (item, value) in &original {
            for index in 0..value.len() {
                let mut changed = original.clone();
                if let Some(v) = changed.get_mut(item) {
                    v[index] ^= 1;
                }
                assert_ne!(data_mac(&k, &changed), base, "{item}[{index}]");
            }
            let mut longer = original.clone();
            longer.entry(item.clone()).or_default().push(0);
            assert_ne!(data_mac(&k, &longer), base);
        }
        let mut renamed = original.clone();
        let value = renamed.remove("user").unwrap_or_default();
        renamed.insert("usr".into(), value);
        assert_ne!(data_mac(&k, &renamed), base);
        assert_ne!(data_mac(&k, &BTreeMap::new()), base);
        // Borrowed entries in any order give the same MAC as the map.
        let reversed: Vec<(&str, &[u8])> = original
            .iter()
            .rev()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(data_mac_entries(&k, reversed), base);
    }

    #[test]
    fn key_separation_and_wrong_key() {
        let (k1, k2) = (key(1), key(2));
        let inputs = inputs_digest(&sample());
        assert_ne!(data_mac(&k1, &data()), data_mac(&k2, &data()));
        let m1 = data_mac(&k1, &data());
        let annotation = digest_annotation(&k1, &inputs, &m1);
        assert_ne!(annotation, digest_annotation(&k2, &inputs, &m1));
        assert!(!verify_digest_annotation(&k2, &inputs, &m1, &annotation));
        // Domain separation: the digest is not the data MAC of anything obvious.
        assert_ne!(annotation, format!("v1:{}", URL_SAFE_NO_PAD.encode(m1)));
    }

    #[test]
    fn verification_rejects_changes_and_garbage() {
        let k = key(7);
        let inputs = inputs_digest(&sample());
        let mac = data_mac(&k, &data());
        let good = digest_annotation(&k, &inputs, &mac);
        let mut other_inputs = inputs;
        other_inputs[0] ^= 1;
        let mut other_mac = mac;
        other_mac[31] ^= 1;
        assert!(!verify_digest_annotation(&k, &other_inputs, &mac, &good));
        assert!(!verify_digest_annotation(&k, &inputs, &other_mac, &good));
        for bad in [
            "",
            "v1:",
            "v2:",
            &good[3..],
            &good[..good.len() - 1],
            &format!("v2:{}", &good[3..]),
            &format!("{good}A"),
            "v1:!!!!",
        ] {
            assert!(!verify_digest_annotation(&k, &inputs, &mac, bad), "{bad:?}");
        }
    }

    #[test]
    fn keys_generate_distinct_and_check_length() {
        let (a, b) = (SyncKey::generate().unwrap(), SyncKey::generate().unwrap());
        assert_ne!(a.expose_bytes(), b.expose_bytes());
        assert_eq!(
            SyncKey::from_bytes(&[0; 31]).unwrap_err(),
            SyncKeyError::Length(31)
        );
        assert!(SyncKey::from_bytes(&[0; 33]).is_err());
        assert_eq!(format!("{a:?}"), "SyncKey(<redacted>)");
        let round = SyncKey::from_bytes(a.expose_bytes()).unwrap();
        let inputs = inputs_digest(&sample());
        assert_eq!(data_mac(&round, &data()), data_mac(&a, &data()));
        assert_eq!(
            digest_annotation(&round, &inputs, &[0; 32]),
            digest_annotation(&a, &inputs, &[0; 32])
        );
    }
}
