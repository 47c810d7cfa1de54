//! Goal: no acknowledged KV v2 write is lost when the `tresor` process is killed with SIGKILL.
//!
//! Method: one raft node, initialised once. For each of 6 rounds: unseal, start 16 writers
//! that keep writing new versions of their own key and record every acknowledged
//! (key, version, value), SIGKILL the server after a pseudo-random 300–900 ms, restart it on
//! the same data, unseal, and read back every version acknowledged in any round so far with
//! its exact value. Every loop is bounded in count and time.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tresor_tests::{Client, TestServer};

const ROUNDS: u64 = 6;
const WRITERS: u64 = 16;
/// Per writer and round: 6 × 150 stays under the 1000 versions a key may keep.
const WRITES_PER_WRITER_MAX: u64 = 150;

type Acks = Arc<Mutex<Vec<(String, u64, String)>>>;

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

fn next_random(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// Writes new versions of `w<writer>` until a request fails (the server was killed).
/// The harness `Client` panics when the server is gone; this writer must see that as an error.
async fn writer(addr: String, token: String, round: u64, writer: u64, acks: Acks) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let key = format!("w{writer}");
    for n in 0..WRITES_PER_WRITER_MAX {
        let value = format!("r{round}-w{writer}-n{n}");
        let body = json!({"data": {"v": value}}).to_string();
        let sent = http
            .post(format!("{addr}/v1/kv/data/{key}"))
            .header("X-Vault-Token", &token)
            .body(body)
            .send()
            .await;
        let Ok(response) = sent else { return };
        if response.status().as_u16() != 200 {
            return;
        }
        let Ok(text) = response.text().await else {
            return;
        };
        // Only a complete 200 answer counts as an acknowledgement.
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&text) else {
            return;
        };
        let version = body["data"]["version"].as_u64().expect("version");
        acks.lock()
            .expect("acks lock")
            .push((key.clone(), version, value));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kv2_acknowledged_versions_survive_kill_9_during_concurrent_writes() {
    let mut server = TestServer::start();
    let (keys, root) = server.client().init_and_unseal(1, 1).await;
    let client = server.client().with_token(&root);
    wait_active(&client).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mount = client
        .put(
            "sys/mounts/kv",
            json!({"type": "kv", "options": {"version": "2"}}),
        )
        .await;
    assert_eq!(mount.status, 204, "{}", mount.text);
    // Keep every version of every key for the final check (Tresor caps max_versions at 1000).
    let config = client.put("kv/config", json!({"max_versions": 1000})).await;
    assert!(matches!(config.status, 200 | 204), "{}", config.text);

    let acks: Acks = Arc::new(Mutex::new(Vec::new()));
    let mut random = 0x5eed_u64;
    for round in 0..ROUNDS {
        let before = acks.lock().expect("acks").len();
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                tokio::spawn(writer(
                    server.addr.clone(),
                    root.clone(),
                    round,
                    w,
                    Arc::clone(&acks),
                ))
            })
            .collect();
        let run_for = Duration::from_millis(300 + next_random(&mut random) % 600);
        tokio::time::sleep(run_for).await;
        // On a loaded machine the first acknowledgements can take longer than the random
        // window: keep writing (bounded) until at least one arrived, then kill mid-burst.
        let ack_deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while acks.lock().expect("acks").len() == before
            && tokio::time::Instant::now() < ack_deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill();
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("writer stops after the kill")
                .expect("writer task");
        }
        let acked_this_round = acks.lock().expect("acks").len() - before;
        assert!(
            acked_this_round > 0,
            "round {round}: no write acknowledged in {run_for:?}"
        );
        eprintln!(
            "round {round}: {acked_this_round} writes acknowledged in {run_for:?} before SIGKILL"
        );

        server.restart();
        server.client().unseal(&keys[..1]).await;
        wait_active(&client).await;
        let all = acks.lock().expect("acks").clone();
        for (key, version, value) in &all {
            let read = client
                .get(&format!("kv/data/{key}?version={version}"))
                .await;
            assert_eq!(
                read.status, 200,
                "round {round}: acknowledged {key} v{version} unreadable: {}",
                read.text
            );
            assert_eq!(
                read.body["data"]["data"]["v"],
                json!(value),
                "round {round}: {key} v{version}"
            );
        }
        for w in 0..WRITERS {
            let key = format!("w{w}");
            let highest = all
                .iter()
                .filter(|(k, _, _)| *k == key)
                .map(|(_, v, _)| *v)
                .max()
                .unwrap_or(0);
            let meta = client.get(&format!("kv/metadata/{key}")).await;
            let current = meta.body["data"]["current_version"].as_u64().unwrap_or(0);
            assert!(
                current >= highest,
                "round {round}: {key} current_version {current} < acknowledged {highest}"
            );
        }
    }
}
