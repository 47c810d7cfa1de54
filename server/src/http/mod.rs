//! The HTTP edge: the only module that knows HTTP. It turns a request into a framework
//! [`Request`] (method, path, query, body, token), hands it to the router, and turns the
//! [`Reply`] or [`Error`] into Vault's exact response (vault-core-api.md §0, §1).

mod request;
mod response;

use request::Early;
mod snapshot;

use crate::core::Core;
use crate::core::local_read::LocalRead;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::Request as HttpRequest;
use axum::response::Response;
use std::sync::Arc;

/// The whole API as one axum service: every path goes through [`handle`].
pub fn app(core: Arc<Core>) -> Router {
    Router::new().fallback(handle).with_state(core)
}

async fn handle(State(core): State<Arc<Core>>, http_request: HttpRequest<Body>) -> Response {
    serve(core, http_request).await
}

/// One request through the API, without a router in front: the HA front door calls this
/// for every request it keeps, so building an axum `Router` per request is not on the hot path.
pub async fn serve(core: Arc<Core>, http_request: HttpRequest<Body>) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    // Set only by the HA front door of a standby serving a read from its replica.
    let local_read = http_request.extensions().get::<LocalRead>().cloned();
    if snapshot::is_snapshot_request(&http_request) {
        if let Some(local_read) = &local_read {
            // A raft snapshot is never a local read; the front door forwards it.
            local_read.forward_instead("a raft snapshot");
            return Early::Error(tresor_framework::Error::bare(
                tresor_framework::ErrorKind::Invalid,
            ))
            .into_response(&request_id);
        }
        return snapshot::handle(core, http_request, &request_id).await;
    }
    let parsed = match request::parse(http_request, &request_id).await {
        Ok(parsed) => parsed,
        Err(early) => return early.into_response(&request_id),
    };
    let head_only = parsed.head_only;
    let routed = parsed.routed;
    // A panic in a handler must cost one request a 500, not the connection or the process.
    let outcome = tokio::spawn(async move {
        match local_read {
            Some(local_read) => local_read.scope(core.handle_request(routed)).await,
            None => core.handle_request(routed).await,
        }
    })
    .await;
    let result = match outcome {
        Ok(result) => result,
        Err(join_error) => {
            tracing::error!(request_id = %request_id, panicked = join_error.is_panic(), "request handler failed");
            Err(tresor_framework::Error::internal(
                "request handler panicked",
            ))
        }
    };
    response::build(result, &request_id, head_only)
}
