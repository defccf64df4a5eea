//! The page's manifest reader (`assets/paste.js`, docs/webui.md "Pasting a Secret") against
//! core's YAML writer, run in Node.js: every Secret core writes as YAML reads back to the same
//! value, and mutated texts are either read or refused with the reader's own error, never an
//! exception of another kind. Inputs come from a fixed-seed generator, so a failure repeats.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::io::Write as _;
use std::process::{Command, Stdio};

use sealant_core::Format;
use sealant_core::object::to_text;
use serde_json::{Map, Value, json};

/// SplitMix64: a fixed-seed stream, enough to vary inputs reproducibly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces that YAML writers quote, escape or fold: indicators, look-alikes of other types,
/// whitespace at the ends, line breaks, non-ASCII.
const PIECES: &[&str] = &[
    "a", "Z", "0", "1.5", "-", "_", ".", ":", ": ", " #", "#", "'", "\"", "\\", "|", ">", "&", "*",
    "!", "%", "@", "`", "{", "}", "[", "]", ",", "?", " ", "  ", "\n", "\n\n", "\t", "yes", "null",
    "~", "true", "0x1F", "1e3", "---", "...", "é", "日本", "😀", "\u{85}", "\u{2028}",
];

fn text(rng: &mut Rng, max: usize) -> String {
    (0..rng.below(max + 1)).map(|_| rng.pick(PIECES)).collect()
}

/// A key Kubernetes accepts in `data`: `[-._a-zA-Z0-9]+`.
fn data_key(rng: &mut Rng) -> String {
    const CHARS: &[u8] = b"-._aZ09";
    (0..1 + rng.below(8))
        .map(|_| CHARS[rng.below(CHARS.len())] as char)
        .collect()
}

fn secret(rng: &mut Rng) -> Value {
    let mut string_data = Map::new();
    for _ in 0..rng.below(5) {
        string_data.insert(data_key(rng), Value::String(text(rng, 12)));
    }
    let mut data = Map::new();
    for _ in 0..rng.below(3) {
        let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
        data.insert(
            data_key(rng),
            Value::String(sealant_core::base64::encode(&bytes)),
        );
    }
    let mut annotations = Map::new();
    for _ in 0..rng.below(3) {
        annotations.insert(
            format!("example.com/{}", data_key(rng)),
            Value::String(text(rng, 6)),
        );
    }
    let mut secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "app", "namespace": "shop"},
        "type": rng.pick(&["Opaque", "kubernetes.io/basic-auth", "example.com/x: y"]),
    });
    if !annotations.is_empty() {
        secret["metadata"]["annotations"] = Value::Object(annotations);
    }
    if !string_data.is_empty() {
        secret["stringData"] = Value::Object(string_data);
    }
    if !data.is_empty() {
        secret["data"] = Value::Object(data);
    }
    secret
}

/// `text` with one small random edit: a piece inserted, a character or a line removed, or a
/// line repeated.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.below(chars.len() + 1);
    match rng.below(4) {
        0 => {
            let mut out: String = chars[..at].iter().collect();
            out += rng.pick(PIECES);
            out.extend(&chars[at..]);
            out
        }
        1 if at < chars.len() => chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != at)
            .map(|(_, c)| c)
            .collect(),
        _ => {
            let lines: Vec<&str> = text.split('\n').collect();
            let line = rng.below(lines.len());
            let mut out: Vec<&str> = lines.clone();
            if rng.below(2) == 0 {
                out.remove(line);
            } else {
                out.insert(line, lines[line]);
            }
            out.join("\n")
        }
    }
}

/// Runs the harness on `texts`; one result per text.
fn run_node(texts: &[String]) -> Vec<Value> {
    let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/paste/harness.mjs");
    let mut child = Command::new("node")
        .arg(harness)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run node (Node.js 18 or newer; tests/setup.sh installs it): the page's reader is JavaScript");
    let mut input = String::new();
    for text in texts {
        input += &serde_json::to_string(text).expect("a string");
        input.push('\n');
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("node runs");
    writer.join().expect("writer").expect("write to node");
    assert!(output.status.success(), "node failed: {output:?}");
    let results: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON line per input"))
        .collect();
    assert_eq!(results.len(), texts.len(), "one result per input");
    results
}

#[test]
fn reads_back_every_secret_core_writes_and_never_crashes_on_edits() {
    let mut rng = Rng(0x05ea_1a47);
    let secrets: Vec<Value> = (0..3000).map(|_| secret(&mut rng)).collect();
    let mut texts: Vec<String> = secrets
        .iter()
        .map(|s| to_text(s, Format::Yaml).expect("core writes YAML"))
        .collect();
    let written = texts.len();
    for i in 0..written * 4 {
        let mutated = mutate(&mut rng, &texts[i % written]);
        texts.push(mutated);
    }
    let results = run_node(&texts);

    for (i, (secret, result)) in secrets.iter().zip(&results).enumerate() {
        assert_eq!(
            result.get("ok"),
            Some(secret),
            "case {i}: core's YAML did not read back:\n{}\n{result}",
            texts[i]
        );
    }
    let mut refused = 0;
    for (text, result) in texts.iter().zip(&results).skip(written) {
        assert!(
            result.get("crash").is_none(),
            "the reader threw on:\n{text:?}\n{result}"
        );
        refused += usize::from(result.get("refused").is_some());
    }
    // The edits must reach the reader's error paths, or this test shows nothing about them.
    assert!(refused > 0, "no mutated text was refused");
}
