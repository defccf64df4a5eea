//! Functions, one by one (see also the Go vectors).

use super::*;

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
