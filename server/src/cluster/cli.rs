//! `tresor operator raft join|list-peers|remove-peer|autopilot …` (CLI-04) and
//! `tresor operator step-down` (CLI-05), reached from `main.rs` through a minimal hook while
//! `cli/operator.rs` belongs to another change.

use crate::cli::{Parsed, http_flags, not_enough_arguments, parse, too_many_arguments};
use serde_json::{Value, json};

const RAFT_HELP: &str = "
Usage: vault operator raft <subcommand> [options] [args]

  This command groups subcommands for operators interacting with the Vault
  integrated Raft storage backend.

Subcommands:
    autopilot     Configures and interacts with the autopilot
    join          Joins a node to the Raft cluster
    list-peers    Returns the Raft peer set
    remove-peer   Removes a node from the Raft cluster
";

const JOIN_HELP: &str = "
Usage: vault operator raft join [options] <leader-api-addr>

  Join the current node as a peer to the Raft cluster by providing the address
  of the Raft leader node.

      $ vault operator raft join \"http://127.0.0.2:8200\"
";

const LIST_PEERS_HELP: &str = "
Usage: vault operator raft list-peers

  Provides the details of all the peers in the Raft cluster.

      $ vault operator raft list-peers
";

/// Whether `args` (after `operator`) is a raft command or `step-down`, which this module
/// serves.
pub fn handles(args: &[String]) -> bool {
    match args.first().map(String::as_str) {
        Some("step-down") => true,
        Some("raft") => matches!(
            args.get(1).map(String::as_str),
            None | Some(
                "join" | "list-peers" | "remove-peer" | "autopilot" | "-h" | "-help" | "--help"
            )
        ),
        _ => false,
    }
}

pub fn run(args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some("step-down") {
        return super::cli_ops::step_down(&args[1..]);
    }
    match args.get(1).map(String::as_str) {
        Some("join") => join(&args[2..]),
        Some("list-peers") => list_peers(&args[2..]),
        Some("remove-peer") => super::cli_ops::remove_peer(&args[2..]),
        Some("autopilot") => super::cli_ops::autopilot(&args[2..]),
        _ => {
            crate::cli::err_line(RAFT_HELP.trim());
            1
        }
    }
}

fn join(args: &[String]) -> i32 {
    let set = http_flags("operator raft join")
        .section("Command Options")
        .bool(
            "retry",
            "Continuously retry joining the Raft cluster upon failures.",
        )
        .string(
            "leader-ca-cert",
            "",
            "CA cert to use when verifying the Raft leader certificate.",
        )
        .bool(
            "non-voter",
            "This flag is used to make the server not participate in the Raft quorum.",
        );
    let (flags, ui) = match parse(&set, JOIN_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let leader_api_addr = match flags.args() {
        [addr] => addr.clone(),
        [] => return not_enough_arguments(&ui, "1", 0),
        more => return too_many_arguments(&ui, "1", more.len()),
    };
    let mut leader_ca_cert = flags.string("leader-ca-cert").to_string();
    if let Some(path) = leader_ca_cert.strip_prefix('@') {
        match std::fs::read_to_string(path) {
            Ok(pem) => leader_ca_cert = pem,
            Err(error) => {
                ui.error(&format!("Failed to read leader CA cert: {error}"));
                return 1;
            }
        }
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let body = json!({
        "leader_api_addr": leader_api_addr,
        "leader_ca_cert": leader_ca_cert,
        "retry": flags.bool("retry"),
        "non_voter": flags.bool("non-voter"),
    });
    let joined = match client
        .put("sys/storage/raft/join", &body)
        .and_then(|r| r.json())
    {
        Ok(joined) => joined,
        Err(error) => {
            ui.error(&format!(
                "Error joining the node to the Raft cluster: {error}"
            ));
            return 2;
        }
    };
    if !ui.is_table() {
        return ui.output_data(&joined);
    }
    let rows = vec![
        "Key | Value".to_string(),
        format!("Joined | {}", joined["joined"].as_bool().unwrap_or(false)),
    ];
    ui.output(&crate::cli::format::table_output(&rows, "|"));
    0
}

fn list_peers(args: &[String]) -> i32 {
    let set = crate::cli::output_flags(http_flags("operator raft list-peers"));
    let (flags, ui) = match parse(&set, LIST_PEERS_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    if !flags.args().is_empty() {
        return too_many_arguments(&ui, "0", flags.args().len());
    }
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let answer = match client
        .get("sys/storage/raft/configuration")
        .and_then(|r| r.json())
    {
        Ok(answer) => answer,
        Err(error) => {
            ui.error(&format!(
                "Error reading the raft cluster configuration: {error}"
            ));
            return 2;
        }
    };
    if !ui.is_table() {
        return ui.output_data(&answer);
    }
    let mut rows = vec!["Node | Address | State | Voter".to_string()];
    let empty = Vec::new();
    let servers = answer["data"]["config"]["servers"]
        .as_array()
        .unwrap_or(&empty);
    for server in servers {
        let state = match server["leader"] == Value::Bool(true) {
            true => "leader",
            false => "follower",
        };
        rows.push(format!(
            "{} | {} | {state} | {}",
            server["node_id"].as_str().unwrap_or(""),
            server["address"].as_str().unwrap_or(""),
            server["voter"].as_bool().unwrap_or(false)
        ));
    }
    ui.output(&crate::cli::format::table_output(&rows, "|"));
    0
}
