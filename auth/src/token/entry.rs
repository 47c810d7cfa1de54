//! What the store keeps for a token and a role, and the two shapes clients read: the lookup
//! `data` (TOK-07) and the `auth` block (ENV-04).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Service tokens are stored and revocable; batch tokens carry no accessor, cannot be renewed,
/// revoked directly or create tokens (TOK-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    #[default]
    Service,
    Batch,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Service => "service",
            TokenType::Batch => "batch",
        }
    }
}

/// One token as stored under `id/<hash>`. It never contains the token itself.
///
/// Invariant: `expire_time` is `None` exactly when `ttl_seconds` is 0 (root tokens and
/// tokens created with an explicit "never"); `num_uses` is 0 (unlimited), positive (uses left)
/// or [`TokenEntry::USES_EXHAUSTED`] (the last use is in flight; the token is revoked after it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// Salted HMAC of the token: the storage key and the cubbyhole key.
    pub id_hash: String,
    /// 24 base62 characters; empty for batch tokens.
    pub accessor: String,
    pub policies: Vec<String>,
    /// `auth/token/create`, `auth/token/create-orphan`, `auth/token/create/<role>`, ...
    pub path: String,
    pub display_name: String,
    pub meta: Option<BTreeMap<String, String>>,
    /// Unix seconds.
    pub creation_time: i64,
    /// Unix nanoseconds of creation, for the RFC 3339 `issue_time`.
    pub issue_time_nanos: i64,
    /// The TTL the token was created with (`creation_ttl`).
    pub creation_ttl_seconds: u64,
    /// The TTL of the last create or renew: what a renew without increment asks for again.
    pub ttl_seconds: u64,
    pub explicit_max_ttl_seconds: u64,
    pub period_seconds: u64,
    pub num_uses: i64,
    pub orphan: bool,
    pub parent_hash: Option<String>,
    pub role: Option<String>,
    pub token_type: TokenType,
    /// Unix seconds; `None` = never expires.
    pub expire_time: Option<i64>,
    /// Unix nanoseconds of expiry, for the RFC 3339 `expire_time`.
    pub expire_time_nanos: Option<i64>,
    /// Unix nanoseconds of the last renewal.
    pub last_renewal_nanos: Option<i64>,
    pub renewable: bool,
    pub entity_id: String,
}

impl TokenEntry {
    /// Set on the last permitted use: lookups no longer find the token, and the core revokes
    /// it once the request that used it has finished (Vault's `tokenRevocationPending`).
    pub const USES_EXHAUSTED: i64 = -1;

    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|policy| policy == "root")
    }

    /// Whether the token's last use has been taken.
    pub fn is_exhausted(&self) -> bool {
        self.num_uses < 0
    }

    /// Whether the token is past its expiry at `now` (unix seconds).
    pub fn is_expired(&self, now_nanos: i64) -> bool {
        match self.expire_time_nanos {
            Some(expire) => expire <= now_nanos,
            None => false,
        }
    }

    /// Vault's lookup answer (TOK-07): keys in Go's map order (sorted). `id` is the token the
    /// client presented, or `""` for lookups by accessor.
    pub fn lookup_data(&self, id: &str, now_nanos: i64) -> Value {
        let mut data = Map::new();
        data.insert("accessor".into(), json!(self.accessor));
        data.insert("creation_time".into(), json!(self.creation_time));
        data.insert("creation_ttl".into(), json!(self.creation_ttl_seconds));
        data.insert("display_name".into(), json!(self.display_name));
        data.insert("entity_id".into(), json!(self.entity_id));
        data.insert(
            "expire_time".into(),
            self.expire_time_nanos
                .map_or(Value::Null, |nanos| json!(rfc3339(nanos))),
        );
        data.insert(
            "explicit_max_ttl".into(),
            json!(self.explicit_max_ttl_seconds),
        );
        data.insert("id".into(), json!(id));
        data.insert("issue_time".into(), json!(rfc3339(self.issue_time_nanos)));
        if let Some(renewal) = self.last_renewal_nanos {
            data.insert("last_renewal".into(), json!(rfc3339(renewal)));
            data.insert(
                "last_renewal_time".into(),
                json!(renewal.div_euclid(NANOS_PER_SECOND)),
            );
        }
        data.insert("meta".into(), json!(self.meta));
        data.insert("num_uses".into(), json!(self.num_uses));
        data.insert("orphan".into(), json!(self.orphan));
        data.insert("path".into(), json!(self.path));
        if self.period_seconds > 0 {
            data.insert("period".into(), json!(self.period_seconds));
        }
        data.insert("policies".into(), json!(self.policies));
        data.insert(
            "renewable".into(),
            json!(self.renewable && self.ttl_seconds > 0),
        );
        if let Some(role) = &self.role {
            data.insert("role".into(), json!(role));
        }
        data.insert("ttl".into(), json!(self.remaining_ttl_seconds(now_nanos)));
        data.insert("type".into(), json!(self.token_type.as_str()));
        Value::Object(data)
    }

    /// Whole seconds left before expiry; 0 for tokens that never expire.
    pub fn remaining_ttl_seconds(&self, now_nanos: i64) -> u64 {
        match self.expire_time_nanos {
            Some(expire) if expire > now_nanos => ((expire - now_nanos) / NANOS_PER_SECOND) as u64,
            _ => 0,
        }
    }

    /// The `auth` block of create and renew answers (ENV-04). vaultrs requires every field but
    /// `identity_policies` (omitted when empty) and `mfa_requirement`.
    pub fn auth_block(&self, client_token: &str) -> Value {
        json!({
            "client_token": client_token,
            "accessor": self.accessor,
            "policies": self.policies,
            "token_policies": self.policies,
            "metadata": self.meta,
            "lease_duration": self.ttl_seconds,
            "renewable": self.renewable && self.ttl_seconds > 0,
            "entity_id": self.entity_id,
            "token_type": self.token_type.as_str(),
            "orphan": self.orphan,
            "mfa_requirement": null,
            "num_uses": self.num_uses.max(0),
        })
    }
}

/// Everything a new token needs once the caller has decided policies and TTLs (the token
/// backend after its checks, response wrapping directly). The store adds the accessor,
/// times and indexes.
#[derive(Debug, Clone, Default)]
pub struct CreateToken {
    /// A caller-chosen token (root/sudo only, checked by the caller); `None` generates one.
    pub id: Option<String>,
    pub policies: Vec<String>,
    /// The parent's hash; `None` creates an orphan.
    pub parent_hash: Option<String>,
    pub path: String,
    pub display_name: String,
    pub meta: Option<BTreeMap<String, String>>,
    /// Final TTL; 0 = never expires.
    pub ttl_seconds: u64,
    pub explicit_max_ttl_seconds: u64,
    pub period_seconds: u64,
    pub num_uses: i64,
    pub renewable: bool,
    pub token_type: TokenType,
    pub role: Option<String>,
    pub entity_id: String,
}

/// A token role under `roles/<name>` (TOK-13). Wire names are Vault's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRole {
    pub name: String,
    pub allowed_policies: Vec<String>,
    pub disallowed_policies: Vec<String>,
    pub allowed_policies_glob: Vec<String>,
    pub disallowed_policies_glob: Vec<String>,
    pub orphan: bool,
    pub renewable: bool,
    pub path_suffix: String,
    pub allowed_entity_aliases: Option<Vec<String>>,
    /// Legacy `period` / `explicit_max_ttl`, kept for the read answer.
    pub period: u64,
    pub explicit_max_ttl: u64,
    pub token_period: u64,
    pub token_explicit_max_ttl: u64,
    pub token_no_default_policy: bool,
    pub token_num_uses: i64,
    /// `default-service`, `default-batch`, `service` or `batch`.
    pub token_type: String,
    pub token_bound_cidrs: Vec<String>,
}

impl TokenRole {
    pub fn new(name: &str) -> TokenRole {
        TokenRole {
            name: name.to_string(),
            allowed_policies: Vec::new(),
            disallowed_policies: Vec::new(),
            allowed_policies_glob: Vec::new(),
            disallowed_policies_glob: Vec::new(),
            orphan: false,
            renewable: true,
            path_suffix: String::new(),
            allowed_entity_aliases: None,
            period: 0,
            explicit_max_ttl: 0,
            token_period: 0,
            token_explicit_max_ttl: 0,
            token_no_default_policy: false,
            token_num_uses: 0,
            token_type: "default-service".to_string(),
            token_bound_cidrs: Vec::new(),
        }
    }

    /// The read answer: Vault's keys, list fields as arrays.
    pub fn read_data(&self) -> Value {
        let mut data = json!({
            "allowed_entity_aliases": self.allowed_entity_aliases,
            "allowed_policies": self.allowed_policies,
            "allowed_policies_glob": self.allowed_policies_glob,
            "disallowed_policies": self.disallowed_policies,
            "disallowed_policies_glob": self.disallowed_policies_glob,
            "explicit_max_ttl": self.explicit_max_ttl,
            "name": self.name,
            "orphan": self.orphan,
            "path_suffix": self.path_suffix,
            "period": self.period,
            "renewable": self.renewable,
            "token_explicit_max_ttl": self.token_explicit_max_ttl,
            "token_no_default_policy": self.token_no_default_policy,
            "token_period": self.token_period,
            "token_type": self.token_type,
        });
        if let Value::Object(map) = &mut data {
            if !self.token_bound_cidrs.is_empty() {
                map.insert("token_bound_cidrs".into(), json!(self.token_bound_cidrs));
            }
            if self.token_num_uses > 0 {
                map.insert("token_num_uses".into(), json!(self.token_num_uses));
            }
        }
        data
    }
}

pub(crate) const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// RFC 3339 with Go's `RFC3339Nano` fraction (trailing zeros dropped), in UTC.
pub(crate) fn rfc3339(unix_nanos: i64) -> String {
    let format = time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_nanos))
        .ok()
        .and_then(|moment| moment.format(&format).ok())
        .unwrap_or_default()
}
