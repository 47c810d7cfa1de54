//! Vault's `framework.CalculateTTL`: one pure function for create and renew (TOK-04, TOK-09).

use super::limits::{SYSTEM_DEFAULT_TTL_SECONDS, SYSTEM_MAX_TTL_SECONDS};
use crate::AuthError;
use tresor_framework::MountContext;
use tresor_framework::loose::format_go_duration;

/// The inputs of one TTL decision, all in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct TtlRequest {
    /// Renew's `increment` (0 at creation).
    pub increment: u64,
    /// The requested TTL at creation, the token's last TTL at renewal.
    pub ttl: u64,
    pub period: u64,
    pub explicit_max_ttl: u64,
    /// When the token was issued (unix seconds) and now.
    pub start_time: i64,
    pub now: i64,
}

/// The effective default and max TTL of the mount; the system's 768h where it says nothing.
pub(crate) fn mount_ttls(mount: &MountContext) -> (u64, u64) {
    let default = match mount.default_lease_ttl_seconds {
        0 => SYSTEM_DEFAULT_TTL_SECONDS,
        seconds => seconds,
    };
    let max = match mount.max_lease_ttl_seconds {
        0 => SYSTEM_MAX_TTL_SECONDS,
        seconds => seconds,
    };
    (default, max)
}

/// Returns the TTL and Vault's warnings. Periodic tokens get the period (capped by the max);
/// others the increment, else the requested TTL, else the mount default, capped so that the
/// token never outlives `start + max` where max is the least of the mount max and the
/// explicit max.
pub fn calculate_ttl(
    mount: &MountContext,
    request: TtlRequest,
) -> Result<(u64, Vec<String>), AuthError> {
    let (default_ttl, mount_max) = mount_ttls(mount);
    let mut max_ttl = mount_max;
    if request.explicit_max_ttl > 0 && request.explicit_max_ttl < max_ttl {
        max_ttl = request.explicit_max_ttl;
    }
    let mut warnings = Vec::new();
    let (mut ttl, max_valid_time) = match request.period {
        0 => {
            let ttl = match (request.increment, request.ttl) {
                (0, 0) => default_ttl,
                (0, ttl) => ttl,
                (increment, _) => increment,
            };
            (ttl, Some(request.start_time.saturating_add(max_ttl as i64)))
        }
        mut period => {
            if period > max_ttl {
                warnings.push(format!(
                    "period of \"{}\" exceeded the effective max_ttl of \"{}\"; period value is capped accordingly",
                    human_duration(period),
                    human_duration(max_ttl)
                ));
                period = max_ttl;
            }
            let max_valid_time = match request.explicit_max_ttl {
                0 => None,
                explicit => Some(request.start_time.saturating_add(explicit as i64)),
            };
            (period, max_valid_time)
        }
    };
    if let Some(max_valid_time) = max_valid_time {
        let max_valid_ttl = max_valid_time.saturating_sub(request.now);
        if max_valid_ttl <= 0 {
            return Err(AuthError::Invalid("past the max TTL, cannot renew".into()));
        }
        let max_valid_ttl = max_valid_ttl as u64;
        if ttl > max_valid_ttl {
            warnings.push(format!(
                "TTL of \"{}\" exceeded the effective max_ttl of \"{}\"; TTL value is capped accordingly",
                human_duration(ttl),
                human_duration(max_valid_ttl)
            ));
            ttl = max_valid_ttl;
        }
    }
    Ok((ttl, warnings))
}

/// Go's `time.Duration.String()` with the `0m0s`/`0s` tails Vault's `humanDuration` strips.
pub(crate) fn human_duration(seconds: u64) -> String {
    let mut text = format_go_duration(seconds);
    if seconds == 0 {
        return text;
    }
    if text.ends_with("m0s") {
        text.truncate(text.len() - 2);
    }
    if let Some(index) = text.find("h0m") {
        text = format!("{}{}", &text[..index + 1], &text[index + 3..]);
    }
    text
}
