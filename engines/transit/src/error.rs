//! The one error type of the transit engine. Variants state the domain fact; [`TransitError::kind`]
//! is the only mapping to the framework's classes. Messages are Vault's exact text (clients and
//! batch callers match on them) and never contain key material or plaintext.

use tresor_framework::{Error, ErrorKind};
use tresor_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum TransitError {
    /// A refusal Vault answers with `logical.ErrorResponse` (400): bad input, a missing key,
    /// a version outside the policy's window. The text is Vault's.
    #[error("{0}")]
    Refused(String),
    /// An error Vault returns as a plain Go error (500), but whose text clients still see
    /// (`failed to parse batch input`, restore of an existing key, backup refusals).
    #[error("{0}")]
    Failed(String),
    /// Read of a key that does not exist: 404 with an empty `errors` array.
    #[error("not found")]
    NotFound,
    /// A record we wrote does not decode: the disk's fault or ours. Fails closed.
    #[error("corrupt transit record at {0}")]
    Corrupt(String),
    #[error("{0}")]
    Storage(#[from] StorageError),
}

impl TransitError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransitError::Refused(_) => ErrorKind::Invalid,
            TransitError::NotFound => ErrorKind::NotFound,
            TransitError::Failed(_) | TransitError::Corrupt(_) | TransitError::Storage(_) => {
                ErrorKind::Internal
            }
        }
    }
}

pub(crate) fn refused(message: impl Into<String>) -> TransitError {
    TransitError::Refused(message.into())
}

impl From<TransitError> for Error {
    fn from(error: TransitError) -> Self {
        match error {
            // The framework knows which storage refusals mean "sealed".
            TransitError::Storage(storage) => Error::from(storage),
            TransitError::NotFound => Error::not_found(),
            TransitError::Failed(message) => {
                Error::new(ErrorKind::Internal, format!("{VISIBLE_500}{message}"))
            }
            other => Error::new(other.kind(), other.to_string()),
        }
    }
}

/// Marks an internal error whose text Vault shows the client (its plain Go errors are 500s
/// with the message). The server hides internal messages, so [`crate::TransitBackend`] turns
/// these into a bare 500 body itself. FIXME(#6): a framework error kind for "500 with text".
pub(crate) const VISIBLE_500: &str = "\u{0}transit-visible:";

/// Vault's body for a plain Go error: the multierror text under `errors`.
pub(crate) fn visible_500(error: &Error) -> Option<tresor_framework::Reply> {
    if error.kind() != ErrorKind::Internal {
        return None;
    }
    let message = error.messages().first()?.strip_prefix(VISIBLE_500)?;
    let body = serde_json::json!({
        "errors": [format!("1 error occurred:\n\t* {message}\n\n")]
    });
    tresor_framework::Reply::raw(500, body).ok()
}

/// How one cryptographic operation failed, in Vault's three classes (`errutil.UserError`,
/// `errutil.InternalError`, and a plain Go error). Handlers differ in what a plain error
/// becomes: decrypt counts it as a user error (400), rewrap and sign as internal (500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpError {
    User(String),
    Internal(String),
    Plain(String),
}

impl OpError {
    pub fn message(&self) -> &str {
        match self {
            OpError::User(message) | OpError::Internal(message) | OpError::Plain(message) => {
                message
            }
        }
    }
}

pub(crate) fn user(message: impl Into<String>) -> OpError {
    OpError::User(message.into())
}
