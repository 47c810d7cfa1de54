//! The API listener's front door in a cluster (HA-01..05).
//!
//! A standby (unsealed, not the raft leader, in a multi-member configuration) serves the
//! unauthenticated `sys/` status and lifecycle paths itself and hands every other request
//! to the active node: forwarded over the cluster port (mutual TLS; the client sees the
//! active node's status, headers and body), or answered with `307` to the active node's
//! `api_addr` when the client asked for no forwarding, the path is a raft snapshot, or
//! forwarding failed. Anything else goes straight to the ordinary API handler.
//!
//! With `standby_reads = "linearizable"`, plain reads are first tried on the standby's own
//! replica (`standby_reads/`); only what that refuses is forwarded or redirected.
//!
//! A request is forwarded at most once (one hop): the cluster listener serves forwarded
//! requests with the plain API handler, which has no front door.

use super::limits::FORWARD_TIMEOUT_MS;
use super::standby_reads::Outcome;
use super::transport::FORWARDED_HEADER;
use super::{Activation, Cluster};
use crate::core::Core;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tresor_framework::limits::REQUEST_BODY_BYTES_MAX;

/// The API app behind the HA front door.
pub fn api_app(core: Arc<Core>) -> Router {
    Router::new().fallback(front).with_state(core)
}

async fn front(State(core): State<Arc<Core>>, request: Request<Body>) -> Response {
    let decision = match core.cluster() {
        Some(cluster) => decide(&core, cluster, &request),
        None => Decision::Local,
    };
    // `standby_reads = "linearizable"`: a plain read may be served from this standby's
    // replica; when it may not, it goes where it would have gone without the option.
    let mut request = request;
    if let Some(cluster) = core.cluster()
        && matches!(decision, Decision::Forward | Decision::Redirect)
        && cluster.is_armed()
        && cluster.standby_reads.is_candidate(&request)
    {
        request = match super::standby_reads::serve(&core, cluster, request).await {
            Outcome::Served(response) => return response,
            Outcome::HandedBack(request) => request,
        };
    }
    match decision {
        Decision::Local => crate::http::serve(core, request).await,
        Decision::Active => serve_as_active(&core, request).await,
        Decision::Redirect => redirect(&core, &path_and_query(&request)).await,
        Decision::Forward => forward(&core, request).await,
        Decision::AwaitActivation => serve_when_active(&core, request).await,
    }
}

enum Decision {
    Local,
    /// This node is the active node of a multi-member cluster.
    Active,
    Forward,
    Redirect,
    /// This node leads raft but is not active yet.
    AwaitActivation,
}

fn decide(core: &Arc<Core>, cluster: &Arc<Cluster>, request: &Request<Body>) -> Decision {
    let leader = core.raft().status().is_leader;
    if core.is_sealed() || !Cluster::is_multi_node(core) {
        return Decision::Local;
    }
    let path = request.uri().path();
    let Some(api_path) = path.strip_prefix("/v1/") else {
        return Decision::Local;
    };
    if let Some(sys_path) = api_path.strip_prefix("sys/")
        && serves_locally_on_standby(sys_path)
    {
        return Decision::Local;
    }
    if leader && cluster.is_active() {
        return Decision::Active;
    }
    if leader {
        return Decision::AwaitActivation;
    }
    let snapshot = matches!(
        api_path.trim_end_matches('/'),
        "sys/storage/raft/snapshot" | "sys/storage/raft/snapshot-force"
    );
    if snapshot
        || request
            .headers()
            .contains_key("x-vault-no-request-forwarding")
        || !cluster.is_armed()
    {
        return Decision::Redirect;
    }
    Decision::Forward
}

/// A new raft leader reloads mounts, policies and tokens before it serves (HA loop), so a
/// request that arrives in between waits for that (bounded) rather than see stale state; if
/// leadership moves on meanwhile, it goes where the new leader is; if activation does not
/// come in time, Vault's answer when no active node is known (HA-05).
async fn serve_when_active(core: &Arc<Core>, request: Request<Body>) -> Response {
    let Some(cluster) = core.cluster() else {
        return no_active_node(StatusCode::INTERNAL_SERVER_ERROR);
    };
    match cluster.await_activation(core).await {
        Activation::Active => serve_as_active(core, request).await,
        Activation::TimedOut => no_active_node(StatusCode::INTERNAL_SERVER_ERROR),
        Activation::NotLeader => match decide(core, cluster, &request) {
            Decision::Local => crate::http::serve(core.clone(), request).await,
            Decision::Active => serve_as_active(core, request).await,
            Decision::Forward => forward(core, request).await,
            Decision::Redirect => redirect(core, &path_and_query(&request)).await,
            // Leader again already: give up rather than wait twice.
            Decision::AwaitActivation => no_active_node(StatusCode::INTERNAL_SERVER_ERROR),
        },
    }
}

/// The active node answers only while no other node can have become active: while its
/// raft read lease holds (renewed in the background, and kept warm by the HA loop), or
/// after one heartbeat round a quorum answered. Without that it may have been cut off from
/// a majority that elected another leader, so its replica may be stale: it answers as a
/// node that knows no active node (Vault's 500), and the client retries elsewhere. Every
/// write acknowledged before the check was applied here first (a write is acknowledged
/// after it is applied, and activation applied everything earlier leaders committed), so
/// nothing needs waiting for once leadership is confirmed.
pub(super) async fn serve_as_active(core: &Arc<Core>, request: Request<Body>) -> Response {
    if core.raft().lease_read_index().is_none() {
        let budget = Duration::from_millis(tresor_storage::limits::READ_INDEX_TIMEOUT_MS);
        let confirmed = tokio::time::timeout(budget, core.raft().read_index()).await;
        if !matches!(confirmed, Ok(Ok(_))) {
            tracing::warn!("the active node could not confirm its leadership with a quorum");
            return no_active_node(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
    crate::http::serve(core.clone(), request).await
}

/// HA-01: what a standby answers itself.
fn serves_locally_on_standby(sys_path: &str) -> bool {
    let sys_path = sys_path.trim_end_matches('/');
    crate::sys::is_unauthenticated(sys_path) || sys_path == "seal"
}

async fn forward(core: &Arc<Core>, request: Request<Body>) -> Response {
    let (Some(cluster), Some(leader)) = (core.cluster(), core.raft().leader()) else {
        return no_active_node(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let Some(client) = cluster.transport.client() else {
        return redirect(core, &path_and_query(&request)).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, REQUEST_BODY_BYTES_MAX).await else {
        // Too large to buffer: the local handler gives Vault's 413.
        let request = Request::from_parts(parts, Body::empty());
        return crate::http::serve(core.clone(), request).await;
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str());
    let url = format!(
        "{}{path_and_query}",
        leader.cluster_addr.trim_end_matches('/')
    );
    let mut headers = parts.headers.clone();
    for name in [
        header::HOST,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ] {
        headers.remove(name);
    }
    headers.insert(FORWARDED_HEADER, HeaderValue::from_static("1"));
    let sent = client
        .request(parts.method.clone(), url)
        .headers(headers)
        .timeout(Duration::from_millis(FORWARD_TIMEOUT_MS))
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(%error, leader = %leader.name, "forwarding to the active node failed; redirecting");
            return redirect(core, path_and_query).await;
        }
    };
    let status = response.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in response.headers() {
        if name != header::CONNECTION
            && name != header::TRANSFER_ENCODING
            && name != header::CONTENT_LENGTH
        {
            response_headers.append(name.clone(), value.clone());
        }
    }
    match response.bytes().await {
        Ok(bytes) => {
            let mut reply = Response::new(Body::from(bytes));
            *reply.status_mut() = status;
            *reply.headers_mut() = response_headers;
            reply
        }
        Err(error) => {
            tracing::warn!(%error, "reading the active node's forwarded reply failed");
            no_active_node(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

fn path_and_query(request: &Request<Body>) -> String {
    request
        .uri()
        .path_and_query()
        .map_or("/", |path_and_query| path_and_query.as_str())
        .to_string()
}

/// HA-03: `307` to the active node's `api_addr`, same path and query, empty body.
async fn redirect(core: &Arc<Core>, path_and_query: &str) -> Response {
    let Some(cluster) = core.cluster() else {
        return no_active_node(StatusCode::SERVICE_UNAVAILABLE);
    };
    let Some(active) = cluster.active_node(core).await else {
        return no_active_node(StatusCode::SERVICE_UNAVAILABLE);
    };
    let base = match active.api_addr.contains("://") {
        true => active.api_addr.trim_end_matches('/').to_string(),
        false => format!("https://{}", active.api_addr.trim_end_matches('/')),
    };
    let Ok(location) = HeaderValue::from_str(&format!("{base}{path_and_query}")) else {
        return no_active_node(StatusCode::SERVICE_UNAVAILABLE);
    };
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// HA-05: no known active node.
pub(crate) fn no_active_node(status: StatusCode) -> Response {
    let message = match status {
        StatusCode::SERVICE_UNAVAILABLE => "no active Vault instance found",
        _ => "local node not active but active cluster node not found",
    };
    let body = serde_json::json!({ "errors": [message] }).to_string();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
