//! YAML for all of sealant: one parsing policy and one output style (core/README.md, "YAML").
//!
//! Every YAML text sealant reads, from a file, stdin or a request body, goes through
//! [`from_str`] or [`from_str_multiple`], so the limits below are the whole policy: they bound
//! the time and memory any input can cost, whatever it nests, repeats or aliases. Errors never
//! quote the input (a misplaced plaintext must not reach a terminal or a log): they name the
//! kind of problem, a line and a column.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind as ScanErrorKind;
use serde_saphyr::{
    DefaultMessageFormatter, DuplicateKeyPolicy, Error, ExternalMessageSource, MergeKeyPolicy,
    MessageFormatter as _, NonFiniteFloatPolicy, Options, SerializerOptions,
};

/// Largest YAML text read, in bytes. Checked before parsing: the parser's own cap applies to
/// readers only, and sealant always parses text already in memory.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;
/// Deepest nesting of collections, block and flow alike. Real manifests nest a few levels (a
/// CRD schema about 20); the limit also keeps every scanner step cheap, so 64 KiB of `[` fails
/// at the 65th.
pub const MAX_DEPTH: usize = 64;
/// Most nodes (scalars, sequences, mappings) in one text, aliases expanded: about 10,000
/// SealedSecrets.
pub const MAX_NODES: usize = 250_000;
/// Most parser events in one text, aliases expanded.
pub const MAX_EVENTS: usize = 1_000_000;
/// Most documents in one stream (empty ones included).
pub const MAX_DOCUMENTS: usize = 10_000;
/// Most alias (`*name`) references, and most anchors (`&name`), in one text.
pub const MAX_ALIASES: usize = 10_000;
/// Most events all alias expansions together may replay: the "billion laughs" bound.
pub const MAX_REPLAYED_EVENTS: usize = 250_000;
/// Most aliases nested inside an aliased node that is itself being expanded.
pub const MAX_ALIAS_NESTING: usize = 16;
/// Most scalar bytes in one text, alias expansions included: aliasing one large scalar many
/// times cannot build more than this.
pub const MAX_SCALAR_BYTES: usize = MAX_INPUT_BYTES;
/// Most `<<` merge keys in one text.
pub const MAX_MERGE_KEYS: usize = 1_000;

/// Where in the text a problem is: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.column)
    }
}

/// Reading or writing YAML failed. The message never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", at(.location))]
#[non_exhaustive]
pub struct YamlError {
    /// 1-based document of the stream the problem is in (1 for a single document).
    pub document: usize,
    /// What went wrong, without the location.
    pub message: String,
    /// Where the parser stopped, when known.
    pub location: Option<Location>,
    /// True when one of this module's limits refused the text, rather than its syntax or shape.
    pub limit: bool,
}

/// ` at line L column C`, or nothing.
pub(crate) fn at(location: &Option<Location>) -> String {
    location.map_or_else(String::new, |l| format!(" at {l}"))
}

/// The parsing policy. Rebuilt per call: `Options` is not `Send`.
fn options() -> Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: Some(MAX_INPUT_BYTES),
            flow_nesting_limit: MAX_DEPTH,
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_events: MAX_EVENTS,
            max_documents: MAX_DOCUMENTS,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_recorded_anchor_events: MAX_REPLAYED_EVENTS,
            max_recorded_anchor_bytes: MAX_SCALAR_BYTES,
            max_total_scalar_bytes: MAX_SCALAR_BYTES,
            max_merge_keys: MAX_MERGE_KEYS,
            max_inclusion_depth: 0,
            // After 100 aliases, at most 10 per anchor defined.
            enforce_alias_anchor_ratio: true,
            alias_anchor_min_aliases: 100,
            alias_anchor_ratio_multiplier: 10,
            // YAML's own bound on an implicit key.
            simple_key_max_lookahead: 1024,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: MAX_ALIAS_NESTING,
        },
        // Comments are never read; not keeping them saves the work.
        emit_comments: false,
        // Two values for one key: which one a reader takes is a guess; kubectl refuses too.
        duplicate_keys: DuplicateKeyPolicy::Error,
        // As kubectl (go-yaml) does.
        merge_keys: MergeKeyPolicy::Merge,
        // YAML 1.2 scalars, as before: `yes`, `on`, `010`, `1_000` stay strings.
        strict_booleans: true,
        legacy_octal_numbers: false,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        // `.inf`, `.nan`, `1e999` cannot be JSON numbers; keep the text.
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
        reject_unsupported_tags: true,
        // A snippet would quote input lines, which may hold values.
        with_snippet: false,
    }
}

/// The output style. Pinned by the CLI's snapshots (cli/tests/cmd) and `deploy/crd.yaml`.
fn ser_options() -> SerializerOptions {
    serde_saphyr::ser_options! {
        indent_step: 2,
        // `- item` at the parent key's indentation, as kubectl writes.
        compact_list_indent: true,
        // Multi-line strings as literal blocks (`|`)...
        prefer_block_scalars: true,
        // ...but a long line is never folded: sealed items stay on one line.
        folded_wrap_chars: usize::MAX,
        quote_all: false,
        // Quote YAML 1.1 look-alikes (`yes`, `on`, `2026-01-01`): kubectl reads YAML 1.1.
        yaml_12: false,
    }
}

/// Reads one YAML document as `T`.
///
/// # Errors
/// The text is too large, breaks a limit, is not YAML, or does not have `T`'s shape.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    check_size(text)?;
    serde_saphyr::from_str_with_options(text, options()).map_err(|err| convert(&err, text))
}

/// Reads every document of a YAML stream as `T`; empty (null) documents are skipped.
///
/// # Errors
/// As [`from_str`], naming the document that failed.
pub fn from_str_multiple<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, YamlError> {
    check_size(text)?;
    serde_saphyr::from_multiple_with_options(text, options()).map_err(|err| convert(&err, text))
}

/// Writes `value` as one YAML document, without a leading `---`.
///
/// # Errors
/// Only if `value` cannot be represented in YAML.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string_with_options(value, ser_options()).map_err(|err| YamlError {
        document: 1,
        message: sanitize(&err.to_string()),
        location: None,
        limit: false,
    })
}

fn check_size(text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(YamlError {
            document: 1,
            message: format!("the text is over the limit of {MAX_INPUT_BYTES} bytes"),
            location: None,
            limit: true,
        });
    }
    Ok(())
}

fn convert(err: &Error, text: &str) -> YamlError {
    let location = err.location().filter(|l| l.line() > 0).map(|l| Location {
        line: usize::try_from(l.line()).unwrap_or(usize::MAX),
        column: usize::try_from(l.column()).unwrap_or(usize::MAX),
    });
    YamlError {
        document: location.map_or(1, |l| document_at(text, l.line)),
        message: sanitize(&message(err)),
        location,
        limit: is_limit(err),
    }
}

/// The error without the wrappers that only add locations or context.
fn inner(mut err: &Error) -> &Error {
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

fn is_limit(err: &Error) -> bool {
    match inner(err) {
        Error::Budget { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => true,
        Error::ExternalMessage { source, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => is_scanner_limit(scan.kind()),
            _ => false,
        },
        _ => false,
    }
}

fn is_scanner_limit(kind: &ScanErrorKind) -> bool {
    matches!(
        kind,
        ScanErrorKind::RecursionLimitExceeded
            | ScanErrorKind::TooManyComments
            | ScanErrorKind::InputByteLimitExceeded { .. }
            | ScanErrorKind::DirectiveByteLimitExceeded { .. }
            | ScanErrorKind::TooManyReservedDirectiveParams { .. }
            | ScanErrorKind::AnchorCountOverflow
    )
}

/// The error's message without any text of the input: where serde-saphyr would quote a value
/// (a scalar of the wrong type, a duplicate key, a tag), only its kind is kept.
fn message(err: &Error) -> Cow<'_, str> {
    match inner(err) {
        Error::Budget { breach, .. } => Cow::Owned(budget_message(breach)),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => Cow::Owned(format!(
            "aliases expand to more than the limit of {MAX_REPLAYED_EVENTS} events"
        )),
        Error::AliasReplayStackDepthExceeded { .. } => Cow::Owned(format!(
            "aliases nested deeper than the limit of {MAX_ALIAS_NESTING} levels"
        )),
        Error::ExternalMessage { source, .. }
            if matches!(source.as_ref(), ExternalMessageSource::Parser(scan)
                if *scan.kind() == ScanErrorKind::RecursionLimitExceeded) =>
        {
            Cow::Owned(format!(
                "collections nested deeper than the limit of {MAX_DEPTH} levels"
            ))
        }
        // What was found is not kept; say at least what was wanted, as serde would.
        Error::Unexpected { expected, .. } => Cow::Owned(match *expected {
            "string scalar" => "invalid type: expected a string".to_owned(),
            "mapping start" => "invalid type: expected a map".to_owned(),
            "sequence start" => "invalid type: expected a sequence".to_owned(),
            other => format!("expected {other}"),
        }),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => Cow::Owned(format!(
            "invalid type: {}, expected {expected}",
            kind_only(unexpected)
        )),
        Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => Cow::Owned(format!(
            "invalid value: {}, expected {expected}",
            kind_only(unexpected)
        )),
        Error::SerdeUnknownField {
            field, expected, ..
        } => Cow::Owned(match expected.as_slice() {
            [] => format!("unknown field `{field}`, there are no fields"),
            names => format!("unknown field `{field}`, expected {}", one_of(names)),
        }),
        Error::SerdeUnknownVariant { expected, .. } => {
            Cow::Owned(format!("unknown variant, expected {}", one_of(expected)))
        }
        Error::DuplicateMappingKey { .. } => Cow::Borrowed("duplicate key in a mapping"),
        Error::NullIntoString { .. } => Cow::Borrowed("invalid type: null, expected a string"),
        Error::NonFiniteFloat { .. } => Cow::Borrowed("a non-finite number"),
        Error::QuotingRequired { .. } => Cow::Borrowed("a value that must be quoted"),
        Error::UnsupportedTag { .. } | Error::TaggedStructFieldName { .. } => {
            Cow::Borrowed("an unsupported tag")
        }
        Error::TaggedEnumMismatch { .. } => Cow::Borrowed("a tag that does not fit here"),
        Error::BinaryNotUtf8 { .. } => Cow::Borrowed("a !!binary value that is not UTF-8 text"),
        other => DefaultMessageFormatter.format_message(other),
    }
}

fn budget_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => {
            format!("collections nested deeper than the limit of {MAX_DEPTH} levels")
        }
        BudgetBreach::Nodes { .. } => format!("more than the limit of {MAX_NODES} nodes"),
        BudgetBreach::Events { .. } => format!("more than the limit of {MAX_EVENTS} events"),
        BudgetBreach::Documents { .. } => {
            format!("more than the limit of {MAX_DOCUMENTS} documents")
        }
        BudgetBreach::Aliases { .. } => format!("more than the limit of {MAX_ALIASES} aliases"),
        BudgetBreach::Anchors { .. } => format!("more than the limit of {MAX_ALIASES} anchors"),
        BudgetBreach::AliasAnchorRatio { .. } => {
            "more than 10 aliases per anchor (the alias limit)".to_owned()
        }
        BudgetBreach::ScalarBytes { .. } | BudgetBreach::RecordedAnchorBytes { .. } => {
            format!("more than the limit of {MAX_SCALAR_BYTES} bytes of values, aliases expanded")
        }
        BudgetBreach::RecordedAnchorEvents { .. } => {
            format!("aliases expand to more than the limit of {MAX_REPLAYED_EVENTS} events")
        }
        BudgetBreach::MergeKeys { .. } => {
            format!("more than the limit of {MAX_MERGE_KEYS} merge keys")
        }
        BudgetBreach::InputBytes { .. } => {
            format!("the text is over the limit of {MAX_INPUT_BYTES} bytes")
        }
        BudgetBreach::SequenceUnbalanced => "unbalanced collections".to_owned(),
        _ => "over a YAML parsing limit".to_owned(),
    }
}

/// `string "hunter2"` → `string`, `integer `5`` → `integer`: serde's description of an
/// unexpected value, without the value.
fn kind_only(unexpected: &str) -> &str {
    unexpected
        .find(['`', '"', '\''])
        .map_or(unexpected, |at| &unexpected[..at])
        .trim_end()
}

/// serde's wording for a list of allowed names.
fn one_of(names: &[&str]) -> String {
    match names {
        [one] => format!("`{one}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => format!(
            "one of {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Control characters escaped, so a message is one line and cannot drive a terminal.
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() || matches!(ch, '\u{2028}' | '\u{2029}') {
            out.extend(ch.escape_debug());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The 1-based document of a stream that `line` is in. Document markers (`---`, `...`) are
/// recognised at the start of a line only, where YAML allows nothing else.
fn document_at(text: &str, line: usize) -> usize {
    let marker = |l: &str, m: &str| {
        l.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
    };
    let mut document = 0usize;
    let mut open = false;
    for (index, l) in text.split('\n').enumerate() {
        if marker(l, "---") {
            document += 1;
            open = true;
        } else if marker(l, "...") {
            open = false;
        } else if !open {
            let trimmed = l.trim();
            let content = !(trimmed.is_empty() || trimmed.starts_with('#') || l.starts_with('%'));
            if content {
                document += 1;
                open = true;
            }
        }
        if index + 1 >= line {
            break;
        }
    }
    document.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::{Value, json};

    fn refused(text: &str) -> YamlError {
        match from_str_multiple::<Value>(text) {
            Ok(values) => panic!("accepted {} documents", values.len()),
            Err(err) => err,
        }
    }

    #[test]
    fn flow_nesting_stops_at_the_depth_limit() {
        let ok = format!(
            "x: {}{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert_eq!(from_str_multiple::<Value>(&ok).unwrap().len(), 1);
        let over = format!(
            "x: {}{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(refused(&over).limit);
        // 64 KiB of `[`: refused at the 65th, with a location and no quoting.
        let err = refused(&"[".repeat(64 * 1024));
        assert!(err.limit, "{err}");
        assert_eq!(err.location.map(|l| l.line), Some(1));
        assert!(err.message.contains("nested deeper than"), "{err}");
    }

    #[test]
    fn block_nesting_stops_at_the_depth_limit() {
        let nest = |levels: usize| {
            (0..levels)
                .map(|level| format!("{}a:\n", "  ".repeat(level)))
                .collect::<String>()
        };
        assert_eq!(
            from_str_multiple::<Value>(&nest(MAX_DEPTH - 1))
                .unwrap()
                .len(),
            1
        );
        let err = refused(&nest(MAX_DEPTH + 1));
        assert!(err.limit, "{err}");
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for level in 1..10 {
            let refs = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        let err = refused(&text);
        assert!(err.limit, "{err}");
    }

    /// Twenty anchors make the alias ratio look harmless; aliasing a 1 MiB scalar 10,000 times
    /// (through a sequence of 100 aliases, aliased 100 times) would build 10 GiB.
    #[test]
    fn aliases_cannot_amplify_scalar_bytes() {
        let mut text = format!("big: &big {}\n", "x".repeat(1 << 20));
        for n in 0..20 {
            text.push_str(&format!("pad{n}: &pad{n} p\n"));
        }
        text.push_str(&format!(
            "hundred: &hundred [{}]\n",
            vec!["*big"; 100].join(", ")
        ));
        text.push_str(&format!("all: [{}]\n", vec!["*hundred"; 100].join(", ")));
        let err = refused(&text);
        assert!(err.limit, "{err}");
    }

    #[test]
    fn counts_are_limited() {
        let documents = "---\n".repeat(MAX_DOCUMENTS + 1);
        assert!(refused(&documents).limit);
        let nodes = format!("[{}]", "1,".repeat(MAX_NODES + 1));
        assert!(refused(&nodes).limit);
        let oversized = " ".repeat(MAX_INPUT_BYTES + 1);
        let err = refused(&oversized);
        assert!(err.limit && err.location.is_none(), "{err}");
        assert!(from_str::<Value>(&oversized).unwrap_err().limit);
    }

    #[test]
    fn errors_never_quote_values() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        enum Choice {
            First,
            Second,
        }
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Typed {
            number: Option<u32>,
            choice: Option<Choice>,
            text: Option<String>,
        }
        for text in [
            "number: hunter2",
            "number: 'hunter2'",
            "number: \"hunter2\"",
            "number: -12345",
            "choice: hunter2",
            "text: [hunter2]",
            "text: {hunter2: 1}",
            "text: !hunter2 x",
            "text: a\ntext: hunter2",
            "text: \"hunter2",
            "text: 'hunter2",
            "text: [hunter2",
            "text: hunter2\n  bad: 1",
            "text: *hunter2",
            "text: !!binary aHVudGVyMv8=",
        ] {
            let err = from_str::<Typed>(text).unwrap_err();
            let shown = err.to_string();
            assert!(!shown.contains("hunter2"), "{text:?}: {shown}");
            assert!(!shown.contains("12345"), "{text:?}: {shown}");
            assert!(err.location.is_some(), "{text:?}: {shown}");
        }
        // An unknown key is named, as serde names it: it is a key, not a value.
        let err = from_str::<Typed>("nmber: 1").unwrap_err();
        assert!(err.message.starts_with("unknown field `nmber`"), "{err}");
    }

    #[test]
    fn errors_name_their_document() {
        let err = refused("a: 1\n---\n---\n# c\nb: [\n");
        assert_eq!(err.document, 3, "{err}");
        let err = refused("# only a comment\n%YAML 1.2\n---\na: 1\n...\nb: 2\nc: [\n");
        assert_eq!(err.document, 2, "{err}");
        assert_eq!(
            from_str_multiple::<Value>("a: 1\n...\nb: 2\n")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn scalars_read_as_yaml_1_2() {
        let value: Value =
            from_str("a: yes\nb: on\nc: 010\nd: 1_000\ne: .inf\nf: true\ng: 7\nh: ~\ni: 0x10\n")
                .unwrap();
        assert_eq!(
            value,
            json!({"a": "yes", "b": "on", "c": "010", "d": "1_000", "e": ".inf", "f": true,
                   "g": 7, "h": null, "i": 16})
        );
    }

    #[test]
    fn duplicate_keys_are_refused_and_merge_keys_applied() {
        let err = from_str::<Value>("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.location.map(|l| l.line), Some(3), "{err}");
        let value: Value =
            from_str("base: &base {x: 1, y: 2}\nuse:\n  <<: *base\n  y: 3\n").unwrap();
        assert_eq!(value["use"], json!({"x": 1, "y": 3}));
    }

    /// The output style, byte for byte (core/README.md, "YAML").
    #[test]
    fn output_style_is_pinned() {
        let value = crate::object::sorted(json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "items": [{"a": "1", "b": [true, 2]}, "yes"],
            "empty": {},
            "none": [],
            "multi": "line one\nline two\n",
            "quoted": ["true", "", "0.1.0", "a: b", "#x", "2026-01-01T00:00:00Z", "it's"],
            "sealed": "A".repeat(120),
            "null": null,
        }));
        let expected = format!(
            "apiVersion: bitnami.com/v1alpha1\n\
             empty: {{}}\n\
             items:\n\
             - a: \"1\"\n  b:\n  - true\n  - 2\n\
             - \"yes\"\n\
             multi: |\n  line one\n  line two\n\
             none: []\n\
             \"null\": null\n\
             quoted:\n\
             - \"true\"\n- \"\"\n- \"0.1.0\"\n- \"a: b\"\n- \"#x\"\n- \"2026-01-01T00:00:00Z\"\n- it's\n\
             sealed: {}\n",
            "A".repeat(120)
        );
        assert_eq!(to_string(&value).unwrap(), expected);
    }

    #[test]
    fn output_reads_back() {
        let awkward = [
            "",
            " lead",
            "trail ",
            "yes",
            "No",
            "~",
            "null",
            "0o17",
            "1e3",
            ".nan",
            "- x",
            "---",
            "...",
            "[x",
            "{x",
            "*x",
            "&x",
            "!x",
            "%x",
            "@x",
            "`x",
            "'x",
            "\"x",
            "? x",
            ": x",
            "a\nb",
            "a\nb\n",
            "\n",
            "\nx",
            " x\ny",
            "x\n  ",
            "tab\there",
            "\u{1}",
            "\u{2028}",
            "\u{feff}bom",
            "é",
            "#!/bin/sh\necho hi\n",
            "k: v\n- item\n",
        ];
        for text in awkward {
            let value = json!({ text: text, "list": [text], "nested": {"k": text} });
            let yaml = to_string(&value).unwrap();
            assert_eq!(
                from_str::<Value>(&yaml).unwrap(),
                value,
                "{text:?}:\n{yaml}"
            );
        }
        let long_key = json!({ "k".repeat(2000): "v" });
        assert_eq!(
            from_str::<Value>(&to_string(&long_key).unwrap()).unwrap(),
            long_key
        );
    }
}
