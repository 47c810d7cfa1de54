//! Raft snapshot save and restore (RFT-05, RFT-06): Vault's archive around the state machine.
//!
//! **Archive.** A gzip-compressed tar with, in this order:
//! - `meta.json`: hashicorp/raft's `SnapshotMeta` fields (`Version`, `ID`, `Index`, `Term`,
//!   `Configuration`, `ConfigurationIndex`, `Size`), informational;
//! - `state.bin`: the state machine as raft ships it (`tresor_storage::StateSnapshot`):
//!   every physical key with its value as stored, so barrier ciphertext, never plaintext;
//! - `SHA256SUMS`: `sha256sum` lines for `meta.json` and `state.bin`;
//! - `SHA256SUMS.sealed`: `SHA256SUMS` encrypted by the barrier (AES-256-GCM under the active
//!   keyring term, the fixed path [`SEALED_SUMS_PATH`] as associated data). Only a node
//!   holding this cluster's keyring can open it, so a restore detects both damage (the sums)
//!   and a snapshot of another cluster or forged sums (the seal). The Go client refuses an
//!   archive whose `SHA256SUMS.sealed` is missing or empty.
//!
//! **Restore.** The archive is verified, then `RaftStorage::restore_state` replaces the state
//! machine through raft (every member applies it, atomically, durably). The node then reloads
//! its keyring from the restored `core/keyring` with the root key in memory and reloads
//! mounts, policies and tokens, as Vault does. When the restored keyring does not open with
//! this node's root key (a forced restore of another cluster's snapshot) the node seals: its
//! seal configuration and protected root key are now the snapshot's, so it is unsealed with
//! the original cluster's keys. Other members notice the restore through
//! `RaftStorage::restores_applied` ([`watch`]) and do the same.

use super::limits::{SNAPSHOT_ENTRIES_MAX, SNAPSHOT_ENTRY_BYTES_MAX, SNAPSHOT_RESTORE_WATCH_MS};
use crate::core::{Core, seal_error};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;
use tresor_framework::Error;
use tresor_storage::StorageError;

/// The associated data of `SHA256SUMS.sealed`; not a stored path.
pub const SEALED_SUMS_PATH: &str = "core/raft/snapshot/SHA256SUMS";
pub const META_FILE: &str = "meta.json";
pub const STATE_FILE: &str = "state.bin";
pub const SUMS_FILE: &str = "SHA256SUMS";
pub const SEALED_SUMS_FILE: &str = "SHA256SUMS.sealed";

/// Vault's answer when the sums do not open with this cluster's keys (Shamir seal).
pub const DIFFERENT_KEYS_TEXT: &str = "could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check";

/// Serialises restores with the watcher, and remembers how many restore commits this node
/// has already reloaded after (see [`watch`]).
static RELOADED_RESTORES: tokio::sync::Mutex<u64> = tokio::sync::Mutex::const_new(0);

/// hashicorp/raft's `SnapshotMeta`, as Vault writes it into `meta.json`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveMeta {
    version: u32,
    #[serde(rename = "ID")]
    id: String,
    index: u64,
    term: u64,
    configuration: Configuration,
    configuration_index: u64,
    size: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Configuration {
    servers: Vec<Server>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Server {
    /// hashicorp/raft's `ServerSuffrage`: 0 voter, 1 non-voter.
    suffrage: u8,
    #[serde(rename = "ID")]
    id: String,
    address: String,
}

/// The four entries of a verified-to-be-complete archive.
struct ArchiveParts {
    meta: Vec<u8>,
    state: Vec<u8>,
    sums: Vec<u8>,
    sealed_sums: Vec<u8>,
}

/// `GET sys/storage/raft/snapshot`: the archive of the state machine now.
pub async fn save(core: &Core) -> Result<Vec<u8>, Error> {
    core.require_unsealed()?;
    let snapshot = core.raft().snapshot_state().await?;
    let membership = core.raft().membership();
    let meta = ArchiveMeta {
        version: 1,
        id: snapshot.snapshot_id.clone(),
        index: snapshot.index,
        term: snapshot.term,
        configuration: Configuration {
            servers: membership
                .members
                .iter()
                .map(|member| Server {
                    suffrage: u8::from(!member.voter),
                    id: member.name.clone(),
                    address: super::host_port_of(&member.cluster_addr).to_string(),
                })
                .collect(),
        },
        configuration_index: membership.index,
        size: snapshot.state.len() as u64,
    };
    let meta = serde_json::to_vec(&meta).map_err(|e| Error::internal(e.to_string()))?;
    let sums = sha256_sums(&meta, &snapshot.state);
    let sealed_sums = core
        .barrier()
        .encrypt_value(SEALED_SUMS_PATH, &sums)
        .map_err(seal_error)?;
    let parts = ArchiveParts {
        meta,
        state: snapshot.state,
        sums,
        sealed_sums,
    };
    write_archive(&parts).map_err(|e| Error::internal(format!("snapshot archive: {e}")))
}

/// `POST sys/storage/raft/snapshot` (`force` false) and `snapshot-force` (`force` true).
/// Refuses (400 `failed to verify snapshot: …`) an archive that is incomplete, fails its
/// sums, or (unless forced) was not sealed by this cluster's keyring.
pub async fn restore(core: &Arc<Core>, archive: &[u8], force: bool) -> Result<(), Error> {
    core.require_unsealed()?;
    let parts = read_archive(archive).map_err(refused)?;
    verify_sums(&parts).map_err(refused)?;
    if !force {
        let opened = core
            .barrier()
            .decrypt_value(SEALED_SUMS_PATH, &parts.sealed_sums);
        match opened {
            Ok(sums) if sums == parts.sums => {}
            _ => return Err(refused(DIFFERENT_KEYS_TEXT.to_string())),
        }
    }
    let mut reloaded = RELOADED_RESTORES.lock().await;
    // Lease timers stop first: nothing of theirs should be written under the old keyring
    // while the state is replaced. Whatever the outcome, the node reloads afterwards.
    core.deactivate().await;
    let restored = core.raft().restore_state(&parts.state).await;
    *reloaded = core.raft().restores_applied();
    let reload = reload_after_restore(core).await;
    match restored {
        Ok(()) => {}
        Err(StorageError::Corrupt(message)) => return Err(refused(message)),
        Err(error) => return Err(error.into()),
    }
    tracing::info!(forced = force, "raft snapshot restored");
    reload
}

/// Meant to run for the life of the process: when raft applies a restore this node did not
/// start (it is a follower), reload what the node keeps from storage.
pub async fn watch(core: Arc<Core>) {
    let mut interval = tokio::time::interval(Duration::from_millis(SNAPSHOT_RESTORE_WATCH_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let applied = core.raft().restores_applied();
        let mut reloaded = RELOADED_RESTORES.lock().await;
        if applied == *reloaded {
            continue;
        }
        *reloaded = applied;
        if core.is_sealed() {
            continue;
        }
        tracing::info!("raft applied a restored snapshot; reloading");
        if let Err(error) = reload_after_restore(&core).await {
            tracing::error!(%error, "could not reload after a restored snapshot");
        }
    }
}

/// Reloads the keyring (or seals when it no longer opens) and everything cached above it.
async fn reload_after_restore(core: &Arc<Core>) -> Result<(), Error> {
    core.deactivate().await;
    if let Err(error) = core.barrier().reload_keyring().await {
        tracing::warn!(%error, "the restored keyring does not open with this node's root key; sealing (unseal with the snapshot's keys)");
        return core.seal().await;
    }
    if core.is_ha_standby() {
        core.policies().load().await?;
        return Ok(());
    }
    core.activate().await?;
    if let Some(cluster) = core.cluster() {
        // The restored data holds another advertisement: the HA loop activates and
        // advertises this node again.
        cluster.set_active(false);
    }
    Ok(())
}

/// Whether `archive` reads as a snapshot with a non-empty `SHA256SUMS.sealed` (what Go's
/// client checks after a save).
pub fn has_sealed_sums(archive: &[u8]) -> bool {
    read_archive(archive).is_ok()
}

fn refused(message: String) -> Error {
    Error::invalid(format!("failed to verify snapshot: {message}"))
}

fn sha256_sums(meta: &[u8], state: &[u8]) -> Vec<u8> {
    format!(
        "{}  {META_FILE}\n{}  {STATE_FILE}\n",
        hex::encode(Sha256::digest(meta)),
        hex::encode(Sha256::digest(state))
    )
    .into_bytes()
}

fn verify_sums(parts: &ArchiveParts) -> Result<(), String> {
    let sums = std::str::from_utf8(&parts.sums).map_err(|_| "SHA256SUMS is not text")?;
    for (name, contents) in [(META_FILE, &parts.meta), (STATE_FILE, &parts.state)] {
        let listed = sums.lines().find_map(|line| {
            let (hash, file) = line.split_once("  ")?;
            (file == name).then_some(hash)
        });
        let Some(listed) = listed else {
            return Err(format!(
                "hash check failed for {name:?}: not listed in SHA256SUMS"
            ));
        };
        if listed != hex::encode(Sha256::digest(contents)) {
            return Err(format!("hash check failed for {name:?}"));
        }
    }
    Ok(())
}

fn write_archive(parts: &ArchiveParts) -> std::io::Result<Vec<u8>> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let entries = [
        (META_FILE, &parts.meta),
        (STATE_FILE, &parts.state),
        (SUMS_FILE, &parts.sums),
        (SEALED_SUMS_FILE, &parts.sealed_sums),
    ];
    for (name, contents) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(contents.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(now);
        header.set_cksum();
        tar.append_data(&mut header, name, contents.as_slice())?;
    }
    let mut gzip = tar.into_inner()?;
    gzip.flush()?;
    gzip.finish()
}

fn read_archive(archive: &[u8]) -> Result<ArchiveParts, String> {
    let damaged = |e: std::io::Error| format!("failed to read snapshot archive: {e}");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let (mut meta, mut state, mut sums, mut sealed_sums) = (None, None, None, None);
    for (count, entry) in tar.entries().map_err(damaged)?.enumerate() {
        if count >= SNAPSHOT_ENTRIES_MAX {
            return Err("unexpected extra files in snapshot".into());
        }
        let entry = entry.map_err(damaged)?;
        let name = entry
            .path()
            .map_err(damaged)?
            .to_string_lossy()
            .into_owned();
        let slot = match name.as_str() {
            META_FILE => &mut meta,
            STATE_FILE => &mut state,
            SUMS_FILE => &mut sums,
            SEALED_SUMS_FILE => &mut sealed_sums,
            _ => return Err(format!("unexpected file {name:?} in snapshot")),
        };
        let mut contents = Vec::new();
        entry
            .take(SNAPSHOT_ENTRY_BYTES_MAX + 1)
            .read_to_end(&mut contents)
            .map_err(damaged)?;
        if contents.len() as u64 > SNAPSHOT_ENTRY_BYTES_MAX {
            return Err(format!("{name} is too large"));
        }
        *slot = Some(contents);
    }
    let missing = |name: &str| format!("incomplete snapshot, unable to read {name} file");
    let sealed_sums = sealed_sums
        .filter(|sealed| !sealed.is_empty())
        .ok_or_else(|| missing(SEALED_SUMS_FILE))?;
    Ok(ArchiveParts {
        meta: meta.ok_or_else(|| missing(META_FILE))?,
        state: state.ok_or_else(|| missing(STATE_FILE))?,
        sums: sums.ok_or_else(|| missing(SUMS_FILE))?,
        sealed_sums,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> ArchiveParts {
        let meta = br#"{"Version":1}"#.to_vec();
        let state = vec![1, 2, 3, 4];
        let sums = sha256_sums(&meta, &state);
        ArchiveParts {
            meta,
            state,
            sums,
            sealed_sums: vec![9; 40],
        }
    }

    /// Goal: an archive reads back entry for entry and passes its sums; a changed byte of
    /// `state.bin`, a missing or empty `SHA256SUMS.sealed`, an extra entry and garbage are
    /// each refused with a reason.
    #[test]
    fn archive_round_trip_and_refusals() {
        let archive = write_archive(&parts()).expect("write");
        let read = read_archive(&archive).expect("read");
        assert_eq!(read.state, vec![1, 2, 3, 4]);
        assert_eq!(read.sealed_sums, vec![9; 40]);
        verify_sums(&read).expect("sums");

        let mut tampered = parts();
        tampered.state[0] ^= 1;
        let read = read_archive(&write_archive(&tampered).expect("write")).expect("read");
        let error = verify_sums(&read).expect_err("tampered state");
        assert!(error.contains("state.bin"), "{error}");

        let mut unsealed = parts();
        unsealed.sealed_sums.clear();
        let error = read_archive(&write_archive(&unsealed).expect("write"))
            .err()
            .expect("empty sealed sums");
        assert!(error.contains("SHA256SUMS.sealed"), "{error}");

        assert!(read_archive(b"not a gzip stream").is_err());
    }
}
