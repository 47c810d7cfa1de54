//! The load phase: `concurrency` workers, each with its own connection, send requests back
//! to back (closed loop, no think time) through the warmup and then the measured window.
//!
//! A request belongs to the measured window when it *starts* inside it; the window's length
//! is from its start to the last completion of such a request, so throughput is exact even
//! when `--max-requests` ends the run early.

use super::conn::{Conn, Target};
use super::limits::{
    CONSECUTIVE_TRANSPORT_ERRORS_MAX, RECONNECT_BACKOFF_MS, WORKER_ITERATIONS_MAX,
};
use super::workload::{Plan, cut, describe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The timing of one run.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub measure_start: Instant,
    pub measure_end: Instant,
    pub max_requests: u64,
}

/// What one worker saw in the measured window.
#[derive(Debug, Default)]
pub struct WorkerResult {
    /// Latency of each successful (2xx) measured request, in microseconds.
    pub latencies_us: Vec<u32>,
    pub requests: u64,
    /// Non-2xx answers plus transport failures.
    pub errors: u64,
    pub first_error: Option<String>,
    /// Completion of the worker's last measured request.
    pub last_completion: Option<Instant>,
    /// Connections opened, including the first; more than one means the server closed ours.
    pub connections_opened: u64,
    /// Set when the worker stopped early because the server stopped answering.
    pub gave_up: Option<String>,
}

/// All workers' results, merged.
#[derive(Debug, Default)]
pub struct RunResult {
    pub latencies_us: Vec<u32>,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub connections_opened: u64,
    pub gave_up: Vec<String>,
}

/// Runs the load with already-open connections (one per worker) and waits for all workers.
pub async fn run(
    plan: Arc<Plan>,
    target: Arc<Target>,
    conns: Vec<Conn>,
    schedule: Schedule,
) -> RunResult {
    let concurrency = conns.len() as u64;
    let issued = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::with_capacity(conns.len());
    for (worker, conn) in conns.into_iter().enumerate() {
        let plan = Arc::clone(&plan);
        let target = Arc::clone(&target);
        let issued = Arc::clone(&issued);
        workers.push(tokio::spawn(async move {
            work(
                &plan,
                &target,
                conn,
                worker as u64,
                concurrency,
                schedule,
                &issued,
            )
            .await
        }));
    }
    let mut merged = RunResult::default();
    let mut last = schedule.measure_start;
    for (worker, handle) in workers.into_iter().enumerate() {
        let result = match handle.await {
            Ok(result) => result,
            Err(error) => {
                merged
                    .gave_up
                    .push(format!("worker {worker} panicked: {error}"));
                continue;
            }
        };
        merged.requests += result.requests;
        merged.errors += result.errors;
        merged.connections_opened += result.connections_opened;
        if merged.first_error.is_none() {
            merged.first_error = result.first_error;
        }
        if let Some(reason) = result.gave_up {
            merged.gave_up.push(format!("worker {worker}: {reason}"));
        }
        if let Some(at) = result.last_completion {
            last = last.max(at);
        }
        merged.latencies_us.extend_from_slice(&result.latencies_us);
    }
    merged.elapsed = last.saturating_duration_since(schedule.measure_start);
    merged
}

/// One worker: key `worker`, then `worker + concurrency`, … so workers never collide on a key
/// in the same round. Bounded by the window's end, `max_requests` and `WORKER_ITERATIONS_MAX`.
async fn work(
    plan: &Plan,
    target: &Target,
    conn: Conn,
    worker: u64,
    concurrency: u64,
    schedule: Schedule,
    issued: &AtomicU64,
) -> WorkerResult {
    let mut result = WorkerResult {
        connections_opened: 1,
        ..WorkerResult::default()
    };
    let mut conn = Some(conn);
    let mut consecutive_transport_errors = 0u32;
    for iteration in 0..WORKER_ITERATIONS_MAX {
        let now = Instant::now();
        if now >= schedule.measure_end {
            break;
        }
        let measured = now >= schedule.measure_start;
        if measured && issued.fetch_add(1, Ordering::Relaxed) >= schedule.max_requests {
            break;
        }
        let current = match conn.as_mut() {
            Some(current) => current,
            None => match Conn::open(target).await {
                Ok(opened) => {
                    result.connections_opened += 1;
                    conn.insert(opened)
                }
                Err(error) => {
                    consecutive_transport_errors += 1;
                    if measured {
                        result.requests += 1;
                        record_error(&mut result, format!("transport: {}", cut(&error)));
                    }
                    if consecutive_transport_errors >= CONSECUTIVE_TRANSPORT_ERRORS_MAX {
                        result.gave_up = Some(format!(
                            "{consecutive_transport_errors} transport errors in a row, last: {error}"
                        ));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(RECONNECT_BACKOFF_MS)).await;
                    continue;
                }
            },
        };
        let call = plan.call(worker + iteration * concurrency);
        let started = Instant::now();
        let outcome = current
            .send(target, call.method, &call.path, call.body)
            .await;
        let finished = Instant::now();
        if measured {
            result.requests += 1;
            result.last_completion = Some(finished);
        }
        match outcome {
            Ok(response) => {
                consecutive_transport_errors = 0;
                if !measured {
                    continue;
                }
                if response.is_success() {
                    let micros = finished.duration_since(started).as_micros();
                    result
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                } else {
                    record_error(
                        &mut result,
                        format!(
                            "{} {}: {}",
                            plan.workload.name(),
                            call.path,
                            describe(&response)
                        ),
                    );
                }
            }
            Err(error) => {
                conn = None;
                consecutive_transport_errors += 1;
                if measured {
                    record_error(&mut result, format!("transport: {}", cut(&error)));
                }
                if consecutive_transport_errors >= CONSECUTIVE_TRANSPORT_ERRORS_MAX {
                    result.gave_up = Some(format!(
                        "{consecutive_transport_errors} transport errors in a row, last: {error}"
                    ));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(RECONNECT_BACKOFF_MS)).await;
            }
        }
    }
    result
}

fn record_error(result: &mut WorkerResult, message: String) {
    result.errors += 1;
    if result.first_error.is_none() {
        result.first_error = Some(message);
    }
}
