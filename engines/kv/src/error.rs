//! The one error type of the KV engine. Variants state the domain fact; [`KvError::kind`] is
//! the only mapping to the framework's classes. Messages are Vault's exact text where clients
//! or users see them, and never contain a stored value.

use crate::limits::{KEY_PATH_BYTES_MAX, VERSIONS_KEPT_MAX};
use tresor_framework::{Error, ErrorKind};
use tresor_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// A write to the root of the key space (`data/` with no key).
    #[error("missing path")]
    MissingPath,
    /// KV v1 write with an empty object (KV-02).
    #[error("missing data fields")]
    MissingDataFields,
    /// KV v2 write or patch without a `data` field (KV-05).
    #[error("no data provided")]
    NoDataProvided,
    /// `options.cas` differs from the key's current version (KV-06).
    #[error("check-and-set parameter did not match the current version")]
    CasMismatch { expected: i64, actual: u64 },
    /// `cas_required` on the mount or the key, and no `options.cas` (KV-06).
    #[error("check-and-set parameter required for this call")]
    CasRequired,
    #[error("error parsing check-and-set parameter")]
    CasUnparsable,
    /// `delete/` and `undelete/` without versions (KV-09).
    #[error("No version number provided")]
    NoVersions,
    /// `destroy/` without versions; Vault spells this one in lower case.
    #[error("no version number provided")]
    NoVersionsToDestroy,
    /// One or more `custom_metadata` rules failed; the message is Vault's (multi-error) text.
    #[error("{0}")]
    CustomMetadata(String),
    /// A field of the wrong shape, in the framework's wording.
    #[error("error converting input for field \"{field}\": {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("key path is longer than {KEY_PATH_BYTES_MAX} bytes")]
    KeyPathTooLong,
    #[error("max_versions must be at most {VERSIONS_KEPT_MAX}")]
    TooManyVersions,
    /// Read of nothing: 404 with an empty `errors` array.
    #[error("not found")]
    NotFound,
    /// A record we wrote does not decode: the disk's fault or ours. Fails closed.
    #[error("corrupt KV record at {0}")]
    Corrupt(String),
    /// Metadata names a live version whose data record is missing.
    #[error("could not find version data")]
    MissingVersionData,
    #[error("upgrade of v1 data walked more than its key bound")]
    UpgradeTooLarge,
    #[error("{0}")]
    Storage(#[from] StorageError),
}

impl KvError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            KvError::MissingPath
            | KvError::MissingDataFields
            | KvError::NoDataProvided
            | KvError::CasMismatch { .. }
            | KvError::CasRequired
            | KvError::CasUnparsable
            | KvError::NoVersions
            | KvError::NoVersionsToDestroy
            | KvError::CustomMetadata(_)
            | KvError::InvalidField { .. }
            | KvError::KeyPathTooLong
            | KvError::TooManyVersions => ErrorKind::Invalid,
            KvError::NotFound => ErrorKind::NotFound,
            KvError::Corrupt(_) | KvError::MissingVersionData | KvError::UpgradeTooLarge => {
                ErrorKind::Internal
            }
            KvError::Storage(_) => ErrorKind::Internal,
        }
    }
}

impl From<KvError> for Error {
    fn from(error: KvError) -> Self {
        match error {
            // The framework knows which storage refusals mean "sealed".
            KvError::Storage(storage) => Error::from(storage),
            KvError::NotFound => Error::not_found(),
            other => Error::new(other.kind(), other.to_string()),
        }
    }
}
