//! The mount tables (`sys/mounts`, `sys/auth`) and the route table the router reads.
//!
//! Invariant: the route table is immutable once built; a change (mount, unmount, tune)
//! builds a new table and swaps the `Arc`, so a request routes without taking a lock for
//! longer than one pointer clone. The persisted tables live behind the barrier at
//! `core/mounts` and `core/auth`.

mod entry;
mod factory;

pub use entry::{MountEntry, MountTableKind};
pub use factory::create_backend;

use std::sync::Arc;
use tresor_framework::{Backend, MountContext};

/// Vault's defaults for mounts that set no TTL (768h), overridable in the server config.
pub const SYSTEM_DEFAULT_LEASE_TTL_SECONDS: u64 = 768 * 3600;
pub const SYSTEM_MAX_LEASE_TTL_SECONDS: u64 = 768 * 3600;

/// What serves a mount.
#[derive(Clone)]
pub enum MountBackend {
    /// `sys/`: the core's own path table.
    System,
    Logical(Arc<dyn Backend>),
}

/// One routable mount.
#[derive(Clone)]
pub struct Mounted {
    pub entry: MountEntry,
    /// The path requests use: `secret/`, or `auth/token/` for auth mounts.
    pub route_path: String,
    pub backend: MountBackend,
}

impl Mounted {
    pub fn context(&self, system_default_ttl: u64, system_max_ttl: u64) -> MountContext {
        let default_ttl = match self.entry.config.default_lease_ttl {
            0 => system_default_ttl,
            ttl => ttl,
        };
        let max_ttl = match self.entry.config.max_lease_ttl {
            0 => system_max_ttl,
            ttl => ttl,
        };
        MountContext {
            path: self.route_path.clone(),
            accessor: self.entry.accessor.clone(),
            default_lease_ttl_seconds: default_ttl.min(max_ttl),
            max_lease_ttl_seconds: max_ttl,
            options: self.entry.options.clone().unwrap_or_default(),
        }
    }
}

/// Longest-prefix routing over every mount of both tables.
#[derive(Clone, Default)]
pub struct RouteTable {
    /// Sorted by `route_path` length, longest first, so the first prefix match is the
    /// longest.
    mounts: Vec<Arc<Mounted>>,
}

impl RouteTable {
    pub fn new(mut mounts: Vec<Arc<Mounted>>) -> RouteTable {
        mounts.sort_by(|a, b| {
            b.route_path
                .len()
                .cmp(&a.route_path.len())
                .then_with(|| a.route_path.cmp(&b.route_path))
        });
        RouteTable { mounts }
    }

    /// The mount serving `path` and the path relative to it. A path equal to the mount
    /// without its slash (`secret`) routes to the mount too.
    pub fn route<'a>(&self, path: &'a str) -> Option<(Arc<Mounted>, &'a str)> {
        for mounted in &self.mounts {
            if let Some(rest) = path.strip_prefix(mounted.route_path.as_str()) {
                return Some((mounted.clone(), rest));
            }
            if path == mounted.route_path.trim_end_matches('/') {
                return Some((mounted.clone(), ""));
            }
        }
        None
    }

    pub fn mounts(&self) -> impl Iterator<Item = &Arc<Mounted>> {
        self.mounts.iter()
    }

    pub fn find(&self, kind: MountTableKind, path: &str) -> Option<Arc<Mounted>> {
        self.mounts
            .iter()
            .find(|mounted| mounted.entry.table == kind && mounted.entry.path == path)
            .cloned()
    }

    pub fn entries(&self, kind: MountTableKind) -> Vec<MountEntry> {
        let mut entries: Vec<MountEntry> = self
            .mounts
            .iter()
            .filter(|mounted| mounted.entry.table == kind)
            .map(|mounted| mounted.entry.clone())
            .collect();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries
    }
}

/// Normalises a mount path as Vault does: no leading `/`, one trailing `/`.
pub fn sanitize_path(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    match trimmed.ends_with('/') {
        true => trimmed.to_string(),
        false => format!("{trimmed}/"),
    }
}
