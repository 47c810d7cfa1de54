//! `auth/token/lookup`, `lookup-self` and `lookup-accessor` (TOK-07, TOK-08).

use super::backend::{caller, invalid, invalid_wrapped};
use super::entry::TokenEntry;
use super::limits::TOKEN_BYTES_MAX;
use super::store::TokenStore;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, ErrorKind, Input, Path, Reply, loose};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("lookup-accessor").write(lookup_accessor).help("This endpoint will lookup a token associated with the given accessor and its properties. Response will not contain the token ID."),
        Path::new("lookup-self").read(lookup_self).write(lookup_self).help("This endpoint will lookup a token and its properties."),
        Path::new("lookup").read(lookup).write(lookup).help("This endpoint will lookup a token and its properties."),
    ]
}

#[derive(Deserialize)]
pub(crate) struct TokenField {
    #[serde(default, deserialize_with = "loose::string")]
    pub(crate) token: String,
}

#[derive(Deserialize)]
pub(crate) struct AccessorField {
    #[serde(default, deserialize_with = "loose::string")]
    pub(crate) accessor: String,
}

/// `GET|POST auth/token/lookup {token}`: the caller's own token when `token` is empty. An
/// unknown token is 403 `bad token`, which hvac's `is_authenticated` reads as "no".
async fn lookup(store: Arc<TokenStore>, input: Input<TokenField>) -> Result<Reply, Error> {
    let token = match input.fields.token.as_str() {
        "" => input.request.client_token.clone().unwrap_or_default(),
        token => token.to_string(),
    };
    if token.is_empty() {
        return Err(invalid("missing token ID"));
    }
    if token.len() > TOKEN_BYTES_MAX {
        return Err(bad_token());
    }
    let token_hash = store.hash(&token).await?;
    let entry = lookup_tainted(&store, &token_hash)
        .await?
        .ok_or_else(bad_token)?;
    Reply::data(entry.lookup_data(&token, store.now_nanos()))
}

/// `GET auth/token/lookup-self`: the caller's token, even on its last permitted use.
async fn lookup_self(store: Arc<TokenStore>, input: Input<TokenField>) -> Result<Reply, Error> {
    let caller = caller(&input.request)?;
    let token = input.request.client_token.clone().unwrap_or_default();
    let entry = lookup_tainted(&store, &caller.token_hash)
        .await?
        .ok_or_else(bad_token)?;
    Reply::data(entry.lookup_data(&token, store.now_nanos()))
}

/// `POST auth/token/lookup-accessor {accessor}`: `id` is `""`.
async fn lookup_accessor(
    store: Arc<TokenStore>,
    input: Input<AccessorField>,
) -> Result<Reply, Error> {
    let accessor = input.fields.accessor;
    if accessor.is_empty() {
        return Err(invalid_wrapped("missing accessor"));
    }
    let Some(entry) = store.lookup_by_accessor(&accessor).await? else {
        return Err(invalid_wrapped("invalid accessor"));
    };
    Reply::data(entry.lookup_data("", store.now_nanos()))
}

/// Vault's tainted lookup: a token on its last use is still shown; an expired one is revoked.
pub(crate) async fn lookup_tainted(
    store: &TokenStore,
    token_hash: &str,
) -> Result<Option<TokenEntry>, Error> {
    let Some(entry) = store.read_entry(token_hash).await? else {
        return Ok(None);
    };
    if entry.is_expired(store.now_nanos()) {
        store.revoke_by_hash(token_hash).await?;
        return Ok(None);
    }
    Ok(Some(entry))
}

fn bad_token() -> Error {
    Error::new(ErrorKind::PermissionDenied, "bad token")
}
