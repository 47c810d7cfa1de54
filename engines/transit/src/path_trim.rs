//! `keys/:name/trim` (Vault's `path_trim.go`): permanently deletes versions below
//! `min_available_version`.

use crate::error::refused;
use crate::input::{check_name, opt_int};
use crate::path_keys::format_key;
use crate::store::Transit;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("keys/{name}/trim")
            .write(trim)
            .help("Trim key versions of a named key"),
    ]
}

#[derive(Deserialize)]
struct Trim {
    name: String,
    #[serde(default, deserialize_with = "opt_int")]
    min_available_version: Option<i64>,
}

async fn trim(transit: Arc<Transit>, input: Input<Trim>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let _guard = transit.lock_key(&fields.name).await;
    let Some(current) = transit.policy(&fields.name).await? else {
        return Err(refused("invalid key name").into());
    };
    let Some(minimum) = fields.min_available_version else {
        return Err(refused("missing min_available_version").into());
    };
    let message = match () {
        _ if minimum < current.min_available_version => {
            Some("minimum available version cannot be decremented")
        }
        _ if current.min_encryption_version == 0 => Some(
            "minimum available version cannot be set when minimum encryption version is not set",
        ),
        _ if current.min_decryption_version == 0 => Some(
            "minimum available version cannot be set when minimum decryption version is not set",
        ),
        _ if minimum > current.min_encryption_version => {
            Some("minimum available version cannot be greater than minmimum encryption version")
        }
        _ if minimum > current.min_decryption_version => {
            Some("minimum available version cannot be greater than minimum decryption version")
        }
        _ if minimum < 0 => Some("minimum available version cannot be negative"),
        _ if current.min_available_version == 0 && minimum == 0 => {
            Some("minimum available version should be positive")
        }
        _ => None,
    };
    if let Some(message) = message {
        return Err(refused(message).into());
    }
    let mut policy = (*current).clone();
    policy
        .keys
        .retain(|version, _| version.parse::<i64>().unwrap_or(0) >= minimum);
    policy.min_available_version = minimum;
    transit.put_policy(&policy).await?;
    format_key(&policy, &[])
}
