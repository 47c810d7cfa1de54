//! The one test harness: a KV backend over `MemoryStorage` with a clock the test moves, and
//! `check`, which runs one request through `Backend::handle_request` and compares the whole
//! answer (status, data as JSON text, warnings, lease) with an expected row.

use crate::types::Timestamp;
use crate::{KvBackend, KvVersion};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tresor_framework::{
    Backend, Error, ErrorKind, MountContext, Operation, Reply, Request, StorageView,
};
use tresor_storage::MemoryStorage;

/// The fixed "now" of every test: 2024-03-22T02:24:06.945319214Z.
pub const NOW: Timestamp = Timestamp {
    seconds: 1_711_074_246,
    nanos: 945_319_214,
};
pub const NOW_TEXT: &str = "2024-03-22T02:24:06.945319214Z";

/// What a request should answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    NoContent,
    /// An envelope: status, `data` as compact JSON text (`None` for `null`), warnings and
    /// `lease_duration`.
    Envelope {
        status: u16,
        data: Option<String>,
        warnings: Vec<String>,
        lease_duration_seconds: u64,
    },
    /// 404 with an empty `errors` array.
    NotFound,
    Error {
        status: u16,
        message: String,
    },
}

impl Outcome {
    pub fn ok(data: &str) -> Outcome {
        Outcome::Envelope {
            status: 200,
            data: Some(data.to_string()),
            warnings: Vec::new(),
            lease_duration_seconds: 0,
        }
    }
    pub fn lease(seconds: u64, data: &str) -> Outcome {
        Outcome::Envelope {
            status: 200,
            data: Some(data.to_string()),
            warnings: Vec::new(),
            lease_duration_seconds: seconds,
        }
    }
    /// 404 with the full envelope and data (ERR-03).
    pub fn gone(data: &str) -> Outcome {
        Outcome::Envelope {
            status: 404,
            data: Some(data.to_string()),
            warnings: Vec::new(),
            lease_duration_seconds: 0,
        }
    }
    pub fn warning(status: u16, warning: &str) -> Outcome {
        Outcome::Envelope {
            status,
            data: None,
            warnings: vec![warning.to_string()],
            lease_duration_seconds: 0,
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
    pub backend: Arc<KvBackend>,
    pub storage: StorageView,
    offset_seconds: Arc<AtomicI64>,
}

impl Harness {
    pub fn new(version: KvVersion) -> Harness {
        let storage = StorageView::new(Arc::new(MemoryStorage::new()), "logical/mount-uuid/");
        Harness::over(storage, version)
    }

    pub fn over(storage: StorageView, version: KvVersion) -> Harness {
        let offset_seconds = Arc::new(AtomicI64::new(0));
        let offset = offset_seconds.clone();
        let clock = Arc::new(move || NOW.plus_seconds(offset.load(Ordering::SeqCst)));
        let backend = Arc::new(KvBackend::with_clock(storage.clone(), version, clock));
        Harness {
            backend,
            storage,
            offset_seconds,
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn request(operation: Operation, path: &str, body: Value) -> Request {
        let Value::Object(data) = body else {
            panic!("a request body is an object")
        };
        let mount = MountContext {
            path: "secret/".to_string(),
            accessor: "kv_0000".to_string(),
            default_lease_ttl_seconds: 2_764_800,
            max_lease_ttl_seconds: 2_764_800,
            options: Default::default(),
        };
        Request {
            operation,
            path: path.to_string(),
            data,
            client_token: Some("root".to_string()),
            request_id: "request-id".to_string(),
            mount,
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
        assert_eq!(actual, expected, "{operation:?} {path} {body}");
    }

    /// The existence check a write to `path` would run.
    pub async fn exists(&self, path: &str) -> Option<bool> {
        Backend::exists(
            self.backend.as_ref(),
            Harness::request(Operation::Update, path, serde_json::json!({})),
        )
        .await
        .expect("existence check")
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
            lease_duration_seconds: secret
                .lease
                .map(|lease| lease.lease_duration_seconds)
                .unwrap_or(0),
        },
        Ok(Reply::Raw { status, body }) => Outcome::Error {
            status,
            message: format!("unexpected raw reply {}", body.get()),
        },
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
