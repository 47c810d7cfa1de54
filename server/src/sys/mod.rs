//! The `sys/` mount: one file per Vault path group, as in Vault (`path_init.rs` next to
//! Vault's `sys_init`). Every path is a declaration over the framework.

mod path_health;
mod path_init;
mod path_keyring;
mod path_rekey;
mod path_seal;

use crate::core::Core;
use tresor_framework::{Path, PathTable};

pub fn path_table() -> PathTable<Core> {
    let mut paths: Vec<Path<Core>> = Vec::new();
    paths.extend(path_init::paths());
    paths.extend(path_seal::paths());
    paths.extend(path_health::paths());
    paths.extend(path_keyring::paths());
    paths.extend(path_rekey::paths());
    PathTable::new(paths)
}

/// `sys/` paths served without a token, also while sealed (vault-core-api.md §2). Their
/// handlers check the seal themselves where Vault does. Each is a "raw" endpoint: no
/// envelope, and a wrong method is 405 with an empty `errors` array.
const UNAUTHENTICATED_PATHS: &[&str] = &["init", "seal-status", "unseal", "health", "leader", "rekey/init", "rekey/update"];

/// Whether `path` (relative to `sys/`) is served without a token.
pub fn is_unauthenticated(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    UNAUTHENTICATED_PATHS.contains(&path)
}

/// Paths whose handlers need a root token (Vault: `sudo`), until ACLs arrive.
const ROOT_ONLY_PATHS: &[&str] = &["seal", "rotate", "rotate/keyring", "step-down"];

pub fn requires_root(path: &str) -> bool {
    ROOT_ONLY_PATHS.contains(&path.trim_end_matches('/'))
}

/// An empty input for operations that take no fields.
#[derive(serde::Deserialize)]
pub struct NoFields {}
