//! Elections with a pre-vote round (Raft thesis §9.6), which openraft 0.9 lacks.
//!
//! **Why.** With openraft's own election timer, the survivor that times out first bumps its
//! term and campaigns even when its log is shorter than another survivor's, which is the
//! common case after the leader dies during a write stream (one follower is an entry
//! behind). The other survivor refuses it by log without adopting the term, then campaigns
//! at that same term itself and is refused by vote (the first candidate voted for itself),
//! so it only wins one or two election timeouts later: failovers took up to 6.6 s instead of
//! ~2 s. The same timer made a node that reaches nobody (sealed: its cluster port is
//! disarmed) raise its term every timeout, and once back, unseat the leader with that
//! higher term.
//!
//! **What.** openraft's timer is off (`enable_elect = false`) and [`run`] decides instead.
//! A voter that has heard nothing from a leader for a random time in
//! [`RAFT_ELECTION_TIMEOUT_MIN_MS`, `RAFT_ELECTION_TIMEOUT_MAX_MS`] first asks the other
//! voters whether they would vote for it ([`RaftRpc::PreVote`](crate::RaftRpc)). A peer says
//! yes only if it is not the leader, has not heard from a leader within
//! [`RAFT_LEADER_LEASE_MS`], and the candidate's log is at least as long as its own (the
//! checks openraft's real vote makes, without changing any state). Only with a quorum of
//! yeses does the node raise its term and campaign (`trigger().elect()`). A lagging or
//! isolated node therefore never raises the term, and the survivor with the longest log
//! wins at the first real election. The server turns elections off while a node is sealed
//! or has just stepped down ([`crate::RaftStorage::set_election_enabled`]).
//!
//! A sole voter has nobody to disturb and elects itself at once, as openraft would.

use crate::limits::{
    RAFT_ELECTION_POLL_MS, RAFT_ELECTION_TIMEOUT_MAX_MS, RAFT_ELECTION_TIMEOUT_MIN_MS,
    RAFT_LEADER_LEASE_MS, RAFT_PRE_VOTE_TIMEOUT_MS,
};
use crate::log_store::LogStore;
use crate::network::{ClusterTransport, RaftRpc};
use crate::types::{LogId, NodeId, TypeConfig};
use openraft::{Raft, ServerState};
use rand::Rng;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A candidate's question to a peer: would you vote for me now?
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct PreVoteRequest {
    pub(crate) candidate: NodeId,
    pub(crate) last_log_id: Option<LogId>,
}

/// The peer's answer. Nothing changed on the peer either way.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct PreVoteResponse {
    pub(crate) granted: bool,
}

/// This node's election timer and what the pre-vote answer depends on.
pub(crate) struct Elections {
    enabled: AtomicBool,
    timer: Mutex<Timer>,
}

struct Timer {
    /// When the timer last restarted: a leader's RPC, a vote granted, an election started,
    /// elections enabled, or this node leading.
    reset_at: Instant,
    /// This round's random timeout.
    timeout: Duration,
    /// When a leader's append or snapshot was last accepted (the leader lease).
    leader_contact_at: Option<Instant>,
    /// Counts restarts, so a candidate can tell that a leader spoke or a vote was granted
    /// while its pre-vote was out.
    restarts: u64,
}

impl Elections {
    pub(crate) fn new() -> Elections {
        Elections {
            enabled: AtomicBool::new(true),
            timer: Mutex::new(Timer {
                reset_at: Instant::now(),
                timeout: random_election_timeout(),
                leader_contact_at: None,
                restarts: 0,
            }),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        let was_enabled = self.enabled.swap(enabled, Ordering::AcqRel);
        if enabled && !was_enabled {
            // A node that was kept out (sealed, stepped down) waits a full timeout for a
            // leader's heartbeat before it asks for votes.
            self.reset_timer();
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// A leader's append or snapshot was accepted: the lease runs and the timer restarts.
    pub(crate) fn heard_from_leader(&self) {
        let now = Instant::now();
        let mut timer = self.lock();
        timer.leader_contact_at = Some(now);
        timer.reset_at = now;
        timer.restarts += 1;
    }

    /// Restarts the timer with a new random timeout; returns the restart count.
    pub(crate) fn reset_timer(&self) -> u64 {
        let mut timer = self.lock();
        timer.reset_at = Instant::now();
        timer.timeout = random_election_timeout();
        timer.restarts += 1;
        timer.restarts
    }

    fn restarts(&self) -> u64 {
        self.lock().restarts
    }

    fn timed_out(&self) -> bool {
        let timer = self.lock();
        timer.reset_at.elapsed() >= timer.timeout
    }

    /// Whether a leader was heard from within the lease (a node that never heard from one
    /// since it started has no lease to keep, as in openraft).
    pub(crate) fn leader_lease_runs(&self) -> bool {
        let lease = Duration::from_millis(RAFT_LEADER_LEASE_MS);
        self.lock()
            .leader_contact_at
            .is_some_and(|contact| contact.elapsed() < lease)
    }

    fn lock(&self) -> MutexGuard<'_, Timer> {
        // The timer is a few plain values; a panic elsewhere cannot leave it half-updated.
        self.timer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn random_election_timeout() -> Duration {
    let millis =
        rand::thread_rng().gen_range(RAFT_ELECTION_TIMEOUT_MIN_MS..=RAFT_ELECTION_TIMEOUT_MAX_MS);
    Duration::from_millis(millis)
}

/// The peer's side: grants when an election by `request.candidate` could not unseat a live
/// leader and would not elect a log shorter than ours.
pub(crate) fn answer_pre_vote(
    raft: &Raft<TypeConfig>,
    elections: &Elections,
    log: &LogStore,
    request: &PreVoteRequest,
) -> PreVoteResponse {
    let leads = raft.metrics().borrow().state == ServerState::Leader;
    let granted =
        !leads && !elections.leader_lease_runs() && request.last_log_id >= log.last_log_id();
    tracing::debug!(candidate = request.candidate, granted, "pre-vote answered");
    PreVoteResponse { granted }
}

/// What the driver needs to know about the configuration, read from one metrics snapshot.
struct Standing {
    state: ServerState,
    voter: bool,
    /// Each configuration's voters (two during a joint-consensus change).
    configs: Vec<BTreeSet<NodeId>>,
    /// Every other voter and its cluster address.
    peers: Vec<(NodeId, String)>,
}

fn standing(raft: &Raft<TypeConfig>, node_id: NodeId) -> Standing {
    let metrics = raft.metrics();
    let metrics = metrics.borrow();
    let membership = metrics.membership_config.membership();
    let peers = membership
        .voter_ids()
        .filter(|id| *id != node_id)
        .map(|id| {
            let addr = membership
                .get_node(&id)
                .map_or_else(String::new, |node| node.addr.clone());
            (id, addr)
        })
        .collect();
    Standing {
        state: metrics.state,
        voter: membership.voter_ids().any(|id| id == node_id),
        configs: membership.get_joint_config().clone(),
        peers,
    }
}

/// The election driver of one store: checks every [`RAFT_ELECTION_POLL_MS`]. It runs until
/// `RaftStorage` aborts it on shutdown or drop (a loop meant to run for the store's life).
pub(crate) async fn run(
    raft: Raft<TypeConfig>,
    elections: Arc<Elections>,
    log: LogStore,
    transport: Option<Arc<dyn ClusterTransport>>,
    node_id: NodeId,
) {
    loop {
        tokio::time::sleep(Duration::from_millis(RAFT_ELECTION_POLL_MS)).await;
        step(&raft, &elections, &log, transport.as_ref(), node_id).await;
    }
}

async fn step(
    raft: &Raft<TypeConfig>,
    elections: &Elections,
    log: &LogStore,
    transport: Option<&Arc<dyn ClusterTransport>>,
    node_id: NodeId,
) {
    let standing = standing(raft, node_id);
    if standing.state == ServerState::Leader || !standing.voter {
        elections.reset_timer();
        return;
    }
    if standing.peers.is_empty() {
        // A sole voter elects itself at once (openraft's own rule); nobody can object.
        if standing.state != ServerState::Candidate {
            elect(raft, "sole voter").await;
        }
        return;
    }
    if !elections.is_enabled() {
        elections.reset_timer();
        return;
    }
    if !elections.timed_out() {
        return;
    }
    // Whatever the outcome, the next attempt waits a new random timeout.
    let restarts = elections.reset_timer();
    let Some(transport) = transport else {
        return;
    };
    let request = PreVoteRequest {
        candidate: node_id,
        last_log_id: log.last_log_id(),
    };
    let granted = pre_vote(
        transport,
        &standing.peers,
        &request,
        node_id,
        &standing.configs,
    )
    .await;
    if !is_quorum(&granted, &standing.configs) {
        tracing::info!(
            granted = granted.len(),
            voters = standing.peers.len() + 1,
            "no leader heard from, but the pre-vote found no quorum; not campaigning"
        );
        return;
    }
    if elections.restarts() != restarts {
        // While the pre-vote was out, another candidate got our vote or a (new) leader
        // spoke: campaigning now would only unseat it with a higher term.
        tracing::info!("pre-vote quorum, but another candidate or a leader came first");
        return;
    }
    elect(raft, "pre-vote quorum").await;
}

async fn elect(raft: &Raft<TypeConfig>, why: &'static str) {
    tracing::info!(why, "starting a raft election");
    if let Err(error) = raft.trigger().elect().await {
        tracing::warn!(%error, "could not start a raft election");
    }
}

/// Asks every peer at once; returns who said yes (this node included). Stops early once
/// the yeses make a quorum; each call is bounded by [`RAFT_PRE_VOTE_TIMEOUT_MS`].
async fn pre_vote(
    transport: &Arc<dyn ClusterTransport>,
    peers: &[(NodeId, String)],
    request: &PreVoteRequest,
    node_id: NodeId,
    configs: &[BTreeSet<NodeId>],
) -> BTreeSet<NodeId> {
    let mut granted = BTreeSet::from([node_id]);
    let body = match postcard::to_stdvec(request) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not encode a pre-vote request");
            return granted;
        }
    };
    let timeout = Duration::from_millis(RAFT_PRE_VOTE_TIMEOUT_MS);
    let mut calls = tokio::task::JoinSet::new();
    for (peer, addr) in peers {
        let transport = Arc::clone(transport);
        let (peer, addr, body) = (*peer, addr.clone(), body.clone());
        calls.spawn(async move {
            let call = transport.call(&addr, RaftRpc::PreVote, body, timeout);
            let answer = tokio::time::timeout(timeout, call).await;
            let granted = match answer {
                Ok(Ok(reply)) => postcard::from_bytes::<PreVoteResponse>(&reply)
                    .is_ok_and(|response| response.granted),
                _ => false,
            };
            (peer, granted)
        });
    }
    while let Some(joined) = calls.join_next().await {
        if let Ok((peer, true)) = joined {
            granted.insert(peer);
            if is_quorum(&granted, configs) {
                break;
            }
        }
    }
    granted
}

/// A majority of every configuration (both of a joint one) is in `granted`.
fn is_quorum(granted: &BTreeSet<NodeId>, configs: &[BTreeSet<NodeId>]) -> bool {
    !configs.is_empty()
        && configs.iter().all(|config| {
            let yes = config.iter().filter(|id| granted.contains(id)).count();
            yes * 2 > config.len()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: a quorum is a majority of each configuration, joint ones included.
    #[test]
    fn pre_vote_quorum_is_a_majority_of_every_configuration() {
        let set = |ids: &[u64]| ids.iter().copied().collect::<BTreeSet<u64>>();
        for (granted, configs, quorum) in [
            (set(&[1]), vec![set(&[1])], true),
            (set(&[1]), vec![set(&[1, 2, 3])], false),
            (set(&[1, 2]), vec![set(&[1, 2, 3])], true),
            (set(&[1, 2]), vec![set(&[1, 2, 3, 4])], false),
            (
                set(&[1, 2]),
                vec![set(&[1, 2, 3]), set(&[1, 3, 4, 5])],
                false,
            ),
            (
                set(&[1, 3, 4]),
                vec![set(&[1, 2, 3]), set(&[1, 3, 4, 5])],
                true,
            ),
            (set(&[1, 2, 3]), vec![], false),
        ] {
            assert_eq!(
                is_quorum(&granted, &configs),
                quorum,
                "{granted:?} of {configs:?}"
            );
        }
    }

    /// Goal: the timer fires only after its timeout, and leader contact restarts it and
    /// starts the lease.
    #[test]
    fn election_timer_and_leader_lease() {
        let elections = Elections::new();
        assert!(!elections.timed_out());
        assert!(!elections.leader_lease_runs(), "no leader heard from yet");
        elections.lock().reset_at =
            Instant::now() - Duration::from_millis(RAFT_ELECTION_TIMEOUT_MAX_MS);
        assert!(elections.timed_out());
        elections.heard_from_leader();
        assert!(!elections.timed_out());
        assert!(elections.leader_lease_runs());
        elections.lock().leader_contact_at =
            Some(Instant::now() - Duration::from_millis(RAFT_LEADER_LEASE_MS));
        assert!(!elections.leader_lease_runs());
        elections.set_enabled(false);
        assert!(!elections.is_enabled());
        elections.lock().reset_at =
            Instant::now() - Duration::from_millis(RAFT_ELECTION_TIMEOUT_MAX_MS);
        elections.set_enabled(true);
        assert!(!elections.timed_out(), "enabling restarts the timer");
    }
}
