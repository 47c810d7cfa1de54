//! `keys/` and `keys/:name` (Vault's `path_keys.go`): create, read, list and delete named keys.

use crate::error::{OpError, TransitError, refused};
use crate::gobase64;
use crate::input::{check_name, data_reply};
use crate::key_type::KeyType;
use crate::limits::{
    AUTO_ROTATE_PERIOD_SECONDS_MIN, HMAC_KEY_BYTES_DEFAULT, HMAC_KEY_BYTES_MAX, HMAC_KEY_BYTES_MIN,
};
use crate::policy::{KDF_COUNTER, KDF_HKDF, NewPolicy, Policy};
use crate::store::Transit;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn list_paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("keys")
            .list(list_keys)
            .help("Managed named encryption keys"),
    ]
}

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("keys/{name}")
            .read(read_key)
            .write(create_key)
            .delete(delete_key)
            .help("Managed named encryption keys"),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

/// `LIST keys`: `{"keys": [...]}`; none is a 404 the clients read as empty.
async fn list_keys(transit: Arc<Transit>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let mut names = transit.list_policies().await?;
    if names.is_empty() {
        return Err(Error::not_found());
    }
    names.sort();
    Reply::data(json!({ "keys": names }))
}

/// A `type` field: a closed set, with Vault's message for anything else.
fn key_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<KeyType, D::Error> {
    let name = loose::string(deserializer)?;
    if name.is_empty() {
        return Ok(KeyType::Aes256Gcm96);
    }
    KeyType::parse(&name).ok_or_else(|| D::Error::custom(format!("unknown key type {name}")))
}

fn default_key_type() -> KeyType {
    KeyType::Aes256Gcm96
}

#[derive(Deserialize)]
struct CreateKey {
    name: String,
    #[serde(
        rename = "type",
        default = "default_key_type",
        deserialize_with = "key_type"
    )]
    key_type: KeyType,
    #[serde(default, deserialize_with = "loose::bool")]
    derived: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    convergent_encryption: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    exportable: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    allow_plaintext_backup: bool,
    #[serde(default, deserialize_with = "loose::seconds")]
    auto_rotate_period: u64,
    #[serde(default, deserialize_with = "loose::int")]
    key_size: i64,
}

/// `POST keys/:name`. Creating an existing key is not an error: Vault answers the key as it
/// is, with the warning `key NAME already existed`.
async fn create_key(transit: Arc<Transit>, input: Input<CreateKey>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    if fields.auto_rotate_period != 0 && fields.auto_rotate_period < AUTO_ROTATE_PERIOD_SECONDS_MIN
    {
        return Err(refused("auto rotate period must be 0 to disable or at least an hour").into());
    }
    if !fields.derived && fields.convergent_encryption {
        return Err(refused("convergent encryption requires derivation to be enabled").into());
    }
    let mut key_size = fields.key_size;
    if key_size != 0 {
        if fields.key_type != KeyType::Hmac {
            return Err(refused(format!(
                "key_size is not valid for algorithm {}",
                fields.key_type
            ))
            .into());
        }
        if !(HMAC_KEY_BYTES_MIN..=HMAC_KEY_BYTES_MAX).contains(&key_size) {
            return Err(refused(format!("invalid key_size {key_size}")).into());
        }
    } else if fields.key_type == KeyType::Hmac {
        key_size = HMAC_KEY_BYTES_DEFAULT;
    }
    check_derivation(
        fields.key_type,
        fields.derived,
        fields.convergent_encryption,
    )?;
    let _guard = transit.lock_key(&fields.name).await;
    if let Some(existing) = transit.policy(&fields.name).await? {
        let reply = format_key(&existing, &[])?;
        return Ok(reply.with_warning(format!("key {} already existed", fields.name)));
    }
    let policy = Policy::create(
        NewPolicy {
            name: fields.name,
            key_type: fields.key_type,
            derived: fields.derived,
            convergent: fields.convergent_encryption,
            exportable: fields.exportable,
            allow_plaintext_backup: fields.allow_plaintext_backup,
            auto_rotate_period_seconds: fields.auto_rotate_period,
            key_size,
        },
        transit.now(),
    )
    .map_err(TransitError::Failed)?;
    transit.put_policy(&policy).await?;
    format_key(&policy, &[])
}

/// `lock_manager.GetPolicy`'s type checks; Vault returns them as plain errors (500).
pub fn check_derivation(key_type: KeyType, derived: bool, convergent: bool) -> Result<(), Error> {
    let message = match key_type {
        key_type if key_type.is_symmetric() => {
            if convergent && !derived {
                Some("convergent encryption requires derivation to be enabled".to_string())
            } else {
                None
            }
        }
        KeyType::Ed25519 => convergent
            .then(|| format!("convergent encryption not supported for keys of type {key_type}")),
        key_type => (derived || convergent).then(|| {
            format!(
                "key derivation and convergent encryption not supported for keys of type {key_type}"
            )
        }),
    };
    match message {
        Some(message) => Err(TransitError::Failed(message).into()),
        None => Ok(()),
    }
}

#[derive(Deserialize)]
struct ReadKey {
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    context: String,
}

/// `GET keys/:name`: 404 with an empty `errors` array when the key does not exist.
async fn read_key(transit: Arc<Transit>, input: Input<ReadKey>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let context = match fields.context.is_empty() {
        true => Vec::new(),
        false => gobase64::decode(&fields.context)
            .map_err(|_| refused("failed to base64-decode context"))?,
    };
    let _guard = transit.read_lock_key(&fields.name).await;
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(Error::not_found());
    };
    format_key(&policy, &context)
}

fn internal(error: OpError) -> Error {
    TransitError::Failed(error.message().to_string()).into()
}

/// `formatKeyPolicy`: the body of a read, and of create/config/rotate/trim.
pub fn format_key(policy: &Policy, context: &[u8]) -> Result<Reply, Error> {
    let mut data = Map::new();
    let mut put = |key: &str, value: Value| {
        data.insert(key.to_string(), value);
    };
    put("name", json!(policy.name));
    put("type", json!(policy.key_type.name()));
    put("derived", json!(policy.derived));
    put("deletion_allowed", json!(policy.deletion_allowed));
    put("min_available_version", json!(policy.min_available_version));
    put(
        "min_decryption_version",
        json!(policy.min_decryption_version),
    );
    put(
        "min_encryption_version",
        json!(policy.min_encryption_version),
    );
    put("latest_version", json!(policy.latest_version));
    put("exportable", json!(policy.exportable));
    put(
        "allow_plaintext_backup",
        json!(policy.allow_plaintext_backup),
    );
    put(
        "supports_encryption",
        json!(policy.key_type.encryption_supported()),
    );
    put(
        "supports_decryption",
        json!(policy.key_type.encryption_supported()),
    );
    put(
        "supports_signing",
        json!(policy.key_type.signing_supported()),
    );
    put(
        "supports_derivation",
        json!(policy.key_type.derivation_supported()),
    );
    put(
        "auto_rotate_period",
        json!(policy.auto_rotate_period / 1_000_000_000),
    );
    put("imported_key", json!(policy.imported));
    if policy.key_size != 0 {
        put("key_size", json!(policy.key_size));
    }
    if policy.imported {
        put(
            "imported_key_allow_rotation",
            json!(policy.allow_imported_key_rotation),
        );
    }
    if let Some(info) = &policy.backup_info {
        put(
            "backup_info",
            json!({"time": info.time, "version": info.version}),
        );
    }
    if let Some(info) = &policy.restore_info {
        put(
            "restore_info",
            json!({"time": info.time, "version": info.version}),
        );
    }
    if policy.derived {
        match policy.kdf {
            KDF_COUNTER => {
                put("kdf", json!("hmac-sha256-counter"));
                put("kdf_mode", json!("hmac-sha256-counter"));
            }
            KDF_HKDF => put("kdf", json!("hkdf_sha256")),
            _ => {}
        }
        put("convergent_encryption", json!(policy.convergent_encryption));
        if policy.convergent_encryption {
            put(
                "convergent_encryption_version",
                json!(policy.convergent_version),
            );
        }
    }
    let visible = policy.keys.iter().filter(|(version, _)| {
        version.parse::<i64>().unwrap_or(0) >= policy.min_decryption_version
    });
    if policy.key_type.is_symmetric() {
        let keys: Map<String, Value> = visible
            .map(|(version, entry)| (version.clone(), json!(entry.creation_time)))
            .collect();
        put("keys", Value::Object(keys));
    } else if policy.key_type.signing_supported() {
        let mut keys = Map::new();
        for (version, entry) in visible {
            let mut public_key = policy.public_key_text(entry).map_err(internal)?;
            if policy.key_type == KeyType::Ed25519 && policy.derived {
                public_key = match context.is_empty() {
                    true => String::new(),
                    false => {
                        let number = version.parse::<i64>().unwrap_or(0);
                        let derived = policy.key_bytes(context, number, 32).map_err(internal)?;
                        gobase64::encode(&derived[32..])
                    }
                };
            }
            let creation_time = match entry.time.is_empty() || entry.time.starts_with("0001-") {
                true => crate::timefmt::rfc3339_nanos(
                    time::OffsetDateTime::from_unix_timestamp(entry.creation_time)
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                ),
                false => entry.time.clone(),
            };
            keys.insert(
                version.clone(),
                json!({
                    "certificate_chain": "",
                    "creation_time": creation_time,
                    "name": policy.key_type.public_name(),
                    "public_key": public_key,
                }),
            );
        }
        put("keys", Value::Object(keys));
    }
    Ok(data_reply(Value::Object(data), Vec::new()))
}

#[derive(Deserialize)]
struct DeleteKey {
    name: String,
}

/// `DELETE keys/:name`: only with `deletion_allowed`; 204.
async fn delete_key(transit: Arc<Transit>, input: Input<DeleteKey>) -> Result<Reply, Error> {
    let name = input.fields.name;
    check_name(&name)?;
    let _guard = transit.lock_key(&name).await;
    let reason = match transit.policy(&name).await? {
        None => Some("could not delete key; not found"),
        Some(policy) if !policy.deletion_allowed => Some("deletion is not allowed for this key"),
        Some(_) => None,
    };
    if let Some(reason) = reason {
        return Err(refused(format!("error deleting policy {name}: {reason}")).into());
    }
    transit.delete_policy(&name).await?;
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Delete, List, Read, Update};

    #[tokio::test]
    async fn keys_create_read_list_delete() {
        // Goal: the key lifecycle answers as bao does. Method: rows with bao's texts.
        let transit = Harness::new();
        transit
            .check(List, "keys/", json!({}), Outcome::NotFound)
            .await;
        let created = transit.call(Update, "keys/k1", json!({})).await;
        let data = Harness::data(created);
        assert_eq!(data["type"], "aes256-gcm96");
        assert_eq!(data["latest_version"], 1);
        assert_eq!(data["keys"]["1"], crate::testing::NOW_SECONDS);
        assert_eq!(data["supports_derivation"], true);
        assert!(data.get("kdf").is_none());
        let again = transit
            .call(Update, "keys/k1", json!({"type": "ed25519"}))
            .await;
        assert_eq!(
            Harness::warnings(&again),
            vec!["key k1 already existed".to_string()]
        );
        transit
            .check(List, "keys/", json!({}), Outcome::ok(r#"{"keys":["k1"]}"#))
            .await;
        let rows = vec![
            (
                Update,
                "keys/k2",
                json!({"type": "aes512"}),
                Outcome::error(400, "unknown key type aes512"),
            ),
            (
                Update,
                "keys/k2",
                json!({"type": "ecdsa-p256", "key_size": 64}),
                Outcome::error(400, "key_size is not valid for algorithm ecdsa-p256"),
            ),
            (
                Update,
                "keys/k2",
                json!({"type": "hmac", "key_size": 16}),
                Outcome::error(400, "invalid key_size 16"),
            ),
            (
                Update,
                "keys/k2",
                json!({"convergent_encryption": true}),
                Outcome::error(
                    400,
                    "convergent encryption requires derivation to be enabled",
                ),
            ),
            (
                Update,
                "keys/k2",
                json!({"auto_rotate_period": "10m"}),
                Outcome::error(
                    400,
                    "auto rotate period must be 0 to disable or at least an hour",
                ),
            ),
            (
                Update,
                "keys/k2",
                json!({"type": "ecdsa-p256", "derived": true}),
                Outcome::error(
                    500,
                    "key derivation and convergent encryption not supported for keys of type ecdsa-p256",
                ),
            ),
            (Read, "keys/nope", json!({}), Outcome::NotFound),
            (
                Delete,
                "keys/k1",
                json!({}),
                Outcome::error(
                    400,
                    "error deleting policy k1: deletion is not allowed for this key",
                ),
            ),
            (
                Delete,
                "keys/nope",
                json!({}),
                Outcome::error(
                    400,
                    "error deleting policy nope: could not delete key; not found",
                ),
            ),
            (
                Update,
                "keys/k1/config",
                json!({"deletion_allowed": true}),
                Outcome::Any,
            ),
            (Delete, "keys/k1", json!({}), Outcome::NoContent),
            (Read, "keys/k1", json!({}), Outcome::NotFound),
        ];
        for (operation, path, body, expected) in rows {
            transit.check(operation, path, body, expected).await;
        }
    }

    #[tokio::test]
    async fn asymmetric_reads_show_public_keys() {
        let transit = Harness::new();
        let data = Harness::data(
            transit
                .call(Update, "keys/e", json!({"type": "ecdsa-p256"}))
                .await,
        );
        let entry = &data["keys"]["1"];
        assert_eq!(entry["name"], "P-256");
        assert!(
            entry["public_key"]
                .as_str()
                .expect("pem")
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        assert_eq!(entry["creation_time"], crate::testing::NOW_TEXT);
        let data = Harness::data(
            transit
                .call(
                    Update,
                    "keys/d",
                    json!({"type": "ed25519", "derived": true}),
                )
                .await,
        );
        assert_eq!(data["keys"]["1"]["public_key"], "");
        assert_eq!(data["kdf"], "hkdf_sha256");
        let data = Harness::data(
            transit
                .call(Read, "keys/d", json!({"context": "YWJj"}))
                .await,
        );
        assert_eq!(
            data["keys"]["1"]["public_key"].as_str().map(str::len),
            Some(44)
        );
        let data = Harness::data(
            transit
                .call(Update, "keys/h", json!({"type": "hmac"}))
                .await,
        );
        assert_eq!(data["key_size"], 32);
        assert!(data.get("keys").is_none());
    }
}
