//! `keys/:name/rotate` (Vault's `path_rotate.go`): a new version with fresh key material.

use crate::error::{TransitError, refused};
use crate::input::check_name;
use crate::path_keys::format_key;
use crate::store::Transit;
use serde::Deserialize;
use std::sync::Arc;
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
    let _guard = transit.lock_key(&name).await;
    let Some(current) = transit.policy(&name).await? else {
        return Err(refused("key not found").into());
    };
    if current.imported && !current.allow_imported_key_rotation {
        return Err(TransitError::Failed("imported keys do not allow rotation".into()).into());
    }
    let mut policy = (*current).clone();
    policy.rotate(transit.now()).map_err(TransitError::Failed)?;
    transit.put_policy(&policy).await?;
    format_key(&policy, &[])
}
