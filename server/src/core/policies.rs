//! The policy store: ACL policies behind the barrier, parsed once and compiled into ACLs
//! cached per policy set (a policy change clears the cache, so it takes effect on the next
//! request).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tresor_auth::policy::{Acl, DEFAULT_POLICY_TEXT, Policy, parse_policy};
use tresor_framework::{Error, StorageView};
use tresor_storage::Storage;

/// Built-in policy of response-wrapping tokens (WRP-01).
const RESPONSE_WRAPPING_POLICY_TEXT: &str = r#"
path "cubbyhole/response" {
    capabilities = ["create", "read"]
}
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
"#;
/// Bound on distinct policy sets whose ACL is cached.
const ACL_CACHE_ENTRIES_MAX: usize = 4096;

/// Policies that always exist and are not listed from storage.
pub const ROOT_POLICY: &str = "root";
pub const DEFAULT_POLICY: &str = "default";
pub const RESPONSE_WRAPPING_POLICY: &str = "response-wrapping";

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredPolicy {
    name: String,
    policy: String,
}

pub struct PolicyStore {
    storage: StorageView,
    policies: RwLock<HashMap<String, Arc<Policy>>>,
    acls: RwLock<HashMap<Vec<String>, Arc<Acl>>>,
    /// Serialises loads with changes, so a load that read storage before a change cannot
    /// replace the map after it (a node that became active while a standby reload ran).
    change: tokio::sync::Mutex<()>,
}

impl PolicyStore {
    /// `storage` is the barrier view at `sys/policy/`.
    pub fn new(storage: StorageView) -> PolicyStore {
        PolicyStore {
            storage,
            policies: RwLock::new(HashMap::new()),
            acls: RwLock::new(HashMap::new()),
            change: tokio::sync::Mutex::new(()),
        }
    }

    /// Loads stored policies (creating `default` on first use). Called at unseal.
    pub async fn load(&self) -> Result<(), Error> {
        let _change = self.change.lock().await;
        if self.storage.get(DEFAULT_POLICY).await?.is_none() {
            self.store(DEFAULT_POLICY, DEFAULT_POLICY_TEXT).await?;
        }
        self.load_stored().await
    }

    /// A standby's reload from its replica (linearizable standby reads): like
    /// [`PolicyStore::load`] but writes nothing; the active node creates `default`.
    pub async fn reload_stored(&self) -> Result<(), Error> {
        let _change = self.change.lock().await;
        self.load_stored().await
    }

    /// Replaces the in-memory policies with the stored ones and clears the ACL cache. The
    /// caller holds `change`.
    async fn load_stored(&self) -> Result<(), Error> {
        let mut loaded = HashMap::new();
        for name in self.storage.list("").await? {
            if name.ends_with('/') {
                continue;
            }
            let Some(encoded) = self.storage.get(&name).await? else {
                continue;
            };
            let stored: StoredPolicy = serde_json::from_slice(&encoded)
                .map_err(|_| Error::internal("corrupt policy entry"))?;
            match parse_policy(&stored.name, &stored.policy) {
                Ok(policy) => {
                    loaded.insert(stored.name.clone(), Arc::new(policy));
                }
                Err(error) => {
                    tracing::warn!(policy = %stored.name, %error, "stored policy does not parse; ignoring it")
                }
            }
        }
        let wrapping = parse_policy(RESPONSE_WRAPPING_POLICY, RESPONSE_WRAPPING_POLICY_TEXT)
            .map_err(|error| Error::internal(error.to_string()))?;
        loaded.insert(RESPONSE_WRAPPING_POLICY.to_string(), Arc::new(wrapping));
        *self
            .policies
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = loaded;
        self.acls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        Ok(())
    }

    pub fn clear(&self) {
        self.policies
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        self.acls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    async fn store(&self, name: &str, text: &str) -> Result<(), Error> {
        let encoded = serde_json::to_vec(&StoredPolicy {
            name: name.to_string(),
            policy: text.to_string(),
        })
        .map_err(|error| Error::internal(error.to_string()))?;
        self.storage.put(name, encoded).await?;
        Ok(())
    }

    /// Names of the stored policies plus `root`, sorted (SP-01).
    pub fn names(&self) -> Vec<String> {
        let policies = self
            .policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut names: Vec<String> = policies
            .keys()
            .filter(|name| name.as_str() != RESPONSE_WRAPPING_POLICY)
            .cloned()
            .collect();
        names.push(ROOT_POLICY.to_string());
        names.sort();
        names
    }

    /// The raw text of a policy; `root` reads as empty text.
    pub fn get(&self, name: &str) -> Option<String> {
        if name == ROOT_POLICY {
            return Some(String::new());
        }
        if name == RESPONSE_WRAPPING_POLICY {
            return None;
        }
        let policies = self
            .policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        policies.get(name).map(|policy| policy.text().to_string())
    }

    /// Parses and stores a policy (SP-03). The name is already lower-cased by the caller.
    pub async fn put(&self, name: &str, text: &str) -> Result<(), Error> {
        if name == ROOT_POLICY {
            return Err(Error::invalid("cannot update \"root\" policy"));
        }
        if name == RESPONSE_WRAPPING_POLICY {
            return Err(Error::invalid(format!(
                "cannot update \"{RESPONSE_WRAPPING_POLICY}\" policy"
            )));
        }
        let policy = parse_policy(name, text).map_err(|error| Error::invalid(error.to_string()))?;
        let _change = self.change.lock().await;
        self.store(name, text).await?;
        self.policies
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(name.to_string(), Arc::new(policy));
        self.acls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        Ok(())
    }

    /// SP-04: `default` and `root` cannot be deleted; unknown names are not an error.
    pub async fn delete(&self, name: &str) -> Result<(), Error> {
        match name {
            DEFAULT_POLICY => return Err(Error::invalid("cannot delete default policy")),
            ROOT_POLICY => return Err(Error::invalid("cannot delete \"root\" policy")),
            RESPONSE_WRAPPING_POLICY => {
                return Err(Error::invalid(format!(
                    "cannot delete \"{RESPONSE_WRAPPING_POLICY}\" policy"
                )));
            }
            _ => {}
        }
        let _change = self.change.lock().await;
        self.storage.delete(name).await?;
        self.policies
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(name);
        self.acls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
        Ok(())
    }

    /// The compiled ACL of a token's policy set, from the cache when possible. Unknown
    /// policy names grant nothing.
    pub fn acl(&self, policy_names: &[String]) -> Arc<Acl> {
        let mut key: Vec<String> = policy_names.to_vec();
        key.sort();
        key.dedup();
        if let Some(acl) = self
            .acls
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
        {
            return acl.clone();
        }
        let acl = Arc::new(self.compile(&key));
        let mut acls = self
            .acls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if acls.len() >= ACL_CACHE_ENTRIES_MAX {
            acls.clear();
        }
        acls.insert(key, acl.clone());
        acl
    }

    fn compile(&self, names: &[String]) -> Acl {
        let policies = self
            .policies
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut selected: Vec<Arc<Policy>> = Vec::new();
        for name in names {
            if name == ROOT_POLICY {
                // The root policy has no text; the ACL recognises it by name.
                if let Ok(root) = parse_policy(ROOT_POLICY, "") {
                    selected.push(Arc::new(root));
                }
                continue;
            }
            if let Some(policy) = policies.get(name) {
                selected.push(policy.clone());
            }
        }
        Acl::new(&selected)
    }
}
