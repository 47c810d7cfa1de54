//! Moving a v1 mount's entries into the v2 layout when the mount is tuned to version 2
//! (Vault's `upgrade.go`). Each entry becomes version 1 of its key, with
//! `oldest_version` 1 as Vault's upgrade leaves it.

use crate::error::KvError;
use crate::limits::{UPGRADE_FOLDER_DEPTH_MAX, UPGRADE_KEYS_MAX};
use crate::store::{V1_PREFIX, V2_CONFIG, get_record, metadata_key, put_metadata, put_version};
use crate::types::{Configuration, KeyMetadata, Timestamp, VersionMetadata};
use serde_json::Value;
use tresor_framework::StorageView;
use tresor_storage::{Operation, Storage};

/// Moves every v1 entry of the mount into the v2 layout. Each key moves in one atomic batch
/// (version, metadata, removal of the v1 entry), so an interrupted upgrade resumes where it
/// stopped when run again. The caller runs it before the mount serves v2 requests.
pub async fn upgrade_v1_to_v2(storage: &StorageView) -> Result<(), KvError> {
    upgrade_at(storage, Timestamp::now()).await
}

pub(crate) async fn upgrade_at(storage: &StorageView, now: Timestamp) -> Result<(), KvError> {
    let config: Configuration = get_record(storage, V2_CONFIG).await?.unwrap_or_default();
    for key in collect_v1_keys(storage).await? {
        upgrade_key(storage, &key, &config, now).await?;
    }
    Ok(())
}

/// Every v1 key, walking folders breadth first within the upgrade bounds.
async fn collect_v1_keys(storage: &StorageView) -> Result<Vec<String>, KvError> {
    let mut keys = Vec::new();
    let mut folders = vec![(String::new(), 0usize)];
    while let Some((folder, depth)) = folders.pop() {
        if depth > UPGRADE_FOLDER_DEPTH_MAX {
            return Err(KvError::UpgradeTooLarge);
        }
        for name in storage.list(&format!("{V1_PREFIX}{folder}")).await? {
            let path = format!("{folder}{name}");
            match name.ends_with('/') {
                true => folders.push((path, depth + 1)),
                false => keys.push(path),
            }
            if keys.len() + folders.len() > UPGRADE_KEYS_MAX {
                return Err(KvError::UpgradeTooLarge);
            }
        }
    }
    keys.sort();
    Ok(keys)
}

async fn upgrade_key(
    storage: &StorageView,
    key: &str,
    config: &Configuration,
    now: Timestamp,
) -> Result<(), KvError> {
    let v1_key = format!("{V1_PREFIX}{key}");
    let Some(data) = get_record::<Value>(storage, &v1_key).await? else {
        return Ok(());
    };
    let version = VersionMetadata {
        created_time: now,
        deletion_time: None,
        destroyed: false,
    };
    // A key already present in v2 (a re-run after a partial write cannot cause this, the
    // batch is atomic) keeps its history: the v1 value becomes its next version.
    let (mut meta, max_versions) =
        match get_record::<KeyMetadata>(storage, &metadata_key(key)).await? {
            Some(meta) => (meta, config.max_versions),
            None => (KeyMetadata::default(), 1),
        };
    let trimmed = meta.add_version(version, max_versions);
    let number = meta.current_version;
    let mut operations = vec![
        put_version(key, number, &data),
        put_metadata(key, &meta),
        Operation::Delete { key: v1_key },
    ];
    operations.extend(trimmed.into_iter().map(|old| Operation::Delete {
        key: crate::store::version_key(key, old),
    }));
    storage.batch(operations).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::upgrade_at;
    use crate::KvVersion;
    use crate::testing::{Harness, NOW, NOW_TEXT, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{List, Read, Update};
    use tresor_storage::Storage;

    #[tokio::test]
    async fn kv1_to_kv2_upgrade_moves_every_entry() {
        // Goal: tuning a v1 mount to v2 keeps every secret, byte-exact, as version 1.
        // Method: write through a v1 backend, upgrade the same storage, read through v2.
        let v1 = Harness::new(KvVersion::V1);
        v1.check(
            Update,
            "a",
            json!({"x": 1.0, "ttl": "1h"}),
            Outcome::NoContent,
        )
        .await;
        v1.check(
            Update,
            "dir/b",
            json!({"y": 123456789012345678901234567890_u128}),
            Outcome::NoContent,
        )
        .await;
        v1.check(
            Update,
            "dir/deeper/c",
            json!({"z": "v"}),
            Outcome::NoContent,
        )
        .await;
        upgrade_at(&v1.storage, NOW).await.expect("upgrade");
        assert_eq!(
            v1.storage.list("v1/").await.expect("list"),
            Vec::<String>::new(),
            "v1 entries are moved, not copied"
        );
        let v2 = Harness::over(v1.storage.clone(), KvVersion::V2);
        let metadata = format!(
            r#"{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}}"#
        );
        v2.check(
            Read,
            "data/a",
            json!({}),
            Outcome::ok(&format!(
                r#"{{"data":{{"ttl":"1h","x":1.0}},"metadata":{metadata}}}"#
            )),
        )
        .await;
        v2.check(
            Read,
            "data/dir/b",
            json!({}),
            Outcome::ok(&format!(
                r#"{{"data":{{"y":123456789012345678901234567890}},"metadata":{metadata}}}"#
            )),
        )
        .await;
        v2.check(
            Read,
            "data/dir/deeper/c",
            json!({}),
            Outcome::ok(&format!(r#"{{"data":{{"z":"v"}},"metadata":{metadata}}}"#)),
        )
        .await;
        v2.check(
            List,
            "metadata/",
            json!({}),
            Outcome::ok(r#"{"keys":["a","dir/"]}"#),
        )
        .await;
        v2.check(
            Read,
            "metadata/a",
            json!({}),
            Outcome::ok(&format!(
                r#"{{"cas_required":false,"created_time":"{NOW_TEXT}","current_version":1,"custom_metadata":null,"delete_version_after":"0s","max_versions":0,"oldest_version":1,"updated_time":"{NOW_TEXT}","versions":{{"1":{{"created_time":"{NOW_TEXT}","deletion_time":"","destroyed":false}}}}}}"#
            )),
        )
        .await;
        // The next write is version 2; running the upgrade again changes nothing.
        upgrade_at(&v1.storage, NOW).await.expect("idempotent");
        v2.check(
            Update,
            "data/a",
            json!({"data": {"x": 2}, "options": {"cas": 1}}),
            Outcome::ok(&metadata.replace("\"version\":1", "\"version\":2")),
        )
        .await;
    }
}
