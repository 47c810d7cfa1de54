//! Linearizable reads from any member (issue #5, `standby_reads = "linearizable"`).
//!
//! A follower may answer a read from its own state machine only once it has applied every
//! entry the leader had committed when the read began (raft's ReadIndex, Raft thesis §6.4):
//!
//! 1. The leader's [`RaftStorage::read_index`] confirms that it still leads (one heartbeat
//!    round answered by a quorum: openraft's `get_read_log_id`, the first half of
//!    `Raft::ensure_linearizable`) and returns the index a read must wait for. One round
//!    vouches for the reads of the next few hundred milliseconds (the read lease,
//!    `read_lease.rs`), so under load the leader answers from memory.
//! 2. The follower waits, bounded, in [`RaftStorage::wait_applied`] until its own applied
//!    index reaches it (the second half of `ensure_linearizable`, done where the read runs).
//!
//! Committed entries are the same on every member, so a follower that applied up to the read
//! index holds every write acknowledged before the read began.
//!
//! The [`ChangeWatch`] counts applied changes under a few key prefixes, so the layer above
//! can tell when what it keeps in memory from those keys (mount tables, policies) is stale.

use crate::limits::READ_INDEX_TIMEOUT_MS;
use crate::raft::RaftStorage;
use crate::read_lease::LeaseSuspension;
use crate::types::Entry;
use crate::{Operation, StorageError};
use openraft::EntryPayload;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Applied changes under watched key prefixes. Invariant: the generation moves only after
/// the change it counts is visible to reads of the state machine, so a reader that sees
/// generation `g` and then reads storage sees every change counted up to `g`.
#[derive(Default)]
pub(crate) struct ChangeWatch {
    prefixes: RwLock<Vec<String>>,
    generation: AtomicU64,
}

impl ChangeWatch {
    fn set_prefixes(&self, prefixes: Vec<String>) {
        *self
            .prefixes
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = prefixes;
        // Whatever was loaded before the prefixes were known is of unknown age.
        self.bump();
    }

    /// Whether any operation of `entries` writes or deletes a watched key.
    pub(crate) fn touches(&self, entries: &[Entry]) -> bool {
        let prefixes = self
            .prefixes
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if prefixes.is_empty() {
            return false;
        }
        written_keys(entries).any(|key| {
            prefixes
                .iter()
                .any(|prefix| key.starts_with(prefix.as_str()))
        })
    }

    /// Called after a change to watched keys (or a wholesale replacement of the data) is
    /// visible in the state machine.
    pub(crate) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}

/// The key of every write and delete in `entries`, in order.
fn written_keys(entries: &[Entry]) -> impl Iterator<Item = &str> {
    entries
        .iter()
        .filter_map(|entry| match &entry.payload {
            EntryPayload::Normal(request) => Some(&request.operations),
            _ => None,
        })
        .flatten()
        .map(Operation::key)
}

/// What applying an entry did to a key under an observed prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppliedChange<'a> {
    /// This key, without the observed prefix, was written or deleted.
    Key(&'a str),
    /// The whole data was replaced (snapshot install, restore).
    Everything,
}

/// Called with each applied change under its prefix, after the change is visible to reads
/// and before the entry counts as applied, so a cache it invalidates is never staler than
/// the replica once a reader waited for an index ([`RaftStorage::wait_applied`]).
pub type ApplyObserver = Arc<dyn Fn(AppliedChange<'_>) + Send + Sync>;

#[derive(Default)]
pub(crate) struct ApplyObservers {
    observers: RwLock<Vec<(String, ApplyObserver)>>,
}

impl ApplyObservers {
    fn add(&self, prefix: String, observer: ApplyObserver) {
        self.observers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((prefix, observer));
    }

    /// Tells each observer about the keys of `entries` under its prefix.
    pub(crate) fn applied(&self, entries: &[Entry]) {
        let observers = self
            .observers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if observers.is_empty() {
            return;
        }
        for key in written_keys(entries) {
            for (prefix, observer) in observers.iter() {
                if let Some(rest) = key.strip_prefix(prefix.as_str()) {
                    observer(AppliedChange::Key(rest));
                }
            }
        }
    }

    /// Tells every observer that the whole data was replaced.
    pub(crate) fn replaced(&self) {
        let observers = self
            .observers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, observer) in observers.iter() {
            observer(AppliedChange::Everything);
        }
    }
}

/// Counts wholesale replacements of the state machine's data (snapshot install), like a
/// sequence lock: odd while one is in progress. A snapshot install clears the data before it
/// refills it, so a read that overlaps one may see keys missing; a reader that sees the same
/// even epoch before and after its reads saw none.
#[derive(Default)]
pub(crate) struct ReplacementEpoch(AtomicU64);

impl ReplacementEpoch {
    /// Marks a replacement in progress until the returned guard drops (also on error).
    pub(crate) fn begin(&self) -> ReplacementGuard<'_> {
        self.0.fetch_add(1, Ordering::AcqRel);
        ReplacementGuard(self)
    }

    fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

pub(crate) struct ReplacementGuard<'a>(&'a ReplacementEpoch);

impl Drop for ReplacementGuard<'_> {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, Ordering::AcqRel);
    }
}

impl RaftStorage {
    /// The replacement epoch of the state machine: odd while a snapshot install replaces
    /// the data. Reads done between two equal even epochs saw one consistent state.
    pub fn replacement_epoch(&self) -> u64 {
        self.sm.replacement_epoch().current()
    }

    /// Watches these key prefixes: [`RaftStorage::watched_generation`] moves whenever an
    /// applied entry writes or deletes a key under one of them, and whenever the state
    /// machine is replaced (snapshot install, restore).
    pub fn watch_prefixes(&self, prefixes: &[&str]) {
        let prefixes = prefixes.iter().map(|prefix| prefix.to_string()).collect();
        self.sm.change_watch().set_prefixes(prefixes);
    }

    /// Calls `observer` with every applied write or delete of a key under `prefix`, and
    /// when the whole data is replaced (see [`ApplyObserver`]). Observers run inside apply:
    /// keep them short and never block.
    pub fn observe_applied(&self, prefix: &str, observer: ApplyObserver) {
        self.sm.apply_observers().add(prefix.to_string(), observer);
    }

    /// The count of applied changes under the watched prefixes (see
    /// [`RaftStorage::watch_prefixes`]). Read it before reloading what it guards.
    pub fn watched_generation(&self) -> u64 {
        self.sm.change_watch().generation()
    }

    /// Leader only: the log index a linearizable read must wait for. Answered at once while
    /// the read lease holds (`read_lease.rs`), which is renewed in the background past its
    /// half; otherwise after confirming that this node still leads (a heartbeat round
    /// answered by a quorum), which grants the lease. `Unavailable` when this node does not
    /// lead or leadership was not confirmed in time.
    pub async fn read_index(self: &Arc<Self>) -> Result<u64, StorageError> {
        match self.lease_read_index() {
            Some(index) => Ok(index),
            None => self.confirm_leadership().await,
        }
    }

    /// Leader only: the read index the read lease vouches for, without waiting; `None`
    /// without a valid lease (then [`RaftStorage::read_index`] runs a round). Starts a
    /// background renewal once the lease is past its half.
    pub fn lease_read_index(self: &Arc<Self>) -> Option<u64> {
        // Applied before the lease check: see "Which index" in `read_lease.rs`.
        let applied = self.sm.applied_index();
        let (index, renew) = self.read_lease.read_index(applied)?;
        if renew && self.read_lease.begin_renewal() {
            let storage = Arc::clone(self);
            tokio::spawn(async move {
                if let Err(error) = storage.confirm_leadership().await {
                    tracing::debug!(%error, "read lease not renewed");
                }
                storage.read_lease.end_renewal();
            });
        }
        Some(index)
    }

    /// One heartbeat round answered by a quorum: the read index, and the lease it grants.
    async fn confirm_leadership(&self) -> Result<u64, StorageError> {
        let start = self.read_lease.round_start();
        let timeout = Duration::from_millis(READ_INDEX_TIMEOUT_MS);
        let confirmed = tokio::time::timeout(timeout, self.raft.get_read_log_id())
            .await
            .map_err(|_| {
                StorageError::Unavailable("leadership was not confirmed in time".into())
            })?;
        match confirmed {
            Ok((read_log_id, _applied)) => {
                let index = read_log_id.map_or(0, |log_id| log_id.index);
                self.read_lease.grant(start, index);
                Ok(index)
            }
            Err(error) => Err(StorageError::Unavailable(format!("no read index: {error}"))),
        }
    }

    /// Drops the read lease and keeps it off until the guard drops: around a leadership
    /// hand-over (this node must be free to vote for its successor) and membership changes.
    pub fn suspend_read_lease(&self) -> LeaseSuspension<'_> {
        self.read_lease.suspend()
    }

    /// The index of the last entry applied to this node's state machine.
    pub fn applied_index(&self) -> u64 {
        self.raft
            .metrics()
            .borrow()
            .last_applied
            .map_or(0, |log_id| log_id.index)
    }

    /// Waits until this node applied the entry at `index`, at most `timeout`. openraft
    /// reports an index applied only after `apply` returned, and `apply` writes sled before
    /// it returns, so reads after `Ok` see that entry.
    pub async fn wait_applied(&self, index: u64, timeout: Duration) -> Result<(), StorageError> {
        if self.applied_index() >= index {
            return Ok(());
        }
        self.raft
            .wait(Some(timeout))
            .applied_index_at_least(Some(index), "read index applied")
            .await
            .map(|_| ())
            .map_err(|error| {
                StorageError::Unavailable(format!("index {index} not applied in time: {error}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::raft::{RaftConfig, RaftStorage};
    use crate::{Operation, Storage, StorageError};
    use std::time::Duration;

    async fn open_ready(dir: &std::path::Path) -> std::sync::Arc<RaftStorage> {
        let config = RaftConfig {
            dir: dir.to_path_buf(),
            node_id: 1,
            node_name: "node-1".into(),
            cluster_addr: String::new(),
        };
        let storage = RaftStorage::open(config).await.expect("open");
        storage.initialize_single_node().await.expect("initialise");
        storage
    }

    /// Goal: the leader's read index covers every acknowledged write, waiting for an applied
    /// index returns at once, and waiting for one far ahead ends at its deadline.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_index_covers_acknowledged_writes_and_wait_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        storage.put("a", b"1".to_vec()).await.expect("put");
        let applied = storage.applied_index();
        let index = storage.read_index().await.expect("read index");
        assert!(index >= applied, "read index {index} < applied {applied}");
        storage
            .wait_applied(index, Duration::from_millis(100))
            .await
            .expect("already applied");
        let far = storage
            .wait_applied(index + 1000, Duration::from_millis(100))
            .await;
        assert!(matches!(far, Err(StorageError::Unavailable(_))), "{far:?}");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: the change watch moves for writes and deletes under a watched prefix (once per
    /// applied batch), and not for other keys.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn change_watch_counts_only_watched_prefixes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        storage.watch_prefixes(&["core/mounts", "sys/policy/"]);
        let start = storage.watched_generation();
        storage
            .put("logical/x/key", b"v".to_vec())
            .await
            .expect("put");
        storage
            .put("sys/policyx", b"v".to_vec())
            .await
            .expect("put");
        assert_eq!(storage.watched_generation(), start);
        storage
            .put("sys/policy/app", b"v".to_vec())
            .await
            .expect("put");
        assert_eq!(storage.watched_generation(), start + 1);
        storage
            .batch(vec![
                Operation::Put {
                    key: "core/mounts".into(),
                    value: b"t".to_vec(),
                },
                Operation::Delete {
                    key: "sys/policy/app".into(),
                },
            ])
            .await
            .expect("batch");
        assert_eq!(storage.watched_generation(), start + 2);
        storage.delete("sys/policy/gone").await.expect("delete");
        assert_eq!(storage.watched_generation(), start + 3);
        assert_eq!(storage.replacement_epoch() % 2, 0, "no install in progress");
        storage.shutdown().await.expect("shutdown");
    }
}
