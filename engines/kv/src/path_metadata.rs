//! `<mount>/metadata/<key>` (Vault's `path_metadata.go`, KV-10, KV-11, KV-13): key settings,
//! the version list, listing, and permanent deletion of a key.

use crate::error::KvError;
use crate::input::{checked_max_versions, custom_metadata, not_a_map, present};
use crate::path_data::key_exists;
use crate::store::{Kv, V2_METADATA_PREFIX, checked_key, put_metadata, version_key};
use crate::types::{KeyMetadata, time_text};
use crate::warnings_reply;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tresor_framework::{Error, Input, Operation, Path, Reply, loose};
use tresor_storage::Storage;

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("metadata/{*path}")
            .read(read_metadata)
            .write(write_metadata)
            .on(Operation::Patch, patch_metadata)
            .delete(delete_metadata)
            .list(list_metadata)
            .exists(key_exists)
            .help("Allows interaction with key metadata and settings in the KV store."),
    ]
}

const CAS_REQUIRED_IGNORED: &str =
    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.";

#[derive(Deserialize)]
struct KeyPath {
    #[serde(default)]
    path: String,
}

#[derive(Serialize)]
struct VersionSummary {
    created_time: String,
    deletion_time: String,
    destroyed: bool,
}

#[derive(Serialize)]
struct MetadataReply {
    cas_required: bool,
    created_time: String,
    current_version: u64,
    custom_metadata: Option<BTreeMap<String, String>>,
    /// Go's `Duration.String()`, `"0s"` when unset.
    delete_version_after: String,
    /// 0 means "use the mount's setting".
    max_versions: u32,
    /// 0 until versions are trimmed.
    oldest_version: u64,
    updated_time: String,
    versions: BTreeMap<String, VersionSummary>,
}

/// `GET metadata/<key>` (KV-10).
async fn read_metadata(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let key = checked_key(&input.fields.path)?;
    let Some(meta) = kv.metadata(key).await? else {
        return Err(Error::not_found());
    };
    let versions = meta
        .versions
        .iter()
        .map(|(number, version)| {
            let summary = VersionSummary {
                created_time: time_text(Some(version.created_time)),
                deletion_time: time_text(version.deletion_time),
                destroyed: version.destroyed,
            };
            (number.to_string(), summary)
        })
        .collect();
    Reply::data(MetadataReply {
        cas_required: meta.cas_required,
        created_time: time_text(meta.created_time),
        current_version: meta.current_version,
        custom_metadata: meta.custom_metadata_reply(),
        delete_version_after: loose::format_go_duration(meta.delete_version_after_seconds),
        max_versions: meta.max_versions,
        oldest_version: meta.oldest_version,
        updated_time: time_text(meta.updated_time),
        versions,
    })
}

#[derive(Deserialize)]
struct WriteMetadata {
    #[serde(default)]
    path: String,
    #[serde(default, deserialize_with = "loose::opt_int")]
    max_versions: Option<i64>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    cas_required: Option<bool>,
    /// Never negative for a key (the loose parser refuses `-1h`).
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    delete_version_after: Option<u64>,
    #[serde(default, deserialize_with = "present")]
    custom_metadata: Option<Value>,
}

/// `POST metadata/<key>` (KV-11): sets the fields sent, creating the metadata of a key not yet
/// written. 204, or 200 with Vault's warning when `cas_required=false` meets a mount that
/// requires CAS.
async fn write_metadata(kv: Arc<Kv>, input: Input<WriteMetadata>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    let key = checked_key(&fields.path)?;
    if fields.max_versions.is_none()
        && fields.cas_required.is_none()
        && fields.delete_version_after.is_none()
        && fields.custom_metadata.is_none()
    {
        return Ok(Reply::NoContent);
    }
    let max_versions = fields.max_versions.map(checked_max_versions).transpose()?;
    let custom = match &fields.custom_metadata {
        None => None,
        Some(Value::Object(raw)) => Some(custom_metadata(raw, false)?),
        // Vault's TypeMap takes null as an empty map.
        Some(Value::Null) => Some(BTreeMap::new()),
        Some(other) => return Err(not_a_map("custom_metadata", other).into()),
    };
    let config = kv.config().await?;
    let warnings = cas_warning(config.cas_required, fields.cas_required);
    let _key_guard = kv.lock_key(key).await;
    let mut meta = match kv.metadata(key).await? {
        Some(meta) => meta,
        None => {
            let now = kv.now();
            KeyMetadata {
                created_time: Some(now),
                updated_time: Some(now),
                ..KeyMetadata::default()
            }
        }
    };
    if let Some(max_versions) = max_versions {
        meta.max_versions = max_versions;
    }
    if let Some(cas_required) = fields.cas_required {
        meta.cas_required = cas_required;
    }
    if let Some(seconds) = fields.delete_version_after {
        meta.delete_version_after_seconds = seconds;
    }
    if let Some(custom) = custom {
        meta.custom_metadata = custom;
    }
    kv.batch(vec![put_metadata(key, &meta)]).await?;
    Ok(warnings_reply(warnings))
}

fn cas_warning(mount_requires_cas: bool, key_cas_required: Option<bool>) -> Vec<String> {
    match (mount_requires_cas, key_cas_required) {
        (true, Some(false)) => vec![CAS_REQUIRED_IGNORED.to_string()],
        _ => Vec::new(),
    }
}

/// `PATCH metadata/<key>` (KV-11): a JSON merge patch of the four settings. `null` resets a
/// setting; inside `custom_metadata`, `null` removes one entry. A missing key is 404.
async fn patch_metadata(kv: Arc<Kv>, input: Input<PatchMetadata>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.path.is_empty() {
        return Err(KvError::MissingPath.into());
    }
    let key = checked_key(&fields.path)?;
    let max_versions = fields
        .max_versions
        .map(|value| value.map(checked_max_versions).transpose())
        .transpose()?;
    let custom = match &fields.custom_metadata {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Object(raw)) => {
            custom_metadata(raw, true)?;
            Some(Some(raw.clone()))
        }
        Some(other) => return Err(not_a_map("custom_metadata", other).into()),
    };
    let config = kv.config().await?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Err(Error::not_found());
    };
    let warnings = cas_warning(config.cas_required, fields.cas_required.flatten());
    if let Some(max_versions) = max_versions {
        meta.max_versions = max_versions.unwrap_or(0);
    }
    if let Some(cas_required) = fields.cas_required {
        meta.cas_required = cas_required.unwrap_or(false);
    }
    if let Some(seconds) = fields.delete_version_after {
        meta.delete_version_after_seconds = seconds.unwrap_or(0);
    }
    match custom {
        None => {}
        Some(None) => meta.custom_metadata.clear(),
        Some(Some(patch)) => {
            for (name, value) in patch {
                match custom_metadata_value(value) {
                    Some(text) => meta.custom_metadata.insert(name, text),
                    None => meta.custom_metadata.remove(&name),
                };
            }
        }
    }
    kv.batch(vec![put_metadata(key, &meta)]).await?;
    Ok(warnings_reply(warnings))
}

/// One already validated `custom_metadata` patch value; `None` removes the entry.
fn custom_metadata_value(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Bool(flag) => Some(if flag { "1" } else { "0" }.to_string()),
        other => Some(other.to_string()),
    }
}

/// Each field is `None` when absent and `Some(None)` when `null` (a merge-patch removal).
#[derive(Deserialize)]
struct PatchMetadata {
    #[serde(default)]
    path: String,
    #[serde(default, deserialize_with = "patch_int")]
    max_versions: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch_bool")]
    cas_required: Option<Option<bool>>,
    #[serde(default, deserialize_with = "patch_seconds")]
    delete_version_after: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    custom_metadata: Option<Value>,
}

fn patch_int<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    loose::opt_int(deserializer).map(Some)
}

fn patch_bool<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<bool>>, D::Error> {
    loose::opt_bool(deserializer).map(Some)
}

fn patch_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<u64>>, D::Error> {
    loose::opt_seconds(deserializer).map(Some)
}

/// `DELETE metadata/<key>` (KV-11): every version and the metadata, in one batch. 204.
async fn delete_metadata(kv: Arc<Kv>, input: Input<KeyPath>) -> Result<Reply, Error> {
    let key = checked_key(&input.fields.path)?;
    let _key_guard = kv.lock_key(key).await;
    let Some(meta) = kv.metadata(key).await? else {
        return Ok(Reply::NoContent);
    };
    let mut operations: Vec<tresor_storage::Operation> = meta
        .versions
        .keys()
        .map(|number| tresor_storage::Operation::Delete {
            key: version_key(key, *number),
        })
        .collect();
    operations.push(tresor_storage::Operation::Delete {
        key: crate::store::metadata_key(key),
    });
    kv.batch(operations).await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize)]
struct ListMetadata {
    #[serde(default)]
    path: String,
    /// Vault's paging: entries strictly after this name, at most `limit` of them.
    #[serde(default, deserialize_with = "loose::string")]
    after: String,
    #[serde(default, deserialize_with = "loose::int")]
    limit: i64,
}

#[derive(Serialize)]
struct KeyList {
    keys: Vec<String>,
}

/// `LIST metadata/<prefix>/` (KV-13): one level, folders end in `/`; none is 404.
async fn list_metadata(kv: Arc<Kv>, input: Input<ListMetadata>) -> Result<Reply, Error> {
    let fields = input.fields;
    let mut prefix = checked_key(&fields.path)?.to_string();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let mut keys = kv
        .storage
        .list(&format!("{V2_METADATA_PREFIX}{prefix}"))
        .await
        .map_err(KvError::from)?;
    if !fields.after.is_empty() {
        keys.retain(|name| name.as_str() > fields.after.as_str());
    }
    if let Ok(limit) = usize::try_from(fields.limit)
        && limit > 0
    {
        keys.truncate(limit);
    }
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    Reply::data(KeyList { keys })
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, NOW_TEXT, Outcome};
    use serde_json::{Value, json};
    use tresor_framework::Operation::{Delete, List, Patch, Read, Update};

    #[tokio::test]
    async fn kv2_metadata_endpoints_match_bao() {
        // Goal: KV-10, KV-11, KV-14 as bao answered them. Method: the bao sequence on key m.
        let kv = Harness::new(KvVersion::V2);
        let version = |deletion: &str| {
            format!(
                r#"{{"created_time":"{NOW_TEXT}","deletion_time":"{deletion}","destroyed":false}}"#
            )
        };
        let later = "2024-03-22T03:24:06.945319214Z";
        let rows: Vec<(_, &str, Value, Outcome)> = vec![
            (Read, "metadata/m", json!({}), Outcome::NotFound),
            (Update, "metadata/m", json!({}), Outcome::NoContent),
            (Read, "metadata/m", json!({}), Outcome::NotFound),
            (
                Update,
                "metadata/m",
                json!({"max_versions": 2, "cas_required": "true", "delete_version_after": "1h", "custom_metadata": {"a": 1, "b": true}}),
                Outcome::NoContent,
            ),
            (
                Read,
                "metadata/m",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"cas_required":true,"created_time":"{NOW_TEXT}","current_version":0,"custom_metadata":{{"a":"1","b":"1"}},"delete_version_after":"1h0m0s","max_versions":2,"oldest_version":0,"updated_time":"{NOW_TEXT}","versions":{{}}}}"#
                )),
            ),
            (
                Update,
                "data/m",
                json!({"data": {"k": "v"}}),
                Outcome::error(400, "check-and-set parameter required for this call"),
            ),
            (
                Update,
                "data/m",
                json!({"data": {"k": "v"}, "options": {"cas": 0}}),
                Outcome::ok(&format!(
                    r#"{{"created_time":"{NOW_TEXT}","custom_metadata":{{"a":"1","b":"1"}},"deletion_time":"{later}","destroyed":false,"version":1}}"#
                )),
            ),
            (
                Update,
                "data/m",
                json!({"data": {"k": "v2"}, "options": {"cas": 1}}),
                Outcome::ok(&format!(
                    r#"{{"created_time":"{NOW_TEXT}","custom_metadata":{{"a":"1","b":"1"}},"deletion_time":"{later}","destroyed":false,"version":2}}"#
                )),
            ),
            (
                Update,
                "data/m",
                json!({"data": {"k": "v3"}, "options": {"cas": 2}}),
                Outcome::ok(&format!(
                    r#"{{"created_time":"{NOW_TEXT}","custom_metadata":{{"a":"1","b":"1"}},"deletion_time":"{later}","destroyed":false,"version":3}}"#
                )),
            ),
            (
                Read,
                "metadata/m",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"cas_required":true,"created_time":"{NOW_TEXT}","current_version":3,"custom_metadata":{{"a":"1","b":"1"}},"delete_version_after":"1h0m0s","max_versions":2,"oldest_version":2,"updated_time":"{NOW_TEXT}","versions":{{"2":{},"3":{}}}}}"#,
                    version(later),
                    version(later)
                )),
            ),
            (Read, "data/m", json!({"version": 1}), Outcome::NotFound),
            (
                Update,
                "metadata/m",
                json!({"custom_metadata": {"": "x", "k": ""}}),
                Outcome::error(
                    400,
                    "2 errors occurred:\n\t* custom_metadata validation failed: length of key \"\" is 0 but must be 0 < len(key) <= 128\n\t* custom_metadata validation failed: length of value for key \"k\" is 0 but must be 0 < len(value) <= 512\n\n",
                ),
            ),
            (
                Update,
                "metadata/m",
                json!({"custom_metadata": "x"}),
                Outcome::error(
                    400,
                    "error converting input for field \"custom_metadata\": '' expected type 'map[string]interface {}', got unconvertible type 'string'",
                ),
            ),
            (
                Update,
                "metadata/m",
                json!({"max_versions": "abc"}),
                Outcome::error(
                    400,
                    "error converting input for field \"max_versions\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax",
                ),
            ),
            (
                Update,
                "metadata/m",
                json!({"max_versions": 1001}),
                Outcome::error(400, "max_versions must be at most 1000"),
            ),
            (
                Update,
                "metadata/m",
                json!({"delete_version_after": "-1h"}),
                Outcome::error(
                    400,
                    "error converting input for field \"delete_version_after\": cannot provide negative value '-3600'",
                ),
            ),
            (
                Update,
                "config",
                json!({"cas_required": true}),
                Outcome::NoContent,
            ),
            (
                Update,
                "metadata/m",
                json!({"cas_required": false}),
                Outcome::warning(
                    200,
                    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.",
                ),
            ),
            (
                Patch,
                "metadata/m",
                json!({"cas_required": false, "custom_metadata": {"a": null, "c": "3"}}),
                Outcome::warning(
                    200,
                    "\"cas_required\" set to false, but is mandated by backend config. This value will be ignored.",
                ),
            ),
            (
                Update,
                "config",
                json!({"cas_required": false}),
                Outcome::NoContent,
            ),
            (
                Patch,
                "metadata/m",
                json!({"max_versions": null, "delete_version_after": "2h"}),
                Outcome::NoContent,
            ),
            (
                Read,
                "metadata/m",
                json!({}),
                Outcome::ok(&format!(
                    r#"{{"cas_required":false,"created_time":"{NOW_TEXT}","current_version":3,"custom_metadata":{{"b":"1","c":"3"}},"delete_version_after":"2h0m0s","max_versions":0,"oldest_version":2,"updated_time":"{NOW_TEXT}","versions":{{"2":{},"3":{}}}}}"#,
                    version(later),
                    version(later)
                )),
            ),
            (
                Patch,
                "metadata/m",
                json!({"custom_metadata": null}),
                Outcome::NoContent,
            ),
            (
                Patch,
                "metadata/nope",
                json!({"max_versions": 1}),
                Outcome::NotFound,
            ),
            (Delete, "metadata/m", json!({}), Outcome::NoContent),
            (Read, "metadata/m", json!({}), Outcome::NotFound),
            (Read, "data/m", json!({"version": 3}), Outcome::NotFound),
            (Delete, "metadata/m", json!({}), Outcome::NoContent),
        ];
        for (operation, path, body, expected) in rows {
            kv.check(operation, path, body, expected).await;
        }
    }

    #[tokio::test]
    async fn kv2_metadata_delete_removes_every_record() {
        let kv = Harness::new(KvVersion::V2);
        for index in 0..3 {
            kv.call(Update, "data/gone", json!({"data": {"i": index}}))
                .await
                .expect("write");
        }
        kv.check(Delete, "metadata/gone", json!({}), Outcome::NoContent)
            .await;
        use tresor_storage::Storage;
        assert_eq!(
            kv.storage.list("v2/versions/").await.expect("list"),
            Vec::<String>::new()
        );
        assert_eq!(
            kv.storage.list("v2/metadata/").await.expect("list"),
            Vec::<String>::new()
        );
    }

    #[tokio::test]
    async fn kv2_list_metadata_one_level_with_paging() {
        let kv = Harness::new(KvVersion::V2);
        for key in ["a", "dir/one", "dir/two", "m", "p"] {
            kv.call(Update, &format!("data/{key}"), json!({"data": {"x": 1}}))
                .await
                .expect("write");
        }
        let rows: Vec<(&str, Value, Outcome)> = vec![
            (
                "metadata/",
                json!({}),
                Outcome::ok(r#"{"keys":["a","dir/","m","p"]}"#),
            ),
            (
                "metadata",
                json!({}),
                Outcome::ok(r#"{"keys":["a","dir/","m","p"]}"#),
            ),
            (
                "metadata/dir/",
                json!({}),
                Outcome::ok(r#"{"keys":["one","two"]}"#),
            ),
            (
                "metadata/dir",
                json!({}),
                Outcome::ok(r#"{"keys":["one","two"]}"#),
            ),
            ("metadata/empty/", json!({}), Outcome::NotFound),
            (
                "metadata/",
                json!({"after": "a", "limit": "2"}),
                Outcome::ok(r#"{"keys":["dir/","m"]}"#),
            ),
            ("metadata/", json!({"after": "p"}), Outcome::NotFound),
        ];
        for (path, body, expected) in rows {
            kv.check(List, path, body, expected).await;
        }
    }
}
