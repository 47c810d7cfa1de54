//! The request framework shared by `sys/`, secrets engines and auth methods.
//!
//! **API boundary.** A backend declares its paths as data ([`Path`]): a pattern with named
//! captures, one typed input struct per operation, and help text. The framework matches the
//! path, merges captures over the request body, deserialises the typed input with Vault's
//! loose typing ([`loose`]), calls the handler and hands a [`Reply`] back to the server, which
//! alone knows HTTP and builds the envelope.
//!
//! **Architecture invariant:** nothing here knows axum, status lines or headers; handlers
//! never see raw JSON or the envelope, and fail in one way: `return Err(Error)`.

mod error;
pub mod limits;
pub mod loose;
mod path;
mod reply;
mod request;
mod view;

pub use error::{Error, ErrorKind};
pub use path::{Captures, Input, Path, PathTable};
pub use reply::{LeaseInfo, Reply, Secret};
pub use request::{Caller, MountContext, Operation, Request};
pub use view::StorageView;

/// A mounted backend as the router sees it: a secrets engine or an auth method behind its
/// mount path. `request.path` is relative to the mount.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn handle_request(&self, request: Request) -> Result<Reply, Error>;
    /// Help text for `?help=1`.
    fn help(&self, path: &str) -> Option<&'static str>;
    /// The path's existence check, so the ACL can tell `create` from `update` for a write:
    /// `Some(false)` means the target does not exist yet (create), `None` that the path has
    /// no check (the write is an update).
    async fn exists(&self, _request: Request) -> Result<Option<bool>, Error> {
        Ok(None)
    }
    /// Whether a handler may act differently on `create` than on `update` (transit's
    /// encrypt creates a missing key only on `create`). A backend that answers `false` lets
    /// the router skip the existence check, a storage read, when the ACL grants `create` and
    /// `update` alike (always for root): the outcome could not differ.
    fn handlers_tell_create_from_update(&self) -> bool {
        true
    }
    /// Revokes what a lease stands for (a database user, ...), given the `internal_data` the
    /// backend attached when it issued the lease. This is the lease-revocation seam of the
    /// expiration manager: it retries failures with backoff, so this must be idempotent.
    async fn revoke_lease(&self, _lease: LeaseRequest) -> Result<(), Error> {
        Ok(())
    }
    /// Renews a lease: the backend may refuse or cap the TTL. The expiration manager has
    /// already computed `lease.ttl_seconds` (increment capped by mount/system max).
    async fn renew_lease(&self, lease: LeaseRequest) -> Result<LeaseInfo, Error> {
        Ok(LeaseInfo {
            lease_id: lease.lease_id,
            renewable: true,
            lease_duration_seconds: lease.ttl_seconds,
            internal_data: None,
        })
    }
    /// Background work of the mount (Vault's `PeriodicFunc`: key auto-rotation, tidying).
    /// The core calls it on the active node while unsealed, about every
    /// `limits::PERIODIC_INTERVAL_SECONDS`, one call at a time per mount, bounded by a
    /// timeout; an error is logged and retried at the next tick.
    async fn periodic(&self, _mount: MountContext) -> Result<(), Error> {
        Ok(())
    }
}

/// A lease as the expiration manager hands it back to the backend that issued it.
#[derive(Debug, Clone)]
pub struct LeaseRequest {
    pub lease_id: String,
    /// Path relative to the mount that issued the lease.
    pub path: String,
    pub internal_data: serde_json::Value,
    pub ttl_seconds: u64,
    pub mount: MountContext,
}
