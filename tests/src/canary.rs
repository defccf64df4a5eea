//! The suite-wide leak canary (docs/bad-input.md, "Secret values inside bad input"): one unique
//! plaintext per test process that the helpers building secrets ([`crate::controller::sealed`]) put
//! in front of every value, and checks that it never shows up where a secret value must not go.
//!
//! Where the harness looks, for every test of the e2e suite:
//!
//! - every [`crate::controller::ControllerProcess`] log (the controller runs at `TRACE`, its
//!   most verbose level, which also turns on its libraries' tracing; stdout and stderr, so
//!   panic messages too) and its metrics page, when the process is dropped;
//! - every SealedSecret status, Event and Secret metadata of a [`crate::TestNamespace`], when it
//!   is cleaned up or dropped;
//! - every HTTP answer read by [`crate::faults::send_raw`] and [`crate::controller::http_get`];
//! - stdout and stderr of every CLI run through [`crate::cli`].
//!
//! A find fails the test: an `Err` where the caller can take one, a panic in `Drop` (unless the
//! thread is already panicking, when it is printed). Every check adds to [`tally`], and
//! `tests/tests/leaks.rs` plants the canary in each of those places to prove that each check
//! sees it: a check that silently stopped looking would fail there.
//!
//! The canary is searched for raw and in the encodings a value takes on its way: base64 (at
//! any byte offset, so inside a longer base64 text too), hex, and the decimal byte lists that
//! `Debug` and JSON print for byte vectors.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The item value prefix: `CANARY` and 16 upper-case hex digits, padded to a multiple of 3
/// bytes with `X`, so that the base64 of `canary + value` starts with the base64 of the canary
/// and Sprig's `upper` leaves it as it is: a template over a value keeps the canary where the
/// shared assertions can strip it again.
#[must_use]
pub fn canary() -> &'static str {
    static CANARY: OnceLock<String> = OnceLock::new();
    CANARY.get_or_init(|| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        padded(&format!("CANARY{:016X}", hasher.finish()))
    })
}

fn padded(text: &str) -> String {
    let pad = (3 - text.len() % 3) % 3;
    format!("{text}{}", "X".repeat(pad))
}

/// `value` as the harness seals it: the canary, then the value.
#[must_use]
pub fn embed(value: &str) -> String {
    format!("{}{value}", canary())
}

/// `text` without the canary, raw or base64 (as [`embed`] and base64 put it in a value).
#[must_use]
pub fn strip(text: &str) -> String {
    let encoded = sealant_core::base64::encode(canary().as_bytes());
    text.replace(canary(), "").replace(&encoded, "")
}

/// [`strip`] for bytes that may not be UTF-8 (they are returned as they are then).
#[must_use]
pub fn strip_bytes(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => strip(text).into_bytes(),
        Err(_) => bytes.to_vec(),
    }
}

/// The forms `canary` is searched for, each with a name for reports.
#[must_use]
pub fn forms(canary: &str) -> Vec<(String, String)> {
    let bytes = canary.as_bytes();
    let mut forms = vec![("raw".to_owned(), canary.to_owned())];
    for shift in 0..3 {
        forms.push((format!("base64+{shift}"), base64_at(bytes, shift)));
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    forms.push(("hex".to_owned(), hex.to_ascii_uppercase()));
    forms.push(("hex".to_owned(), hex));
    let decimal: Vec<String> = bytes.iter().map(u8::to_string).collect();
    forms.push(("Debug bytes".to_owned(), decimal.join(", ")));
    forms.push(("JSON bytes".to_owned(), decimal.join(",")));
    forms
}

/// The base64 characters that depend on `bytes` alone when they start `shift` bytes into the
/// encoded text: what any base64 text holding `bytes` at that offset contains.
fn base64_at(bytes: &[u8], shift: usize) -> String {
    let mut padded = vec![0u8; shift];
    padded.extend_from_slice(bytes);
    let encoded = sealant_core::base64::encode(&padded);
    let (first_bit, end_bit) = (8 * shift, 8 * (shift + bytes.len()));
    encoded
        .char_indices()
        .filter(|(i, c)| *c != '=' && 6 * i >= first_bit && 6 * i + 6 <= end_bit)
        .map(|(_, c)| c)
        .collect()
}

/// One place the canary was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where (a log, "events", …).
    pub source: String,
    /// In which form (`raw`, `base64+1`, …).
    pub form: String,
    /// Up to 80 characters either side of it.
    pub context: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): …{}…", self.source, self.form, self.context)
    }
}

/// Every occurrence (first per form) of `canary` in `text`.
#[must_use]
pub fn find_in(canary: &str, source: &str, text: &str) -> Vec<Finding> {
    forms(canary)
        .into_iter()
        .filter_map(|(form, needle)| {
            let at = text.find(&needle)?;
            Some(Finding {
                source: source.to_owned(),
                form,
                context: around(text, at, needle.len()),
            })
        })
        .collect()
}

fn around(text: &str, at: usize, len: usize) -> String {
    let start = text[..at]
        .char_indices()
        .rev()
        .nth(79)
        .map_or(0, |(i, _)| i);
    let end = (at + len + 80).min(text.len());
    let end = (end..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..end].to_owned()
}

/// A leak: the canary where it must not be.
#[derive(Debug)]
pub struct Leak(pub Vec<Finding>);

impl std::fmt::Display for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "leak canary: the sealed plaintext canary appeared where no secret value may go:"
        )?;
        for finding in &self.0 {
            write!(f, "\n  {finding}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Leak {}

/// What the checks have looked at so far in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Texts checked.
    pub texts: u64,
    /// Bytes checked.
    pub bytes: u64,
}

static TEXTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// The running total of [`check`] calls.
#[must_use]
pub fn tally() -> Tally {
    Tally {
        texts: TEXTS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// Checks `text` (named `source` in the report) for this process's canary; counts it.
///
/// # Errors
/// [`Leak`] when the canary is in it.
pub fn check(source: &str, text: &str) -> Result<(), Leak> {
    TEXTS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(text.len() as u64, Ordering::Relaxed);
    let found = find_in(canary(), source, text);
    if found.is_empty() {
        Ok(())
    } else {
        Err(Leak(found))
    }
}

/// [`check`] on bytes (lossy UTF-8: the canary and its encodings are ASCII).
///
/// # Errors
/// [`Leak`] when the canary is in it.
pub fn check_bytes(source: &str, bytes: &[u8]) -> Result<(), Leak> {
    check(source, &String::from_utf8_lossy(bytes))
}

/// For `Drop`, which cannot return the error: panics with it, or prints it when the thread is
/// already panicking (a second panic would abort and hide both).
#[allow(clippy::panic)] // test support: the panic is how a leak fails the test
pub fn fail_loudly(result: Result<(), Leak>) {
    if let Err(leak) = result {
        if std::thread::panicking() {
            eprintln!("{leak}");
        } else {
            panic!("{leak}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_is_unique_upper_case_and_a_multiple_of_three() {
        let canary = canary();
        assert_eq!(canary.len() % 3, 0, "{canary}");
        assert_eq!(canary, canary.to_ascii_uppercase());
        assert_eq!(canary, super::canary(), "one per process");
        assert!(canary.starts_with("CANARY"));
    }

    #[test]
    fn embedded_values_are_found_raw_and_in_base64_at_every_offset() {
        let value = embed("s3cret");
        for prefix in ["", "a", "ab", "abc"] {
            let encoded = sealant_core::base64::encode(format!("{prefix}{value}").as_bytes());
            let found = find_in(canary(), "data", &format!("data: {encoded}"));
            assert!(!found.is_empty(), "offset {}: {encoded}", prefix.len());
        }
        assert_eq!(
            find_in(canary(), "log", &format!("x={value}"))[0].form,
            "raw"
        );
    }

    #[test]
    fn hex_and_byte_lists_are_found() {
        let bytes = canary().as_bytes();
        let debug = format!("{bytes:?}");
        let json = serde_json::to_string(&bytes).expect("json");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        for text in [debug, json, hex] {
            assert!(check("t", &format!("…{text}…")).is_err(), "{text}");
        }
    }

    #[test]
    fn other_text_passes_and_is_counted() {
        let text = "an ordinary line naming item password";
        let before = tally();
        check("log", text).expect("no canary");
        let after = tally();
        assert!(after.texts > before.texts);
        assert!(after.bytes >= before.bytes + text.len() as u64);
    }

    #[test]
    fn strip_undoes_embed_raw_and_in_base64() {
        let value = embed("tmpl-s3cret");
        assert_eq!(strip(&value), "tmpl-s3cret");
        let encoded = sealant_core::base64::encode(value.as_bytes());
        assert_eq!(
            strip(&format!("postgres://app:{encoded}@db")),
            format!(
                "postgres://app:{}@db",
                sealant_core::base64::encode(b"tmpl-s3cret")
            )
        );
        assert_eq!(strip(&value.to_ascii_uppercase()), "TMPL-S3CRET");
        assert_eq!(strip_bytes(&[0xff, 0xfe]), vec![0xff, 0xfe]);
    }

    #[test]
    fn a_leak_names_where_and_how() {
        let err = check("controller log", &format!("value={}!", embed("x"))).expect_err("leak");
        let text = err.to_string();
        assert!(text.contains("controller log (raw)"), "{text}");
        assert!(text.starts_with("leak canary:"), "{text}");
    }

    #[test]
    #[should_panic(expected = "leak canary")]
    fn fail_loudly_panics_on_a_leak() {
        fail_loudly(check("t", canary()));
    }
}
