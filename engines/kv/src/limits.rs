//! Every bound of the KV engine, named once, units last. Each has a test one past it.

use tresor_storage::limits::BATCH_OPERATIONS_MAX;

/// The longest key path (the part after `data/`, `metadata/`, ... or the v1 key), in bytes.
/// Vault has no such bound; the request path limit (4 KiB) is the outer one.
pub const KEY_PATH_BYTES_MAX: usize = 1024;

/// The most versions a key keeps (`max_versions` on the key or the mount). A write that trims
/// old versions deletes at most this many records in its one atomic batch.
pub const VERSIONS_KEPT_MAX: u32 = 1000;

/// Vault's default number of versions kept when neither the key nor the mount sets one.
pub const VERSIONS_KEPT_DEFAULT: u32 = 10;

/// Vault's `custom_metadata` bounds (KV-11).
pub const CUSTOM_METADATA_KEYS_MAX: usize = 64;
pub const CUSTOM_METADATA_KEY_BYTES_MAX: usize = 128;
pub const CUSTOM_METADATA_VALUE_BYTES_MAX: usize = 512;

/// Striped per-key locks that serialise read-modify-write of one key's metadata.
pub const KEY_LOCK_STRIPES: usize = 256;

/// The most v1 keys one upgrade walks; a mount larger than this fails the upgrade loudly
/// rather than running unbounded.
pub const UPGRADE_KEYS_MAX: usize = 1_000_000;

/// The deepest folder nesting the upgrade walk descends.
pub const UPGRADE_FOLDER_DEPTH_MAX: usize = 256;

// A write puts the version and the metadata and deletes every trimmed version, in one batch.
const _: () = assert!((VERSIONS_KEPT_MAX as usize) + 2 <= BATCH_OPERATIONS_MAX);
const _: () = assert!(VERSIONS_KEPT_DEFAULT <= VERSIONS_KEPT_MAX);
const _: () = assert!(KEY_LOCK_STRIPES.is_power_of_two());
