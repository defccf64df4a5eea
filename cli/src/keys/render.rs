//! What `sealant keys list` prints: the table and the JSON document (schema in
//! docs/rotation.md, "6. The inventory: which SealedSecrets need which key").

use sealant_core::{Fingerprint, KeyOwner, TenantName};
use serde_json::{Value, json};

use super::inventory::Inventory;
use super::words::{count, format_time, quote_names};

impl Inventory {
    /// The table `keys list` prints; with every owner's keys (`--all-tenants`), a TENANT
    /// column first (`-` for the cluster's keys).
    pub fn render_table(&self) -> String {
        let all = self.selection.is_none();
        let mut header = vec![
            "KIND",
            "FINGERPRINT",
            "STATE",
            "CREATED",
            "SEALEDSECRETS",
            "SECRET",
        ];
        if all {
            header.insert(0, "TENANT");
        }
        let rows: Vec<Vec<String>> = self
            .keys
            .iter()
            .map(|k| {
                let mut row = vec![
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
                ];
                if all {
                    row.insert(0, k.owner.tenant().map_or("-", |t| t.as_str()).to_owned());
                }
                row
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let (count_column, last) = (header.len() - 2, header.len() - 1);
        let line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                if i == count_column {
                    // Counts line up on the right.
                    text.push_str(&format!("{cell:>width$}  "));
                } else if i == last {
                    text.push_str(cell);
                } else {
                    text.push_str(&format!("{cell:<width$}  "));
                }
            }
            text.push('\n');
            text
        };
        let mut out = line(&header);
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            out.push_str(&line(&cells));
        }
        if self.keys.is_empty() {
            out.push_str(&match &self.selection {
                Some(KeyOwner::Tenant(tenant)) => format!(
                    "(no key Secret of tenant {tenant} in namespace {}: the controller makes them once a namespace has the tenant label, with --tenant-keys)\n",
                    self.namespace
                ),
                _ => format!(
                    "(no key Secret in namespace {}: is it the controller's? --controller-namespace)\n",
                    self.namespace
                ),
            });
        }
        if self.keys.iter().any(|k| k.sealing) {
            out.push_str(if all {
                "* seals new SealedSecrets (the newest active key of its kind and tenant)\n"
            } else {
                "* seals new SealedSecrets (the newest active key of its kind)\n"
            });
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
                    "tenant": k.owner.tenant().map(TenantName::as_str),
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
            "tenant": self.selection.as_ref().and_then(KeyOwner::tenant).map(TenantName::as_str),
            "allTenants": self.selection.is_none(),
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
