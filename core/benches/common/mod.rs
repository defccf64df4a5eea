//! The CPU-time pass shared by the benches: after criterion, the same operations are timed again
//! in thread CPU time, interleaved, and their medians written as JSON for `bench/crypto.sh`.
//!
//! Criterion measures wall time, one bench after the other. On a busy machine that goes wrong
//! twice: a load spike can land on a bench and miss its baseline, and a long operation is
//! preempted far more often than a short one. Thread CPU time does not grow while the scheduler
//! runs someone else's build on our core, and one call of each operation per round (in a fresh
//! shuffled order) gives every operation the same machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One operation of a pass: its name in the JSON, and a call that returns an output length (so
/// nothing is optimized away).
pub(crate) type Op<'a> = (&'static str, Box<dyn FnMut() -> usize + 'a>);

pub(crate) fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// CPU time consumed by this thread.
pub(crate) fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).expect("CPU time is not negative"),
        u32::try_from(t.tv_nsec).expect("nanoseconds fit u32"),
    )
}

/// The median cost of reading the clock twice, subtracted from every sample.
pub(crate) fn clock_overhead() -> Duration {
    let mut clock: Vec<Duration> = (0..1000)
        .map(|_| {
            let t = thread_cpu_time();
            thread_cpu_time().saturating_sub(t)
        })
        .collect();
    median(&mut clock)
}

/// Times `ops` in rounds (one call of each, in a shuffled order) for `budget` of wall time and
/// at least 10 rounds; returns `{name: {median_cpu_ns}, ..., rounds}`.
pub(crate) fn interleaved(
    ops: &mut [Op<'_>],
    budget: Duration,
    clock: Duration,
) -> serde_json::Value {
    for (_, op) in ops.iter_mut() {
        black_box(op());
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); ops.len()];
    let start = Instant::now();
    let mut rounds = 0usize;
    let mut order: Vec<usize> = (0..ops.len()).collect();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    while rounds < 10 || start.elapsed() < budget {
        // A fresh order each round, so no operation always follows a cache-thrashing one
        // (Fisher-Yates with xorshift64: statistics, not cryptography).
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            let op = &mut ops[i].1;
            let t = thread_cpu_time();
            black_box(op());
            samples[i].push(thread_cpu_time().saturating_sub(t));
        }
        rounds += 1;
    }
    let mut group = serde_json::Map::new();
    for ((name, _), s) in ops.iter().zip(&mut samples) {
        let cpu = median(s).saturating_sub(clock);
        group.insert(
            (*name).to_owned(),
            serde_json::json!({ "median_cpu_ns": cpu.as_nanos() as f64 }),
        );
    }
    group.insert("rounds".to_owned(), serde_json::json!(rounds));
    serde_json::Value::Object(group)
}

/// Seconds of wall time per group from `SEALANT_BENCH_CPU_SECS` (default 5), and the output
/// path from `SEALANT_BENCH_CPU_OUT`; `None` when no pass was asked for.
pub(crate) fn requested() -> Option<(std::ffi::OsString, Duration)> {
    let path = std::env::var_os("SEALANT_BENCH_CPU_OUT")?;
    let secs: f64 = std::env::var("SEALANT_BENCH_CPU_SECS")
        .map(|s| {
            s.parse()
                .expect("SEALANT_BENCH_CPU_SECS must be a number of seconds")
        })
        .unwrap_or(5.0);
    Some((path, Duration::from_secs_f64(secs)))
}

/// Writes the pass's JSON to `path`.
pub(crate) fn write(path: &std::ffi::OsStr, report: serde_json::Value) {
    let json = serde_json::to_string_pretty(&report).expect("json");
    std::fs::write(path, json)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.to_string_lossy()));
}
