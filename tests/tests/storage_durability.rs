//! Goal: no acknowledged write is lost when the storage process is killed with SIGKILL.
//!
//! Method: for 20 rounds on one data directory, start `storage_writer` (16 concurrent
//! writers), collect the keys it prints after each acknowledged put, SIGKILL it after a
//! pseudo-random number of acks or time, then open the store in this process, initialise it
//! (which recovers the log and the state machine) and check that every key acknowledged in
//! any round so far reads back with its exact value. Every loop is bounded in count and time.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tresor_storage::{RaftConfig, RaftStorage, Storage};

const ROUNDS: u64 = 20;
const ROUND_DEADLINE: Duration = Duration::from_secs(30);

fn value_for(key: &str) -> Vec<u8> {
    format!("value-of:{key}:{}", key.len() * 31).into_bytes()
}

/// A small deterministic generator, so a failing round can be replayed.
fn next_random(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// Runs the writer once and returns the keys it acknowledged before it was killed.
fn run_writer_and_kill(dir: &std::path::Path, round: u64, random: &mut u64) -> Vec<String> {
    let acks_wanted = 100 + next_random(random) % 500;
    let run_for = Duration::from_millis(300 + next_random(random) % 500);
    let mut child = Command::new(env!("CARGO_BIN_EXE_storage_writer"))
        .arg(dir)
        .arg(format!("r{round}/"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn storage_writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut acked = Vec::new();
    let started = Instant::now();
    let mut first_ack: Option<Instant> = None;
    while started.elapsed() < ROUND_DEADLINE {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(key) => {
                first_ack.get_or_insert_with(Instant::now);
                acked.push(key);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("round {round}: writer exited early")
            }
        }
        let enough_time = first_ack.is_some_and(|t| t.elapsed() >= run_for);
        if acked.len() as u64 >= acks_wanted || enough_time {
            break;
        }
    }
    assert!(
        !acked.is_empty(),
        "round {round}: no write acknowledged within {ROUND_DEADLINE:?}"
    );
    let pid = i32::try_from(child.id()).expect("pid fits i32");
    // SAFETY: kill(2) on the PID of the child this test spawned and has not yet reaped.
    let rc = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill storage_writer");
    child.wait().expect("wait for storage_writer");
    reader.join().expect("stdout reader");
    // Keys printed after our decision to kill but before the kill landed are acknowledged too.
    acked.extend(rx.try_iter());
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_keeps_every_acknowledged_write_across_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut random = 0x5eed_u64;
    let mut all_acked: BTreeSet<String> = BTreeSet::new();
    for round in 0..ROUNDS {
        let acked = {
            let path = dir.path().to_path_buf();
            let mut round_random = random;
            let acked = tokio::task::spawn_blocking(move || {
                let acked = run_writer_and_kill(&path, round, &mut round_random);
                (acked, round_random)
            })
            .await
            .expect("writer round");
            random = acked.1;
            acked.0
        };
        let acked_this_round = acked.len();
        all_acked.extend(acked);

        let storage = RaftStorage::open(RaftConfig {
            dir: dir.path().to_path_buf(),
            node_id: 1,
            node_name: "verifier".into(),
            cluster_addr: String::new(),
        })
        .await
        .expect("reopen after SIGKILL");
        storage
            .initialize_single_node()
            .await
            .expect("recover leadership");
        for key in &all_acked {
            let value = storage.get(key).await.expect("read acknowledged key");
            assert_eq!(
                value,
                Some(value_for(key)),
                "round {round}: acknowledged key {key} lost or wrong"
            );
        }
        let stats = storage.status();
        eprintln!(
            "round {round}: {acked_this_round} acked this round, {} total verified, applied index {}",
            all_acked.len(),
            stats.applied_index
        );
        storage.shutdown().await.expect("shutdown");
        drop(storage);
    }
}
