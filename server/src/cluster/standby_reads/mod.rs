//! Linearizable standby reads (issue #5, beyond Vault OSS): with
//! `storage "raft" { standby_reads = "linearizable" }` a standby answers plain reads from its
//! own replica instead of forwarding them; everything else is forwarded as before. With the
//! default, `"forward"`, nothing here runs and a standby forwards every request (Vault OSS).
//!
//! One local read, in order (any failure hands the request back to the front door, which
//! forwards it, or redirects it where it would have):
//! 1. [`StandbyReads::is_candidate`]: `GET`, `HEAD` or `LIST`, no body, no
//!    `X-Vault-Wrap-TTL`, not under `sys/`, and the cluster port is armed.
//! 2. Read index: the leader's index for a linearizable read, from one RPC shared by every
//!    reader waiting for it (`batcher.rs`, `read_index.rs`).
//! 3. Wait until this node applied that index; 2 and 3 together take at most
//!    [`LOCAL_READ_WAIT_MS`]. After this, the replica holds every write acknowledged
//!    before the read began.
//! 4. Reload the mount tables and policies if raft applied a change to them
//!    (`Core::refresh_for_local_read`), so a revoked policy never grants a read here.
//! 5. Serve the request through the ordinary API handler inside a `LocalRead` scope: the
//!    router and the storage guard apply the rest of the rule (`core/local_read.rs`:
//!    token not use-limited, mount type allowed, no lease, no auth, **no storage write**).
//!    The answer is kept only if no check failed, it is not a 5xx (the active node may do
//!    better) and no snapshot install overlapped it.
//!
//! Locally served reads are logged at debug level (`tresor::cluster::standby_reads`), which
//! is how the tests tell them from forwarded ones; no response header changes.

mod batcher;
pub mod read_index;

use super::Cluster;
use super::limits::{
    LOCAL_READ_WAIT_MS, READ_INDEX_ROUNDS_IN_FLIGHT_MAX, READ_INDEX_RPC_TIMEOUT_MS,
    READ_INDEX_WAITERS_MAX,
};
use crate::config::StandbyReads as StandbyReadsMode;
use crate::core::Core;
use crate::core::local_read::LocalRead;
use axum::body::Body;
use axum::http::{Method, Request, header};
use axum::response::Response;
use batcher::ReadIndexBatcher;
use read_index::{LeaderReadIndex, RemoteReadIndex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::time::timeout;
use tresor_storage::limits::READ_INDEX_TIMEOUT_MS;

/// The standby-reads state of one node.
pub struct StandbyReads {
    mode: StandbyReadsMode,
    /// Standby side: RPCs to the leader, shared by concurrent readers. Made on first use
    /// (it needs the runtime and the core).
    remote: OnceLock<ReadIndexBatcher>,
    /// Leader side: heartbeat rounds, shared by concurrent RPCs from standbys.
    leader: OnceLock<ReadIndexBatcher>,
    served_locally: AtomicU64,
    handed_back: AtomicU64,
}

impl StandbyReads {
    pub fn new(mode: StandbyReadsMode) -> StandbyReads {
        StandbyReads {
            mode,
            remote: OnceLock::new(),
            leader: OnceLock::new(),
            served_locally: AtomicU64::new(0),
            handed_back: AtomicU64::new(0),
        }
    }

    /// Step 1 of the module comment: whether this request may be tried locally at all.
    pub fn is_candidate(&self, request: &Request<Body>) -> bool {
        if self.mode != StandbyReadsMode::Linearizable {
            return false;
        }
        let method = request.method();
        let is_read = method == Method::GET || method == Method::HEAD || method == "LIST";
        let headers = request.headers();
        let has_body = headers.contains_key(header::TRANSFER_ENCODING)
            || headers
                .get(header::CONTENT_LENGTH)
                .is_some_and(|length| length.as_bytes() != b"0");
        // A fast path only: the router checks the cleaned path again.
        let is_sys = request.uri().path().starts_with("/v1/sys/");
        is_read && !has_body && !is_sys && !headers.contains_key("x-vault-wrap-ttl")
    }

    /// The leader's side of the read-index RPC: at once while the leader's read lease holds,
    /// otherwise one heartbeat round shared by concurrent callers.
    pub(super) async fn leader_read_index(&self, core: &Arc<Core>) -> Result<u64, String> {
        if let Some(index) = core.raft().lease_read_index() {
            return Ok(index);
        }
        let batcher = self.leader.get_or_init(|| {
            ReadIndexBatcher::start(
                Arc::new(LeaderReadIndex(Arc::downgrade(core))),
                READ_INDEX_WAITERS_MAX,
                // RPCs from every standby that arrive during a round share the next one.
                READ_INDEX_ROUNDS_IN_FLIGHT_MAX,
                Duration::from_millis(READ_INDEX_TIMEOUT_MS),
            )
        });
        batcher.read_index().await
    }

    fn remote(&self, core: &Arc<Core>) -> &ReadIndexBatcher {
        self.remote.get_or_init(|| {
            ReadIndexBatcher::start(
                Arc::new(RemoteReadIndex(Arc::downgrade(core))),
                READ_INDEX_WAITERS_MAX,
                READ_INDEX_ROUNDS_IN_FLIGHT_MAX,
                Duration::from_millis(READ_INDEX_RPC_TIMEOUT_MS),
            )
        })
    }

    /// Steps 2 to 4 of the module comment.
    async fn prepare(&self, core: &Arc<Core>, started: Instant) -> Result<Prepared, String> {
        let budget = Duration::from_millis(LOCAL_READ_WAIT_MS);
        let index = timeout(budget, self.remote(core).read_index())
            .await
            .map_err(|_| "no read index in time".to_string())??;
        let index_elapsed = started.elapsed();
        let remaining = budget.saturating_sub(index_elapsed);
        core.raft()
            .wait_applied(index, remaining)
            .await
            .map_err(|error| error.to_string())?;
        let applied_elapsed = started.elapsed();
        core.refresh_for_local_read()
            .await
            .map_err(|error| format!("reload failed: {error}"))?;
        Ok(Prepared {
            index,
            index_us: index_elapsed.as_micros(),
            apply_wait_us: applied_elapsed.saturating_sub(index_elapsed).as_micros(),
        })
    }
}

/// A read index this node applied, and how long getting and applying it took (for the
/// debug log).
struct Prepared {
    index: u64,
    index_us: u128,
    apply_wait_us: u128,
}

/// What became of a read tried on a standby.
pub enum Outcome {
    /// Answered from this node's replica.
    Served(Response),
    /// For the active node: the same request (forward or redirect it as usual).
    HandedBack(Request<Body>),
}

/// Serves `request` from this standby's replica when the rule allows (see the module
/// comment); otherwise gives back an identical request for the caller to forward.
pub async fn serve(core: &Arc<Core>, cluster: &Cluster, request: Request<Body>) -> Outcome {
    let started = Instant::now();
    let reads = &cluster.standby_reads;
    let Some(copy) = copy_without_body(&request) else {
        return Outcome::HandedBack(request);
    };
    let hand_back = |reason: &str, copy: Request<Body>| {
        reads.handed_back.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(reason, "standby read handed to the active node");
        Outcome::HandedBack(copy)
    };
    let prepared = match reads.prepare(core, started).await {
        Ok(prepared) => prepared,
        Err(reason) => return hand_back(&reason, copy),
    };
    let epoch = core.raft().replacement_epoch();
    if epoch % 2 == 1 {
        return hand_back("snapshot install in progress", copy);
    }
    let local_read = LocalRead::new();
    let mut request = request;
    request.extensions_mut().insert(local_read.clone());
    let response = crate::http::serve(core.clone(), request).await;
    if let Some(reason) = local_read.forward_reason() {
        return hand_back(reason, copy);
    }
    if response.status().is_server_error() {
        return hand_back("local answer was a server error", copy);
    }
    if core.raft().replacement_epoch() != epoch {
        return hand_back("a snapshot install overlapped the read", copy);
    }
    let served = reads.served_locally.fetch_add(1, Ordering::Relaxed) + 1;
    tracing::debug!(
        read_index = prepared.index,
        read_index_us = prepared.index_us,
        apply_wait_us = prepared.apply_wait_us,
        total_us = started.elapsed().as_micros(),
        served,
        handed_back = reads.handed_back.load(Ordering::Relaxed),
        rounds = reads.remote.get().map_or(0, ReadIndexBatcher::rounds),
        "standby read served locally"
    );
    Outcome::Served(response)
}

/// The same request with an empty body (candidates have none), for the fallback.
fn copy_without_body(request: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .version(request.version())
        .body(Body::empty())
        .ok()?;
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    /// Goal: only body-less reads outside `sys/` without wrapping are tried locally, and
    /// nothing is in the default mode.
    #[test]
    fn candidates_are_plain_reads_in_linearizable_mode_only() {
        let forward = StandbyReads::new(StandbyReadsMode::Forward);
        let linearizable = StandbyReads::new(StandbyReadsMode::Linearizable);
        let read = request("GET", "/v1/secret/data/app", &[]);
        assert!(!forward.is_candidate(&read));
        assert!(linearizable.is_candidate(&read));
        for (method, path, headers, expected) in [
            ("HEAD", "/v1/secret/data/app", &[][..], true),
            ("LIST", "/v1/secret/metadata/", &[], true),
            ("GET", "/v1/secret/metadata/?list=true", &[], true),
            (
                "GET",
                "/v1/secret/data/app",
                &[("content-length", "0")],
                true,
            ),
            ("POST", "/v1/secret/data/app", &[], false),
            ("PUT", "/v1/secret/data/app", &[], false),
            ("DELETE", "/v1/secret/data/app", &[], false),
            ("PATCH", "/v1/secret/data/app", &[], false),
            ("GET", "/v1/sys/mounts", &[], false),
            (
                "GET",
                "/v1/secret/data/app",
                &[("x-vault-wrap-ttl", "60")],
                false,
            ),
            (
                "GET",
                "/v1/secret/data/app",
                &[("content-length", "2")],
                false,
            ),
            (
                "GET",
                "/v1/secret/data/app",
                &[("transfer-encoding", "chunked")],
                false,
            ),
        ] {
            let candidate = linearizable.is_candidate(&request(method, path, headers));
            assert_eq!(candidate, expected, "{method} {path} {headers:?}");
        }
    }
}
