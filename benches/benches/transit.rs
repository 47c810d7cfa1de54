//! Transit hot path: `encrypt/:name` then `decrypt/:name` through the engine's request handler
//! (framework decode, policy load from `MemoryStorage`, AEAD, base64), per symmetric key type,
//! for 128 B and 4 KiB plaintexts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use tresor_framework::{Backend, MountContext, Operation, Reply, Request, StorageView};
use tresor_storage::MemoryStorage;

const PLAINTEXT_BYTES: [usize; 2] = [128, 4096];
const KEY_TYPES: [&str; 3] = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"];

fn request(path: &str, body: Value) -> Request {
    let Value::Object(data) = body else {
        panic!("a request body is an object")
    };
    Request {
        operation: Operation::Update,
        path: path.to_string(),
        data,
        client_token: None,
        request_id: "bench".to_string(),
        mount: MountContext::default(),
        caller: None,
        wrap_ttl_seconds: None,
    }
}

async fn call(backend: &Arc<dyn Backend>, path: &str, body: Value, field: &str) -> String {
    match backend.handle_request(request(path, body)).await {
        Ok(Reply::Secret(secret)) => secret
            .data
            .and_then(|data| data[field].as_str().map(str::to_string))
            .unwrap_or_default(),
        _ => panic!("{path} failed"),
    }
}

fn transit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("current-thread runtime");
    let storage = StorageView::new(Arc::new(MemoryStorage::new()), "logical/bench/");
    let backend = tresor_transit::backend(storage);
    let mut group = c.benchmark_group("transit");
    for key_type in KEY_TYPES {
        runtime.block_on(async {
            let created = backend
                .handle_request(request(
                    &format!("keys/{key_type}"),
                    json!({"type": key_type}),
                ))
                .await;
            assert!(created.is_ok(), "creates {key_type}");
        });
        for size in PLAINTEXT_BYTES {
            let plaintext = STANDARD.encode(vec![0x5a_u8; size]);
            group.throughput(Throughput::Bytes(size as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("encrypt_decrypt/{key_type}"), size),
                &plaintext,
                |b, plaintext| {
                    b.iter(|| {
                        runtime.block_on(async {
                            let encrypt = format!("encrypt/{key_type}");
                            let ciphertext = call(
                                &backend,
                                &encrypt,
                                json!({"plaintext": plaintext}),
                                "ciphertext",
                            )
                            .await;
                            let decrypt = format!("decrypt/{key_type}");
                            let back = call(
                                &backend,
                                &decrypt,
                                json!({"ciphertext": ciphertext}),
                                "plaintext",
                            )
                            .await;
                            black_box(back)
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    targets = transit
}
criterion_main!(benches);
