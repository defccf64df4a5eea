//! Shared helpers for sealant-core's integration tests: loading the checked-in vectors.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use sealant_core::{Certificate, PrivateKey};

pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

pub fn read_vector(name: &str) -> Vec<u8> {
    let path = vectors_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn private_key(stem: &str) -> PrivateKey {
    PrivateKey::from_pem(&read_vector(&format!("keys/{stem}.key"))).unwrap()
}

pub fn certificate(stem: &str) -> Certificate {
    Certificate::from_pem(&read_vector(&format!("keys/{stem}.crt"))).unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
