//! `auth/token/revoke`, `revoke-self`, `revoke-accessor` and `revoke-orphan` (TOK-08, TOK-10).

use super::backend::{caller, invalid, invalid_wrapped, is_sudo, warnings_reply};
use super::entry::TokenType;
use super::limits::TOKEN_BYTES_MAX;
use super::path_lookup::{AccessorField, TokenField, lookup_tainted};
use super::store::TokenStore;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("revoke-accessor").write(revoke_accessor).help("This endpoint will delete the token associated with the accessor and all of its child tokens."),
        Path::new("revoke-self").write(revoke_self).help("This endpoint will delete the token used to call it and all of its child tokens."),
        Path::new("revoke-orphan").write(revoke_orphan).help("This endpoint will delete the token and orphan its child tokens."),
        Path::new("revoke").write(revoke).help("This endpoint will delete the given token and all of its child tokens."),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

/// `PUT auth/token/revoke {token}`: 204, also for unknown tokens (the CLI says "if it
/// existed").
async fn revoke(store: Arc<TokenStore>, input: Input<TokenField>) -> Result<Reply, Error> {
    let token = input.fields.token;
    if token.is_empty() {
        return Err(invalid("missing token ID"));
    }
    if token.len() > TOKEN_BYTES_MAX {
        return Ok(Reply::NoContent);
    }
    let Some(entry) = store.lookup(&token).await? else {
        return Ok(Reply::NoContent);
    };
    if entry.token_type == TokenType::Batch {
        return Err(invalid("batch tokens cannot be revoked"));
    }
    store.revoke_by_hash(&entry.id_hash).await?;
    Ok(Reply::NoContent)
}

/// `PUT auth/token/revoke-self`: the caller's token and its descendants.
async fn revoke_self(store: Arc<TokenStore>, input: Input<NoFields>) -> Result<Reply, Error> {
    let caller = caller(&input.request)?;
    let Some(entry) = lookup_tainted(&store, &caller.token_hash).await? else {
        return Ok(Reply::NoContent);
    };
    if entry.token_type == TokenType::Batch {
        return Err(invalid("batch tokens cannot be revoked"));
    }
    store.revoke_by_hash(&entry.id_hash).await?;
    Ok(Reply::NoContent)
}

/// `POST auth/token/revoke-accessor {accessor}`: an unknown accessor answers 200 with a
/// warning.
async fn revoke_accessor(
    store: Arc<TokenStore>,
    input: Input<AccessorField>,
) -> Result<Reply, Error> {
    let accessor = input.fields.accessor;
    if accessor.is_empty() {
        return Err(invalid_wrapped("missing accessor"));
    }
    let Some(entry) = store.lookup_by_accessor(&accessor).await? else {
        return Ok(warnings_reply(
            vec!["No token found with this accessor".to_string()],
            200,
        ));
    };
    store.revoke_by_hash(&entry.id_hash).await?;
    Ok(Reply::NoContent)
}

/// `PUT auth/token/revoke-orphan {token}` (sudo): children become orphans.
async fn revoke_orphan(store: Arc<TokenStore>, input: Input<TokenField>) -> Result<Reply, Error> {
    let token = input.fields.token;
    if token.is_empty() {
        return Err(invalid("missing token ID"));
    }
    if !is_sudo(caller(&input.request)?) {
        return Err(invalid(
            "root or sudo privileges required to revoke and orphan",
        ));
    }
    let Some(entry) = store.lookup(&token).await? else {
        return Err(invalid("token to revoke not found"));
    };
    if entry.token_type == TokenType::Batch {
        return Err(invalid("batch tokens cannot be revoked"));
    }
    store.revoke_orphan(&token).await?;
    Ok(Reply::NoContent)
}
