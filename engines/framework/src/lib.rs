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
pub use request::{MountContext, Operation, Request};
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
}
