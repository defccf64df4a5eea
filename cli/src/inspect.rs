//! `sealant inspect`: what a SealedSecret holds, read without keys, for people (`-o text`),
//! programs (`-o json`) and `git diff` (`--textconv`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sealant_core::inspect::{Analysis, HintMatch, ItemFormat, ItemInfo, KeyHint, Problem};
use sealant_core::inspect::{analyze, check_certificates};
use sealant_core::selector::ANNOTATION_NAMESPACE_SELECTOR;
use sealant_core::{Certificate, Format, Scope, SealedSecret, Selector};
use serde_json::{Value, json};

use crate::args::{InspectArgs, ReportFormat};
use crate::error::Result;
use crate::manifest::{LocatedSealed, documents, is_sealed_secret_kind, sealed_secrets};
use crate::seal::SCOPE_NAMESPACE_SELECTOR;

/// `sealant inspect`.
///
/// # Errors
/// Unreadable input or certificates, or no SealedSecret at all.
pub fn run(args: &InspectArgs) -> Result<()> {
    if args.textconv {
        return textconv(&args.files);
    }
    let certs = crate::certsrc::load_files(&args.cert)?;
    let cert_names: Vec<String> = args.cert.iter().map(|p| p.display().to_string()).collect();
    let now = time::OffsetDateTime::now_utc();
    let mut reports = Vec::new();
    for input in crate::io::read_inputs(&args.files)? {
        for located in sealed_secrets(&input.origin, &input.text)? {
            reports.push(Report::new(
                &input.origin,
                located,
                &certs,
                &cert_names,
                now,
            ));
        }
    }
    if reports.is_empty() {
        return Err(crate::inputs::InputError::NothingToInspect.into());
    }
    let format = args.output.unwrap_or(ReportFormat::Text);
    let text = if format == ReportFormat::Text {
        reports
            .iter()
            .map(Report::text)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        let objects: Vec<Value> = reports.iter().map(Report::json).collect();
        let report = json!({
            "schemaVersion": 1,
            "objects": objects,
        });
        crate::io::render_report(&report, format)?.unwrap_or_default()
    };
    crate::io::write_stdout(text.as_bytes())
}

/// One SealedSecret with what was found about it.
pub(crate) struct Report<'a> {
    origin: String,
    document: usize,
    line: usize,
    sealed: SealedSecret,
    analysis: Analysis,
    hint_match: HintMatch,
    cert_problems: Vec<Problem>,
    certs: &'a [Certificate],
    cert_names: &'a [String],
    now: time::OffsetDateTime,
}

impl<'a> Report<'a> {
    pub(crate) fn new(
        origin: &str,
        located: LocatedSealed,
        certs: &'a [Certificate],
        cert_names: &'a [String],
        now: time::OffsetDateTime,
    ) -> Self {
        let analysis = analyze(&located.sealed);
        let (hint_match, cert_problems) = check_certificates(&analysis, certs, now);
        Report {
            origin: origin.to_owned(),
            document: located.document,
            line: located.line,
            sealed: located.sealed,
            analysis,
            hint_match,
            cert_problems,
            certs,
            cert_names,
            now,
        }
    }

    fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.analysis.problems.iter().chain(&self.cert_problems)
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}:{}: SealedSecret {}",
            self.origin,
            self.line,
            object_name(&self.sealed)
        );
        let _ = writeln!(
            out,
            "  scope:     {}",
            scope_text(self.analysis.scope, &self.sealed)
        );
        let _ = writeln!(out, "  key hint:  {}", self.hint_text());
        let _ = writeln!(out, "  template:  {}", template_text(&self.sealed));
        let items = &self.analysis.items;
        let _ = writeln!(out, "  items:     {}", items.len());
        let width = items.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        for (name, info) in items {
            let _ = writeln!(out, "    {name:<width$}  {}", item_text(info));
        }
        if let Some(v1) = &self.analysis.v1_data {
            let _ = writeln!(out, "  v1 data:   {}", item_text(v1));
        }
        for problem in self.problems() {
            let _ = writeln!(
                out,
                "  {}[{}]: {problem}",
                problem.severity(),
                problem.rule()
            );
        }
        out
    }

    fn hint_text(&self) -> String {
        match &self.analysis.key_hint {
            KeyHint::Absent => "none (sealed by kubeseal, or edited by hand)".into(),
            KeyHint::Malformed => "malformed (not a SHA256 fingerprint)".into(),
            KeyHint::Valid(fp) => match self.hint_match {
                HintMatch::NoCertificates | HintMatch::NoHint => fp.to_string(),
                HintMatch::Unknown => format!("{fp} (none of the given certificates)"),
                HintMatch::Matches(index) => {
                    let cert = &self.certs[index];
                    let name = self.cert_names.get(index).map_or("?", String::as_str);
                    let expiry = if self.now > cert.not_after() {
                        format!("EXPIRED on {}", cert.not_after().date())
                    } else {
                        format!("valid until {}", cert.not_after().date())
                    };
                    format!(
                        "{fp} (certificate {name}, RSA-{}, {expiry})",
                        cert.public_key().bits()
                    )
                }
            },
        }
    }

    fn json(&self) -> Value {
        let (hint_status, certificate) = match (&self.analysis.key_hint, self.hint_match) {
            (KeyHint::Absent, _) => ("absent", None),
            (KeyHint::Malformed, _) => ("malformed", None),
            (KeyHint::Valid(_), HintMatch::Matches(index)) => {
                let cert = &self.certs[index];
                (
                    "matches",
                    Some(json!({
                        "file": self.cert_names.get(index),
                        "keyBits": cert.public_key().bits(),
                        "notAfter": cert.not_after().date().to_string(),
                        "expired": self.now > cert.not_after(),
                    })),
                )
            }
            (KeyHint::Valid(_), HintMatch::Unknown) => ("unknown", None),
            (KeyHint::Valid(_), _) => ("unchecked", None),
        };
        let template = &self.sealed.spec.template;
        let meta = template.metadata.as_ref();
        json!({
            "file": self.origin,
            "document": self.document,
            "line": self.line,
            "namespace": self.sealed.metadata.namespace,
            "name": self.sealed.metadata.name,
            "scope": match self.sealed.metadata.annotation(ANNOTATION_NAMESPACE_SELECTOR) {
                Some(_) => SCOPE_NAMESPACE_SELECTOR,
                None => self.analysis.scope.as_str(),
            },
            "templateScope": self.analysis.template_scope.map(Scope::as_str),
            "keyHint": {
                "fingerprint": self.analysis.key_hint.fingerprint().map(ToString::to_string),
                "status": hint_status,
                "certificate": certificate,
            },
            "template": {
                "type": template.type_,
                "immutable": template.immutable,
                "labels": meta.and_then(|m| m.labels.as_ref()).map(|l| l.keys().collect::<Vec<_>>()),
                "annotations": meta.and_then(|m| m.annotations.as_ref()).map(|a| a.keys().collect::<Vec<_>>()),
                "data": template.data.as_ref().map(|d| d.keys().collect::<Vec<_>>()),
            },
            "items": self.analysis.items.iter().map(|(name, info)| item_json(name, info)).collect::<Vec<_>>(),
            "v1Data": self.analysis.v1_data.as_ref().map(|info| item_json("", info)),
            "problems": self.problems().map(problem_json).collect::<Vec<_>>(),
        })
    }
}

/// `namespace/name`, or the name alone.
pub(crate) fn object_name(sealed: &SealedSecret) -> String {
    match sealed
        .metadata
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
    {
        Some(ns) => format!("{ns}/{}", sealed.metadata.name_or_empty()),
        None => sealed.metadata.name_or_empty().to_owned(),
    }
}

fn scope_text(scope: Scope, sealed: &SealedSecret) -> String {
    // The namespace-selector scope (docs/multi-tenancy.md) wins over upstream's annotations.
    match Selector::from_annotations(sealed.metadata.annotations.as_ref()) {
        Ok(Some(selector)) => {
            return format!(
                "namespace-selector (any namespace whose labels match {:?}, any name; sealant only)",
                selector.canonical()
            );
        }
        Err(err) => return format!("namespace-selector, unusable: {err}"),
        Ok(None) => {}
    }
    let namespace = sealed
        .metadata
        .namespace
        .as_deref()
        .filter(|ns| !ns.is_empty())
        .map_or_else(
            || "the namespace it was sealed for".to_owned(),
            |ns| format!("namespace {ns:?}"),
        );
    match scope {
        Scope::Strict => format!(
            "strict (bound to {namespace} and name {:?})",
            sealed.metadata.name_or_empty()
        ),
        Scope::NamespaceWide => format!("namespace-wide (bound to {namespace}, any name)"),
        Scope::ClusterWide => "cluster-wide (any namespace, any name)".into(),
    }
}

fn template_text(sealed: &SealedSecret) -> String {
    let template = &sealed.spec.template;
    let mut parts = vec![format!(
        "type {}",
        template.type_.as_deref().unwrap_or("Opaque (default)")
    )];
    if template.immutable == Some(true) {
        parts.push("immutable".into());
    }
    let count = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if let Some(meta) = &template.metadata {
        if let Some(labels) = meta.labels.as_ref().filter(|l| !l.is_empty()) {
            parts.push(count(labels.len(), "label"));
        }
        if let Some(annotations) = meta.annotations.as_ref().filter(|a| !a.is_empty()) {
            parts.push(count(annotations.len(), "annotation"));
        }
    }
    if let Some(data) = template.data.as_ref().filter(|d| !d.is_empty()) {
        parts.push(format!(
            "templated keys: {}",
            data.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    parts.join(", ")
}

/// `RSA-4096  28 bytes  sha256:…`, or the problem.
pub(crate) fn item_text(info: &ItemInfo) -> String {
    match &info.format {
        Ok(format) => format!(
            "{format}  {:>11}  {}",
            bytes_text(info.plaintext_len),
            info.digest
        ),
        Err(problem) => format!("UNREADABLE: {problem}  {}", info.digest),
    }
}

/// `28 bytes`, `1 byte`, `? bytes`.
pub(crate) fn bytes_text(len: Option<usize>) -> String {
    match len {
        Some(1) => "1 byte".into(),
        Some(n) => format!("{n} bytes"),
        None => "? bytes".into(),
    }
}

/// The JSON shape of an item (shared with `diff -o json`).
pub(crate) fn item_json(name: &str, info: &ItemInfo) -> Value {
    let (format, key_bits, recipients) = match &info.format {
        Ok(ItemFormat::RsaHybrid { key_bits }) => ("rsa-hybrid", Some(*key_bits), None),
        Ok(ItemFormat::Age { recipients }) => ("age", None, Some(recipients.clone())),
        Ok(_) => ("other", None, None),
        Err(_) => ("unreadable", None, None),
    };
    let mut value = json!({
        "format": format,
        "keyBits": key_bits,
        "recipients": recipients,
        "sealedBytes": info.sealed_len,
        "plaintextBytes": info.plaintext_len,
        "digest": info.digest,
        "problem": info.format.as_ref().err().map(ToString::to_string),
    });
    if !name.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        object.insert("name".into(), name.into());
    }
    value
}

pub(crate) fn problem_json(problem: &Problem) -> Value {
    json!({
        "severity": problem.severity().as_str(),
        "rule": problem.rule(),
        "item": problem.item(),
        "message": problem.to_string(),
    })
}

/// `--textconv`: every SealedSecret document becomes sorted YAML with its items summarized;
/// every other document, and anything unreadable, is passed through as it is, so that
/// `git diff` always has something to show. Never fails on content.
fn textconv(files: &[PathBuf]) -> Result<()> {
    let mut out = Vec::new();
    let files: Vec<PathBuf> = if files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        files.to_vec()
    };
    for path in &files {
        let bytes = if path == Path::new("-") {
            crate::io::read_stdin_bytes()?
        } else {
            crate::io::read_file_bytes(path)?
        };
        match std::str::from_utf8(&bytes) {
            Ok(text) => out.extend_from_slice(textconv_text(text).as_bytes()),
            Err(_) => out.extend_from_slice(&bytes),
        }
    }
    crate::io::write_stdout(&out)
}

/// The textconv rendering of one text.
pub(crate) fn textconv_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for doc in documents(text) {
        let Ok(Some(value)) = &doc.value else {
            continue;
        };
        if !is_sealed_secret_kind(value) {
            continue;
        }
        let Some(summary) = summarized(value) else {
            continue;
        };
        // Documents are slices of `text`: copy what precedes this one, then its summary.
        let start = doc.text.as_ptr() as usize - text.as_ptr() as usize;
        out.push_str(&text[copied..start]);
        out.push_str(&summary);
        copied = start + doc.text.len();
    }
    out.push_str(&text[copied..]);
    out
}

/// A SealedSecret document as sorted YAML, each sealed value replaced by its summary.
fn summarized(value: &Value) -> Option<String> {
    let mut value = value.clone();
    let spec = value.get_mut("spec")?.as_object_mut()?;
    if let Some(items) = spec.get_mut("encryptedData").and_then(Value::as_object_mut) {
        for item in items.values_mut() {
            if let Some(encoded) = item.as_str() {
                *item = Value::String(summary_line(encoded));
            }
        }
    }
    if let Some(v1) = spec.get_mut("data")
        && let Some(encoded) = v1.as_str()
    {
        *v1 = Value::String(summary_line(encoded));
    }
    sealant_core::object::to_text(&value, Format::Yaml).ok()
}

fn summary_line(encoded: &str) -> String {
    let info = sealant_core::inspect::inspect_item(encoded);
    match &info.format {
        Ok(format) => format!(
            "{format}, {}, {}",
            bytes_text(info.plaintext_len),
            info.digest
        ),
        Err(problem) => format!("unreadable ({problem}), {}", info.digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textconv_keeps_other_documents_and_summarizes_items() {
        let item = sealant_core::base64::encode(&[&[2u8, 0][..], &[7; 512 + 16 + 3]].concat());
        let text = format!(
            "# comment\n---\nkind: ConfigMap\nmetadata: {{name: c}}\n---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: s}}\nspec:\n  encryptedData: {{k: {item}}}\n---\nnot: [closed\n"
        );
        let out = textconv_text(&text);
        assert!(
            out.starts_with("# comment\n---\nkind: ConfigMap\n"),
            "{out}"
        );
        assert!(out.contains("k: RSA-4096, 3 bytes, sha256:"), "{out}");
        assert!(!out.contains(&item[..40]), "{out}");
        assert!(out.ends_with("---\nnot: [closed\n"), "{out}");
        assert_eq!(textconv_text("\u{0}garbage"), "\u{0}garbage");
    }
}
