use tresor_framework::{Error, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Storage(#[from] tresor_storage::StorageError),
    #[error("corrupt token entry")]
    CorruptEntry,
    #[error("{0}")]
    Invalid(String),
}

impl AuthError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AuthError::Storage(_) | AuthError::CorruptEntry => ErrorKind::Internal,
            AuthError::Invalid(_) => ErrorKind::Invalid,
        }
    }
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Storage(storage) => Error::from(storage),
            other => Error::new(other.kind(), other.to_string()),
        }
    }
}
