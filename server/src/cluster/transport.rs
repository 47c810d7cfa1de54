//! The cluster port: raft RPC (client and routes) and forwarded API requests, over mutual
//! TLS with node certificates from the cluster CA (`tls.rs`).
//!
//! Routes (only reachable after a mutual-TLS handshake with a cluster certificate):
//! - `POST /raft/{append|vote|snapshot}`: postcard body in, postcard body out
//!   ([`RaftStorage::handle_rpc`](tresor_storage::RaftStorage::handle_rpc)).
//! - `POST /cluster/elect`: start an election now (a stepping-down leader's request).
//! - `POST /cluster/read-index`: the leader's index for a linearizable standby read.
//! - anything under `/v1/`: an API request a standby forwarded; served by the ordinary API
//!   handler of this node, never forwarded again.

use super::limits::CLUSTER_CONNECT_TIMEOUT_MS;
use super::tls::{ListenerTrust, NodeIdentity};
use super::{Activation, Cluster};
use crate::core::Core;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tresor_storage::limits::RAFT_RPC_BODY_BYTES_MAX;
use tresor_storage::{ClusterTransport, RaftRpc, TransportError};

/// Header a forwarded request carries, so the receiving node can tell (and log) it.
pub const FORWARDED_HEADER: &str = "x-tresor-forwarded";

/// The client side of the cluster port. Unarmed (sealed node): every peer is unreachable.
#[derive(Default)]
pub struct Transport {
    client: RwLock<Option<reqwest::Client>>,
    /// When each peer last answered a raft RPC (autopilot's last contact).
    pub(crate) contacts: super::autopilot::ContactLog,
}

impl Transport {
    pub fn arm(&self, identity: &NodeIdentity) -> Result<(), String> {
        let mut tls = identity.client_config()?;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(Duration::from_millis(CLUSTER_CONNECT_TIMEOUT_MS))
            // reqwest's default, stated: small RPCs must not wait for delayed ACKs.
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cluster client: {e}"))?;
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = Some(client);
        Ok(())
    }

    pub fn disarm(&self) {
        *self.client.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The armed client, if any (cheap: reqwest clients share one pool).
    pub fn client(&self) -> Option<reqwest::Client> {
        self.client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[async_trait::async_trait]
impl ClusterTransport for Transport {
    async fn call(
        &self,
        cluster_addr: &str,
        rpc: RaftRpc,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        let Some(client) = self.client() else {
            return Err(TransportError::Unreachable(
                "the cluster port is not armed (node sealed)".into(),
            ));
        };
        let url = format!("{}/raft/{}", cluster_addr.trim_end_matches('/'), rpc.name());
        let response = client
            .post(url)
            .timeout(timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| match e.is_connect() {
                true => TransportError::Unreachable(e.to_string()),
                false => TransportError::Failed(e.to_string()),
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| TransportError::Failed(e.to_string()))?;
        if status != reqwest::StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes);
            return Err(TransportError::Failed(format!("{status}: {text}")));
        }
        self.contacts.record(cluster_addr);
        Ok(bytes.to_vec())
    }
}

/// The cluster listener's routes.
pub fn cluster_app(core: Arc<Core>) -> Router {
    Router::new()
        .route("/raft/{rpc}", post(raft_rpc))
        .route("/cluster/elect", post(super::stepdown::elect_route))
        .route(
            super::standby_reads::read_index::READ_INDEX_ROUTE,
            post(super::standby_reads::read_index::route),
        )
        .fallback(forwarded)
        .layer(DefaultBodyLimit::max(RAFT_RPC_BODY_BYTES_MAX))
        .with_state(core)
}

async fn raft_rpc(State(core): State<Arc<Core>>, Path(rpc): Path<String>, body: Bytes) -> Response {
    let Some(rpc) = RaftRpc::from_name(&rpc) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match core.raft().handle_rpc(rpc, &body).await {
        Ok(reply) => (StatusCode::OK, reply).into_response(),
        Err(error) => {
            tracing::warn!(%error, "raft RPC from a peer failed");
            (StatusCode::BAD_REQUEST, error.to_string()).into_response()
        }
    }
}

/// A request a standby forwarded: served here exactly as if it had arrived on the API port,
/// once this node is the active node (a leader still activating makes it wait, bounded).
/// A node that is not active (leadership moved on since the standby looked) answers Vault's
/// HA-05 500 rather than serve from its standby state; a forwarded request never hops again.
async fn forwarded(State(core): State<Arc<Core>>, request: Request<Body>) -> Response {
    if !request.uri().path().starts_with("/v1/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(cluster) = core.cluster()
        && Cluster::is_multi_node(&core)
    {
        if !cluster.is_active() && cluster.await_activation(&core).await != Activation::Active {
            return super::forward::no_active_node(StatusCode::INTERNAL_SERVER_ERROR);
        }
        return super::forward::serve_as_active(&core, request).await;
    }
    crate::http::serve(core, request).await
}

/// Binds the cluster listener. It accepts TCP at once but completes a TLS handshake only
/// while this node holds a cluster certificate (unsealed, or joining).
pub async fn bind(
    listen_addr: &str,
    trust: &Arc<ListenerTrust>,
) -> Result<(std::net::TcpListener, axum_server::tls_rustls::RustlsConfig), String> {
    let listener = std::net::TcpListener::bind(listen_addr)
        .map_err(|e| format!("cluster listener {listen_addr}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let config = trust.server_config()?;
    Ok((
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config)),
    ))
}

/// Serves the cluster listener until the task is aborted (an accept loop meant to run
/// forever).
pub async fn serve(
    listener: std::net::TcpListener,
    tls: axum_server::tls_rustls::RustlsConfig,
    core: Arc<Core>,
) -> Result<(), std::io::Error> {
    // TCP_NODELAY: replies here are small and latency-bound (raft heartbeats, read
    // indexes, forwarded answers). Without it, a reply written as two segments waits for
    // the peer's delayed ACK (40 ms on Linux) before its second half leaves.
    axum_server::from_tcp_rustls(listener, tls)?
        .map(|tls_acceptor| tls_acceptor.acceptor(axum_server::accept::NoDelayAcceptor::new()))
        .serve(cluster_app(core).into_make_service())
        .await
}
