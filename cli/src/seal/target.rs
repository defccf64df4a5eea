//! The `--merge-into` file: which of its documents the input is merged into, and the file's
//! text with only that document changed, in place where possible (`crate::yamledit`), so
//! comments, key order, formatting and the other documents stay byte for byte.

use std::path::Path;

use sealant_core::object::{read_documents, read_sealed_secrets, sealed_secret_from_value};
use sealant_core::{Format, SealedSecret};
use serde_json::Value;

use super::SealError;
use crate::error::Result;
use crate::io::IoError;
use crate::manifest::{documents, is_sealed_secret_kind};
use crate::yamledit;

/// A SealedSecret document of the file.
pub(super) struct TargetDoc {
    /// 1-based position in the stream, empty documents included (as `lint` counts).
    pub(super) index: usize,
    /// Byte range of the document in the file's text, and its first content line's offset
    /// inside it (after `---` and comments).
    start: usize,
    end: usize,
    content: usize,
    /// As read, and typed.
    value: Value,
    pub(super) sealed: SealedSecret,
}

impl TargetDoc {
    /// `SealedSecret namespace/name`.
    pub(super) fn describe(&self) -> String {
        format!("SealedSecret {}", identity(&self.sealed))
    }
}

/// The `--merge-into` file, read.
pub(super) struct TargetFile<'a> {
    text: &'a str,
    format: Format,
    /// Every non-empty document, for a conversion to another format (`-o`).
    values: Vec<Value>,
    /// The SealedSecret documents, with their position in `values`.
    docs: Vec<(usize, TargetDoc)>,
}

impl<'a> TargetFile<'a> {
    /// Reads the file's documents. Other kinds of documents may sit beside the SealedSecrets
    /// and are kept as they are; a file without any SealedSecret is refused.
    ///
    /// # Errors
    /// A document that does not parse, a SealedSecret that is malformed, no SealedSecret.
    pub(super) fn read(path: &Path, text: &'a str) -> Result<Self> {
        let malformed = |source| SealError::MergeTargetMalformed {
            path: path.to_path_buf(),
            source,
        };
        read_documents::<Value>(text).map_err(malformed)?;
        let mut values = Vec::new();
        let mut docs = Vec::new();
        for doc in documents(text) {
            let Ok(Some(value)) = doc.value else {
                continue;
            };
            if is_sealed_secret_kind(&value) {
                let start = doc.text.as_ptr().addr() - text.as_ptr().addr();
                let content = doc
                    .text
                    .split_inclusive('\n')
                    .take(doc.line.saturating_sub(doc.first_line))
                    .map(str::len)
                    .sum();
                let sealed =
                    sealed_secret_from_value(value.clone(), doc.index).map_err(malformed)?;
                let target = TargetDoc {
                    index: doc.index,
                    start,
                    end: start + doc.text.len(),
                    content,
                    value: value.clone(),
                    sealed,
                };
                docs.push((values.len(), target));
            }
            values.push(value);
        }
        if docs.is_empty() {
            // Names the first document that is not a SealedSecret, as a single-document
            // target always did.
            read_sealed_secrets(text).map_err(malformed)?;
            return Err(SealError::MergeTargetCount {
                path: path.to_path_buf(),
                count: 0,
            }
            .into());
        }
        Ok(Self {
            text,
            format: Format::detect(text.trim_start_matches('\u{feff}')),
            values,
            docs,
        })
    }

    /// The document to merge into: the only SealedSecret, or the one named `name` in
    /// `namespace` (any namespace when the input gives none; a cluster-wide document without
    /// a namespace matches any).
    ///
    /// # Errors
    /// No document or several match.
    pub(super) fn select(
        &self,
        path: &Path,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<&TargetDoc> {
        if let [(_, only)] = self.docs.as_slice() {
            return Ok(only);
        }
        let matches: Vec<&TargetDoc> = self
            .docs
            .iter()
            .map(|(_, doc)| doc)
            .filter(|doc| {
                let meta = &doc.sealed.metadata;
                let doc_namespace = meta.namespace.as_deref().filter(|ns| !ns.is_empty());
                meta.name.as_deref() == name
                    && (namespace.is_none()
                        || doc_namespace.is_none()
                        || doc_namespace == namespace)
            })
            .collect();
        let wanted = || match (namespace, name) {
            (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
            (None, Some(name)) => name.to_owned(),
            (_, None) => "(no name)".to_owned(),
        };
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(SealError::MergeTargetNoMatch {
                path: path.to_path_buf(),
                count: self.docs.len(),
                wanted: wanted(),
            }
            .into()),
            several => Err(SealError::MergeTargetAmbiguous {
                path: path.to_path_buf(),
                count: several.len(),
                wanted: wanted(),
            }
            .into()),
        }
    }

    /// The file's format.
    pub(super) fn format(&self) -> Format {
        self.format
    }

    /// The file's text with `doc` changed into `merged` (the typed copy of `doc.sealed`,
    /// merged), and whether that document had to be rendered anew (its comments and
    /// formatting lost). With another `format` than the file's, the whole file is converted.
    ///
    /// # Errors
    /// Only if a value cannot be serialized.
    pub(super) fn rewrite(
        &self,
        doc: &TargetDoc,
        merged: &SealedSecret,
        format: Format,
    ) -> Result<(String, bool)> {
        let encode = |source| IoError::Encode {
            what: "SealedSecret",
            source,
        };
        let before = serde_json::to_value(&doc.sealed).map_err(encode)?;
        let after = serde_json::to_value(merged).map_err(encode)?;
        let expected = yamledit::apply_changes(&doc.value, &before, &after);
        let json = self.format == Format::Json;
        if format != self.format {
            let mut values = self.values.clone();
            if let Some((at, _)) = self.docs.iter().find(|(_, d)| d.start == doc.start) {
                values[*at] = expected;
            }
            let text = sealant_core::object::to_text_stream(&values, format)?;
            return Ok((text, false));
        }
        let original = &self.text[doc.start..doc.end];
        let (edited, anew) =
            match yamledit::edit_document(original, doc.content, &doc.value, &expected, json) {
                Some(edited) => (edited, false),
                None => {
                    let rendered =
                        yamledit::render(original, doc.content, doc.start == 0, &expected, json)?;
                    // A JSON document's text stops at its closing brace.
                    let rendered = if json {
                        rendered.trim_end_matches('\n').to_owned()
                    } else {
                        rendered
                    };
                    (rendered, true)
                }
            };
        let mut out = String::with_capacity(self.text.len() + edited.len());
        out.push_str(&self.text[..doc.start]);
        out.push_str(&edited);
        out.push_str(&self.text[doc.end..]);
        if json && anew && doc.end == self.text.len() {
            out.push('\n');
        }
        // JSON has no comments to lose: rendering it anew is no news.
        Ok((out, anew && !json))
    }
}

/// `namespace/name`, or `name` without a namespace.
pub(super) fn identity(sealed: &SealedSecret) -> String {
    let meta = &sealed.metadata;
    match meta.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        Some(namespace) => format!("{namespace}/{}", meta.name_or_empty()),
        None => meta.name_or_empty().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = "AgAAAAAAAAAAAAAAAAAAAAAA";

    fn sealed(namespace: Option<&str>, name: &str, comment: &str) -> String {
        let namespace = namespace.map_or(String::new(), |ns| format!("  namespace: {ns}\n"));
        format!(
            "---\n# {comment}\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n{namespace}spec:\n  encryptedData:\n    b: {ITEM}{name} # kept\n"
        )
    }

    fn bundle() -> String {
        [
            "# head\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n".to_owned(),
            sealed(Some("prod"), "app", "prod app"),
            sealed(Some("staging"), "app", "staging app"),
            sealed(None, "shared", "cluster-wide"),
        ]
        .concat()
    }

    fn pick<'f>(file: &'f TargetFile<'_>, name: &str, ns: Option<&str>) -> Result<&'f TargetDoc> {
        file.select(Path::new("f.yaml"), Some(name), ns)
    }

    #[test]
    fn the_input_name_and_namespace_pick_the_document() {
        let text = bundle();
        let file = TargetFile::read(Path::new("f.yaml"), &text).unwrap();
        assert_eq!(pick(&file, "app", Some("staging")).unwrap().index, 3);
        assert_eq!(
            pick(&file, "app", Some("prod")).unwrap().describe(),
            "SealedSecret prod/app"
        );
        // No namespace in the document (cluster-wide): any input namespace matches.
        assert_eq!(pick(&file, "shared", Some("dev")).unwrap().index, 4);
        let err = |result: Result<&TargetDoc>| match result {
            Err(crate::error::CliError::Seal(err)) => err,
            Err(other) => panic!("unexpected error: {other}"),
            Ok(doc) => panic!("document {} picked", doc.index),
        };
        assert!(matches!(
            err(pick(&file, "app", Some("dev"))),
            SealError::MergeTargetNoMatch { count: 3, .. }
        ));
        assert!(matches!(
            err(pick(&file, "app", None)),
            SealError::MergeTargetAmbiguous { count: 2, .. }
        ));
    }

    #[test]
    fn a_single_sealed_secret_is_picked_whatever_the_input_names() {
        let text = sealed(Some("prod"), "app", "only");
        let file = TargetFile::read(Path::new("f.yaml"), &text).unwrap();
        assert_eq!(pick(&file, "other", Some("dev")).unwrap().index, 1);
    }

    #[test]
    fn a_file_without_sealed_secrets_is_refused() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        assert!(TargetFile::read(Path::new("f.yaml"), text).is_err());
        assert!(TargetFile::read(Path::new("f.yaml"), "# nothing\n").is_err());
    }

    #[test]
    fn only_the_picked_document_changes() {
        let text = bundle();
        let file = TargetFile::read(Path::new("f.yaml"), &text).unwrap();
        let doc = pick(&file, "app", Some("staging")).unwrap();
        let mut merged = doc.sealed.clone();
        merged
            .spec
            .encrypted_data
            .insert("a".to_owned(), format!("{ITEM}new"));
        let (out, anew) = file.rewrite(doc, &merged, Format::Yaml).unwrap();
        assert!(!anew);
        let expected = text.replace(
            "# staging app\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app\n  namespace: staging\nspec:\n  encryptedData:\n",
            &format!(
                "# staging app\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app\n  namespace: staging\nspec:\n  encryptedData:\n    a: {ITEM}new\n"
            ),
        );
        assert_ne!(expected, text);
        assert_eq!(out, expected);
    }

    #[test]
    fn another_format_converts_the_whole_file() {
        let text = bundle();
        let file = TargetFile::read(Path::new("f.yaml"), &text).unwrap();
        let doc = pick(&file, "shared", None).unwrap();
        let (out, _) = file.rewrite(doc, &doc.sealed, Format::Json).unwrap();
        let values: Vec<Value> = read_documents(&out).unwrap();
        assert_eq!(values.len(), 4);
        assert_eq!(values[0]["kind"], "ConfigMap");
    }
}
