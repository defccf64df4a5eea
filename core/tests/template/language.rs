//! The template language: actions, pipelines, variables, control flow.

use super::*;

// ---------------------------------------------------------------------------------------------
// The language.

#[test]
fn missing_keys_print_no_value_but_index_gives_empty() {
    assert_eq!(ok("[{{ .nope }}]", &[]), "[<no value>]");
    assert_eq!(ok("[{{ .nope.deeper }}]", &[]), "[<no value>]");
    assert_eq!(ok(r#"[{{ index . "nope" }}]"#, &[]), "[]");
    assert_eq!(ok(r#"[{{ index (dict) "nope" }}]"#, &[]), "[<no value>]");
    assert_eq!(ok("{{ if .nope }}y{{ else }}n{{ end }}", &[]), "n");
}

#[test]
fn range_over_items_is_sorted_by_key() {
    let items: &[(&str, &[u8])] = &[("b", b"2"), ("a", b"1"), ("C", b"3"), ("_", b"4")];
    assert_eq!(
        ok("{{ range $k, $v := . }}{{ $k }}={{ $v }}\n{{ end }}", items),
        "C=3\n_=4\na=1\nb=2\n"
    );
    assert_eq!(ok("{{ range . }}{{ . }}{{ end }}", items), "3412");
}

#[test]
fn trim_markers_and_comments() {
    let items: &[(&str, &[u8])] = &[("a", b"A"), ("debug", b"")];
    assert_eq!(ok("x \n\t {{- .a -}} \n y", items), "xAy");
    assert_eq!(ok("x {{- .a }} y", items), "xA y");
    assert_eq!(ok("x {{ .a -}} y", items), "x Ay");
    assert_eq!(ok("x {{-3}} y", items), "x -3 y");
    assert_eq!(ok("a {{/* note */}} b", items), "a  b");
    assert_eq!(ok("a {{- /* note */ -}} b", items), "ab");
    assert_eq!(
        ok(
            "user: u\n{{- if .debug }}\ndebug: true\n{{- end }}\n",
            items
        ),
        "user: u\n"
    );
}

#[test]
fn variables_scopes_and_assignment() {
    assert_eq!(
        ok(
            r#"{{ $x := "a" }}{{ if true }}{{ $x := "b" }}{{ $x }}{{ end }}{{ $x }}"#,
            &[]
        ),
        "ba"
    );
    assert_eq!(
        ok(
            r#"{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}"#,
            &[]
        ),
        "b"
    );
    assert_eq!(
        ok(
            "{{ range $i, $v := list 7 8 }}{{ $i }}{{ $v }}{{ $.k }}{{ end }}",
            &[("k", b"!")]
        ),
        "07!18!"
    );
    let e = err("{{ $nope }}", &[]);
    assert!(matches!(e, TemplateError::Parse { .. }), "{e:?}");
    assert!(
        e.to_string().contains(r#"undefined variable "$nope""#),
        "{e}"
    );
}

#[test]
fn break_and_continue() {
    assert_eq!(
        ok(
            "{{ range list 1 2 3 4 5 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            &[]
        ),
        "13"
    );
    assert!(matches!(
        err("{{ break }}", &[]),
        TemplateError::Parse { .. }
    ));
}

#[test]
fn binary_values_pass_through_exactly() {
    let all: Vec<u8> = (0..=255).rev().collect();
    let items: &[(&str, &[u8])] = &[("bin", &all)];
    assert_eq!(run("{{ .bin }}", items).unwrap(), all);
    assert_eq!(run(r#"{{ index . "bin" }}"#, items).unwrap(), all);
    assert_eq!(run("{{ .bin | b64enc | b64dec }}", items).unwrap(), all);
    let mut framed = b"<".to_vec();
    framed.extend_from_slice(&all);
    framed.push(b'>');
    assert_eq!(run("<{{ .bin }}>", items).unwrap(), framed);
    assert_eq!(ok("{{ len .bin }}", items), "256");
}

#[test]
fn in_the_wild_patterns() {
    let items: &[(&str, &[u8])] = &[
        ("user", b"app"),
        ("password", b"p@ss word/+"),
        ("cert", b"-----BEGIN-----\nAAA\n-----END-----"),
        ("a", b"  Mixed Case  "),
    ];
    assert_eq!(
        ok(
            "postgres://{{ .user }}:{{ .password | urlquery }}@db:5432/app",
            items
        ),
        "postgres://app:p%40ss+word%2F%2B@db:5432/app"
    );
    assert_eq!(
        ok(
            r#"{"auths":{"registry.example":{"auth":"{{ printf "%s:%s" .user .password | b64enc }}"}}}"#,
            items
        ),
        r#"{"auths":{"registry.example":{"auth":"YXBwOnBAc3Mgd29yZC8r"}}}"#
    );
    assert_eq!(
        ok("tls:\n  cert: |\n{{ .cert | indent 4 }}", items),
        "tls:\n  cert: |\n    -----BEGIN-----\n    AAA\n    -----END-----"
    );
    assert_eq!(
        ok("cert: |{{ .cert | nindent 2 }}", items),
        "cert: |\n  -----BEGIN-----\n  AAA\n  -----END-----"
    );
    assert_eq!(
        ok("{{ .a | trim | upper | quote }}", items),
        r#""MIXED CASE""#
    );
    assert_eq!(
        ok("{{ .a | trim | lower | squote }}", items),
        "'mixed case'"
    );
    assert_eq!(
        ok(r#"{{ replace " " "_" (trim .a) }}"#, items),
        "Mixed_Case"
    );
    assert_eq!(ok(r#"{{ default "fallback" .maybe }}"#, items), "fallback");
    assert_eq!(
        ok(
            "{{ range $k, $v := . }}{{ $k }}={{ $v | b64enc }}\n{{ end }}",
            &items[..2]
        ),
        "password=cEBzcyB3b3JkLys=\nuser=YXBw\n"
    );
}
