//! `datakey/:plaintext|wrapped/:name` (Vault's `path_datakey.go`): a fresh random key, returned
//! encrypted under the named key (and in the clear for `plaintext`).

use crate::crypto;
use crate::error::{OpError, TransitError, refused};
use crate::gobase64;
use crate::input::{check_name, data_reply};
use crate::path_encrypt::{NONCE_NOT_ALLOWED, associated_data, nonce_allowed};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("datakey/{plaintext}/{name}")
            .write(datakey)
            .help("Generate a data key"),
    ]
}

fn default_bits() -> i64 {
    256
}

#[derive(Deserialize)]
struct DataKey {
    name: String,
    plaintext: String,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
    #[serde(default, deserialize_with = "loose::string")]
    nonce: String,
    #[serde(default = "default_bits", deserialize_with = "loose::int")]
    bits: i64,
    #[serde(default, deserialize_with = "loose::int")]
    key_version: i64,
    #[serde(default, deserialize_with = "loose::string")]
    associated_data: String,
}

async fn datakey(transit: Arc<Transit>, input: Input<DataKey>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let plaintext_allowed = match fields.plaintext.as_str() {
        "plaintext" => true,
        "wrapped" => false,
        _ => return Err(refused("Invalid path, must be 'plaintext' or 'wrapped'").into()),
    };
    let context = match fields.context.is_empty() {
        true => Vec::new(),
        false => gobase64::decode(&fields.context)
            .map_err(|_| refused("failed to base64-decode context"))?,
    };
    let nonce = match fields.nonce.is_empty() {
        true => Vec::new(),
        false => {
            gobase64::decode(&fields.nonce).map_err(|_| refused("failed to base64-decode nonce"))?
        }
    };
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("encryption key not found").into());
    };
    let key_bytes = match fields.bits {
        128 => 16,
        256 => 32,
        512 => 64,
        _ => return Err(refused("invalid bit length").into()),
    };
    let new_key = crypto::random_bytes(key_bytes);
    let aad = associated_data(&policy, 0, &fields.associated_data)
        .map_err(|error| refused(error.message()))?;
    if !nonce.is_empty() && !nonce_allowed(&policy) {
        return Err(TransitError::Failed(NONCE_NOT_ALLOWED.to_string()).into());
    }
    let ciphertext = policy
        .encrypt(fields.key_version, &context, &nonce, &new_key, &aad)
        .map_err(|error| match error {
            OpError::User(message) => Error::from(refused(message)),
            other => TransitError::Failed(other.message().to_string()).into(),
        })?;
    let version = match fields.key_version {
        0 => policy.latest_version,
        version => version,
    };
    let mut data = json!({"ciphertext": ciphertext, "key_version": version});
    if plaintext_allowed {
        data["plaintext"] = json!(gobase64::encode(&new_key));
    }
    Ok(data_reply(data, Vec::new()))
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn datakey_ciphertext_decrypts_to_the_plaintext_key() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/k", json!({}), Outcome::Any)
            .await;
        let data = Harness::data(
            transit
                .call(Update, "datakey/plaintext/k", json!({"bits": 512}))
                .await,
        );
        let plaintext = data["plaintext"].as_str().expect("plaintext");
        assert_eq!(crate::gobase64::decode(plaintext).expect("b64").len(), 64);
        let decrypted = transit
            .field(
                Update,
                "decrypt/k",
                json!({"ciphertext": data["ciphertext"]}),
                "plaintext",
            )
            .await;
        assert_eq!(decrypted, plaintext);
        let data = Harness::data(transit.call(Update, "datakey/wrapped/k", json!({})).await);
        assert!(data.get("plaintext").is_none());
        transit
            .check(
                Update,
                "datakey/other/k",
                json!({}),
                Outcome::error(400, "Invalid path, must be 'plaintext' or 'wrapped'"),
            )
            .await;
        transit
            .check(
                Update,
                "datakey/wrapped/k",
                json!({"bits": 100}),
                Outcome::error(400, "invalid bit length"),
            )
            .await;
    }
}
