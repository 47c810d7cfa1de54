//! The read-index RPC on the cluster port (mutual TLS: only nodes holding a certificate of
//! the cluster CA reach it).
//!
//! `POST /cluster/read-index` → `200 {"index": N}`: the leader confirms that it still leads
//! and answers the index a linearizable read must wait for: from its read lease when that
//! holds (no network), else after one heartbeat round answered by a quorum (which renews the
//! lease). Any other node, or a leader that cannot confirm, answers `503` with the reason.
//! Concurrent rounds on the leader are shared through a [`ReadIndexBatcher`], as concurrent
//! readers on a standby share RPCs.

use super::batcher::ReadIndexSource;
use crate::cluster::limits::READ_INDEX_RPC_TIMEOUT_MS;
use crate::core::Core;
use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Path of the RPC on the cluster listener.
pub const READ_INDEX_ROUTE: &str = "/cluster/read-index";

#[derive(serde::Serialize, serde::Deserialize)]
struct ReadIndexReply {
    index: u64,
}

/// Leader side: this node's raft read index.
pub(super) struct LeaderReadIndex(pub(super) Weak<Core>);

#[async_trait]
impl ReadIndexSource for LeaderReadIndex {
    async fn read_index(&self) -> Result<u64, String> {
        let core = self.0.upgrade().ok_or("shutting down")?;
        let started = std::time::Instant::now();
        let index = core.raft().read_index().await;
        tracing::trace!(
            round_us = started.elapsed().as_micros(),
            "leader read-index round"
        );
        index.map_err(|error| error.to_string())
    }
}

/// Standby side: one RPC to the node raft names as leader.
pub(super) struct RemoteReadIndex(pub(super) Weak<Core>);

#[async_trait]
impl ReadIndexSource for RemoteReadIndex {
    async fn read_index(&self) -> Result<u64, String> {
        let core = self.0.upgrade().ok_or("shutting down")?;
        let cluster = core.cluster().ok_or("not a cluster node")?;
        let leader = core.raft().leader().ok_or("no known leader")?;
        let client = cluster
            .transport
            .client()
            .ok_or("the cluster port is not armed")?;
        let url = format!(
            "{}{READ_INDEX_ROUTE}",
            leader.cluster_addr.trim_end_matches('/')
        );
        let started = std::time::Instant::now();
        let response = client
            .post(url)
            .timeout(Duration::from_millis(READ_INDEX_RPC_TIMEOUT_MS))
            .send()
            .await
            .map_err(|error| format!("read-index RPC to {}: {error}", leader.name))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| format!("read-index reply from {}: {error}", leader.name))?;
        if status != reqwest::StatusCode::OK {
            let text = String::from_utf8_lossy(&body);
            return Err(format!(
                "{} refused a read index: {status} {text}",
                leader.name
            ));
        }
        let reply: ReadIndexReply = serde_json::from_slice(&body)
            .map_err(|error| format!("read-index reply from {}: {error}", leader.name))?;
        tracing::trace!(rpc_us = started.elapsed().as_micros(), "read-index RPC");
        Ok(reply.index)
    }
}

/// Cluster port route `POST /cluster/read-index` (see the module comment).
pub async fn route(State(core): State<Arc<Core>>) -> Response {
    if core.is_sealed() {
        return (StatusCode::SERVICE_UNAVAILABLE, "sealed").into_response();
    }
    let Some(cluster) = core.cluster() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "not a cluster node").into_response();
    };
    match cluster.standby_reads.leader_read_index(&core).await {
        Ok(index) => match serde_json::to_vec(&ReadIndexReply { index }) {
            Ok(body) => (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
            Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        },
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
    }
}
