use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which table a mount belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountTableKind {
    Secrets,
    Auth,
}

/// One mount as persisted (Vault's `MountEntry`, the fields Tresor uses).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MountEntry {
    pub table: MountTableKind,
    /// Relative to its table, with a trailing slash: `secret/`, `token/`.
    pub path: String,
    #[serde(rename = "type")]
    pub mount_type: String,
    pub description: String,
    pub uuid: String,
    pub accessor: String,
    pub config: MountConfig,
    pub options: Option<BTreeMap<String, String>>,
    pub local: bool,
    pub seal_wrap: bool,
    pub external_entropy_access: bool,
}

/// A mount's tunables. TTLs are seconds; 0 means "the system value".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MountConfig {
    pub default_lease_ttl: u64,
    pub max_lease_ttl: u64,
    pub force_no_cache: bool,
    #[serde(default)]
    pub listing_visibility: String,
    #[serde(default)]
    pub passthrough_request_headers: Vec<String>,
    #[serde(default)]
    pub allowed_response_headers: Vec<String>,
    #[serde(default)]
    pub audit_non_hmac_request_keys: Vec<String>,
    #[serde(default)]
    pub audit_non_hmac_response_keys: Vec<String>,
    /// Auth mounts only: `default-service`, `default-batch`, `service`, `batch`.
    #[serde(default)]
    pub token_type: String,
}

impl MountEntry {
    /// Where the mount's own storage lives behind the barrier.
    pub fn storage_prefix(&self) -> String {
        match self.table {
            MountTableKind::Secrets => format!("logical/{}/", self.uuid),
            MountTableKind::Auth => format!("auth/{}/", self.uuid),
        }
    }

    /// The path requests use.
    pub fn route_path(&self) -> String {
        match self.table {
            MountTableKind::Secrets => self.path.clone(),
            MountTableKind::Auth => format!("auth/{}", self.path),
        }
    }

    /// A new entry with a fresh uuid and accessor (`kv_1a2b3c4d`, `auth_token_1a2b3c4d`).
    pub fn new(
        table: MountTableKind,
        path: &str,
        mount_type: &str,
        description: &str,
    ) -> MountEntry {
        let random = uuid::Uuid::new_v4().simple().to_string();
        let accessor = match table {
            MountTableKind::Secrets => format!("{mount_type}_{}", &random[..8]),
            MountTableKind::Auth => format!("auth_{mount_type}_{}", &random[..8]),
        };
        MountEntry {
            table,
            path: path.to_string(),
            mount_type: mount_type.to_string(),
            description: description.to_string(),
            uuid: uuid::Uuid::new_v4().to_string(),
            accessor,
            config: MountConfig::default(),
            options: None,
            local: false,
            seal_wrap: false,
            external_entropy_access: false,
        }
    }
}
