//! `sealant lint`: plain Secrets and Secret generators that would put values in git, and
//! SealedSecrets with problems visible without keys. Findings name files, lines, objects and
//! item names; never a value.

mod walk;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sealant_core::Certificate;
use sealant_core::inspect::{Problem, Severity, analyze, check_certificates};
use sealant_core::object::SEALED_SECRET_API_VERSION;
use serde::Serialize;
use serde_json::Value;

use crate::args::{LintArgs, ReportFormat};
use crate::error::Result;
use crate::manifest::{Document, documents, key_line, type_of};
use walk::{collect, display, is_kustomization_name};

pub use crate::error::LintError;

/// Annotation that makes lint skip a document (`sealant.dev/lint: ignore`), for fixtures and
/// examples that are plain Secrets on purpose.
pub const LINT_ANNOTATION: &str = "sealant.dev/lint";

/// One finding. Serialized as is in `-o json` (see docs/workflow.md).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The file, as given or found while walking.
    pub path: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based document index in the file, where it applies.
    pub document: Option<usize>,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// Stable rule identifier.
    pub rule: &'static str,
    /// `Kind namespace/name` of the object, where it applies.
    pub object: Option<String>,
    /// The item (data key), where it applies.
    pub item: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    schema_version: u32,
    summary: Summary,
    findings: &'a [Finding],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    files: usize,
    errors: usize,
    warnings: usize,
}

/// `sealant lint`: returns the exit code (0 clean, 1 findings).
///
/// # Errors
/// Unreadable paths or certificates (the caller maps these to exit 2).
pub fn run(args: &LintArgs) -> Result<u8> {
    let certs = crate::certsrc::load_files(&args.cert)?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut findings = Vec::new();
    let mut files = Vec::new();
    for path in &paths {
        collect(path, &args.exclude, &mut files, &mut findings)?;
    }
    let now = time::OffsetDateTime::now_utc();
    for file in &files {
        let first = findings.len();
        lint_file(file, &certs, now, &mut findings);
        // In file order, whatever order the checks ran in.
        findings[first..].sort_by_key(|f| f.line);
    }
    let errors = findings.iter().filter(|f| f.severity == "error").count();
    let warnings = findings.len() - errors;
    let report = Report {
        schema_version: 1,
        summary: Summary {
            files: files.len(),
            errors,
            warnings,
        },
        findings: &findings,
    };
    let output = match crate::io::render_report(&report, args.output)? {
        Some(text) => text,
        None => render_text(&findings),
    };
    crate::io::write_stdout(output.as_bytes())?;
    if args.output == ReportFormat::Text {
        eprintln!("{}", summary_line(files.len(), errors, warnings));
    }
    Ok(u8::from(errors > 0 || (args.deny_warnings && warnings > 0)))
}

fn summary_line(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors + warnings == 0 {
        format!("sealant lint: no problems in {}", plural(files, "file"))
    } else {
        format!(
            "sealant lint: {}, {} in {}",
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(files, "file")
        )
    }
}

fn render_text(findings: &[Finding]) -> String {
    let mut out = String::new();
    let mut hinted = BTreeSet::new();
    for f in findings {
        let _ = write!(out, "{}", f.path);
        if let Some(line) = f.line {
            let _ = write!(out, ":{line}");
        }
        let _ = write!(out, ": {}[{}]: ", f.severity, f.rule);
        if let Some(object) = &f.object {
            let _ = write!(out, "{object}: ");
        }
        let _ = writeln!(out, "{}", f.message);
        // Each rule's hint once: a tree with fifty plain Secrets needs the advice only once.
        if hinted.insert(f.rule) {
            let _ = writeln!(out, "  hint: {}", f.hint);
        }
    }
    out
}

fn unreadable(path: &Path, why: &str) -> Finding {
    Finding {
        path: display(path),
        line: None,
        document: None,
        severity: "error",
        rule: "unreadable",
        object: None,
        item: None,
        message: format!("cannot read: {why}"),
        hint: "check the permissions, or --exclude the path",
    }
}

/// Checks one file. Reading problems become findings, so that one bad file does not stop the
/// check of the others.
fn lint_file(
    path: &Path,
    certs: &[Certificate],
    now: time::OffsetDateTime,
    findings: &mut Vec<Finding>,
) {
    let read = if path == Path::new("-") {
        crate::io::read_stdin_bytes()
    } else {
        crate::io::read_file_bytes(path)
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(err) => {
            findings.push(unreadable(path, &err.to_string()));
            return;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        findings.push(Finding {
            message: "not UTF-8 text".into(),
            ..unparsable(path, None, None)
        });
        return;
    };
    lint_text(
        &display(path),
        text,
        is_kustomization_name(path),
        certs,
        now,
        findings,
    );
}

/// Checks one file's text.
fn lint_text(
    file: &str,
    text: &str,
    kustomization: bool,
    certs: &[Certificate],
    now: time::OffsetDateTime,
    findings: &mut Vec<Finding>,
) {
    // Nothing to find in a file that names no kind (a kustomization need not name one).
    if !kustomization && !text.contains("kind") {
        return;
    }
    for doc in documents(text) {
        let value = match &doc.value {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(err) => {
                // Only documents that look like Kubernetes objects are worth a warning: a
                // tsconfig.json with comments is none of lint's business.
                if doc.text.contains("kind") {
                    findings.push(Finding {
                        message: format!("cannot parse: {}", err.message),
                        ..unparsable(Path::new(file), Some(err.line), Some(doc.index))
                    });
                }
                continue;
            }
        };
        let mut ctx = Context {
            file,
            doc: &doc,
            findings,
        };
        check_value(&mut ctx, value, kustomization, certs, now, 0);
    }
}

fn unparsable(path: &Path, line: Option<usize>, document: Option<usize>) -> Finding {
    Finding {
        path: display(path),
        line,
        document,
        severity: "warning",
        rule: "unparsable",
        object: None,
        item: None,
        message: String::new(),
        hint: "fix the syntax, or --exclude the file if it is a template (Helm charts)",
    }
}

struct Context<'a, 'b> {
    file: &'a str,
    doc: &'a Document<'b>,
    findings: &'a mut Vec<Finding>,
}

impl Context<'_, '_> {
    fn push(
        &mut self,
        severity: Severity,
        rule: &'static str,
        object: Option<String>,
        item: Option<String>,
        line: Option<usize>,
        message: String,
    ) {
        self.findings.push(Finding {
            path: self.file.to_owned(),
            line: Some(line.unwrap_or(self.doc.line)),
            document: Some(self.doc.index),
            severity: severity.as_str(),
            rule,
            object,
            item,
            message,
            hint: hint(rule),
        });
    }
}

fn describe(kind: &str, value: &Value) -> String {
    let meta = value.get("metadata");
    let field = |name: &str| {
        meta.and_then(|m| m.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        _ => format!("{kind} (unnamed)"),
    }
}

fn is_ignored(value: &Value) -> bool {
    value
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LINT_ANNOTATION))
        .and_then(Value::as_str)
        == Some("ignore")
}

fn check_value(
    ctx: &mut Context<'_, '_>,
    value: &Value,
    kustomization: bool,
    certs: &[Certificate],
    now: time::OffsetDateTime,
    depth: usize,
) {
    if is_ignored(value) {
        return;
    }
    let (api_version, kind) = type_of(value);
    match kind {
        Some("Secret") if api_version.is_none_or(|v| v == "v1") => check_secret(ctx, value),
        Some("SealedSecret") => check_sealed(ctx, value, api_version, certs, now),
        Some("SealedSecretGenerator") => check_generator(ctx, value),
        Some(k) if k.ends_with("List") && depth < 4 => {
            for item in value
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                check_value(ctx, item, false, certs, now, depth + 1);
            }
        }
        Some("Kustomization") | None if kustomization || value.get("secretGenerator").is_some() => {
            check_kustomization(ctx, value);
        }
        _ => {}
    }
}

/// Keys of a map-valued field.
fn keys_of<'v>(value: &'v Value, field: &str) -> Vec<&'v str> {
    value
        .get(field)
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn check_secret(ctx: &mut Context<'_, '_>, value: &Value) {
    let mut items: Vec<&str> = keys_of(value, "data");
    items.extend(keys_of(value, "stringData"));
    items.sort_unstable();
    items.dedup();
    if items.is_empty() {
        // A Secret without values (a service-account token to be filled in) leaks nothing.
        return;
    }
    let line = key_line(ctx.doc, &["kind"]);
    let message = format!(
        "plain Secret with {} value{} in clear text ({})",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        items.join(", ")
    );
    ctx.push(
        Severity::Error,
        "plain-secret",
        Some(describe("Secret", value)),
        None,
        line,
        message,
    );
}

/// Keys of `literals` entries (`KEY=VALUE`), never the values.
fn literal_keys(entry: &Value) -> Vec<String> {
    entry
        .get("literals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|literal| match literal.as_str() {
            Some(text) => text.split_once('=').map_or("?", |(k, _)| k).to_owned(),
            None => "?".to_owned(),
        })
        .collect()
}

fn string_list(entry: &Value, field: &str) -> Vec<String> {
    match entry.get(field) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn check_kustomization(ctx: &mut Context<'_, '_>, value: &Value) {
    let generators = value
        .get("secretGenerator")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let section_line = key_line(ctx.doc, &["secretGenerator"]);
    for entry in generators {
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        let line = entry_line(ctx.doc, section_line, name).or(section_line);
        let object = Some(format!("secretGenerator {name}"));
        let literals = literal_keys(entry);
        if !literals.is_empty() {
            ctx.push(
                Severity::Error,
                "secret-generator",
                object.clone(),
                None,
                line,
                format!(
                    "{} literal value{} in clear text ({})",
                    literals.len(),
                    if literals.len() == 1 { "" } else { "s" },
                    literals.join(", ")
                ),
            );
        }
        let mut sources = string_list(entry, "files");
        sources.extend(string_list(entry, "envs"));
        sources.extend(string_list(entry, "env"));
        if !sources.is_empty() {
            ctx.push(
                Severity::Error,
                "secret-generator",
                object,
                None,
                line,
                format!(
                    "builds a plain Secret from files that hold the values ({})",
                    sources.join(", ")
                ),
            );
        }
    }
}

/// Line of the `name: NAME` of a list entry after the section's line.
fn entry_line(doc: &Document<'_>, after: Option<usize>, name: &str) -> Option<usize> {
    let after = after?;
    doc.text
        .lines()
        .enumerate()
        .skip(after.saturating_sub(doc.first_line) + 1)
        .find(|(_, line)| {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("name:")
                .is_some_and(|rest| rest.trim().trim_matches(['"', '\'']) == name)
        })
        .map(|(number, _)| doc.first_line + number)
}

fn check_generator(ctx: &mut Context<'_, '_>, value: &Value) {
    let literals = literal_keys(value);
    if literals.is_empty() {
        return;
    }
    let line = key_line(ctx.doc, &["literals"]);
    ctx.push(
        Severity::Error,
        "generator-literals",
        Some(describe("SealedSecretGenerator", value)),
        None,
        line,
        format!(
            "{} literal value{} in clear text ({})",
            literals.len(),
            if literals.len() == 1 { "" } else { "s" },
            literals.join(", ")
        ),
    );
}

fn check_sealed(
    ctx: &mut Context<'_, '_>,
    value: &Value,
    api_version: Option<&str>,
    certs: &[Certificate],
    now: time::OffsetDateTime,
) {
    let object = Some(describe("SealedSecret", value));
    if api_version != Some(SEALED_SECRET_API_VERSION) {
        ctx.push(
            Severity::Error,
            "wrong-api-version",
            object,
            None,
            key_line(ctx.doc, &["apiVersion"]),
            format!(
                "apiVersion is {}, not {SEALED_SECRET_API_VERSION}",
                api_version.map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"))
            ),
        );
        return;
    }
    let encrypted = value.get("spec").and_then(|s| s.get("encryptedData"));
    if let Some(map) = encrypted.and_then(Value::as_object) {
        for (item, v) in map {
            if !v.is_string() {
                ctx.push(
                    Severity::Error,
                    "non-string-item",
                    object.clone(),
                    Some(item.clone()),
                    key_line(ctx.doc, &["spec", "encryptedData", item]),
                    format!("item {item:?} is not a string; the controller ignores it"),
                );
            }
        }
    } else if encrypted.is_some_and(|v| !v.is_null()) {
        ctx.push(
            Severity::Error,
            "non-string-item",
            object.clone(),
            None,
            key_line(ctx.doc, &["spec", "encryptedData"]),
            "spec.encryptedData is not a map; the controller ignores it".into(),
        );
    }
    let sealed = match sealant_core::object::sealed_secret_from_value(value.clone(), ctx.doc.index)
    {
        Ok(sealed) => sealed,
        Err(err) => {
            ctx.push(
                Severity::Error,
                "malformed-sealed-secret",
                object,
                None,
                None,
                err.to_string(),
            );
            return;
        }
    };
    let analysis = analyze(&sealed);
    let (_, cert_problems) = check_certificates(&analysis, certs, now);
    for problem in analysis.problems.iter().chain(&cert_problems) {
        let item = problem.item().map(str::to_owned);
        let line = match (&item, problem) {
            (Some(item), _) => key_line(ctx.doc, &["spec", "encryptedData", item]),
            (None, Problem::ScopeMismatch { .. } | Problem::IdentityMismatch { .. }) => {
                key_line(ctx.doc, &["spec", "template"])
            }
            (
                None,
                Problem::MalformedKeyHint
                | Problem::KeyHintUnknown { .. }
                | Problem::KeyHintExpired { .. },
            ) => key_line(ctx.doc, &["metadata", "annotations"]),
            _ => None,
        };
        ctx.push(
            problem.severity(),
            problem.rule(),
            object.clone(),
            item,
            line,
            problem.to_string(),
        );
    }
}

fn hint(rule: &str) -> &'static str {
    match rule {
        "plain-secret" => {
            "seal it (sealant seal -f FILE -w sealed.yaml), commit only the SealedSecret, and change the values: git history keeps them"
        }
        "secret-generator" => {
            "generate a SealedSecret instead (SealedSecretGenerator, see docs/workflow.md), or commit one made with `sealant seal NAME --from-file …`"
        }
        "generator-literals" => {
            "read the values from files kept out of git (files:, envs:) instead of literals"
        }
        "wrong-api-version" => "SealedSecrets are apiVersion bitnami.com/v1alpha1",
        "non-string-item" | "malformed-sealed-secret" => {
            "every spec.encryptedData value is a base64 string made by `sealant seal`"
        }
        "invalid-base64"
        | "empty-item"
        | "truncated-item"
        | "unknown-item-format"
        | "malformed-age-item" => {
            "the item was damaged (hand edit, merge conflict, line wrapping): seal it again with `sealant seal NAME --from-… --merge-into FILE`"
        }
        "invalid-item-name" => {
            "rename the item: item names are not bound to the ciphertext, but Kubernetes refuses this one as a Secret key"
        }
        "scope-mismatch" => {
            "restore the annotation that was edited, or seal again with the scope you want (sealant seal --scope …)"
        }
        "identity-mismatch" => {
            "seal again for the new name or namespace; to move SealedSecrets freely, seal with --scope namespace-wide or cluster-wide"
        }
        "malformed-key-hint" => {
            "remove the annotation or seal again: the hint only tells the controller which key to try first"
        }
        "deprecated-v1-data" => "seal again with `sealant seal` to get spec.encryptedData items",
        "no-items" => "add items with `sealant seal NAME --from-literal … --merge-into FILE`",
        "key-hint-unknown" => {
            "pass every certificate the controller still holds with --cert; if it is sealed for another cluster, seal it again"
        }
        "key-hint-expired" => {
            "re-encrypt it to the controller's current key: sealant reencrypt -f FILE -w FILE"
        }
        "key-size-mismatch" => {
            "the item was sealed to another key than the hint names: check which certificate was used, or seal it again"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests;
