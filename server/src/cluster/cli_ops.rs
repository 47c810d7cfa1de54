//! The HA operations of the CLI: `operator step-down` (CLI-05), `operator raft remove-peer`
//! and `operator raft autopilot state|get-config|set-config` (CLI-04), printed as the `bao`
//! CLI prints them.

use crate::cli::{Parsed, http_flags, output_flags, parse, too_many_arguments};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const STEP_DOWN_HELP: &str = "
Usage: vault operator step-down [options]

  Forces the Vault server at the given address to step down from active duty.
  While the affected node will have a delay before attempting to acquire the
  leader lock again, if no other Vault nodes acquire the lock beforehand, it
  is possible for the same node to re-acquire the lock and become active
  again.

  Force Vault to step down as the leader:

      $ vault operator step-down
";

const REMOVE_PEER_HELP: &str = "
Usage: vault operator raft remove-peer <server_id>

  Removes a node from the Raft cluster.

	  $ vault operator raft remove-peer node1
";

const AUTOPILOT_HELP: &str = "
Usage: vault operator raft autopilot <subcommand> [options] [args]

  This command groups subcommands for operators interacting with the autopilot
  functionality of the integrated Raft storage backend.

Subcommands:
    get-config    Returns the configuration of the autopilot subsystem under integrated storage
    set-config    Modify the configuration of the autopilot subsystem under integrated storage
    state         Displays the state of the raft cluster under integrated storage as seen by autopilot
";

const STATE_HELP: &str = "
Usage: vault operator raft autopilot state

  Displays the state of the raft cluster under integrated storage as seen by autopilot.
";

const GET_CONFIG_HELP: &str = "
Usage: vault operator raft autopilot get-config

 Returns the configuration of the autopilot subsystem under integrated storage.
";

const SET_CONFIG_HELP: &str = "
Usage: vault operator raft autopilot set-config [options]

  Modify the configuration of the autopilot subsystem under integrated storage.
";

/// `operator step-down`: `PUT sys/step-down`, then `Success! Stepped down: <address>`.
pub fn step_down(args: &[String]) -> i32 {
    let set = http_flags("operator step-down");
    let (flags, ui) = match parse(&set, STEP_DOWN_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if !flags.args().is_empty() {
        return too_many_arguments(&ui, "0", flags.args().len());
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    if let Err(error) = client.put("sys/step-down", &json!({})) {
        ui.error(&format!("Error stepping down: {error}"));
        return 2;
    }
    ui.output(&format!(
        "Success! Stepped down: {}",
        client.options.address
    ));
    0
}

/// `operator raft remove-peer <server_id>`: `Peer removed successfully!`.
pub fn remove_peer(args: &[String]) -> i32 {
    let set = output_flags(http_flags("operator raft remove-peer"));
    let (flags, ui) = match parse(&set, REMOVE_PEER_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let server_id = match flags.args() {
        [id] => id.trim().to_string(),
        other => {
            ui.error(&format!(
                "Incorrect arguments (expected 1, got {})",
                other.len()
            ));
            return 1;
        }
    };
    if server_id.is_empty() {
        ui.error("Server id is required");
        return 1;
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let body = json!({ "server_id": server_id });
    if let Err(error) = client.put("sys/storage/raft/remove-peer", &body) {
        ui.error(&format!(
            "Error removing the peer from raft cluster: {error}"
        ));
        return 2;
    }
    ui.output("Peer removed successfully!");
    0
}

/// `operator raft autopilot <subcommand>`.
pub fn autopilot(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("state") => autopilot_state(&args[1..]),
        Some("get-config") => autopilot_get_config(&args[1..]),
        Some("set-config") => autopilot_set_config(&args[1..]),
        _ => crate::cli::group_help(AUTOPILOT_HELP.trim(), args),
    }
}

fn expect_no_arguments(ui: &crate::cli::Ui, args: &[String]) -> Option<i32> {
    if args.is_empty() {
        return None;
    }
    ui.error(&format!(
        "Incorrect arguments (expected 0, got {})",
        args.len()
    ));
    Some(1)
}

/// `operator raft autopilot state`: `pretty` by default (Vault's `OutputAutopilotState`);
/// `-format=json|yaml` print Go's `api.AutopilotState` (no JSON tags: Go field names).
fn autopilot_state(args: &[String]) -> i32 {
    let set = output_flags(http_flags("operator raft autopilot state"));
    let (flags, mut ui) = match parse(&set, STATE_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if ui.format == "table" {
        ui.format = "pretty".to_string();
    }
    if let Some(code) = expect_no_arguments(&ui, flags.args()) {
        return code;
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let answer = match client
        .get("sys/storage/raft/autopilot/state")
        .and_then(|r| r.json())
    {
        Ok(answer) => answer,
        Err(error) => {
            ui.error(&format!("Error checking autopilot state: {error}"));
            return 2;
        }
    };
    let state = GoAutopilotState::from_data(&answer["data"]);
    match ui.format.as_str() {
        "pretty" => {
            ui.output(&state.pretty());
            0
        }
        _ => ui.output_data(&state),
    }
}

/// Go's `api.AutopilotState` as `encoding/json` prints it.
#[derive(Serialize)]
struct GoAutopilotState {
    #[serde(rename = "Healthy")]
    healthy: bool,
    #[serde(rename = "FailureTolerance")]
    failure_tolerance: i64,
    #[serde(rename = "Servers")]
    servers: BTreeMap<String, GoAutopilotServer>,
    #[serde(rename = "Leader")]
    leader: String,
    #[serde(rename = "Voters")]
    voters: Option<Vec<String>>,
    #[serde(rename = "NonVoters")]
    non_voters: Option<Vec<String>>,
    #[serde(rename = "Upgrade")]
    upgrade: Option<Value>,
    #[serde(rename = "OptimisticFailureTolerance")]
    optimistic_failure_tolerance: i64,
}

#[derive(Serialize)]
struct GoAutopilotServer {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Address")]
    address: String,
    #[serde(rename = "NodeStatus")]
    node_status: String,
    #[serde(rename = "LastContact")]
    last_contact: String,
    #[serde(rename = "LastTerm")]
    last_term: u64,
    #[serde(rename = "LastIndex")]
    last_index: u64,
    #[serde(rename = "Healthy")]
    healthy: bool,
    #[serde(rename = "StableSince")]
    stable_since: String,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Version")]
    version: String,
    #[serde(rename = "UpgradeVersion")]
    upgrade_version: String,
    #[serde(rename = "NodeType")]
    node_type: String,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()
        .map(|items| items.iter().map(text).collect())
}

impl GoAutopilotState {
    fn from_data(data: &Value) -> GoAutopilotState {
        let empty = Map::new();
        let servers = data["servers"]
            .as_object()
            .unwrap_or(&empty)
            .iter()
            .map(|(id, server)| {
                let server = GoAutopilotServer {
                    id: text(&server["id"]),
                    name: text(&server["name"]),
                    address: text(&server["address"]),
                    node_status: text(&server["node_status"]),
                    last_contact: text(&server["last_contact"]),
                    last_term: server["last_term"].as_u64().unwrap_or(0),
                    last_index: server["last_index"].as_u64().unwrap_or(0),
                    healthy: server["healthy"].as_bool().unwrap_or(false),
                    stable_since: text(&server["stable_since"]),
                    status: text(&server["status"]),
                    version: text(&server["version"]),
                    upgrade_version: text(&server["upgrade_version"]),
                    node_type: text(&server["node_type"]),
                };
                (id.clone(), server)
            })
            .collect();
        GoAutopilotState {
            healthy: data["healthy"].as_bool().unwrap_or(false),
            failure_tolerance: data["failure_tolerance"].as_i64().unwrap_or(0),
            servers,
            leader: text(&data["leader"]),
            voters: strings(&data["voters"]),
            non_voters: strings(&data["non_voters"]),
            upgrade: None,
            optimistic_failure_tolerance: data["optimistic_failure_tolerance"]
                .as_i64()
                .unwrap_or(0),
        }
    }

    /// Vault's `PrettyFormatter.OutputAutopilotState`.
    fn pretty(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Healthy:                         {}\n",
            self.healthy
        ));
        out.push_str(&format!(
            "Failure Tolerance:               {}\n",
            self.failure_tolerance
        ));
        out.push_str(&format!(
            "Leader:                          {}\n",
            self.leader
        ));
        out.push_str("Voters:\n");
        for voter in self.voters.iter().flatten() {
            out.push_str(&format!("   {voter}\n"));
        }
        let non_voters = self.non_voters.clone().unwrap_or_default();
        if !non_voters.is_empty() {
            out.push_str("Non Voters:\n");
            for non_voter in &non_voters {
                out.push_str(&format!("   {non_voter}\n"));
            }
        }
        if self.optimistic_failure_tolerance > 0 {
            out.push_str(&format!(
                "Optimistic Failure Tolerance:    {}\n",
                self.optimistic_failure_tolerance
            ));
        }
        out.push_str("Servers:\n");
        for server in self.servers.values() {
            out.push_str(&format!("   {}\n", server.id));
            out.push_str(&format!("      Name:              {}\n", server.name));
            out.push_str(&format!("      Address:           {}\n", server.address));
            out.push_str(&format!("      Status:            {}\n", server.status));
            out.push_str(&format!(
                "      Node Status:       {}\n",
                server.node_status
            ));
            out.push_str(&format!("      Healthy:           {}\n", server.healthy));
            out.push_str(&format!(
                "      Last Contact:      {}\n",
                server.last_contact
            ));
            out.push_str(&format!("      Last Term:         {}\n", server.last_term));
            out.push_str(&format!("      Last Index:        {}\n", server.last_index));
            out.push_str(&format!("      Version:           {}\n", server.version));
            if !server.upgrade_version.is_empty() {
                out.push_str(&format!(
                    "      Upgrade Version:   {}\n",
                    server.upgrade_version
                ));
            }
            if !server.node_type.is_empty() {
                out.push_str(&format!("      Node Type:         {}\n", server.node_type));
            }
        }
        out
    }
}

/// Go's `api.AutopilotConfig.MarshalJSON` (a map, so keys sorted).
#[derive(Serialize)]
struct GoAutopilotConfig {
    cleanup_dead_servers: bool,
    dead_server_last_contact_threshold: String,
    last_contact_threshold: String,
    max_trailing_logs: u64,
    min_quorum: u64,
    server_stabilization_time: String,
}

/// `operator raft autopilot get-config`: a `Key | Value` table in Vault's row order.
fn autopilot_get_config(args: &[String]) -> i32 {
    let set = output_flags(http_flags("operator raft autopilot get-config"));
    let (flags, ui) = match parse(&set, GET_CONFIG_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if let Some(code) = expect_no_arguments(&ui, flags.args()) {
        return code;
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let answer = match client
        .get("sys/storage/raft/autopilot/configuration")
        .and_then(|r| r.json())
    {
        Ok(answer) => answer,
        Err(error) => {
            ui.error(&error.to_string());
            return 2;
        }
    };
    let data = &answer["data"];
    let config = GoAutopilotConfig {
        cleanup_dead_servers: data["cleanup_dead_servers"].as_bool().unwrap_or(false),
        dead_server_last_contact_threshold: text(&data["dead_server_last_contact_threshold"]),
        last_contact_threshold: text(&data["last_contact_threshold"]),
        max_trailing_logs: data["max_trailing_logs"].as_u64().unwrap_or(0),
        min_quorum: data["min_quorum"].as_u64().unwrap_or(0),
        server_stabilization_time: text(&data["server_stabilization_time"]),
    };
    if !ui.is_table() {
        return ui.output_data(&config);
    }
    let rows = vec![
        "Key | Value".to_string(),
        format!("Cleanup Dead Servers | {}", config.cleanup_dead_servers),
        format!("Last Contact Threshold | {}", config.last_contact_threshold),
        format!(
            "Dead Server Last Contact Threshold | {}",
            config.dead_server_last_contact_threshold
        ),
        format!(
            "Server Stabilization Time | {}",
            config.server_stabilization_time
        ),
        format!("Min Quorum | {}", config.min_quorum),
        format!("Max Trailing Logs | {}", config.max_trailing_logs),
    ];
    ui.output(&crate::cli::format::table_output(&rows, "|"));
    0
}

/// `operator raft autopilot set-config`: sends only the flags given (non-zero), as Vault's
/// CLI does; the server answers 204 and nothing is printed.
fn autopilot_set_config(args: &[String]) -> i32 {
    let set = output_flags(http_flags("operator raft autopilot set-config"))
        .section("Common Options")
        .bool(
            "cleanup-dead-servers",
            "Controls whether to remove dead servers from the Raft peer list periodically or \
             when a new server joins.",
        )
        .duration(
            "last-contact-threshold",
            0,
            "Limit on the amount of time a server can go without leader contact before being \
             considered unhealthy.",
        )
        .duration(
            "dead-server-last-contact-threshold",
            0,
            "Limit on the amount of time a server can go without leader contact before being \
             considered failed. This takes effect only when cleanup_dead_servers is set.",
        )
        .int(
            "max-trailing-logs",
            0,
            "Amount of entries in the Raft Log that a server can be behind before being \
             considered unhealthy.",
        )
        .int(
            "min-quorum",
            0,
            "Minimum number of servers allowed in a cluster before autopilot can prune dead \
             servers. This should at least be 3.",
        )
        .duration(
            "server-stabilization-time",
            0,
            "Minimum amount of time a server must be in a stable, healthy state before it can \
             be added to the cluster.",
        );
    let (flags, ui) = match parse(&set, SET_CONFIG_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if let Some(code) = expect_no_arguments(&ui, flags.args()) {
        return code;
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let mut data = Map::new();
    if flags.is_set("cleanup-dead-servers") {
        data.insert(
            "cleanup_dead_servers".into(),
            json!(flags.bool("cleanup-dead-servers")),
        );
    }
    for (flag, field) in [
        ("max-trailing-logs", "max_trailing_logs"),
        ("min-quorum", "min_quorum"),
    ] {
        if flags.int(flag) > 0 {
            data.insert(field.into(), json!(flags.int(flag)));
        }
    }
    for (flag, field) in [
        ("last-contact-threshold", "last_contact_threshold"),
        (
            "dead-server-last-contact-threshold",
            "dead_server_last_contact_threshold",
        ),
        ("server-stabilization-time", "server_stabilization_time"),
    ] {
        let seconds = flags.duration_seconds(flag);
        if seconds > 0 {
            let text = tresor_framework::loose::format_go_duration(seconds);
            data.insert(field.into(), json!(text));
        }
    }
    match client.put(
        "sys/storage/raft/autopilot/configuration",
        &Value::Object(data),
    ) {
        Ok(_) => 0,
        Err(error) => {
            ui.error(&error.to_string());
            2
        }
    }
}
