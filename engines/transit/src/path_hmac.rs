//! `hmac/:name(/:algorithm)` (Vault's `path_hmac.go`), and the HMAC half of `verify`.

use crate::crypto::HashAlgorithm;
use crate::error::refused;
use crate::gobase64;
use crate::input::{BatchItem, batch_items, check_name, data_reply, present, present_string};
use crate::path_sign_verify::SignFields;
use crate::policy::go_atoi;
use crate::store::Transit;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("hmac/{name}/{urlalgorithm}")
            .write(hmac)
            .help("Generate an HMAC for input data using the named key"),
        Path::new("hmac/{name}")
            .write(hmac)
            .help("Generate an HMAC for input data using the named key"),
    ]
}

#[derive(Deserialize)]
struct HmacFields {
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    urlalgorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    algorithm: String,
    #[serde(default, deserialize_with = "present_string")]
    input: Option<String>,
    #[serde(default, deserialize_with = "loose::int")]
    key_version: i64,
    #[serde(default, deserialize_with = "present")]
    batch_input: Option<Value>,
}

fn algorithm(url: &str, field: &str) -> Result<HashAlgorithm, Error> {
    let name = match (url, field) {
        ("", "") => "sha2-256",
        ("", field) => field,
        (url, _) => url,
    };
    match HashAlgorithm::parse(name) {
        Some(hash) if hash != HashAlgorithm::None => Ok(hash),
        // Vault formats the unparsed hash type (0) with %q.
        _ => Err(refused("unsupported algorithm '\\x00'").into()),
    }
}

async fn hmac(transit: Arc<Transit>, input: Input<HmacFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("encryption key not found").into());
    };
    let version = match fields.key_version {
        0 => policy.latest_version,
        version if version == policy.latest_version => version,
        version if policy.min_encryption_version > 0 && version < policy.min_encryption_version => {
            return Err(
                refused("cannot generate HMAC: version is too old (disallowed by policy)").into(),
            );
        }
        version => version,
    };
    let key = policy.hmac_key(version).map_err(refused)?;
    let hash = algorithm(&fields.urlalgorithm, &fields.algorithm)?;
    let batch = batch_items(&fields.batch_input)?;
    let is_batch = batch.is_some();
    let items = match batch {
        Some(items) => items,
        None => {
            let Some(text) = fields.input.clone() else {
                return Err(refused("missing input for HMAC").into());
            };
            let mut single = Map::new();
            single.insert("input".into(), json!(text));
            vec![BatchItem::from_fields(single)]
        }
    };
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let result = match item.get("input") {
            None => Err("missing input for HMAC".to_string()),
            Some(text) => gobase64::decode(&text)
                .map_err(|error| format!("unable to decode input as base64: {error}")),
        };
        let mut out = Map::new();
        match result {
            Ok(bytes) => {
                let mac = hash.hmac(&key, &bytes).expect("a real hash");
                out.insert(
                    "hmac".into(),
                    json!(format!("vault:v{version}:{}", gobase64::encode(&mac))),
                );
            }
            Err(message) => {
                if !is_batch {
                    return Err(refused(message).into());
                }
                out.insert("error".into(), json!(message));
            }
        }
        if is_batch {
            out.insert("reference".into(), json!(item.text("reference")));
        }
        results.push(Value::Object(out));
    }
    let data = match is_batch {
        true => json!({"batch_results": results}),
        false => results.pop().expect("one item"),
    };
    Ok(data_reply(data, Vec::new()))
}

/// `pathHMACVerify`: constant-time comparison; batch items omit `valid` when false.
pub async fn verify_hmac(
    transit: &Transit,
    fields: &SignFields,
    items: Vec<BatchItem>,
    is_batch: bool,
) -> Result<Reply, Error> {
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("encryption key not found").into());
    };
    let hash = algorithm(&fields.urlalgorithm, &fields.algorithm)?;
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let result = (|| -> Result<bool, String> {
            let input = item.get("input").ok_or("missing input")?;
            let input = gobase64::decode(&input)
                .map_err(|error| format!("unable to decode input as base64: {error}"))?;
            let mac = item.get("hmac").ok_or("missing hmac")?;
            let rest = mac
                .strip_prefix("vault:v")
                .ok_or("invalid HMAC to verify: no prefix")?;
            let (version, body) = rest
                .split_once(':')
                .ok_or("invalid HMAC: wrong number of fields")?;
            let version =
                go_atoi(version).ok_or("invalid HMAC: version number could not be decoded")?;
            let expected = gobase64::decode(body).map_err(|error| {
                format!("unable to decode verification HMAC as base64: {error}")
            })?;
            if version > policy.latest_version {
                return Err("invalid HMAC: version is too new".into());
            }
            if policy.min_decryption_version > 0 && version < policy.min_decryption_version {
                return Err("cannot verify HMAC: version is too old (disallowed by policy)".into());
            }
            let key = policy.hmac_key(version)?;
            let actual = hash.hmac(&key, &input).expect("a real hash");
            Ok(actual.ct_eq(&expected).into())
        })();
        let mut out = Map::new();
        match result {
            Ok(valid) => {
                if valid || !is_batch {
                    out.insert("valid".into(), json!(valid));
                }
            }
            Err(message) => {
                if !is_batch {
                    return Err(refused(message).into());
                }
                out.insert("error".into(), json!(message));
            }
        }
        if is_batch {
            out.insert("reference".into(), json!(item.text("reference")));
        }
        results.push(Value::Object(out));
    }
    let data = match is_batch {
        true => json!({"batch_results": results}),
        false => results.pop().expect("one item"),
    };
    Ok(data_reply(data, Vec::new()))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn hmac_uses_the_versions_hmac_key_and_verifies() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/k", json!({"exportable": true}), Outcome::Any)
            .await;
        let mac = transit
            .field(Update, "hmac/k/sha2-512", json!({"input": "aGk="}), "hmac")
            .await;
        let exported = Harness::data(
            transit
                .call(
                    tresor_framework::Operation::Read,
                    "export/hmac-key/k/1",
                    json!({}),
                )
                .await,
        );
        let key =
            crate::gobase64::decode(exported["keys"]["1"].as_str().expect("key")).expect("b64");
        let expected = crate::crypto::HashAlgorithm::Sha2_512
            .hmac(&key, b"hi")
            .expect("hash");
        assert_eq!(
            mac,
            format!("vault:v1:{}", crate::gobase64::encode(&expected))
        );
        transit
            .check(
                Update,
                "verify/k/sha2-512",
                json!({"input": "aGk=", "hmac": mac.clone()}),
                Outcome::ok(r#"{"valid":true}"#),
            )
            .await;
        transit
            .check(
                Update,
                "verify/k",
                json!({"input": "aGk=", "hmac": mac}),
                Outcome::ok(r#"{"valid":false}"#),
            )
            .await;
        let rows = vec![
            (
                "hmac/k",
                json!({}),
                Outcome::error(400, "missing input for HMAC"),
            ),
            (
                "hmac/k/md5",
                json!({"input": ""}),
                Outcome::error(400, "unsupported algorithm '\\x00'"),
            ),
            (
                "hmac/k",
                json!({"input": "", "key_version": 5}),
                Outcome::error(400, "key version does not exist; latest key version is 1"),
            ),
            (
                "hmac/nope",
                json!({"input": ""}),
                Outcome::error(400, "encryption key not found"),
            ),
            (
                "verify/k",
                json!({"input": "", "hmac": "abc"}),
                Outcome::error(400, "invalid HMAC to verify: no prefix"),
            ),
        ];
        for (path, body, expected) in rows {
            transit.check(Update, path, body, expected).await;
        }
    }
}
