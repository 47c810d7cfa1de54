//! `config/keys` (Vault's `path_config_keys.go`): `disable_upsert`, which stops `encrypt`
//! from creating missing keys.

use crate::input::data_reply;
use crate::store::{CONFIG_KEYS, KeysConfig, Transit};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("config/keys")
            .read(read)
            .write(write)
            .help("Configuration common across all keys"),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

async fn read(transit: Arc<Transit>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let config: KeysConfig = transit.record(CONFIG_KEYS).await?;
    Ok(data_reply(
        json!({"disable_upsert": config.disable_upsert}),
        Vec::new(),
    ))
}

#[derive(Deserialize)]
struct Write {
    #[serde(default, deserialize_with = "loose::opt_bool")]
    disable_upsert: Option<bool>,
}

async fn write(transit: Arc<Transit>, input: Input<Write>) -> Result<Reply, Error> {
    let mut config: KeysConfig = transit.record(CONFIG_KEYS).await?;
    if let Some(disable) = input.fields.disable_upsert {
        config.disable_upsert = disable;
        transit.put_record(CONFIG_KEYS, &config).await?;
    }
    Ok(data_reply(
        json!({"disable_upsert": config.disable_upsert}),
        Vec::new(),
    ))
}
