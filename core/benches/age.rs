//! Cost of age items against the classic RSA item, for one 32-byte value.
//!
//! - `age_x25519`: [`seal_age_item`] / [`open_age_item`] with one X25519 recipient/identity.
//! - `age_pq`: the same with the hybrid ML-KEM-768 + X25519 recipient/identity.
//! - `age_ssh_rsa4096`: an age item whose only stanza is `ssh-rsa` for an RSA-4096 key, opened
//!   through a [`KeyRing`] holding that key.
//! - `classic_rsa4096`: the classic item ([`seal_item`] / [`KeyRing::open`]), the baseline, measured in
//!   the same run so the ratios hold on a busy machine.
//!
//! When `SEALANT_BENCH_CPU_OUT` names a file, a CPU-time pass follows (see `common`): for
//! `age_x25519` and `age_pq`, `seal` and `open` interleaved with the raw key agreement each one
//! contains, from both libraries in the build that have it, so `bench/crypto.sh` can divide by
//! the fastest:
//!
//! - X25519 seal: an ephemeral key, its public key, one Diffie-Hellman; open: one
//!   Diffie-Hellman. `*_awslc` is aws-lc-rs `agreement`, `*_dalek` is x25519-dalek (what the
//!   `age` crate uses).
//! - post-quantum (ML-KEM-768 + X25519) seal: one encapsulation plus the X25519 seal above;
//!   open: one decapsulation plus one Diffie-Hellman. `*_awslc` is aws-lc-rs `kem` and
//!   `agreement`, `*_rustcrypto` is `ml-kem` and x25519-dalek (what `age::pq` uses).
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "bench set-up: a missing vector or a broken round trip must abort the run loudly"
)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::agreement::{self, X25519};
use aws_lc_rs::kem::{self, ML_KEM_768};
use criterion::Criterion;
use ml_kem::kem::Decapsulate as _;
use ml_kem::{EncapsulateDeterministic as _, KemCore as _, MlKem768};
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

    let mut group = c.benchmark_group("classic_rsa4096");
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

/// One age recipient type's seal/open next to the raw primitives they contain.
fn cpu_group(kind: IdentityKind, budget: Duration, clock: Duration) -> serde_json::Value {
    let identity = AgeIdentity::generate(kind).expect("identity");
    let recipients = [identity.recipient().clone()];
    let identities = [identity];
    let binding = Binding::new(Scope::Strict, "default", "bench-secret");
    let item = seal_age_item(&recipients, &[], &binding, VALUE).expect("seal");

    // X25519 in aws-lc-rs: a static key and a peer public key in wire form.
    let lc_static = agreement::PrivateKey::generate(&X25519).expect("x25519 key");
    let lc_peer = agreement::PrivateKey::generate(&X25519)
        .and_then(|k| k.compute_public_key())
        .expect("x25519 public key")
        .as_ref()
        .to_vec();
    let lc_seal = move || {
        let e = agreement::PrivateKey::generate(&X25519).expect("ephemeral key");
        let share = e.compute_public_key().expect("public key").as_ref().len();
        let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_peer));
        share + agreement::agree(&e, peer, (), |k| Ok(k.len())).unwrap_or(0)
    };
    let lc_peer_open = agreement::PrivateKey::generate(&X25519)
        .and_then(|k| k.compute_public_key())
        .expect("x25519 public key")
        .as_ref()
        .to_vec();
    let lc_open = move || {
        let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_peer_open));
        agreement::agree(&lc_static, peer, (), |k| Ok(k.len())).unwrap_or(0)
    };
    // X25519 in x25519-dalek, as `age` and `age::pq` call it.
    let (e, sk, pk) = ([0x11u8; 32], [0x22u8; 32], [0x09u8; 32]);
    let dalek_seal = move || {
        let share = x25519_dalek::x25519(black_box(e), x25519_dalek::X25519_BASEPOINT_BYTES);
        let shared = x25519_dalek::x25519(e, black_box(pk));
        usize::from(share[0] ^ shared[0])
    };
    let dalek_open = move || usize::from(x25519_dalek::x25519(black_box(sk), black_box(pk))[0]);

    let mut ops: Vec<common::Op<'_>> = vec![
        (
            "seal",
            Box::new(|| {
                seal_age_item(black_box(&recipients), &[], &binding, black_box(VALUE))
                    .map_or(0, |i| i.len())
            }),
        ),
        (
            "open",
            Box::new(|| {
                open_age_item(black_box(&identities), &binding, black_box(&item))
                    .map_or(0, |v| v.expose_secret().len())
            }),
        ),
    ];
    match kind {
        IdentityKind::X25519 => {
            ops.push(("raw_seal_awslc", Box::new(lc_seal)));
            ops.push(("raw_seal_dalek", Box::new(dalek_seal)));
            ops.push(("raw_open_awslc", Box::new(lc_open)));
            ops.push(("raw_open_dalek", Box::new(dalek_open)));
        }
        IdentityKind::PostQuantum => {
            let lc_dk = kem::DecapsulationKey::generate(&ML_KEM_768).expect("ML-KEM key");
            let lc_ek = lc_dk.encapsulation_key().expect("ML-KEM public key");
            let (lc_ct, _) = lc_ek.encapsulate().expect("encapsulate");
            let lc_ct = lc_ct.as_ref().to_vec();
            ops.push((
                "raw_seal_awslc",
                Box::new(move || {
                    let (ct, ss) = lc_ek.encapsulate().expect("encapsulate");
                    ct.as_ref().len() + ss.as_ref().len() + lc_seal()
                }),
            ));
            ops.push((
                "raw_open_awslc",
                Box::new(move || {
                    let ss = lc_dk
                        .decapsulate(kem::Ciphertext::from(black_box(&lc_ct[..])))
                        .expect("decapsulate");
                    ss.as_ref().len() + lc_open()
                }),
            ));
            let (dk, ek) = MlKem768::generate_deterministic(&[0x33; 32].into(), &[0x44; 32].into());
            let (ct, _) = ek
                .encapsulate_deterministic(&[0x55; 32].into())
                .expect("encapsulate");
            ops.push((
                "raw_seal_rustcrypto",
                Box::new(move || {
                    let (ct, ss) = ek
                        .encapsulate_deterministic(black_box(&[0x55; 32].into()))
                        .expect("encapsulate");
                    usize::from(ct[0] ^ ss[0]) + dalek_seal()
                }),
            ));
            ops.push((
                "raw_open_rustcrypto",
                Box::new(move || {
                    let ss = dk.decapsulate(black_box(&ct)).expect("decapsulate");
                    usize::from(ss[0]) + dalek_open()
                }),
            ));
        }
    }
    common::interleaved(&mut ops, budget, clock)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_age(&mut c, "age_x25519", IdentityKind::X25519);
    bench_age(&mut c, "age_pq", IdentityKind::PostQuantum);
    bench_rsa(&mut c);
    c.final_summary();

    if let Some((path, budget)) = common::requested() {
        let clock = common::clock_overhead();
        let report = serde_json::json!({
            "clock_overhead_ns": clock.as_nanos() as f64,
            "age_x25519": cpu_group(IdentityKind::X25519, budget, clock),
            "age_pq": cpu_group(IdentityKind::PostQuantum, budget, clock),
        });
        common::write(&path, report);
    }
}
