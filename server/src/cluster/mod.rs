//! High availability: the cluster port, raft RPC between nodes, joining a cluster,
//! active/standby and request forwarding (issue #5).
//!
//! - `tls.rs`: the cluster CA behind the barrier and per-node certificates (mutual TLS).
//! - `transport.rs`: raft RPC client ([`tresor_storage::ClusterTransport`]) and the cluster
//!   listener (raft RPC routes and forwarded API requests).
//! - `join.rs`: the bootstrap challenge (leader side) and `sys/storage/raft/join`,
//!   `retry_join` (joining side).
//! - `ha.rs`: the loop that arms TLS after unseal, moves the core between active and
//!   standby, advertises the active node and promotes caught-up learners.
//! - `forward.rs`: the API listener's front: a standby forwards to the active node, or
//!   redirects (307) when forwarding is impossible.
//! - `stepdown.rs`: `sys/step-down`, a leadership transfer to the most caught-up voter.
//! - `autopilot.rs`: server health, the autopilot configuration and dead-server cleanup.
//! - `standby_reads/`: `standby_reads = "linearizable"`: a standby serves plain reads from
//!   its replica after a raft read-index round (batched), forwards the rest.
//!
//! **Invariant:** with a one-member raft configuration nothing here changes how a request is
//! served: forwarding and activation only happen when the configuration has several members.

pub mod autopilot;
pub mod cli;
mod cli_ops;
pub mod forward;
pub mod ha;
pub mod join;
pub mod limits;
pub mod snapshot;
pub mod standby_reads;
pub mod stepdown;
pub mod tls;
pub mod transport;

use crate::config::{RetryJoinConfig, StandbyReads as StandbyReadsMode};
use crate::core::Core;
use limits::ACTIVATION_WAIT_MS;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tls::{CLUSTER_TLS_PATH, ClusterCa, ListenerTrust};
use transport::Transport;
use tresor_framework::Error;
use tresor_storage::Storage;

/// Barrier path of the active node's advertisement (what standbys redirect to).
pub const ACTIVE_ADVERTISEMENT_PATH: &str = "core/cluster/active";

/// Who this node is on the cluster.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    pub api_addr: String,
    /// `https://host:port` peers dial.
    pub cluster_addr: String,
    /// `host:port` the cluster listener binds.
    pub listen_addr: String,
    pub retry_join: Vec<RetryJoinConfig>,
    /// How a standby answers reads (`storage "raft" { standby_reads }`).
    pub standby_reads: StandbyReadsMode,
}

/// How a wait for this node's activation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activation {
    Active,
    /// Leadership moved on while waiting: the request belongs to the new active node.
    NotLeader,
    TimedOut,
}

/// The active node as it advertises itself behind the barrier.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Advertisement {
    pub node_name: String,
    pub node_id: u64,
    pub api_addr: String,
    pub cluster_addr: String,
}

/// The HA state of one node. Holds no reference to the core: every operation that needs it
/// takes `&Arc<Core>`.
pub struct Cluster {
    pub settings: ClusterSettings,
    pub(crate) transport: Arc<Transport>,
    pub(crate) trust: Arc<ListenerTrust>,
    armed: AtomicBool,
    /// This node runs as the active node of a multi-member cluster: it leads raft and has
    /// reloaded mounts, policies and lease timers. A watch, so the front door can wait for
    /// it (`await_activation`).
    active: tokio::sync::watch::Sender<bool>,
    /// Leader side: challenges handed out and not yet answered, by server id.
    challenges: Mutex<join::ChallengeTable>,
    /// Joining side: the challenge fetched from the leader, waiting for the unseal keys.
    pending_join: Mutex<Option<join::PendingJoin>>,
    /// Joining side: set while the answer is sent and this node catches up, so the HA loop
    /// does not disarm the TLS identity the join installed on a still-sealed node.
    joining: AtomicBool,
    advertisement: Mutex<Option<Advertisement>>,
    pub(crate) step_down: stepdown::StepDown,
    pub(crate) autopilot: autopilot::Autopilot,
    /// When this node last became the active node of a multi-member cluster (`sys/leader`'s
    /// `active_time`); `None` while it is not active.
    activated_at: Mutex<Option<time::OffsetDateTime>>,
    /// Linearizable standby reads (off unless configured).
    pub(crate) standby_reads: standby_reads::StandbyReads,
}

impl Cluster {
    pub fn new(settings: ClusterSettings) -> Arc<Cluster> {
        Arc::new(Cluster {
            transport: Arc::new(Transport::default()),
            trust: Arc::new(ListenerTrust::default()),
            armed: AtomicBool::new(false),
            active: tokio::sync::watch::Sender::new(false),
            challenges: Mutex::new(join::ChallengeTable::default()),
            pending_join: Mutex::new(None),
            joining: AtomicBool::new(false),
            advertisement: Mutex::new(None),
            step_down: stepdown::StepDown::default(),
            autopilot: autopilot::Autopilot::default(),
            activated_at: Mutex::new(None),
            standby_reads: standby_reads::StandbyReads::new(settings.standby_reads),
            settings,
        })
    }

    pub fn transport(&self) -> Arc<Transport> {
        self.transport.clone()
    }

    pub fn is_armed(&self) -> bool {
        self.armed.load(Ordering::Acquire)
    }

    pub fn is_active(&self) -> bool {
        *self.active.borrow()
    }

    pub(crate) fn set_active(&self, active: bool) {
        self.active.send_replace(active);
    }

    /// Front door of a node that leads raft but is not active yet (its mounts, policies and
    /// tokens may be stale until the HA loop has activated it): waits, at most
    /// [`ACTIVATION_WAIT_MS`], until it is active or no longer leads.
    pub(crate) async fn await_activation(&self, core: &Core) -> Activation {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ACTIVATION_WAIT_MS);
        let mut active = self.active.subscribe();
        let mut leadership = core.raft().leadership_watch();
        loop {
            if *active.borrow_and_update() {
                return Activation::Active;
            }
            if !core.raft().status().is_leader {
                return Activation::NotLeader;
            }
            tokio::select! {
                // The sender lives as long as `self`, so this never fails while we wait.
                _ = active.changed() => {}
                changed = leadership.changed() => {
                    if changed.is_err() {
                        return Activation::NotLeader;
                    }
                }
                () = tokio::time::sleep_until(deadline) => return Activation::TimedOut,
            }
        }
    }

    /// When this node became active, if it is the active node of a multi-member cluster.
    pub fn activated_at(&self) -> Option<time::OffsetDateTime> {
        *self.activated_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_activated_at(&self, at: Option<time::OffsetDateTime>) {
        *self.activated_at.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Installs a node identity issued by `ca`: the transport dials peers with it and the
    /// listener accepts handshakes from the CA's other nodes.
    pub fn arm(&self, ca: &ClusterCa) -> Result<(), String> {
        let host = host_of(&self.settings.cluster_addr);
        let identity = ca.issue_node_identity(host)?;
        self.transport.arm(&identity)?;
        self.trust.arm(&identity)?;
        self.armed.store(true, Ordering::Release);
        tracing::info!("cluster port armed with a node certificate");
        Ok(())
    }

    pub fn disarm(&self) {
        self.transport.disarm();
        self.trust.disarm();
        self.armed.store(false, Ordering::Release);
        tracing::info!("cluster port disarmed");
    }

    /// Reads the cluster CA through the (unsealed) barrier; the leader creates it when the
    /// cluster predates it. `None` on a follower that has not received it yet.
    pub async fn load_ca(&self, core: &Arc<Core>) -> Result<Option<ClusterCa>, Error> {
        if let Some(bytes) = core.barrier().get(CLUSTER_TLS_PATH).await? {
            let bytes = zeroize::Zeroizing::new(bytes);
            return ClusterCa::from_json(&bytes)
                .map(Some)
                .map_err(Error::internal);
        }
        if !core.raft().status().is_leader {
            return Ok(None);
        }
        let ca = ClusterCa::generate().map_err(Error::internal)?;
        let json = ca.to_json().map_err(Error::internal)?;
        core.barrier().put(CLUSTER_TLS_PATH, json.to_vec()).await?;
        tracing::info!("cluster CA generated");
        Ok(Some(ca))
    }

    /// The active node's advertisement when it names the current raft leader.
    pub async fn active_node(&self, core: &Arc<Core>) -> Option<Advertisement> {
        let leader = core.raft().leader()?;
        {
            let cached = self.advertisement.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cached.as_ref()
                && cached.node_id == leader.node_id
            {
                return Some(cached.clone());
            }
        }
        let bytes = core.barrier().get(ACTIVE_ADVERTISEMENT_PATH).await.ok()??;
        let advertisement: Advertisement = serde_json::from_slice(&bytes).ok()?;
        if advertisement.node_id != leader.node_id {
            return None;
        }
        *self.advertisement.lock().unwrap_or_else(|p| p.into_inner()) = Some(advertisement.clone());
        Some(advertisement)
    }

    /// Whether the raft configuration has more than this node: only then is there a
    /// standby to forward from or an active node to activate.
    pub fn is_multi_node(core: &Core) -> bool {
        core.raft().membership().members.len() > 1
    }
}

/// The host of `https://host:port` (brackets of an IPv6 literal removed).
pub fn host_of(addr: &str) -> &str {
    let rest = addr.split_once("://").map_or(addr, |(_, rest)| rest);
    let rest = rest.split('/').next().unwrap_or(rest);
    if let Some(inner) = rest.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner);
    }
    match rest.rsplit_once(':') {
        Some((host, _port)) => host,
        None => rest,
    }
}

/// `host:port` of `https://host:port`, as `sys/storage/raft/configuration` reports it.
pub fn host_port_of(addr: &str) -> &str {
    let rest = addr.split_once("://").map_or(addr, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: addresses split the way peers and `list-peers` need them.
    #[test]
    fn cluster_addresses_split() {
        for (addr, host, host_port) in [
            ("https://127.0.0.1:8201", "127.0.0.1", "127.0.0.1:8201"),
            (
                "https://vault-0.vault-internal:8201",
                "vault-0.vault-internal",
                "vault-0.vault-internal:8201",
            ),
            ("https://[::1]:8201", "::1", "[::1]:8201"),
            ("10.0.0.1:8201", "10.0.0.1", "10.0.0.1:8201"),
        ] {
            assert_eq!(host_of(addr), host, "{addr}");
            assert_eq!(host_port_of(addr), host_port, "{addr}");
        }
    }
}
