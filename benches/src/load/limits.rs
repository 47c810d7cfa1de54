//! Named limits of the load runner. Every loop in `load` is bounded by one of these (count)
//! and by a deadline (time).

/// Most connections (= workers) one run may open.
pub const CONCURRENCY_MAX: usize = 1024;
/// Longest measured window and longest warmup.
pub const DURATION_SECONDS_MAX: u64 = 3600;
/// Most distinct keys a KV workload cycles over.
pub const KEYS_MAX: u64 = 10_000_000;
/// Largest value (KV) or plaintext (transit) per request.
pub const VALUE_BYTES_MAX: usize = 1 << 20;
/// Default and largest `--max-requests`. Samples are 4 bytes each, so this bounds memory too.
pub const MAX_REQUESTS_DEFAULT: u64 = 10_000_000;
pub const MAX_REQUESTS_MAX: u64 = 50_000_000;
/// Hard cap on loop iterations of one worker, on top of its deadline.
pub const WORKER_ITERATIONS_MAX: u64 = 1_000_000_000;
/// A request (send + full body) that takes longer than this is an error.
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// A TCP connect + HTTP/1.1 handshake that takes longer than this is an error.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// A worker stops after this many transport failures in a row (server gone).
pub const CONSECUTIVE_TRANSPORT_ERRORS_MAX: u32 = 20;
/// Pause before reconnecting after a transport error, so a dead server is not spun on.
pub const RECONNECT_BACKOFF_MS: u64 = 20;
/// Setup retries a request (for example the first write to a fresh KV v2 mount, which
/// OpenBao refuses until its version upgrade finished) this often, within this time.
pub const SETUP_ATTEMPTS_MAX: u32 = 100;
pub const SETUP_DEADLINE_MS: u64 = 20_000;
pub const SETUP_RETRY_PAUSE_MS: u64 = 100;
/// The first error body kept for the report is cut to this many bytes.
pub const ERROR_BODY_BYTES_MAX: usize = 400;
/// A run fails when more than this share of measured requests failed.
pub const ERROR_RATIO_MAX: f64 = 0.01;

const _: () = assert!(MAX_REQUESTS_DEFAULT <= MAX_REQUESTS_MAX);
const _: () = assert!(MAX_REQUESTS_MAX <= u32::MAX as u64);
