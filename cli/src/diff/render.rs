//! The diff report as text and as JSON.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::*;
use crate::inspect::{bytes_text, item_json};

impl FileDiff {
    pub(super) fn has_differences(&self) -> bool {
        self.objects.iter().any(|o| o.change != Change::Unchanged)
    }

    pub(super) fn text(&self, settings: &Settings) -> String {
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

    pub(super) fn json(&self, settings: &Settings) -> Value {
        json!({
            "old": self.old,
            "new": self.new,
            "objects": self.objects.iter().map(|o| o.json(settings)).collect::<Vec<_>>(),
        })
    }
}

impl ObjectDiff {
    pub(super) fn text(&self, out: &mut String, settings: &Settings) {
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
    pub(super) fn cert_note(&self, hint: &str, settings: &Settings) -> String {
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

    pub(super) fn json(&self, settings: &Settings) -> Value {
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
    pub(super) fn text(&self, width: usize, settings: &Settings) -> String {
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

    pub(super) fn json(&self, settings: &Settings) -> Value {
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
