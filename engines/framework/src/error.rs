use std::fmt;

/// The closed set of failure classes. Only the server maps a kind to an HTTP status, and it
/// never reads message text to do so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Validation failure, bad JSON, handler refusal: 400 with the message.
    Invalid,
    /// No, unknown or expired token, or an ACL denial: 403.
    PermissionDenied,
    /// Read or list of nothing: 404 with an empty `errors` array.
    NotFound,
    /// No path of the mount matches: 404 `unsupported path`.
    UnsupportedPath,
    /// The path exists but not for this operation: 405 with an empty `errors` array.
    UnsupportedOperation,
    /// A PATCH without `application/merge-patch+json`: 415.
    UnsupportedMediaType,
    /// Request body over the limit: 413.
    OverLimit,
    /// Sealed or not yet initialised: 503 `Vault is sealed`.
    Sealed,
    /// Vault answers 501 for a few "not initialised" cases.
    NotInitialized,
    /// A fault of ours or of the disk: 500; the detail goes to the log, not the client.
    Internal,
}

/// The one error type handlers return. Crate errors convert into it by their kind.
///
/// `Display` never contains a secret: messages are written by us, never copied from input
/// values.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    messages: Vec<String>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            messages: vec![message.into()],
        }
    }
    /// An error with an empty `errors` array, as Vault sends for 404 and 405.
    pub fn bare(kind: ErrorKind) -> Self {
        Error {
            kind,
            messages: Vec::new(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn not_found() -> Self {
        Self::bare(ErrorKind::NotFound)
    }
    pub fn unsupported_operation() -> Self {
        Self::bare(ErrorKind::UnsupportedOperation)
    }
    pub fn permission_denied() -> Self {
        Self::new(
            ErrorKind::PermissionDenied,
            "1 error occurred:\n\t* permission denied\n\n",
        )
    }
    pub fn sealed() -> Self {
        Self::new(ErrorKind::Sealed, "Vault is sealed")
    }
    /// An internal fault. `detail` is logged by the server, never sent to the client.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn messages(&self) -> &[String] {
        &self.messages
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.messages.join("; "))
    }
}

impl std::error::Error for Error {}

impl From<tresor_storage::StorageError> for Error {
    fn from(error: tresor_storage::StorageError) -> Self {
        match error {
            tresor_storage::StorageError::Refused(message) if message == "Vault is sealed" => {
                Error::sealed()
            }
            other => Error::internal(other.to_string()),
        }
    }
}
