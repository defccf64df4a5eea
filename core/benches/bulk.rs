//! The floor for bulk re-encryption: `SEALANT_BULK_PAIRS` (default 3000) times one RSA-OAEP
//! private operation (the old key) and one public operation (the new key), bare aws-lc-rs, spread
//! over every core the process may use, the way `sealant reencrypt` spreads its documents.
//!
//! `bench/reencrypt.sh` runs it next to `sealant reencrypt` of 1,000 SealedSecrets × 3 items
//! (alternating, so both see the same machine) and divides. Prints one JSON object on stdout:
//! wall time, thread count and the CPU time of all threads together.
//!
//! Keys: the RSA-4096 vector key decrypts; the public operation uses the same modulus size
//! (the cost of an RSA public operation depends on the modulus size and exponent, not on which
//! key it is).
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "bench set-up: a missing vector or a broken round trip must abort the run loudly"
)]

use std::hint::black_box;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use sealant_core::{PrivateKey, Scope};

fn main() {
    // `cargo bench` passes `--bench`; this harness takes its settings from the environment.
    let pairs: usize = std::env::var("SEALANT_BULK_PAIRS")
        .map(|s| s.parse().expect("SEALANT_BULK_PAIRS must be a count"))
        .unwrap_or(3000);
    let path = format!(
        "{}/tests/vectors/keys/rsa4096.key",
        env!("CARGO_MANIFEST_DIR")
    );
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let key = PrivateKey::from_pem(&pem).expect("vector key");
    let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
    let aws_lc_key = PrivateDecryptingKey::from_pkcs8(&pkcs8).expect("aws-lc key");
    let public = OaepPublicEncryptingKey::new(aws_lc_key.public_key()).expect("public key");
    let private = OaepPrivateDecryptingKey::new(aws_lc_key).expect("private key");
    let label = Scope::Strict.label("default", "bench-secret");
    let session_key = [0x5au8; 32];
    let mut ciphertext = vec![0u8; public.ciphertext_size()];
    public
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            &session_key,
            &mut ciphertext,
            Some(&label),
        )
        .expect("encrypt");

    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let cpu_ns: Vec<u128> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let cpu0 = thread_cpu_ns();
                    let mut plain = vec![0u8; private.min_output_size()];
                    let mut sealed = vec![0u8; public.ciphertext_size()];
                    while next.fetch_add(1, Ordering::Relaxed) < pairs {
                        let opened = private
                            .decrypt(
                                &OAEP_SHA256_MGF1SHA256,
                                black_box(&ciphertext),
                                &mut plain,
                                Some(&label),
                            )
                            .expect("decrypt");
                        assert_eq!(opened, &session_key[..]);
                        public
                            .encrypt(
                                &OAEP_SHA256_MGF1SHA256,
                                black_box(&session_key),
                                &mut sealed,
                                Some(&label),
                            )
                            .expect("encrypt");
                    }
                    thread_cpu_ns() - cpu0
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    let wall = start.elapsed();
    let report = serde_json::json!({
        "pairs": pairs,
        "threads": threads,
        "wall_s": wall.as_secs_f64(),
        "cpu_s": cpu_ns.iter().sum::<u128>() as f64 / 1e9,
    });
    writeln!(std::io::stdout().lock(), "{report}").expect("stdout");
}

fn thread_cpu_ns() -> u128 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u128::try_from(t.tv_sec).expect("CPU time is not negative") * 1_000_000_000
        + u128::try_from(t.tv_nsec).expect("nanoseconds are not negative")
}
