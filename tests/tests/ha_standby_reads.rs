//! Linearizable standby reads (issue #5, beyond Vault OSS): three real `tresor` processes on
//! loopback with `storage "raft" { standby_reads = "linearizable" }`. Every loop is bounded
//! by a count (and every wait by the harness's deadlines); only the children started here
//! are stopped, by PID.
//!
//! How a test tells a locally served read from a forwarded one: the nodes log
//! `tresor::cluster::standby_reads` at debug level (`TRESOR_LOG`), one "standby read served
//! locally" line per local answer and one "handed to the active node" line, with the
//! reason, per read that was forwarded after all. Responses are the same either way.

use serde_json::{Value, json};
use tresor_tests::Answer;
use tresor_tests::cluster::{Node, NodeOptions, cluster_with};

const SERVED_LOCALLY: &str = "standby read served locally";
const HANDED_BACK: &str = "standby read handed to the active node";
/// Write-then-read rounds of the read-after-write test.
const ROUNDS: usize = 30;

fn linearizable() -> NodeOptions {
    NodeOptions {
        raft_extra: "  standby_reads = \"linearizable\"".to_string(),
        log_directives: Some("tresor::cluster::standby_reads=debug".to_string()),
    }
}

fn count(node: &Node, line: &str) -> usize {
    node.log().matches(line).count()
}

/// Hand-back lines of `node` that name `reason`.
fn handed_back_for(node: &Node, reason: &str) -> usize {
    node.log()
        .lines()
        .filter(|line| line.contains(HANDED_BACK) && line.contains(reason))
        .count()
}

/// `secret/` as KV v2 with `secret/data/app` = `{"k": "v"}`, through `leader`.
async fn mount_kv2_with_app_secret(leader: &Node, root: &str) {
    let kv2 = json!({"type": "kv", "options": {"version": "2"}});
    put_ok(leader, root, "sys/mounts/secret", kv2).await;
    put_ok(leader, root, "secret/data/app", json!({"data": {"k": "v"}})).await;
}

async fn put_ok(node: &Node, token: &str, path: &str, body: Value) -> Answer {
    let answer = node.client().with_token(token).put(path, body).await;
    assert!(
        answer.status == 200 || answer.status == 204,
        "PUT {path} via {}: {} {}",
        node.name,
        answer.status,
        answer.text
    );
    answer
}

/// A token with `policies` (and `num_uses` when not 0), made on `node`.
async fn create_token(node: &Node, root: &str, policies: &[&str], num_uses: u64) -> String {
    let answer = put_ok(
        node,
        root,
        "auth/token/create",
        json!({"policies": policies, "num_uses": num_uses, "ttl": "1h"}),
    )
    .await;
    answer.body["auth"]["client_token"]
        .as_str()
        .expect("client_token")
        .to_string()
}

/// Goal: read-after-write on every node, with the reads served by the standbys themselves.
/// Method: for [`ROUNDS`] rounds, write a KV v2 and a KV v1 key through the active node and
/// read both through each standby at once; the standbys must answer with the new values,
/// and their logs must show the reads were served locally. A write through one standby
/// (forwarded) is read at once through the other. Then the linearizability check under a
/// stream of concurrent writes (see [`linearizable_under_concurrent_writes`]), which fails
/// when the read-index wait is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_reads_read_after_write_on_every_node() {
    let (nodes, _keys, root) = cluster_with(3, &linearizable()).await;
    let leader = &nodes[0];
    put_ok(
        leader,
        &root,
        "sys/mounts/secret",
        json!({"type": "kv", "options": {"version": "2"}}),
    )
    .await;
    put_ok(leader, &root, "sys/mounts/kv", json!({"type": "kv"})).await;
    for round in 0..ROUNDS {
        put_ok(
            leader,
            &root,
            "secret/data/app",
            json!({"data": {"round": round}}),
        )
        .await;
        put_ok(leader, &root, "kv/app", json!({"round": round})).await;
        for standby in &nodes[1..] {
            let client = standby.client().with_token(&root);
            let v2 = client.get("secret/data/app").await;
            assert_eq!(
                v2.status, 200,
                "round {round} via {}: {}",
                standby.name, v2.text
            );
            assert_eq!(
                v2.body["data"]["data"]["round"],
                json!(round),
                "{}",
                v2.text
            );
            assert_eq!(
                v2.body["data"]["metadata"]["version"],
                json!(round + 1),
                "{}",
                v2.text
            );
            let v1 = client.get("kv/app").await;
            assert_eq!(
                v1.status, 200,
                "round {round} via {}: {}",
                standby.name, v1.text
            );
            assert_eq!(v1.body["data"]["round"], json!(round), "{}", v1.text);
        }
    }
    let listed = nodes[1]
        .client()
        .with_token(&root)
        .send("LIST", "secret/metadata", None)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"]["keys"], json!(["app"]));

    // A write through a standby is forwarded; the other standby reads it at once.
    put_ok(
        &nodes[1],
        &root,
        "secret/data/via-standby",
        json!({"data": {"n": 1}}),
    )
    .await;
    let read = nodes[2]
        .client()
        .with_token(&root)
        .get("secret/data/via-standby")
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["data"]["data"]["n"], json!(1));

    linearizable_under_concurrent_writes(&nodes, &root).await;

    for standby in &nodes[1..] {
        let local = count(standby, SERVED_LOCALLY);
        let handed_back = count(standby, HANDED_BACK);
        eprintln!(
            "{}: {local} reads served locally, {handed_back} handed back",
            standby.name
        );
        // Every read may fall back under load (the box is shared), but most must not.
        assert!(
            local >= ROUNDS,
            "{}: only {local} of {} reads served locally; log:\n{}",
            standby.name,
            2 * ROUNDS,
            standby.log()
        );
    }
    assert_eq!(
        count(leader, SERVED_LOCALLY),
        0,
        "the active node serves reads itself"
    );
}

/// Writes acknowledged by the active node while the standbys read the same key.
const CONCURRENT_WRITES: u64 = 150;
/// Reads per standby reader during those writes, at most.
const CONCURRENT_READS_MAX: usize = 3000;

/// The linearizability check: while a writer streams acknowledged writes of an increasing
/// counter through the active node, readers on every standby note the last acknowledged
/// value before each read and must then read at least that value. Without the read-index
/// wait, the standby outside the write's quorum answers with an older value.
async fn linearizable_under_concurrent_writes(nodes: &[Node], root: &str) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    put_ok(
        &nodes[0],
        root,
        "secret/data/counter",
        json!({"data": {"n": 0}}),
    )
    .await;
    let writer = {
        let client = nodes[0].client().with_token(root);
        let acknowledged = acknowledged.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            for n in 1..=CONCURRENT_WRITES {
                let answer = client
                    .put("secret/data/counter", json!({"data": {"n": n}}))
                    .await;
                assert_eq!(answer.status, 200, "write {n}: {}", answer.text);
                acknowledged.store(n, Ordering::SeqCst);
            }
            writing.store(false, Ordering::SeqCst);
        })
    };
    let mut readers = Vec::new();
    for standby in &nodes[1..] {
        let client = standby.client().with_token(root);
        let name = standby.name.clone();
        let acknowledged = acknowledged.clone();
        let writing = writing.clone();
        readers.push(tokio::spawn(async move {
            let mut reads = 0;
            while writing.load(Ordering::SeqCst) && reads < CONCURRENT_READS_MAX {
                let floor = acknowledged.load(Ordering::SeqCst);
                let answer = client.get("secret/data/counter").await;
                assert_eq!(answer.status, 200, "{name}: {}", answer.text);
                let seen = answer.body["data"]["data"]["n"].as_u64().expect("n");
                assert!(
                    seen >= floor,
                    "{name} read {seen} after {floor} was acknowledged: a stale read"
                );
                reads += 1;
            }
            reads
        }));
    }
    writer.await.expect("writer");
    for reader in readers {
        let reads = reader.await.expect("reader");
        eprintln!("{reads} concurrent reads checked");
    }
}

/// Goal: a policy change and a token revocation on the active node are honoured by the
/// very next read through a standby (no stale ACL, no stale token). Method: a token whose
/// policy grants one path reads it through a standby; the policy is narrowed, restored,
/// deleted and the token revoked on the active node, each immediately followed by a read
/// through each standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_reads_honour_policy_changes_and_revocations_at_once() {
    let (nodes, _keys, root) = cluster_with(3, &linearizable()).await;
    let leader = &nodes[0];
    mount_kv2_with_app_secret(leader, &root).await;
    let grants = json!({"policy": "path \"secret/data/app\" { capabilities = [\"read\"] }"});
    let narrowed = json!({"policy": "path \"secret/data/other\" { capabilities = [\"read\"] }"});
    put_ok(leader, &root, "sys/policy/reader", grants.clone()).await;
    let token = create_token(leader, &root, &["reader"], 0).await;
    let expect = async |status: u16, what: &str| {
        for standby in &nodes[1..] {
            let answer = standby
                .client()
                .with_token(&token)
                .get("secret/data/app")
                .await;
            assert_eq!(
                answer.status, status,
                "{what} via {}: {}",
                standby.name, answer.text
            );
        }
    };
    let before = count(&nodes[1], SERVED_LOCALLY);
    expect(200, "policy grants").await;
    assert!(count(&nodes[1], SERVED_LOCALLY) > before, "served locally");
    for round in 0..3 {
        put_ok(leader, &root, "sys/policy/reader", narrowed.clone()).await;
        expect(403, &format!("round {round}: policy narrowed")).await;
        put_ok(leader, &root, "sys/policy/reader", grants.clone()).await;
        expect(200, &format!("round {round}: policy restored")).await;
    }
    let deleted = leader
        .client()
        .with_token(&root)
        .send("DELETE", "sys/policy/reader", None)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    expect(403, "policy deleted").await;
    put_ok(leader, &root, "sys/policy/reader", grants.clone()).await;
    expect(200, "policy recreated").await;
    put_ok(leader, &root, "auth/token/revoke", json!({"token": token})).await;
    expect(403, "token revoked").await;
    // A new mount is routable on a standby at once (the mount table is reloaded).
    put_ok(leader, &root, "sys/mounts/fresh", json!({"type": "kv"})).await;
    put_ok(leader, &root, "fresh/key", json!({"n": 7})).await;
    let fresh = nodes[2].client().with_token(&root).get("fresh/key").await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(fresh.body["data"]["n"], json!(7));
}

/// Goal: what must reach the active node still does, and behaves exactly as in Vault: a
/// use-limited token is counted down and runs out, a wrapped read returns a single-use
/// wrapping token, `sys/` reads answer with the active node's state, and a transit key
/// rotation shows on the next read. Method: the same requests through the standbys, with
/// their logs showing why each was handed to the active node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_reads_forward_use_limited_tokens_wrapping_and_sys() {
    let (nodes, _keys, root) = cluster_with(3, &linearizable()).await;
    let leader = &nodes[0];
    let standby = &nodes[1];
    mount_kv2_with_app_secret(leader, &root).await;
    put_ok(
        leader,
        &root,
        "sys/policy/reader",
        json!({"policy": "path \"secret/data/app\" { capabilities = [\"read\"] }"}),
    )
    .await;

    // Use-limited: two uses, both through the standby, then it is gone everywhere.
    let limited = create_token(leader, &root, &["reader"], 2).await;
    for use_number in 1..=2 {
        let answer = standby
            .client()
            .with_token(&limited)
            .get("secret/data/app")
            .await;
        assert_eq!(answer.status, 200, "use {use_number}: {}", answer.text);
    }
    let exhausted = standby
        .client()
        .with_token(&limited)
        .get("secret/data/app")
        .await;
    assert_eq!(exhausted.status, 403, "{}", exhausted.text);
    let lookup = leader
        .client()
        .with_token(&root)
        .put("auth/token/lookup", json!({"token": limited}))
        .await;
    assert_eq!(lookup.status, 403, "{}", lookup.text);
    assert!(
        handed_back_for(standby, "use-limited token") >= 2,
        "{}",
        standby.log()
    );

    // Wrapped read through a standby: forwarded; the wrapping token unwraps once.
    let wrapped = reqwest::Client::new()
        .get(format!("{}/v1/secret/data/app", standby.addr()))
        .header("X-Vault-Token", &root)
        .header("X-Vault-Wrap-TTL", "60")
        .send()
        .await
        .expect("wrapped read");
    assert_eq!(wrapped.status(), 200);
    let wrapped: Value = wrapped.json().await.expect("json");
    assert_eq!(wrapped["data"], Value::Null, "{wrapped}");
    let wrapping_token = wrapped["wrap_info"]["token"]
        .as_str()
        .expect("wrap_info.token")
        .to_string();
    let unwrapped = nodes[2]
        .client()
        .with_token(&wrapping_token)
        .put("sys/wrapping/unwrap", json!({}))
        .await;
    assert_eq!(unwrapped.status, 200, "{}", unwrapped.text);
    assert_eq!(unwrapped.body["data"]["data"]["k"], json!("v"));
    let again = nodes[2]
        .client()
        .with_token(&wrapping_token)
        .put("sys/wrapping/unwrap", json!({}))
        .await;
    assert_eq!(again.status, 400, "{}", again.text);

    // sys/ reads are the active node's answer.
    let mounts = standby.client().with_token(&root).get("sys/mounts").await;
    assert_eq!(mounts.status, 200, "{}", mounts.text);
    assert!(
        mounts.body["data"]["secret/"].is_object(),
        "{}",
        mounts.text
    );

    // Transit: a rotation on the active node shows on the next read through a standby.
    put_ok(
        leader,
        &root,
        "sys/mounts/transit",
        json!({"type": "transit"}),
    )
    .await;
    put_ok(leader, &root, "transit/keys/orders", json!({})).await;
    for expected in 2..=3 {
        put_ok(leader, &root, "transit/keys/orders/rotate", json!({})).await;
        let key = standby
            .client()
            .with_token(&root)
            .get("transit/keys/orders")
            .await;
        assert_eq!(key.status, 200, "{}", key.text);
        assert_eq!(
            key.body["data"]["latest_version"],
            json!(expected),
            "{}",
            key.text
        );
    }
}

/// Counter values the leadership-change test writes.
const HANDOVER_WRITES: u64 = 240;
/// Attempts per write while no node is active (each after a 50 ms pause), at most.
const HANDOVER_WRITE_ATTEMPTS: usize = 200;
/// Reads per node during that test, at most.
const HANDOVER_READS_MAX: usize = 20_000;

/// Goal: linearizable standby reads never go stale across a leadership change: a step-down
/// (the old leader drops its read lease before it votes for its successor) and a kill -9 of
/// the active node (no survivor campaigns before the lease the dead node held has run out).
/// Method: a writer streams an increasing counter through whichever node accepts it
/// (standbys forward; bounded retries while there is no active node), and a reader on every
/// node notes the last acknowledged value before each read and must read at least that
/// (failed reads, such as those to the killed node, are counted, not checked). A third of
/// the way in the active node steps down; two thirds in the active node is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_reads_stay_linearizable_across_step_down_and_failover() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;
    use tresor_tests::cluster::{active_index, eventually, get, http, put};
    let (mut nodes, _keys, root) = cluster_with(3, &linearizable()).await;
    mount_kv2_with_app_secret(&nodes[0], &root).await;
    put_ok(
        &nodes[0],
        &root,
        "secret/data/counter",
        json!({"data": {"n": 0}}),
    )
    .await;
    let acknowledged = Arc::new(AtomicU64::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    let http = http();
    let addrs: Vec<String> = nodes.iter().map(Node::addr).collect();
    let writer = {
        let (http, addrs, root) = (http.clone(), addrs.clone(), root.clone());
        let acknowledged = acknowledged.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            for n in 1..=HANDOVER_WRITES {
                let mut written = false;
                for attempt in 0..HANDOVER_WRITE_ATTEMPTS {
                    let addr = &addrs[attempt % addrs.len()];
                    let body = json!({"data": {"n": n}});
                    if put(&http, addr, &root, "secret/data/counter", &body).await {
                        written = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                assert!(written, "write {n} was never acknowledged");
                acknowledged.store(n, Ordering::SeqCst);
            }
            writing.store(false, Ordering::SeqCst);
        })
    };
    let mut readers = Vec::new();
    for (node, addr) in nodes.iter().zip(&addrs) {
        let (http, addr, root) = (http.clone(), addr.clone(), root.clone());
        let name = node.name.clone();
        let acknowledged = acknowledged.clone();
        let writing = writing.clone();
        readers.push(tokio::spawn(async move {
            let (mut checked, mut failed) = (0usize, 0usize);
            while writing.load(Ordering::SeqCst) && checked + failed < HANDOVER_READS_MAX {
                let floor = acknowledged.load(Ordering::SeqCst);
                let answer = get(&http, &addr, &root, "secret/data/counter").await;
                // Failures are expected while no node is active: the killed node refuses
                // connections, and the standbys redirect to it until an election ends.
                let Some((200, body)) = answer else {
                    failed += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let seen = body["data"]["data"]["n"].as_u64().expect("n");
                assert!(
                    seen >= floor,
                    "{name} read {seen} after {floor} was acknowledged: a stale read"
                );
                checked += 1;
            }
            (name, checked, failed)
        }));
    }
    let reached = |count: u64| {
        let acknowledged = acknowledged.clone();
        async move {
            eventually("writes acknowledged", Duration::from_secs(60), async || {
                (acknowledged.load(Ordering::SeqCst) >= count).then_some(())
            })
            .await
        }
    };
    reached(HANDOVER_WRITES / 3).await;
    let step_down_at = std::time::Instant::now();
    let stepped = nodes[0]
        .client()
        .with_token(&root)
        .put("sys/step-down", json!({}))
        .await;
    assert_eq!(stepped.status, 204, "{}", stepped.text);
    eprintln!("step-down answered after {:?}", step_down_at.elapsed());
    reached(2 * HANDOVER_WRITES / 3).await;
    let active = eventually("an active node", Duration::from_secs(30), async || {
        active_index(&nodes).await
    })
    .await;
    let before_kill = acknowledged.load(Ordering::SeqCst);
    let killed_at = std::time::Instant::now();
    nodes[active].kill();
    reached(before_kill + 1).await;
    eprintln!(
        "{} killed; next write acknowledged after {:?}",
        nodes[active].name,
        killed_at.elapsed()
    );
    writer.await.expect("writer");
    for reader in readers {
        let (name, checked, failed) = reader.await.expect("reader");
        eprintln!("{name}: {checked} reads checked, {failed} failed");
    }
    for (index, node) in nodes.iter().enumerate() {
        if index != active {
            assert!(
                count(node, SERVED_LOCALLY) > 0,
                "{} never served a read locally; log:\n{}",
                node.name,
                node.log()
            );
        }
    }
}
