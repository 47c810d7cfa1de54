//! The stored records of KV v2 (Vault's `types.proto`) and the timestamp they carry. Records
//! are JSON; user data stays a `serde_json::Value`, whose numbers keep their exact text.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A UTC instant with nanoseconds, as Vault keeps it (protobuf `Timestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn now() -> Timestamp {
        let now = time::OffsetDateTime::now_utc();
        Timestamp {
            seconds: now.unix_timestamp(),
            nanos: now.nanosecond(),
        }
    }

    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp {
            seconds: self.seconds.saturating_add(seconds),
            nanos: self.nanos,
        }
    }

    /// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction trimmed, no fraction
    /// when it is zero (`2024-03-22T02:24:06.9453192Z`, `2024-03-22T02:24:06Z`).
    pub fn to_rfc3339_nanos(self) -> String {
        let Ok(instant) = time::OffsetDateTime::from_unix_timestamp(self.seconds) else {
            return String::new();
        };
        let mut text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            instant.year(),
            u8::from(instant.month()),
            instant.day(),
            instant.hour(),
            instant.minute(),
            instant.second()
        );
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            text.push('.');
            text.push_str(fraction.trim_end_matches('0'));
        }
        text.push('Z');
        text
    }
}

/// Formats an optional time as Vault does: `""` when unset.
pub fn time_text(time: Option<Timestamp>) -> String {
    time.map(Timestamp::to_rfc3339_nanos).unwrap_or_default()
}

/// The mount-wide settings at `config` (KV-16).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Configuration {
    pub max_versions: u32,
    pub cas_required: bool,
    /// Seconds; 0 is unset and a negative value disables `delete_version_after` for every key.
    pub delete_version_after_seconds: i64,
}

impl Configuration {
    pub fn delete_version_after_disabled(&self) -> bool {
        self.delete_version_after_seconds < 0
    }
}

/// What a key knows about one of its versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionMetadata {
    pub created_time: Timestamp,
    pub deletion_time: Option<Timestamp>,
    pub destroyed: bool,
}

impl VersionMetadata {
    /// Soft-deleted (deletion time reached) or destroyed: reads answer 404 with metadata.
    pub fn is_gone(&self, now: Timestamp) -> bool {
        self.destroyed
            || self
                .deletion_time
                .is_some_and(|deletion_time| deletion_time <= now)
    }
}

/// The metadata record of one key. **Invariant:** `versions` holds at most
/// `VERSIONS_KEPT_MAX` entries, every one numbered in `oldest_version..=current_version`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyMetadata {
    pub versions: BTreeMap<u64, VersionMetadata>,
    pub current_version: u64,
    pub oldest_version: u64,
    pub created_time: Option<Timestamp>,
    pub updated_time: Option<Timestamp>,
    pub max_versions: u32,
    pub cas_required: bool,
    /// Seconds, never negative; 0 is unset.
    pub delete_version_after_seconds: u64,
    pub custom_metadata: BTreeMap<String, String>,
}

impl KeyMetadata {
    /// Adds the next version and moves the window of kept versions, exactly as Vault's
    /// `AddVersion`: returns the version numbers whose data must be deleted.
    pub fn add_version(&mut self, version: VersionMetadata, config_max_versions: u32) -> Vec<u64> {
        let created_time = version.created_time;
        self.current_version += 1;
        self.versions.insert(self.current_version, version);
        self.updated_time = Some(created_time);
        if self.created_time.is_none() {
            self.created_time = Some(created_time);
        }
        let max_versions = match self.max_versions.max(config_max_versions) {
            0 => crate::limits::VERSIONS_KEPT_DEFAULT,
            configured => configured,
        };
        if self.current_version - self.oldest_version < u64::from(max_versions) {
            return Vec::new();
        }
        let version_to_delete = self.current_version - u64::from(max_versions);
        let trimmed: Vec<u64> = self
            .versions
            .range(..=version_to_delete)
            .map(|(number, _)| *number)
            .collect();
        for number in &trimmed {
            self.versions.remove(number);
        }
        self.oldest_version = version_to_delete + 1;
        trimmed
    }

    /// `custom_metadata` as Vault prints it: `null` when empty.
    pub fn custom_metadata_reply(&self) -> Option<BTreeMap<String, String>> {
        match self.custom_metadata.is_empty() {
            true => None,
            false => Some(self.custom_metadata.clone()),
        }
    }
}

/// `deletion_time` for a version created (or undeleted) at `start`: the smaller non-zero of
/// the mount's and the key's `delete_version_after` (Vault's `deletionTime`).
pub fn deletion_time(
    start: Timestamp,
    config: &Configuration,
    meta: &KeyMetadata,
) -> Option<Timestamp> {
    if config.delete_version_after_disabled() {
        return None;
    }
    let mount = config.delete_version_after_seconds;
    let key = i64::try_from(meta.delete_version_after_seconds).unwrap_or(i64::MAX);
    let after = match (mount, key) {
        (0, 0) => return None,
        (0, key) => key,
        (mount, 0) => mount,
        (mount, key) => mount.min(key),
    };
    Some(start.plus_seconds(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(seconds: i64, nanos: u32) -> String {
        Timestamp { seconds, nanos }.to_rfc3339_nanos()
    }

    #[test]
    fn timestamps_print_like_go_rfc3339_nano() {
        assert_eq!(
            check(1_711_074_246, 945_319_214),
            "2024-03-22T02:24:06.945319214Z"
        );
        assert_eq!(
            check(1_711_074_246, 945_319_200),
            "2024-03-22T02:24:06.9453192Z"
        );
        assert_eq!(check(1_711_074_246, 0), "2024-03-22T02:24:06Z");
        assert_eq!(check(0, 1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(time_text(None), "");
    }

    #[test]
    fn add_version_moves_the_window_like_vault() {
        // Vault's quirk: with max 2, the second write already sets oldest_version to 1.
        let mut meta = KeyMetadata {
            max_versions: 2,
            ..KeyMetadata::default()
        };
        let version = || VersionMetadata {
            created_time: Timestamp {
                seconds: 1,
                nanos: 0,
            },
            deletion_time: None,
            destroyed: false,
        };
        assert_eq!(meta.add_version(version(), 0), Vec::<u64>::new());
        assert_eq!(meta.add_version(version(), 0), Vec::<u64>::new());
        assert_eq!(meta.oldest_version, 1);
        assert_eq!(meta.add_version(version(), 0), vec![1]);
        assert_eq!(meta.oldest_version, 2);
        assert_eq!(
            meta.versions.keys().copied().collect::<Vec<_>>(),
            vec![2, 3]
        );
        // Lowering the limit trims several at once on the next write.
        meta.max_versions = 1;
        assert_eq!(meta.add_version(version(), 0), vec![2, 3]);
        assert_eq!(meta.oldest_version, 4);
    }

    #[test]
    fn deletion_time_takes_the_smaller_non_zero() {
        let start = Timestamp {
            seconds: 100,
            nanos: 5,
        };
        let rows: &[(i64, u64, Option<i64>)] = &[
            (0, 0, None),
            (10, 0, Some(110)),
            (0, 20, Some(120)),
            (30, 20, Some(120)),
            (10, 20, Some(110)),
            (-1, 20, None),
        ];
        for (mount, key, expected) in rows {
            let config = Configuration {
                delete_version_after_seconds: *mount,
                ..Configuration::default()
            };
            let meta = KeyMetadata {
                delete_version_after_seconds: *key,
                ..KeyMetadata::default()
            };
            assert_eq!(
                deletion_time(start, &config, &meta).map(|time| time.seconds),
                *expected,
                "mount {mount} key {key}"
            );
        }
    }
}
