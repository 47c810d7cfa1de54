//! The engine's state and its storage layout. Everything a handler reads or writes goes
//! through here, so the layout is written down once:
//!
//! | key                         | record                                   |
//! |-----------------------------|------------------------------------------|
//! | `v1/<key>`                  | KV v1 entry: the user's JSON object       |
//! | `v2/config`                 | [`Configuration`]                         |
//! | `v2/metadata/<key>`         | [`KeyMetadata`]                           |
//! | `v2/versions/<key>/<n>`     | version `n` of `<key>`: the user's JSON   |
//!
//! The version number is the last segment and never contains `/`, so `(key, n)` maps to one
//! storage key only. v1 and v2 live under separate prefixes so an upgrade can move one into
//! the other without a user key ever colliding with engine records.

use crate::KvVersion;
use crate::error::KvError;
use crate::limits::{KEY_LOCK_STRIPES, KEY_PATH_BYTES_MAX};
use crate::types::{Configuration, KeyMetadata, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tresor_framework::StorageView;
use tresor_storage::{Operation, Storage};

pub(crate) const V1_PREFIX: &str = "v1/";
pub(crate) const V2_CONFIG: &str = "v2/config";
pub(crate) const V2_METADATA_PREFIX: &str = "v2/metadata/";
pub(crate) const V2_VERSIONS_PREFIX: &str = "v2/versions/";

/// Where the engine gets "now". Tests move it forward to expire versions.
pub(crate) type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The state behind one mount. **Invariant:** every read-modify-write of a key's metadata
/// holds that key's stripe lock for writing, so concurrent CAS writers cannot lose an update.
pub struct Kv {
    pub(crate) storage: StorageView,
    pub(crate) version: KvVersion,
    key_locks: Vec<RwLock<()>>,
    config_lock: Mutex<()>,
    clock: Clock,
}

impl Kv {
    pub(crate) fn new(storage: StorageView, version: KvVersion, clock: Clock) -> Kv {
        let key_locks = (0..KEY_LOCK_STRIPES).map(|_| RwLock::new(())).collect();
        Kv {
            storage,
            version,
            key_locks,
            config_lock: Mutex::new(()),
            clock,
        }
    }

    pub(crate) fn now(&self) -> Timestamp {
        (self.clock)()
    }

    fn stripe(&self, key: &str) -> &RwLock<()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        &self.key_locks[(hasher.finish() as usize) & (KEY_LOCK_STRIPES - 1)]
    }

    /// Exclusive access to one key's metadata and versions.
    pub(crate) async fn lock_key(&self, key: &str) -> RwLockWriteGuard<'_, ()> {
        self.stripe(key).write().await
    }

    /// Shared access: a reader never sees metadata whose version record was just trimmed.
    pub(crate) async fn read_lock_key(&self, key: &str) -> RwLockReadGuard<'_, ()> {
        self.stripe(key).read().await
    }

    pub(crate) async fn lock_config(&self) -> MutexGuard<'_, ()> {
        self.config_lock.lock().await
    }

    pub(crate) async fn config(&self) -> Result<Configuration, KvError> {
        Ok(get_record(&self.storage, V2_CONFIG)
            .await?
            .unwrap_or_default())
    }

    pub(crate) async fn put_config(&self, config: &Configuration) -> Result<(), KvError> {
        self.storage.put(V2_CONFIG, encode(config)).await?;
        Ok(())
    }

    pub(crate) async fn metadata(&self, key: &str) -> Result<Option<KeyMetadata>, KvError> {
        get_record(&self.storage, &metadata_key(key)).await
    }

    /// The data of one version; a live version without its record is an internal fault.
    pub(crate) async fn version_data(&self, key: &str, version: u64) -> Result<Value, KvError> {
        match get_record(&self.storage, &version_key(key, version)).await? {
            Some(data) => Ok(data),
            None => Err(KvError::MissingVersionData),
        }
    }

    pub(crate) async fn batch(&self, operations: Vec<Operation>) -> Result<(), KvError> {
        self.storage.batch(operations).await?;
        Ok(())
    }
}

pub(crate) fn metadata_key(key: &str) -> String {
    format!("{V2_METADATA_PREFIX}{key}")
}

pub(crate) fn version_key(key: &str, version: u64) -> String {
    format!("{V2_VERSIONS_PREFIX}{key}/{version}")
}

pub(crate) fn put_metadata(key: &str, meta: &KeyMetadata) -> Operation {
    Operation::Put {
        key: metadata_key(key),
        value: encode(meta),
    }
}

pub(crate) fn put_version(key: &str, version: u64, data: &Value) -> Operation {
    Operation::Put {
        key: version_key(key, version),
        value: encode(data),
    }
}

/// A key path from a capture: bounded before any storage access.
pub(crate) fn checked_key(key: &str) -> Result<&str, KvError> {
    match key.len() > KEY_PATH_BYTES_MAX {
        true => Err(KvError::KeyPathTooLong),
        false => Ok(key),
    }
}

pub(crate) fn encode(record: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(record).expect("KV records are plain data and always serialise")
}

pub(crate) async fn get_record<T: DeserializeOwned>(
    storage: &StorageView,
    key: &str,
) -> Result<Option<T>, KvError> {
    let Some(bytes) = storage.get(key).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| KvError::Corrupt(key.to_string()))
}
