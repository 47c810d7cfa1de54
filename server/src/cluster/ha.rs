//! The HA loop: one task per node, meant to run for the life of the process.
//!
//! Every [`HA_TICK_MS`]: arm the cluster port after unseal (the CA is behind the barrier),
//! disarm it after seal; when this node leads a multi-member cluster, activate the core
//! (reload mounts and policies, re-arm lease timers), advertise its addresses and promote
//! caught-up learners and remove dead servers (autopilot); when it stops leading, stop the
//! lease timers. After a step-down it lets this node stand for election again when due.

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
    loop {
        interval.tick().await;
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
    let leader = core.raft().status().is_leader;
    let should_be_active = unsealed && leader && Cluster::is_multi_node(core);
    if should_be_active && !cluster.is_active() {
        activate(core, cluster).await;
    }
    if !should_be_active && cluster.is_active() {
        cluster.active.store(false, Ordering::Release);
        cluster.set_activated_at(None);
        core.deactivate().await;
        tracing::info!("this node is now a standby");
    }
    cluster.step_down.resume_elections_when_due(core);
    if unsealed && leader && cluster.is_active() {
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

async fn activate(core: &Arc<Core>, cluster: &Arc<Cluster>) {
    if let Err(error) = core.activate().await {
        // Stays inactive; the next tick tries again.
        tracing::error!(%error, "could not become the active node");
        return;
    }
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
    cluster.set_activated_at(Some(time::OffsetDateTime::now_utc()));
    cluster.active.store(true, Ordering::Release);
    tracing::info!("this node is now the active node");
}
