//! Lease and token-expiry records as stored in the manager's barrier view, and their keys.
//!
//! Layout below `sys/expire/`:
//! - `id/<lease id>`: a [`LeaseEntry`] (JSON);
//! - `token/<token hash>/<sha256 hex of lease id>`: the lease id, so revoking a token finds
//!   its leases without a scan;
//! - `token-expiry/<token hash>`: a [`TokenExpiry`], the token expiry of older versions, made
//!   a token lease by `start`.
//!
//! A token with a TTL is a lease too (Vault's `RegisterAuth`): `<token path>/h<token hash>`,
//! e.g. `auth/token/create/h3f…`, with `auth_token` set; a service token that never expires
//! has one too ([`NEVER_NS`]), a batch token none. It is not indexed under a token.

use super::limits::{LEASE_ID_RANDOM_CHARS, REVOKE_ERROR_CHARS_MAX};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tresor_framework::Error;

pub const LEASE_PREFIX: &str = "id/";
/// The `expire_time_ns` of a token lease whose token never expires (a root token): no
/// timer, and lookup shows `expire_time: null`, `ttl: 0`.
pub const NEVER_NS: i64 = i64::MAX;
pub const TOKEN_INDEX_PREFIX: &str = "token/";
pub const TOKEN_EXPIRY_PREFIX: &str = "token-expiry/";

/// One lease. Invariant: `lease_id` starts with `mount_path` followed by `path` and `/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeaseEntry {
    pub lease_id: String,
    /// The mount that issued the lease, with its trailing slash (`database/`).
    pub mount_path: String,
    /// The request path relative to the mount (`creds/readonly`).
    pub path: String,
    #[serde(default)]
    pub internal_data: Value,
    pub issue_time_ns: i64,
    pub expire_time_ns: i64,
    #[serde(default)]
    pub last_renewal_ns: Option<i64>,
    pub renewable: bool,
    /// The TTL last granted; the fallback when a renew names no increment.
    pub ttl_seconds: u64,
    #[serde(default)]
    pub token_hash: Option<String>,
    #[serde(default)]
    pub revoke_attempts: u32,
    /// Set when revocation failed; `irrevocable` once retries ran out.
    #[serde(default)]
    pub revoke_error: Option<String>,
    #[serde(default)]
    pub irrevocable: bool,
    /// Set on the lease of a token itself: that token's hash. Revoking the lease revokes the
    /// token (through the token store); only the token store renews it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<String>,
}

/// The fields `start` needs: serde skips the rest (internal data included) unparsed.
#[derive(Debug, Deserialize)]
pub struct LeaseTimer {
    pub expire_time_ns: i64,
    #[serde(default)]
    pub irrevocable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenExpiry {
    pub token_hash: String,
    pub expire_time_ns: i64,
    #[serde(default)]
    pub revoke_attempts: u32,
}

pub fn lease_key(lease_id: &str) -> String {
    format!("{LEASE_PREFIX}{lease_id}")
}

pub fn token_index_key(token_hash: &str, lease_id: &str) -> String {
    format!(
        "{TOKEN_INDEX_PREFIX}{token_hash}/{}",
        hex::encode(Sha256::digest(lease_id.as_bytes()))
    )
}

/// The lease id of a token: its creation path and `h` + its salted hash, as Vault's
/// `path.Join(te.Path, saltedID)` (`auth/token/create/h…`).
pub fn token_lease_id(token_path: &str, token_hash: &str) -> String {
    let token_path = match token_path.trim_matches('/') {
        "" => "auth/token/create",
        path => path,
    };
    format!("{token_path}/h{token_hash}")
}

/// `<mount path><request path>/<24 random base62>`; the request path loses surrounding slashes.
pub fn new_lease_id(mount_path: &str, request_path: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let suffix: String = (0..LEASE_ID_RANDOM_CHARS)
        .map(|_| char::from(BASE62[rng.gen_range(0..BASE62.len())]))
        .collect();
    format!("{mount_path}{}/{suffix}", request_path.trim_matches('/'))
}

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|error| Error::internal(format!("encoding lease record: {error}")))
}

/// A record that does not parse is corruption: an error, never "absent".
pub fn decode<'a, T: Deserialize<'a>>(key: &str, bytes: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::internal(format!("corrupt lease record {key}: {error}")))
}

/// Go's `time.RFC3339Nano` in UTC (fraction trimmed of trailing zeros), as Vault prints lease
/// times.
pub fn rfc3339_nanos(unix_ns: i64) -> String {
    let Ok(instant) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ns)) else {
        return String::new();
    };
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        instant.year(),
        u8::from(instant.month()),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second()
    );
    let nanos = instant.nanosecond();
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The message kept on a lease whose revocation failed, bounded as Vault bounds it.
pub fn revoke_error_text(error: &Error, out_of_retries: bool) -> String {
    let message = match error.messages() {
        [] => format!("{:?}", error.kind()),
        messages => messages.join("; "),
    };
    let text = match out_of_retries {
        true => format!("out of retries: {message}"),
        false => message,
    };
    text.chars().take(REVOKE_ERROR_CHARS_MAX).collect()
}
