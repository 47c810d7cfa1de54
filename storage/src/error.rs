/// Failures of the physical layer. `Display` never includes a stored value.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Raft has no leader or this node cannot accept writes now.
    #[error("storage is not available for writes: {0}")]
    Unavailable(String),
    /// A record on disk failed its checksum or could not be decoded.
    #[error("corrupt record in storage: {0}")]
    Corrupt(String),
    /// The operating system refused an I/O operation.
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A layer above (the barrier) refused the operation, e.g. because it is sealed.
    #[error("{0}")]
    Refused(String),
    /// Anything else; the message is safe to log.
    #[error("storage error: {0}")]
    Other(String),
}
