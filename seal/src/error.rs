//! The one error type of `tresor-seal`.
//!
//! `Display` texts are Vault's wherever a client sees them. No variant carries key material,
//! a share or a stored value; a storage path may appear (paths are not secret).

use tresor_storage::StorageError;

/// How the server should answer an error, decided without reading its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealErrorKind {
    /// Bad input from the client (bad key encoding, wrong key, bad seal configuration): 400.
    Invalid,
    /// The barrier is sealed (or the node is not initialised): 503 `Vault is sealed`.
    Sealed,
    /// Anything else (storage failure, corrupt record, broken invariant): 500.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The barrier holds no keys.
    #[error("Vault is sealed")]
    Sealed,
    /// `core/keyring` does not exist.
    #[error("Vault is not initialized")]
    NotInitialized,
    /// `Barrier::initialize` found an existing keyring.
    #[error("Vault is already initialized")]
    AlreadyInitialized,
    /// The submitted text is neither hex (of a plausible length) nor standard base64.
    #[error("'key' must be a valid hex or base64 string")]
    KeyEncoding,
    /// A decoded key or share has the wrong shape (length, duplicate x-coordinate, ...).
    /// Vault's `ErrInvalidKey` prefix is kept.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The combined unseal key or the root key does not open the stored keys.
    /// Vault's `ErrBarrierInvalidKey` text.
    #[error("Unseal failed, invalid key")]
    UnsealFailed,
    /// Shares/threshold (or another seal configuration field) out of range. The reason is
    /// Vault's `SealConfig.Validate` text, and Vault's init prefix is kept.
    #[error("invalid seal configuration: {0}")]
    InvalidConfig(&'static str),
    /// An encrypted value names a keyring term this node does not have.
    #[error("no decryption key available for term {term}")]
    UnknownTerm { term: u32 },
    /// An encrypted value failed authentication or has an impossible layout. Never returned
    /// as "absent": the read fails closed.
    #[error("failed to decrypt value at {path:?}: {reason}")]
    Corrupt { path: String, reason: &'static str },
    /// The layer below failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Everything else; the message is safe to log.
    #[error("seal error: {0}")]
    Internal(String),
}

impl SealError {
    pub fn kind(&self) -> SealErrorKind {
        match self {
            SealError::Sealed | SealError::NotInitialized => SealErrorKind::Sealed,
            SealError::AlreadyInitialized
            | SealError::KeyEncoding
            | SealError::InvalidKey(_)
            | SealError::UnsealFailed
            | SealError::InvalidConfig(_) => SealErrorKind::Invalid,
            SealError::UnknownTerm { .. }
            | SealError::Corrupt { .. }
            | SealError::Storage(_)
            | SealError::Internal(_) => SealErrorKind::Internal,
        }
    }

    /// True when the server should answer 400 with this error's text.
    pub fn is_invalid_input(&self) -> bool {
        self.kind() == SealErrorKind::Invalid
    }

    /// The barrier's errors as seen through the [`tresor_storage::Storage`] trait.
    pub(crate) fn into_storage_error(self) -> StorageError {
        match self {
            SealError::Storage(inner) => inner,
            SealError::Sealed | SealError::NotInitialized => {
                StorageError::Refused(SealError::Sealed.to_string())
            }
            corrupt @ (SealError::Corrupt { .. } | SealError::UnknownTerm { .. }) => {
                StorageError::Corrupt(corrupt.to_string())
            }
            other => StorageError::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_visible_texts_are_vaults() {
        // Goal: the texts clients match on are byte-exact; the server maps kinds, not text.
        let cases: Vec<(SealError, &str, SealErrorKind)> = vec![
            (SealError::Sealed, "Vault is sealed", SealErrorKind::Sealed),
            (
                SealError::KeyEncoding,
                "'key' must be a valid hex or base64 string",
                SealErrorKind::Invalid,
            ),
            (
                SealError::UnsealFailed,
                "Unseal failed, invalid key",
                SealErrorKind::Invalid,
            ),
            (
                SealError::AlreadyInitialized,
                "Vault is already initialized",
                SealErrorKind::Invalid,
            ),
            (
                SealError::InvalidConfig("threshold cannot be larger than shares"),
                "invalid seal configuration: threshold cannot be larger than shares",
                SealErrorKind::Invalid,
            ),
            (
                SealError::UnknownTerm { term: 7 },
                "no decryption key available for term 7",
                SealErrorKind::Internal,
            ),
        ];
        for (error, text, kind) in cases {
            assert_eq!(error.to_string(), text);
            assert_eq!(error.kind(), kind);
        }
    }

    #[test]
    fn sealed_maps_to_refused_storage_error() {
        let storage_error = SealError::Sealed.into_storage_error();
        assert!(matches!(&storage_error, StorageError::Refused(text) if text == "Vault is sealed"));
    }
}
