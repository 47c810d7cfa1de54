//! Mounting, unmounting, tuning and routing: the core's side of the mount tables.

use super::Core;
use crate::mounts::{
    MountBackend, MountEntry, MountTableKind, Mounted, RouteTable, create_backend,
};
use std::sync::Arc;
use tresor_framework::{Error, StorageView};
use tresor_storage::Storage;

/// Barrier paths of the persisted tables (Vault's names).
pub(super) const SECRETS_TABLE_PATH: &str = "core/mounts";
pub(super) const AUTH_TABLE_PATH: &str = "core/auth";

/// Paths no secrets engine may be mounted under (MNT-04).
const RESERVED_SECRETS_PREFIXES: &[&str] = &["sys/", "auth/", "audit/", "cubbyhole/", "identity/"];
/// Types that exist once and are never mounted by users.
const SINGLETON_TYPES: &[&str] = &["system", "cubbyhole", "token", "identity"];

fn table_path(kind: MountTableKind) -> &'static str {
    match kind {
        MountTableKind::Secrets => SECRETS_TABLE_PATH,
        MountTableKind::Auth => AUTH_TABLE_PATH,
    }
}

fn default_entries(kind: MountTableKind) -> Vec<MountEntry> {
    match kind {
        MountTableKind::Secrets => {
            let mut cubbyhole = MountEntry::new(
                kind,
                "cubbyhole/",
                "cubbyhole",
                "per-token private secret storage",
            );
            cubbyhole.local = true;
            let mut identity = MountEntry::new(kind, "identity/", "identity", "identity store");
            identity.config.passthrough_request_headers = vec!["Authorization".to_string()];
            let mut system = MountEntry::new(
                kind,
                "sys/",
                "system",
                "system endpoints used for control, policy and debugging",
            );
            system.seal_wrap = true;
            system.config.passthrough_request_headers = vec!["Accept".to_string()];
            vec![cubbyhole, identity, system]
        }
        MountTableKind::Auth => {
            let mut token = MountEntry::new(kind, "token/", "token", "token based credentials");
            token.config.token_type = "default-service".to_string();
            vec![token]
        }
    }
}

impl Core {
    /// Swaps in a new route table (copy-on-write: requests in flight keep the old one).
    fn install_routes(&self, mounted: Vec<Arc<Mounted>>) {
        *self
            .routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(RouteTable::new(mounted));
    }

    /// The current route table (cheap: one `Arc` clone).
    pub fn routes(&self) -> Arc<RouteTable> {
        self.routes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn mount_storage(&self, entry: &MountEntry) -> StorageView {
        if entry.mount_type == "token" {
            // The token store keeps Vault's location; the token backend owns it.
            return StorageView::new(self.barrier.clone(), super::TOKEN_STORE_PREFIX);
        }
        StorageView::new(self.barrier.clone(), entry.storage_prefix())
    }

    fn mounted(&self, entry: MountEntry) -> Result<Arc<Mounted>, Error> {
        let backend = create_backend(&entry, self.mount_storage(&entry), &self.token_backend)?;
        Ok(Arc::new(Mounted {
            route_path: entry.route_path(),
            entry,
            backend,
        }))
    }

    async fn read_table(&self, kind: MountTableKind) -> Result<Option<Vec<MountEntry>>, Error> {
        let Some(encoded) = self.barrier.get(table_path(kind)).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&encoded)
            .map(Some)
            .map_err(|_| Error::internal("corrupt mount table"))
    }

    async fn write_table(&self, kind: MountTableKind, entries: &[MountEntry]) -> Result<(), Error> {
        let encoded =
            serde_json::to_vec(entries).map_err(|error| Error::internal(error.to_string()))?;
        self.barrier.put(table_path(kind), encoded).await?;
        Ok(())
    }

    /// Loads both tables (creating the defaults on first unseal) and builds the routes.
    pub(super) async fn load_mounts(&self) -> Result<(), Error> {
        let mut mounted = Vec::new();
        for kind in [MountTableKind::Secrets, MountTableKind::Auth] {
            let entries = match self.read_table(kind).await? {
                Some(entries) => entries,
                None => {
                    let entries = default_entries(kind);
                    self.write_table(kind, &entries).await?;
                    entries
                }
            };
            for entry in entries {
                mounted.push(self.mounted(entry)?);
            }
        }
        self.install_routes(mounted);
        Ok(())
    }

    /// [`Core::load_mounts`] under the mount-change lock, so a load on a node that just
    /// became active cannot swap in a table older than a concurrent mount change.
    pub(super) async fn load_mounts_exclusively(&self) -> Result<(), Error> {
        let _change = self.mount_change.lock().await;
        self.load_mounts().await
    }

    /// A standby's reload of both tables from its replica (linearizable standby reads):
    /// writes nothing (a missing table is an error, the active node creates them), and keeps
    /// the backend of every mount whose entry is unchanged, with whatever it caches.
    pub(super) async fn reload_mounts(&self) -> Result<(), Error> {
        let _change = self.mount_change.lock().await;
        let current = self.routes();
        let mut mounted = Vec::new();
        for kind in [MountTableKind::Secrets, MountTableKind::Auth] {
            let Some(entries) = self.read_table(kind).await? else {
                return Err(Error::internal("mount table missing on this standby"));
            };
            for entry in entries {
                mounted.push(self.mounted_reusing(&current, kind, entry)?);
            }
        }
        self.install_routes(mounted);
        Ok(())
    }

    pub(super) fn clear_mounts(&self) {
        *self
            .routes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(RouteTable::default());
    }

    /// The mount for `entry`, keeping the backend of `current`'s mount when the entry is the
    /// same mount with the same backend shape (the backend keeps what it caches).
    fn mounted_reusing(
        &self,
        current: &RouteTable,
        kind: MountTableKind,
        entry: MountEntry,
    ) -> Result<Arc<Mounted>, Error> {
        let same = current.find(kind, &entry.path).filter(|existing| {
            existing.entry.uuid == entry.uuid && same_backend_shape(&existing.entry, &entry)
        });
        match same {
            Some(existing) => Ok(Arc::new(Mounted {
                entry,
                route_path: existing.route_path.clone(),
                backend: existing.backend.clone(),
            })),
            None => self.mounted(entry),
        }
    }

    /// Persists `entries` for `kind` and swaps in a route table built from them.
    async fn replace_table(
        &self,
        kind: MountTableKind,
        entries: Vec<MountEntry>,
    ) -> Result<(), Error> {
        self.write_table(kind, &entries).await?;
        let current = self.routes();
        let mut mounted: Vec<Arc<Mounted>> = current
            .mounts()
            .filter(|mounted| mounted.entry.table != kind)
            .cloned()
            .collect();
        for entry in entries {
            mounted.push(self.mounted_reusing(&current, kind, entry)?);
        }
        self.install_routes(mounted);
        Ok(())
    }

    /// `POST sys/mounts/<path>` and `POST sys/auth/<path>` (MNT-02..04, AUTH-02).
    pub async fn mount(&self, entry: MountEntry) -> Result<(), Error> {
        let _change = self.mount_change.lock().await;
        let kind = entry.table;
        if kind == MountTableKind::Secrets
            && RESERVED_SECRETS_PREFIXES
                .iter()
                .any(|prefix| entry.path.starts_with(prefix))
        {
            return Err(Error::invalid(format!("cannot mount \"{}\"", entry.path)));
        }
        if SINGLETON_TYPES.contains(&entry.mount_type.as_str()) {
            return Err(match (kind, entry.mount_type.as_str()) {
                (MountTableKind::Auth, "token") => {
                    Error::invalid("token credential backend cannot be instantiated")
                }
                _ => Error::invalid(format!(
                    "mount type of \"{}\" is not mountable",
                    entry.mount_type
                )),
            });
        }
        let route_path = entry.route_path();
        for existing in self.routes().mounts() {
            let other = &existing.route_path;
            if other.starts_with(&route_path) || route_path.starts_with(other.as_str()) {
                let shown = match existing.entry.table {
                    MountTableKind::Secrets => existing.entry.path.clone(),
                    MountTableKind::Auth => existing.route_path.clone(),
                };
                return Err(Error::invalid(format!("path is already in use at {shown}")));
            }
        }
        // Validates the type (and KV version) before anything is written.
        create_backend(&entry, self.mount_storage(&entry), &self.token_backend)?;
        let mut entries = self.routes().entries(kind);
        tracing::info!(path = %route_path, mount_type = %entry.mount_type, "mounting");
        entries.push(entry);
        self.replace_table(kind, entries).await
    }

    /// `DELETE sys/mounts/<path>` (MNT-05): revokes the mount's leases, removes its data.
    pub async fn unmount(&self, kind: MountTableKind, path: &str) -> Result<(), Error> {
        let _change = self.mount_change.lock().await;
        let Some(existing) = self.routes().find(kind, path) else {
            return Ok(());
        };
        match (kind, existing.entry.mount_type.as_str()) {
            (MountTableKind::Auth, "token") => {
                return Err(Error::invalid(
                    "token credential backend cannot be disabled",
                ));
            }
            (_, "system" | "cubbyhole" | "identity") => {
                return Err(Error::invalid(format!("cannot unmount \"{path}\"")));
            }
            _ => {}
        }
        self.expiration()
            .revoke_prefix(&existing.route_path, true)
            .await?;
        let entries: Vec<MountEntry> = self
            .routes()
            .entries(kind)
            .into_iter()
            .filter(|entry| entry.path != path)
            .collect();
        self.replace_table(kind, entries).await?;
        self.mount_storage(&existing.entry).delete_all().await?;
        tracing::info!(path = %existing.route_path, "unmounted");
        Ok(())
    }

    /// Replaces one entry's tunables (the caller validated them).
    pub async fn update_mount(&self, updated: MountEntry) -> Result<(), Error> {
        let _change = self.mount_change.lock().await;
        let kind = updated.table;
        let entries = self
            .routes()
            .entries(kind)
            .into_iter()
            .map(|entry| {
                if entry.path == updated.path {
                    updated.clone()
                } else {
                    entry
                }
            })
            .collect();
        self.replace_table(kind, entries).await
    }

    /// Tune from KV v1 to v2: moves the data into the v2 layout, then remounts as v2.
    pub async fn upgrade_kv(&self, mut entry: MountEntry) -> Result<(), Error> {
        tresor_kv::upgrade_v1_to_v2(&self.mount_storage(&entry))
            .await
            .map_err(Error::from)?;
        entry
            .options
            .get_or_insert_with(Default::default)
            .insert("version".to_string(), "2".to_string());
        self.update_mount(entry).await
    }

    /// `sys/remount`: moves a mount (and its data stays under its uuid).
    pub async fn remount(&self, kind: MountTableKind, from: &str, to: &str) -> Result<(), Error> {
        let Some(existing) = self.routes().find(kind, from) else {
            return Err(Error::invalid(format!("no matching mount at \"{from}\"")));
        };
        if SINGLETON_TYPES.contains(&existing.entry.mount_type.as_str()) {
            return Err(Error::invalid(format!("cannot remount \"{from}\"")));
        }
        let mut moved = existing.entry.clone();
        moved.path = to.to_string();
        {
            let _change = self.mount_change.lock().await;
            let entries = self
                .routes()
                .entries(kind)
                .into_iter()
                .filter(|entry| entry.path != from)
                .collect::<Vec<_>>();
            let target_route = moved.route_path();
            if self.routes().mounts().any(|mounted| {
                mounted.route_path != existing.route_path
                    && (mounted.route_path.starts_with(&target_route)
                        || target_route.starts_with(mounted.route_path.as_str()))
            }) {
                return Err(Error::invalid(format!("path already in use at \"{to}\"")));
            }
            let mut entries = entries;
            entries.push(moved);
            self.replace_table(kind, entries).await?;
        }
        self.expiration()
            .revoke_prefix(&existing.route_path, true)
            .await
    }
}

/// Whether a retuned entry can keep its running backend (same type and options).
fn same_backend_shape(old: &MountEntry, new: &MountEntry) -> bool {
    old.mount_type == new.mount_type && old.options == new.options
}

impl MountBackend {
    pub fn is_system(&self) -> bool {
        matches!(self, MountBackend::System)
    }
}
