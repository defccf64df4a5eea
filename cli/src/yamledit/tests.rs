//! In-place edits: what is changed, where new entries go, and what is refused.

use serde_json::{Value, json};

use super::*;

const DOC: &str = "---\n# c\nkind: SealedSecret\nmetadata:\n  name: a\n  namespace: b\n";

fn value(text: &str) -> Value {
    parse_one(text).unwrap()
}

fn with(mut value: Value, path: &[&str], key: &str, new: Value) -> Value {
    let mut at = &mut value;
    for segment in path {
        let map = at.as_object_mut().unwrap();
        at = map.entry(*segment).or_insert_with(|| json!({}));
        if at.is_null() {
            *at = json!({});
        }
    }
    at.as_object_mut().unwrap().insert(key.to_owned(), new);
    value
}

#[test]
fn hint_goes_under_existing_block_annotations() {
    let text = DOC.replace("  name: a\n", "  annotations:\n      x: y\n  name: a\n");
    let new = with(
        value(&text),
        &["metadata", "annotations"],
        "sealant.dev/key-hint",
        json!("SHA256:abc"),
    );
    let out = edit_document(&text, 8, &value(&text), &new, false).unwrap();
    assert!(
        out.contains("  annotations:\n      sealant.dev/key-hint: SHA256:abc\n      x: y\n"),
        "{out}"
    );
}

#[test]
fn missing_maps_are_created_with_the_document_indentation() {
    let new = with(
        value(DOC),
        &["metadata", "annotations"],
        "sealant.dev/key-hint",
        json!("SHA256:abc"),
    );
    let out = edit_document(DOC, 8, &value(DOC), &new, false).unwrap();
    assert_eq!(
        out,
        "---\n# c\nkind: SealedSecret\nmetadata:\n  annotations:\n    sealant.dev/key-hint: SHA256:abc\n  name: a\n  namespace: b\n"
    );
}

#[test]
fn an_empty_block_gets_its_first_entry() {
    let text = DOC.replace("  name: a\n", "  annotations:\n  name: a\n");
    let new = with(value(&text), &["metadata", "annotations"], "k", json!("v"));
    let out = edit_document(&text, 8, &value(&text), &new, false).unwrap();
    assert!(
        out.contains("  annotations:\n    k: v\n  name: a\n"),
        "{out}"
    );
}

#[test]
fn new_entries_keep_a_sorted_map_sorted_and_comments_with_their_entry() {
    let text = "kind: SealedSecret\nspec:\n  encryptedData:\n    a: AgA1\n    # the password\n    p: AgA2\n  template: {}\n";
    let new = with(value(text), &["spec", "encryptedData"], "m", json!("AgA3"));
    let out = edit_document(text, 0, &value(text), &new, false).unwrap();
    assert_eq!(
        out,
        "kind: SealedSecret\nspec:\n  encryptedData:\n    a: AgA1\n    m: AgA3\n    # the password\n    p: AgA2\n  template: {}\n"
    );
    // Sorting after every entry: appended after the last one and what it holds.
    let new = with(value(text), &["spec", "encryptedData"], "z", json!("AgA3"));
    let out = edit_document(text, 0, &value(text), &new, false).unwrap();
    assert!(
        out.contains("    p: AgA2\n    z: AgA3\n  template: {}\n"),
        "{out}"
    );
}

#[test]
fn values_that_need_quotes_are_quoted() {
    let new = with(
        value(DOC),
        &["metadata"],
        "labels",
        json!({"on": "yes", "x": "a: b"}),
    );
    let out = edit_document(DOC, 8, &value(DOC), &new, false).unwrap();
    assert_eq!(value(&out), new);
    assert!(out.contains("  labels:\n    "), "{out}");
}

#[test]
fn a_last_line_without_newline_gets_one() {
    let text = "kind: SealedSecret\nmetadata:\n  name: a";
    let new = with(value(text), &["metadata"], "namespace", json!("b"));
    let out = edit_document(text, 0, &value(text), &new, false).unwrap();
    assert_eq!(
        out,
        "kind: SealedSecret\nmetadata:\n  name: a\n  namespace: b\n"
    );
}

#[test]
fn flow_maps_are_not_edited_in_place() {
    let text = DOC.replace("  name: a\n", "  annotations: {}\n  name: a\n");
    let new = with(value(&text), &["metadata", "annotations"], "k", json!("v"));
    assert_eq!(edit_document(&text, 8, &value(&text), &new, false), None);
}

#[test]
fn a_value_is_replaced_on_its_line_only() {
    let text = "metadata:\n  annotations:\n    # was SHA256:old\n    sealant.dev/key-hint: \"SHA256:old\" # k\n";
    let new = with(
        value(text),
        &["metadata", "annotations"],
        "sealant.dev/key-hint",
        json!("SHA256:new"),
    );
    assert_eq!(
        edit_document(text, 0, &value(text), &new, false).unwrap(),
        "metadata:\n  annotations:\n    # was SHA256:old\n    sealant.dev/key-hint: \"SHA256:new\" # k\n"
    );
}

#[test]
fn json_values_are_replaced_but_entries_not_added() {
    let text = "{\n  \"spec\": {\"encryptedData\": {\"a\": \"AgAAAAAAAAAAAAAAAAAA1\"}}\n}\n";
    let old = value(text);
    let changed = with(
        old.clone(),
        &["spec", "encryptedData"],
        "a",
        json!("AgBBBBBBBBBBBBBBBBBB2"),
    );
    let out = edit_document(text, 0, &old, &changed, true).unwrap();
    assert_eq!(
        out,
        text.replace("AgAAAAAAAAAAAAAAAAAA1", "AgBBBBBBBBBBBBBBBBBB2")
    );
    let added = with(old.clone(), &["spec", "encryptedData"], "b", json!("x"));
    assert_eq!(edit_document(text, 0, &old, &added, true), None);
}

#[test]
fn removals_and_type_changes_are_refused() {
    let old = value(DOC);
    let mut removed = old.clone();
    removed["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("namespace");
    assert_eq!(edit_document(DOC, 8, &old, &removed, false), None);
    let mut retyped = old.clone();
    retyped["metadata"]["name"] = json!(["a"]);
    assert_eq!(edit_document(DOC, 8, &old, &retyped, false), None);
}

#[test]
fn list_item_edits_stay_in_the_item() {
    let item = "  - metadata:\n      name: a\n    kind: SealedSecret\n";
    let old = json!({"metadata": {"name": "a"}, "kind": "SealedSecret"});
    let new = with(
        old.clone(),
        &["metadata", "annotations"],
        "sealant.dev/key-hint",
        json!("SHA256:abc"),
    );
    assert_eq!(
        edit_text(item, 0, 4, &old, &new, false).unwrap(),
        "  - metadata:\n      annotations:\n        sealant.dev/key-hint: SHA256:abc\n      name: a\n    kind: SealedSecret\n"
    );
    // An entry that would go before the item's `- ` line cannot.
    let first = with(old.clone(), &[], "apiVersion", json!("v"));
    assert_eq!(edit_text(item, 0, 4, &old, &first, false), None);
}

#[test]
fn changes_apply_to_the_document_as_read() {
    // Fields the typed copy does not know (`extra`) stay; what it changed is applied.
    let base = json!({"extra": 1, "spec": {"encryptedData": {"a": "1"}}});
    let before = json!({"spec": {"encryptedData": {"a": "1"}, "template": {}}});
    let after = json!({"spec": {"encryptedData": {"a": "2", "b": "3"}, "template": {}}});
    assert_eq!(
        apply_changes(&base, &before, &after),
        json!({"extra": 1, "spec": {"encryptedData": {"a": "2", "b": "3"}}})
    );
}
