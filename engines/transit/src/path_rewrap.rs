//! `rewrap/:name` (Vault's `path_rewrap.go`): decrypt and re-encrypt with the latest (or the
//! given) version. Item errors never change the status (200); failures that are not user
//! errors (an authentication failure included) fail the whole request with 500, as in Vault.

use crate::error::{OpError, TransitError, refused};
use crate::input::{BatchItem, batch_items, check_name, data_reply, present};
use crate::path_encrypt::{NONCE_NOT_ALLOWED, decode_optional, nonce_allowed};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("rewrap/{name}")
            .write(rewrap)
            .help("Rewrap ciphertext"),
    ]
}

#[derive(Deserialize)]
struct Rewrap {
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    ciphertext: String,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
    #[serde(default, deserialize_with = "loose::string")]
    nonce: String,
    #[serde(default, deserialize_with = "loose::int")]
    key_version: i64,
    #[serde(default, deserialize_with = "present")]
    batch_input: Option<Value>,
}

async fn rewrap(transit: Arc<Transit>, input: Input<Rewrap>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let batch = batch_items(&fields.batch_input)?;
    let is_batch = batch.is_some();
    let items = match batch {
        Some(items) => items,
        None => {
            if fields.ciphertext.is_empty() {
                return Err(refused("missing ciphertext to decrypt").into());
            }
            let mut single = Map::new();
            single.insert("ciphertext".into(), json!(fields.ciphertext));
            single.insert("context".into(), json!(fields.context));
            single.insert("nonce".into(), json!(fields.nonce));
            single.insert("key_version".into(), json!(fields.key_version));
            vec![BatchItem::from_fields(single)]
        }
    };
    let context_set = !items[0].text("context").is_empty();
    let mut prepared = Vec::with_capacity(items.len());
    for item in &items {
        if item.text("context").is_empty() == context_set {
            return Err(refused(
                "context should be set either in all the request blocks or in none",
            )
            .into());
        }
        let entry = match item.text("ciphertext").is_empty() {
            true => Err("missing ciphertext to decrypt".to_string()),
            false => decode_optional(&item.text("context")).and_then(|context| {
                decode_optional(&item.text("nonce")).map(|nonce| (context, nonce))
            }),
        };
        prepared.push((entry, item.int("key_version")?));
    }
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("encryption key not found").into());
    };
    let mut results = Vec::with_capacity(items.len());
    for (item, (entry, key_version)) in items.iter().zip(prepared) {
        let mut out = Map::new();
        let result = match entry {
            Err(error) => Err(error),
            Ok((_, nonce)) if !nonce.is_empty() && !nonce_allowed(&policy) => {
                Err(NONCE_NOT_ALLOWED.to_string())
            }
            Ok((context, nonce)) => {
                let plaintext = match policy.decrypt(&context, &item.text("ciphertext"), &[]) {
                    Ok(plaintext) => Ok(plaintext),
                    Err(OpError::User(message)) => Err(message),
                    Err(other) => {
                        return Err(TransitError::Failed(other.message().to_string()).into());
                    }
                };
                match plaintext {
                    Err(message) => Err(message),
                    Ok(plaintext) => {
                        match policy.encrypt(key_version, &context, &nonce, &plaintext, &[]) {
                            Ok(ciphertext) => Ok(ciphertext),
                            Err(OpError::User(message)) => Err(message),
                            Err(other) => {
                                return Err(
                                    TransitError::Failed(other.message().to_string()).into()
                                );
                            }
                        }
                    }
                }
            }
        };
        match result {
            Ok(ciphertext) => {
                let version = match key_version {
                    0 => policy.latest_version,
                    version => version,
                };
                out.insert("ciphertext".into(), json!(ciphertext));
                out.insert("key_version".into(), json!(version));
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
    async fn rewrap_moves_ciphertexts_to_the_latest_version() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/k", json!({}), Outcome::Any)
            .await;
        let old = transit
            .field(
                Update,
                "encrypt/k",
                json!({"plaintext": "aGk="}),
                "ciphertext",
            )
            .await;
        transit
            .check(Update, "keys/k/rotate", json!({}), Outcome::Any)
            .await;
        let new = transit
            .field(Update, "rewrap/k", json!({"ciphertext": old}), "ciphertext")
            .await;
        assert!(new.starts_with("vault:v2:"));
        transit
            .check(
                Update,
                "decrypt/k",
                json!({"ciphertext": new}),
                Outcome::ok(r#"{"plaintext":"aGk="}"#),
            )
            .await;
        let reply = transit
            .call(
                Update,
                "rewrap/k",
                json!({"batch_input": [{"ciphertext": "bad"}]}),
            )
            .await;
        assert_eq!(Harness::status(&reply), 200);
        assert_eq!(
            Harness::data(reply),
            json!({"batch_results": [{"error": "invalid ciphertext: no prefix", "reference": ""}]})
        );
    }
}
