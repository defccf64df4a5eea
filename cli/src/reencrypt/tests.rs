//! Scanning of `sealant reencrypt` (the in-place edits are tested with `crate::yamledit`).

use super::scan::list_item_spans;

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
