//! The item decoder on arbitrary bytes: length prefix, RSA-OAEP part, AES-GCM part, and the
//! Go-lenient base64 decoder in front of it.
//!
//! Input layout: `[label length L][L bytes of label][payload]`. The payload is opened as a raw
//! item with `open_item` and `KeyRing::open`; if it is UTF-8 it is also base64-decoded and, when
//! that succeeds, the decoded bytes are opened too (so base64 seeds reach the crypto). The whole
//! input, when UTF-8, goes through `base64::decode` as well.
//!
//! Properties (besides "never panics"):
//! - `open_item` and `KeyRing::open` agree (both fail, or both give the same plaintext);
//! - base64: `decode(encode(decode(s))) == decode(s)`, and an error position is within the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealant_core::{base64, open_item};
use sealant_fuzz::{FIXED_KEY, KEY_RING, split_label};

fn check_base64(text: &str) -> Option<Vec<u8>> {
    match base64::decode(text) {
        Ok(bytes) => {
            let bytes = bytes.expose_secret().to_vec();
            let again = base64::decode(&base64::encode(&bytes)).expect("encode output must decode");
            assert_eq!(again.expose_secret(), &bytes[..], "base64 round trip changed the bytes");
            Some(bytes)
        }
        Err(err) => {
            assert!(err.position <= text.len(), "error position {} past the end ({})", err.position, text.len());
            None
        }
    }
}

fn open(label: &[u8], item: &[u8]) {
    let single = open_item(&FIXED_KEY, label, item);
    let ring = KEY_RING.open(label, item, Some(FIXED_KEY.fingerprint()));
    let unhinted = KEY_RING.open(label, item, None);
    match (&single, &ring) {
        (Ok(a), Ok((b, fp))) => {
            assert_eq!(a.expose_secret(), b.expose_secret(), "open_item and KeyRing::open disagree");
            assert_eq!(*fp, FIXED_KEY.fingerprint(), "the hinted key opened it but another was reported");
        }
        (Err(_), _) => {} // the ring holds a second key, which may open what the fixed key cannot
        (Ok(_), Err(_)) => panic!("open_item opened an item that KeyRing::open (with the key) did not"),
    }
    assert_eq!(ring.is_ok(), unhinted.is_ok(), "the key hint changed whether an item opens");
}

fuzz_target!(|data: &[u8]| {
    let (label, payload) = split_label(data);
    open(label, payload);
    if let Ok(text) = std::str::from_utf8(payload) {
        if let Some(decoded) = check_base64(text) {
            open(label, &decoded);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_base64(text);
    }
});
