//! Writing re-encrypted SealedSecrets back into their files, in place where possible.

use super::scan::{list_item_spans, list_items};
use super::*;
use crate::io::IoError;

/// The file's text with each re-encrypted document edited in place (or rendered anew). A List
/// rendered anew is reported in `warnings`: its comments and formatting are not kept.
pub(super) fn rewrite(
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
pub(super) fn render_list(
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
            *slot = serde_json::to_value(&rotated.sealed).map_err(|source| IoError::Encode {
                what: "SealedSecret",
                source,
            })?;
        }
    }
    render(doc, first, &value, json)
}

/// Replaces the changed ciphertexts and the key hint inside the document's text; `None` when
/// that cannot be done safely (checked by parsing the result).
pub(super) fn edit_in_place(
    doc: &str,
    found: &Found,
    rotated: &SealedSecret,
    json: bool,
) -> Option<String> {
    let (text, expected) = edit_text(doc, found.content, 0, found, rotated, json)?;
    let parsed = if json {
        serde_json::from_str::<Value>(&text).ok()?
    } else {
        parse_one(&text)?
    };
    (parsed == expected).then_some(text)
}

pub(super) fn parse_one(text: &str) -> Option<Value> {
    let mut values = read_documents::<Value>(text).ok()?;
    if values.len() != 1 {
        return None;
    }
    values.pop()
}

/// Edits the re-encrypted items of a block-style YAML List, each within the lines of its list
/// item; `None` when that cannot be done safely (checked by parsing the whole List again).
pub(super) fn edit_list_in_place(
    doc: &str,
    content: usize,
    group: &[(&Found, &Rotated)],
) -> Option<String> {
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

/// Replaces the changed ciphertexts and the key hint of one SealedSecret inside `text` (a
/// document, or the lines of a List item whose keys are at column `base`); returns the text
/// and the value the SealedSecret must now parse to. `None` when an edit is not unambiguous.
pub(super) fn edit_text(
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
pub(super) fn replace_hint(text: &str, old: &str, new: &str) -> Option<String> {
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
pub(super) fn insert_hint(text: &str, content: usize, base: usize, hint: &str) -> Option<String> {
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
pub(super) fn render<T: serde::Serialize>(
    doc: &str,
    found: &Found,
    rotated: &T,
    json: bool,
) -> Result<String> {
    let format = if json { Format::Json } else { Format::Yaml };
    let body = to_text(rotated, format).map_err(ReencryptError::Encode)?;
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
