//! The state machine: data in sled, snapshots in a checksummed, fsync'd file.
//!
//! **sled layout.** One `sled::Db` (explicit cache size and flush interval) with two trees:
//! `data` (storage path → value) and `meta` (`applied` → postcard `Option<LogId>`,
//! `membership` → postcard `StoredMembership`). One `apply` call writes the data of all its
//! entries in one sled batch, then the new `applied` and membership in a second one.
//!
//! **Why sled's weak flush is acceptable here.** sled may lose its most recent writes on a
//! crash, but it recovers a consistent prefix, so `applied` never runs ahead of the data it
//! describes. Everything after `applied` is still in the raft log (fdatasync'd before it was
//! acknowledged) and openraft re-applies it from the committed mark, or commits it again as
//! leader. The log is only purged after a snapshot covering the purged entries is on disk
//! (`build_snapshot` and `install_snapshot` fsync the file before they return), and `open`
//! installs that snapshot into sled first when sled's `applied` is behind it. Apply is
//! deterministic (no clock, no randomness), and every operation overwrites or removes a whole
//! value, so re-applying a suffix of the log converges to the same state.
//!
//! **Snapshot data** (what raft ships): `TRSSDT01`, postcard of [`SnapshotBody`], then the
//! CRC32 of everything before it. **Snapshot file** `snapshot`: `TRSSNP01`, `[len u32 LE]`
//! `[crc32 u32 LE]` postcard `SnapshotMeta`, then the snapshot data. Written to a temporary
//! file, synced, renamed, directory synced.

use crate::limits::{SLED_CACHE_BYTES, SLED_FLUSH_EVERY_MS};
use crate::linearizable::{ApplyObservers, ChangeWatch, ReplacementEpoch};
use crate::log_store::sync_dir;
use crate::types::{
    Entry, LogId, RaftError, Response, SnapshotMeta, StoredMembership, TypeConfig, io_error,
};
use crate::{Operation, StorageError, list_one_level};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, RaftSnapshotBuilder};
use sled::Transactional;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const SNAPSHOT_DATA_MAGIC: &[u8; 8] = b"TRSSDT01";
const SNAPSHOT_FILE_MAGIC: &[u8; 8] = b"TRSSNP01";
const SNAPSHOT_FILE: &str = "snapshot";
const META_APPLIED: &[u8] = b"applied";
const META_MEMBERSHIP: &[u8] = b"membership";

/// The whole state at one log id.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SnapshotBody {
    pub(crate) last_applied: Option<LogId>,
    pub(crate) membership: StoredMembership,
    pub(crate) pairs: Vec<(String, Vec<u8>)>,
}

struct SmInner {
    db: sled::Db,
    data: sled::Tree,
    meta: sled::Tree,
    dir: PathBuf,
    /// The meta of the snapshot file on disk; held while the file is replaced.
    current_snapshot: Mutex<Option<SnapshotMeta>>,
    /// Outcomes of restore commits applied since open (see `restore.rs`).
    restores: Mutex<crate::restore::RestoreLedger>,
    /// Applied changes under the keys the layer above caches (see `linearizable.rs`).
    watch: ChangeWatch,
    /// Odd while `install_body` replaces the data (see `linearizable.rs`).
    replacements: ReplacementEpoch,
    /// The index of the last applied entry, set after its writes are visible (the leader's
    /// read lease answers it, `read_lease.rs`). Kept here rather than taken from openraft's
    /// metrics, which may be published after a write was acknowledged.
    applied_index: AtomicU64,
    /// Caches above told of applied changes (see `linearizable.rs`).
    observers: ApplyObservers,
}

/// The state machine. Clones share one sled database; `RaftStorage` keeps one for reads.
#[derive(Clone)]
pub struct StateMachineStore {
    inner: Arc<SmInner>,
}

/// Builds a snapshot from a copy taken in order with `apply`.
pub struct SnapshotBuilder {
    sm: StateMachineStore,
    copy: Result<(Option<LogId>, StoredMembership, Vec<u8>), StorageError>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded value is replaced only after the file it describes is durable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn sled_error(error: sled::Error) -> StorageError {
    match error {
        sled::Error::Io(io) => StorageError::Io(io),
        sled::Error::Corruption { .. } => StorageError::Corrupt(format!("sled: {error}")),
        other => StorageError::Other(format!("sled: {other}")),
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StorageError> {
    postcard::from_bytes(bytes).map_err(|e| StorageError::Corrupt(format!("{what}: {e}")))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StorageError> {
    postcard::to_stdvec(value).map_err(|e| StorageError::Other(format!("encode: {e}")))
}

fn open_sled(path: &Path) -> Result<sled::Db, StorageError> {
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_millis(crate::limits::OPEN_LOCK_WAIT_MS);
    loop {
        let result = sled::Config::new()
            .path(path)
            .cache_capacity(SLED_CACHE_BYTES)
            .flush_every_ms(Some(SLED_FLUSH_EVERY_MS))
            .mode(sled::Mode::HighThroughput)
            .open();
        match result {
            Ok(db) => return Ok(db),
            // A store closed a moment ago in this process may still hold the lock.
            Err(sled::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(sled_error(e)),
        }
    }
}

impl StateMachineStore {
    /// Opens the state machine in `dir`; installs the snapshot file into sled if sled is
    /// behind it (see the module comment).
    pub fn open(dir: &Path) -> Result<StateMachineStore, StorageError> {
        std::fs::create_dir_all(dir)?;
        let db = open_sled(&dir.join("sled"))?;
        let data = db.open_tree("data").map_err(sled_error)?;
        let meta = db.open_tree("meta").map_err(sled_error)?;
        let sm = StateMachineStore {
            inner: Arc::new(SmInner {
                db,
                data,
                meta,
                dir: dir.to_path_buf(),
                current_snapshot: Mutex::new(None),
                restores: Mutex::new(Default::default()),
                watch: ChangeWatch::default(),
                replacements: ReplacementEpoch::default(),
                applied_index: AtomicU64::new(0),
                observers: ApplyObservers::default(),
            }),
        };
        let _ = std::fs::remove_file(dir.join(format!("{SNAPSHOT_FILE}.tmp")));
        if let Some((meta, bytes)) = sm.read_snapshot_file()? {
            let (applied, _) = sm.read_applied()?;
            if applied < meta.last_log_id {
                tracing::info!(snapshot = %meta.snapshot_id, "state machine is behind its snapshot; installing it");
                let body = decode_snapshot_data(&bytes)?;
                sm.install_body(&body)?;
            }
            *lock(&sm.inner.current_snapshot) = Some(meta);
        }
        let (applied, _) = sm.read_applied()?;
        sm.note_applied(applied);
        Ok(sm)
    }

    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let value = self.inner.data.get(key.as_bytes()).map_err(sled_error)?;
        Ok(value.map(|v| v.to_vec()))
    }

    pub fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut keys = Vec::new();
        for item in self.inner.data.scan_prefix(prefix.as_bytes()).keys() {
            let key = item.map_err(sled_error)?;
            let key = String::from_utf8(key.to_vec())
                .map_err(|_| StorageError::Corrupt("a stored path is not UTF-8".into()))?;
            keys.push(key);
        }
        Ok(list_one_level(prefix, keys.iter().map(String::as_str)))
    }

    /// The index of the last entry whose writes are visible to reads.
    pub(crate) fn applied_index(&self) -> u64 {
        self.inner.applied_index.load(Ordering::SeqCst)
    }

    fn note_applied(&self, applied: Option<LogId>) {
        if let Some(log_id) = applied {
            self.inner
                .applied_index
                .fetch_max(log_id.index, Ordering::SeqCst);
        }
    }

    pub(crate) fn apply_observers(&self) -> &ApplyObservers {
        &self.inner.observers
    }

    pub(crate) fn change_watch(&self) -> &ChangeWatch {
        &self.inner.watch
    }

    pub(crate) fn replacement_epoch(&self) -> &ReplacementEpoch {
        &self.inner.replacements
    }

    /// Flushes sled (best effort; see the module comment).
    pub fn flush(&self) -> Result<(), StorageError> {
        self.inner.db.flush().map(|_| ()).map_err(sled_error)
    }

    fn read_applied(&self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let meta = &self.inner.meta;
        let applied = match meta.get(META_APPLIED).map_err(sled_error)? {
            Some(bytes) => decode(&bytes, "applied log id")?,
            None => None,
        };
        let membership = match meta.get(META_MEMBERSHIP).map_err(sled_error)? {
            Some(bytes) => decode(&bytes, "membership")?,
            None => StoredMembership::default(),
        };
        Ok((applied, membership))
    }

    /// Applies entries in order. A restore commit (see `restore.rs`) replaces the data in a
    /// transaction of its own, so the entries before it are applied first.
    fn apply_entries(&self, entries: &[Entry]) -> Result<(), StorageError> {
        let mut start = 0;
        for (position, entry) in entries.iter().enumerate() {
            let Some(commit) = crate::restore::restore_commit(entry) else {
                continue;
            };
            self.apply_writes(&entries[start..position])?;
            self.apply_restore_commit(entry, &commit)?;
            start = position + 1;
        }
        self.apply_writes(&entries[start..])
    }

    /// Replaces the whole `data` tree with the staged snapshot of a restore, and advances
    /// `applied`, in one sled transaction. Deterministic: every node has the same staged
    /// chunks (they are ordinary replicated keys), so every node reaches the same outcome. A
    /// missing chunk or a snapshot that fails its checksum leaves the data as it was (only
    /// the chunks are removed) and records the restore as failed.
    fn apply_restore_commit(
        &self,
        entry: &Entry,
        commit: &crate::restore::RestoreCommit,
    ) -> Result<(), StorageError> {
        let inner = &self.inner;
        let mut staged = Vec::new();
        let mut complete = true;
        for chunk in 0..commit.chunks {
            let key = crate::restore::chunk_key(&commit.id, chunk);
            match inner.data.get(key.as_bytes()).map_err(sled_error)? {
                Some(value) => staged.extend_from_slice(&value),
                None => {
                    complete = false;
                    break;
                }
            }
        }
        let body = match complete {
            true => decode_snapshot_data(&staged).ok(),
            false => None,
        };
        let removed: Vec<sled::IVec> = match &body {
            Some(_) => inner
                .data
                .iter()
                .keys()
                .collect::<Result<_, _>>()
                .map_err(sled_error)?,
            None => inner
                .data
                .scan_prefix(crate::restore::restore_prefix(&commit.id).as_bytes())
                .keys()
                .collect::<Result<_, _>>()
                .map_err(sled_error)?,
        };
        let applied = encode(&Some(entry.log_id))?;
        (&inner.data, &inner.meta)
            .transaction(|(data, meta)| {
                for key in &removed {
                    data.remove(key.clone())?;
                }
                if let Some(body) = &body {
                    for (key, value) in &body.pairs {
                        if crate::restore::is_control_key(key) {
                            continue;
                        }
                        data.insert(key.as_bytes(), value.as_slice())?;
                    }
                }
                meta.insert(META_APPLIED, applied.as_slice())?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(e) => sled_error(e),
                sled::transaction::TransactionError::Abort(()) => {
                    StorageError::Other("restore transaction aborted".into())
                }
            })?;
        // The data may have been replaced wholesale; the generation moves after it is visible.
        inner.watch.bump();
        inner.observers.replaced();
        let restored = body.is_some();
        match restored {
            true => tracing::info!(
                index = entry.log_id.index,
                "state machine replaced by a restored snapshot"
            ),
            false => tracing::warn!(
                index = entry.log_id.index,
                "restore commit without a complete snapshot; data unchanged"
            ),
        }
        lock(&inner.restores).record(&commit.id, restored);
        Ok(())
    }

    /// The restores applied since open: `(count, whether restore `id` succeeded)`.
    pub(crate) fn restore_outcome(&self, id: &str) -> (u64, Option<bool>) {
        let ledger = lock(&self.inner.restores);
        (ledger.applied, ledger.outcome(id))
    }

    fn apply_writes(&self, entries: &[Entry]) -> Result<(), StorageError> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let applied = encode(&Some(last.log_id))?;
        let membership = entries.iter().rev().find_map(|e| match &e.payload {
            EntryPayload::Membership(m) => Some(StoredMembership::new(Some(e.log_id), m.clone())),
            _ => None,
        });
        let membership = membership.as_ref().map(encode).transpose()?;
        // One atomic batch for the data, then `applied` and membership: sled recovers a
        // prefix of its writes, so `applied` never runs ahead of the data, and a crash between
        // the two only makes openraft re-apply entries, which converges (module comment). A
        // two-tree transaction cost a third more CPU per write for no extra guarantee.
        let mut batch = sled::Batch::default();
        for entry in entries {
            let EntryPayload::Normal(request) = &entry.payload else {
                continue;
            };
            for operation in &request.operations {
                match operation {
                    Operation::Put { key, value } => batch.insert(key.as_bytes(), value.as_slice()),
                    Operation::Delete { key } => batch.remove(key.as_bytes()),
                }
            }
        }
        let inner = &self.inner;
        let touches_watched = inner.watch.touches(entries);
        inner.data.apply_batch(batch).map_err(sled_error)?;
        // Only after the data batch: observers and a reader that sees the new generation
        // see the data.
        inner.observers.applied(entries);
        if touches_watched {
            inner.watch.bump();
        }
        let mut meta = sled::Batch::default();
        meta.insert(META_APPLIED, applied);
        if let Some(membership) = membership {
            meta.insert(META_MEMBERSHIP, membership);
        }
        inner.meta.apply_batch(meta).map_err(sled_error)
    }

    /// Serialises the whole state; runs in order with `apply`, so it is consistent.
    fn copy_state(&self) -> Result<(Option<LogId>, StoredMembership, Vec<u8>), StorageError> {
        let (last_applied, membership) = self.read_applied()?;
        let mut pairs = Vec::new();
        for item in self.inner.data.iter() {
            let (key, value) = item.map_err(sled_error)?;
            let key = String::from_utf8(key.to_vec())
                .map_err(|_| StorageError::Corrupt("a stored path is not UTF-8".into()))?;
            pairs.push((key, value.to_vec()));
        }
        let body = SnapshotBody {
            last_applied,
            membership: membership.clone(),
            pairs,
        };
        Ok((last_applied, membership, encode_snapshot_data(&body)?))
    }

    /// Replaces sled's contents with a snapshot body. `applied` is removed first and written
    /// last, so a crash part-way leaves sled behind the snapshot file and `open` redoes it.
    fn install_body(&self, body: &SnapshotBody) -> Result<(), StorageError> {
        let inner = &self.inner;
        // Readers of this node's data (linearizable standby reads) must not trust what they
        // read while the data is cleared and refilled.
        let _replacing = inner.replacements.begin();
        inner.meta.remove(META_APPLIED).map_err(sled_error)?;
        inner.data.clear().map_err(sled_error)?;
        let mut batch = sled::Batch::default();
        for (key, value) in &body.pairs {
            batch.insert(key.as_bytes(), value.as_slice());
        }
        inner.data.apply_batch(batch).map_err(sled_error)?;
        inner
            .meta
            .insert(META_MEMBERSHIP, encode(&body.membership)?)
            .map_err(sled_error)?;
        inner
            .meta
            .insert(META_APPLIED, encode(&body.last_applied)?)
            .map_err(sled_error)?;
        inner.watch.bump();
        inner.observers.replaced();
        self.note_applied(body.last_applied);
        self.flush()
    }

    /// Writes the snapshot file durably unless a newer one is already there.
    fn persist_snapshot(&self, meta: &SnapshotMeta, data: &[u8]) -> Result<(), StorageError> {
        let mut current = lock(&self.inner.current_snapshot);
        if current
            .as_ref()
            .is_some_and(|existing| existing.last_log_id > meta.last_log_id)
        {
            return Ok(());
        }
        let meta_bytes = encode(meta)?;
        let len = u32::try_from(meta_bytes.len())
            .map_err(|_| StorageError::Other("snapshot meta too large".into()))?
            .to_le_bytes();
        let dir = &self.inner.dir;
        let tmp_path = dir.join(format!("{SNAPSHOT_FILE}.tmp"));
        {
            let mut file = std::fs::File::create(&tmp_path)?;
            file.write_all(SNAPSHOT_FILE_MAGIC)?;
            file.write_all(&len)?;
            file.write_all(&crc32fast::hash(&meta_bytes).to_le_bytes())?;
            file.write_all(&meta_bytes)?;
            file.write_all(data)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp_path, dir.join(SNAPSHOT_FILE))?;
        sync_dir(dir)?;
        *current = Some(meta.clone());
        tracing::info!(snapshot = %meta.snapshot_id, bytes = data.len(), "snapshot persisted");
        Ok(())
    }

    pub(crate) fn read_snapshot_file(
        &self,
    ) -> Result<Option<(SnapshotMeta, Vec<u8>)>, StorageError> {
        let bytes = match std::fs::read(self.inner.dir.join(SNAPSHOT_FILE)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let corrupt = || StorageError::Corrupt("snapshot file is damaged".into());
        let rest = bytes
            .strip_prefix(SNAPSHOT_FILE_MAGIC)
            .ok_or_else(corrupt)?;
        if rest.len() < 8 {
            return Err(corrupt());
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let meta_bytes = rest.get(8..8 + len).ok_or_else(corrupt)?;
        if crc32fast::hash(meta_bytes) != crc {
            return Err(corrupt());
        }
        let meta: SnapshotMeta = decode(meta_bytes, "snapshot meta")?;
        let data = rest[8 + len..].to_vec();
        // Verify the data now: a snapshot that fails later could not be recovered from.
        decode_snapshot_data(&data)?;
        Ok(Some((meta, data)))
    }
}

fn encode_snapshot_data(body: &SnapshotBody) -> Result<Vec<u8>, StorageError> {
    let mut out = SNAPSHOT_DATA_MAGIC.to_vec();
    out.extend_from_slice(&encode(body)?);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

pub(crate) fn decode_snapshot_data(bytes: &[u8]) -> Result<SnapshotBody, StorageError> {
    let corrupt = || StorageError::Corrupt("snapshot data failed its checksum".into());
    if bytes.len() < SNAPSHOT_DATA_MAGIC.len() + 4 || !bytes.starts_with(SNAPSHOT_DATA_MAGIC) {
        return Err(corrupt());
    }
    let (covered, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(covered) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err(corrupt());
    }
    decode(&covered[SNAPSHOT_DATA_MAGIC.len()..], "snapshot body")
}

fn sm_error(verb: ErrorVerb, error: &StorageError) -> RaftError {
    io_error(ErrorSubject::StateMachine, verb, error)
}

fn snapshot_error(verb: ErrorVerb, error: &StorageError) -> RaftError {
    io_error(ErrorSubject::Snapshot(None), verb, error)
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, RaftError> {
        let (last_applied, membership, data) = match &self.copy {
            Ok(copy) => copy.clone(),
            Err(e) => return Err(snapshot_error(ErrorVerb::Read, e)),
        };
        let snapshot_id = match &last_applied {
            Some(id) => format!(
                "{}-{}-{}",
                id.leader_id.term,
                id.index,
                uuid::Uuid::new_v4().simple()
            ),
            None => format!("0-0-{}", uuid::Uuid::new_v4().simple()),
        };
        let meta = SnapshotMeta {
            last_log_id: last_applied,
            last_membership: membership,
            snapshot_id,
        };
        self.sm
            .persist_snapshot(&meta, &data)
            .map_err(|e| snapshot_error(ErrorVerb::Write, &e))?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), RaftError> {
        self.read_applied()
            .map_err(|e| sm_error(ErrorVerb::Read, &e))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, RaftError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        self.apply_entries(&entries)
            .map_err(|e| sm_error(ErrorVerb::Write, &e))?;
        self.note_applied(entries.last().map(|entry| entry.log_id));
        Ok(entries.iter().map(|_| Response {}).collect())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            sm: self.clone(),
            copy: self.copy_state(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, RaftError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), RaftError> {
        let data = snapshot.into_inner();
        let result = decode_snapshot_data(&data).and_then(|body| {
            if body.last_applied != meta.last_log_id {
                return Err(StorageError::Corrupt(
                    "snapshot data does not match its meta".into(),
                ));
            }
            self.persist_snapshot(meta, &data)?;
            self.install_body(&body)
        });
        result.map_err(|e| snapshot_error(ErrorVerb::Write, &e))
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, RaftError> {
        let snapshot = self
            .read_snapshot_file()
            .map_err(|e| snapshot_error(ErrorVerb::Read, &e))?;
        Ok(snapshot.map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64, operations: Vec<Operation>) -> Entry {
        Entry {
            log_id: openraft::LogId::new(openraft::CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(crate::types::Request { operations }),
        }
    }

    async fn built_snapshot(dir: &Path) -> Snapshot<TypeConfig> {
        let mut sm = StateMachineStore::open(dir).expect("open");
        let operations = vec![Operation::Put {
            key: "a/b".into(),
            value: b"v".to_vec(),
        }];
        sm.apply(vec![entry(1, operations)]).await.expect("apply");
        sm.get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .expect("build")
    }

    /// Goal: a snapshot whose data fails its checksum is refused on install and on open,
    /// never read as an empty state.
    #[tokio::test]
    async fn snapshot_with_flipped_bit_is_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let snapshot = built_snapshot(&dir.path().join("a")).await;
        let mut data = snapshot.snapshot.into_inner();
        let middle = data.len() / 2;
        data[middle] ^= 1;
        let mut other = StateMachineStore::open(&dir.path().join("b")).expect("open");
        let result = other
            .install_snapshot(&snapshot.meta, Box::new(Cursor::new(data)))
            .await;
        assert!(result.is_err(), "install of a corrupt snapshot succeeded");
        drop(other);

        let path = dir.path().join("a").join(SNAPSHOT_FILE);
        let mut file = std::fs::read(&path).expect("read snapshot file");
        let last = file.len() - 10;
        file[last] ^= 1;
        std::fs::write(&path, file).expect("write");
        let reopened = StateMachineStore::open(&dir.path().join("a"));
        assert!(
            matches!(reopened, Err(StorageError::Corrupt(_))),
            "corrupt snapshot file opened"
        );
    }

    /// Goal: a state machine whose sled is behind the snapshot file catches up on open.
    #[tokio::test]
    async fn open_installs_newer_snapshot_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        built_snapshot(&dir.path().join("a")).await;
        std::fs::create_dir_all(dir.path().join("b")).expect("mkdir");
        std::fs::copy(
            dir.path().join("a").join(SNAPSHOT_FILE),
            dir.path().join("b").join(SNAPSHOT_FILE),
        )
        .expect("copy snapshot");
        let mut sm = StateMachineStore::open(&dir.path().join("b")).expect("open");
        assert_eq!(sm.get("a/b").expect("get"), Some(b"v".to_vec()));
        let (applied, _) = sm.applied_state().await.expect("applied");
        assert_eq!(applied.map(|l| l.index), Some(1));
    }
}
