//! `keys/:name/config` (Vault's `path_config.go`): version windows, deletion, one-way export
//! flags and auto-rotation. On any error nothing is stored.

use crate::error::refused;
use crate::input::{check_name, opt_int};
use crate::limits::AUTO_ROTATE_PERIOD_SECONDS_MIN;
use crate::path_keys::format_key;
use crate::store::Transit;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("keys/{name}/config")
            .write(write_config)
            .help("Configure a named encryption key"),
    ]
}

#[derive(Deserialize)]
struct WriteConfig {
    name: String,
    #[serde(default, deserialize_with = "opt_int")]
    min_decryption_version: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    min_encryption_version: Option<i64>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    deletion_allowed: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    exportable: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    allow_plaintext_backup: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    auto_rotate_period: Option<u64>,
}

/// Vault's text, which still names Vault 0.3.
const FORCED_MINIMUM: &str =
    "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1";

async fn write_config(transit: Arc<Transit>, input: Input<WriteConfig>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let _guard = transit.lock_key(&fields.name).await;
    let Some(current) = transit.policy(&fields.name).await? else {
        return Err(refused(format!(
            "no existing key named {} could be found",
            fields.name
        ))
        .into());
    };
    let mut policy = (*current).clone();
    let mut warning = None;
    let mut persist = false;
    if let Some(mut version) = fields.min_decryption_version {
        if version < 0 {
            return Err(refused("min decryption version cannot be negative").into());
        }
        if version == 0 {
            version = 1;
            warning = Some(FORCED_MINIMUM);
        }
        if version != policy.min_decryption_version {
            if version > policy.latest_version {
                return Err(refused(format!(
                    "cannot set min decryption version of {version}, latest key version is {}",
                    policy.latest_version
                ))
                .into());
            }
            policy.min_decryption_version = version;
            persist = true;
        }
    }
    if let Some(version) = fields.min_encryption_version {
        if version < 0 {
            return Err(refused("min encryption version cannot be negative").into());
        }
        if version != policy.min_encryption_version {
            if version > policy.latest_version {
                return Err(refused(format!(
                    "cannot set min encryption version of {version}, latest key version is {}",
                    policy.latest_version
                ))
                .into());
            }
            policy.min_encryption_version = version;
            persist = true;
        }
    }
    if policy.min_encryption_version > 0
        && policy.min_encryption_version < policy.min_decryption_version
    {
        return Err(refused(format!(
            "cannot set min encryption/decryption values; min encryption version of {} must be greater than or equal to min decryption version of {}",
            policy.min_encryption_version, policy.min_decryption_version
        ))
        .into());
    }
    if let Some(allowed) = fields.deletion_allowed
        && allowed != policy.deletion_allowed
    {
        policy.deletion_allowed = allowed;
        persist = true;
    }
    if policy.min_decryption_version == 0 {
        policy.min_decryption_version = 1;
        persist = true;
    }
    // One-way flags: `false` never unsets them.
    if fields.exportable == Some(true) && !policy.exportable {
        policy.exportable = true;
        persist = true;
    }
    if fields.allow_plaintext_backup == Some(true) && !policy.allow_plaintext_backup {
        policy.allow_plaintext_backup = true;
        persist = true;
    }
    if let Some(seconds) = fields.auto_rotate_period {
        if seconds != 0 && seconds < AUTO_ROTATE_PERIOD_SECONDS_MIN {
            return Err(
                refused("auto rotate period must be 0 to disable or at least an hour").into(),
            );
        }
        let nanos = (seconds as i64).saturating_mul(1_000_000_000);
        if nanos != policy.auto_rotate_period {
            policy.auto_rotate_period = nanos;
            persist = true;
        }
    }
    if persist {
        if policy.min_available_version > policy.min_encryption_version {
            return Err(refused(
                "min encryption version should not be less than min available version",
            )
            .into());
        }
        if policy.min_available_version > policy.min_decryption_version {
            return Err(refused(
                "min decryption version should not be less then min available version",
            )
            .into());
        }
        transit.put_policy(&policy).await?;
    }
    let reply = format_key(&policy, &[])?;
    Ok(match warning {
        Some(warning) => reply.with_warning(warning),
        None => reply,
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn config_validates_and_rolls_back() {
        let transit = Harness::new();
        transit
            .check(
                Update,
                "keys/k/config",
                json!({}),
                Outcome::error(400, "no existing key named k could be found"),
            )
            .await;
        transit
            .check(Update, "keys/k", json!({}), Outcome::Any)
            .await;
        transit
            .check(Update, "keys/k/rotate", json!({}), Outcome::Any)
            .await;
        let rows = vec![
            (
                json!({"min_decryption_version": 3}),
                Outcome::error(
                    400,
                    "cannot set min decryption version of 3, latest key version is 2",
                ),
            ),
            (
                json!({"min_encryption_version": 3}),
                Outcome::error(
                    400,
                    "cannot set min encryption version of 3, latest key version is 2",
                ),
            ),
            (
                json!({"min_decryption_version": 2, "min_encryption_version": 1}),
                Outcome::error(
                    400,
                    "cannot set min encryption/decryption values; min encryption version of 1 must be greater than or equal to min decryption version of 2",
                ),
            ),
        ];
        for (body, expected) in rows {
            transit.check(Update, "keys/k/config", body, expected).await;
        }
        let reply = transit
            .call(
                Update,
                "keys/k/config",
                json!({"min_decryption_version": 0, "exportable": true}),
            )
            .await;
        assert_eq!(
            Harness::warnings(&reply),
            vec![super::FORCED_MINIMUM.to_string()]
        );
        let data = Harness::data(reply);
        assert_eq!(data["min_decryption_version"], 1);
        assert_eq!(data["exportable"], true);
        let data = Harness::data(
            transit
                .call(
                    Update,
                    "keys/k/config",
                    json!({"exportable": false, "auto_rotate_period": "2h"}),
                )
                .await,
        );
        assert_eq!(data["exportable"], true);
        assert_eq!(data["auto_rotate_period"], 7200);
    }
}
