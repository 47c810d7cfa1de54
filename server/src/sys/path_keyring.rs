//! `sys/key-status` and `sys/rotate` (KEY-01, KEY-02).

use super::NoFields;
use crate::core::{Core, seal_error};
use serde::Serialize;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("key-status")
            .read(read_key_status)
            .help("The active term of the barrier keyring."),
        Path::new("rotate")
            .write(write_rotate)
            .help("Add a new term to the barrier keyring; old terms still decrypt."),
        Path::new("rotate/keyring")
            .write(write_rotate)
            .help("OpenBao's name for sys/rotate."),
    ]
}

#[derive(Serialize)]
struct KeyStatusReply {
    term: u32,
    install_time: String,
    encryptions: u64,
}

/// Injected at the top level too (ENV-09): old clients read `term` there.
async fn read_key_status(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let status = core.barrier().key_status().map_err(seal_error)?;
    let install_time = status
        .install_time
        .format(&Rfc3339)
        .map_err(|error| Error::internal(error.to_string()))?;
    Ok(Reply::data(KeyStatusReply {
        term: status.term,
        install_time,
        encryptions: status.encryptions,
    })?
    .injected())
}

async fn write_rotate(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let status = core.barrier().rotate().await.map_err(seal_error)?;
    tracing::info!(term = status.term, "barrier keyring rotated");
    Ok(Reply::NoContent)
}
