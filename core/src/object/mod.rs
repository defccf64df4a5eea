//! The Kubernetes objects sealant reads and writes: `Secret` and `SealedSecret`
//! (`bitnami.com/v1alpha1`), with multi-document YAML/JSON reading and deterministic output.
//!
//! Only the fields sealant acts on are typed; everything else in `metadata` is carried through
//! unchanged in [`ObjectMeta::extra`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::secret::{SecretBytes, SecretString};

/// API group/version of SealedSecrets.
pub const SEALED_SECRET_API_VERSION: &str = "bitnami.com/v1alpha1";
/// Kind of SealedSecrets.
pub const SEALED_SECRET_KIND: &str = "SealedSecret";

/// Reading or writing an object failed. Messages never quote values from the input: a
/// misplaced plaintext must not end up in a terminal, a CI log or an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text is not valid YAML or JSON, does not have the object's shape, or is over a YAML
    /// parsing limit ([`crate::yaml`]).
    #[error("malformed {format} in document {document}: {message}{}", crate::yaml::at(.location))]
    Malformed {
        /// `YAML` or `JSON`.
        format: &'static str,
        /// 1-based document number.
        document: usize,
        /// The parser's message with quoted values redacted (for JSON, with its position).
        message: String,
        /// Where the YAML parser stopped, in the text read.
        location: Option<crate::yaml::Location>,
        /// True when a YAML parsing limit refused the text rather than its syntax or shape.
        limit: bool,
    },
    /// A document of another kind where a particular kind was expected.
    #[error("document {document} is a {found}, not a {expected}")]
    WrongKind {
        /// 1-based document number.
        document: usize,
        /// The kind (and apiVersion) found.
        found: String,
        /// The kind wanted.
        expected: &'static str,
    },
    /// A `data` value that is not valid base64.
    #[error("invalid base64 in data item {item:?} of document {document}: {source}")]
    DataBase64 {
        /// 1-based document number.
        document: usize,
        /// The item's key.
        item: String,
        /// Where the base64 went wrong.
        source: crate::base64::Base64Error,
    },
    /// Serializing failed (should not happen for these types).
    #[error("cannot serialize: {0}")]
    Serialize(String),
}

/// Strips double-quoted values out of a parser message (`invalid type: string "hunter2"`).
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    let mut escaped = false;
    for ch in message.chars() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                in_quotes = false;
                out.push_str("…\"");
            }
            continue;
        }
        if ch == '"' {
            in_quotes = true;
        }
        out.push(ch);
    }
    if in_quotes {
        out.push_str("…\"");
    }
    out
}

/// An owner reference (`metadata.ownerReferences[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner.
    pub api_version: String,
    /// Kind of the owner.
    pub kind: String,
    /// Name of the owner.
    pub name: String,
    /// UID of the owner.
    pub uid: String,
    /// Whether the owner is the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Whether deletion of the owner waits for this object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// `metadata` of an object: the fields sealant acts on, plus everything else verbatim.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// UID (set by the API server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Labels.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_values_empty"
    )]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_values_empty"
    )]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Owner references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_references: Option<Vec<OwnerReference>>,
    /// Every other field (`generateName`, `finalizers`, `resourceVersion`, …), unchanged.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Fields the API server sets, cleared before a Secret's metadata is sealed into a template.
const SERVER_SET_FIELDS: &[&str] = &[
    "selfLink",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
];

/// Annotations that hold a copy of the whole object (and so the plaintext) when applied with
/// kubectl or kubecfg.
pub const LAST_APPLIED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

impl ObjectMeta {
    /// Metadata with just a name and a namespace.
    pub fn named(name: impl Into<String>, namespace: Option<String>) -> Self {
        Self {
            name: Some(name.into()),
            namespace,
            ..Self::default()
        }
    }

    /// The name, or `""`.
    pub fn name_or_empty(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The namespace, or `""`.
    pub fn namespace_or_empty(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// Value of an annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// True when the annotation is exactly `"true"` (upstream's only truthy value).
    pub fn annotation_is_true(&self, key: &str) -> bool {
        self.annotation(key) == Some("true")
    }

    /// Mutable annotations, created if absent.
    pub fn annotations_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.annotations.get_or_insert_with(BTreeMap::new)
    }

    /// Mutable labels, created if absent.
    pub fn labels_mut(&mut self) -> &mut BTreeMap<String, String> {
        self.labels.get_or_insert_with(BTreeMap::new)
    }

    /// Clears what the API server owns and what must not be copied into a template: UID,
    /// server-set fields, owner references and last-applied annotations.
    pub fn strip_for_template(&mut self) {
        self.uid = None;
        self.owner_references = None;
        for field in SERVER_SET_FIELDS {
            self.extra.remove(*field);
        }
        if let Some(annotations) = &mut self.annotations {
            for key in LAST_APPLIED_ANNOTATIONS {
                annotations.remove(*key);
            }
            if annotations.is_empty() {
                self.annotations = None;
            }
        }
    }
}

/// A `v1` Secret, as read from user input or produced by unsealing.
///
/// Not `Clone`: it holds plaintext values, which are copied only explicitly (see
/// [`SecretBytes::duplicate`]). A future derive is caught here:
///
/// ```compile_fail
/// let a = sealant_core::Secret::default();
/// let _b = a.clone();
/// ```
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// `v1` (not required on input, like upstream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `Secret` (not required on input; any other kind is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Values, base64 on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, SecretBytes>>,
    /// Values as text; on sealing they win over `data` items of the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_data: Option<BTreeMap<String, SecretString>>,
    /// Secret type, e.g. `Opaque`, `kubernetes.io/tls`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether the Secret is immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

impl Secret {
    /// A `v1 Secret` with type/kind filled in.
    pub fn new(metadata: ObjectMeta) -> Self {
        Self {
            api_version: Some("v1".into()),
            kind: Some("Secret".into()),
            metadata,
            ..Self::default()
        }
    }

    /// `data` and `stringData` merged, `stringData` winning, as the API server does: borrowed,
    /// so that reading a Secret copies no plaintext.
    pub fn merged_items(&self) -> BTreeMap<&str, &[u8]> {
        let mut merged: BTreeMap<&str, &[u8]> = BTreeMap::new();
        for (key, value) in self.data.iter().flatten() {
            merged.insert(key, value.expose_secret());
        }
        for (key, value) in self.string_data.iter().flatten() {
            merged.insert(key, value.expose_secret().as_bytes());
        }
        merged
    }

    /// Moves `stringData` into `data` (`stringData` winning, as the API server does), without
    /// copying a value.
    pub fn merge_string_data(&mut self) {
        if let Some(string_data) = self.string_data.take() {
            let data = self.data.get_or_insert_with(BTreeMap::new);
            for (key, value) in string_data {
                data.insert(key, SecretBytes::from(value));
            }
        }
    }

    /// True when neither `data` nor `stringData` holds a key.
    pub fn has_no_data(&self) -> bool {
        self.data.as_ref().is_none_or(BTreeMap::is_empty)
            && self.string_data.as_ref().is_none_or(BTreeMap::is_empty)
    }
}

/// The `spec.template` of a SealedSecret: the recipe for the Secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretTemplateSpec {
    /// Metadata copied to the Secret (name and namespace are forced to the SealedSecret's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ObjectMeta>,
    /// Secret type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether the Secret is immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Go `text/template` sources, one per output key, executed by the controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, String>>,
}

/// `spec` of a SealedSecret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// Recipe for the Secret.
    #[serde(default)]
    pub template: SecretTemplateSpec,
    /// Item name → base64 sealed item.
    #[serde(default, deserialize_with = "lenient_string_map")]
    pub encrypted_data: BTreeMap<String, String>,
    /// Deprecated v1 format: the whole Secret sealed as one base64 blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// Upstream's `encryptedData` decoder never fails: non-string values are dropped and
/// `null` or garbage gives an empty map, so one bad object cannot wedge a controller.
fn lenient_string_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(match value {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    })
}

/// One status condition of a SealedSecret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretCondition {
    /// Condition type (`Synced`).
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Last time the condition was evaluated (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    /// Last time the status changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message (empty on success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `status` of a SealedSecret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretStatus {
    /// The `metadata.generation` the status describes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub observed_generation: Option<i64>,
    /// Conditions (`Synced`, and `KeyCompromised` when an item opened only with a
    /// compromised key).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub conditions: Option<Vec<SealedSecretCondition>>,
    /// The key inventory (sealant only; upstream ignores it): fingerprints of the keys that
    /// opened this object's items at the last unseal, sorted and distinct. `None` until
    /// sealant has unsealed it once. Shared: thousands of objects use the same few keys, and
    /// the controller's watch cache holds one list per distinct inventory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_list",
        serialize_with = "list"
    )]
    pub key_fingerprints: Option<Arc<[String]>>,
    /// Fields written by other tools, kept.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// [`lenient`] for a shared list.
fn lenient_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Arc<[String]>>, D::Error> {
    Ok(lenient::<D, Vec<String>>(deserializer)?.map(Arc::from))
}

/// A shared list, written as the list.
fn list<S: serde::Serializer>(
    list: &Option<Arc<[String]>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    list.as_deref().serialize(serializer)
}

/// A status field as read, or nothing when it does not have the expected shape: a status is a
/// report that other tools (or a tenant, under a CRD that does not check it) may have written,
/// and a malformed one must not make the object, or a list of them, unreadable.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A `bitnami.com/v1alpha1` SealedSecret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    /// `bitnami.com/v1alpha1`.
    pub api_version: String,
    /// `SealedSecret`.
    pub kind: String,
    /// Top-level metadata: its namespace, name and scope annotation are what items are bound to.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: SealedSecretSpec,
    /// Status (written by the controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SealedSecretStatus>,
}

impl SealedSecret {
    /// An empty SealedSecret with apiVersion and kind set.
    pub fn new(metadata: ObjectMeta, spec: SealedSecretSpec) -> Self {
        Self {
            api_version: SEALED_SECRET_API_VERSION.into(),
            kind: SEALED_SECRET_KIND.into(),
            metadata,
            spec,
            status: None,
        }
    }
}

/// Input or output encoding of Kubernetes objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML; multiple documents separated by `---`.
    Yaml,
    /// JSON; multiple objects concatenated.
    Json,
}

impl Format {
    /// Guesses the encoding of a text: JSON if it starts with `{` or `[`, else YAML.
    pub fn detect(text: &str) -> Format {
        match text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .as_bytes()
            .first()
        {
            Some(b'{' | b'[') => Format::Json,
            _ => Format::Yaml,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }
}

/// Reads every non-empty document of a YAML stream or JSON object stream as `T`. YAML is read
/// under the limits of [`crate::yaml`].
///
/// # Errors
/// [`FormatError::Malformed`] naming the document that failed (and, for YAML, where, and whether
/// a limit refused it).
pub fn read_documents<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, FormatError> {
    let text = text.trim_start_matches('\u{feff}');
    let format = Format::detect(text);
    match format {
        Format::Json => {
            let mut out = Vec::new();
            for (index, doc) in serde_json::Deserializer::from_str(text)
                .into_iter::<T>()
                .enumerate()
            {
                out.push(doc.map_err(|e| FormatError::Malformed {
                    format: format.name(),
                    document: index + 1,
                    message: redact_quoted(&e.to_string()),
                    location: None,
                    limit: false,
                })?);
            }
            Ok(out)
        }
        // Empty documents (`---` alone, or only comments) hold nothing and are skipped.
        Format::Yaml => crate::yaml::from_str_multiple(text).map_err(|e| FormatError::Malformed {
            format: format.name(),
            document: e.document,
            message: redact_quoted(&e.message),
            location: e.location,
            limit: e.limit,
        }),
    }
}

/// A document's `apiVersion` and `kind`, read without the rest of it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    /// apiVersion, if present.
    #[serde(default)]
    pub api_version: Option<String>,
    /// kind, if present.
    #[serde(default)]
    pub kind: Option<String>,
}

/// What a `key:` with no value reads as. Not `Default`: secret types are not `Default`.
trait EmptyValue {
    fn empty() -> Self;
}

impl EmptyValue for String {
    fn empty() -> Self {
        String::new()
    }
}

impl EmptyValue for SecretString {
    fn empty() -> Self {
        SecretString::new(String::new())
    }
}

/// `key:` with no value (YAML or JSON null) is an empty value, as the API server reads it.
fn null_values_empty<'de, D, V>(deserializer: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de> + EmptyValue,
{
    let items = Option::<BTreeMap<String, Option<V>>>::deserialize(deserializer)?;
    Ok(items.map(|items| {
        items
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_else(V::empty)))
            .collect()
    }))
}

/// Reads Secrets (each `kind`, if present, must be `Secret`; data must be valid base64).
///
/// # Errors
/// Malformed input, another kind, or bad base64 in `data` (naming the item, never its value).
pub fn read_secrets(text: &str) -> Result<Vec<Secret>, FormatError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct RawSecret {
        #[serde(flatten)]
        type_meta: TypeMeta,
        #[serde(default)]
        metadata: ObjectMeta,
        #[serde(default, deserialize_with = "null_values_empty")]
        data: Option<BTreeMap<String, SecretString>>,
        #[serde(default, deserialize_with = "null_values_empty")]
        string_data: Option<BTreeMap<String, SecretString>>,
        #[serde(default, rename = "type")]
        type_: Option<String>,
        #[serde(default)]
        immutable: Option<bool>,
    }

    let raw: Vec<RawSecret> = read_documents(text)?;
    raw.into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let document = index + 1;
            check_kind(&raw.type_meta, "Secret", None, document)?;
            let data = match raw.data {
                None => None,
                Some(items) => Some(
                    items
                        .into_iter()
                        .map(|(item, encoded)| {
                            match crate::base64::decode(encoded.expose_secret()) {
                                Ok(bytes) => Ok((item, bytes)),
                                Err(source) => Err(FormatError::DataBase64 {
                                    document,
                                    item,
                                    source,
                                }),
                            }
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            Ok(Secret {
                api_version: raw.type_meta.api_version,
                kind: raw.type_meta.kind,
                metadata: raw.metadata,
                data,
                string_data: raw.string_data,
                type_: raw.type_,
                immutable: raw.immutable,
            })
        })
        .collect()
}

/// Reads SealedSecrets; `apiVersion` and `kind` must be present and right.
///
/// # Errors
/// Malformed input or another kind.
pub fn read_sealed_secrets(text: &str) -> Result<Vec<SealedSecret>, FormatError> {
    let values: Vec<Value> = read_documents(text)?;
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| sealed_secret_from_value(value, index + 1))
        .collect()
}

/// Converts one parsed document into a SealedSecret, checking apiVersion and kind.
///
/// # Errors
/// Another kind, or a document without the SealedSecret shape.
pub fn sealed_secret_from_value(
    value: Value,
    document: usize,
) -> Result<SealedSecret, FormatError> {
    let type_meta = TypeMeta {
        api_version: value
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_owned),
        kind: value.get("kind").and_then(Value::as_str).map(str::to_owned),
    };
    check_kind(
        &type_meta,
        SEALED_SECRET_KIND,
        Some(SEALED_SECRET_API_VERSION),
        document,
    )?;
    serde_json::from_value(value).map_err(|e| FormatError::Malformed {
        format: "SealedSecret",
        document,
        message: redact_quoted(&e.to_string()),
        location: None,
        limit: false,
    })
}

fn check_kind(
    type_meta: &TypeMeta,
    expected: &'static str,
    required_api_version: Option<&str>,
    document: usize,
) -> Result<(), FormatError> {
    let describe = || match (&type_meta.api_version, &type_meta.kind) {
        (Some(api), Some(kind)) => format!("{kind} ({api})"),
        (None, Some(kind)) => kind.clone(),
        (Some(api), None) => format!("document without kind ({api})"),
        (None, None) => "document without apiVersion and kind".to_owned(),
    };
    let kind_ok = match required_api_version {
        // SealedSecrets must say what they are: they are matched by kind in a repository.
        Some(api) => {
            type_meta.kind.as_deref() == Some(expected)
                && type_meta.api_version.as_deref() == Some(api)
        }
        None => type_meta.kind.as_deref().is_none_or(|k| k == expected),
    };
    if kind_ok {
        Ok(())
    } else {
        Err(FormatError::WrongKind {
            document,
            found: describe(),
            expected,
        })
    }
}

/// Serializes one object with sorted keys. YAML output starts with `---`, as upstream's does.
///
/// # Errors
/// Only if the object cannot be represented (not expected for sealant's types).
pub fn to_text<T: Serialize>(object: &T, format: Format) -> Result<String, FormatError> {
    let value =
        sorted(serde_json::to_value(object).map_err(|e| FormatError::Serialize(e.to_string()))?);
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&value)
                .map_err(|e| FormatError::Serialize(e.to_string()))?;
            text.push('\n');
            Ok(text)
        }
        Format::Yaml => {
            let body =
                crate::yaml::to_string(&value).map_err(|e| FormatError::Serialize(e.message))?;
            Ok(format!("---\n{body}"))
        }
    }
}

/// Serializes several objects as one stream (YAML documents, or concatenated JSON objects).
///
/// # Errors
/// As [`to_text`].
pub fn to_text_stream<T: Serialize>(objects: &[T], format: Format) -> Result<String, FormatError> {
    objects.iter().map(|o| to_text(o, format)).collect()
}

/// Rebuilds every JSON object with its keys in sorted order, whatever map type serde_json is
/// built with, so output is byte-for-byte deterministic.
pub fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Reads Secrets from YAML or JSON: a `v1` `List`, or a stream of Secrets.
///
/// # Errors
/// Malformed input or another kind of object.
pub fn read_key_secrets(text: &str) -> Result<Vec<Secret>, FormatError> {
    let documents: Vec<Value> = read_documents(text)?;
    let mut values = Vec::new();
    for document in documents {
        if document.get("kind").and_then(Value::as_str) == Some("List") {
            if let Some(items) = document.get("items").and_then(Value::as_array) {
                values.extend(items.iter().cloned());
            }
        } else {
            values.push(document);
        }
    }
    let mut secrets = Vec::with_capacity(values.len());
    for value in values {
        let text = Zeroizing::new(
            serde_json::to_string(&value).map_err(|e| FormatError::Serialize(e.to_string()))?,
        );
        secrets.extend(read_secrets(&text)?);
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests;
