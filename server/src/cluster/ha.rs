//! The HA loop: one task per node, meant to run for the life of the process.
//!
//! Every [`HA_TICK_MS`], and at once when raft leadership changes: arm the cluster port
//! after unseal (the CA is behind the barrier), disarm it after seal; allow this node to
//! stand for raft election only while it is unsealed and not pausing after a step-down (a
//! sealed node could not serve as the active node, and its term would only disturb the
//! others); when this node leads a multi-member cluster, activate the core (advertise,
//! reload mounts and policies, re-arm lease timers) and promote caught-up learners and
//! remove dead servers (autopilot); when it stops leading, stop the lease timers.

use super::limits::HA_TICK_MS;
use super::{ACTIVE_ADVERTISEMENT_PATH, Advertisement, Cluster};
use crate::core::Core;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tresor_storage::Storage;

pub async fn run(core: Arc<Core>) {
    let Some(cluster) = core.cluster().cloned() else {
        return;
    };
    let mut interval = tokio::time::interval(Duration::from_millis(HA_TICK_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A new leader activates as soon as it is elected rather than up to a tick later.
    let mut leadership = Some(core.raft().leadership_watch());
    loop {
        let leadership_changed = async {
            match leadership.as_mut() {
                Some(watch) => watch.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interval.tick() => {}
            still_running = leadership_changed => {
                if !still_running {
                    // Raft stopped (shutdown): only the interval is left.
                    leadership = None;
                }
            }
        }
        tick(&core, &cluster).await;
    }
}

async fn tick(core: &Arc<Core>, cluster: &Arc<Cluster>) {
    let unsealed = !core.is_sealed();
    if unsealed && !cluster.is_armed() {
        match cluster.load_ca(core).await {
            Ok(Some(ca)) => {
                if let Err(error) = cluster.arm(&ca) {
                    tracing::error!(%error, "could not arm the cluster port");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not read the cluster CA"),
        }
    }
    if !unsealed && cluster.is_armed() && !cluster.joining.load(Ordering::Acquire) {
        cluster.disarm();
    }
    cluster.step_down.resume_elections_when_due();
    core.raft()
        .set_election_enabled(unsealed && !cluster.step_down.is_paused());
    let leader = core.raft().status().is_leader;
    let should_be_active = unsealed && leader && Cluster::is_multi_node(core);
    if should_be_active && !cluster.is_active() {
        activate(core, cluster).await;
    }
    if !should_be_active && cluster.is_active() {
        cluster.set_active(false);
        cluster.set_activated_at(None);
        core.deactivate().await;
        tracing::info!("this node is now a standby");
    }
    if unsealed && leader && cluster.is_active() {
        // Keeps the read lease warm (renewed past its half, or granted anew by a round), so
        // the active node's first request after a quiet spell does not wait for a heartbeat
        // round (`forward::serve_as_active`).
        let _ = core.raft().read_index().await;
        cluster.autopilot.cleanup_dead_servers(core).await;
    }
    if unsealed && leader {
        match core.raft().promote_caught_up_learners().await {
            Ok(promoted) if !promoted.is_empty() => {
                tracing::info!(?promoted, "learners promoted to voters");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not promote learners"),
        }
    }
}

/// Advertises this node, then reloads the core. The advertisement is a raft write of this
/// leader's term: once it is applied, every entry the previous leader committed is applied
/// here too, so the reload reads the cluster's latest mounts, policies and leases; and a
/// leader that cannot commit (it lost its quorum) never becomes active.
async fn activate(core: &Arc<Core>, cluster: &Arc<Cluster>) {
    let advertisement = Advertisement {
        node_name: core.raft().node_name().to_string(),
        node_id: core.raft().node_id(),
        api_addr: cluster.settings.api_addr.clone(),
        cluster_addr: cluster.settings.cluster_addr.clone(),
    };
    let encoded = match serde_json::to_vec(&advertisement) {
        Ok(encoded) => encoded,
        Err(error) => {
            tracing::error!(%error, "could not encode the advertisement");
            return;
        }
    };
    if let Err(error) = core.barrier().put(ACTIVE_ADVERTISEMENT_PATH, encoded).await {
        tracing::error!(%error, "could not advertise the active node");
        return;
    }
    if let Err(error) = core.activate().await {
        // Stays inactive; the next tick tries again.
        tracing::error!(%error, "could not become the active node");
        return;
    }
    cluster.set_activated_at(Some(time::OffsetDateTime::now_utc()));
    cluster.set_active(true);
    tracing::info!("this node is now the active node");
}
