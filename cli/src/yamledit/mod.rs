//! Editing one YAML or JSON document inside a file's text, so that comments, key order, quoting
//! and the other documents stay byte for byte: changed string values are replaced where they
//! stand and new map entries are inserted as lines (YAML block style only). Used by
//! `reencrypt` (new ciphertexts and key hint) and `seal --merge-into` (new items as well).
//!
//! The editor only ever proposes a text: callers check it by parsing it again
//! ([`edit_document`] does) and render the document anew ([`render`]) when it returns `None`
//! or the check fails, never writing a text that does not parse to the intended value.

use sealant_core::object::{read_documents, to_text};
use sealant_core::{Format, FormatError};
use serde_json::{Map, Value};

/// The document `doc` (its `---` marker and leading comments included, its first content
/// line at byte `content`) edited from `old` to `new`, checked by parsing it again; `None`
/// when that cannot be done safely.
pub fn edit_document(
    doc: &str,
    content: usize,
    old: &Value,
    new: &Value,
    json: bool,
) -> Option<String> {
    let text = edit_text(doc, content, 0, old, new, json)?;
    let parsed = if json {
        serde_json::from_str::<Value>(&text).ok()?
    } else {
        parse_one(&text)?
    };
    (&parsed == new).then_some(text)
}

/// The one value a document's text parses to; `None` for a parse error or another count.
pub fn parse_one(text: &str) -> Option<Value> {
    let mut values = read_documents::<Value>(text).ok()?;
    if values.len() != 1 {
        return None;
    }
    values.pop()
}

/// `text` edited from `old` to `new`, unchecked: the caller parses the result (a List item's
/// lines are checked as part of the whole List). The object's keys are at column `base`: 0 for
/// a document, the item's column for a List item, whose first line starts with the
/// sequence's `- `. Only changed strings and added entries can be edited; anything else
/// (a removed key, a changed type, a sequence) gives `None`.
pub fn edit_text(
    text: &str,
    content: usize,
    base: usize,
    old: &Value,
    new: &Value,
    json: bool,
) -> Option<String> {
    let mut edits = Vec::new();
    diff(old, new, &mut Vec::new(), &mut edits)?;
    let mut text = text.to_owned();
    for edit in edits {
        text = match edit {
            Edit::Change { path, old, new } => {
                replace_scalar(&text, content, base, &path, old, new, json)?
            }
            Edit::Add { .. } if json => return None,
            Edit::Add { parent, key, value } => {
                insert_entry(&text, content, base, &parent, key, value)?
            }
        };
    }
    Some(text)
}

/// `base` with the changes from `before` to `after` applied (a JSON merge patch): the intended
/// value of a document that was read as `base` and changed through a typed copy, keeping the
/// fields that copy does not know.
pub fn apply_changes(base: &Value, before: &Value, after: &Value) -> Value {
    let mut out = base.clone();
    if let Some(patch) = merge_patch(before, after) {
        apply_patch(&mut out, &patch);
    }
    out
}

/// Renders the document anew, keeping what precedes its content (`---`, comments).
/// `first` tells whether it is the file's first document (only that one may lack `---`).
///
/// # Errors
/// Only if the value cannot be serialized.
pub fn render<T: serde::Serialize>(
    doc: &str,
    content: usize,
    first: bool,
    value: &T,
    json: bool,
) -> Result<String, FormatError> {
    let format = if json { Format::Json } else { Format::Yaml };
    let body = to_text(value, format)?;
    if json {
        return Ok(body);
    }
    let prefix = &doc[..content.min(doc.len())];
    let body = if prefix.lines().any(|l| l.starts_with("---")) || !first {
        body.strip_prefix("---\n").unwrap_or(&body).to_owned()
    } else {
        body
    };
    Ok(format!("{prefix}{body}"))
}

/// One edit found by [`diff`].
enum Edit<'a> {
    /// The string at `path` changes.
    Change {
        path: Vec<&'a str>,
        old: &'a str,
        new: &'a str,
    },
    /// The map at `parent` gets the entry `key`.
    Add {
        parent: Vec<&'a str>,
        key: &'a str,
        value: &'a Value,
    },
}

/// The edits that turn `old` into `new`; `None` when one cannot be expressed as an [`Edit`].
fn diff<'a>(
    old: &'a Value,
    new: &'a Value,
    path: &mut Vec<&'a str>,
    edits: &mut Vec<Edit<'a>>,
) -> Option<()> {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            if old.keys().any(|key| !new.contains_key(key)) {
                return None;
            }
            for (key, value) in new {
                match old.get(key) {
                    Some(existing) if existing == value => {}
                    Some(existing) => {
                        path.push(key);
                        diff(existing, value, path, edits)?;
                        path.pop();
                    }
                    None => edits.push(Edit::Add {
                        parent: path.clone(),
                        key,
                        value,
                    }),
                }
            }
            Some(())
        }
        // `key:` with nothing under it: its entries are all new.
        (Value::Null, Value::Object(new)) if !new.is_empty() => {
            for (key, value) in new {
                edits.push(Edit::Add {
                    parent: path.clone(),
                    key,
                    value,
                });
            }
            Some(())
        }
        (Value::String(old), Value::String(new)) => {
            edits.push(Edit::Change {
                path: path.clone(),
                old,
                new,
            });
            Some(())
        }
        _ => None,
    }
}

fn merge_patch(before: &Value, after: &Value) -> Option<Value> {
    if before == after {
        return None;
    }
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        return Some(after.clone());
    };
    let mut patch = Map::new();
    for key in before.keys().filter(|key| !after.contains_key(*key)) {
        patch.insert(key.clone(), Value::Null);
    }
    for (key, value) in after {
        let change = match before.get(key) {
            Some(old) => merge_patch(old, value),
            None => Some(value.clone()),
        };
        if let Some(change) = change {
            patch.insert(key.clone(), change);
        }
    }
    Some(Value::Object(patch))
}

fn apply_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        target.clone_from(patch);
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            apply_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Replaces the string at `path`: on the line of its key when the block-style YAML layout
/// can be followed there, else where its old text occurs exactly once (long values only, such
/// as ciphertexts and fingerprints, so that a short one cannot hit the wrong place).
fn replace_scalar(
    text: &str,
    content: usize,
    base: usize,
    path: &[&str],
    old: &str,
    new: &str,
    json: bool,
) -> Option<String> {
    if !json && let Some((parent, key)) = path.split_last().map(|(key, parent)| (parent, *key)) {
        let lines = Lines::new(text, content, base);
        if let Some(line) = lines
            .find_map(parent)
            .and_then(|block| lines.child(&block, key))
        {
            let line = &lines.all[line];
            let value_at = line.value_start()?;
            let value = &text[value_at..line.end];
            if value.matches(old).count() == 1 {
                return Some(format!(
                    "{}{}{}",
                    &text[..value_at],
                    value.replacen(old, new, 1),
                    &text[line.end..]
                ));
            }
            return None;
        }
    }
    if old.len() < 16 || text.matches(old).count() != 1 {
        return None;
    }
    Some(text.replacen(old, new, 1))
}

/// Inserts `key: value` into the block-style map at `parent` (created when missing), before
/// the first entry whose key sorts after it (so a sorted map stays sorted; comments above
/// that entry stay with it), else after the map's last entry.
fn insert_entry(
    text: &str,
    content: usize,
    base: usize,
    parent: &[&str],
    key: &str,
    value: &Value,
) -> Option<String> {
    let lines = Lines::new(text, content, base);
    let mut block = lines.root();
    let mut nested = None;
    for (depth, segment) in parent.iter().enumerate() {
        match lines.child(&block, segment) {
            Some(line) => block = lines.block_of(line)?,
            None => {
                // The rest of the path does not exist: one entry holds it all.
                let mut value = value.clone();
                value = Value::Object(Map::from_iter([(key.to_owned(), value)]));
                for segment in parent[depth + 1..].iter().rev() {
                    value = Value::Object(Map::from_iter([((*segment).to_owned(), value)]));
                }
                nested = Some(((*segment).to_owned(), value));
                break;
            }
        }
    }
    let (key, value) = nested.unwrap_or_else(|| (key.to_owned(), value.clone()));
    let step = lines.step();
    let column = block.column.or(block.parent_column.map(|c| c + step))?;
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut rendered = String::new();
    render_entry(&key, &value, column, step, newline, &mut rendered)?;

    let siblings = lines.children(&block);
    let at = match siblings.iter().find(|(_, k)| k.as_str() > key.as_str()) {
        Some((line, _)) => {
            // Comment lines right above that entry belong to it.
            let mut first = *line;
            while first > block.first && lines.all[first - 1].is_comment() {
                first -= 1;
            }
            if first == 0 && base > 0 {
                return None; // before the List item's `- ` line
            }
            lines.all[first].start
        }
        // After the last entry and what it holds, or right after the map's key.
        None => (block.first..block.end)
            .rev()
            .find(|i| !lines.all[*i].is_skippable())
            .or_else(|| block.first.checked_sub(1))
            .map(|line| lines.all[line].end_with_newline)?,
    };
    let mut out = String::with_capacity(text.len() + rendered.len() + 2);
    out.push_str(&text[..at]);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(newline);
    }
    out.push_str(&rendered);
    out.push_str(&text[at..]);
    Some(out)
}

/// `key: value` as block-style lines at `column` (maps nested `step` further); `None` for a
/// value that does not fit on one line, a sequence, or an empty map.
fn render_entry(
    key: &str,
    value: &Value,
    column: usize,
    step: usize,
    newline: &str,
    out: &mut String,
) -> Option<()> {
    let pad = " ".repeat(column);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = sealant_core::yaml::to_string(&Value::String(key.to_owned())).ok()?;
            let key = one_line(&key)?;
            out.push_str(&format!("{pad}{key}:{newline}"));
            for (child, value) in map {
                render_entry(child, value, column + step, step, newline, out)?;
            }
            Some(())
        }
        Value::String(_) | Value::Bool(_) | Value::Number(_) => {
            let entry = Value::Object(Map::from_iter([(key.to_owned(), value.clone())]));
            let line = sealant_core::yaml::to_string(&entry).ok()?;
            out.push_str(&format!("{pad}{}{newline}", one_line(&line)?));
            Some(())
        }
        _ => None,
    }
}

fn one_line(rendered: &str) -> Option<&str> {
    let line = rendered.strip_suffix('\n').unwrap_or(rendered);
    (!line.is_empty() && !line.contains('\n')).then_some(line)
}

/// One line of the text after the document's first content line.
struct Line {
    /// Byte range in the text, without and with its line break.
    start: usize,
    end: usize,
    end_with_newline: usize,
    /// Its column, the first line's `- ` counting as indentation for a List item.
    column: usize,
    /// Its text without indentation and trailing blanks, and where that starts in the line.
    body: String,
    body_offset: usize,
}

impl Line {
    fn is_skippable(&self) -> bool {
        self.body.is_empty() || self.body.starts_with('#')
    }

    fn is_comment(&self) -> bool {
        self.body.starts_with('#')
    }

    /// The key this line starts, if it starts one (plain, `"…"` or `'…'` without escapes),
    /// and where its `:` is in the body.
    fn key_and_colon(&self) -> Option<(String, usize)> {
        let body = self.body.as_str();
        let (key, colon) = match body.chars().next()? {
            quote @ ('"' | '\'') => {
                let close = body[1..].find(quote)? + 1;
                let key = &body[1..close];
                if key.contains('\\') || body[close + 1..].starts_with(quote) {
                    return None;
                }
                (key, close + 1)
            }
            '-' | '[' | '{' | '#' | '&' | '*' | '!' | '|' | '>' | '?' | '%' | '@' | '`' => {
                return None;
            }
            _ => {
                let colon = body
                    .match_indices(':')
                    .map(|(at, _)| at)
                    .find(|at| body[at + 1..].is_empty() || body[at + 1..].starts_with(' '))?;
                (body[..colon].trim_end(), colon)
            }
        };
        let rest = &body[colon..];
        (rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with(' ')))
            .then(|| (key.to_owned(), colon))
    }

    fn key(&self) -> Option<String> {
        self.key_and_colon().map(|(key, _)| key)
    }

    /// Where the value after `key:` starts in the text; `None` for a line without a key.
    fn value_start(&self) -> Option<usize> {
        let (_, colon) = self.key_and_colon()?;
        Some(self.start + self.body_offset + colon + 1)
    }

    /// Whether the value after the key is a nested block (nothing, or only a comment).
    fn opens_block(&self) -> bool {
        let Some((_, colon)) = self.key_and_colon() else {
            return false;
        };
        let rest = self.body[colon + 1..].trim();
        rest.is_empty() || rest.starts_with('#')
    }
}

/// A map's entries: the lines `first..end`, keys at `column` (`None`: no entry yet).
struct Block {
    first: usize,
    end: usize,
    column: Option<usize>,
    /// The column of the key that holds this map (`None` for the document's root).
    parent_column: Option<usize>,
}

/// The lines of a document or List item, for finding maps and keys in block-style YAML.
struct Lines {
    all: Vec<Line>,
    base: usize,
}

impl Lines {
    fn new(text: &str, content: usize, base: usize) -> Self {
        let mut all = Vec::new();
        let mut offset = content;
        for (i, raw) in text
            .get(content..)
            .unwrap_or_default()
            .split_inclusive('\n')
            .enumerate()
        {
            let start = offset;
            offset += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            let trimmed = line.trim_start();
            let mut column = line.len() - trimmed.len();
            let mut body = trimmed;
            if i == 0 && base > 0 && (trimmed.starts_with("- ") || trimmed.starts_with("-\t")) {
                let after = &trimmed[1..];
                body = after.trim_start();
                column += 1 + after.len() - body.len();
            }
            all.push(Line {
                start,
                end: start + line.len(),
                end_with_newline: offset,
                column,
                body_offset: line.len() - body.len(),
                body: body.trim_end().to_owned(),
            });
        }
        Self { all, base }
    }

    fn root(&self) -> Block {
        Block {
            first: 0,
            end: self.all.len(),
            column: Some(self.base),
            parent_column: None,
        }
    }

    /// The map held by the key on line `key_line`; `None` when its value is not a block.
    fn block_of(&self, key_line: usize) -> Option<Block> {
        let parent = &self.all[key_line];
        if !parent.opens_block() {
            return None;
        }
        let first = key_line + 1;
        let end = (first..self.all.len())
            .find(|i| !self.all[*i].is_skippable() && self.all[*i].column <= parent.column)
            .unwrap_or(self.all.len());
        let column = (first..end)
            .map(|i| &self.all[i])
            .find(|line| !line.is_skippable())
            .map(|line| line.column);
        Some(Block {
            first,
            end,
            column,
            parent_column: Some(parent.column),
        })
    }

    /// The entries of `block`: line index and key, in order.
    fn children(&self, block: &Block) -> Vec<(usize, String)> {
        let Some(column) = block.column else {
            return Vec::new();
        };
        (block.first..block.end)
            .filter(|i| !self.all[*i].is_skippable() && self.all[*i].column == column)
            .filter_map(|i| Some((i, self.all[i].key()?)))
            .collect()
    }

    /// The line of `key` in `block`; `None` when missing or given twice.
    fn child(&self, block: &Block, key: &str) -> Option<usize> {
        let mut found = self.children(block).into_iter().filter(|(_, k)| k == key);
        let (line, _) = found.next()?;
        found.next().is_none().then_some(line)
    }

    /// The map at `path` from the root.
    fn find_map(&self, path: &[&str]) -> Option<Block> {
        let mut block = self.root();
        for segment in path {
            block = self.block_of(self.child(&block, segment)?)?;
        }
        Some(block)
    }

    /// The document's indentation step: that of its first nested map, else 2.
    fn step(&self) -> usize {
        let root = self.root();
        self.children(&root)
            .into_iter()
            .filter_map(|(line, _)| {
                let block = self.block_of(line)?;
                Some(block.column? - block.parent_column?)
            })
            .find(|step| *step > 0)
            .unwrap_or(2)
    }
}

#[cfg(test)]
mod tests;
