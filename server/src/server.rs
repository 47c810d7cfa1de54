//! `tresor server`: configuration, storage, core, listeners, dev mode, shutdown.

use crate::config::{self, ListenerConfig, ServerConfig, StorageConfig};
use crate::core::{Core, CoreSettings};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tresor_seal::ShamirSeal;
use tresor_storage::{RaftConfig, RaftStorage};

/// Runs the server until SIGINT or SIGTERM. Returns the process exit code.
pub fn run(args: &[String]) -> i32 {
    let flags = match config::parse_server_flags(args) {
        Ok(flags) => flags,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    if flags.help {
        println!("{}", config::server_help());
        return 0;
    }
    let mut server_config = match flags.dev {
        true => config::dev(&flags.dev_listen_address),
        false => match config::load(&flags.config_paths) {
            Ok(server_config) => server_config,
            Err(error) => {
                eprintln!(
                    "Error loading configuration from {}: {error}",
                    display_paths(&flags.config_paths)
                );
                return 1;
            }
        },
    };
    if let Some(level) = &flags.log_level {
        server_config.log_level = level.clone();
    }
    init_logging(
        &server_config.log_level,
        flags
            .log_format
            .as_deref()
            .unwrap_or(&server_config.log_format),
    );
    for warning in &server_config.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Error starting the async runtime: {error}");
            return 1;
        }
    };
    let dev = flags.dev.then_some(DevOptions {
        root_token_id: flags.dev_root_token_id.clone(),
        store_token: !flags.dev_no_store_token,
        kv_version: if flags.dev_kv_v1 { "1" } else { "2" },
    });
    match runtime.block_on(serve(server_config, dev)) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

struct DevOptions {
    root_token_id: Option<String>,
    store_token: bool,
    kv_version: &'static str,
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Extra log directives (`tracing` filter syntax, e.g. `tresor::cluster::standby_reads=debug`
/// or `openraft=info` for raft elections) appended to the configured level, which keeps sled
/// and openraft at warn (their info lines are per-RPC noise). A Tresor addition for debugging
/// one module; Vault has no such knob, so it is not a config key.
const LOG_DIRECTIVES_ENV: &str = "TRESOR_LOG";

fn init_logging(level: &str, format: &str) {
    let extra = std::env::var(LOG_DIRECTIVES_ENV)
        .ok()
        .filter(|directives| !directives.trim().is_empty())
        .map(|directives| format!(",{directives}"))
        .unwrap_or_default();
    let filter =
        tracing_subscriber::EnvFilter::try_new(format!("{level},sled=warn,openraft=warn{extra}"))
            .or_else(|_| {
                tracing_subscriber::EnvFilter::try_new(format!("{level},sled=warn,openraft=warn"))
            })
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        "json" => builder.json().try_init(),
        _ => builder.try_init(),
    };
}

async fn serve(server_config: ServerConfig, dev: Option<DevOptions>) -> Result<(), String> {
    let first_listener = server_config
        .listeners
        .first()
        .cloned()
        .ok_or("at least one listener must be configured")?;
    // Dev mode runs the production storage code on a directory that disappears on exit.
    let dev_directory = match dev {
        Some(_) => Some(
            tempfile::tempdir()
                .map_err(|error| format!("Error creating the dev storage directory: {error}"))?,
        ),
        None => None,
    };
    let (storage_path, node_name) = match (&dev_directory, &server_config.storage) {
        (Some(directory), _) => (directory.path().to_path_buf(), Some("dev".to_string())),
        (None, Some(StorageConfig::Raft(raft))) => {
            if raft.path.as_os_str().is_empty() {
                return Err(
                    "Error initializing storage of type raft: 'path' must be set".to_string(),
                );
            }
            (raft.path.clone(), raft.node_id.clone())
        }
        (None, Some(StorageConfig::InMem)) => {
            return Err("storage \"inmem\" is only available in dev mode".to_string());
        }
        (None, Some(StorageConfig::Other { kind })) => {
            return Err(format!(
                "Unknown storage type {kind}: Tresor supports storage \"raft\""
            ));
        }
        (None, None) => return Err("A storage backend must be specified".to_string()),
    };
    std::fs::create_dir_all(&storage_path).map_err(|error| {
        format!(
            "Error creating storage directory {}: {error}",
            storage_path.display()
        )
    })?;
    let node_name = match node_name {
        Some(name) => name,
        None => persisted_node_name(&storage_path)?,
    };
    let api_addr = server_config
        .api_addr
        .clone()
        .unwrap_or_else(|| default_api_addr(&first_listener));
    let cluster_addr = server_config
        .cluster_addr
        .clone()
        .unwrap_or_else(|| format!("https://{}", first_listener.cluster_address));
    // HA hook (issue #5): outside dev mode the node gets a cluster port and raft RPC to peers.
    let cluster = match (&dev, &server_config.storage) {
        (None, Some(StorageConfig::Raft(raft))) => Some(crate::cluster::Cluster::new(
            crate::cluster::ClusterSettings {
                api_addr: api_addr.clone(),
                cluster_addr: cluster_addr.clone(),
                listen_addr: first_listener.cluster_address.clone(),
                retry_join: raft.retry_join.clone(),
                standby_reads: raft.standby_reads,
            },
        )),
        _ => None,
    };
    let transport = cluster.as_ref().map(|cluster| {
        let transport: Arc<dyn tresor_storage::ClusterTransport> = cluster.transport();
        transport
    });
    let raft = RaftStorage::open_with_transport(
        RaftConfig {
            dir: storage_path.clone(),
            node_id: node_id_number(&node_name),
            node_name,
            cluster_addr: cluster_addr.clone(),
        },
        transport,
    )
    .await
    .map_err(|error| format!("Error initializing storage of type raft: {error}"))?;
    let settings = CoreSettings {
        api_addr,
        cluster_addr,
        cluster_name: server_config.cluster_name.clone(),
        default_lease_ttl_seconds: nonzero_or(
            server_config.default_lease_ttl_seconds,
            crate::mounts::SYSTEM_DEFAULT_LEASE_TTL_SECONDS,
        ),
        max_lease_ttl_seconds: nonzero_or(
            server_config.max_lease_ttl_seconds,
            crate::mounts::SYSTEM_MAX_LEASE_TTL_SECONDS,
        ),
        storage_type: "raft",
    };
    let core = Core::new(settings, raft.clone(), Arc::new(ShamirSeal));
    let cluster_tasks = match cluster {
        Some(cluster) => start_cluster(&core, cluster).await,
        None => tokio::task::JoinSet::new(),
    };

    let mut servers = tokio::task::JoinSet::new();
    for listener in &server_config.listeners {
        let app = match core.cluster() {
            Some(_) => crate::cluster::forward::api_app(core.clone()),
            None => crate::http::app(core.clone()),
        };
        let bound = crate::listener::bind(listener).await?;
        servers.spawn(bound.serve(app));
    }
    tracing::info!("Vault server started! Log data will stream in below");
    if let Some(dev) = dev {
        start_dev(&core, &first_listener, dev).await?;
    }

    tokio::select! {
        () = shutdown_signal() => tracing::info!("shutdown triggered"),
        Some(result) = servers.join_next() => {
            if let Ok(Err(error)) = result {
                tracing::error!(%error, "listener failed");
            }
        }
    }
    servers.abort_all();
    drop(cluster_tasks);
    if let Err(error) = raft.shutdown().await {
        tracing::warn!(%error, "raft did not shut down cleanly");
    }
    drop(dev_directory);
    Ok(())
}

/// HA hook: binds the cluster listener and starts the HA loop and `retry_join`. The tasks
/// live in the returned set, which aborts them when dropped at shutdown. A cluster port that
/// cannot be bound is logged and leaves the node single-node capable.
async fn start_cluster(
    core: &Arc<Core>,
    cluster: Arc<crate::cluster::Cluster>,
) -> tokio::task::JoinSet<()> {
    let mut tasks = tokio::task::JoinSet::new();
    core.set_cluster(cluster.clone());
    match crate::cluster::transport::bind(&cluster.settings.listen_addr, &cluster.trust).await {
        Ok((listener, tls)) => {
            let core = core.clone();
            tasks.spawn(async move {
                if let Err(error) = crate::cluster::transport::serve(listener, tls, core).await {
                    tracing::error!(%error, "cluster listener failed");
                }
            });
        }
        Err(error) => tracing::error!(%error, "cluster listener not started; HA is unavailable"),
    }
    tasks.spawn(crate::cluster::ha::run(core.clone()));
    tasks.spawn(crate::cluster::snapshot::watch(core.clone()));
    tasks.spawn(crate::cluster::join::retry_join_loop(core.clone()));
    tasks
}

/// Zero in the configuration means "Vault's default".
fn nonzero_or(value: u64, default: u64) -> u64 {
    if value == 0 { default } else { value }
}

fn default_api_addr(listener: &ListenerConfig) -> String {
    let scheme = if listener.tls_disable {
        "http"
    } else {
        "https"
    };
    let address = listener
        .address
        .replace("0.0.0.0", "127.0.0.1")
        .replace("[::]", "127.0.0.1");
    format!("{scheme}://{address}")
}

/// Raft needs a numeric id; Vault's ids are strings. The number is a stable hash of the name.
pub(crate) fn node_id_number(node_name: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(node_name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Zero is not a valid raft id in some tooling; keep ids non-zero.
    u64::from_be_bytes(bytes).max(1)
}

/// A node without a configured `node_id` keeps the one it generated on first start.
fn persisted_node_name(storage_path: &Path) -> Result<String, String> {
    let path = storage_path.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(name) if !name.trim().is_empty() => return Ok(name.trim().to_string()),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("Error reading {}: {error}", path.display())),
    }
    let name = uuid::Uuid::new_v4().to_string();
    std::fs::write(&path, &name)
        .map_err(|error| format!("Error writing {}: {error}", path.display()))?;
    Ok(name)
}

/// DEV-01/02: initialise with one share, unseal, print the banner scripts grep.
async fn start_dev(
    core: &Arc<Core>,
    listener: &ListenerConfig,
    dev: DevOptions,
) -> Result<(), String> {
    let outcome = core
        .initialize_dev(dev.root_token_id, dev.kv_version)
        .await
        .map_err(|error| format!("Error initializing dev mode: {error}"))?;
    let unseal_key = outcome
        .keys_base64
        .first()
        .map(|key| key.as_str())
        .unwrap_or("");
    if dev.store_token
        && let Some(home) = std::env::var_os("HOME")
        && let Err(error) = std::fs::write(
            Path::new(&home).join(".vault-token"),
            outcome.root_token.as_bytes(),
        )
    {
        tracing::warn!(%error, "could not store the root token in ~/.vault-token");
    }
    let address = format!("http://{}", listener.address);
    let banner = format!(
        "WARNING! dev mode is enabled! In this mode, Vault runs entirely in-memory\n\
         and starts unsealed with a single unseal key. The root token is already\n\
         authenticated to the CLI, so you can immediately begin using Vault.\n\n\
         You may need to set the following environment variables:\n\n    \
         $ export VAULT_ADDR='{address}'\n\n\
         The unseal key and root token are displayed below in case you want to\n\
         seal/unseal the Vault or re-authenticate.\n\n\
         Unseal Key: {unseal_key}\n\
         Root Token: {root_token}\n\n\
         Development mode should NOT be used in production installations!\n",
        root_token = outcome.root_token.as_str()
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes());
    let _ = stdout.flush();
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(terminate) => terminate,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
