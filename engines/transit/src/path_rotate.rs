//! `keys/:name/rotate` (Vault's `path_rotate.go`): a new version with fresh key material.

use crate::error::{TransitError, refused};
use crate::input::check_name;
use crate::path_keys::format_key;
use crate::policy::Policy;
use crate::store::Transit;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::RwLockWriteGuard;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("keys/{name}/rotate")
            .write(rotate)
            .help("Rotate named encryption key"),
    ]
}

#[derive(Deserialize)]
struct Rotate {
    name: String,
}

async fn rotate(transit: Arc<Transit>, input: Input<Rotate>) -> Result<Reply, Error> {
    let name = input.fields.name;
    check_name(&name)?;
    let guard = transit.lock_key(&name).await;
    let Some(current) = transit.policy(&name).await? else {
        return Err(refused("key not found").into());
    };
    if current.imported && !current.allow_imported_key_rotation {
        return Err(TransitError::Failed("imported keys do not allow rotation".into()).into());
    }
    let policy = rotate_locked(&transit, &guard, &current).await?;
    format_key(&policy, &[])
}

/// Adds version `latest + 1` to `current` at the engine's clock and stores it. The one rotation
/// path: `POST keys/:name/rotate` and auto-rotation both come here. `_locked` is the key's
/// write lock, held by the caller since it read `current`.
pub(crate) async fn rotate_locked(
    transit: &Transit,
    _locked: &RwLockWriteGuard<'_, ()>,
    current: &Policy,
) -> Result<Policy, Error> {
    let now = transit.now();
    let mut policy = current.clone();
    // Key generation is CPU-bound (seconds for RSA-4096): keep it off the async workers.
    let policy = tokio::task::spawn_blocking(move || policy.rotate(now).map(|()| policy))
        .await
        .map_err(|_| TransitError::Failed("key generation did not complete".into()))?
        .map_err(TransitError::Failed)?;
    transit.put_policy(&policy).await?;
    Ok(policy)
}
