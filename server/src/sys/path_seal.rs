//! `sys/seal-status`, `sys/unseal`, `sys/seal` (UNS-01..07, SEAL-01).

use super::NoFields;
use crate::core::{BUILD_DATE, Core, VERSION, seal_error};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};
use tresor_seal::shamir;

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("seal-status")
            .read(read_seal_status)
            .help("Check the seal status of Vault."),
        Path::new("unseal")
            .write(write_unseal)
            .help("Submit one unseal key share."),
        Path::new("seal")
            .write(write_seal)
            .help("Seal the Vault: drop every key from memory."),
    ]
}

/// The seal-status object (UNS-06), also the answer of `sys/unseal`. Fields and order follow
/// the reference server (OpenBao names the build time `commit_date`; sending Vault's
/// `build_date` as well makes the bao CLI print an extra field).
#[derive(Serialize)]
pub struct SealStatus {
    #[serde(rename = "type")]
    seal_type: &'static str,
    initialized: bool,
    sealed: bool,
    t: u8,
    n: u8,
    progress: usize,
    nonce: String,
    recovery_seal: bool,
    version: &'static str,
    commit_date: &'static str,
    migration: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    storage_type: &'static str,
}

pub async fn seal_status(core: &Core) -> Result<SealStatus, Error> {
    let config = core.seal_config().await?;
    let (progress, nonce) = core.unseal_progress().await;
    let cluster = core.cluster_info();
    Ok(SealStatus {
        seal_type: core.seal_kind().seal_type(),
        initialized: config.is_some(),
        sealed: cluster.is_none(),
        t: config
            .as_ref()
            .map(|config| config.secret_threshold)
            .unwrap_or(0),
        n: config
            .as_ref()
            .map(|config| config.secret_shares)
            .unwrap_or(0),
        progress,
        nonce,
        recovery_seal: core.seal_kind().recovery_seal(),
        version: VERSION,
        commit_date: BUILD_DATE,
        migration: false,
        cluster_name: cluster.as_ref().map(|cluster| cluster.name.clone()),
        cluster_id: cluster.map(|cluster| cluster.id),
        storage_type: core.settings.storage_type,
    })
}

async fn read_seal_status(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    Reply::raw(200, seal_status(&core).await?)
}

#[derive(Deserialize)]
struct UnsealFields {
    #[serde(default, deserialize_with = "loose::string")]
    key: String,
    #[serde(default, deserialize_with = "loose::bool")]
    reset: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    migrate: bool,
}

/// Shares are 33 bytes (32 for a threshold of one); Vault refuses anything shorter than 16.
const KEY_SHARE_BYTES_MIN: usize = 16;

/// `PUT sys/unseal`. Order as the reference server: reset, key present, key decodes, key
/// length, initialised, then progress.
async fn write_unseal(core: Arc<Core>, input: Input<UnsealFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.migrate {
        return Err(Error::invalid("seal migration is not in progress"));
    }
    if fields.reset {
        if !core.is_sealed() {
            return Err(Error::invalid("vault is unsealed"));
        }
        core.reset_unseal_progress().await;
        return Reply::raw(200, seal_status(&core).await?);
    }
    if fields.key.is_empty() {
        return Err(Error::invalid(
            "'key' must be specified in request body as JSON, or 'reset' set to true",
        ));
    }
    let share = shamir::parse_key_share(&fields.key).map_err(seal_error)?;
    if share.len() < KEY_SHARE_BYTES_MIN {
        return Err(Error::invalid(format!(
            "invalid key: key is shorter than minimum {KEY_SHARE_BYTES_MIN} bytes"
        )));
    }
    core.submit_unseal_share(share).await?;
    Reply::raw(200, seal_status(&core).await?)
}

/// `PUT sys/seal` (root only until ACLs): 204, also when already sealed.
async fn write_seal(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    core.seal().await?;
    Ok(Reply::NoContent)
}
