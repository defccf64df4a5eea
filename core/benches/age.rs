//! Cost of age items against the classic RSA item, for one 32-byte value.
//!
//! - `age_x25519`: [`seal_age_item`] / [`open_age_item`] with one X25519 recipient/identity.
//! - `age_pq`: the same with the hybrid ML-KEM-768 + X25519 recipient/identity.
//! - `age_ssh_rsa4096`: an age item whose only stanza is `ssh-rsa` for an RSA-4096 key, opened
//!   through a [`KeyRing`] holding that key.
//! - `rsa4096`: the classic item ([`seal_item`] / [`KeyRing::open`]), the baseline, measured in
//!   the same run so the ratios hold on a busy machine.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "bench set-up: a missing vector or a broken round trip must abort the run loudly"
)]

use std::hint::black_box;

use criterion::Criterion;
use sealant_core::age::envelope::Binding;
use sealant_core::age::{AgeIdentity, IdentityKind, open_age_item, seal_age_item};
use sealant_core::{KeyRing, PrivateKey, Scope, seal_item};

const VALUE: &[u8; 32] = b"correct-horse-battery-staple-123";

fn rsa4096() -> PrivateKey {
    let path = format!(
        "{}/tests/vectors/keys/rsa4096.key",
        env!("CARGO_MANIFEST_DIR")
    );
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    PrivateKey::from_pem(&pem).expect("vector key")
}

fn bench_age(c: &mut Criterion, name: &str, kind: IdentityKind) {
    let identity = AgeIdentity::generate(kind).expect("identity");
    let recipients = [identity.recipient().clone()];
    let identities = [identity];
    let binding = Binding::new(Scope::Strict, "default", "bench-secret");
    let item = seal_age_item(&recipients, &[], &binding, VALUE).expect("seal");
    let opened = open_age_item(&identities, &binding, &item).expect("open");
    assert_eq!(opened.expose_secret(), VALUE);
    let mut group = c.benchmark_group(name);
    group.bench_function("seal", |b| {
        b.iter(|| seal_age_item(black_box(&recipients), &[], &binding, black_box(VALUE)))
    });
    group.bench_function("open", |b| {
        b.iter(|| open_age_item(black_box(&identities), &binding, black_box(&item)))
    });
    group.finish();
}

fn bench_rsa(c: &mut Criterion) {
    let key = rsa4096();
    let ring: KeyRing = std::iter::once(key.clone()).collect();
    let binding = Binding::new(Scope::Strict, "default", "bench-secret");
    let classic = seal_item(key.public_key(), binding.label(), VALUE).expect("seal");
    let public = [key.public_key().clone()];
    let age_item = seal_age_item(&[], &public, &binding, VALUE).expect("seal");
    for item in [&classic, &age_item] {
        let (value, _) = ring.open_scoped(&binding, item, None).expect("open");
        assert_eq!(value.expose_secret(), VALUE);
    }

    let mut group = c.benchmark_group("rsa4096");
    group.sample_size(30);
    group.bench_function("seal", |b| {
        b.iter(|| seal_item(key.public_key(), binding.label(), black_box(VALUE)))
    });
    group.bench_function("open", |b| {
        b.iter(|| ring.open(binding.label(), black_box(&classic), None))
    });
    group.finish();

    let mut group = c.benchmark_group("age_ssh_rsa4096");
    group.sample_size(30);
    group.bench_function("seal", |b| {
        b.iter(|| seal_age_item(&[], black_box(&public), &binding, black_box(VALUE)))
    });
    group.bench_function("open", |b| {
        b.iter(|| ring.open_scoped(&binding, black_box(&age_item), None))
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_age(&mut c, "age_x25519", IdentityKind::X25519);
    bench_age(&mut c, "age_pq", IdentityKind::PostQuantum);
    bench_rsa(&mut c);
    c.final_summary();
}
