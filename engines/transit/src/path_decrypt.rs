//! `decrypt/:name` (Vault's `path_decrypt.go`).

use crate::error::{OpError, refused};
use crate::input::{
    BatchItem, BatchOutcome, batch_items, batch_reply, check_name, data_reply, opt_int, present,
};
use crate::path_encrypt::{associated_data, decode_optional, single_error};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("decrypt/{name}")
            .write(decrypt)
            .help("Decrypt a ciphertext value using a named key"),
    ]
}

#[derive(Deserialize)]
struct Decrypt {
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    ciphertext: String,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
    #[serde(default, deserialize_with = "loose::string")]
    nonce: String,
    #[serde(default, deserialize_with = "loose::string")]
    associated_data: String,
    #[serde(default, deserialize_with = "opt_int")]
    partial_failure_response_code: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    batch_input: Option<Value>,
}

async fn decrypt(transit: Arc<Transit>, input: Input<Decrypt>) -> Result<Reply, Error> {
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
            single.insert("associated_data".into(), json!(fields.associated_data));
            vec![BatchItem::from_fields(single)]
        }
    };
    let context_set = !items[0].text("context").is_empty();
    let mut outcome = BatchOutcome::default();
    let mut contexts = Vec::with_capacity(items.len());
    for item in &items {
        if item.text("context").is_empty() == context_set {
            return Err(refused(
                "context should be set either in all the request blocks or in none",
            )
            .into());
        }
        let prepared = match item.text("ciphertext").is_empty() {
            true => Err("missing ciphertext to decrypt".to_string()),
            false => decode_optional(&item.text("context"))
                .and_then(|context| decode_optional(&item.text("nonce")).map(|_| context)),
        };
        if prepared.is_err() {
            outcome.user_error = true;
        }
        contexts.push(prepared);
    }
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("encryption key not found").into());
    };
    let mut results = Vec::with_capacity(items.len());
    for (index, (item, context)) in items.iter().zip(contexts).enumerate() {
        let result = context.map_err(OpError::User).and_then(|context| {
            let aad = associated_data(&policy, index, &item.text("associated_data"))?;
            policy.decrypt(&context, &item.text("ciphertext"), &aad)
        });
        let mut out = Map::new();
        match result {
            Ok(plaintext) => {
                outcome.successes = true;
                out.insert(
                    "plaintext".into(),
                    json!(crate::gobase64::encode(&plaintext)),
                );
            }
            Err(error) => {
                match error {
                    OpError::Internal(_) => outcome.internal_error = true,
                    _ => outcome.user_error = true,
                }
                if !is_batch {
                    return Err(single_error(error));
                }
                out.insert("plaintext".into(), json!(""));
                out.insert("error".into(), json!(error.message()));
            }
        }
        if is_batch {
            out.insert("reference".into(), json!(item.text("reference")));
        }
        results.push(Value::Object(out));
    }
    if !is_batch {
        return Ok(data_reply(results.pop().expect("one item"), Vec::new()));
    }
    Ok(batch_reply(
        json!({"batch_results": results}),
        Vec::new(),
        &outcome,
        fields.partial_failure_response_code,
    ))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn decrypt_refuses_bad_ciphertexts_with_vaults_text() {
        let transit = Harness::new();
        transit
            .check(
                Update,
                "decrypt/k",
                json!({"ciphertext": "vault:v1:AAAA"}),
                Outcome::error(400, "encryption key not found"),
            )
            .await;
        transit
            .check(Update, "keys/k", json!({}), Outcome::Any)
            .await;
        transit
            .check(Update, "keys/other", json!({}), Outcome::Any)
            .await;
        let foreign = transit
            .field(
                Update,
                "encrypt/other",
                json!({"plaintext": "aGk="}),
                "ciphertext",
            )
            .await;
        let rows = vec![
            (
                json!({}),
                Outcome::error(400, "missing ciphertext to decrypt"),
            ),
            (
                json!({"ciphertext": "v1:abc"}),
                Outcome::error(400, "invalid ciphertext: no prefix"),
            ),
            (
                json!({"ciphertext": "vault:v9:AAAA"}),
                Outcome::error(400, "invalid ciphertext: version is too new"),
            ),
            (
                json!({"ciphertext": "vault:v1:%%%"}),
                Outcome::error(400, "invalid ciphertext: could not decode base64"),
            ),
            (
                json!({"ciphertext": foreign.clone()}),
                Outcome::error(400, "cipher: message authentication failed"),
            ),
            (
                json!({"ciphertext": foreign, "associated_data": "YQ=="}),
                Outcome::error(400, "cipher: message authentication failed"),
            ),
        ];
        for (body, expected) in rows {
            transit.check(Update, "decrypt/k", body, expected).await;
        }
    }

    #[tokio::test]
    async fn associated_data_binds_ciphertexts() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/k", json!({}), Outcome::Any)
            .await;
        let ciphertext = transit
            .field(
                Update,
                "encrypt/k",
                json!({"plaintext": "aGk=", "associated_data": "YWQ="}),
                "ciphertext",
            )
            .await;
        transit
            .check(
                Update,
                "decrypt/k",
                json!({"ciphertext": ciphertext.clone(), "associated_data": "YWQ="}),
                Outcome::ok(r#"{"plaintext":"aGk="}"#),
            )
            .await;
        transit
            .check(
                Update,
                "decrypt/k",
                json!({"ciphertext": ciphertext}),
                Outcome::error(400, "cipher: message authentication failed"),
            )
            .await;
    }
}
