//! `encrypt/:name` (Vault's `path_encrypt.go`): single and batch encryption, with upsert of a
//! missing key when the write is a `create` (the ACL decides that through the existence check).

use crate::error::{OpError, TransitError, refused};
use crate::gobase64;
use crate::input::{
    BatchItem, BatchOutcome, batch_items, batch_reply, check_name, data_reply, opt_int, present,
    present_string,
};
use crate::key_type::KeyType;
use crate::path_keys::check_derivation;
use crate::policy::{NewPolicy, Policy};
use crate::store::{CONFIG_KEYS, KeysConfig, Transit};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Captures, Error, Input, Operation, Path, Reply, Request, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("encrypt/{name}")
            .write(encrypt)
            .exists(exists)
            .help("Encrypt a plaintext value or a batch of plaintext blocks using a named key"),
    ]
}

/// `pathEncryptExistenceCheck`: a write to a missing key is a `create` (upsert).
async fn exists(
    transit: Arc<Transit>,
    _request: Request,
    captures: Captures,
) -> Result<bool, Error> {
    let name = captures.get("name");
    if check_name(name).is_err() {
        return Ok(true);
    }
    Ok(transit.policy(name).await?.is_some())
}

#[derive(Deserialize)]
struct Encrypt {
    name: String,
    #[serde(default, deserialize_with = "present_string")]
    plaintext: Option<String>,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
    #[serde(default, deserialize_with = "loose::string")]
    nonce: String,
    #[serde(default, deserialize_with = "loose::int")]
    key_version: i64,
    #[serde(default, deserialize_with = "loose::string")]
    associated_data: String,
    #[serde(rename = "type", default, deserialize_with = "loose::string")]
    key_type: String,
    #[serde(default, deserialize_with = "loose::bool")]
    convergent_encryption: bool,
    #[serde(default, deserialize_with = "opt_int")]
    partial_failure_response_code: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    batch_input: Option<Value>,
}

/// One item after the input checks Vault runs before it loads the key.
#[derive(Default)]
pub struct Prepared {
    pub plaintext: String,
    pub context: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_version: i64,
    pub associated_data: String,
    pub reference: String,
    pub error: Option<String>,
}

const RACE_WARNING: &str =
    "Attempted creation of the key during the encrypt operation, but it was created beforehand";

/// Vault's `ErrNonceNotAllowed`.
pub const NONCE_NOT_ALLOWED: &str = "provided nonce not allowed for this key";

/// `nonceAllowed`: only convergent version 1 keys take a caller's nonce.
pub fn nonce_allowed(policy: &Policy) -> bool {
    policy.key_type.is_symmetric() && policy.convergent_encryption && policy.convergent_version == 1
}

async fn encrypt(transit: Arc<Transit>, input: Input<Encrypt>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let batch = batch_items(&fields.batch_input)?;
    let is_batch = batch.is_some();
    let items = match batch {
        Some(items) => items,
        None => {
            let Some(plaintext) = fields.plaintext.clone() else {
                return Err(refused("missing plaintext to encrypt").into());
            };
            let mut single = Map::new();
            single.insert("plaintext".into(), json!(plaintext));
            single.insert("context".into(), json!(fields.context));
            single.insert("nonce".into(), json!(fields.nonce));
            single.insert("key_version".into(), json!(fields.key_version));
            single.insert("associated_data".into(), json!(fields.associated_data));
            vec![BatchItem::from_fields(single)]
        }
    };
    let context_set = !items[0].text("context").is_empty();
    let mut outcome = BatchOutcome::default();
    let mut prepared = Vec::with_capacity(items.len());
    for item in &items {
        if item.text("context").is_empty() == context_set {
            return Err(refused(
                "context should be set either in all the request blocks or in none",
            )
            .into());
        }
        let mut entry = Prepared {
            plaintext: item.text("plaintext"),
            key_version: item.int("key_version")?,
            associated_data: item.text("associated_data"),
            reference: item.text("reference"),
            ..Prepared::default()
        };
        let checks = gobase64::decode(&entry.plaintext)
            .and_then(|_| decode_optional(&item.text("context")))
            .and_then(|context| {
                entry.context = context;
                decode_optional(&item.text("nonce"))
            });
        match checks {
            Ok(nonce) => entry.nonce = nonce,
            Err(error) => {
                outcome.user_error = true;
                entry.error = Some(error);
            }
        }
        prepared.push(entry);
    }
    let creating = input.request.operation == Operation::Create;
    let mut warnings = Vec::new();
    // A stored policy is one record, so a read needs no lock; only the upsert serialises.
    let policy = match transit.policy(&fields.name).await? {
        Some(policy) => {
            if creating {
                warnings.push(RACE_WARNING.to_string());
            }
            policy
        }
        None if creating => {
            let _guard = transit.lock_key(&fields.name).await;
            match transit.policy(&fields.name).await? {
                Some(policy) => {
                    warnings.push(RACE_WARNING.to_string());
                    policy
                }
                None => Arc::new(upsert(&transit, &fields, context_set).await?),
            }
        }
        None => return Err(refused("encryption key not found").into()),
    };
    let mut results = Vec::with_capacity(prepared.len());
    for (index, item) in prepared.iter().enumerate() {
        let result = match &item.error {
            Some(error) => Err(OpError::User(error.clone())),
            None => encrypt_item(&policy, index, item),
        };
        let mut out = Map::new();
        match result {
            Ok(ciphertext) => {
                outcome.successes = true;
                let version = match item.key_version {
                    0 => policy.latest_version,
                    version => version,
                };
                out.insert("ciphertext".into(), json!(ciphertext));
                out.insert("key_version".into(), json!(version));
            }
            Err(error) => {
                match error {
                    OpError::Internal(_) => outcome.internal_error = true,
                    _ => outcome.user_error = true,
                }
                if !is_batch {
                    return Err(single_error(error));
                }
                out.insert("error".into(), json!(error.message()));
            }
        }
        if is_batch {
            out.insert("reference".into(), json!(item.reference));
        }
        results.push(Value::Object(out));
    }
    if !is_batch {
        let single = results.pop().expect("one item");
        return Ok(data_reply(single, warnings));
    }
    Ok(batch_reply(
        json!({"batch_results": results}),
        warnings,
        &outcome,
        fields.partial_failure_response_code,
    ))
}

/// A failed single (non-batch) item: internal errors are 500, everything else 400.
pub fn single_error(error: OpError) -> Error {
    match error {
        OpError::Internal(message) => TransitError::Failed(message).into(),
        other => refused(other.message()).into(),
    }
}

pub fn decode_optional(text: &str) -> Result<Vec<u8>, String> {
    match text.is_empty() {
        true => Ok(Vec::new()),
        false => gobase64::decode(text),
    }
}

fn encrypt_item(policy: &Policy, index: usize, item: &Prepared) -> Result<String, OpError> {
    if !item.nonce.is_empty() && !nonce_allowed(policy) {
        return Err(OpError::User(NONCE_NOT_ALLOWED.to_string()));
    }
    let aad = associated_data(policy, index, &item.associated_data)?;
    let plaintext = gobase64::decode(&item.plaintext).map_err(OpError::User)?;
    policy.encrypt(
        item.key_version,
        &item.context,
        &item.nonce,
        &plaintext,
        &aad,
    )
}

/// `associated_data`, refused for non-AEAD types (Vault names the batch index).
pub fn associated_data(policy: &Policy, index: usize, text: &str) -> Result<Vec<u8>, OpError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if !policy.key_type.associated_data_supported() {
        return Err(OpError::User(format!(
            "'[{index}].associated_data' provided for non-AEAD cipher suite {}",
            policy.key_type
        )));
    }
    gobase64::decode(text).map_err(|error| {
        OpError::User(format!(
            "unable to decode associated_data as base64: {error}"
        ))
    })
}

/// Creates the key an `encrypt` names (Vault's upsert).
async fn upsert(transit: &Transit, fields: &Encrypt, context_set: bool) -> Result<Policy, Error> {
    let config: KeysConfig = transit.record(CONFIG_KEYS).await?;
    if config.disable_upsert {
        return Err(refused("encryption key not found").into());
    }
    if fields.convergent_encryption && !context_set {
        return Err(refused(
            "convergent encryption requires derivation to be enabled, so context is required",
        )
        .into());
    }
    let key_type = match fields.key_type.as_str() {
        "" => KeyType::Aes256Gcm96,
        name => match KeyType::parse(name) {
            Some(key_type) if key_type.encryption_supported() => key_type,
            Some(_) => {
                return Err(
                    refused(format!("key type {name} not supported for this operation")).into(),
                );
            }
            None => return Err(refused(format!("unknown key type {name}")).into()),
        },
    };
    check_derivation(key_type, context_set, fields.convergent_encryption)?;
    let policy = Policy::create(
        NewPolicy {
            name: fields.name.clone(),
            key_type,
            derived: context_set,
            convergent: fields.convergent_encryption,
            exportable: false,
            allow_plaintext_backup: false,
            auto_rotate_period_seconds: 0,
            key_size: 0,
        },
        transit.now(),
    )
    .map_err(TransitError::Failed)?;
    transit.put_policy(&policy).await?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::{Value, json};
    use tresor_framework::Operation::{Create, Update};

    #[tokio::test]
    async fn encrypt_round_trips_every_symmetric_type() {
        // Goal: `vault:v1:` + base64(nonce || ct || tag) that decrypt reverses, per type.
        let transit = Harness::new();
        for key_type in ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"] {
            let path = format!("keys/{key_type}");
            transit
                .check(Update, &path, json!({"type": key_type}), Outcome::Any)
                .await;
            let ciphertext = transit
                .field(
                    Update,
                    &format!("encrypt/{key_type}"),
                    json!({"plaintext": "aGVsbG8="}),
                    "ciphertext",
                )
                .await;
            assert!(ciphertext.starts_with("vault:v1:"));
            let raw = crate::gobase64::decode(&ciphertext[9..]).expect("base64");
            assert_eq!(raw.len(), 12 + 5 + 16);
            let plaintext = transit
                .field(
                    Update,
                    &format!("decrypt/{key_type}"),
                    json!({"ciphertext": ciphertext}),
                    "plaintext",
                )
                .await;
            assert_eq!(plaintext, "aGVsbG8=");
        }
    }

    #[tokio::test]
    async fn encrypt_upserts_on_create_only() {
        let transit = Harness::new();
        transit
            .check(
                Update,
                "encrypt/new",
                json!({"plaintext": ""}),
                Outcome::error(400, "encryption key not found"),
            )
            .await;
        transit
            .check(
                Create,
                "encrypt/new",
                json!({"plaintext": "", "type": "ecdsa-p256"}),
                Outcome::error(400, "key type ecdsa-p256 not supported for this operation"),
            )
            .await;
        transit.check(Create, "encrypt/new", json!({"plaintext": "", "convergent_encryption": true}), Outcome::error(400, "convergent encryption requires derivation to be enabled, so context is required")).await;
        let data = Harness::data(
            transit
                .call(
                    Create,
                    "encrypt/new",
                    json!({"plaintext": "", "context": "YWJj"}),
                )
                .await,
        );
        assert_eq!(data["key_version"], 1);
        let key = Harness::data(
            transit
                .call(tresor_framework::Operation::Read, "keys/new", json!({}))
                .await,
        );
        assert_eq!(key["derived"], true);
        transit
            .check(
                Update,
                "config/keys",
                json!({"disable_upsert": true}),
                Outcome::ok(r#"{"disable_upsert":true}"#),
            )
            .await;
        transit
            .check(
                Create,
                "encrypt/other",
                json!({"plaintext": ""}),
                Outcome::error(400, "encryption key not found"),
            )
            .await;
    }

    #[tokio::test]
    async fn batch_encrypt_reports_items_and_status() {
        // Goal: Vault's partial-failure rules. Method: one good and one bad item.
        let transit = Harness::new();
        transit
            .check(Update, "keys/b", json!({}), Outcome::Any)
            .await;
        let body = json!({"batch_input": [{"plaintext": "aGk=", "reference": "r1"}, {"plaintext": "!!", "reference": "r2"}]});
        let reply = transit.call(Update, "encrypt/b", body.clone()).await;
        assert_eq!(Harness::status(&reply), 400);
        let data = Harness::data(reply);
        let results = data["batch_results"].as_array().expect("list");
        assert_eq!(results[0]["reference"], "r1");
        assert_eq!(results[0]["key_version"], 1);
        assert_eq!(
            results[1],
            json!({"error": "illegal base64 data at input byte 0", "reference": "r2"})
        );
        let mut with_code = body.clone();
        with_code["partial_failure_response_code"] = json!(207);
        assert_eq!(
            Harness::status(&transit.call(Update, "encrypt/b", with_code).await),
            207
        );
        let mut bad_code = body;
        bad_code["partial_failure_response_code"] = json!(999);
        let reply = transit.call(Update, "encrypt/b", bad_code).await;
        assert_eq!(Harness::status(&reply), 400);
        assert_eq!(
            Harness::warnings(&reply),
            vec!["invalid HTTP response code override from partial_failure_response_code, reverting to 400".to_string()]
        );
        let rows = vec![
            (
                json!({"batch_input": []}),
                Outcome::error(400, "missing batch input to process"),
            ),
            (
                json!({"batch_input": [{"plaintext": "", "context": "YQ=="}, {"plaintext": ""}]}),
                Outcome::error(
                    400,
                    "context should be set either in all the request blocks or in none",
                ),
            ),
            (
                json!({}),
                Outcome::error(400, "missing plaintext to encrypt"),
            ),
            (
                json!({"plaintext": "", "key_version": 2}),
                Outcome::error(
                    400,
                    "requested version for encryption is higher than the latest key version",
                ),
            ),
            (
                json!({"plaintext": "", "key_version": -1}),
                Outcome::error(400, "requested version for encryption is negative"),
            ),
            (
                json!({"plaintext": "", "nonce": "AAAAAAAAAAAAAAAA"}),
                Outcome::error(400, "provided nonce not allowed for this key"),
            ),
        ];
        for (body, expected) in rows {
            transit.check(Update, "encrypt/b", body, expected).await;
        }
        let _ = Value::Null;
    }
}
