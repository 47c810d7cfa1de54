//! Every bound of the transit engine, named once, units last.

/// Items in one `batch_input`. Vault's only bound is the request body (32 MiB); an explicit one
/// keeps a single request's CPU time bounded.
pub const BATCH_ITEMS_MAX: usize = 100_000;

/// `key_size` of an `hmac` key, in bytes (Vault's `HmacMinKeySize`/`HmacMaxKeySize`).
pub const HMAC_KEY_BYTES_MIN: i64 = 32;
pub const HMAC_KEY_BYTES_MAX: i64 = 512;
/// The size an `hmac` key gets when `key_size` is not sent. Vault fails that request with a 500;
/// its documentation promises 256 bits, which we give.
pub const HMAC_KEY_BYTES_DEFAULT: i64 = 32;

/// `random` output, in bytes (Vault's `maxBytes`).
pub const RANDOM_BYTES_MAX: i64 = 128 * 1024;
pub const RANDOM_BYTES_DEFAULT: i64 = 32;

/// The smallest non-zero `cache-config` size Vault accepts.
pub const CACHE_SIZE_MIN: i64 = 10;

/// Shortest `auto_rotate_period` other than 0 (off), in seconds.
pub const AUTO_ROTATE_PERIOD_SECONDS_MIN: u64 = 3600;

/// Keys whose auto-rotation one `periodic` call checks (about every 30 s on the active node).
/// A pass over more keys resumes after the last name checked at the next call, so a call stays
/// within the core's timeout (20 s) however many keys the mount holds.
pub const AUTO_ROTATE_KEYS_PER_CALL_MAX: usize = 1000;

/// Rotations one `periodic` call performs. Key generation dominates (an RSA-4096 key takes up to
/// a few seconds); keys still due are rotated at the next call.
pub const AUTO_ROTATE_ROTATIONS_PER_CALL_MAX: usize = 4;

/// Decoded policies kept in memory; each entry is checked against the stored bytes on every use,
/// so the cache never serves a stale key. When full it is cleared.
pub const POLICY_CACHE_ENTRIES_MAX: usize = 1024;

/// Per-key striped locks that serialise read-modify-write of one key's policy.
pub const KEY_LOCK_STRIPES: usize = 256;

const _: () = assert!(KEY_LOCK_STRIPES.is_power_of_two());
const _: () = assert!(HMAC_KEY_BYTES_MIN <= HMAC_KEY_BYTES_DEFAULT);
const _: () = assert!(HMAC_KEY_BYTES_DEFAULT <= HMAC_KEY_BYTES_MAX);
const _: () = assert!(AUTO_ROTATE_ROTATIONS_PER_CALL_MAX <= AUTO_ROTATE_KEYS_PER_CALL_MAX);
