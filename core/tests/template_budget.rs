//! The per-object template budget (docs/templates.md, Safety): all templates of one object
//! share one output, step and work budget, so an object costs bounded memory and time however
//! many templates it has, and errors say the limit is per object without showing values.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::collections::BTreeMap;

use sealant_core::SecretBytes;
use sealant_core::template::{
    LimitKind, MAX_OUTPUT, MAX_STEPS, MAX_WORK, TemplateError, TemplateErrors, render, render_all,
};

fn templates(sources: &[(&str, &str)]) -> BTreeMap<String, String> {
    sources
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `count` copies of `source`, keyed `t000`, `t001`, … (rendered in that order).
fn copies(source: &str, count: usize) -> BTreeMap<String, String> {
    (0..count)
        .map(|i| (format!("t{i:03}"), source.to_owned()))
        .collect()
}

fn limit_of(error: &TemplateError) -> LimitKind {
    match error {
        TemplateError::Limit { limit, .. } => *limit,
        other => panic!("not a limit error: {other:?}"),
    }
}

fn fails_alone(source: &str) -> bool {
    render(source, "t", &BTreeMap::new()).is_err()
}

/// Renders `templates`, which must fail, and returns the errors.
fn failures(templates: &BTreeMap<String, String>) -> TemplateErrors {
    match render_all(templates, &BTreeMap::new()) {
        Ok(rendered) => panic!("rendered {} items", rendered.len()),
        Err(errors) => errors,
    }
}

const REPEAT_1MIB: &str = r#"{{ repeat 1048576 "x" }}"#;

// ---------------------------------------------------------------------------------------------
// Output.

#[test]
fn many_templates_of_a_mebibyte_fail_at_the_object_output_limit() {
    // 300 templates of 1 MiB each were 300 MiB of output (and 1.1 GB in the controller).
    let errors = failures(&copies(REPEAT_1MIB, 300));
    // The first fits the Secret; every other fails, from the second on.
    assert!(!errors.by_item.contains_key("t000"));
    assert_eq!(errors.by_item.len(), 299);
    assert_eq!(limit_of(&errors.by_item["t001"]), LimitKind::Output);
    let mut by_limit: BTreeMap<String, usize> = BTreeMap::new();
    for error in errors.by_item.values() {
        *by_limit
            .entry(format!("{:?}", limit_of(error)))
            .or_default() += 1;
    }
    // Building a mebibyte costs work even when it cannot be output: the budget runs out long
    // before the 300th template, and the rest stop at their first charge.
    assert!(by_limit["Work"] > 250, "{by_limit:?}");
    assert_eq!(by_limit.len(), 2, "{by_limit:?}");
}

#[test]
fn output_is_shared_and_exactly_a_secret_fits() {
    let half = format!("{{{{ repeat {} \"a\" }}}}", MAX_OUTPUT / 2);
    let rendered = render_all(&templates(&[("a", &half), ("b", &half)]), &BTreeMap::new())
        .expect("two halves fill the budget exactly");
    let total: usize = rendered.values().map(SecretBytes::len).sum();
    assert_eq!(total, MAX_OUTPUT);

    let sixty = format!("{{{{ repeat {} \"a\" }}}}", MAX_OUTPUT * 6 / 10);
    assert!(!fails_alone(&sixty));
    let errors = failures(&templates(&[("a", &sixty), ("b", &sixty)]));
    assert_eq!(errors.by_item.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(limit_of(&errors.by_item["b"]), LimitKind::Output);
}

#[test]
fn a_failed_template_output_does_not_count() {
    let big = format!("{{{{ repeat {} \"a\" }}}}", MAX_OUTPUT * 6 / 10);
    let failing = format!("{big}{{{{ div 1 0 }}}}");
    let errors = failures(&templates(&[("a", &failing), ("b", &big)]));
    assert_eq!(errors.by_item.keys().collect::<Vec<_>>(), ["a"]);
    assert!(matches!(errors.by_item["a"], TemplateError::Exec { .. }));
}

// ---------------------------------------------------------------------------------------------
// Steps and work.

#[test]
fn steps_are_shared_across_templates() {
    let source = format!("{{{{ range {} }}}}{{{{ end }}}}", MAX_STEPS * 6 / 10);
    assert!(!fails_alone(&source));
    let errors = failures(&templates(&[("a", &source), ("b", &source)]));
    assert_eq!(errors.by_item.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(limit_of(&errors.by_item["b"]), LimitKind::Steps);
}

#[test]
fn work_is_shared_across_templates() {
    // Reading a 1 MB string 40 times is about 60% of the work budget.
    let reads = MAX_WORK * 6 / 10 / 1_000_000;
    let source = format!(
        "{{{{ $s := repeat 1000000 \"a\" }}}}{{{{ range {reads} }}}}{{{{ $n := len $s }}}}{{{{ end }}}}"
    );
    assert!(!fails_alone(&source));
    let errors = failures(&templates(&[("a", &source), ("b", &source)]));
    assert_eq!(errors.by_item.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(limit_of(&errors.by_item["b"]), LimitKind::Work);
}

#[test]
fn hashing_costs_more_than_reading() {
    // The same number of passes over 1 MB: reading fits, hashing does not.
    let reads = MAX_WORK * 6 / 10 / 1_000_000;
    let loop_of = |function: &str| {
        format!(
            "{{{{ $s := repeat 1000000 \"a\" }}}}{{{{ range {reads} }}}}{{{{ $h := {function} $s }}}}{{{{ end }}}}"
        )
    };
    assert!(!fails_alone(&loop_of("len")));
    for function in ["sha256sum", "sha1sum"] {
        match render(&loop_of(function), "t", &BTreeMap::new()) {
            Err(error) => assert_eq!(limit_of(&error), LimitKind::Work, "{function}"),
            Ok(_) => panic!("{function} was charged like a read"),
        }
    }
}

#[test]
fn hashing_big_strings_in_many_templates_hits_the_object_budget() {
    // Each template alone hashed ~64 MiB before; now the object's templates do together.
    let source = r#"{{ $s := repeat 1048576 "x" }}{{ range 64 }}{{ $h := sha256sum $s }}{{ end }}"#;
    let errors = failures(&copies(source, 300));
    assert_eq!(errors.by_item.len(), 300);
    for error in errors.by_item.values() {
        assert_eq!(limit_of(error), LimitKind::Work);
    }
}

#[test]
fn parsing_is_charged() {
    // A 1 MB template of 1M tokens took 115 MiB to parse.
    let source = format!("{{{{ list {}}}}}", "1 ".repeat(500_000));
    let error = render(&source, "t", &BTreeMap::new()).unwrap_err();
    assert_eq!(limit_of(&error), LimitKind::Work);
}

#[test]
fn building_big_values_is_charged() {
    for source in [
        // Twelve mebibytes held in variables.
        r#"{{ $v := repeat 1048576 "x" }}"#.repeat(12),
        // A million one-character strings.
        r#"{{ $l := splitList "" (repeat 1000000 "a") }}"#.to_owned(),
        // Decoded JSON is bigger than its text.
        r#"{{ $j := fromJson (printf "[%s[]]" (repeat 300000 "[],")) }}"#.to_owned(),
        // Every join builds a new string.
        r#"{{ $s := repeat 1000000 "a" }}{{ range 20 }}{{ $j := join "" (list $s) }}{{ end }}"#
            .to_owned(),
    ] {
        match render(&source, "t", &BTreeMap::new()) {
            Err(error) => assert_eq!(limit_of(&error), LimitKind::Work, "{source}"),
            Ok(_) => panic!("rendered within the budget: {source}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[test]
fn limit_errors_say_per_object_and_show_no_values() {
    const CANARY: &str = "CANARY-b7d9e1";
    let items: BTreeMap<String, SecretBytes> =
        BTreeMap::from([("c".to_owned(), SecretBytes::from_slice(CANARY.as_bytes()))]);
    let sources = [
        ("output", r#"{{ range 2000000 }}{{ $.c }}{{ end }}"#),
        ("steps", r#"{{ range 2000000 }}{{ $x := $.c }}{{ end }}"#),
        (
            "work",
            r#"{{ $s := repeat 60000 .c }}{{ range 1000 }}{{ $h := sha256sum $s }}{{ end }}"#,
        ),
    ];
    for (name, source) in sources {
        let errors = render_all(&templates(&[(name, source)]), &items).unwrap_err();
        let error = &errors.by_item[name];
        let expected = match name {
            "output" => LimitKind::Output,
            "steps" => LimitKind::Steps,
            _ => LimitKind::Work,
        };
        assert_eq!(limit_of(error), expected, "{name}");
        for shown in [errors.to_string(), format!("{errors:?}")] {
            assert!(shown.contains("per-object limit"), "{name}: {shown}");
            assert!(!shown.contains("CANARY"), "{name}: {shown}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Peak memory of hostile objects, measured in a child process so that other tests do not count.

/// Hostile objects: 300 templates each, or one huge template.
fn hostile(case: &str) -> BTreeMap<String, String> {
    match case {
        "repeat" => copies(REPEAT_1MIB, 300),
        "hold" => copies(&r#"{{ $v := repeat 1048576 "x" }}"#.repeat(60), 300),
        "split" => copies(r#"{{ $l := splitList "" (repeat 1048576 "x") }}"#, 300),
        "parse" => copies(&format!("{{{{ list {}}}}}", "(1) ".repeat(250_000)), 1),
        other => panic!("unknown case {other}"),
    }
}

const CASE_VAR: &str = "SEALANT_TEMPLATE_BUDGET_CASE";

/// Peak resident memory of this process (Linux).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Run by `hostile_objects_have_bounded_peak_memory` in a child process, alone.
#[test]
#[ignore = "run in a child process by hostile_objects_have_bounded_peak_memory"]
fn render_hostile_object_in_child() {
    let Ok(case) = std::env::var(CASE_VAR) else {
        return;
    };
    let errors = render_all(&hostile(&case), &BTreeMap::new()).unwrap_err();
    assert!(!errors.is_empty());
    eprintln!("peak_rss_kib={}", peak_rss_kib());
}

#[cfg(target_os = "linux")]
#[test]
fn hostile_objects_have_bounded_peak_memory() {
    // The budget allows 16 MiB of allocations per object (these peak at 6 to 16 MiB in a
    // release build); before it, "repeat" peaked at 305 MiB, "hold" at 65 MiB, "split" at
    // 100 MiB and "parse" at 207 MiB.
    const LIMIT_KIB: u64 = 40 << 10;
    for case in ["repeat", "hold", "split", "parse"] {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "render_hostile_object_in_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CASE_VAR, case)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{case}: {stderr}");
        let peak: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak_rss_kib="))
            .unwrap_or_else(|| panic!("{case}: no figure in {stderr}"))
            .trim()
            .parse()
            .unwrap();
        assert!(peak < LIMIT_KIB, "{case}: peak {peak} KiB");
    }
}
