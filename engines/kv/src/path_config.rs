//! `<mount>/config` (Vault's `path_config.go`, KV-16): mount-wide `max_versions`,
//! `cas_required` and `delete_version_after`.

use crate::input::{checked_max_versions, opt_signed_seconds};
use crate::store::Kv;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("config")
            .read(read_config)
            .write(write_config)
            .help("Configures settings for the KV store"),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

/// vaultrs requires all three fields.
#[derive(Serialize)]
struct ConfigReply {
    cas_required: bool,
    /// Go's `Duration.String()`: `"0s"` when unset, `"-1s"` when disabled.
    delete_version_after: String,
    max_versions: u32,
}

async fn read_config(kv: Arc<Kv>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let config = kv.config().await?;
    Reply::data(ConfigReply {
        cas_required: config.cas_required,
        delete_version_after: signed_go_duration(config.delete_version_after_seconds),
        max_versions: config.max_versions,
    })
}

pub fn signed_go_duration(seconds: i64) -> String {
    match seconds < 0 {
        true => format!("-{}", loose::format_go_duration(seconds.unsigned_abs())),
        false => loose::format_go_duration(seconds.unsigned_abs()),
    }
}

#[derive(Deserialize)]
struct WriteConfig {
    #[serde(default, deserialize_with = "loose::opt_int")]
    max_versions: Option<i64>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    cas_required: Option<bool>,
    /// Negative disables `delete_version_after` on every key; zero clears it.
    #[serde(default, deserialize_with = "opt_signed_seconds")]
    delete_version_after: Option<i64>,
}

/// `POST <mount>/config`: only the fields sent change; 204.
async fn write_config(kv: Arc<Kv>, input: Input<WriteConfig>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.max_versions.is_none()
        && fields.cas_required.is_none()
        && fields.delete_version_after.is_none()
    {
        return Ok(Reply::NoContent);
    }
    let max_versions = fields.max_versions.map(checked_max_versions).transpose()?;
    let _config_guard = kv.lock_config().await;
    let mut config = kv.config().await?;
    if let Some(max_versions) = max_versions {
        config.max_versions = max_versions;
    }
    if let Some(cas_required) = fields.cas_required {
        config.cas_required = cas_required;
    }
    if let Some(seconds) = fields.delete_version_after {
        // Vault keeps every negative value as one "disabled" marker, -1s.
        config.delete_version_after_seconds = seconds.max(-1);
    }
    kv.put_config(&config).await.map_err(Error::from)?;
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Read, Update};

    #[tokio::test]
    async fn kv2_config_reads_writes_and_validates() {
        // Goal: KV-16 and its loose typing. Method: bao's answers as rows.
        let kv = Harness::new(KvVersion::V2);
        let rows = vec![
            (
                Read,
                json!({}),
                Outcome::ok(
                    r#"{"cas_required":false,"delete_version_after":"0s","max_versions":0}"#,
                ),
            ),
            (Update, json!({}), Outcome::NoContent),
            (
                Update,
                json!({"cas_required": "true", "max_versions": "5", "delete_version_after": "1h"}),
                Outcome::NoContent,
            ),
            (
                Read,
                json!({}),
                Outcome::ok(
                    r#"{"cas_required":true,"delete_version_after":"1h0m0s","max_versions":5}"#,
                ),
            ),
            (
                Update,
                json!({"cas_required": false, "delete_version_after": "-5s"}),
                Outcome::NoContent,
            ),
            (
                Read,
                json!({}),
                Outcome::ok(
                    r#"{"cas_required":false,"delete_version_after":"-1s","max_versions":5}"#,
                ),
            ),
            (
                Update,
                json!({"delete_version_after": 0}),
                Outcome::NoContent,
            ),
            (
                Read,
                json!({}),
                Outcome::ok(
                    r#"{"cas_required":false,"delete_version_after":"0s","max_versions":5}"#,
                ),
            ),
            (
                Update,
                json!({"max_versions": "x"}),
                Outcome::error(
                    400,
                    "Field validation failed: error converting input for field \"max_versions\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax",
                ),
            ),
            (
                Update,
                json!({"max_versions": 1001}),
                Outcome::error(400, "max_versions must be at most 1000"),
            ),
            (Update, json!({"max_versions": 1000}), Outcome::NoContent),
        ];
        for (operation, body, expected) in rows {
            kv.check(operation, "config", body, expected).await;
        }
    }
}
