//! `tresor operator raft snapshot save|restore` (CLI-04): Vault's commands over
//! `sys/storage/raft/snapshot` (RFT-05, RFT-06). Both print nothing on success, as Vault's.

use crate::cli::{Parsed, group_help, http_flags, parse};

const SNAPSHOT_HELP: &str = "Usage: vault operator raft snapshot <subcommand> [options] [args]

  This command groups subcommands for operators interacting with the snapshot
  functionality of the integrated Raft storage backend. Here are a few examples of
  the Raft snapshot operator commands:

  Installs the provided snapshot, returning the cluster to the state defined in it:

      $ vault operator raft snapshot restore raft.snap

  Saves a snapshot of the current state of the Raft cluster into a file:

      $ vault operator raft snapshot save raft.snap

  Please see the individual subcommand help for detailed usage information.

Subcommands:
    restore    Installs the provided snapshot, returning the cluster to the state defined in it
    save       Saves a snapshot of the current state of the Raft cluster into a file";

const SAVE_HELP: &str = "
Usage: vault operator raft snapshot save <snapshot_file>

  Saves a snapshot of the current state of the Raft cluster into a file.

      $ vault operator raft snapshot save raft.snap
";

const RESTORE_HELP: &str = "
Usage: vault operator raft snapshot restore <snapshot_file>

  Installs the provided snapshot, returning the cluster to the state defined in it.

      $ vault operator raft snapshot restore raft.snap
";

/// Whether `args` (after `operator`) is `raft snapshot …`.
pub fn handles(args: &[String]) -> bool {
    args.first().map(String::as_str) == Some("raft")
        && args.get(1).map(String::as_str) == Some("snapshot")
}

/// Runs `snapshot <subcommand> …` (`args` starts after `raft`).
pub fn run(args: &[String]) -> i32 {
    match args.get(1).map(String::as_str) {
        Some("save") => save(&args[2..]),
        Some("restore") => restore(&args[2..]),
        _ => group_help(SNAPSHOT_HELP, &args[1..]),
    }
}

/// The one file argument; Vault's `Incorrect arguments (expected 1, got N)` otherwise.
fn file_argument(flags: &crate::flags::Flags, ui: &crate::cli::Ui) -> Option<String> {
    match flags.args() {
        [file] => Some(file.trim().to_string()),
        more => {
            ui.error(&format!(
                "Incorrect arguments (expected 1, got {})",
                more.len()
            ));
            None
        }
    }
}

fn save(args: &[String]) -> i32 {
    let set = http_flags("operator raft snapshot save");
    let (flags, ui) = match parse(&set, SAVE_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let Some(file) = file_argument(&flags, &ui) else {
        return 1;
    };
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let archive = match client.get("sys/storage/raft/snapshot") {
        Ok(response) => response.body,
        Err(error) => {
            ui.error(&format!("Error taking the snapshot: {error}"));
            return 2;
        }
    };
    // Go's client refuses an archive that does not end with a sealed hash file.
    if !crate::cluster::snapshot::has_sealed_sums(&archive) {
        ui.error(
            "Error taking the snapshot: incomplete snapshot, unable to read SHA256SUMS.sealed file",
        );
        return 2;
    }
    if let Err(error) = write_private(&file, &archive) {
        ui.error(&format!("Error opening output file: {error}"));
        return 2;
    }
    0
}

/// Creates (or truncates) `file` readable by its owner only, as Vault's CLI does: the archive
/// holds the cluster's encrypted data and its protected root key.
fn write_private(file: &str, archive: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut output = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    output.write_all(archive)?;
    output.sync_all()
}

fn restore(args: &[String]) -> i32 {
    let set = http_flags("operator raft snapshot restore")
        .section("Command Options")
        .bool(
            "force",
            "This bypasses checks ensuring the Autounseal or shamir keys are consistent with the snapshot data.",
        );
    let (flags, ui) = match parse(&set, RESTORE_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let Some(file) = file_argument(&flags, &ui) else {
        return 1;
    };
    let archive = match std::fs::read(&file) {
        Ok(archive) => archive,
        Err(error) => {
            // Vault's text (sic).
            ui.error(&format!("Error opening policy file: {error}"));
            return 2;
        }
    };
    let Some(client) = crate::cli::client(&flags, &ui) else {
        return 2;
    };
    let path = match flags.bool("force") {
        true => "sys/storage/raft/snapshot-force",
        false => "sys/storage/raft/snapshot",
    };
    if let Err(error) = client.send_bytes("POST", path, archive) {
        ui.error(&format!("Error installing the snapshot: {error}"));
        return 2;
    }
    0
}
