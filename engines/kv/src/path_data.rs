//! `<mount>/data/<key>` (Vault's `path_data.go`, KV-05..09, KV-12): versioned reads, writes
//! with check-and-set, JSON merge patch and soft delete of the latest version.

use crate::error::KvError;
use crate::input::{cas_option, not_a_map, present};
use crate::not_found_with;
use crate::store::{Kv, checked_key, put_metadata, put_version, version_key};
use crate::types::{Configuration, KeyMetadata, VersionMetadata, deletion_time, time_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tresor_framework::{Captures, Error, Input, Operation, Path, Reply, Request, loose};

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("data/{*path}")
            .read(read_data)
            .write(write_data)
            .on(Operation::Patch, patch_data)
            .delete(delete_data)
            .exists(key_exists)
            .help("Write, Patch, Read, and Delete data in the Key-Value Store."),
    ]
}

/// The metadata of one version as every data endpoint prints it (vaultrs requires
/// `created_time`, `deletion_time`, `destroyed` and `version`).
#[derive(Serialize)]
pub struct VersionInfo {
    created_time: String,
    custom_metadata: Option<BTreeMap<String, String>>,
    deletion_time: String,
    destroyed: bool,
    version: u64,
}

impl VersionInfo {
    pub fn of(meta: &KeyMetadata, number: u64, version: &VersionMetadata) -> VersionInfo {
        VersionInfo {
            created_time: time_text(Some(version.created_time)),
            custom_metadata: meta.custom_metadata_reply(),
            deletion_time: time_text(version.deletion_time),
            destroyed: version.destroyed,
            version: number,
        }
    }
}

#[derive(Deserialize)]
struct ReadData {
    #[serde(default)]
    path: String,
    #[serde(default, deserialize_with = "loose::int")]
    version: i64,
}

#[derive(Serialize)]
struct DataReply {
    data: Option<Value>,
    metadata: VersionInfo,
}

/// `GET data/<key>[?version=N]` (KV-07, KV-12): the data and its version's metadata. A
/// deleted or destroyed version is 404 with the full envelope, `data` null (hvac and the CLI
/// print the metadata); an unknown key or version is a plain 404.
async fn read_data(kv: Arc<Kv>, input: Input<ReadData>) -> Result<Reply, Error> {
    let key = checked_key(&input.fields.path)?;
    let _key_guard = kv.read_lock_key(key).await;
    let Some(meta) = kv.metadata(key).await? else {
        return Err(Error::not_found());
    };
    let number = selected_version(&meta, input.fields.version);
    let Some(version) = meta.versions.get(&number) else {
        return Err(Error::not_found());
    };
    let metadata = VersionInfo::of(&meta, number, version);
    if version.is_gone(kv.now()) {
        return not_found_with(DataReply {
            data: None,
            metadata,
        });
    }
    let data = kv.version_data(key, number).await?;
    Reply::data(DataReply {
        data: Some(data),
        metadata,
    })
}

/// `version` > 0 picks that version; anything else is the current one, as in Vault.
pub fn selected_version(meta: &KeyMetadata, requested: i64) -> u64 {
    match u64::try_from(requested) {
        Ok(number) if number > 0 => number,
        _ => meta.current_version,
    }
}

#[derive(Deserialize)]
struct WriteData {
    #[serde(default)]
    path: String,
    /// `None` when absent; `Some(Value::Null)` is accepted and stored as `null`, as bao does.
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    options: Option<Value>,
}

/// `POST data/<key>` (KV-05, KV-06): a new version, checked against `options.cas` or
/// `cas_required`; answers the new version's metadata.
async fn write_data(kv: Arc<Kv>, input: Input<WriteData>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    let key = checked_key(&fields.path)?;
    let data = match fields.data {
        None => return Err(KvError::NoDataProvided.into()),
        Some(data @ (Value::Object(_) | Value::Null)) => data,
        Some(other) => return Err(not_a_map("data", &other).into()),
    };
    let cas = cas_option(&fields.options)?;
    let _key_guard = kv.lock_key(key).await;
    let config = kv.config().await?;
    let mut meta = kv.metadata(key).await?.unwrap_or_default();
    check_cas(cas, &config, &meta)?;
    let number = commit_version(&kv, key, &mut meta, &config, &data).await?;
    Reply::data(VersionInfo::of(&meta, number, &meta.versions[&number]))
}

/// Vault's `validateCheckAndSetOption`.
fn check_cas(cas: Option<i64>, config: &Configuration, meta: &KeyMetadata) -> Result<(), KvError> {
    match cas {
        Some(cas) if u64::try_from(cas).ok() == Some(meta.current_version) => Ok(()),
        Some(cas) => Err(KvError::CasMismatch {
            expected: cas,
            actual: meta.current_version,
        }),
        None if config.cas_required || meta.cas_required => Err(KvError::CasRequired),
        None => Ok(()),
    }
}

/// Adds a version and stores it, the metadata and the removal of trimmed versions in one
/// atomic batch. The caller holds the key's lock. Returns the new version number.
pub async fn commit_version(
    kv: &Kv,
    key: &str,
    meta: &mut KeyMetadata,
    config: &Configuration,
    data: &Value,
) -> Result<u64, KvError> {
    let now = kv.now();
    let version = VersionMetadata {
        created_time: now,
        deletion_time: deletion_time(now, config, meta),
        destroyed: false,
    };
    let trimmed = meta.add_version(version, config.max_versions);
    let number = meta.current_version;
    let mut operations = vec![put_version(key, number, data), put_metadata(key, meta)];
    operations.extend(
        trimmed
            .into_iter()
            .map(|old| tresor_storage::Operation::Delete {
                key: version_key(key, old),
            }),
    );
    kv.batch(operations).await?;
    Ok(number)
}

/// `PATCH data/<key>` (KV-08): RFC 7386 merge of `data` into the current version, written as
/// a new version. A missing key is 404; a deleted or destroyed current version is 404 with
/// that version's metadata.
async fn patch_data(kv: Arc<Kv>, input: Input<WriteData>) -> Result<Reply, Error> {
    let fields = input.fields;
    let key = checked_key(&fields.path)?;
    let patch = match fields.data {
        None => return Err(KvError::NoDataProvided.into()),
        // A `null` patch replaces the whole document with `null` (RFC 7386), as bao does.
        Some(patch @ (Value::Object(_) | Value::Null)) => patch,
        Some(other) => return Err(not_a_map("data", &other).into()),
    };
    let cas = cas_option(&fields.options)?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Err(Error::not_found());
    };
    let config = kv.config().await?;
    check_cas(cas, &config, &meta)?;
    let current = meta.current_version;
    let Some(version) = meta.versions.get(&current) else {
        return Err(Error::not_found());
    };
    if version.is_gone(kv.now()) {
        return not_found_with(VersionInfo::of(&meta, current, version));
    }
    let mut data = kv.version_data(key, current).await?;
    merge_patch(&mut data, &patch);
    let number = commit_version(&kv, key, &mut meta, &config, &data).await?;
    Reply::data(VersionInfo::of(&meta, number, &meta.versions[&number]))
}

/// JSON merge patch (RFC 7386): `null` removes a member, objects merge, anything else
/// replaces. Recursion is bounded by the request parser's nesting limit.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target) = target else {
        unreachable!("made an object above")
    };
    for (name, value) in patch {
        match value {
            Value::Null => {
                target.remove(name);
            }
            value => merge_patch(target.entry(name.clone()).or_insert(Value::Null), value),
        }
    }
}

#[derive(Deserialize)]
struct KeyPath {
    #[serde(default)]
    path: String,
}

/// `DELETE data/<key>` (KV-09): soft-deletes the latest version; a no-op when it is missing,
/// already deleted or destroyed. 204.
async fn delete_data(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let key = checked_key(&input.fields.path)?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Ok(Reply::NoContent);
    };
    let now = kv.now();
    let current = meta.current_version;
    match meta.versions.get_mut(&current) {
        Some(version) if !version.is_gone(now) => version.deletion_time = Some(now),
        _ => return Ok(Reply::NoContent),
    }
    kv.batch(vec![put_metadata(key, &meta)]).await?;
    Ok(Reply::NoContent)
}

/// A write to `data/<key>` or `metadata/<key>` creates when the key has no metadata yet.
pub async fn key_exists(kv: Arc<Kv>, _request: Request, captures: Captures) -> Result<bool, Error> {
    let key = checked_key(captures.get("path"))?;
    Ok(kv.metadata(key).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use crate::KvVersion;
    use crate::testing::{Harness, NOW_TEXT, Outcome};
    use serde_json::{Value, json};
    use std::sync::Arc;
    use tresor_framework::Operation::{Delete, Patch, Read, Update};
    use tresor_framework::Reply;

    fn meta(version: u64, deletion_time: &str, destroyed: bool) -> String {
        format!(
            r#"{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"{deletion_time}","destroyed":{destroyed},"version":{version}}}"#
        )
    }

    #[tokio::test]
    async fn kv2_data_endpoints_match_bao() {
        // Goal: KV-05..09 and KV-12 rows as bao 2.7.2 answered them (times fixed by the test
        // clock). Method: one sequence on one key.
        let kv = Harness::new(KvVersion::V2);
        let rows: Vec<(_, &str, Value, Outcome)> = vec![
            (
                Update,
                "data/a",
                json!({"data": {"x": 1, "s": "v"}}),
                Outcome::ok(&meta(1, "", false)),
            ),
            (
                Read,
                "data/a",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"data":{{"s":"v","x":1}},"metadata":{}}}"#,
                    meta(1, "", false)
                )),
            ),
            (
                Update,
                "data/a",
                json!({"data": {"x": 2}, "options": {"cas": 0}}),
                Outcome::error(
                    400,
                    "check-and-set parameter did not match the current version",
                ),
            ),
            (
                Update,
                "data/a",
                json!({"data": {"x": 2}, "options": {"cas": "1"}}),
                Outcome::ok(&meta(2, "", false)),
            ),
            (
                Update,
                "data/a",
                json!({"data": {"x": 2}, "options": {"cas": "abc"}}),
                Outcome::error(400, "error parsing check-and-set parameter"),
            ),
            (
                Update,
                "data/a",
                json!({"options": {"cas": 1}}),
                Outcome::error(400, "no data provided"),
            ),
            (
                Update,
                "data/a",
                json!({"data": "str"}),
                Outcome::error(
                    400,
                    "error converting input for field \"data\": '' expected type 'map[string]interface {}', got unconvertible type 'string'",
                ),
            ),
            (
                Update,
                "data/a",
                json!({"data": null}),
                Outcome::ok(&meta(3, "", false)),
            ),
            (
                Read,
                "data/a",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"data":null,"metadata":{}}}"#,
                    meta(3, "", false)
                )),
            ),
            (
                Read,
                "data/a",
                json!({"version": "1"}),
                Outcome::ok(&format!(
                    r#"{{"data":{{"s":"v","x":1}},"metadata":{}}}"#,
                    meta(1, "", false)
                )),
            ),
            (
                Read,
                "data/a",
                json!({"version": "-1"}),
                Outcome::ok(&format!(
                    r#"{{"data":null,"metadata":{}}}"#,
                    meta(3, "", false)
                )),
            ),
            (
                Read,
                "data/a",
                json!({"version": "abc"}),
                Outcome::error(
                    400,
                    "Field validation failed: error converting input for field \"version\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax",
                ),
            ),
            (Read, "data/a", json!({"version": 9}), Outcome::NotFound),
            (Read, "data/nokey", json!({}), Outcome::NotFound),
            (Delete, "data/a", json!({}), Outcome::NoContent),
            (
                Read,
                "data/a",
                json!({}),
                Outcome::gone(&format!(
                    r#"{{"data":null,"metadata":{}}}"#,
                    meta(3, NOW_TEXT, false)
                )),
            ),
            // Deleting again is a no-op, as is deleting a missing key.
            (Delete, "data/a", json!({}), Outcome::NoContent),
            (Delete, "data/nokey", json!({}), Outcome::NoContent),
            (
                Update,
                "data/",
                json!({"data": {"a": 1}}),
                Outcome::error(400, "missing path"),
            ),
        ];
        for (operation, path, body, expected) in rows {
            kv.check(operation, path, body, expected).await;
        }
    }

    #[tokio::test]
    async fn kv2_cas_required_on_mount_and_key() {
        let kv = Harness::new(KvVersion::V2);
        kv.check(
            Update,
            "config",
            json!({"cas_required": true}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Update,
            "data/k",
            json!({"data": {"a": 1}}),
            Outcome::error(400, "check-and-set parameter required for this call"),
        )
        .await;
        kv.check(
            Update,
            "data/k",
            json!({"data": {"a": 1}, "options": {"cas": 0}}),
            Outcome::ok(&meta(1, "", false)),
        )
        .await;
        kv.check(
            Update,
            "config",
            json!({"cas_required": false}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Update,
            "metadata/k",
            json!({"cas_required": true}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Update,
            "data/k",
            json!({"data": {"a": 2}}),
            Outcome::error(400, "check-and-set parameter required for this call"),
        )
        .await;
        kv.check(
            Patch,
            "data/k",
            json!({"data": {"a": 2}}),
            Outcome::error(400, "check-and-set parameter required for this call"),
        )
        .await;
        kv.check(
            Update,
            "data/k",
            json!({"data": {"a": 2}, "options": {"cas": 1}}),
            Outcome::ok(&meta(2, "", false)),
        )
        .await;
    }

    #[tokio::test]
    async fn kv2_patch_merges_into_a_new_version() {
        let kv = Harness::new(KvVersion::V2);
        let rows: Vec<(_, &str, Value, Outcome)> = vec![
            (
                Update,
                "data/p",
                json!({"data": {"a": {"b": {"c": 1, "d": {}}, "e": [1, 2]}, "f": "x", "g": null}}),
                Outcome::ok(&meta(1, "", false)),
            ),
            (
                Patch,
                "data/p",
                json!({"data": {"f": null, "a": {"b": {"c": 2}}, "n": 5}}),
                Outcome::ok(&meta(2, "", false)),
            ),
            (
                Read,
                "data/p",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"data":{{"a":{{"b":{{"c":2,"d":{{}}}},"e":[1,2]}},"g":null,"n":5}},"metadata":{}}}"#,
                    meta(2, "", false)
                )),
            ),
            (
                Patch,
                "data/p",
                json!({"options": {"cas": 1}}),
                Outcome::error(400, "no data provided"),
            ),
            (
                Patch,
                "data/p",
                json!({"data": {"z": 1}, "options": {"cas": 1}}),
                Outcome::error(
                    400,
                    "check-and-set parameter did not match the current version",
                ),
            ),
            (
                Patch,
                "data/p",
                json!({"data": {"z": 1}, "options": {"cas": 2}}),
                Outcome::ok(&meta(3, "", false)),
            ),
            (
                Patch,
                "data/nope",
                json!({"data": {"z": 1}}),
                Outcome::NotFound,
            ),
            (
                Patch,
                "data/p",
                json!({"data": "x"}),
                Outcome::error(
                    400,
                    "error converting input for field \"data\": '' expected type 'map[string]interface {}', got unconvertible type 'string'",
                ),
            ),
            (
                Update,
                "data/p",
                json!({"data": {"a": 1}, "options": "x"}),
                Outcome::error(
                    400,
                    "error converting input for field \"options\": '' expected type 'map[string]interface {}', got unconvertible type 'string'",
                ),
            ),
            (
                Update,
                "data/p",
                json!({"data": {"a": 1}, "options": {"cas": 1.5}}),
                Outcome::error(400, "error parsing check-and-set parameter"),
            ),
            (
                Patch,
                "data/p",
                json!({"data": null}),
                Outcome::ok(&meta(4, "", false)),
            ),
            (
                Read,
                "data/p",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"data":null,"metadata":{}}}"#,
                    meta(4, "", false)
                )),
            ),
            (Delete, "data/p", json!({}), Outcome::NoContent),
            (
                Patch,
                "data/p",
                json!({"data": {"z": 1}}),
                Outcome::gone(&meta(4, NOW_TEXT, false)),
            ),
        ];
        for (operation, path, body, expected) in rows {
            kv.check(operation, path, body, expected).await;
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let rows = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a"]), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
            (json!(null), json!({"a": 1}), json!({"a": 1})),
        ];
        for (mut target, patch, expected) in rows {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected);
        }
    }

    #[tokio::test]
    async fn kv2_numbers_round_trip_byte_identical() {
        // REQ-06: bao itself prints 1.2345678901234568e+29 and 1 here; Vault (UseNumber) and
        // we keep the text.
        let kv = Harness::new(KvVersion::V2);
        let data: Value = serde_json::from_str(r#"{"big":123456789012345678901234567890,"f":1.0,"neg":-12345678901234567890123,"tiny":1e-400}"#).expect("json");
        kv.check(
            Update,
            "data/n",
            json!({ "data": data }),
            Outcome::ok(&meta(1, "", false)),
        )
        .await;
        let expected = format!(
            r#"{{"data":{{"big":123456789012345678901234567890,"f":1.0,"neg":-12345678901234567890123,"tiny":1e-400}},"metadata":{}}}"#,
            meta(1, "", false)
        );
        kv.check(Read, "data/n", json!({}), Outcome::ok(&expected))
            .await;
        let patch: Value = serde_json::from_str(r#"{"data":{"g":2.50}}"#).expect("json");
        kv.check(Patch, "data/n", patch, Outcome::ok(&meta(2, "", false)))
            .await;
        let expected = format!(
            r#"{{"data":{{"big":123456789012345678901234567890,"f":1.0,"g":2.50,"neg":-12345678901234567890123,"tiny":1e-400}},"metadata":{}}}"#,
            meta(2, "", false)
        );
        kv.check(Read, "data/n", json!({}), Outcome::ok(&expected))
            .await;
    }

    #[tokio::test]
    async fn kv2_existence_checks_tell_create_from_update() {
        let kv = Harness::new(KvVersion::V2);
        assert_eq!(kv.exists("data/e").await, Some(false));
        assert_eq!(kv.exists("metadata/e").await, Some(false));
        kv.check(
            Update,
            "data/e",
            json!({"data": {}}),
            Outcome::ok(&meta(1, "", false)),
        )
        .await;
        assert_eq!(kv.exists("data/e").await, Some(true));
        assert_eq!(kv.exists("metadata/e").await, Some(true));
        // Paths without a check are updates.
        assert_eq!(kv.exists("config").await, None);
        assert_eq!(kv.exists("delete/e").await, None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kv2_cas_64_concurrent_writers_lose_no_update() {
        // Goal: CAS is race-free on one key. Method: 64 tasks each read the current version
        // and write with cas=current until one attempt succeeds (bounded retries); every
        // success must own a distinct version and together they must be exactly 1..=64.
        const WRITERS: u64 = 64;
        const ATTEMPTS_MAX: usize = 10_000;
        let kv = Arc::new(Harness::new(KvVersion::V2));
        kv.check(
            Update,
            "metadata/race",
            json!({"max_versions": 100}),
            Outcome::NoContent,
        )
        .await;
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let kv = kv.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..ATTEMPTS_MAX {
                    let current = match kv.call(Read, "metadata/race", json!({})).await {
                        Ok(Reply::Secret(secret)) => secret.data.expect("data")["current_version"]
                            .as_u64()
                            .expect("version"),
                        other => panic!("metadata read failed: {other:?}"),
                    };
                    let body = json!({"data": {"writer": writer}, "options": {"cas": current}});
                    match kv.call(Update, "data/race", body).await {
                        Ok(Reply::Secret(secret)) => {
                            return secret.data.expect("data")["version"]
                                .as_u64()
                                .expect("version");
                        }
                        Err(error)
                            if error.messages()
                                == [
                                    "check-and-set parameter did not match the current version",
                                ] =>
                        {
                            tokio::task::yield_now().await
                        }
                        other => panic!("unexpected answer {other:?}"),
                    }
                }
                panic!("writer {writer} never won a CAS race");
            }));
        }
        let mut versions = Vec::new();
        for task in tasks {
            versions.push(task.await.expect("writer task"));
        }
        versions.sort();
        assert_eq!(
            versions,
            (1..=WRITERS).collect::<Vec<_>>(),
            "each success owns one version, none lost"
        );
        // The stored history agrees: 64 versions, each readable with its writer's data.
        let mut writers = Vec::new();
        for version in 1..=WRITERS {
            match kv
                .call(Read, "data/race", json!({ "version": version }))
                .await
            {
                Ok(Reply::Secret(secret)) => writers.push(
                    secret.data.expect("data")["data"]["writer"]
                        .as_u64()
                        .expect("writer"),
                ),
                other => panic!("version {version} unreadable: {other:?}"),
            }
        }
        writers.sort();
        assert_eq!(writers, (0..WRITERS).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kv2_cas_zero_lets_exactly_one_creator_win() {
        let kv = Arc::new(Harness::new(KvVersion::V2));
        let mut tasks = Vec::new();
        for writer in 0..64 {
            let kv = kv.clone();
            tasks.push(tokio::spawn(async move {
                kv.call(
                    Update,
                    "data/once",
                    json!({"data": {"w": writer}, "options": {"cas": 0}}),
                )
                .await
                .is_ok()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task"));
        }
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn kv2_max_versions_trims_oldest_in_the_same_batch() {
        // Goal: KV-14. Method: mount keeps 3, key asks 5 (the larger wins), then 12 writes.
        let kv = Harness::new(KvVersion::V2);
        kv.check(
            Update,
            "config",
            json!({"max_versions": 3}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Update,
            "metadata/t",
            json!({"max_versions": 5}),
            Outcome::NoContent,
        )
        .await;
        for index in 1..=12 {
            kv.call(Update, "data/t", json!({"data": {"i": index}}))
                .await
                .expect("write");
        }
        let Ok(Reply::Secret(secret)) = kv.call(Read, "metadata/t", json!({})).await else {
            panic!("metadata")
        };
        let data = secret.data.expect("data");
        assert_eq!(data["oldest_version"], json!(8));
        assert_eq!(
            data["versions"]
                .as_object()
                .expect("versions")
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
            ["10", "11", "12", "8", "9"]
        );
        kv.check(Read, "data/t", json!({"version": 7}), Outcome::NotFound)
            .await;
        use tresor_storage::Storage;
        assert_eq!(
            kv.storage.list("v2/versions/t/").await.expect("list"),
            ["10", "11", "12", "8", "9"],
            "trimmed data is gone"
        );
        // Without any setting the default is 10.
        kv.check(
            Update,
            "config",
            json!({"max_versions": 0}),
            Outcome::NoContent,
        )
        .await;
        for index in 1..=11 {
            kv.call(Update, "data/d", json!({"data": {"i": index}}))
                .await
                .expect("write");
        }
        kv.check(Read, "data/d", json!({"version": 1}), Outcome::NotFound)
            .await;
        assert_eq!(
            kv.storage.list("v2/versions/d/").await.expect("list").len(),
            10
        );
    }

    #[tokio::test]
    async fn kv2_key_path_limit() {
        let kv = Harness::new(KvVersion::V2);
        let long = format!("data/{}", "k".repeat(crate::limits::KEY_PATH_BYTES_MAX + 1));
        kv.check(
            Update,
            &long,
            json!({"data": {}}),
            Outcome::error(400, "key path is longer than 1024 bytes"),
        )
        .await;
        let at_limit = format!("data/{}", "k".repeat(crate::limits::KEY_PATH_BYTES_MAX));
        kv.check(
            Update,
            &at_limit,
            json!({"data": {}}),
            Outcome::ok(&meta(1, "", false)),
        )
        .await;
    }
}
