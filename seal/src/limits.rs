//! Named limits of `tresor-seal`, units last. Each is checked at compile time where it meets
//! another, and each has a test one past it.

/// Length of every symmetric key held here: root key, term keys, the Shamir unseal key (KEK).
pub const KEY_BYTES: usize = 32;
/// Vault accepts AES-128 keys on unseal; shorter decoded input is an `invalid key`.
pub const KEY_BYTES_MIN: usize = 16;
/// A Shamir share on the wire: 32 y-bytes followed by one x-coordinate byte.
pub const SHARE_BYTES: usize = KEY_BYTES + SHARE_OVERHEAD_BYTES;
/// Vault's `shamir.ShareOverhead`.
pub const SHARE_OVERHEAD_BYTES: usize = 1;
/// Largest decoded `key` accepted by `sys/unseal` (Vault: max key length + share overhead).
pub const KEY_INPUT_BYTES_MAX: usize = KEY_BYTES + SHARE_OVERHEAD_BYTES;

/// Shamir over GF(2^8) has 255 non-zero x-coordinates.
pub const SHAMIR_SHARES_MAX: usize = 255;
pub const SHAMIR_THRESHOLD_MAX: usize = 255;

/// AES-GCM nonce and tag lengths.
pub const NONCE_BYTES: usize = 12;
pub const TAG_BYTES: usize = 16;
/// Barrier value header: term (4, big-endian) and version (1).
pub const TERM_BYTES: usize = 4;
pub const BARRIER_HEADER_BYTES: usize = TERM_BYTES + 1 + NONCE_BYTES;
/// The shortest possible barrier value: header, empty plaintext, tag.
pub const BARRIER_VALUE_BYTES_MIN: usize = BARRIER_HEADER_BYTES + TAG_BYTES;

/// Vault's default automatic rotation point: 2^32 * 0.9 encryptions under one term, below
/// the random-nonce collision bound of AES-GCM.
pub const TERM_ENCRYPTIONS_MAX: u64 = 3_865_470_566;
/// The smallest `max_operations` Vault accepts in `sys/rotate/config`.
pub const TERM_ENCRYPTIONS_CONFIG_MIN: u64 = 1_000_000;

/// Terms count up from 1 and are never reused; this is far beyond any real rotation count
/// and keeps `term + 1` from overflowing.
pub const TERMS_MAX: u32 = u32::MAX - 1;

const _: () = assert!(SHAMIR_SHARES_MAX <= 255);
const _: () = assert!(SHAMIR_THRESHOLD_MAX <= SHAMIR_SHARES_MAX);
const _: () = assert!(KEY_BYTES_MIN <= KEY_BYTES);
const _: () = assert!(SHARE_BYTES == 33);
const _: () = assert!(BARRIER_VALUE_BYTES_MIN == 33);
const _: () = assert!(TERM_ENCRYPTIONS_CONFIG_MIN < TERM_ENCRYPTIONS_MAX);
const _: () = assert!(TERM_ENCRYPTIONS_MAX < (1u64 << 32));
