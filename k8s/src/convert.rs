//! Conversions between sealant-core's object model and `k8s_openapi`'s types. Metadata goes
//! through JSON (both sides are serde models of the same API object, and metadata holds no
//! value); values are copied between zeroizing buffers and [`PlainSecret`], never through JSON.

use k8s_openapi::api::core::v1::Secret as K8sSecret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta as K8sMeta;
use sealant_core::{ObjectMeta, SecretBytes, SecretString};

use crate::plain::{PlainSecret, data_of};

/// An object that cannot be represented on the other side.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The metadata does not fit the other model (a field of the wrong shape).
    #[error("the metadata of {name:?} does not have the shape of Kubernetes object metadata")]
    Metadata {
        /// The object's name, if it has one.
        name: String,
        /// What serde said (names fields, never values).
        #[source]
        source: serde_json::Error,
    },
    /// A SealedSecret read from the API whose metadata does not fit `sealant_core`'s model
    /// (spec and status are core's types already, see `crd`).
    #[error(
        "the SealedSecret {namespace}/{name} cannot be read: its metadata does not have the shape sealant expects"
    )]
    SealedSecret {
        /// The object's namespace, if it has one.
        namespace: String,
        /// The object's name, if it has one.
        name: String,
        /// What serde said (names fields, never values).
        #[source]
        source: serde_json::Error,
    },
    /// The stored spec does not have the shape of a SealedSecret spec (a value of the wrong
    /// type where the CRD's schema lets anything through, such as the template metadata).
    #[error(
        "the SealedSecret {namespace}/{name} cannot be read: its spec does not have the shape of a SealedSecret ({reason})"
    )]
    MalformedSpec {
        /// The object's namespace.
        namespace: String,
        /// The object's name.
        name: String,
        /// What kind of problem, never the value.
        reason: &'static str,
    },
}

/// Core metadata as the API's type.
///
/// # Errors
/// [`ConvertError::Metadata`] when a field has the wrong shape.
pub fn meta_to_k8s(meta: &ObjectMeta) -> Result<K8sMeta, ConvertError> {
    serde_json::to_value(meta)
        .and_then(serde_json::from_value)
        .map_err(|source| ConvertError::Metadata {
            name: meta.name_or_empty().to_owned(),
            source,
        })
}

/// The API's metadata as core's type.
///
/// # Errors
/// [`ConvertError::Metadata`] when a field has the wrong shape.
pub fn meta_to_core(meta: &K8sMeta) -> Result<ObjectMeta, ConvertError> {
    serde_json::to_value(meta)
        .and_then(serde_json::from_value)
        .map_err(|source| ConvertError::Metadata {
            name: meta.name.clone().unwrap_or_default(),
            source,
        })
}

/// A Secret read from the API as core's type (values into zeroizing buffers).
///
/// # Errors
/// [`ConvertError::Metadata`] when its metadata has the wrong shape.
pub fn secret_to_core(secret: &K8sSecret) -> Result<sealant_core::Secret, ConvertError> {
    let metadata = meta_to_core(&secret.metadata)?;
    Ok(sealant_core::Secret {
        api_version: Some("v1".to_owned()),
        kind: Some("Secret".to_owned()),
        metadata,
        data: secret.data.as_ref().map(|data| {
            data.iter()
                .map(|(key, value)| (key.clone(), SecretBytes::from_slice(&value.0)))
                .collect()
        }),
        string_data: secret.string_data.as_ref().map(|data| {
            data.iter()
                .map(|(key, value)| (key.clone(), SecretString::new(value.clone())))
                .collect()
        }),
        type_: secret.type_.clone(),
        immutable: secret.immutable,
    })
}

impl TryFrom<&PlainSecret> for sealant_core::Secret {
    type Error = ConvertError;
    fn try_from(secret: &PlainSecret) -> Result<Self, ConvertError> {
        secret_to_core(secret)
    }
}

impl TryFrom<&sealant_core::Secret> for PlainSecret {
    type Error = ConvertError;
    /// `stringData` is folded into `data` as the API server does (it wins for the same key).
    fn try_from(secret: &sealant_core::Secret) -> Result<Self, ConvertError> {
        let mut converted = PlainSecret::new(K8sSecret {
            metadata: meta_to_k8s(&secret.metadata)?,
            type_: secret.type_.clone(),
            immutable: secret.immutable,
            ..K8sSecret::default()
        });
        converted.data = data_of(secret);
        Ok(converted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core_secret() -> sealant_core::Secret {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "app", "namespace": "team", "labels": {"a": "b"},
                         "annotations": {"x": "y"}, "resourceVersion": "7"},
            "data": {"password": "aHVudGVyMg=="},
            "type": "Opaque",
            "immutable": true,
        }))
        .unwrap()
    }

    #[test]
    fn a_secret_survives_the_round_trip() {
        let core = core_secret();
        let k8s = PlainSecret::try_from(&core).unwrap();
        assert_eq!(k8s.metadata.name.as_deref(), Some("app"));
        assert_eq!(k8s.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(k8s.data.as_ref().unwrap()["password"].0, b"hunter2");
        assert_eq!(k8s.immutable, Some(true));
        let back = sealant_core::Secret::try_from(&k8s).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&core).unwrap()
        );
    }

    #[test]
    fn metadata_of_the_wrong_shape_is_a_typed_error() {
        let mut meta = ObjectMeta::named("app", None);
        meta.extra
            .insert("generation".into(), serde_json::json!("not a number"));
        let err = meta_to_k8s(&meta).unwrap_err();
        assert!(matches!(err, ConvertError::Metadata { ref name, .. } if name == "app"));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn a_sealed_secret_error_names_the_object() {
        let source = serde_json::from_str::<ObjectMeta>("{\"name\": 5}").unwrap_err();
        let err = ConvertError::SealedSecret {
            namespace: "team".into(),
            name: "app".into(),
            source,
        };
        assert!(err.to_string().contains("SealedSecret team/app"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
