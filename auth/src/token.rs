//! The token store: creation and lookup of tokens, kept as salted hashes.

use crate::AuthError;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::{Arc, RwLock};
use tresor_framework::StorageView;
use tresor_storage::{Operation, Storage};
use zeroize::Zeroizing;

const SALT_KEY: &str = "salt";
const ID_PREFIX: &str = "id/";
const ACCESSOR_PREFIX: &str = "accessor/";
const TOKEN_RANDOM_CHARS: usize = 24;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A new service token: `hvs.` and 24 base62 characters (28 in all, INIT-08).
pub fn generate_token() -> String {
    format!("hvs.{}", random_base62(TOKEN_RANDOM_CHARS))
}

fn random_base62(length: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..length).map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char).collect()
}

/// What the store keeps for one token. It never contains the token itself.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenEntry {
    pub accessor: String,
    pub policies: Vec<String>,
    pub path: String,
    pub display_name: String,
    /// Unix seconds.
    pub creation_time: i64,
    /// Seconds; 0 means no expiry (root tokens).
    pub ttl_seconds: u64,
    pub orphan: bool,
}

impl TokenEntry {
    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|policy| policy == "root")
    }
}

pub struct TokenStore {
    storage: StorageView,
    salt: RwLock<Option<Arc<Zeroizing<Vec<u8>>>>>,
}

impl TokenStore {
    /// `storage` is the barrier view the store owns (the server uses `sys/token/`).
    pub fn new(storage: StorageView) -> Self {
        TokenStore { storage, salt: RwLock::new(None) }
    }

    /// Forgets cached material; called when the barrier seals.
    pub fn clear_cache(&self) {
        *self.salt.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    async fn salt(&self) -> Result<Arc<Zeroizing<Vec<u8>>>, AuthError> {
        if let Some(salt) = self.salt.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() {
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
        *self.salt.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(salt.clone());
        Ok(salt)
    }

    async fn hash(&self, value: &str) -> Result<String, AuthError> {
        let salt = self.salt().await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&salt).map_err(|_| AuthError::CorruptEntry)?;
        mac.update(value.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// Creates the root token (INIT-08): policy `root`, no TTL, orphan, `auth/token/root`.
    /// `explicit_id` is dev mode's `-dev-root-token-id`.
    pub async fn create_root(&self, explicit_id: Option<&str>) -> Result<String, AuthError> {
        let token = match explicit_id {
            Some("") => return Err(AuthError::Invalid("root token id cannot be empty".into())),
            Some(id) => id.to_string(),
            None => generate_token(),
        };
        let entry = TokenEntry {
            accessor: random_base62(TOKEN_RANDOM_CHARS),
            policies: vec!["root".to_string()],
            path: "auth/token/root".to_string(),
            display_name: "root".to_string(),
            creation_time: unix_now(),
            ttl_seconds: 0,
            orphan: true,
        };
        self.store(&token, &entry).await?;
        Ok(token)
    }

    async fn store(&self, token: &str, entry: &TokenEntry) -> Result<(), AuthError> {
        let token_hash = self.hash(token).await?;
        let accessor_hash = self.hash(&entry.accessor).await?;
        let encoded = serde_json::to_vec(entry).map_err(|_| AuthError::CorruptEntry)?;
        let operations = vec![
            Operation::Put { key: format!("{ID_PREFIX}{token_hash}"), value: encoded },
            Operation::Put { key: format!("{ACCESSOR_PREFIX}{accessor_hash}"), value: token_hash.into_bytes() },
        ];
        self.storage.batch(operations).await?;
        Ok(())
    }

    /// Looks a token up; `None` for unknown tokens.
    pub async fn lookup(&self, token: &str) -> Result<Option<TokenEntry>, AuthError> {
        if token.is_empty() || token.len() > 512 {
            return Ok(None);
        }
        let token_hash = self.hash(token).await?;
        let Some(encoded) = self.storage.get(&format!("{ID_PREFIX}{token_hash}")).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&encoded).map(Some).map_err(|_| AuthError::CorruptEntry)
    }

    /// Removes a token and its accessor mapping; unknown tokens are not an error.
    pub async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        let Some(entry) = self.lookup(token).await? else {
            return Ok(());
        };
        let token_hash = self.hash(token).await?;
        let accessor_hash = self.hash(&entry.accessor).await?;
        let operations = vec![
            Operation::Delete { key: format!("{ID_PREFIX}{token_hash}") },
            Operation::Delete { key: format!("{ACCESSOR_PREFIX}{accessor_hash}") },
        ];
        self.storage.batch(operations).await?;
        Ok(())
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tresor_storage::MemoryStorage;

    #[test]
    fn generated_tokens_have_vaults_shape() {
        let token = generate_token();
        assert_eq!(token.len(), 28);
        assert!(token.starts_with("hvs."));
        assert!(token[4..].bytes().all(|byte| byte.is_ascii_alphanumeric()));
    }

    #[tokio::test]
    async fn root_token_is_stored_hashed_and_found() {
        let memory = Arc::new(MemoryStorage::new());
        let store = TokenStore::new(StorageView::new(memory.clone(), "sys/token/"));
        let token = store.create_root(None).await.expect("create");
        let entry = store.lookup(&token).await.expect("lookup").expect("present");
        assert!(entry.is_root());
        assert!(store.lookup("hvs.unknown").await.expect("lookup").is_none());
        for key in memory.list("sys/token/id/").await.expect("list") {
            assert!(!key.contains(&token[4..]), "token must not appear in storage keys");
        }
        store.revoke(&token).await.expect("revoke");
        assert!(store.lookup(&token).await.expect("lookup").is_none());
    }
}
