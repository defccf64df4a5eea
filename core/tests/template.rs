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

fn check_vectors(vectors: &[(&str, Result<&[u8], &str>)], items: &BTreeMap<String, SecretBytes>) {
    let mut failures = Vec::new();
    for (source, expected) in vectors {
        let got = render(source, "t", items);
        let matches = match (&got, expected) {
            (Ok(out), Ok(want)) => out.expose_secret() == *want,
            (Err(err), Err(want)) => err.to_string() == *want,
            _ => false,
        };
        if !matches {
            let got = match got {
                Ok(out) => format!("{:?}", String::from_utf8_lossy(out.expose_secret())),
                Err(err) => format!("error {err}"),
            };
            failures.push(format!("{source:?}\n  want {expected:?}\n  got  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn go_vectors_with_rich_data() {
    check_vectors(GO_VECTORS_RICH, &rich_data());
}

#[test]
fn go_vectors_with_plain_data() {
    check_vectors(GO_VECTORS_PLAIN, &plain_data());
}

const GO_VECTORS_RICH: &[(&str, Result<&[u8], &str>)] = &[
    ("secret {{ index . \"foo\" }} !", Ok(b"secret bar !")),
    ("{{ toJson .password }}", Ok(b"\"hunter2'\\\"=\"")),
    ("{{ .password }}", Ok(b"hunter2'\"=")),
    ("{{ .missing }}", Ok(b"<no value>")),
    ("{{ index . \"missing\" }}", Ok(b"")),
    ("{{ .bin }}", Ok(b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff")),
    ("x{{ .bin }}y", Ok(b"x\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xffy")),
    ("{{ .user | b64enc }}", Ok(b"YWRtaW4=")),
    ("{{ printf \"%s:%s\" .user .password | b64enc }}", Ok(b"YWRtaW46aHVudGVyMiciPQ==")),
    ("postgres://{{ .user }}:{{ .password | urlquery }}@db:5432/app", Ok(b"postgres://admin:hunter2%27%22%3D@db:5432/app")),
    ("{{- if .debug }}DEBUG{{ end }}", Ok(b"DEBUG")),
    ("{{ if .empty }}yes{{ else }}no{{ end }}", Ok(b"no")),
    ("{{ range $k, $v := . }}{{ $k }}={{ len $v }};{{ end }}", Ok(b"bad=9;bin=256;csv=6;ctrl=16;debug=4;empty=0;flt=4;foo=3;hex=4;html=21;json=71;multi=12;neg=2;num=2;password=10;space=10;uni=21;url=11;user=5;")),
    ("{{ default \"x\" .maybe }}", Ok(b"x")),
    ("{{ default \"x\" .foo }}", Ok(b"bar")),
    ("{{ default \"x\" .empty }}", Ok(b"x")),
    ("{{ .password | quote }}", Ok(b"\"hunter2'\\\"=\"")),
    ("{{ .password | squote }}", Ok(b"'hunter2'\"='")),
    ("{{ upper .uni }}", Ok(b"H\xc3\x89LLO W\xc3\x96RLD \xc3\x9f\xc7\x84 \xc4\xb0")),
    ("{{ lower .uni }}", Ok(b"h\xc3\xa9llo w\xc3\xb6rld \xc3\x9f\xc7\x86 i")),
    ("{{ title \"hello wide_world foo-bar 1a\" }}", Ok(b"Hello Wide_world Foo-Bar 1a")),
    ("{{ trim .space }}", Ok(b"padded")),
    ("{{ replace \"a\" \"b\" \"banana\" }}", Ok(b"bbnbnb")),
    ("{{ replace \"\" \"-\" \"héllo\" }}", Ok(b"-h-\xc3\xa9-l-l-o-")),
    ("{{ replace \"\" \"-\" .bad }}", Ok(b"-o-k-\xff-\xfe-\xe2-\x82-e-n-d-")),
    ("{\"auths\":{\"r\":{\"auth\":\"{{ printf \"%s:%s\" .user .password | b64enc }}\"}}}", Ok(b"{\"auths\":{\"r\":{\"auth\":\"YWRtaW46aHVudGVyMiciPQ==\"}}}")),
    ("{{ .multi | indent 4 }}", Ok(b"    line1\n    line2\n    ")),
    ("{{ .multi | nindent 2 }}", Ok(b"\n  line1\n  line2\n  ")),
    ("{{ toJson .json }}", Ok(b"\"{\\\"a\\\":[1,2.5,\\\"x\\\",1e21,1e-7,100000000],\\\"b\\\":null,\\\"c\\\":{\\\"d\\\":true},\\\"e\\\":\\\"\\u003c\\u0026\\u003e\\\"}\"")),
    ("{{ toJson .ctrl }}", Ok(b"\"a\\u0000b\\u0007c\\u001bd\x7fe\\u2028f\xef\xbb\xbf\"")),
    ("{{ toJson .bad }}", Ok(b"\"ok\\ufffd\\ufffd\\ufffd\\ufffdend\"")),
    ("{{ toJson .html }}", Ok(b"\"\\u003ca href='x'\\u003e\\u0026amp;\\u003c/a\\u003e\"")),
    ("{{ toRawJson .html }}", Ok(b"\"<a href='x'>&amp;</a>\"")),
    ("{{ fromJson .json }}", Ok(b"map[a:[1 2.5 x 1e+21 1e-07 1e+08] b:<nil> c:map[d:true] e:<&>]")),
    ("{{ (fromJson .json).a }}", Ok(b"[1 2.5 x 1e+21 1e-07 1e+08]")),
    ("{{ index (fromJson .json) \"a\" 1 }}", Ok(b"2.5")),
    ("{{ toJson (fromJson .json) }}", Ok(b"{\"a\":[1,2.5,\"x\",1e+21,1e-7,100000000],\"b\":null,\"c\":{\"d\":true},\"e\":\"\\u003c\\u0026\\u003e\"}")),
    ("{{ toPrettyJson (fromJson .json) }}", Ok(b"{\n  \"a\": [\n    1,\n    2.5,\n    \"x\",\n    1e+21,\n    1e-7,\n    100000000\n  ],\n  \"b\": null,\n  \"c\": {\n    \"d\": true\n  },\n  \"e\": \"\\u003c\\u0026\\u003e\"\n}")),
    ("{{ range (fromJson .json).a }}[{{ . }}]{{ end }}", Ok(b"[1][2.5][x][1e+21][1e-07][1e+08]")),
    ("{{ quote .ctrl }}", Ok(b"\"a\\x00b\\ac\\x1bd\\x7fe\\u2028f\\ufeff\"")),
    ("{{ quote .bad }}", Ok(b"\"ok\\xff\\xfe\\xe2\\x82end\"")),
    ("{{ quote .uni }}", Ok(b"\"h\xc3\xa9llo w\xc3\xb6rld \xc3\x9f\xc7\x86 \xc4\xb0\"")),
    ("{{ printf \"%q\" .ctrl }}", Ok(b"\"a\\x00b\\ac\\x1bd\\x7fe\\u2028f\\ufeff\"")),
    ("{{ printf \"%+q\" .uni }}", Ok(b"\"h\\u00e9llo w\\u00f6rld \\u00df\\u01c6 \\u0130\"")),
    ("{{ printf \"%#q\" .user }}", Ok(b"`admin`")),
    ("{{ printf \"%x\" .user }}", Ok(b"61646d696e")),
    ("{{ printf \"% X\" .user }}", Ok(b"61 64 6D 69 6E")),
    ("{{ printf \"%# x\" .user }}", Ok(b"0x61 0x64 0x6d 0x69 0x6e")),
    ("{{ printf \"%d\" .user }}", Ok(b"%!d(string=admin)")),
    ("{{ printf \"%5s|%-5s|%.2s\" \"ab\" \"cd\" \"héllo\" }}", Ok(b"   ab|cd   |h\xc3\xa9")),
    ("{{ printf \"%05d|%-5d|%+d|% d|%x|%X|%o|%O|%b|%#x|%#o\" 42 42 42 42 255 255 8 8 5 255 8 }}", Ok(b"00042|42   |+42| 42|ff|FF|10|0o10|101|0xff|010")),
    ("{{ printf \"%c|%q|%U\" 65 66 67 }}", Ok(b"A|'B'|U+0043")),
    ("{{ printf \"%v %v %v\" 1.5 1e6 1e21 }}", Ok(b"1.5 1e+06 1e+21")),
    ("{{ printf \"%f|%.2f|%e|%E|%g|%G|%.3g\" 3.14159 3.14159 1234.5678 0.000012 100000.0 1e-7 3.14159 }}", Ok(b"3.141590|3.14|1.234568e+03|1.200000E-05|100000|1E-07|3.14")),
    ("{{ printf \"%8.3f|%-8.2f|%08.3f|%+.1e\" 3.14159 2.5 -3.14159 12345.678 }}", Ok(b"   3.142|2.50    |-003.142|+1.2e+04")),
    ("{{ printf \"%t %v\" true false }}", Ok(b"true false")),
    ("{{ printf \"%s\" }}", Ok(b"%!s(MISSING)")),
    ("{{ printf \"%s %s\" \"a\" }}", Ok(b"a %!s(MISSING)")),
    ("{{ printf \"%s\" \"a\" \"b\" 3 }}", Ok(b"a%!(EXTRA string=b, int=3)")),
    ("{{ printf \"%!\" }}", Ok(b"%!!(MISSING)")),
    ("{{ printf \"%\" }}", Ok(b"%!(NOVERB)")),
    ("{{ printf \"%z\" 3 }}", Ok(b"%!z(int=3)")),
    ("{{ printf \"%[2]s %[1]s\" \"a\" \"b\" }}", Ok(b"b a")),
    ("{{ printf \"%[3]s\" \"a\" }}", Ok(b"%!s(BADINDEX)")),
    ("{{ printf \"%*d|%-*d|%.*f\" 5 1 4 2 2 3.14159 }}", Ok(b"    1|2   |3.14")),
    ("{{ printf \"%v\" (list 1 \"a\" nil (list 2)) }}", Ok(b"[1 a <nil> [2]]")),
    ("{{ printf \"%d\" (list 1 \"a\") }}", Ok(b"[1 %!d(string=a)]")),
    ("{{ printf \"%s\" (dict \"k\" 1 \"j\" \"v\") }}", Ok(b"map[j:v k:%!s(int=1)]")),
    ("{{ printf \"%T %T %T %T %T %T\" 1 \"a\" 1.5 true (list) (dict) }}", Ok(b"int string float64 bool []interface {} map[string]interface {}")),
    ("{{ printf \"%T\" .foo }}", Ok(b"string")),
    ("{{ printf \"%T\" . }}", Ok(b"map[string]string")),
    ("{{ printf \"%v\" . }}", Ok(b"map[bad:ok\xff\xfe\xe2\x82end bin:\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff csv:a,b,,c ctrl:a\x00b\x07c\x1bd\x7fe\xe2\x80\xa8f\xef\xbb\xbf debug:true empty: flt:3.50 foo:bar hex:0x1F html:<a href='x'>&amp;</a> json:{\"a\":[1,2.5,\"x\",1e21,1e-7,100000000],\"b\":null,\"c\":{\"d\":true},\"e\":\"<&>\"} multi:line1\nline2\n neg:-7 num:42 password:hunter2'\"= space:  padded\t\n uni:h\xc3\xa9llo w\xc3\xb6rld \xc3\x9f\xc7\x86 \xc4\xb0 url:a b&c=d/\xc3\xa9? user:admin]")),
    ("{{ . }}", Ok(b"map[bad:ok\xff\xfe\xe2\x82end bin:\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff csv:a,b,,c ctrl:a\x00b\x07c\x1bd\x7fe\xe2\x80\xa8f\xef\xbb\xbf debug:true empty: flt:3.50 foo:bar hex:0x1F html:<a href='x'>&amp;</a> json:{\"a\":[1,2.5,\"x\",1e21,1e-7,100000000],\"b\":null,\"c\":{\"d\":true},\"e\":\"<&>\"} multi:line1\nline2\n neg:-7 num:42 password:hunter2'\"= space:  padded\t\n uni:h\xc3\xa9llo w\xc3\xb6rld \xc3\x9f\xc7\x86 \xc4\xb0 url:a b&c=d/\xc3\xa9? user:admin]")),
    ("{{ print 1 2 \"a\" \"b\" 3 nil 4 }}", Ok(b"1 2ab3 <nil> 4")),
    ("{{ println 1 \"a\" nil }}", Ok(b"1 a <nil>\n")),
    ("{{ print .missing }}", Ok(b"<nil>")),
    ("{{ html .html }}", Ok(b"&lt;a href=&#39;x&#39;&gt;&amp;amp;&lt;/a&gt;")),
    ("{{ html .missing }}", Ok(b"&lt;no value&gt;")),
    ("{{ js .html }}", Ok(b"\\u003Ca href\\u003D\\'x\\'\\u003E\\u0026amp;\\u003C/a\\u003E")),
    ("{{ js .ctrl }}", Ok(b"a\\u0000b\\u0007c\\u001Bd\x7fe\\u2028f\\uFEFF")),
    ("{{ urlquery .url }}", Ok(b"a+b%26c%3Dd%2F%C3%A9%3F")),
    ("{{ urlquery \"a\" 1 }}", Ok(b"a1")),
    ("{{ and 1 0 2 }}", Ok(b"0")),
    ("{{ and 1 2 }}", Ok(b"2")),
    ("{{ or 0 \"\" \"x\" }}", Ok(b"x")),
    ("{{ or 0 \"\" }}", Ok(b"")),
    ("{{ not .empty }}", Ok(b"true")),
    ("{{ len .password }}", Ok(b"10")),
    ("{{ len (list 1 2) }}", Ok(b"2")),
    ("{{ eq .foo \"bar\" }}", Ok(b"true")),
    ("{{ eq .foo \"x\" \"bar\" }}", Ok(b"true")),
    ("{{ ne 1 2 }}", Ok(b"true")),
    ("{{ lt 1 2 }}{{ le 2 2 }}{{ gt \"b\" \"a\" }}{{ ge 1.5 2.5 }}", Ok(b"truetruetruefalse")),
    ("{{ eq .missing \"x\" }}", Ok(b"false")),
    ("{{ eq 1 \"1\" }}", Err("template: t:1:3: executing \"t\" at <eq 1 \"1\">: error calling eq: incompatible types for comparison")),
    ("{{ lt true false }}", Err("template: t:1:3: executing \"t\" at <lt true false>: error calling lt: invalid type for comparison")),
    ("{{ index \"abc\" 1 }}", Ok(b"98")),
    ("{{ index (list \"a\" \"b\") 1 }}", Ok(b"b")),
    ("{{ index (dict \"a\" 1) \"b\" }}", Ok(b"<no value>")),
    ("{{ index .missing 1 }}", Err("template: t:1:3: executing \"t\" at <index .missing 1>: error calling index: index of untyped nil")),
    ("{{ index . 1 }}", Err("template: t:1:3: executing \"t\" at <index . 1>: error calling index: value has type int; should be string")),
    ("{{ contains \"unt\" .password }}{{ hasPrefix \"hun\" .password }}{{ hasSuffix \"=\" .password }}", Ok(b"truetruetrue")),
    ("{{ trimAll \"$\" \"$$a$b$$\" }}", Ok(b"a$b")),
    ("{{ trimAll \"é\" \"éaé\" }}", Ok(b"a")),
    ("{{ trimPrefix \"hun\" .password }}|{{ trimSuffix \"=\" .password }}", Ok(b"ter2'\"=|hunter2'\"")),
    ("{{ nospace .space }}", Ok(b"padded")),
    ("{{ nospace .uni }}", Ok(b"h\xc3\x83\xc2\xa9llow\xc3\x83\xc2\xb6rld\xc3\x83\xc2\x9f\xc3\x87\xc2\x86\xc3\x84\xc2\xb0")),
    ("{{ nospace \"a b\\u00a0c\" }}", Ok(b"ab\xc3\x82c")),
    ("{{ repeat 3 \"ab\" }}", Ok(b"ababab")),
    ("{{ substr 1 3 \"hello\" }}|{{ substr -1 3 \"hello\" }}|{{ substr 2 -1 \"hello\" }}|{{ substr 2 99 \"hello\" }}", Ok(b"el|hel|llo|llo")),
    ("{{ trunc 3 \"hello\" }}|{{ trunc -3 \"hello\" }}|{{ trunc 99 \"hello\" }}|{{ trunc -99 \"hello\" }}", Ok(b"hel|llo|hello|hello")),
    ("{{ split \",\" .csv }}", Ok(b"map[_0:a _1:b _2: _3:c]")),
    ("{{ (split \",\" .csv)._1 }}", Ok(b"b")),
    ("{{ splitList \",\" .csv }}", Ok(b"[a b  c]")),
    ("{{ splitList \"\" \"héy\" }}", Ok(b"[h \xc3\xa9 y]")),
    ("{{ splitList \"\" .bad }}", Ok(b"[o k \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd e n d]")),
    ("{{ join \"-\" (splitList \",\" .csv) }}", Ok(b"a-b--c")),
    ("{{ join \"-\" (list 1 nil \"a\") }}", Ok(b"1-a")),
    ("{{ join \"-\" \"abc\" }}", Ok(b"abc")),
    ("{{ list 1 2 }}", Ok(b"[1 2]")),
    ("{{ dict \"a\" 1 \"b\" }}", Ok(b"map[a:1 b:]")),
    ("{{ get (dict \"a\" 1) \"a\" }}|{{ get (dict \"a\" 1) \"b\" }}", Ok(b"1|")),
    ("{{ hasKey (dict \"a\" 1) \"a\" }}", Ok(b"true")),
    ("{{ keys (dict \"b\" 1 \"a\" 2) (dict \"c\" 3) }}", Ok(b"[a b c]")),
    ("{{ sha256sum .password }}", Ok(b"faa1d7cb4bc07f396aa9ba3a7f6f5f2227b16d2b5f9154760af05d59ebaf8287")),
    ("{{ sha1sum .password }}", Ok(b"cad44d09f2116e19be5bf4d748df9f4d39bc002f")),
    ("{{ adler32sum .password }}", Ok(b"355009359")),
    ("{{ cat \"a\" 1 nil (list 2) }}", Ok(b"a 1 [2]")),
    ("{{ toString 42 }}{{ toString 1.5 }}{{ toString nil }}", Ok(b"421.5<nil>")),
    ("{{ atoi .num }}|{{ atoi .neg }}|{{ atoi \"x\" }}|{{ atoi \"99999999999999999999\" }}|{{ atoi \" 1\" }}", Ok(b"42|-7|0|9223372036854775807|0")),
    ("{{ int .num }}|{{ int .flt }}|{{ int \"3.00\" }}|{{ int .hex }}|{{ int \"010\" }}|{{ int \"08\" }}|{{ int 2.9 }}|{{ int true }}", Ok(b"42|0|3|31|8|0|2|1")),
    ("{{ int64 \"1_000\" }}|{{ float64 .flt }}|{{ float64 \"x\" }}|{{ float64 3 }}", Ok(b"1000|3.5|0|3")),
    ("{{ add 1 2 \"3\" }}|{{ add1 .num }}|{{ sub 1 .num }}|{{ mul 2 3 4 }}|{{ div 7 2 }}|{{ mod -7 2 }}|{{ max 1 5 3 }}|{{ min 1 5 -3 }}", Ok(b"6|43|-41|24|3|-1|5|-3")),
    ("{{ div 1 0 }}", Err("template: t:1:3: executing \"t\" at <div 1 0>: error calling div: runtime error: integer divide by zero")),
    ("{{ ternary \"a\" \"b\" true }}{{ ternary \"a\" \"b\" false }}", Ok(b"ab")),
    ("{{ true | ternary \"y\" \"n\" }}", Ok(b"y")),
    ("{{ empty \"\" }}{{ empty 0 }}{{ empty (list) }}{{ empty .foo }}{{ empty .missing }}", Ok(b"truetruetruefalsetrue")),
    ("{{ coalesce .empty .missing .foo }}", Ok(b"bar")),
    ("{{ coalesce .empty }}", Ok(b"<no value>")),
    ("{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}", Ok(b"12")),
    ("{{ $x := \"a\" }}{{ if true }}{{ $x := \"b\" }}{{ $x }}{{ end }}{{ $x }}", Ok(b"ba")),
    ("{{ $x := \"a\" }}{{ if true }}{{ $x = \"b\" }}{{ end }}{{ $x }}", Ok(b"b")),
    ("{{ with .foo }}{{ . }}{{ else }}none{{ end }}", Ok(b"bar")),
    ("{{ with .missing }}{{ . }}{{ else }}none{{ end }}", Ok(b"none")),
    ("{{ with $v := .foo }}{{ $v }}{{ end }}", Ok(b"bar")),
    ("{{ if eq .foo \"x\" }}1{{ else if eq .foo \"bar\" }}2{{ else }}3{{ end }}", Ok(b"2")),
    ("{{ if $a := .foo }}{{ $a }}{{ end }}", Ok(b"bar")),
    ("{{ range (list) }}x{{ else }}empty{{ end }}", Ok(b"empty")),
    ("{{ range $i, $e := list \"a\" \"b\" }}{{ $i }}:{{ $e }} {{ end }}", Ok(b"0:a 1:b ")),
    ("{{ range $e := list \"a\" \"b\" }}{{ $e }}{{ end }}", Ok(b"ab")),
    ("{{ range list 1 2 3 4 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}", Ok(b"13")),
    ("{{ range .missing }}x{{ else }}nothing{{ end }}", Ok(b"nothing")),
    ("{{ range $k, $v := dict \"b\" 2 \"a\" 1 }}{{ $k }}{{ $v }}{{ end }}", Ok(b"a1b2")),
    ("{{ $ }}", Ok(b"map[bad:ok\xff\xfe\xe2\x82end bin:\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff csv:a,b,,c ctrl:a\x00b\x07c\x1bd\x7fe\xe2\x80\xa8f\xef\xbb\xbf debug:true empty: flt:3.50 foo:bar hex:0x1F html:<a href='x'>&amp;</a> json:{\"a\":[1,2.5,\"x\",1e21,1e-7,100000000],\"b\":null,\"c\":{\"d\":true},\"e\":\"<&>\"} multi:line1\nline2\n neg:-7 num:42 password:hunter2'\"= space:  padded\t\n uni:h\xc3\xa9llo w\xc3\xb6rld \xc3\x9f\xc7\x86 \xc4\xb0 url:a b&c=d/\xc3\xa9? user:admin]")),
    ("{{ $.foo }}", Ok(b"bar")),
    ("{{ range list 1 }}{{ $.foo }}{{ end }}", Ok(b"bar")),
    ("{{/* a comment */}}x", Ok(b"x")),
    ("a  {{- /* trimmed */ -}}  b", Ok(b"ab")),
    ("a {{- 3 -}} b", Ok(b"a3b")),
    ("a {{-3}} b", Ok(b"a -3 b")),
    ("{{ 3 }} {{ -3 }} {{ +3 }} {{ 1.5 }} {{ 1e3 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 'a' }} {{ '\\n' }} {{ .5 }}", Ok(b"3 -3 3 1.5 1000 31 15 5 1000 97 10 0.5")),
    ("{{ \"a\\tb\\u00e9\\x41\\101\" }}", Ok(b"a\tb\xc3\xa9AA")),
    ("{{ `raw\\n` }}", Ok(b"raw\\n")),
    ("{{ nil }}", Err("template: t:1:3: executing \"t\" at <nil>: nil is not a command")),
    ("{{ .foo.bar }}", Err("template: t:1:7: executing \"t\" at <.foo.bar>: can't evaluate field bar in type string")),
    ("{{ .missing.bar }}", Ok(b"<no value>")),
    ("{{ (dict \"a\" (dict \"b\" 1)).a.b }}", Ok(b"1")),
    ("{{ $.foo.x }}", Err("template: t:1:4: executing \"t\" at <$.foo.x>: can't evaluate field x in type string")),
    ("{{ .foo 1 }}", Err("template: t:1:3: executing \"t\" at <.foo>: foo is not a method but has arguments")),
    ("{{ \"x\" | .foo }}", Err("template: t:1:9: executing \"t\" at <.foo>: foo is not a method but has arguments")),
    ("{{ \"x\" | printf \"%s-%s\" \"y\" }}", Ok(b"y-x")),
    ("{{ 1 | 2 }}", Err("template: t:1:9: non executable command in pipeline stage 2")),
    ("{{ upper 1 }}", Err("template: t:1:9: executing \"t\" at <1>: expected string; found 1")),
    ("{{ upper .missing }}", Err("template: t:1:9: executing \"t\" at <.missing>: invalid value; expected string")),
    ("{{ indent \"2\" .foo }}", Err("template: t:1:10: executing \"t\" at <\"2\">: expected integer; found \"2\"")),
    ("{{ indent 1.5 .foo }}", Err("template: t:1:10: executing \"t\" at <1.5>: expected integer; found 1.5")),
    ("{{ indent 2.0 .foo }}", Ok(b"  bar")),
    ("{{ upper \"a\" \"b\" }}", Err("template: t:1:3: executing \"t\" at <upper>: wrong number of args for upper: want 1 got 2")),
    ("{{ printf }}", Err("template: t:1:3: executing \"t\" at <printf>: wrong number of args for printf: want at least 1 got 0")),
    ("{{ .foo | }}", Ok(b"bar")),
    ("{{ | .foo }}", Err("template: t:1:3: unexpected \"|\" in command")),
    ("{{ .foo", Err("template: t:1:7: unclosed action")),
    ("{{ if .foo }}", Err("template: t:1:13: unexpected EOF")),
    ("{{ end }}", Err("template: t:1:7: unexpected {{end}}")),
    ("{{ else }}", Err("template: t:1:8: unexpected {{else}}")),
    ("{{ range $i, $j, $k := . }}{{ end }}", Err("template: t:1:15: too many declarations in range")),
    ("{{ $undefined }}", Err("template: t:1:3: undefined variable \"$undefined\"")),
    ("{{ .foo } }}", Err("template: t:1:8: unexpected \"}\" in operand")),
    ("{{ \"unterminated }}", Err("template: t:1:3: unterminated quoted string")),
    ("{{ 'ab' }}", Err("template: t:1:3: malformed character constant: 'ab'")),
    ("{{ 1a }}", Err("template: t:1:3: bad number syntax: \"1a\"")),
    ("{{ 9223372036854775808 }}", Err("template: t:1:3: executing \"t\" at <9223372036854775808>: 9223372036854775808 overflows int")),
    ("{{ 18446744073709551616 }}", Err("template: t:1:3: integer overflow: \"18446744073709551616\"")),
    ("{{ .a!b }}", Err("template: t:1:3: bad character U+0021 '!'")),
    ("{{ ( .foo }}", Err("template: t:1:10: unclosed left paren")),
    ("{{ .foo ) }}", Err("template: t:1:8: unexpected \")\" in command")),
    ("{{ break }}", Err("template: t:1:9: {{break}} outside {{range}}")),
    ("{{ if }}{{ end }}", Err("template: t:1:6: missing value for if")),
    ("{{ range .foo }}{{ else }}{{ else }}{{ end }}", Err("template: t:1:34: expected end; found {{else}}")),
    ("{{/* unclosed", Err("template: t:1:0: unclosed comment")),
    ("{{/* x */ }}", Err("template: t:1:9: comment ends before closing delimiter")),
    ("{{ $x := 1 }}{{ $x.y }}", Err("template: t:1:18: executing \"t\" at <$x.y>: can't evaluate field y in type int")),
    ("{{ index (dict \"a\" (list 1 2)) \"a\" 1 }}", Ok(b"2")),
    ("{{ len 3 }}", Err("template: t:1:3: executing \"t\" at <len 3>: error calling len: len of type int")),
    ("{{ not }}", Err("template: t:1:3: executing \"t\" at <not>: wrong number of args for not: want 1 got 0")),
    ("{{ and }}", Err("template: t:1:3: executing \"t\" at <and>: wrong number of args for and: want at least 1 got 0")),
    ("{{ eq 1 }}", Err("template: t:1:3: executing \"t\" at <eq 1>: error calling eq: missing argument for comparison")),
    ("{{ printf \"%s\" (fromJson \"[1,2\") }}", Ok(b"%!s(<nil>)")),
    ("{{ fromJson \"1234567\" }}|{{ fromJson \"0.000001\" }}|{{ fromJson \"1e-7\" }}|{{ fromJson \"-0\" }}|{{ fromJson \"123456\" }}", Ok(b"1.234567e+06|1e-06|1e-07|-0|123456")),
    ("{{ toJson (fromJson \"[1e21, 1e20, 0.000001, 1e-7, -0.0, 123.456]\") }}", Ok(b"[1e+21,100000000000000000000,0.000001,1e-7,-0,123.456]")),
    ("{{ toJson 1.5 }}{{ toJson 3 }}{{ toJson true }}{{ toJson nil }}{{ toJson .missing }}", Ok(b"1.53truenullnull")),
    ("{{ toPrettyJson (list) }}{{ toPrettyJson (dict) }}{{ toPrettyJson (list (dict \"a\" (list))) }}", Ok(b"[]{}[\n  {\n    \"a\": []\n  }\n]")),
    ("{{ b64dec .bad }}", Ok(b"illegal base64 data at input byte 2")),
    ("{{ upper .bad }}", Ok(b"OK\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdEND")),
    ("{{ title .bad }}", Ok(b"Ok\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdend")),
    ("{{ trim .bad }}", Ok(b"ok\xff\xfe\xe2\x82end")),
    ("{{ printf \"%q\" .bad }}", Ok(b"\"ok\\xff\\xfe\\xe2\\x82end\"")),
    ("{{ printf \"%x\" .bad }}", Ok(b"6f6bfffee282656e64")),
    ("{{ printf \"%s\" .bad }}", Ok(b"ok\xff\xfe\xe2\x82end")),
    ("{{ js .bad }}", Ok(b"ok\xff\xfe\xe2\x82end")),
    ("{{ html .bad }}", Ok(b"ok\xff\xfe\xe2\x82end")),
    ("{{ urlquery .bad }}", Ok(b"ok%FF%FE%E2%82end")),
    ("{{ lt 1 1.5 }}", Err("template: t:1:3: executing \"t\" at <lt 1 1.5>: error calling lt: incompatible types for comparison")),
    ("{{ eq 1 1.0 }}", Err("template: t:1:3: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for comparison")),
    ("{{ printf \"%d %s\" 1 }}", Ok(b"1 %!s(MISSING)")),
    ("{{ printf \"%.0d|%.3d|%8.3d|%-8.3d|%x\" 0 7 7 7 -255 }}", Ok(b"|007|     007|007     |-ff")),
    ("{{ printf \"%6.2v|%v\" 3.14159 -0.0 }}", Ok(b"   3.1|-0")),
    ("{{ printf \"%e %g %g %g %g\" 0.0 0.0 1e-5 123456789.0 0.0001 }}", Ok(b"0.000000e+00 0 1e-05 1.23456789e+08 0.0001")),
    ("{{ printf \"%.1f %.0f %.0f %.0f\" 0.05 0.5 1.5 2.5 }}", Ok(b"0.1 0 2 2")),
    ("{{ printf \"%.30f\" 0.1 }}", Ok(b"0.100000000000000005551115123126")),
    ("{{ printf \"%g %g %g\" 1e20 1e21 12345678.0 }}", Ok(b"1e+20 1e+21 1.2345678e+07")),
    ("{{ printf \"%5t|%-7v|%q\" true nil \"a\\\"b\" }}", Ok(b" true|<nil>  |\"a\\\"b\"")),
    ("{{ printf \"%s %d\" nil nil }}", Ok(b"%!s(<nil>) %!d(<nil>)")),
    ("{{ printf \"%c\" -1 }}", Ok(b"\xef\xbf\xbd")),
    ("{{ printf \"%10.4q\" \"hello\" }}", Ok(b"    \"hell\"")),
    ("{{ printf \"%x %X\" \"\" \"hi\" }}", Ok(b" 6869")),
    ("{{ printf \"%05s\" \"ab\" }}", Ok(b"000ab")),
    ("{{ print nil 1 }}{{ print \"a\" nil }}", Ok(b"<nil> 1a<nil>")),
];

const GO_VECTORS_PLAIN: &[(&str, Result<&[u8], &str>)] = &[
    ("a\n  {{- .foo }}\n  b", Ok(b"abar\n  b")),
    ("a\n  {{ .foo -}}\n  b", Ok(b"a\n  barb")),
    ("a \t\r\n{{- .foo -}} \n\t b", Ok(b"abarb")),
    ("{{- .foo -}}", Ok(b"bar")),
    ("{{-.foo}}", Err("template: t:1:2: bad number syntax: \"-.f\"")),
    ("{{.foo-}}", Err("template: t:1:2: bad character U+002D '-'")),
    ("{{ .foo -}}", Ok(b"bar")),
    ("{{- /* c */ -}}", Ok(b"")),
    ("a {{- /* c */}} b", Ok(b"a b")),
    ("a {{/* c */ -}} b", Ok(b"a b")),
    ("a {{-  /* c */}} b", Err("template: t:1:7: unexpected \"/\" in command")),
    ("{{/*c*/}}", Ok(b"")),
    ("{{ /* c */ }}", Err("template: t:1:3: unexpected \"/\" in command")),
    ("{{/* a\nmulti\nline */}}x", Ok(b"x")),
    ("{{/* x */ -}}\n\ny", Ok(b"y")),
    ("line1\nline2 {{ .foo.x }}", Err("template: t:2:13: executing \"t\" at <.foo.x>: can't evaluate field x in type string")),
    ("{{ if .foo }}\n{{ upper 1 }}\n{{ end }}", Err("template: t:2:9: executing \"t\" at <1>: expected string; found 1")),
    ("{{\n.foo\n}}", Ok(b"bar")),
    ("{{ .foo\n| upper }}", Ok(b"BAR")),
    ("{{ (\n.foo\n) }}", Ok(b"bar")),
    ("{{ $x := .foo }}{{ $x }}{{ $x := .user }}{{ $x }}", Ok(b"baradmin")),
    ("{{ range list 1 2 }}{{ $y := . }}{{ end }}{{ $y }}", Err("template: t:1:45: undefined variable \"$y\"")),
    ("{{ if true }}{{ $z := 1 }}{{ end }}{{ $z }}", Err("template: t:1:38: undefined variable \"$z\"")),
    ("{{ $x := 0 }}{{ range list 1 2 3 }}{{ $x = . }}{{ end }}{{ $x }}", Ok(b"3")),
    ("{{ range $i, $v := dict \"b\" 1 \"a\" 2 }}{{ $i }}{{ $v }}{{ else }}e{{ end }}{{ $i }}", Err("template: t:1:77: undefined variable \"$i\"")),
    ("{{ with $x := .foo }}{{ $x }}{{ end }}{{ $x }}", Err("template: t:1:41: undefined variable \"$x\"")),
    ("{{ if $x := .empty }}a{{ else }}{{ $x }}b{{ end }}", Ok(b"b")),
    ("{{ if $x := .empty }}{{ else if $y := .foo }}{{ $x }}{{ $y }}{{ end }}", Ok(b"bar")),
    ("{{ .foo | printf \"%s|%s\" .user }}", Ok(b"admin|bar")),
    ("{{ .foo | len }}", Ok(b"3")),
    ("{{ . | len }}", Ok(b"6")),
    ("{{ .foo | index . }}", Ok(b"")),
    ("{{ \"foo\" | index . }}", Ok(b"bar")),
    ("{{ .foo | and .user }}", Ok(b"bar")),
    ("{{ 0 | or .empty }}", Ok(b"0")),
    ("{{ list 1 2 | len }}", Ok(b"2")),
    ("{{ $x := list 1 2 }}{{ $x | len }}", Ok(b"2")),
    ("{{ (list 1 2) | len }}", Ok(b"2")),
    ("{{ len (list 1 2) | printf \"%d\" }}", Ok(b"2")),
    ("{{ $ | len }}", Ok(b"6")),
    ("{{ printf \"%d\" (len .) }}", Ok(b"6")),
    ("{{ .foo | .user }}", Err("template: t:1:10: executing \"t\" at <.user>: user is not a method but has arguments")),
    ("{{ $x := 1 }}{{ 2 | $x }}", Err("template: t:1:20: executing \"t\" at <$x>: can't give argument to non-function $x")),
    ("{{ true | not }}", Ok(b"false")),
    ("{{ . | printf \"%T\" }}", Ok(b"map[string]string")),
    ("{{ .x.y.z }}", Ok(b"<no value>")),
    ("{{ $.x.y }}", Ok(b"<no value>")),
    ("{{ (fromJson \"null\").x }}", Ok(b"<no value>")),
    ("{{ (fromJson \"{}\").x.y }}", Ok(b"<no value>")),
    ("{{ index (fromJson \"{\\\"a\\\":null}\") \"a\" \"b\" }}", Err("template: t:1:3: executing \"t\" at <index (fromJson \"{\\\"a\\\":null}\") \"a\" \"b\">: error calling index: index of nil pointer")),
    ("{{ index (dict) \"a\" }}", Ok(b"<no value>")),
    ("{{ index (dict \"a\" (dict)) \"a\" \"b\" }}", Ok(b"<no value>")),
    ("{{ index (split \",\" \"a,b\") \"_5\" }}", Ok(b"")),
    ("{{ index (list 1) \"0\" }}", Err("template: t:1:3: executing \"t\" at <index (list 1) \"0\">: error calling index: cannot index slice/array with type string")),
    ("{{ index (list 1) nil }}", Err("template: t:1:3: executing \"t\" at <index (list 1) nil>: error calling index: cannot index slice/array with nil")),
    ("{{ index (dict \"a\" 1) 1 }}", Err("template: t:1:3: executing \"t\" at <index (dict \"a\" 1) 1>: error calling index: value has type int; should be string")),
    ("{{ index 3 1 }}", Err("template: t:1:3: executing \"t\" at <index 3 1>: error calling index: can't index item of type int")),
    ("{{ eq nil nil }}", Ok(b"true")),
    ("{{ eq .missing .nothere }}", Ok(b"true")),
    ("{{ eq .foo .missing }}", Ok(b"false")),
    ("{{ ne .foo }}", Err("template: t:1:3: executing \"t\" at <ne>: wrong number of args for ne: want 2 got 1")),
    ("{{ lt .missing 1 }}", Err("template: t:1:3: executing \"t\" at <lt .missing 1>: error calling lt: invalid type for comparison")),
    ("{{ lt \"a\" 1 }}", Err("template: t:1:3: executing \"t\" at <lt \"a\" 1>: error calling lt: incompatible types for comparison")),
    ("{{ le 1 1 }}{{ gt 2 1 }}{{ ge \"a\" \"b\" }}", Ok(b"truetruefalse")),
    ("{{ eq 1.5 1.5 }}{{ eq true true }}{{ eq \"\" .empty }}", Ok(b"truetruetrue")),
    ("{{ not 0 }}{{ not \"x\" }}{{ not (list) }}{{ not .missing }}", Ok(b"truefalsetruetrue")),
    ("{{ and }}", Err("template: t:1:3: executing \"t\" at <and>: wrong number of args for and: want at least 1 got 0")),
    ("{{ and .foo .missing }}", Ok(b"<no value>")),
    ("{{ or .missing .empty }}", Ok(b"")),
    ("{{ or .missing }}", Ok(b"<no value>")),
    ("{{ 1 }}{{ 1.0 }}{{ -0 }}{{ 1e2 }}{{ 0x10 }}{{ 010 }}{{ 0x1e }}{{ -0x1e }}", Ok(b"11010016830-30")),
    ("{{ printf \"%T\" 1.0 }}{{ printf \"%T\" 1e2 }}{{ printf \"%T\" 0x10 }}{{ printf \"%T\" 'a' }}", Ok(b"float64float64intint")),
    ("{{ indent 1e1 .foo }}", Ok(b"          bar")),
    ("{{ indent 'a' .foo }}", Ok(b"                                                                                                 bar")),
    ("{{ indent 0x2 .foo }}", Ok(b"  bar")),
    ("{{ indent -1 .foo }}", Err("template: t:1:3: executing \"t\" at <indent -1 .foo>: error calling indent: strings: negative Repeat count")),
    ("{{ repeat -1 .foo }}", Err("template: t:1:3: executing \"t\" at <repeat -1 .foo>: error calling repeat: strings: negative Repeat count")),
    ("{{ indent true .foo }}", Err("template: t:1:10: executing \"t\" at <true>: expected integer; found true")),
    ("{{ indent nil .foo }}", Err("template: t:1:10: executing \"t\" at <nil>: cannot assign nil to int")),
    ("{{ upper nil }}", Err("template: t:1:9: executing \"t\" at <nil>: cannot assign nil to string")),
    ("{{ upper true }}", Err("template: t:1:9: executing \"t\" at <true>: expected string; found true")),
    ("{{ upper 1.5 }}", Err("template: t:1:9: executing \"t\" at <1.5>: expected string; found 1.5")),
    ("{{ upper . }}", Err("template: t:1:9: executing \"t\" at <.>: wrong type for value; expected string; got map[string]string")),
    ("{{ upper (list) }}", Err("template: t:1:10: executing \"t\" at <list>: wrong type for value; expected string; got []interface {}")),
    ("{{ ternary 1 2 \"x\" }}", Err("template: t:1:15: executing \"t\" at <\"x\">: expected bool; found \"x\"")),
    ("{{ ternary 1 2 .foo }}", Err("template: t:1:15: executing \"t\" at <.foo>: wrong type for value; expected bool; got string")),
    ("{{ get . \"foo\" }}", Err("template: t:1:7: executing \"t\" at <.>: wrong type for value; expected map[string]interface {}; got map[string]string")),
    ("{{ hasKey (dict \"a\" 1) 1 }}", Err("template: t:1:23: executing \"t\" at <1>: expected string; found 1")),
    ("{{ keys . }}", Err("template: t:1:8: executing \"t\" at <.>: wrong type for value; expected map[string]interface {}; got map[string]string")),
    ("{{ dict 1 2 }}", Ok(b"map[1:2]")),
    ("{{ dict (list 1) 2 }}", Ok(b"map[[1]:2]")),
    ("{{ join \",\" . }}", Ok(b"map[empty: foo:bar multi:l1\nl2 num:42 password:hunter2 user:admin]")),
    ("{{ join \",\" (keys (dict \"a\" 1 \"b\" 2)) }}", Ok(b"a,b")),
    ("{{ join 1 (list) }}", Err("template: t:1:8: executing \"t\" at <1>: expected string; found 1")),
    ("{{ default 1 }}", Ok(b"1")),
    ("{{ default }}", Err("template: t:1:3: executing \"t\" at <default>: wrong number of args for default: want at least 1 got 0")),
    ("{{ default \"d\" 0 }}", Ok(b"d")),
    ("{{ default \"d\" (list) }}", Ok(b"d")),
    ("{{ default \"d\" false }}", Ok(b"d")),
    ("{{ default \"d\" (dict \"a\" 1) }}", Ok(b"map[a:1]")),
    ("{{ coalesce }}", Ok(b"<no value>")),
    ("{{ cat }}", Ok(b"")),
    ("{{ quote }}", Ok(b"")),
    ("{{ quote nil .missing }}", Ok(b"")),
    ("{{ quote 1 2.5 true (list \"a\") }}", Ok(b"\"1\" \"2.5\" \"true\" \"[a]\"")),
    ("{{ squote 1 nil \"x\" }}", Ok(b"'1' 'x'")),
    ("{{ print }}", Ok(b"")),
    ("{{ printf \"\" }}", Ok(b"")),
    ("{{ printf \"%s\" .missing }}", Ok(b"%!s(<nil>)")),
    ("{{ printf \"%v %d\" .missing .missing }}", Ok(b"<nil> %!d(<nil>)")),
    ("{{ printf \"%5.1f|%-5.1f|%05.1f|% .1f|%+.1f\" 1.25 1.25 -1.25 1.25 1.25 }}", Ok(b"  1.2|1.2  |-01.2| 1.2|+1.2")),
    ("{{ printf \"%10.3e|%-10.3E|%010.3e\" 1234.5 1234.5 -1234.5 }}", Ok(b" 1.234e+03|1.234E+03 |-1.234e+03")),
    ("{{ printf \"%x\" -1 }}{{ printf \"%#X\" 255 }}{{ printf \"%#b\" 5 }}{{ printf \"%#o\" 0 }}", Ok(b"-10XFF0b1010")),
    ("{{ printf \"%08.3d|%+08d|% 08d|%-08d\" 5 5 5 5 }}", Ok(b"     005|+0000005| 0000005|5       ")),
    ("{{ printf \"%.0f|%.0e|%.0g\" 2.5 2.5 2.5 }}", Ok(b"2|2e+00|2")),
    ("{{ printf \"%g|%g|%g|%g|%g\" 100000.0 1000000.0 0.0001 0.00001 1.0 }}", Ok(b"100000|1e+06|0.0001|1e-05|1")),
    ("{{ printf \"%.3g|%.10g|%.1g\" 1234567.0 1.0 0.15 }}", Ok(b"1.23e+06|1|0.1")),
    ("{{ printf \"%e|%e\" 1e-300 1e300 }}", Ok(b"1.000000e-300|1.000000e+300")),
    ("{{ printf \"%v\" 1e-320 }}", Ok(b"1e-320")),
    ("{{ printf \"%v|%v|%v\" 0.1 0.2 (float64 \"0.3\") }}", Ok(b"0.1|0.2|0.3")),
    ("{{ printf \"%[1]d %[1]x %[1]o\" 64 }}", Ok(b"64 40 100")),
    ("{{ printf \"%[0]d\" 1 }}", Ok(b"%!d(BADINDEX)")),
    ("{{ printf \"%[x]d\" 1 }}", Ok(b"%!d(BADINDEX)")),
    ("{{ printf \"%[2]*[1]d\" 12 5 }}", Ok(b"   12")),
    ("{{ printf \"%.*d\" -1 5 }}", Ok(b"%!(BADPREC)5")),
    ("{{ printf \"%*d\" \"x\" 5 }}", Ok(b"%!(BADWIDTH)5")),
    ("{{ printf \"%-*d|\" -5 1 }}", Ok(b"1    |")),
    ("{{ printf \"%[1]s %s\" \"a\" \"b\" }}", Ok(b"a b")),
    ("{{ printf \"%d %[5]d\" 1 2 }}", Ok(b"1 %!d(BADINDEX)")),
    ("{{ printf \"%ü\" 1 }}", Ok(b"%!\xc3\xbc(int=1)")),
    ("{{ printf \"%s\" (list \"a\" (dict \"k\" nil)) }}", Ok(b"[a map[k:<nil>]]")),
    ("{{ printf \"%q\" (list \"a\" 1) }}", Ok(b"[\"a\" '\\x01']")),
    ("{{ printf \"%x\" (list \"a\" 255) }}", Ok(b"[61 ff]")),
    ("{{ printf \"%5v|\" (list 1 2) }}", Ok(b"[    1     2]|")),
    ("{{ printf \"%U|%#U|%c\" 0x1F600 0x41 0x1F600 }}", Ok(b"U+1F600|U+0041 'A'|\xf0\x9f\x98\x80")),
    ("{{ printf \"%q\" 0x1F600 }}{{ printf \"%+q\" 0x1F600 }}{{ printf \"%q\" 10 }}", Ok(b"'\xf0\x9f\x98\x80''\\U0001f600''\\n'")),
    ("{{ printf \"%t\" 1 }}", Ok(b"%!t(int=1)")),
    ("{{ printf \"%s\" true }}", Ok(b"%!s(bool=true)")),
    ("{{ printf \"%d\" 1.5 }}", Ok(b"%!d(float64=1.5)")),
    ("{{ printf \"%s\" 1.5 }}", Ok(b"%!s(float64=1.5)")),
    ("{{ printf \"%.3s|%.1q|%.2x\" \"héllo\" \"héllo\" \"héllo\" }}", Ok(b"h\xc3\xa9l|\"h\"|68c3")),
    ("{{ printf \"%-8q|%8q\" \"a\" \"b\" }}", Ok(b"\"a\"     |     \"b\"")),
    ("{{ printf \"%+v|%#v\" 1 \"a\" }}", Ok(b"1|\"a\"")),
    ("{{ html \"a\" 1 nil }}", Ok(b"a1&lt;no value&gt;")),
    ("{{ html 1 2 }}", Ok(b"1 2")),
    ("{{ js \"a=b\" }}{{ js \"\\u00e9\\u2028\" }}", Ok(b"a\\u003Db\xc3\xa9\\u2028")),
    ("{{ urlquery \"~-_.!*'();:@&=+$,/?#[]\" }}", Ok(b"~-_.%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D")),
    ("{{ toJson (list) }}{{ toJson (dict) }}{{ toJson (list nil 1 \"a\" (dict \"b\" (list))) }}", Ok(b"[]{}[null,1,\"a\",{\"b\":[]}]")),
    ("{{ toJson (dict \"<\" \">\" \"b\" \"a\") }}", Ok(b"{\"\\u003c\":\"\\u003e\",\"b\":\"a\"}")),
    ("{{ toJson (float64 \"nan\") }}", Ok(b"")),
    ("{{ toJson 1e21 }}{{ toJson 1e20 }}{{ toJson 1e-6 }}{{ toJson 1e-7 }}{{ toJson 123456789.125 }}{{ toJson -0.0 }}", Ok(b"1e+211000000000000000000000.0000011e-7123456789.125-0")),
    ("{{ toPrettyJson \"x\" }}{{ toPrettyJson 1 }}{{ toPrettyJson (dict \"a\" (dict \"b\" 1) \"c\" (list 1 (list))) }}", Ok(b"\"x\"1{\n  \"a\": {\n    \"b\": 1\n  },\n  \"c\": [\n    1,\n    []\n  ]\n}")),
    ("{{ toRawJson (dict \"a\" \"<&>\\u2028\") }}", Ok(b"{\"a\":\"<&>\\u2028\"}")),
    ("{{ fromJson \"{\\\"a\\\":1,\\\"a\\\":2}\" }}", Ok(b"map[a:2]")),
    ("{{ fromJson \" [1, \\\"x\\\"] \" }}", Ok(b"[1 x]")),
    ("{{ fromJson \"[1] x\" }}", Ok(b"<no value>")),
    ("{{ fromJson \"\" }}", Ok(b"<no value>")),
    ("{{ fromJson \"true\" }}{{ fromJson \"\\\"s\\\"\" }}", Ok(b"trues")),
    ("{{ fromJson \"12345678901234567890\" }}", Ok(b"1.2345678901234567e+19")),
    ("{{ fromJson \"1.5e300\" }}", Ok(b"1.5e+300")),
    ("{{ fromJson \"1e400\" }}", Ok(b"<no value>")),
    ("{{ range $k, $v := fromJson \"{\\\"b\\\":1,\\\"a\\\":[1]}\" }}{{ $k }}={{ $v }};{{ end }}", Ok(b"a=[1];b=1;")),
    ("{{ with fromJson \"{\\\"port\\\": 5432}\" }}{{ .port }}{{ end }}", Ok(b"5432")),
    ("{{ add 1 1.9 }}{{ add \"1.0\" \"2.00\" \"3.5\" }}{{ add \"0x10\" \"1_000\" \"+5\" \"-\" }}", Ok(b"231021")),
    ("{{ mul }}", Err("template: t:1:3: executing \"t\" at <mul>: wrong number of args for mul: want at least 1 got 0")),
    ("{{ sub 1 }}", Err("template: t:1:3: executing \"t\" at <sub>: wrong number of args for sub: want 2 got 1")),
    ("{{ max }}", Err("template: t:1:3: executing \"t\" at <max>: wrong number of args for max: want at least 1 got 0")),
    ("{{ mod 1 0 }}", Err("template: t:1:3: executing \"t\" at <mod 1 0>: error calling mod: runtime error: integer divide by zero")),
    ("{{ div -9223372036854775808 -1 }}", Ok(b"-9223372036854775808")),
    ("{{ add 9223372036854775807 1 }}", Ok(b"-9223372036854775808")),
    ("{{ int \"9223372036854775808\" }}{{ int \"-9223372036854775808\" }}", Ok(b"0-9223372036854775808")),
    ("{{ int 1e30 }}", Ok(b"-9223372036854775808")),
    ("{{ float64 \"1e400\" }}{{ float64 \"inf\" }}{{ float64 \"1_0.5\" }}", Ok(b"0+Inf10.5")),
    ("{{ atoi \"+0\" }}{{ atoi \"-\" }}{{ atoi \"1_0\" }}{{ atoi \"０\" }}", Ok(b"0000")),
    ("{{ trimAll \"\" \"abc\" }}{{ trimAll \"abc\" \"\" }}{{ trimAll \"ab\" \"abcba\" }}", Ok(b"abcc")),
    ("{{ trim \"\\u00a0 x \\u3000\" }}", Ok(b"x")),
    ("{{ upper \"ǆß\" }}{{ lower \"ǅİ\" }}{{ title \"ǆa ßb\" }}", Ok(b"\xc7\x84\xc3\x9f\xc7\x86i\xc7\x85a \xc3\x9fb")),
    ("{{ title \"héllo wörld\" }}{{ title \"a.b,c_d\" }}", Ok(b"H\xc3\xa9llo W\xc3\xb6rldA.B,C_d")),
    ("{{ replace \"aa\" \"b\" \"aaaaa\" }}{{ replace \"\" \"\" \"abc\" }}{{ replace \"x\" \"y\" \"\" }}{{ replace \"\" \"-\" \"\" }}", Ok(b"bbaabc-")),
    ("{{ splitList \",\" \"\" }}{{ splitList \"\" \"\" }}{{ len (splitList \"\" \"\") }}", Ok(b"[][]0")),
    ("{{ splitList \"aa\" \"aaaaa\" }}", Ok(b"[  a]")),
    ("{{ split \"\" \"ab\" }}", Ok(b"map[_0:a _1:b]")),
    ("{{ contains \"\" \"\" }}{{ hasPrefix \"\" \"a\" }}{{ hasSuffix \"abc\" \"c\" }}", Ok(b"truetruefalse")),
    ("{{ substr 0 0 \"abc\" }}{{ substr 3 3 \"abc\" }}", Ok(b"")),
    ("{{ trunc 0 \"abc\" }}{{ trunc -3 \"abc\" }}", Ok(b"abc")),
    ("{{ nospace \"\" }}{{ nospace \" \" }}", Ok(b"")),
    ("{{ nindent 0 \"\" }}|{{ indent 2 \"\" }}|{{ indent 2 \"a\\n\" }}", Ok(b"\n|  |  a\n  ")),
    ("{{ sha256sum \"\" }} {{ adler32sum \"\" }} {{ adler32sum \"Wikipedia\" }}", Ok(b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 1 300286872")),
    ("{{ .foo }} {{ if }}", Err("template: t:1:17: missing value for if")),
    ("{{ if .foo }}{{ else }}{{ else }}{{ end }}", Err("template: t:1:31: expected end; found {{else}}")),
    ("{{ else if .foo }}", Err("template: t:1:8: unexpected {{else}}")),
    ("{{ if .foo }}{{ else if }}{{ end }}", Err("template: t:1:24: missing value for if")),
    ("{{ range }}{{ end }}", Err("template: t:1:9: missing value for range")),
    ("{{ with }}{{ end }}", Err("template: t:1:8: missing value for with")),
    ("{{ range $x }}{{ end }}", Err("template: t:1:9: undefined variable \"$x\"")),
    ("{{ range $x := }}{{ end }}", Err("template: t:1:15: missing value for range")),
    ("{{ range $x, := . }}{{ end }}", Err("template: t:1:13: range can only initialize variables")),
    ("{{ range $x, 1 := . }}{{ end }}", Err("template: t:1:13: range can only initialize variables")),
    ("{{ $x, $y := . }}", Err("template: t:1:5: too many declarations in command")),
    ("{{ with $x, $y := . }}{{ end }}", Err("template: t:1:10: too many declarations in with")),
    ("{{ $x := }}", Err("template: t:1:9: missing value for command")),
    ("{{ $x := 1 2 }}", Err("template: t:1:9: executing \"t\" at <1>: can't give argument to non-function 1")),
    ("{{ $x }}", Err("template: t:1:3: undefined variable \"$x\"")),
    ("{{ $ }}x", Ok(b"map[empty: foo:bar multi:l1\nl2 num:42 password:hunter2 user:admin]x")),
    ("{{ $x.y := 1 }}", Err("template: t:1:3: undefined variable \"$x\"")),
    ("{{ .foo := 1 }}", Err("template: t:1:8: unexpected \":=\" in operand")),
    ("{{ := 1 }}", Err("template: t:1:3: unexpected \":=\" in command")),
    ("{{ 1 := 1 }}", Err("template: t:1:5: unexpected \":=\" in operand")),
    ("{{ ( ) }}", Err("template: t:1:5: missing value for parenthesized pipeline")),
    ("{{ () }}", Err("template: t:1:4: missing value for parenthesized pipeline")),
    ("{{ (.foo }}", Err("template: t:1:9: unclosed left paren")),
    ("{{ .foo) }}", Err("template: t:1:7: unexpected \")\" in command")),
    ("{{ .foo | | .user }}", Err("template: t:1:10: unexpected \"|\" in command")),
    ("{{ | }}", Err("template: t:1:3: unexpected \"|\" in command")),
    ("{{ }}", Err("template: t:1:3: missing value for command")),
    ("{{}}", Err("template: t:1:2: missing value for command")),
    ("{{ .foo .user }}", Err("template: t:1:3: executing \"t\" at <.foo>: foo is not a method but has arguments")),
    ("{{ .foo \"x\" }}", Err("template: t:1:3: executing \"t\" at <.foo>: foo is not a method but has arguments")),
    ("{{ 1 2 }}", Err("template: t:1:3: executing \"t\" at <1>: can't give argument to non-function 1")),
    ("{{ nil 1 }}", Err("template: t:1:3: executing \"t\" at <nil>: can't give argument to non-function nil")),
    ("{{ nil }}", Err("template: t:1:3: executing \"t\" at <nil>: nil is not a command")),
    ("{{ printf \"%s\" nil }}", Ok(b"%!s(<nil>)")),
    ("{{ \"a\" \"b\" }}", Err("template: t:1:3: executing \"t\" at <\"a\">: can't give argument to non-function \"a\"")),
    ("{{ . 1 }}", Err("template: t:1:3: executing \"t\" at <.>: can't give argument to non-function .")),
    ("{{ $ 1 }}", Err("template: t:1:3: executing \"t\" at <$>: can't give argument to non-function $")),
    ("{{ .foo | 1 }}", Err("template: t:1:12: non executable command in pipeline stage 2")),
    ("{{ .foo | \"x\" }}", Err("template: t:1:14: non executable command in pipeline stage 2")),
    ("{{ .foo | . }}", Err("template: t:1:12: non executable command in pipeline stage 2")),
    ("{{ .foo | nil }}", Err("template: t:1:14: non executable command in pipeline stage 2")),
    ("{{ .foo | true }}", Err("template: t:1:15: non executable command in pipeline stage 2")),
    ("{{ \"x\".y }}", Err("template: t:1:6: unexpected . after term \"\\\"x\\\"\"")),
    ("{{ 1.y }}", Err("template: t:1:3: bad number syntax: \"1.y\"")),
    ("{{ true.x }}", Err("template: t:1:7: unexpected . after term \"true\"")),
    ("{{ nil.x }}", Err("template: t:1:6: unexpected . after term \"nil\"")),
    ("{{ ..x }}", Err("template: t:1:4: unexpected . after term \".\"")),
    ("{{ .x..y }}", Err("template: t:1:5: unexpected <.> in operand")),
    ("{{ .x.1 }}", Err("template: t:1:5: unexpected \".1\" in operand")),
    ("{{ .1x }}", Err("template: t:1:3: bad number syntax: \".1x\"")),
    ("{{ $1 }}", Err("template: t:1:3: undefined variable \"$1\"")),
    ("{{ @ }}", Err("template: t:1:3: unexpected \"@\" in command")),
    ("{{ \u{a0} }}", Err("template: t:1:3: unrecognized character in action: U+00A0")),
    ("{{ \"\\z\" }}", Err("template: t:1:3: invalid syntax")),
    ("{{ \"\\'\" }}", Err("template: t:1:3: invalid syntax")),
    ("{{ '\\\"' }}", Err("template: t:1:3: invalid syntax")),
    ("{{ '' }}", Err("template: t:1:3: invalid syntax")),
    ("{{ '\\x41' }}{{ '\\101' }}{{ '\\u00e9' }}{{ '\\U0001F600' }}", Ok(b"6565233128512")),
    ("{{ \"\\400\" }}", Err("template: t:1:3: invalid syntax")),
    ("{{ \"\\xZZ\" }}", Err("template: t:1:3: invalid syntax")),
    ("{{ \"\\ud800\" }}", Err("template: t:1:3: invalid syntax")),
    ("{{ `a\rb` }}", Ok(b"ab")),
    ("{{ 1_ }}", Err("template: t:1:3: illegal number syntax: \"1_\"")),
    ("{{ 1__0 }}", Err("template: t:1:3: illegal number syntax: \"1__0\"")),
    ("{{ 0x_1 }}", Ok(b"1")),
    ("{{ 0_1 }}", Ok(b"1")),
    ("{{ 08 }}", Err("template: t:1:3: integer overflow: \"08\"")),
    ("{{ 0x }}", Err("template: t:1:3: illegal number syntax: \"0x\"")),
    ("{{ 1e }}", Err("template: t:1:3: illegal number syntax: \"1e\"")),
    ("{{ 1.2.3 }}", Err("template: t:1:6: unexpected \".3\" in operand")),
    ("{{ - }}", Err("template: t:1:3: illegal number syntax: \"-\"")),
    ("{{ + }}", Err("template: t:1:3: illegal number syntax: \"+\"")),
    ("{{ 1+2 }}", Err("template: t:1:3: bad number syntax: \"1+2\"")),
    ("{{ .5 }}{{ 5. }}{{ -.5 }}", Ok(b"0.55-0.5")),
    ("{{ 1e400 }}", Err("template: t:1:3: illegal number syntax: \"1e400\"")),
    ("{{ 99999999999999999999 }}", Err("template: t:1:3: integer overflow: \"99999999999999999999\"")),
    ("{{ -9223372036854775808 }}", Ok(b"-9223372036854775808")),
    ("{{ -9223372036854775809 }}", Err("template: t:1:3: integer overflow: \"-9223372036854775809\"")),
    ("{{ .foo }}{{ end }}", Err("template: t:1:17: unexpected {{end}}")),
    ("{{ .foo ", Err("template: t:1:8: unclosed action")),
    ("{{ \"x", Err("template: t:1:3: unterminated quoted string")),
    ("{{ `x", Err("template: t:1:3: unterminated raw quoted string")),
    ("{{ 'x", Err("template: t:1:3: unterminated character constant")),
    ("{{/* x", Err("template: t:1:0: unclosed comment")),
    ("{{ break }}", Err("template: t:1:9: {{break}} outside {{range}}")),
    ("{{ range . }}{{ break 1 }}{{ end }}", Err("template: t:1:22: unexpected \"1\" in {{break}}")),
    ("{{ range . }}{{ if true }}{{ continue }}{{ end }}{{ end }}", Ok(b"")),
    ("{{ range . }}{{ else }}{{ break }}{{ end }}", Err("template: t:1:32: {{break}} outside {{range}}")),
    ("{{ with . }}{{ break }}{{ end }}", Err("template: t:1:21: {{break}} outside {{range}}")),
    ("{{ range $i, $v := list \"a\" \"b\" \"c\" }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $v }}{{ end }}", Ok(b"a")),
    ("{{ range (list (list 1 2) (list 3)) }}{{ range . }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }};{{ end }}", Ok(b"1;3;")),
    ("{{ end }}", Err("template: t:1:7: unexpected {{end}}")),
    ("{{ if 1 }}x", Err("template: t:1:11: unexpected EOF")),
    ("x{{ if 1 }}{{ range . }}", Err("template: t:1:24: unexpected EOF")),
    ("{{ if 1 }}{{ else }}", Err("template: t:1:20: unexpected EOF")),
    ("{{ .foo }}}}", Ok(b"bar}}")),
    ("}}{{ .foo }}", Ok(b"}}bar")),
    ("{{{ .foo }}", Err("template: t:1:2: unexpected \"{\" in command")),
    ("{ {.foo} }", Ok(b"{ {.foo} }")),
    ("{{ \"}}\" }}", Ok(b"}}")),
    ("{{ `{{` }}", Ok(b"{{")),
    ("{{ /* not comment */ }}", Err("template: t:1:3: unexpected \"/\" in command")),
    ("{{/* a */ /* b */}}", Err("template: t:1:9: comment ends before closing delimiter")),
    ("{{- /* a */ -}}", Ok(b"")),
    ("{{-/* a */-}}", Err("template: t:1:2: illegal number syntax: \"-\"")),
    ("{{ - .foo }}", Err("template: t:1:3: illegal number syntax: \"-\"")),
    ("{{ .foo - }}", Err("template: t:1:8: illegal number syntax: \"-\"")),
    ("{{ .foo -}}x", Ok(b"barx")),
    ("{{ .foo -}} \n x", Ok(b"barx")),
    ("a {{- \"b\" -}} c {{- \"d\" }}", Ok(b"abcd")),
];

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

// ---------------------------------------------------------------------------------------------
// Functions, one by one (see also the Go vectors).

#[test]
fn builtin_functions() {
    let items: &[(&str, &[u8])] = &[("s", b"abc"), ("e", b"")];
    let cases: &[(&str, &str)] = &[
        (
            "{{ and 1 0 2 }}|{{ and 1 2 }}|{{ or 0 \"\" \"x\" }}|{{ or 0 \"\" }}",
            "0|2|x|",
        ),
        ("{{ and .e (index .nope 1) }}", ""),
        ("{{ not .e }}{{ not .s }}", "truefalse"),
        (
            "{{ len .s }}{{ len (list 1 2) }}{{ len (dict \"a\" 1) }}",
            "321",
        ),
        ("{{ index .s 0 }} {{ index (list \"x\" \"y\") 1 }}", "97 y"),
        ("{{ print 1 2 \"a\" \"b\" 3 }}", "1 2ab3"),
        ("{{ println 1 \"a\" }}", "1 a\n"),
        (
            "{{ printf \"%s=%d %q %x %5.2f %v %%\" .s 42 .s .s 3.14159 (list 1 \"a\") }}",
            "abc=42 \"abc\" 616263  3.14 [1 a] %",
        ),
        ("{{ printf \"%d\" .s }}", "%!d(string=abc)"),
        (
            "{{ eq .s \"abc\" }}{{ eq .s \"x\" \"abc\" }}{{ ne 1 2 }}",
            "truetruetrue",
        ),
        (
            "{{ lt 1 2 }}{{ le 2 2 }}{{ gt \"b\" \"a\" }}{{ ge 1.5 2.5 }}",
            "truetruetruefalse",
        ),
        (
            "{{ html \"<a href='x'>&</a>\" }}",
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;",
        ),
        ("{{ js \"it's <b>\" }}", "it\\'s \\u003Cb\\u003E"),
        ("{{ urlquery \"a b&c=d/é\" }}", "a+b%26c%3Dd%2F%C3%A9"),
    ];
    for (source, want) in cases {
        assert_eq!(ok(source, items), *want, "{source}");
    }
}

#[test]
fn sprig_functions() {
    let items: &[(&str, &[u8])] = &[
        ("s", b"hunter2"),
        ("e", b""),
        ("n", b"42"),
        ("csv", b"a,b,c"),
        ("j", br#"{"port":5432,"hosts":["a","b"],"tls":true}"#),
    ];
    let cases: &[(&str, &str)] = &[
        (
            "{{ toJson (dict \"a\" (list 1 \"<b>\" nil)) }}",
            r#"{"a":[1,"\u003cb\u003e",null]}"#,
        ),
        ("{{ toRawJson (dict \"a\" \"<b>\") }}", r#"{"a":"<b>"}"#),
        (
            "{{ toPrettyJson (dict \"a\" (list 1) \"b\" (dict)) }}",
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}",
        ),
        (
            "{{ (fromJson .j).port }} {{ index (fromJson .j).hosts 1 }} {{ (fromJson .j).tls }}",
            "5432 b true",
        ),
        ("{{ fromJson \"not json\" }}", "<no value>"),
        (
            "{{ b64enc .s }} {{ b64dec \"aHVudGVyMg==\" }} {{ b64dec \"%%%\" }}",
            "aHVudGVyMg== hunter2 illegal base64 data at input byte 0",
        ),
        (
            "{{ quote .s 1 nil }} {{ squote .s }}",
            "\"hunter2\" \"1\" 'hunter2'",
        ),
        (
            "{{ upper .s }} {{ lower \"ÀB\" }} {{ title \"hello world\" }}",
            "HUNTER2 àb Hello World",
        ),
        (
            "[{{ trim \"  x \\n\" }}] {{ trimAll \"$\" \"$$x$\" }} {{ trimPrefix \"hun\" .s }} {{ trimSuffix \"2\" .s }}",
            "[x] x ter2 hunter",
        ),
        (
            "{{ replace \"e\" \"3\" .s }} {{ contains \"unt\" .s }} {{ hasPrefix \"h\" .s }} {{ hasSuffix \"x\" .s }}",
            "hunt3r2 true true false",
        ),
        (
            "{{ default \"d\" .e }} {{ default \"d\" .s }} {{ default \"d\" 0 }} {{ default \"d\" (list) }}",
            "d hunter2 d d",
        ),
        (
            "{{ empty .e }} {{ empty .s }} {{ empty 0 }} {{ empty (dict) }} {{ empty .nope }}",
            "true false true true true",
        ),
        (
            "{{ coalesce .e .nope .s }} {{ ternary \"y\" \"n\" true }} {{ false | ternary \"y\" \"n\" }}",
            "hunter2 y n",
        ),
        (
            "{{ indent 2 \"a\\nb\" }}|{{ nindent 1 \"a\" }}|{{ nospace \" a b\\t\" }}",
            "  a\n  b|\n a|ab",
        ),
        (
            "{{ repeat 3 \"ab\" }} {{ substr 1 3 .s }} {{ trunc 4 .s }} {{ trunc -2 .s }}",
            "ababab un hunt r2",
        ),
        (
            "{{ (split \",\" .csv)._1 }} {{ splitList \",\" .csv }} {{ join \"+\" (splitList \",\" .csv) }}",
            "b [a b c] a+b+c",
        ),
        (
            "{{ list 1 \"a\" }} {{ dict \"k\" \"v\" \"odd\" }} {{ get (dict \"k\" \"v\") \"k\" }}{{ get (dict) \"k\" }}",
            "[1 a] map[k:v odd:] v",
        ),
        (
            "{{ hasKey (dict \"k\" 1) \"k\" }} {{ keys (dict \"b\" 1 \"a\" 2) (dict \"c\" 3) }}",
            "true [a b c]",
        ),
        (
            "{{ sha256sum .s }}",
            "f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7",
        ),
        (
            "{{ sha1sum .s }} {{ adler32sum .s }}",
            "f3bbbd66a63d4bf1747940578ec3d0103530e21d 198705865",
        ),
        (
            "{{ cat \"a\" 1 nil .s }} {{ toString 1.5 }}{{ toString 7 }}",
            "a 1 hunter2 1.57",
        ),
        (
            "{{ atoi .n }} {{ atoi \"x\" }} {{ int \"0x10\" }} {{ int64 \"3.00\" }} {{ float64 \"2.5\" }}",
            "42 0 16 3 2.5",
        ),
        (
            "{{ add 1 2 .n }} {{ add1 .n }} {{ sub 10 .n }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 9 3 }} {{ min 4 -1 }}",
            "45 43 -32 24 3 1 9 -1",
        ),
    ];
    for (source, want) in cases {
        assert_eq!(ok(source, items), *want, "{source}");
    }
}

#[test]
fn typed_errors_have_positions() {
    let e = err("line one\nline two {{ .a } }}", &[]);
    match &e {
        TemplateError::Parse {
            name,
            line,
            column,
            message,
        } => {
            assert_eq!((name.as_str(), *line, *column), ("t", 2, 15));
            assert_eq!(message, r#"unexpected "}" in operand"#);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        r#"template: t:2:15: unexpected "}" in operand"#
    );

    let e = err("ok\n  {{ upper 1 }}", &[]);
    assert!(
        matches!(
            e,
            TemplateError::Exec {
                line: 2,
                column: 11,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        r#"template: t:2:11: executing "t" at <1>: expected string; found 1"#
    );
}

#[test]
fn forbidden_and_unknown_functions_do_not_parse() {
    for function in [
        "env",
        "expandenv",
        "getHostByName",
        "now",
        "randAlpha",
        "uuidv4",
        "nosuch",
    ] {
        let source = format!("{{{{ {function} \"HOME\" }}}}");
        let e = render(&source, "password", &BTreeMap::new()).unwrap_err();
        match &e {
            TemplateError::UndefinedFunction {
                name, function: f, ..
            } => {
                assert_eq!((name.as_str(), f.as_str()), ("password", function));
            }
            other => panic!("{other:?}"),
        }
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                r#"template: password:1:3: function "{function}" not defined ("#
            )),
            "{text}"
        );
        assert!(
            text.contains("sealant_core::template documentation"),
            "{text}"
        );
        assert_eq!(check(&source, "password"), Err(e));
    }
    assert!(check("{{ .a | b64enc }}", "x").is_ok());
}

#[test]
fn unsupported_actions_are_named() {
    for (source, what) in [
        (r#"{{ define "x" }}{{ end }}"#, "{{define}}"),
        (r#"{{ template "x" }}"#, "{{template}}"),
        (r#"{{ block "x" . }}{{ end }}"#, "{{block}}"),
    ] {
        let e = err(source, &[]);
        assert!(
            e.to_string().contains(&format!("{what} is not supported")),
            "{e}"
        );
    }
}

#[test]
fn render_all_tags_and_merges_errors() {
    let templates = BTreeMap::from([
        ("ok".to_owned(), "{{ .a }}!".to_owned()),
        ("same1".to_owned(), "{{ .a | upper 1 }}".to_owned()),
        ("bad".to_owned(), "{{ env \"X\" }}".to_owned()),
        ("other".to_owned(), "{{ .ok }}".to_owned()),
    ]);
    let items = data(&[("a", b"x")]);
    let errors: TemplateErrors = render_all(&templates, &items).unwrap_err();
    assert_eq!(errors.by_item.keys().collect::<Vec<_>>(), ["bad", "same1"]);
    let text = errors.to_string();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(r#"function "env" not defined"#), "{text}");
    assert!(text.contains("(bad)"), "{text}");
    let item_errors = ItemErrors::from(errors);
    assert_eq!(item_errors.by_message.len(), 2);

    // Templates see decrypted items only, never another template's output.
    let templates = BTreeMap::from([
        ("a".to_owned(), "new".to_owned()),
        ("b".to_owned(), "{{ .a }}".to_owned()),
    ]);
    let rendered = render_all(&templates, &data(&[("a", b"old")])).unwrap();
    assert_eq!(rendered["a"].expose_secret(), b"new");
    assert_eq!(rendered["b"].expose_secret(), b"old");

    // The same message on two items is reported once, with both items.
    let templates = BTreeMap::from([
        ("x".to_owned(), "{{ 1 2 }}".to_owned()),
        ("y".to_owned(), "{{ 1 2 }}".to_owned()),
    ]);
    let errors = render_all(&templates, &BTreeMap::new()).unwrap_err();
    assert_eq!(errors.by_item.len(), 2);
    let messages = errors.by_message();
    assert_eq!(
        messages.len(),
        2,
        "names differ, so the messages do: {messages:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors never contain values.

const CANARY: &str = "CANARY-s3cr3t-4242";

#[test]
fn errors_never_contain_the_values() {
    let json = format!(r#"{{"k":"{CANARY}","n":[1]}}"#);
    let items: &[(&str, &[u8])] = &[
        ("c", CANARY.as_bytes()),
        ("n", b"4242"),
        ("j", json.as_bytes()),
        ("z", b"0"),
    ];
    let failing = [
        "{{ .c.x }}",
        "{{ .c 1 }}",
        "{{ (.c).x }}",
        "{{ index .c 1000 }}",
        "{{ index (list .c) (atoi .n) }}",
        "{{ index (list) (int .n) }}",
        "{{ index . (list .c) }}",
        "{{ index .c .c }}",
        "{{ range .c }}{{ end }}",
        "{{ range (list .c) }}{{ .x }}{{ end }}",
        "{{ upper (list .c) }}",
        "{{ upper (dict .c 1) }}",
        "{{ indent .c .c }}",
        "{{ repeat (int .n) .c | repeat 1000 }}",
        "{{ repeat -1 .c }}",
        "{{ substr 5 2 .c }}",
        "{{ substr -1 (int .n) .c }}",
        "{{ div 1 (int .z) }}",
        "{{ mod (atoi .n) 0 }}",
        "{{ eq (list .c) (list .c) }}",
        "{{ eq .c 1 }}",
        "{{ lt .c (list) }}",
        "{{ lt (dict .c .c) 1 }}",
        "{{ len (atoi .n) }}",
        "{{ (fromJson .j).k.x }}",
        "{{ get .c \"k\" }}",
        "{{ get . .c }}",
        "{{ keys (fromJson .j).n }}",
        "{{ ternary .c .c .c }}",
        "{{ .c | printf \"%s\" | .c }}",
        "{{ $x := .c }}{{ $x.y }}",
        "{{ $x := dict \"k\" .c }}{{ $x.k.deeper }}",
        "{{ splitList \"\" .c | upper }}",
        "{{ toJson (repeat 1000000 .c) }}",
    ];
    for source in failing {
        let e = err(source, items);
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains(CANARY), "{source}: {shown}");
            assert!(!shown.contains("s3cr3t"), "{source}: {shown}");
            assert!(!shown.contains("4242"), "{source}: {shown}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Limits.

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn nesting_is_limited() {
    assert_eq!(
        ok(&format!("{{{{ {} }}}}", nested("(", ")", MAX_DEPTH)), &[]),
        "1"
    );
    let e = err(
        &format!("{{{{ {} }}}}", nested("(", ")", MAX_DEPTH + 1)),
        &[],
    );
    assert!(e.to_string().contains("nesting"), "{e}");
    let e = err(&format!("{{{{ {} }}}}", nested("(", ")", 100_000)), &[]);
    assert!(matches!(e, TemplateError::Parse { .. }), "{e:?}");

    let ifs = |n| format!("{}x{}", "{{ if 1 }}".repeat(n), "{{ end }}".repeat(n));
    assert_eq!(ok(&ifs(MAX_DEPTH), &[]), "x");
    assert!(
        err(&ifs(MAX_DEPTH + 1), &[])
            .to_string()
            .contains("nesting")
    );
    assert!(matches!(
        err(&ifs(50_000), &[]),
        TemplateError::Parse { .. }
    ));

    // Long else-if chains are not nesting.
    let chain = format!(
        "{{{{ if 0 }}}}{}{{{{ else }}}}x{{{{ end }}}}",
        "{{ else if 0 }}".repeat(5000)
    );
    assert_eq!(ok(&chain, &[]), "x");

    // Values cannot nest deeper than the limit either.
    let e = err(
        "{{ $x := list }}{{ range 200 }}{{ $x = list $x }}{{ end }}{{ $x }}",
        &[],
    );
    assert!(matches!(e, TemplateError::Limit { .. }), "{e:?}");
    let deep_json = format!("{}{}", "[".repeat(120), "]".repeat(120));
    assert_eq!(
        ok("{{ fromJson .j }}", &[("j", deep_json.as_bytes())]),
        "<no value>"
    );
}

#[test]
fn output_and_values_are_limited() {
    let exact = run(&format!("{{{{ repeat {MAX_OUTPUT} \"a\" }}}}"), &[]).unwrap();
    assert_eq!(exact.len(), MAX_OUTPUT);
    for source in [
        format!("{{{{ repeat {} \"a\" }}}}", MAX_OUTPUT + 1),
        "{{ repeat 1000000000 \"abc\" }}".to_owned(),
        "{{ repeat 9223372036854775807 \"abc\" }}".to_owned(),
        "{{ range 2000 }}{{ repeat 1000 \"a\" }}{{ end }}".to_owned(),
        "{{ $s := repeat 600000 \"a\" }}{{ $s }}{{ $s }}".to_owned(),
        "{{ $x := list 1 }}{{ range 80 }}{{ $x = list $x $x }}{{ end }}{{ $x }}".to_owned(),
        "{{ $x := list 1 }}{{ range 80 }}{{ $x = list $x $x }}{{ end }}{{ toJson $x }}".to_owned(),
        "{{ $x := list 1 }}{{ range 80 }}{{ $x = list $x $x }}{{ end }}{{ join \",\" $x }}"
            .to_owned(),
        "{{ $s := repeat 2000 \"a\" }}{{ replace \"\" $s $s }}".to_owned(),
        "{{ indent 1000000 \"\\n\\n\" }}".to_owned(),
        "{{ printf \"%1000000d%1000000d\" 1 2 }}".to_owned(),
    ] {
        let e = err(&source, &[]);
        assert!(matches!(e, TemplateError::Limit { .. }), "{source}: {e:?}");
    }
}

#[test]
fn evaluation_is_limited() {
    for source in [
        "{{ range 100000000 }}{{ end }}",
        "{{ range 9223372036854775807 }}{{ continue }}{{ end }}",
        "{{ $s := repeat 1000000 \"a\" }}{{ range 1000 }}{{ $t := contains \"b\" $s }}{{ end }}",
        "{{ range 100 }}{{ $l := splitList \"\" (repeat 1000000 \"a\") }}{{ end }}",
    ] {
        let e = err(source, &[]);
        assert!(matches!(e, TemplateError::Limit { .. }), "{source}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness: arbitrary input never panics.

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    ".",
    ".a",
    ".b",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    "\"s\"",
    "`r`",
    "'c'",
    "1",
    "-2",
    "0x1F",
    "1.5e3",
    "nil",
    "true",
    "if",
    "else",
    "end",
    "range",
    "with",
    "break",
    "continue",
    "define",
    "/*",
    "*/",
    ",",
    "index",
    "printf",
    "\"%d %s %v %q\"",
    "list",
    "dict",
    "len",
    "toJson",
    "fromJson",
    "upper",
    "repeat",
    "substr",
    "eq",
    "and",
    "or",
    "default",
    "split",
    "join",
    "b64dec",
    "indent",
    "atoi",
    "div",
    "keys",
    "get",
    "x",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(pieces in proptest::collection::vec(0..PIECES.len(), 0..40)) {
        let source: String = pieces.iter().map(|&i| PIECES[i]).collect();
        let items = data(&[("a", b"1,2"), ("b", "\u{e9}\u{0}\u{ff}".as_bytes()), ("x", b"{\"k\":[1]}")]);
        let _ = render(&source, "t", &items);
        let _ = check(&source, "t");
    }

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,200}") {
        let _ = render(&source, "t", &data(&[("a", b"1")]));
    }

    #[test]
    fn arbitrary_values_pass_through(value in proptest::collection::vec(any::<u8>(), 0..512)) {
        let items = data(&[("v", &value)]);
        prop_assert_eq!(run("{{ .v }}", &[("v", &value)]).unwrap(), value.clone());
        let round_trip = render("{{ .v | b64enc | b64dec }}", "t", &items).unwrap();
        prop_assert_eq!(round_trip.expose_secret(), &value[..]);
        for source in ["{{ toJson .v }}", "{{ quote .v }}", "{{ printf \"%q %x %s %d\" .v .v .v .v }}", "{{ upper .v }}{{ title .v }}{{ trim .v }}{{ nospace .v }}", "{{ js .v }}{{ html .v }}{{ urlquery .v }}", "{{ splitList \"\" .v }}{{ replace \"\" \"-\" .v }}{{ fromJson .v }}"] {
            prop_assert!(render(source, "t", &items).is_ok(), "{}", source);
        }
    }
}

#[test]
fn deepest_template_and_values_fit_on_a_small_stack() {
    // The deepest control nesting, holding the deepest value, printed every way, in a debug
    // build on a thread with half of tokio's default worker stack.
    let depth = MAX_DEPTH - 1;
    let deep_json = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    let body = format!(
        "{{{{ $x := list }}}}{{{{ range {} }}}}{{{{ $x = list $x }}}}{{{{ end }}}}\
         {{{{ toPrettyJson $x | len }}}}{{{{ $x | len }}}}{{{{ printf \"%v%#v%d%q\" $x $x $x $x | len }}}}\
         {{{{ toJson (fromJson .j) }}}}{{{{ join \",\" $x }}}}{{{{ quote $x | len }}}}",
        MAX_DEPTH - 1
    );
    let source = format!(
        "{}{body}{}",
        "{{ if 1 }}".repeat(depth),
        "{{ end }}".repeat(depth)
    );
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let out = run(&source, &[("j", deep_json.as_bytes())]).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(&deep_json), "{text}");
        })
        .unwrap();
    handle.join().unwrap();
}
