//! `<mount>/destroy/<key>` (Vault's `path_destroy.go`, KV-09): permanent removal of the data
//! of listed versions; their metadata stays, marked `destroyed`.

use crate::error::KvError;
use crate::path_delete::{Versions, version_numbers};
use crate::store::{Kv, checked_key, put_metadata, version_key};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};
use tresor_storage::Operation;

pub fn paths() -> Vec<Path<Kv>> {
    vec![
        Path::new("destroy/{*path}")
            .write(destroy_versions)
            .help("Permanently removes one or more versions in the KV store"),
    ]
}

/// `POST destroy/<key> {"versions": [...]}`: marks each version destroyed and erases its data,
/// metadata and deletions in one batch. 204, also for a missing key.
async fn destroy_versions(kv: Arc<Kv>, input: Input<Versions>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.versions.is_empty() {
        return Err(KvError::NoVersionsToDestroy.into());
    }
    let key = checked_key(&fields.path)?;
    let _key_guard = kv.lock_key(key).await;
    let Some(mut meta) = kv.metadata(key).await? else {
        return Ok(Reply::NoContent);
    };
    let mut erased = Vec::new();
    for number in version_numbers(&fields.versions) {
        if let Some(version) = meta.versions.get_mut(&number)
            && !version.destroyed
        {
            version.destroyed = true;
            erased.push(Operation::Delete {
                key: version_key(key, number),
            });
        }
    }
    let mut operations = vec![put_metadata(key, &meta)];
    operations.extend(erased);
    kv.batch(operations).await?;
    Ok(Reply::NoContent)
}
