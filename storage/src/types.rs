//! The openraft type configuration. These types stay inside the crate.

use crate::Operation;
use std::io::Cursor;

/// One raft entry's payload: an atomic list of operations.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Request {
    pub operations: Vec<Operation>,
}

/// What applying one entry answers. Writes have no result beyond success.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Response {}

/// A cluster member as raft stores it in membership entries: the Vault-style node name and
/// the cluster address peers dial (empty until the HA listener exists).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TresorNode {
    pub name: String,
    pub addr: String,
}

openraft::declare_raft_types!(
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = TresorNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type NodeId = u64;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type StoredMembership = openraft::StoredMembership<NodeId, TresorNode>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, TresorNode>;
pub type RaftError = openraft::StorageError<NodeId>;

/// Wraps one of our errors as openraft's storage error for the given subject.
pub fn io_error(
    subject: openraft::ErrorSubject<NodeId>,
    verb: openraft::ErrorVerb,
    error: &crate::StorageError,
) -> RaftError {
    openraft::StorageIOError::new(subject, verb, openraft::AnyError::new(error)).into()
}
