//! Tokens, and later ACL policies and auth methods.
//!
//! **Architecture invariant:** a token is never stored in clear: storage holds the HMAC of the
//! token under a per-cluster salt, so a copy of the (decrypted) store cannot be replayed.
//! Tokens and accessors never reach a log line or an error message.

mod error;
pub mod policy;
mod token;

pub use error::AuthError;
pub use token::{
    CacheGate, Clock, CreateToken, TokenEntry, TokenLifecycleHook, TokenRole, TokenStore,
    TokenType, TtlRequest, calculate_ttl, generate_token, token_backend,
};
