//! The leader's read lease: read indexes without a heartbeat round per read (issue #5,
//! `standby_reads = "linearizable"`).
//!
//! [`RaftStorage::read_index`](crate::RaftStorage::read_index) must answer an index that
//! covers every write acknowledged before the read began, by any leader. A heartbeat round
//! answered by a quorum proves this node still leads; this module lets one such round vouch
//! for the reads of the following [`READ_LEASE_MS`].
//!
//! **Why no other leader can exist while the lease holds.** A round that started at `t` and
//! was answered by a quorum `Q` grants the lease until `t + READ_LEASE_MS`. Another leader
//! needs the votes of a majority, and every majority shares a member with `Q`:
//! - a follower in `Q` heard this leader's heartbeat after `t`, and openraft refuses every
//!   vote request for [`RAFT_LEADER_LEASE_MS`] after such a heartbeat (its leader lease),
//!   which outlasts `READ_LEASE_MS` by a margin for clock-rate drift between machines;
//! - a follower that restarted forgot that heartbeat, so for [`RAFT_LEADER_LEASE_MS`] after
//!   it opens its store a node refuses every vote request ([`ReadLease::refuses_votes`]);
//! - this node refuses every vote request while it holds the lease, which it drops first
//!   when it hands leadership over ([`ReadLease::suspend`], `sys/step-down`), and a follower
//!   starts an election out of turn (`/cluster/elect`) only when its own leader asks. A vote
//!   it does handle suspends the lease until raft answered it ([`ReadLease::begin_vote`]),
//!   so a round in flight cannot grant a lease just before this node votes.
//! - membership changes suspend the lease too, so a quorum of an old configuration never
//!   vouches for reads under a new one.
//!
//! **Which index.** A lease read answers the larger of this node's applied index, read
//! *before* the lease is checked, and the index the granting round returned (which covers
//! entries committed under earlier leaders). The leader acknowledges a write only after it
//! applied it, so every write acknowledged before the check is at or below the answer.
//!
//! What it assumes beyond raft: monotonic clocks whose rates differ by less than the margin
//! between [`READ_LEASE_MS`] and [`RAFT_LEADER_LEASE_MS`] (a quarter of the lease).

use crate::limits::{RAFT_LEADER_LEASE_MS, READ_LEASE_MS};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(crate) struct ReadLease {
    /// The clock's zero: lease ends are kept as nanoseconds since then, in atomics.
    base: Instant,
    /// Until then (nanoseconds since `base`) the lease holds; 0 when there is none.
    until: AtomicU64,
    /// The read index of the round that granted the lease.
    floor: AtomicU64,
    /// Suspensions under way (step-down, membership change): no lease is used or granted.
    suspended: AtomicU64,
    /// Counts suspensions: a round that overlapped one grants nothing.
    generation: Mutex<u64>,
    /// One renewal round at a time.
    renewing: AtomicBool,
    /// Until then (nanoseconds since `base`) this freshly started node refuses votes.
    votes_refused_until: u64,
}

/// A round in progress: when it started and the suspension generation it started in.
pub(crate) struct RoundStart {
    at: Instant,
    generation: u64,
}

impl ReadLease {
    pub(crate) fn new() -> ReadLease {
        ReadLease {
            base: Instant::now(),
            until: AtomicU64::new(0),
            floor: AtomicU64::new(0),
            suspended: AtomicU64::new(0),
            generation: Mutex::new(0),
            renewing: AtomicBool::new(false),
            votes_refused_until: duration_nanos(Duration::from_millis(RAFT_LEADER_LEASE_MS)),
        }
    }

    fn now(&self) -> u64 {
        duration_nanos(self.base.elapsed())
    }

    /// The read index the lease vouches for, given this node's applied index read just
    /// before the call; `None` without a valid lease. Also says whether the lease is past
    /// its half and worth renewing.
    pub(crate) fn read_index(&self, applied_before: u64) -> Option<(u64, bool)> {
        if self.suspended.load(Ordering::SeqCst) != 0 {
            return None;
        }
        let until = self.until.load(Ordering::SeqCst);
        let now = self.now();
        if now >= until {
            return None;
        }
        let half = duration_nanos(Duration::from_millis(READ_LEASE_MS)) / 2;
        let renew = until - now < half;
        Some((applied_before.max(self.floor.load(Ordering::SeqCst)), renew))
    }

    /// Call right before sending a heartbeat round.
    pub(crate) fn round_start(&self) -> RoundStart {
        RoundStart {
            at: Instant::now(),
            generation: *self.lock_generation(),
        }
    }

    /// A round that started at `start` was answered by a quorum with `read_index`: holds
    /// the lease from then on, unless a suspension began since the round started.
    pub(crate) fn grant(&self, start: RoundStart, read_index: u64) {
        let generation = self.lock_generation();
        if *generation != start.generation || self.suspended.load(Ordering::SeqCst) != 0 {
            return;
        }
        let since_base = start.at.saturating_duration_since(self.base);
        let until = duration_nanos(since_base + Duration::from_millis(READ_LEASE_MS));
        // The floor first: a reader that sees the new end sees its floor.
        self.floor.fetch_max(read_index, Ordering::SeqCst);
        self.until.fetch_max(until, Ordering::SeqCst);
    }

    /// Drops the lease and keeps it off until the guard drops (leadership handed over,
    /// membership changing).
    pub(crate) fn suspend(&self) -> LeaseSuspension<'_> {
        let mut generation = self.lock_generation();
        self.suspend_locked(&mut generation)
    }

    fn suspend_locked(&self, generation: &mut u64) -> LeaseSuspension<'_> {
        *generation += 1;
        self.suspended.fetch_add(1, Ordering::SeqCst);
        self.until.store(0, Ordering::SeqCst);
        LeaseSuspension(self)
    }

    /// Whether this node must refuse a vote request now (see the module comment).
    pub(crate) fn refuses_votes(&self) -> bool {
        let _generation = self.lock_generation();
        self.refuses_votes_locked()
    }

    fn refuses_votes_locked(&self) -> bool {
        let now = self.now();
        now < self.votes_refused_until
            || (self.suspended.load(Ordering::SeqCst) == 0
                && now < self.until.load(Ordering::SeqCst))
    }

    /// Before handling a vote request: `None` when it must be refused, else a suspension
    /// to hold while raft handles it. Checked and taken under the lock [`ReadLease::grant`]
    /// takes, so a round in flight cannot grant a lease after the check and before the vote
    /// (it overlapped the suspension, so it grants nothing).
    pub(crate) fn begin_vote(&self) -> Option<LeaseSuspension<'_>> {
        let mut generation = self.lock_generation();
        if self.refuses_votes_locked() {
            return None;
        }
        Some(self.suspend_locked(&mut generation))
    }

    /// Claims the one renewal slot; `false` when a renewal is already running.
    pub(crate) fn begin_renewal(&self) -> bool {
        !self.renewing.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn end_renewal(&self) {
        self.renewing.store(false, Ordering::SeqCst);
    }

    fn lock_generation(&self) -> std::sync::MutexGuard<'_, u64> {
        self.generation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Keeps the lease off while it lives (see [`ReadLease::suspend`]).
pub struct LeaseSuspension<'a>(&'a ReadLease);

impl Drop for LeaseSuspension<'_> {
    fn drop(&mut self) {
        self.0.suspended.fetch_sub(1, Ordering::SeqCst);
    }
}

fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease() -> ReadLease {
        let lease = ReadLease::new();
        assert!(lease.read_index(5).is_none(), "no lease before a round");
        lease
    }

    /// A lease whose clock started long ago, so rounds may start in the past.
    fn aged_lease() -> ReadLease {
        ReadLease {
            base: Instant::now() - Duration::from_secs(10),
            ..ReadLease::new()
        }
    }

    /// Goal: a granted lease answers max(applied, floor) until it runs out, and asks for
    /// renewal past its half.
    #[test]
    fn granted_lease_answers_until_it_runs_out() {
        let lease = lease();
        let start = lease.round_start();
        lease.grant(start, 7);
        assert_eq!(lease.read_index(5), Some((7, false)));
        assert_eq!(lease.read_index(9), Some((9, false)));
        assert!(lease.refuses_votes(), "a lease holder refuses votes");
        let old = RoundStart {
            at: Instant::now() - Duration::from_millis(READ_LEASE_MS * 3 / 4),
            generation: 0,
        };
        let fresh = aged_lease();
        fresh.grant(old, 1);
        assert_eq!(fresh.read_index(0), Some((1, true)), "past half: renew");
        let expired = aged_lease();
        let gone = RoundStart {
            at: Instant::now() - Duration::from_millis(READ_LEASE_MS + 1),
            generation: 0,
        };
        expired.grant(gone, 1);
        assert!(expired.read_index(0).is_none());
    }

    /// Goal: a suspension drops the lease, no lease is used or granted during it, and a
    /// round that started before it grants nothing even after it ended.
    #[test]
    fn suspension_drops_the_lease_and_voids_rounds_that_overlap_it() {
        let lease = lease();
        lease.grant(lease.round_start(), 3);
        let overlapping = lease.round_start();
        let suspension = lease.suspend();
        assert!(lease.read_index(3).is_none());
        lease.grant(lease.round_start(), 3);
        assert!(lease.read_index(3).is_none(), "no grant while suspended");
        drop(suspension);
        lease.grant(overlapping, 3);
        assert!(
            lease.read_index(3).is_none(),
            "round overlapped a suspension"
        );
        lease.grant(lease.round_start(), 4);
        assert_eq!(lease.read_index(3), Some((4, false)));
    }

    /// Goal: a vote is refused while the lease holds; once let through, it voids a round
    /// in flight and keeps the lease off until the vote is handled.
    #[test]
    fn a_vote_voids_rounds_in_flight() {
        let lease = aged_lease();
        lease.grant(lease.round_start(), 1);
        assert!(lease.begin_vote().is_none(), "lease holder refuses");
        let expired = aged_lease();
        let in_flight = expired.round_start();
        let vote = expired.begin_vote().expect("no lease: the vote goes on");
        expired.grant(in_flight, 1);
        assert!(expired.read_index(1).is_none(), "no lease during the vote");
        drop(vote);
        assert!(
            expired.read_index(1).is_none(),
            "the overlapping round granted nothing"
        );
    }

    /// Goal: only one renewal runs at a time.
    #[test]
    fn one_renewal_at_a_time() {
        let lease = lease();
        assert!(lease.begin_renewal());
        assert!(!lease.begin_renewal());
        lease.end_renewal();
        assert!(lease.begin_renewal());
    }
}
