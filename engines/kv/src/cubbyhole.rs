//! The cubbyhole engine: a KV v1 store private to each token, destroyed with the token.
//! It reuses the v1 paths over a storage view rooted at the caller's token hash.

use crate::{KvBackend, KvVersion};
use std::sync::Arc;
use tresor_framework::{Backend, Error, Reply, Request, StorageView};
use tresor_storage::{Operation, Storage};

/// Bound on keys deleted per batch when a token's cubbyhole is destroyed.
const DESTROY_BATCH_KEYS_MAX: usize = 1000;
/// Bound on folders walked when destroying one cubbyhole.
const DESTROY_FOLDERS_MAX: usize = 100_000;

pub struct CubbyholeBackend {
    storage: StorageView,
}

/// A cubbyhole mount over its storage view.
pub fn cubbyhole_backend(storage: StorageView) -> Arc<dyn Backend> {
    Arc::new(CubbyholeBackend { storage })
}

impl CubbyholeBackend {
    fn for_caller(&self, request: &Request) -> Result<KvBackend, Error> {
        let Some(caller) = request
            .caller
            .as_ref()
            .filter(|caller| !caller.token_hash.is_empty())
        else {
            return Err(Error::new(
                tresor_framework::ErrorKind::Invalid,
                "client token empty",
            ));
        };
        Ok(KvBackend::new(
            self.storage.sub_view(&format!("{}/", caller.token_hash)),
            KvVersion::V1,
        ))
    }
}

#[async_trait::async_trait]
impl Backend for CubbyholeBackend {
    async fn handle_request(&self, mut request: Request) -> Result<Reply, Error> {
        let backend = self.for_caller(&request)?;
        // Cubbyhole values carry no lease: reads report a zero lease duration.
        request.mount.default_lease_ttl_seconds = 0;
        let mut reply = backend.handle_request(request).await?;
        if let Reply::Secret(secret) = &mut reply {
            secret.lease = None;
        }
        Ok(reply)
    }

    fn help(&self, _path: &str) -> Option<&'static str> {
        Some("Store secrets private to the calling token; they are destroyed with it.")
    }

    async fn exists(&self, request: Request) -> Result<Option<bool>, Error> {
        self.for_caller(&request)?.exists(request).await
    }
}

/// Deletes everything in one token's cubbyhole (called when the token is revoked).
pub async fn destroy_cubbyhole(storage: &StorageView, token_hash: &str) -> Result<(), Error> {
    let root = format!("{token_hash}/");
    let mut folders = vec![root];
    let mut keys = Vec::new();
    let mut walked = 0;
    while let Some(folder) = folders.pop() {
        walked += 1;
        if walked > DESTROY_FOLDERS_MAX {
            return Err(Error::internal("cubbyhole too deep to destroy"));
        }
        for child in storage.list(&folder).await? {
            match child.ends_with('/') {
                true => folders.push(format!("{folder}{child}")),
                false => keys.push(format!("{folder}{child}")),
            }
        }
    }
    for chunk in keys.chunks(DESTROY_BATCH_KEYS_MAX) {
        let operations = chunk
            .iter()
            .map(|key| Operation::Delete { key: key.clone() })
            .collect();
        storage.batch(operations).await?;
    }
    Ok(())
}
