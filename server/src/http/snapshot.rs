//! The binary bodies of `sys/storage/raft/snapshot` and `snapshot-force` (RFT-05, RFT-06).
//!
//! Vault sends and receives a raw gzip tar on these paths, which the framework's JSON
//! request and reply do not carry. This edge moves the raw body into the base64 field the
//! handlers in `sys/path_raft_snapshot.rs` read, sends the request through the ordinary
//! router (seal check, token, ACL with `sudo`), and turns a successful save back into the
//! raw archive. Errors keep Vault's JSON `errors` envelope.

use super::{request, response};
use crate::core::Core;
use crate::router::Routed;
use crate::sys::path_raft_snapshot::SNAPSHOT_FIELD;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request as HttpRequest, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};
use std::sync::Arc;
use tresor_framework::{Error, Operation, Reply, Request};

const SNAPSHOT_PATHS: &[&str] = &[
    "/v1/sys/storage/raft/snapshot",
    "/v1/sys/storage/raft/snapshot-force",
];

/// A save (`GET`) or restore (`POST`/`PUT`) of a snapshot, without query parameters. Every
/// other request to these paths takes the ordinary way (405, help).
pub fn is_snapshot_request(http_request: &HttpRequest<Body>) -> bool {
    let path = http_request.uri().path().trim_end_matches('/');
    SNAPSHOT_PATHS.contains(&path)
        && http_request.uri().query().is_none()
        && matches!(
            *http_request.method(),
            Method::GET | Method::POST | Method::PUT
        )
}

pub async fn handle(
    core: Arc<Core>,
    http_request: HttpRequest<Body>,
    request_id: &str,
) -> Response {
    let (parts, body) = http_request.into_parts();
    let save = parts.method == Method::GET;
    let mut data = Map::new();
    if !save {
        let bytes = match request::read_body(body).await {
            Ok(bytes) => bytes,
            Err(error) => return response::build(Err(error), request_id, false),
        };
        data.insert(
            SNAPSHOT_FIELD.to_string(),
            Value::String(STANDARD.encode(&bytes)),
        );
    }
    let path = parts
        .uri
        .path()
        .trim_start_matches("/v1/")
        .trim_end_matches('/');
    let routed = Routed {
        request: Request {
            operation: if save {
                Operation::Read
            } else {
                Operation::Update
            },
            path: path.to_string(),
            data,
            client_token: request::client_token(&parts.headers),
            request_id: request_id.to_string(),
            mount: Default::default(),
            caller: None,
            wrap_ttl_seconds: None,
        },
        help: false,
        patch_content_type_error: None,
    };
    let outcome = tokio::spawn(async move { core.handle_request(routed).await }).await;
    let result = match outcome {
        Ok(result) => result,
        Err(join_error) => {
            tracing::error!(request_id = %request_id, panicked = join_error.is_panic(), "request handler failed");
            Err(Error::internal("request handler panicked"))
        }
    };
    match result {
        Ok(Reply::Raw { status: 200, body }) if save => archive_response(body.get(), request_id),
        other => response::build(other, request_id, false),
    }
}

/// Vault's `SnapshotHTTP`: `Content-Type: application/gzip`, `Content-Disposition:
/// attachment`, the archive as the body.
fn archive_response(reply: &str, request_id: &str) -> Response {
    let archive = serde_json::from_str::<Value>(reply)
        .ok()
        .and_then(|value| value[SNAPSHOT_FIELD].as_str().map(str::to_string))
        .and_then(|encoded| STANDARD.decode(encoded).ok());
    let Some(archive) = archive else {
        let error = Error::internal("snapshot reply without an archive");
        return response::build(Err(error), request_id, false);
    };
    let mut response = Response::new(Body::from(archive));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
