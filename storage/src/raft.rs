//! [`RaftStorage`]: the durable [`Storage`] every Tresor node runs, dev mode included.
//!
//! Directory layout under `RaftConfig::dir`: `log/log` (the raft log, see `log_store`),
//! `sm/sled/` (the state machine) and `sm/snapshot` (see `state_machine`).

use crate::election::Elections;
use crate::limits::{
    BATCH_OPERATIONS_MAX, CLIENT_WRITE_TIMEOUT_MS, ENTRY_BYTES_MAX, GROUP_COMMIT_REQUESTS_MAX,
    INITIALIZE_WAIT_MS, OPERATION_OVERHEAD_BYTES, RAFT_HEARTBEAT_MS,
    RAFT_INSTALL_SNAPSHOT_TIMEOUT_MS, RAFT_LEADER_LEASE_MS, RAFT_LOGS_KEPT_AFTER_SNAPSHOT,
    RAFT_PAYLOAD_ENTRIES_MAX, RAFT_PURGE_BATCH_ENTRIES, RAFT_REPLICATION_LAG_THRESHOLD,
    RAFT_SNAPSHOT_CHUNK_BYTES, RAFT_SNAPSHOT_LOGS_SINCE_LAST, WRITE_QUEUE_DEPTH_MAX,
};
use crate::log_store::{LogOwner, LogStats, LogStore};
use crate::network::{ClusterTransport, PeerNetwork};
use crate::read_lease::ReadLease;
use crate::state_machine::StateMachineStore;
use crate::types::{Request, TresorNode, TypeConfig};
use crate::{Operation, Storage, StorageError};
use async_trait::async_trait;
use openraft::error::{ClientWriteError, InitializeError, RaftError};
use openraft::{Raft, ServerState, SnapshotPolicy};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Where and as whom a node stores its data.
#[derive(Clone, Debug)]
pub struct RaftConfig {
    /// The node's data directory; one store per directory (it is locked while open).
    pub dir: PathBuf,
    pub node_id: u64,
    /// The Vault-style node name, kept in raft's membership.
    pub node_name: String,
    /// The address peers dial for raft RPCs; may be empty while Tresor is single-node.
    pub cluster_addr: String,
}

/// A point-in-time view of this node's raft state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftStatus {
    pub node_id: u64,
    pub leader_id: Option<u64>,
    pub is_leader: bool,
    pub term: u64,
    pub committed_index: u64,
    pub applied_index: u64,
}

/// Counters that show group commit at work: `log_syncs / acknowledged_writes` below 1 means
/// writes share fdatasyncs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DurabilityStats {
    /// fdatasyncs of the raft log since open.
    pub log_syncs: u64,
    /// Client writes (put, delete, batch) acknowledged since open.
    pub acknowledged_writes: u64,
}

/// Wakes its holder when this node's raft role, its leader, its term or the membership
/// changes, not on every write (openraft's server metrics).
pub struct LeadershipWatch {
    receiver: tokio::sync::watch::Receiver<openraft::metrics::RaftServerMetrics<u64, TresorNode>>,
}

impl LeadershipWatch {
    /// Waits for the next change. `Err` once raft has stopped (no change will come).
    pub async fn changed(&mut self) -> Result<(), StorageError> {
        self.receiver
            .changed()
            .await
            .map_err(|_| StorageError::Unavailable("raft stopped".into()))
    }
}

/// The raft-replicated store. Invariant: a write returns `Ok` only after its log entry was
/// fdatasync'd and the entry was committed and applied to the local state machine.
pub struct RaftStorage {
    pub(crate) raft: Raft<TypeConfig>,
    pub(crate) sm: StateMachineStore,
    log_owner: LogOwner,
    log_stats: Arc<LogStats>,
    acknowledged_writes: Arc<AtomicU64>,
    write_tx: mpsc::Sender<WriteRequest>,
    write_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The election driver (`election.rs`); aborted with the committer.
    election_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub(crate) elections: Arc<Elections>,
    /// The leader's read lease (`read_lease.rs`).
    pub(crate) read_lease: Arc<ReadLease>,
    /// A reader of the log's tail for pre-vote answers (shares the file with openraft's).
    pub(crate) log_tail: LogStore,
    shut_down: AtomicBool,
    pub(crate) node_id: u64,
    pub(crate) node: TresorNode,
}

fn raft_config() -> Result<openraft::Config, StorageError> {
    let config = openraft::Config {
        cluster_name: "tresor".to_string(),
        heartbeat_interval: RAFT_HEARTBEAT_MS,
        // openraft's election timer is off (elections are `election.rs`'s); the maximum is
        // its leader lease, the minimum only has to be valid.
        election_timeout_min: RAFT_LEADER_LEASE_MS / 2,
        election_timeout_max: RAFT_LEADER_LEASE_MS,
        install_snapshot_timeout: RAFT_INSTALL_SNAPSHOT_TIMEOUT_MS,
        max_payload_entries: RAFT_PAYLOAD_ENTRIES_MAX,
        replication_lag_threshold: RAFT_REPLICATION_LAG_THRESHOLD,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(RAFT_SNAPSHOT_LOGS_SINCE_LAST),
        snapshot_max_chunk_size: RAFT_SNAPSHOT_CHUNK_BYTES,
        max_in_snapshot_log_to_keep: RAFT_LOGS_KEPT_AFTER_SNAPSHOT,
        purge_batch_size: RAFT_PURGE_BATCH_ENTRIES,
        enable_tick: true,
        enable_heartbeat: true,
        enable_elect: false,
        // Only the deprecated chunk timeout is left to its default (0: disabled).
        ..Default::default()
    };
    config
        .validate()
        .map_err(|e| StorageError::Other(format!("invalid raft config: {e}")))
}

impl RaftStorage {
    /// Opens the store in `config.dir`, recovering the log and the state machine. Without a
    /// transport every peer is unreachable, which a single-node cluster never notices.
    pub async fn open(config: RaftConfig) -> Result<Arc<RaftStorage>, StorageError> {
        RaftStorage::open_with_transport(config, None).await
    }

    /// Like [`RaftStorage::open`], with raft RPCs to peers going through `transport`.
    pub async fn open_with_transport(
        config: RaftConfig,
        transport: Option<Arc<dyn ClusterTransport>>,
    ) -> Result<Arc<RaftStorage>, StorageError> {
        let log_stats = Arc::new(LogStats::default());
        let (log_store, log_owner, sm) = {
            let dir = config.dir.clone();
            let stats = Arc::clone(&log_stats);
            tokio::task::spawn_blocking(move || {
                let (log_store, log_owner) = LogStore::open(&dir.join("log"), stats)?;
                let sm = StateMachineStore::open(&dir.join("sm"))?;
                Ok::<_, StorageError>((log_store, log_owner, sm))
            })
            .await
            .map_err(|e| StorageError::Other(format!("open task failed: {e}")))??
        };
        let raft_config = Arc::new(raft_config()?);
        let log_tail = log_store.clone();
        let network = PeerNetwork {
            transport: transport.clone(),
        };
        let raft = Raft::new(config.node_id, raft_config, network, log_store, sm.clone())
            .await
            .map_err(|e| StorageError::Other(format!("raft failed to start: {e}")))?;
        let elections = Arc::new(Elections::new());
        let election_task = tokio::spawn(crate::election::run(
            raft.clone(),
            Arc::clone(&elections),
            log_tail.clone(),
            transport,
            config.node_id,
        ));
        let acknowledged_writes = Arc::new(AtomicU64::new(0));
        let (write_tx, write_rx) = mpsc::channel(WRITE_QUEUE_DEPTH_MAX);
        let write_task = tokio::spawn(write_loop(
            raft.clone(),
            write_rx,
            Arc::clone(&acknowledged_writes),
        ));
        tracing::info!(node_id = config.node_id, "raft storage opened");
        Ok(Arc::new(RaftStorage {
            raft,
            sm,
            log_owner,
            log_stats,
            acknowledged_writes,
            write_tx,
            write_task: Mutex::new(Some(write_task)),
            election_task: Mutex::new(Some(election_task)),
            elections,
            read_lease: Arc::new(ReadLease::new()),
            log_tail,
            shut_down: AtomicBool::new(false),
            node_id: config.node_id,
            node: TresorNode {
                name: config.node_name,
                addr: config.cluster_addr,
            },
        }))
    }

    /// Initialises a one-member cluster with this node as voter. Idempotent. Returns once this
    /// node leads and has applied an entry of its own term, so every earlier acknowledged
    /// write is readable and new writes are accepted.
    pub async fn initialize_single_node(&self) -> Result<(), StorageError> {
        if !self.is_initialized() {
            let members = BTreeMap::from([(self.node_id, self.node.clone())]);
            match self.raft.initialize(members).await {
                Ok(()) => tracing::info!(node_id = self.node_id, "raft cluster initialised"),
                Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
                Err(e) => return Err(StorageError::Other(format!("raft initialise: {e}"))),
            }
        } else if self.is_sole_voter() && !self.status().is_leader {
            // Alone in the cluster: no need to wait out an election timeout.
            self.raft
                .trigger()
                .elect()
                .await
                .map_err(|e| StorageError::Unavailable(format!("raft: {e}")))?;
        }
        let node_id = self.node_id;
        self.raft
            .wait(Some(Duration::from_millis(INITIALIZE_WAIT_MS)))
            .metrics(
                |m| {
                    m.state == ServerState::Leader
                        && m.current_leader == Some(node_id)
                        && m.last_applied
                            .is_some_and(|l| l.leader_id.term == m.current_term)
                },
                "leader with an applied entry of its term",
            )
            .await
            .map_err(|e| StorageError::Unavailable(format!("raft did not elect this node: {e}")))?;
        Ok(())
    }

    fn is_sole_voter(&self) -> bool {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let voters: Vec<u64> = metrics.membership_config.membership().voter_ids().collect();
        voters == [self.node_id]
    }

    /// Whether raft has a membership (this node was initialised or joined a cluster).
    pub fn is_initialized(&self) -> bool {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        metrics
            .membership_config
            .membership()
            .voter_ids()
            .next()
            .is_some()
            || metrics.last_log_index.is_some()
    }

    pub fn status(&self) -> RaftStatus {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        RaftStatus {
            node_id: self.node_id,
            leader_id: metrics.current_leader,
            is_leader: metrics.state == ServerState::Leader,
            term: metrics.current_term,
            committed_index: self.log_stats.committed_index.load(Ordering::Relaxed),
            applied_index: metrics.last_applied.map_or(0, |l| l.index),
        }
    }

    /// `Some(term)` while this node leads and has applied an entry of its own term: every
    /// write committed before this term is then applied here, and every later one goes
    /// through this node. Caches of decoded state (token entries) are valid within one such
    /// epoch and must start over in the next.
    pub fn leader_epoch(&self) -> Option<u64> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let current = metrics.state == ServerState::Leader
            && metrics.current_leader == Some(self.node_id)
            && metrics
                .last_applied
                .is_some_and(|l| l.leader_id.term == metrics.current_term);
        current.then_some(metrics.current_term)
    }

    /// A watch that wakes on leadership changes (the HA loop reacts at once instead of at
    /// its next tick).
    pub fn leadership_watch(&self) -> LeadershipWatch {
        let mut receiver = self.raft.server_metrics();
        receiver.mark_unchanged();
        LeadershipWatch { receiver }
    }

    pub fn durability_stats(&self) -> DurabilityStats {
        DurabilityStats {
            log_syncs: self.log_stats.log_syncs.load(Ordering::Relaxed),
            acknowledged_writes: self.acknowledged_writes.load(Ordering::Relaxed),
        }
    }

    /// Stops raft, then the log's sync thread, and flushes sled. Idempotent.
    pub async fn shutdown(&self) -> Result<(), StorageError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let election_task = self
            .election_task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(election_task) = election_task {
            election_task.abort();
            let _ = election_task.await;
        }
        self.raft
            .shutdown()
            .await
            .map_err(|e| StorageError::Other(format!("raft shutdown: {e}")))?;
        // Raft is stopped, so the committer's current write has its answer; queued writers
        // see the queue vanish and report `Unavailable`.
        let write_task = self
            .write_task
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(write_task) = write_task {
            write_task.abort();
            let _ = write_task.await;
        }
        self.log_owner.shutdown().await;
        let sm = self.sm.clone();
        tokio::task::spawn_blocking(move || sm.flush())
            .await
            .map_err(|e| StorageError::Other(format!("flush task failed: {e}")))??;
        tracing::info!(node_id = self.node_id, "raft storage shut down");
        Ok(())
    }

    /// Queues a write for the group committer and waits for its outcome.
    async fn write(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        let bytes = check_write_size(&operations)?;
        if self.shut_down.load(Ordering::Acquire) {
            return Err(StorageError::Unavailable("storage is shut down".into()));
        }
        let (reply, outcome) = oneshot::channel();
        let request = WriteRequest {
            operations,
            bytes,
            reply,
        };
        let gone = || StorageError::Unavailable("storage is shut down".into());
        self.write_tx.send(request).await.map_err(|_| gone())?;
        let timeout = Duration::from_millis(CLIENT_WRITE_TIMEOUT_MS);
        match tokio::time::timeout(timeout, outcome).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone()),
            Err(_) => Err(StorageError::Unavailable(
                "the write was not committed in time; its outcome is unknown".into(),
            )),
        }
    }
}

/// One client write waiting for the group committer.
struct WriteRequest {
    operations: Vec<Operation>,
    bytes: usize,
    reply: oneshot::Sender<Result<(), StorageError>>,
}

/// Group commit at the raft layer. openraft 0.9 waits for each `append` to be flushed before
/// it handles the next client request, so separate `client_write` calls never share a sync.
/// This loop therefore merges the writes queued while the previous entry was being committed
/// into one raft entry (at most [`ENTRY_BYTES_MAX`] and [`GROUP_COMMIT_REQUESTS_MAX`] writes):
/// the entry is applied in one sled transaction, so each write stays atomic, and their order
/// is the queue order. It runs until `RaftStorage` closes the queue or aborts it on shutdown.
async fn write_loop(
    raft: Raft<TypeConfig>,
    mut write_rx: mpsc::Receiver<WriteRequest>,
    acknowledged_writes: Arc<AtomicU64>,
) {
    let mut carried: Option<WriteRequest> = None;
    loop {
        let first = match carried.take() {
            Some(request) => request,
            None => match write_rx.recv().await {
                Some(request) => request,
                None => return,
            },
        };
        let mut bytes = first.bytes;
        let mut group = vec![first];
        while group.len() < GROUP_COMMIT_REQUESTS_MAX {
            let Ok(request) = write_rx.try_recv() else {
                break;
            };
            if bytes + request.bytes > ENTRY_BYTES_MAX {
                carried = Some(request);
                break;
            }
            bytes += request.bytes;
            group.push(request);
        }
        let operations = group
            .iter_mut()
            .flat_map(|request| std::mem::take(&mut request.operations))
            .collect();
        let result = commit(&raft, operations).await;
        if result.is_ok() {
            acknowledged_writes.fetch_add(group.len() as u64, Ordering::Relaxed);
        }
        for request in group {
            // A writer that timed out no longer listens; its outcome is reported as unknown.
            let _ = request.reply.send(copy_result(&result));
        }
    }
}

async fn commit(raft: &Raft<TypeConfig>, operations: Vec<Operation>) -> Result<(), StorageError> {
    let timeout = Duration::from_millis(CLIENT_WRITE_TIMEOUT_MS);
    let result = tokio::time::timeout(timeout, raft.client_write(Request { operations }))
        .await
        .map_err(|_| {
            StorageError::Unavailable(
                "the write was not committed in time; its outcome is unknown".into(),
            )
        })?;
    match result {
        Ok(_) => Ok(()),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward))) => {
            Err(StorageError::Unavailable(match forward.leader_id {
                Some(leader) => format!("this node is not the leader (node {leader} is)"),
                None => "no raft leader (not initialised or election in progress)".into(),
            }))
        }
        Err(RaftError::APIError(e)) => Err(StorageError::Other(format!("raft write: {e}"))),
        Err(RaftError::Fatal(e)) => Err(StorageError::Unavailable(format!("raft stopped: {e}"))),
    }
}

/// The same outcome for every write of a group (`StorageError` is not `Clone`).
fn copy_result(result: &Result<(), StorageError>) -> Result<(), StorageError> {
    let Err(error) = result else {
        return Ok(());
    };
    Err(match error {
        StorageError::Unavailable(m) => StorageError::Unavailable(m.clone()),
        StorageError::Corrupt(m) => StorageError::Corrupt(m.clone()),
        StorageError::Io(e) => StorageError::Io(std::io::Error::new(e.kind(), e.to_string())),
        StorageError::Refused(m) => StorageError::Refused(m.clone()),
        StorageError::Other(m) => StorageError::Other(m.clone()),
    })
}

impl Drop for RaftStorage {
    /// Without `shutdown`, raft keeps running until the runtime stops; the committer and the
    /// election driver at least end with their owner.
    fn drop(&mut self) {
        let tasks = [&mut self.write_task, &mut self.election_task].map(|task| {
            task.get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take()
        });
        for task in tasks.into_iter().flatten() {
            task.abort();
        }
    }
}

/// Refuses writes that would make a raft entry larger than [`ENTRY_BYTES_MAX`].
fn check_write_size(operations: &[Operation]) -> Result<usize, StorageError> {
    if operations.len() > BATCH_OPERATIONS_MAX {
        return Err(StorageError::Refused(format!(
            "a batch of {} operations exceeds the maximum of {BATCH_OPERATIONS_MAX}",
            operations.len()
        )));
    }
    let bytes: usize = operations
        .iter()
        .map(|op| {
            let value = match op {
                Operation::Put { value, .. } => value.len(),
                Operation::Delete { .. } => 0,
            };
            op.key().len() + value + OPERATION_OVERHEAD_BYTES
        })
        .sum();
    if bytes > ENTRY_BYTES_MAX {
        return Err(StorageError::Refused(format!(
            "a write of {bytes} bytes exceeds the maximum entry size of {ENTRY_BYTES_MAX}"
        )));
    }
    Ok(bytes)
}

#[async_trait]
impl Storage for RaftStorage {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.sm.get(key)
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        self.write(vec![Operation::Put {
            key: key.to_string(),
            value,
        }])
        .await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.write(vec![Operation::Delete {
            key: key.to_string(),
        }])
        .await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.sm.list(prefix)
    }
    async fn batch(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        if operations.is_empty() {
            return Ok(());
        }
        self.write(operations).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ENTRY_BYTES_MAX;

    fn config(dir: &std::path::Path) -> RaftConfig {
        RaftConfig {
            dir: dir.to_path_buf(),
            node_id: 1,
            node_name: "node-1".into(),
            cluster_addr: String::new(),
        }
    }

    async fn open_ready(dir: &std::path::Path) -> Arc<RaftStorage> {
        let storage = RaftStorage::open(config(dir)).await.expect("open");
        storage.initialize_single_node().await.expect("initialise");
        storage
    }

    fn put(key: &str, value: &[u8]) -> Operation {
        Operation::Put {
            key: key.into(),
            value: value.to_vec(),
        }
    }

    /// Goal: the Storage contract (get, put, delete, one-level list, atomic batch) holds on
    /// the raft store, and the data survives a clean restart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raft_storage_contract_and_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        assert!(storage.is_initialized());
        assert!(storage.status().is_leader);
        storage.put("a/b", b"1".to_vec()).await.expect("put");
        storage.put("a/c/d", b"2".to_vec()).await.expect("put");
        storage.put("a/c/e", b"3".to_vec()).await.expect("put");
        storage.put("z", b"4".to_vec()).await.expect("put");
        assert_eq!(storage.get("a/b").await.expect("get"), Some(b"1".to_vec()));
        assert_eq!(storage.get("a/x").await.expect("get"), None);
        assert_eq!(storage.list("a/").await.expect("list"), vec!["b", "c/"]);
        assert_eq!(storage.list("").await.expect("list"), vec!["a/", "z"]);
        storage.delete("a/b").await.expect("delete");
        assert_eq!(storage.get("a/b").await.expect("get"), None);
        storage
            .batch(vec![
                put("b/1", b"x"),
                put("b/2", b"y"),
                Operation::Delete { key: "z".into() },
            ])
            .await
            .expect("batch");
        assert_eq!(storage.list("b/").await.expect("list"), vec!["1", "2"]);
        assert_eq!(storage.get("z").await.expect("get"), None);
        let status = storage.status();
        assert!(
            status.committed_index >= status.applied_index - 1,
            "{status:?}"
        );
        storage.shutdown().await.expect("shutdown");
        drop(storage);

        let storage = open_ready(dir.path()).await;
        assert_eq!(
            storage.get("a/c/d").await.expect("get"),
            Some(b"2".to_vec())
        );
        assert_eq!(storage.get("b/2").await.expect("get"), Some(b"y".to_vec()));
        assert_eq!(storage.get("a/b").await.expect("get"), None);
        storage
            .put("after", b"restart".to_vec())
            .await
            .expect("put after restart");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: a batch larger than the entry limit is refused as a whole, and nothing of it is
    /// applied; one byte under the limit is accepted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raft_storage_refuses_oversized_batch_atomically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        let half = vec![7u8; ENTRY_BYTES_MAX / 2];
        let result = storage
            .batch(vec![put("big/1", &half), put("big/2", &half)])
            .await;
        assert!(
            matches!(result, Err(StorageError::Refused(_))),
            "{result:?}"
        );
        assert_eq!(
            storage.list("big/").await.expect("list"),
            Vec::<String>::new()
        );
        let fits = vec![7u8; ENTRY_BYTES_MAX - OPERATION_OVERHEAD_BYTES - "big/1".len()];
        storage.put("big/1", fits).await.expect("put at the limit");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: before initialisation a write is `Unavailable`, not a hang or a panic.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raft_storage_write_before_initialise_is_unavailable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = RaftStorage::open(config(dir.path())).await.expect("open");
        assert!(!storage.is_initialized());
        let result = storage.put("k", b"v".to_vec()).await;
        assert!(
            matches!(result, Err(StorageError::Unavailable(_))),
            "{result:?}"
        );
        storage.initialize_single_node().await.expect("initialise");
        storage
            .initialize_single_node()
            .await
            .expect("initialise is idempotent");
        storage.put("k", b"v".to_vec()).await.expect("put");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: concurrent writers share fdatasyncs. Method: 16 tasks write 50 keys each, then
    /// the sync count must be below the acknowledged write count.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raft_storage_group_commit_shares_syncs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        let before = storage.durability_stats();
        let mut tasks = Vec::new();
        for writer in 0..16 {
            let storage = Arc::clone(&storage);
            tasks.push(tokio::spawn(async move {
                for n in 0..50 {
                    storage
                        .put(&format!("w{writer}/{n}"), vec![writer as u8; 64])
                        .await
                        .expect("put");
                }
            }));
        }
        for task in tasks {
            task.await.expect("writer task");
        }
        let after = storage.durability_stats();
        let syncs = after.log_syncs - before.log_syncs;
        let writes = after.acknowledged_writes - before.acknowledged_writes;
        assert_eq!(writes, 16 * 50);
        eprintln!("group commit: {syncs} log syncs for {writes} acknowledged writes");
        assert!(syncs < writes, "{syncs} syncs for {writes} writes");
        storage.shutdown().await.expect("shutdown");
    }

    /// Goal: recovery when sled lost everything. Method: write, snapshot, purge the log up to
    /// the snapshot, write more, stop, delete the sled directory, reopen: the snapshot file is
    /// installed into sled and the log after it replayed, so every write reads back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn raft_storage_recovers_from_snapshot_and_log_without_sled() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = open_ready(dir.path()).await;
        for n in 0..40 {
            storage
                .put(&format!("k/{n}"), vec![n as u8; 10])
                .await
                .expect("put");
        }
        storage
            .raft
            .trigger()
            .snapshot()
            .await
            .expect("trigger snapshot");
        let wait = Duration::from_secs(10);
        let metrics = storage
            .raft
            .wait(Some(wait))
            .metrics(|m| m.snapshot.is_some(), "snapshot built")
            .await
            .expect("snapshot");
        let snapshot = metrics.snapshot.expect("snapshot log id");
        storage
            .raft
            .trigger()
            .purge_log(snapshot.index)
            .await
            .expect("purge");
        storage
            .raft
            .wait(Some(wait))
            .metrics(|m| m.purged == Some(snapshot), "log purged")
            .await
            .expect("purged");
        for n in 40..60 {
            storage
                .put(&format!("k/{n}"), vec![n as u8; 10])
                .await
                .expect("put");
        }
        storage.delete("k/3").await.expect("delete");
        storage.shutdown().await.expect("shutdown");
        drop(storage);
        std::fs::remove_dir_all(dir.path().join("sm").join("sled")).expect("remove sled");

        let storage = open_ready(dir.path()).await;
        for n in 0..60 {
            let expected = (n != 3).then(|| vec![n as u8; 10]);
            assert_eq!(
                storage.get(&format!("k/{n}")).await.expect("get"),
                expected,
                "key k/{n}"
            );
        }
        storage.shutdown().await.expect("shutdown");
    }
}
