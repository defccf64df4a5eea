//! RSA-OAEP-SHA256 with a label (the Sealed Secrets key wrap) in three Rust providers:
//! aws-lc-rs (what sealant uses), rsa 0.9 (the upstream-compatible choice most Rust code would
//! reach for) and rsa 0.10 (release candidate). Prints interop results and median timings.
//!
//! This crate exists to document why sealant uses aws-lc-rs; it is its own workspace so that the
//! `rsa` crate (RUSTSEC-2023-0071, the Marvin timing attack) never enters the product's
//! `Cargo.lock`. Run it through `bench/rsa-providers.sh`.

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// A strict-scope label, as sealant and upstream build it: `<namespace>/<name>`.
const LABEL: &str = "default/bench-secret";
/// What is wrapped: a fresh AES-256 session key.
const SESSION_KEY: [u8; 32] = [0x5a; 32];

/// `(label, session key) -> ciphertext`.
type EncryptFn = Box<dyn Fn(&str, &[u8]) -> Vec<u8>>;
/// `(label, ciphertext) -> session key`, `None` on any failure.
type DecryptFn = Box<dyn Fn(&str, &[u8]) -> Option<Vec<u8>>>;

/// One RSA implementation, holding one key pair.
struct Provider {
    /// Name in the decrypt rows.
    name: &'static str,
    /// Name in the encrypt rows; `None` when another entry already encrypts the same way.
    encrypt_name: Option<&'static str>,
    encrypt: EncryptFn,
    decrypt: DecryptFn,
}

fn vector_key(stem: &str) -> Result<String> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../core/tests/vectors/keys",
        &format!("{stem}.key"),
    ]
    .iter()
    .collect();
    std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

fn aws_lc(pkcs8_der: &[u8]) -> Result<Provider> {
    let private =
        PrivateDecryptingKey::from_pkcs8(pkcs8_der).map_err(|e| format!("aws-lc-rs: {e}"))?;
    let public = OaepPublicEncryptingKey::new(private.public_key())?;
    let private = OaepPrivateDecryptingKey::new(private)?;
    Ok(Provider {
        name: "aws-lc-rs 1.19.0",
        encrypt_name: Some("aws-lc-rs 1.19.0"),
        encrypt: Box::new(move |label, msg| {
            let mut out = vec![0u8; public.ciphertext_size()];
            let len = public
                .encrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    msg,
                    &mut out,
                    Some(label.as_bytes()),
                )
                .expect("aws-lc-rs encrypt")
                .len();
            out.truncate(len);
            out
        }),
        decrypt: Box::new(move |label, ct| {
            let mut out = vec![0u8; private.min_output_size()];
            let len = private
                .decrypt(
                    &OAEP_SHA256_MGF1SHA256,
                    ct,
                    &mut out,
                    Some(label.as_bytes()),
                )
                .ok()?
                .len();
            out.truncate(len);
            Some(out)
        }),
    })
}

/// rsa 0.9: `decrypt` takes no RNG and does **not** blind; `decrypt_blinded` does.
fn rsa09(key: &rsa09::RsaPrivateKey, blinded: bool) -> Provider {
    use rsa09::rand_core::OsRng;
    use rsa09::{Oaep, sha2::Sha256};
    let public = key.to_public_key();
    let private = key.clone();
    Provider {
        name: if blinded {
            "rsa 0.9.10 (decrypt_blinded)"
        } else {
            "rsa 0.9.10 (decrypt, unblinded)"
        },
        encrypt_name: blinded.then_some("rsa 0.9.10"),
        encrypt: Box::new(move |label, msg| {
            public
                .encrypt(&mut OsRng, Oaep::new_with_label::<Sha256, _>(label), msg)
                .expect("rsa 0.9 encrypt")
        }),
        decrypt: Box::new(move |label, ct| {
            let padding = Oaep::new_with_label::<Sha256, _>(label);
            if blinded {
                private.decrypt_blinded(&mut OsRng, padding, ct)
            } else {
                private.decrypt(padding, ct)
            }
            .ok()
        }),
    }
}

/// rsa 0.10: `decrypt` blinds with the OS RNG (the `getrandom` feature, on by default).
fn rsa010(key: rsa010::RsaPrivateKey) -> Provider {
    use rsa010::{Oaep, sha2::Sha256};
    let public = key.to_public_key();
    Provider {
        name: "rsa 0.10.0-rc.20",
        encrypt_name: Some("rsa 0.10.0-rc.20"),
        encrypt: Box::new(move |label, msg| {
            let mut rng = rand_core010::UnwrapErr(getrandom::SysRng);
            public
                .encrypt(
                    &mut rng,
                    Oaep::<Sha256>::new_with_label(label.as_bytes()),
                    msg,
                )
                .expect("rsa 0.10 encrypt")
        }),
        decrypt: Box::new(move |label, ct| {
            key.decrypt(Oaep::<Sha256>::new_with_label(label.as_bytes()), ct)
                .ok()
        }),
    }
}

/// All providers for one vector key, aws-lc-rs first (the baseline).
fn providers(stem: &str) -> Result<Vec<Provider>> {
    use rsa09::pkcs1::DecodeRsaPrivateKey as _;
    use rsa09::pkcs8::EncodePrivateKey as _;
    let pem = vector_key(stem)?;
    let key09 = rsa09::RsaPrivateKey::from_pkcs1_pem(&pem)?;
    let pkcs8 = key09.to_pkcs8_der()?;
    let key010 =
        <rsa010::RsaPrivateKey as rsa010::pkcs1::DecodeRsaPrivateKey>::from_pkcs1_pem(&pem)?;
    Ok(vec![
        aws_lc(pkcs8.as_bytes())?,
        rsa09(&key09, true),
        rsa09(&key09, false),
        rsa010(key010),
    ])
}

/// Every provider's ciphertext opens with every provider, and only under the right label.
fn interop(size: &str, providers: &[Provider]) -> Result<()> {
    println!(
        "\nInterop, {size}: row encrypts, column decrypts (label `{LABEL}`; wrong label must fail)\n"
    );
    print!("| encrypts \\ decrypts |");
    for d in providers {
        print!(" {} |", d.name);
    }
    println!("\n|---|{}", "---|".repeat(providers.len()));
    let mut failures = 0;
    for e in providers {
        let Some(encrypt_name) = e.encrypt_name else {
            continue;
        };
        print!("| {encrypt_name} |");
        for d in providers {
            let ct = (e.encrypt)(LABEL, &SESSION_KEY);
            let right = (d.decrypt)(LABEL, &ct).as_deref() == Some(&SESSION_KEY[..]);
            let wrong_rejected = (d.decrypt)("default/other-secret", &ct).is_none();
            let ok = right && wrong_rejected;
            failures += usize::from(!ok);
            print!(" {} |", if ok { "ok" } else { "FAIL" });
        }
        println!();
    }
    if failures > 0 {
        return Err(format!("{failures} interop failures for {size}").into());
    }
    Ok(())
}

/// How long to time each (key size, operation): all its providers run in rounds, one call each
/// per round, so whatever else the machine does affects every provider alike. Times are thread
/// CPU time, which excludes time spent waiting for a core.
struct Budget {
    time: Duration,
    min_rounds: usize,
    max_rounds: usize,
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    let mid = samples.len() / 2;
    if samples.len().is_multiple_of(2) {
        (samples[mid - 1] + samples[mid]) / 2
    } else {
        samples[mid]
    }
}

/// CPU time consumed by this thread: unlike wall time, it does not grow while the scheduler
/// runs another process on our core.
fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// What reading the clock twice costs, subtracted from every median.
fn clock_overhead() -> Duration {
    let mut samples: Vec<Duration> = (0..1000)
        .map(|_| {
            let t = thread_cpu_time();
            thread_cpu_time().saturating_sub(t)
        })
        .collect();
    median(&mut samples)
}

/// Times `calls` in thread CPU time, in rounds of one call each (shuffled order) until `budget`
/// is spent; returns their medians and the number of rounds.
fn time_round_robin(
    calls: &[Box<dyn Fn() -> usize + '_>],
    budget: &Budget,
) -> (Vec<Duration>, usize) {
    for call in calls {
        for _ in 0..3 {
            black_box(call());
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); calls.len()];
    let mut order: Vec<usize> = (0..calls.len()).collect();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < budget.max_rounds
        && (rounds < budget.min_rounds || start.elapsed() < budget.time)
    {
        // A fresh order each round (Fisher-Yates with xorshift64), so no provider always runs
        // right after the same other one.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            let t = thread_cpu_time();
            black_box(calls[i]());
            samples[i].push(thread_cpu_time().saturating_sub(t));
        }
        rounds += 1;
    }
    let clock = clock_overhead();
    let medians = samples
        .iter_mut()
        .map(|s| median(s).saturating_sub(clock))
        .collect();
    (medians, rounds)
}

fn measure(size: &str, providers: &[Provider], budget: &Budget) {
    let ciphertext = (providers[0].encrypt)(LABEL, &SESSION_KEY);
    for op in ["decrypt", "encrypt"] {
        let entries: Vec<(&str, &Provider)> = providers
            .iter()
            .filter_map(|p| {
                if op == "decrypt" {
                    Some((p.name, p))
                } else {
                    p.encrypt_name.map(|n| (n, p))
                }
            })
            .collect();
        let calls: Vec<Box<dyn Fn() -> usize + '_>> = entries
            .iter()
            .map(|&(_, p)| -> Box<dyn Fn() -> usize + '_> {
                let ct = ciphertext.as_slice();
                if op == "decrypt" {
                    Box::new(move || (p.decrypt)(LABEL, black_box(ct)).map_or(0, |m| m.len()))
                } else {
                    Box::new(move || (p.encrypt)(LABEL, black_box(&SESSION_KEY)).len())
                }
            })
            .collect();
        let (medians, rounds) = time_round_robin(&calls, budget);
        let base = medians[0].as_secs_f64();
        for ((name, _), m) in entries.iter().zip(&medians) {
            let us = m.as_secs_f64() * 1e6;
            println!(
                "| {size} | {op} | {name} | {us:.1} | {:.2} | {rounds} |",
                m.as_secs_f64() / base
            );
        }
    }
}

fn main() -> Result<()> {
    let quick = std::env::args().skip(1).any(|a| a == "--quick");
    let budget = if quick {
        Budget {
            time: Duration::from_millis(300),
            min_rounds: 5,
            max_rounds: 1_000,
        }
    } else {
        Budget {
            time: Duration::from_secs(5),
            min_rounds: 30,
            max_rounds: 5_000,
        }
    };

    let sizes = [
        ("RSA-2048", providers("rsa2048")?),
        ("RSA-4096", providers("rsa4096")?),
    ];
    for (size, providers) in &sizes {
        interop(size, providers)?;
    }

    println!(
        "\nRSA-OAEP-SHA256 with label, 32-byte message: median thread CPU time per operation, ratio to aws-lc-rs.\n"
    );
    println!(
        "| key size | operation | provider | median CPU time (µs) | ratio vs aws-lc-rs | rounds |"
    );
    println!("|---|---|---|--:|--:|--:|");
    for (size, providers) in &sizes {
        measure(size, providers, &budget);
    }
    Ok(())
}
