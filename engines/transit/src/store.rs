//! The engine's state and its storage layout, written down once:
//!
//! | key              | record                                                     |
//! |------------------|------------------------------------------------------------|
//! | `policy/<name>`  | [`Policy`] in Vault's JSON, every available version inside |
//! | `config/keys`    | `{"disable_upsert": bool}`                                 |
//! | `config/cache`   | `{"size": n}`                                              |
//!
//! Names never contain `/` (Vault's generic-name rule), so a name maps to one storage key.
//! The barrier below encrypts every record; key material is never written in the clear.

use crate::error::TransitError;
use crate::limits::{KEY_LOCK_STRIPES, POLICY_CACHE_ENTRIES_MAX};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tresor_framework::StorageView;
use tresor_storage::Storage;

pub const POLICY_PREFIX: &str = "policy/";
pub const CONFIG_KEYS: &str = "config/keys";
pub const CONFIG_CACHE: &str = "config/cache";

/// Where the engine gets "now".
pub type Clock = Arc<dyn Fn() -> time::OffsetDateTime + Send + Sync>;

#[derive(Serialize, Deserialize, Default, Clone, Copy)]
pub struct KeysConfig {
    #[serde(default)]
    pub disable_upsert: bool,
}

#[derive(Serialize, Deserialize, Default, Clone, Copy)]
pub struct CacheConfig {
    #[serde(default)]
    pub size: i64,
}

/// A decoded policy and the stored bytes it came from.
type CachedPolicy = (Vec<u8>, Arc<Policy>);

/// The state behind one mount. **Invariant:** every read-modify-write of a policy holds that
/// name's stripe lock for writing; operations that only use a key hold it for reading, so they
/// never see a half-applied rotation or a deleted key.
pub struct Transit {
    pub(crate) storage: StorageView,
    key_locks: Vec<RwLock<()>>,
    /// Decoded policies by name, each with the exact stored bytes it was decoded from. A hit
    /// is used only when storage still holds those bytes, so other nodes' writes are seen.
    cache: Mutex<HashMap<String, CachedPolicy>>,
    clock: Clock,
}

impl Transit {
    pub(crate) fn new(storage: StorageView, clock: Clock) -> Transit {
        Transit {
            storage,
            key_locks: (0..KEY_LOCK_STRIPES).map(|_| RwLock::new(())).collect(),
            cache: Mutex::new(HashMap::new()),
            clock,
        }
    }

    pub(crate) fn now(&self) -> time::OffsetDateTime {
        (self.clock)()
    }

    fn stripe(&self, name: &str) -> &RwLock<()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut hasher);
        &self.key_locks[(hasher.finish() as usize) & (KEY_LOCK_STRIPES - 1)]
    }

    pub(crate) async fn lock_key(&self, name: &str) -> RwLockWriteGuard<'_, ()> {
        self.stripe(name).write().await
    }

    pub(crate) async fn read_lock_key(&self, name: &str) -> RwLockReadGuard<'_, ()> {
        self.stripe(name).read().await
    }

    pub(crate) async fn policy(&self, name: &str) -> Result<Option<Arc<Policy>>, TransitError> {
        let key = format!("{POLICY_PREFIX}{name}");
        let Some(bytes) = self.storage.get(&key).await? else {
            return Ok(None);
        };
        {
            let cache = self.cache.lock().expect("policy cache lock");
            if let Some((cached, policy)) = cache.get(name)
                && *cached == bytes
            {
                return Ok(Some(policy.clone()));
            }
        }
        let policy: Policy =
            serde_json::from_slice(&bytes).map_err(|_| TransitError::Corrupt(key.clone()))?;
        let policy = Arc::new(policy);
        let mut cache = self.cache.lock().expect("policy cache lock");
        if cache.len() >= POLICY_CACHE_ENTRIES_MAX {
            cache.clear();
        }
        cache.insert(name.to_string(), (bytes, policy.clone()));
        Ok(Some(policy))
    }

    pub(crate) async fn put_policy(&self, policy: &Policy) -> Result<(), TransitError> {
        assert!(!policy.name.contains('/'), "a transit key name has no '/'");
        let bytes = serde_json::to_vec(policy).expect("a policy serialises");
        self.storage
            .put(&format!("{POLICY_PREFIX}{}", policy.name), bytes)
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_policy(&self, name: &str) -> Result<(), TransitError> {
        self.storage
            .delete(&format!("{POLICY_PREFIX}{name}"))
            .await?;
        self.cache.lock().expect("policy cache lock").remove(name);
        Ok(())
    }

    pub(crate) async fn list_policies(&self) -> Result<Vec<String>, TransitError> {
        Ok(self.storage.list(POLICY_PREFIX).await?)
    }

    pub(crate) async fn record<T: for<'de> Deserialize<'de> + Default>(
        &self,
        key: &str,
    ) -> Result<T, TransitError> {
        match self.storage.get(key).await? {
            None => Ok(T::default()),
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| TransitError::Corrupt(key.to_string()))
            }
        }
    }

    pub(crate) async fn put_record<T: Serialize>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), TransitError> {
        let bytes = serde_json::to_vec(value).expect("a config record serialises");
        self.storage.put(key, bytes).await?;
        Ok(())
    }
}
