//! The expiration manager: leases (id, TTL, revocation data), their timers, renewal and
//! revocation, and token expiry. Runs only on the active node while unsealed: `start` after
//! unseal (or on promotion), `stop` on seal (or step-down); stopping never revokes.
//!
//! Invariant: storage is the truth. A lease record is written before its id is returned and
//! deleted only after its backend revoked it (or a forced revocation); memory holds only the
//! due time of each timer, rebuilt from storage by `start`.
//!
//! Token expiry is a lease like any other (Vault's `RegisterAuth`): every token with a TTL
//! has a lease record `<token path>/h<token hash>` (see [`TokenLease`]), listed, looked up,
//! revoked and expired through the same records and timers. The token store keeps it current
//! through its lifecycle hook; revoking the lease revokes the token, never while holding a
//! lease lock (the token store's revocation calls back into this manager).

mod entry;
pub mod limits;
mod scheduler;
pub mod ttl;
mod worker;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
pub use entry::token_lease_id;
use entry::{LEASE_PREFIX, LeaseEntry, LeaseTimer, TOKEN_EXPIRY_PREFIX, TokenExpiry};
use limits::*;
use scheduler::{State, TimerKey};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::{JoinHandle, JoinSet};
use tresor_framework::{Backend, Error, LeaseInfo, LeaseRequest, MountContext, StorageView};
use tresor_storage::{Operation, Storage};
use ttl::grant_ttl;

/// How the manager reaches the backends that issued leases, and the token store.
#[async_trait]
pub trait LeaseBackends: Send + Sync + 'static {
    /// The backend mounted at `mount_path` (e.g. `database/`) and its mount context.
    fn backend_for(&self, mount_path: &str) -> Option<(Arc<dyn Backend>, MountContext)>;
    /// Revokes a token (and its children) whose TTL ran out. The manager has already queued
    /// the revocation of the token's own leases; children's leases are the token store's to
    /// hand over (`revoke_by_token` for each child).
    async fn revoke_token(&self, token_hash: &str) -> Result<(), Error>;
    /// Whether a token still exists; `sys/leases/tidy` force-revokes leases of tokens that
    /// do not. The default keeps every lease that names a token.
    async fn token_exists(&self, _token_hash: &str) -> Result<bool, Error> {
        Ok(true)
    }
    /// The lease of a live token, to convert the token expiry records of older versions on
    /// `start`. `None`: the token is gone (or never expires) and the record is dropped.
    async fn token_lease(&self, _token_hash: &str) -> Result<Option<TokenLease>, Error> {
        Ok(None)
    }
}

/// What the token store tells the manager about a token (create, renew): the lease of the
/// token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLease {
    pub token_hash: String,
    /// The token's creation path (`auth/token/create`, `auth/token/create-orphan`, ...).
    pub token_path: String,
    pub issue_time_ns: i64,
    /// `None`: the token never expires (its lease has no timer).
    pub expire_time_ns: Option<i64>,
    pub last_renewal_ns: Option<i64>,
    pub renewable: bool,
    pub ttl_seconds: u64,
}

/// `sys/leases/lookup`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeaseView {
    pub id: String,
    pub issue_time: String,
    pub expire_time: Option<String>,
    pub last_renewal: Option<String>,
    pub renewable: bool,
    pub ttl: u64,
    /// Why revocation failed, for a lease that is being retried or is irrevocable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke_error: Option<String>,
    /// A token's lease: the token's path (`auth/token/create`), as OpenBao shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A lease just issued or renewed: what the envelope carries (`lease_id`, `renewable`,
/// `lease_duration`, `warnings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedLease {
    pub lease_id: String,
    pub renewable: bool,
    pub lease_duration_seconds: u64,
    pub warnings: Vec<String>,
}

/// What one tidy pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TidyReport {
    pub leases_checked: usize,
    pub leases_revoked: usize,
    pub index_entries_deleted: usize,
}

/// Timings and bounds of the background work; `Default` is the production values from
/// [`limits`]. Tests shorten the backoff.
#[derive(Debug, Clone)]
pub struct ExpirationTuning {
    pub revoke_concurrency: usize,
    pub revoke_attempts_max: u32,
    pub revoke_backoff_base_ms: u64,
    pub revoke_backoff_max_ms: u64,
    pub revoke_attempt_timeout_ms: u64,
    pub irrevocable_retry_ms: u64,
    pub scheduler_sleep_ms_max: u64,
}

impl Default for ExpirationTuning {
    fn default() -> Self {
        ExpirationTuning {
            revoke_concurrency: REVOKE_CONCURRENCY_MAX,
            revoke_attempts_max: REVOKE_ATTEMPTS_MAX,
            revoke_backoff_base_ms: REVOKE_BACKOFF_BASE_MS,
            revoke_backoff_max_ms: REVOKE_BACKOFF_MAX_MS,
            revoke_attempt_timeout_ms: REVOKE_ATTEMPT_TIMEOUT_MS,
            irrevocable_retry_ms: IRREVOCABLE_RETRY_MS,
            scheduler_sleep_ms_max: SCHEDULER_SLEEP_MS_MAX,
        }
    }
}

/// The manager. Invariant: at most one scheduler task exists, owned here; `stop` aborts and
/// joins it (and a running tidy) before returning.
pub struct ExpirationManager {
    inner: Arc<Inner>,
    tasks: Mutex<Tasks>,
    /// Serialises `start` and `stop`.
    lifecycle: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Tasks {
    scheduler: Option<JoinHandle<()>>,
    tidy: Option<JoinHandle<()>>,
}

/// What the scheduler task and the workers share with the manager.
struct Inner {
    storage: StorageView,
    backends: Arc<dyn LeaseBackends>,
    tuning: ExpirationTuning,
    state: Mutex<State>,
    wake: tokio::sync::Notify,
    locks: Box<[tokio::sync::Mutex<()>]>,
    /// Added to the wall clock; moved only by tests.
    clock_skew_ns: AtomicI64,
}

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;

impl ExpirationManager {
    /// `storage` is the barrier view the manager owns (`sys/expire/`).
    pub fn new(storage: StorageView, backends: Arc<dyn LeaseBackends>) -> Arc<ExpirationManager> {
        Self::with_tuning(storage, backends, ExpirationTuning::default())
    }

    pub fn with_tuning(
        storage: StorageView,
        backends: Arc<dyn LeaseBackends>,
        tuning: ExpirationTuning,
    ) -> Arc<ExpirationManager> {
        let locks = (0..LEASE_LOCK_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        let inner = Inner {
            storage,
            backends,
            tuning,
            state: Mutex::new(State::default()),
            wake: tokio::sync::Notify::new(),
            locks,
            clock_skew_ns: AtomicI64::new(0),
        };
        Arc::new(ExpirationManager {
            inner: Arc::new(inner),
            tasks: Mutex::new(Tasks::default()),
            lifecycle: tokio::sync::Mutex::new(()),
        })
    }

    /// Loads every lease and token expiry and arms the timers. Called when the node becomes
    /// active and unsealed. Returns the number of leases restored. Leases that expired while
    /// the node was down fire at once. A record that cannot be read fails the start: running
    /// with a partial lease set would leak credentials.
    pub async fn start(&self) -> Result<usize, Error> {
        let _lifecycle = self.lifecycle.lock().await;
        self.stop_locked().await;
        let generation = {
            let mut state = self.inner.lock_state();
            state.clear();
            state.generation += 1;
            state.running = true;
            state.generation
        };
        let restored = match self.inner.restore().await {
            Ok(restored) => restored,
            Err(error) => {
                self.stop_locked().await;
                return Err(error);
            }
        };
        let handle = tokio::spawn(scheduler::run(self.inner.clone(), generation));
        self.lock_tasks().scheduler = Some(handle);
        tracing::info!(leases = restored, "expiration manager started");
        Ok(restored)
    }

    /// Stops every timer; called on seal and on losing leadership. Nothing is revoked, and a
    /// timer or worker that races with the stop finds its generation gone and does nothing.
    pub async fn stop(&self) {
        let _lifecycle = self.lifecycle.lock().await;
        self.stop_locked().await;
    }

    async fn stop_locked(&self) {
        {
            let mut state = self.inner.lock_state();
            state.running = false;
            state.generation += 1;
            state.clear();
        }
        let (scheduler, tidy) = {
            let mut tasks = self.lock_tasks();
            (tasks.scheduler.take(), tasks.tidy.take())
        };
        for handle in [scheduler, tidy].into_iter().flatten() {
            handle.abort();
            // The task was aborted; its result (cancelled) carries nothing.
            let _ = handle.await;
        }
    }

    /// Registers a lease and returns what the envelope needs: the id, the TTL granted by
    /// [`ttl::grant_ttl`] (the same function renew uses) and its cap warning.
    pub async fn issue_lease(
        &self,
        mount: &MountContext,
        request_path: &str,
        lease: &LeaseInfo,
        token_hash: Option<&str>,
    ) -> Result<GrantedLease, Error> {
        assert!(
            mount.path.is_empty() || mount.path.ends_with('/'),
            "a mount path ends with '/'"
        );
        let now_ns = self.inner.now_ns();
        let granted = grant_ttl(mount, lease.lease_duration_seconds, 0, now_ns, now_ns)?;
        let lease_id = entry::new_lease_id(&mount.path, request_path);
        if lease_id.len() > LEASE_ID_BYTES_MAX {
            return Err(Error::invalid("lease id too long"));
        }
        let token_hash = token_hash
            .filter(|hash| !hash.is_empty())
            .map(str::to_string);
        let entry = LeaseEntry {
            lease_id: lease_id.clone(),
            mount_path: mount.path.clone(),
            path: request_path.trim_matches('/').to_string(),
            internal_data: lease
                .internal_data
                .clone()
                .unwrap_or(serde_json::Value::Null),
            issue_time_ns: now_ns,
            expire_time_ns: expire_ns(now_ns, granted.ttl_seconds),
            last_renewal_ns: None,
            renewable: lease.renewable,
            ttl_seconds: granted.ttl_seconds,
            token_hash,
            revoke_attempts: 0,
            revoke_error: None,
            irrevocable: false,
            auth_token: None,
        };
        let mut operations = vec![Operation::Put {
            key: entry::lease_key(&lease_id),
            value: entry::encode(&entry)?,
        }];
        if let Some(hash) = &entry.token_hash {
            operations.push(Operation::Put {
                key: entry::token_index_key(hash, &lease_id),
                value: lease_id.as_bytes().to_vec(),
            });
        }
        self.inner.storage.batch(operations).await?;
        self.inner.arm(
            TimerKey::Lease(Arc::from(lease_id.as_str())),
            entry.expire_time_ns,
        );
        Ok(GrantedLease {
            lease_id,
            renewable: entry.renewable,
            lease_duration_seconds: granted.ttl_seconds,
            warnings: granted.warning.into_iter().collect(),
        })
    }

    /// `sys/leases/renew`: a new TTL of `increment_seconds` from now (0: the lease's previous
    /// TTL), capped by the mount's max since issue, then offered to the backend.
    pub async fn renew(
        &self,
        lease_id: &str,
        increment_seconds: u64,
    ) -> Result<GrantedLease, Error> {
        check_lease_id(lease_id)?;
        let _guard = self.inner.lock_for(lease_id).lock().await;
        let Some(mut entry) = self.inner.load(lease_id).await? else {
            return Err(Error::invalid("lease not found"));
        };
        let now_ns = self.inner.now_ns();
        if entry.irrevocable || entry.expire_time_ns <= now_ns {
            return match entry.revoke_error {
                Some(_) => Err(Error::invalid(
                    "lease is expired and has failed previous revocation attempts",
                )),
                None => Err(Error::invalid("lease expired")),
            };
        }
        if !entry.renewable {
            return Err(Error::invalid("lease is not renewable"));
        }
        if entry.auth_token.is_some() {
            return Err(Error::invalid(
                "tokens cannot be renewed through this endpoint",
            ));
        }
        let Some((backend, mount)) = self.inner.backends.backend_for(&entry.mount_path) else {
            return Err(Error::internal(format!(
                "no mount at {} for lease renewal",
                entry.mount_path
            )));
        };
        let granted = grant_ttl(
            &mount,
            increment_seconds,
            entry.ttl_seconds,
            entry.issue_time_ns,
            now_ns,
        )?;
        let request = LeaseRequest {
            lease_id: entry.lease_id.clone(),
            path: entry.path.clone(),
            internal_data: entry.internal_data.clone(),
            ttl_seconds: granted.ttl_seconds,
            mount,
        };
        let renewed = backend.renew_lease(request).await?;
        let ttl_seconds = match renewed.lease_duration_seconds {
            0 => granted.ttl_seconds,
            seconds => seconds.min(granted.ttl_seconds),
        };
        entry.ttl_seconds = ttl_seconds;
        entry.expire_time_ns = expire_ns(now_ns, ttl_seconds);
        entry.last_renewal_ns = Some(now_ns);
        entry.renewable = renewed.renewable;
        if let Some(internal_data) = renewed.internal_data {
            entry.internal_data = internal_data;
        }
        self.inner.persist(&entry).await?;
        self.inner
            .arm(TimerKey::Lease(Arc::from(lease_id)), entry.expire_time_ns);
        Ok(GrantedLease {
            lease_id: entry.lease_id,
            renewable: entry.renewable,
            lease_duration_seconds: ttl_seconds,
            warnings: granted.warning.into_iter().collect(),
        })
    }

    /// `sys/leases/revoke`. `sync`: the backend revokes now and a failure is returned (the
    /// lease stays). Otherwise the lease expires now and the timers revoke it, with retries.
    /// An unknown lease is a success (idempotent).
    pub async fn revoke(&self, lease_id: &str, sync: bool) -> Result<(), Error> {
        check_lease_id(lease_id)?;
        match sync {
            true => self.inner.revoke_one(lease_id, false).await,
            false => self.inner.expire_now(lease_id).await,
        }
    }

    /// Revokes every lease under a prefix (`sys/leases/revoke-prefix`, a mount being
    /// disabled). A prefix without a trailing slash that names one lease revokes that lease.
    /// Not forced: the first backend error stops the walk and is returned. Forced: backend
    /// errors are logged and every record is deleted anyway (`revoke-force`).
    pub async fn revoke_prefix(&self, prefix: &str, force: bool) -> Result<(), Error> {
        let ids = self.inner.prefix_ids(prefix).await?;
        let bulk = match force {
            true => worker::Bulk::RevokeForce,
            false => worker::Bulk::Revoke,
        };
        for batch in ids.chunks(REVOKE_PREFIX_BATCH_LEASES_MAX) {
            worker::run_bulk(&self.inner, batch.to_vec(), bulk).await?;
        }
        Ok(())
    }

    /// `sys/leases/revoke-force`: [`ExpirationManager::revoke_prefix`] ignoring backend errors.
    pub async fn revoke_force(&self, prefix: &str) -> Result<(), Error> {
        self.revoke_prefix(prefix, true).await
    }

    /// `revoke-prefix` with `sync: false`: every lease under the prefix expires now.
    pub async fn expire_prefix(&self, prefix: &str) -> Result<(), Error> {
        let ids = self.inner.prefix_ids(prefix).await?;
        worker::run_bulk(&self.inner, ids, worker::Bulk::ExpireNow).await
    }

    /// Revokes every lease issued under a token (the token was revoked or expired). As in
    /// Vault the leases expire now and the timers revoke them, retrying failures, so a
    /// failing backend never blocks the token's revocation.
    pub async fn revoke_by_token(&self, token_hash: &str) -> Result<(), Error> {
        self.inner.expire_by_token(token_hash).await
    }

    /// Writes (or rewrites, on renew) the lease of a token and arms its timer (none for a
    /// token that never expires). Called by the token store's hook.
    pub async fn register_token_lease(&self, lease: &TokenLease) -> Result<(), Error> {
        self.inner.register_token_lease(lease).await
    }

    /// The token was revoked: its lease goes, without calling back into the token store (as
    /// Vault's `RevokeByToken` skips the token when it cleans up the token's own lease).
    pub async fn remove_token_lease(
        &self,
        token_path: &str,
        token_hash: &str,
    ) -> Result<(), Error> {
        self.inner
            .delete_token_lease(&token_lease_id(token_path, token_hash))
            .await
    }

    /// `sys/leases/lookup`; an unknown lease is 400 `invalid lease`.
    pub async fn lookup(&self, lease_id: &str) -> Result<LeaseView, Error> {
        check_lease_id(lease_id)?;
        let Some(entry) = self.inner.load(lease_id).await? else {
            return Err(Error::invalid("invalid lease"));
        };
        let never = entry.expire_time_ns == entry::NEVER_NS;
        let remaining_ns = match never {
            true => 0,
            false => entry
                .expire_time_ns
                .saturating_sub(self.inner.now_ns())
                .max(0),
        };
        let path = entry.auth_token.as_ref().map(|_| {
            entry
                .lease_id
                .rsplit_once('/')
                .map_or("", |(path, _)| path)
                .to_string()
        });
        Ok(LeaseView {
            issue_time: entry::rfc3339_nanos(entry.issue_time_ns),
            expire_time: (!never).then(|| entry::rfc3339_nanos(entry.expire_time_ns)),
            last_renewal: entry.last_renewal_ns.map(entry::rfc3339_nanos),
            renewable: entry.renewable,
            ttl: u64::try_from(remaining_ns / NANOS_PER_SECOND).unwrap_or(0),
            revoke_error: entry.revoke_error,
            path,
            id: entry.lease_id,
        })
    }

    /// `LIST sys/leases/lookup/<prefix>`: the next path segment of every lease id under the
    /// prefix (folders end with `/`). A prefix without a trailing slash is treated as a folder,
    /// as Vault does.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        if prefix.len() > LEASE_ID_BYTES_MAX {
            return Err(Error::invalid("lease id too long"));
        }
        let folder = match prefix.is_empty() || prefix.ends_with('/') {
            true => prefix.to_string(),
            false => format!("{prefix}/"),
        };
        Ok(self.inner.storage.list(&entry::lease_key(&folder)).await?)
    }

    /// `sys/leases/tidy`: starts one background pass (owned here, stopped by `stop`) and
    /// returns whether it started; `false` when one is already running.
    pub fn tidy(&self) -> bool {
        let mut tasks = self.lock_tasks();
        if tasks
            .tidy
            .as_ref()
            .is_some_and(|handle| !handle.is_finished())
        {
            tracing::warn!("tidy operation on leases is already in progress");
            return false;
        }
        let inner = self.inner.clone();
        tasks.tidy = Some(tokio::spawn(async move {
            match inner.tidy().await {
                Ok(report) => tracing::info!(?report, "lease tidy finished"),
                Err(error) => tracing::error!(%error, "lease tidy failed"),
            }
        }));
        true
    }

    #[cfg(test)]
    /// One tidy pass, awaited: every lease whose token is gone (or that names none) is
    /// revoked in force mode, and token-index entries of missing leases are deleted.
    pub async fn tidy_now(&self) -> Result<TidyReport, Error> {
        self.inner.tidy().await
    }

    #[cfg(test)]
    /// Leases whose revocation ran out of retries (`sys/leases?type=irrevocable`).
    pub fn irrevocable_leases(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .irrevocable
            .iter()
            .map(|id| id.to_string())
            .collect()
    }

    /// Armed timers (leases and token expiries).
    #[cfg(test)]
    pub fn timers_armed(&self) -> usize {
        self.inner.lock_state().armed()
    }

    fn lock_tasks(&self) -> MutexGuard<'_, Tasks> {
        self.tasks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn advance_clock(&self, seconds: i64) {
        self.inner
            .clock_skew_ns
            .fetch_add(seconds * NANOS_PER_SECOND, Ordering::SeqCst);
        self.inner.wake.notify_one();
    }
}

impl Drop for ExpirationManager {
    fn drop(&mut self) {
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for handle in [tasks.scheduler.take(), tasks.tidy.take()]
            .into_iter()
            .flatten()
        {
            handle.abort();
        }
    }
}

fn expire_ns(now_ns: i64, ttl_seconds: u64) -> i64 {
    now_ns.saturating_add(
        i64::try_from(ttl_seconds)
            .unwrap_or(i64::MAX)
            .saturating_mul(NANOS_PER_SECOND),
    )
}

/// A token lease's "mount" (`auth/token/`) and path below it (`create/h…`).
fn split_token_lease_path(lease_id: &str) -> (String, String) {
    let (parent, _) = lease_id.rsplit_once('/').unwrap_or(("", lease_id));
    let mut segments = parent.splitn(3, '/');
    let mount: Vec<&str> = segments.by_ref().take(2).collect();
    let mount_path = format!("{}/", mount.join("/"));
    let rest = lease_id.strip_prefix(&mount_path).unwrap_or(lease_id);
    let path = rest.rsplit_once('/').map_or("", |(path, _)| path);
    (mount_path, path.to_string())
}

/// Edge check of a lease id from a request, before any storage read.
fn check_lease_id(lease_id: &str) -> Result<(), Error> {
    if lease_id.is_empty() {
        return Err(Error::invalid("lease_id must be specified"));
    }
    if lease_id.len() > LEASE_ID_BYTES_MAX {
        return Err(Error::invalid("lease id too long"));
    }
    Ok(())
}

impl Inner {
    fn now_ns(&self) -> i64 {
        let wall_ns = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        i64::try_from(wall_ns)
            .unwrap_or(i64::MAX)
            .saturating_add(self.clock_skew_ns.load(Ordering::SeqCst))
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_for(&self, id: &str) -> &tokio::sync::Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        &self.locks[(hasher.finish() % self.locks.len() as u64) as usize]
    }

    fn arm(&self, key: TimerKey, due_ns: i64) {
        self.lock_state().arm(key, due_ns);
        self.wake.notify_one();
    }

    fn is_current(&self, generation: u64) -> bool {
        let state = self.lock_state();
        state.running && state.generation == generation
    }

    /// Backoff after failed attempt `attempt` (1-based): `2^attempt × base` ±50 %, capped.
    fn backoff_ns(&self, attempt: u32) -> i64 {
        use rand::Rng;
        let base_ms = self.tuning.revoke_backoff_base_ms;
        let exponential_ms = base_ms.saturating_mul(1u64 << attempt.min(20));
        let jittered_ms =
            exponential_ms.saturating_mul(rand::thread_rng().gen_range(50..=150)) / 100;
        let capped_ms = jittered_ms.min(self.tuning.revoke_backoff_max_ms);
        i64::try_from(capped_ms)
            .unwrap_or(i64::MAX / NANOS_PER_MILLI)
            .saturating_mul(NANOS_PER_MILLI)
    }

    async fn load(&self, lease_id: &str) -> Result<Option<LeaseEntry>, Error> {
        let key = entry::lease_key(lease_id);
        match self.storage.get(&key).await? {
            Some(bytes) => entry::decode(&key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    async fn persist(&self, entry: &LeaseEntry) -> Result<(), Error> {
        Ok(self
            .storage
            .put(&entry::lease_key(&entry.lease_id), entry::encode(entry)?)
            .await?)
    }

    /// Every lease id below `prefix` (a folder, ending with `/`, or empty for all).
    async fn walk(&self, prefix: &str) -> Result<Vec<String>, Error> {
        assert!(
            prefix.is_empty() || prefix.ends_with('/'),
            "walk starts at a folder"
        );
        let mut ids = Vec::new();
        let mut folders = vec![prefix.to_string()];
        while let Some(folder) = folders.pop() {
            for child in self.storage.list(&entry::lease_key(&folder)).await? {
                let full = format!("{folder}{child}");
                match child.ends_with('/') {
                    true => folders.push(full),
                    false => ids.push(full),
                }
            }
            if ids.len() + folders.len() > WALK_KEYS_MAX {
                return Err(Error::internal(format!(
                    "more than {WALK_KEYS_MAX} lease records below {prefix}"
                )));
            }
        }
        Ok(ids)
    }

    /// The lease ids a prefix revocation covers: the lease named exactly, or the folder.
    async fn prefix_ids(&self, prefix: &str) -> Result<Vec<String>, Error> {
        if prefix.len() > LEASE_ID_BYTES_MAX {
            return Err(Error::invalid("lease id too long"));
        }
        if prefix.is_empty() || prefix.ends_with('/') {
            return self.walk(prefix).await;
        }
        if self.load(prefix).await?.is_some() {
            return Ok(vec![prefix.to_string()]);
        }
        self.walk(&format!("{prefix}/")).await
    }

    /// Reads every lease record's timer fields with [`RESTORE_WORKERS`] tasks in parallel,
    /// then every token expiry, and arms them all.
    async fn restore(self: &Arc<Self>) -> Result<usize, Error> {
        let ids = self.walk("").await?;
        let count = ids.len();
        let chunk_len = count.div_ceil(RESTORE_WORKERS).max(1);
        let mut readers = JoinSet::new();
        let mut ids = ids.into_iter();
        loop {
            let chunk: Vec<String> = ids.by_ref().take(chunk_len).collect();
            if chunk.is_empty() {
                break;
            }
            let inner = self.clone();
            readers.spawn(async move { inner.read_timers(chunk).await });
        }
        self.lock_state().reserve(count);
        let now_ns = self.now_ns();
        let retry_ns = self.irrevocable_retry_ns();
        while let Some(result) = readers.join_next().await {
            let timers = result.map_err(|error| {
                Error::internal(format!("lease restore worker failed: {error}"))
            })??;
            let mut state = self.lock_state();
            for (id, timer) in timers {
                match timer.irrevocable {
                    true => {
                        state.irrevocable.insert(id.clone());
                        state.arm(TimerKey::Lease(id), now_ns.saturating_add(retry_ns));
                    }
                    false => state.arm(TimerKey::Lease(id), timer.expire_time_ns),
                }
            }
        }
        Ok(count + self.convert_token_expiries().await?)
    }

    /// Older versions kept a token's expiry in `token-expiry/<hash>`: each becomes the
    /// token's lease (armed), or is dropped when the token is gone. Returns the leases made.
    async fn convert_token_expiries(&self) -> Result<usize, Error> {
        let mut converted = 0;
        for child in self.storage.list(TOKEN_EXPIRY_PREFIX).await? {
            let key = format!("{TOKEN_EXPIRY_PREFIX}{child}");
            let Some(bytes) = self.storage.get(&key).await? else {
                continue;
            };
            let record: TokenExpiry = entry::decode(&key, &bytes)?;
            if let Some(lease) = self.backends.token_lease(&record.token_hash).await? {
                self.register_token_lease(&lease).await?;
                converted += 1;
            }
            self.storage.delete(&key).await?;
        }
        Ok(converted)
    }

    async fn read_timers(&self, ids: Vec<String>) -> Result<Vec<(Arc<str>, LeaseTimer)>, Error> {
        let mut timers = Vec::with_capacity(ids.len());
        for id in ids {
            let key = format!("{LEASE_PREFIX}{id}");
            // Deleted since the listing (revoked meanwhile): nothing to arm.
            let Some(bytes) = self.storage.get(&key).await? else {
                continue;
            };
            let timer: LeaseTimer = entry::decode(&key, &bytes)?;
            timers.push((Arc::from(id.as_str()), timer));
        }
        Ok(timers)
    }

    /// See [`ExpirationManager::register_token_lease`].
    async fn register_token_lease(&self, lease: &TokenLease) -> Result<(), Error> {
        assert!(
            !lease.token_hash.is_empty() && !lease.token_hash.contains('/'),
            "a token hash is one non-empty path segment"
        );
        let lease_id = token_lease_id(&lease.token_path, &lease.token_hash);
        let expire_time_ns = lease.expire_time_ns.unwrap_or(entry::NEVER_NS);
        let _guard = self.lock_for(&lease_id).lock().await;
        let (mount_path, path) = split_token_lease_path(&lease_id);
        let entry = LeaseEntry {
            lease_id: lease_id.clone(),
            mount_path,
            path,
            internal_data: serde_json::Value::Null,
            issue_time_ns: lease.issue_time_ns,
            expire_time_ns,
            last_renewal_ns: lease.last_renewal_ns,
            renewable: lease.renewable,
            ttl_seconds: lease.ttl_seconds,
            token_hash: None,
            revoke_attempts: 0,
            revoke_error: None,
            irrevocable: false,
            auth_token: Some(lease.token_hash.clone()),
        };
        self.persist(&entry).await?;
        self.arm(
            TimerKey::Lease(Arc::from(lease_id.as_str())),
            expire_time_ns,
        );
        Ok(())
    }

    fn irrevocable_retry_ns(&self) -> i64 {
        i64::try_from(self.tuning.irrevocable_retry_ms)
            .unwrap_or(i64::MAX / NANOS_PER_MILLI)
            .saturating_mul(NANOS_PER_MILLI)
    }
}
