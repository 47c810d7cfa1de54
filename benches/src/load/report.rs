//! Turns a run into numbers: percentiles over a sorted vector, CPU time from /proc, one JSON
//! line (stdout) and a human-readable table (stderr).

use super::args::Args;
use super::limits::ERROR_RATIO_MAX;
use super::run::RunResult;
use serde_json::{Value, json};
use std::time::Duration;

/// Latency summary in microseconds, over successful requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    pub p50_us: u32,
    pub p90_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    pub mean_us: f64,
}

/// Sorts `samples` in place and reads nearest-rank percentiles.
pub fn latency(samples: &mut [u32]) -> Latency {
    if samples.is_empty() {
        return Latency::default();
    }
    samples.sort_unstable();
    let sum: u64 = samples.iter().map(|&sample| u64::from(sample)).sum();
    Latency {
        p50_us: percentile(samples, 50.0),
        p90_us: percentile(samples, 90.0),
        p99_us: percentile(samples, 99.0),
        max_us: samples[samples.len() - 1],
        mean_us: sum as f64 / samples.len() as f64,
    }
}

/// Nearest rank: the smallest sample with at least `p`% of samples at or below it.
fn percentile(sorted: &[u32], p: f64) -> u32 {
    assert!(!sorted.is_empty(), "percentile of no samples");
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// User + system CPU time of a process so far, from `/proc/<pid>/stat`.
pub fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of proc(5); `after_name` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_second <= 0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / ticks_per_second as f64,
    ))
}

/// CPU microseconds per request between two `cpu_time` readings.
pub fn cpu_us_per_request(
    before: Option<Duration>,
    after: Option<Duration>,
    requests: u64,
) -> Option<f64> {
    let (before, after) = (before?, after?);
    if requests == 0 {
        return None;
    }
    Some(after.saturating_sub(before).as_secs_f64() * 1e6 / requests as f64)
}

/// The finished run, ready to print.
pub struct Report {
    pub json: Value,
    pub failed: bool,
}

pub struct CpuUse {
    pub server_us_per_request: Option<f64>,
    pub loadgen_us_per_request: Option<f64>,
}

pub fn build(args: &Args, mut result: RunResult, cpu: CpuUse) -> Report {
    let latency = latency(&mut result.latencies_us);
    let error_ratio = if result.requests == 0 {
        1.0
    } else {
        result.errors as f64 / result.requests as f64
    };
    let elapsed = result.elapsed.as_secs_f64();
    let throughput = if elapsed > 0.0 {
        (result.requests - result.errors) as f64 / elapsed
    } else {
        0.0
    };
    let mut problems = Vec::new();
    if result.requests == 0 {
        problems.push("no request completed in the measured window".to_string());
    }
    if error_ratio > ERROR_RATIO_MAX {
        problems.push(format!(
            "error ratio {:.4} above {ERROR_RATIO_MAX}",
            error_ratio
        ));
    }
    problems.extend(result.gave_up.iter().cloned());
    let failed = !problems.is_empty();
    let ms = |us: u32| f64::from(us) / 1000.0;
    let json = json!({
        "status": if failed { "failed" } else { "ok" },
        "label": args.label,
        "addr": args.addr,
        "workload": args.workload.name(),
        "mount": args.mount,
        "concurrency": args.concurrency,
        "duration_seconds": args.duration.as_secs(),
        "warmup_seconds": args.warmup.as_secs(),
        "keys": args.keys,
        "value_bytes": args.value_bytes,
        "elapsed_seconds": (elapsed * 1000.0).round() / 1000.0,
        "requests": result.requests,
        "errors": result.errors,
        "error_ratio": error_ratio,
        "first_error": result.first_error,
        "throughput_rps": (throughput * 10.0).round() / 10.0,
        "latency_ms": {
            "p50": ms(latency.p50_us),
            "p90": ms(latency.p90_us),
            "p99": ms(latency.p99_us),
            "max": ms(latency.max_us),
            "mean": (latency.mean_us).round() / 1000.0,
        },
        "connections_opened": result.connections_opened,
        "server_cpu_us_per_request": cpu.server_us_per_request.map(|us| (us * 10.0).round() / 10.0),
        "loadgen_cpu_us_per_request": cpu.loadgen_us_per_request.map(|us| (us * 10.0).round() / 10.0),
        "problems": problems,
    });
    Report { json, failed }
}

/// The JSON line for a run that did not get past setup.
pub fn setup_failed(args: &Args, error: &str) -> Value {
    json!({
        "status": "setup_failed",
        "label": args.label,
        "addr": args.addr,
        "workload": args.workload.name(),
        "mount": args.mount,
        "concurrency": args.concurrency,
        "error": error,
    })
}

/// A two-line table (header, values) of the JSON from `build`.
pub fn table(json: &Value) -> String {
    let latency = &json["latency_ms"];
    let field = |value: &Value| match value {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut out = format!(
        "{:<16} {:<10} {:>4} {:>9} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}\n",
        "workload",
        "label",
        "conc",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "srv us/rq"
    );
    out.push_str(&format!(
        "{:<16} {:<10} {:>4} {:>9} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9}",
        field(&json["workload"]),
        field(&json["label"]),
        field(&json["concurrency"]),
        field(&json["requests"]),
        field(&json["errors"]),
        field(&json["throughput_rps"]),
        field(&latency["p50"]),
        field(&latency["p90"]),
        field(&latency["p99"]),
        field(&latency["max"]),
        field(&json["server_cpu_us_per_request"]),
    ));
    if let Some(error) = json["first_error"].as_str() {
        out.push_str(&format!("\nfirst error: {error}"));
    }
    if let Some(problems) = json["problems"].as_array() {
        for problem in problems {
            out.push_str(&format!("\nFAILED: {}", field(problem)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u32> = (1..=100).rev().collect();
        let summary = latency(&mut samples);
        assert_eq!(
            (
                summary.p50_us,
                summary.p90_us,
                summary.p99_us,
                summary.max_us
            ),
            (50, 90, 99, 100)
        );
        assert_eq!(latency(&mut [7]).p99_us, 7);
        assert_eq!(latency(&mut []), Latency::default());
    }

    #[test]
    fn own_cpu_time_is_readable() {
        assert!(cpu_time("self").is_some());
    }
}
