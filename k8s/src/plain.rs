//! Plaintext on its way to the Secret. The reconciler holds Secrets as the API's type
//! (`k8s_openapi`'s `ByteString` is a plain `Vec<u8>`), so every copy that carries values is
//! wrapped in [`PlainSecret`], which wipes them when it is dropped. Copies this crate does not
//! own (the kube client's request and response bodies) are listed in SECURITY.md, "What never
//! leaves the controller".

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret as K8sSecret;
use zeroize::Zeroize as _;

/// A Secret that may carry values: its `data` and `stringData` are zeroized on drop. Not
/// `Clone`: a copy is made with [`PlainSecret::duplicate`], which is wrapped too.
#[derive(Default, PartialEq)]
pub struct PlainSecret(K8sSecret);

impl PlainSecret {
    /// Takes ownership of a Secret read from or written to the API.
    pub fn new(secret: K8sSecret) -> Self {
        Self(secret)
    }

    /// A second, equally wiped copy.
    pub fn duplicate(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Deref for PlainSecret {
    type Target = K8sSecret;
    fn deref(&self) -> &K8sSecret {
        &self.0
    }
}

impl DerefMut for PlainSecret {
    fn deref_mut(&mut self) -> &mut K8sSecret {
        &mut self.0
    }
}

impl Drop for PlainSecret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl std::fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainSecret")
            .field("namespace", &self.0.metadata.namespace)
            .field("name", &self.0.metadata.name)
            .finish_non_exhaustive()
    }
}

/// Zeroizes every value of `secret` in place and drops them.
pub fn wipe(secret: &mut K8sSecret) {
    if let Some(data) = secret.data.as_mut() {
        data.values_mut().for_each(|value| value.0.zeroize());
    }
    if let Some(data) = secret.string_data.as_mut() {
        data.values_mut().for_each(String::zeroize);
    }
    secret.data = None;
    secret.string_data = None;
}

/// The values of a core Secret in the API's form, copied straight from the zeroizing buffers
/// (no JSON detour that would leave base64 copies behind).
pub(crate) fn data_of(secret: &sealant_core::Secret) -> Option<BTreeMap<String, ByteString>> {
    let mut data: BTreeMap<String, ByteString> = secret
        .data
        .iter()
        .flatten()
        .map(|(key, value)| (key.clone(), ByteString(value.expose_secret().to_vec())))
        .collect();
    // As the API server does with `stringData`: it wins over `data` for the same key.
    for (key, value) in secret.string_data.iter().flatten() {
        if let Some(mut old) = data.insert(
            key.clone(),
            ByteString(value.expose_secret().as_bytes().to_vec()),
        ) {
            old.0.zeroize();
        }
    }
    (secret.data.is_some() || secret.string_data.is_some()).then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipe_clears_values_and_debug_names_no_value() {
        let mut secret = K8sSecret::default();
        secret.metadata.name = Some("app".into());
        secret.data = Some(BTreeMap::from([(
            "password".to_owned(),
            ByteString(b"hunter2".to_vec()),
        )]));
        let plain = PlainSecret::new(secret);
        assert!(!format!("{plain:?}").contains("hunter2"));
        let mut copy = plain.duplicate();
        assert_eq!(copy.data.as_ref().map(BTreeMap::len), Some(1));
        wipe(&mut copy);
        assert_eq!(copy.data, None);
        assert_eq!(plain.data.as_ref().map(BTreeMap::len), Some(1));
    }

    #[test]
    fn string_data_wins_like_the_api_server() {
        let secret: sealant_core::Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "app"},
            "data": {"a": "b2xk", "b": "Yg=="},
            "stringData": {"a": "new"},
        }))
        .unwrap();
        let data = data_of(&secret).unwrap();
        assert_eq!(data["a"].0, b"new");
        assert_eq!(data["b"].0, b"b");
        let empty: sealant_core::Secret =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "app"}})).unwrap();
        assert_eq!(data_of(&empty), None);
    }
}
