//! The one TTL computation, shared by issue and renew (engines-seals-k8s.md §3.2).

use super::limits::{SYSTEM_DEFAULT_LEASE_TTL_SECONDS, SYSTEM_MAX_LEASE_TTL_SECONDS};
use tresor_framework::{Error, MountContext, loose};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// A granted TTL and the warning Vault attaches when it was capped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedTtl {
    pub ttl_seconds: u64,
    pub warning: Option<String>,
}

/// The TTL of a lease issued or renewed at `now_ns` whose life began at `issue_ns`.
///
/// `requested_seconds` is the renew `increment` or the TTL the backend asked for (0: none);
/// `fallback_seconds` is the lease's previous TTL on renew (0 on issue). The TTL counts from
/// now ("new TTL from now", never "add to remaining"), and the lease never outlives
/// `issue + max`, where max is the mount's effective max (the system max when it has none).
pub fn grant_ttl(
    mount: &MountContext,
    requested_seconds: u64,
    fallback_seconds: u64,
    issue_ns: i64,
    now_ns: i64,
) -> Result<GrantedTtl, Error> {
    let max_seconds = match mount.max_lease_ttl_seconds {
        0 => SYSTEM_MAX_LEASE_TTL_SECONDS,
        seconds => seconds,
    };
    let default_seconds = match mount.default_lease_ttl_seconds {
        0 => SYSTEM_DEFAULT_LEASE_TTL_SECONDS,
        seconds => seconds,
    };
    let ttl_seconds = [requested_seconds, fallback_seconds, default_seconds]
        .into_iter()
        .find(|seconds| *seconds > 0)
        .unwrap_or(default_seconds);
    let max_ns = i64::try_from(max_seconds)
        .unwrap_or(i64::MAX / NANOS_PER_SECOND)
        .saturating_mul(NANOS_PER_SECOND);
    let remaining_ns = issue_ns.saturating_add(max_ns).saturating_sub(now_ns);
    let remaining_seconds = remaining_ns / NANOS_PER_SECOND;
    if remaining_seconds <= 0 {
        return Err(Error::invalid("past the max TTL, cannot renew"));
    }
    let remaining_seconds = remaining_seconds as u64;
    if ttl_seconds <= remaining_seconds {
        return Ok(GrantedTtl {
            ttl_seconds,
            warning: None,
        });
    }
    let warning = format!(
        "TTL of {:?} exceeded the effective max_ttl of {:?}; TTL value is capped accordingly",
        loose::format_go_duration(ttl_seconds),
        loose::format_go_duration(remaining_seconds)
    );
    Ok(GrantedTtl {
        ttl_seconds: remaining_seconds,
        warning: Some(warning),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const NOW_NS: i64 = 1_700_000_000 * NANOS_PER_SECOND;

    /// One row: mount (default, max), requested, fallback, seconds since issue → result.
    fn check(
        mount_ttls: (u64, u64),
        requested: u64,
        fallback: u64,
        age_seconds: i64,
        expected: Result<(u64, bool), &str>,
    ) {
        let mount = MountContext {
            default_lease_ttl_seconds: mount_ttls.0,
            max_lease_ttl_seconds: mount_ttls.1,
            ..MountContext::default()
        };
        let issue_ns = NOW_NS - age_seconds * NANOS_PER_SECOND;
        let result = grant_ttl(&mount, requested, fallback, issue_ns, NOW_NS);
        match (result, expected) {
            (Ok(granted), Ok((ttl, warned))) => {
                assert_eq!(
                    granted.ttl_seconds, ttl,
                    "row {mount_ttls:?} {requested} {fallback} {age_seconds}"
                );
                assert_eq!(
                    granted.warning.is_some(),
                    warned,
                    "row {mount_ttls:?} {requested} {fallback} {age_seconds}"
                );
            }
            (Err(error), Err(message)) => assert_eq!(error.messages(), [message.to_string()]),
            (other, expected) => panic!(
                "row {mount_ttls:?} {requested} {fallback} {age_seconds}: {other:?} vs {expected:?}"
            ),
        }
    }

    #[test]
    fn ttl_table_for_issue_and_renew() {
        // Issue (age 0): requested wins, else mount default, else system default.
        check((HOUR, 24 * HOUR), 600, 0, 0, Ok((600, false)));
        check((HOUR, 24 * HOUR), 0, 0, 0, Ok((HOUR, false)));
        check((0, 0), 0, 0, 0, Ok((768 * HOUR, false)));
        // Capped by the mount max, with Vault's warning.
        check((HOUR, 2 * HOUR), 3 * HOUR, 0, 0, Ok((2 * HOUR, true)));
        // A mount max above the system max is honoured (Vault: the mount value replaces it).
        check((0, 1000 * HOUR), 900 * HOUR, 0, 0, Ok((900 * HOUR, false)));
        // No mount max: the system max caps.
        check((0, 0), 1000 * HOUR, 0, 0, Ok((768 * HOUR, true)));
        // Renew: increment counts from now; the previous TTL is the fallback.
        check((HOUR, 24 * HOUR), 1800, 600, 3600, Ok((1800, false)));
        check((HOUR, 24 * HOUR), 0, 600, 3600, Ok((600, false)));
        // Renew near the max: capped to what is left since issue.
        check((HOUR, 2 * HOUR), HOUR, 0, 5400, Ok((1800, true)));
        // Renew past the max.
        check(
            (HOUR, 2 * HOUR),
            HOUR,
            0,
            7200,
            Err("past the max TTL, cannot renew"),
        );
        check(
            (HOUR, 2 * HOUR),
            HOUR,
            0,
            9000,
            Err("past the max TTL, cannot renew"),
        );
    }

    #[test]
    fn capped_warning_uses_go_durations() {
        let mount = MountContext {
            default_lease_ttl_seconds: HOUR,
            max_lease_ttl_seconds: 2 * HOUR,
            ..MountContext::default()
        };
        let granted = grant_ttl(&mount, 3 * HOUR, 0, NOW_NS, NOW_NS).expect("granted");
        assert_eq!(
            granted.warning.as_deref(),
            Some(
                "TTL of \"3h0m0s\" exceeded the effective max_ttl of \"2h0m0s\"; TTL value is capped accordingly"
            )
        );
    }
}
