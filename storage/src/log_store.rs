//! The raft log: one append-only file of CRC-framed records, fdatasync'd with group commit.
//!
//! **Why not sled for the log.** sled 0.34 "flushes" with `sync_file_range`, which neither
//! writes file metadata nor flushes the drive's cache, so a flushed sled write can vanish on
//! power loss (sled issue #1452). A raft log that loses an acknowledged entry loses a write
//! the client was told is safe. This file is small, sequential and easy to reason about, and
//! `fdatasync` on it is the one primitive the durability argument rests on.
//!
//! **File format.** `log` starts with the 8-byte magic [`LOG_MAGIC`], then frames:
//! `[len u32 LE][crc32(len) u32 LE][crc32(payload) u32 LE][payload: postcard(Record)]`.
//! The length has its own checksum, so a flipped bit in a length is detected instead of
//! silently re-framing the rest of the file. Every change is an append: entries, truncation
//! (`Truncate { since }`), purge (`Purge { upto }`), the vote and the committed mark. Replay
//! applies the records in order.
//!
//! **Durability.** `append` writes its frames (one `write` of all entries of the call) and
//! queues the `LogFlushed` callback for the sync thread. The sync thread takes every queued
//! request (up to [`GROUP_COMMIT_REQUESTS_MAX`]), does one `fdatasync`, then fires all their
//! callbacks: concurrent appends share one sync (group commit). A callback fires only after
//! an `fdatasync` that started after its frames were written. (openraft 0.9 awaits each
//! append's callback before it handles the next client request, so most sharing comes from
//! `raft::write_loop`, which merges queued client writes into one entry; the sync thread
//! still merges syncs of concurrent appends, votes and any future pipelining.) `save_vote` waits for such a
//! sync before it returns. Truncate, purge and committed records are not synced on their own:
//! losing one on a crash is safe (truncation is made durable by the sync of the entries that
//! follow it; a lost purge keeps entries a snapshot already covers; a lost commit mark only
//! makes the leader re-commit). A failed write or sync poisons the store: later calls fail,
//! because the file's state after a failed fsync is unknown.
//!
//! **Recovery.** Replay reads frames from the start. A frame cut short at the end of the file,
//! or a bad frame followed only by zero bytes, is a torn tail from a crash mid-write: the file
//! is cut there (and synced). A bad checksum with valid data after it is corruption: open
//! fails with `Corrupt`, it is never read as absent.
//!
//! **Compaction.** After a purge, when superseded records pass [`LOG_GARBAGE_RECORDS_MAX`],
//! the live records are rewritten to a temporary file, which is synced, renamed over `log`,
//! and the directory synced.

use crate::StorageError;
use crate::limits::{
    GROUP_COMMIT_REQUESTS_MAX, LOG_GARBAGE_RECORDS_MAX, LOG_RECORD_BYTES_MAX, LOG_TAIL_CACHE_BYTES,
    WRITE_QUEUE_DEPTH_MAX,
};
use crate::types::{Entry, LogId, RaftError, TypeConfig, Vote, io_error};
use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, LogState, OptionalSend, RaftLogReader};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::{Bound, RangeBounds};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

/// First bytes of the log file; the digit is the format version.
pub const LOG_MAGIC: &[u8; 8] = b"TRSLOG01";
const LOG_FILE: &str = "log";
const LOG_COMPACT_FILE: &str = "log.compact";
const FRAME_HEADER_BYTES: usize = 12;

/// One record of the log file.
#[derive(serde::Serialize, serde::Deserialize)]
enum Record {
    Entry(Entry),
    Truncate { since: u64 },
    Purge { upto: LogId },
    Vote(Vote),
    Committed(Option<LogId>),
}

/// Counters shared with `RaftStorage::durability_stats`.
#[derive(Default)]
pub struct LogStats {
    pub log_syncs: AtomicU64,
    pub committed_index: AtomicU64,
}

/// Where a live entry's frame sits in the file.
#[derive(Clone, Copy)]
struct Located {
    log_id: LogId,
    offset: u64,
    len: u32,
}

struct LogFile {
    file: Arc<File>,
    end: u64,
    entries: BTreeMap<u64, Located>,
    vote: Option<Vote>,
    committed: Option<LogId>,
    last_purged: Option<LogId>,
    garbage_records: u64,
    /// The latest appended entries, decoded: openraft reads each entry back to apply it
    /// right after appending it (and to replicate it), and a file read, CRC check and decode
    /// per entry cost more than the clone. Bounded by [`LOG_TAIL_CACHE_BYTES`].
    tail: TailCache,
}

/// Recently appended entries by index, oldest evicted first; `bytes` counts frame sizes.
#[derive(Default)]
struct TailCache {
    entries: BTreeMap<u64, Entry>,
    bytes: u64,
    sizes: BTreeMap<u64, u64>,
}

impl TailCache {
    fn insert(&mut self, entry: Entry, frame_bytes: u64) {
        let index = entry.log_id.index;
        self.remove_from(index);
        self.entries.insert(index, entry);
        self.sizes.insert(index, frame_bytes);
        self.bytes += frame_bytes;
        while self.bytes > LOG_TAIL_CACHE_BYTES {
            let Some((oldest, size)) = self.sizes.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
            self.bytes -= size;
        }
    }

    /// Forgets entries at `index` and after (a truncation).
    fn remove_from(&mut self, index: u64) {
        let removed = self.sizes.split_off(&index);
        self.bytes -= removed.values().sum::<u64>();
        self.entries.split_off(&index);
    }

    /// Forgets entries up to and including `index` (a purge).
    fn remove_upto(&mut self, index: u64) {
        let kept = self.sizes.split_off(&(index.saturating_add(1)));
        let removed = std::mem::replace(&mut self.sizes, kept);
        self.bytes -= removed.values().sum::<u64>();
        let kept = self.entries.split_off(&(index.saturating_add(1)));
        self.entries = kept;
    }

    fn get(&self, log_id: &LogId) -> Option<Entry> {
        self.entries
            .get(&log_id.index)
            .filter(|entry| entry.log_id == *log_id)
            .cloned()
    }
}

struct LogShared {
    dir: PathBuf,
    state: Mutex<LogFile>,
    poisoned: AtomicBool,
    stats: Arc<LogStats>,
}

enum SyncRequest {
    Flushed(LogFlushed<TypeConfig>),
    Notify(oneshot::Sender<io::Result<()>>),
    Shutdown,
}

/// The raft log store. Clones share one file, one index and one sync thread; the reader
/// handed to openraft is a clone.
#[derive(Clone)]
pub struct LogStore {
    shared: Arc<LogShared>,
    sync_tx: mpsc::Sender<SyncRequest>,
}

/// The owner of the sync thread: `RaftStorage` keeps it and joins the thread on shutdown.
pub struct LogOwner {
    sync_tx: mpsc::Sender<SyncRequest>,
    join: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl LogOwner {
    /// Stops the sync thread after it answers everything queued before, and waits for it.
    pub async fn shutdown(&self) {
        // A send error means the thread already stopped, which is what we want.
        let _ = self.sync_tx.send(SyncRequest::Shutdown).await;
        let join = lock(&self.join).take();
        if let Some(join) = join {
            let _ = tokio::task::spawn_blocking(move || join.join()).await;
        }
    }
}

impl LogStore {
    /// Opens (or creates) the log in `dir`, replaying it, and starts the sync thread.
    pub fn open(dir: &Path, stats: Arc<LogStats>) -> Result<(LogStore, LogOwner), StorageError> {
        std::fs::create_dir_all(dir)?;
        let log_file = replay_or_create(dir)?;
        if let Some(committed) = &log_file.committed {
            stats
                .committed_index
                .store(committed.index, Ordering::Relaxed);
        }
        let garbage = log_file.garbage_records;
        let shared = Arc::new(LogShared {
            dir: dir.to_path_buf(),
            state: Mutex::new(log_file),
            poisoned: AtomicBool::new(false),
            stats,
        });
        if garbage > LOG_GARBAGE_RECORDS_MAX {
            let mut state = lock(&shared.state);
            compact(&shared.dir, &mut state)?;
        }
        let (sync_tx, sync_rx) = mpsc::channel(WRITE_QUEUE_DEPTH_MAX);
        let thread_shared = Arc::clone(&shared);
        let join = std::thread::Builder::new()
            .name("tresor-raft-log-sync".into())
            .spawn(move || sync_loop(thread_shared, sync_rx))?;
        let owner = LogOwner {
            sync_tx: sync_tx.clone(),
            join: Mutex::new(Some(join)),
        };
        Ok((LogStore { shared, sync_tx }, owner))
    }

    fn check_usable(&self) -> Result<(), StorageError> {
        if self.shared.poisoned.load(Ordering::Acquire) {
            return Err(StorageError::Other(
                "the raft log had a failed write or sync and refuses further use".into(),
            ));
        }
        Ok(())
    }

    /// Writes frames at the end of the file. A failed write poisons the store.
    fn write_frames(&self, state: &mut LogFile, frames: &[u8]) -> Result<u64, StorageError> {
        self.check_usable()?;
        let offset = state.end;
        if let Err(error) = (&*state.file).write_all(frames) {
            self.shared.poisoned.store(true, Ordering::Release);
            tracing::error!(%error, "raft log write failed; the log is now unusable");
            return Err(error.into());
        }
        state.end += frames.len() as u64;
        Ok(offset)
    }

    async fn wait_for_sync(&self) -> Result<(), StorageError> {
        let (tx, rx) = oneshot::channel();
        self.sync_tx
            .send(SyncRequest::Notify(tx))
            .await
            .map_err(|_| StorageError::Unavailable("the raft log is shut down".into()))?;
        match rx.await {
            Ok(result) => result.map_err(StorageError::from),
            Err(_) => Err(StorageError::Unavailable(
                "the raft log is shut down".into(),
            )),
        }
    }

    fn append_entries(&self, entries: Vec<Entry>) -> Result<(), StorageError> {
        let mut frames = Vec::new();
        let mut located = Vec::with_capacity(entries.len());
        for entry in entries {
            let start = frames.len() as u64;
            let log_id = entry.log_id;
            let record = Record::Entry(entry);
            encode_frame(&record, &mut frames)?;
            let len = frames.len() as u64 - start;
            let Record::Entry(entry) = record else {
                continue;
            };
            located.push((log_id, start, len as u32, entry));
        }
        let mut state = lock(&self.shared.state);
        let base = self.write_frames(&mut state, &frames)?;
        for (log_id, start, len, entry) in located {
            state.tail.insert(entry, u64::from(len));
            let replaced = state.entries.insert(
                log_id.index,
                Located {
                    log_id,
                    offset: base + start,
                    len,
                },
            );
            if replaced.is_some() {
                state.garbage_records += 1;
            }
        }
        Ok(())
    }

    fn read_entries(&self, start: Bound<u64>, end: Bound<u64>) -> Result<Vec<Entry>, StorageError> {
        let state = lock(&self.shared.state);
        let mut entries = Vec::new();
        for located in state.entries.range((start, end)).map(|(_, l)| *l) {
            if let Some(entry) = state.tail.get(&located.log_id) {
                entries.push(entry);
                continue;
            }
            let mut buf = vec![0u8; located.len as usize];
            state.file.read_exact_at(&mut buf, located.offset)?;
            let record = decode_whole_frame(&buf, located.offset)?;
            match record {
                Record::Entry(entry) if entry.log_id == located.log_id => entries.push(entry),
                _ => {
                    return Err(StorageError::Corrupt(format!(
                        "raft log record at offset {} is not entry {}",
                        located.offset, located.log_id
                    )));
                }
            }
        }
        Ok(entries)
    }

    fn write_record(&self, record: &Record) -> Result<(), StorageError> {
        let mut frames = Vec::new();
        encode_frame(record, &mut frames)?;
        let mut state = lock(&self.shared.state);
        self.write_frames(&mut state, &frames)?;
        apply_record_to_state(&mut state, record_without_entry(record));
        Ok(())
    }
}

/// The part of a record that changes the in-memory state (entries are indexed by the caller).
enum StateChange<'a> {
    Truncate(u64),
    Purge(&'a LogId),
    Vote(&'a Vote),
    Committed(&'a Option<LogId>),
    None,
}

fn record_without_entry(record: &Record) -> StateChange<'_> {
    match record {
        Record::Truncate { since } => StateChange::Truncate(*since),
        Record::Purge { upto } => StateChange::Purge(upto),
        Record::Vote(vote) => StateChange::Vote(vote),
        Record::Committed(committed) => StateChange::Committed(committed),
        Record::Entry(_) => StateChange::None,
    }
}

fn apply_record_to_state(state: &mut LogFile, change: StateChange<'_>) {
    match change {
        StateChange::Truncate(since) => {
            state.tail.remove_from(since);
            let removed = state.entries.split_off(&since);
            state.garbage_records += removed.len() as u64 + 1;
        }
        StateChange::Purge(upto) => {
            state.tail.remove_upto(upto.index);
            let kept = state.entries.split_off(&(upto.index + 1));
            let removed = std::mem::replace(&mut state.entries, kept);
            state.garbage_records += removed.len() as u64 + 1;
            if state.last_purged.as_ref().is_none_or(|p| p < upto) {
                state.last_purged = Some(*upto);
            }
        }
        StateChange::Vote(vote) => {
            state.garbage_records += u64::from(state.vote.is_some());
            state.vote = Some(*vote);
        }
        StateChange::Committed(committed) => {
            state.garbage_records += u64::from(state.committed.is_some());
            state.committed = *committed;
        }
        StateChange::None => {}
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded state is only changed after the I/O it describes succeeded, so a panic
    // elsewhere while holding the lock cannot leave it half-updated.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn encode_frame(record: &Record, out: &mut Vec<u8>) -> Result<(), StorageError> {
    // The payload is encoded in place after room for the header, which is filled in after:
    // one copy of an entry's values fewer than encoding to a separate buffer.
    let start = out.len();
    out.resize(start + FRAME_HEADER_BYTES, 0);
    let encoded = std::mem::take(out);
    let mut encoded = postcard::to_extend(record, encoded)
        .map_err(|e| StorageError::Other(format!("cannot encode raft log record: {e}")))?;
    let payload_len = encoded.len() - start - FRAME_HEADER_BYTES;
    if payload_len > LOG_RECORD_BYTES_MAX {
        encoded.truncate(start);
        *out = encoded;
        return Err(StorageError::Refused(format!(
            "raft log record of {payload_len} bytes exceeds the maximum of {LOG_RECORD_BYTES_MAX}"
        )));
    }
    let len = (payload_len as u32).to_le_bytes();
    let payload_crc = crc32fast::hash(&encoded[start + FRAME_HEADER_BYTES..]).to_le_bytes();
    encoded[start..start + 4].copy_from_slice(&len);
    encoded[start + 4..start + 8].copy_from_slice(&crc32fast::hash(&len).to_le_bytes());
    encoded[start + 8..start + 12].copy_from_slice(&payload_crc);
    *out = encoded;
    Ok(())
}

/// Decodes one frame that must fill `buf` exactly.
fn decode_whole_frame(buf: &[u8], offset: u64) -> Result<Record, StorageError> {
    match parse_frame(buf) {
        FrameParse::Ok { record, frame_len } if frame_len == buf.len() => Ok(record),
        _ => Err(StorageError::Corrupt(format!(
            "raft log frame at offset {offset} failed its checksum"
        ))),
    }
}

enum FrameParse {
    Ok {
        record: Record,
        frame_len: usize,
    },
    /// Fewer bytes remain than the frame needs.
    Incomplete,
    BadHeader,
    BadPayload {
        frame_len: usize,
    },
    Undecodable(String),
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(bytes)
}

fn parse_frame(buf: &[u8]) -> FrameParse {
    if buf.len() < FRAME_HEADER_BYTES {
        return FrameParse::Incomplete;
    }
    let len = read_u32(buf, 0);
    if crc32fast::hash(&buf[0..4]) != read_u32(buf, 4) || len as usize > LOG_RECORD_BYTES_MAX {
        return FrameParse::BadHeader;
    }
    let frame_len = FRAME_HEADER_BYTES + len as usize;
    if buf.len() < frame_len {
        return FrameParse::Incomplete;
    }
    let payload = &buf[FRAME_HEADER_BYTES..frame_len];
    if crc32fast::hash(payload) != read_u32(buf, 8) {
        return FrameParse::BadPayload { frame_len };
    }
    match postcard::from_bytes::<Record>(payload) {
        Ok(record) => FrameParse::Ok { record, frame_len },
        Err(e) => FrameParse::Undecodable(e.to_string()),
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).append(true).open(path)
}

/// Takes an exclusive advisory lock so two processes never write one log.
fn lock_file(file: &File) -> Result<(), StorageError> {
    use std::os::fd::AsRawFd;
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_millis(crate::limits::OPEN_LOCK_WAIT_MS);
    loop {
        // SAFETY: flock on a valid, owned descriptor has no memory effects.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::WouldBlock || std::time::Instant::now() >= deadline {
            return Err(StorageError::Unavailable(format!(
                "the raft log is in use by another store: {error}"
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn create_log(dir: &Path) -> Result<File, StorageError> {
    let path = dir.join(LOG_FILE);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    file.write_all(LOG_MAGIC)?;
    file.sync_all()?;
    sync_dir(dir)?;
    drop(file);
    Ok(open_append(&path)?)
}

fn empty_state(file: File) -> LogFile {
    LogFile {
        file: Arc::new(file),
        end: LOG_MAGIC.len() as u64,
        entries: BTreeMap::new(),
        vote: None,
        committed: None,
        last_purged: None,
        garbage_records: 0,
        tail: TailCache::default(),
    }
}

fn replay_or_create(dir: &Path) -> Result<LogFile, StorageError> {
    let path = dir.join(LOG_FILE);
    // A compaction that crashed before its rename leaves a temporary file: the old log is
    // still complete, so the temporary one is dropped.
    let _ = std::fs::remove_file(dir.join(LOG_COMPACT_FILE));
    let file = match open_append(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let file = create_log(dir)?;
            lock_file(&file)?;
            return Ok(empty_state(file));
        }
        Err(e) => return Err(e.into()),
    };
    lock_file(&file)?;
    let mut bytes = Vec::new();
    (&file).read_to_end(&mut bytes)?;
    if bytes.len() < LOG_MAGIC.len() && LOG_MAGIC.starts_with(&bytes) {
        // Creation was cut short before the magic reached the disk: nothing was ever logged.
        drop(file);
        let file = create_log(dir)?;
        lock_file(&file)?;
        return Ok(empty_state(file));
    }
    if !bytes.starts_with(LOG_MAGIC) {
        return Err(StorageError::Corrupt(
            "raft log file has an unknown header".into(),
        ));
    }
    let mut state = empty_state(file);
    let valid_end = replay_frames(&bytes, &mut state)?;
    if valid_end < bytes.len() {
        tracing::warn!(
            torn_bytes = bytes.len() - valid_end,
            offset = valid_end,
            "raft log ends in a torn write; cutting it off"
        );
        state.file.set_len(valid_end as u64)?;
        state.file.sync_all()?;
    }
    state.end = valid_end as u64;
    Ok(state)
}

/// Replays every frame after the magic. Returns where valid data ends.
fn replay_frames(bytes: &[u8], state: &mut LogFile) -> Result<usize, StorageError> {
    let mut at = LOG_MAGIC.len();
    while at < bytes.len() {
        let rest = &bytes[at..];
        let (record, frame_len) = match parse_frame(rest) {
            FrameParse::Ok { record, frame_len } => (record, frame_len),
            FrameParse::Incomplete => return Ok(at),
            FrameParse::BadHeader if is_zero(rest) => return Ok(at),
            FrameParse::BadPayload { frame_len } if is_zero(&rest[frame_len..]) => return Ok(at),
            FrameParse::BadHeader | FrameParse::BadPayload { .. } => {
                return Err(StorageError::Corrupt(format!(
                    "raft log frame at offset {at} failed its checksum"
                )));
            }
            FrameParse::Undecodable(reason) => {
                return Err(StorageError::Corrupt(format!(
                    "raft log record at offset {at} cannot be decoded: {reason}"
                )));
            }
        };
        match &record {
            Record::Entry(entry) => {
                let replaced = state.entries.insert(
                    entry.log_id.index,
                    Located {
                        log_id: entry.log_id,
                        offset: at as u64,
                        len: frame_len as u32,
                    },
                );
                state.garbage_records += u64::from(replaced.is_some());
            }
            other => apply_record_to_state(state, record_without_entry(other)),
        }
        at += frame_len;
    }
    Ok(at)
}

fn is_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0)
}

/// Rewrites the log with only its live records; see the module comment.
fn compact(dir: &Path, state: &mut LogFile) -> Result<(), StorageError> {
    let tmp_path = dir.join(LOG_COMPACT_FILE);
    let mut out = Vec::new();
    out.extend_from_slice(LOG_MAGIC);
    if let Some(vote) = &state.vote {
        encode_frame(&Record::Vote(*vote), &mut out)?;
    }
    if let Some(upto) = &state.last_purged {
        encode_frame(&Record::Purge { upto: *upto }, &mut out)?;
    }
    if state.committed.is_some() {
        encode_frame(&Record::Committed(state.committed), &mut out)?;
    }
    let mut entries = BTreeMap::new();
    for (index, located) in &state.entries {
        let mut buf = vec![0u8; located.len as usize];
        state.file.read_exact_at(&mut buf, located.offset)?;
        // Verify before copying: compaction must not launder a corrupt frame into a new file.
        decode_whole_frame(&buf, located.offset)?;
        let offset = out.len() as u64;
        out.extend_from_slice(&buf);
        entries.insert(*index, Located { offset, ..*located });
    }
    {
        let mut tmp = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)?;
        tmp.write_all(&out)?;
        tmp.sync_all()?;
    }
    std::fs::rename(&tmp_path, dir.join(LOG_FILE))?;
    sync_dir(dir)?;
    let file = open_append(&dir.join(LOG_FILE))?;
    lock_file(&file)?;
    tracing::info!(
        live_entries = entries.len(),
        dropped_records = state.garbage_records,
        "raft log compacted"
    );
    state.file = Arc::new(file);
    state.end = out.len() as u64;
    state.entries = entries;
    state.garbage_records = 0;
    Ok(())
}

/// The sync thread's loop; it runs until `Shutdown` or until every sender is gone.
fn sync_loop(shared: Arc<LogShared>, mut rx: mpsc::Receiver<SyncRequest>) {
    let mut batch = Vec::with_capacity(GROUP_COMMIT_REQUESTS_MAX);
    loop {
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        let mut stop = matches!(first, SyncRequest::Shutdown);
        batch.push(first);
        while batch.len() < GROUP_COMMIT_REQUESTS_MAX {
            match rx.try_recv() {
                Ok(request) => {
                    stop |= matches!(request, SyncRequest::Shutdown);
                    batch.push(request);
                }
                Err(_) => break,
            }
        }
        let file = Arc::clone(&lock(&shared.state).file);
        let result = if shared.poisoned.load(Ordering::Acquire) {
            Err(io::Error::other("the raft log had a failed write or sync"))
        } else {
            file.sync_data()
        };
        shared.stats.log_syncs.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = &result {
            shared.poisoned.store(true, Ordering::Release);
            tracing::error!(%error, "raft log fdatasync failed; the log is now unusable");
        }
        for request in batch.drain(..) {
            let outcome = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            match request {
                SyncRequest::Flushed(callback) => callback.log_io_completed(outcome),
                SyncRequest::Notify(tx) => {
                    // The waiter may have given up; nothing to tell then.
                    let _ = tx.send(outcome);
                }
                SyncRequest::Shutdown => {}
            }
        }
        if stop {
            return;
        }
    }
}

fn log_read_error(error: &StorageError) -> RaftError {
    io_error(ErrorSubject::Logs, ErrorVerb::Read, error)
}

fn log_write_error(error: &StorageError) -> RaftError {
    io_error(ErrorSubject::Logs, ErrorVerb::Write, error)
}

impl LogStore {
    /// The id of the last entry in the log (written, maybe not yet synced), or of the last
    /// purged one when the log is empty: what openraft compares in a vote.
    pub(crate) fn last_log_id(&self) -> Option<LogId> {
        lock(&self.shared.state).last_log_id()
    }
}

impl LogFile {
    fn last_log_id(&self) -> Option<LogId> {
        self.entries
            .values()
            .next_back()
            .map(|located| located.log_id)
            .or(self.last_purged)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, RaftError> {
        self.read_entries(range.start_bound().cloned(), range.end_bound().cloned())
            .map_err(|e| log_read_error(&e))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, RaftError> {
        let state = lock(&self.shared.state);
        Ok(LogState {
            last_purged_log_id: state.last_purged,
            last_log_id: state.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), RaftError> {
        let result = match self.write_record(&Record::Vote(*vote)) {
            Ok(()) => self.wait_for_sync().await,
            Err(e) => Err(e),
        };
        result.map_err(|e| io_error(ErrorSubject::Vote, ErrorVerb::Write, &e))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, RaftError> {
        Ok(lock(&self.shared.state).vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), RaftError> {
        self.write_record(&Record::Committed(committed))
            .map_err(|e| log_write_error(&e))?;
        if let Some(committed) = &committed {
            self.shared
                .stats
                .committed_index
                .store(committed.index, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, RaftError> {
        Ok(lock(&self.shared.state).committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), RaftError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        self.append_entries(entries)
            .map_err(|e| log_write_error(&e))?;
        if self
            .sync_tx
            .send(SyncRequest::Flushed(callback))
            .await
            .is_err()
        {
            let error = StorageError::Unavailable("the raft log is shut down".into());
            return Err(log_write_error(&error));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), RaftError> {
        tracing::debug!(since = log_id.index, "raft log truncate");
        self.write_record(&Record::Truncate {
            since: log_id.index,
        })
        .map_err(|e| log_write_error(&e))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), RaftError> {
        tracing::debug!(upto = log_id.index, "raft log purge");
        self.write_record(&Record::Purge { upto: log_id })
            .map_err(|e| log_write_error(&e))?;
        let mut state = lock(&self.shared.state);
        if state.garbage_records <= LOG_GARBAGE_RECORDS_MAX {
            return Ok(());
        }
        if let Err(e) = compact(&self.shared.dir, &mut state) {
            // The old file is intact, but the in-memory offsets may no longer match the file
            // that `log` names, so stop using this store.
            self.shared.poisoned.store(true, Ordering::Release);
            return Err(log_write_error(&e));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn log_path(dir: &Path) -> PathBuf {
        dir.join(LOG_FILE)
    }

    fn entry(term: u64, index: u64) -> Entry {
        Entry {
            log_id: openraft::LogId::new(openraft::CommittedLeaderId::new(term, 1), index),
            payload: openraft::EntryPayload::Normal(crate::types::Request {
                operations: vec![crate::Operation::Put {
                    key: format!("k{index}"),
                    value: vec![index as u8; 100],
                }],
            }),
        }
    }

    #[test]
    fn tail_cache_is_bounded_and_follows_truncate_and_purge() {
        let mut tail = TailCache::default();
        let frame = LOG_TAIL_CACHE_BYTES / 4;
        for index in 1..=6 {
            tail.insert(entry(1, index), frame);
        }
        assert!(tail.bytes <= LOG_TAIL_CACHE_BYTES);
        assert_eq!(
            tail.entries.keys().copied().collect::<Vec<_>>(),
            [3, 4, 5, 6]
        );
        // Another term's entry at the same index is not this one.
        assert!(tail.get(&entry(2, 5).log_id).is_none());
        assert!(tail.get(&entry(1, 5).log_id).is_some());
        tail.remove_from(5);
        tail.remove_upto(3);
        assert_eq!(tail.entries.keys().copied().collect::<Vec<_>>(), [4]);
        assert_eq!(tail.bytes, frame);
        tail.insert(entry(2, 4), frame);
        assert_eq!(
            tail.get(&entry(2, 4).log_id).map(|e| e.log_id.index),
            Some(4)
        );
        assert_eq!(tail.bytes, frame);
    }

    fn open(dir: &Path) -> Result<(LogStore, LogOwner), StorageError> {
        LogStore::open(dir, Arc::new(LogStats::default()))
    }

    async fn write_entries(dir: &Path, n: u64) {
        let (store, owner) = open(dir).expect("open");
        store
            .append_entries((1..=n).map(|i| entry(1, i)).collect())
            .expect("append");
        store.wait_for_sync().await.expect("sync");
        drop(store);
        owner.shutdown().await;
    }

    #[tokio::test]
    async fn log_torn_tail_is_cut_and_earlier_records_survive() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_entries(dir.path(), 5).await;
        let path = log_path(dir.path());
        let len = std::fs::metadata(&path).expect("metadata").len();
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open file");
        file.set_len(len - 30).expect("truncate");
        drop(file);
        let (store, owner) = open(dir.path()).expect("reopen after torn tail");
        let entries = store
            .read_entries(Bound::Unbounded, Bound::Unbounded)
            .expect("read");
        assert_eq!(
            entries.iter().map(|e| e.log_id.index).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        // The cut file accepts new appends that survive another reopen.
        store
            .append_entries(vec![entry(1, 5)])
            .expect("append after cut");
        store.wait_for_sync().await.expect("sync");
        drop(store);
        owner.shutdown().await;
        let (store, owner) = open(dir.path()).expect("reopen");
        assert_eq!(
            store
                .read_entries(Bound::Unbounded, Bound::Unbounded)
                .expect("read")
                .len(),
            5
        );
        drop(store);
        owner.shutdown().await;
    }

    #[tokio::test]
    async fn log_zero_filled_tail_is_torn_not_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_entries(dir.path(), 3).await;
        let mut file = OpenOptions::new()
            .append(true)
            .open(log_path(dir.path()))
            .expect("open");
        file.write_all(&[0u8; 4096]).expect("zeros");
        drop(file);
        let (store, owner) = open(dir.path()).expect("reopen");
        assert_eq!(
            store
                .read_entries(Bound::Unbounded, Bound::Unbounded)
                .expect("read")
                .len(),
            3
        );
        drop(store);
        owner.shutdown().await;
    }

    #[tokio::test]
    async fn log_corrupt_byte_mid_file_is_corrupt_error() {
        for target in [LOG_MAGIC.len() + 2, LOG_MAGIC.len() + 40] {
            let dir = tempfile::tempdir().expect("tempdir");
            write_entries(dir.path(), 5).await;
            let path = log_path(dir.path());
            let mut bytes = std::fs::read(&path).expect("read");
            bytes[target] ^= 0x40;
            std::fs::write(&path, &bytes).expect("write");
            match open(dir.path()) {
                Err(StorageError::Corrupt(_)) => {}
                Err(other) => panic!("expected Corrupt, got {other}"),
                Ok(_) => panic!("expected Corrupt, the store opened"),
            }
        }
    }

    #[tokio::test]
    async fn log_truncate_purge_and_compaction_replay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut store, owner) = open(dir.path()).expect("open");
        store
            .append_entries((1..=10).map(|i| entry(1, i)).collect())
            .expect("append");
        store.truncate(entry(1, 8).log_id).await.expect("truncate");
        store.append_entries(vec![entry(2, 8)]).expect("append");
        store.purge(entry(1, 3).log_id).await.expect("purge");
        {
            let mut state = lock(&store.shared.state);
            compact(dir.path(), &mut state).expect("compact");
        }
        store
            .save_vote(&openraft::Vote::new(2, 1))
            .await
            .expect("vote");
        drop(store);
        owner.shutdown().await;
        let (mut store, owner) = open(dir.path()).expect("reopen");
        let entries = store
            .read_entries(Bound::Unbounded, Bound::Unbounded)
            .expect("read");
        let ids: Vec<_> = entries
            .iter()
            .map(|e| (e.log_id.leader_id.term, e.log_id.index))
            .collect();
        assert_eq!(ids, vec![(1, 4), (1, 5), (1, 6), (1, 7), (2, 8)]);
        let state = store.get_log_state().await.expect("state");
        assert_eq!(state.last_purged_log_id.map(|l| l.index), Some(3));
        assert_eq!(
            store.read_vote().await.expect("vote"),
            Some(openraft::Vote::new(2, 1))
        );
        drop(store);
        owner.shutdown().await;
    }
}
