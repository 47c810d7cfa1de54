//! HA cluster tests (issue #5): three real `tresor` processes on loopback, each with its own
//! temp dir, API port and cluster port. Every wait is bounded; only the children started
//! here are stopped, by PID (`Child::kill`). The cluster helpers are shared with the other HA
//! suites (`tresor_tests::cluster`).

use serde_json::json;
use std::time::{Duration, Instant};
use tresor_tests::cluster::{Node, cluster, eventually, health_status, mount_kv, voters};

/// Goal: nodes join with the cluster's keys, standbys report themselves as such and
/// forward reads and writes to the active node, every write is readable on every node,
/// and a forwarding opt-out gets a 307 to the active node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_nodes_join_forward_and_read_after_write() {
    let (nodes, _keys, root) = cluster(3).await;
    let leader = &nodes[0];
    for standby in &nodes[1..] {
        let (status, body) = health_status(standby).await.expect("health");
        assert_eq!(status, 429, "{body}");
        assert_eq!(body["standby"], json!(true));
        let leader_info = standby.client().get("sys/leader").await;
        assert_eq!(
            leader_info.body["is_self"],
            json!(false),
            "{}",
            leader_info.text
        );
        assert_eq!(leader_info.body["leader_address"], json!(leader.addr()));
        assert_eq!(
            leader_info.body["leader_cluster_address"],
            json!(format!("https://127.0.0.1:{}", leader.cluster_port))
        );
    }
    let (status, _) = health_status(leader).await.expect("health");
    assert_eq!(status, 200);
    let configuration = leader
        .client()
        .with_token(&root)
        .get("sys/storage/raft/configuration")
        .await;
    let servers = configuration.body["data"]["config"]["servers"]
        .as_array()
        .expect("servers")
        .clone();
    assert_eq!(servers.len(), 3, "{}", configuration.text);
    for server in &servers {
        assert_eq!(server["protocol_version"], json!("3"));
        assert_eq!(server["voter"], json!(true));
        assert_eq!(
            server["leader"],
            json!(server["node_id"] == json!("node-1"))
        );
    }

    // A mount created through a standby is forwarded to the active node.
    mount_kv(&nodes[1], &root).await;
    for (n, writer) in nodes.iter().enumerate() {
        let key = format!("kv/from-{n}");
        let written = writer
            .client()
            .with_token(&root)
            .put(&key, json!({"value": n}))
            .await;
        assert_eq!(
            written.status, 204,
            "write via {}: {}",
            writer.name, written.text
        );
        for reader in &nodes {
            let read = reader.client().with_token(&root).get(&key).await;
            assert_eq!(
                read.status, 200,
                "read {key} via {}: {}",
                reader.name, read.text
            );
            assert_eq!(read.body["data"]["value"], json!(n));
        }
    }

    // X-Vault-No-Request-Forwarding: 307 to the active node's api_addr, same path and query.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = no_redirects
        .get(format!("{}/v1/kv/from-0?x=1", nodes[2].addr()))
        .header("X-Vault-Token", &root)
        .header("X-Vault-No-Request-Forwarding", "true")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 307);
    assert_eq!(
        response.headers()["location"].to_str().expect("location"),
        format!("{}/v1/kv/from-0?x=1", leader.addr())
    );
}

/// Goal: failover. Method: acknowledged writes through the active node, kill -9 it; a
/// standby becomes active within 5 s, every acknowledged write is readable, writes work
/// through the survivors; the killed node restarts, is unsealed and rejoins as a standby.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_leader_killed_fails_over_and_rejoins() {
    let (mut nodes, keys, root) = cluster(3).await;
    mount_kv(&nodes[0], &root).await;
    let mut acknowledged = Vec::new();
    for n in 0..25 {
        let key = format!("kv/before/{n}");
        let written = nodes[(n % 3) as usize]
            .client()
            .with_token(&root)
            .put(&key, json!({"n": n}))
            .await;
        assert_eq!(written.status, 204, "{}", written.text);
        acknowledged.push((key, n));
    }

    nodes[0].kill();
    let killed_at = Instant::now();
    let new_leader = eventually("a new active node", Duration::from_secs(15), async || {
        for (index, node) in nodes.iter().enumerate().skip(1) {
            if let Some((200, _)) = health_status(node).await {
                return Some(index);
            }
        }
        None
    })
    .await;
    let elected = killed_at.elapsed();
    // The first write through the new active node marks "serving".
    eventually(
        "a write on the new active node",
        Duration::from_secs(15),
        async || {
            let written = nodes[new_leader]
                .client()
                .with_token(&root)
                .put("kv/after/first", json!({"n": 1}))
                .await;
            (written.status == 204).then_some(())
        },
    )
    .await;
    let serving = killed_at.elapsed();
    eprintln!("failover: active after {elected:?}, serving writes after {serving:?}");
    assert!(
        serving < Duration::from_secs(5),
        "failover took {serving:?}"
    );

    let survivors = [1usize, 2];
    for &index in &survivors {
        for (key, n) in &acknowledged {
            let read = eventually(
                "an acknowledged write",
                Duration::from_secs(10),
                async || {
                    let read = nodes[index].client().with_token(&root).get(key).await;
                    (read.status == 200).then_some(read)
                },
            )
            .await;
            assert_eq!(
                read.body["data"]["n"],
                json!(n),
                "{key} via {}",
                nodes[index].name
            );
        }
        let standby_write = nodes[index]
            .client()
            .with_token(&root)
            .put(&format!("kv/after/{index}"), json!({"n": index}))
            .await;
        assert_eq!(standby_write.status, 204, "{}", standby_write.text);
    }

    // The killed node restarts sealed, is unsealed with the cluster's keys, and rejoins as
    // a standby that serves (forwarded) reads of writes made while it was down.
    nodes[0].spawn();
    let answer = nodes[0].client().unseal(&keys[0..2]).await;
    assert_eq!(answer.body["sealed"], json!(false), "{}", answer.text);
    let old_leader = &nodes[0];
    eventually(
        "the old leader back as standby",
        Duration::from_secs(20),
        async || match health_status(old_leader).await {
            Some((429, _)) => Some(()),
            _ => None,
        },
    )
    .await;
    eventually(
        "read-after-write through the rejoined node",
        Duration::from_secs(20),
        async || {
            let read = old_leader
                .client()
                .with_token(&root)
                .get("kv/after/first")
                .await;
            (read.status == 200).then_some(())
        },
    )
    .await;
    let written = old_leader
        .client()
        .with_token(&root)
        .put("kv/after/rejoined", json!({"n": 0}))
        .await;
    assert_eq!(written.status, 204, "{}", written.text);
    assert_eq!(voters(&nodes[new_leader], &root).await.len(), 3);
}

/// Goal: a node that fetched the challenge but holds other keys cannot join, and the
/// cluster port completes no handshake without a cluster certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_node_without_the_keys_cannot_join() {
    let first = Node::new("node-1", None);
    let (_keys, root) = first.client().init_and_unseal(1, 1).await;
    let other = Node::new("other-1", None);
    let (other_keys, _) = other.client().init_and_unseal(1, 1).await;

    let intruder = Node::new("intruder", None);
    let joined = intruder
        .client()
        .put(
            "sys/storage/raft/join",
            json!({"leader_api_addr": first.addr()}),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text);
    assert_eq!(joined.body["joined"], json!(true));
    let refused = intruder
        .client()
        .put("sys/unseal", json!({"key": other_keys[0]}))
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let seal_status = intruder.client().get("sys/seal-status").await;
    assert_eq!(seal_status.body["sealed"], json!(true));
    let configuration = first
        .client()
        .with_token(&root)
        .get("sys/storage/raft/configuration")
        .await;
    assert_eq!(
        configuration.body["data"]["config"]["servers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Garbage and certificate-less TLS on the cluster port are refused.
    {
        use std::io::{Read, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", first.cluster_port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = stream
            .write_all(b"POST /raft/vote HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        let mut buffer = Vec::new();
        let _ = stream.read_to_end(&mut buffer);
        assert!(!String::from_utf8_lossy(&buffer).contains("200 OK"));
    }
    let no_certificate = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let result = no_certificate
        .post(format!(
            "https://127.0.0.1:{}/raft/vote",
            first.cluster_port
        ))
        .body(vec![0u8; 8])
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        result.is_err(),
        "a client without a cluster certificate got {result:?}"
    );
}

/// The leader's current raft term and name (`sys/storage/raft/autopilot/state`, forwarded to
/// the active node), `None` while no active node answers.
async fn cluster_term(node: &Node, token: &str) -> Option<(u64, String)> {
    let answer = node
        .client()
        .with_token(token)
        .get("sys/storage/raft/autopilot/state")
        .await;
    if answer.status != 200 {
        return None;
    }
    let data = &answer.body["data"];
    let leader = data["leader"].as_str()?.to_string();
    let term = data["servers"][&leader]["last_term"].as_u64()?;
    Some((term, leader))
}

/// Goal: a member that sits sealed does not stand for raft election (issue #5: its raft
/// kept starting elections it could not win, raising its term, which unseated the leader
/// once the node was unsealed), and it rejoins cleanly after unseal. Method: restart a
/// standby and leave it sealed for three election timeouts while writes go on; the
/// cluster's term and active node must not change, the sealed node must not have
/// campaigned (its log), and after unseal it must be a caught-up standby, still with the
/// same term and active node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_sealed_member_does_not_raise_the_term() {
    let (mut nodes, keys, root) = cluster(3).await;
    mount_kv(&nodes[0], &root).await;
    let active = eventually("an active node", Duration::from_secs(20), async || {
        for (index, node) in nodes.iter().enumerate() {
            if let Some((200, _)) = health_status(node).await {
                return Some(index);
            }
        }
        None
    })
    .await;
    let sealed = (active + 1) % nodes.len();
    let (term, leader) = eventually("the cluster term", Duration::from_secs(20), async || {
        cluster_term(&nodes[active], &root).await
    })
    .await;
    assert_eq!(leader, nodes[active].name);

    nodes[sealed].kill();
    let log_before = nodes[sealed].log().len();
    nodes[sealed].spawn();
    // Three election timeouts (storage/src/limits.rs: at most 1.6 s each) while sealed.
    let sealed_until = Instant::now() + Duration::from_secs(5);
    let mut n = 0;
    while Instant::now() < sealed_until {
        let written = nodes[active]
            .client()
            .with_token(&root)
            .put(&format!("kv/while-sealed/{n}"), json!({ "n": n }))
            .await;
        assert_eq!(written.status, 204, "{}", written.text);
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let seal_status = nodes[sealed].client().get("sys/seal-status").await;
    assert_eq!(seal_status.body["sealed"], json!(true));
    assert_eq!(
        cluster_term(&nodes[active], &root).await,
        Some((term, leader.clone())),
        "the term or the active node changed while a member was sealed"
    );

    let answer = nodes[sealed].client().unseal(&keys[0..2]).await;
    assert_eq!(answer.body["sealed"], json!(false), "{}", answer.text);
    let rejoined = &nodes[sealed];
    eventually(
        "the node back as standby",
        Duration::from_secs(20),
        async || matches!(health_status(rejoined).await, Some((429, _))).then_some(()),
    )
    .await;
    let last = format!("kv/while-sealed/{}", n - 1);
    eventually(
        "the writes made while sealed, read through the node",
        Duration::from_secs(20),
        async || {
            let read = rejoined.client().with_token(&root).get(&last).await;
            (read.status == 200).then_some(())
        },
    )
    .await;
    // Long enough for a higher term from the rejoined node to have unseated the leader.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        cluster_term(&nodes[active], &root).await,
        Some((term, leader)),
        "the rejoined node disturbed the cluster"
    );
    let log = rejoined.log();
    let since_restart = &log[log_before.min(log.len())..];
    assert!(
        !since_restart.contains("raft election") && !since_restart.contains("pre-vote"),
        "the sealed node campaigned:\n{since_restart}"
    );
    let written = rejoined
        .client()
        .with_token(&root)
        .put("kv/after-rejoin", json!({"n": 0}))
        .await;
    assert_eq!(written.status, 204, "{}", written.text);
}
