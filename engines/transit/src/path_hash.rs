//! `hash(/:algorithm)` (Vault's `path_hash.go`).

use crate::crypto::HashAlgorithm;
use crate::error::refused;
use crate::gobase64;
use crate::input::{data_reply, present_string};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("hash/{urlalgorithm}")
            .write(hash)
            .help("Generate a hash sum for input data"),
        Path::new("hash")
            .write(hash)
            .help("Generate a hash sum for input data"),
    ]
}

#[derive(Deserialize)]
struct Hash {
    #[serde(default, deserialize_with = "present_string")]
    input: Option<String>,
    #[serde(default, deserialize_with = "loose::string")]
    format: String,
    #[serde(default, deserialize_with = "loose::string")]
    urlalgorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    algorithm: String,
}

async fn hash(_transit: Arc<Transit>, input: Input<Hash>) -> Result<Reply, Error> {
    let fields = input.fields;
    let Some(text) = fields.input else {
        return Err(refused("input missing").into());
    };
    let algorithm = match (fields.urlalgorithm.as_str(), fields.algorithm.as_str()) {
        ("", "") => "sha2-256",
        ("", field) => field,
        (url, _) => url,
    };
    let format = match fields.format.as_str() {
        "" => "hex",
        other => other,
    };
    let bytes = gobase64::decode(&text)
        .map_err(|error| refused(format!("unable to decode input as base64: {error}")))?;
    if format != "hex" && format != "base64" {
        return Err(refused(format!(
            "unsupported encoding format {format}; must be \"hex\" or \"base64\""
        ))
        .into());
    }
    let sum = match HashAlgorithm::parse(algorithm) {
        Some(HashAlgorithm::None | HashAlgorithm::Sha1) | None => {
            return Err(refused(format!("unsupported algorithm {algorithm}")).into());
        }
        Some(hash) => hash.digest(&bytes).expect("a real hash"),
    };
    let sum = match format {
        "hex" => hex::encode(sum),
        _ => gobase64::encode(&sum),
    };
    Ok(data_reply(json!({"sum": sum}), Vec::new()))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn hash_matches_known_digests() {
        let transit = Harness::new();
        let rows = vec![
            (
                "hash",
                json!({"input": "aGk="}),
                Outcome::ok(
                    r#"{"sum":"8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"}"#,
                ),
            ),
            (
                "hash/sha3-256",
                json!({"input": "", "format": "base64"}),
                Outcome::ok(r#"{"sum":"p//G+L8e12ZRwUdWoGHWYvWA/03kO0n6gtgKS4D4Q0o="}"#),
            ),
            ("hash", json!({}), Outcome::error(400, "input missing")),
            (
                "hash/md5",
                json!({"input": ""}),
                Outcome::error(400, "unsupported algorithm md5"),
            ),
            (
                "hash",
                json!({"input": "", "format": "b32"}),
                Outcome::error(
                    400,
                    "unsupported encoding format b32; must be \"hex\" or \"base64\"",
                ),
            ),
        ];
        for (path, body, expected) in rows {
            transit.check(Update, path, body, expected).await;
        }
    }
}
