//! The one test harness: a transit backend over `MemoryStorage` with a fixed clock, and `check`,
//! which runs one request through `Backend::handle_request` and compares the whole answer
//! (status, data as JSON text, warnings) with an expected row.

use crate::TransitBackend;
use crate::store::Clock;
use serde_json::Value;
use std::sync::Arc;
use tresor_framework::{
    Backend, Error, ErrorKind, MountContext, Operation, Reply, Request, StorageView,
};
use tresor_storage::MemoryStorage;

pub const NOW_SECONDS: i64 = 1_711_074_246;
pub const NOW_TEXT: &str = "2024-03-22T02:24:06.945319214Z";

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NoContent,
    Envelope {
        status: u16,
        data: Option<String>,
        warnings: Vec<String>,
    },
    NotFound,
    Error {
        status: u16,
        message: String,
    },
    /// Any success (used to set state inside a table of rows).
    Any,
}

impl Outcome {
    pub fn ok(data: &str) -> Outcome {
        Outcome::Envelope {
            status: 200,
            data: Some(data.to_string()),
            warnings: Vec::new(),
        }
    }
    pub fn error(status: u16, message: &str) -> Outcome {
        Outcome::Error {
            status,
            message: message.to_string(),
        }
    }
}

pub struct Harness {
    pub backend: Arc<TransitBackend>,
}

impl Harness {
    /// A backend whose clock always reads `NOW_TEXT`.
    pub fn new() -> Harness {
        Harness::with_clock(Arc::new(|| {
            time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(NOW_SECONDS) * 1_000_000_000 + 945_319_214,
            )
            .expect("in range")
        }))
    }

    /// A backend over fresh memory storage reading time from `clock`.
    pub fn with_clock(clock: Clock) -> Harness {
        let storage = StorageView::new(Arc::new(MemoryStorage::new()), "logical/mount-uuid/");
        Harness {
            backend: Arc::new(TransitBackend::with_clock(storage, clock)),
        }
    }

    pub fn request(operation: Operation, path: &str, body: Value) -> Request {
        let Value::Object(data) = body else {
            panic!("a request body is an object")
        };
        Request {
            operation,
            path: path.to_string(),
            data,
            client_token: Some("root".to_string()),
            request_id: "request-id".to_string(),
            mount: MountContext {
                path: "transit/".to_string(),
                ..MountContext::default()
            },
            caller: None,
            wrap_ttl_seconds: None,
        }
    }

    pub async fn call(
        &self,
        operation: Operation,
        path: &str,
        body: Value,
    ) -> Result<Reply, Error> {
        self.backend
            .handle_request(Harness::request(operation, path, body))
            .await
    }

    /// Runs one request and compares its whole answer with `expected`.
    pub async fn check(&self, operation: Operation, path: &str, body: Value, expected: Outcome) {
        let actual = outcome(self.call(operation, path, body.clone()).await);
        if expected == Outcome::Any {
            assert!(
                matches!(actual, Outcome::NoContent)
                    || matches!(actual, Outcome::Envelope { status: 200, .. }),
                "{operation:?} {path} {body}: {actual:?}"
            );
            return;
        }
        assert_eq!(actual, expected, "{operation:?} {path} {body}");
    }

    /// The `data` of a successful (any status) envelope.
    pub fn data(result: Result<Reply, Error>) -> Value {
        match result {
            Ok(Reply::Secret(secret)) => secret.data.unwrap_or(Value::Null),
            other => panic!("expected an envelope, got {:?}", outcome(other)),
        }
    }

    pub fn warnings(result: &Result<Reply, Error>) -> Vec<String> {
        match result {
            Ok(Reply::Secret(secret)) => secret.warnings.clone(),
            _ => Vec::new(),
        }
    }

    pub fn status(result: &Result<Reply, Error>) -> u16 {
        match result {
            Ok(Reply::Secret(secret)) => secret.status,
            Ok(Reply::NoContent) => 204,
            Ok(Reply::Raw { status, .. }) => *status,
            Err(error) => status_for(error.kind()),
        }
    }

    /// `data[field]` of a successful call, as text.
    pub async fn field(
        &self,
        operation: Operation,
        path: &str,
        body: Value,
        field: &str,
    ) -> String {
        let data = Harness::data(self.call(operation, path, body.clone()).await);
        match &data[field] {
            Value::String(text) => text.clone(),
            other => panic!("{path} {body}: field {field} is {other}"),
        }
    }
}

pub fn outcome(result: Result<Reply, Error>) -> Outcome {
    match result {
        Ok(Reply::NoContent) => Outcome::NoContent,
        Ok(Reply::Secret(secret)) => Outcome::Envelope {
            status: secret.status,
            data: secret
                .data
                .map(|data| serde_json::to_string(&data).expect("data serialises")),
            warnings: secret.warnings,
        },
        Ok(Reply::Raw { status, body }) => {
            let body: Value = serde_json::from_str(body.get()).expect("raw body is JSON");
            let message = body["errors"][0].as_str().unwrap_or_default();
            let message = message
                .strip_prefix("1 error occurred:\n\t* ")
                .and_then(|text| text.strip_suffix("\n\n"))
                .unwrap_or(message);
            Outcome::Error {
                status,
                message: message.to_string(),
            }
        }
        Err(error) if error.kind() == ErrorKind::NotFound && error.messages().is_empty() => {
            Outcome::NotFound
        }
        Err(error) => Outcome::Error {
            status: status_for(error.kind()),
            message: error.messages().join("; "),
        },
    }
}

/// The server's mapping, restated so a row reads like the wire.
fn status_for(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Invalid => 400,
        ErrorKind::PermissionDenied => 403,
        ErrorKind::NotFound | ErrorKind::UnsupportedPath => 404,
        ErrorKind::UnsupportedOperation => 405,
        ErrorKind::OverLimit => 413,
        ErrorKind::UnsupportedMediaType => 415,
        ErrorKind::Internal => 500,
        ErrorKind::NotInitialized => 501,
        ErrorKind::Sealed => 503,
    }
}
