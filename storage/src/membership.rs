//! Cluster membership on top of [`RaftStorage`]: receiving raft RPCs from the transport,
//! adding a joining node as learner, promoting caught-up learners to voters, and the view of
//! the configuration `sys/storage/raft/configuration` reports.
//!
//! openraft's types stay here: callers see node ids, names and addresses only.

use crate::StorageError;
use crate::election::{PreVoteRequest, PreVoteResponse, answer_pre_vote};
use crate::limits::{RAFT_LEARNER_PROMOTION_LAG_ENTRIES, RAFT_RPC_BODY_BYTES_MAX};
use crate::network::RaftRpc;
use crate::raft::RaftStorage;
use crate::types::{NodeId, TresorNode, TypeConfig};
use openraft::error::{ClientWriteError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, VoteRequest,
};
use openraft::{ChangeMembers, ServerState};
use std::collections::BTreeSet;

/// One server of the raft configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterMember {
    pub node_id: u64,
    /// The Vault-style node name (`node_id` in Vault's API).
    pub name: String,
    /// The cluster address peers dial (`https://host:port`).
    pub cluster_addr: String,
    pub voter: bool,
    pub leader: bool,
}

/// The raft configuration as this node last applied it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterMembership {
    /// Log index of the membership entry.
    pub index: u64,
    pub members: Vec<ClusterMember>,
}

impl RaftStorage {
    /// Decodes one RPC body received from a peer, runs it, and encodes openraft's answer
    /// (`Result<reply, RaftError>`) for the peer's [`crate::ClusterTransport`].
    pub async fn handle_rpc(&self, rpc: RaftRpc, body: &[u8]) -> Result<Vec<u8>, StorageError> {
        if body.len() > RAFT_RPC_BODY_BYTES_MAX {
            return Err(StorageError::Refused(format!(
                "a raft RPC of {} bytes exceeds the maximum of {RAFT_RPC_BODY_BYTES_MAX}",
                body.len()
            )));
        }
        let bad = |e: postcard::Error| StorageError::Refused(format!("undecodable raft RPC: {e}"));
        // The election timer (`election.rs`) restarts when a leader's RPC is accepted (its
        // vote was not lower than ours) and when we grant a vote, as in Raft.
        let encoded = match rpc {
            RaftRpc::AppendEntries => {
                let request: AppendEntriesRequest<TypeConfig> =
                    postcard::from_bytes(body).map_err(bad)?;
                let reply = self.raft.append_entries(request).await;
                if matches!(&reply, Ok(response) if !matches!(response, AppendEntriesResponse::HigherVote(_)))
                {
                    self.elections.heard_from_leader();
                }
                postcard::to_stdvec(&reply)
            }
            RaftRpc::Vote => {
                let request: VoteRequest<NodeId> = postcard::from_bytes(body).map_err(bad)?;
                // The read lease's promise (`read_lease.rs`): the candidate counts a refusal
                // as no vote. No lease is used or granted while raft handles the vote.
                let Some(_no_lease) = self.read_lease.begin_vote() else {
                    return Err(StorageError::Refused(
                        "vote refused: read lease held or node just started".into(),
                    ));
                };
                let reply = self.raft.vote(request).await;
                if matches!(&reply, Ok(response) if response.vote_granted) {
                    self.elections.reset_timer();
                }
                postcard::to_stdvec(&reply)
            }
            RaftRpc::InstallSnapshot => {
                let request: InstallSnapshotRequest<TypeConfig> =
                    postcard::from_bytes(body).map_err(bad)?;
                let leader_vote = request.vote;
                let reply = self.raft.install_snapshot(request).await;
                if matches!(&reply, Ok(response) if response.vote == leader_vote) {
                    self.elections.heard_from_leader();
                }
                postcard::to_stdvec(&reply)
            }
            RaftRpc::PreVote => {
                let request: PreVoteRequest = postcard::from_bytes(body).map_err(bad)?;
                let answer = match self.read_lease.refuses_votes() {
                    // The real vote would be refused as well.
                    true => PreVoteResponse { granted: false },
                    false => answer_pre_vote(&self.raft, &self.elections, &self.log_tail, &request),
                };
                postcard::to_stdvec(&answer)
            }
        };
        encoded.map_err(|e| StorageError::Other(format!("encode raft reply: {e}")))
    }

    /// This node's raft id and name.
    pub fn node_id(&self) -> u64 {
        self.node_id
    }

    pub fn node_name(&self) -> &str {
        &self.node.name
    }

    /// The configuration this node knows (voters and learners), leader marked.
    pub fn membership(&self) -> ClusterMembership {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let stored = &metrics.membership_config;
        let membership = stored.membership();
        let voters: BTreeSet<u64> = membership.voter_ids().collect();
        let members = membership
            .nodes()
            .map(|(id, node)| ClusterMember {
                node_id: *id,
                name: node.name.clone(),
                cluster_addr: node.addr.clone(),
                voter: voters.contains(id),
                leader: metrics.current_leader == Some(*id),
            })
            .collect();
        ClusterMembership {
            index: stored.log_id().map_or(0, |log_id| log_id.index),
            members,
        }
    }

    /// The current leader as this node knows it, if it is a member.
    pub fn leader(&self) -> Option<ClusterMember> {
        self.membership()
            .members
            .into_iter()
            .find(|member| member.leader)
    }

    /// Adds a node as learner (non-voter) without waiting for it to catch up; raft starts
    /// replicating to it (by snapshot when it is far behind). Adding a member again with the
    /// same address is a no-op. Only the leader can do this.
    pub async fn add_learner(
        &self,
        node_id: u64,
        name: &str,
        cluster_addr: &str,
    ) -> Result<(), StorageError> {
        let known = self
            .membership()
            .members
            .into_iter()
            .find(|member| member.node_id == node_id);
        if let Some(member) = known
            && member.cluster_addr == cluster_addr
            && member.name == name
        {
            return Ok(());
        }
        let node = TresorNode {
            name: name.to_string(),
            addr: cluster_addr.to_string(),
        };
        let _no_lease = self.suspend_read_lease();
        let result = self.raft.add_learner(node_id, node, false).await;
        membership_result(result.map(|_| ()))
    }

    /// Leader only: turns every learner whose replication is within
    /// [`RAFT_LEARNER_PROMOTION_LAG_ENTRIES`] of the leader's log into a voter. Returns the
    /// promoted ids (empty on a follower or when nobody is ready).
    pub async fn promote_caught_up_learners(&self) -> Result<Vec<u64>, StorageError> {
        let ready: BTreeSet<u64> = {
            let metrics = self.raft.metrics();
            let metrics = metrics.borrow();
            if metrics.state != ServerState::Leader {
                return Ok(Vec::new());
            }
            let Some(replication) = &metrics.replication else {
                return Ok(Vec::new());
            };
            let last_index = metrics.last_log_index.unwrap_or(0);
            metrics
                .membership_config
                .membership()
                .learner_ids()
                .filter(|id| {
                    replication
                        .get(id)
                        .and_then(|matched| *matched)
                        .is_some_and(|matched| {
                            matched.index + RAFT_LEARNER_PROMOTION_LAG_ENTRIES >= last_index
                        })
                })
                .collect()
        };
        if ready.is_empty() {
            return Ok(Vec::new());
        }
        let _no_lease = self.suspend_read_lease();
        let result = self
            .raft
            .change_membership(ChangeMembers::AddVoterIds(ready.clone()), true)
            .await;
        membership_result(result.map(|_| ()))?;
        Ok(ready.into_iter().collect())
    }

    /// Leader only: removes a server (voter or learner) by name. Unknown names are an error.
    pub async fn remove_member(&self, name: &str) -> Result<(), StorageError> {
        let Some(member) = self
            .membership()
            .members
            .into_iter()
            .find(|member| member.name == name)
        else {
            return Err(StorageError::Refused(format!(
                "no server named {name:?} in the configuration"
            )));
        };
        let ids = BTreeSet::from([member.node_id]);
        let _no_lease = self.suspend_read_lease();
        if member.voter {
            let result = self
                .raft
                .change_membership(ChangeMembers::RemoveVoters(ids.clone()), false)
                .await;
            membership_result(result.map(|_| ()))?;
            return Ok(());
        }
        let result = self
            .raft
            .change_membership(ChangeMembers::RemoveNodes(ids), false)
            .await;
        membership_result(result.map(|_| ()))
    }
}

/// One server's replication as the leader sees it (`sys/storage/raft/autopilot/state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicationView {
    /// The leader's current term and last log index.
    pub term: u64,
    pub last_log_index: u64,
    /// Highest log index known to be on each follower (the leader's own is its last index);
    /// empty on a follower.
    pub matched_index: std::collections::BTreeMap<u64, u64>,
}

impl RaftStorage {
    /// Leader only: the term, last log index and what each follower has matched.
    pub fn replication_view(&self) -> ReplicationView {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow();
        let last_log_index = metrics.last_log_index.unwrap_or(0);
        let mut matched_index = std::collections::BTreeMap::new();
        if metrics.state == ServerState::Leader
            && let Some(replication) = &metrics.replication
        {
            for (id, matched) in replication.iter() {
                matched_index.insert(*id, matched.map_or(0, |log_id| log_id.index));
            }
            matched_index.insert(self.node_id, last_log_index);
        }
        ReplicationView {
            term: metrics.current_term,
            last_log_index,
            matched_index,
        }
    }

    /// Allows or forbids this node to start an election when its leader goes quiet: the
    /// server forbids it while the node is sealed (it could not serve as the active node)
    /// and for a while after a step-down (HA-09). It still votes. A sole voter always
    /// elects itself. See `election.rs`.
    pub fn set_election_enabled(&self, enabled: bool) {
        self.elections.set_enabled(enabled);
    }

    /// Starts an election now (a leadership transfer's last step, run on the chosen
    /// follower) if `leader` leads this node in `term`; `Refused` otherwise, because this
    /// node's vote for itself would bypass the lease it honours for its leader
    /// (`read_lease.rs`), which only that leader may give up. A leader or a non-voter
    /// ignores it.
    pub async fn trigger_election_asked_by(
        &self,
        leader: u64,
        term: u64,
    ) -> Result<(), StorageError> {
        let status = self.status();
        if status.leader_id != Some(leader) || status.term != term {
            return Err(StorageError::Refused(format!(
                "node {leader} in term {term} is not this node's leader"
            )));
        }
        self.raft
            .trigger()
            .elect()
            .await
            .map_err(|e| StorageError::Unavailable(format!("raft: {e}")))
    }

    /// Leader only: the voters other than this node, the ones with the most of the log
    /// first (whom to hand leadership to); empty when there is no other voter.
    pub fn transfer_targets(&self) -> Vec<ClusterMember> {
        let view = self.replication_view();
        let mut targets: Vec<ClusterMember> = self
            .membership()
            .members
            .into_iter()
            .filter(|member| member.voter && member.node_id != self.node_id)
            .collect();
        targets.sort_by_key(|member| {
            std::cmp::Reverse(view.matched_index.get(&member.node_id).copied())
        });
        targets
    }
}

fn membership_result(
    result: Result<(), RaftError<NodeId, ClientWriteError<NodeId, TresorNode>>>,
) -> Result<(), StorageError> {
    match result {
        Ok(()) => Ok(()),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => Err(
            StorageError::Unavailable("this node is not the raft leader".into()),
        ),
        Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(e))) => Err(
            StorageError::Refused(format!("membership change refused: {e}")),
        ),
        Err(RaftError::Fatal(e)) => Err(StorageError::Unavailable(format!("raft stopped: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Storage;
    use crate::network::{ClusterTransport, TransportError};
    use crate::raft::RaftConfig;
    use std::collections::HashMap;
    use std::sync::{Arc, RwLock, Weak};
    use std::time::{Duration, Instant};

    /// Routes RPCs to in-process stores by cluster address; a missing or stopped store is
    /// unreachable, like a dead peer, and so is a blocked one (RPCs to it are lost; its own
    /// RPCs still go out).
    #[derive(Default)]
    struct LoopbackTransport {
        peers: RwLock<HashMap<String, Weak<RaftStorage>>>,
        blocked: RwLock<std::collections::HashSet<String>>,
    }

    impl LoopbackTransport {
        fn block(&self, addr: &str, blocked: bool) {
            let mut set = self.blocked.write().expect("blocked lock");
            match blocked {
                true => set.insert(addr.to_string()),
                false => set.remove(addr),
            };
        }
    }

    #[async_trait::async_trait]
    impl ClusterTransport for LoopbackTransport {
        async fn call(
            &self,
            cluster_addr: &str,
            rpc: RaftRpc,
            body: Vec<u8>,
            _timeout: Duration,
        ) -> Result<Vec<u8>, TransportError> {
            if self
                .blocked
                .read()
                .expect("blocked lock")
                .contains(cluster_addr)
            {
                return Err(TransportError::Unreachable(cluster_addr.to_string()));
            }
            let peer = self
                .peers
                .read()
                .expect("peers lock")
                .get(cluster_addr)
                .and_then(Weak::upgrade);
            let Some(peer) = peer else {
                return Err(TransportError::Unreachable(cluster_addr.to_string()));
            };
            peer.handle_rpc(rpc, &body)
                .await
                .map_err(|e| TransportError::Failed(e.to_string()))
        }
    }

    async fn open_node(
        transport: &Arc<LoopbackTransport>,
        dir: &std::path::Path,
        n: u64,
    ) -> Arc<RaftStorage> {
        let addr = format!("node-{n}");
        let storage = RaftStorage::open_with_transport(
            RaftConfig {
                dir: dir.to_path_buf(),
                node_id: n,
                node_name: format!("name-{n}"),
                cluster_addr: addr.clone(),
            },
            Some(transport.clone() as Arc<dyn ClusterTransport>),
        )
        .await
        .expect("open");
        transport
            .peers
            .write()
            .expect("peers lock")
            .insert(addr, Arc::downgrade(&storage));
        storage
    }

    /// Polls `check` every 50 ms until it holds or `deadline_ms` passes.
    async fn eventually(what: &str, deadline_ms: u64, mut check: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_millis(deadline_ms);
        while Instant::now() < deadline {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// Goal: three stores form a cluster through the transport seam: learners are added (the
    /// third one from a snapshot, because the leader purged its log first), promoted to
    /// voters, see every write, and elect a new leader that has every acknowledged write when
    /// the old one stops.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_stores_replicate_promote_and_fail_over() {
        let transport = Arc::new(LoopbackTransport::default());
        let dirs: Vec<_> = (0..3)
            .map(|_| tempfile::tempdir().expect("tempdir"))
            .collect();
        let first = open_node(&transport, dirs[0].path(), 1).await;
        first.initialize_single_node().await.expect("initialise");
        for n in 0..30 {
            first
                .put(&format!("k/{n}"), vec![n as u8])
                .await
                .expect("put");
        }
        let second = open_node(&transport, dirs[1].path(), 2).await;
        first
            .add_learner(2, "name-2", "node-2")
            .await
            .expect("add learner 2");
        first
            .add_learner(2, "name-2", "node-2")
            .await
            .expect("adding again is a no-op");
        // Snapshot and purge so the third node can only catch up by snapshot.
        first.raft.trigger().snapshot().await.expect("snapshot");
        let wait = Some(Duration::from_secs(10));
        let snapshot = first
            .raft
            .wait(wait)
            .metrics(|m| m.snapshot.is_some(), "snapshot")
            .await
            .expect("snapshot built")
            .snapshot
            .expect("snapshot id");
        first
            .raft
            .trigger()
            .purge_log(snapshot.index)
            .await
            .expect("purge");
        let third = open_node(&transport, dirs[2].path(), 3).await;
        first
            .add_learner(3, "name-3", "node-3")
            .await
            .expect("add learner 3");
        eventually("both learners promoted", 20_000, async || {
            first.promote_caught_up_learners().await.expect("promote");
            first
                .membership()
                .members
                .iter()
                .filter(|m| m.voter)
                .count()
                == 3
        })
        .await;
        assert!(second.membership().members.len() == 3);
        first
            .put("after/join", b"x".to_vec())
            .await
            .expect("put after join");
        for node in [&second, &third] {
            eventually("replicated write", 10_000, async || {
                node.get("after/join").await.expect("get") == Some(b"x".to_vec())
            })
            .await;
            assert_eq!(node.get("k/7").await.expect("get"), Some(vec![7]));
            assert_eq!(node.leader().map(|l| l.node_id), Some(1));
        }

        first.shutdown().await.expect("shutdown leader");
        let started = Instant::now();
        let mut new_leader = None;
        eventually("a new leader", 15_000, async || {
            new_leader = [&second, &third]
                .into_iter()
                .find(|n| n.status().is_leader)
                .cloned();
            new_leader.is_some()
        })
        .await;
        eprintln!("new leader after {:?}", started.elapsed());
        let new_leader = new_leader.expect("leader");
        new_leader
            .put("after/failover", b"y".to_vec())
            .await
            .expect("put on new leader");
        for n in 0..30 {
            assert_eq!(
                new_leader.get(&format!("k/{n}")).await.expect("get"),
                Some(vec![n as u8])
            );
        }
        new_leader
            .remove_member("name-1")
            .await
            .expect("remove the dead node");
        assert_eq!(new_leader.membership().members.len(), 2);
        second.shutdown().await.expect("shutdown");
        third.shutdown().await.expect("shutdown");
    }

    /// Three stores with node 1 leading and every write replicated; returns them in order.
    async fn three_voters(
        transport: &Arc<LoopbackTransport>,
        dirs: &[tempfile::TempDir],
    ) -> Vec<Arc<RaftStorage>> {
        let first = open_node(transport, dirs[0].path(), 1).await;
        first.initialize_single_node().await.expect("initialise");
        let mut nodes = vec![first];
        for n in 2..=3 {
            nodes.push(open_node(transport, dirs[n as usize - 1].path(), n).await);
            nodes[0]
                .add_learner(n, &format!("name-{n}"), &format!("node-{n}"))
                .await
                .expect("add learner");
        }
        eventually("two learners promoted", 20_000, async || {
            nodes[0]
                .promote_caught_up_learners()
                .await
                .expect("promote");
            nodes[0]
                .membership()
                .members
                .iter()
                .filter(|m| m.voter)
                .count()
                == 3
        })
        .await;
        nodes
    }

    /// Goal: a voter that hears from no leader but lags behind never raises the term (so it
    /// cannot unseat the leader when it is back), and when the leader dies, the survivor with
    /// the longest log wins the first election (issue #5: openraft 0.9 without pre-vote let
    /// the lagging survivor campaign first and cost one or two election timeouts).
    /// Method: cut node 3 off from incoming RPCs for three election timeouts while node 1
    /// writes; its term must not move and node 1 must still lead after node 3 catches up.
    /// Then cut node 3 off for one more write, stop node 1 and reconnect node 3: node 2
    /// must lead at exactly the next term.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lagging_voter_neither_disrupts_nor_delays_an_election() {
        let transport = Arc::new(LoopbackTransport::default());
        let dirs: Vec<_> = (0..3)
            .map(|_| tempfile::tempdir().expect("tempdir"))
            .collect();
        let nodes = three_voters(&transport, &dirs).await;
        let term = nodes[0].status().term;
        transport.block("node-3", true);
        for n in 0..5 {
            nodes[0]
                .put(&format!("cut/{n}"), vec![n])
                .await
                .expect("put while node 3 is cut off");
        }
        let isolated = Duration::from_millis(3 * crate::limits::RAFT_ELECTION_TIMEOUT_MAX_MS);
        tokio::time::sleep(isolated).await;
        assert_eq!(
            nodes[2].status().term,
            term,
            "the cut-off node raised its term"
        );
        transport.block("node-3", false);
        eventually("node 3 caught up", 10_000, async || {
            nodes[2].get("cut/4").await.expect("get") == Some(vec![4])
        })
        .await;
        assert!(nodes[0].status().is_leader);
        assert_eq!(nodes[0].status().term, term, "the leader was unseated");

        transport.block("node-3", true);
        nodes[0]
            .put("last", b"x".to_vec())
            .await
            .expect("a write only nodes 1 and 2 have");
        nodes[0].shutdown().await.expect("stop the leader");
        let stopped = Instant::now();
        transport.block("node-3", false);
        eventually("node 2 leads", 15_000, async || nodes[1].status().is_leader).await;
        eprintln!(
            "node 2 leads {:?} after the leader stopped",
            stopped.elapsed()
        );
        assert_eq!(
            nodes[1].status().term,
            term + 1,
            "an election was lost on the way"
        );
        nodes[1]
            .put("after", b"y".to_vec())
            .await
            .expect("write on the new leader");
        eventually("node 3 follows", 10_000, async || {
            nodes[2].get("last").await.expect("get") == Some(b"x".to_vec())
        })
        .await;
        nodes[1].shutdown().await.expect("shutdown");
        nodes[2].shutdown().await.expect("shutdown");
    }

    /// Goal: the read lease's promises (`read_lease.rs`): while the leader holds the lease,
    /// its lease read indexes cover every acknowledged write, it refuses vote requests, and a
    /// follower starts an election out of turn only when its own leader asks; once the
    /// leader suspends the lease (step-down), it may vote again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_lease_holder_refuses_votes_and_only_the_leader_may_call_an_election() {
        let transport = Arc::new(LoopbackTransport::default());
        let dirs: Vec<_> = (0..3)
            .map(|_| tempfile::tempdir().expect("tempdir"))
            .collect();
        let nodes = three_voters(&transport, &dirs).await;
        let leader = &nodes[0];
        // A freshly opened node refuses votes for one follower lease; wait that out.
        tokio::time::sleep(Duration::from_millis(crate::limits::RAFT_LEADER_LEASE_MS)).await;
        leader.read_index().await.expect("round grants the lease");
        for n in 0..20 {
            leader
                .put(&format!("k{n}"), b"v".to_vec())
                .await
                .expect("put");
            let index = leader.read_index().await.expect("lease read index");
            assert!(
                index >= leader.applied_index(),
                "lease index {index} misses an acknowledged write"
            );
        }
        let status = leader.status();
        let vote = |term: u64| {
            let request: VoteRequest<NodeId> =
                VoteRequest::new(openraft::Vote::new(term, 2), leader.log_tail.last_log_id());
            postcard::to_stdvec(&request).expect("encode")
        };
        let refused = leader
            .handle_rpc(RaftRpc::Vote, &vote(status.term + 1))
            .await;
        assert!(
            matches!(refused, Err(StorageError::Refused(_))),
            "{refused:?}"
        );
        let stray = nodes[1].trigger_election_asked_by(3, status.term).await;
        assert!(matches!(stray, Err(StorageError::Refused(_))), "{stray:?}");
        let stale = nodes[1]
            .trigger_election_asked_by(1, status.term.saturating_sub(1))
            .await;
        assert!(matches!(stale, Err(StorageError::Refused(_))), "{stale:?}");
        assert!(leader.status().is_leader, "nobody campaigned");
        let suspended = leader.suspend_read_lease();
        let answered = leader.handle_rpc(RaftRpc::Vote, &vote(status.term)).await;
        assert!(answered.is_ok(), "a suspended lease lets the node vote");
        drop(suspended);
        for node in &nodes {
            node.shutdown().await.expect("shutdown");
        }
    }
}
