//! Template engine: arbitrary template text over arbitrary item values must render or fail
//! cleanly, within the output bound, and never echo a value in an error.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use sealant_core::SecretBytes;
use sealant_core::template::{MAX_OUTPUT, check, render};

/// A value no template text can contain by accident: it must never appear in an error.
const CANARY: &[u8] = b"c4n4ry-7f3e9a";

fuzz_target!(|input: &[u8]| {
    // Layout: template text, then a NUL, then NUL-separated item values.
    let mut parts = input.split(|&b| b == 0);
    let Some(source) = parts.next().and_then(|s| std::str::from_utf8(s).ok()) else {
        return;
    };
    if source.contains("c4n4ry") {
        return;
    }
    let mut data: BTreeMap<String, SecretBytes> = parts
        .enumerate()
        .map(|(i, value)| (format!("v{i}"), SecretBytes::from_slice(value)))
        .collect();
    data.insert("canary".into(), SecretBytes::from_slice(CANARY));

    let parsed = check(source, "fuzz");
    match render(source, "fuzz", &data) {
        Ok(output) => {
            assert!(parsed.is_ok(), "rendered although check failed");
            assert!(output.len() <= MAX_OUTPUT);
        }
        Err(err) => {
            let text = format!("{err} {err:?}");
            assert!(!text.contains("c4n4ry"), "an error echoed a value: {text}");
        }
    }
});
