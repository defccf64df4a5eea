//! Key-less analysis against the independent vectors: what `inspect` reads from the outside
//! (key size, plaintext length) must agree with what the keys reveal, and key hints are matched
//! against real certificates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a panic is a failure report

mod common;

use common::{certificate, read_vector};
use sealant_core::inspect::{
    HintMatch, ItemFormat, KeyHint, Problem, Severity, analyze, check_certificates,
};
use sealant_core::object::read_sealed_secrets;
use sealant_core::sealing::KEY_HINT_ANNOTATION;
use time::OffsetDateTime;

fn vector() -> sealant_core::SealedSecret {
    let text = String::from_utf8(read_vector("sealedsecret-second-of-three.yaml")).unwrap();
    read_sealed_secrets(&text).unwrap().remove(0)
}

#[test]
fn sizes_read_from_outside_match_the_plaintexts() {
    let expected: serde_json::Value =
        serde_json::from_slice(&read_vector("sealedsecret-second-of-three.expected.json")).unwrap();
    let analysis = analyze(&vector());
    assert!(analysis.problems.is_empty(), "{:?}", analysis.problems);
    assert_eq!(analysis.key_hint, KeyHint::Absent);
    let data = expected["data"].as_object().unwrap();
    assert_eq!(analysis.items.len(), data.len());
    for (name, b64) in data {
        let plaintext = sealant_core::base64::decode(b64.as_str().unwrap()).unwrap();
        let info = &analysis.items[name];
        // The vector was sealed to multi-2, an RSA-2048 key.
        assert_eq!(info.format, Ok(ItemFormat::RsaHybrid { key_bits: 2048 }));
        assert_eq!(info.plaintext_len, Some(plaintext.len()), "{name}");
    }
}

#[test]
fn key_hints_are_matched_against_certificates() {
    let mut sealed = vector();
    let multi = [certificate("multi-1"), certificate("multi-2")];
    let now = OffsetDateTime::now_utc();

    let (found, problems) = check_certificates(&analyze(&sealed), &multi, now);
    assert_eq!((found, problems.len()), (HintMatch::NoHint, 0));
    assert_eq!(
        check_certificates(&analyze(&sealed), &[], now).0,
        HintMatch::NoCertificates
    );

    let hint = |sealed: &mut sealant_core::SealedSecret, fp: &str| {
        sealed
            .metadata
            .annotations_mut()
            .insert(KEY_HINT_ANNOTATION.to_owned(), fp.to_owned());
    };
    hint(&mut sealed, multi[1].public_key().fingerprint().as_str());
    let (found, problems) = check_certificates(&analyze(&sealed), &multi, now);
    assert_eq!(found, HintMatch::Matches(1));
    assert!(problems.is_empty(), "{problems:?}");

    // Only a 4096-bit certificate given: the hint is unknown, an error.
    let (found, problems) = check_certificates(&analyze(&sealed), &[certificate("rsa4096")], now);
    assert_eq!(found, HintMatch::Unknown);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].rule(), "key-hint-unknown");
    assert_eq!(problems[0].severity(), Severity::Error);

    // Hinted to an expired 2048-bit certificate: a warning, and the sizes agree.
    let expired = certificate("expired-2048");
    hint(&mut sealed, expired.public_key().fingerprint().as_str());
    let (found, problems) = check_certificates(&analyze(&sealed), &[expired], now);
    assert_eq!(found, HintMatch::Matches(0));
    assert!(
        matches!(&problems[..], [Problem::KeyHintExpired { expired_on, .. }] if expired_on == "2020-01-01"),
        "{problems:?}"
    );

    // Hinted to a 4096-bit certificate while the items are RSA-2048: one warning per item.
    let big = certificate("rsa4096");
    hint(&mut sealed, big.public_key().fingerprint().as_str());
    let (_, problems) = check_certificates(&analyze(&sealed), &[big], now);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .all(|p| p.rule() == "key-size-mismatch" && p.severity() == Severity::Warning)
    );
}

proptest::proptest! {
    /// Any bytes, any text: an item is classified or refused, never a panic.
    #[test]
    fn any_item_is_classified_without_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1200), text in ".{0,64}") {
        let info = sealant_core::inspect::inspect_item_bytes(&bytes);
        proptest::prop_assert_eq!(info.sealed_len, bytes.len());
        let _ = sealant_core::inspect::inspect_item(&text);
        let mut age = sealant_core::inspect::AGE_MAGIC.to_vec();
        age.extend_from_slice(&bytes);
        let _ = sealant_core::inspect::inspect_item_bytes(&age);
    }
}
