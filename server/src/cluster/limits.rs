//! Bounds of the HA code, units last.

/// How often the HA loop looks at seal and raft state (it also wakes at once when raft
/// leadership changes).
pub const HA_TICK_MS: u64 = 100;
/// How long a request that reaches the raft leader before it finished becoming the active
/// node (mounts, policies and lease timers reloaded) waits for that, instead of being served
/// from stale state. Activation normally takes one raft write and a reload (tens of ms); a
/// leader that cannot commit (it lost its quorum) answers Vault's 500 after this, well
/// within a client's timeout (Vault's default is 60 s).
pub const ACTIVATION_WAIT_MS: u64 = 3_000;
/// How long a bootstrap challenge stays answerable.
pub const JOIN_CHALLENGE_TTL_MS: u64 = 120_000;
/// Unanswered challenges a leader keeps at once (memory bound). Anyone may ask for one, so
/// a full table evicts its oldest challenge rather than refuse: refusing let an
/// unauthenticated caller lock joins out for a whole TTL. A joiner whose challenge was
/// evicted fetches a new one and answers it at once (`JOIN_ANSWER_ATTEMPTS_MAX`).
pub const JOIN_CHALLENGES_MAX: usize = 64;
/// Challenges a joining node fetches and answers in one unseal when the leader refuses its
/// answer (the challenge expired, was evicted, or was replaced by another request for the
/// same server id); each attempt is two requests bounded by `JOIN_REQUEST_TIMEOUT_MS`.
pub const JOIN_ANSWER_ATTEMPTS_MAX: usize = 3;
/// How long a joining node waits to receive the cluster's seal state after its answer.
pub const JOIN_CATCH_UP_MS: u64 = 60_000;
/// Timeout of one call to the leader's API during a join.
pub const JOIN_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// How long the leader retries adding a joining node as learner while another membership
/// change (a learner promotion) is still uncommitted; within `JOIN_REQUEST_TIMEOUT_MS`.
pub const JOIN_ADD_LEARNER_RETRY_MS: u64 = 5_000;
/// Pause between those retries.
pub const JOIN_ADD_LEARNER_PAUSE_MS: u64 = 50;
/// Pause between `retry_join` rounds.
pub const RETRY_JOIN_INTERVAL_MS: u64 = 2_000;
/// Connect timeout of the cluster transport (raft RPC and forwarding).
pub const CLUSTER_CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Timeout of one forwarded request (the active node's own handling included).
pub const FORWARD_TIMEOUT_MS: u64 = 60_000;
/// The largest decompressed entry of a raft snapshot archive a restore reads (a gzip bomb
/// stops here); the compressed upload is bounded by the request body limit.
pub const SNAPSHOT_ENTRY_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Entries a snapshot archive may hold (Vault's four).
pub const SNAPSHOT_ENTRIES_MAX: usize = 4;
/// How often a node checks whether raft applied a restored snapshot.
pub const SNAPSHOT_RESTORE_WATCH_MS: u64 = 200;
/// How long a node that stepped down stays out of elections (HA-09: Vault waits ~10 s).
pub const STEP_DOWN_ELECTION_PAUSE_MS: u64 = 10_000;
/// How long a step-down waits for the chosen follower to hold the leader's whole log.
pub const STEP_DOWN_CATCH_UP_MS: u64 = 2_000;
/// How long one step-down attempt waits for leadership to move.
pub const STEP_DOWN_ATTEMPT_MS: u64 = 3_000;
/// Followers one step-down asks in turn (each attempt bounded by the two waits above).
pub const STEP_DOWN_ATTEMPTS_MAX: usize = 2;
/// How often the active node looks for dead servers to clean up.
pub const AUTOPILOT_CLEANUP_EVERY_MS: u64 = 1_000;

/// Linearizable standby reads: how long a standby spends getting the leader's read index
/// and applying up to it before it forwards the read instead. Under a second is the normal
/// case (one RPC plus one heartbeat round); beyond two, forwarding is the faster answer.
pub const LOCAL_READ_WAIT_MS: u64 = 2_000;
/// Timeout of one read-index RPC to the leader (its heartbeat round included).
pub const READ_INDEX_RPC_TIMEOUT_MS: u64 = 1_500;
/// Readers (standby) or RPCs (leader) queued for the next read-index round; more are
/// refused at once, so a standby forwards them instead of queueing without bound.
pub const READ_INDEX_WAITERS_MAX: usize = 1024;
/// Read-index rounds one batcher (standby or leader) runs at once. One means a reader that
/// arrives during a round waits for it to end and then for a round of its own (1.5 rounds
/// on average); more start the next round at once, at the price of more rounds, each a
/// heartbeat to every voter. On the shared 2-core bench box 2 and 4 were slower than 1
/// (ratio to forwarding 0.40–0.53 against 0.49–0.59): the heartbeats cost more CPU than the
/// shorter wait saves. Worth measuring again on machines of their own.
pub const READ_INDEX_ROUNDS_IN_FLIGHT_MAX: usize = 1;

const _: () = assert!(JOIN_ADD_LEARNER_RETRY_MS < JOIN_REQUEST_TIMEOUT_MS);
const _: () = assert!(READ_INDEX_RPC_TIMEOUT_MS < LOCAL_READ_WAIT_MS);
const _: () = assert!(
    READ_INDEX_RPC_TIMEOUT_MS > tresor_storage::limits::READ_INDEX_TIMEOUT_MS,
    "the RPC outlives the leader's own bound, so its refusal arrives as an answer"
);
