//! `sign/:name(/:hash)` and `verify/:name(/:hash)` (Vault's `path_sign_verify.go`).

use crate::crypto::HashAlgorithm;
use crate::error::{OpError, TransitError, refused};
use crate::gobase64;
use crate::input::{BatchItem, batch_items, check_name, data_reply, present, present_string};
use crate::path_hmac::verify_hmac;
use crate::policy::{Policy, SignOptions};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("sign/{name}/{urlalgorithm}")
            .write(sign)
            .help("Generate a signature for input data using the named key"),
        Path::new("sign/{name}")
            .write(sign)
            .help("Generate a signature for input data using the named key"),
        Path::new("verify/{name}/{urlalgorithm}")
            .write(verify)
            .help("Verify a signature or HMAC for input data created using the named key"),
        Path::new("verify/{name}")
            .write(verify)
            .help("Verify a signature or HMAC for input data created using the named key"),
    ]
}

#[derive(Deserialize)]
pub struct SignFields {
    pub name: String,
    #[serde(default, deserialize_with = "loose::string")]
    pub urlalgorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    pub hash_algorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    pub algorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    input: String,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
    #[serde(default, deserialize_with = "loose::int")]
    key_version: i64,
    #[serde(default, deserialize_with = "loose::bool")]
    prehashed: bool,
    #[serde(default, deserialize_with = "loose::string")]
    signature_algorithm: String,
    #[serde(default, deserialize_with = "loose::string")]
    marshaling_algorithm: String,
    #[serde(default, deserialize_with = "present_string")]
    salt_length: Option<String>,
    #[serde(default, deserialize_with = "present_string")]
    signature: Option<String>,
    #[serde(default, deserialize_with = "present_string")]
    pub hmac: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub batch_input: Option<Value>,
}

/// `none` for `signature_algorithm` when unset; RSA reads that as `pss`.
struct Common {
    hash: HashAlgorithm,
    options: SignOptions,
    /// The salt as requested, for RSA's range check: `Some(n)` explicit.
    salt_requested: Option<i64>,
}

/// Parses the hash, marshaling and salt settings shared by sign and verify.
fn common(fields: &SignFields) -> Result<Common, Error> {
    let mut name = fields.urlalgorithm.as_str();
    if name.is_empty() {
        name = fields.hash_algorithm.as_str();
    }
    if name.is_empty() {
        name = fields.algorithm.as_str();
    }
    if name.is_empty() {
        name = "sha2-256";
    }
    let Some(hash) = HashAlgorithm::parse(name) else {
        return Err(refused(format!("invalid hash algorithm \"{name}\"")).into());
    };
    let jws = match fields.marshaling_algorithm.as_str() {
        "" | "asn1" => false,
        "jws" => true,
        other => return Err(refused(format!("invalid marshaling type \"{other}\"")).into()),
    };
    let salt_text = fields
        .salt_length
        .clone()
        .unwrap_or_else(|| "auto".to_string());
    let lower = salt_text.to_lowercase();
    let salt_value = match crate::policy::go_atoi(&lower) {
        Some(value) => value,
        None => match lower.as_str() {
            "auto" => 0,
            "hash" => -1,
            _ => {
                return Err(refused(format!(
                    "salt length neither 'auto', 'hash', nor an int: {salt_text}"
                ))
                .into());
            }
        },
    };
    if salt_value < -1 {
        return Err(refused(format!("salt length is invalid: {salt_value}")).into());
    }
    let pss = !matches!(fields.signature_algorithm.as_str(), "pkcs1v15");
    Ok(Common {
        hash,
        options: SignOptions {
            hash,
            jws,
            salt: None,
            pss,
            prehashed: fields.prehashed,
        },
        salt_requested: (salt_value != 0).then_some(salt_value),
    })
}

/// Resolves the PSS salt for an RSA key: auto (maximum), the hash length, or an explicit
/// length within `0 ..= modulus − hash − 2`.
fn resolve_salt(
    policy: &Policy,
    version: i64,
    common: &Common,
    digest_len: usize,
) -> Result<Option<usize>, OpError> {
    let Some(requested) = common.salt_requested else {
        return Ok(None);
    };
    if requested == -1 {
        return Ok(Some(digest_len));
    }
    let maximum = policy
        .rsa_modulus_bytes(version)
        .map(|bytes| bytes.saturating_sub(digest_len + 2))
        .unwrap_or(0);
    match usize::try_from(requested) {
        Ok(salt) if salt <= maximum => Ok(Some(salt)),
        _ => Err(OpError::User(format!(
            "requested salt length {requested} is invalid"
        ))),
    }
}

fn check_none_hash(policy: &Policy, common: &Common, fields: &SignFields) -> Result<(), Error> {
    // Ed25519 ignores the hash, so bao accepts `none` for it.
    if policy.key_type.hash_signature_input()
        && common.hash == HashAlgorithm::None
        && (!fields.prehashed || fields.signature_algorithm != "pkcs1v15")
    {
        return Err(refused(
            "hash_algorithm=none requires both prehashed=true and signature_algorithm=pkcs1v15",
        )
        .into());
    }
    Ok(())
}

/// The bytes a signature covers: the hash of the input for ECDSA and RSA unless prehashed.
fn digest_of(policy: &Policy, common: &Common, prehashed: bool, input: &[u8]) -> Vec<u8> {
    if policy.key_type.hash_signature_input() && !prehashed {
        return common.hash.digest(input).unwrap_or_else(|| input.to_vec());
    }
    input.to_vec()
}

fn single_item(fields: &SignFields, with_signature: bool) -> BatchItem {
    let mut single = Map::new();
    single.insert("input".into(), json!(fields.input));
    single.insert("context".into(), json!(fields.context));
    if with_signature {
        if let Some(signature) = &fields.signature {
            single.insert("signature".into(), json!(signature));
        }
        if let Some(hmac) = &fields.hmac {
            single.insert("hmac".into(), json!(hmac));
        }
    }
    BatchItem::from_fields(single)
}

async fn sign(transit: Arc<Transit>, input: Input<SignFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let mut common = common(&fields)?;
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("signing key not found").into());
    };
    if !policy.key_type.signing_supported() {
        return Err(refused(format!(
            "key type {} does not support signing",
            policy.key_type
        ))
        .into());
    }
    check_none_hash(&policy, &common, &fields)?;
    let batch = batch_items(&fields.batch_input)?;
    let is_batch = batch.is_some();
    let items = batch.unwrap_or_else(|| vec![single_item(&fields, false)]);
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let result = sign_item(&policy, &mut common, &fields, item);
        let mut out = Map::new();
        match result {
            Ok(signed) => {
                let version = match fields.key_version {
                    0 => policy.latest_version,
                    version => version,
                };
                out.insert("signature".into(), json!(signed.signature));
                out.insert("key_version".into(), json!(version));
                if let Some(public_key) = signed.public_key {
                    let name = if is_batch { "publickey" } else { "public_key" };
                    out.insert(name.into(), json!(gobase64::encode(&public_key)));
                }
            }
            Err(error) => {
                if !is_batch {
                    return Err(match error {
                        OpError::User(message) => refused(message).into(),
                        other => TransitError::Failed(other.message().to_string()).into(),
                    });
                }
                out.insert("error".into(), json!(error.message()));
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

fn sign_item(
    policy: &Policy,
    common: &mut Common,
    fields: &SignFields,
    item: &BatchItem,
) -> Result<crate::policy::Signed, OpError> {
    let Some(raw) = item.get("input") else {
        return Err(OpError::User("missing input".into()));
    };
    let input = gobase64::decode(&raw)
        .map_err(|error| OpError::User(format!("unable to decode input as base64: {error}")))?;
    let digest = digest_of(policy, common, fields.prehashed, &input);
    let context = match item.text("context") {
        text if text.is_empty() => Vec::new(),
        text => gobase64::decode(&text)
            .map_err(|_| OpError::User("failed to base64-decode context".into()))?,
    };
    if policy.key_type.is_rsa() && common.options.pss {
        common.options.salt = resolve_salt(policy, fields.key_version, common, digest.len())?;
    }
    // Vault returns the primitive's errors as plain errors: 500 for a single item.
    policy
        .sign(
            fields.key_version,
            &context,
            &input,
            &digest,
            &common.options,
        )
        .map_err(|error| OpError::Plain(error.message().to_string()))
}

async fn verify(transit: Arc<Transit>, input: Input<SignFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let batch = batch_items(&fields.batch_input)?;
    let is_batch = batch.is_some();
    let items = batch.unwrap_or_else(|| vec![single_item(&fields, true)]);
    let (mut signatures, mut hmacs, mut missing) = (false, false, false);
    for item in &items {
        // Vault's order: an item with a signature counts as a signature item only.
        if item.has("signature") {
            signatures = true;
        } else if item.has("hmac") {
            hmacs = true;
        } else {
            missing = true;
        }
    }
    let message = match () {
        _ if !is_batch && signatures && hmacs => Some("provide one of 'signature' or 'hmac'"),
        _ if !is_batch && !signatures && !hmacs => {
            Some("neither a 'signature' nor an 'hmac' were given to verify")
        }
        _ if signatures && hmacs => {
            Some("elements of batch_input must all provide 'signature' or all provide 'hmac'")
        }
        _ if missing && signatures => Some("some elements of batch_input are missing 'signature'"),
        _ if missing && hmacs => Some("some elements of batch_input are missing 'hmac'"),
        _ if missing => Some("no batch_input elements have 'signature' or 'hmac'"),
        _ => None,
    };
    if let Some(message) = message {
        return Err(refused(message).into());
    }
    if hmacs {
        return verify_hmac(&transit, &fields, items, is_batch).await;
    }
    let mut common = common(&fields)?;
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(refused("signature verification key not found").into());
    };
    if !policy.key_type.signing_supported() {
        return Err(refused(format!(
            "key type {} does not support verification",
            policy.key_type
        ))
        .into());
    }
    check_none_hash(&policy, &common, &fields)?;
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let result = verify_item(&policy, &mut common, &fields, item);
        let mut out = Map::new();
        match result {
            Ok(valid) => {
                out.insert("valid".into(), json!(valid));
            }
            Err(error) => {
                if !is_batch {
                    return Err(match error {
                        OpError::User(message) => refused(message).into(),
                        other => TransitError::Failed(other.message().to_string()).into(),
                    });
                }
                out.insert("valid".into(), json!(false));
                out.insert("error".into(), json!(error.message()));
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

fn verify_item(
    policy: &Policy,
    common: &mut Common,
    fields: &SignFields,
    item: &BatchItem,
) -> Result<bool, OpError> {
    let Some(raw) = item.get("input") else {
        return Err(OpError::User("missing input".into()));
    };
    let input = gobase64::decode(&raw)
        .map_err(|error| OpError::User(format!("unable to decode input as base64: {error}")))?;
    let Some(signature) = item.get("signature") else {
        return Err(OpError::User("missing signature".into()));
    };
    let digest = digest_of(policy, common, fields.prehashed, &input);
    let context = match item.text("context") {
        text if text.is_empty() => Vec::new(),
        text => gobase64::decode(&text)
            .map_err(|_| OpError::User("failed to base64-decode context".into()))?,
    };
    if policy.key_type.is_rsa() && common.options.pss {
        let version = crate::policy::split_versioned(&signature, "signature")
            .map(|parts| parts.version)
            .unwrap_or(0);
        common.options.salt = resolve_salt(policy, version, common, digest.len())?;
    }
    policy.verify(&context, &digest, &signature, &common.options)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::Update;

    #[tokio::test]
    async fn signatures_verify_per_type_and_marshaling() {
        // Goal: sign then verify for each signing type, hash and marshaling; a changed input
        // is `valid: false`, not an error.
        let transit = Harness::new();
        for key_type in [
            "ed25519",
            "ecdsa-p256",
            "ecdsa-p384",
            "ecdsa-p521",
            "rsa-2048",
        ] {
            transit
                .check(
                    Update,
                    &format!("keys/{key_type}"),
                    json!({"type": key_type}),
                    Outcome::Any,
                )
                .await;
            for (hash, marshaling) in [
                ("sha2-256", "asn1"),
                ("sha2-512", "jws"),
                ("sha1", "asn1"),
                ("sha3-384", "jws"),
            ] {
                let body = json!({"input": "aGVsbG8=", "hash_algorithm": hash, "marshaling_algorithm": marshaling});
                let signature = transit
                    .field(
                        Update,
                        &format!("sign/{key_type}"),
                        body.clone(),
                        "signature",
                    )
                    .await;
                let mut verify = body.clone();
                verify["signature"] = json!(signature);
                transit
                    .check(
                        Update,
                        &format!("verify/{key_type}"),
                        verify.clone(),
                        Outcome::ok(r#"{"valid":true}"#),
                    )
                    .await;
                verify["input"] = json!("aGVsbG9v");
                transit
                    .check(
                        Update,
                        &format!("verify/{key_type}"),
                        verify,
                        Outcome::ok(r#"{"valid":false}"#),
                    )
                    .await;
            }
        }
        for algorithm in ["pkcs1v15", "pss"] {
            let body = json!({"input": "aGVsbG8=", "signature_algorithm": algorithm});
            let signature = transit
                .field(Update, "sign/rsa-2048/sha2-384", body.clone(), "signature")
                .await;
            let mut verify = body;
            verify["signature"] = json!(signature);
            transit
                .check(
                    Update,
                    "verify/rsa-2048/sha2-384",
                    verify,
                    Outcome::ok(r#"{"valid":true}"#),
                )
                .await;
        }
    }

    #[tokio::test]
    async fn sign_refusals_match_vault() {
        let transit = Harness::new();
        transit
            .check(
                Update,
                "sign/nope",
                json!({"input": ""}),
                Outcome::error(400, "signing key not found"),
            )
            .await;
        transit
            .check(Update, "keys/aes", json!({}), Outcome::Any)
            .await;
        transit
            .check(Update, "keys/ed", json!({"type": "ed25519"}), Outcome::Any)
            .await;
        let rows = vec![
            (
                "sign/aes",
                json!({"input": ""}),
                Outcome::error(400, "key type aes256-gcm96 does not support signing"),
            ),
            (
                "sign/ed",
                json!({"input": "", "hash_algorithm": "md5"}),
                Outcome::error(400, "invalid hash algorithm \"md5\""),
            ),
            (
                "sign/ed",
                json!({"input": "", "hash_algorithm": "none"}),
                Outcome::Any,
            ),
            (
                "sign/ed",
                json!({"input": "%%"}),
                Outcome::error(
                    400,
                    "unable to decode input as base64: illegal base64 data at input byte 0",
                ),
            ),
            (
                "verify/ed",
                json!({"input": ""}),
                Outcome::error(
                    400,
                    "neither a 'signature' nor an 'hmac' were given to verify",
                ),
            ),
            (
                "verify/ed",
                json!({"input": "", "signature": "x", "hmac": "y"}),
                Outcome::error(400, "invalid signature: no prefix"),
            ),
            (
                "sign/ed",
                json!({"input": "", "key_version": 3}),
                Outcome::error(
                    500,
                    "requested version for signing is higher than the latest key version",
                ),
            ),
            (
                "verify/ed",
                json!({"input": "", "signature": "vault:v2:AAAA"}),
                Outcome::error(400, "invalid signature: version is too new"),
            ),
        ];
        for (path, body, expected) in rows {
            transit.check(Update, path, body, expected).await;
        }
    }

    #[tokio::test]
    async fn derived_ed25519_returns_its_public_key() {
        let transit = Harness::new();
        transit
            .check(
                Update,
                "keys/d",
                json!({"type": "ed25519", "derived": true}),
                Outcome::Any,
            )
            .await;
        let data = Harness::data(
            transit
                .call(
                    Update,
                    "sign/d",
                    json!({"input": "aGk=", "context": "YWJj"}),
                )
                .await,
        );
        let key = Harness::data(
            transit
                .call(
                    tresor_framework::Operation::Read,
                    "keys/d",
                    json!({"context": "YWJj"}),
                )
                .await,
        );
        assert_eq!(data["public_key"], key["keys"]["1"]["public_key"]);
        let batch = Harness::data(
            transit
                .call(
                    Update,
                    "sign/d",
                    json!({"batch_input": [{"input": "aGk=", "context": "YWJj"}]}),
                )
                .await,
        );
        assert_eq!(batch["batch_results"][0]["publickey"], data["public_key"]);
    }
}
