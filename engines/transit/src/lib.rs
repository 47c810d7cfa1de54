//! The transit secrets engine (engines-seals-k8s.md §1): named keys, encryption as a service,
//! signing, HMAC, hashing and random bytes, byte-compatible with Vault so ciphertexts,
//! signatures and backups move between the two.
//!
//! **API boundary.** [`backend`] builds a mount's [`Backend`] over a storage view rooted at the
//! mount; the engine is a path table over the framework, one file per Vault path group
//! (`path_keys.rs` next to Vault's `path_keys.go`, ...).
//!
//! **Architecture invariant:** key material lives only in the mount's storage (which the
//! barrier encrypts) and in memory while a request uses it; no response, log line, `Debug` or
//! error message contains it, except the explicit `export` and `backup` answers that the
//! key's `exportable` and `allow_plaintext_backup` flags permit.

mod auto_rotate;
mod crypto;
mod error;
mod gobase64;
mod input;
mod key_type;
pub mod limits;
mod path_backup;
mod path_cache_config;
mod path_config;
mod path_config_keys;
mod path_datakey;
mod path_decrypt;
mod path_encrypt;
mod path_export;
mod path_hash;
mod path_hmac;
mod path_keys;
mod path_random;
mod path_restore;
mod path_rewrap;
mod path_rotate;
mod path_sign_verify;
mod path_trim;
mod policy;
mod store;
mod timefmt;

#[cfg(test)]
mod testing;

pub use error::TransitError;
pub use key_type::KeyType;

use auto_rotate::AutoRotate;
use std::sync::Arc;
use store::{Clock, Transit};
use tresor_framework::{Backend, Error, MountContext, PathTable, Reply, Request, StorageView};

/// A transit mount. `storage` is rooted at the mount's own storage.
pub fn backend(storage: StorageView) -> Arc<dyn Backend> {
    Arc::new(TransitBackend::new(storage))
}

/// The transit engine behind one mount.
pub struct TransitBackend {
    pub(crate) transit: Arc<Transit>,
    table: PathTable<Transit>,
    pub(crate) auto_rotate: AutoRotate,
}

impl TransitBackend {
    pub fn new(storage: StorageView) -> TransitBackend {
        TransitBackend::with_clock(storage, Arc::new(time::OffsetDateTime::now_utc))
    }

    pub(crate) fn with_clock(storage: StorageView, clock: Clock) -> TransitBackend {
        TransitBackend {
            transit: Arc::new(Transit::new(storage, clock)),
            table: PathTable::new(paths()),
            auto_rotate: AutoRotate::default(),
        }
    }
}

/// The table in Vault's order: specific patterns before general ones.
fn paths() -> Vec<tresor_framework::Path<Transit>> {
    let mut paths = Vec::new();
    paths.extend(path_keys::list_paths());
    paths.extend(path_config::paths());
    paths.extend(path_rotate::paths());
    paths.extend(path_trim::paths());
    paths.extend(path_keys::paths());
    paths.extend(path_config_keys::paths());
    paths.extend(path_cache_config::paths());
    paths.extend(path_encrypt::paths());
    paths.extend(path_decrypt::paths());
    paths.extend(path_rewrap::paths());
    paths.extend(path_datakey::paths());
    paths.extend(path_sign_verify::paths());
    paths.extend(path_hmac::paths());
    paths.extend(path_hash::paths());
    paths.extend(path_random::paths());
    paths.extend(path_export::paths());
    paths.extend(path_backup::paths());
    paths.extend(path_restore::paths());
    paths
}

#[async_trait::async_trait]
impl Backend for TransitBackend {
    async fn handle_request(&self, request: Request) -> Result<Reply, Error> {
        match self.table.handle(self.transit.clone(), request).await {
            Err(error) => match error::visible_500(&error) {
                Some(reply) => Ok(reply),
                None => Err(error),
            },
            ok => ok,
        }
    }

    fn help(&self, path: &str) -> Option<&'static str> {
        self.table.help(path)
    }

    async fn exists(&self, request: Request) -> Result<Option<bool>, Error> {
        self.table.exists(self.transit.clone(), request).await
    }

    /// Vault's `PeriodicFunc` for transit: auto-rotation of due keys, a bounded slice per call.
    async fn periodic(&self, _mount: MountContext) -> Result<(), Error> {
        self.auto_rotate.run(&self.transit).await.map(|_pass| ())
    }
}
