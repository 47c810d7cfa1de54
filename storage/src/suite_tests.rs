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
