//! `cache-config` (Vault's `path_cache_config.go`). The size is stored and reported; this
//! engine's cache (see `store.rs`) is checked against storage on every use, so the size only
//! bounds nothing visible.

use crate::error::refused;
use crate::input::data_reply;
use crate::limits::CACHE_SIZE_MIN;
use crate::store::{CONFIG_CACHE, CacheConfig, Transit};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("cache-config")
            .read(read)
            .write(write)
            .help("Configures settings related to the Transit Secrets Engine's cache."),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

async fn read(transit: Arc<Transit>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let config: CacheConfig = transit.record(CONFIG_CACHE).await?;
    Ok(data_reply(json!({"size": config.size}), Vec::new()))
}

#[derive(Deserialize)]
struct Write {
    #[serde(default, deserialize_with = "loose::int")]
    size: i64,
}

async fn write(transit: Arc<Transit>, input: Input<Write>) -> Result<Reply, Error> {
    let size = input.fields.size;
    if size < 0 {
        return Err(refused("size must be greater or equal to 0").into());
    }
    if size != 0 && size < CACHE_SIZE_MIN {
        return Err(refused(format!(
            "size must be 0 or a value greater or equal to {CACHE_SIZE_MIN}"
        ))
        .into());
    }
    transit
        .put_record(CONFIG_CACHE, &CacheConfig { size })
        .await?;
    Ok(data_reply(
        json!({"size": size}),
        vec!["cache configurations will be applied when this backend is restarted".to_string()],
    ))
}
