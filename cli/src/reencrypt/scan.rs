//! Finding the SealedSecrets of a file and what each needs.

use super::*;
use crate::error::CliError;

/// The items of a `kind: List` document, if it is one.
pub(super) fn list_items(value: &Value) -> Option<&Vec<Value>> {
    (value.get("kind").and_then(Value::as_str) == Some("List"))
        .then(|| value.get("items").and_then(Value::as_array))
        .flatten()
}

pub(super) fn scan(path: &Path) -> Result<Scanned> {
    let text = crate::io::read_file_text(path)?.text;
    let json = Format::detect(text.trim_start_matches('\u{feff}')) == Format::Json;
    let mut found = Vec::new();
    for doc in documents(&text) {
        let value = match doc.value {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(err) => {
                return Err(ReencryptError::Parse {
                    path: path.to_path_buf(),
                    line: err.line,
                    message: err.message,
                }
                .into());
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
            sealant_core::object::sealed_secret_from_value(value, doc.index).map_err(|source| {
                ReencryptError::NotSealedSecret {
                    path: path.to_path_buf(),
                    line,
                    source,
                }
            })
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

/// Whether a SealedSecret is sealed to the newest key, from its hint alone. `None`: no hint.
pub(super) fn hinted_state(sealed: &SealedSecret, newest: &Fingerprint) -> Option<Outcome> {
    let hint = key_hint(sealed)?;
    Some(if &hint == newest {
        Outcome::Current
    } else {
        Outcome::Stale(format!("sealed to {hint}"))
    })
}

pub(super) fn offline_outcome(
    found: &Found,
    keys: &OfflineKeys,
    newest: &Fingerprint,
    mode: Mode,
) -> Outcome {
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
pub(super) fn online_outcomes(
    args: &ReencryptArgs,
    scanned: &[Result<Scanned>],
    jobs: &[(usize, usize)],
    newest: &Newest,
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
            Some(found) => match newest.of(&found.sealed) {
                Ok(newest) => hinted_state(&found.sealed, newest)
                    .unwrap_or_else(|| Outcome::Stale("no key hint".into())),
                Err(why) => Outcome::Failed(why),
            },
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
                        Ok(body) => controller.rotate(body).await.map_err(CliError::from),
                        Err(err) => Err(err),
                    };
                    match answer.and_then(|body| rotated_from_answer(&body, 1)) {
                        Ok(sealed) => Outcome::Rotated(Box::new(Rotated {
                            sealed,
                            opened: 0,
                            template_aligned: false,
                        })),
                        Err(err) => Outcome::Failed(err.to_string()),
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

/// The spans of the `items:` sequence of a block-style YAML List document; `None` for another
/// layout (flow style, items not one per `- ` line) or a count other than `expected`.
pub(super) fn list_item_spans(doc: &str, content: usize, expected: usize) -> Option<Vec<ItemSpan>> {
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
