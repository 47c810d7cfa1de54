//! `auth/token/renew`, `renew-self` and `renew-accessor` (TOK-09).

use super::backend::{auth_reply, caller, invalid, invalid_wrapped};
use super::limits::TOKEN_BYTES_MAX;
use super::store::TokenStore;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("renew-accessor").write(renew_accessor).help("This endpoint will renew a token associated with the given accessor and its properties. Response will not contain the token ID."),
        Path::new("renew-self").write(renew_self).help("This endpoint will renew the token used to call it and prevent expiration."),
        Path::new("renew").write(renew).help("This endpoint will renew the given token and prevent expiration."),
    ]
}

#[derive(Deserialize)]
pub(crate) struct RenewFields {
    #[serde(default, deserialize_with = "loose::string")]
    token: String,
    #[serde(default, deserialize_with = "loose::string")]
    accessor: String,
    #[serde(default, deserialize_with = "loose::seconds")]
    increment: u64,
}

/// `PUT auth/token/renew {token, increment}`: an unknown token is 400 `token not found`.
async fn renew(store: Arc<TokenStore>, input: Input<RenewFields>) -> Result<Reply, Error> {
    let token = input.fields.token;
    if token.is_empty() {
        return Err(invalid("missing token ID"));
    }
    if token.len() > TOKEN_BYTES_MAX {
        return Err(invalid("token not found"));
    }
    let token_hash = store.hash(&token).await?;
    let (entry, warnings) = store
        .renew(&token_hash, input.fields.increment, &input.request.mount)
        .await?;
    Ok(auth_reply(&entry, &token, warnings))
}

/// `PUT auth/token/renew-self {increment}`.
async fn renew_self(store: Arc<TokenStore>, input: Input<RenewFields>) -> Result<Reply, Error> {
    let caller = caller(&input.request)?;
    let token = input.request.client_token.clone().unwrap_or_default();
    let (entry, warnings) = store
        .renew(
            &caller.token_hash,
            input.fields.increment,
            &input.request.mount,
        )
        .await?;
    Ok(auth_reply(&entry, &token, warnings))
}

/// `POST auth/token/renew-accessor {accessor, increment}`: the answer's `client_token` is `""`.
async fn renew_accessor(store: Arc<TokenStore>, input: Input<RenewFields>) -> Result<Reply, Error> {
    let accessor = input.fields.accessor;
    if accessor.is_empty() {
        return Err(invalid_wrapped("missing accessor"));
    }
    let Some(entry) = store.lookup_by_accessor(&accessor).await? else {
        return Err(invalid_wrapped("invalid accessor"));
    };
    let (entry, warnings) = store
        .renew(&entry.id_hash, input.fields.increment, &input.request.mount)
        .await?;
    Ok(auth_reply(&entry, "", warnings))
}
