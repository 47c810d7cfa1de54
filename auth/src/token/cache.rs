//! Decoded token entries kept in memory, so authenticating a request costs no storage read,
//! decryption or JSON decode (one of each per request without it).
//!
//! **Invariant: a cached entry is never staler than storage was when the cache was allowed.**
//! - The cache is used only while its *epoch* holds. The core supplies the epoch through a
//!   gate: the raft term while this node leads and has applied an entry of that term (so
//!   every earlier write is applied and every later token write goes through this node's
//!   [`super::TokenStore`]), and one standby epoch otherwise. A new epoch starts with an
//!   empty cache.
//! - Every write or removal of a token entry invalidates its key *after* storage changed and
//!   bumps a generation; an insert carries the generation seen before its storage read and is
//!   dropped if any invalidation happened since (no stale value races back in). The writes
//!   this node's store makes invalidate themselves; the core also invalidates every entry
//!   raft applies a change to, after the change is visible and before the entry counts as
//!   applied (`TokenStore::forget_cached_entry`), which is what keeps a standby's cache (used
//!   by its linearizable local reads) no staler than its replica.
//! - Use-limited tokens are never cached: each use is a storage write under a lock.
//! - Expiry is still checked on every lookup (the cached entry carries its expiry time).

use super::entry::TokenEntry;
use super::limits::TOKEN_CACHE_ENTRIES_MAX;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Tells whether caching is safe now, and in which epoch (see the module comment).
pub type CacheGate = Arc<dyn Fn() -> Option<u64> + Send + Sync>;

#[derive(Default)]
struct State {
    epoch: Option<u64>,
    generation: u64,
    entries: HashMap<String, TokenEntry>,
}

#[derive(Default)]
pub(crate) struct EntryCache {
    gate: RwLock<Option<CacheGate>>,
    state: RwLock<State>,
}

/// What a lookup needs to insert its storage read afterwards.
pub(crate) struct Ticket {
    epoch: u64,
    generation: u64,
}

impl EntryCache {
    pub fn set_gate(&self, gate: CacheGate) {
        *self
            .gate
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(gate);
    }

    fn epoch(&self) -> Option<u64> {
        let gate = self
            .gate
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()?;
        gate()
    }

    /// The cached entry, or a ticket to insert what storage answers (`None` when caching is
    /// not allowed now).
    pub fn get(&self, token_hash: &str) -> Result<TokenEntry, Option<Ticket>> {
        let Some(epoch) = self.epoch() else {
            return Err(None);
        };
        let state = self
            .state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.epoch == Some(epoch)
            && let Some(entry) = state.entries.get(token_hash)
        {
            return Ok(entry.clone());
        }
        Err(Some(Ticket {
            epoch,
            generation: state.generation,
        }))
    }

    /// Caches what a lookup read from storage, unless the epoch or generation moved on.
    pub fn insert(&self, ticket: Ticket, entry: &TokenEntry) {
        if entry.num_uses != 0 {
            return;
        }
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.epoch != Some(ticket.epoch) {
            // A new epoch: nothing cached before it may be trusted.
            state.entries.clear();
            state.epoch = Some(ticket.epoch);
            state.generation += 1;
            return;
        }
        if state.generation != ticket.generation {
            return;
        }
        if state.entries.len() >= TOKEN_CACHE_ENTRIES_MAX {
            state.entries.clear();
        }
        state.entries.insert(entry.id_hash.clone(), entry.clone());
    }

    /// Called after storage changed the entry (written, revoked).
    pub fn invalidate(&self, token_hash: &str) {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.entries.remove(token_hash);
        state.generation += 1;
    }

    pub fn clear(&self) {
        let mut state = self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.entries.clear();
        state.epoch = None;
        state.generation += 1;
    }
}
