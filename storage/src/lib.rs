//! Physical storage for Tresor.
//!
//! **API boundary:** everything above this crate sees only the non-generic [`Storage`] trait.
//! openraft's generic types never leave this crate.
//!
//! **Architecture invariant:** this crate moves opaque bytes. It never links `tresor-seal` and
//! never sees plaintext: values arrive already encrypted by the barrier (except the few
//! physical entries the seal itself keeps outside the barrier, which are encrypted by the seal).

mod election;
mod error;
pub mod limits;
mod linearizable;
mod log_store;
mod membership;
mod memory;
mod network;
mod raft;
mod read_lease;
mod restore;
mod state_machine;
#[cfg(test)]
mod suite_tests;
mod types;

pub use error::StorageError;
pub use linearizable::{AppliedChange, ApplyObserver};
pub use membership::{ClusterMember, ClusterMembership, ReplicationView};
pub use memory::MemoryStorage;
pub use network::{ClusterTransport, RaftRpc, TransportError};
pub use raft::{DurabilityStats, LeadershipWatch, RaftConfig, RaftStatus, RaftStorage};
pub use read_lease::LeaseSuspension;
pub use restore::StateSnapshot;

use async_trait::async_trait;

/// One operation of an atomic [`Storage::batch`].
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Operation {
    Put {
        key: String,
        #[serde(with = "serde_bytes")]
        value: Vec<u8>,
    },
    Delete {
        key: String,
    },
}

impl std::fmt::Debug for Operation {
    // Values never reach a log line, even encrypted ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Operation::Put { key, value } => write!(f, "Put({key:?}, {} bytes)", value.len()),
            Operation::Delete { key } => write!(f, "Delete({key:?})"),
        }
    }
}

impl Operation {
    pub fn key(&self) -> &str {
        match self {
            Operation::Put { key, .. } | Operation::Delete { key } => key,
        }
    }
}

/// The one storage interface of Tresor. The raft store, the barrier (which encrypts and then
/// delegates) and prefix views all implement it.
///
/// Keys are `/`-separated storage paths. `list(prefix)` returns the names directly below
/// `prefix`, one level deep: a key `prefix/a` lists as `a`, a key `prefix/b/c` as `b/` (once),
/// sorted, like Vault's physical `List`.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError>;
    async fn delete(&self, key: &str) -> Result<(), StorageError>;
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Applies every operation or none, in order.
    async fn batch(&self, operations: Vec<Operation>) -> Result<(), StorageError>;
}

/// The one-level listing rule shared by every implementation: given the keys that start with
/// `prefix` (sorted), return the direct children, folders once with a trailing `/`.
pub fn list_one_level<'a>(prefix: &str, keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut children: Vec<String> = Vec::new();
    for key in keys {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        let child = match rest.find('/') {
            Some(slash) => &rest[..=slash],
            None => rest,
        };
        if child.is_empty() {
            continue;
        }
        if children.last().map(String::as_str) != Some(child) {
            children.push(child.to_string());
        }
    }
    children.sort();
    children.dedup();
    children
}
