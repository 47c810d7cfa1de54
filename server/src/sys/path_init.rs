//! `sys/init` (INIT-01..08).

use super::NoFields;
use crate::core::{Core, InitRequest};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("init")
            .read(read_init)
            .write(write_init)
            .help("Initialize a new Vault: key shares and root token."),
    ]
}

#[derive(Serialize)]
struct InitStatus {
    initialized: bool,
}

/// `GET sys/init`: `{"initialized": bool}`, raw.
async fn read_init(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    Reply::raw(
        200,
        InitStatus {
            initialized: core.is_initialized().await?,
        },
    )
}

#[derive(Deserialize)]
struct InitFields {
    #[serde(default, deserialize_with = "loose::int")]
    secret_shares: i64,
    #[serde(default, deserialize_with = "loose::int")]
    secret_threshold: i64,
    #[serde(default, deserialize_with = "loose::comma_list")]
    pgp_keys: Vec<String>,
    #[serde(default, deserialize_with = "loose::string")]
    root_token_pgp_key: String,
    #[serde(default, deserialize_with = "loose::int")]
    recovery_shares: i64,
    #[serde(default, deserialize_with = "loose::int")]
    recovery_threshold: i64,
    #[serde(default, deserialize_with = "loose::comma_list")]
    recovery_pgp_keys: Vec<String>,
}

#[derive(Serialize)]
struct InitResponse<'a> {
    keys: Vec<&'a str>,
    keys_base64: Vec<&'a str>,
    root_token: &'a str,
}

/// `PUT sys/init`. Vault checks "already initialised" first, then the seal type's fields,
/// then the share configuration (with the `invalid seal configuration: ` prefix).
async fn write_init(core: Arc<Core>, input: Input<InitFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    if core.is_initialized().await? {
        return Err(Error::invalid("Vault is already initialized"));
    }
    if fields.recovery_shares != 0
        || fields.recovery_threshold != 0
        || !fields.recovery_pgp_keys.is_empty()
    {
        return Err(Error::invalid(format!(
            "parameters recovery_shares,recovery_threshold not applicable to seal type {}",
            core.seal_kind().seal_type()
        )));
    }
    let (secret_shares, secret_threshold) =
        validated_shares(fields.secret_shares, fields.secret_threshold)?;
    if !fields.pgp_keys.is_empty() || !fields.root_token_pgp_key.is_empty() {
        // Refused clearly rather than ignored: ignoring would hand out unencrypted shares to
        // a caller who asked for encrypted ones.
        return Err(Error::invalid(
            "invalid seal configuration: PGP-encrypted key shares (pgp_keys, root_token_pgp_key) are not supported by this server",
        ));
    }
    let outcome = core
        .initialize(InitRequest {
            secret_shares,
            secret_threshold,
            root_token_id: None,
        })
        .await?;
    Reply::raw(
        200,
        InitResponse {
            keys: outcome.keys_hex.iter().map(|key| key.as_str()).collect(),
            keys_base64: outcome.keys_base64.iter().map(|key| key.as_str()).collect(),
            root_token: &outcome.root_token,
        },
    )
}

/// Applies Vault's share rules in Vault's order, then narrows to `u8` (which cannot fail
/// once the rules passed).
pub(super) fn validated_shares(shares: i64, threshold: i64) -> Result<(u8, u8), Error> {
    let shares = usize::try_from(shares).unwrap_or(0);
    let threshold = usize::try_from(threshold).unwrap_or(0);
    tresor_seal::shamir::validate_shares(shares, threshold).map_err(crate::core::seal_error)?;
    let narrow = |value: usize| {
        u8::try_from(value)
            .map_err(|_| Error::internal("share count passed validation but exceeds 255"))
    };
    Ok((narrow(shares)?, narrow(threshold)?))
}
