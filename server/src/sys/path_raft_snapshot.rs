//! `sys/storage/raft/snapshot` and `snapshot-force` (RFT-05, RFT-06): save and restore the
//! raft state machine as Vault's snapshot archive (`cluster/snapshot.rs`). Both need `sudo`
//! (`SUDO_PATHS`); a standby answers 307 to the active node (`cluster/forward.rs`).
//!
//! The archive is binary, which the framework does not carry: the HTTP edge
//! (`http/snapshot.rs`) hands the raw request body to these handlers as the base64 field
//! [`SNAPSHOT_FIELD`] and sends the field of the save reply back as the raw body.

use super::NoFields;
use crate::cluster::snapshot;
use crate::core::Core;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

/// The field that carries the archive between the HTTP edge and these handlers.
pub const SNAPSHOT_FIELD: &str = "snapshot";

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("storage/raft/snapshot")
            .read(read_snapshot)
            .write(write_snapshot)
            .help("Save (read) or restore (write) a snapshot of the raft storage."),
        Path::new("storage/raft/snapshot-force")
            .write(write_snapshot_force)
            .help("Restore a raft snapshot without checking that this cluster's keys sealed it."),
    ]
}

#[derive(Serialize)]
struct Archive {
    snapshot: String,
}

#[derive(Deserialize)]
struct RestoreFields {
    #[serde(default)]
    snapshot: String,
}

/// `GET sys/storage/raft/snapshot`: Vault streams a gzip tar (`application/gzip`); the Go
/// client checks that it holds a non-empty `SHA256SUMS.sealed`.
async fn read_snapshot(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let archive = snapshot::save(&core).await?;
    Reply::raw(
        200,
        Archive {
            snapshot: STANDARD.encode(archive),
        },
    )
}

/// `POST sys/storage/raft/snapshot`: 204 after the restore; 400 `failed to verify snapshot`
/// when the archive is damaged or was sealed by another cluster's keys.
async fn write_snapshot(core: Arc<Core>, input: Input<RestoreFields>) -> Result<Reply, Error> {
    restore(&core, &input.fields, false).await
}

/// `POST sys/storage/raft/snapshot-force`: as above without the seal-key check, for moving a
/// snapshot into another cluster (which then seals and is unsealed with the snapshot's keys).
async fn write_snapshot_force(
    core: Arc<Core>,
    input: Input<RestoreFields>,
) -> Result<Reply, Error> {
    restore(&core, &input.fields, true).await
}

async fn restore(core: &Arc<Core>, fields: &RestoreFields, force: bool) -> Result<Reply, Error> {
    let archive = STANDARD
        .decode(fields.snapshot.as_bytes())
        .map_err(|_| Error::invalid("failed to verify snapshot: the body is not a snapshot"))?;
    snapshot::restore(core, &archive, force).await?;
    Ok(Reply::NoContent)
}
