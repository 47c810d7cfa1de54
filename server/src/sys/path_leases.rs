//! `sys/leases/*` and the legacy `sys/renew`, `sys/revoke` (LSE-01..07). Every handler calls
//! the expiration manager, which also holds the leases of tokens (lookup, list and revoke
//! work on them); sudo on `revoke-prefix`, `revoke-force` and `LIST lookup/` is the
//! ACL's business (vault-core-api.md §2.10).

use crate::core::Core;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, ErrorKind, Input, LeaseInfo, Path, Reply, Secret, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("leases/lookup")
            .write(write_lookup)
            .list(list_lookup)
            .help("View or list lease metadata."),
        Path::new("leases/lookup/{*prefix}")
            .list(list_lookup)
            .help("List lease ids under a prefix."),
        Path::new("leases/renew/{*url_lease_id}")
            .write(write_renew)
            .help("Renew a lease of a secret."),
        Path::new("renew/{*url_lease_id}")
            .write(write_renew)
            .help("Renew a lease of a secret (legacy path)."),
        Path::new("leases/revoke/{*url_lease_id}")
            .write(write_revoke)
            .help("Revoke a lease and its secret."),
        Path::new("revoke/{*url_lease_id}")
            .write(write_revoke)
            .help("Revoke a lease and its secret (legacy path)."),
        Path::new("leases/revoke-prefix/{*prefix}")
            .write(write_revoke_prefix)
            .help("Revoke every lease under a prefix."),
        Path::new("leases/revoke-force/{*prefix}")
            .write(write_revoke_force)
            .help("Delete every lease under a prefix, ignoring backend errors."),
        Path::new("leases/tidy")
            .write(write_tidy)
            .help("Clean up leases whose token is gone."),
    ]
}

/// Vault's answer to a tidy request; clients only print it.
const TIDY_WARNING: &str = "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.";

#[derive(Deserialize)]
struct LookupFields {
    #[serde(default, deserialize_with = "loose::string")]
    lease_id: String,
}

/// `PUT sys/leases/lookup {"lease_id"}` → `data{id, issue_time, expire_time, last_renewal,
/// renewable, ttl}`; unknown → 400 `invalid lease`.
async fn write_lookup(core: Arc<Core>, input: Input<LookupFields>) -> Result<Reply, Error> {
    let lease_id = input.fields.lease_id.trim();
    let view = core.expiration().lookup(lease_id).await?;
    Reply::data(view)
}

#[derive(Deserialize)]
struct ListFields {
    #[serde(default)]
    prefix: String,
}

/// `LIST sys/leases/lookup/<prefix>` → `keys`; nothing below the prefix is 404 (ERR-02).
async fn list_lookup(core: Arc<Core>, input: Input<ListFields>) -> Result<Reply, Error> {
    let keys = core.expiration().list(&input.fields.prefix).await?;
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    Reply::data(serde_json::json!({ "keys": keys }))
}

#[derive(Deserialize)]
struct RenewFields {
    #[serde(default, deserialize_with = "loose::string")]
    lease_id: String,
    #[serde(default)]
    url_lease_id: String,
    #[serde(default, deserialize_with = "loose::seconds")]
    increment: u64,
}

/// `PUT sys/leases/renew {"lease_id","increment"}` (also `/<id>` and legacy `sys/renew`): the
/// envelope carries `lease_id`, `renewable`, `lease_duration`, and `data` is null. The body's
/// `lease_id` wins over the URL's, as in Vault. A token's lease (`auth/token/create/h…`) is
/// refused: `tokens cannot be renewed through this endpoint`.
async fn write_renew(core: Arc<Core>, input: Input<RenewFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    let lease_id = first_non_empty(&fields.lease_id, &fields.url_lease_id);
    if lease_id.is_empty() {
        return Err(Error::invalid("lease_id must be specified"));
    }
    let renewed = core.expiration().renew(lease_id, fields.increment).await?;
    let lease = LeaseInfo {
        lease_id: renewed.lease_id,
        renewable: renewed.renewable,
        lease_duration_seconds: renewed.lease_duration_seconds,
        internal_data: None,
    };
    Ok(Reply::Secret(Secret {
        data: None,
        warnings: renewed.warnings,
        lease: Some(lease),
        status: 200,
        ..Secret::default()
    }))
}

#[derive(Deserialize)]
struct RevokeFields {
    #[serde(default, deserialize_with = "loose::string")]
    lease_id: String,
    #[serde(default)]
    url_lease_id: String,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    sync: Option<bool>,
}

/// `PUT sys/leases/revoke {"lease_id","sync"}` (also `/<id>` and legacy `sys/revoke`): 204, or
/// 202 with `sync: false` (revoked by the timers, with retries). Unknown ids succeed.
async fn write_revoke(core: Arc<Core>, input: Input<RevokeFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    let lease_id = first_non_empty(&fields.lease_id, &fields.url_lease_id);
    if lease_id.is_empty() {
        return Err(Error::invalid("lease_id must be specified"));
    }
    let sync = fields.sync.unwrap_or(true);
    core.expiration().revoke(lease_id, sync).await?;
    match sync {
        true => Ok(Reply::NoContent),
        false => accepted(),
    }
}

#[derive(Deserialize)]
struct PrefixFields {
    #[serde(default)]
    prefix: String,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    sync: Option<bool>,
}

/// `PUT sys/leases/revoke-prefix/<prefix>` (sudo): 204 once every lease under it is revoked
/// (the first backend error aborts), or 202 with `sync: false`.
async fn write_revoke_prefix(core: Arc<Core>, input: Input<PrefixFields>) -> Result<Reply, Error> {
    let prefix = prefix_of(&input)?;
    let sync = input.fields.sync.unwrap_or(true);
    match sync {
        true => {
            core.expiration().revoke_prefix(prefix, false).await?;
            Ok(Reply::NoContent)
        }
        false => {
            core.expiration().expire_prefix(prefix).await?;
            accepted()
        }
    }
}

/// `PUT sys/leases/revoke-force/<prefix>` (sudo): 204; backend errors are ignored and the
/// records deleted anyway.
async fn write_revoke_force(core: Arc<Core>, input: Input<PrefixFields>) -> Result<Reply, Error> {
    let prefix = prefix_of(&input)?;
    core.expiration().revoke_force(prefix).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize)]
struct TidyFields {}

/// `POST sys/leases/tidy`: 202 with Vault's warning; the pass runs in the background.
async fn write_tidy(core: Arc<Core>, _input: Input<TidyFields>) -> Result<Reply, Error> {
    core.expiration().tidy();
    Ok(Reply::Secret(Secret {
        data: None,
        warnings: vec![TIDY_WARNING.to_string()],
        status: 202,
        ..Secret::default()
    }))
}

/// The prefix capture. Vault refuses a write to a path ending in `/` before the handler, and
/// has no route for an empty prefix.
fn prefix_of(input: &Input<PrefixFields>) -> Result<&str, Error> {
    if input.request.path.ends_with('/') {
        return Err(Error::invalid("cannot write to a path ending in '/'"));
    }
    match input.fields.prefix.as_str() {
        "" => Err(Error::new(
            ErrorKind::UnsupportedPath,
            "1 error occurred:\n\t* unsupported path\n\n",
        )),
        prefix => Ok(prefix),
    }
}

fn first_non_empty<'a>(first: &'a str, second: &'a str) -> &'a str {
    match first.trim() {
        "" => second.trim(),
        trimmed => trimmed,
    }
}

/// 202 for an accepted asynchronous revocation. The reference server sends no body; the
/// framework has no bodiless 202, so the body is JSON `null`, which every client reads as
/// "no secret".
fn accepted() -> Result<Reply, Error> {
    Reply::raw(202, serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_paths_build() {
        let patterns: Vec<&str> = paths().iter().map(|path| path.pattern()).collect();
        assert!(patterns.contains(&"leases/lookup"));
        assert!(patterns.contains(&"revoke/{*url_lease_id}"));
    }
}
