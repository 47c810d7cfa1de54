//! Autopilot (RFT-07, RFT-08): the health of every raft server as the active node sees it,
//! the operator's autopilot configuration (behind the barrier), and dead-server cleanup.
//!
//! The active node learns a follower's "last contact" from the cluster transport: every
//! answered raft RPC (heartbeats included) is recorded in [`ContactLog`]. A follower is
//! healthy when it answered within `last_contact_threshold` and trails the leader's log by
//! at most `max_trailing_logs` entries (raft-autopilot's rule). With `cleanup_dead_servers`,
//! servers silent for `dead_server_last_contact_threshold` are removed, but only a minority
//! of the voters at once and never below `min_quorum` voters.

use super::limits::AUTOPILOT_CLEANUP_EVERY_MS;
use crate::core::{Core, VERSION};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tresor_framework::Error;
use tresor_framework::loose::format_go_duration;
use tresor_storage::{ClusterMember, Storage};

/// Barrier path of the operator's autopilot configuration (Vault's).
pub const AUTOPILOT_CONFIG_PATH: &str = "core/raft/autopilot/configuration";

/// Vault's defaults (`physical/raft`), in seconds where a duration.
const LAST_CONTACT_THRESHOLD_DEFAULT_S: u64 = 10;
const DEAD_SERVER_LAST_CONTACT_THRESHOLD_DEFAULT_S: u64 = 24 * 3600;
const MAX_TRAILING_LOGS_DEFAULT: u64 = 1000;
const SERVER_STABILIZATION_TIME_DEFAULT_S: u64 = 10;

/// What the operator set: only supplied fields persist (as Vault stores them), the rest
/// follow the defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_dead_servers: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact_threshold_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_server_last_contact_threshold_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_trailing_logs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quorum: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_stabilization_time_s: Option<u64>,
}

/// The effective configuration: stored values over Vault's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutopilotConfig {
    pub cleanup_dead_servers: bool,
    pub last_contact_threshold_s: u64,
    pub dead_server_last_contact_threshold_s: u64,
    pub max_trailing_logs: u64,
    pub min_quorum: u64,
    pub server_stabilization_time_s: u64,
}

impl AutopilotConfig {
    pub fn effective(stored: &StoredConfig) -> AutopilotConfig {
        AutopilotConfig {
            cleanup_dead_servers: stored.cleanup_dead_servers.unwrap_or(false),
            last_contact_threshold_s: stored
                .last_contact_threshold_s
                .unwrap_or(LAST_CONTACT_THRESHOLD_DEFAULT_S),
            dead_server_last_contact_threshold_s: stored
                .dead_server_last_contact_threshold_s
                .unwrap_or(DEAD_SERVER_LAST_CONTACT_THRESHOLD_DEFAULT_S),
            max_trailing_logs: stored
                .max_trailing_logs
                .unwrap_or(MAX_TRAILING_LOGS_DEFAULT),
            min_quorum: stored.min_quorum.unwrap_or(0),
            server_stabilization_time_s: stored
                .server_stabilization_time_s
                .unwrap_or(SERVER_STABILIZATION_TIME_DEFAULT_S),
        }
    }

    /// Vault's checks of a configuration about to take effect; the message is Vault's.
    pub fn validate(&self) -> Result<(), Error> {
        if self.cleanup_dead_servers && self.min_quorum < 3 {
            return Err(Error::invalid(format!(
                "min_quorum must be set when cleanup_dead_servers is set and it should at \
                 least be 3; cleanup_dead_servers: {}, min_quorum: 0x{:x}",
                self.cleanup_dead_servers, self.min_quorum
            )));
        }
        if self.cleanup_dead_servers && self.dead_server_last_contact_threshold_s < 60 {
            return Err(Error::invalid(format!(
                "dead_server_last_contact_threshold should not be set to less than 1m; \
                 received: {}",
                self.dead_server_last_contact_threshold_s
            )));
        }
        Ok(())
    }

    /// `GET sys/storage/raft/autopilot/configuration`'s data: durations as Go prints them.
    pub fn to_reply(self) -> ConfigReply {
        ConfigReply {
            cleanup_dead_servers: self.cleanup_dead_servers,
            last_contact_threshold: format_go_duration(self.last_contact_threshold_s),
            dead_server_last_contact_threshold: format_go_duration(
                self.dead_server_last_contact_threshold_s,
            ),
            max_trailing_logs: self.max_trailing_logs,
            min_quorum: self.min_quorum,
            server_stabilization_time: format_go_duration(self.server_stabilization_time_s),
            disable_upgrade_migration: false,
        }
    }
}

/// The configuration as Vault's API returns it.
#[derive(Serialize)]
pub struct ConfigReply {
    pub cleanup_dead_servers: bool,
    pub last_contact_threshold: String,
    pub dead_server_last_contact_threshold: String,
    pub max_trailing_logs: u64,
    pub min_quorum: u64,
    pub server_stabilization_time: String,
    pub disable_upgrade_migration: bool,
}

/// Reads the stored configuration (absent: all defaults).
pub async fn load_config(core: &Core) -> Result<StoredConfig, Error> {
    let Some(bytes) = core.barrier().get(AUTOPILOT_CONFIG_PATH).await? else {
        return Ok(StoredConfig::default());
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::internal(format!("stored autopilot configuration: {e}")))
}

pub async fn store_config(core: &Core, stored: &StoredConfig) -> Result<(), Error> {
    let bytes = serde_json::to_vec(stored).map_err(|e| Error::internal(e.to_string()))?;
    core.barrier().put(AUTOPILOT_CONFIG_PATH, bytes).await?;
    Ok(())
}

/// When this node last got an answer from each peer, by cluster address. Written by the
/// cluster transport on every answered raft RPC.
#[derive(Default)]
pub struct ContactLog {
    last: Mutex<HashMap<String, Instant>>,
}

impl ContactLog {
    pub fn record(&self, cluster_addr: &str) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.get_mut(cluster_addr) {
            Some(at) => *at = Instant::now(),
            None => {
                last.insert(cluster_addr.to_string(), Instant::now());
            }
        }
    }

    pub fn last(&self, cluster_addr: &str) -> Option<Instant> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(cluster_addr)
            .copied()
    }
}

/// The active node's autopilot memory: since when each server has been (un)healthy, since
/// when this node leads, and when dead servers were last looked for.
#[derive(Default)]
pub struct Autopilot {
    stability: Mutex<HashMap<u64, (bool, OffsetDateTime)>>,
    leading_since: Mutex<Option<(u64, Instant)>>,
    last_cleanup: Mutex<Option<Instant>>,
}

/// `GET sys/storage/raft/autopilot/state` data, with the types Go's `api.AutopilotState`
/// decodes strictly (`mapstructure.Decode`).
#[derive(Serialize)]
pub struct AutopilotState {
    pub healthy: bool,
    pub failure_tolerance: i64,
    pub servers: BTreeMap<String, ServerState>,
    pub leader: String,
    pub voters: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub non_voters: Vec<String>,
}

#[derive(Serialize)]
pub struct ServerState {
    pub id: String,
    pub name: String,
    pub address: String,
    pub node_status: &'static str,
    pub last_contact: String,
    pub last_term: u64,
    pub last_index: u64,
    pub healthy: bool,
    pub stable_since: String,
    pub status: &'static str,
    pub version: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub node_type: &'static str,
    pub meta: BTreeMap<String, String>,
}

/// One server's raw facts, before health is judged.
#[derive(Clone, Debug)]
struct Observed {
    member: ClusterMember,
    is_self: bool,
    last_contact: Duration,
    last_index: u64,
}

impl Autopilot {
    /// How long ago `member` answered this node (the leader); a server never heard from
    /// counts from when this node started leading.
    fn last_contact(&self, core: &Core, member: &ClusterMember, term: u64) -> Duration {
        if member.node_id == core.raft().node_id() {
            return Duration::ZERO;
        }
        let baseline = {
            let mut leading = self.leading_since.lock().unwrap_or_else(|p| p.into_inner());
            match *leading {
                Some((leading_term, since)) if leading_term == term => since,
                _ => {
                    let now = Instant::now();
                    *leading = Some((term, now));
                    now
                }
            }
        };
        let contact = core
            .cluster()
            .and_then(|cluster| cluster.transport.contacts.last(&member.cluster_addr));
        contact.unwrap_or(baseline).elapsed()
    }

    fn observe(&self, core: &Core) -> (Vec<Observed>, u64, u64) {
        let view = core.raft().replication_view();
        let members = core.raft().membership().members;
        let observed = members
            .into_iter()
            .map(|member| Observed {
                is_self: member.node_id == core.raft().node_id(),
                last_contact: self.last_contact(core, &member, view.term),
                last_index: view
                    .matched_index
                    .get(&member.node_id)
                    .copied()
                    .unwrap_or(0),
                member,
            })
            .collect();
        (observed, view.term, view.last_log_index)
    }

    /// The state as Vault's autopilot reports it; meaningful on the active node (every
    /// other node forwards the request there).
    pub fn state(&self, core: &Core, config: &AutopilotConfig) -> AutopilotState {
        let (observed, term, last_log_index) = self.observe(core);
        let now = OffsetDateTime::now_utc();
        let mut stability = self.stability.lock().unwrap_or_else(|p| p.into_inner());
        stability.retain(|id, _| observed.iter().any(|o| o.member.node_id == *id));
        let mut servers = BTreeMap::new();
        let (mut voters, mut non_voters) = (Vec::new(), Vec::new());
        let (mut healthy_voters, mut all_healthy) = (0i64, true);
        let mut leader = String::new();
        for server in &observed {
            let healthy = is_healthy(server, last_log_index, config);
            let entry = stability
                .entry(server.member.node_id)
                .or_insert((healthy, now));
            if entry.0 != healthy {
                *entry = (healthy, now);
            }
            let stable_since = entry.1;
            all_healthy &= healthy;
            let name = server.member.name.clone();
            let status = match (server.member.leader, server.member.voter) {
                (true, _) => "leader",
                (false, true) => "voter",
                (false, false) => "non-voter",
            };
            if server.member.leader {
                leader = name.clone();
            }
            match server.member.voter {
                true => {
                    voters.push(name.clone());
                    healthy_voters += i64::from(healthy);
                }
                false => non_voters.push(name.clone()),
            }
            let last_index = match server.is_self {
                true => last_log_index,
                false => server.last_index,
            };
            servers.insert(
                name.clone(),
                ServerState {
                    id: name.clone(),
                    name,
                    address: super::host_port_of(&server.member.cluster_addr).to_string(),
                    node_status: "alive",
                    last_contact: go_duration_ms(server.last_contact),
                    last_term: term,
                    last_index,
                    healthy,
                    stable_since: stable_since
                        .format(&Rfc3339)
                        .unwrap_or_else(|_| "0001-01-01T00:00:00Z".to_string()),
                    status,
                    version: VERSION,
                    node_type: if server.member.voter { "voter" } else { "" },
                    meta: BTreeMap::new(),
                },
            );
        }
        voters.sort();
        non_voters.sort();
        let quorum = i64::try_from(voters.len() / 2 + 1).unwrap_or(i64::MAX);
        AutopilotState {
            healthy: all_healthy,
            failure_tolerance: (healthy_voters - quorum).max(0),
            servers,
            leader,
            voters,
            non_voters,
        }
    }

    /// Leader only, at most every [`AUTOPILOT_CLEANUP_EVERY_MS`]: with `cleanup_dead_servers`
    /// on, removes the servers silent for `dead_server_last_contact_threshold`.
    pub async fn cleanup_dead_servers(&self, core: &Arc<Core>) {
        {
            let mut last = self.last_cleanup.lock().unwrap_or_else(|p| p.into_inner());
            if last
                .is_some_and(|at| at.elapsed() < Duration::from_millis(AUTOPILOT_CLEANUP_EVERY_MS))
            {
                return;
            }
            *last = Some(Instant::now());
        }
        let config = match load_config(core).await {
            Ok(stored) => AutopilotConfig::effective(&stored),
            Err(error) => {
                tracing::warn!(%error, "could not read the autopilot configuration");
                return;
            }
        };
        if !config.cleanup_dead_servers {
            return;
        }
        let (observed, _, _) = self.observe(core);
        for name in dead_servers_to_remove(&observed, &config) {
            match core.raft().remove_member(&name).await {
                Ok(()) => tracing::info!(server = %name, "autopilot removed a dead server"),
                Err(error) => {
                    tracing::warn!(%error, server = %name, "could not remove a dead server")
                }
            }
        }
    }
}

/// raft-autopilot's health rule for one server.
fn is_healthy(server: &Observed, leader_last_index: u64, config: &AutopilotConfig) -> bool {
    if server.is_self {
        return true;
    }
    if server.last_contact > Duration::from_secs(config.last_contact_threshold_s) {
        return false;
    }
    leader_last_index <= config.max_trailing_logs
        || server.last_index >= leader_last_index - config.max_trailing_logs
}

/// The servers cleanup removes now: failed non-voters always; failed voters only when they
/// are a minority ((voters - 1) / 2 at most) and at least `min_quorum` voters remain.
fn dead_servers_to_remove(observed: &[Observed], config: &AutopilotConfig) -> Vec<String> {
    let dead_after = Duration::from_secs(config.dead_server_last_contact_threshold_s);
    let failed: Vec<&Observed> = observed
        .iter()
        .filter(|o| !o.is_self && !o.member.leader && o.last_contact > dead_after)
        .collect();
    let voters = observed.iter().filter(|o| o.member.voter).count() as u64;
    let failed_voters = failed.iter().filter(|o| o.member.voter).count() as u64;
    let voters_may_go = failed_voters <= voters.saturating_sub(1) / 2
        && voters - failed_voters >= config.min_quorum;
    failed
        .into_iter()
        .filter(|o| !o.member.voter || voters_may_go)
        .map(|o| o.member.name.clone())
        .collect()
}

/// A duration as Go's `time.Duration.String()` prints it, to the millisecond.
pub fn go_duration_ms(duration: Duration) -> String {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return "0s".to_string();
    }
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let whole = format_go_duration(millis / 1000);
    let fraction = millis % 1000;
    if fraction == 0 {
        return whole;
    }
    let fraction = format!(".{fraction:03}");
    let fraction = fraction.trim_end_matches('0');
    let head = whole.strip_suffix('s').unwrap_or(&whole);
    format!("{head}{fraction}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: u64, voter: bool, leader: bool, silent_s: u64, last_index: u64) -> Observed {
        Observed {
            member: ClusterMember {
                node_id: id,
                name: format!("node-{id}"),
                cluster_addr: format!("https://127.0.0.1:{id}"),
                voter,
                leader,
            },
            is_self: leader,
            last_contact: Duration::from_secs(silent_s),
            last_index,
        }
    }

    fn config(min_quorum: u64) -> AutopilotConfig {
        AutopilotConfig {
            cleanup_dead_servers: true,
            dead_server_last_contact_threshold_s: 60,
            min_quorum,
            ..AutopilotConfig::effective(&StoredConfig::default())
        }
    }

    /// Goal: durations print as Go's `time.Duration.String()` (the client re-parses them).
    #[test]
    fn durations_print_like_go() {
        for (millis, text) in [
            (0, "0s"),
            (7, "7ms"),
            (1500, "1.5s"),
            (10_000, "10s"),
            (61_234, "1m1.234s"),
            (86_400_000, "24h0m0s"),
        ] {
            assert_eq!(go_duration_ms(Duration::from_millis(millis)), text);
        }
    }

    /// Goal: defaults are Vault's; Vault's validation messages guard cleanup.
    #[test]
    fn config_defaults_and_validation() {
        let reply = AutopilotConfig::effective(&StoredConfig::default()).to_reply();
        assert_eq!(reply.last_contact_threshold, "10s");
        assert_eq!(reply.dead_server_last_contact_threshold, "24h0m0s");
        assert_eq!(reply.server_stabilization_time, "10s");
        assert_eq!((reply.max_trailing_logs, reply.min_quorum), (1000, 0));
        assert!(config(0).validate().is_err());
        assert!(config(3).validate().is_ok());
        let short = AutopilotConfig {
            dead_server_last_contact_threshold_s: 59,
            ..config(3)
        };
        assert!(short.validate().is_err());
    }

    /// Goal: cleanup removes only silent servers, never a majority of voters, never below
    /// `min_quorum`, and always silent non-voters.
    #[test]
    fn cleanup_respects_min_quorum_and_minority() {
        let four = vec![
            server(1, true, true, 0, 10),
            server(2, true, false, 0, 10),
            server(3, true, false, 0, 10),
            server(4, true, false, 120, 3),
        ];
        assert_eq!(dead_servers_to_remove(&four, &config(3)), vec!["node-4"]);
        assert!(dead_servers_to_remove(&four, &config(4)).is_empty());
        let three = &four[1..];
        let mut three = three.to_vec();
        three[0] = server(1, true, true, 0, 10);
        assert!(dead_servers_to_remove(&three, &config(3)).is_empty());
        let two_dead = vec![
            server(1, true, true, 0, 10),
            server(2, true, false, 0, 10),
            server(3, true, false, 120, 10),
            server(4, true, false, 120, 10),
            server(5, false, false, 120, 10),
        ];
        assert_eq!(
            dead_servers_to_remove(&two_dead, &config(2)),
            vec!["node-5"]
        );
        let healthy = server(2, true, false, 5, 10);
        assert!(is_healthy(&healthy, 10, &config(3)));
        let silent = server(2, true, false, 11, 10);
        assert!(!is_healthy(&silent, 10, &config(3)));
        let behind = server(2, true, false, 0, 10);
        assert!(!is_healthy(&behind, 2000, &config(3)));
    }
}
