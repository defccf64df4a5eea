//! Errors never contain values; limits; arbitrary input never panics.

use super::*;

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
