//! The expiration manager: leases (id, TTL, revocation data), their timers, renewal and
//! revocation, and token expiry. Runs only on the active node while unsealed.
//!
//! SKELETON: the public API below is the contract the router, the token store and the
//! `sys/leases` endpoints use; the bodies are being written.

use async_trait::async_trait;
use std::sync::Arc;
use tresor_framework::{Backend, Error, LeaseInfo, MountContext, StorageView};

/// How the manager reaches the backends that issued leases, and the token store.
#[async_trait]
pub trait LeaseBackends: Send + Sync + 'static {
    /// The backend mounted at `mount_path` (e.g. `database/`) and its mount context.
    fn backend_for(&self, mount_path: &str) -> Option<(Arc<dyn Backend>, MountContext)>;
    /// Revokes a token (and its children) whose TTL ran out.
    async fn revoke_token(&self, token_hash: &str) -> Result<(), Error>;
}

/// `sys/leases/lookup`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeaseView {
    pub id: String,
    pub issue_time: String,
    pub expire_time: Option<String>,
    pub last_renewal: Option<String>,
    pub renewable: bool,
    pub ttl: u64,
}

pub struct ExpirationManager {
    storage: StorageView,
    backends: Arc<dyn LeaseBackends>,
}

impl ExpirationManager {
    /// `storage` is the barrier view the manager owns (`sys/expire/`).
    pub fn new(storage: StorageView, backends: Arc<dyn LeaseBackends>) -> Arc<ExpirationManager> {
        Arc::new(ExpirationManager { storage, backends })
    }

    /// Loads every lease and token expiry and arms the timers. Called when the node becomes
    /// active and unsealed. Returns the number of leases restored.
    pub async fn start(&self) -> Result<usize, Error> {
        let _ = (&self.storage, &self.backends);
        Ok(0)
    }

    /// Stops every timer; called on seal and on losing leadership.
    pub async fn stop(&self) {}

    /// Registers a lease for a reply that carries `internal_data`; returns the lease id
    /// `<mount path><request path>/<random>`. `lease.lease_duration_seconds` is the TTL the
    /// backend asked for, already capped by the router.
    pub async fn register_lease(&self, mount: &MountContext, request_path: &str, lease: &LeaseInfo, token_hash: Option<&str>) -> Result<String, Error> {
        let _ = (mount, request_path, lease, token_hash);
        Err(Error::internal("leases are not implemented yet"))
    }

    /// Arms (or re-arms, on renew) the expiry of a token; `None` means it never expires.
    pub async fn register_token_expiry(&self, token_hash: &str, expire_time_unix: Option<i64>) -> Result<(), Error> {
        let _ = (token_hash, expire_time_unix);
        Ok(())
    }

    /// Revokes every lease issued under a token (the token was revoked).
    pub async fn revoke_by_token(&self, token_hash: &str) -> Result<(), Error> {
        let _ = token_hash;
        Ok(())
    }

    /// Revokes every lease under a mount path (the mount is being disabled).
    pub async fn revoke_prefix(&self, prefix: &str, force: bool) -> Result<(), Error> {
        let _ = (prefix, force);
        Ok(())
    }
}
