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
//! `age_x25519` and `age_pq`, `seal` and `open` interleaved with the raw primitives each one
//! contains, with the key agreement from each library in the build that has it, so
//! `bench/crypto.sh` can divide by the fastest. A raw baseline does all the cryptography of an
//! item and nothing else (no parsing, encoding, buffers; `raw`):
//!
//! - X25519 seal: an ephemeral key, its public key, one Diffie-Hellman, HKDF; open: one
//!   Diffie-Hellman, HKDF. `*_awslc` is aws-lc-rs `agreement`, `*_dalek` is x25519-dalek (what
//!   the `age` crate uses).
//! - post-quantum (ML-KEM-768 + X25519) seal: one encapsulation, the X25519 seal's ephemeral
//!   key and Diffie-Hellman, the X-Wing combiner (SHA3-256), the HPKE key schedule; open: one
//!   decapsulation, one Diffie-Hellman, combiner, key schedule. `*_awslc` is aws-lc-rs `kem`
//!   and `agreement`, `*_rustcrypto` is `ml-kem` and x25519-dalek.
//! - then, in every baseline, the item's symmetric work on aws-lc-rs: the file key wrapped or
//!   unwrapped (ChaCha20-Poly1305), the header MAC (HKDF, HMAC-SHA256 over a header of the real
//!   item's size), the payload key (HKDF) and the payload (ChaCha20-Poly1305); seal also draws
//!   the file key and payload nonce.
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

/// The symmetric work of one age item around its key agreement, on aws-lc-rs, as
/// c2sp.org/age and RFC 9180 define it: wrapping the file key (ChaCha20-Poly1305 of 16 bytes),
/// the header MAC (HKDF-SHA256, HMAC-SHA256 over the header), the payload key (HKDF-SHA256) and
/// the payload (ChaCha20-Poly1305, one chunk). Sizes are those of a real item of the type.
mod raw {
    use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::digest::{self, SHA3_256};
    use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
    use aws_lc_rs::hmac;
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

    pub(crate) const X25519_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
    const HPKE_SUITE: &[u8] = b"HPKE\x64\x7a\x00\x01\x00\x03";

    pub(crate) fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        Salt::new(HKDF_SHA256, salt)
            .extract(ikm)
            .expand(&[info], HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF");
        out
    }

    fn aead(key: &[u8; 32]) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).expect("key"))
    }

    pub(crate) fn seal(key: &[u8; 32], nonce: [u8; 12], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        aead(key)
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .expect("seal");
        buf
    }

    pub(crate) fn open(key: &[u8; 32], nonce: [u8; 12], ciphertext: &[u8]) -> Vec<u8> {
        let mut buf = ciphertext.to_vec();
        let len = aead(key)
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .expect("open")
            .len();
        buf.truncate(len);
        buf
    }

    /// The X-Wing combiner (SHA3-256).
    pub(crate) fn combine(ss_m: &[u8], ss_x: &[u8], ct_x: &[u8], pk_x: &[u8]) -> [u8; 32] {
        let mut ctx = digest::Context::new(&SHA3_256);
        for part in [ss_m, ss_x, ct_x, pk_x, b"\\.//^\\"] {
            ctx.update(part);
        }
        ctx.finish().as_ref().try_into().expect("32 bytes")
    }

    /// RFC 9180 base-mode key schedule for the shared secret: one LabeledExtract, two
    /// LabeledExpand (the context hashes are constants, as in `core/src/age/pq.rs`).
    pub(crate) fn hpke(shared: &[u8; 32], context: &[u8; 65]) -> ([u8; 32], [u8; 12]) {
        let salt = hmac::Key::new(hmac::HMAC_SHA256, shared);
        let mut ctx = hmac::Context::with_key(&salt);
        for part in [b"HPKE-v1" as &[u8], HPKE_SUITE, b"secret"] {
            ctx.update(part);
        }
        let prk = ctx.sign();
        let prk = hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref());
        let expand = |label: &[u8], len: u16| {
            let mut ctx = hmac::Context::with_key(&prk);
            for part in [
                &len.to_be_bytes()[..],
                b"HPKE-v1",
                HPKE_SUITE,
                label,
                context,
                &[1],
            ] {
                ctx.update(part);
            }
            ctx.sign()
        };
        let key = expand(b"key", 32);
        let nonce = expand(b"base_nonce", 12);
        (
            key.as_ref().try_into().expect("32 bytes"),
            nonce.as_ref()[..12].try_into().expect("12 bytes"),
        )
    }

    /// The file key, header and payload of one item, sealed under real keys at set-up.
    pub(crate) struct Item {
        pub(crate) file_key: [u8; 16],
        pub(crate) header: Vec<u8>,
        nonce: [u8; 16],
        payload: Vec<u8>,
        payload_len: usize,
    }

    impl Item {
        /// An item shaped like `real` (a sealed age item): same header and payload sizes.
        pub(crate) fn like(real: &[u8]) -> Self {
            let mac_line = real
                .windows(4)
                .position(|w| w == b"\n---")
                .expect("age header")
                + 4;
            let body = real[mac_line..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("MAC line")
                + mac_line
                + 1;
            let payload_len = real.len() - body - 16 - 16;
            let mut item = Self {
                file_key: [0x61; 16],
                header: real[..mac_line].to_vec(),
                nonce: [0x62; 16],
                payload: Vec::new(),
                payload_len,
            };
            let key = hkdf(&item.nonce, &item.file_key, b"payload");
            item.payload = seal(
                &key,
                [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                &vec![0x63; payload_len],
            );
            item
        }

        /// After the file key is unwrapped: the header MAC, the payload key and the payload.
        pub(crate) fn open_rest(&self, file_key: &[u8]) -> usize {
            let mac_key = hkdf(&[], file_key, b"header");
            let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &self.header);
            let key = hkdf(&self.nonce, file_key, b"payload");
            let nonce = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
            mac.as_ref().len() + open(&key, nonce, &self.payload).len()
        }

        /// Sealing: a fresh file key and nonce, the header MAC, the payload key and payload.
        pub(crate) fn seal_rest(&self, rng: &SystemRandom) -> (usize, [u8; 16]) {
            let mut file_key = [0u8; 16];
            let mut nonce = [0u8; 16];
            rng.fill(&mut file_key).expect("random");
            rng.fill(&mut nonce).expect("random");
            let mac_key = hkdf(&[], &file_key, b"header");
            let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &self.header);
            let key = hkdf(&nonce, &file_key, b"payload");
            let payload = vec![0x63; self.payload_len];
            let sealed = seal(&key, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], &payload);
            (mac.as_ref().len() + sealed.len(), file_key)
        }
    }

    /// HPKE's key schedule context for age's `mlkem768x25519` info, computed the long way.
    pub(crate) fn hpke_context() -> [u8; 65] {
        let extract = |label: &[u8], ikm: &[u8]| {
            let mut ctx = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &[]));
            for part in [b"HPKE-v1" as &[u8], HPKE_SUITE, label, ikm] {
                ctx.update(part);
            }
            ctx.sign()
        };
        let mut context = [0u8; 65];
        context[1..33].copy_from_slice(extract(b"psk_id_hash", b"").as_ref());
        context[33..]
            .copy_from_slice(extract(b"info_hash", b"age-encryption.org/mlkem768x25519").as_ref());
        context
    }
}

/// One age recipient type's seal/open next to the raw primitives they contain: the key
/// agreement of each library in the build plus the item's symmetric work on aws-lc-rs
/// ([`raw`]), each step fed by the one before, as in an item.
fn cpu_group(kind: IdentityKind, budget: Duration, clock: Duration) -> serde_json::Value {
    let identity = AgeIdentity::generate(kind).expect("identity");
    let recipients = [identity.recipient().clone()];
    let identities = [identity];
    let binding = Binding::new(Scope::Strict, "default", "bench-secret");
    let item = seal_age_item(&recipients, &[], &binding, VALUE).expect("seal");
    let shape = raw::Item::like(&item);
    let rng = aws_lc_rs::rand::SystemRandom::new();

    // X25519 in aws-lc-rs: a static key and a peer public key in wire form.
    let lc_static = agreement::PrivateKey::generate(&X25519).expect("x25519 key");
    let lc_static_pub = lc_static
        .compute_public_key()
        .expect("x25519 public key")
        .as_ref()
        .to_vec();
    let lc_peer = agreement::PrivateKey::generate(&X25519)
        .and_then(|k| k.compute_public_key())
        .expect("x25519 public key")
        .as_ref()
        .to_vec();
    // Seal: ephemeral key, its share, one Diffie-Hellman, HKDF; returns the wrap key input.
    let lc_seal_dh = move || {
        let e = agreement::PrivateKey::generate(&X25519).expect("ephemeral key");
        let share = e.compute_public_key().expect("public key");
        let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_peer));
        let shared = agreement::agree(&e, peer, (), |k| Ok(k.to_vec())).expect("agree");
        let mut salt = share.as_ref().to_vec();
        salt.extend_from_slice(&lc_peer);
        raw::hkdf(&salt, &shared, raw::X25519_LABEL)
    };
    let lc_share = agreement::PrivateKey::generate(&X25519)
        .and_then(|k| k.compute_public_key())
        .expect("x25519 public key")
        .as_ref()
        .to_vec();
    let lc_open_dh = move || {
        let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_share));
        let shared = agreement::agree(&lc_static, peer, (), |k| Ok(k.to_vec())).expect("agree");
        let mut salt = lc_share.clone();
        salt.extend_from_slice(&lc_static_pub);
        raw::hkdf(&salt, &shared, raw::X25519_LABEL)
    };
    // X25519 in x25519-dalek, as `age` and `age::pq` call it.
    let (e, sk, pk) = ([0x11u8; 32], [0x22u8; 32], [0x09u8; 32]);
    let dalek_seal_dh = move || {
        let share = x25519_dalek::x25519(black_box(e), x25519_dalek::X25519_BASEPOINT_BYTES);
        let shared = x25519_dalek::x25519(e, black_box(pk));
        raw::hkdf(&[share, pk].concat(), &shared, raw::X25519_LABEL)
    };
    let dalek_open_dh = move || {
        let shared = x25519_dalek::x25519(black_box(sk), black_box(pk));
        raw::hkdf(&[pk, pk].concat(), &shared, raw::X25519_LABEL)
    };

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
    let shape = &shape;
    let rng = &rng;
    // Wrapping the fresh file key under the stanza key, then the rest of the item.
    let seal_tail = move |key: [u8; 32], nonce: [u8; 12]| {
        let (n, file_key) = shape.seal_rest(rng);
        n + raw::seal(&key, nonce, &file_key).len()
    };
    // Unwrapping the file key (a body sealed under `key` at set-up), then the rest.
    let open_tail = move |key: [u8; 32], nonce: [u8; 12], body: &[u8]| {
        let file_key = raw::open(&key, nonce, body);
        shape.open_rest(&file_key)
    };
    match kind {
        IdentityKind::X25519 => {
            let zero = [0u8; 12];
            let lc_body = raw::seal(&lc_open_dh(), zero, &shape.file_key);
            let dalek_body = raw::seal(&dalek_open_dh(), zero, &shape.file_key);
            ops.push((
                "raw_seal_awslc",
                Box::new(move || seal_tail(lc_seal_dh(), zero)),
            ));
            ops.push((
                "raw_seal_dalek",
                Box::new(move || seal_tail(dalek_seal_dh(), zero)),
            ));
            ops.push((
                "raw_open_awslc",
                Box::new(move || open_tail(lc_open_dh(), zero, &lc_body)),
            ));
            ops.push((
                "raw_open_dalek",
                Box::new(move || open_tail(dalek_open_dh(), zero, &dalek_body)),
            ));
            // For the record of where the time went: the same item opened by the `age` crate's
            // own X25519 identity (x25519-dalek, public key recomputed per stanza; sealant's
            // path before `core/src/age/x25519.rs`), and that public key alone.
            let theirs: age::x25519::Identity = identities[0]
                .to_secret_string()
                .expose_secret()
                .parse()
                .expect("identity");
            let item = &item;
            ops.push((
                "open_age_crate_identity",
                Box::new(move || {
                    let decryptor = age::Decryptor::new_buffered(&item[..]).expect("header");
                    let mut reader = decryptor
                        .decrypt(std::iter::once(&theirs as &dyn age::Identity))
                        .expect("decrypt");
                    let mut out = Vec::new();
                    std::io::Read::read_to_end(&mut reader, &mut out).expect("read");
                    out.len()
                }),
            ));
            let secret = x25519_dalek::StaticSecret::from([0x22u8; 32]);
            ops.push((
                "dalek_public_key",
                Box::new(move || {
                    usize::from(x25519_dalek::PublicKey::from(black_box(&secret)).as_bytes()[0])
                }),
            ));
        }
        IdentityKind::PostQuantum => {
            let context = raw::hpke_context();
            // aws-lc-rs: ML-KEM-768 and X25519, then the X-Wing combiner and HPKE.
            let lc_dk = kem::DecapsulationKey::generate(&ML_KEM_768).expect("ML-KEM key");
            let lc_ek = lc_dk.encapsulation_key().expect("ML-KEM public key");
            let lc_x = agreement::PrivateKey::generate(&X25519).expect("x25519 key");
            let lc_x_pub = lc_x.compute_public_key().expect("pk").as_ref().to_vec();
            let lc_pq_seal = move || {
                let (ct, ss_m) = lc_ek.encapsulate().expect("encapsulate");
                let e = agreement::PrivateKey::generate(&X25519).expect("ephemeral key");
                let ct_x = e.compute_public_key().expect("public key");
                let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_x_pub));
                let ss_x = agreement::agree(&e, peer, (), |k| Ok(k.to_vec())).expect("agree");
                let shared = raw::combine(ss_m.as_ref(), &ss_x, ct_x.as_ref(), &lc_x_pub);
                black_box(ct.as_ref().len());
                raw::hpke(&shared, &context)
            };
            let (lc_ct, _) = lc_dk
                .encapsulation_key()
                .and_then(|ek| ek.encapsulate())
                .expect("encapsulate");
            let lc_ct = lc_ct.as_ref().to_vec();
            let lc_ct_x = agreement::PrivateKey::generate(&X25519)
                .and_then(|k| k.compute_public_key())
                .expect("x25519 public key")
                .as_ref()
                .to_vec();
            let lc_x_pub_open = lc_x.compute_public_key().expect("pk").as_ref().to_vec();
            let lc_pq_open = move || {
                let ss_m = lc_dk
                    .decapsulate(kem::Ciphertext::from(black_box(&lc_ct[..])))
                    .expect("decapsulate");
                let peer = agreement::UnparsedPublicKey::new(&X25519, black_box(&lc_ct_x));
                let ss_x = agreement::agree(&lc_x, peer, (), |k| Ok(k.to_vec())).expect("agree");
                let shared = raw::combine(ss_m.as_ref(), &ss_x, &lc_ct_x, &lc_x_pub_open);
                raw::hpke(&shared, &context)
            };
            // RustCrypto: ml-kem and x25519-dalek, as `core/src/age/pq.rs` used them.
            let (dk, ek) = MlKem768::generate_deterministic(&[0x33; 32].into(), &[0x44; 32].into());
            let (ct, _) = ek
                .encapsulate_deterministic(&[0x55; 32].into())
                .expect("encapsulate");
            let rc_pq_seal = move || {
                let (ct, ss_m) = ek
                    .encapsulate_deterministic(black_box(&[0x55; 32].into()))
                    .expect("encapsulate");
                let ct_x = x25519_dalek::x25519(black_box(e), x25519_dalek::X25519_BASEPOINT_BYTES);
                let ss_x = x25519_dalek::x25519(e, black_box(pk));
                black_box(ct.len());
                raw::hpke(&raw::combine(&ss_m, &ss_x, &ct_x, &pk), &context)
            };
            let rc_pq_open = move || {
                let ss_m = dk.decapsulate(black_box(&ct)).expect("decapsulate");
                let ss_x = x25519_dalek::x25519(black_box(sk), black_box(pk));
                raw::hpke(&raw::combine(&ss_m, &ss_x, &pk, &pk), &context)
            };
            let (key, nonce) = lc_pq_open();
            let lc_body = raw::seal(&key, nonce, &shape.file_key);
            let (key, nonce) = rc_pq_open();
            let rc_body = raw::seal(&key, nonce, &shape.file_key);
            ops.push((
                "raw_seal_awslc",
                Box::new(move || {
                    let (key, nonce) = lc_pq_seal();
                    seal_tail(key, nonce)
                }),
            ));
            ops.push((
                "raw_open_awslc",
                Box::new(move || {
                    let (key, nonce) = lc_pq_open();
                    open_tail(key, nonce, &lc_body)
                }),
            ));
            ops.push((
                "raw_seal_rustcrypto",
                Box::new(move || {
                    let (key, nonce) = rc_pq_seal();
                    seal_tail(key, nonce)
                }),
            ));
            ops.push((
                "raw_open_rustcrypto",
                Box::new(move || {
                    let (key, nonce) = rc_pq_open();
                    open_tail(key, nonce, &rc_body)
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
