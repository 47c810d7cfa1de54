//! Response wrapping (WRP-01..05): a response stored in the cubbyhole of a single-use token
//! whose only policy is `response-wrapping`.

use super::Core;
use super::policies::RESPONSE_WRAPPING_POLICY;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use tresor_auth::{CreateToken, TokenEntry, TokenType};
use tresor_framework::{Error, Reply, Secret, StorageView};
use tresor_storage::Storage;

/// Vault's text for every unusable wrapping token (vaultrs maps the 400 to "wrap invalid").
pub const WRAPPING_TOKEN_INVALID: &str = "wrapping token is not valid or does not exist";
const RESPONSE_KEY: &str = "response";
const META_CREATION_PATH: &str = "wrapping_creation_path";
const META_CREATION_TTL: &str = "wrapping_creation_ttl";

/// What the cubbyhole keeps: the response exactly as the client would have received it.
#[derive(Serialize, Deserialize)]
struct StoredResponse {
    status: u16,
    body: serde_json::Value,
}

/// `sys/wrapping/lookup`.
#[derive(Serialize)]
pub struct WrappingLookup {
    pub creation_path: String,
    pub creation_time: String,
    pub creation_ttl: u64,
}

impl Core {
    fn wrapping_cubbyhole(&self, entry: &TokenEntry) -> Result<StorageView, Error> {
        let storage = self
            .cubbyhole_storage()
            .ok_or_else(|| Error::internal("cubbyhole mount is missing"))?;
        Ok(storage.sub_view(&format!("{}/", entry.id_hash)))
    }

    /// Wraps a reply: stores it and answers only `wrap_info`.
    pub async fn wrap_reply(
        &self,
        reply: Reply,
        ttl_seconds: u64,
        creation_path: &str,
        request_id: &str,
    ) -> Result<Reply, Error> {
        let stored = match reply {
            Reply::NoContent => return Ok(Reply::NoContent),
            Reply::Raw { status, body } => StoredResponse {
                status,
                body: serde_json::from_str(body.get())
                    .map_err(|error| Error::internal(error.to_string()))?,
            },
            Reply::Secret(secret) => StoredResponse {
                status: secret.status,
                body: envelope_value(&secret, request_id),
            },
        };
        let wrapped_accessor = stored
            .body
            .get("auth")
            .and_then(|auth| auth.get("accessor"))
            .and_then(|accessor| accessor.as_str())
            .map(str::to_string);
        let (token, entry) = self
            .create_wrapping_token(ttl_seconds, creation_path)
            .await?;
        let encoded =
            serde_json::to_vec(&stored).map_err(|error| Error::internal(error.to_string()))?;
        self.wrapping_cubbyhole(&entry)?
            .put(RESPONSE_KEY, encoded)
            .await?;
        Ok(Reply::Secret(Secret {
            wrap_info: Some(wrap_info(
                &token,
                &entry,
                ttl_seconds,
                creation_path,
                wrapped_accessor,
            )),
            status: 200,
            ..Secret::default()
        }))
    }

    async fn create_wrapping_token(
        &self,
        ttl_seconds: u64,
        creation_path: &str,
    ) -> Result<(String, TokenEntry), Error> {
        let meta: BTreeMap<String, String> = [
            (META_CREATION_PATH.to_string(), creation_path.to_string()),
            (META_CREATION_TTL.to_string(), ttl_seconds.to_string()),
        ]
        .into_iter()
        .collect();
        let request = CreateToken {
            id: None,
            policies: vec![RESPONSE_WRAPPING_POLICY.to_string()],
            parent_hash: None,
            path: creation_path.to_string(),
            display_name: String::new(),
            meta: Some(meta),
            ttl_seconds,
            explicit_max_ttl_seconds: 0,
            period_seconds: 0,
            num_uses: 1,
            renewable: false,
            token_type: TokenType::Service,
            role: None,
            entity_id: String::new(),
        };
        Ok(self.tokens().create(request).await?)
    }

    /// The live wrapping token behind `token`, or the "not valid" error.
    async fn wrapping_entry(&self, token: &str) -> Result<TokenEntry, Error> {
        let invalid = || Error::invalid(WRAPPING_TOKEN_INVALID);
        let Some(entry) = self.tokens().lookup(token).await? else {
            return Err(invalid());
        };
        if entry
            .policies
            .iter()
            .all(|policy| policy != RESPONSE_WRAPPING_POLICY)
        {
            return Err(invalid());
        }
        Ok(entry)
    }

    /// `sys/wrapping/unwrap`: the stored response, once; the token is revoked.
    pub async fn unwrap(&self, token: &str) -> Result<Reply, Error> {
        let entry = self.wrapping_entry(token).await?;
        let stored = self.stored_response(&entry).await?;
        self.tokens().revoke_by_hash(&entry.id_hash).await?;
        if stored.status == 204 {
            return Ok(Reply::NoContent);
        }
        Reply::raw(stored.status, stored.body)
    }

    async fn stored_response(&self, entry: &TokenEntry) -> Result<StoredResponse, Error> {
        let Some(encoded) = self.wrapping_cubbyhole(entry)?.get(RESPONSE_KEY).await? else {
            return Err(Error::invalid(WRAPPING_TOKEN_INVALID));
        };
        serde_json::from_slice(&encoded).map_err(|_| Error::internal("corrupt wrapped response"))
    }

    /// `sys/wrapping/lookup`.
    pub async fn wrapping_lookup(&self, token: &str) -> Result<WrappingLookup, Error> {
        let entry = self.wrapping_entry(token).await?;
        let meta = entry.meta.clone().unwrap_or_default();
        Ok(WrappingLookup {
            creation_path: meta.get(META_CREATION_PATH).cloned().unwrap_or_default(),
            creation_time: creation_time(&entry),
            creation_ttl: meta
                .get(META_CREATION_TTL)
                .and_then(|ttl| ttl.parse().ok())
                .unwrap_or(entry.ttl_seconds),
        })
    }

    /// `sys/wrapping/rewrap`: the same response under a new token; the old one is revoked.
    pub async fn rewrap(&self, token: &str) -> Result<Reply, Error> {
        let entry = self.wrapping_entry(token).await?;
        let stored = self.stored_response(&entry).await?;
        let meta = entry.meta.clone().unwrap_or_default();
        let creation_path = meta.get(META_CREATION_PATH).cloned().unwrap_or_default();
        let ttl_seconds = meta
            .get(META_CREATION_TTL)
            .and_then(|ttl| ttl.parse().ok())
            .unwrap_or(entry.ttl_seconds);
        let (new_token, new_entry) = self
            .create_wrapping_token(ttl_seconds, &creation_path)
            .await?;
        let encoded =
            serde_json::to_vec(&stored).map_err(|error| Error::internal(error.to_string()))?;
        self.wrapping_cubbyhole(&new_entry)?
            .put(RESPONSE_KEY, encoded)
            .await?;
        self.tokens().revoke_by_hash(&entry.id_hash).await?;
        Ok(Reply::Secret(Secret {
            wrap_info: Some(wrap_info(
                &new_token,
                &new_entry,
                ttl_seconds,
                &creation_path,
                None,
            )),
            status: 200,
            ..Secret::default()
        }))
    }
}

fn rfc3339(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".to_string())
}

/// RFC 3339 with nanoseconds, as Vault prints `creation_time`.
fn creation_time(entry: &TokenEntry) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.issue_time_nanos))
        .ok()
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| rfc3339(entry.creation_time))
}

fn wrap_info(
    token: &str,
    entry: &TokenEntry,
    ttl_seconds: u64,
    creation_path: &str,
    wrapped_accessor: Option<String>,
) -> serde_json::Value {
    let creation_time = creation_time(entry);
    let mut info = serde_json::json!({
        "token": token,
        "accessor": entry.accessor,
        "ttl": ttl_seconds,
        "creation_time": creation_time,
        "creation_path": creation_path,
    });
    if let (Some(accessor), Some(object)) = (wrapped_accessor, info.as_object_mut()) {
        object.insert(
            "wrapped_accessor".into(),
            serde_json::Value::String(accessor),
        );
    }
    info
}

/// The envelope a client would have received, for storing in the cubbyhole.
fn envelope_value(secret: &Secret, request_id: &str) -> serde_json::Value {
    let lease = secret.lease.clone().unwrap_or_default();
    let mut body = serde_json::json!({
        "request_id": request_id,
        "lease_id": lease.lease_id,
        "renewable": lease.renewable,
        "lease_duration": lease.lease_duration_seconds,
        "data": secret.data,
        "wrap_info": null,
        "warnings": if secret.warnings.is_empty() { serde_json::Value::Null } else { serde_json::json!(secret.warnings) },
        "auth": secret.auth,
    });
    if secret.inject_top_level
        && let (Some(top), Some(serde_json::Value::Object(data))) =
            (body.as_object_mut(), &secret.data)
    {
        for (key, value) in data {
            top.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    body
}
