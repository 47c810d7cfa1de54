//! The token auth method (`auth/token/`, vault-core-api.md §4): the token store and the
//! backend that serves its paths.
//!
//! **Architecture invariant:** a token and an accessor are never stored in clear. Storage holds
//! entries under the HMAC of the token (`id/<hash>`), an index from the HMAC of the accessor to
//! the token hash (`accessor/<hash>`) and a parent index (`parent/<parent hash>/<child hash>`)
//! for tree revocation. The token hash is also the key of the token's cubbyhole.
//!
//! **API boundary.** [`TokenStore`] is what the core uses on every request
//! ([`TokenStore::use_token`]) and what the expiration manager calls back
//! ([`TokenStore::revoke_by_hash`]); [`token_backend`] is the mount `auth/token/`, one file per
//! Vault path group (`path_create.rs`, `path_lookup.rs`, ...).

mod backend;
mod cache;
mod entry;
pub mod limits;
mod path_accessors;
mod path_create;
mod path_lookup;
mod path_renew;
mod path_revoke;
mod path_roles;
mod store;
mod ttl;

#[cfg(test)]
mod tests;

pub use backend::token_backend;
pub use cache::CacheGate;
pub use entry::{CreateToken, TokenEntry, TokenRole, TokenType};
pub use store::{Clock, TokenLifecycleHook, TokenStore, generate_token};
pub use ttl::{TtlRequest, calculate_ttl};
