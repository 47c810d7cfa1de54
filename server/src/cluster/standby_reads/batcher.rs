//! Read-index batching: concurrent readers share one read-index round instead of each
//! paying for its own (on a standby one RPC to the leader, on the leader one heartbeat round
//! to a quorum). This is what makes linearizable standby reads cheap under load.
//!
//! **Why sharing is safe.** A read is linearizable when the index it waits for was chosen
//! after the read began. A reader joins the queue after it began; the driver takes every
//! queued reader *before* it starts a round, so the round's index was chosen after each of
//! them began. A reader that arrives while a round is in flight waits for the next round:
//! the index of the round in flight may have been chosen before that reader began.
//!
//! **Bounds.** The queue holds at most `waiters_max` readers (more are refused at once and
//! forwarded by the caller), at most `rounds_in_flight_max` rounds run at once, each for at
//! most `round_timeout`, and the driver task (owner of the round tasks) lives as long as
//! the batcher, which aborts it on drop.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;

/// Where a round's index comes from.
#[async_trait]
pub trait ReadIndexSource: Send + Sync + 'static {
    async fn read_index(&self) -> Result<u64, String>;
}

type Waiter = oneshot::Sender<Result<u64, String>>;

/// Shares read-index rounds between concurrent readers (see the module comment).
pub struct ReadIndexBatcher {
    waiters: mpsc::Sender<Waiter>,
    driver: tokio::task::JoinHandle<()>,
    rounds: Arc<AtomicU64>,
}

impl ReadIndexBatcher {
    /// Starts the driver task on the current tokio runtime.
    pub fn start(
        source: Arc<dyn ReadIndexSource>,
        waiters_max: usize,
        rounds_in_flight_max: usize,
        round_timeout: Duration,
    ) -> ReadIndexBatcher {
        assert!(waiters_max > 0, "a batcher needs room for one waiter");
        assert!(
            rounds_in_flight_max > 0,
            "a batcher runs at least one round"
        );
        let (waiters, queue) = mpsc::channel(waiters_max);
        let rounds = Arc::new(AtomicU64::new(0));
        let driver = tokio::spawn(drive(
            source,
            queue,
            Limits {
                waiters_max,
                rounds_in_flight_max,
                round_timeout,
            },
            rounds.clone(),
        ));
        ReadIndexBatcher {
            waiters,
            driver,
            rounds,
        }
    }

    /// The index of the next round that starts after this call: `Err` when the queue is
    /// full or the round failed.
    pub async fn read_index(&self) -> Result<u64, String> {
        let (waiter, answer) = oneshot::channel();
        if let Err(error) = self.waiters.try_send(waiter) {
            return Err(match error {
                mpsc::error::TrySendError::Full(_) => "too many readers waiting for a read index",
                mpsc::error::TrySendError::Closed(_) => "read-index batcher stopped",
            }
            .to_string());
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => Err("read-index round dropped".to_string()),
        }
    }

    /// Rounds run since start (each is one call to the source).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }
}

impl Drop for ReadIndexBatcher {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

struct Limits {
    waiters_max: usize,
    rounds_in_flight_max: usize,
    round_timeout: Duration,
}

/// The driver: one round per batch of queued readers, at most `rounds_in_flight_max` at a
/// time (a reader arriving during a round starts the next one at once while there is
/// room, instead of waiting for the round in flight to end). Runs until the batcher drops;
/// its rounds are tasks of its own `JoinSet`, aborted with it.
async fn drive(
    source: Arc<dyn ReadIndexSource>,
    mut queue: mpsc::Receiver<Waiter>,
    limits: Limits,
    rounds: Arc<AtomicU64>,
) {
    let room = Arc::new(Semaphore::new(limits.rounds_in_flight_max));
    let mut running = JoinSet::new();
    loop {
        while running.try_join_next().is_some() {}
        // Room first, readers second: while every round is in flight, readers gather in
        // the queue and the next round takes them all.
        let Ok(permit) = room.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = queue.recv().await else {
            return;
        };
        // Let the tasks that are ready run first: under load some of them are readers about
        // to queue, and one round for all of them costs the leader one RPC instead of several.
        tokio::task::yield_now().await;
        let mut round = vec![first];
        while round.len() < limits.waiters_max {
            let Ok(waiter) = queue.try_recv() else {
                break;
            };
            round.push(waiter);
        }
        let source = source.clone();
        let rounds = rounds.clone();
        let round_timeout = limits.round_timeout;
        running.spawn(async move {
            // Every reader of `round` was queued before this call: see the module comment.
            let result = match tokio::time::timeout(round_timeout, source.read_index()).await {
                Ok(result) => result,
                Err(_) => Err("read-index round timed out".to_string()),
            };
            rounds.fetch_add(1, Ordering::Relaxed);
            drop(permit);
            for waiter in round {
                // A reader that gave up no longer listens.
                let _ = waiter.send(result.clone());
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Notify;

    /// A source whose rounds block until the test releases them; each answers its own
    /// round number (1, 2, ...), or an error when told to fail.
    struct GatedSource {
        calls: AtomicU64,
        started: Notify,
        release: Semaphore,
        fail: std::sync::atomic::AtomicBool,
    }

    impl Default for GatedSource {
        fn default() -> GatedSource {
            GatedSource {
                calls: AtomicU64::new(0),
                started: Notify::new(),
                release: Semaphore::new(0),
                fail: std::sync::atomic::AtomicBool::new(false),
            }
        }
    }

    #[async_trait]
    impl ReadIndexSource for GatedSource {
        async fn read_index(&self) -> Result<u64, String> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            self.started.notify_one();
            let permit = self.release.acquire().await.map_err(|e| e.to_string())?;
            permit.forget();
            match self.fail.load(Ordering::SeqCst) {
                true => Err("no leader".into()),
                false => Ok(call),
            }
        }
    }

    fn start(
        source: &Arc<GatedSource>,
        waiters_max: usize,
        rounds_in_flight_max: usize,
    ) -> Arc<ReadIndexBatcher> {
        Arc::new(ReadIndexBatcher::start(
            source.clone(),
            waiters_max,
            rounds_in_flight_max,
            Duration::from_secs(10),
        ))
    }

    /// Goal: many concurrent readers share few rounds. Method: 200 readers queue while the
    /// first round is held; releasing rounds answers all of them with two rounds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_readers_share_rounds() {
        let source = Arc::new(GatedSource::default());
        let batcher = start(&source, 1024, 1);
        let first = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.read_index().await }
        });
        source.started.notified().await;
        let mut readers = Vec::new();
        for _ in 0..200 {
            let batcher = batcher.clone();
            readers.push(tokio::spawn(async move { batcher.read_index().await }));
        }
        // Let every reader queue up before the first round ends.
        tokio::time::timeout(Duration::from_secs(10), async {
            while batcher.waiters.capacity() > 1024 - 200 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("readers queued");
        source.release.add_permits(2);
        assert_eq!(first.await.expect("task"), Ok(1));
        for reader in readers {
            assert_eq!(reader.await.expect("task"), Ok(2));
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 2);
        assert_eq!(batcher.rounds(), 2);
    }

    /// Goal: a reader that arrives while a round is in flight never gets that round's index
    /// (it may predate the reader), only a later one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reader_arriving_during_a_round_waits_for_the_next() {
        let source = Arc::new(GatedSource::default());
        let batcher = start(&source, 16, 1);
        let early = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.read_index().await }
        });
        source.started.notified().await;
        let late = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.read_index().await }
        });
        source.release.add_permits(1);
        assert_eq!(early.await.expect("task"), Ok(1));
        source.release.add_permits(1);
        assert_eq!(late.await.expect("task"), Ok(2));
    }

    /// Goal: with room for two rounds, a reader arriving during a round starts the next one
    /// at once, a third waits until a round ends, and each still gets an index chosen after
    /// it queued.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn second_round_starts_while_the_first_is_in_flight() {
        let source = Arc::new(GatedSource::default());
        let batcher = start(&source, 16, 2);
        let spawn_reader = || {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.read_index().await })
        };
        let first = spawn_reader();
        source.started.notified().await;
        let second = spawn_reader();
        source.started.notified().await;
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            2,
            "two rounds in flight"
        );
        let third = spawn_reader();
        tokio::time::timeout(Duration::from_secs(10), async {
            while batcher.waiters.capacity() > 15 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("third reader queued");
        assert_eq!(
            source.calls.load(Ordering::SeqCst),
            2,
            "no room for a third round"
        );
        source.release.add_permits(3);
        assert_eq!(first.await.expect("task"), Ok(1));
        assert_eq!(second.await.expect("task"), Ok(2));
        assert_eq!(third.await.expect("task"), Ok(3));
    }

    /// Goal: the queue is bounded (one past the limit is refused at once, not queued), and a
    /// failed round fails every reader in it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_is_bounded_and_errors_reach_every_reader() {
        let source = Arc::new(GatedSource::default());
        source.fail.store(true, Ordering::SeqCst);
        let waiters_max = 4;
        let batcher = start(&source, waiters_max, 1);
        let in_round = tokio::spawn({
            let batcher = batcher.clone();
            async move { batcher.read_index().await }
        });
        source.started.notified().await;
        let mut queued = Vec::new();
        for _ in 0..waiters_max {
            let batcher = batcher.clone();
            queued.push(tokio::spawn(async move { batcher.read_index().await }));
        }
        tokio::time::timeout(Duration::from_secs(10), async {
            while batcher.waiters.capacity() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("queue full");
        let refused = batcher.read_index().await;
        assert_eq!(
            refused,
            Err("too many readers waiting for a read index".to_string())
        );
        source.release.add_permits(2);
        assert_eq!(in_round.await.expect("task"), Err("no leader".to_string()));
        for reader in queued {
            assert_eq!(reader.await.expect("task"), Err("no leader".to_string()));
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 2);
    }
}
