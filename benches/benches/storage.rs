//! Acknowledged-write throughput of `RaftStorage` (fdatasync'd raft log, group commit) at 1
//! and 16 concurrent writers. Prints fdatasyncs per acknowledged write to stderr.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_storage::{RaftConfig, RaftStorage, Storage};

const VALUE_BYTES: usize = 256;

fn bench_writes(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = runtime.block_on(async {
        let storage = RaftStorage::open(RaftConfig {
            dir: dir.path().to_path_buf(),
            node_id: 1,
            node_name: "bench".into(),
            cluster_addr: String::new(),
        })
        .await
        .expect("open");
        storage.initialize_single_node().await.expect("initialise");
        storage
    });

    let mut group = c.benchmark_group("storage_put");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    for writers in [1usize, 16] {
        let before = storage.durability_stats();
        group.bench_function(format!("{writers}_writers"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(put_concurrently(Arc::clone(&storage), writers, iters))
            })
        });
        let after = storage.durability_stats();
        let writes = after.acknowledged_writes - before.acknowledged_writes;
        let syncs = after.log_syncs - before.log_syncs;
        eprintln!(
            "storage_put/{writers}_writers: {writes} acknowledged writes, {syncs} log syncs, {:.3} syncs per write",
            syncs as f64 / writes.max(1) as f64
        );
    }
    group.finish();
    runtime.block_on(storage.shutdown()).expect("shutdown");
}

/// Puts `iters` keys spread over `writers` tasks; returns the wall time.
async fn put_concurrently(storage: Arc<RaftStorage>, writers: usize, iters: u64) -> Duration {
    let per_writer = iters.div_ceil(writers as u64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for writer in 0..writers {
        let storage = Arc::clone(&storage);
        tasks.push(tokio::spawn(async move {
            for n in 0..per_writer {
                storage
                    .put(&format!("bench/w{writer}/{n}"), vec![7u8; VALUE_BYTES])
                    .await
                    .expect("put");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }
    started.elapsed()
}

criterion_group!(benches, bench_writes);
criterion_main!(benches);
