//! Writing re-encrypted SealedSecrets back into their files, in place where possible (the
//! edits themselves are `crate::yamledit`'s, shared with `seal --merge-into`).

use super::scan::{list_item_spans, list_items};
use super::*;
use crate::io::IoError;
use crate::yamledit;

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
    let expected = rotated_value(found, rotated)?;
    yamledit::edit_document(doc, found.content, &found.value, &expected, json)
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
        let item = rotated_value(found, &rotated.sealed)?;
        let text = yamledit::edit_text(
            &doc[span.start..span.end],
            0,
            span.indent,
            &found.value,
            &item,
            false,
        )?;
        out.push_str(&text);
        *expected.get_mut("items")?.get_mut(*index)? = item;
        at = span.end;
    }
    out.push_str(&doc[at..]);
    (yamledit::parse_one(&out)? == expected).then_some(out)
}

/// The value a SealedSecret must have once re-encrypted: its own (unknown fields, quoting
/// choices and all) with the changed ciphertexts and the new key hint. `None` for what is not
/// edited in place: a v1 `spec.data` blob, or another set of items.
fn rotated_value(found: &Found, rotated: &SealedSecret) -> Option<Value> {
    let original = &found.sealed;
    if original.spec.data.is_some()
        || rotated.spec.encrypted_data.len() != original.spec.encrypted_data.len()
    {
        return None;
    }
    let mut expected = found.value.clone();
    for (item, new) in &rotated.spec.encrypted_data {
        let old = original.spec.encrypted_data.get(item)?;
        if old == new {
            continue;
        }
        // Short values cannot be told apart from other text.
        if old.len() < 16 {
            return None;
        }
        *expected
            .get_mut("spec")?
            .get_mut("encryptedData")?
            .get_mut(item)? = Value::String(new.clone());
    }
    let old_hint = original.metadata.annotation(KEY_HINT_ANNOTATION);
    let new_hint = rotated.metadata.annotation(KEY_HINT_ANNOTATION);
    if old_hint != new_hint {
        let meta = expected.get_mut("metadata")?.as_object_mut()?;
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if annotations.is_null() {
            *annotations = Value::Object(serde_json::Map::new());
        }
        annotations.as_object_mut()?.insert(
            KEY_HINT_ANNOTATION.to_owned(),
            Value::String(new_hint?.into()),
        );
    }
    Some(expected)
}

/// Renders the document anew, keeping what precedes its content (`---`, comments).
pub(super) fn render<T: serde::Serialize>(
    doc: &str,
    found: &Found,
    rotated: &T,
    json: bool,
) -> Result<String> {
    Ok(
        yamledit::render(doc, found.content, found.start == 0, rotated, json)
            .map_err(ReencryptError::Encode)?,
    )
}
