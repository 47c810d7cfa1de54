//! Every bound of the storage crate, named once. Units come last in each name.

/// The largest client write (one raft entry: every key and value of a put or batch, plus a
/// small per-operation allowance). Larger writes are refused before they reach raft.
pub const ENTRY_BYTES_MAX: usize = 1024 * 1024;

/// Per-operation allowance counted against [`ENTRY_BYTES_MAX`] for framing and encoding.
pub const OPERATION_OVERHEAD_BYTES: usize = 32;

/// The most operations in one atomic batch.
pub const BATCH_OPERATIONS_MAX: usize = 4096;

/// The largest encoded record in the raft log file. Anything bigger on disk is corruption,
/// because the writer refuses to produce it.
pub const LOG_RECORD_BYTES_MAX: usize = ENTRY_BYTES_MAX + 64 * 1024;

/// Depth of the queue of appends waiting for the sync thread. A full queue makes `append`
/// wait, which pushes back on raft and, through it, on clients.
pub const WRITE_QUEUE_DEPTH_MAX: usize = 1024;

/// The most queued appends one fdatasync acknowledges (one group commit).
pub const GROUP_COMMIT_REQUESTS_MAX: usize = 1024;

/// Decoded raft entries kept in memory after append (frame bytes), so applying and
/// replicating a fresh entry reads no file. A few group-commit batches' worth.
pub const LOG_TAIL_CACHE_BYTES: u64 = 8 * 1024 * 1024;

/// Superseded records (purged or truncated entries, old votes and commit marks) in the log
/// file before a purge rewrites it.
pub const LOG_GARBAGE_RECORDS_MAX: u64 = 4096;

/// How long `initialize_single_node` waits for this node to lead and apply its first entry.
pub const INITIALIZE_WAIT_MS: u64 = 10_000;

/// How long one client write may wait for commit and apply before it reports `Unavailable`.
pub const CLIENT_WRITE_TIMEOUT_MS: u64 = 30_000;

/// How long `open` retries taking the directory locks that a just-closed store in this
/// process may still hold (sled and the log file release them when their last handle drops).
pub const OPEN_LOCK_WAIT_MS: u64 = 5_000;

/// sled's page cache for the state machine.
pub const SLED_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// sled's background flush interval. sled's flush is not an fsync (see `state_machine`), so
/// this only bounds how much the raft log replays after a crash.
pub const SLED_FLUSH_EVERY_MS: u64 = 500;

/// openraft's heartbeat. openraft sends it from a tick every 1.5 heartbeats, so an idle
/// leader reaches its followers about every 150 ms.
pub const RAFT_HEARTBEAT_MS: u64 = 100;
/// The leader lease: for this long after it last heard from its leader, a follower refuses
/// to vote (openraft) and to pre-vote (`election.rs`), so a node that merely missed some
/// heartbeats cannot unseat a live leader. openraft 0.9 takes it from
/// `election_timeout_max`; its own election timer is off, so that is all the setting does.
/// Failover takes about this plus the election timeout below; ten heartbeats leave room for
/// a loaded 2-core machine.
pub const RAFT_LEADER_LEASE_MS: u64 = 1000;
/// The election timer of `election.rs`: a voter that has heard from no leader for a random
/// time in this range asks for pre-votes. The minimum is above the lease, so that when the
/// first survivor's timer fires, the other survivors' leases (which started at the same last
/// heartbeat) have run out and they can say yes; the spread makes two survivors campaigning
/// within one round trip of each other (a split vote) rare.
pub const RAFT_ELECTION_TIMEOUT_MIN_MS: u64 = RAFT_LEADER_LEASE_MS + 100;
pub const RAFT_ELECTION_TIMEOUT_MAX_MS: u64 = RAFT_LEADER_LEASE_MS + 600;
/// How often the election driver looks at its timer (adds at most this to a failover).
pub const RAFT_ELECTION_POLL_MS: u64 = 20;
/// How long a candidate waits for one peer's pre-vote answer; a peer that does not answer
/// in time counts as a no (dead peers fail fast with a refused connection).
pub const RAFT_PRE_VOTE_TIMEOUT_MS: u64 = 500;
pub const RAFT_INSTALL_SNAPSHOT_TIMEOUT_MS: u64 = 2000;
pub const RAFT_PAYLOAD_ENTRIES_MAX: u64 = 300;
pub const RAFT_SNAPSHOT_CHUNK_BYTES: u64 = 3 * 1024 * 1024;
/// A snapshot is built after this many applied entries since the last one.
pub const RAFT_SNAPSHOT_LOGS_SINCE_LAST: u64 = 10_000;
/// Entries already in a snapshot that stay in the log for lagging followers.
pub const RAFT_LOGS_KEPT_AFTER_SNAPSHOT: u64 = 1000;
pub const RAFT_REPLICATION_LAG_THRESHOLD: u64 = 20_000;
pub const RAFT_PURGE_BATCH_ENTRIES: u64 = 1;

const _: () = assert!(LOG_RECORD_BYTES_MAX > ENTRY_BYTES_MAX);
const _: () = assert!(LOG_RECORD_BYTES_MAX < u32::MAX as usize);
const _: () = assert!(RAFT_LEADER_LEASE_MS > 2 * RAFT_HEARTBEAT_MS);
const _: () = assert!(RAFT_ELECTION_TIMEOUT_MIN_MS > RAFT_LEADER_LEASE_MS);
const _: () = assert!(RAFT_ELECTION_TIMEOUT_MAX_MS > RAFT_ELECTION_TIMEOUT_MIN_MS);
const _: () = assert!(RAFT_PRE_VOTE_TIMEOUT_MS < RAFT_ELECTION_TIMEOUT_MIN_MS);
const _: () = assert!(RAFT_REPLICATION_LAG_THRESHOLD > RAFT_SNAPSHOT_LOGS_SINCE_LAST);
const _: () = assert!(GROUP_COMMIT_REQUESTS_MAX > 0 && WRITE_QUEUE_DEPTH_MAX > 0);

/// The largest raft RPC body a node accepts (only authenticated peers reach it): one append
/// of [`RAFT_PAYLOAD_ENTRIES_MAX`] entries, each at most one log record.
pub const RAFT_RPC_BODY_BYTES_MAX: usize = RAFT_PAYLOAD_ENTRIES_MAX as usize * LOG_RECORD_BYTES_MAX;
/// How long the leader's read index (one heartbeat round to a quorum) may take. openraft
/// bounds each heartbeat of that round by `RAFT_HEARTBEAT_MS`; this bounds the whole call,
/// queueing in the raft core included, so a reader falls back instead of hanging.
pub const READ_INDEX_TIMEOUT_MS: u64 = 1_000;
const _: () = assert!(READ_INDEX_TIMEOUT_MS > RAFT_HEARTBEAT_MS);
/// How long one heartbeat round answered by a quorum vouches for the leader's read indexes
/// (`read_lease.rs`): three quarters of the followers' [`RAFT_LEADER_LEASE_MS`], the rest a
/// margin for clock-rate drift between machines.
pub const READ_LEASE_MS: u64 = RAFT_LEADER_LEASE_MS * 3 / 4;
const _: () =
    assert!(READ_LEASE_MS < RAFT_LEADER_LEASE_MS && READ_LEASE_MS > 2 * RAFT_HEARTBEAT_MS);

/// A learner within this many entries of the leader's last log index is promoted to voter.
pub const RAFT_LEARNER_PROMOTION_LAG_ENTRIES: u64 = 50;

const _: () = assert!(RAFT_RPC_BODY_BYTES_MAX > RAFT_SNAPSHOT_CHUNK_BYTES as usize);

/// The bytes of one staged chunk of a restored snapshot (one raft entry each, see
/// `restore.rs`); well under [`ENTRY_BYTES_MAX`] so a chunk entry is never refused.
pub const RESTORE_CHUNK_BYTES: usize = 512 * 1024;
/// How long taking a snapshot for `export` waits for raft to build it.
pub const SNAPSHOT_BUILD_WAIT_MS: u64 = 30_000;

const _: () = assert!(RESTORE_CHUNK_BYTES + 4096 < ENTRY_BYTES_MAX);
