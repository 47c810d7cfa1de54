//! `<mount>/subkeys/<key>` (Vault's `path_subkeys.go`, KV-17): the shape of a version with
//! every value replaced by `null`.

use crate::not_found_with;
use crate::path_data::{VersionInfo, selected_version};
use crate::store::{Kv, checked_key};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Kv>> {
    vec![Path::new("subkeys/{*path}").read(read_subkeys).help(
        "Read the structure of a secret entry from the Key-Value store with the values removed.",
    )]
}

#[derive(Deserialize)]
struct ReadSubkeys {
    #[serde(default)]
    path: String,
    /// 0 is unlimited.
    #[serde(default, deserialize_with = "loose::int")]
    depth: i64,
    #[serde(default, deserialize_with = "loose::int")]
    version: i64,
}

#[derive(Serialize)]
struct SubkeysReply {
    metadata: VersionInfo,
    subkeys: Option<Value>,
}

/// `GET subkeys/<key>?depth=D&version=N`: like a data read, 404 with metadata for a deleted
/// or destroyed version.
async fn read_subkeys(kv: Arc<Kv>, input: Input<ReadSubkeys>) -> Result<Reply, Error> {
    let fields = input.fields;
    let key = checked_key(&fields.path)?;
    let _key_guard = kv.read_lock_key(key).await;
    let Some(meta) = kv.metadata(key).await? else {
        return Err(Error::not_found());
    };
    let number = selected_version(&meta, fields.version);
    let Some(version) = meta.versions.get(&number) else {
        return Err(Error::not_found());
    };
    let metadata = VersionInfo::of(&meta, number, version);
    if version.is_gone(kv.now()) {
        return not_found_with(SubkeysReply {
            metadata,
            subkeys: None,
        });
    }
    let mut data = kv.version_data(key, number).await?;
    remove_values(&mut data, fields.depth, 1);
    // Stored `null` data reads as `null` subkeys, as Go's nil map does.
    let subkeys = if data.is_null() { None } else { Some(data) };
    Reply::data(SubkeysReply { metadata, subkeys })
}

/// Vault's `removeValues`: every leaf (a non-object or an empty object) becomes `null`, and
/// objects at `max_depth` are cut to `null`. `max_depth` 0 is unlimited.
fn remove_values(value: &mut Value, max_depth: i64, depth: i64) {
    let Value::Object(members) = value else {
        return;
    };
    for member in members.values_mut() {
        let descend = match member {
            Value::Object(inner) => (max_depth == 0 || depth < max_depth) && !inner.is_empty(),
            _ => false,
        };
        match descend {
            true => remove_values(member, max_depth, depth + 1),
            false => *member = Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, NOW_TEXT, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Read, Update};

    #[tokio::test]
    async fn kv2_subkeys_depth_matches_bao() {
        // Goal: KV-17 at depths 0, 1, 2 with bao's answers. Method: one nested secret.
        let kv = Harness::new(KvVersion::V2);
        kv.call(
            Update,
            "data/p",
            json!({"data": {"a": {"b": {"c": 1, "d": {}}, "e": [1, 2]}, "f": "x", "g": null}}),
        )
        .await
        .expect("write");
        let metadata = format!(
            r#"{{"created_time":"{NOW_TEXT}","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}}"#
        );
        let rows = [
            (
                json!({}),
                r#"{"a":{"b":{"c":null,"d":null},"e":null},"f":null,"g":null}"#,
            ),
            (json!({"depth": "1"}), r#"{"a":null,"f":null,"g":null}"#),
            (
                json!({"depth": 2}),
                r#"{"a":{"b":null,"e":null},"f":null,"g":null}"#,
            ),
            (
                json!({"depth": 0, "version": 1}),
                r#"{"a":{"b":{"c":null,"d":null},"e":null},"f":null,"g":null}"#,
            ),
        ];
        for (query, subkeys) in rows {
            kv.check(
                Read,
                "subkeys/p",
                query,
                Outcome::ok(&format!(r#"{{"metadata":{metadata},"subkeys":{subkeys}}}"#)),
            )
            .await;
        }
        kv.check(Read, "subkeys/p", json!({"version": 2}), Outcome::NotFound)
            .await;
        kv.check(Read, "subkeys/nope", json!({}), Outcome::NotFound)
            .await;
    }
}
