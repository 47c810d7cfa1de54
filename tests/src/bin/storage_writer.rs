//! Crash-durability helper for `tests/storage_durability.rs`.
//!
//! Usage: `storage_writer <dir> [key-prefix]`. Opens a `RaftStorage` at `dir`, initialises it
//! as a single node, then runs 16 writer tasks that put distinct keys
//! `{prefix}w{writer}/{n}` with the value `value_for(key)` (the test derives it the same way). After each put
//! returns, the key is printed on its own line and stdout is flushed: a printed key is an
//! acknowledged write. It runs until killed, or stops by itself after 60 s.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_storage::{RaftConfig, RaftStorage, Storage};

const WRITERS: usize = 16;
const RUN_TIME_MAX: Duration = Duration::from_secs(60);
const KEYS_PER_WRITER_MAX: usize = 1_000_000;

/// The value written under `key`; the test checks it byte for byte.
fn value_for(key: &str) -> Vec<u8> {
    format!("value-of:{key}:{}", key.len() * 31).into_bytes()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: storage_writer <dir> [key-prefix]")?;
    let prefix = args.next().unwrap_or_default();
    let storage = RaftStorage::open(RaftConfig {
        dir: dir.into(),
        node_id: 1,
        node_name: "writer".into(),
        cluster_addr: String::new(),
    })
    .await?;
    storage.initialize_single_node().await?;
    let deadline = Instant::now() + RUN_TIME_MAX;
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let storage = Arc::clone(&storage);
        let prefix = prefix.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..KEYS_PER_WRITER_MAX {
                if Instant::now() >= deadline {
                    return Ok(());
                }
                let key = format!("{prefix}w{writer}/{n}");
                storage.put(&key, value_for(&key)).await?;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{key}")
                    .and_then(|()| stdout.flush())
                    .map_err(tresor_storage::StorageError::Io)?;
            }
            Ok::<(), tresor_storage::StorageError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    storage.shutdown().await?;
    Ok(())
}
