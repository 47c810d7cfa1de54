//! An in-process [`Storage`] for unit tests of the layers above. Not used by the server:
//! dev mode runs the same raft store as production, on a temporary directory.

use crate::{Operation, Storage, StorageError, list_one_level};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStorage {
    entries: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A poisoned lock means a test panicked mid-write; the map itself is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.entries().get(key).cloned())
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.entries().insert(key.to_string(), value);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.entries().remove(key);
        Ok(())
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let entries = self.entries();
        let keys = entries.range(prefix.to_string()..).map(|(k, _)| k.as_str());
        Ok(list_one_level(
            prefix,
            keys.take_while(|k| k.starts_with(prefix)),
        ))
    }
    async fn batch(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        let mut entries = self.entries();
        for operation in operations {
            match operation {
                Operation::Put { key, value } => {
                    entries.insert(key, value);
                }
                Operation::Delete { key } => {
                    entries.remove(&key);
                }
            }
        }
        Ok(())
    }
}
