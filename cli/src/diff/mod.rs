//! `sealant diff`: what changed between two versions of SealedSecrets, without keys (items
//! added, removed, re-sealed; scope, key hint and metadata changes), and with recovery keys
//! given locally, whether each value changed. Values are printed only with `--show-values`.

mod git;
mod render;

use std::collections::BTreeMap;
use std::path::Path;

use sealant_core::inspect::{ItemInfo, inspect_item};
use sealant_core::scope::{ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE};
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::{Certificate, KeyRing, Scope, SealedSecret, SecretBytes};
use serde_json::{Value, json};

use crate::args::{DiffArgs, ReportFormat};
use crate::error::Result;
use crate::inspect::object_name;
use crate::manifest::sealed_secrets;
use crate::unseal::open_item;

pub use crate::error::DiffError;

/// Everything `diff` needs besides the inputs.
struct Settings {
    ring: Option<KeyRing>,
    show_values: bool,
    certs: Vec<Certificate>,
    cert_names: Vec<String>,
}

/// `sealant diff`: returns 0 without differences, 1 with.
///
/// # Errors
/// Unreadable inputs, keys or certificates, git failures (the caller maps them to exit 2).
pub fn run(args: &DiffArgs) -> Result<u8> {
    let settings = Settings {
        ring: if args.recovery_private_key.is_empty() {
            None
        } else {
            Some(crate::unseal::load_keys(&args.recovery_private_key)?)
        },
        show_values: args.show_values,
        certs: crate::certsrc::load_files(&args.cert)?,
        cert_names: args.cert.iter().map(|p| p.display().to_string()).collect(),
    };
    let pairs = match &args.git {
        Some(rev) => git::git_pairs(rev, &args.files)?,
        None => {
            let [old, new] = args.files.as_slice() else {
                return Err(DiffError::FileCount(args.files.len()).into());
            };
            vec![FilePair {
                old: read_side(old)?,
                new: read_side(new)?,
                explicit: true,
            }]
        }
    };
    let mut files = Vec::new();
    for pair in pairs {
        if let Some(diff) = diff_files(pair, &settings)? {
            files.push(diff);
        }
    }
    let differences = files.iter().any(FileDiff::has_differences);
    let text = if args.output == ReportFormat::Text {
        files.iter().map(|f| f.text(&settings)).collect()
    } else {
        let report = json!({
            "schemaVersion": 1,
            "differences": differences,
            "files": files.iter().map(|f| f.json(&settings)).collect::<Vec<_>>(),
        });
        crate::io::render_report(&report, args.output)?.unwrap_or_default()
    };
    crate::io::write_stdout(text.as_bytes())?;
    Ok(u8::from(differences))
}

/// One side of a comparison: its name and text (`None`: the file does not exist there).
struct Side {
    origin: String,
    text: Option<zeroize::Zeroizing<String>>,
}

struct FilePair {
    old: Side,
    new: Side,
    /// Named on the command line: unreadable content is an error, not a reason to skip.
    explicit: bool,
}

fn read_side(path: &Path) -> Result<Side> {
    let input = crate::io::read_inputs(&[path.to_path_buf()])?
        .pop()
        .ok_or(DiffError::NoInput)?;
    Ok(Side {
        origin: input.origin,
        text: Some(input.text),
    })
}

struct FileDiff {
    old: String,
    new: String,
    objects: Vec<ObjectDiff>,
}

/// Reads both sides; `None` when, listing files automatically, neither side holds a
/// SealedSecret (or one side cannot be read as manifests).
fn diff_files(pair: FilePair, settings: &Settings) -> Result<Option<FileDiff>> {
    let read = |side: &Side| -> Result<Vec<SealedSecret>> {
        match &side.text {
            None => Ok(Vec::new()),
            Some(text) => Ok(sealed_secrets(&side.origin, text)?
                .into_iter()
                .map(|l| l.sealed)
                .collect()),
        }
    };
    let (old, new) = match (read(&pair.old), read(&pair.new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            return if pair.explicit { Err(err) } else { Ok(None) };
        }
    };
    if old.is_empty() && new.is_empty() {
        if pair.explicit {
            return Err(DiffError::NoSealedSecrets {
                old: pair.old.origin,
                new: pair.new.origin,
            }
            .into());
        }
        return Ok(None);
    }
    Ok(Some(FileDiff {
        old: pair.old.origin,
        new: pair.new.origin,
        objects: pair_objects(old, new, settings),
    }))
}

/// Matches objects by namespace and name, in order; unmatched ones are added or removed.
fn pair_objects(
    old: Vec<SealedSecret>,
    new: Vec<SealedSecret>,
    settings: &Settings,
) -> Vec<ObjectDiff> {
    let mut old: Vec<Option<SealedSecret>> = old.into_iter().map(Some).collect();
    let mut out = Vec::new();
    for new_object in new {
        let key = object_name(&new_object);
        let matched = old
            .iter_mut()
            .find(|o| o.as_ref().is_some_and(|o| object_name(o) == key))
            .and_then(Option::take);
        out.push(diff_objects(matched.as_ref(), Some(&new_object), settings));
    }
    for removed in old.into_iter().flatten() {
        out.push(diff_objects(Some(&removed), None, settings));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Removed,
    Changed,
    Unchanged,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// What is known about a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueState {
    /// Not compared: no keys and no length change (or nothing to compare).
    Unknown,
    /// Opened on both sides and equal, or the ciphertext itself is unchanged.
    Unchanged,
    /// Opened on both sides and different, or the plaintext length changed.
    Changed,
    /// Keys were given but could not open the item (on the side(s) needed).
    Unopenable,
    /// An added or removed item: there is nothing to compare it with.
    NotApplicable,
}

impl ValueState {
    fn as_str(self) -> &'static str {
        match self {
            ValueState::Unknown => "unknown",
            ValueState::Unchanged => "unchanged",
            ValueState::Changed => "changed",
            ValueState::Unopenable => "unopenable",
            ValueState::NotApplicable => "n/a",
        }
    }
}

struct ItemDiff {
    name: String,
    change: Change,
    old: Option<ItemInfo>,
    new: Option<ItemInfo>,
    value: ValueState,
    /// Only with `--show-values`.
    old_value: Option<SecretBytes>,
    new_value: Option<SecretBytes>,
    /// Fingerprint of the key that opened the item (the new side, else the old), with keys.
    opened_with: Option<String>,
    /// Whether that key is the one the object's key hint names.
    hinted: bool,
}

struct FieldChange {
    path: String,
    old: Option<Value>,
    new: Option<Value>,
}

struct ObjectDiff {
    name: String,
    change: Change,
    scope: (Option<Scope>, Option<Scope>),
    hint: (Option<String>, Option<String>),
    metadata: Vec<FieldChange>,
    items: Vec<ItemDiff>,
}

fn scope_of(sealed: &SealedSecret) -> Scope {
    Scope::from_annotations(sealed.metadata.annotations.as_ref())
}

fn hint_of(sealed: &SealedSecret) -> Option<String> {
    sealed
        .metadata
        .annotation(KEY_HINT_ANNOTATION)
        .map(str::to_owned)
}

fn diff_objects(
    old: Option<&SealedSecret>,
    new: Option<&SealedSecret>,
    settings: &Settings,
) -> ObjectDiff {
    let name = old.or(new).map(object_name).unwrap_or_default();
    let empty = BTreeMap::new();
    let old_items = old.map_or(&empty, |o| &o.spec.encrypted_data);
    let new_items = new.map_or(&empty, |n| &n.spec.encrypted_data);
    let mut names: Vec<&String> = old_items.keys().chain(new_items.keys()).collect();
    names.sort_unstable();
    names.dedup();
    let items: Vec<ItemDiff> = names
        .into_iter()
        .map(|item| {
            diff_item(
                item,
                old.zip(old_items.get(item)),
                new.zip(new_items.get(item)),
                settings,
            )
        })
        .collect();
    let mut metadata = diff_fields(old, new);
    // The v1 blob is one more sealed value: show it as a field by digest, never its text.
    let v1 = |s: Option<&SealedSecret>| {
        s.and_then(|s| s.spec.data.as_deref())
            .map(|d| Value::String(inspect_item(d).digest))
    };
    if v1(old) != v1(new) {
        metadata.push(FieldChange {
            path: "spec.data (v1, digest)".into(),
            old: v1(old),
            new: v1(new),
        });
    }
    let scope = (old.map(scope_of), new.map(scope_of));
    let hint = (old.and_then(hint_of), new.and_then(hint_of));
    let change = match (old, new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ if scope.0 != scope.1
            || hint.0 != hint.1
            || !metadata.is_empty()
            || items.iter().any(|i| i.change != Change::Unchanged) =>
        {
            Change::Changed
        }
        _ => Change::Unchanged,
    };
    ObjectDiff {
        name,
        change,
        scope,
        hint,
        metadata,
        items,
    }
}

fn diff_item(
    name: &str,
    old: Option<(&SealedSecret, &String)>,
    new: Option<(&SealedSecret, &String)>,
    settings: &Settings,
) -> ItemDiff {
    let old_info = old.map(|(_, encoded)| inspect_item(encoded));
    let new_info = new.map(|(_, encoded)| inspect_item(encoded));
    let change = match (old, new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        (Some((_, a)), Some((_, b))) if a == b => Change::Unchanged,
        _ => Change::Changed,
    };
    let lengths_differ = matches!(
        (&old_info, &new_info),
        (Some(a), Some(b)) if a.plaintext_len.is_some() && b.plaintext_len.is_some() && a.plaintext_len != b.plaintext_len
    );
    let mut value = match change {
        Change::Unchanged => ValueState::Unchanged,
        Change::Changed if lengths_differ => ValueState::Changed,
        Change::Changed => ValueState::Unknown,
        Change::Added | Change::Removed => ValueState::NotApplicable,
    };
    let (mut old_value, mut new_value, mut opened_with, mut hinted) = (None, None, None, true);
    if let Some(ring) = &settings.ring
        && change != Change::Unchanged
    {
        let open = |side: Option<(&SealedSecret, &String)>| {
            side.and_then(|(sealed, encoded)| {
                open_item(sealed, ring, name, encoded).map(|(value, key)| {
                    let hinted = hint_of(sealed).as_deref() == Some(key.as_str());
                    (value, key, hinted)
                })
            })
        };
        let (opened_old, old_key) = split_opened(open(old));
        let (opened_new, new_key) = split_opened(open(new));
        if let Some((key, is_hinted)) = new_key.or(old_key) {
            opened_with = Some(key);
            hinted = is_hinted;
        }
        let old_failed = old.is_some() && opened_old.is_none();
        let new_failed = new.is_some() && opened_new.is_none();
        value = match (&opened_old, &opened_new) {
            (Some(a), Some(b)) if a.ct_eq(b) => ValueState::Unchanged,
            (Some(_), Some(_)) => ValueState::Changed,
            _ if old_failed || new_failed => {
                if value == ValueState::Changed {
                    ValueState::Changed
                } else {
                    ValueState::Unopenable
                }
            }
            _ => value,
        };
        if settings.show_values {
            old_value = opened_old;
            new_value = opened_new;
        }
    }
    ItemDiff {
        name: name.to_owned(),
        change,
        old: old_info,
        new: new_info,
        value,
        old_value,
        new_value,
        opened_with,
        hinted,
    }
}

type Opened = Option<(SecretBytes, String, bool)>;

/// Splits an opened item into its value and (key, whether hinted).
fn split_opened(opened: Opened) -> (Option<SecretBytes>, Option<(String, bool)>) {
    match opened {
        Some((value, key, hinted)) => (Some(value), Some((key, hinted))),
        None => (None, None),
    }
}

/// Server-set metadata fields and the annotations reported on their own lines.
const IGNORED_FIELDS: &[&str] = &[
    "metadata.uid",
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.creationTimestamp",
    "metadata.managedFields",
    "metadata.selfLink",
];

/// Flattened `metadata` and `spec` (without the sealed values) of both sides, compared.
fn diff_fields(old: Option<&SealedSecret>, new: Option<&SealedSecret>) -> Vec<FieldChange> {
    let (Some(old), Some(new)) = (old, new) else {
        return Vec::new();
    };
    let flat = |sealed: &SealedSecret| {
        let mut copy = sealed.clone();
        copy.spec.encrypted_data.clear();
        copy.spec.data = None;
        copy.status = None;
        if let Some(annotations) = &mut copy.metadata.annotations {
            for key in [
                KEY_HINT_ANNOTATION,
                ANNOTATION_CLUSTER_WIDE,
                ANNOTATION_NAMESPACE_WIDE,
            ] {
                annotations.remove(key);
            }
        }
        let mut out = BTreeMap::new();
        if let Ok(value) = serde_json::to_value(&copy) {
            for field in ["metadata", "spec"] {
                if let Some(v) = value.get(field) {
                    flatten(field, v, &mut out);
                }
            }
        }
        for ignored in IGNORED_FIELDS {
            out.retain(|path: &String, _| !path.starts_with(ignored));
        }
        out
    };
    let (a, b) = (flat(old), flat(new));
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| FieldChange {
            path: p.clone(),
            old: a.get(p).cloned(),
            new: b.get(p).cloned(),
        })
        .collect()
}

fn flatten(path: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                let plain = key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                let child = if plain {
                    format!("{path}.{key}")
                } else {
                    format!("{path}[{key:?}]")
                };
                flatten(&child, v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{index}]"), v, out);
            }
        }
        Value::Null => {}
        other => {
            out.insert(path.to_owned(), other.clone());
        }
    }
}

/// A metadata value for the text report; long ones (a JSON annotation of sealed items) by
/// length and digest, so that a line stays a line.
fn short_value(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 100 {
        return text;
    }
    let digest = sealant_core::inspect::inspect_item_bytes(text.as_bytes()).digest;
    format!("<{} characters, {digest}>", text.chars().count())
}

/// A value for `--show-values`: quoted and escaped text, or base64 for binary values.
fn shown(value: &SecretBytes) -> String {
    match std::str::from_utf8(value.expose_secret()) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!(
            "base64:{}",
            *zeroize::Zeroizing::new(sealant_core::base64::encode(value.expose_secret()))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_paths() {
        let mut out = BTreeMap::new();
        flatten(
            "metadata",
            &json!({"labels": {"app": "a"}, "annotations": {"x.io/y": "z"}, "finalizers": ["f"]}),
            &mut out,
        );
        let paths: Vec<_> = out.keys().cloned().collect();
        assert_eq!(
            paths,
            [
                "metadata.annotations[\"x.io/y\"]",
                "metadata.finalizers[0]",
                "metadata.labels.app"
            ]
        );
    }

    #[test]
    fn values_are_shown_escaped_or_as_base64() {
        assert_eq!(shown(&SecretBytes::from_slice(b"a\nb")), "\"a\\nb\"");
        assert_eq!(shown(&SecretBytes::from_slice(&[0xff])), "base64:/w==");
    }
}
