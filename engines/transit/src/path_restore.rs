//! `restore(/:name)` (Vault's `path_restore.go`): loads a Vault-format backup, merging its
//! archive into the policy so every available version is usable again.

use crate::error::{TransitError, refused};
use crate::gobase64;
use crate::input::check_name;
use crate::policy::{KeyEntry, Policy, VersionInfo};
use crate::store::Transit;
use crate::timefmt;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("restore/{name}")
            .write(restore)
            .help("Restore the named key"),
        Path::new("restore")
            .write(restore)
            .help("Restore the named key"),
    ]
}

#[derive(Deserialize)]
struct Restore {
    #[serde(default, deserialize_with = "loose::string")]
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    backup: String,
    #[serde(default, deserialize_with = "loose::bool")]
    force: bool,
}

#[derive(Deserialize, Default)]
struct Archive {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct Document {
    policy: Option<Policy>,
    #[serde(default)]
    archived_keys: Option<Archive>,
}

async fn restore(transit: Arc<Transit>, input: Input<Restore>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.backup.is_empty() {
        return Err(refused("'backup' must be supplied").into());
    }
    if fields.name.contains('/') {
        return Err(refused("invalid key name").into());
    }
    let failed = |message: String| Error::from(TransitError::Failed(message));
    let bytes = gobase64::decode(&fields.backup).map_err(failed)?;
    let document: Document = serde_json::from_slice(&bytes)
        .map_err(|error| failed(format!("failed to decode backup: {error}")))?;
    let Some(mut policy) = document.policy else {
        return Err(failed("backup does not contain a policy".into()));
    };
    if !fields.name.is_empty() {
        policy.name = fields.name;
    }
    check_name(&policy.name)?;
    let archive = document.archived_keys.unwrap_or_default();
    let lowest = policy.min_available_version.max(1);
    for (index, entry) in archive.keys.into_iter().enumerate() {
        let version = index as i64 + policy.archive_min_version;
        if version >= lowest && version <= policy.latest_version {
            policy.keys.entry(version.to_string()).or_insert(entry);
        }
    }
    policy
        .keys
        .retain(|version, _| version.parse::<i64>().unwrap_or(0) >= lowest);
    policy.restore_info = Some(VersionInfo {
        time: timefmt::rfc3339_nanos(transit.now()),
        version: policy.latest_version,
    });
    let _guard = transit.lock_key(&policy.name).await;
    if !fields.force && transit.policy(&policy.name).await?.is_some() {
        return Err(failed(format!("key {:?} already exists", policy.name)));
    }
    transit.put_policy(&policy).await?;
    Ok(Reply::NoContent)
}
