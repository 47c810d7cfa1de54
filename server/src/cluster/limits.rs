//! Bounds of the HA code, units last.

/// How often the HA loop looks at seal and raft state.
pub const HA_TICK_MS: u64 = 100;
/// How long a bootstrap challenge stays answerable.
pub const JOIN_CHALLENGE_TTL_MS: u64 = 120_000;
/// Unanswered challenges a leader keeps at once; more are refused.
pub const JOIN_CHALLENGES_MAX: usize = 64;
/// How long a joining node waits to receive the cluster's seal state after its answer.
pub const JOIN_CATCH_UP_MS: u64 = 60_000;
/// Timeout of one call to the leader's API during a join.
pub const JOIN_REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Pause between `retry_join` rounds.
pub const RETRY_JOIN_INTERVAL_MS: u64 = 2_000;
/// Connect timeout of the cluster transport (raft RPC and forwarding).
pub const CLUSTER_CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Timeout of one forwarded request (the active node's own handling included).
pub const FORWARD_TIMEOUT_MS: u64 = 60_000;
