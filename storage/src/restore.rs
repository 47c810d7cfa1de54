//! Saving and restoring the whole state machine (`sys/storage/raft/snapshot`).
//!
//! **Save.** [`RaftStorage::snapshot_state`] asks raft for a snapshot at (or after) the last
//! applied entry and returns the snapshot data as raft ships it: `TRSSDT01`, the postcard
//! body (every physical key and its value, barrier ciphertext as stored, plus the raft
//! membership), and a CRC32. The copy is taken by openraft in order with `apply`, so it is a
//! consistent point in time.
//!
//! **Restore.** [`RaftStorage::restore_state`] replaces the state through raft, so every
//! member applies it and it survives restarts like any write:
//! 1. The snapshot is split into chunks of [`RESTORE_CHUNK_BYTES`], each written as an
//!    ordinary raft entry under a control key `\0tresor/restore/<id>/chunk/<n>`. They are
//!    ordinary keys of the `data` tree, so a follower that catches up by raft snapshot
//!    receives them too.
//! 2. One entry holding only `Put(\0tresor/restore/<id>/commit, <chunk count>)` commits it:
//!    the state machine concatenates the chunks, verifies the checksum and, in one sled
//!    transaction, replaces the whole `data` tree with the snapshot's pairs and advances
//!    `applied`. A crash before that transaction leaves the old state; after it, the new.
//!
//! The raft membership is not part of a restore: a snapshot restored into another cluster
//! keeps that cluster's members. Control keys start with a NUL byte, which no storage path
//! above this crate can contain (the HTTP edge refuses control characters in paths).

use crate::limits::{CLIENT_WRITE_TIMEOUT_MS, RESTORE_CHUNK_BYTES, SNAPSHOT_BUILD_WAIT_MS};
use crate::raft::RaftStorage;
use crate::state_machine::decode_snapshot_data;
use crate::types::{Entry, Request};
use crate::{Operation, StorageError};
use openraft::EntryPayload;
use openraft::error::{ClientWriteError, RaftError};
use std::collections::HashMap;
use std::time::Duration;

const CONTROL_PREFIX: &str = "\u{0}tresor/restore/";
const COMMIT_SUFFIX: &str = "/commit";

/// The state machine at one point in time, as [`RaftStorage::snapshot_state`] returns it.
#[derive(Clone)]
pub struct StateSnapshot {
    /// Index and term of the last entry the snapshot covers (0 when empty).
    pub index: u64,
    pub term: u64,
    pub snapshot_id: String,
    /// The encoded state: opaque, checksummed, values still barrier ciphertext.
    pub state: Vec<u8>,
}

impl std::fmt::Debug for StateSnapshot {
    // The state never reaches a log line, even encrypted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StateSnapshot({}, index {}, {} bytes)",
            self.snapshot_id,
            self.index,
            self.state.len()
        )
    }
}

/// A restore commit decoded from its entry.
pub(crate) struct RestoreCommit {
    pub(crate) id: String,
    pub(crate) chunks: u32,
}

/// What the state machine remembers about restore commits since it was opened.
#[derive(Default)]
pub(crate) struct RestoreLedger {
    /// Restore commits applied (successful or not).
    pub(crate) applied: u64,
    outcomes: HashMap<String, bool>,
}

impl RestoreLedger {
    pub(crate) fn record(&mut self, id: &str, restored: bool) {
        self.applied += 1;
        // Only the leader that proposed a restore reads its outcome, right after apply; a
        // few entries are enough, so the map never grows without bound.
        if self.outcomes.len() >= 16 {
            self.outcomes.clear();
        }
        self.outcomes.insert(id.to_string(), restored);
    }

    pub(crate) fn outcome(&self, id: &str) -> Option<bool> {
        self.outcomes.get(id).copied()
    }
}

pub(crate) fn restore_prefix(id: &str) -> String {
    format!("{CONTROL_PREFIX}{id}/")
}

pub(crate) fn chunk_key(id: &str, chunk: u32) -> String {
    format!("{CONTROL_PREFIX}{id}/chunk/{chunk:08}")
}

fn commit_key(id: &str) -> String {
    format!("{CONTROL_PREFIX}{id}{COMMIT_SUFFIX}")
}

pub(crate) fn is_control_key(key: &str) -> bool {
    key.starts_with(CONTROL_PREFIX)
}

/// The restore commit an entry carries: a normal entry whose only operation is a put of a
/// commit key with a 4-byte chunk count. Anything else is an ordinary write.
pub(crate) fn restore_commit(entry: &Entry) -> Option<RestoreCommit> {
    let EntryPayload::Normal(request) = &entry.payload else {
        return None;
    };
    let [Operation::Put { key, value }] = request.operations.as_slice() else {
        return None;
    };
    let id = key
        .strip_prefix(CONTROL_PREFIX)?
        .strip_suffix(COMMIT_SUFFIX)?;
    let chunks: [u8; 4] = value.as_slice().try_into().ok()?;
    Some(RestoreCommit {
        id: id.to_string(),
        chunks: u32::from_le_bytes(chunks),
    })
}

impl RaftStorage {
    /// The whole state machine at the last applied entry (or later), see the module comment.
    pub async fn snapshot_state(&self) -> Result<StateSnapshot, StorageError> {
        let target = self.raft.metrics().borrow().last_applied.map(|l| l.index);
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| StorageError::Unavailable(format!("raft: {e}")))?;
        self.raft
            .wait(Some(Duration::from_millis(SNAPSHOT_BUILD_WAIT_MS)))
            .metrics(
                |m| m.snapshot.map(|s| s.index) >= target,
                "snapshot at the applied index",
            )
            .await
            .map_err(|e| StorageError::Unavailable(format!("snapshot not built: {e}")))?;
        let sm = self.sm.clone();
        let file = tokio::task::spawn_blocking(move || sm.read_snapshot_file())
            .await
            .map_err(|e| StorageError::Other(format!("snapshot read task failed: {e}")))??;
        let Some((meta, state)) = file else {
            return Err(StorageError::Unavailable(
                "raft built no snapshot file".into(),
            ));
        };
        Ok(StateSnapshot {
            index: meta.last_log_id.map_or(0, |l| l.index),
            term: meta.last_log_id.map_or(0, |l| l.leader_id.term),
            snapshot_id: meta.snapshot_id,
            state,
        })
    }

    /// Replaces the whole state machine, on every member, with `state` (as returned by
    /// [`RaftStorage::snapshot_state`], possibly on another cluster). Leader only. Returns
    /// once the replacement is applied here. A state that fails its checksum is `Corrupt`
    /// and nothing is written.
    pub async fn restore_state(&self, state: &[u8]) -> Result<(), StorageError> {
        decode_snapshot_data(state)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let chunks = u32::try_from(state.chunks(RESTORE_CHUNK_BYTES).len())
            .map_err(|_| StorageError::Refused("snapshot too large".into()))?;
        for (chunk, bytes) in (0..chunks).zip(state.chunks(RESTORE_CHUNK_BYTES)) {
            let staged = Operation::Put {
                key: chunk_key(&id, chunk),
                value: bytes.to_vec(),
            };
            if let Err(error) = self.propose(staged).await {
                self.discard_staged(&id, chunk).await;
                return Err(error);
            }
        }
        let commit = Operation::Put {
            key: commit_key(&id),
            value: chunks.to_le_bytes().to_vec(),
        };
        self.propose(commit).await?;
        match self.sm.restore_outcome(&id).1 {
            Some(true) => Ok(()),
            Some(false) => Err(StorageError::Corrupt(
                "the staged snapshot failed its checksum; nothing was restored".into(),
            )),
            None => Err(StorageError::Other(
                "the restore commit was applied without an outcome".into(),
            )),
        }
    }

    /// How many restore commits this node applied since it opened (a server watches this
    /// to reload what it caches from storage).
    pub fn restores_applied(&self) -> u64 {
        self.sm.restore_outcome("").0
    }

    /// Best effort: removes the chunks of an abandoned restore.
    async fn discard_staged(&self, id: &str, written: u32) {
        for chunk in 0..written {
            let delete = Operation::Delete {
                key: chunk_key(id, chunk),
            };
            if self.propose(delete).await.is_err() {
                return;
            }
        }
    }

    /// One operation as one raft entry of its own, bypassing group commit: a restore
    /// commit must not share its entry with client writes.
    async fn propose(&self, operation: Operation) -> Result<(), StorageError> {
        let request = Request {
            operations: vec![operation],
        };
        let timeout = Duration::from_millis(CLIENT_WRITE_TIMEOUT_MS);
        let result = tokio::time::timeout(timeout, self.raft.client_write(request))
            .await
            .map_err(|_| {
                StorageError::Unavailable("the restore was not committed in time".into())
            })?;
        match result {
            Ok(_) => Ok(()),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => Err(
                StorageError::Unavailable("this node is not the raft leader".into()),
            ),
            Err(RaftError::APIError(e)) => Err(StorageError::Other(format!("raft write: {e}"))),
            Err(RaftError::Fatal(e)) => {
                Err(StorageError::Unavailable(format!("raft stopped: {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::raft::RaftConfig;
    use crate::{RaftStorage, Storage};

    async fn open_ready(dir: &std::path::Path) -> std::sync::Arc<RaftStorage> {
        let storage = RaftStorage::open(RaftConfig {
            dir: dir.to_path_buf(),
            node_id: 1,
            node_name: "node-1".into(),
            cluster_addr: String::new(),
        })
        .await
        .expect("open");
        storage.initialize_single_node().await.expect("initialise");
        storage
    }

    /// Goal: a saved state restores atomically over later writes (large values span several
    /// chunks), survives a restart, and a damaged state is refused with nothing changed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn restore_replaces_state_and_survives_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        let big = vec![7u8; 900 * 1024];
        storage.put("a", b"1".to_vec()).await.expect("put");
        storage.put("big/1", big.clone()).await.expect("put");
        storage.put("big/2", big.clone()).await.expect("put");
        let saved = storage.snapshot_state().await.expect("snapshot");
        assert!(saved.index > 0);
        storage.put("a", b"2".to_vec()).await.expect("put");
        storage.put("later", b"x".to_vec()).await.expect("put");
        storage.delete("big/1").await.expect("delete");

        let mut damaged = saved.state.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 1;
        let refused = storage.restore_state(&damaged).await;
        assert!(
            matches!(refused, Err(crate::StorageError::Corrupt(_))),
            "{refused:?}"
        );
        assert_eq!(
            storage.get("later").await.expect("get"),
            Some(b"x".to_vec())
        );

        let before = storage.restores_applied();
        storage.restore_state(&saved.state).await.expect("restore");
        assert_eq!(storage.restores_applied(), before + 1);
        let check = async |storage: &RaftStorage| {
            assert_eq!(storage.get("a").await.expect("get"), Some(b"1".to_vec()));
            assert_eq!(storage.get("later").await.expect("get"), None);
            assert_eq!(storage.get("big/1").await.expect("get"), Some(big.clone()));
            assert_eq!(storage.list("").await.expect("list"), vec!["a", "big/"]);
        };
        check(&storage).await;
        storage.shutdown().await.expect("shutdown");
        drop(storage);
        let storage = open_ready(dir.path()).await;
        check(&storage).await;
        storage.put("after", b"y".to_vec()).await.expect("put");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: a commit whose chunks are missing changes no data, on every node alike (apply is
    /// deterministic), and is reported as failed rather than read as an empty state.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commit_without_chunks_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        storage.put("a", b"1".to_vec()).await.expect("put");
        let staged = super::Operation::Put {
            key: super::chunk_key("x", 0),
            value: b"partial".to_vec(),
        };
        storage.propose(staged).await.expect("stage");
        let commit = super::Operation::Put {
            key: super::commit_key("x"),
            value: 2u32.to_le_bytes().to_vec(),
        };
        storage.propose(commit).await.expect("commit entry");
        assert_eq!(storage.sm.restore_outcome("x").1, Some(false));
        assert_eq!(storage.get("a").await.expect("get"), Some(b"1".to_vec()));
        assert_eq!(storage.list("").await.expect("list"), vec!["a"]);
        storage.shutdown().await.expect("shutdown");
    }
}
