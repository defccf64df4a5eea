//! The docs name only flags the binary has: every `sealant SUBCOMMAND … --flag` and
//! `kubeseal … --flag` in the code blocks and inline code of README.md and docs/*.md is looked
//! up in the clap
//! definitions (`src/args.rs`) or kubeseal mode's `--help`, so a renamed or removed flag cannot
//! live on in a copy-paste example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// README.md and the pages right under docs/ (not the historical design notes).
fn pages() -> Vec<PathBuf> {
    let root = repo_root();
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The lines of fenced code blocks, with `\` continuations joined, and their line numbers.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut pending: Option<(usize, String)> = None;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((number + 1, String::new()));
        joined.push_str(line.trim_end().trim_end_matches('\\'));
        joined.push(' ');
        if line.trim_end().ends_with('\\') {
            pending = Some((start, joined));
        } else {
            out.push((start, joined));
        }
    }
    out
}

/// Inline code spans that are commands (`` `sealant seal … --merge-into F` `` in a table).
fn inline_commands(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (number, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && (span.starts_with("sealant ") || span.starts_with("kubeseal ")) {
                out.push((number + 1, span.to_owned()));
            }
        }
    }
    out
}

/// Each `sealant …`/`kubeseal …` command in a line: the words after the program name, up to
/// the end of that command (`|`, `;`, `&&`, `)`, a quote, a comment).
fn commands(line: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    for program in ["sealant", "kubeseal"] {
        for (at, _) in line.match_indices(program) {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + program.len());
            // A program name, not part of a path, a word or a flag value.
            if before.is_some_and(|b| !matches!(b, b' ' | b'(' | b'\'' | b'"' | b'`' | b'|'))
                || after != Some(&b' ')
            {
                continue;
            }
            let rest = &line[at + program.len()..];
            let end = rest
                .find(['|', ';', ')', '\'', '"', '`', '#', '&', '>', '<'])
                .unwrap_or(rest.len());
            let words = rest[..end].split_whitespace().map(str::to_owned).collect();
            out.push((program, words));
        }
    }
    out
}

/// The long flags `sealant PATH…` takes, or `None` when `words` do not start with a
/// subcommand (say, `helm install sealant deploy/helm/sealant`).
fn sealant_flags(cli: &clap::Command, words: &[String]) -> Option<(String, BTreeSet<String>)> {
    let mut command = cli;
    let mut path = vec!["sealant".to_owned()];
    for word in words {
        if word.starts_with('-') {
            break;
        }
        match command.find_subcommand(word) {
            Some(sub) => {
                command = sub;
                path.push(word.clone());
            }
            None => break,
        }
    }
    if path.len() == 1 {
        return None;
    }
    let mut flags: BTreeSet<String> = ["help", "version"].map(str::to_owned).into();
    for arg in command.get_arguments() {
        flags.extend(arg.get_long().map(str::to_owned));
        flags.extend(
            arg.get_all_aliases()
                .into_iter()
                .flatten()
                .map(str::to_owned),
        );
    }
    Some((path.join(" "), flags))
}

/// The long flags in `words`, up to a `--` that ends them.
fn long_flags(words: &[String]) -> Vec<String> {
    words
        .iter()
        .take_while(|word| *word != "--")
        .filter_map(|word| word.strip_prefix("--"))
        .map(|flag| flag.split('=').next().unwrap_or(flag).to_owned())
        .filter(|flag| {
            flag.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && flag
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        })
        .collect()
}

#[test]
fn flags_named_in_docs_exist() {
    let mut cli = sealant::args::Cli::command();
    cli.build();
    let kubeseal_help = Command::new(env!("CARGO_BIN_EXE_sealant"))
        .args(["kubeseal", "--help"])
        .output()
        .expect("run sealant kubeseal --help");
    let kubeseal_help = String::from_utf8_lossy(&kubeseal_help.stdout).into_owned()
        + &String::from_utf8_lossy(&kubeseal_help.stderr);
    assert!(kubeseal_help.contains("--fetch-cert"), "{kubeseal_help}");

    let mut checked = 0;
    let mut unknown = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        for (line, code) in code_lines(&text).into_iter().chain(inline_commands(&text)) {
            for (program, words) in commands(&code) {
                let known = match program {
                    "sealant" if words.first().is_some_and(|w| w == "kubeseal") => None,
                    "sealant" => match sealant_flags(&cli, &words) {
                        Some((path, flags)) => Some((path, flags)),
                        None => continue,
                    },
                    _ => None,
                };
                for flag in long_flags(&words) {
                    checked += 1;
                    let exists =
                        match &known {
                            Some((_, flags)) => flags.contains(&flag),
                            None => kubeseal_help.match_indices(&format!("--{flag}")).any(
                                |(at, found)| {
                                    !kubeseal_help[at + found.len()..].starts_with(|c: char| {
                                        c.is_ascii_alphanumeric() || c == '-'
                                    })
                                },
                            ),
                        };
                    if !exists {
                        let command = known.as_ref().map_or("kubeseal", |(path, _)| path);
                        unknown.push(format!("{name}:{line}: `{command}` has no --{flag}"));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} flags found in the docs");
    assert!(
        unknown.is_empty(),
        "flags in the docs that the binary does not take:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_scanner_finds_commands_and_flags() {
    let lines = code_lines(
        "text --not-this\n```sh\n$ sealant seal db -n prod \\\n  --from-literal a=b | kubectl apply -f -\ngit config x 'sealant diff --git HEAD'\nhelm install sealant deploy/helm/sealant --set x=1\n```\n",
    );
    let found: Vec<_> = lines
        .iter()
        .flat_map(|(_, line)| commands(line))
        .map(|(program, words)| (program, long_flags(&words)))
        .collect();
    assert_eq!(
        found,
        [
            ("sealant", vec!["from-literal".to_owned()]),
            ("sealant", vec!["git".to_owned()]),
            ("sealant", vec!["set".to_owned()]),
        ]
    );
    let mut cli = sealant::args::Cli::command();
    cli.build();
    let helm = ["deploy/helm/sealant".to_owned()];
    assert!(sealant_flags(&cli, &helm).is_none());
    let (path, flags) = sealant_flags(&cli, &["keys".into(), "backup".into()]).unwrap();
    assert_eq!(path, "sealant keys backup");
    assert!(flags.contains("output-file"), "{flags:?}");
    assert!(!flags.contains("merge-into"), "{flags:?}");
}
