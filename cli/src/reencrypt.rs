//! `sealant reencrypt`: re-encrypting SealedSecrets to the newest key, offline
//! (`--private-key OLD --cert NEW`) or through the controller (`/v1/rotate`).
//!
//! With PATHs, files are rewritten in place and only where needed: each SealedSecret document
//! that is stale gets its `encryptedData` values and `sealant.dev/key-hint` annotation replaced
//! inside the file's text, so comments, key order, quoting and the other documents stay byte
//! for byte. The edit is checked by parsing the document again; when it cannot be done that
//! way (a v1 `spec.data` blob, a value folded over several lines, a template that claimed
//! another scope) only that document is rendered anew.
//!
//! SealedSecrets inside a `kind: List` document (`kubectl get sealedsecrets -o yaml` prints
//! one) are found and edited the same way, within the lines of their list item; the whole
//! List is checked by parsing it again, and rendered anew (with a warning: its comments and
//! formatting go) only when the edit cannot be done in place, as for JSON Lists.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sealant_core::object::{read_documents, to_text};
use sealant_core::rotate::{Rotated, reencrypt};
use sealant_core::sealing::{KEY_HINT_ANNOTATION, key_hint};
use sealant_core::{
    Certificate, Fingerprint, Format, KeyRing, SealedSecret, UnsealOptions, unseal,
};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::args::{CertSourceArgs, ReencryptArgs};
use crate::cluster::KubeOverrides;
use crate::commands::{compact_json, emit_to_output, load_keys, parse_sealed, rotated_from_answer};
use crate::error::{CliError, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE, Result};
use crate::io::read_inputs;
use crate::manifest::{documents, is_sealed_secret_kind};

/// `sealant reencrypt`; returns the exit code.
///
/// # Errors
/// Bad flags, unreadable keys, certificate or paths, an unreachable controller.
pub fn run(args: &ReencryptArgs) -> Result<u8> {
    if args.paths.is_empty() && (args.check || args.dry_run) {
        return Err(CliError::usage("--check and --dry-run need PATHs")
            .hint("name the files or directories: sealant reencrypt --check PATH…"));
    }
    let offline = offline_keys(args)?;
    if args.paths.is_empty() {
        stream(args, offline.as_ref())?;
        return Ok(EXIT_SUCCESS);
    }
    let files = collect_files(&args.paths)?;
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    let newest = match &offline {
        Some(keys) => keys.cert.public_key().fingerprint().clone(),
        None => controller_cert(args)?.public_key().fingerprint().clone(),
    };
    let progress = Progress::new();
    let scanned = parallel_map(&files, |path| scan(path), None);
    let mut jobs: Vec<(usize, usize)> = Vec::new();
    for (file_index, file) in scanned.iter().enumerate() {
        if let Ok(file) = file {
            jobs.extend((0..file.found.len()).map(|doc| (file_index, doc)));
        }
    }
    let outcomes: Vec<Outcome> = match &offline {
        Some(keys) => parallel_map(
            &jobs,
            |&(file, doc)| match &scanned[file] {
                Ok(file) => offline_outcome(&file.found[doc], keys, &newest, mode),
                Err(_) => Outcome::Failed("unreadable".into()),
            },
            Some(&progress),
        ),
        None => online_outcomes(args, &scanned, &jobs, &newest, mode)?,
    };
    progress.finish();

    let mut per_file: Vec<Vec<(usize, Outcome)>> = scanned.iter().map(|_| Vec::new()).collect();
    for ((file, doc), outcome) in jobs.iter().zip(outcomes) {
        if let Some(list) = per_file.get_mut(*file) {
            list.push((*doc, outcome));
        }
    }
    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    let mut report = String::new();
    let mut errors = String::new();
    for ((path, file), outcomes) in files.iter().zip(&scanned).zip(per_file) {
        let file = match file {
            Ok(file) => file,
            Err(err) => {
                summary.failed += 1;
                report_error(&mut errors, err);
                continue;
            }
        };
        let mut replacements = Vec::new();
        for (doc, outcome) in outcomes {
            let Some(found) = file.found.get(doc) else {
                continue;
            };
            let place = format!("{}:{} {}", path.display(), found.line, found.describe());
            summary.found += 1;
            match outcome {
                Outcome::Current => summary.current += 1,
                Outcome::Stale(why) => {
                    summary.stale += 1;
                    report.push_str(&format!("stale: {place} ({why})\n"));
                }
                Outcome::Rotated(rotated) => {
                    summary.stale += 1;
                    if rotated.template_aligned {
                        errors.push_str(&format!(
                            "warning: {place}: spec.template.metadata named another name, namespace or scope than the SealedSecret; using the SealedSecret's\n"
                        ));
                    }
                    let verb = if mode == Mode::DryRun {
                        "would re-encrypt"
                    } else {
                        "re-encrypted"
                    };
                    report.push_str(&format!("{verb}: {place}\n"));
                    replacements.push((doc, rotated));
                }
                Outcome::Failed(message) => {
                    summary.failed += 1;
                    errors.push_str(&format!("error: {place}: {message}\n"));
                }
            }
        }
        if mode == Mode::Write && !replacements.is_empty() {
            let mut warnings = Vec::new();
            let written = rewrite(
                &file.text,
                file.json,
                &file.found,
                &replacements,
                &mut warnings,
            )
            .and_then(|text| crate::io::write_file_keeping_mode(path, text.as_bytes()));
            for warning in warnings {
                errors.push_str(&format!("warning: {}:{warning}\n", path.display()));
            }
            if let Err(err) = written {
                summary.stale -= replacements.len();
                summary.failed += replacements.len();
                report_error(&mut errors, &err);
            }
        }
    }
    if summary.failed > 0 && !errors.contains("\nhint: ") {
        errors.push_str(if offline.is_some() {
            "hint: check that --private-key holds the key each one was sealed to, and that its name, namespace and scope were not changed after sealing\n"
        } else {
            "hint: the rest were re-encrypted and written; if the controller did not answer, run the same command again once it does, or re-encrypt offline with --private-key and --cert\n"
        });
    }
    crate::io::write_stdout(report.as_bytes())?;
    let _ = std::io::stderr().lock().write_all(errors.as_bytes());
    summary.print(mode);
    if summary.found == 0 && summary.failed == 0 {
        return Err(CliError::new("no SealedSecret found in the given paths")
            .hint("reencrypt reads SealedSecret documents in *.yaml, *.yml and *.json files"));
    }
    Ok(if summary.failed > 0 {
        EXIT_USAGE
    } else if mode == Mode::Check && summary.stale > 0 {
        EXIT_FAILURE
    } else {
        EXIT_SUCCESS
    })
}

fn report_error(report: &mut String, err: &CliError) {
    report.push_str(&format!("error: {}\n", err.message()));
    if let Some(hint) = err.hint_text() {
        report.push_str(&format!("hint: {hint}\n"));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    DryRun,
    Write,
}

/// The old keys and the newest certificate of offline re-encryption.
struct OfflineKeys {
    ring: KeyRing,
    cert: Certificate,
}

fn offline_keys(args: &ReencryptArgs) -> Result<Option<OfflineKeys>> {
    let Some(cert) = &args.cert else {
        return Ok(None);
    };
    if args.private_key.is_empty() {
        return Err(CliError::usage(
            "--cert needs --private-key: offline re-encryption opens the items with the old keys",
        )
        .hint("give the old keys with --private-key FILE, or drop --cert to ask the controller"));
    }
    let ring = load_keys(&args.private_key)?;
    if ring.is_empty() {
        return Err(CliError::usage("--private-key gave no RSA private key")
            .hint("give PEM RSA private keys or key Secrets holding tls.key"));
    }
    let loaded = crate::certsrc::load(
        &CertSourceArgs {
            cert: Some(cert.clone()),
            no_cert_cache: true,
        },
        &args.cluster,
        &KubeOverrides::default(),
    )?;
    crate::certsrc::check_usable(&loaded)?;
    Ok(Some(OfflineKeys {
        ring,
        cert: loaded.cert,
    }))
}

fn controller_cert(args: &ReencryptArgs) -> Result<Certificate> {
    let loaded = crate::certsrc::load(
        &CertSourceArgs {
            cert: None,
            no_cert_cache: true,
        },
        &args.cluster,
        &KubeOverrides::default(),
    )?;
    Ok(loaded.cert)
}

/// `-f FILE` (or stdin): the re-encrypted objects go to stdout or `-w`, as before.
fn stream(args: &ReencryptArgs, offline: Option<&OfflineKeys>) -> Result<()> {
    let all = parse_sealed(read_inputs(&args.files)?)?;
    let rotated = match offline {
        None => crate::commands::reencrypt_sealed(&all, &args.cluster, &KubeOverrides::default())?,
        Some(keys) => all
            .iter()
            .map(|sealed| {
                reencrypt(sealed, &keys.ring, keys.cert.public_key(), false)
                    .map(|rotated| rotated.sealed)
                    .map_err(|e| rotate_error(sealed, &e))
            })
            .collect::<Result<_>>()?,
    };
    emit_to_output(&rotated, &args.output)
}

fn rotate_error(sealed: &SealedSecret, err: &sealant_core::rotate::RotateError) -> CliError {
    CliError::new(format!(
        "cannot re-encrypt {}: {err}",
        sealed.metadata.name_or_empty()
    ))
    .hint("the --private-key keys do not open it, or it was renamed or moved after sealing")
}

/// Files to read: files as given, directories walked.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| crate::error::io_error("cannot read", path, e))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| crate::error::io_error("cannot read directory", dir, e))?
        .filter_map(std::result::Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if name != "target" && name != "node_modules" {
                walk(&path, files)?;
            }
        } else if kind.is_file()
            && [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// A SealedSecret of a file: a document, or an item of a `List` document.
struct Found {
    /// Byte range of the document in the file's text (the whole List for a List item).
    start: usize,
    end: usize,
    /// Offset of its first content line inside the document (after `---` and comments).
    content: usize,
    line: usize,
    /// The SealedSecret's own value (the item's, for a List item).
    value: Value,
    sealed: SealedSecret,
    /// For a List item: its index, and the whole List (shared by its items) to check an edit.
    list: Option<(usize, Arc<Value>)>,
}

impl Found {
    fn describe(&self) -> String {
        let meta = &self.sealed.metadata;
        let name = match meta.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            Some(ns) => format!("SealedSecret {ns}/{}", meta.name_or_empty()),
            None => format!("SealedSecret {}", meta.name_or_empty()),
        };
        match &self.list {
            Some((index, _)) => format!("{name} (List item {})", index + 1),
            None => name,
        }
    }
}

/// The items of a `kind: List` document, if it is one.
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    (value.get("kind").and_then(Value::as_str) == Some("List"))
        .then(|| value.get("items").and_then(Value::as_array))
        .flatten()
}

struct Scanned {
    /// Wiped on drop: a file may hold a plain Secret next to its SealedSecrets.
    text: Zeroizing<String>,
    json: bool,
    found: Vec<Found>,
}

fn scan(path: &Path) -> Result<Scanned> {
    let text = crate::io::read_file_text(path)?.text;
    let json = Format::detect(text.trim_start_matches('\u{feff}')) == Format::Json;
    let mut found = Vec::new();
    for doc in documents(&text) {
        let value = match doc.value {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(err) => {
                return Err(CliError::new(format!(
                    "{}:{}: {}",
                    path.display(),
                    err.line,
                    err.message
                ))
                .hint("check the file is valid YAML or JSON"));
            }
        };
        let start = doc.text.as_ptr().addr() - text.as_ptr().addr();
        let content = doc
            .text
            .split_inclusive('\n')
            .take(doc.line.saturating_sub(doc.first_line))
            .map(str::len)
            .sum();
        let read = |value: Value, line: usize| {
            sealant_core::object::sealed_secret_from_value(value, doc.index)
                .map_err(|e| CliError::new(format!("{}:{line}: {e}", path.display())))
        };
        if let Some(items) = list_items(&value) {
            if !items.iter().any(is_sealed_secret_kind) {
                continue;
            }
            // Item lines, for reports; the List's own line when the layout is not block YAML.
            let spans = if json {
                None
            } else {
                list_item_spans(doc.text, content, items.len())
            };
            let list = Arc::new(value.clone());
            for (index, item) in items.iter().enumerate() {
                if !is_sealed_secret_kind(item) {
                    continue;
                }
                let line = spans
                    .as_ref()
                    .and_then(|s| s.get(index))
                    .map_or(doc.line, |span| {
                        doc.first_line + doc.text[..span.start].matches('\n').count()
                    });
                found.push(Found {
                    start,
                    end: start + doc.text.len(),
                    content,
                    line,
                    value: item.clone(),
                    sealed: read(item.clone(), line)?,
                    list: Some((index, list.clone())),
                });
            }
            continue;
        }
        if !is_sealed_secret_kind(&value) {
            continue;
        }
        let sealed = read(value.clone(), doc.line)?;
        found.push(Found {
            start,
            end: start + doc.text.len(),
            content,
            line: doc.line,
            value,
            sealed,
            list: None,
        });
    }
    Ok(Scanned { text, json, found })
}

enum Outcome {
    Current,
    Stale(String),
    Rotated(Box<Rotated>),
    Failed(String),
}

/// Whether a SealedSecret is sealed to the newest key, from its hint alone. `None`: no hint.
fn hinted_state(sealed: &SealedSecret, newest: &Fingerprint) -> Option<Outcome> {
    let hint = key_hint(sealed)?;
    Some(if &hint == newest {
        Outcome::Current
    } else {
        Outcome::Stale(format!("sealed to {hint}"))
    })
}

fn offline_outcome(found: &Found, keys: &OfflineKeys, newest: &Fingerprint, mode: Mode) -> Outcome {
    let state = hinted_state(&found.sealed, newest).unwrap_or_else(|| {
        // No hint: the key that opens the items tells.
        let options = UnsealOptions {
            accept_v1_data: false,
            render_templates: false,
        };
        match unseal(&found.sealed, &keys.ring, options) {
            Ok(unsealed)
                if !unsealed.opened_with.is_empty()
                    && unsealed.opened_with.values().all(|fp| fp == newest) =>
            {
                Outcome::Current
            }
            Ok(_) => Outcome::Stale("no key hint; opened with an older key".into()),
            Err(err) => Outcome::Failed(err.to_string()),
        }
    });
    match state {
        Outcome::Stale(_) if mode != Mode::Check => {
            match reencrypt(&found.sealed, &keys.ring, keys.cert.public_key(), false) {
                Ok(rotated) => Outcome::Rotated(Box::new(rotated)),
                Err(err) => Outcome::Failed(err.to_string()),
            }
        }
        other => other,
    }
}

/// Online: the controller re-encrypts, one request at a time (its API is rate-limited).
fn online_outcomes(
    args: &ReencryptArgs,
    scanned: &[Result<Scanned>],
    jobs: &[(usize, usize)],
    newest: &Fingerprint,
    mode: Mode,
) -> Result<Vec<Outcome>> {
    let found = |&(file, doc): &(usize, usize)| {
        scanned
            .get(file)
            .and_then(|f| f.as_ref().ok())
            .and_then(|f| f.found.get(doc))
    };
    let states: Vec<Outcome> = jobs
        .iter()
        .map(|job| match found(job) {
            Some(found) => hinted_state(&found.sealed, newest)
                .unwrap_or_else(|| Outcome::Stale("no key hint".into())),
            None => Outcome::Failed("unreadable".into()),
        })
        .collect();
    if mode == Mode::Check || !states.iter().any(|s| matches!(s, Outcome::Stale(_))) {
        return Ok(states);
    }
    let progress = Progress::new();
    let total = states.len();
    let outcomes = crate::runtime()?.block_on(async {
        let controller =
            crate::cluster::Controller::connect(&args.cluster, &KubeOverrides::default()).await?;
        let mut out = Vec::with_capacity(total);
        for (job, state) in jobs.iter().zip(states) {
            let outcome = match (state, found(job)) {
                (Outcome::Stale(_), Some(found)) => {
                    let answer = match compact_json(&found.sealed) {
                        Ok(body) => controller.rotate(body).await,
                        Err(err) => Err(err),
                    };
                    match answer.and_then(|body| rotated_from_answer(&body, 1)) {
                        Ok(sealed) => Outcome::Rotated(Box::new(Rotated {
                            sealed,
                            opened: 0,
                            template_aligned: false,
                        })),
                        Err(err) => Outcome::Failed(err.message().to_owned()),
                    }
                }
                (state, _) => state,
            };
            out.push(outcome);
            progress.tick(out.len(), total);
        }
        Ok::<_, CliError>(out)
    })?;
    progress.finish();
    Ok(outcomes)
}

/// The file's text with each re-encrypted document edited in place (or rendered anew). A List
/// rendered anew is reported in `warnings`: its comments and formatting are not kept.
fn rewrite(
    text: &str,
    json: bool,
    found: &[Found],
    replacements: &[(usize, Box<Rotated>)],
    warnings: &mut Vec<String>,
) -> Result<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + 256));
    let mut at = 0;
    let mut next = 0;
    while let Some((doc, rotated)) = replacements.get(next) {
        let Some(first) = found.get(*doc) else {
            next += 1;
            continue;
        };
        out.push_str(&text[at..first.start]);
        let original = &text[first.start..first.end];
        if let Some((_, list)) = &first.list {
            // Every re-encrypted item of this List is edited in one go.
            let group: Vec<(&Found, &Rotated)> = replacements[next..]
                .iter()
                .filter_map(|(doc, rotated)| Some((found.get(*doc)?, rotated.as_ref())))
                .take_while(|(f, _)| f.start == first.start)
                .collect();
            next += group.len().max(1);
            let edited = if json || group.iter().any(|(_, r)| r.template_aligned) {
                None
            } else {
                edit_list_in_place(original, first.content, &group)
            };
            match edited {
                Some(edited) => out.push_str(&edited),
                None => {
                    out.push_str(&render_list(original, first, list, &group, json)?);
                    warnings.push(format!(
                        "{}: the List could not be edited in place and was rendered anew: keys sorted, comments and formatting not kept",
                        first.line
                    ));
                }
            }
            at = first.end;
            continue;
        }
        next += 1;
        let edited = if rotated.template_aligned {
            None
        } else {
            edit_in_place(original, first, &rotated.sealed, json)
        };
        match edited {
            Some(edited) => out.push_str(&edited),
            None => out.push_str(&render(original, first, &rotated.sealed, json)?),
        }
        at = first.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The List document rendered anew with its re-encrypted items replaced.
fn render_list(
    doc: &str,
    first: &Found,
    list: &Value,
    group: &[(&Found, &Rotated)],
    json: bool,
) -> Result<String> {
    let mut value = list.clone();
    for (item, rotated) in group {
        let slot = item
            .list
            .as_ref()
            .and_then(|(index, _)| value.get_mut("items")?.get_mut(*index));
        if let Some(slot) = slot {
            *slot = serde_json::to_value(&rotated.sealed)
                .map_err(|e| CliError::new(format!("cannot encode SealedSecret: {e}")))?;
        }
    }
    render(doc, first, &value, json)
}

/// Replaces the changed ciphertexts and the key hint inside the document's text; `None` when
/// that cannot be done safely (checked by parsing the result).
fn edit_in_place(doc: &str, found: &Found, rotated: &SealedSecret, json: bool) -> Option<String> {
    let (text, expected) = edit_text(doc, found.content, 0, found, rotated, json)?;
    let parsed = if json {
        serde_json::from_str::<Value>(&text).ok()?
    } else {
        parse_one(&text)?
    };
    (parsed == expected).then_some(text)
}

fn parse_one(text: &str) -> Option<Value> {
    let mut values = read_documents::<Value>(text).ok()?;
    if values.len() != 1 {
        return None;
    }
    values.pop()
}

/// Edits the re-encrypted items of a block-style YAML List, each within the lines of its list
/// item; `None` when that cannot be done safely (checked by parsing the whole List again).
fn edit_list_in_place(doc: &str, content: usize, group: &[(&Found, &Rotated)]) -> Option<String> {
    let (_, list) = group.first()?.0.list.as_ref()?;
    let items = list_items(list)?;
    let spans = list_item_spans(doc, content, items.len())?;
    let mut expected = Value::clone(list);
    let mut out = String::with_capacity(doc.len() + 256);
    let mut at = 0;
    for (found, rotated) in group {
        let (index, _) = found.list.as_ref()?;
        let span = spans.get(*index)?;
        if span.start < at {
            return None;
        }
        out.push_str(&doc[at..span.start]);
        let (text, item) = edit_text(
            &doc[span.start..span.end],
            0,
            span.indent,
            found,
            &rotated.sealed,
            false,
        )?;
        out.push_str(&text);
        *expected.get_mut("items")?.get_mut(*index)? = item;
        at = span.end;
    }
    out.push_str(&doc[at..]);
    (parse_one(&out)? == expected).then_some(out)
}

/// Where one item of a block-style YAML sequence lies in its document.
#[derive(Debug, PartialEq, Eq)]
struct ItemSpan {
    /// Byte range, from the line of its `-` to the next item's (or the sequence's end).
    start: usize,
    end: usize,
    /// The column of the item's keys (after `- `).
    indent: usize,
}

/// The spans of the `items:` sequence of a block-style YAML List document; `None` for another
/// layout (flow style, items not one per `- ` line) or a count other than `expected`.
fn list_item_spans(doc: &str, content: usize, expected: usize) -> Option<Vec<ItemSpan>> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let is_entry = |trimmed: &str| trimmed == "-" || trimmed.starts_with("- ");
    let mut offset = content;
    let mut lines = doc[content..].split_inclusive('\n').map(|line| {
        let at = offset;
        offset += line.len();
        (at, line)
    });
    // `items:` at the top level, with the sequence below it (not `items: []`).
    lines.find(|(_, line)| {
        indent(line) == 0
            && line.trim_end().strip_prefix("items:").is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#')
            })
    })?;
    let mut sequence_indent = None;
    let mut entries: Vec<(usize, usize)> = Vec::new();
    let mut end = doc.len();
    let mut pending_dash: Option<usize> = None;
    for (at, line) in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let column = indent(line);
        if let Some(entry) = pending_dash.take() {
            // A bare `-` line: the item's keys start on the next line.
            entries.push((entry, column));
            if column <= sequence_indent? {
                return None;
            }
            continue;
        }
        match sequence_indent {
            None if is_entry(trimmed) => sequence_indent = Some(column),
            None => return None,
            Some(sequence) if column == sequence && is_entry(trimmed) => {}
            Some(sequence) if column <= sequence => {
                end = at;
                break;
            }
            Some(_) => continue,
        }
        if trimmed == "-" {
            pending_dash = Some(at);
        } else {
            let after_dash = &trimmed[1..];
            let keys = column + 1 + (after_dash.len() - after_dash.trim_start().len());
            entries.push((at, keys));
        }
    }
    if pending_dash.is_some() || entries.len() != expected {
        return None;
    }
    let mut spans = Vec::with_capacity(entries.len());
    for (i, (start, indent)) in entries.iter().enumerate() {
        let end = entries.get(i + 1).map_or(end, |(next, _)| *next);
        spans.push(ItemSpan {
            start: *start,
            end,
            indent: *indent,
        });
    }
    Some(spans)
}

/// Replaces the changed ciphertexts and the key hint of one SealedSecret inside `text` (a
/// document, or the lines of a List item whose keys are at column `base`); returns the text
/// and the value the SealedSecret must now parse to. `None` when an edit is not unambiguous.
fn edit_text(
    text: &str,
    content: usize,
    base: usize,
    found: &Found,
    rotated: &SealedSecret,
    json: bool,
) -> Option<(String, Value)> {
    let original = &found.sealed;
    if original.spec.data.is_some()
        || rotated.spec.encrypted_data.len() != original.spec.encrypted_data.len()
    {
        return None;
    }
    let mut text = text.to_owned();
    let mut expected = found.value.clone();
    for (item, new) in &rotated.spec.encrypted_data {
        let old = original.spec.encrypted_data.get(item)?;
        if old == new {
            continue;
        }
        if old.len() < 16 || text.matches(old.as_str()).count() != 1 {
            return None;
        }
        text = text.replacen(old.as_str(), new, 1);
        *expected
            .get_mut("spec")?
            .get_mut("encryptedData")?
            .get_mut(item)? = Value::String(new.clone());
    }
    let old_hint = original.metadata.annotation(KEY_HINT_ANNOTATION);
    let new_hint = rotated.metadata.annotation(KEY_HINT_ANNOTATION);
    if old_hint != new_hint {
        let new_hint = new_hint?;
        text = match old_hint {
            Some(old_hint) => replace_hint(&text, old_hint, new_hint)?,
            None if !json => insert_hint(&text, content, base, new_hint)?,
            None => return None,
        };
        let meta = expected.get_mut("metadata")?.as_object_mut()?;
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if annotations.is_null() {
            *annotations = Value::Object(serde_json::Map::new());
        }
        annotations.as_object_mut()?.insert(
            KEY_HINT_ANNOTATION.to_owned(),
            Value::String(new_hint.into()),
        );
    }
    Some((text, expected))
}

/// Replaces the hint's value on the one line that names the annotation.
fn replace_hint(text: &str, old: &str, new: &str) -> Option<String> {
    if text.matches(KEY_HINT_ANNOTATION).count() != 1 {
        return None;
    }
    let key_at = text.find(KEY_HINT_ANNOTATION)?;
    let line_end = text[key_at..].find('\n').map_or(text.len(), |n| key_at + n);
    let line = &text[key_at..line_end];
    if line.matches(old).count() != 1 {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &text[..key_at],
        line.replacen(old, new, 1),
        &text[line_end..]
    ))
}

/// Adds the hint to a block-style YAML SealedSecret's `metadata` (under its `annotations`,
/// created if missing), indented like its neighbours. The SealedSecret's keys are at column
/// `base`: 0 for a document, the item's column for a List item, whose first line starts with
/// the sequence's `- `.
fn insert_hint(text: &str, content: usize, base: usize, hint: &str) -> Option<String> {
    let lines: Vec<&str> = text[content..].split_inclusive('\n').collect();
    // Column and text of a line, the first line's `- ` counting as indentation.
    let view = |i: usize, line: &'_ str| -> (usize, String) {
        let trimmed = line.trim_start();
        let mut column = line.len() - trimmed.len();
        let mut body = trimmed;
        if i == 0 && base > 0 && (trimmed.starts_with("- ") || trimmed.starts_with("-\t")) {
            let after = &trimmed[1..];
            body = after.trim_start();
            column += 1 + after.len() - body.len();
        }
        (column, body.trim_end().to_owned())
    };
    let is_skippable = |body: &str| body.is_empty() || body.starts_with('#');
    let meta = lines.iter().enumerate().position(|(i, l)| {
        let (column, body) = view(i, l);
        column == base && body == "metadata:"
    })?;
    let children: Vec<(usize, usize, String)> = lines[meta + 1..]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (column, body) = view(meta + 1 + i, l);
            (meta + 1 + i, column, body)
        })
        .take_while(|(_, column, body)| is_skippable(body) || *column > base)
        .filter(|(_, _, body)| !is_skippable(body))
        .collect();
    let child_indent = children.first()?.1;
    // A flow-style or commented `annotations:` would get a second key: render anew instead.
    if children.iter().any(|(_, column, body)| {
        body.starts_with("annotations:") && (body != "annotations:" || *column != child_indent)
    }) {
        return None;
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let existing = children
        .iter()
        .find(|(_, column, body)| *column == child_indent && body == "annotations:");
    let (after, insert) = match existing {
        Some((at, _, _)) => {
            let grand = children
                .iter()
                .find(|(i, column, _)| i > at && *column > child_indent)
                .map_or(child_indent + (child_indent - base), |(_, column, _)| {
                    *column
                });
            (
                *at,
                format!(
                    "{}{KEY_HINT_ANNOTATION}: {hint}{newline}",
                    " ".repeat(grand)
                ),
            )
        }
        None => (
            meta,
            format!(
                "{pad}annotations:{newline}{pad}{step}{KEY_HINT_ANNOTATION}: {hint}{newline}",
                pad = " ".repeat(child_indent),
                step = " ".repeat(child_indent - base),
            ),
        ),
    };
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..content]);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        if i == after {
            if !line.ends_with('\n') {
                out.push_str(newline);
            }
            out.push_str(&insert);
        }
    }
    Some(out)
}

/// Renders the document anew, keeping what precedes its content (`---`, comments).
fn render<T: serde::Serialize>(
    doc: &str,
    found: &Found,
    rotated: &T,
    json: bool,
) -> Result<String> {
    let format = if json { Format::Json } else { Format::Yaml };
    let body = to_text(rotated, format)
        .map_err(|e| CliError::new(format!("cannot encode SealedSecret: {e}")))?;
    if json {
        return Ok(body);
    }
    let prefix = &doc[..found.content.min(doc.len())];
    let body = if prefix.lines().any(|l| l.starts_with("---")) || found.start > 0 {
        body.strip_prefix("---\n").unwrap_or(&body).to_owned()
    } else {
        body
    };
    Ok(format!("{prefix}{body}"))
}

#[derive(Default)]
struct Summary {
    files: usize,
    found: usize,
    stale: usize,
    current: usize,
    failed: usize,
}

impl Summary {
    fn print(&self, mode: Mode) {
        let stale = match mode {
            Mode::Check => "stale",
            Mode::DryRun => "would re-encrypt",
            Mode::Write => "re-encrypted",
        };
        let rows = [
            ("files scanned", self.files),
            ("SealedSecrets found", self.found),
            (stale, self.stale),
            ("already current", self.current),
            ("failed", self.failed),
        ];
        let mut text = String::new();
        for (label, count) in rows {
            text.push_str(&format!("{label:<20} {count:>6}\n"));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// A one-line counter on stderr, only when stderr is a terminal.
struct Progress {
    enabled: bool,
    done: AtomicUsize,
}

impl Progress {
    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            done: AtomicUsize::new(0),
        }
    }

    fn tick(&self, done: usize, total: usize) {
        if self.enabled {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            let _ = write!(
                std::io::stderr().lock(),
                "\r[{}{}] {done}/{total} SealedSecrets",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width))
            );
        }
    }

    fn step(&self, total: usize) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.tick(done, total);
    }

    fn finish(&self) {
        if self.enabled {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// Maps `items` on at most `available_parallelism` threads, keeping their order.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    progress: Option<&Progress>,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        break;
                    };
                    let result = f(item);
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .get_mut(index)
                    {
                        *slot = Some(result);
                    }
                    if let Some(progress) = progress {
                        progress.step(items.len());
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "---\n# c\nkind: SealedSecret\nmetadata:\n  name: a\n  namespace: b\n";

    #[test]
    fn hint_goes_under_existing_block_annotations() {
        let text = DOC.replace("  name: a\n", "  annotations:\n      x: y\n  name: a\n");
        let out = insert_hint(&text, 8, 0, "SHA256:abc").unwrap();
        assert!(
            out.contains("  annotations:\n      sealant.dev/key-hint: SHA256:abc\n      x: y\n"),
            "{out}"
        );
    }

    #[test]
    fn hint_creates_annotations_when_missing() {
        let out = insert_hint(DOC, 8, 0, "SHA256:abc").unwrap();
        assert!(
            out.contains(
                "metadata:\n  annotations:\n    sealant.dev/key-hint: SHA256:abc\n  name: a\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn flow_annotations_are_not_edited_in_place() {
        let text = DOC.replace("  name: a\n", "  annotations: {}\n  name: a\n");
        assert_eq!(insert_hint(&text, 8, 0, "SHA256:abc"), None);
    }

    #[test]
    fn hint_value_is_replaced_on_its_line_only() {
        let text = "metadata:\n  annotations:\n    sealant.dev/key-hint: \"SHA256:old\" # k\n";
        assert_eq!(
            replace_hint(text, "SHA256:old", "SHA256:new").unwrap(),
            "metadata:\n  annotations:\n    sealant.dev/key-hint: \"SHA256:new\" # k\n"
        );
        assert_eq!(replace_hint(text, "SHA256:gone", "SHA256:new"), None);
    }

    #[test]
    fn list_items_are_located_one_per_dash_line() {
        let doc = "---\n# c\nkind: List\nitems:\n  # first\n  - a: 1\n    b: [x,\n      y]\n  -\n    c: 2\n  -   d: 3\nmetadata: {}\n";
        let spans = list_item_spans(doc, 8, 3).unwrap();
        let texts: Vec<(&str, usize)> = spans
            .iter()
            .map(|s| (&doc[s.start..s.end], s.indent))
            .collect();
        assert_eq!(
            texts,
            [
                ("  - a: 1\n    b: [x,\n      y]\n", 4),
                ("  -\n    c: 2\n", 4),
                ("  -   d: 3\n", 6),
            ]
        );
        // Sequences at column 0 end at the next top-level key.
        let flush = "kind: List\nitems:\n- a: 1\n- b: 2\nmetadata: {}\n";
        let spans = list_item_spans(flush, 0, 2).unwrap();
        assert_eq!(&flush[spans[1].start..spans[1].end], "- b: 2\n");
        assert_eq!(spans[1].indent, 2);
        // Another count, or flow style: not located, so the List is rendered anew.
        assert_eq!(list_item_spans(flush, 0, 3), None);
        assert_eq!(list_item_spans("kind: List\nitems: [{a: 1}]\n", 0, 1), None);
    }

    #[test]
    fn hint_goes_into_a_list_item_metadata() {
        let item = "  - metadata:\n      name: a\n    kind: SealedSecret\n";
        assert_eq!(
            insert_hint(item, 0, 4, "SHA256:abc").unwrap(),
            "  - metadata:\n      annotations:\n        sealant.dev/key-hint: SHA256:abc\n      name: a\n    kind: SealedSecret\n"
        );
        // A nested `metadata:` (the template's) is not the item's.
        let nested = "  - kind: SealedSecret\n    spec:\n      template:\n        metadata:\n          name: a\n";
        assert_eq!(insert_hint(nested, 0, 4, "SHA256:abc"), None);
    }
}
