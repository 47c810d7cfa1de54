//! Limits enforced at the edge, units last. Each has a test one past it (see the server tests).

/// Vault's default `max_request_size`: larger bodies are refused with 413.
pub const REQUEST_BODY_BYTES_MAX: usize = 32 * 1024 * 1024;
/// An over-limit body is read and discarded up to this many bytes before the 413, so the
/// client (which is still sending) receives the answer; beyond it the connection is dropped.
pub const REQUEST_BODY_DRAIN_BYTES_MAX: usize = 2 * REQUEST_BODY_BYTES_MAX;
/// Longest request path accepted, in bytes.
pub const REQUEST_PATH_BYTES_MAX: usize = 4096;
/// Most path segments a pattern may capture; patterns are short by construction.
pub const PATTERN_SEGMENTS_MAX: usize = 16;
/// How often the core runs each mount's `Backend::periodic`.
pub const PERIODIC_INTERVAL_SECONDS: u64 = 30;
/// Longest one `Backend::periodic` call may take before it is abandoned for this tick.
pub const PERIODIC_CALL_TIMEOUT_SECONDS: u64 = 20;
