//! Raft networking: the seam the HA work fills in.
//!
//! Tresor runs single-node today, so raft never needs a peer and every RPC reports
//! `Unreachable`. The HA issue replaces [`NoPeers`] with a factory that dials peers' cluster
//! listeners over mutual TLS (one pooled client, per-request timeouts from `RPCOption`,
//! binary bodies), and adds the receiving side that calls `Raft::append_entries`, `vote` and
//! `install_snapshot`, plus `add_learner`/`change_membership` for joins.

use crate::types::{NodeId, TresorNode, TypeConfig};
use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};

/// Why a peer cannot be reached: there is no cluster transport yet.
#[derive(Debug, thiserror::Error)]
#[error("node {0} is unreachable: cluster networking is not enabled on this node")]
struct NoTransport(NodeId);

/// A network factory with no transport: every peer is unreachable.
pub struct NoPeers;

/// A connection to a peer that can never be reached.
pub struct NoPeerConnection {
    target: NodeId,
}

impl NoPeerConnection {
    fn unreachable<E: std::error::Error>(&self) -> RPCError<NodeId, TresorNode, E> {
        RPCError::Unreachable(Unreachable::new(&NoTransport(self.target)))
    }
}

impl RaftNetworkFactory<TypeConfig> for NoPeers {
    type Network = NoPeerConnection;

    async fn new_client(&mut self, target: NodeId, _node: &TresorNode) -> Self::Network {
        NoPeerConnection { target }
    }
}

impl RaftNetwork<TypeConfig> for NoPeerConnection {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, TresorNode, RaftError<NodeId>>>
    {
        Err(self.unreachable())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, TresorNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        Err(self.unreachable())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, TresorNode, RaftError<NodeId>>> {
        Err(self.unreachable())
    }
}
