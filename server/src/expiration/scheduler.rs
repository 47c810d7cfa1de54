//! The timers: one ordered set of due times and one owned task that fires them. A lease costs
//! an id and two small map entries in memory; its record stays in storage until it fires.

use super::Inner;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// What a timer stands for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimerKey {
    /// A lease, by id; a token's expiry is its lease's.
    Lease(Arc<str>),
}

/// In-memory state; valid only while `running`. Every change bumps nothing but the maps, so a
/// lock is never held across an await.
#[derive(Default)]
pub struct State {
    pub running: bool,
    /// Bumped by every start and stop: a worker of an older generation does nothing.
    pub generation: u64,
    queue: BTreeSet<(i64, TimerKey)>,
    due: HashMap<TimerKey, i64>,
    pub irrevocable: BTreeSet<Arc<str>>,
}

impl State {
    /// Arms or moves the timer of `key`. Nothing is armed while stopped: `start` reloads every
    /// timer from storage.
    pub fn arm(&mut self, key: TimerKey, due_ns: i64) {
        if !self.running {
            return;
        }
        if due_ns == super::entry::NEVER_NS {
            self.disarm(&key);
            return;
        }
        if let Some(previous) = self.due.insert(key.clone(), due_ns) {
            self.queue.remove(&(previous, key.clone()));
        }
        self.queue.insert((due_ns, key));
    }

    pub fn disarm(&mut self, key: &TimerKey) {
        if let Some(previous) = self.due.remove(key) {
            self.queue.remove(&(previous, key.clone()));
        }
    }

    /// Drops every timer (on stop and before a restore).
    pub fn clear(&mut self) {
        self.queue = BTreeSet::new();
        self.due = HashMap::new();
        self.irrevocable = BTreeSet::new();
    }

    #[cfg(test)]
    pub fn armed(&self) -> usize {
        assert_eq!(
            self.queue.len(),
            self.due.len(),
            "timer queue and index agree"
        );
        self.queue.len()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.due.reserve(additional);
    }

    /// Takes up to `limit` timers due at `now_ns`; returns them and the next due time left.
    fn take_due(&mut self, now_ns: i64, limit: usize) -> (Vec<TimerKey>, Option<i64>) {
        let mut fired = Vec::new();
        while fired.len() < limit {
            let Some((due_ns, _)) = self.queue.first() else {
                break;
            };
            if *due_ns > now_ns {
                break;
            }
            let Some((_, key)) = self.queue.pop_first() else {
                break;
            };
            self.due.remove(&key);
            fired.push(key);
        }
        (fired, self.queue.first().map(|(due_ns, _)| *due_ns))
    }
}

/// The scheduler task: runs until `stop` aborts it, which also aborts its workers (the
/// `JoinSet` is dropped with the task). At most `revoke_concurrency` workers run at once;
/// due timers beyond that wait in the queue.
pub async fn run(inner: Arc<Inner>, generation: u64) {
    let concurrency = inner.tuning.revoke_concurrency.max(1);
    let mut workers: JoinSet<()> = JoinSet::new();
    let mut running_keys: HashMap<tokio::task::Id, TimerKey> = HashMap::new();
    loop {
        while let Some(result) = workers.try_join_next_with_id() {
            reap(&inner, &mut running_keys, result);
        }
        let now_ns = inner.now_ns();
        let capacity = concurrency.saturating_sub(workers.len());
        let (fired, next_due_ns) = {
            let mut state = inner.lock_state();
            if state.generation != generation || !state.running {
                return;
            }
            state.take_due(now_ns, capacity)
        };
        let fired_any = !fired.is_empty();
        for key in fired {
            let worker = inner.clone().fire(generation, key.clone());
            let handle = workers.spawn(worker);
            running_keys.insert(handle.id(), key);
        }
        if fired_any {
            continue;
        }
        let sleep_ms_max = inner.tuning.scheduler_sleep_ms_max;
        let sleep = match next_due_ns {
            Some(due_ns) if workers.len() < concurrency => {
                Duration::from_nanos(u64::try_from(due_ns.saturating_sub(now_ns)).unwrap_or(0))
                    .min(Duration::from_millis(sleep_ms_max))
            }
            _ => Duration::from_millis(sleep_ms_max),
        };
        tokio::select! {
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
            Some(result) = workers.join_next_with_id(), if !workers.is_empty() => reap(&inner, &mut running_keys, result),
        }
    }
}

/// A finished worker. One that panicked re-arms its timer after the first backoff step, so a
/// broken backend never loses a lease.
fn reap(
    inner: &Inner,
    running_keys: &mut HashMap<tokio::task::Id, TimerKey>,
    result: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    let (id, panicked) = match result {
        Ok((id, ())) => (id, false),
        Err(error) => (error.id(), error.is_panic()),
    };
    let Some(key) = running_keys.remove(&id) else {
        return;
    };
    if panicked {
        tracing::error!(?key, "lease revocation worker panicked; retrying later");
        let due_ns = inner.now_ns().saturating_add(inner.backoff_ns(1));
        inner.lock_state().arm(key, due_ns);
    }
}
