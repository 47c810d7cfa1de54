//! Raft networking: openraft's `RaftNetwork` over a non-generic [`ClusterTransport`].
//!
//! This crate knows neither HTTP nor TLS: `server/` implements [`ClusterTransport`] (mutual
//! TLS to the peer's cluster listener) and feeds received bodies back through
//! [`crate::RaftStorage::handle_rpc`]. Both directions carry postcard bodies: requests are
//! openraft's RPC structs, replies are `Result<reply, RaftError>` as openraft defines them,
//! so a remote error stays a `RemoteError` and openraft's types never leave this crate.
//!
//! Without a transport (tests, or a node whose transport is not armed yet), every peer is
//! `Unreachable`; a single-node cluster never needs one.

use crate::types::{NodeId, TresorNode, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// The three raft RPCs and Tresor's pre-vote (`election.rs`), each one route of the cluster
/// listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftRpc {
    AppendEntries,
    Vote,
    InstallSnapshot,
    PreVote,
}

impl RaftRpc {
    /// The path segment the transport uses for this RPC.
    pub fn name(self) -> &'static str {
        match self {
            RaftRpc::AppendEntries => "append",
            RaftRpc::Vote => "vote",
            RaftRpc::InstallSnapshot => "snapshot",
            RaftRpc::PreVote => "prevote",
        }
    }

    pub fn from_name(name: &str) -> Option<RaftRpc> {
        match name {
            "append" => Some(RaftRpc::AppendEntries),
            "vote" => Some(RaftRpc::Vote),
            "snapshot" => Some(RaftRpc::InstallSnapshot),
            "prevote" => Some(RaftRpc::PreVote),
            _ => None,
        }
    }
}

/// Why a call to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// No connection could be made (peer down, transport not armed): raft backs off.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The connection was made but the exchange failed.
    #[error("cluster RPC failed: {0}")]
    Failed(String),
}

/// Delivers one RPC body to the peer at `cluster_addr` and returns its reply body.
#[async_trait::async_trait]
pub trait ClusterTransport: Send + Sync + 'static {
    async fn call(
        &self,
        cluster_addr: &str,
        rpc: RaftRpc,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError>;
}

/// The network factory: one connection object per peer, all sharing the transport.
pub struct PeerNetwork {
    pub(crate) transport: Option<Arc<dyn ClusterTransport>>,
}

/// A peer as raft addresses it.
pub struct PeerConnection {
    transport: Option<Arc<dyn ClusterTransport>>,
    target: NodeId,
    addr: String,
}

impl RaftNetworkFactory<TypeConfig> for PeerNetwork {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: NodeId, node: &TresorNode) -> Self::Network {
        PeerConnection {
            transport: self.transport.clone(),
            target,
            addr: node.addr.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("node {0} is unreachable: cluster networking is not enabled on this node")]
struct NoTransport(NodeId);

impl PeerConnection {
    async fn send<Req, Resp, E>(
        &self,
        rpc: RaftRpc,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, TresorNode, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let Some(transport) = &self.transport else {
            return Err(RPCError::Unreachable(Unreachable::new(&NoTransport(
                self.target,
            ))));
        };
        let body =
            postcard::to_stdvec(request).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let reply = transport
            .call(&self.addr, rpc, body, option.hard_ttl())
            .await
            .map_err(|e| match e {
                TransportError::Unreachable(_) => RPCError::Unreachable(Unreachable::new(&e)),
                TransportError::Failed(_) => RPCError::Network(NetworkError::new(&e)),
            })?;
        let decoded: Result<Resp, RaftError<NodeId, E>> =
            postcard::from_bytes(&reply).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        decoded.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerConnection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, TresorNode, RaftError<NodeId>>>
    {
        self.send(RaftRpc::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, TresorNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.send(RaftRpc::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, TresorNode, RaftError<NodeId>>> {
        self.send(RaftRpc::Vote, &rpc, &option).await
    }
}
