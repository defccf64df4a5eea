//! The namespace-selector parser (`sealant_core::selector`, docs/multi-tenancy.md) on arbitrary
//! text.
//!
//! Properties (besides "never panics"):
//! - an accepted selector's canonical form re-parses to the same selector and is a fixed point
//!   (so equal spellings bind to one OAEP label);
//! - its label is the fixed prefix plus the canonical form;
//! - matching is deterministic and agrees between the selector and its re-parsed form;
//! - a refusal's message is bounded whatever the input's length.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use sealant_core::selector::{LABEL_PREFIX, MAX_SELECTOR_LEN, Selector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Selector::parse(text) {
        Ok(selector) => {
            let canonical = selector.canonical();
            let again = Selector::parse(&canonical).expect("the canonical form re-parses");
            assert_eq!(
                again, selector,
                "the canonical form means the same selector"
            );
            assert_eq!(
                again.canonical(),
                canonical,
                "the canonical form is a fixed point"
            );
            let mut label = LABEL_PREFIX.as_bytes().to_vec();
            label.extend_from_slice(canonical.as_bytes());
            assert_eq!(selector.label(), label);
            // Labels made from the input's own words: some selectors match them, some do not.
            let mut labels = BTreeMap::new();
            for (i, word) in text.split(|c: char| !c.is_ascii_alphanumeric()).enumerate() {
                if !word.is_empty() && i % 2 == 0 {
                    labels.insert(word.to_owned(), word.to_owned());
                }
            }
            assert_eq!(selector.matches(&labels), again.matches(&labels));
        }
        Err(err) => {
            // A quoted part is one key or value of a bounded input; `{:?}` escaping at most 6x a byte.
            assert!(err.to_string().len() <= 8 * MAX_SELECTOR_LEN + 200);
        }
    }
});
