//! The core's side of linearizable standby reads (`standby_reads = "linearizable"`, issue
//! #5): a standby answers some reads from its own replica, after the read-index wait done by
//! `cluster/standby_reads`. This module decides, while the request runs, whether its answer
//! may stand, and keeps what the core caches from storage as fresh as the replica.
//!
//! **The rule.** A request runs in a [`LocalRead`] scope. Its answer is kept only if every
//! check below passed; otherwise the scope records a reason, the answer is thrown away and
//! the front door forwards the request to the active node, which answers it as always:
//! - the operation is a read, a list or a `HEAD`, without response wrapping;
//! - the path is not under `sys/` (the system mount's reads show the active node's
//!   in-memory state: leases, autopilot, seal and HA status) and names no token-optional
//!   or unauthenticated endpoint;
//! - the token is found, live, and not use-limited (`num_uses` 0: counting a use is a write);
//! - the mount's type is in [`LOCAL_READ_MOUNT_TYPES`];
//! - the reply issues no lease (`internal_data`: registering it is a write) and no auth;
//! - and, the catch-all: the request attempted **no storage write**. The physical store is
//!   wrapped in [`ReadOnlyInLocalRead`], which refuses every write made inside the scope and
//!   marks the request for forwarding (lazy expiry of a token, a transit wrapping key made
//!   on first read, anything we did not foresee). Nothing is written by a local read, so
//!   forwarding it afterwards cannot apply anything twice.
//!
//! **Fresh caches.** Tokens are read from storage per request (only the salt is cached).
//! Mount tables and policies live in memory; raft storage counts applied changes under their
//! keys (`RaftStorage::watch_prefixes`), and [`Core::refresh_for_local_read`] reloads them
//! (and forgets the salt) whenever that count moved since the last reload, before the
//! request runs. A policy revoked on the active node is therefore never honoured by a
//! standby that applied the revocation, which the read-index wait guarantees.

use super::{Core, POLICY_PREFIX, TOKEN_STORE_PREFIX};
use async_trait::async_trait;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use tresor_auth::TokenEntry;
use tresor_framework::{Error, ErrorKind, Operation, Reply, Request};
use tresor_storage::{Operation as StorageOperation, Storage, StorageError};

/// Mount types whose reads a standby may serve: their read paths only read their own
/// storage (KV v1/v2, cubbyhole, transit key reads, token lookups). Anything a handler writes
/// anyway is caught by [`ReadOnlyInLocalRead`].
pub const LOCAL_READ_MOUNT_TYPES: &[&str] = &["kv", "generic", "cubbyhole", "transit", "token"];

/// Barrier keys whose contents the core caches in memory (mount tables, policies, the token
/// salt); raft storage watches them for [`Core::refresh_for_local_read`].
pub(super) fn cached_storage_prefixes() -> Vec<String> {
    vec![
        super::mounts::SECRETS_TABLE_PATH.to_string(),
        super::mounts::AUTH_TABLE_PATH.to_string(),
        POLICY_PREFIX.to_string(),
        format!("{TOKEN_STORE_PREFIX}salt"),
    ]
}

/// One request served locally on a standby. Cheap to clone (clones share the outcome).
#[derive(Clone, Default)]
pub struct LocalRead {
    forward_reason: Arc<OnceLock<&'static str>>,
}

tokio::task_local! {
    static LOCAL_READ: LocalRead;
}

impl LocalRead {
    pub fn new() -> LocalRead {
        LocalRead::default()
    }

    /// Why the active node must answer instead, if a check failed; the first reason wins.
    pub fn forward_reason(&self) -> Option<&'static str> {
        self.forward_reason.get().copied()
    }

    /// Marks the request for the active node (for callers outside the scope's task).
    pub fn forward_instead(&self, reason: &'static str) {
        let _ = self.forward_reason.set(reason);
    }

    /// Runs `future` (the request's handling) inside this scope.
    pub async fn scope<F: std::future::Future>(self, future: F) -> F::Output {
        LOCAL_READ.scope(self, future).await
    }
}

/// Inside a local read: when `condition` holds, records `reason` and ends the local attempt
/// with an error nobody sees (the front door forwards instead). Outside one: nothing.
fn forward_if(condition: bool, reason: &'static str) -> Result<(), Error> {
    if !condition {
        return Ok(());
    }
    let in_local_read = LOCAL_READ
        .try_with(|local_read| local_read.forward_instead(reason))
        .is_ok();
    match in_local_read {
        true => Err(Error::new(
            ErrorKind::Invalid,
            "served by the active node instead",
        )),
        false => Ok(()),
    }
}

/// Whether the current task serves a request locally on a standby.
pub fn is_local_read() -> bool {
    LOCAL_READ.try_with(|_| ()).is_ok()
}

/// The request-level part of the rule (see the module comment).
pub(crate) fn check_request(request: &Request) -> Result<(), Error> {
    let is_read = matches!(
        request.operation,
        Operation::Read | Operation::List | Operation::Head
    );
    forward_if(!is_read, "not a read")?;
    forward_if(
        request.path == "sys" || request.path.starts_with("sys/"),
        "a sys/ path",
    )?;
    forward_if(request.wrap_ttl_seconds.is_some(), "response wrapping")
}

/// The token part of the rule: a use-limited token's use is counted on the active node.
pub(crate) fn check_token(token: &TokenEntry) -> Result<(), Error> {
    forward_if(token.num_uses != 0, "a use-limited token")
}

/// The mount part of the rule.
pub(crate) fn check_mount_type(mount_type: &str) -> Result<(), Error> {
    forward_if(
        !LOCAL_READ_MOUNT_TYPES.contains(&mount_type),
        "a mount type not served locally",
    )
}

/// The reply part of the rule: a lease or an auth block is registered (written) by the
/// active node.
pub(crate) fn check_reply(reply: &Reply) -> Result<(), Error> {
    let Reply::Secret(secret) = reply else {
        return Ok(());
    };
    let issues_lease = secret
        .lease
        .as_ref()
        .is_some_and(|lease| lease.internal_data.is_some());
    forward_if(issues_lease, "a reply that issues a lease")?;
    forward_if(secret.auth.is_some(), "a reply that carries auth")
}

/// The physical store as the barrier sees it: inside a local read every write is refused
/// (and the request marked for forwarding); outside one it passes through unchanged.
pub struct ReadOnlyInLocalRead(pub Arc<dyn Storage>);

fn refuse_write_in_local_read() -> Result<(), StorageError> {
    match forward_if(true, "a storage write") {
        Ok(()) => Ok(()),
        Err(_) => Err(StorageError::Refused(
            "a standby serving a read locally does not write".into(),
        )),
    }
}

#[async_trait]
impl Storage for ReadOnlyInLocalRead {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.0.get(key).await
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        refuse_write_in_local_read()?;
        self.0.put(key, value).await
    }
    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        refuse_write_in_local_read()?;
        self.0.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.0.list(prefix).await
    }
    async fn batch(&self, operations: Vec<StorageOperation>) -> Result<(), StorageError> {
        refuse_write_in_local_read()?;
        self.0.batch(operations).await
    }
}

/// No reload done yet: the first local read reloads.
pub(super) const NOT_LOADED: u64 = u64::MAX;

impl Core {
    /// Brings the mount tables, policies and token salt in memory up to the replica: reloads
    /// them when raft applied a change to their keys since the last reload. Call it after
    /// the read-index wait and before serving a local read; an error means "forward".
    pub async fn refresh_for_local_read(&self) -> Result<(), Error> {
        let generation = self.raft.watched_generation();
        if self.local_read_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        let _reload = self.local_read_reload.lock().await;
        // Read again under the lock: another request may have reloaded meanwhile. What is
        // loaded below includes every change counted up to `generation`.
        let generation = self.raft.watched_generation();
        if self.local_read_generation.load(Ordering::Acquire) == generation {
            return Ok(());
        }
        self.require_unsealed()?;
        self.tokens.clear_cache();
        self.policies.reload_stored().await?;
        self.reload_mounts().await?;
        self.local_read_generation
            .store(generation, Ordering::Release);
        tracing::debug!(generation, "standby reloaded mount tables and policies");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: every check ends a local read with a recorded reason, and does nothing outside
    /// one (the active node's requests never see this module).
    #[tokio::test]
    async fn checks_forward_only_inside_a_local_read() {
        let request = |operation: Operation, path: &str, wrap: Option<u64>| Request {
            operation,
            path: path.into(),
            data: Default::default(),
            client_token: None,
            request_id: String::new(),
            mount: Default::default(),
            caller: None,
            wrap_ttl_seconds: wrap,
        };
        let write = request(Operation::Update, "secret/data/x", None);
        assert!(check_request(&write).is_ok(), "outside a local read");
        assert!(refuse_write_in_local_read().is_ok(), "outside a local read");

        let check = async |request: Request, expected: Option<&str>| {
            let local_read = LocalRead::new();
            let outcome = local_read
                .clone()
                .scope(async move { check_request(&request) })
                .await;
            assert_eq!(outcome.is_err(), expected.is_some());
            assert_eq!(local_read.forward_reason(), expected);
        };
        check(request(Operation::Read, "secret/data/x", None), None).await;
        check(request(Operation::List, "secret/metadata/", None), None).await;
        check(request(Operation::Head, "secret/data/x", None), None).await;
        check(
            request(Operation::Update, "secret/data/x", None),
            Some("not a read"),
        )
        .await;
        check(
            request(Operation::Delete, "secret/data/x", None),
            Some("not a read"),
        )
        .await;
        check(
            request(Operation::Read, "sys/mounts", None),
            Some("a sys/ path"),
        )
        .await;
        check(request(Operation::Read, "sys", None), Some("a sys/ path")).await;
        check(
            request(Operation::Read, "secret/data/x", Some(60)),
            Some("response wrapping"),
        )
        .await;

        let local_read = LocalRead::new();
        let refused = local_read
            .clone()
            .scope(async { refuse_write_in_local_read() })
            .await;
        assert!(matches!(refused, Err(StorageError::Refused(_))));
        assert_eq!(local_read.forward_reason(), Some("a storage write"));

        let local_read = LocalRead::new();
        let outcome = local_read
            .clone()
            .scope(async {
                (
                    check_mount_type("kv"),
                    check_mount_type("system"),
                    check_mount_type("transit"),
                )
            })
            .await;
        assert!(outcome.0.is_ok() && outcome.1.is_err() && outcome.2.is_ok());
        assert_eq!(
            local_read.forward_reason(),
            Some("a mount type not served locally")
        );
    }
}
