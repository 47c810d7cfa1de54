//! `vault status` and the seal-status output shared with `operator unseal`.
//!
//! The CLI reads `GET sys/seal-status`, then `GET sys/leader` (a 503 containing `Vault is
//! sealed` means HA is enabled), and prints Vault 1.14's `SealStatusOutput`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::format::{go_string_list, table_output};
use super::{Client, Parsed, Ui, http_flags, output_flags, parse};

pub(crate) const VERSION_HELP: &str = "
Usage: vault version

  Prints the version of this Vault CLI. This does not print the target Vault
  server version.

  Print the version:

      $ vault version

  There are no arguments or flags to this command. Any additional arguments or
  flags are ignored.
";

const STATUS_HELP: &str = "
Usage: vault status [options]

  Prints the current state of Vault including whether it is sealed and if HA
  mode is enabled. This command prints regardless of whether the Vault is
  sealed.

  The exit code reflects the seal status:

      - 0 - unsealed
      - 1 - error
      - 2 - sealed
";

/// Go's zero `time.Time`, which Vault prints for `active_time` when there is none.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `sys/seal-status` as Go's `api.SealStatusResponse` decodes it (missing fields are zero).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct SealStatus {
    #[serde(rename = "type")]
    pub seal_type: String,
    pub initialized: bool,
    pub sealed: bool,
    pub t: i64,
    pub n: i64,
    pub progress: i64,
    pub nonce: String,
    pub version: String,
    #[serde(alias = "commit_date")]
    pub build_date: String,
    pub migration: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster_id: String,
    pub recovery_seal: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub storage_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hcp_link_status: String,
    #[serde(
        rename = "hcp_link_resource_ID",
        skip_serializing_if = "String::is_empty"
    )]
    pub hcp_link_resource_id: String,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub warnings: Vec<String>,
}

/// `sys/leader` as Go's `api.LeaderResponse` decodes it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Leader {
    pub ha_enabled: bool,
    pub is_self: bool,
    pub active_time: Option<String>,
    pub leader_address: String,
    pub leader_cluster_address: String,
    pub performance_standby: bool,
    pub performance_standby_last_remote_wal: u64,
    pub last_wal: u64,
    pub raft_committed_index: u64,
    pub raft_applied_index: u64,
}

/// Vault 1.14's `SealStatusOutput`: seal status then leader fields, Go's field order and
/// `omitempty` rules (`active_time` is a struct, so it is never omitted).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SealStatusOutput {
    #[serde(flatten)]
    pub status: SealStatus,
    pub ha_enabled: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub is_self: bool,
    /// RFC 3339 with Go's nanosecond trimming; `GO_ZERO_TIME` when unknown.
    pub active_time: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub leader_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub leader_cluster_address: String,
    #[serde(rename = "performance_standby", skip_serializing_if = "is_false")]
    pub perf_standby: bool,
    #[serde(
        rename = "performance_standby_last_remote_wal",
        skip_serializing_if = "is_zero"
    )]
    pub perf_standby_last_remote_wal: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub last_wal: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub raft_committed_index: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub raft_applied_index: u64,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl SealStatusOutput {
    pub fn new(status: SealStatus, leader: Leader) -> Result<SealStatusOutput, String> {
        let active_time = match leader.active_time.as_deref() {
            None | Some("") => GO_ZERO_TIME.to_string(),
            Some(text) => go_rfc3339_nano(text)?,
        };
        Ok(SealStatusOutput {
            status,
            ha_enabled: leader.ha_enabled,
            is_self: leader.is_self,
            active_time,
            leader_address: leader.leader_address,
            leader_cluster_address: leader.leader_cluster_address,
            perf_standby: leader.performance_standby,
            perf_standby_last_remote_wal: leader.performance_standby_last_remote_wal,
            last_wal: leader.last_wal,
            raft_committed_index: leader.raft_committed_index,
            raft_applied_index: leader.raft_applied_index,
        })
    }

    /// Vault's `OutputSealStatusStruct` table.
    pub fn table(&self) -> String {
        let status = &self.status;
        let prefix = if status.recovery_seal {
            "Recovery "
        } else {
            ""
        };
        let mut out = vec![
            "Key | Value".to_string(),
            format!("{prefix}Seal Type | {}", status.seal_type),
            format!("Initialized | {}", status.initialized),
            format!("Sealed | {}", status.sealed),
            format!("Total {prefix}Shares | {}", status.n),
            format!("Threshold | {}", status.t),
        ];
        if status.sealed {
            out.push(format!(
                "Unseal Progress | {}/{}",
                status.progress, status.t
            ));
            out.push(format!("Unseal Nonce | {}", status.nonce));
        }
        if status.migration {
            out.push(format!("Seal Migration in Progress | {}", status.migration));
        }
        out.push(format!("Version | {}", status.version));
        out.push(format!("Build Date | {}", status.build_date));
        out.push(format!("Storage Type | {}", status.storage_type));
        if !status.cluster_name.is_empty() && !status.cluster_id.is_empty() {
            out.push(format!("Cluster Name | {}", status.cluster_name));
            out.push(format!("Cluster ID | {}", status.cluster_id));
        }
        if !status.hcp_link_status.is_empty() {
            out.push(format!("HCP Link Status | {}", status.hcp_link_status));
            out.push(format!(
                "HCP Link Resource ID | {}",
                status.hcp_link_resource_id
            ));
        }
        out.push(format!("HA Enabled | {}", self.ha_enabled));
        if self.ha_enabled && !status.sealed {
            out.push(format!("HA Cluster | {}", self.leader_cluster_address));
            let mode = if self.is_self { "active" } else { "standby" };
            out.push(format!("HA Mode | {mode}"));
            if self.is_self && self.active_time != GO_ZERO_TIME {
                out.push(format!("Active Since | {}", self.active_time));
            }
            if !self.is_self {
                let address = if self.leader_address.is_empty() {
                    "<none>"
                } else {
                    &self.leader_address
                };
                out.push(format!("Active Node Address | {address}"));
            }
            if self.perf_standby {
                out.push(format!("Performance Standby Node | {}", self.perf_standby));
                out.push(format!(
                    "Performance Standby Last Remote WAL | {}",
                    self.perf_standby_last_remote_wal
                ));
            }
        }
        if self.raft_committed_index > 0 {
            out.push(format!(
                "Raft Committed Index | {}",
                self.raft_committed_index
            ));
        }
        if self.raft_applied_index > 0 {
            out.push(format!("Raft Applied Index | {}", self.raft_applied_index));
        }
        if self.last_wal != 0 {
            out.push(format!("Last WAL | {}", self.last_wal));
        }
        if !status.warnings.is_empty() {
            out.push(format!("Warnings | {}", go_string_list(&status.warnings)));
        }
        table_output(&out, "|")
    }
}

/// Re-formats an RFC 3339 time as Go's `time.RFC3339Nano` does (trailing fractional zeros
/// dropped, `Z` for UTC). Errors read like Go's.
pub fn go_rfc3339_nano(text: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        format!("parsing time {text:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse")
    })?;
    let nanos = parsed.nanosecond();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    };
    let offset = parsed.offset();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let seconds = offset.whole_seconds();
        let sign = if seconds < 0 { '-' } else { '+' };
        let seconds = seconds.unsigned_abs();
        format!("{sign}{:02}:{:02}", seconds / 3600, (seconds % 3600) / 60)
    };
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}",
        parsed.year(),
        u8::from(parsed.month()),
        parsed.day(),
        parsed.hour(),
        parsed.minute(),
        parsed.second()
    ))
}

/// Vault's `OutputSealStatus`: reads the leader, merges, prints; 0 on success, 1 on error.
pub fn output_seal_status(ui: &Ui, client: &Client, status: SealStatus) -> i32 {
    let leader = match client.get("sys/leader") {
        Ok(response) => match response.json().and_then(|v| {
            serde_json::from_value::<Leader>(v)
                .map_err(|e| super::ClientError::Decode(e.to_string()))
        }) {
            Ok(leader) => leader,
            Err(error) => {
                ui.error(&format!("Error checking leader status: {error}"));
                return 1;
            }
        },
        Err(error) if error.to_string().contains("Vault is sealed") => Leader {
            ha_enabled: true,
            ..Leader::default()
        },
        Err(error) => {
            ui.error(&format!("Error checking leader status: {error}"));
            return 1;
        }
    };
    let output = match SealStatusOutput::new(status, leader) {
        Ok(output) => output,
        Err(error) => {
            ui.error(&format!("Error checking leader status: {error}"));
            return 1;
        }
    };
    if ui.is_table() {
        ui.output(&output.table());
        return 0;
    }
    ui.output_data(&output)
}

/// Decodes a seal-status body.
pub fn decode_seal_status(value: Value) -> Result<SealStatus, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

pub(crate) fn run(args: &[String]) -> i32 {
    let set = output_flags(http_flags("status"));
    let (flags, ui) = match parse(&set, STATUS_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if !flags.args().is_empty() {
        return super::too_many_arguments(&ui, "0", flags.args().len());
    }
    // 2 means "sealed" here, so a client error is 1.
    let Some(client) = super::client(&flags, &ui) else {
        return 1;
    };
    let status = match client
        .get("sys/seal-status")
        .and_then(|response| response.json())
        .and_then(|value| decode_seal_status(value).map_err(super::ClientError::Decode))
    {
        Ok(status) => status,
        Err(error) => {
            ui.error(&format!("Error checking seal status: {error}"));
            return 1;
        }
    };
    let sealed = status.sealed;
    let code = output_seal_status(&ui, &client, status);
    if sealed {
        return 2;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::super::format::go_json;
    use super::*;

    fn output(status: Value, leader: Value) -> SealStatusOutput {
        let status: SealStatus = serde_json::from_value(status).unwrap();
        let leader: Leader = serde_json::from_value(leader).unwrap();
        SealStatusOutput::new(status, leader).unwrap()
    }

    fn unsealed() -> SealStatusOutput {
        // Bodies as bao 2.7.2 served them (commit_date dropped, build_date as Vault 1.14).
        output(
            serde_json::json!({"type":"shamir","initialized":true,"sealed":false,"t":2,"n":3,
                "progress":0,"nonce":"","version":"1.14.9","build_date":"2024-01-01T00:00:00Z",
                "migration":false,"cluster_name":"vault-cluster-27a02787",
                "cluster_id":"9a7a9cf1-e990-ccb7-4057-d3fe9ff18754","recovery_seal":false,
                "storage_type":"raft"}),
            serde_json::json!({"ha_enabled":true,"is_self":true,
                "active_time":"2026-11-26T14:10:02.488023215Z",
                "leader_address":"http://127.0.0.1:18200",
                "leader_cluster_address":"https://127.0.0.1:18201",
                "performance_standby":false,"performance_standby_last_remote_wal":0,
                "raft_committed_index":29,"raft_applied_index":29}),
        )
    }

    #[test]
    fn unsealed_active_table_matches_bao() {
        let expected = "\
Key                     Value
---                     -----
Seal Type               shamir
Initialized             true
Sealed                  false
Total Shares            3
Threshold               2
Version                 1.14.9
Build Date              2024-01-01T00:00:00Z
Storage Type            raft
Cluster Name            vault-cluster-27a02787
Cluster ID              9a7a9cf1-e990-ccb7-4057-d3fe9ff18754
HA Enabled              true
HA Cluster              https://127.0.0.1:18201
HA Mode                 active
Active Since            2026-11-26T14:10:02.488023215Z
Raft Committed Index    29
Raft Applied Index      29";
        assert_eq!(unsealed().table(), expected);
    }

    #[test]
    fn unsealed_json_matches_vault_field_order() {
        let expected = r#"{
  "type": "shamir",
  "initialized": true,
  "sealed": false,
  "t": 2,
  "n": 3,
  "progress": 0,
  "nonce": "",
  "version": "1.14.9",
  "build_date": "2024-01-01T00:00:00Z",
  "migration": false,
  "cluster_name": "vault-cluster-27a02787",
  "cluster_id": "9a7a9cf1-e990-ccb7-4057-d3fe9ff18754",
  "recovery_seal": false,
  "storage_type": "raft",
  "ha_enabled": true,
  "is_self": true,
  "active_time": "2026-11-26T14:10:02.488023215Z",
  "leader_address": "http://127.0.0.1:18200",
  "leader_cluster_address": "https://127.0.0.1:18201",
  "raft_committed_index": 29,
  "raft_applied_index": 29
}"#;
        assert_eq!(go_json(&unsealed()), expected);
    }

    #[test]
    fn sealed_uninitialised_output_matches_vault() {
        // Leader answered 503 "Vault is sealed": only ha_enabled is known.
        let sealed = output(
            serde_json::json!({"type":"shamir","initialized":false,"sealed":true,"t":0,"n":0,
                "progress":0,"nonce":"","version":"1.14.9","build_date":"2024-01-01T00:00:00Z",
                "migration":false,"recovery_seal":false,"storage_type":"raft"}),
            serde_json::json!({"ha_enabled": true}),
        );
        let table = "\
Key                Value
---                -----
Seal Type          shamir
Initialized        false
Sealed             true
Total Shares       0
Threshold          0
Unseal Progress    0/0
Unseal Nonce       n/a
Version            1.14.9
Build Date         2024-01-01T00:00:00Z
Storage Type       raft
HA Enabled         true";
        assert_eq!(sealed.table(), table);
        let json = r#"{
  "type": "shamir",
  "initialized": false,
  "sealed": true,
  "t": 0,
  "n": 0,
  "progress": 0,
  "nonce": "",
  "version": "1.14.9",
  "build_date": "2024-01-01T00:00:00Z",
  "migration": false,
  "recovery_seal": false,
  "storage_type": "raft",
  "ha_enabled": true,
  "active_time": "0001-01-01T00:00:00Z"
}"#;
        assert_eq!(go_json(&sealed), json);
    }

    #[test]
    fn standby_and_recovery_rows() {
        let standby = output(
            serde_json::json!({"type":"azurekeyvault","initialized":true,"sealed":false,"t":3,"n":5,
                "recovery_seal":true,"storage_type":"raft","version":"1.14.9","build_date":"x",
                "cluster_name":"c","cluster_id":"i","warnings":["w1","w2"]}),
            serde_json::json!({"ha_enabled":true,"is_self":false,"active_time":"0001-01-01T00:00:00Z",
                "leader_address":"http://n0:8200","leader_cluster_address":"https://n0:8201"}),
        );
        let table = standby.table();
        assert!(
            table.contains("\nRecovery Seal Type       azurekeyvault\n"),
            "{table}"
        );
        assert!(table.contains("\nTotal Recovery Shares    5\n"), "{table}");
        assert!(
            table.contains("\nHA Mode                  standby\n"),
            "{table}"
        );
        assert!(
            table.contains("\nActive Node Address      http://n0:8200\n"),
            "{table}"
        );
        assert!(
            table.ends_with("\nWarnings                 [w1 w2]"),
            "{table}"
        );
        assert!(!table.contains("Active Since"));
    }

    #[test]
    fn go_rfc3339_nano_trims_like_go() {
        let cases = [
            (
                "2026-11-26T14:10:02.488023215Z",
                "2026-11-26T14:10:02.488023215Z",
            ),
            ("2026-11-26T14:10:02.488000000Z", "2026-11-26T14:10:02.488Z"),
            ("2026-11-26T14:10:02Z", "2026-11-26T14:10:02Z"),
            ("2026-11-26T14:10:02+02:00", "2026-11-26T14:10:02+02:00"),
            ("0001-01-01T00:00:00Z", GO_ZERO_TIME),
        ];
        for (input, expected) in cases {
            assert_eq!(go_rfc3339_nano(input).unwrap(), expected);
        }
        assert!(go_rfc3339_nano("").is_err());
    }
}
