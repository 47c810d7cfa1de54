//! The periodic driver: calls every mount's `Backend::periodic` (transit auto-rotation, ...)
//! on the active node while unsealed, one mount at a time, each call bounded by a timeout.

use super::Core;
use crate::mounts::MountBackend;
use std::sync::Weak;
use std::time::Duration;
use tresor_framework::limits::{PERIODIC_CALL_TIMEOUT_SECONDS, PERIODIC_INTERVAL_SECONDS};

/// Runs for the life of the core: it ends when the core is dropped. A tick on a sealed node
/// or a standby does nothing (the active node owns background work).
pub(super) async fn run(core: Weak<Core>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(PERIODIC_INTERVAL_SECONDS));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(core) = core.upgrade() else {
            return;
        };
        if core.is_sealed() || core.is_ha_standby() {
            continue;
        }
        let routes = core.routes();
        for mounted in routes.mounts() {
            let MountBackend::Logical(backend) = &mounted.backend else {
                continue;
            };
            let context = mounted.context(
                core.settings.default_lease_ttl_seconds,
                core.settings.max_lease_ttl_seconds,
            );
            let timeout = Duration::from_secs(PERIODIC_CALL_TIMEOUT_SECONDS);
            match tokio::time::timeout(timeout, backend.periodic(context)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(mount = %mounted.route_path, %error, "periodic work failed; retrying next tick")
                }
                Err(_) => {
                    tracing::warn!(mount = %mounted.route_path, "periodic work timed out; retrying next tick")
                }
            }
        }
    }
}
