use crate::Error;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A successful answer. The server turns it into HTTP (status, envelope, headers).
#[derive(Debug)]
pub enum Reply {
    /// 204 with no body (ENV-06).
    NoContent,
    /// The standard envelope (ENV-01..04).
    Secret(Secret),
    /// A bare JSON object with its own status, no envelope (ENV-10: `sys/init`,
    /// `sys/seal-status`, `sys/health`, ...). Kept serialised so the field order of the
    /// response struct reaches the wire (the reference server's order).
    Raw { status: u16, body: Box<RawValue> },
}

/// The parts of the envelope a handler controls.
#[derive(Debug, Default)]
pub struct Secret {
    pub data: Option<Value>,
    pub warnings: Vec<String>,
    pub lease: Option<LeaseInfo>,
    pub auth: Option<Value>,
    /// 200 normally; 404 when a handler answers "not found, but here is metadata" (ERR-03).
    pub status: u16,
    /// Copy the keys of `data` to the top level of the envelope (ENV-09).
    pub inject_top_level: bool,
    /// Set by the router when the response was wrapped (ENV-05): the envelope then carries
    /// only this, with `data`, `auth` and `warnings` null and an empty `request_id`.
    pub wrap_info: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct LeaseInfo {
    /// Empty from a backend: the router asks the expiration manager for an id when
    /// `internal_data` is set, and leaves it empty otherwise (KV v1 `ttl` reads).
    pub lease_id: String,
    pub renewable: bool,
    pub lease_duration_seconds: u64,
    /// Set by a backend that issues a revocable lease: what it needs to revoke it later.
    pub internal_data: Option<Value>,
}

impl Reply {
    /// An envelope whose `data` is the serialised value.
    pub fn data(value: impl Serialize) -> Result<Reply, Error> {
        let data = serde_json::to_value(value)
            .map_err(|error| Error::internal(format!("serialising reply: {error}")))?;
        Ok(Reply::Secret(Secret {
            data: Some(data),
            status: 200,
            ..Secret::default()
        }))
    }

    /// A bare JSON body (no envelope) with the given status.
    pub fn raw(status: u16, value: impl Serialize) -> Result<Reply, Error> {
        let body = serde_json::value::to_raw_value(&value)
            .map_err(|error| Error::internal(format!("serialising reply: {error}")))?;
        Ok(Reply::Raw { status, body })
    }

    /// 204 when there is nothing to warn about, else an envelope with only the warnings
    /// (Vault answers a write that produced warnings with 200).
    pub fn no_content_or_warnings(warnings: Vec<String>) -> Reply {
        if warnings.is_empty() {
            return Reply::NoContent;
        }
        Reply::Secret(Secret {
            warnings,
            status: 200,
            ..Secret::default()
        })
    }

    /// Adds a warning to an envelope reply; other replies have nowhere to carry it.
    pub fn with_warning(mut self, warning: impl Into<String>) -> Reply {
        if let Reply::Secret(secret) = &mut self {
            secret.warnings.push(warning.into());
        }
        self
    }

    /// Marks an envelope reply for top-level injection of its data keys (ENV-09).
    pub fn injected(mut self) -> Reply {
        if let Reply::Secret(secret) = &mut self {
            secret.inject_top_level = true;
        }
        self
    }
}
