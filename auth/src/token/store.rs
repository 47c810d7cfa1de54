//! The token store: tokens kept as salted hashes, their accessor and parent indexes, roles,
//! use counting, lazy expiry, renewal and tree revocation.

use super::cache::{CacheGate, EntryCache};
use super::entry::{CreateToken, NANOS_PER_SECOND, TokenEntry, TokenRole, TokenType};
use super::limits::{
    REVOKE_TREE_TOKENS_MAX, TOKEN_BYTES_MAX, TOKEN_LOCK_STRIPES, TOKEN_RANDOM_CHARS,
};
use super::ttl::{TtlRequest, calculate_ttl};
use crate::AuthError;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};
use tresor_framework::{MountContext, StorageView};
use tresor_storage::{Operation, Storage};
use zeroize::Zeroizing;

const SALT_KEY: &str = "salt";
const ID_PREFIX: &str = "id/";
const ACCESSOR_PREFIX: &str = "accessor/";
const PARENT_PREFIX: &str = "parent/";
const ROLES_PREFIX: &str = "roles/";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Unix time in nanoseconds. Tests pass a clock they move; the server uses the system clock.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How the store tells the core about token lifecycle events.
#[async_trait]
pub trait TokenLifecycleHook: Send + Sync {
    /// A token was created or renewed: its expiry was set or moved (`expire_time_nanos`,
    /// None = never expires). The core makes it the token's lease in the expiration manager,
    /// which calls `revoke_by_hash` when it fires. Called with no store lock held.
    async fn token_expiry_set(&self, entry: &TokenEntry) -> Result<(), AuthError>;
    /// Called for each token revoked (tree revocation calls it per token): the core revokes its
    /// leases and destroys its cubbyhole.
    async fn token_revoked(&self, entry: &TokenEntry) -> Result<(), AuthError>;
    /// Whether an ACL policy exists, for create's `Policy "<p>" does not exist` warnings
    /// (TOK-02). The default answers yes, so no warning is given.
    async fn policy_exists(&self, _name: &str) -> Result<bool, AuthError> {
        Ok(true)
    }
}

/// A new service token: `hvs.` and 24 base62 characters (28 in all, INIT-08).
pub fn generate_token() -> String {
    format!("hvs.{}", random_base62(TOKEN_RANDOM_CHARS))
}

fn generate_batch_token() -> String {
    format!("hvb.{}", random_base62(TOKEN_RANDOM_CHARS))
}

fn random_base62(length: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..length)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// The accessor index value: the token hash, and the accessor itself so `accessors/` can list
/// accessors without reading every token.
#[derive(Serialize, Deserialize)]
struct AccessorEntry {
    token_hash: String,
    accessor: String,
}

/// The token store, shared as `Arc<TokenStore>` by the core and the `auth/token/` backend.
///
/// Invariant: a token's entry, accessor index and parent index are written in one batch and
/// removed in one batch, so an index never names a token that was never stored.
pub struct TokenStore {
    storage: StorageView,
    salt: RwLock<Option<Arc<Zeroizing<Vec<u8>>>>>,
    clock: Clock,
    hook: RwLock<Option<Arc<dyn TokenLifecycleHook>>>,
    locks: Vec<tokio::sync::Mutex<()>>,
    pub(crate) tidy_running: AtomicBool,
    cache: EntryCache,
}

impl TokenStore {
    /// `storage` is the barrier view the store owns (the server uses `sys/token/`).
    pub fn new(storage: StorageView) -> Self {
        TokenStore::with_clock(storage, Arc::new(system_now_nanos))
    }

    /// A store whose notion of "now" is `clock` (unix nanoseconds).
    pub fn with_clock(storage: StorageView, clock: Clock) -> Self {
        TokenStore {
            storage,
            salt: RwLock::new(None),
            clock,
            hook: RwLock::new(None),
            locks: (0..TOKEN_LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            tidy_running: AtomicBool::new(false),
            cache: EntryCache::default(),
        }
    }

    /// Installs the core's hook (expiration manager, lease and cubbyhole cleanup).
    pub fn set_lifecycle_hook(&self, hook: Arc<dyn TokenLifecycleHook>) {
        *self
            .hook
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(hook);
    }

    /// Lets lookups use the in-memory entry cache while `gate` answers an epoch (see
    /// `cache.rs` for when that is safe). Without a gate nothing is cached.
    pub fn set_cache_gate(&self, gate: CacheGate) {
        self.cache.set_gate(gate);
    }

    /// Forgets the cached entry of `token_hash`: the server calls it when raft applied a
    /// change to that entry, which on a standby no store of this node made (see `cache.rs`).
    pub fn forget_cached_entry(&self, token_hash: &str) {
        self.cache.invalidate(token_hash);
    }

    /// Forgets every cached entry (raft replaced the whole data).
    pub fn forget_cached_entries(&self) {
        self.cache.clear();
    }

    /// The storage key prefix of token entries, under this store's view; the rest of an
    /// entry's key is its token hash.
    pub const ENTRY_KEY_PREFIX: &'static str = ID_PREFIX;

    /// Forgets cached material; called when the barrier seals, the node changes HA role or
    /// storage is replaced by a snapshot.
    pub fn clear_cache(&self) {
        self.cache.clear();
        *self
            .salt
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    pub(crate) fn now_nanos(&self) -> i64 {
        (self.clock)()
    }

    fn hook(&self) -> Option<Arc<dyn TokenLifecycleHook>> {
        self.hook
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) async fn policy_exists(&self, name: &str) -> Result<bool, AuthError> {
        match self.hook() {
            Some(hook) => hook.policy_exists(name).await,
            None => Ok(true),
        }
    }

    async fn salt(&self) -> Result<Arc<Zeroizing<Vec<u8>>>, AuthError> {
        if let Some(salt) = self
            .salt
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
        {
            return Ok(salt);
        }
        let salt = match self.storage.get(SALT_KEY).await? {
            Some(salt) => salt,
            None => {
                let salt: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
                self.storage.put(SALT_KEY, salt.clone()).await?;
                salt
            }
        };
        let salt = Arc::new(Zeroizing::new(salt));
        *self
            .salt
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(salt.clone());
        Ok(salt)
    }

    /// The salted HMAC of a token or accessor: the only form either takes in storage.
    pub async fn hash(&self, value: &str) -> Result<String, AuthError> {
        let salt = self.salt().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&salt).map_err(|_| AuthError::CorruptEntry)?;
        mac.update(value.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    fn lock_for(&self, token_hash: &str) -> &tokio::sync::Mutex<()> {
        let stripe = token_hash.bytes().fold(0usize, |sum, byte| {
            sum.wrapping_mul(31).wrapping_add(byte as usize)
        });
        &self.locks[stripe & (TOKEN_LOCK_STRIPES - 1)]
    }

    /// Creates the root token (INIT-08): policy `root`, no TTL, orphan, `auth/token/root`.
    /// `explicit_id` is dev mode's `-dev-root-token-id`.
    pub async fn create_root(&self, explicit_id: Option<&str>) -> Result<String, AuthError> {
        if explicit_id == Some("") {
            return Err(AuthError::Invalid("root token id cannot be empty".into()));
        }
        let request = CreateToken {
            id: explicit_id.map(str::to_string),
            policies: vec!["root".to_string()],
            path: "auth/token/root".to_string(),
            display_name: "root".to_string(),
            ..CreateToken::default()
        };
        let (token, _) = self.create(request).await?;
        Ok(token)
    }

    /// Stores a new token and returns it with its entry. The caller has already applied the
    /// token method's rules (policies, TTLs, sudo). Tells the hook the token's expiry.
    pub async fn create(&self, request: CreateToken) -> Result<(String, TokenEntry), AuthError> {
        let token = match (&request.id, request.token_type) {
            (Some(id), _) => id.clone(),
            (None, TokenType::Service) => generate_token(),
            (None, TokenType::Batch) => generate_batch_token(),
        };
        if token.is_empty() || token.len() > TOKEN_BYTES_MAX {
            return Err(AuthError::Invalid("invalid token id".into()));
        }
        let id_hash = self.hash(&token).await?;
        if request.id.is_some()
            && self
                .storage
                .get(&format!("{ID_PREFIX}{id_hash}"))
                .await?
                .is_some()
        {
            return Err(AuthError::Invalid(
                "cannot create a token with a duplicate ID".into(),
            ));
        }
        let now = self.now_nanos();
        let expire_time_nanos = match request.ttl_seconds {
            0 => None,
            ttl => Some(now.saturating_add((ttl as i64).saturating_mul(NANOS_PER_SECOND))),
        };
        let accessor = match request.token_type {
            TokenType::Service => random_base62(TOKEN_RANDOM_CHARS),
            TokenType::Batch => String::new(),
        };
        let entry = TokenEntry {
            id_hash: id_hash.clone(),
            accessor,
            policies: request.policies,
            path: request.path,
            display_name: request.display_name,
            meta: request.meta,
            creation_time: now.div_euclid(NANOS_PER_SECOND),
            issue_time_nanos: now,
            creation_ttl_seconds: request.ttl_seconds,
            ttl_seconds: request.ttl_seconds,
            explicit_max_ttl_seconds: request.explicit_max_ttl_seconds,
            period_seconds: request.period_seconds,
            num_uses: request.num_uses,
            orphan: request.parent_hash.is_none(),
            parent_hash: request.parent_hash,
            role: request.role,
            token_type: request.token_type,
            expire_time: expire_time_nanos.map(|nanos| nanos.div_euclid(NANOS_PER_SECOND)),
            expire_time_nanos,
            last_renewal_nanos: None,
            renewable: request.renewable
                && request.ttl_seconds > 0
                && request.token_type == TokenType::Service,
            entity_id: request.entity_id,
        };
        let mut operations = vec![Operation::Put {
            key: format!("{ID_PREFIX}{id_hash}"),
            value: encode(&entry)?,
        }];
        if !entry.accessor.is_empty() {
            let accessor_hash = self.hash(&entry.accessor).await?;
            let index = AccessorEntry {
                token_hash: id_hash.clone(),
                accessor: entry.accessor.clone(),
            };
            let value = serde_json::to_vec(&index).map_err(|_| AuthError::CorruptEntry)?;
            operations.push(Operation::Put {
                key: format!("{ACCESSOR_PREFIX}{accessor_hash}"),
                value,
            });
        }
        if let Some(parent) = &entry.parent_hash {
            operations.push(Operation::Put {
                key: format!("{PARENT_PREFIX}{parent}/{id_hash}"),
                value: Vec::new(),
            });
        }
        let written = self.storage.batch(operations).await;
        self.cache.invalidate(&id_hash);
        written?;
        if let Some(hook) = self.hook() {
            hook.token_expiry_set(&entry).await?;
        }
        Ok((token, entry))
    }

    /// Reads an entry by hash as stored: exhausted and expired tokens included.
    pub(crate) async fn read_entry(
        &self,
        token_hash: &str,
    ) -> Result<Option<TokenEntry>, AuthError> {
        let Some(encoded) = self
            .storage
            .get(&format!("{ID_PREFIX}{token_hash}"))
            .await?
        else {
            return Ok(None);
        };
        let entry: TokenEntry =
            serde_json::from_slice(&encoded).map_err(|_| AuthError::CorruptEntry)?;
        if entry.id_hash != token_hash {
            return Err(AuthError::CorruptEntry);
        }
        Ok(Some(entry))
    }

    async fn write_entry(&self, entry: &TokenEntry) -> Result<(), AuthError> {
        let written = self
            .storage
            .put(&format!("{ID_PREFIX}{}", entry.id_hash), encode(entry)?)
            .await;
        // Also after a failed write: storage may or may not hold the new entry.
        self.cache.invalidate(&entry.id_hash);
        written?;
        Ok(())
    }

    /// Looks a token up without counting a use. Unknown, exhausted and expired tokens answer
    /// `None`; an expired token is revoked on the way (lazy expiry).
    pub async fn lookup(&self, token: &str) -> Result<Option<TokenEntry>, AuthError> {
        if token.is_empty() || token.len() > TOKEN_BYTES_MAX {
            return Ok(None);
        }
        let token_hash = self.hash(token).await?;
        self.lookup_by_hash(&token_hash).await
    }

    /// [`TokenStore::lookup`] by the token's hash (the caller's `token_hash`).
    pub async fn lookup_by_hash(&self, token_hash: &str) -> Result<Option<TokenEntry>, AuthError> {
        let ticket = match self.cache.get(token_hash) {
            Ok(entry) => return self.live(entry).await,
            Err(ticket) => ticket,
        };
        let Some(entry) = self.read_entry(token_hash).await? else {
            return Ok(None);
        };
        if let Some(ticket) = ticket {
            self.cache.insert(ticket, &entry);
        }
        self.live(entry).await
    }

    /// Drops exhausted entries and revokes expired ones.
    async fn live(&self, entry: TokenEntry) -> Result<Option<TokenEntry>, AuthError> {
        if entry.is_exhausted() {
            return Ok(None);
        }
        if entry.is_expired(self.now_nanos()) {
            self.revoke_by_hash(&entry.id_hash).await?;
            return Ok(None);
        }
        Ok(Some(entry))
    }

    /// Looks a token up by its accessor; `None` when unknown, exhausted or expired.
    pub async fn lookup_by_accessor(
        &self,
        accessor: &str,
    ) -> Result<Option<TokenEntry>, AuthError> {
        if accessor.is_empty() || accessor.len() > TOKEN_BYTES_MAX {
            return Ok(None);
        }
        let accessor_hash = self.hash(accessor).await?;
        let Some(encoded) = self
            .storage
            .get(&format!("{ACCESSOR_PREFIX}{accessor_hash}"))
            .await?
        else {
            return Ok(None);
        };
        let index: AccessorEntry =
            serde_json::from_slice(&encoded).map_err(|_| AuthError::CorruptEntry)?;
        self.lookup_by_hash(&index.token_hash).await
    }

    /// The per-request check (Vault's `UseToken`): `None` for unknown, expired or exhausted
    /// tokens. A use-limited token is decremented; on its last use the entry comes back with
    /// `num_uses == TokenEntry::USES_EXHAUSTED`, no later lookup finds it, and the core must
    /// call [`TokenStore::revoke_by_hash`] once the request has finished (so leases the request
    /// created are revoked with it). An unlimited token costs one storage read.
    pub async fn use_token(&self, token: &str) -> Result<Option<TokenEntry>, AuthError> {
        let Some(entry) = self.lookup(token).await? else {
            return Ok(None);
        };
        if entry.num_uses == 0 {
            return Ok(Some(entry));
        }
        let guard = self.lock_for(&entry.id_hash).lock().await;
        // Re-read under the lock: a concurrent request may have taken a use.
        let Some(mut entry) = self.read_entry(&entry.id_hash).await? else {
            return Ok(None);
        };
        if entry.is_exhausted() {
            return Ok(None);
        }
        entry.num_uses = match entry.num_uses {
            1 => TokenEntry::USES_EXHAUSTED,
            uses => uses - 1,
        };
        self.write_entry(&entry).await?;
        drop(guard);
        Ok(Some(entry))
    }

    /// Revokes a token and all its descendants (TOK-10); unknown tokens are not an error.
    pub async fn revoke_tree(&self, token: &str) -> Result<(), AuthError> {
        if token.is_empty() || token.len() > TOKEN_BYTES_MAX {
            return Ok(());
        }
        let token_hash = self.hash(token).await?;
        self.revoke_by_hash(&token_hash).await
    }

    /// Tree revocation by hash: the expiration manager's entry point when a token expires, and
    /// the core's after a token's last use. Children are revoked before their parent, so an
    /// interrupted revocation leaves a tree that a retry finishes.
    pub async fn revoke_by_hash(&self, token_hash: &str) -> Result<(), AuthError> {
        let mut stack = vec![token_hash.to_string()];
        let mut seen: HashSet<String> = HashSet::new();
        let mut steps = 0usize;
        while let Some(current) = stack.last().cloned() {
            steps += 1;
            if steps > 2 * REVOKE_TREE_TOKENS_MAX {
                return Err(AuthError::Invalid("token tree too large to revoke".into()));
            }
            seen.insert(current.clone());
            let mut pending = Vec::new();
            for child in self
                .storage
                .list(&format!("{PARENT_PREFIX}{current}/"))
                .await?
            {
                if seen.contains(&child) {
                    // A cycle cannot be written by `create`; drop the bad link and go on.
                    self.storage
                        .delete(&format!("{PARENT_PREFIX}{current}/{child}"))
                        .await?;
                    continue;
                }
                pending.push(child);
            }
            if pending.is_empty() {
                self.revoke_one(&current).await?;
                stack.pop();
            } else {
                stack.extend(pending);
            }
        }
        Ok(())
    }

    /// Revokes only this token; its children become orphans (TOK-10 `revoke-orphan`).
    pub async fn revoke_orphan(&self, token: &str) -> Result<(), AuthError> {
        if token.is_empty() || token.len() > TOKEN_BYTES_MAX {
            return Ok(());
        }
        let token_hash = self.hash(token).await?;
        self.revoke_one(&token_hash).await?;
        for child in self
            .storage
            .list(&format!("{PARENT_PREFIX}{token_hash}/"))
            .await?
        {
            let guard = self.lock_for(&child).lock().await;
            if let Some(mut entry) = self.read_entry(&child).await? {
                entry.parent_hash = None;
                entry.orphan = true;
                self.write_entry(&entry).await?;
            }
            drop(guard);
            self.storage
                .delete(&format!("{PARENT_PREFIX}{token_hash}/{child}"))
                .await?;
        }
        Ok(())
    }

    /// Revokes one token: the hook first (leases, cubbyhole), then the entry and its index
    /// entries in one batch. Children are the caller's business.
    async fn revoke_one(&self, token_hash: &str) -> Result<(), AuthError> {
        let _guard = self.lock_for(token_hash).lock().await;
        let Some(entry) = self.read_entry(token_hash).await? else {
            return Ok(());
        };
        if let Some(hook) = self.hook() {
            hook.token_revoked(&entry).await?;
        }
        let mut operations = vec![Operation::Delete {
            key: format!("{ID_PREFIX}{token_hash}"),
        }];
        if !entry.accessor.is_empty() {
            let accessor_hash = self.hash(&entry.accessor).await?;
            operations.push(Operation::Delete {
                key: format!("{ACCESSOR_PREFIX}{accessor_hash}"),
            });
        }
        if let Some(parent) = &entry.parent_hash {
            operations.push(Operation::Delete {
                key: format!("{PARENT_PREFIX}{parent}/{token_hash}"),
            });
        }
        let removed = self.storage.batch(operations).await;
        self.cache.invalidate(token_hash);
        removed?;
        Ok(())
    }

    /// Renews a token (TOK-09): `increment` is the wanted TTL from now (0 = the token's last
    /// TTL), capped by the mount max, the explicit max and the period rules. Returns the new
    /// entry and Vault's warnings, and tells the hook the new expiry.
    pub async fn renew(
        &self,
        token_hash: &str,
        increment_seconds: u64,
        mount: &MountContext,
    ) -> Result<(TokenEntry, Vec<String>), AuthError> {
        let guard = self.lock_for(token_hash).lock().await;
        let Some(mut entry) = self.read_entry(token_hash).await? else {
            return Err(AuthError::Invalid("token not found".into()));
        };
        let now = self.now_nanos();
        if entry.is_exhausted() || entry.is_expired(now) {
            return Err(AuthError::Invalid("token not found".into()));
        }
        if entry.token_type == TokenType::Batch {
            return Err(AuthError::Invalid("batch tokens cannot be renewed".into()));
        }
        if !entry.renewable || entry.ttl_seconds == 0 {
            return Err(AuthError::Invalid("lease is not renewable".into()));
        }
        // Vault's `authRenew`: a role's token renews with the role's current period and
        // explicit max TTL, any other with its own.
        let (period, explicit_max_ttl) = match &entry.role {
            Some(name) => match self.role(name).await? {
                Some(role) => (role.token_period, role.token_explicit_max_ttl),
                // FIXME(#4): OpenBao answers 500 `1 error occurred:\n\t* failed to renew
                // entry: …`; the framework has no 500 that shows its message.
                None => {
                    return Err(AuthError::Invalid(format!(
                        "failed to renew entry: original token role \"{name}\" could not be found, not renewing"
                    )));
                }
            },
            None => (entry.period_seconds, entry.explicit_max_ttl_seconds),
        };
        let request = TtlRequest {
            increment: increment_seconds,
            ttl: entry.ttl_seconds,
            period,
            explicit_max_ttl,
            start_time: entry.creation_time,
            now: now.div_euclid(NANOS_PER_SECOND),
        };
        let (ttl, warnings) = calculate_ttl(mount, request)?;
        entry.ttl_seconds = ttl;
        let expire = now.saturating_add((ttl as i64).saturating_mul(NANOS_PER_SECOND));
        entry.expire_time_nanos = Some(expire);
        entry.expire_time = Some(expire.div_euclid(NANOS_PER_SECOND));
        entry.last_renewal_nanos = Some(now);
        self.write_entry(&entry).await?;
        drop(guard);
        if let Some(hook) = self.hook() {
            hook.token_expiry_set(&entry).await?;
        }
        Ok((entry, warnings))
    }

    /// Every accessor of a stored token (`LIST auth/token/accessors`).
    pub async fn list_accessors(&self) -> Result<Vec<String>, AuthError> {
        let mut accessors = Vec::new();
        for accessor_hash in self.storage.list(ACCESSOR_PREFIX).await? {
            let Some(encoded) = self
                .storage
                .get(&format!("{ACCESSOR_PREFIX}{accessor_hash}"))
                .await?
            else {
                continue;
            };
            let index: AccessorEntry =
                serde_json::from_slice(&encoded).map_err(|_| AuthError::CorruptEntry)?;
            accessors.push(index.accessor);
        }
        Ok(accessors)
    }

    /// Removes index entries that name no token and revokes expired tokens. Returns how many
    /// records it removed.
    pub async fn tidy(&self) -> Result<usize, AuthError> {
        let mut removed = 0;
        for accessor_hash in self.storage.list(ACCESSOR_PREFIX).await? {
            let key = format!("{ACCESSOR_PREFIX}{accessor_hash}");
            let Some(encoded) = self.storage.get(&key).await? else {
                continue;
            };
            let dangling = match serde_json::from_slice::<AccessorEntry>(&encoded) {
                Ok(index) => self.read_entry(&index.token_hash).await?.is_none(),
                Err(_) => true,
            };
            if dangling {
                self.storage.delete(&key).await?;
                removed += 1;
            }
        }
        for parent in self.storage.list(PARENT_PREFIX).await? {
            let parent = parent.trim_end_matches('/').to_string();
            for child in self
                .storage
                .list(&format!("{PARENT_PREFIX}{parent}/"))
                .await?
            {
                if self.read_entry(&child).await?.is_none() {
                    self.storage
                        .delete(&format!("{PARENT_PREFIX}{parent}/{child}"))
                        .await?;
                    removed += 1;
                }
            }
        }
        let now = self.now_nanos();
        for token_hash in self.storage.list(ID_PREFIX).await? {
            if let Some(entry) = self.read_entry(&token_hash).await?
                && entry.is_expired(now)
            {
                self.revoke_by_hash(&token_hash).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub async fn role(&self, name: &str) -> Result<Option<TokenRole>, AuthError> {
        let Some(encoded) = self.storage.get(&format!("{ROLES_PREFIX}{name}")).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&encoded)
            .map(Some)
            .map_err(|_| AuthError::CorruptEntry)
    }

    pub async fn put_role(&self, role: &TokenRole) -> Result<(), AuthError> {
        let encoded = serde_json::to_vec(role).map_err(|_| AuthError::CorruptEntry)?;
        self.storage
            .put(&format!("{ROLES_PREFIX}{}", role.name), encoded)
            .await?;
        Ok(())
    }

    pub async fn delete_role(&self, name: &str) -> Result<(), AuthError> {
        self.storage
            .delete(&format!("{ROLES_PREFIX}{name}"))
            .await?;
        Ok(())
    }

    pub async fn list_roles(&self) -> Result<Vec<String>, AuthError> {
        Ok(self.storage.list(ROLES_PREFIX).await?)
    }
}

fn encode(entry: &TokenEntry) -> Result<Vec<u8>, AuthError> {
    serde_json::to_vec(entry).map_err(|_| AuthError::CorruptEntry)
}

fn system_now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
