//! Every bound of the expiration manager, named once. Units come last in each name.

/// Characters of the random suffix of a lease id (Vault: 24 base62 characters).
pub const LEASE_ID_RANDOM_CHARS: usize = 24;

/// Longest lease id accepted, in bytes: a mount path, a request path and the suffix. Longer
/// ids in a request are refused before any storage read.
pub const LEASE_ID_BYTES_MAX: usize = 2048;

/// Leases revoked per round of `revoke_prefix`; the listing is walked in rounds of this size
/// so one huge prefix never holds every future at once.
pub const REVOKE_PREFIX_BATCH_LEASES_MAX: usize = 1024;

/// Revocations (backend calls) in flight at once, for expiry and for prefix revocation.
pub const REVOKE_CONCURRENCY_MAX: usize = 64;

/// Failed expiry-driven revocations before a lease is marked irrevocable (Vault: 6).
pub const REVOKE_ATTEMPTS_MAX: u32 = 6;

/// Backoff after failed attempt `n` is `2^n × base`, ±50 % jitter, capped (Vault: 10 s base,
/// so 20 s, 40 s, ... 320 s).
pub const REVOKE_BACKOFF_BASE_MS: u64 = 10_000;
pub const REVOKE_BACKOFF_MAX_MS: u64 = 320_000;

/// One backend revocation may take this long before it counts as failed (Vault: 90 s).
pub const REVOKE_ATTEMPT_TIMEOUT_MS: u64 = 90_000;

/// Irrevocable leases are retried this often (Vault: about once a day).
pub const IRREVOCABLE_RETRY_MS: u64 = 24 * 3600 * 1000;

/// Longest revocation error kept on a lease (Vault: 240 characters).
pub const REVOKE_ERROR_CHARS_MAX: usize = 240;

/// The scheduler re-reads the wall clock at least this often, so a clock step never strands
/// a timer for longer.
pub const SCHEDULER_SLEEP_MS_MAX: u64 = 60_000;

/// Tasks that read lease records in parallel while `start` restores them.
pub const RESTORE_WORKERS: usize = 8;

/// Per-lease operations (renew, revoke, expiry) serialise on one of this many locks, chosen
/// by a hash of the lease id.
pub const LEASE_LOCK_STRIPES: usize = 256;

/// Keys listed below one storage folder while walking lease ids; more is corruption or abuse.
pub const WALK_KEYS_MAX: usize = 16 * 1024 * 1024;

/// Vault's system TTLs (768h), used when a mount context carries none.
pub const SYSTEM_DEFAULT_LEASE_TTL_SECONDS: u64 = 768 * 3600;
pub const SYSTEM_MAX_LEASE_TTL_SECONDS: u64 = 768 * 3600;

const _: () = assert!(REVOKE_CONCURRENCY_MAX > 0 && RESTORE_WORKERS > 0 && LEASE_LOCK_STRIPES > 0);
const _: () = assert!(REVOKE_ATTEMPTS_MAX > 0 && REVOKE_BACKOFF_BASE_MS <= REVOKE_BACKOFF_MAX_MS);
const _: () = assert!(LEASE_ID_BYTES_MAX > LEASE_ID_RANDOM_CHARS + 1);
const _: () = assert!(REVOKE_PREFIX_BATCH_LEASES_MAX >= REVOKE_CONCURRENCY_MAX);
