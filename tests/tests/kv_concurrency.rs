//! Goal: concurrent check-and-set writers to one KV v2 key never lose an update.
//!
//! Method: one real `tresor` node (raft, initialised and unsealed), a KV v2 mount, and 64
//! tokio tasks that each write once to the same key with `options.cas` set to the version
//! they last read, re-reading and retrying on a CAS mismatch (bounded in attempts and time).
//! Afterwards the key's versions must be exactly 1..=64, each acknowledged by one writer, and
//! each version must read back with the data its writer sent.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_tests::{Client, TestServer};

const WRITERS: u64 = 64;
const MAX_ATTEMPTS: u32 = 2_000;
const WRITER_DEADLINE: Duration = Duration::from_secs(120);

async fn wait_active(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get("sys/health").await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node not active within 30 s");
}

/// The key's current version (0 when it does not exist yet).
async fn current_version(client: &Client) -> u64 {
    let answer = client.get("kv/metadata/contended").await;
    match answer.status {
        200 => answer.body["data"]["current_version"]
            .as_u64()
            .expect("current_version"),
        404 => 0,
        other => panic!("metadata read: {other} {}", answer.text),
    }
}

/// Writes once with CAS, retrying with the freshly read version; returns (version, attempts).
async fn write_with_cas(client: Arc<Client>, writer: u64) -> (u64, u32) {
    let started = Instant::now();
    for attempt in 1..=MAX_ATTEMPTS {
        assert!(
            started.elapsed() < WRITER_DEADLINE,
            "writer {writer} still retrying after {WRITER_DEADLINE:?}"
        );
        let seen = current_version(&client).await;
        let body = json!({"data": {"writer": writer, "payload": format!("from-writer-{writer}")}, "options": {"cas": seen}});
        let answer = client
            .send(
                "POST",
                "kv/data/contended",
                Some(body.to_string().into_bytes()),
            )
            .await;
        match answer.status {
            200 => {
                let version = answer.body["data"]["version"]
                    .as_u64()
                    .expect("version in write answer");
                assert_eq!(
                    version,
                    seen + 1,
                    "a CAS write at {seen} must create version {}",
                    seen + 1
                );
                return (version, attempt);
            }
            400 => {
                let errors = answer.body["errors"].to_string();
                assert!(
                    errors.contains("check-and-set parameter did not match the current version"),
                    "writer {writer}: {errors}"
                );
            }
            other => panic!("writer {writer}: unexpected {other}: {}", answer.text),
        }
    }
    panic!("writer {writer} did not land within {MAX_ATTEMPTS} attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kv2_cas_writers_lose_no_update_and_versions_are_contiguous() {
    let server = TestServer::start();
    let (_, root) = server.client().init_and_unseal(1, 1).await;
    let client = Arc::new(server.client().with_token(&root));
    wait_active(&client).await;
    let mount = client
        .put(
            "sys/mounts/kv",
            json!({"type": "kv", "options": {"version": "2"}}),
        )
        .await;
    assert_eq!(mount.status, 204, "{}", mount.text);
    // Keep every version: the default max_versions (10) would prune the history we check.
    let meta = client
        .put("kv/metadata/contended", json!({"max_versions": 200}))
        .await;
    assert!(matches!(meta.status, 200 | 204), "{}", meta.text);

    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| tokio::spawn(write_with_cas(Arc::clone(&client), writer)))
        .collect();
    let mut by_version: BTreeMap<u64, u64> = BTreeMap::new();
    for (writer, task) in tasks.into_iter().enumerate() {
        let (version, _attempts) = task.await.expect("writer task");
        let previous = by_version.insert(version, writer as u64);
        assert!(
            previous.is_none(),
            "version {version} acknowledged to writers {previous:?} and {writer}"
        );
    }
    let versions: Vec<u64> = by_version.keys().copied().collect();
    assert_eq!(
        versions,
        (1..=WRITERS).collect::<Vec<_>>(),
        "acknowledged versions are exactly 1..=N"
    );
    assert_eq!(current_version(&client).await, WRITERS);

    let metadata = client.get("kv/metadata/contended").await;
    let stored: Vec<u64> = metadata.body["data"]["versions"]
        .as_object()
        .expect("versions")
        .keys()
        .map(|v| v.parse().expect("numeric version"))
        .collect();
    assert_eq!(stored.len() as u64, WRITERS, "metadata lists every version");
    for (version, writer) in by_version {
        let read = client
            .get(&format!("kv/data/contended?version={version}"))
            .await;
        assert_eq!(read.status, 200, "version {version}: {}", read.text);
        let data: &Value = &read.body["data"]["data"];
        assert_eq!(
            *data,
            json!({"writer": writer, "payload": format!("from-writer-{writer}")}),
            "version {version} holds its writer's data"
        );
    }
}
