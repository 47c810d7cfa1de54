//! Building Vault's responses: the envelope, raw bodies, errors and their status codes.
//! This is the only place an [`ErrorKind`] becomes a status, and it never reads message text.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};
use tresor_framework::{Error, ErrorKind, Reply, Secret};

const JSON: &str = "application/json";

pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound | ErrorKind::UnsupportedPath => StatusCode::NOT_FOUND,
        ErrorKind::UnsupportedOperation => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::OverLimit => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Sealed => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::NotInitialized => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn build(result: Result<Reply, Error>, request_id: &str, head_only: bool) -> Response {
    let (status, body) = match result {
        Ok(Reply::NoContent) => (StatusCode::NO_CONTENT, None),
        Ok(Reply::Raw { status, body }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            Some(body.get().as_bytes().to_vec()),
        ),
        Ok(Reply::Secret(secret)) => envelope(secret, request_id),
        Err(error) => error_body(error, request_id),
    };
    let body = match (head_only, status) {
        (true, _) | (_, StatusCode::NO_CONTENT) => None,
        _ => body,
    };
    json_response(status, body)
}

fn json_response(status: StatusCode, body: Option<Vec<u8>>) -> Response {
    let mut response = Response::new(Body::from(body.unwrap_or_default()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // hvac compares the content type for equality before it parses `errors` (ENV-07).
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /` without a UI: Go's mux answer, plain text.
pub fn plain_not_found() -> Response {
    let mut response = Response::new(Body::from("404 page not found\n"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Fields in the order a JSON object (sorted keys) prints them, so the envelope serialises
/// directly to the same bytes.
#[derive(Serialize)]
struct Envelope<'a> {
    auth: &'a Option<Value>,
    data: &'a Option<Value>,
    lease_duration: u64,
    lease_id: &'a str,
    renewable: bool,
    request_id: &'a str,
    warnings: Option<&'a [String]>,
    wrap_info: Option<Value>,
}

fn envelope(secret: Secret, request_id: &str) -> (StatusCode, Option<Vec<u8>>) {
    if let Some(wrap_info) = secret.wrap_info {
        // ENV-05: a wrapped response carries only `wrap_info`; Vault omits the request id.
        let body = serde_json::json!({
            "request_id": "", "lease_id": "", "renewable": false, "lease_duration": 0,
            "data": null, "wrap_info": wrap_info, "warnings": null, "auth": null,
        });
        return (StatusCode::OK, Some(to_bytes(&body)));
    }
    let lease = secret.lease.clone().unwrap_or_default();
    let envelope = Envelope {
        request_id,
        lease_id: &lease.lease_id,
        renewable: lease.renewable,
        lease_duration: lease.lease_duration_seconds,
        data: &secret.data,
        wrap_info: None,
        warnings: (!secret.warnings.is_empty()).then_some(secret.warnings.as_slice()),
        auth: &secret.auth,
    };
    let status = StatusCode::from_u16(secret.status).unwrap_or(StatusCode::OK);
    if !secret.inject_top_level {
        // Straight to bytes: `to_value` would re-parse every number and respell exponents
        // (`1e3` → `1e+3`), and KV answers numbers as the client wrote them (REQ-06).
        let body = serde_json::to_vec(&envelope)
            .unwrap_or_else(|_| br#"{"errors":["internal error"]}"#.to_vec());
        return (status, Some(body));
    }
    let mut body = serde_json::to_value(envelope).unwrap_or(Value::Null);
    if secret.inject_top_level
        && let (Value::Object(top), Some(Value::Object(data))) = (&mut body, &secret.data)
    {
        inject(top, data);
    }
    (status, Some(to_bytes(&body)))
}

/// ENV-09: data keys copied to the top level; envelope fields win on a clash.
fn inject(top: &mut Map<String, Value>, data: &Map<String, Value>) {
    for (key, value) in data {
        top.entry(key.clone()).or_insert_with(|| value.clone());
    }
}

fn to_bytes(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_else(|_| br#"{"errors":["internal error"]}"#.to_vec())
}

fn error_body(error: Error, request_id: &str) -> (StatusCode, Option<Vec<u8>>) {
    let status = status_for(error.kind());
    let messages: Vec<String> = match error.kind() {
        ErrorKind::Internal => {
            // The cause stays in the log; the client gets the request id to quote.
            tracing::error!(request_id = %request_id, error = %error, "internal error");
            vec![format!("internal error; request id {request_id}")]
        }
        _ => error.messages().to_vec(),
    };
    (
        status,
        Some(to_bytes(&serde_json::json!({ "errors": messages }))),
    )
}
