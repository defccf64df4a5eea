//! The rollout annotation (docs/rollout.md) on arbitrary text.
//!
//! Properties (besides "never panics"):
//! - an accepted list holds at most `MAX_TARGETS` workloads, sorted and each once, every name a
//!   valid object name without `/`;
//! - written back as `kind/name` entries, it parses to the same list;
//! - a refused value's message is bounded: it quotes at most 80 characters per part.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::rollout::{MAX_TARGETS, parse_targets};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_targets(text) {
        Ok(targets) => {
            assert!(targets.len() <= MAX_TARGETS);
            assert!(targets.windows(2).all(|w| w[0] < w[1]), "sorted, each once");
            for target in &targets {
                assert!(!target.name.is_empty() && !target.name.contains('/'));
            }
            let written: Vec<String> = targets
                .iter()
                .map(|t| format!("{}/{}", t.kind.as_str(), t.name))
                .collect();
            assert_eq!(parse_targets(&written.join(", ")).as_ref(), Ok(&targets));
        }
        Err(error) => {
            // The message quotes at most 80 characters (plus `...`) of each of at most two
            // parts, each escaped by `{:?}` to at most 10 characters (`\u{10ffff}`), plus its
            // own words: bounded whatever the annotation's length.
            assert!(error.to_string().chars().count() <= 2 * 83 * 10 + 200);
        }
    }
});
