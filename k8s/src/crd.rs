//! The `sealedsecrets.bitnami.com` custom resource, shared by the controller (its watches) and
//! the CLI (`keys list`): docs/architecture.md.
//!
//! The Rust type wraps `sealant_core`'s spec and status, so the controller reads exactly what the
//! CLI writes. The schema is written out here rather than derived: it has to match upstream's
//! (whose objects we serve after a switch of controllers), including its permissive parts
//! (`x-kubernetes-preserve-unknown-fields` on `encryptedData` and the template metadata).

use std::borrow::Cow;
use std::sync::Arc;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::convert::ConvertError;

/// `spec` of a SealedSecret: `sealant_core`'s type, which the CLI seals into.
// Each printcolumn(...) carries its own `type_`; clippy reads them as one repeated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "bitnami.com",
    version = "v1alpha1",
    kind = "SealedSecret",
    plural = "sealedsecrets",
    namespaced,
    status = "sealant_core::object::SealedSecretStatus",
    schema = "manual",
    derive = "PartialEq",
    doc = "SealedSecret is a Secret encrypted to the controller's key (sealant, compatible with Bitnami Sealed Secrets)",
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.conditions[0].message"
    ),
    printcolumn(
        name = "Synced",
        type_ = "string",
        json_path = ".status.conditions[0].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
pub struct SealedSecretSpec {
    /// The spec as `sealant_core` models it. Shared: the controller's watch cache holds one
    /// copy of each distinct cut spec for the objects it keeps without their ciphertexts
    /// (docs/design/memory.md, "What is cut"); change it through `Arc::make_mut`.
    pub inner: Arc<sealant_core::object::SealedSecretSpec>,
    /// Set when the stored spec does not fit that model. One such object must not make a whole
    /// list or watch of SealedSecrets unreadable (every tenant's objects would stall), so it is
    /// read as an empty spec with this mark, and converting it to core's type fails.
    pub malformed: Option<&'static str>,
    /// Set by the controller's watch cache on the copies it keeps without their ciphertexts
    /// (and other fields nothing reads once in sync): such a copy must never be decrypted, it
    /// is fetched whole first (docs/design/memory.md, "What is cut"). Never read from or
    /// written to the API.
    pub stripped: bool,
}

/// Written exactly as `inner`: the marks are never read from or written to the API.
impl Serialize for SealedSecretSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (*self.inner).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SealedSecretSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(
            match serde_json::from_value::<sealant_core::object::SealedSecretSpec>(value) {
                Ok(inner) => Self {
                    inner: Arc::new(inner),
                    malformed: None,
                    stripped: false,
                },
                // serde's message may quote the value: only its category is kept.
                Err(err) => Self {
                    inner: Arc::default(),
                    malformed: Some(match err.classify() {
                        serde_json::error::Category::Data => "a field has the wrong type",
                        _ => "it cannot be decoded",
                    }),
                    stripped: false,
                },
            },
        )
    }
}

impl JsonSchema for SealedSecret {
    fn schema_name() -> Cow<'static, str> {
        "SealedSecret".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let string_map =
            json_schema!({ "type": "object", "additionalProperties": { "type": "string" } });
        json_schema!({
            "description": "SealedSecret is a Secret encrypted to the controller's key. Only the controller can unseal it into the Secret described by spec.template.",
            "type": "object",
            "required": ["spec"],
            "properties": {
                "apiVersion": { "type": "string" },
                "kind": { "type": "string" },
                "metadata": { "type": "object" },
                "spec": {
                    "type": "object",
                    "required": ["encryptedData"],
                    "properties": {
                        "encryptedData": {
                            "description": "Item name to sealed value (base64).",
                            "type": "object",
                            "additionalProperties": { "type": "string" },
                            "x-kubernetes-preserve-unknown-fields": true
                        },
                        "template": {
                            "description": "The recipe for the Secret: metadata, type, immutability and templated data.",
                            "type": "object",
                            "properties": {
                                "metadata": {
                                    "description": "Metadata copied to the Secret; name and namespace are the SealedSecret's.",
                                    "type": "object",
                                    "nullable": true,
                                    "x-kubernetes-preserve-unknown-fields": true,
                                    "properties": {
                                        "annotations": string_map,
                                        "finalizers": { "type": "array", "items": { "type": "string" } },
                                        "labels": string_map,
                                        "name": { "type": "string" },
                                        "namespace": { "type": "string" }
                                    }
                                },
                                "type": { "description": "Secret type.", "type": "string" },
                                "immutable": { "description": "Whether the Secret is immutable.", "type": "boolean" },
                                "data": {
                                    "description": "Item name to a Go text/template rendered over the unsealed items.",
                                    "type": "object",
                                    "nullable": true,
                                    "additionalProperties": { "type": "string" }
                                }
                            }
                        },
                        "data": {
                            "description": "Deprecated v1 format: the whole Secret sealed as one value.",
                            "type": "string",
                            "format": "byte"
                        }
                    }
                },
                "status": {
                    "type": "object",
                    "properties": {
                        "observedGeneration": { "type": "integer", "format": "int64" },
                        "conditions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["status", "type"],
                                "properties": {
                                    "type": { "description": "Condition type (Synced; KeyCompromised while the object depends on a compromised key).", "type": "string" },
                                    "status": { "description": "True, False or Unknown.", "type": "string" },
                                    "lastUpdateTime": { "type": "string", "format": "date-time" },
                                    "lastTransitionTime": { "type": "string", "format": "date-time" },
                                    "reason": { "type": "string" },
                                    "message": { "type": "string" }
                                }
                            }
                        },
                        "keyFingerprints": {
                            "description": "Key inventory (sealant): fingerprints of the keys that opened the items at the last unseal, sorted.",
                            "type": "array",
                            "items": { "type": "string" }
                        }
                    }
                }
            }
        })
    }
}

/// The CustomResourceDefinition, as `deploy/crd.yaml` holds it.
pub fn crd() -> CustomResourceDefinition {
    use kube::CustomResourceExt as _;
    let mut crd = SealedSecret::crd();
    crd.spec.names.list_kind = Some("SealedSecretList".to_owned());
    crd
}

/// The CRD as YAML, exactly as written to `deploy/crd.yaml`.
///
/// # Errors
/// Only if serialization fails.
pub fn crd_yaml() -> Result<String, sealant_core::FormatError> {
    // Sorted keys and a leading `---`, in sealant's one YAML style.
    let body = sealant_core::object::to_text(&crd(), sealant_core::Format::Yaml)?;
    Ok(format!(
        "# Generated by `cargo run -p sealant-controller --bin crdgen`; do not edit.\n{body}"
    ))
}

impl SealedSecret {
    /// The object as `sealant_core` models it (for unsealing); see the `TryFrom` below.
    ///
    /// # Errors
    /// [`ConvertError::SealedSecret`] when its metadata does not fit core's model.
    pub fn to_core(&self) -> Result<sealant_core::SealedSecret, ConvertError> {
        sealant_core::SealedSecret::try_from(self)
    }
}

impl TryFrom<&SealedSecret> for sealant_core::SealedSecret {
    type Error = ConvertError;
    /// Spec and status are `sealant_core`'s types already: only the metadata changes model
    /// (through JSON, as in `convert`; metadata holds no value).
    fn try_from(sealed: &SealedSecret) -> Result<Self, ConvertError> {
        if let Some(reason) = sealed.spec.malformed {
            return Err(ConvertError::MalformedSpec {
                namespace: sealed.metadata.namespace.clone().unwrap_or_default(),
                name: sealed.metadata.name.clone().unwrap_or_default(),
                reason,
            });
        }
        let metadata = serde_json::to_value(&sealed.metadata)
            .and_then(serde_json::from_value)
            .map_err(|source| ConvertError::SealedSecret {
                namespace: sealed.metadata.namespace.clone().unwrap_or_default(),
                name: sealed.metadata.name.clone().unwrap_or_default(),
                source,
            })?;
        let mut core = sealant_core::SealedSecret::new(metadata, (*sealed.spec.inner).clone());
        core.status = sealed.status.clone();
        Ok(core)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: one SealedSecret whose template labels were numbers (the CRD's schema lets
    /// the template metadata through unchecked) made the controller's whole list fail.
    #[test]
    fn a_malformed_spec_does_not_spoil_the_list() {
        let list: kube::core::ObjectList<SealedSecret> =
            serde_json::from_value(serde_json::json!({
                "metadata": {},
                "items": [
                    {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                     "metadata": {"name": "bad", "namespace": "t"},
                     "spec": {"encryptedData": {}, "template": {"metadata": {"labels": {"a": 5}}}}},
                    {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
                     "metadata": {"name": "good", "namespace": "t"},
                     "spec": {"encryptedData": {"k": "AQ=="}},
                     "status": {"conditions": [{"reason": 7}], "observedGeneration": "x"}},
                ],
            }))
            .unwrap();
        let err = list.items[0].to_core().unwrap_err();
        assert!(matches!(err, ConvertError::MalformedSpec { .. }));
        assert!(!err.to_string().contains('5'), "{err}");
        let good = list.items[1].to_core().unwrap();
        assert_eq!(good.spec.encrypted_data["k"], "AQ==");
    }

    #[test]
    fn crd_identity_matches_upstream() {
        let crd = crd();
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some("sealedsecrets.bitnami.com")
        );
        let spec = &crd.spec;
        assert_eq!(spec.group, "bitnami.com");
        assert_eq!(spec.scope, "Namespaced");
        assert_eq!(spec.names.kind, "SealedSecret");
        assert_eq!(spec.names.plural, "sealedsecrets");
        assert_eq!(spec.names.singular.as_deref(), Some("sealedsecret"));
        assert_eq!(spec.names.list_kind.as_deref(), Some("SealedSecretList"));
        let version = &spec.versions[0];
        assert!(version.served && version.storage && version.name == "v1alpha1");
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        let columns: Vec<_> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| (c.name.as_str(), c.json_path.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                ("Status", ".status.conditions[0].message"),
                ("Synced", ".status.conditions[0].status"),
                ("Age", ".metadata.creationTimestamp")
            ]
        );
    }

    #[test]
    fn deploy_crd_yaml_is_the_generated_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/crd.yaml");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == crd_yaml().unwrap(),
            "deploy/crd.yaml is out of date: run `cargo run -p sealant-controller --bin crdgen > deploy/crd.yaml`"
        );
    }

    #[test]
    fn status_schema_keeps_the_key_inventory() {
        let crd = serde_json::to_value(crd()).unwrap();
        let status = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
            ["properties"];
        assert_eq!(status["keyFingerprints"]["type"], "array");
        assert_eq!(status["keyFingerprints"]["items"]["type"], "string");
        // A status with an inventory survives the typed round trip (no field dropped).
        let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: n}\nspec: {encryptedData: {}}\nstatus: {observedGeneration: 1, keyFingerprints: [\"SHA256:x\"]}\n";
        let typed: SealedSecret = sealant_core::yaml::from_str(text).unwrap();
        let value = serde_json::to_value(&typed).unwrap();
        assert_eq!(value["status"]["keyFingerprints"][0], "SHA256:x");
    }

    #[test]
    fn typed_object_converts_to_core() {
        let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a, namespace: n, uid: u1, generation: 3, finalizers: [f]}\nspec:\n  encryptedData: {k: AQ==}\n  template: {type: Opaque, metadata: {labels: {x: y}}}\nstatus: {observedGeneration: 2, keyFingerprints: [\"SHA256:x\"]}\n";
        let typed: SealedSecret = sealant_core::yaml::from_str(text).unwrap();
        let core = typed.to_core().unwrap();
        assert_eq!(core.api_version, "bitnami.com/v1alpha1");
        assert_eq!(core.kind, "SealedSecret");
        assert_eq!(core.metadata.uid.as_deref(), Some("u1"));
        assert_eq!(core.metadata.extra["generation"], 3);
        assert_eq!(core.metadata.extra["finalizers"][0], "f");
        assert_eq!(core.spec.encrypted_data["k"], "AQ==");
        assert_eq!(core.spec.template.type_.as_deref(), Some("Opaque"));
        let status = core.status.as_ref().unwrap();
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(
            status.key_fingerprints.as_deref(),
            Some(&["SHA256:x".to_owned()][..])
        );
        // The same object as the JSON detour the controller used before gives.
        let mut value = serde_json::to_value(&typed).unwrap();
        value["apiVersion"] = "bitnami.com/v1alpha1".into();
        value["kind"] = "SealedSecret".into();
        let detour: sealant_core::SealedSecret = serde_json::from_value(value).unwrap();
        assert_eq!(core, detour);
    }
}
