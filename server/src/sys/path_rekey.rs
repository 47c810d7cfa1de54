//! `sys/rekey/init` and `sys/rekey/update` (RKY-01): new unseal key shares for the same root
//! key. Unauthenticated, as in Vault 1.x (the shares are the authorisation).

use super::NoFields;
use super::path_init::validated_shares;
use crate::core::{Core, seal_error};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};
use tresor_seal::shamir;

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("rekey/init")
            .read(read_rekey)
            .write(start_rekey)
            .delete(cancel_rekey)
            .help("Start, inspect or cancel a rekey."),
        Path::new("rekey/update")
            .write(update_rekey)
            .help("Submit one share of the current unseal key for a rekey."),
    ]
}

async fn read_rekey(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    Reply::raw(200, core.rekey_status().await?)
}

#[derive(Deserialize)]
struct RekeyInitFields {
    #[serde(default, deserialize_with = "loose::int")]
    secret_shares: i64,
    #[serde(default, deserialize_with = "loose::int")]
    secret_threshold: i64,
    #[serde(default, deserialize_with = "loose::comma_list")]
    pgp_keys: Vec<String>,
    #[serde(default, deserialize_with = "loose::bool")]
    backup: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    require_verification: bool,
}

async fn start_rekey(core: Arc<Core>, input: Input<RekeyInitFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    core.require_unsealed()?;
    if !fields.pgp_keys.is_empty() || fields.backup {
        return Err(Error::invalid(
            "PGP-encrypted key shares (pgp_keys, backup) are not supported by this server",
        ));
    }
    if fields.require_verification {
        return Err(Error::invalid(
            "rekey verification (require_verification) is not supported by this server",
        ));
    }
    let (shares, threshold) = validated_shares(fields.secret_shares, fields.secret_threshold)?;
    Reply::raw(200, core.rekey_start(shares, threshold).await?)
}

async fn cancel_rekey(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    core.rekey_cancel().await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize)]
struct RekeyUpdateFields {
    #[serde(default, deserialize_with = "loose::string")]
    key: String,
    #[serde(default, deserialize_with = "loose::string")]
    nonce: String,
}

#[derive(Serialize)]
struct RekeyComplete<'a> {
    nonce: &'a str,
    complete: bool,
    keys: Vec<&'a str>,
    keys_base64: Vec<&'a str>,
    pgp_fingerprints: Option<Vec<String>>,
    backup: bool,
    verification_required: bool,
}

async fn update_rekey(core: Arc<Core>, input: Input<RekeyUpdateFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    core.require_unsealed()?;
    if fields.key.is_empty() {
        return Err(Error::invalid(
            "'key' must be specified in request body as JSON",
        ));
    }
    if fields.nonce.is_empty() {
        return Err(Error::invalid(
            "'nonce' must be specified in request body as JSON",
        ));
    }
    let share = shamir::parse_key_share(&fields.key).map_err(seal_error)?;
    match core.rekey_submit(share, &fields.nonce).await? {
        None => Reply::raw(200, core.rekey_status().await?),
        Some(outcome) => Reply::raw(
            200,
            RekeyComplete {
                nonce: &fields.nonce,
                complete: true,
                keys: outcome.keys_hex.iter().map(|key| key.as_str()).collect(),
                keys_base64: outcome.keys_base64.iter().map(|key| key.as_str()).collect(),
                pgp_fingerprints: None,
                backup: false,
                verification_required: false,
            },
        ),
    }
}
