//! A flipped byte in a stored entry fails the read closed: an error, not garbage, not a
//! panic, and the node keeps serving.

use tresor_storage::{RaftConfig, RaftStorage, Storage};
use tresor_tests::TestServer;

/// Opens the stopped node's storage in-process, flips one byte of `key`'s stored value.
async fn flip_byte(data_dir: std::path::PathBuf, key: &str, offset_from_end: usize) {
    let storage = RaftStorage::open(RaftConfig {
        dir: data_dir,
        node_id: node_id(),
        node_name: "node1".into(),
        cluster_addr: String::new(),
    })
    .await
    .expect("open storage");
    storage.initialize_single_node().await.expect("leader");
    let mut value = storage.get(key).await.expect("read").expect("entry exists");
    let index = value.len() - offset_from_end;
    value[index] ^= 0x01;
    storage.put(key, value).await.expect("write tampered value");
    storage.shutdown().await.expect("shutdown");
}

/// The server derives raft ids from the node name the same way.
fn node_id() -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(b"node1");
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes).max(1)
}

#[tokio::test]
async fn tampered_entries_fail_closed() {
    // Goal: a flipped byte in the cluster info (read at unseal) keeps the node sealed with a
    // 500, and the process survives. Method: init, stop, flip, restart, unseal.
    let mut server = TestServer::start();
    let (keys, _root) = server.client().init_and_unseal(1, 1).await;
    server.stop();
    flip_byte(server.data_dir(), "core/cluster/local/info", 3).await;
    server.restart();
    let client = server.client();
    let answer = client
        .put("sys/unseal", serde_json::json!({"key": keys[0]}))
        .await;
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert!(
        !answer.text.contains("vault-cluster"),
        "no plaintext in the error"
    );
    assert_eq!(client.get("sys/seal-status").await.body["sealed"], true);
    assert_eq!(
        client.get("sys/health").await.status,
        503,
        "the node still answers"
    );
}

#[tokio::test]
async fn tampered_token_entry_is_an_error_not_a_denial() {
    // Goal: a corrupt token entry is reported as an internal error (500), never read as
    // "no such token" or as another token. Method: flip a byte of the salt entry.
    let mut server = TestServer::start();
    let (keys, root) = server.client().init_and_unseal(1, 1).await;
    server.stop();
    flip_byte(server.data_dir(), "sys/token/salt", 1).await;
    server.restart();
    let client = server.client().with_token(&root);
    client.unseal(&keys).await;
    let answer = client.get("sys/key-status").await;
    assert_eq!(answer.status, 500, "{}", answer.text);
}
