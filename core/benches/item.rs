//! Cost of sealing and opening one item, against the bare AWS-LC RSA-OAEP primitive.
//!
//! For each key size (RSA-2048, RSA-4096) one criterion group holds:
//!
//! - `raw_oaep_decrypt` / `raw_oaep_encrypt`: `aws_lc_rs` RSA-OAEP-SHA256 with a label on a
//!   32-byte session key, keys prepared once, output buffers preallocated. This is the floor.
//! - `seal`: [`seal_item`] of a 32-byte value (session key from the OS, OAEP, AES-256-GCM).
//! - `unseal_ring1`: [`KeyRing::open`] with the right key alone.
//! - `unseal_ring5_last_nohint`: five keys of the same size, the right one last, no hint: four
//!   full RSA decryptions fail before the fifth succeeds (the worst case).
//! - `unseal_ring5_hinted`: the same ring, with the right fingerprint as hint (the best case).
//!
//! Keys come from `tests/vectors/keys`; RSA-4096 has one vector key, so its four decoys are
//! generated at start-up.
//!
//! When `SEALANT_BENCH_CPU_OUT` names a file, the same operations are then timed again in
//! thread CPU time, interleaved (see `common`: a long operation such as five RSA-4096
//! decryptions is preempted far more often than a short one), for `SEALANT_BENCH_CPU_SECS`
//! seconds of wall time per key size, and their medians are written there as JSON.
//! `bench/crypto.sh` sets both and reports both passes.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "bench set-up: a missing vector or a broken round trip must abort the run loudly"
)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use criterion::{Criterion, SamplingMode};
use der::Decode as _;
use pkcs1::RsaPublicKeyRef;
use pkcs8::spki::SubjectPublicKeyInfoRef;
use sealant_core::{Certificate, Fingerprint, KeyRing, PrivateKey, Scope, seal_item};

/// Size of the value sealed: a typical password or token.
const VALUE: &[u8; 32] = b"correct-horse-battery-staple-123";
/// What the raw primitive wraps, like [`seal_item`] does: a 32-byte AES-256 key.
const SESSION_KEY: [u8; 32] = [0x5a; 32];

fn read_vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn private_key(stem: &str) -> PrivateKey {
    PrivateKey::from_pem(&read_vector(&format!("{stem}.key")))
        .unwrap_or_else(|e| panic!("bad vector key {stem}: {e}"))
}

fn certificate(stem: &str) -> Certificate {
    Certificate::from_pem(&read_vector(&format!("{stem}.crt")))
        .unwrap_or_else(|e| panic!("bad vector certificate {stem}: {e}"))
}

/// The key's modulus, big-endian, `modulus_len` bytes.
fn modulus(key: &PrivateKey) -> Vec<u8> {
    let spki = SubjectPublicKeyInfoRef::from_der(key.public_key().spki_der()).expect("spki");
    let rsa = RsaPublicKeyRef::from_der(spki.subject_public_key.raw_bytes()).expect("pkcs1");
    let bytes = rsa.modulus.as_bytes();
    let mut out = vec![0u8; key.public_key().modulus_len().saturating_sub(bytes.len())];
    out.extend_from_slice(bytes);
    out
}

/// The operations measured, in the order they run.
#[derive(Clone, Copy)]
enum Op {
    RawDecrypt,
    Ring1,
    Ring5Hinted,
    Ring5NoHint,
    RawEncrypt,
    Seal,
}

impl Op {
    const ALL: [Op; 6] = [
        Op::RawDecrypt,
        Op::Ring1,
        Op::Ring5Hinted,
        Op::Ring5NoHint,
        Op::RawEncrypt,
        Op::Seal,
    ];

    /// The criterion function id, which `bench/crypto.sh` looks up.
    fn name(self) -> &'static str {
        match self {
            Op::RawDecrypt => "raw_oaep_decrypt",
            Op::Ring1 => "unseal_ring1",
            Op::Ring5Hinted => "unseal_ring5_hinted",
            Op::Ring5NoHint => "unseal_ring5_last_nohint",
            Op::RawEncrypt => "raw_oaep_encrypt",
            Op::Seal => "seal",
        }
    }
}

/// Everything one key size's benches need, checked once before any timing.
struct Fixture {
    /// Criterion group id: `rsa2048` or `rsa4096`.
    name: &'static str,
    cert: Certificate,
    right: Fingerprint,
    label: Vec<u8>,
    item: Vec<u8>,
    ring1: KeyRing,
    ring5: KeyRing,
    raw_private: OaepPrivateDecryptingKey,
    raw_public: OaepPublicEncryptingKey,
    raw_ciphertext: Vec<u8>,
}

impl Fixture {
    fn new(
        name: &'static str,
        key: PrivateKey,
        cert: Certificate,
        decoys: Vec<PrivateKey>,
    ) -> Self {
        let label = Scope::Strict.label("default", "bench-secret");
        let right = key.fingerprint().clone();
        let modulus_len = key.public_key().modulus_len();
        assert_eq!(
            cert.public_key().fingerprint(),
            &right,
            "certificate must match the key"
        );
        assert!(
            decoys
                .iter()
                .all(|k| k.public_key().modulus_len() == modulus_len),
            "decoys must have the item's modulus size, or the ring skips them without RSA work"
        );
        let item = worst_case_item(&cert, &decoys, &label);

        let ring1: KeyRing = std::iter::once(key.clone()).collect();
        let ring5: KeyRing = decoys
            .into_iter()
            .chain(std::iter::once(key.clone()))
            .collect();
        assert_eq!(ring5.len(), 5, "decoys must be distinct keys");
        assert_eq!(
            ring5.iter().last().map(PrivateKey::fingerprint),
            Some(&right),
            "right key must be last"
        );
        for (ring, hint) in [(&ring1, None), (&ring5, None), (&ring5, Some(&right))] {
            let (plaintext, fp) = ring.open(&label, &item, hint).expect("open");
            assert_eq!((plaintext.expose_secret(), fp), (&VALUE[..], &right));
        }

        // The bare primitive on the same key, label and session-key size.
        let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
        let aws_lc_key = PrivateDecryptingKey::from_pkcs8(&pkcs8).expect("aws-lc key");
        let raw_public =
            OaepPublicEncryptingKey::new(aws_lc_key.public_key()).expect("oaep public key");
        let raw_private = OaepPrivateDecryptingKey::new(aws_lc_key).expect("oaep private key");
        let mut raw_ciphertext = vec![0u8; raw_public.ciphertext_size()];
        raw_public
            .encrypt(
                &OAEP_SHA256_MGF1SHA256,
                &SESSION_KEY,
                &mut raw_ciphertext,
                Some(&label),
            )
            .expect("raw encrypt");
        let mut scratch = vec![0u8; modulus_len];
        let opened = raw_private
            .decrypt(
                &OAEP_SHA256_MGF1SHA256,
                &raw_ciphertext,
                &mut scratch,
                Some(&label),
            )
            .expect("raw decrypt");
        assert_eq!(opened, &SESSION_KEY[..]);

        Self {
            name,
            cert,
            right,
            label,
            item,
            ring1,
            ring5,
            raw_private,
            raw_public,
            raw_ciphertext,
        }
    }

    /// A buffer big enough for either raw operation's output.
    fn scratch(&self) -> Vec<u8> {
        vec![
            0u8;
            self.raw_public
                .ciphertext_size()
                .max(self.raw_private.min_output_size())
        ]
    }

    /// Runs `op` once; returns an output length so nothing is optimized away.
    fn run(&self, op: Op, scratch: &mut [u8]) -> usize {
        let label = Some(self.label.as_slice());
        match op {
            Op::RawDecrypt => self
                .raw_private
                .decrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&self.raw_ciphertext),
                    scratch,
                    label,
                )
                .map_or(0, |p| p.len()),
            Op::Ring1 => self
                .ring1
                .open(&self.label, black_box(&self.item), None)
                .map_or(0, |(p, _)| p.len()),
            Op::Ring5Hinted => self
                .ring5
                .open(&self.label, black_box(&self.item), Some(&self.right))
                .map_or(0, |(p, _)| p.len()),
            Op::Ring5NoHint => self
                .ring5
                .open(&self.label, black_box(&self.item), None)
                .map_or(0, |(p, _)| p.len()),
            Op::RawEncrypt => self
                .raw_public
                .encrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    black_box(&SESSION_KEY),
                    scratch,
                    label,
                )
                .map_or(0, |c| c.len()),
            Op::Seal => seal_item(self.cert.public_key(), &self.label, black_box(VALUE))
                .map_or(0, |i| i.len()),
        }
    }
}

/// Seals [`VALUE`] until the item's RSA part is below every decoy's modulus.
///
/// AWS-LC rejects a ciphertext that is not below the modulus before any exponentiation. For a
/// wrong key of the same size with a smaller modulus `n'`, that is a fraction `1 - n'/n` of the
/// items (up to a quarter for the vector keys, up to half for the generated RSA-4096 decoys),
/// so a random item would skip a varying number of decoys almost for free. The worst case this
/// bench wants (four full, failing RSA decryptions) needs an item every decoy must decrypt.
fn worst_case_item(cert: &Certificate, decoys: &[PrivateKey], label: &[u8]) -> Vec<u8> {
    let moduli: Vec<Vec<u8>> = decoys.iter().map(modulus).collect();
    let rsa_len = cert.public_key().modulus_len();
    for _ in 0..1000 {
        let item = seal_item(cert.public_key(), label, VALUE).expect("seal");
        let rsa_part = &item[2..2 + rsa_len];
        if moduli
            .iter()
            .all(|n| n.len() == rsa_part.len() && rsa_part < n.as_slice())
        {
            return item;
        }
    }
    panic!("no item below every decoy modulus in 1000 tries");
}

fn fixtures() -> Vec<Fixture> {
    let rsa2048 = Fixture::new(
        "rsa2048",
        private_key("rsa2048"),
        certificate("rsa2048"),
        ["multi-1", "multi-2", "multi-3", "other-2048"]
            .into_iter()
            .map(private_key)
            .collect(),
    );
    let rsa4096 = Fixture::new(
        "rsa4096",
        private_key("rsa4096"),
        certificate("rsa4096"),
        (0..4)
            .map(|_| PrivateKey::generate(4096).expect("RSA-4096 key generation"))
            .collect(),
    );
    vec![rsa2048, rsa4096]
}

fn bench_fixture(c: &mut Criterion, fixture: &Fixture) {
    let mut group = c.benchmark_group(fixture.name);
    // RSA private operations take milliseconds: flat sampling keeps the iteration count sane.
    group.sampling_mode(SamplingMode::Flat);
    let mut scratch = fixture.scratch();
    for op in Op::ALL {
        group.bench_function(op.name(), |b| b.iter(|| fixture.run(op, &mut scratch)));
    }
    group.finish();
}

/// Times every operation of every fixture in thread CPU time (see `common`); returns the
/// medians as JSON, minus the clock's own cost.
fn cpu_pass(fixtures: &[Fixture], budget: Duration) -> serde_json::Value {
    let clock = common::clock_overhead();
    let mut report = serde_json::Map::new();
    report.insert(
        "clock_overhead_ns".to_owned(),
        serde_json::json!(clock.as_nanos() as f64),
    );
    for fixture in fixtures {
        let scratch = std::cell::RefCell::new(fixture.scratch());
        let mut ops: Vec<common::Op<'_>> = Op::ALL
            .into_iter()
            .map(|op| {
                let scratch = &scratch;
                let run: Box<dyn FnMut() -> usize + '_> =
                    Box::new(move || fixture.run(op, &mut scratch.borrow_mut()));
                (op.name(), run)
            })
            .collect();
        report.insert(
            fixture.name.to_owned(),
            common::interleaved(&mut ops, budget, clock),
        );
    }
    serde_json::Value::Object(report)
}

/// Short runs: with six benches per key size the whole file takes about two minutes on a
/// shared 2-core machine. `bench/crypto.sh --quick` shortens them further from the command line.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(1500))
        .measurement_time(Duration::from_secs(6))
        .sample_size(20)
}

// `criterion_main!` plus the CPU-time pass.
fn main() {
    let fixtures = fixtures();
    let mut criterion = config().configure_from_args();
    for fixture in &fixtures {
        bench_fixture(&mut criterion, fixture);
    }
    Criterion::default().configure_from_args().final_summary();

    if let Some((path, budget)) = common::requested() {
        common::write(&path, cpu_pass(&fixtures, budget));
    }
}
