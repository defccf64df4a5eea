//! Reading any manifest stream document by document, with the line each document starts on,
//! for the commands that report locations (`lint`, `inspect`, `diff`). One bad document does
//! not hide the others: YAML documents are split at their `---` markers and parsed one by one.
//!
//! Parsing goes through `sealant_core::object::read_documents`, so the same limits apply as
//! everywhere else (`sealant_core::yaml`), and parser messages never quote values.

use sealant_core::object::{SEALED_SECRET_KIND, read_documents};
use sealant_core::{Format, SealedSecret};
use serde_json::Value;

/// One document of a stream.
pub struct Document<'a> {
    /// 1-based position in the stream, empty documents included.
    pub index: usize,
    /// 1-based line of the document's first content line.
    pub line: usize,
    /// The document's text (with its `---` marker, for YAML).
    pub text: &'a str,
    /// Line number of the first line of `text`.
    pub first_line: usize,
    /// The parsed value; `Ok(None)` for an empty document.
    pub value: Result<Option<Value>, ParseError>,
}

/// Why a document could not be parsed. Never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line in the whole text where parsing failed (or the document's line).
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

/// Splits and parses a YAML stream or a JSON object stream.
pub fn documents(text: &str) -> Vec<Document<'_>> {
    let text = text.trim_start_matches('\u{feff}');
    match Format::detect(text) {
        Format::Json => json_documents(text),
        Format::Yaml => yaml_documents(text),
    }
}

fn yaml_documents(text: &str) -> Vec<Document<'_>> {
    let mut out = Vec::new();
    let starts = chunk_starts(text);
    for (chunk_index, (start, first_line)) in starts.iter().enumerate() {
        let end = starts
            .get(chunk_index + 1)
            .map_or(text.len(), |(next, _)| *next);
        let chunk = &text[*start..end];
        let Some(content_offset) = content_line(chunk) else {
            // Text before the first `---` that holds only comments is no document at all.
            if chunk_index > 0 || starts_with_marker(chunk) {
                out.push(Document {
                    index: out.len() + 1,
                    line: *first_line,
                    text: chunk,
                    first_line: *first_line,
                    value: Ok(None),
                });
            }
            continue;
        };
        let line = first_line + content_offset;
        let value = parse_yaml_chunk(chunk, *first_line, line);
        out.push(Document {
            index: out.len() + 1,
            line,
            text: chunk,
            first_line: *first_line,
            value,
        });
    }
    out
}

/// Byte offset and 1-based line of each chunk: the start of the text, then every line that is
/// a `---` document marker.
fn chunk_starts(text: &str) -> Vec<(usize, usize)> {
    let mut starts = vec![(0, 1)];
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        if offset > 0 && starts_with_marker(line) {
            starts.push((offset, number + 1));
        }
        offset += line.len();
    }
    starts
}

fn starts_with_marker(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Offset (in lines) of the first line that is neither blank, a comment, a directive nor a
/// bare `---` marker; `None` when the chunk has no content.
fn content_line(chunk: &str) -> Option<usize> {
    chunk.lines().position(|line| {
        let trimmed = line.trim();
        let bare_marker = starts_with_marker(line)
            && trimmed
                .strip_prefix("---")
                .is_some_and(|rest| rest.trim().is_empty() || rest.trim().starts_with('#'));
        !(trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with('%')
            || trimmed == "..."
            || bare_marker)
    })
}

fn parse_yaml_chunk(
    chunk: &str,
    first_line: usize,
    content_line: usize,
) -> Result<Option<Value>, ParseError> {
    match read_documents::<Value>(chunk) {
        Ok(mut values) => match values.len() {
            0 => Ok(None),
            1 => Ok(values.pop()),
            _ => Err(ParseError {
                line: content_line,
                message: "several documents without `---` between them".into(),
            }),
        },
        Err(sealant_core::FormatError::Malformed {
            message, location, ..
        }) => Err(ParseError {
            // The location is in the chunk; the chunk starts at `first_line`.
            line: location.map_or(content_line, |l| first_line + l.line.saturating_sub(1)),
            message,
        }),
        Err(other) => Err(ParseError {
            line: content_line,
            message: other.to_string(),
        }),
    }
}

fn json_documents(text: &str) -> Vec<Document<'_>> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut start = 0;
    loop {
        let skipped = text[start..].len() - text[start..].trim_start().len();
        let doc_start = start + skipped;
        let line = line_of(text, doc_start);
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let end = stream.byte_offset();
                out.push(Document {
                    index: out.len() + 1,
                    line,
                    text: &text[doc_start..end],
                    first_line: line,
                    value: Ok(Some(value)),
                });
                start = end;
            }
            Some(Err(err)) => {
                out.push(Document {
                    index: out.len() + 1,
                    line,
                    text: &text[doc_start..],
                    first_line: line,
                    // serde_json's position is in the whole text; its message may name a value's
                    // type but position and class are all that is kept.
                    value: Err(ParseError {
                        line: err.line().max(line),
                        message: format!("invalid JSON ({:?} error)", err.classify())
                            .to_lowercase(),
                    }),
                });
                break;
            }
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `apiVersion` and `kind` of a parsed document.
pub fn type_of(value: &Value) -> (Option<&str>, Option<&str>) {
    (
        value.get("apiVersion").and_then(Value::as_str),
        value.get("kind").and_then(Value::as_str),
    )
}

/// True for a document of kind SealedSecret, whatever its apiVersion.
pub fn is_sealed_secret_kind(value: &Value) -> bool {
    type_of(value).1 == Some(SEALED_SECRET_KIND)
}

/// A SealedSecret read from a stream, with where it was.
pub struct LocatedSealed {
    /// 1-based document index.
    pub document: usize,
    /// 1-based line.
    pub line: usize,
    /// The object.
    pub sealed: SealedSecret,
}

/// Every SealedSecret of a stream; other kinds are skipped. A document of kind SealedSecret
/// that cannot be read is an error (naming its line), as is a document that does not parse.
///
/// # Errors
/// The first unreadable document.
pub fn sealed_secrets(origin: &str, text: &str) -> crate::error::Result<Vec<LocatedSealed>> {
    let mut out = Vec::new();
    for doc in documents(text) {
        let value = match doc.value {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(err) => {
                return Err(crate::inputs::InputError::Unparsable {
                    origin: origin.to_owned(),
                    line: err.line,
                    message: err.message,
                }
                .into());
            }
        };
        if !is_sealed_secret_kind(&value) {
            continue;
        }
        let sealed =
            sealant_core::object::sealed_secret_from_value(value, doc.index).map_err(|source| {
                crate::inputs::InputError::NotSealedSecret {
                    origin: origin.to_owned(),
                    line: doc.line,
                    source,
                }
            })?;
        out.push(LocatedSealed {
            document: doc.index,
            line: doc.line,
            sealed,
        });
    }
    Ok(out)
}

/// 1-based line of the key at `path` (e.g. `["spec", "encryptedData", "password"]`) within a
/// block-style YAML document, found by indentation; `None` for flow style, JSON or a miss.
pub fn key_line(doc: &Document<'_>, path: &[&str]) -> Option<usize> {
    let mut lines = doc.text.lines().enumerate();
    let mut parent_indent: Option<usize> = None;
    let mut found = None;
    for key in path {
        let (number, indent) = lines.by_ref().find_map(|(number, line)| {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if parent_indent.is_some_and(|parent| indent <= parent) && !trimmed.is_empty() {
                // Left the parent's block: give up rather than report a wrong line.
                return Some((usize::MAX, indent));
            }
            let rest = trimmed
                .strip_prefix(key)
                .or_else(|| {
                    trimmed
                        .strip_prefix('"')
                        .and_then(|t| t.strip_prefix(key))
                        .and_then(|t| t.strip_prefix('"'))
                })
                .or_else(|| {
                    trimmed
                        .strip_prefix('\'')
                        .and_then(|t| t.strip_prefix(key))
                        .and_then(|t| t.strip_prefix('\''))
                })?;
            rest.trim_start()
                .starts_with(':')
                .then_some((number, indent))
        })?;
        if number == usize::MAX {
            return None;
        }
        parent_indent = Some(indent);
        found = Some(doc.first_line + number);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_documents_carry_their_lines() {
        let text = "# header\n---\napiVersion: v1\nkind: Secret\n---\n# empty\n---\nkind: A\nx: [\n---\n\nkind: B\n";
        let docs = documents(text);
        let summary: Vec<_> = docs
            .iter()
            .map(|d| (d.index, d.line, d.value.as_ref().map(Option::is_some)))
            .collect();
        assert_eq!(summary[0], (1, 3, Ok(true)));
        assert_eq!(summary[1], (2, 5, Ok(false)));
        assert_eq!((summary[2].0, summary[2].1), (3, 8));
        let err = docs[2].value.as_ref().unwrap_err();
        assert!(err.line >= 8 && err.line <= 10, "{err:?}");
        assert_eq!(summary[3], (4, 12, Ok(true)));
    }

    #[test]
    fn first_document_without_marker() {
        let docs = documents("kind: A\n---\nkind: B\n");
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].line, docs[1].line), (1, 3));
        assert!(documents("").is_empty());
        assert!(documents("# only a comment\n").is_empty());
    }

    #[test]
    fn json_stream_lines() {
        let docs = documents("{\"kind\": \"A\"}\n\n{\"kind\":\n \"B\"}\n{bad");
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].line, docs[1].line), (1, 3));
        assert!(docs[2].value.is_err());
    }

    #[test]
    fn key_lines_follow_indentation() {
        let text = "---\nkind: SealedSecret\nmetadata:\n  name: password\nspec:\n  encryptedData:\n    user: x\n    \"password\": y\n";
        let docs = documents(text);
        assert_eq!(
            key_line(&docs[0], &["spec", "encryptedData", "password"]),
            Some(8)
        );
        assert_eq!(key_line(&docs[0], &["spec", "encryptedData", "nope"]), None);
    }
}
