//! `sealant diff`: what changed between two versions of SealedSecrets, without keys (items
//! added, removed, re-sealed; scope, key hint and metadata changes), and with recovery keys
//! given locally, whether each value changed. Values are printed only with `--show-values`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sealant_core::inspect::{ItemInfo, inspect_item};
use sealant_core::scope::{ANNOTATION_CLUSTER_WIDE, ANNOTATION_NAMESPACE_WIDE};
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use sealant_core::{Certificate, KeyRing, Scope, SealedSecret, SecretBytes, UnsealOptions, unseal};
use serde_json::{Value, json};

use crate::args::{DiffArgs, ReportFormat};
use crate::error::{CliError, EXIT_USAGE, Result};
use crate::inspect::{bytes_text, item_json, object_name};
use crate::manifest::sealed_secrets;

/// Opens one item of `sealed` with `ring`, offline: the value and the fingerprint of the key
/// that opened it. `None` when no key opens it, for whatever reason: one opaque outcome. It
/// goes through `sealant_core::unseal` on a copy that holds only this item, so every item
/// format and binding rule is core's, and templates are not run.
pub(crate) fn open_item(
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
            Some(crate::commands::load_keys(&args.recovery_private_key)?)
        },
        show_values: args.show_values,
        certs: crate::lint::load_certs(&args.cert)?,
        cert_names: args.cert.iter().map(|p| p.display().to_string()).collect(),
    };
    let pairs = match &args.git {
        Some(rev) => git_pairs(rev, &args.files)?,
        None => {
            let [old, new] = args.files.as_slice() else {
                return Err(CliError::usage(format!(
                    "diff compares two files, got {}",
                    args.files.len()
                ))
                .hint(
                    "sealant diff OLD NEW, or sealant diff --git REV [FILE…] to compare with git",
                ));
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
    let text = match args.output {
        ReportFormat::Text => files.iter().map(|f| f.text(&settings)).collect(),
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&json!({
                "schemaVersion": 1,
                "differences": differences,
                "files": files.iter().map(|f| f.json(&settings)).collect::<Vec<_>>(),
            }))
            .map_err(|e| CliError::new(format!("cannot encode the report: {e}")))?;
            text.push('\n');
            text
        }
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
        .ok_or_else(|| CliError::new("no input"))?;
    Ok(Side {
        origin: input.origin,
        text: Some(input.text),
    })
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git").args(args).output().map_err(|e| {
        CliError::new(format!("cannot run git: {e}"))
            .hint("--git needs git on PATH; without it, compare two files: sealant diff OLD NEW")
    })
}

/// The working-tree files and their versions at `rev`.
fn git_pairs(rev: &str, files: &[PathBuf]) -> Result<Vec<FilePair>> {
    let verify = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    if !verify.status.success() {
        return Err(
            CliError::usage(format!("{rev:?} is not a git revision here")).hint(
                "run inside the repository, with a commit, branch or tag (HEAD, main, HEAD~1)",
            ),
        );
    }
    let explicit = !files.is_empty();
    let paths: Vec<PathBuf> = if explicit {
        files.to_vec()
    } else {
        let listed = git(&["diff", "--name-only", "-z", "--relative", rev, "--"])?;
        if !listed.status.success() {
            return Err(CliError::new(format!(
                "git diff --name-only {rev} failed: {}",
                String::from_utf8_lossy(&listed.stderr).trim()
            )));
        }
        listed
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| {
                let name = p.to_string_lossy().to_ascii_lowercase();
                name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")
            })
            .collect()
    };
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::new(format!("cannot read the current directory: {e}")))?;
    let mut pairs = Vec::new();
    for path in paths {
        let relative = match path.strip_prefix(&cwd) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) if path.is_absolute() => {
                return Err(CliError::usage(format!(
                    "{} is outside the current directory",
                    path.display()
                ))
                .hint("run sealant diff --git from a directory that contains the file"));
            }
            Err(_) => path.clone(),
        };
        let spec = format!("{rev}:./{}", relative.display());
        let shown = git(&["show", &spec])?;
        let old_text = if shown.status.success() {
            Some(zeroize::Zeroizing::new(
                String::from_utf8(shown.stdout)
                    .map_err(|_| CliError::new(format!("{spec} is not UTF-8 text")))?,
            ))
        } else {
            None
        };
        let new_text = if path.exists() {
            Some(crate::io::read_file_text(&path)?.text)
        } else {
            None
        };
        if old_text.is_none() && new_text.is_none() {
            return Err(CliError::usage(format!(
                "{} exists neither in the working tree nor at {rev}",
                path.display()
            )));
        }
        let absent = |origin: String, text: &Option<_>| {
            if text.is_some() {
                origin
            } else {
                format!("{origin} (absent)")
            }
        };
        pairs.push(FilePair {
            old: Side {
                origin: absent(spec, &old_text),
                text: old_text,
            },
            new: Side {
                origin: absent(path.display().to_string(), &new_text),
                text: new_text,
            },
            explicit,
        });
    }
    Ok(pairs)
}

struct FileDiff {
    old: String,
    new: String,
    objects: Vec<ObjectDiff>,
}

impl FileDiff {
    fn has_differences(&self) -> bool {
        self.objects.iter().any(|o| o.change != Change::Unchanged)
    }

    fn text(&self, settings: &Settings) -> String {
        if !self.has_differences() {
            return String::new();
        }
        let mut out = format!("--- {}\n+++ {}\n", self.old, self.new);
        for object in self
            .objects
            .iter()
            .filter(|o| o.change != Change::Unchanged)
        {
            object.text(&mut out, settings);
        }
        out
    }

    fn json(&self, settings: &Settings) -> Value {
        json!({
            "old": self.old,
            "new": self.new,
            "objects": self.objects.iter().map(|o| o.json(settings)).collect::<Vec<_>>(),
        })
    }
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
            return Err(CliError::new(format!(
                "no SealedSecret in {} or {}",
                pair.old.origin, pair.new.origin
            ))
            .hint("diff compares SealedSecret manifests (kind SealedSecret)")
            .with_exit_code(EXIT_USAGE));
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

impl ObjectDiff {
    fn text(&self, out: &mut String, settings: &Settings) {
        let summary = match self.change {
            Change::Added | Change::Removed => {
                let count = self.items.len();
                format!(
                    "{} ({count} item{})",
                    self.change.as_str(),
                    if count == 1 { "" } else { "s" }
                )
            }
            change => change.as_str().to_owned(),
        };
        let _ = writeln!(out, "SealedSecret {}: {summary}", self.name);
        match self.scope {
            (Some(a), Some(b)) if a != b => {
                let _ = writeln!(
                    out,
                    "  scope: {a} -> {b} (items keep the scope they were sealed with)"
                );
            }
            (None, Some(s)) | (Some(s), None) => {
                let _ = writeln!(out, "  scope: {s}");
            }
            _ => {}
        }
        let hint_text = |hint: &Option<String>| match hint {
            None => "none".to_owned(),
            Some(h) => format!("{h}{}", self.cert_note(h, settings)),
        };
        let hint_line = match self.change {
            Change::Added => hint_text(&self.hint.1),
            Change::Removed => hint_text(&self.hint.0),
            _ if self.hint.0 == self.hint.1 => format!("unchanged, {}", hint_text(&self.hint.1)),
            _ => format!("{} -> {}", hint_text(&self.hint.0), hint_text(&self.hint.1)),
        };
        let _ = writeln!(out, "  key hint: {hint_line}");
        for field in &self.metadata {
            let show = |v: &Option<Value>| v.as_ref().map_or("(none)".to_owned(), short_value);
            let _ = writeln!(
                out,
                "  {}: {} -> {}",
                field.path,
                show(&field.old),
                show(&field.new)
            );
        }
        let width = self
            .items
            .iter()
            .map(|i| i.name.chars().count())
            .max()
            .unwrap_or(0);
        for item in &self.items {
            let _ = writeln!(out, "  {}", item.text(width, settings));
        }
    }

    /// ` (certificate FILE)` or ` (none of the given certificates)` when --cert was given.
    fn cert_note(&self, hint: &str, settings: &Settings) -> String {
        if settings.certs.is_empty() {
            return String::new();
        }
        match settings
            .certs
            .iter()
            .position(|c| c.public_key().fingerprint().as_str() == hint)
        {
            Some(index) => format!(" (certificate {})", settings.cert_names[index]),
            None => " (none of the given certificates)".into(),
        }
    }

    fn json(&self, settings: &Settings) -> Value {
        let cert = |hint: &Option<String>| {
            hint.as_ref().and_then(|h| {
                settings
                    .certs
                    .iter()
                    .position(|c| c.public_key().fingerprint().as_str() == h)
                    .map(|i| settings.cert_names[i].clone())
            })
        };
        json!({
            "name": self.name,
            "change": self.change.as_str(),
            "scope": {"old": self.scope.0.map(Scope::as_str), "new": self.scope.1.map(Scope::as_str)},
            "keyHint": {
                "old": self.hint.0,
                "new": self.hint.1,
                "oldCertificate": cert(&self.hint.0),
                "newCertificate": cert(&self.hint.1),
            },
            "metadata": self.metadata.iter().map(|f| json!({"path": f.path, "old": f.old, "new": f.new})).collect::<Vec<_>>(),
            "items": self.items.iter().map(|i| i.json(settings)).collect::<Vec<_>>(),
        })
    }
}

impl ItemDiff {
    fn text(&self, width: usize, settings: &Settings) -> String {
        let (mark, word) = match (self.change, self.value) {
            (Change::Added, _) => ('+', "added"),
            (Change::Removed, _) => ('-', "removed"),
            (Change::Unchanged, _) => (' ', "unchanged"),
            (Change::Changed, _) => ('~', "re-sealed"),
        };
        let describe = |info: &ItemInfo| match &info.format {
            Ok(format) => format!("{format}, {}", bytes_text(info.plaintext_len)),
            Err(problem) => format!("unreadable ({problem})"),
        };
        let mut line = format!("{mark} {:<width$}  {word:<9}  ", self.name);
        match (&self.old, &self.new) {
            (Some(a), Some(b)) if self.change == Change::Changed => {
                let (fa, fb) = (describe(a), describe(b));
                if fa == fb {
                    line.push_str(&fa);
                } else {
                    let _ = write!(line, "{fa} -> {fb}");
                }
            }
            (_, Some(info)) | (Some(info), None) => line.push_str(&describe(info)),
            (None, None) => {}
        }
        let note = match (self.change, self.value) {
            (Change::Unchanged, _) => "",
            (_, ValueState::Unopenable) => "; the given keys cannot open it",
            (Change::Changed, ValueState::Changed) => "; value changed",
            (Change::Changed, ValueState::Unchanged) => "; value unchanged",
            (Change::Changed, ValueState::Unknown) if settings.ring.is_none() => {
                "; value not compared (no keys)"
            }
            _ => "",
        };
        line.push_str(note);
        if let Some(key) = self.opened_with.as_ref().filter(|_| !self.hinted) {
            let _ = write!(line, "; opened by {key}, not the hinted key");
        }
        if settings.show_values {
            match (&self.old_value, &self.new_value) {
                (Some(a), Some(b)) if self.value == ValueState::Changed => {
                    let _ = write!(line, ": {} -> {}", shown(a), shown(b));
                }
                (None, Some(v)) | (Some(v), None) if self.change != Change::Unchanged => {
                    let _ = write!(line, ": {}", shown(v));
                }
                _ => {}
            }
        }
        line
    }

    fn json(&self, settings: &Settings) -> Value {
        let mut value = json!({
            "name": self.name,
            "change": match self.change {
                Change::Changed => "resealed",
                other => other.as_str(),
            },
            "old": self.old.as_ref().map(|i| item_json("", i)),
            "new": self.new.as_ref().map(|i| item_json("", i)),
            "value": (self.value != ValueState::NotApplicable).then(|| self.value.as_str()),
            "openedWith": self.opened_with,
        });
        if settings.show_values
            && let Some(object) = value.as_object_mut()
        {
            object.insert("oldValue".into(), self.old_value.as_ref().map(shown).into());
            object.insert("newValue".into(), self.new_value.as_ref().map(shown).into());
        }
        value
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
