//! What `sealant keys list` prints: the table and the JSON document (schema in
//! docs/rotation.md, "6. The inventory: which SealedSecrets need which key").

use sealant_core::Fingerprint;
use serde_json::{Value, json};

use super::inventory::Inventory;
use super::words::{count, format_time, quote_names};

impl Inventory {
    /// The table `keys list` prints.
    pub fn render_table(&self) -> String {
        let header = [
            "KIND",
            "FINGERPRINT",
            "STATE",
            "CREATED",
            "SEALEDSECRETS",
            "SECRET",
        ];
        let rows: Vec<[String; 6]> = self
            .keys
            .iter()
            .map(|k| {
                [
                    k.kind.name().to_owned(),
                    k.fingerprint_text().to_owned(),
                    if k.sealing {
                        format!("{} *", k.state)
                    } else if k.problem.is_some() {
                        format!("{} (unusable)", k.state)
                    } else {
                        k.state.to_string()
                    },
                    k.created.map_or_else(|| "-".to_owned(), format_time),
                    k.used_by.len().to_string(),
                    k.secret.clone(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 6]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
                if i == 4 {
                    // Counts line up on the right.
                    text.push_str(&format!("{cell:>width$}  "));
                } else if i == 5 {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text.push('\n');
            text
        };
        let mut out = line(header);
        for row in &rows {
            out.push_str(&line([
                &row[0], &row[1], &row[2], &row[3], &row[4], &row[5],
            ]));
        }
        if self.keys.is_empty() {
            out.push_str(&format!(
                "(no key Secret in namespace {}: is it the controller's? --controller-namespace)\n",
                self.namespace
            ));
        }
        if self.keys.iter().any(|k| k.sealing) {
            out.push_str("* seals new SealedSecrets (the newest active key of its kind)\n");
        }
        for key in self.keys.iter().filter(|k| k.problem.is_some()) {
            out.push_str(&format!(
                "unusable: Secret {}: {}\n",
                key.secret,
                key.problem.as_deref().unwrap_or_default()
            ));
        }
        let place = if self.scope.is_empty() {
            "the cluster".to_owned()
        } else {
            format!("namespace {}", self.scope.join(", "))
        };
        out.push_str(&format!(
            "{} in {place}",
            count(self.sealed_secrets, "SealedSecret")
        ));
        if self.not_inventoried.is_empty() && self.pending.is_empty() {
            out.push_str(", all with a key inventory\n");
        } else {
            out.push('\n');
        }
        if !self.not_inventoried.is_empty() {
            out.push_str(&format!(
                "{} without key inventory yet (not unsealed by this controller since it records one): {}\n",
                self.not_inventoried.len(),
                quote_names(self.not_inventoried.iter())
            ));
        }
        if !self.pending.is_empty() {
            out.push_str(&format!(
                "{} changed since their last unseal (inventory not current): {}\n",
                self.pending.len(),
                quote_names(self.pending.iter())
            ));
        }
        if !self.other_keys.is_empty() {
            out.push_str(&format!(
                "keys not in namespace {} named by inventories: {}\n",
                self.namespace,
                self.other_keys
                    .iter()
                    .map(|(fingerprint, n)| format!("{fingerprint} ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out
    }

    /// The JSON document `keys list -o json` prints (schema in docs/rotation.md).
    pub fn to_json(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({
                    "kind": k.kind.name(),
                    "fingerprint": k.fingerprint.as_ref().map(Fingerprint::as_str),
                    "state": k.state.label_value(),
                    "sealing": k.sealing,
                    "created": k.created.map(format_time),
                    "secret": k.secret,
                    "sealedSecrets": k.used_by.len(),
                    "usedBy": k.used_by,
                    "problem": k.problem,
                })
            })
            .collect();
        json!({
            "namespace": self.namespace,
            "keys": keys,
            "sealedSecrets": {
                "namespaces": if self.scope.is_empty() { Value::Null } else { json!(self.scope) },
                "total": self.sealed_secrets,
                "notInventoried": self.not_inventoried,
                "pending": self.pending,
                "otherKeys": self.other_keys,
            },
        })
    }
}
