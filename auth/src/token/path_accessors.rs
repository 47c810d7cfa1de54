//! `auth/token/accessors/` (sudo list) and `auth/token/tidy` (TOK-14).

use super::backend::{caller, is_sudo};
use super::store::TokenStore;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tresor_framework::{Error, Input, Path, Reply, Secret};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("accessors").list(list_accessors).help("List token accessors, which can then be be used to iterate and discover their properties or revoke them. Because this can be used to cause a denial of service, this endpoint requires 'sudo' capability in addition to 'list'."),
        Path::new("tidy").write(tidy).help("This endpoint performs cleanup tasks that can be run if certain error conditions have occurred."),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

const TIDY_STARTED: &str = "Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs.";
const TIDY_RUNNING: &str = "Tidy operation already in progress.";

/// `LIST auth/token/accessors` needs `sudo` as well as `list`; none → 404 (ERR-02).
async fn list_accessors(store: Arc<TokenStore>, input: Input<NoFields>) -> Result<Reply, Error> {
    if !is_sudo(caller(&input.request)?) {
        return Err(Error::permission_denied());
    }
    let keys = store.list_accessors().await?;
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    Reply::data(serde_json::json!({ "keys": keys }))
}

/// `POST auth/token/tidy`: 202 with Vault's warning; a concurrent tidy answers 200 with
/// `Tidy operation already in progress.` The work runs within the request.
async fn tidy(store: Arc<TokenStore>, _: Input<NoFields>) -> Result<Reply, Error> {
    if store.tidy_running.swap(true, Ordering::SeqCst) {
        return Ok(Reply::Secret(Secret {
            warnings: vec![TIDY_RUNNING.into()],
            status: 200,
            ..Secret::default()
        }));
    }
    let result = store.tidy().await;
    store.tidy_running.store(false, Ordering::SeqCst);
    result?;
    Ok(Reply::Secret(Secret {
        warnings: vec![TIDY_STARTED.into()],
        status: 202,
        ..Secret::default()
    }))
}
