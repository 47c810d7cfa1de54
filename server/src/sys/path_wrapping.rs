//! `sys/wrapping/wrap|unwrap|lookup|rewrap` (WRP-02..05).

use crate::core::Core;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("wrapping/wrap")
            .write(wrap)
            .help("Wrap arbitrary data in a single-use token."),
        Path::new("wrapping/unwrap")
            .write(unwrap)
            .help("Return a wrapped response, once."),
        Path::new("wrapping/lookup")
            .write(lookup)
            .read(lookup)
            .help("Look up a wrapping token's properties."),
        Path::new("wrapping/rewrap")
            .write(rewrap)
            .help("Move a wrapped response to a new token."),
    ]
}

/// WRP-02: the data is the response; the router wraps it with the header's TTL.
async fn wrap(_core: Arc<Core>, input: Input<Map<String, Value>>) -> Result<Reply, Error> {
    if input.request.wrap_ttl_seconds.is_none() {
        return Err(Error::invalid(
            "endpoint requires response wrapping to be used",
        ));
    }
    Reply::data(input.fields)
}

#[derive(Deserialize)]
struct TokenField {
    #[serde(default, deserialize_with = "loose::string")]
    token: String,
}

/// The wrapping token: the body's `token`, else the request's own token.
fn wrapping_token(input: &Input<TokenField>) -> Result<String, Error> {
    match (&input.fields.token, &input.request.client_token) {
        (token, _) if !token.is_empty() => Ok(token.clone()),
        (_, Some(token)) => Ok(token.clone()),
        _ => Err(Error::invalid(crate::core::WRAPPING_TOKEN_INVALID)),
    }
}

async fn unwrap(core: Arc<Core>, input: Input<TokenField>) -> Result<Reply, Error> {
    core.unwrap(&wrapping_token(&input)?).await
}

async fn lookup(core: Arc<Core>, input: Input<TokenField>) -> Result<Reply, Error> {
    if input.fields.token.is_empty() {
        return Err(Error::invalid("missing \"token\" value in input"));
    }
    Reply::data(core.wrapping_lookup(&input.fields.token).await?)
}

async fn rewrap(core: Arc<Core>, input: Input<TokenField>) -> Result<Reply, Error> {
    core.rewrap(&wrapping_token(&input)?).await
}
