//! Barrier hot path: AES-256-GCM seal/open of one value with the path as AAD, and a full
//! `put` + `get` through the `Storage` trait over `MemoryStorage`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use tresor_seal::{Barrier, RootKey};
use tresor_storage::{MemoryStorage, Storage};

const VALUE_BYTES: [usize; 2] = [256, 4096];
const PATH: &str = "logical/6f0e3c1a-2b7d-4e55-9d1c-0a4b8f1e2d3c/secret/app/config";

fn barrier(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime");
    let barrier = Barrier::new(Arc::new(MemoryStorage::new()));
    let root_key = RootKey::generate();
    runtime.block_on(async {
        barrier.initialize(&root_key).await.expect("initializes");
        barrier.unseal(&root_key).await.expect("unseals");
    });

    let mut group = c.benchmark_group("barrier");
    for size in VALUE_BYTES {
        let plaintext = vec![0x5a_u8; size];
        let sealed = barrier.encrypt_value(PATH, &plaintext).expect("encrypts");
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("encrypt", size),
            &plaintext,
            |b, plaintext| b.iter(|| barrier.encrypt_value(black_box(PATH), black_box(plaintext))),
        );
        group.bench_with_input(BenchmarkId::new("decrypt", size), &sealed, |b, sealed| {
            b.iter(|| barrier.decrypt_value(black_box(PATH), black_box(sealed)))
        });
        group.bench_with_input(
            BenchmarkId::new("put_get", size),
            &plaintext,
            |b, plaintext| {
                b.iter(|| {
                    runtime.block_on(async {
                        barrier.put(PATH, plaintext.clone()).await.expect("put");
                        black_box(barrier.get(PATH).await.expect("get"))
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = barrier
}
criterion_main!(benches);
