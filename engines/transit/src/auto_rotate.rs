//! Auto-rotation (Vault's `autoRotateKeys` and `rotateIfRequired` in `backend.go`, run by its
//! `PeriodicFunc`): a key with a non-zero `auto_rotate_period` whose latest version is older
//! than the period gets a new version, made exactly as `POST keys/:name/rotate` makes it.
//!
//! The core calls [`AutoRotate::run`] through `Backend::periodic`, only on the active node,
//! about every 30 s. Vault walks every key at most hourly, unbounded; we walk a bounded slice of
//! the sorted key names per call (`limits::AUTO_ROTATE_*_PER_CALL_MAX`) and resume after the
//! last name checked, so one call stays within the core's timeout whatever the mount holds.

use crate::limits::{AUTO_ROTATE_KEYS_PER_CALL_MAX, AUTO_ROTATE_ROTATIONS_PER_CALL_MAX};
use crate::path_rotate::rotate_locked;
use crate::policy::{KeyEntry, Policy};
use crate::store::Transit;
use crate::timefmt;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};
use tresor_framework::Error;

/// The position of the walk over key names. **Invariant:** `resume_after` is `None` at the
/// start of a pass, else the last name a call checked; names sort as `str`.
#[derive(Default)]
pub struct AutoRotate {
    resume_after: Mutex<Option<String>>,
}

/// What one call did (for tests and logs).
#[derive(Debug, Default, PartialEq)]
pub struct Pass {
    pub checked: usize,
    pub rotated: Vec<String>,
}

impl AutoRotate {
    /// Checks up to `AUTO_ROTATE_KEYS_PER_CALL_MAX` keys after the last one checked and rotates
    /// the due ones, at most `AUTO_ROTATE_ROTATIONS_PER_CALL_MAX`. A key that fails does not
    /// stop the others (as Vault's multierror loop); the first failure is returned at the end.
    pub async fn run(&self, transit: &Transit) -> Result<Pass, Error> {
        let mut names = transit.list_policies().await?;
        names.sort();
        let resume_after = self.resume_after.lock().expect("cursor lock").clone();
        let start = match &resume_after {
            None => 0,
            Some(after) => names.partition_point(|name| name <= after),
        };
        let mut pass = Pass::default();
        let mut failure = None;
        for name in names[start..].iter().take(AUTO_ROTATE_KEYS_PER_CALL_MAX) {
            if pass.rotated.len() == AUTO_ROTATE_ROTATIONS_PER_CALL_MAX {
                break;
            }
            match rotate_if_due(transit, name).await {
                Ok(true) => pass.rotated.push(name.clone()),
                Ok(false) => {}
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
            pass.checked += 1;
            *self.resume_after.lock().expect("cursor lock") = Some(name.clone());
        }
        if start + pass.checked == names.len() {
            *self.resume_after.lock().expect("cursor lock") = None;
        }
        match failure {
            Some(error) => Err(error),
            None => Ok(pass),
        }
    }
}

/// Rotates `name` when [`rotation_due`]; `Ok(true)` when it did. The check runs once without
/// the lock (most keys are not due) and again under it, so a rotation that raced ours (a
/// client's `rotate`, another call) is not doubled.
async fn rotate_if_due(transit: &Transit, name: &str) -> Result<bool, Error> {
    let Some(policy) = transit.policy(name).await? else {
        return Ok(false);
    };
    if !rotation_due(&policy, transit.now()) {
        return Ok(false);
    }
    let guard = transit.lock_key(name).await;
    let Some(policy) = transit.policy(name).await? else {
        return Ok(false);
    };
    if !rotation_due(&policy, transit.now()) {
        return Ok(false);
    }
    rotate_locked(transit, &guard, &policy).await?;
    Ok(true)
}

/// Vault's `rotateIfRequired`: a period is set, the key may rotate (imported keys only with
/// `allow_rotation`), and `now` is after the latest version's creation time plus the period.
pub fn rotation_due(policy: &Policy, now: OffsetDateTime) -> bool {
    if policy.auto_rotate_period <= 0 {
        return false;
    }
    if policy.imported && !policy.allow_imported_key_rotation {
        return false;
    }
    let Some(latest) = policy.keys.get(&policy.latest_version.to_string()) else {
        return false;
    };
    let Some(created) = created_at(latest) else {
        return false;
    };
    match created.checked_add(Duration::nanoseconds(policy.auto_rotate_period)) {
        Some(due) => now > due,
        None => false,
    }
}

/// A version's creation time: Go's `time` field, else the older whole-second `creation_time`.
fn created_at(entry: &KeyEntry) -> Option<OffsetDateTime> {
    match timefmt::parse_rfc3339(&entry.time) {
        Some(instant) => Some(instant),
        None => OffsetDateTime::from_unix_timestamp(entry.creation_time).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::AUTO_ROTATE_PERIOD_SECONDS_MIN;
    use crate::testing::{Harness, NOW_SECONDS, Outcome};
    use serde_json::json;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    use tresor_framework::Operation::{Read, Update};

    /// A harness whose clock reads `seconds`, which the test moves.
    fn harness_at(seconds: &Arc<AtomicI64>) -> Harness {
        let seconds = seconds.clone();
        Harness::with_clock(Arc::new(move || {
            OffsetDateTime::from_unix_timestamp(seconds.load(Ordering::SeqCst)).expect("in range")
        }))
    }

    async fn versions(transit: &Harness, name: &str) -> serde_json::Value {
        Harness::data(transit.call(Read, &format!("keys/{name}"), json!({})).await)["keys"].clone()
    }

    #[tokio::test]
    async fn due_keys_rotate_once_with_the_clock_time() {
        // Goal: a key rotates only after its period has passed since its latest version, once
        // per period, with the new version dated by the clock; period 0 never rotates.
        // Method: an injected clock moved past each deadline, one call after each move.
        let now = Arc::new(AtomicI64::new(NOW_SECONDS));
        let transit = harness_at(&now);
        for (name, period) in [("daily", "24h"), ("hourly", "1h"), ("off", "0")] {
            let body = json!({"auto_rotate_period": period});
            transit
                .check(Update, &format!("keys/{name}"), body, Outcome::Any)
                .await;
        }
        let ec = json!({"type": "ecdsa-p521", "auto_rotate_period": 3600});
        transit.check(Update, "keys/ec", ec, Outcome::Any).await;
        let hour = AUTO_ROTATE_PERIOD_SECONDS_MIN as i64;
        let rows: [(i64, &[&str]); 6] = [
            (0, &[]),
            (hour, &[]),
            (hour + 1, &["ec", "hourly"]),
            (hour + 1, &[]),
            (2 * hour + 1, &[]),
            (24 * hour + 1, &["daily", "ec", "hourly"]),
        ];
        for (offset, rotated) in rows {
            now.store(NOW_SECONDS + offset, Ordering::SeqCst);
            let pass = transit
                .backend
                .auto_rotate
                .run(&transit.backend.transit)
                .await
                .expect("pass");
            assert_eq!(pass.rotated, rotated, "at +{offset}s");
            assert_eq!(pass.checked, 4);
        }
        let hourly = versions(&transit, "hourly").await;
        assert_eq!(hourly["2"], json!(NOW_SECONDS + hour + 1));
        assert_eq!(hourly["3"], json!(NOW_SECONDS + 24 * hour + 1));
        assert_eq!(versions(&transit, "off").await, json!({"1": NOW_SECONDS}));
        let ec = versions(&transit, "ec").await;
        assert_eq!(ec["2"]["creation_time"], "2024-03-22T03:24:07Z");
        assert_ne!(ec["2"]["public_key"], ec["1"]["public_key"]);
        let daily = versions(&transit, "daily").await;
        assert_eq!(daily["2"], json!(NOW_SECONDS + 24 * hour + 1));
    }

    #[tokio::test]
    async fn each_call_is_bounded_and_resumes() {
        // Goal: one call checks at most KEYS_PER_CALL keys and rotates at most
        // ROTATIONS_PER_CALL; the next call resumes after the last key checked.
        // Method: more due keys than one call may rotate, then more keys than it may check.
        let now = Arc::new(AtomicI64::new(NOW_SECONDS));
        let transit = harness_at(&now);
        let due = AUTO_ROTATE_ROTATIONS_PER_CALL_MAX + 2;
        for index in 0..due {
            let body = json!({"auto_rotate_period": "1h"});
            let path = format!("keys/due-{index:02}");
            transit.check(Update, &path, body, Outcome::Any).await;
        }
        now.store(NOW_SECONDS + 7200, Ordering::SeqCst);
        let auto_rotate = &transit.backend.auto_rotate;
        let first = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(first.rotated.len(), AUTO_ROTATE_ROTATIONS_PER_CALL_MAX);
        let second = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(second.rotated.len(), 2);
        assert_eq!(second.rotated[1], format!("due-{:02}", due - 1));
        let third = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(third.rotated.len(), 0);
        for index in 0..due {
            let keys = versions(&transit, &format!("due-{index:02}")).await;
            assert_eq!(keys.as_object().map(|keys| keys.len()), Some(2), "{index}");
        }
        for index in 0..AUTO_ROTATE_KEYS_PER_CALL_MAX {
            let path = format!("keys/idle-{index:04}");
            transit.check(Update, &path, json!({}), Outcome::Any).await;
        }
        let total = due + AUTO_ROTATE_KEYS_PER_CALL_MAX;
        let first = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(first.checked, AUTO_ROTATE_KEYS_PER_CALL_MAX);
        let second = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(second.checked, total - AUTO_ROTATE_KEYS_PER_CALL_MAX);
        let third = auto_rotate
            .run(&transit.backend.transit)
            .await
            .expect("run");
        assert_eq!(third.checked, AUTO_ROTATE_KEYS_PER_CALL_MAX);
    }

    #[test]
    fn due_follows_vaults_rule() {
        // Goal: `rotateIfRequired`'s conditions, one row each.
        let created = OffsetDateTime::from_unix_timestamp(NOW_SECONDS).expect("in range");
        let first = KeyEntry {
            time: timefmt::rfc3339_nanos(created),
            creation_time: NOW_SECONDS,
            ..KeyEntry::default()
        };
        let policy = Policy {
            latest_version: 1,
            keys: [("1".to_string(), first)].into(),
            ..Policy::default()
        };
        let hour_nanos = 3_600_000_000_000;
        let later = created + Duration::seconds(3601);
        let rows: [(i64, bool, bool, &str, OffsetDateTime, bool); 6] = [
            (0, false, false, "", later, false),
            (hour_nanos, false, false, "", later, true),
            (
                hour_nanos,
                false,
                false,
                "",
                created + Duration::seconds(3600),
                false,
            ),
            (hour_nanos, true, false, "", later, false),
            (hour_nanos, true, true, "", later, true),
            // Go's zero time: the whole-second `creation_time` dates the version.
            (
                hour_nanos,
                false,
                false,
                "0001-01-01T00:00:00Z",
                later,
                true,
            ),
        ];
        for (period, imported, allow, time, now, expected) in rows {
            let mut policy = policy.clone();
            policy.auto_rotate_period = period;
            policy.imported = imported;
            policy.allow_imported_key_rotation = allow;
            if !time.is_empty() {
                policy.keys.get_mut("1").expect("v1").time = time.to_string();
            }
            assert_eq!(
                rotation_due(&policy, now),
                expected,
                "{period} {imported} {time}"
            );
        }
    }
}
