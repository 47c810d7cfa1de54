//! KV v1 (Vault's `passthrough.go`): one path, the whole key space, values stored as given.

use crate::error::KvError;
use crate::store::{Kv, V1_PREFIX, checked_key, encode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use tresor_framework::{Captures, Error, Input, LeaseInfo, Path, Reply, Request, Secret, loose};
use tresor_storage::Storage;

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("{*path}")
            .read(read_entry)
            .write(write_entry)
            .delete(delete_entry)
            .list(list_entries)
            .exists(entry_exists)
            .help("Pass-through secret storage: read and write arbitrary data, with an optional ttl hint."),
    ]
}

/// Only the key is typed: the body itself is the user's data and is stored as sent.
#[derive(Deserialize)]
struct KeyPath {
    #[serde(default)]
    path: String,
}

#[derive(Serialize)]
struct KeyList {
    keys: Vec<String>,
}

fn storage_key(key: &str) -> Result<String, KvError> {
    Ok(format!("{V1_PREFIX}{}", checked_key(key)?))
}

/// `GET <mount>/<key>` (KV-03): the stored object, `lease_id` empty, not renewable, and
/// `lease_duration` from the entry's `ttl` (or `lease`) or the mount default. The CLI prints
/// it as `refresh_interval`; a missing key is 404 with an empty `errors` array.
async fn read_entry(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let key = storage_key(&input.fields.path)?;
    let Some(data) = get_verbatim(&kv.storage, &key).await? else {
        return Err(Error::not_found());
    };
    let lease_duration_seconds =
        ttl_hint(&data).unwrap_or(input.request.mount.default_lease_ttl_seconds);
    Ok(Reply::Secret(Secret {
        data: Some(Value::Object(data)),
        lease: Some(LeaseInfo {
            lease_id: String::new(),
            renewable: false,
            lease_duration_seconds,
            internal_data: None,
        }),
        status: 200,
        ..Secret::default()
    }))
}

/// A stored entry, its numbers spelled as the client wrote them (REQ-06).
async fn get_verbatim(
    storage: &tresor_framework::StorageView,
    key: &str,
) -> Result<Option<Map<String, Value>>, KvError> {
    let Some(bytes) = storage.get(key).await? else {
        return Ok(None);
    };
    match loose::json_verbatim(&bytes) {
        Ok(Value::Object(data)) => Ok(Some(data)),
        _ => Err(KvError::Corrupt(key.to_string())),
    }
}

/// Vault reads `ttl`, or `lease` when there is no `ttl`, as a duration; an unparsable value
/// falls back to the mount default.
fn ttl_hint(data: &Map<String, Value>) -> Option<u64> {
    let raw = data.get("ttl").or_else(|| data.get("lease"))?;
    match raw {
        Value::Number(number) => number.to_string().parse::<u64>().ok(),
        Value::String(text) => loose::parse_duration_seconds(text).ok(),
        _ => None,
    }
}

/// `PUT|POST <mount>/<key>` (KV-02): any non-empty object, stored byte-exact; 204.
async fn write_entry(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    if input.fields.path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    if input.request.data.is_empty() {
        return Err(KvError::MissingDataFields.into());
    }
    let key = storage_key(&input.fields.path)?;
    kv.storage
        .put(&key, encode(&input.request.data))
        .await
        .map_err(KvError::from)?;
    Ok(Reply::NoContent)
}

/// `DELETE <mount>/<key>` (KV-04): 204, also when the key is absent.
async fn delete_entry(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let key = storage_key(&input.fields.path)?;
    kv.storage.delete(&key).await.map_err(KvError::from)?;
    Ok(Reply::NoContent)
}

/// `LIST <mount>/<prefix>/` (KV-04): one level, folders with a trailing `/`; none is 404.
async fn list_entries(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let mut prefix = checked_key(&input.fields.path)?.to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let keys = kv
        .storage
        .list(&format!("{V1_PREFIX}{prefix}"))
        .await
        .map_err(KvError::from)?;
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    Reply::data(KeyList { keys })
}

async fn entry_exists(kv: Arc<Kv>, _request: Request, captures: Captures) -> Result<bool, Error> {
    let key = storage_key(captures.get("path"))?;
    Ok(kv.storage.get(&key).await.map_err(KvError::from)?.is_some())
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Delete, List, Patch, Read, Update};

    #[tokio::test]
    async fn kv1_endpoints_match_bao() {
        // Goal: every v1 endpoint and error row. Method: run the same sequence bao answered
        // (bodies recorded from OpenBao 2.7.2, request ids and times aside).
        let kv = Harness::new(KvVersion::V1);
        let rows: Vec<(_, &str, serde_json::Value, Outcome)> = vec![
            (
                Update,
                "a",
                json!({"x": 1.0, "ttl": "1h"}),
                Outcome::NoContent,
            ),
            (
                Read,
                "a",
                json!({}),
                Outcome::lease(3600, r#"{"ttl":"1h","x":1.0}"#),
            ),
            (
                Update,
                "b",
                json!({"x": 1, "lease": "30m"}),
                Outcome::NoContent,
            ),
            (
                Read,
                "b",
                json!({}),
                Outcome::lease(1800, r#"{"lease":"30m","x":1}"#),
            ),
            (
                Update,
                "c",
                json!({"x": 1, "ttl": "bogus"}),
                Outcome::NoContent,
            ),
            (
                Read,
                "c",
                json!({}),
                Outcome::lease(2_764_800, r#"{"ttl":"bogus","x":1}"#),
            ),
            (Update, "c2", json!({"x": 1, "ttl": 90}), Outcome::NoContent),
            (
                Read,
                "c2",
                json!({}),
                Outcome::lease(90, r#"{"ttl":90,"x":1}"#),
            ),
            (Update, "d/e", json!({"x": 1}), Outcome::NoContent),
            (
                Read,
                "d/e",
                json!({}),
                Outcome::lease(2_764_800, r#"{"x":1}"#),
            ),
            (
                Update,
                "d",
                json!({}),
                Outcome::error(400, "missing data fields"),
            ),
            (
                List,
                "",
                json!({}),
                Outcome::ok(r#"{"keys":["a","b","c","c2","d/"]}"#),
            ),
            (List, "d/", json!({}), Outcome::ok(r#"{"keys":["e"]}"#)),
            (List, "d", json!({}), Outcome::ok(r#"{"keys":["e"]}"#)),
            (List, "zz/", json!({}), Outcome::NotFound),
            (Delete, "zz", json!({}), Outcome::NoContent),
            (Read, "zz", json!({}), Outcome::NotFound),
            (Read, "", json!({}), Outcome::NotFound),
            (
                Update,
                "",
                json!({"a": 1}),
                Outcome::error(400, "missing path"),
            ),
            // The body's own "path" field is user data: the capture never replaces it.
            (
                Update,
                "x",
                json!({"path": "other", "y": 2}),
                Outcome::NoContent,
            ),
            (
                Read,
                "x",
                json!({}),
                Outcome::lease(2_764_800, r#"{"path":"other","y":2}"#),
            ),
            (
                Patch,
                "x",
                json!({"y": 3}),
                Outcome::error(405, "1 error occurred:\n\t* unsupported operation\n\n"),
            ),
            (Delete, "a", json!({}), Outcome::NoContent),
            (Read, "a", json!({}), Outcome::NotFound),
        ];
        for (operation, path, body, expected) in rows {
            kv.check(operation, path, body, expected).await;
        }
    }

    #[tokio::test]
    async fn kv1_numbers_round_trip_byte_identical() {
        let kv = Harness::new(KvVersion::V1);
        let body: serde_json::Value = serde_json::from_str(
            r#"{"big":123456789012345678901234567890,"f":1.0,"e":1.5e-7,"n":-0,"z":0.000}"#,
        )
        .expect("json");
        kv.check(Update, "n", body, Outcome::NoContent).await;
        kv.check(
            Read,
            "n",
            json!({}),
            Outcome::lease(
                2_764_800,
                r#"{"big":123456789012345678901234567890,"e":1.5e-7,"f":1.0,"n":-0,"z":0.000}"#,
            ),
        )
        .await;
    }

    #[tokio::test]
    async fn kv1_exponents_keep_their_spelling() {
        // REQ-06: `1e3` reads back as `1e3` (serde_json alone respells it `1e+3`). The body
        // is parsed as the HTTP layer parses it.
        let kv = Harness::new(KvVersion::V1);
        let body = tresor_framework::loose::json_verbatim(br#"{"e":1e3,"E":2E-2,"p":3e+1}"#)
            .expect("json");
        kv.check(Update, "x", body, Outcome::NoContent).await;
        kv.check(
            Read,
            "x",
            json!({}),
            Outcome::lease(2_764_800, r#"{"E":2E-2,"e":1e3,"p":3e+1}"#),
        )
        .await;
    }

    #[tokio::test]
    async fn kv1_existence_check_and_key_limit() {
        let kv = Harness::new(KvVersion::V1);
        assert_eq!(kv.exists("a").await, Some(false));
        kv.check(Update, "a", json!({"x": 1}), Outcome::NoContent)
            .await;
        assert_eq!(kv.exists("a").await, Some(true));
        let long = "k".repeat(crate::limits::KEY_PATH_BYTES_MAX + 1);
        kv.check(
            Update,
            &long,
            json!({"x": 1}),
            Outcome::error(400, "key path is longer than 1024 bytes"),
        )
        .await;
        let at_limit = "k".repeat(crate::limits::KEY_PATH_BYTES_MAX);
        kv.check(Update, &at_limit, json!({"x": 1}), Outcome::NoContent)
            .await;
    }
}
