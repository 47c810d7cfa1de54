//! A small blocking client for the Vault HTTP API, configured like Vault's Go `api` package:
//! `VAULT_ADDR`, `VAULT_TOKEN` (else `~/.vault-token`), `VAULT_CACERT`, `VAULT_CAPATH`,
//! `VAULT_CLIENT_CERT`/`KEY`, `VAULT_SKIP_VERIFY`, `VAULT_TLS_SERVER_NAME`, `VAULT_NAMESPACE`,
//! `VAULT_CLIENT_TIMEOUT` (60 s), each with a `BAO_*` fallback. Errors print as Go's do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::flags::{Flags, env_lookup};

/// Vault's default client timeout.
pub const CLIENT_TIMEOUT_DEFAULT_SECONDS: u64 = 60;

/// Connection settings, from the HTTP flags (which already folded in the environment).
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    pub address: String,
    pub ca_cert: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub tls_server_name: Option<String>,
    pub tls_skip_verify: bool,
    pub namespace: Option<String>,
    pub token: Option<String>,
    pub timeout_seconds: u64,
}

impl ClientOptions {
    /// Reads the HTTP options declared by `cli::http_flags`, then the token and timeout.
    pub fn from_flags(flags: &Flags) -> Result<ClientOptions, String> {
        let path = |name: &str| {
            Some(PathBuf::from(flags.string(name))).filter(|p| !p.as_os_str().is_empty())
        };
        let namespace = Some(flags.string("namespace").to_string()).filter(|s| !s.is_empty());
        let timeout_seconds = match env_lookup("VAULT_CLIENT_TIMEOUT").filter(|t| !t.is_empty()) {
            Some(raw) => match crate::config::parse_duration_seconds(&raw) {
                Ok(0) => CLIENT_TIMEOUT_DEFAULT_SECONDS,
                Ok(seconds) => seconds,
                Err(_) => {
                    return Err(
                        "failed to read environment: could not parse \"VAULT_CLIENT_TIMEOUT\""
                            .to_string(),
                    );
                }
            },
            None => CLIENT_TIMEOUT_DEFAULT_SECONDS,
        };
        Ok(ClientOptions {
            address: flags.string("address").to_string(),
            ca_cert: path("ca-cert"),
            ca_path: path("ca-path"),
            client_cert: path("client-cert"),
            client_key: path("client-key"),
            tls_server_name: Some(flags.string("tls-server-name").to_string())
                .filter(|s| !s.is_empty()),
            tls_skip_verify: flags.bool("tls-skip-verify"),
            namespace,
            token: token_from_env_or_helper(),
            timeout_seconds,
        })
    }
}

/// `VAULT_TOKEN`, else the contents of `~/.vault-token` (trimmed), else none.
pub fn token_from_env_or_helper() -> Option<String> {
    if let Some(token) = env_lookup("VAULT_TOKEN").filter(|t| !t.is_empty()) {
        return Some(token);
    }
    let home = std::env::var_os("HOME")?;
    let text = std::fs::read_to_string(Path::new(&home).join(".vault-token")).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// A response with a 2xx or 3xx status (or 429 on `sys/health`, as Go's client allows).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON; an empty body (204) is `null`.
    pub fn json(&self) -> Result<Value, ClientError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// An error status from the server, printed exactly as Vault's `ResponseError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub errors: Vec<String>,
    /// The body was not `{"errors": […]}`; `errors[0]` is the raw body.
    pub raw: bool,
    /// The response body, for callers that read a 404 envelope (KV v2 deleted versions).
    pub body: Vec<u8>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.raw { "Raw Message" } else { "Errors" };
        write!(
            f,
            "Error making API request.\n\nURL: {} {}\nCode: {}. {kind}:\n\n",
            self.method, self.url, self.status
        )?;
        if self.raw && self.errors.len() == 1 {
            return f.write_str(&self.errors[0]);
        }
        // Vault writes "* a* b" without newlines between several errors; we keep that.
        for error in &self.errors {
            write!(f, "* {error}")?;
        }
        Ok(())
    }
}

/// Anything that went wrong talking to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    Api(ApiError),
    /// Could not reach the server; text is Go's `Get "<url>": dial tcp …` form.
    Transport(String),
    /// The response body was not the JSON expected.
    Decode(String),
    /// Bad client configuration (CA file, address).
    Config(String),
}

impl ClientError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(api) => Some(api.status),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Api(api) => api.fmt(f),
            ClientError::Transport(message)
            | ClientError::Decode(message)
            | ClientError::Config(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ClientError {}

/// A Vault API client with its own single-threaded runtime.
pub struct Client {
    pub options: ClientOptions,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(options.timeout_seconds))
            .redirect(reqwest::redirect::Policy::limited(1));
        let mut roots = Vec::new();
        if let Some(file) = &options.ca_cert {
            roots.extend(read_pem_bundle(file)?);
        } else if let Some(dir) = &options.ca_path {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| ClientError::Config(format!("failed to setup TLS config: {e}")))?;
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    roots.extend(read_pem_bundle(&entry.path())?);
                }
            }
        }
        if !roots.is_empty() {
            builder = builder.tls_certs_only(roots);
        }
        if let (Some(cert), Some(key)) = (&options.client_cert, &options.client_key) {
            let mut pem = read_file(cert)?;
            pem.extend(read_file(key)?);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|e| ClientError::Config(format!("failed to setup TLS config: {e}")))?;
            builder = builder.identity(identity);
        }
        if options.tls_skip_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("failed to create client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Config(format!("failed to create client: {e}")))?;
        Ok(Client {
            options,
            http,
            runtime,
        })
    }

    /// The full URL of an API path (`sys/seal-status` → `<addr>/v1/sys/seal-status`), cleaned
    /// as Go's `path.Join` does (no `//`, no trailing `/`).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.options.address.trim_end_matches('/'),
            clean_path(&format!("/v1/{path}"))
        )
    }

    /// The URL with Go's `url.Values.Encode()` query (keys sorted, values in order).
    fn url_with_query(&self, path: &str, query: &[(String, String)]) -> String {
        let url = self.url(path);
        if query.is_empty() {
            return url;
        }
        let mut pairs: Vec<&(String, String)> = query.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{}={}", query_escape(key), query_escape(value)))
            .collect();
        format!("{url}?{}", encoded.join("&"))
    }

    /// Sends one request. `body` is sent as JSON without a content type, as Go's client does.
    /// Error statuses become `ClientError::Api` with the server's `errors`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ClientError> {
        self.send(&Request {
            method,
            path,
            query: &[],
            body,
            content_type: None,
        })
    }

    /// `LIST` as Go's client sends it: `GET <path>?list=true`.
    pub fn list(&self, path: &str) -> Result<Response, ClientError> {
        let query = [("list".to_string(), "true".to_string())];
        self.send(&Request {
            method: "GET",
            path,
            query: &query,
            body: None,
            content_type: None,
        })
    }

    /// Go's `Logical().JSONMergePatch`.
    pub fn merge_patch(&self, path: &str, body: &Value) -> Result<Response, ClientError> {
        self.send(&Request {
            method: "PATCH",
            path,
            query: &[],
            body: Some(body),
            content_type: Some("application/merge-patch+json"),
        })
    }

    /// Sends one request. `body` is sent as JSON without a content type (unless given), as Go's
    /// client does. Error statuses become `ClientError::Api` with the server's `errors`.
    pub fn send(&self, spec: &Request<'_>) -> Result<Response, ClientError> {
        let (method, path, body) = (spec.method, spec.path, spec.body);
        let url = self.url_with_query(path, spec.query);
        let verb = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut request = self
            .http
            .request(verb, &url)
            .header("X-Vault-Request", "true");
        if let Some(token) = &self.options.token {
            request = request.header("X-Vault-Token", token);
        }
        if let Some(namespace) = &self.options.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(content_type) = spec.content_type {
            request = request.header("Content-Type", content_type);
        }
        if let Some(body) = body {
            request = request.body(serde_json::to_vec(body).expect("JSON values serialize"));
        }
        let outcome = self.runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes.to_vec()))
        });
        let (status, bytes) =
            outcome.map_err(|e| ClientError::Transport(go_transport_error(method, &url, &e)))?;
        let health_standby =
            status == 429 && path.trim_start_matches('/').starts_with("sys/health");
        if (200..400).contains(&status) || health_standby {
            return Ok(Response {
                status,
                body: bytes,
            });
        }
        Err(ClientError::Api(api_error(method, &url, status, &bytes)))
    }

    pub fn get(&self, path: &str) -> Result<Response, ClientError> {
        self.request("GET", path, None)
    }

    /// Sends a raw (non-JSON) body, as Go's client does for a snapshot restore.
    pub fn send_bytes(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Response, ClientError> {
        let url = self.url(path);
        let verb = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let mut request = self
            .http
            .request(verb, &url)
            .header("X-Vault-Request", "true")
            .body(body);
        if let Some(token) = &self.options.token {
            request = request.header("X-Vault-Token", token);
        }
        let outcome = self.runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes.to_vec()))
        });
        let (status, bytes) =
            outcome.map_err(|e| ClientError::Transport(go_transport_error(method, &url, &e)))?;
        if (200..400).contains(&status) {
            return Ok(Response {
                status,
                body: bytes,
            });
        }
        Err(ClientError::Api(api_error(method, &url, status, &bytes)))
    }

    pub fn put(&self, path: &str, body: &Value) -> Result<Response, ClientError> {
        self.request("PUT", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Result<Response, ClientError> {
        self.request("DELETE", path, None)
    }
}

/// One API request: method, path under `/v1/`, query pairs, JSON body, content type.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub body: Option<&'a Value>,
    pub content_type: Option<&'a str>,
}

/// Go's `path.Clean` of an absolute path: no empty or `.` segments, `..` resolved, no
/// trailing slash.
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Go's `url.QueryEscape`.
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn read_file(path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|e| ClientError::Config(format!("failed to setup TLS config: {e}")))
}

fn read_pem_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let pem = read_file(path)?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| ClientError::Config(format!("failed to setup TLS config: {e}")))
}

fn api_error(method: &str, url: &str, status: u16, body: &[u8]) -> ApiError {
    let decoded = serde_json::from_slice::<Value>(body).ok();
    let errors =
        decoded
            .as_ref()
            .and_then(|value| value.get("errors"))
            .map(|errors| match errors {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                _ => Vec::new(),
            });
    match (decoded.is_some(), errors) {
        (true, Some(errors)) => ApiError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            errors,
            raw: false,
            body: body.to_vec(),
        },
        (true, None) => ApiError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            errors: Vec::new(),
            raw: false,
            body: body.to_vec(),
        },
        (false, _) => ApiError {
            method: method.to_string(),
            url: url.to_string(),
            status,
            errors: vec![String::from_utf8_lossy(body).into_owned()],
            raw: true,
            body: body.to_vec(),
        },
    }
}

/// Go's `url.Error` text: `Get "<url>": dial tcp 127.0.0.1:1: connect: connection refused`.
fn go_transport_error(method: &str, url: &str, error: &reqwest::Error) -> String {
    let op = {
        let lower = method.to_ascii_lowercase();
        let mut chars = lower.chars();
        match chars.next() {
            Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
            None => String::new(),
        }
    };
    let host_port = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            let port = u.port_or_known_default()?;
            Some(if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            })
        })
        .unwrap_or_default();
    let mut source: Option<&dyn std::error::Error> = Some(error);
    let mut io_kind = None;
    let mut innermost = error.to_string();
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        innermost = current.to_string();
        source = current.source();
    }
    let detail = if error.is_timeout() {
        "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".to_string()
    } else {
        match io_kind {
            Some(std::io::ErrorKind::ConnectionRefused) => {
                format!("dial tcp {host_port}: connect: connection refused")
            }
            Some(std::io::ErrorKind::ConnectionReset) => {
                format!("read tcp {host_port}: read: connection reset by peer")
            }
            _ if error.is_connect() => format!("dial tcp {host_port}: {innermost}"),
            _ => innermost,
        }
    };
    format!("{op} \"{url}\": {detail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_prints_like_vault() {
        let error = api_error(
            "PUT",
            "http://127.0.0.1:18200/v1/sys/unseal",
            400,
            br#"{"errors":["Vault is not initialized"]}"#,
        );
        assert_eq!(
            error.to_string(),
            "Error making API request.\n\nURL: PUT http://127.0.0.1:18200/v1/sys/unseal\nCode: 400. Errors:\n\n* Vault is not initialized"
        );
        let raw = api_error("GET", "http://x/v1/a", 502, b"bad gateway");
        assert_eq!(
            raw.to_string(),
            "Error making API request.\n\nURL: GET http://x/v1/a\nCode: 502. Raw Message:\n\nbad gateway"
        );
        let two = api_error("GET", "http://x/v1/a", 400, br#"{"errors":["a","b"]}"#);
        assert!(two.to_string().ends_with("* a* b"));
        let none = api_error("GET", "http://x/v1/a", 404, br#"{"errors":[]}"#);
        assert!(none.to_string().ends_with("Code: 404. Errors:\n\n"));
    }
}
