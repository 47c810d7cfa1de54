use serde_json::{Map, Value};

/// What a request asks for, after the server mapped the HTTP method (REQ-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Read,
    /// A write to a path that does not exist yet (decided by the path's existence check).
    Create,
    Update,
    Delete,
    List,
    Patch,
    /// `HEAD`: like `Read`, the server drops the body.
    Head,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::List => "list",
            Operation::Patch => "patch",
            Operation::Head => "header",
        }
    }
}

/// A request as a backend sees it: the path relative to its mount, the merged input data and
/// the caller's token. No HTTP types.
#[derive(Clone)]
pub struct Request {
    pub operation: Operation,
    /// Path relative to the mount, without a leading `/`.
    pub path: String,
    /// Body fields (writes) or query parameters (reads), numbers kept exact.
    pub data: Map<String, Value>,
    /// The client token, if any was sent. Never logged.
    pub client_token: Option<String>,
    pub request_id: String,
}

impl std::fmt::Debug for Request {
    // Data and token stay out of debug output: they may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("path", &self.path)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}
