//! The key-less analysis behind `sealant inspect`, `lint` and `diff` on arbitrary input: every
//! document of a UTF-8 stream that reads as a SealedSecret is analyzed and checked against a
//! certificate, and the raw input is classified as one sealed item.
//!
//! Properties (besides "never panics"):
//! - an item's `sealed_len` is its decoded length, and a known plaintext length is smaller;
//! - RSA hybrid items claim a key size that is a whole number of bytes within the plausible range;
//! - analysis is deterministic (same digests, same problems twice);
//! - every problem has a rule name, and an item's problem never quotes the item's value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::inspect::{
    ItemFormat, ItemInfo, MAX_RSA_BYTES, MIN_RSA_BYTES, Problem, analyze, check_certificates,
    inspect_item_bytes,
};
use sealant_core::object::{read_documents, sealed_secret_from_value};
use sealant_core::Certificate;
use std::sync::LazyLock;

static CERT: LazyLock<Certificate> = LazyLock::new(|| {
    Certificate::from_pem(include_bytes!("../../core/tests/vectors/keys/rsa2048.crt"))
        .expect("the fixed test certificate parses")
});

fn check_item(info: &ItemInfo) {
    if let Some(len) = info.plaintext_len {
        assert!(len < info.sealed_len.max(1), "plaintext {len} not below sealed {}", info.sealed_len);
    }
    if let Ok(ItemFormat::RsaHybrid { key_bits }) = &info.format {
        assert!(key_bits % 8 == 0 && (MIN_RSA_BYTES * 8..=MAX_RSA_BYTES * 8).contains(key_bits));
    }
}

fuzz_target!(|data: &[u8]| {
    let raw = inspect_item_bytes(data);
    assert_eq!(raw.sealed_len, data.len());
    check_item(&raw);
    assert_eq!(raw, inspect_item_bytes(data), "classification is not deterministic");

    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(values) = read_documents::<serde_json::Value>(text) else { return };
    for (index, value) in values.into_iter().enumerate() {
        let Ok(sealed) = sealed_secret_from_value(value, index + 1) else { continue };
        let analysis = analyze(&sealed);
        assert_eq!(analysis, analyze(&sealed), "analysis is not deterministic");
        for info in analysis.items.values().chain(&analysis.v1_data) {
            check_item(info);
        }
        let (_, cert_problems) =
            check_certificates(&analysis, std::slice::from_ref(&*CERT), time::OffsetDateTime::UNIX_EPOCH);
        for problem in analysis.problems.iter().chain(&cert_problems) {
            assert!(!problem.rule().is_empty());
            // An item's own problem never quotes its value. (Other messages quote names from
            // metadata, which may happen to equal some value.)
            if let Problem::Item { item, .. } = problem {
                let encoded = &sealed.spec.encrypted_data[item];
                let message = problem.to_string();
                if encoded.len() > 16 && !item.contains(encoded.as_str()) {
                    assert!(!message.contains(encoded.as_str()), "an item problem quotes the item");
                }
            }
        }
    }
});
