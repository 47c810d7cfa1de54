//! Command-line arguments of `loadgen`. Flags take one or two dashes and `--flag value` or
//! `--flag=value`, like Go's `flag` package that `vault-benchmark` uses.

use super::limits::{
    CONCURRENCY_MAX, DURATION_SECONDS_MAX, KEYS_MAX, MAX_REQUESTS_DEFAULT, MAX_REQUESTS_MAX,
    VALUE_BYTES_MAX,
};
use super::workload::Workload;
use std::time::Duration;

pub const USAGE: &str = "\
usage: loadgen --addr http://127.0.0.1:PORT --token TOKEN --workload WORKLOAD
               --concurrency N --duration-seconds S [--warmup-seconds W] [--mount PATH]
               [--keys 1000] [--value-bytes 64] [--max-requests M] [--label NAME]
               [--server-pid PID] [--prefill 1]

workloads: kv2-read kv2-write kv1-read kv1-write transit-encrypt
default mount: secret (kv2-*), kv (kv1-*), transit (transit-encrypt)
stdout: one JSON line per run; stderr: a human-readable table.
exit: 0 ok, 1 error ratio above 1% or workers gave up, 2 bad arguments, 3 setup failed.";

/// Parsed, range-checked arguments.
#[derive(Debug, Clone)]
pub struct Args {
    /// `host:port`, used for the TCP connection and the `Host` header.
    pub authority: String,
    pub addr: String,
    pub token: String,
    pub workload: Workload,
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub mount: String,
    pub keys: u64,
    pub value_bytes: usize,
    pub max_requests: u64,
    /// Free text copied into the output (the script passes `tresor` or `bao`).
    pub label: String,
    /// When given, the server's CPU time per measured request is reported from /proc.
    pub server_pid: Option<u32>,
    /// Read workloads: write every key during setup (`--prefill 0` when another run did,
    /// so several runs against one cluster start their windows together).
    pub prefill: bool,
}

/// Parses `argv` without the program name.
pub fn parse(argv: &[String]) -> Result<Args, String> {
    let mut addr = None;
    let mut token = None;
    let mut workload = None;
    let mut concurrency = None;
    let mut duration_seconds = None;
    let mut warmup_seconds = 0;
    let mut mount = None;
    let mut keys = 1000;
    let mut value_bytes = 64;
    let mut max_requests = MAX_REQUESTS_DEFAULT;
    let mut label = String::new();
    let mut server_pid = None;
    let mut prefill = true;

    let mut index = 0;
    while index < argv.len() {
        let raw = argv[index].as_str();
        index += 1;
        let Some(flag) = raw.strip_prefix("--").or_else(|| raw.strip_prefix('-')) else {
            return Err(format!("unexpected argument {raw:?}"));
        };
        if flag == "h" || flag == "help" {
            return Err(String::new());
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_string()),
            None => {
                let Some(value) = argv.get(index) else {
                    return Err(format!("flag -{flag} needs a value"));
                };
                index += 1;
                (flag, value.clone())
            }
        };
        match name {
            "addr" => addr = Some(value),
            "token" => token = Some(value),
            "workload" => workload = Some(Workload::parse(&value)?),
            "concurrency" => concurrency = Some(number(name, &value, 1, CONCURRENCY_MAX as u64)?),
            "duration-seconds" => {
                duration_seconds = Some(number(name, &value, 1, DURATION_SECONDS_MAX)?)
            }
            "warmup-seconds" => warmup_seconds = number(name, &value, 0, DURATION_SECONDS_MAX)?,
            "mount" => mount = Some(value.trim_matches('/').to_string()),
            "keys" => keys = number(name, &value, 1, KEYS_MAX)?,
            "value-bytes" => value_bytes = number(name, &value, 1, VALUE_BYTES_MAX as u64)?,
            "max-requests" => max_requests = number(name, &value, 1, MAX_REQUESTS_MAX)?,
            "label" => label = value,
            "server-pid" => server_pid = Some(number(name, &value, 1, u64::from(u32::MAX))?),
            "prefill" => prefill = number(name, &value, 0, 1)? == 1,
            _ => return Err(format!("unknown flag -{name}")),
        }
    }

    let addr = addr.ok_or("-addr is required")?;
    let authority = authority(&addr)?;
    let workload = workload.ok_or("-workload is required")?;
    let mount = mount.unwrap_or_else(|| workload.default_mount().to_string());
    if mount.is_empty() || mount.contains(['?', '#', ' ']) {
        return Err(format!("invalid -mount {mount:?}"));
    }
    Ok(Args {
        authority,
        addr,
        token: token.ok_or("-token is required")?,
        workload,
        concurrency: concurrency.ok_or("-concurrency is required")? as usize,
        duration: Duration::from_secs(duration_seconds.ok_or("-duration-seconds is required")?),
        warmup: Duration::from_secs(warmup_seconds),
        mount,
        keys,
        value_bytes: value_bytes as usize,
        max_requests,
        label,
        server_pid: server_pid.map(|pid| pid as u32),
        prefill,
    })
}

fn number(name: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    let parsed: u64 = value
        .parse()
        .map_err(|_| format!("-{name}: {value:?} is not a whole number"))?;
    if parsed < min || parsed > max {
        return Err(format!("-{name}: {parsed} is outside {min}..={max}"));
    }
    Ok(parsed)
}

/// `http://host:port[/]` to `host:port`. Only plain HTTP: the runner measures the server,
/// and TLS costs are measured separately (perf.md, tier 0).
fn authority(addr: &str) -> Result<String, String> {
    let Some(rest) = addr.strip_prefix("http://") else {
        return Err(format!(
            "-addr {addr:?}: only http:// addresses are supported"
        ));
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("-addr {addr:?}: expected http://host:port"));
    }
    if rest.contains(':') {
        return Ok(rest.to_string());
    }
    Ok(format!("{rest}:80"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> Result<Args, String> {
        let argv: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse(&argv)
    }

    #[test]
    fn one_and_two_dashes_and_equals_are_accepted() {
        let args = check(
            "-addr http://127.0.0.1:8200/ --token=t --workload kv1-read -concurrency=4 --duration-seconds 2",
        )
        .expect("valid");
        assert_eq!(args.authority, "127.0.0.1:8200");
        assert_eq!(args.concurrency, 4);
        assert_eq!(args.mount, "kv");
        assert_eq!(args.keys, 1000);
        assert!(args.prefill);
        let base = "--addr http://127.0.0.1:1 --token t --workload kv2-read --concurrency 1 --duration-seconds 1";
        assert!(
            !check(&format!("{base} --prefill 0"))
                .expect("valid")
                .prefill
        );
        assert!(
            check(&format!("{base} --prefill=1"))
                .expect("valid")
                .prefill
        );
        assert!(check(&format!("{base} --prefill 2")).is_err());
    }

    #[test]
    fn out_of_range_and_missing_values_are_refused() {
        let base = "--addr http://127.0.0.1:1 --token t --workload kv2-read --duration-seconds 1";
        assert!(check(&format!("{base} --concurrency 0")).is_err());
        assert!(check(&format!("{base} --concurrency 1 --keys")).is_err());
        assert!(check(base).is_err());
        assert!(check("--addr https://127.0.0.1:1 --token t --workload kv2-read --concurrency 1 --duration-seconds 1").is_err());
    }
}
