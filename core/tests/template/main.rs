//! The template engine (`sealant_core::template`): upstream's vectors (docs/upstream.md,
//! "Upstream's test scenarios"), vectors checked against Go's `text/template`, every function,
//! limits, and that errors never carry secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::collections::BTreeMap;

use proptest::prelude::*;
use sealant_core::SecretBytes;
use sealant_core::sealing::ItemErrors;
use sealant_core::template::{
    MAX_DEPTH, MAX_OUTPUT, TemplateError, TemplateErrors, check, render, render_all,
};

fn data(items: &[(&str, &[u8])]) -> BTreeMap<String, SecretBytes> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), SecretBytes::from_slice(v)))
        .collect()
}

fn run(source: &str, items: &[(&str, &[u8])]) -> Result<Vec<u8>, TemplateError> {
    render(source, "t", &data(items)).map(|out| out.expose_secret().to_vec())
}

fn ok(source: &str, items: &[(&str, &[u8])]) -> String {
    match run(source, items) {
        Ok(out) => String::from_utf8(out).unwrap(),
        Err(err) => panic!("{source:?} failed: {err}"),
    }
}

fn err(source: &str, items: &[(&str, &[u8])]) -> TemplateError {
    match run(source, items) {
        Ok(out) => {
            let shown: String = String::from_utf8_lossy(&out).chars().take(200).collect();
            panic!("{source:?} rendered {} bytes: {shown:?}", out.len())
        }
        Err(err) => err,
    }
}

// ---------------------------------------------------------------------------------------------
// Upstream's vectors (docs/upstream.md, "Upstream's test scenarios": its sealedsecret_test.go).

#[test]
fn upstream_index_vector() {
    assert_eq!(
        ok(r#"secret {{ index . "foo" }} !"#, &[("foo", b"bar")]),
        "secret bar !"
    );
}

#[test]
fn upstream_to_json_vector() {
    // Exactly what Go's json.Marshal writes for the string.
    assert_eq!(
        ok("{{ toJson .password }}", &[("password", b"hunter2'\"=")]),
        r#""hunter2'\"=""#
    );
}

#[test]
fn template_only_secret() {
    let templates = BTreeMap::from([("foo".to_owned(), "bar".to_owned())]);
    let rendered = render_all(&templates, &BTreeMap::new()).unwrap();
    assert_eq!(rendered["foo"].expose_secret(), b"bar");
}

// ---------------------------------------------------------------------------------------------
// Vectors checked against Go. Produced by running every template through Go 1.19's
// text/template (with Sprig's functions restated from Sprig's source) and sealant; listed only
// where both agree. Cases where upstream's Go ≥ 1.22 differs from Go 1.19 (JSON `\b`/`\f`,
// `range` over integers, `else with`) are tested separately below. Error texts are sealant's,
// which equal Go's except that parse errors also carry a column.

fn rich_data() -> BTreeMap<String, SecretBytes> {
    let bin: Vec<u8> = (0..=255).collect();
    let items: &[(&str, &[u8])] = &[
        ("password", b"hunter2'\"="),
        ("user", b"admin"),
        ("foo", b"bar"),
        ("empty", b""),
        ("bin", &bin),
        ("num", b"42"),
        ("neg", b"-7"),
        ("flt", b"3.50"),
        ("hex", b"0x1F"),
        (
            "json",
            br#"{"a":[1,2.5,"x",1e21,1e-7,100000000],"b":null,"c":{"d":true},"e":"<&>"}"#,
        ),
        ("multi", b"line1\nline2\n"),
        ("space", b"  padded\t\n"),
        ("uni", "héllo wörld ßǆ İ".as_bytes()),
        ("html", b"<a href='x'>&amp;</a>"),
        ("debug", b"true"),
        (
            "ctrl",
            "a\0b\u{7}c\u{1b}d\u{7f}e\u{2028}f\u{feff}".as_bytes(),
        ),
        ("bad", b"ok\xff\xfe\xe2\x82end"),
        ("csv", b"a,b,,c"),
        ("url", "a b&c=d/é?".as_bytes()),
    ];
    data(items)
}

fn plain_data() -> BTreeMap<String, SecretBytes> {
    data(&[
        ("password", b"hunter2"),
        ("user", b"admin"),
        ("foo", b"bar"),
        ("empty", b""),
        ("num", b"42"),
        ("multi", b"l1\nl2"),
    ])
}

/// One vector of core/tests/vectors/template/*.json: a template and what Go printed for it
/// (`output`, or `output_hex` where it is not UTF-8) or its error text.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    template: String,
    output: Option<String>,
    output_hex: Option<String>,
    error: Option<String>,
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("output_hex is hex"))
        .collect()
}

fn load_vectors(file: &str) -> Vec<Vector> {
    let path = format!(
        "{}/tests/vectors/template/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let vectors: Vec<Vector> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        vectors.len() > 100,
        "{path}: only {} vectors",
        vectors.len()
    );
    vectors
}

fn check_vectors(file: &str, items: &BTreeMap<String, SecretBytes>) {
    let mut failures = Vec::new();
    for vector in load_vectors(file) {
        let expected: Result<Vec<u8>, String> =
            match (&vector.output, &vector.output_hex, &vector.error) {
                (Some(text), None, None) => Ok(text.as_bytes().to_vec()),
                (None, Some(hex), None) => Ok(unhex(hex)),
                (None, None, Some(error)) => Err(error.clone()),
                _ => panic!(
                    "{file}: {:?} needs exactly one of output, output_hex, error",
                    vector.template
                ),
            };
        let source = &vector.template;
        let got = render(source, "t", items);
        let matches = match (&got, &expected) {
            (Ok(out), Ok(want)) => out.expose_secret() == want.as_slice(),
            (Err(err), Err(want)) => err.to_string() == *want,
            _ => false,
        };
        if !matches {
            let got = match got {
                Ok(out) => format!("{:?}", String::from_utf8_lossy(out.expose_secret())),
                Err(err) => format!("error {err}"),
            };
            let expected = expected.map(|w| String::from_utf8_lossy(&w).into_owned());
            failures.push(format!("{source:?}\n  want {expected:?}\n  got  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn go_vectors_with_rich_data() {
    check_vectors("go-rich.json", &rich_data());
}

#[test]
fn go_vectors_with_plain_data() {
    check_vectors("go-plain.json", &plain_data());
}

// ---------------------------------------------------------------------------------------------
// Behaviour of upstream's Go (≥ 1.22) that Go 1.19 lacks.

#[test]
fn json_escapes_backspace_and_form_feed_like_go_1_22() {
    assert_eq!(
        ok("{{ toJson .x }}", &[("x", b"\x08\x0c\x01<")]),
        r#""\b\f\u0001\u003c""#
    );
}

#[test]
fn range_over_an_integer() {
    assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", &[]), "012");
    assert_eq!(ok("{{ range $i := 2 }}[{{ $i }}]{{ end }}", &[]), "[0][1]");
    assert_eq!(ok("{{ range 0 }}x{{ else }}none{{ end }}", &[]), "none");
    let e = err("{{ range $i, $j := 2 }}{{ end }}", &[]);
    assert!(e.to_string().contains("more than one variable"), "{e}");
}

#[test]
fn else_with_chains() {
    let t = "{{ with .a }}a={{ . }}{{ else with .b }}b={{ . }}{{ else }}none{{ end }}";
    assert_eq!(ok(t, &[("a", b"1"), ("b", b"2")]), "a=1");
    assert_eq!(ok(t, &[("b", b"2")]), "b=2");
    assert_eq!(ok(t, &[]), "none");
}

#[test]
fn range_assigns_to_existing_variables() {
    let t = "{{ $k := \"\" }}{{ $v := \"\" }}{{ range $k, $v = . }}{{ end }}{{ $k }}={{ $v }}";
    assert_eq!(ok(t, &[("a", b"1"), ("b", b"2")]), "b=2");
}

mod functions;
mod language;
mod limits;
