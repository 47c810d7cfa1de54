use async_trait::async_trait;
use std::sync::Arc;
use tresor_storage::{Operation, Storage, StorageError};

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
