//! The core: the one place that holds the physical store, the barrier, the seal and the
//! token store, and moves the node between uninitialised, sealed and unsealed.
//!
//! Invariant: the barrier is unsealed only between a successful unseal and the next seal;
//! every authenticated request checks that first (503 `Vault is sealed` otherwise).

mod lifecycle;
pub mod local_read;
mod mounts;
mod periodic;
mod policies;
mod version;
mod wrapping;

pub use lifecycle::{InitRequest, UNSEAL_FAILED_TEXT, seal_error};
pub use policies::PolicyStore;
pub use version::{BUILD_DATE, VERSION};
pub use wrapping::WRAPPING_TOKEN_INVALID;

use crate::expiration::{ExpirationManager, LeaseBackends, TokenLease};
use crate::mounts::{MountBackend, RouteTable};
use std::sync::{Arc, RwLock, Weak};
use time::OffsetDateTime;
use tresor_auth::{AuthError, TokenEntry, TokenLifecycleHook, TokenStore};
use tresor_framework::{Backend, MountContext};
use tresor_framework::{Error, PathTable, StorageView};
use tresor_seal::{Barrier, Seal, UnsealProgress};
use tresor_storage::{AppliedChange, RaftStorage, Storage};

/// Physical keys the seal keeps outside the barrier (Vault's names).
pub const SEAL_CONFIG_PATH: &str = "core/seal-config";
pub const BARRIER_UNSEAL_KEYS_PATH: &str = "core/hsm/barrier-unseal-keys";
/// Barrier keys of the core.
pub const CLUSTER_INFO_PATH: &str = "core/cluster/local/info";
pub const TOKEN_STORE_PREFIX: &str = "sys/token/";
/// The token cache's epoch while this node is not the leader of a term (terms never reach
/// it).
const STANDBY_TOKEN_CACHE_EPOCH: u64 = u64::MAX;
pub const EXPIRATION_PREFIX: &str = "sys/expire/";
pub const POLICY_PREFIX: &str = "sys/policy/";

/// Settings the core needs from the server configuration.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    pub api_addr: String,
    pub cluster_addr: String,
    pub cluster_name: Option<String>,
    /// System TTLs for mounts that set none (config `default_lease_ttl`, `max_lease_ttl`).
    pub default_lease_ttl_seconds: u64,
    pub max_lease_ttl_seconds: u64,
    pub storage_type: &'static str,
}

/// Name and id of the cluster, chosen at init and kept behind the barrier.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClusterInfo {
    pub name: String,
    pub id: String,
}

pub struct Core {
    pub settings: CoreSettings,
    raft: Arc<RaftStorage>,
    physical: Arc<dyn Storage>,
    barrier: Arc<Barrier>,
    seal: Arc<dyn Seal>,
    tokens: Arc<TokenStore>,
    unseal_progress: tokio::sync::Mutex<UnsealProgress>,
    rekey: tokio::sync::Mutex<Option<lifecycle::RekeyOperation>>,
    /// Serialises init, unseal, seal and rekey completion.
    lifecycle: tokio::sync::Mutex<()>,
    unsealed: RwLock<Option<UnsealedState>>,
    sys_paths: PathTable<Core>,
    expiration: Arc<ExpirationManager>,
    routes: RwLock<Arc<RouteTable>>,
    /// Serialises changes of the mount tables.
    mount_change: tokio::sync::Mutex<()>,
    policies: PolicyStore,
    token_backend: Arc<dyn Backend>,
    /// HA hook (issue #5): the cluster state, set once at startup by `server.rs` when the
    /// node runs with a cluster listener; `None` in dev mode and unit tests.
    cluster: std::sync::OnceLock<Arc<crate::cluster::Cluster>>,
    /// Linearizable standby reads: the raft change generation the mount tables, policies and
    /// token salt were last reloaded at (`local_read.rs`), and the lock reloads take.
    local_read_generation: std::sync::atomic::AtomicU64,
    local_read_reload: tokio::sync::Mutex<()>,
}

/// What exists only while unsealed.
#[derive(Debug, Clone)]
struct UnsealedState {
    cluster: ClusterInfo,
    active_since: OffsetDateTime,
}

impl Core {
    pub fn new(settings: CoreSettings, raft: Arc<RaftStorage>, seal: Arc<dyn Seal>) -> Arc<Core> {
        // Every write passes the local-read guard: a standby serving a read from its own
        // replica never writes (see `local_read.rs`).
        let physical: Arc<dyn Storage> = Arc::new(local_read::ReadOnlyInLocalRead(raft.clone()));
        let cached_prefixes = local_read::cached_storage_prefixes();
        raft.watch_prefixes(
            &cached_prefixes
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        let barrier = Arc::new(Barrier::new(physical.clone()));
        let tokens = Arc::new(TokenStore::new(StorageView::new(
            barrier.clone(),
            TOKEN_STORE_PREFIX,
        )));
        let token_backend = tresor_auth::token_backend(tokens.clone());
        let expiration_storage = StorageView::new(barrier.clone(), EXPIRATION_PREFIX);
        let policies = PolicyStore::new(StorageView::new(barrier.clone(), POLICY_PREFIX));
        let core = Arc::new_cyclic(|weak_core| Core {
            settings,
            raft,
            physical,
            barrier,
            seal,
            tokens,
            unseal_progress: tokio::sync::Mutex::new(UnsealProgress::new()),
            rekey: tokio::sync::Mutex::new(None),
            lifecycle: tokio::sync::Mutex::new(()),
            unsealed: RwLock::new(None),
            sys_paths: crate::sys::path_table(),
            expiration: ExpirationManager::new(
                expiration_storage,
                Arc::new(CoreLeaseBackends(weak_core.clone())),
            ),
            routes: RwLock::new(Arc::new(RouteTable::default())),
            mount_change: tokio::sync::Mutex::new(()),
            policies,
            token_backend,
            cluster: std::sync::OnceLock::new(),
            local_read_generation: std::sync::atomic::AtomicU64::new(local_read::NOT_LOADED),
            local_read_reload: tokio::sync::Mutex::new(()),
        });
        core.tokens
            .set_lifecycle_hook(Arc::new(CoreTokenHook(Arc::downgrade(&core))));
        // Token entries are cached within one raft leadership epoch of this node, or in the
        // standby epoch, and every change raft applies to one invalidates it (`cache.rs`).
        let raft = core.raft.clone();
        core.tokens.set_cache_gate(Arc::new(move || {
            Some(raft.leader_epoch().unwrap_or(STANDBY_TOKEN_CACHE_EPOCH))
        }));
        let tokens = Arc::downgrade(&core.tokens);
        core.raft.observe_applied(
            &format!("{TOKEN_STORE_PREFIX}{}", TokenStore::ENTRY_KEY_PREFIX),
            Arc::new(move |change| {
                let Some(tokens) = tokens.upgrade() else {
                    return;
                };
                match change {
                    // Entry keys end in the token hash the cache is keyed by.
                    AppliedChange::Key(token_hash) => tokens.forget_cached_entry(token_hash),
                    AppliedChange::Everything => tokens.forget_cached_entries(),
                }
            }),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(periodic::run(Arc::downgrade(&core)));
        }
        core
    }

    pub fn expiration(&self) -> &ExpirationManager {
        &self.expiration
    }

    pub fn policies(&self) -> &PolicyStore {
        &self.policies
    }

    /// The token behind an accessor.
    pub async fn token_by_accessor(
        &self,
        accessor: &str,
    ) -> Result<Option<tresor_auth::TokenEntry>, Error> {
        Ok(self.tokens.lookup_by_accessor(accessor).await?)
    }

    /// The storage of the cubbyhole mount, where each token's cubbyhole lives.
    fn cubbyhole_storage(&self) -> Option<StorageView> {
        let routes = self.routes();
        let mounted = routes.find(crate::mounts::MountTableKind::Secrets, "cubbyhole/")?;
        Some(StorageView::new(
            self.barrier.clone(),
            mounted.entry.storage_prefix(),
        ))
    }

    /// HA hook: installs the cluster state (once, at startup).
    pub fn set_cluster(&self, cluster: Arc<crate::cluster::Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.get()
    }

    /// HA hook: a standby is a member of a multi-member raft configuration that is not its
    /// active node (it does not lead, or leads but has not finished activation). It keeps no
    /// lease timers; the active node does.
    pub fn is_ha_standby(&self) -> bool {
        self.raft.membership().members.len() > 1 && !self.is_active_node()
    }

    /// HA hook: whether this node serves as the active node: it leads raft and, in a
    /// multi-member cluster, has finished activation (mounts, policies and lease timers
    /// reloaded). Vault reports a node still becoming active as a standby.
    pub fn is_active_node(&self) -> bool {
        if !self.raft.status().is_leader {
            return false;
        }
        match self.cluster() {
            Some(cluster) => cluster.is_active() || !crate::cluster::Cluster::is_multi_node(self),
            None => true,
        }
    }

    /// HA hook: this node became the active node of a multi-member cluster. Mounts,
    /// policies and tokens may have changed while it was a standby, so reload them, then arm
    /// the lease timers.
    pub async fn activate(&self) -> Result<(), Error> {
        self.require_unsealed()?;
        self.tokens.clear_cache();
        self.policies.load().await?;
        self.load_mounts_exclusively().await?;
        self.expiration.start().await?;
        Ok(())
    }

    /// HA hook: this node stopped being the active node; its lease timers stop.
    pub async fn deactivate(&self) {
        self.expiration.stop().await;
        self.tokens.clear_cache();
    }

    pub fn sys_paths(&self) -> &PathTable<Core> {
        &self.sys_paths
    }

    pub fn raft(&self) -> &Arc<RaftStorage> {
        &self.raft
    }

    pub fn seal_kind(&self) -> &dyn Seal {
        self.seal.as_ref()
    }

    pub fn tokens(&self) -> &TokenStore {
        &self.tokens
    }

    pub fn barrier(&self) -> &Barrier {
        &self.barrier
    }

    pub fn is_sealed(&self) -> bool {
        self.unsealed_state().is_none()
    }

    fn unsealed_state(&self) -> Option<UnsealedState> {
        self.unsealed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn cluster_info(&self) -> Option<ClusterInfo> {
        self.unsealed_state().map(|state| state.cluster)
    }

    pub fn active_since(&self) -> Option<OffsetDateTime> {
        self.unsealed_state().map(|state| state.active_since)
    }

    /// 503 `Vault is sealed` unless unsealed.
    pub fn require_unsealed(&self) -> Result<(), Error> {
        match self.is_sealed() {
            true => Err(Error::sealed()),
            false => Ok(()),
        }
    }
}

/// The expiration manager's view of the core, without a reference cycle.
struct CoreLeaseBackends(Weak<Core>);

#[async_trait::async_trait]
impl LeaseBackends for CoreLeaseBackends {
    fn backend_for(&self, mount_path: &str) -> Option<(Arc<dyn Backend>, MountContext)> {
        let core = self.0.upgrade()?;
        let (mounted, _) = core.routes().route(mount_path)?;
        let context = mounted.context(
            core.settings.default_lease_ttl_seconds,
            core.settings.max_lease_ttl_seconds,
        );
        match &mounted.backend {
            MountBackend::Logical(backend) => Some((backend.clone(), context)),
            MountBackend::System => None,
        }
    }

    async fn revoke_token(&self, token_hash: &str) -> Result<(), Error> {
        let Some(core) = self.0.upgrade() else {
            return Ok(());
        };
        Ok(core.tokens.revoke_by_hash(token_hash).await?)
    }

    async fn token_lease(&self, token_hash: &str) -> Result<Option<TokenLease>, Error> {
        let Some(core) = self.0.upgrade() else {
            return Ok(None);
        };
        let entry = core.tokens.lookup_by_hash(token_hash).await?;
        Ok(entry.as_ref().and_then(token_lease))
    }
}

/// The lease of a token (Vault's `RegisterAuth`), from its entry. As in Vault, a batch token
/// has none (it expires where it is used), nor a root token made by init, generate-root or
/// dev mode (`auth/token/root`, Vault's `rootToken`, never registered).
fn token_lease(entry: &TokenEntry) -> Option<TokenLease> {
    if entry.token_type == tresor_auth::TokenType::Batch || entry.path == "auth/token/root" {
        return None;
    }
    Some(TokenLease {
        token_hash: entry.id_hash.clone(),
        token_path: entry.path.clone(),
        issue_time_ns: entry.issue_time_nanos,
        expire_time_ns: entry.expire_time_nanos,
        last_renewal_ns: entry.last_renewal_nanos,
        renewable: entry.renewable,
        ttl_seconds: entry.ttl_seconds,
    })
}

/// The token store's view of the core: expiry timers, lease revocation and cubbyhole
/// destruction when a token goes away.
struct CoreTokenHook(Weak<Core>);

#[async_trait::async_trait]
impl TokenLifecycleHook for CoreTokenHook {
    async fn token_expiry_set(&self, entry: &TokenEntry) -> Result<(), AuthError> {
        let Some(core) = self.0.upgrade() else {
            return Ok(());
        };
        let Some(lease) = token_lease(entry) else {
            return Ok(());
        };
        core.expiration
            .register_token_lease(&lease)
            .await
            .map_err(|error| AuthError::Invalid(error.to_string()))
    }

    async fn token_revoked(&self, entry: &TokenEntry) -> Result<(), AuthError> {
        let Some(core) = self.0.upgrade() else {
            return Ok(());
        };
        core.expiration
            .revoke_by_token(&entry.id_hash)
            .await
            .map_err(|error| AuthError::Invalid(error.to_string()))?;
        core.expiration
            .remove_token_lease(&entry.path, &entry.id_hash)
            .await
            .map_err(|error| AuthError::Invalid(error.to_string()))?;
        if let Some(cubbyhole) = core.cubbyhole_storage() {
            tresor_kv::destroy_cubbyhole(&cubbyhole, &entry.id_hash)
                .await
                .map_err(|error| AuthError::Invalid(error.to_string()))?;
        }
        Ok(())
    }

    async fn policy_exists(&self, name: &str) -> Result<bool, AuthError> {
        let Some(core) = self.0.upgrade() else {
            return Ok(true);
        };
        Ok(core.policies.get(name).is_some() || name == policies::RESPONSE_WRAPPING_POLICY)
    }
}
