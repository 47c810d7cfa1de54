//! Cluster harness for the HA tests: real `tresor` nodes on loopback, each with its own temp
//! dir, API port and cluster port. Every wait is bounded; a node is stopped only through the
//! PID of the child this harness started (`Child::kill`, SIGKILL: no shutdown code runs).

use crate::{Client, free_port, tresor_binary};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a node may take to listen after it was started.
const LISTEN_DEADLINE: Duration = Duration::from_secs(30);

/// Per-node settings beyond the defaults.
#[derive(Clone, Debug, Default)]
pub struct NodeOptions {
    /// Extra attribute lines inside the `storage "raft"` block.
    pub raft_extra: String,
    /// Extra log directives (`TRESOR_LOG`), e.g. one module at debug level.
    pub log_directives: Option<String>,
}

/// One cluster node: config on disk, a child process while running.
pub struct Node {
    pub name: String,
    pub port: u16,
    pub cluster_port: u16,
    pub dir: tempfile::TempDir,
    log_directives: Option<String>,
    child: Option<Child>,
}

impl Node {
    /// Writes the node's config (raft storage, plain-HTTP API listener, `retry_join` to
    /// `retry_join` when given) and starts it.
    pub fn new(name: &str, retry_join: Option<&str>) -> Node {
        Node::with_options(name, retry_join, &NodeOptions::default())
    }

    /// [`Node::new`] with `options`.
    pub fn with_options(name: &str, retry_join: Option<&str>, options: &NodeOptions) -> Node {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let mut cluster_port = free_port();
        while cluster_port == port {
            cluster_port = free_port();
        }
        let join = match retry_join {
            Some(leader) => format!("  retry_join {{\n    leader_api_addr = \"{leader}\"\n  }}\n"),
            None => String::new(),
        };
        let extra = &options.raft_extra;
        let config = format!(
            "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"{name}\"\n{extra}\n{join}}}\n\
             listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_disable = true\n}}\n\
             api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cluster_port}\"\ndisable_mlock = true\n",
            data = dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("config.hcl"), config).expect("write config");
        let mut node = Node {
            name: name.to_string(),
            port,
            cluster_port,
            dir,
            log_directives: options.log_directives.clone(),
            child: None,
        };
        node.spawn();
        node
    }

    pub fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the node (same config, data and ports) and waits until it listens.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("log");
        let log_err = log.try_clone().expect("log handle");
        let mut command = Command::new(tresor_binary());
        if let Some(directives) = &self.log_directives {
            command.env("TRESOR_LOG", directives);
        }
        let child = command
            .arg("server")
            .arg(format!(
                "-config={}",
                self.dir.path().join("config.hcl").display()
            ))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("start tresor (build it first: cargo build -p tresor)");
        self.child = Some(child);
        let deadline = Instant::now() + LISTEN_DEADLINE;
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not listen; log:\n{}", self.name, self.log());
    }

    /// SIGKILL through the child handle (our own PID only).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.addr())
    }
}

impl Drop for Node {
    /// Kills the node; with `TRESOR_TEST_KEEP_LOGS=<dir>` its log is first copied there
    /// (`<dir>/<name>-<api port>.log`), so a slow or failed round can be read afterwards.
    fn drop(&mut self) {
        self.kill();
        if let Some(keep) = std::env::var_os("TRESOR_TEST_KEEP_LOGS").filter(|dir| !dir.is_empty())
        {
            let keep = PathBuf::from(keep);
            let _ = std::fs::create_dir_all(&keep);
            let _ = std::fs::copy(
                self.log_path(),
                keep.join(format!("{}-{}.log", self.name, self.port)),
            );
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `deadline`.
pub async fn eventually<T>(
    what: &str,
    deadline: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {deadline:?} waiting for {what}");
}

/// `sys/health` status and body, `None` when the node does not answer within 2 s.
pub async fn health_status(node: &Node) -> Option<(u16, Value)> {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/sys/health", node.addr()))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Some((status, body))
}

/// A client for requests that may fail (a killed node refuses connections): short
/// timeouts, and [`put`] and [`get`] below report failure instead of panicking.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .expect("http client")
}

/// `PUT <addr>/v1/<path>` with `body`; whether the server acknowledged it (2xx).
pub async fn put(
    http: &reqwest::Client,
    addr: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> bool {
    let sent = http
        .put(format!("{addr}/v1/{path}"))
        .header("X-Vault-Token", token)
        .body(body.to_string())
        .send()
        .await;
    matches!(sent, Ok(response) if response.status().is_success())
}

/// `GET <addr>/v1/<path>`: status and body, `None` when the node does not answer.
pub async fn get(
    http: &reqwest::Client,
    addr: &str,
    token: &str,
    path: &str,
) -> Option<(u16, Value)> {
    let response = http
        .get(format!("{addr}/v1/{path}"))
        .header("X-Vault-Token", token)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// The index of the running node that answers `sys/health` 200 (active), if any.
pub async fn active_index(nodes: &[Node]) -> Option<usize> {
    for (index, node) in nodes.iter().enumerate() {
        if node.is_running()
            && let Some((200, _)) = health_status(node).await
        {
            return Some(index);
        }
    }
    None
}

/// The voters of the raft configuration as `node` reports it (forwarded to the active node
/// on standbys); empty when the request fails.
pub async fn voters(node: &Node, token: &str) -> Vec<String> {
    let answer = node
        .client()
        .with_token(token)
        .get("sys/storage/raft/configuration")
        .await;
    if answer.status != 200 {
        return Vec::new();
    }
    answer.body["data"]["config"]["servers"]
        .as_array()
        .map(|servers| {
            servers
                .iter()
                .filter(|server| server["voter"] == json!(true))
                .filter_map(|server| server["node_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Unseals a node that restarted or joined with the cluster's keys, waiting (bounded) until
/// it knows the cluster's seal configuration.
/// Mounts KV v1 at `kv/` through `node` and asserts Vault's 204.
pub async fn mount_kv(node: &Node, token: &str) {
    let mounted = node
        .client()
        .with_token(token)
        .put("sys/mounts/kv", json!({"type": "kv"}))
        .await;
    assert_eq!(mounted.status, 204, "{}", mounted.text);
}

pub async fn unseal_member(node: &Node, keys: &[String], threshold: usize) {
    eventually("seal configuration", Duration::from_secs(30), async || {
        let answer = node.client().get("sys/seal-status").await;
        (answer.body["initialized"] == json!(true) && answer.body["t"] == json!(threshold))
            .then_some(())
    })
    .await;
    let answer = node.client().unseal(&keys[..threshold]).await;
    assert_eq!(
        answer.body["sealed"],
        json!(false),
        "{} unseal: {}\n{}",
        node.name,
        answer.text,
        node.log()
    );
}

/// Starts `size` nodes: node-1 is initialised (3 shares, threshold 2) and unsealed; the others
/// join through `retry_join` and are unsealed with node-1's keys. Returns the nodes, keys and
/// root token once all are voters.
pub async fn cluster(size: usize) -> (Vec<Node>, Vec<String>, String) {
    cluster_with(size, &NodeOptions::default()).await
}

/// [`cluster`] with `options` on every node.
pub async fn cluster_with(size: usize, options: &NodeOptions) -> (Vec<Node>, Vec<String>, String) {
    let first = Node::with_options("node-1", None, options);
    let leader_addr = first.addr();
    let (keys, root) = first.client().init_and_unseal(3, 2).await;
    let mut nodes = vec![first];
    for n in 2..=size {
        nodes.push(Node::with_options(
            &format!("node-{n}"),
            Some(&leader_addr),
            options,
        ));
    }
    for node in &nodes[1..] {
        unseal_member(node, &keys[1..], 2).await;
    }
    eventually("every node a voter", Duration::from_secs(60), async || {
        (voters(&nodes[0], &root).await.len() == size).then_some(())
    })
    .await;
    (nodes, keys, root)
}
