//! The cubbyhole engine: a KV v1 store private to each token, destroyed with the token.
//! It reuses the v1 paths over a storage view rooted at the caller's token hash.

use crate::{KvBackend, KvVersion};
use std::sync::Arc;
use tresor_framework::{Backend, Error, Reply, Request, StorageView};

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

    /// Cubbyhole writes are KV v1 upserts.
    fn handlers_tell_create_from_update(&self) -> bool {
        false
    }
}

/// Deletes everything in one token's cubbyhole (called when the token is revoked).
pub async fn destroy_cubbyhole(storage: &StorageView, token_hash: &str) -> Result<(), Error> {
    storage
        .sub_view(&format!("{token_hash}/"))
        .delete_all()
        .await?;
    Ok(())
}
