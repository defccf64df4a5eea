//! Scanning and in-place edits of `sealant reencrypt`.

use super::edit::*;
use super::scan::list_item_spans;

const DOC: &str = "---\n# c\nkind: SealedSecret\nmetadata:\n  name: a\n  namespace: b\n";

#[test]
fn hint_goes_under_existing_block_annotations() {
    let text = DOC.replace("  name: a\n", "  annotations:\n      x: y\n  name: a\n");
    let out = insert_hint(&text, 8, 0, "SHA256:abc").unwrap();
    assert!(
        out.contains("  annotations:\n      sealant.dev/key-hint: SHA256:abc\n      x: y\n"),
        "{out}"
    );
}

#[test]
fn hint_creates_annotations_when_missing() {
    let out = insert_hint(DOC, 8, 0, "SHA256:abc").unwrap();
    assert!(
        out.contains(
            "metadata:\n  annotations:\n    sealant.dev/key-hint: SHA256:abc\n  name: a\n"
        ),
        "{out}"
    );
}

#[test]
fn flow_annotations_are_not_edited_in_place() {
    let text = DOC.replace("  name: a\n", "  annotations: {}\n  name: a\n");
    assert_eq!(insert_hint(&text, 8, 0, "SHA256:abc"), None);
}

#[test]
fn hint_value_is_replaced_on_its_line_only() {
    let text = "metadata:\n  annotations:\n    sealant.dev/key-hint: \"SHA256:old\" # k\n";
    assert_eq!(
        replace_hint(text, "SHA256:old", "SHA256:new").unwrap(),
        "metadata:\n  annotations:\n    sealant.dev/key-hint: \"SHA256:new\" # k\n"
    );
    assert_eq!(replace_hint(text, "SHA256:gone", "SHA256:new"), None);
}

#[test]
fn list_items_are_located_one_per_dash_line() {
    let doc = "---\n# c\nkind: List\nitems:\n  # first\n  - a: 1\n    b: [x,\n      y]\n  -\n    c: 2\n  -   d: 3\nmetadata: {}\n";
    let spans = list_item_spans(doc, 8, 3).unwrap();
    let texts: Vec<(&str, usize)> = spans
        .iter()
        .map(|s| (&doc[s.start..s.end], s.indent))
        .collect();
    assert_eq!(
        texts,
        [
            ("  - a: 1\n    b: [x,\n      y]\n", 4),
            ("  -\n    c: 2\n", 4),
            ("  -   d: 3\n", 6),
        ]
    );
    // Sequences at column 0 end at the next top-level key.
    let flush = "kind: List\nitems:\n- a: 1\n- b: 2\nmetadata: {}\n";
    let spans = list_item_spans(flush, 0, 2).unwrap();
    assert_eq!(&flush[spans[1].start..spans[1].end], "- b: 2\n");
    assert_eq!(spans[1].indent, 2);
    // Another count, or flow style: not located, so the List is rendered anew.
    assert_eq!(list_item_spans(flush, 0, 3), None);
    assert_eq!(list_item_spans("kind: List\nitems: [{a: 1}]\n", 0, 1), None);
}

#[test]
fn hint_goes_into_a_list_item_metadata() {
    let item = "  - metadata:\n      name: a\n    kind: SealedSecret\n";
    assert_eq!(
        insert_hint(item, 0, 4, "SHA256:abc").unwrap(),
        "  - metadata:\n      annotations:\n        sealant.dev/key-hint: SHA256:abc\n      name: a\n    kind: SealedSecret\n"
    );
    // A nested `metadata:` (the template's) is not the item's.
    let nested = "  - kind: SealedSecret\n    spec:\n      template:\n        metadata:\n          name: a\n";
    assert_eq!(insert_hint(nested, 0, 4, "SHA256:abc"), None);
}
