//! `sys/step-down` (SD-01, HA-09): the active node hands raft leadership to the voter with
//! the most of the log and stays out of elections for [`STEP_DOWN_ELECTION_PAUSE_MS`].
//!
//! openraft 0.9 has no leadership transfer. A follower refuses votes while its leader's
//! lease runs, but a leader renews its own lease only when its vote changes, so a candidate
//! whose log is as long as the leader's wins with the old leader's vote (the old leader then
//! follows it). The old leader therefore: disables its own elections, waits (bounded) until
//! the chosen follower has its whole log, and asks that follower over the cluster port
//! (`POST /cluster/elect`, mutual TLS) to start an election now. Should that follower lose,
//! its higher term still makes the old leader step down, and the remaining voters elect one
//! of themselves once their leases run out; the old leader cannot take part either way.

use super::Cluster;
use super::limits::{
    STEP_DOWN_ATTEMPT_MS, STEP_DOWN_ATTEMPTS_MAX, STEP_DOWN_CATCH_UP_MS,
    STEP_DOWN_ELECTION_PAUSE_MS,
};
use crate::core::Core;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tresor_storage::ClusterMember;

/// How often a step-down looks at raft while it waits.
const STEP_DOWN_POLL_MS: u64 = 20;

/// Until when this node keeps out of elections after stepping down (HA-09).
#[derive(Default)]
pub struct StepDown {
    election_paused_until: Mutex<Option<Instant>>,
}

impl StepDown {
    pub(crate) fn is_paused(&self) -> bool {
        self.election_paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| Instant::now() < until)
    }

    fn pause_elections(&self, core: &Core) {
        let until = Instant::now() + Duration::from_millis(STEP_DOWN_ELECTION_PAUSE_MS);
        *self
            .election_paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(until);
        core.raft().set_election_enabled(false);
    }

    /// Called by the HA loop every tick: ends the pause once it is over (the HA loop then
    /// lets this node stand for election again if it is unsealed).
    pub fn resume_elections_when_due(&self) {
        let mut paused = self
            .election_paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if paused.is_some_and(|until| Instant::now() >= until) {
            *paused = None;
            tracing::info!("step-down pause over; this node may stand for election again");
        }
    }
}

/// Gives up leadership of a multi-member cluster (a no-op on a single node or a node that
/// does not lead: the standby front door forwards `sys/step-down` to the active node).
/// Returns once leadership moved, or after [`STEP_DOWN_ATTEMPTS_MAX`] bounded attempts (one
/// per target; a target that stepped down itself lately refuses).
pub async fn step_down(core: &Arc<Core>) {
    let Some(cluster) = core.cluster() else {
        return;
    };
    if !Cluster::is_multi_node(core) || !core.raft().status().is_leader {
        return;
    }
    cluster.step_down.pause_elections(core);
    // This node refuses votes while its read lease holds; its successor needs its vote.
    let _no_lease = core.raft().suspend_read_lease();
    tracing::info!("stepping down as the active node");
    let targets = core.raft().transfer_targets();
    for target in targets.iter().take(STEP_DOWN_ATTEMPTS_MAX) {
        if !core.raft().status().is_leader {
            return;
        }
        wait_until(STEP_DOWN_CATCH_UP_MS, || caught_up(core, target)).await;
        let request = ElectRequest {
            leader: core.raft().node_id(),
            term: core.raft().status().term,
        };
        if let Err(error) = ask_to_elect(cluster, target, &request).await {
            tracing::warn!(%error, target = %target.name, "step-down: election request failed");
            continue;
        }
        if wait_until(STEP_DOWN_ATTEMPT_MS, || !core.raft().status().is_leader).await {
            tracing::info!(target = %target.name, "stepped down");
            wait_for_new_active(core, cluster).await;
            return;
        }
    }
    tracing::warn!("step-down: leadership did not move; this node stays active");
}

/// Waits (bounded) until the new leader advertises itself, which it does once it has
/// reloaded mounts and policies: when step-down answers, the new active node serves.
async fn wait_for_new_active(core: &Arc<Core>, cluster: &Cluster) {
    let deadline = Instant::now() + Duration::from_millis(STEP_DOWN_ATTEMPT_MS);
    while Instant::now() < deadline {
        let active = cluster.active_node(core).await;
        if active.is_some_and(|active| active.node_id != core.raft().node_id()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(STEP_DOWN_POLL_MS)).await;
    }
    tracing::warn!("step-down: the new active node did not advertise itself in time");
}

fn caught_up(core: &Core, target: &ClusterMember) -> bool {
    let view = core.raft().replication_view();
    view.matched_index
        .get(&target.node_id)
        .is_some_and(|matched| *matched >= view.last_log_index)
}

/// Polls `done` until it holds (true) or `deadline_ms` passes (false).
async fn wait_until(deadline_ms: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_millis(deadline_ms);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(STEP_DOWN_POLL_MS)).await;
    }
}

/// Who asks for an election: the target starts one only if this is still its leader (see
/// [`elect_route`]).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ElectRequest {
    leader: u64,
    term: u64,
}

async fn ask_to_elect(
    cluster: &Cluster,
    target: &ClusterMember,
    request: &ElectRequest,
) -> Result<(), String> {
    let Some(client) = cluster.transport.client() else {
        return Err("the cluster port is not armed".into());
    };
    let url = format!(
        "{}/cluster/elect",
        target.cluster_addr.trim_end_matches('/')
    );
    let response = client
        .post(url)
        .json(request)
        .timeout(Duration::from_millis(STEP_DOWN_ATTEMPT_MS))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match response.status().is_success() {
        true => Ok(()),
        false => Err(format!("{} answered {}", target.name, response.status())),
    }
}

/// Cluster port route `POST /cluster/elect` (only peers with a cluster certificate reach
/// it): start an election now, as the leader stepping down asked. A node that stepped down
/// itself within [`STEP_DOWN_ELECTION_PAUSE_MS`] refuses (409), so leadership moves on to a
/// third node rather than straight back (HA-09). So does a node whose leader and term are
/// not the asker's (409): only the leader itself, which gave up its read lease first, may
/// make a follower campaign while that follower still honours the lease.
pub async fn elect_route(
    State(core): State<Arc<Core>>,
    axum::Json(request): axum::Json<ElectRequest>,
) -> StatusCode {
    if core.is_sealed() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let paused = core
        .cluster()
        .is_some_and(|cluster| cluster.step_down.is_paused());
    if paused {
        return StatusCode::CONFLICT;
    }
    match core
        .raft()
        .trigger_election_asked_by(request.leader, request.term)
        .await
    {
        Ok(()) => {
            tracing::info!("the stepping-down leader asked this node to stand for election");
            StatusCode::NO_CONTENT
        }
        Err(error @ tresor_storage::StorageError::Refused(_)) => {
            tracing::warn!(%error, "refused to start an election");
            StatusCode::CONFLICT
        }
        Err(error) => {
            tracing::warn!(%error, "could not start an election");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
