//! The `auth/token/` mount: the path table and the helpers its handlers share.

use super::entry::TokenEntry;
use super::store::TokenStore;
use super::{path_accessors, path_create, path_lookup, path_renew, path_revoke, path_roles};
use crate::AuthError;
use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::Value;
use std::sync::Arc;
use tresor_framework::{
    Backend, Caller, Error, ErrorKind, Path, PathTable, Reply, Request, Secret,
};

/// The token auth method as a mounted backend (`auth/token/`; request paths are relative to
/// the mount).
pub fn token_backend(store: Arc<TokenStore>) -> Arc<dyn Backend> {
    Arc::new(TokenBackend {
        store,
        table: PathTable::new(paths()),
    })
}

struct TokenBackend {
    store: Arc<TokenStore>,
    table: PathTable<TokenStore>,
}

/// Specific patterns first: the first match wins.
fn paths() -> Vec<Path<TokenStore>> {
    let mut paths = Vec::new();
    paths.extend(path_roles::paths());
    paths.extend(path_accessors::paths());
    paths.extend(path_create::paths());
    paths.extend(path_lookup::paths());
    paths.extend(path_revoke::paths());
    paths.extend(path_renew::paths());
    paths
}

#[async_trait::async_trait]
impl Backend for TokenBackend {
    async fn handle_request(&self, request: Request) -> Result<Reply, Error> {
        self.table.handle(self.store.clone(), request).await
    }

    fn help(&self, path: &str) -> Option<&'static str> {
        self.table.help(path)
    }

    async fn exists(&self, request: Request) -> Result<Option<bool>, Error> {
        self.table.exists(self.store.clone(), request).await
    }
}

/// The authenticated caller; the router always sets it on `auth/token/` paths.
pub(crate) fn caller(request: &Request) -> Result<&Caller, Error> {
    request.caller.as_ref().ok_or_else(Error::permission_denied)
}

/// Root or `sudo` on the request path.
pub(crate) fn is_sudo(caller: &Caller) -> bool {
    caller.has_sudo || caller.is_root
}

/// A 400 with Vault's plain handler text.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::from(AuthError::Invalid(message.into()))
}

/// A 400 in the multi-error wrapping Vault gives `StatusBadRequest` errors.
pub(crate) fn invalid_wrapped(message: &str) -> Error {
    Error::new(
        ErrorKind::Invalid,
        format!("1 error occurred:\n\t* {message}\n\n"),
    )
}

/// The create and renew answer: `data: null` and the `auth` block (ENV-04, TOK-02).
pub(crate) fn auth_reply(entry: &TokenEntry, client_token: &str, warnings: Vec<String>) -> Reply {
    Reply::Secret(Secret {
        auth: Some(entry.auth_block(client_token)),
        warnings,
        status: 200,
        ..Secret::default()
    })
}

/// An answer with only warnings: 200, or 204 when there are none.
pub(crate) fn warnings_reply(warnings: Vec<String>, status: u16) -> Reply {
    match warnings.is_empty() {
        true => Reply::NoContent,
        false => Reply::Secret(Secret {
            warnings,
            status,
            ..Secret::default()
        }),
    }
}

/// Present-or-absent for fields where `null` means something (role `token_type`).
pub(crate) fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// An optional comma list: `None` when absent or `null`.
pub(crate) fn opt_comma_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    if value.is_null() {
        return Ok(None);
    }
    tresor_framework::loose::comma_list(value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Vault's `TypeKVPairs`: an object of strings, or a list of `key=value` strings. `None` when
/// absent or `null`, so an absent `meta` reads back as `null` and `{}` as `{}`.
pub(crate) fn kv_pairs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<std::collections::BTreeMap<String, String>>, D::Error> {
    use serde::de::Error as _;
    let mut pairs = std::collections::BTreeMap::new();
    match Value::deserialize(deserializer)? {
        Value::Null => return Ok(None),
        Value::Object(map) => {
            for (key, value) in map {
                let value = match value {
                    Value::String(text) => text,
                    Value::Number(number) => number.to_string(),
                    Value::Bool(flag) => flag.to_string(),
                    Value::Null => String::new(),
                    _ => return Err(D::Error::custom("expected a map of strings")),
                };
                pairs.insert(key, value);
            }
        }
        Value::Array(items) => {
            for item in items {
                let Value::String(text) = item else {
                    return Err(D::Error::custom("expected key=value strings"));
                };
                let Some((key, value)) = text.split_once('=') else {
                    return Err(D::Error::custom(format!("invalid key pair {text:?}")));
                };
                pairs.insert(key.to_string(), value.to_string());
            }
        }
        Value::String(text) => {
            for item in text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
            {
                let Some((key, value)) = item.split_once('=') else {
                    return Err(D::Error::custom("invalid key pair"));
                };
                pairs.insert(key.to_string(), value.to_string());
            }
        }
        _ => return Err(D::Error::custom("expected a map of strings")),
    }
    Ok(Some(pairs))
}
