//! The `sys/` mount: one file per Vault path group, as in Vault (`path_init.rs` next to
//! Vault's `sys_init`). Every path is a declaration over the framework.

mod path_capabilities;
mod path_health;
mod path_init;
mod path_keyring;
mod path_leases;
mod path_mounts;
mod path_policy;
mod path_raft;
pub mod path_raft_snapshot;
mod path_rekey;
mod path_seal;
mod path_ui;
mod path_wrapping;

use crate::core::Core;
use tresor_framework::{Path, PathTable};

pub fn path_table() -> PathTable<Core> {
    let mut paths: Vec<Path<Core>> = Vec::new();
    paths.extend(path_init::paths());
    paths.extend(path_seal::paths());
    paths.extend(path_health::paths());
    paths.extend(path_keyring::paths());
    paths.extend(path_rekey::paths());
    paths.extend(path_mounts::paths());
    paths.extend(path_policy::paths());
    paths.extend(path_capabilities::paths());
    paths.extend(path_ui::paths());
    paths.extend(path_leases::paths());
    paths.extend(path_wrapping::paths());
    paths.extend(path_raft::paths());
    paths.extend(path_raft_snapshot::paths());
    PathTable::new(paths)
}

/// `sys/` paths served without a token, also while sealed (vault-core-api.md §2). Their
/// handlers check the seal themselves where Vault does. Each is a "raw" endpoint: no
/// envelope, and a wrong method is 405 with an empty `errors` array.
const UNAUTHENTICATED_PATHS: &[&str] = &[
    "init",
    "seal-status",
    "unseal",
    "health",
    "leader",
    "rekey/init",
    "rekey/update",
    // HA (RFT-01, RFT-09): a joining node is sealed and has no token.
    "storage/raft/join",
    "storage/raft/bootstrap/challenge",
    "storage/raft/bootstrap/answer",
];

/// Served without a token but reading it when present (UI-01, WRP-04); not raw endpoints.
const TOKEN_OPTIONAL_PREFIXES: &[&str] = &[
    "internal/ui/mounts",
    "wrapping/lookup",
    "wrapping/unwrap",
    "wrapping/rewrap",
];

/// Whether `path` (relative to `sys/`) is served without a token.
pub fn is_unauthenticated(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    UNAUTHENTICATED_PATHS.contains(&path)
}

/// Whether `path` (relative to `sys/`) is served with an optional token.
pub fn is_token_optional(path: &str) -> bool {
    TOKEN_OPTIONAL_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// `sys/` paths that need `sudo` on top of the operation's capability (Vault's system
/// backend root paths, POL-12). A trailing `*` matches any suffix.
const SUDO_PATHS: &[&str] = &[
    "seal",
    "step-down",
    "rotate",
    "rotate/*",
    "auth/*",
    "remount",
    "audit",
    "audit/*",
    "raw",
    "raw/*",
    "config/*",
    "plugins/catalog/*",
    "revoke-prefix/*",
    "revoke-force/*",
    "leases/revoke-prefix/*",
    "leases/revoke-force/*",
    "leases/lookup/*",
    "leases/lookup/",
    "storage/raft/snapshot",
    "storage/raft/snapshot-force",
];

/// Whether `path` (relative to `sys/`) needs `sudo`.
pub fn requires_sudo(path: &str) -> bool {
    SUDO_PATHS
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path.trim_end_matches('/') == *pattern,
        })
}

/// An empty input for operations that take no fields.
#[derive(serde::Deserialize)]
pub struct NoFields {}
