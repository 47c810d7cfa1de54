//! `sys/health` (HLT-01..04) and `sys/leader` (LDR-01..03).

use super::NoFields;
use crate::core::{Core, VERSION};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use tresor_framework::{Error, ErrorKind, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("health")
            .read(read_health)
            .help("Health of the node, as a status code for load balancers and probes."),
        Path::new("leader")
            .read(read_leader)
            .help("The active node of the cluster."),
    ]
}

#[derive(Serialize)]
struct Health {
    initialized: bool,
    sealed: bool,
    standby: bool,
    replication_performance_mode: &'static str,
    replication_dr_mode: &'static str,
    server_time_utc: i64,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
}

/// The query parameters, each a weakly typed bool or an integer status code. Anything
/// unparsable is 400 with an empty `errors` array (the reference server's answer).
struct HealthCodes {
    standby_ok: bool,
    active: u16,
    standby: u16,
    sealed: u16,
    uninitialized: u16,
}

fn health_codes(query: &Map<String, Value>) -> Result<HealthCodes, Error> {
    let bad = || Error::bare(ErrorKind::Invalid);
    let flag = |name: &str| -> Result<bool, Error> {
        match query.get(name) {
            None => Ok(false),
            Some(Value::String(text)) if text.is_empty() => Ok(false),
            Some(Value::String(text)) => loose::parse_bool(text).ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    };
    let code = |name: &str, default: u16| -> Result<u16, Error> {
        match query.get(name) {
            None => Ok(default),
            Some(value) => match loose::int_from_value(value) {
                Ok(Some(code)) => u16::try_from(code)
                    .ok()
                    .filter(|code| (100..=999).contains(code))
                    .ok_or_else(bad),
                Ok(None) => Ok(default),
                Err(_) => Err(bad()),
            },
        }
    };
    // Parsed for validation only: a single node is never a DR or performance standby.
    flag("perfstandbyok")?;
    code("drsecondarycode", 472)?;
    code("performancestandbycode", 473)?;
    Ok(HealthCodes {
        standby_ok: flag("standbyok")?,
        active: code("activecode", 200)?,
        standby: code("standbycode", 429)?,
        sealed: code("sealedcode", 503)?,
        uninitialized: code("uninitcode", 501)?,
    })
}

/// `GET|HEAD sys/health`: never forwarded, body sent with every status (hvac and vaultrs
/// read it with exceptions off); 204 codes get no body.
async fn read_health(core: Arc<Core>, input: Input<Map<String, Value>>) -> Result<Reply, Error> {
    let codes = health_codes(&input.fields)?;
    let initialized = core.is_initialized().await?;
    let cluster = core.cluster_info();
    let sealed = cluster.is_none();
    let standby = sealed || !core.is_active_node();
    let status = match (initialized, sealed, standby) {
        (false, _, _) => codes.uninitialized,
        (true, true, _) => codes.sealed,
        (true, false, true) if !codes.standby_ok => codes.standby,
        _ => codes.active,
    };
    let health = Health {
        initialized,
        sealed,
        standby,
        // The reference server cannot know its replication state until unsealed.
        replication_performance_mode: if sealed { "unknown" } else { "disabled" },
        replication_dr_mode: if sealed { "unknown" } else { "disabled" },
        server_time_utc: time::OffsetDateTime::now_utc().unix_timestamp(),
        version: VERSION,
        cluster_name: cluster.as_ref().map(|cluster| cluster.name.clone()),
        cluster_id: cluster.map(|cluster| cluster.id),
    };
    Reply::raw(status, health)
}

#[derive(Serialize)]
struct Leader {
    ha_enabled: bool,
    is_self: bool,
    active_time: String,
    leader_address: String,
    leader_cluster_address: String,
    #[serde(skip_serializing_if = "is_zero")]
    raft_committed_index: u64,
    #[serde(skip_serializing_if = "is_zero")]
    raft_applied_index: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Go's zero time: the Go client parses `active_time` into `time.Time`, so never `""`.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `GET sys/leader`. Sealed (or uninitialised) is 503 `Vault is sealed`.
async fn read_leader(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    core.require_unsealed()?;
    let status = core.raft().status();
    let is_self = core.is_active_node();
    // HA: the time this node became the active node; a single node is active from unseal.
    let activated_at = core.cluster().and_then(|cluster| cluster.activated_at());
    let active_time = match (is_self, activated_at.or(core.active_since())) {
        (true, Some(since)) => since
            .format(&Rfc3339)
            .unwrap_or_else(|_| GO_ZERO_TIME.to_string()),
        _ => GO_ZERO_TIME.to_string(),
    };
    let (leader_address, leader_cluster_address) = match is_self {
        true => (
            core.settings.api_addr.clone(),
            cluster_address_url(&core.settings.cluster_addr),
        ),
        // HA hook: a standby names the active node from its advertisement.
        false => match core.cluster() {
            Some(cluster) => match cluster.active_node(&core).await {
                Some(active) => (active.api_addr, cluster_address_url(&active.cluster_addr)),
                None => (String::new(), String::new()),
            },
            None => (String::new(), String::new()),
        },
    };
    Reply::raw(
        200,
        Leader {
            ha_enabled: true,
            is_self,
            active_time,
            leader_address,
            leader_cluster_address,
            raft_committed_index: status.committed_index,
            raft_applied_index: status.applied_index,
        },
    )
}

/// The cluster port always speaks TLS, so its advertised URL is `https://` whatever the
/// configuration wrote (as the reference server reports it).
fn cluster_address_url(cluster_addr: &str) -> String {
    match cluster_addr.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None => cluster_addr.to_string(),
    }
}
