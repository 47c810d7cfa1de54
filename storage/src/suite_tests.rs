//! openraft's storage test suite against the log store and the state machine.

use crate::log_store::{LogOwner, LogStats, LogStore};
use crate::state_machine::StateMachineStore;
use crate::types::{RaftError, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use std::sync::Arc;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, (tempfile::TempDir, LogOwner)>
    for Builder
{
    async fn build(
        &self,
    ) -> Result<((tempfile::TempDir, LogOwner), LogStore, StateMachineStore), RaftError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (log, owner) = LogStore::open(&dir.path().join("log"), Arc::new(LogStats::default()))
            .expect("open log");
        let sm = StateMachineStore::open(&dir.path().join("sm")).expect("open state machine");
        Ok(((dir, owner), log, sm))
    }
}

/// Goal: the stores meet openraft's storage contract (openraft's own suite).
#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(Builder).expect("openraft storage suite");
}

/// Goal: `Operation` values encode as one byte slice yet produce the very bytes the plain
/// `Vec<u8>` encoding did, so raft logs and snapshots written before still decode.
#[test]
fn operation_encoding_is_unchanged_by_serde_bytes() {
    #[derive(serde::Serialize)]
    enum Plain {
        Put { key: String, value: Vec<u8> },
    }
    let value: Vec<u8> = (0..=255).collect();
    let new = postcard::to_stdvec(&crate::Operation::Put {
        key: "k".into(),
        value: value.clone(),
    })
    .expect("encode");
    let old = postcard::to_stdvec(&Plain::Put {
        key: "k".into(),
        value,
    })
    .expect("encode");
    assert_eq!(new, old);
}
