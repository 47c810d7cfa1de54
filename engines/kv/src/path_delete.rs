//! `<mount>/delete/<key>` and `<mount>/undelete/<key>` (Vault's `path_delete.go`, KV-09):
//! soft delete and restore of listed versions.

use crate::error::KvError;
use crate::input::versions;
use crate::store::{Kv, checked_key, put_metadata};
use crate::types::deletion_time;
use serde::Deserialize;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("delete/{*path}")
            .write(delete_versions)
            .help("Marks one or more versions as deleted in the KV store."),
        Path::new("undelete/{*path}")
            .write(undelete_versions)
            .help("Undeletes one or more versions from the KV store."),
    ]
}

#[derive(Deserialize)]
pub struct Versions {
    #[serde(default)]
    pub path: String,
    /// `[1, 2]`, `["1", "2"]` or `"1,2"` (the CLI sends strings).
    #[serde(default, deserialize_with = "versions")]
    pub versions: Vec<i64>,
}

/// The version numbers that can name a version; others are skipped, as in Vault.
pub fn version_numbers(versions: &[i64]) -> impl Iterator<Item = u64> + '_ {
    versions
        .iter()
        .filter_map(|number| u64::try_from(*number).ok())
}

/// `POST delete/<key> {"versions": [...]}`: sets `deletion_time` to now on each live version.
/// Missing versions, destroyed and already deleted ones are skipped. 204.
async fn delete_versions(kv: Arc<Kv>, input: Input<Versions>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.versions.is_empty() {
        return Err(KvError::NoVersions.into());
    }
    let key = checked_key(&fields.path)?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Ok(Reply::NoContent);
    };
    let now = kv.now();
    for number in version_numbers(&fields.versions) {
        if let Some(version) = meta.versions.get_mut(&number)
            && !version.is_gone(now)
        {
            version.deletion_time = Some(now);
        }
    }
    kv.batch(vec![put_metadata(key, &meta)]).await?;
    Ok(Reply::NoContent)
}

/// `POST undelete/<key> {"versions": [...]}`: clears `deletion_time` of each version not
/// destroyed, then applies `delete_version_after` again from now (KV-15). 204.
async fn undelete_versions(kv: Arc<Kv>, input: Input<Versions>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.versions.is_empty() {
        return Err(KvError::NoVersions.into());
    }
    let key = checked_key(&fields.path)?;
    let config = kv.config().await?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Ok(Reply::NoContent);
    };
    let restored_until = deletion_time(kv.now(), &config, &meta);
    for number in version_numbers(&fields.versions) {
        if let Some(version) = meta.versions.get_mut(&number)
            && !version.destroyed
        {
            version.deletion_time = restored_until;
        }
    }
    kv.batch(vec![put_metadata(key, &meta)]).await?;
    Ok(Reply::NoContent)
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, NOW_TEXT, Outcome};
    use serde_json::{Value, json};
    use tresor_framework::Operation::{Read, Update};

    fn read(version: u64, data: &str, deletion_time: &str, destroyed: bool) -> String {
        format!(
            r#"{{"data":{data},"metadata":{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"{deletion_time}","destroyed":{destroyed},"version":{version}}}}}"#
        )
    }

    #[tokio::test]
    async fn kv2_delete_undelete_destroy_versions() {
        // Goal: KV-09 and KV-12 across delete, undelete and destroy. Method: three versions,
        // each read after each change.
        let kv = Harness::new(KvVersion::V2);
        for index in 1..=3 {
            kv.call(Update, "data/d", json!({"data": {"i": index}}))
                .await
                .expect("write");
        }
        let rows: Vec<(_, &str, Value, Outcome)> = vec![
            (
                Update,
                "delete/d",
                json!({}),
                Outcome::error(400, "No version number provided"),
            ),
            (
                Update,
                "undelete/d",
                json!({}),
                Outcome::error(400, "No version number provided"),
            ),
            (
                Update,
                "destroy/d",
                json!({}),
                Outcome::error(400, "no version number provided"),
            ),
            (
                Update,
                "delete/d",
                json!({"versions": "x"}),
                Outcome::error(
                    400,
                    "Field validation failed: error converting input for field \"versions\": decoding failed due to the following error(s):\n\n'[0]' cannot parse value as 'int': strconv.ParseInt: invalid syntax",
                ),
            ),
            (
                Update,
                "delete/d",
                json!({"versions": ["1", 2, 9, -1]}),
                Outcome::NoContent,
            ),
            (
                Read,
                "data/d",
                json!({"version": 1}),
                Outcome::gone(&read(1, "null", NOW_TEXT, false)),
            ),
            (
                Read,
                "data/d",
                json!({"version": 2}),
                Outcome::gone(&read(2, "null", NOW_TEXT, false)),
            ),
            (
                Read,
                "data/d",
                json!({}),
                Outcome::ok(&read(3, r#"{"i":3}"#, "", false)),
            ),
            (
                Read,
                "subkeys/d",
                json!({"version": 1}),
                Outcome::gone(&format!(
                    r#"{{"metadata":{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"{NOW_TEXT}","destroyed":false,"version":1}},"subkeys":null}}"#
                )),
            ),
            (
                Update,
                "undelete/d",
                json!({"versions": "1"}),
                Outcome::NoContent,
            ),
            (
                Read,
                "data/d",
                json!({"version": 1}),
                Outcome::ok(&read(1, r#"{"i":1}"#, "", false)),
            ),
            (
                Update,
                "destroy/d",
                json!({"versions": [2, 3]}),
                Outcome::NoContent,
            ),
            (
                Read,
                "data/d",
                json!({"version": 2}),
                Outcome::gone(&read(2, "null", NOW_TEXT, true)),
            ),
            (
                Read,
                "data/d",
                json!({}),
                Outcome::gone(&read(3, "null", "", true)),
            ),
            // A destroyed version cannot be undeleted; a deleted-then-destroyed one stays gone.
            (
                Update,
                "undelete/d",
                json!({"versions": [2, 3]}),
                Outcome::NoContent,
            ),
            (
                Read,
                "data/d",
                json!({"version": 3}),
                Outcome::gone(&read(3, "null", "", true)),
            ),
            (
                Update,
                "delete/nokey",
                json!({"versions": [1]}),
                Outcome::NoContent,
            ),
            (
                Update,
                "undelete/nokey",
                json!({"versions": [1]}),
                Outcome::NoContent,
            ),
            (
                Update,
                "destroy/nokey",
                json!({"versions": [1]}),
                Outcome::NoContent,
            ),
        ];
        for (operation, path, body, expected) in rows {
            kv.check(operation, path, body, expected).await;
        }
        use tresor_storage::Storage;
        assert_eq!(
            kv.storage
                .get(&crate::store::version_key("d", 3))
                .await
                .expect("get"),
            None,
            "destroy erases the data"
        );
        assert!(
            kv.storage
                .get(&crate::store::version_key("d", 1))
                .await
                .expect("get")
                .is_some()
        );
    }

    #[tokio::test]
    async fn kv2_delete_version_after_expires_and_undelete_rearms() {
        // Goal: KV-15. Method: key 30s, mount 10s (the smaller wins); move the clock.
        let kv = Harness::new(KvVersion::V2);
        let ten_seconds_later = "2024-03-22T02:24:16.945319214Z";
        kv.check(
            Update,
            "config",
            json!({"delete_version_after": "10s"}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Update,
            "metadata/t",
            json!({"delete_version_after": 30}),
            Outcome::NoContent,
        )
        .await;
        let written = format!(
            r#"{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"{ten_seconds_later}","destroyed":false,"version":1}}"#
        );
        kv.check(
            Update,
            "data/t",
            json!({"data": {"a": 1}}),
            Outcome::ok(&written),
        )
        .await;
        kv.check(
            Read,
            "data/t",
            json!({}),
            Outcome::ok(&read(1, r#"{"a":1}"#, ten_seconds_later, false)),
        )
        .await;
        kv.advance(10);
        kv.check(
            Read,
            "data/t",
            json!({}),
            Outcome::gone(&read(1, "null", ten_seconds_later, false)),
        )
        .await;
        // Undelete re-arms from now: now + 10s.
        kv.check(
            Update,
            "undelete/t",
            json!({"versions": [1]}),
            Outcome::NoContent,
        )
        .await;
        kv.check(
            Read,
            "data/t",
            json!({}),
            Outcome::ok(&read(
                1,
                r#"{"a":1}"#,
                "2024-03-22T02:24:26.945319214Z",
                false,
            )),
        )
        .await;
        // A negative mount value disables it for every key, whatever the key says.
        kv.check(
            Update,
            "config",
            json!({"delete_version_after": -1}),
            Outcome::NoContent,
        )
        .await;
        let created = "2024-03-22T02:24:16.945319214Z";
        let written = format!(
            r#"{{"created_time":"{created}","custom_metadata":null,"deletion_time":"","destroyed":false,"version":2}}"#
        );
        kv.check(
            Update,
            "data/t",
            json!({"data": {"a": 2}}),
            Outcome::ok(&written),
        )
        .await;
        // Zero on the mount clears it: the key's 30s applies again.
        kv.check(
            Update,
            "config",
            json!({"delete_version_after": 0}),
            Outcome::NoContent,
        )
        .await;
        let written = format!(
            r#"{{"created_time":"{created}","custom_metadata":null,"deletion_time":"2024-03-22T02:24:46.945319214Z","destroyed":false,"version":3}}"#
        );
        kv.check(
            Update,
            "data/t",
            json!({"data": {"a": 3}}),
            Outcome::ok(&written),
        )
        .await;
    }
}
