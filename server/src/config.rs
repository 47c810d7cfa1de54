//! Server configuration (Vault HCL or JSON), the `tresor server` flags, and the shared
//! duration parser.
//!
//! `load` reads one or more files or directories (merged in order: later scalars win, listeners
//! accumulate), applies defaults and the `VAULT_*` environment overrides Vault applies
//! (`vault-core-api.md` CFG-01..06), and turns unknown keys into warnings, never errors.

#![allow(dead_code)] // Part of this API is for the server and the commands still to come.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::flags::{FlagError, FlagSet, env_lookup, parse_go_bool};

/// Vault's default and maximum lease TTL when the configuration names none: 768h (32 days).
pub const LEASE_TTL_DEFAULT_SECONDS: u64 = 768 * 3600;
/// Vault's default `max_request_size`: 32 MiB.
pub const MAX_REQUEST_SIZE_DEFAULT_BYTES: i64 = 32 * 1024 * 1024;
/// Vault's default `max_request_duration`: 90 s.
pub const MAX_REQUEST_DURATION_DEFAULT_SECONDS: u64 = 90;
/// Vault's default listener address.
pub const LISTEN_ADDRESS_DEFAULT: &str = "127.0.0.1:8200";
/// Vault's default `telemetry.prometheus_retention_time`: 24h.
pub const PROMETHEUS_RETENTION_DEFAULT_SECONDS: u64 = 24 * 3600;

/// The whole server configuration after merging, defaults and environment overrides.
/// Invariant: `default_lease_ttl_seconds <= max_lease_ttl_seconds`, every listener has an
/// address and a cluster address, and `seal` is the active (not `disabled`) seal.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    pub listeners: Vec<ListenerConfig>,
    /// `None` when no `storage` block was given (Vault refuses to start without one, unless dev).
    pub storage: Option<StorageConfig>,
    /// The active seal: Shamir unless a non-disabled `seal` block or `VAULT_SEAL_TYPE` says otherwise.
    pub seal: SealConfig,
    /// `seal` blocks marked `disabled = true` (the source side of a seal migration).
    pub disabled_seals: Vec<SealConfig>,
    pub service_registration: Option<ServiceRegistrationConfig>,
    pub telemetry: TelemetryConfig,
    /// Full URL advertised to clients (`VAULT_API_ADDR` overrides).
    pub api_addr: Option<String>,
    /// `https://host:port` used between nodes (`VAULT_CLUSTER_ADDR` overrides).
    pub cluster_addr: Option<String>,
    pub disable_mlock: bool,
    pub ui: bool,
    /// One of `trace`, `debug`, `info`, `warn`, `error` (normalised from Vault's spellings).
    pub log_level: String,
    /// `standard` or `json`.
    pub log_format: String,
    pub cluster_name: Option<String>,
    pub default_lease_ttl_seconds: u64,
    pub max_lease_ttl_seconds: u64,
    pub pid_file: Option<PathBuf>,
    pub enable_response_header_hostname: bool,
    pub enable_response_header_raft_node_id: bool,
    pub disable_clustering: bool,
    /// Unknown or unsupported keys, one message each, in the order found.
    pub warnings: Vec<String>,
}

/// One `listener "tcp" { … }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerConfig {
    /// Listener type; only `tcp` exists.
    pub kind: String,
    pub address: String,
    /// Defaults to the API address with the port plus one.
    pub cluster_address: String,
    pub tls_disable: bool,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub tls_client_ca_file: Option<PathBuf>,
    pub tls_require_and_verify_client_cert: bool,
    pub tls_disable_client_certs: bool,
    /// `tls10` … `tls13`; default `tls12`.
    pub tls_min_version: String,
    pub tls_max_version: Option<String>,
    /// Bytes; negative means unlimited (Vault's convention), default 32 MiB.
    pub max_request_size_bytes: i64,
    pub max_request_duration_seconds: u64,
    pub x_forwarded_for_authorized_addrs: Vec<String>,
    pub x_forwarded_for_hop_skips: u64,
    pub x_forwarded_for_reject_not_authorized: bool,
    pub x_forwarded_for_reject_not_present: bool,
    pub unauthenticated_metrics_access: bool,
    /// Status code (or `default`) → header → value.
    pub custom_response_headers: BTreeMap<String, BTreeMap<String, String>>,
}

/// The `storage` (or legacy `backend`) block.
#[derive(Clone, Debug, PartialEq)]
pub enum StorageConfig {
    Raft(RaftConfig),
    /// Dev mode only.
    InMem,
    /// A storage type Tresor does not implement; the server refuses it.
    Other {
        kind: String,
    },
}

/// `storage "raft" { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftConfig {
    /// `VAULT_RAFT_PATH` overrides. Empty when neither is set (Vault: `'path' must be set`).
    pub path: PathBuf,
    /// `VAULT_RAFT_NODE_ID` overrides; `None` means persisted or generated.
    pub node_id: Option<String>,
    /// 0 means Vault's default (5).
    pub performance_multiplier: u64,
    pub trailing_logs: Option<u64>,
    pub snapshot_threshold: Option<u64>,
    pub snapshot_interval_seconds: Option<u64>,
    pub max_entry_size_bytes: Option<u64>,
    pub autopilot_reconcile_interval_seconds: Option<u64>,
    pub autopilot_update_interval_seconds: Option<u64>,
    pub retry_join: Vec<RetryJoinConfig>,
    /// `standby_reads`: how a standby answers reads (Tresor only; Vault has no such key).
    pub standby_reads: StandbyReads,
}

/// `storage "raft" { standby_reads = "forward" | "linearizable" }` (issue #5, beyond Vault
/// OSS). A closed set: any other value is a configuration error, never a silent default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StandbyReads {
    /// Vault OSS behaviour: a standby forwards every request to the active node.
    #[default]
    Forward,
    /// A standby serves safe reads from its own replica after a raft read-index round
    /// (`cluster/standby_reads`); everything else is still forwarded.
    Linearizable,
}

impl StandbyReads {
    pub fn parse(value: &str) -> Option<StandbyReads> {
        match value {
            "forward" => Some(StandbyReads::Forward),
            "linearizable" => Some(StandbyReads::Linearizable),
            _ => None,
        }
    }
}

/// One `retry_join { … }` stanza, as written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetryJoinConfig {
    pub leader_api_addr: Option<String>,
    pub auto_join: Option<String>,
    pub auto_join_scheme: Option<String>,
    pub auto_join_port: Option<u64>,
    pub leader_tls_servername: Option<String>,
    pub leader_ca_cert_file: Option<PathBuf>,
    pub leader_client_cert_file: Option<PathBuf>,
    pub leader_client_key_file: Option<PathBuf>,
    /// Inline PEM.
    pub leader_ca_cert: Option<String>,
    pub leader_client_cert: Option<String>,
    pub leader_client_key: Option<String>,
}

/// A `seal` block.
#[derive(Clone, Debug, PartialEq)]
pub enum SealConfig {
    Shamir,
    AzureKeyVault(AzureKeyVaultSealConfig),
}

/// `seal "azurekeyvault" { … }`; the environment wins over the file, as in go-kms-wrapping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AzureKeyVaultSealConfig {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// `None` means managed identity.
    pub client_secret: Option<String>,
    /// Default `AZUREPUBLICCLOUD`.
    pub environment: String,
    pub vault_name: Option<String>,
    pub key_name: Option<String>,
    /// Default `vault.azure.net`.
    pub resource: String,
    pub disabled: bool,
}

/// `service_registration "kubernetes" { namespace, pod_name }`; env wins, as in Vault.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRegistrationConfig {
    pub kind: String,
    pub namespace: Option<String>,
    pub pod_name: Option<String>,
}

/// The `telemetry` block.
#[derive(Clone, Debug, PartialEq)]
pub struct TelemetryConfig {
    pub prometheus_retention_time_seconds: u64,
    pub disable_hostname: bool,
    /// Every other telemetry key, as written.
    pub other: BTreeMap<String, Value>,
}

/// Why a configuration could not be loaded. Unknown keys are never errors (see `warnings`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("Error loading configuration from {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Error loading configuration from {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// A duration that is not a Vault duration; `Display` is Go's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError(pub String);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "time: invalid duration {:?}", self.0)
    }
}

impl std::error::Error for DurationError {}

/// Vault's `parseutil.ParseDurationSecond`: `""` is 0, a bare integer is seconds, `<N>d` is days,
/// anything else is a Go duration (`1h30m`, `10s`, `1.5h`, `500ms`), truncated to whole seconds.
/// Negative durations are refused.
pub fn parse_duration_seconds(input: &str) -> Result<u64, DurationError> {
    let text = input.trim();
    let invalid = || DurationError(input.to_string());
    if text.is_empty() {
        return Ok(0);
    }
    if let Ok(seconds) = text.parse::<i64>() {
        return u64::try_from(seconds).map_err(|_| invalid());
    }
    if let Some(days) = text.strip_suffix('d') {
        let days: u64 = days.parse().map_err(|_| invalid())?;
        return days.checked_mul(86_400).ok_or_else(invalid);
    }
    let nanos = parse_go_duration_nanos(text).ok_or_else(invalid)?;
    if nanos < 0 {
        return Err(invalid());
    }
    Ok((nanos / 1_000_000_000) as u64)
}

/// Go's `time.ParseDuration`, in nanoseconds.
fn parse_go_duration_nanos(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += value * scale;
    }
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

/// Loads and merges the given files and directories (`-config` repeated). Directories
/// contribute their `.hcl` and `.json` files in name order.
pub fn load(paths: &[PathBuf]) -> Result<ServerConfig, ConfigError> {
    let mut builder = Builder::default();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        if metadata.is_dir() {
            for file in config_files_in(path)? {
                builder.load_file(&file)?;
            }
        } else {
            builder.load_file(path)?;
        }
    }
    builder.finish()
}

/// Parses one configuration text (HCL, or JSON when it starts with `{`) as if it were the
/// only file. `name` only appears in messages.
pub fn parse_str(name: &str, text: &str) -> Result<ServerConfig, ConfigError> {
    let mut builder = Builder::default();
    builder.load_text(Path::new(name), text)?;
    builder.finish()
}

/// The configuration of `tresor server -dev`: one plain-HTTP listener on `listen_address`,
/// in-memory storage, Shamir seal, UI on, `api_addr` `http://<listen_address>`.
pub fn dev(listen_address: &str) -> ServerConfig {
    let mut listener = default_listener();
    listener.address = listen_address.to_string();
    listener.cluster_address = cluster_address_for(listen_address);
    listener.tls_disable = true;
    let mut config = empty_config();
    config.listeners = vec![listener];
    config.storage = Some(StorageConfig::InMem);
    config.ui = true;
    config.disable_mlock = true;
    config.api_addr = Some(format!("http://{listen_address}"));
    config.cluster_addr = Some(format!("https://{}", cluster_address_for(listen_address)));
    // Dev mode takes the same environment overrides; a bad value keeps the dev default.
    let _ = apply_env(&mut config);
    config
}

/// Flags of `tresor server`, parsed as `vault server` parses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFlags {
    pub config_paths: Vec<PathBuf>,
    pub dev: bool,
    /// `-dev-root-token-id` or `VAULT_DEV_ROOT_TOKEN_ID`.
    pub dev_root_token_id: Option<String>,
    /// `-dev-listen-address`, `VAULT_DEV_LISTEN_ADDRESS`, default `127.0.0.1:8200`.
    pub dev_listen_address: String,
    pub dev_no_store_token: bool,
    pub dev_kv_v1: bool,
    /// Set only when `-log-level` was given (it wins over env and file).
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    /// `-h`/`-help` was given: print `server_help()` and exit 0.
    pub help: bool,
}

fn server_flag_set() -> FlagSet {
    FlagSet::new("server")
        .section("Command Options")
        .strings(
            "config",
            "Path to a configuration file or directory of configuration files. This flag can \
             be specified multiple times to load multiple configurations. If the path is a \
             directory, all files which end in .hcl or .json are loaded.",
        )
        .string(
            "log-level",
            "",
            "Log verbosity level. Supported values (in order of detail) are \"trace\", \
             \"debug\", \"info\", \"warn\", and \"error\".",
        )
        .env("VAULT_LOG_LEVEL")
        .string("log-format", "", "Log format. Supported values are \"standard\" and \"json\".")
        .env("VAULT_LOG_FORMAT")
        .section("Dev Options")
        .bool(
            "dev",
            "Enable development mode. In this mode, Vault runs in-memory and starts unsealed. \
             As the name implies, do not run \"dev\" mode in production.",
        )
        .default_text("")
        .string(
            "dev-root-token-id",
            "",
            "Initial root token. This only applies when running in \"dev\" mode.",
        )
        .env("VAULT_DEV_ROOT_TOKEN_ID")
        .string(
            "dev-listen-address",
            LISTEN_ADDRESS_DEFAULT,
            "Address to bind to in \"dev\" mode.",
        )
        .env("VAULT_DEV_LISTEN_ADDRESS")
        .bool(
            "dev-no-store-token",
            "Do not persist the dev root token to the token helper (usually the local \
             filesystem) for use in future requests. The token will only be displayed in the \
             command output.",
        )
        .bool(
            "dev-kv-v1",
            "Enable KV v1 at secret/ instead of KV v2. This only applies when running in \"dev\" mode.",
        )
        .default_text("")
}

/// Help text of `tresor server`.
pub fn server_help() -> String {
    format!(
        "Usage: vault server [options]\n\n  This command starts a Vault server that responds to API requests. By default,\n  Vault will start in a \"sealed\" state. The Vault cluster must be initialized\n  before use, usually by the \"vault operator init\" command. Each Vault server must\n  also be unsealed using the \"vault operator unseal\" command or the API before the\n  server can respond to requests.\n\n  Start a server with a configuration file:\n\n      $ vault server -config=/etc/vault/config.hcl\n\n  Run in \"dev\" mode:\n\n      $ vault server -dev -dev-root-token-id=\"root\"\n\n{}",
        server_flag_set().help()
    )
}

/// Parses the arguments after `server`. Errors are the texts `vault server` prints before
/// exiting 1 (`flag provided but not defined: -x`, `Must specify at least one config path…`).
pub fn parse_server_flags(args: &[String]) -> Result<ServerFlags, String> {
    let flags = match server_flag_set().parse(args) {
        Ok(flags) => flags,
        Err(FlagError::Help) => {
            return Ok(ServerFlags {
                help: true,
                ..ServerFlags::default()
            });
        }
        Err(FlagError::Invalid(message)) => return Err(message),
    };
    if !flags.args().is_empty() {
        return Err(format!(
            "Too many arguments (expected 0, got {})",
            flags.args().len()
        ));
    }
    let config_paths: Vec<PathBuf> = flags.strings("config").iter().map(PathBuf::from).collect();
    let dev = flags.bool("dev");
    if config_paths.is_empty() && !dev {
        return Err("Must specify at least one config path using -config".to_string());
    }
    let non_empty = |name: &str| Some(flags.string(name).to_string()).filter(|s| !s.is_empty());
    Ok(ServerFlags {
        config_paths,
        dev,
        dev_root_token_id: non_empty("dev-root-token-id"),
        dev_listen_address: flags.string("dev-listen-address").to_string(),
        dev_no_store_token: flags.bool("dev-no-store-token"),
        dev_kv_v1: flags.bool("dev-kv-v1"),
        log_level: non_empty("log-level"),
        log_format: non_empty("log-format"),
        help: false,
    })
}

/// Normalises Vault's log level spellings; `None` for an unknown level.
pub fn normalize_log_level(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Some("trace"),
        "debug" => Some("debug"),
        "notice" | "info" | "" => Some("info"),
        "warn" | "warning" => Some("warn"),
        "err" | "error" => Some("error"),
        _ => None,
    }
}

fn config_files_in(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let io = |source| ConfigError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let wanted = name.ends_with(".hcl") || name.ends_with(".json");
        if wanted && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn empty_config() -> ServerConfig {
    ServerConfig {
        listeners: Vec::new(),
        storage: None,
        seal: SealConfig::Shamir,
        disabled_seals: Vec::new(),
        service_registration: None,
        telemetry: TelemetryConfig {
            prometheus_retention_time_seconds: PROMETHEUS_RETENTION_DEFAULT_SECONDS,
            disable_hostname: false,
            other: BTreeMap::new(),
        },
        api_addr: None,
        cluster_addr: None,
        disable_mlock: false,
        ui: false,
        log_level: "info".to_string(),
        log_format: "standard".to_string(),
        cluster_name: None,
        default_lease_ttl_seconds: 0,
        max_lease_ttl_seconds: 0,
        pid_file: None,
        enable_response_header_hostname: false,
        enable_response_header_raft_node_id: false,
        disable_clustering: false,
        warnings: Vec::new(),
    }
}

fn default_listener() -> ListenerConfig {
    ListenerConfig {
        kind: "tcp".to_string(),
        address: LISTEN_ADDRESS_DEFAULT.to_string(),
        cluster_address: String::new(),
        tls_disable: false,
        tls_cert_file: None,
        tls_key_file: None,
        tls_client_ca_file: None,
        tls_require_and_verify_client_cert: false,
        tls_disable_client_certs: false,
        tls_min_version: "tls12".to_string(),
        tls_max_version: None,
        max_request_size_bytes: MAX_REQUEST_SIZE_DEFAULT_BYTES,
        max_request_duration_seconds: MAX_REQUEST_DURATION_DEFAULT_SECONDS,
        x_forwarded_for_authorized_addrs: Vec::new(),
        x_forwarded_for_hop_skips: 0,
        x_forwarded_for_reject_not_authorized: true,
        x_forwarded_for_reject_not_present: true,
        unauthenticated_metrics_access: false,
        custom_response_headers: BTreeMap::new(),
    }
}

/// `host:port` → `host:(port+1)`; `[::]:8200` → `[::]:8201`. Unparseable input is kept.
pub fn cluster_address_for(address: &str) -> String {
    let Some((host, port)) = address.rsplit_once(':') else {
        return address.to_string();
    };
    match port.parse::<u16>() {
        Ok(port) => format!("{host}:{}", port.saturating_add(1)),
        Err(_) => address.to_string(),
    }
}

/// Accumulates files in order: later scalars win, listeners and seals accumulate.
#[derive(Default)]
struct Builder {
    config: Option<ServerConfig>,
    seals: Vec<SealConfig>,
    max_lease_ttl_set: bool,
}

impl Builder {
    fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.load_text(path, &text)
    }

    fn load_text(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let parse_error = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let is_json =
            path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
        let root = if is_json {
            serde_json::from_str::<Value>(text).map_err(|e| parse_error(e.to_string()))?
        } else {
            // HCL v1 (Vault's parser) accepts several attributes on one line inside braces;
            // HCL 2 does not, so a failed parse is retried with braces and attributes split.
            let body = match hcl::parse(text) {
                Ok(body) => body,
                Err(error) => hcl::parse(&split_hcl1_lines(text))
                    .map_err(|_| parse_error(error.to_string()))?,
            };
            hcl_body_to_json(&body).map_err(parse_error)?
        };
        let Value::Object(root) = root else {
            return Err(parse_error("configuration must be an object".to_string()));
        };
        let file = path.display().to_string();
        let mut reader = Reader {
            file: &file,
            warnings: Vec::new(),
        };
        let config = self.config.get_or_insert_with(empty_config);
        for (key, value) in &root {
            reader.top_level(
                config,
                &mut self.seals,
                &mut self.max_lease_ttl_set,
                key,
                value,
            )?;
        }
        config.warnings.append(&mut reader.warnings);
        Ok(())
    }

    fn finish(self) -> Result<ServerConfig, ConfigError> {
        let mut config = self.config.unwrap_or_else(empty_config);
        for seal in self.seals {
            let disabled = matches!(&seal, SealConfig::AzureKeyVault(azure) if azure.disabled);
            if disabled {
                config.disabled_seals.push(seal);
            } else {
                config.seal = seal;
            }
        }
        apply_env(&mut config)?;
        if config.default_lease_ttl_seconds == 0 {
            config.default_lease_ttl_seconds = LEASE_TTL_DEFAULT_SECONDS;
        }
        if config.max_lease_ttl_seconds == 0 {
            config.max_lease_ttl_seconds = LEASE_TTL_DEFAULT_SECONDS;
        }
        if config.default_lease_ttl_seconds > config.max_lease_ttl_seconds {
            return Err(ConfigError::Invalid(
                "cannot have DefaultLeaseTTL larger than MaxLeaseTTL".to_string(),
            ));
        }
        let _ = self.max_lease_ttl_set;
        Ok(config)
    }
}

/// Applies the environment overrides Vault's `server` command applies.
fn apply_env(config: &mut ServerConfig) -> Result<(), ConfigError> {
    if let Some(value) = env_nonempty("VAULT_API_ADDR") {
        config.api_addr = Some(value);
    }
    if let Some(value) = env_nonempty("VAULT_CLUSTER_ADDR") {
        config.cluster_addr = Some(value);
    }
    if let Some(value) = env_nonempty("VAULT_DISABLE_MLOCK") {
        config.disable_mlock = parse_go_bool(&value).map_err(|_| {
            ConfigError::Invalid(
                "Error parsing the environment variable VAULT_DISABLE_MLOCK".to_string(),
            )
        })?;
    }
    if let Some(value) = env_nonempty("VAULT_UI") {
        config.ui = parse_go_bool(&value).map_err(|_| {
            ConfigError::Invalid("Error parsing the environment variable VAULT_UI".to_string())
        })?;
    }
    if let Some(value) = env_nonempty("VAULT_LOG_LEVEL") {
        config.log_level = normalize_log_level(&value)
            .ok_or_else(|| ConfigError::Invalid(format!("unknown log level: {value}")))?
            .to_string();
    }
    if let Some(value) = env_nonempty("VAULT_LOG_FORMAT") {
        config.log_format = value;
    }
    if let Some(StorageConfig::Raft(raft)) = &mut config.storage {
        if let Some(value) = env_nonempty("VAULT_RAFT_PATH") {
            raft.path = PathBuf::from(value);
        }
        if let Some(value) = env_nonempty("VAULT_RAFT_NODE_ID") {
            raft.node_id = Some(value);
        }
    }
    if let Some(kind) = env_nonempty("VAULT_SEAL_TYPE")
        && kind == "azurekeyvault"
        && !matches!(config.seal, SealConfig::AzureKeyVault(_))
    {
        config.seal = SealConfig::AzureKeyVault(azure_seal(&Map::new()));
    }
    if let Some(registration) = &mut config.service_registration
        && registration.kind == "kubernetes"
    {
        if let Some(value) = env_nonempty("VAULT_K8S_NAMESPACE") {
            registration.namespace = Some(value);
        }
        if let Some(value) = env_nonempty("VAULT_K8S_POD_NAME") {
            registration.pod_name = Some(value);
        }
    }
    Ok(())
}

fn env_nonempty(var: &str) -> Option<String> {
    env_lookup(var).filter(|value| !value.is_empty())
}

/// Converts an HCL body to JSON the way Vault's HCL v1 decoder sees it: an attribute is a
/// value, a block is appended to an array under its name, nested in an object per label.
fn hcl_body_to_json(body: &hcl::Body) -> Result<Value, String> {
    use hcl::eval::Evaluate;
    let mut out = Map::new();
    for structure in body.iter() {
        match structure {
            hcl::Structure::Attribute(attribute) => {
                let context = hcl::eval::Context::new();
                let value = attribute
                    .expr
                    .evaluate(&context)
                    .map_err(|e| format!("{}: {e}", attribute.key.as_str()))?;
                let json = serde_json::to_value(&value).map_err(|e| e.to_string())?;
                out.insert(attribute.key.as_str().to_string(), json);
            }
            hcl::Structure::Block(block) => {
                let mut value = hcl_body_to_json(&block.body)?;
                for label in block.labels.iter().rev() {
                    let mut wrapper = Map::new();
                    wrapper.insert(label.as_str().to_string(), value);
                    value = Value::Object(wrapper);
                }
                let slot = out
                    .entry(block.identifier.as_str().to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                match slot {
                    Value::Array(items) => items.push(value),
                    other => *other = Value::Array(vec![value]),
                }
            }
        }
    }
    Ok(Value::Object(out))
}

/// Rewrites HCL v1's one-line forms (`listener "tcp" { a = 1 b = "x" }`) into HCL 2's: a
/// newline after `{`, before `}`, and before an attribute that follows a value on the same line.
/// Text inside strings and comments is left alone.
fn split_hcl1_lines(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut in_comment = false;
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if in_comment {
            out.push(c);
            in_comment = c != '\n';
            index += 1;
            continue;
        }
        if in_string {
            out.push(c);
            if c == '\\' && index + 1 < chars.len() {
                out.push(chars[index + 1]);
                index += 2;
                continue;
            }
            in_string = c != '"';
            index += 1;
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '#' => {
                in_comment = true;
                out.push(c);
            }
            '/' if chars.get(index + 1) == Some(&'/') => {
                in_comment = true;
                out.push(c);
            }
            '{' => out.push_str("{\n"),
            '}' => out.push_str("\n}"),
            ' ' | '\t' => {
                let previous = out.trim_end_matches([' ', '\t']).chars().last();
                let value_ended = matches!(previous, Some('"' | ']' | '}' | '0'..='9' | 'e'));
                if value_ended && starts_attribute(&chars[index..]) {
                    out.push('\n');
                } else {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
        index += 1;
    }
    out
}

/// Whether `rest` (after some whitespace) starts an attribute (`identifier =`) or a block
/// (`identifier {`, `identifier "label"`).
fn starts_attribute(rest: &[char]) -> bool {
    let mut index = 0;
    while index < rest.len() && (rest[index] == ' ' || rest[index] == '\t') {
        index += 1;
    }
    let start = index;
    while index < rest.len()
        && (rest[index].is_ascii_alphanumeric() || rest[index] == '_' || rest[index] == '-')
    {
        index += 1;
    }
    if index == start || !rest[start].is_ascii_alphabetic() && rest[start] != '_' {
        return false;
    }
    while index < rest.len() && (rest[index] == ' ' || rest[index] == '\t') {
        index += 1;
    }
    match rest.get(index) {
        Some('=') => rest.get(index + 1) != Some(&'='),
        Some('{' | '"') => true,
        _ => false,
    }
}

/// Every body under a block key: `{…}`, `[{…}, …]`.
fn block_bodies(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(map) => vec![map],
        Value::Array(items) => items.iter().flat_map(block_bodies).collect(),
        _ => Vec::new(),
    }
}

/// Every `(label, body)` under a labelled block key: `{"tcp": {…}}`, `[{"tcp": {…}}]`,
/// `{"tcp": [{…}, {…}]}`.
fn labeled_bodies(value: &Value) -> Vec<(String, &Map<String, Value>)> {
    let mut out = Vec::new();
    for outer in block_bodies(value) {
        for (label, inner) in outer {
            for body in block_bodies(inner) {
                out.push((label.clone(), body));
            }
        }
    }
    out
}

struct Reader<'a> {
    file: &'a str,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn unknown(&mut self, key: &str) {
        self.warnings.push(format!(
            "unknown or unsupported field {key} found in configuration at {}",
            self.file
        ));
    }

    fn invalid(&self, key: &str, expected: &str, value: &Value) -> ConfigError {
        ConfigError::Invalid(format!(
            "Error parsing {}: {key}: expected {expected}, got {value}",
            self.file
        ))
    }

    fn bool(&self, key: &str, value: &Value) -> Result<bool, ConfigError> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) => parse_go_bool(s).map_err(|_| self.invalid(key, "a boolean", value)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(i != 0),
                None => Err(self.invalid(key, "a boolean", value)),
            },
            _ => Err(self.invalid(key, "a boolean", value)),
        }
    }

    fn string(&self, key: &str, value: &Value) -> Result<String, ConfigError> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.invalid(key, "a string", value)),
        }
    }

    fn int(&self, key: &str, value: &Value) -> Result<i64, ConfigError> {
        match value {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| self.invalid(key, "an integer", value)),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.invalid(key, "an integer", value)),
            _ => Err(self.invalid(key, "an integer", value)),
        }
    }

    fn uint(&self, key: &str, value: &Value) -> Result<u64, ConfigError> {
        let int = self.int(key, value)?;
        u64::try_from(int).map_err(|_| self.invalid(key, "a non-negative integer", value))
    }

    fn duration(&self, key: &str, value: &Value) -> Result<u64, ConfigError> {
        match value {
            Value::Number(n) => match n.as_u64() {
                Some(seconds) => Ok(seconds),
                None => Err(self.invalid(key, "a duration", value)),
            },
            Value::String(s) => parse_duration_seconds(s).map_err(|e| {
                ConfigError::Invalid(format!("Error parsing {}: {key}: {e}", self.file))
            }),
            _ => Err(self.invalid(key, "a duration", value)),
        }
    }

    fn strings(&self, key: &str, value: &Value) -> Result<Vec<String>, ConfigError> {
        match value {
            Value::Array(items) => items.iter().map(|item| self.string(key, item)).collect(),
            Value::String(s) => Ok(s
                .split(',')
                .map(|part| part.trim().to_string())
                .filter(|part| !part.is_empty())
                .collect()),
            _ => Err(self.invalid(key, "a list of strings", value)),
        }
    }

    fn top_level(
        &mut self,
        config: &mut ServerConfig,
        seals: &mut Vec<SealConfig>,
        max_lease_ttl_set: &mut bool,
        key: &str,
        value: &Value,
    ) -> Result<(), ConfigError> {
        match key {
            "listener" => {
                for (kind, body) in labeled_bodies(value) {
                    let listener = self.listener(&kind, body)?;
                    config.listeners.push(listener);
                }
            }
            "storage" | "backend" => {
                if let Some((kind, body)) = labeled_bodies(value).pop() {
                    config.storage = Some(self.storage(&kind, body)?);
                }
            }
            "ha_storage" | "ha_backend" => self.unknown(key),
            "seal" => {
                for (kind, body) in labeled_bodies(value) {
                    seals.push(self.seal(&kind, body)?);
                }
            }
            "service_registration" => {
                if let Some((kind, body)) = labeled_bodies(value).pop() {
                    config.service_registration = Some(self.service_registration(&kind, body)?);
                }
            }
            "telemetry" => {
                for body in block_bodies(value) {
                    self.telemetry(&mut config.telemetry, body)?;
                }
            }
            "api_addr" => config.api_addr = Some(self.string(key, value)?),
            "cluster_addr" => config.cluster_addr = Some(self.string(key, value)?),
            "disable_mlock" => config.disable_mlock = self.bool(key, value)?,
            "ui" => config.ui = self.bool(key, value)?,
            "log_level" => {
                let level = self.string(key, value)?;
                config.log_level = normalize_log_level(&level)
                    .ok_or_else(|| ConfigError::Invalid(format!("unknown log level: {level}")))?
                    .to_string();
            }
            "log_format" => config.log_format = self.string(key, value)?,
            "cluster_name" => config.cluster_name = Some(self.string(key, value)?),
            "default_lease_ttl" => config.default_lease_ttl_seconds = self.duration(key, value)?,
            "max_lease_ttl" => {
                config.max_lease_ttl_seconds = self.duration(key, value)?;
                *max_lease_ttl_set = true;
            }
            "pid_file" => config.pid_file = Some(PathBuf::from(self.string(key, value)?)),
            "enable_response_header_hostname" => {
                config.enable_response_header_hostname = self.bool(key, value)?
            }
            "enable_response_header_raft_node_id" => {
                config.enable_response_header_raft_node_id = self.bool(key, value)?
            }
            "disable_clustering" => config.disable_clustering = self.bool(key, value)?,
            _ => self.unknown(key),
        }
        Ok(())
    }

    fn listener(
        &mut self,
        kind: &str,
        body: &Map<String, Value>,
    ) -> Result<ListenerConfig, ConfigError> {
        let mut listener = default_listener();
        listener.kind = kind.to_string();
        if kind != "tcp" {
            return Err(ConfigError::Invalid(format!(
                "unknown listener type: {kind:?}"
            )));
        }
        let path = |p: String| Some(PathBuf::from(p));
        for (key, value) in body {
            match key.as_str() {
                "address" => listener.address = self.string(key, value)?,
                "cluster_address" => listener.cluster_address = self.string(key, value)?,
                "tls_disable" => listener.tls_disable = self.bool(key, value)?,
                "tls_cert_file" => listener.tls_cert_file = path(self.string(key, value)?),
                "tls_key_file" => listener.tls_key_file = path(self.string(key, value)?),
                "tls_client_ca_file" => {
                    listener.tls_client_ca_file = path(self.string(key, value)?)
                }
                "tls_require_and_verify_client_cert" => {
                    listener.tls_require_and_verify_client_cert = self.bool(key, value)?
                }
                "tls_disable_client_certs" => {
                    listener.tls_disable_client_certs = self.bool(key, value)?
                }
                "tls_min_version" => listener.tls_min_version = self.string(key, value)?,
                "tls_max_version" => listener.tls_max_version = Some(self.string(key, value)?),
                "max_request_size" => {
                    let size = self.int(key, value)?;
                    // Vault: 0 means the default, negative means unlimited.
                    listener.max_request_size_bytes = if size == 0 {
                        MAX_REQUEST_SIZE_DEFAULT_BYTES
                    } else {
                        size
                    };
                }
                "max_request_duration" => {
                    let seconds = self.duration(key, value)?;
                    listener.max_request_duration_seconds = if seconds == 0 {
                        MAX_REQUEST_DURATION_DEFAULT_SECONDS
                    } else {
                        seconds
                    };
                }
                "x_forwarded_for_authorized_addrs" => {
                    listener.x_forwarded_for_authorized_addrs = self.strings(key, value)?
                }
                "x_forwarded_for_hop_skips" => {
                    listener.x_forwarded_for_hop_skips = self.uint(key, value)?
                }
                "x_forwarded_for_reject_not_authorized" => {
                    listener.x_forwarded_for_reject_not_authorized = self.bool(key, value)?
                }
                "x_forwarded_for_reject_not_present" => {
                    listener.x_forwarded_for_reject_not_present = self.bool(key, value)?
                }
                "telemetry" => {
                    for telemetry in block_bodies(value) {
                        for (inner, inner_value) in telemetry {
                            match inner.as_str() {
                                "unauthenticated_metrics_access" => {
                                    listener.unauthenticated_metrics_access =
                                        self.bool(inner, inner_value)?
                                }
                                _ => self.unknown(&format!("listener.telemetry.{inner}")),
                            }
                        }
                    }
                }
                "custom_response_headers" => {
                    for headers in block_bodies(value) {
                        for (status, per_status) in headers {
                            let entry = listener
                                .custom_response_headers
                                .entry(status.clone())
                                .or_default();
                            for map in block_bodies(per_status) {
                                for (name, header_value) in map {
                                    let text = match header_value {
                                        Value::Array(items) => items
                                            .iter()
                                            .map(|item| self.string(name, item))
                                            .collect::<Result<Vec<_>, _>>()?
                                            .join(", "),
                                        other => self.string(name, other)?,
                                    };
                                    entry.insert(name.clone(), text);
                                }
                            }
                        }
                    }
                }
                "proxy_protocol_behavior"
                | "proxy_protocol_authorized_addrs"
                | "tls_cipher_suites"
                | "tls_prefer_server_cipher_suites"
                | "http_idle_timeout"
                | "http_read_header_timeout"
                | "http_read_timeout"
                | "http_write_timeout"
                | "unauthenticated_metrics_access" => self.unknown(&format!("listener.{key}")),
                _ => self.unknown(&format!("listener.{key}")),
            }
        }
        if listener.cluster_address.is_empty() {
            listener.cluster_address = cluster_address_for(&listener.address);
        }
        Ok(listener)
    }

    fn storage(
        &mut self,
        kind: &str,
        body: &Map<String, Value>,
    ) -> Result<StorageConfig, ConfigError> {
        match kind {
            "raft" => Ok(StorageConfig::Raft(self.raft(body)?)),
            "inmem" => Ok(StorageConfig::InMem),
            _ => Ok(StorageConfig::Other {
                kind: kind.to_string(),
            }),
        }
    }

    fn raft(&mut self, body: &Map<String, Value>) -> Result<RaftConfig, ConfigError> {
        let mut raft = RaftConfig {
            path: PathBuf::new(),
            node_id: None,
            performance_multiplier: 0,
            trailing_logs: None,
            snapshot_threshold: None,
            snapshot_interval_seconds: None,
            max_entry_size_bytes: None,
            autopilot_reconcile_interval_seconds: None,
            autopilot_update_interval_seconds: None,
            retry_join: Vec::new(),
            standby_reads: StandbyReads::Forward,
        };
        for (key, value) in body {
            match key.as_str() {
                "path" => raft.path = PathBuf::from(self.string(key, value)?),
                "node_id" => raft.node_id = Some(self.string(key, value)?),
                "performance_multiplier" => raft.performance_multiplier = self.uint(key, value)?,
                "trailing_logs" => raft.trailing_logs = Some(self.uint(key, value)?),
                "snapshot_threshold" => raft.snapshot_threshold = Some(self.uint(key, value)?),
                "snapshot_interval" => {
                    raft.snapshot_interval_seconds = Some(self.duration(key, value)?)
                }
                "max_entry_size" => raft.max_entry_size_bytes = Some(self.uint(key, value)?),
                "autopilot_reconcile_interval" => {
                    raft.autopilot_reconcile_interval_seconds = Some(self.duration(key, value)?)
                }
                "autopilot_update_interval" => {
                    raft.autopilot_update_interval_seconds = Some(self.duration(key, value)?)
                }
                "retry_join" => {
                    for stanza in block_bodies(value) {
                        raft.retry_join.push(self.retry_join(stanza)?);
                    }
                }
                "standby_reads" => raft.standby_reads = self.standby_reads(key, value)?,
                _ => self.unknown(&format!("storage.raft.{key}")),
            }
        }
        Ok(raft)
    }

    fn standby_reads(&self, key: &str, value: &Value) -> Result<StandbyReads, ConfigError> {
        let text = self.string(key, value)?;
        StandbyReads::parse(&text).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "Error parsing {}: storage.raft.{key}: unknown value {text:?} (expected \"forward\" or \"linearizable\")",
                self.file
            ))
        })
    }

    fn retry_join(&mut self, body: &Map<String, Value>) -> Result<RetryJoinConfig, ConfigError> {
        let mut join = RetryJoinConfig::default();
        for (key, value) in body {
            let text = || self.string(key, value);
            match key.as_str() {
                "leader_api_addr" => join.leader_api_addr = Some(text()?),
                "auto_join" => join.auto_join = Some(text()?),
                "auto_join_scheme" => join.auto_join_scheme = Some(text()?),
                "auto_join_port" => join.auto_join_port = Some(self.uint(key, value)?),
                "leader_tls_servername" => join.leader_tls_servername = Some(text()?),
                "leader_ca_cert_file" => join.leader_ca_cert_file = Some(PathBuf::from(text()?)),
                "leader_client_cert_file" => {
                    join.leader_client_cert_file = Some(PathBuf::from(text()?))
                }
                "leader_client_key_file" => {
                    join.leader_client_key_file = Some(PathBuf::from(text()?))
                }
                "leader_ca_cert" => join.leader_ca_cert = Some(text()?),
                "leader_client_cert" => join.leader_client_cert = Some(text()?),
                "leader_client_key" => join.leader_client_key = Some(text()?),
                _ => self.unknown(&format!("storage.raft.retry_join.{key}")),
            }
        }
        Ok(join)
    }

    fn seal(&mut self, kind: &str, body: &Map<String, Value>) -> Result<SealConfig, ConfigError> {
        match kind {
            "shamir" => {
                for key in body.keys() {
                    self.unknown(&format!("seal.shamir.{key}"));
                }
                Ok(SealConfig::Shamir)
            }
            "azurekeyvault" => {
                let known = [
                    "tenant_id",
                    "client_id",
                    "client_secret",
                    "environment",
                    "vault_name",
                    "key_name",
                    "resource",
                    "disabled",
                ];
                for key in body.keys().filter(|k| !known.contains(&k.as_str())) {
                    self.unknown(&format!("seal.azurekeyvault.{key}"));
                }
                let mut azure = azure_seal(body);
                if let Some(value) = body.get("disabled") {
                    azure.disabled = self.bool("disabled", value)?;
                }
                Ok(SealConfig::AzureKeyVault(azure))
            }
            _ => Err(ConfigError::Invalid(format!("Unknown seal type {kind}"))),
        }
    }

    fn service_registration(
        &mut self,
        kind: &str,
        body: &Map<String, Value>,
    ) -> Result<ServiceRegistrationConfig, ConfigError> {
        let mut registration = ServiceRegistrationConfig {
            kind: kind.to_string(),
            namespace: None,
            pod_name: None,
        };
        for (key, value) in body {
            match key.as_str() {
                "namespace" => registration.namespace = Some(self.string(key, value)?),
                "pod_name" => registration.pod_name = Some(self.string(key, value)?),
                _ => self.unknown(&format!("service_registration.{key}")),
            }
        }
        Ok(registration)
    }

    fn telemetry(
        &mut self,
        telemetry: &mut TelemetryConfig,
        body: &Map<String, Value>,
    ) -> Result<(), ConfigError> {
        for (key, value) in body {
            match key.as_str() {
                "prometheus_retention_time" => {
                    telemetry.prometheus_retention_time_seconds = self.duration(key, value)?
                }
                "disable_hostname" => telemetry.disable_hostname = self.bool(key, value)?,
                _ => {
                    telemetry.other.insert(key.clone(), value.clone());
                }
            }
        }
        Ok(())
    }
}

/// Azure seal settings: environment first, then the block, then Vault's defaults.
fn azure_seal(body: &Map<String, Value>) -> AzureKeyVaultSealConfig {
    let field = |env: &str, key: &str| -> Option<String> {
        env_nonempty(env).or_else(|| match body.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
    };
    AzureKeyVaultSealConfig {
        tenant_id: field("AZURE_TENANT_ID", "tenant_id"),
        client_id: field("AZURE_CLIENT_ID", "client_id"),
        client_secret: field("AZURE_CLIENT_SECRET", "client_secret"),
        environment: field("AZURE_ENVIRONMENT", "environment")
            .unwrap_or_else(|| "AZUREPUBLICCLOUD".to_string()),
        vault_name: field("VAULT_AZUREKEYVAULT_VAULT_NAME", "vault_name"),
        key_name: field("VAULT_AZUREKEYVAULT_KEY_NAME", "key_name"),
        resource: field("AZURE_AD_RESOURCE", "resource")
            .unwrap_or_else(|| "vault.azure.net".to_string()),
        disabled: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables are process-wide; tests that read or set them take this lock.
    static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

    const ENV_VARS: &[&str] = &[
        "VAULT_API_ADDR",
        "VAULT_CLUSTER_ADDR",
        "VAULT_RAFT_PATH",
        "VAULT_RAFT_NODE_ID",
        "VAULT_LOG_LEVEL",
        "VAULT_UI",
        "VAULT_DISABLE_MLOCK",
        "VAULT_SEAL_TYPE",
        "VAULT_DEV_LISTEN_ADDRESS",
        "VAULT_DEV_ROOT_TOKEN_ID",
    ];

    fn with_env<T>(vars: &[(&str, &str)], body: impl FnOnce() -> T) -> T {
        let _guard = ENV_LOCK.lock().unwrap_or_else(|poison| poison.into_inner());
        // SAFETY: every test that touches the environment holds ENV_LOCK.
        unsafe {
            for var in ENV_VARS {
                std::env::remove_var(var);
                std::env::remove_var(var.replacen("VAULT_", "BAO_", 1));
            }
            for (key, value) in vars {
                std::env::set_var(key, value);
            }
        }
        let result = body();
        unsafe {
            for (key, _) in vars {
                std::env::remove_var(key);
            }
        }
        result
    }

    fn check(text: &str) -> ServerConfig {
        with_env(&[], || parse_str("test.hcl", text).expect("config parses"))
    }

    /// Goal: `standby_reads` defaults to forwarding, takes its two values in HCL and JSON,
    /// and refuses anything else with an error that names the key and the allowed values.
    #[test]
    fn standby_reads_is_a_closed_set() {
        let raft_of = |config: ServerConfig| match config.storage {
            Some(StorageConfig::Raft(raft)) => raft,
            other => panic!("raft storage expected: {other:?}"),
        };
        let default = check("storage \"raft\" {\n  path = \"/d\"\n}\n");
        assert_eq!(raft_of(default).standby_reads, StandbyReads::Forward);
        for (value, expected) in [
            ("forward", StandbyReads::Forward),
            ("linearizable", StandbyReads::Linearizable),
        ] {
            let hcl = check(&format!(
                "storage \"raft\" {{\n  path = \"/d\"\n  standby_reads = \"{value}\"\n}}\n"
            ));
            assert_eq!(raft_of(hcl).standby_reads, expected, "{value}");
        }
        let json =
            check(r#"{"storage": {"raft": {"path": "/d", "standby_reads": "linearizable"}}}"#);
        assert_eq!(raft_of(json).standby_reads, StandbyReads::Linearizable);
        for bad in ["Linearizable", "stale", ""] {
            let text =
                format!("storage \"raft\" {{\n  path = \"/d\"\n  standby_reads = \"{bad}\"\n}}\n");
            let error = with_env(&[], || parse_str("test.hcl", &text)).expect_err(bad);
            let message = error.to_string();
            assert!(
                message.contains("storage.raft.standby_reads")
                    && message.contains("\"forward\" or \"linearizable\""),
                "{message}"
            );
        }
    }

    #[test]
    fn duration_spellings_match_parse_duration_second() {
        let cases: &[(&str, Option<u64>)] = &[
            ("", Some(0)),
            ("0", Some(0)),
            ("10", Some(10)),
            ("10s", Some(10)),
            ("1h30m", Some(5400)),
            ("768h", Some(2_764_800)),
            ("1.5h", Some(5400)),
            ("90m", Some(5400)),
            ("1500ms", Some(1)),
            ("7d", Some(604_800)),
            (" 5m ", Some(300)),
            ("1h0m0s", Some(3600)),
            ("-1s", None),
            ("-5", None),
            ("abc", None),
            ("1x", None),
            ("h", None),
            ("1.5d", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_duration_seconds(input).ok(),
                *expected,
                "input {input:?}"
            );
        }
        assert_eq!(
            parse_duration_seconds("abc").unwrap_err().to_string(),
            "time: invalid duration \"abc\""
        );
    }

    #[test]
    fn vault_helm_config_parses() {
        let config = check(
            "ui = true\n\
             listener \"tcp\" {\n  tls_disable = 1\n  address = \"[::]:8200\"\n  cluster_address = \"[::]:8201\"\n}\n\
             storage \"raft\" {\n  path = \"/vault/data\"\n  retry_join {\n    leader_api_addr = \"http://vault-0.vault-internal:8200\"\n  }\n}\n\
             service_registration \"kubernetes\" {}\n",
        );
        assert!(config.ui);
        assert_eq!(config.listeners.len(), 1);
        let listener = &config.listeners[0];
        assert!(listener.tls_disable);
        assert_eq!(listener.address, "[::]:8200");
        assert_eq!(listener.cluster_address, "[::]:8201");
        let Some(StorageConfig::Raft(raft)) = &config.storage else {
            panic!("raft storage expected: {:?}", config.storage);
        };
        assert_eq!(raft.path, PathBuf::from("/vault/data"));
        assert_eq!(raft.retry_join.len(), 1);
        assert_eq!(
            raft.retry_join[0].leader_api_addr.as_deref(),
            Some("http://vault-0.vault-internal:8200")
        );
        assert_eq!(
            config
                .service_registration
                .as_ref()
                .map(|r| r.kind.as_str()),
            Some("kubernetes")
        );
        assert_eq!(config.seal, SealConfig::Shamir);
        assert_eq!(config.default_lease_ttl_seconds, LEASE_TTL_DEFAULT_SECONDS);
        assert_eq!(config.max_lease_ttl_seconds, LEASE_TTL_DEFAULT_SECONDS);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn hcl1_one_line_blocks_parse() {
        // The brief's (and HCL v1's) one-line spelling of the vault-helm config.
        let config = check(
            "ui = true\nlistener \"tcp\" { tls_disable = 1 address = \"[::]:8200\" cluster_address = \"[::]:8201\" }\n\
             storage \"raft\" { path = \"/vault/data\" retry_join { leader_api_addr = \"http://vault-0.vault-internal:8200\" } }\n\
             service_registration \"kubernetes\" {}\n",
        );
        assert!(config.listeners[0].tls_disable);
        assert_eq!(config.listeners[0].address, "[::]:8200");
        assert_eq!(config.listeners[0].cluster_address, "[::]:8201");
        let Some(StorageConfig::Raft(raft)) = &config.storage else {
            panic!("raft expected")
        };
        assert_eq!(raft.path, PathBuf::from("/vault/data"));
        assert_eq!(raft.retry_join.len(), 1);
        assert!(config.service_registration.is_some());
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn listener_defaults_and_tls_disable_spellings() {
        for spelling in ["true", "\"true\"", "1", "\"1\""] {
            let config = check(&format!(
                "listener \"tcp\" {{\n tls_disable = {spelling}\n}}\n"
            ));
            let listener = &config.listeners[0];
            assert!(listener.tls_disable, "spelling {spelling}");
            assert_eq!(listener.address, "127.0.0.1:8200");
            assert_eq!(listener.cluster_address, "127.0.0.1:8201");
            assert_eq!(listener.tls_min_version, "tls12");
            assert_eq!(
                listener.max_request_size_bytes,
                MAX_REQUEST_SIZE_DEFAULT_BYTES
            );
        }
        let config = check(
            "listener \"tcp\" {\n address = \"0.0.0.0:9000\"\n}\nlistener \"tcp\" {\n address = \"127.0.0.1:9100\"\n tls_cert_file = \"/c.pem\"\n tls_key_file = \"/k.pem\"\n max_request_size = -1\n}\n",
        );
        assert_eq!(config.listeners.len(), 2);
        assert_eq!(config.listeners[0].cluster_address, "0.0.0.0:9001");
        assert!(!config.listeners[1].tls_disable);
        assert_eq!(
            config.listeners[1].tls_cert_file,
            Some(PathBuf::from("/c.pem"))
        );
        assert_eq!(config.listeners[1].max_request_size_bytes, -1);
    }

    #[test]
    fn unknown_keys_warn_and_never_fail() {
        let config = check(
            "bogus = 1\nlistener \"tcp\" {\n whatever = \"x\"\n}\nstorage \"raft\" {\n path = \"/d\"\n nope = 2\n}\n",
        );
        assert_eq!(config.warnings.len(), 3, "{:?}", config.warnings);
        assert!(config.warnings[0].contains("unknown or unsupported field bogus"));
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("listener.whatever"))
        );
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("storage.raft.nope"))
        );
    }

    #[test]
    fn top_level_fields_and_lease_ttls() {
        let config = check(
            "api_addr = \"https://a:8200\"\ncluster_addr = \"https://a:8201\"\ndisable_mlock = true\n\
             log_level = \"Warning\"\nlog_format = \"json\"\ncluster_name = \"c1\"\n\
             default_lease_ttl = \"1h\"\nmax_lease_ttl = \"24h\"\npid_file = \"/run/v.pid\"\n\
             telemetry {\n prometheus_retention_time = \"30s\"\n disable_hostname = true\n}\n",
        );
        assert_eq!(config.api_addr.as_deref(), Some("https://a:8200"));
        assert_eq!(config.cluster_addr.as_deref(), Some("https://a:8201"));
        assert!(config.disable_mlock);
        assert_eq!(config.log_level, "warn");
        assert_eq!(config.log_format, "json");
        assert_eq!(config.cluster_name.as_deref(), Some("c1"));
        assert_eq!(config.default_lease_ttl_seconds, 3600);
        assert_eq!(config.max_lease_ttl_seconds, 86_400);
        assert_eq!(config.telemetry.prometheus_retention_time_seconds, 30);
        assert!(config.telemetry.disable_hostname);
        let error = with_env(&[], || {
            parse_str(
                "t.hcl",
                "default_lease_ttl = \"48h\"\nmax_lease_ttl = \"24h\"\n",
            )
            .unwrap_err()
        });
        assert_eq!(
            error.to_string(),
            "cannot have DefaultLeaseTTL larger than MaxLeaseTTL"
        );
    }

    #[test]
    fn env_overrides_win_over_the_file() {
        let vars = [
            ("VAULT_API_ADDR", "http://env:8200"),
            ("VAULT_CLUSTER_ADDR", "https://env:8201"),
            ("VAULT_RAFT_PATH", "/env/raft"),
            ("VAULT_RAFT_NODE_ID", "env-node"),
            ("VAULT_LOG_LEVEL", "debug"),
            ("VAULT_UI", "false"),
            ("VAULT_DISABLE_MLOCK", "1"),
        ];
        let config = with_env(&vars, || {
            parse_str(
                "t.hcl",
                "ui = true\napi_addr = \"http://file:8200\"\nstorage \"raft\" {\n path = \"/file\"\n node_id = \"file-node\"\n}\n",
            )
            .unwrap()
        });
        assert_eq!(config.api_addr.as_deref(), Some("http://env:8200"));
        assert_eq!(config.cluster_addr.as_deref(), Some("https://env:8201"));
        assert_eq!(config.log_level, "debug");
        assert!(!config.ui);
        assert!(config.disable_mlock);
        let Some(StorageConfig::Raft(raft)) = config.storage else {
            panic!("raft expected")
        };
        assert_eq!(raft.path, PathBuf::from("/env/raft"));
        assert_eq!(raft.node_id.as_deref(), Some("env-node"));
        let error = with_env(&[("VAULT_UI", "maybe")], || {
            parse_str("t.hcl", "").unwrap_err()
        });
        assert_eq!(
            error.to_string(),
            "Error parsing the environment variable VAULT_UI"
        );
    }

    #[test]
    fn json_config_and_azure_seal() {
        let config = check(
            r#"{"listener": [{"tcp": {"address": "127.0.0.1:8300", "tls_disable": "true"}}],
                "storage": {"raft": {"path": "/d", "retry_join": [{"leader_api_addr": "http://a"}, {"leader_api_addr": "http://b"}]}},
                "seal": {"azurekeyvault": {"tenant_id": "t", "vault_name": "v", "key_name": "k"}},
                "max_lease_ttl": "1000h"}"#,
        );
        assert_eq!(config.listeners[0].address, "127.0.0.1:8300");
        assert!(config.listeners[0].tls_disable);
        let Some(StorageConfig::Raft(raft)) = &config.storage else {
            panic!("raft expected")
        };
        assert_eq!(raft.retry_join.len(), 2);
        let SealConfig::AzureKeyVault(azure) = &config.seal else {
            panic!("azure expected")
        };
        assert_eq!(azure.tenant_id.as_deref(), Some("t"));
        assert_eq!(azure.environment, "AZUREPUBLICCLOUD");
        assert_eq!(azure.resource, "vault.azure.net");
        assert_eq!(azure.client_secret, None);
        assert_eq!(config.max_lease_ttl_seconds, 3_600_000);
    }

    #[test]
    fn directories_and_repeated_files_merge_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.hcl"),
            "ui = true\nlistener \"tcp\" {\n address = \"127.0.0.1:1\"\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.json"),
            r#"{"ui": false, "listener": {"tcp": {"address": "127.0.0.1:2"}}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("ignored.txt"), "not config").unwrap();
        let extra = dir.path().join("extra.conf");
        std::fs::write(&extra, "storage \"raft\" {\n path = \"/x\"\n}\n").unwrap();
        let config = with_env(&[], || {
            load(&[dir.path().to_path_buf(), extra.clone()]).unwrap()
        });
        assert!(!config.ui, "b.json comes after a.hcl and wins");
        assert_eq!(config.listeners.len(), 2);
        assert!(matches!(config.storage, Some(StorageConfig::Raft(_))));
        let missing = with_env(&[], || load(&[dir.path().join("missing.hcl")]).unwrap_err());
        assert!(matches!(missing, ConfigError::Io { .. }));
    }

    #[test]
    fn dev_config_and_server_flags() {
        let config = with_env(&[], || dev("127.0.0.1:8200"));
        assert_eq!(config.listeners[0].address, "127.0.0.1:8200");
        assert!(config.listeners[0].tls_disable);
        assert_eq!(config.storage, Some(StorageConfig::InMem));
        assert!(config.ui);
        assert_eq!(config.api_addr.as_deref(), Some("http://127.0.0.1:8200"));

        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let flags = with_env(&[], || {
            parse_server_flags(&args(&[
                "-config",
                "a.hcl",
                "--config=b.hcl",
                "-log-level=debug",
            ]))
            .unwrap()
        });
        assert_eq!(
            flags.config_paths,
            vec![PathBuf::from("a.hcl"), PathBuf::from("b.hcl")]
        );
        assert!(!flags.dev);
        assert_eq!(flags.log_level.as_deref(), Some("debug"));
        let flags = with_env(
            &[
                ("VAULT_DEV_ROOT_TOKEN_ID", "root"),
                ("VAULT_DEV_LISTEN_ADDRESS", "127.0.0.1:9200"),
            ],
            || parse_server_flags(&args(&["-dev", "-dev-kv-v1", "-dev-no-store-token"])).unwrap(),
        );
        assert!(flags.dev && flags.dev_kv_v1 && flags.dev_no_store_token);
        assert_eq!(flags.dev_root_token_id.as_deref(), Some("root"));
        assert_eq!(flags.dev_listen_address, "127.0.0.1:9200");
        let flags = with_env(&[], || parse_server_flags(&args(&["-dev=true"])).unwrap());
        assert_eq!(flags.dev_listen_address, "127.0.0.1:8200");
        assert_eq!(flags.dev_root_token_id, None);
        let errors = with_env(&[], || {
            (
                parse_server_flags(&args(&[])).unwrap_err(),
                parse_server_flags(&args(&["-x"])).unwrap_err(),
            )
        });
        assert_eq!(
            errors.0,
            "Must specify at least one config path using -config"
        );
        assert_eq!(errors.1, "flag provided but not defined: -x");
        assert!(with_env(&[], || parse_server_flags(&args(&["-h"]))
            .unwrap()
            .help));
    }
}
