//! What runs when a timer fires, and the revocation paths shared with the API: one lease,
//! many leases with bounded concurrency, a token's leases, and tidy.

use super::entry::{self, LeaseEntry, TOKEN_INDEX_PREFIX};
use super::scheduler::TimerKey;
use super::{Error, Inner, TidyReport};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tresor_framework::{ErrorKind, LeaseRequest};
use tresor_storage::{Operation, Storage};

/// An operation applied to many leases by [`run_bulk`].
#[derive(Debug, Clone, Copy)]
pub enum Bulk {
    Revoke,
    RevokeForce,
    ExpireNow,
}

/// Applies `bulk` to every id with at most `revoke_concurrency` in flight. The first error
/// stops the run (the `JoinSet` is dropped, aborting the rest) and is returned.
pub async fn run_bulk(inner: &Arc<Inner>, ids: Vec<String>, bulk: Bulk) -> Result<(), Error> {
    let total = ids.len();
    let concurrency = inner.tuning.revoke_concurrency.max(1);
    let mut running = JoinSet::new();
    let mut ids = ids.into_iter();
    let mut finished = 0usize;
    loop {
        while running.len() < concurrency {
            let Some(id) = ids.next() else {
                break;
            };
            let inner = inner.clone();
            running.spawn(async move {
                let result = match bulk {
                    Bulk::Revoke => inner.revoke_one(&id, false).await,
                    Bulk::RevokeForce => inner.revoke_one(&id, true).await,
                    Bulk::ExpireNow => inner.expire_now(&id).await,
                };
                (id, result)
            });
        }
        let Some(joined) = running.join_next().await else {
            return Ok(());
        };
        finished += 1;
        match joined {
            Ok((_, Ok(()))) => {}
            Ok((id, Err(error))) => {
                tracing::warn!(lease_id = %id, %error, "prefix revocation stopped");
                return Err(with_context(
                    error,
                    &format!("failed to revoke {id:?} ({finished} / {total})"),
                ));
            }
            Err(error) => return Err(Error::internal(format!("revocation task failed: {error}"))),
        }
    }
}

/// Keeps the kind of a backend error and puts `context` before its messages.
fn with_context(error: Error, context: &str) -> Error {
    let detail = error.messages().join("; ");
    Error::new(error.kind(), format!("{context}: {detail}"))
}

impl Inner {
    /// The worker of one fired timer.
    pub(super) async fn fire(self: Arc<Self>, generation: u64, key: TimerKey) {
        match key {
            TimerKey::Lease(lease_id) => self.fire_lease(generation, lease_id).await,
        }
    }

    async fn fire_lease(self: &Arc<Self>, generation: u64, lease_id: Arc<str>) {
        let guard = self.lock_for(&lease_id).lock().await;
        if !self.is_current(generation) {
            return;
        }
        let entry = match self.load(&lease_id).await {
            Ok(Some(entry)) => entry,
            // Revoked by a request meanwhile.
            Ok(None) => return,
            Err(error) => {
                tracing::error!(lease_id = %lease_id, %error, "cannot read expired lease; retrying");
                self.arm(
                    TimerKey::Lease(lease_id),
                    self.now_ns().saturating_add(self.backoff_ns(1)),
                );
                return;
            }
        };
        // Renewed between the timer firing and this worker taking the lock.
        if !entry.irrevocable && entry.expire_time_ns > self.now_ns() {
            self.arm(TimerKey::Lease(lease_id), entry.expire_time_ns);
            return;
        }
        if let Some(token_hash) = entry.auth_token.clone() {
            // The lock covers reading the record only: revoking the token calls into the
            // token store, whose revocation hook calls back into this manager (it removes
            // this very record, under this lock), so holding it across the call deadlocks.
            drop(guard);
            let Err(error) = self.revoke_token_lease(&lease_id, &token_hash).await else {
                tracing::debug!("expired token revoked");
                return;
            };
            let _guard = self.lock_for(&lease_id).lock().await;
            // Still there (the token store did not get to revoke the token): count the failure.
            if let Ok(Some(entry)) = self.load(&lease_id).await {
                self.record_revoke_failure(generation, entry, error).await;
            }
            return;
        }
        match self.revoke_entry(&entry, false).await {
            Ok(()) => tracing::debug!(lease_id = %lease_id, "expired lease revoked"),
            Err(error) => self.record_revoke_failure(generation, entry, error).await,
        }
    }

    /// A failed expiry-driven revocation: count it, keep the record, and retry after a
    /// backoff; after the last attempt (or at once for an error retrying cannot fix) the
    /// lease is irrevocable and retried daily. Never dropped.
    async fn record_revoke_failure(&self, generation: u64, mut entry: LeaseEntry, error: Error) {
        let attempts = entry.revoke_attempts.saturating_add(1);
        let unrecoverable = matches!(
            error.kind(),
            ErrorKind::Invalid | ErrorKind::UnsupportedPath | ErrorKind::UnsupportedOperation
        );
        let exhausted = attempts >= self.tuning.revoke_attempts_max;
        let irrevocable = entry.irrevocable || unrecoverable || exhausted;
        entry.revoke_attempts = attempts;
        entry.revoke_error = Some(entry::revoke_error_text(
            &error,
            exhausted && !unrecoverable,
        ));
        entry.irrevocable = irrevocable;
        if let Err(persist_error) = self.persist(&entry).await {
            tracing::error!(lease_id = %entry.lease_id, error = %persist_error, "cannot record failed revocation");
        }
        let delay_ns = match irrevocable {
            true => self.irrevocable_retry_ns(),
            false => self.backoff_ns(attempts),
        };
        match irrevocable {
            true => {
                tracing::error!(lease_id = %entry.lease_id, attempts, error = %error, "lease is irrevocable; retrying daily")
            }
            false => {
                tracing::warn!(lease_id = %entry.lease_id, attempts, error = %error, "lease revocation failed; retrying")
            }
        }
        let id: Arc<str> = Arc::from(entry.lease_id.as_str());
        let mut state = self.lock_state();
        if state.generation != generation {
            return;
        }
        if irrevocable {
            state.irrevocable.insert(id.clone());
        }
        let due_ns = self.now_ns().saturating_add(delay_ns);
        state.arm(TimerKey::Lease(id), due_ns);
    }

    /// Revokes one lease now, under its lock (a token's lease: see
    /// [`Inner::revoke_token_lease`]). Unknown: success.
    pub(super) async fn revoke_one(
        self: &Arc<Self>,
        lease_id: &str,
        force: bool,
    ) -> Result<(), Error> {
        let guard = self.lock_for(lease_id).lock().await;
        let Some(entry) = self.load(lease_id).await? else {
            return Ok(());
        };
        let Some(token_hash) = entry.auth_token.clone() else {
            return self.revoke_entry(&entry, force).await;
        };
        drop(guard);
        match self.revoke_token_lease(lease_id, &token_hash).await {
            Err(error) if force => {
                tracing::warn!(lease_id = %lease_id, %error, "token revocation failed; lease record deleted anyway (force)");
                self.delete_token_lease(lease_id).await
            }
            result => result,
        }
    }

    /// Revokes the token a lease stands for, with no lease lock held: the token's own leases
    /// expire now (queued), then the token store revokes the token and its children, and its
    /// hook removes the token's lease ([`Inner::delete_token_lease`]); the record is removed
    /// here too, for a token the store no longer had.
    ///
    /// Returns a boxed `Send` future: `run_bulk` reaches this function and it reaches
    /// `run_bulk`; the named type ends the recursive one.
    fn revoke_token_lease<'a>(
        self: &'a Arc<Self>,
        lease_id: &'a str,
        token_hash: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>> + Send + 'a>> {
        Box::pin(async move {
            self.expire_by_token(token_hash).await?;
            let timeout = Duration::from_millis(self.tuning.revoke_attempt_timeout_ms);
            match tokio::time::timeout(timeout, self.backends.revoke_token(token_hash)).await {
                Ok(result) => result?,
                Err(_) => return Err(Error::internal("token revocation timed out")),
            }
            self.delete_token_lease(lease_id).await
        })
    }

    /// Deletes a token's lease record and its timer, under the lease lock. Absent: success.
    pub(super) async fn delete_token_lease(&self, lease_id: &str) -> Result<(), Error> {
        let _guard = self.lock_for(lease_id).lock().await;
        self.storage.delete(&entry::lease_key(lease_id)).await?;
        let id: Arc<str> = Arc::from(lease_id);
        let mut state = self.lock_state();
        state.irrevocable.remove(&id);
        state.disarm(&TimerKey::Lease(id));
        Ok(())
    }

    /// Order (engines-seals-k8s.md §3.4): backend revoke, then the record and its token index
    /// entry in one batch, then the timer. A backend failure keeps everything unless forced.
    async fn revoke_entry(&self, entry: &LeaseEntry, force: bool) -> Result<(), Error> {
        if let Err(error) = self.revoke_in_backend(entry).await {
            if !force {
                return Err(error);
            }
            tracing::warn!(lease_id = %entry.lease_id, %error, "backend revocation failed; lease record deleted anyway (force)");
        }
        let mut operations = vec![Operation::Delete {
            key: entry::lease_key(&entry.lease_id),
        }];
        if let Some(token_hash) = &entry.token_hash {
            operations.push(Operation::Delete {
                key: entry::token_index_key(token_hash, &entry.lease_id),
            });
        }
        self.storage.batch(operations).await?;
        let id: Arc<str> = Arc::from(entry.lease_id.as_str());
        let mut state = self.lock_state();
        state.irrevocable.remove(&id);
        state.disarm(&TimerKey::Lease(id));
        Ok(())
    }

    async fn revoke_in_backend(&self, entry: &LeaseEntry) -> Result<(), Error> {
        let Some((backend, mount)) = self.backends.backend_for(&entry.mount_path) else {
            return Err(Error::internal(format!(
                "no mount at {} to revoke the lease",
                entry.mount_path
            )));
        };
        let request = LeaseRequest {
            lease_id: entry.lease_id.clone(),
            path: entry.path.clone(),
            internal_data: entry.internal_data.clone(),
            ttl_seconds: 0,
            mount,
        };
        let timeout = Duration::from_millis(self.tuning.revoke_attempt_timeout_ms);
        match tokio::time::timeout(timeout, backend.revoke_lease(request)).await {
            Ok(result) => result,
            Err(_) => Err(Error::internal(format!(
                "revocation timed out after {} ms",
                self.tuning.revoke_attempt_timeout_ms
            ))),
        }
    }

    /// Marks a lease expired now so the timers revoke it (Vault's lazy revoke).
    pub(super) async fn expire_now(&self, lease_id: &str) -> Result<(), Error> {
        let _guard = self.lock_for(lease_id).lock().await;
        let Some(mut entry) = self.load(lease_id).await? else {
            return Ok(());
        };
        let now_ns = self.now_ns();
        if entry.expire_time_ns > now_ns {
            entry.expire_time_ns = now_ns;
            self.persist(&entry).await?;
        }
        let due_ns = match entry.irrevocable {
            true => now_ns.saturating_add(self.irrevocable_retry_ns()),
            false => entry.expire_time_ns,
        };
        self.arm(TimerKey::Lease(Arc::from(lease_id)), due_ns);
        Ok(())
    }

    /// Every lease of a token expires now; index entries of missing leases are dropped.
    pub(super) async fn expire_by_token(self: &Arc<Self>, token_hash: &str) -> Result<(), Error> {
        assert!(
            !token_hash.is_empty() && !token_hash.contains('/'),
            "a token hash is one non-empty path segment"
        );
        let folder = format!("{TOKEN_INDEX_PREFIX}{token_hash}/");
        let mut lease_ids = Vec::new();
        for child in self.storage.list(&folder).await? {
            let key = format!("{folder}{child}");
            let Some(bytes) = self.storage.get(&key).await? else {
                continue;
            };
            let lease_id = String::from_utf8(bytes)
                .map_err(|_| Error::internal(format!("corrupt token index entry {key}")))?;
            match self.storage.get(&entry::lease_key(&lease_id)).await? {
                Some(_) => lease_ids.push(lease_id),
                None => self.storage.delete(&key).await?,
            }
        }
        run_bulk(self, lease_ids, Bulk::ExpireNow).await
    }

    /// One tidy pass; see `ExpirationManager::tidy_now`.
    pub(super) async fn tidy(self: &Arc<Self>) -> Result<TidyReport, Error> {
        let mut report = TidyReport::default();
        let mut token_exists: HashMap<String, bool> = HashMap::new();
        for lease_id in self.walk("").await? {
            let Some(entry) = self.load(&lease_id).await? else {
                continue;
            };
            report.leases_checked += 1;
            // A token's own lease names the token in `auth_token`; it stays while the token does.
            let owner = entry.auth_token.as_deref().or(entry.token_hash.as_deref());
            let keep = match owner {
                None | Some("") => false,
                Some(hash) => match token_exists.get(hash) {
                    Some(exists) => *exists,
                    None => {
                        let exists = self.backends.token_exists(hash).await?;
                        token_exists.insert(hash.to_string(), exists);
                        exists
                    }
                },
            };
            if !keep {
                self.revoke_one(&lease_id, true).await?;
                report.leases_revoked += 1;
            }
        }
        for token_folder in self.storage.list(TOKEN_INDEX_PREFIX).await? {
            let folder = format!("{TOKEN_INDEX_PREFIX}{token_folder}");
            for child in self.storage.list(&folder).await? {
                let key = format!("{folder}{child}");
                let Some(bytes) = self.storage.get(&key).await? else {
                    continue;
                };
                let present = match String::from_utf8(bytes) {
                    Ok(lease_id) => self
                        .storage
                        .get(&entry::lease_key(&lease_id))
                        .await?
                        .is_some(),
                    Err(_) => false,
                };
                if !present {
                    self.storage.delete(&key).await?;
                    report.index_entries_deleted += 1;
                }
            }
        }
        Ok(report)
    }
}
