//! Bounds of the token store, units last.

/// Longest token a request may present; longer strings are unknown tokens without a storage
/// read. Vault's service tokens are ~100 bytes, custom ids are short.
pub const TOKEN_BYTES_MAX: usize = 512;

/// Random base62 characters after the `hvs.`/`hvb.` prefix, and the length of an accessor.
pub const TOKEN_RANDOM_CHARS: usize = 24;

/// Vault's system TTLs (768h), used when the mount context carries none.
pub const SYSTEM_DEFAULT_TTL_SECONDS: u64 = 2_764_800;
pub const SYSTEM_MAX_TTL_SECONDS: u64 = 2_764_800;

/// The most tokens one tree revocation walks; a deeper or wider tree fails loudly instead of
/// running unbounded (the caller may retry: revocation is idempotent).
pub const REVOKE_TREE_TOKENS_MAX: usize = 1_000_000;

/// Decoded token entries kept in memory on the active node (~1 KiB each); when full the
/// cache starts over rather than tracking recency, which is cheap and bounded.
pub const TOKEN_CACHE_ENTRIES_MAX: usize = 16_384;

/// Striped per-token locks serialising `num_uses` decrements, renewals and revocations.
pub const TOKEN_LOCK_STRIPES: usize = 64;

/// The longest `display_name`, `meta` key or value, and role name accepted, in bytes.
pub const FIELD_BYTES_MAX: usize = 1024;

/// The most `meta` pairs or policies one token carries.
pub const TOKEN_META_PAIRS_MAX: usize = 64;
pub const TOKEN_POLICIES_MAX: usize = 256;

const _: () = assert!(TOKEN_LOCK_STRIPES.is_power_of_two());
const _: () = assert!(SYSTEM_DEFAULT_TTL_SECONDS <= SYSTEM_MAX_TTL_SECONDS);
