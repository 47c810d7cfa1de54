//! `random(/:source)(/:bytes)` (Vault's `path_random.go` over `helper/random`).

use crate::crypto;
use crate::error::refused;
use crate::gobase64;
use crate::input::data_reply;
use crate::limits::{RANDOM_BYTES_DEFAULT, RANDOM_BYTES_MAX};
use crate::policy::go_atoi;
use crate::store::Transit;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("random/{source}/{urlbytes}")
            .write(random)
            .help("Generate random bytes"),
        Path::new("random/{source}")
            .write(random)
            .help("Generate random bytes"),
        Path::new("random")
            .write(random)
            .help("Generate random bytes"),
    ]
}

fn default_bytes() -> i64 {
    RANDOM_BYTES_DEFAULT
}

#[derive(Deserialize)]
struct Random {
    #[serde(default = "default_bytes", deserialize_with = "loose::int")]
    bytes: i64,
    #[serde(default, deserialize_with = "loose::string")]
    format: String,
}

fn valid_source(source: &str) -> bool {
    matches!(source, "" | "platform" | "seal" | "all")
}

async fn random(_transit: Arc<Transit>, input: Input<Random>) -> Result<Reply, Error> {
    let fields = input.fields;
    // Captures only: Vault's empty optional captures override the body's `source`.
    let source = input.captures.get("source");
    let url_bytes = input.captures.get("urlbytes");
    let bytes = match (source, url_bytes) {
        ("", _) => fields.bytes,
        (source, "") if valid_source(source) => fields.bytes,
        (source, "") => go_atoi(source).ok_or_else(|| {
            refused(format!(
                "error parsing url-set byte count: strconv.Atoi: parsing \"{source}\": invalid syntax"
            ))
        })?,
        (_, url_bytes) => go_atoi(url_bytes).ok_or_else(|| {
            refused(format!(
                "error parsing url-set byte count: strconv.Atoi: parsing \"{url_bytes}\": invalid syntax"
            ))
        })?,
    };
    if bytes < 1 {
        return Err(refused("'bytes' cannot be less than 1").into());
    }
    if bytes > RANDOM_BYTES_MAX {
        return Err(refused(format!("'bytes' should be less than {RANDOM_BYTES_MAX}")).into());
    }
    let format = match fields.format.as_str() {
        "" => "base64",
        other => other,
    };
    if format != "hex" && format != "base64" {
        return Err(refused(format!(
            "unsupported encoding format \"{format}\"; must be \"hex\" or \"base64\""
        ))
        .into());
    }
    let random = crypto::random_bytes(bytes as usize);
    let text = match format {
        "hex" => hex::encode(&*random),
        _ => gobase64::encode(&random),
    };
    Ok(data_reply(json!({"random_bytes": text}), Vec::new()))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn random_sizes_and_formats() {
        let transit = Harness::new();
        let text = transit
            .field(Update, "random", json!({}), "random_bytes")
            .await;
        assert_eq!(crate::gobase64::decode(&text).expect("b64").len(), 32);
        let text = transit
            .field(
                Update,
                "random/16",
                json!({"format": "hex"}),
                "random_bytes",
            )
            .await;
        assert_eq!(text.len(), 32);
        let text = transit
            .field(Update, "random/all/8", json!({}), "random_bytes")
            .await;
        assert_eq!(crate::gobase64::decode(&text).expect("b64").len(), 8);
        let rows = vec![
            (
                "random",
                json!({"bytes": 0}),
                Outcome::error(400, "'bytes' cannot be less than 1"),
            ),
            (
                "random",
                json!({"bytes": 131073}),
                Outcome::error(400, "'bytes' should be less than 131072"),
            ),
            (
                "random",
                json!({"format": "b32"}),
                Outcome::error(
                    400,
                    "unsupported encoding format \"b32\"; must be \"hex\" or \"base64\"",
                ),
            ),
        ];
        for (path, body, expected) in rows {
            transit.check(Update, path, body, expected).await;
        }
    }
}
