//! `sys/storage/raft/*` (RFT-01, RFT-03, RFT-04, RFT-07, RFT-08, RFT-09): join, the
//! bootstrap handshake, the configuration, remove-peer and autopilot; and `sys/step-down`
//! (SD-01), the other HA operation. The handshake's wire format is ours (RFT-09); the
//! protocol is described in `cluster/join.rs`, step-down in `cluster/stepdown.rs`.

use super::NoFields;
use crate::cluster::autopilot::{self, AutopilotConfig, StoredConfig};
use crate::cluster::{self, host_port_of};
use crate::core::Core;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("storage/raft/join")
            .write(write_join)
            .help("Join this (sealed, uninitialised) node to a raft cluster."),
        Path::new("storage/raft/bootstrap/challenge")
            .write(write_challenge)
            .help("Internal: the first step of a join, answered by the active node."),
        Path::new("storage/raft/bootstrap/answer")
            .write(write_answer)
            .help("Internal: the second step of a join, answered by the active node."),
        Path::new("storage/raft/configuration")
            .read(read_configuration)
            .help("The raft configuration: every server, voter or not, and the leader."),
        Path::new("storage/raft/remove-peer")
            .write(write_remove_peer)
            .help("Remove a server from the raft configuration."),
        Path::new("storage/raft/autopilot/state")
            .read(read_autopilot_state)
            .help("The state of the raft cluster as autopilot sees it."),
        Path::new("storage/raft/autopilot/configuration")
            .read(read_autopilot_configuration)
            .write(write_autopilot_configuration)
            .help("The autopilot configuration."),
        Path::new("step-down")
            .write(write_step_down)
            .help("Make the active node give up leadership to another node."),
    ]
}

#[derive(Deserialize)]
struct JoinFields {
    #[serde(default, deserialize_with = "loose::string")]
    leader_api_addr: String,
    #[serde(default, deserialize_with = "loose::string")]
    leader_ca_cert: String,
    #[serde(default, deserialize_with = "loose::bool")]
    retry: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    non_voter: bool,
    #[serde(default, deserialize_with = "loose::string")]
    auto_join_scheme: String,
}

#[derive(Serialize)]
struct Joined {
    joined: bool,
}

/// `POST sys/storage/raft/join` (no token, raw): `{"joined": true}` once the leader's
/// challenge is here (or at once when already initialised); the node stays sealed and is
/// unsealed with the cluster's keys. With `retry`, failures are retried in the background.
async fn write_join(core: Arc<Core>, input: Input<JoinFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.non_voter {
        return Err(Error::invalid("non-voting nodes not allowed"));
    }
    if !matches!(fields.auto_join_scheme.as_str(), "" | "http" | "https") {
        return Err(Error::invalid(format!(
            "invalid scheme {:?}; must either be http or https",
            fields.auto_join_scheme
        )));
    }
    if core.raft().is_initialized() || core.stored_seal_config().await?.is_some() {
        return Reply::raw(200, Joined { joined: true });
    }
    if !core.is_sealed() {
        return Err(Error::invalid("node must be sealed before joining"));
    }
    if fields.leader_api_addr.is_empty() {
        return Err(Error::invalid("leader_api_addr is required"));
    }
    let ca = Some(fields.leader_ca_cert).filter(|pem| !pem.is_empty());
    match cluster::join::request_join(&core, &fields.leader_api_addr, ca.as_deref()).await {
        Ok(()) => Reply::raw(200, Joined { joined: true }),
        Err(error) if fields.retry => {
            tracing::info!(%error, "join failed; retrying in the background");
            let core = core.clone();
            let leader = fields.leader_api_addr.clone();
            // Owned by the runtime; it ends once a challenge arrived or the node is
            // initialised (bounded per attempt by the join request timeout).
            tokio::spawn(async move {
                cluster::join::retry_join_to(core, leader, ca).await;
            });
            Reply::raw(200, Joined { joined: true })
        }
        Err(error) => Err(error),
    }
}

#[derive(Deserialize)]
struct ChallengeFields {
    #[serde(default, deserialize_with = "loose::string")]
    server_id: String,
}

async fn write_challenge(core: Arc<Core>, input: Input<ChallengeFields>) -> Result<Reply, Error> {
    let reply = cluster::join::issue_challenge(&core, &input.fields.server_id).await?;
    Reply::raw(200, reply)
}

#[derive(Deserialize)]
struct AnswerFields {
    #[serde(default, deserialize_with = "loose::string")]
    server_id: String,
    #[serde(default, deserialize_with = "loose::string")]
    answer: String,
    #[serde(default, deserialize_with = "loose::string")]
    cluster_addr: String,
}

async fn write_answer(core: Arc<Core>, input: Input<AnswerFields>) -> Result<Reply, Error> {
    let fields = input.fields;
    let reply = cluster::join::accept_answer(
        &core,
        &fields.server_id,
        &fields.answer,
        &fields.cluster_addr,
    )
    .await?;
    Reply::raw(200, reply)
}

#[derive(Serialize)]
struct Configuration {
    config: ConfigurationBody,
}

#[derive(Serialize)]
struct ConfigurationBody {
    index: u64,
    servers: Vec<Server>,
}

/// One server as `vault operator raft list-peers` type-asserts it.
#[derive(Serialize)]
struct Server {
    node_id: String,
    address: String,
    leader: bool,
    protocol_version: &'static str,
    voter: bool,
}

/// `GET sys/storage/raft/configuration` (RFT-03).
async fn read_configuration(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let membership = core.raft().membership();
    let servers = membership
        .members
        .into_iter()
        .map(|member| Server {
            node_id: member.name,
            address: host_port_of(&member.cluster_addr).to_string(),
            leader: member.leader,
            protocol_version: "3",
            voter: member.voter,
        })
        .collect();
    Reply::data(Configuration {
        config: ConfigurationBody {
            index: membership.index,
            servers,
        },
    })
}

#[derive(Deserialize)]
struct RemovePeerFields {
    #[serde(default, deserialize_with = "loose::string")]
    server_id: String,
}

/// `POST sys/storage/raft/remove-peer` (RFT-04): 204 (also for an unknown id, as Vault);
/// an empty id is 400.
async fn write_remove_peer(
    core: Arc<Core>,
    input: Input<RemovePeerFields>,
) -> Result<Reply, Error> {
    let server_id = input.fields.server_id;
    if server_id.is_empty() {
        return Err(Error::invalid("no server id provided"));
    }
    // Vault (hashicorp/raft) treats removing an unknown server as done.
    let known = core
        .raft()
        .membership()
        .members
        .iter()
        .any(|member| member.name == server_id);
    if !known {
        return Ok(Reply::NoContent);
    }
    core.raft().remove_member(&server_id).await?;
    Ok(Reply::NoContent)
}

/// `GET sys/storage/raft/autopilot/state` (RFT-07): Go's client decodes it with
/// `mapstructure.Decode`, so every field has Vault's type (`last_contact` a duration
/// string, `stable_since` RFC 3339, `non_voters` omitted when empty).
async fn read_autopilot_state(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let config = AutopilotConfig::effective(&autopilot::load_config(&core).await?);
    let Some(cluster) = core.cluster() else {
        return Err(Error::invalid("raft storage is not in use"));
    };
    Reply::data(cluster.autopilot.state(&core, &config))
}

/// `GET sys/storage/raft/autopilot/configuration` (RFT-08): durations as Go strings.
async fn read_autopilot_configuration(
    core: Arc<Core>,
    _input: Input<NoFields>,
) -> Result<Reply, Error> {
    let stored = autopilot::load_config(&core).await?;
    Reply::data(AutopilotConfig::effective(&stored).to_reply())
}

#[derive(Deserialize)]
struct AutopilotFields {
    #[serde(default, deserialize_with = "loose::opt_bool")]
    cleanup_dead_servers: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    last_contact_threshold: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    dead_server_last_contact_threshold: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_int")]
    max_trailing_logs: Option<i64>,
    #[serde(default, deserialize_with = "loose::opt_int")]
    min_quorum: Option<i64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    server_stabilization_time: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    disable_upgrade_migration: Option<bool>,
}

/// `POST sys/storage/raft/autopilot/configuration` (RFT-08): 204. Only the supplied fields
/// are stored (behind the barrier); Vault's checks apply to the merged configuration, and
/// `disable_upgrade_migration` is refused as Vault OSS refuses it.
async fn write_autopilot_configuration(
    core: Arc<Core>,
    input: Input<AutopilotFields>,
) -> Result<Reply, Error> {
    let fields = input.fields;
    if fields.disable_upgrade_migration.is_some() {
        return Err(Error::invalid(
            "disable_upgrade_migration is only available in Vault Enterprise",
        ));
    }
    let count = |value: Option<i64>, name: &str| -> Result<Option<u64>, Error> {
        value
            .map(|n| {
                u64::try_from(n).map_err(|_| Error::invalid(format!("{name} must not be negative")))
            })
            .transpose()
    };
    let mut stored = autopilot::load_config(&core).await?;
    let before = stored.clone();
    let updated = StoredConfig {
        cleanup_dead_servers: fields.cleanup_dead_servers.or(stored.cleanup_dead_servers),
        last_contact_threshold_s: fields
            .last_contact_threshold
            .or(stored.last_contact_threshold_s),
        dead_server_last_contact_threshold_s: fields
            .dead_server_last_contact_threshold
            .or(stored.dead_server_last_contact_threshold_s),
        max_trailing_logs: count(fields.max_trailing_logs, "max_trailing_logs")?
            .or(stored.max_trailing_logs),
        min_quorum: count(fields.min_quorum, "min_quorum")?.or(stored.min_quorum),
        server_stabilization_time_s: fields
            .server_stabilization_time
            .or(stored.server_stabilization_time_s),
    };
    AutopilotConfig::effective(&updated).validate()?;
    stored = updated;
    if stored != before {
        autopilot::store_config(&core, &stored).await?;
    }
    Ok(Reply::NoContent)
}

/// `PUT sys/step-down` (SD-01, sudo): 204. Standbys forward it, so it runs on the active
/// node, which hands leadership to another voter and keeps out of elections for ~10 s
/// (HA-09). On a single node it changes nothing.
async fn write_step_down(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    core.require_unsealed()?;
    cluster::stepdown::step_down(&core).await;
    Ok(Reply::NoContent)
}
