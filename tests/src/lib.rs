//! Test harness: real `tresor` processes on loopback ports, one temp dir per node.
//!
//! Every wait is bounded by a deadline; a server is stopped only through the PID of the
//! child this harness started (never by name).

pub mod cluster;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer `sys/health` after start.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// The `tresor` binary under test: `$TRESOR_BIN`, else the one cargo built next to the tests.
pub fn tresor_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TRESOR_BIN").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> -> target/debug/tresor
    let debug_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    debug_dir.join("tresor")
}

/// A free loopback port, chosen by the OS.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

pub struct TestServer {
    child: Option<Child>,
    pub addr: String,
    pub port: u16,
    pub dir: tempfile::TempDir,
    config_path: PathBuf,
    pub log_path: PathBuf,
}

impl TestServer {
    /// A raft node with its own temp dir, not initialised.
    pub fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let cluster_port = free_port();
        let config_path = dir.path().join("config.hcl");
        let data = dir.path().join("data");
        let config = format!(
            "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"node1\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster_port}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cluster_port}\"\ndisable_mlock = true\n",
            data.display()
        );
        std::fs::write(&config_path, config).expect("write config");
        let log_path = dir.path().join("server.log");
        let mut server = TestServer {
            child: None,
            addr: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            config_path,
            log_path,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open log");
        let log_err = log.try_clone().expect("clone log handle");
        let child = Command::new(tresor_binary())
            .arg("server")
            .arg(format!("-config={}", self.config_path.display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("start tresor (build it first: cargo build -p tresor)");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Polls `sys/health` until the server answers at all (any status), within the deadline.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_DEADLINE;
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("tresor exited early with {status}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "tresor did not listen within {STARTUP_DEADLINE:?}; log:\n{}",
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait (bounded), then SIGKILL if it did not stop.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with the PID of a child we started and have not yet reaped, so
            // the PID cannot have been reused by another process.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the same node again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn client(&self) -> Client {
        Client::new(&self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A thin HTTP client for tests: every call returns status and parsed JSON (or `Null`).
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub token: Option<String>,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Client {
            http,
            base: base.to_string(),
            token: None,
        }
    }

    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.to_string());
        self
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}/v1/{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("X-Vault-Token", token);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send("PUT", path, Some(body.to_string().into_bytes()))
            .await
    }

    /// `sys/init` then unseal with `threshold` of the keys; returns (keys, root token).
    pub async fn init_and_unseal(&self, shares: u8, threshold: u8) -> (Vec<String>, String) {
        let answer = self
            .put(
                "sys/init",
                serde_json::json!({"secret_shares": shares, "secret_threshold": threshold}),
            )
            .await;
        assert_eq!(answer.status, 200, "init: {}", answer.text);
        let keys: Vec<String> = answer.body["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key.as_str().expect("key").to_string())
            .collect();
        let root = answer.body["root_token"]
            .as_str()
            .expect("root token")
            .to_string();
        self.unseal(&keys[..usize::from(threshold)]).await;
        (keys, root)
    }

    pub async fn unseal(&self, keys: &[String]) -> Answer {
        let mut last = None;
        for key in keys {
            last = Some(
                self.put("sys/unseal", serde_json::json!({ "key": key }))
                    .await,
            );
        }
        let last = last.expect("at least one key");
        assert_eq!(last.status, 200, "unseal: {}", last.text);
        last
    }
}
