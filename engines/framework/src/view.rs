use async_trait::async_trait;
use std::sync::Arc;
use tresor_storage::{Operation, Storage, StorageError};

/// Keys deleted per batch by [`StorageView::delete_all`].
const DELETE_ALL_BATCH_KEYS_MAX: usize = 1000;
/// Folders walked by [`StorageView::delete_all`] before it gives up.
const DELETE_ALL_FOLDERS_MAX: usize = 1_000_000;

/// A [`Storage`] rooted at a prefix of another: what an engine sees of the barrier, so it
/// cannot read or write outside its own mount.
#[derive(Clone)]
pub struct StorageView {
    inner: Arc<dyn Storage>,
    prefix: String,
}

impl StorageView {
    /// `prefix` must be empty or end with `/`.
    pub fn new(inner: Arc<dyn Storage>, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        assert!(
            prefix.is_empty() || prefix.ends_with('/'),
            "a storage view prefix ends with '/'"
        );
        StorageView { inner, prefix }
    }

    pub fn sub_view(&self, prefix: &str) -> StorageView {
        StorageView::new(self.inner.clone(), format!("{}{prefix}", self.prefix))
    }

    /// Deletes every key under this view (a disabled mount, a revoked token's cubbyhole), in
    /// bounded batches. Returns the number of keys deleted.
    pub async fn delete_all(&self) -> Result<usize, StorageError> {
        let mut folders = vec![String::new()];
        let mut keys = Vec::new();
        let mut walked = 0;
        while let Some(folder) = folders.pop() {
            walked += 1;
            if walked > DELETE_ALL_FOLDERS_MAX {
                return Err(StorageError::Other(
                    "too many folders to delete".to_string(),
                ));
            }
            for child in self.list(&folder).await? {
                match child.ends_with('/') {
                    true => folders.push(format!("{folder}{child}")),
                    false => keys.push(format!("{folder}{child}")),
                }
            }
        }
        for chunk in keys.chunks(DELETE_ALL_BATCH_KEYS_MAX) {
            self.batch(
                chunk
                    .iter()
                    .map(|key| Operation::Delete { key: key.clone() })
                    .collect(),
            )
            .await?;
        }
        Ok(keys.len())
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait]
impl Storage for StorageView {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(&self.full(key)).await
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.inner.put(&self.full(key), value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.inner.delete(&self.full(key)).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.inner.list(&self.full(prefix)).await
    }
    async fn batch(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        let operations = operations
            .into_iter()
            .map(|operation| match operation {
                Operation::Put { key, value } => Operation::Put {
                    key: self.full(&key),
                    value,
                },
                Operation::Delete { key } => Operation::Delete {
                    key: self.full(&key),
                },
            })
            .collect();
        self.inner.batch(operations).await
    }
}
