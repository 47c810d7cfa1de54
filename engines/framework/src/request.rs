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
    /// The mount that serves the request; filled in by the router.
    pub mount: MountContext,
    /// Who is calling, once the router has authenticated the token; `None` on
    /// unauthenticated paths.
    pub caller: Option<Caller>,
    /// `X-Vault-Wrap-TTL` in seconds: the router wraps the reply (WRP-01).
    pub wrap_ttl_seconds: Option<u64>,
}

/// The authenticated caller, as the router resolved the token.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub accessor: String,
    pub policies: Vec<String>,
    /// Holds the `root` policy.
    pub is_root: bool,
    /// The ACL granted `sudo` on this request's path (or the caller is root).
    pub has_sudo: bool,
    /// Salted hash of the token: the key of its cubbyhole and of its store entry.
    pub token_hash: String,
    pub display_name: String,
    pub entity_id: String,
}

/// What a backend may know about its own mount.
#[derive(Debug, Clone, Default)]
pub struct MountContext {
    /// The mount path with its trailing slash, e.g. `secret/`.
    pub path: String,
    pub accessor: String,
    /// Effective TTLs in seconds (the system values when the mount sets none).
    pub default_lease_ttl_seconds: u64,
    pub max_lease_ttl_seconds: u64,
    /// The mount's `options` map (`version` for KV).
    pub options: std::collections::BTreeMap<String, String>,
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
