//! The client commands of `tresor` (`status`, `operator …`, `login`, `token …`, `policy …`,
//! `secrets …`, `auth …`, `kv …`, `read|write|list|delete`, `lease …`, `version`), answering
//! like the `vault` binary: same flags, same output, same exit codes.
//!
//! Each command builds a `FlagSet` from `http_flags` (+ `output_flags`) and its own options,
//! makes a `Client` from the parsed HTTP options, and prints through `Ui`, which knows the
//! `-format`. Flags and help texts of the day-to-day commands are generated from Vault's
//! sources into `specs.rs`; secrets, maps and lists print through `secret.rs`; `K=V` arguments
//! parse in `kvargs.rs`.

#![allow(dead_code)] // Some shared helpers serve only part of the commands.

mod auth;
pub mod client;
pub mod format;
mod generic;
mod kv;
pub mod kvargs;
mod lease;
mod operator;
mod policy;
pub mod raft_snapshot;
pub mod secret;
mod specs;
mod status;
mod token;

use std::io::Write;

use crate::flags::{FlagError, FlagSet, Flags};

pub use client::{Client, ClientError, ClientOptions, Response};

/// The text `vault version` prints for this build.
pub fn version_text() -> String {
    format!("Tresor v{}", env!("CARGO_PKG_VERSION"))
}

/// Runs one client command (everything but `server`) and returns its exit code.
pub fn run(args: &[String]) -> i32 {
    let Some(first) = args.first() else {
        err_line(&main_help());
        return 127;
    };
    let rest = &args[1..];
    match first.as_str() {
        "-h" | "-help" | "--help" | "help" => {
            out_line(&main_help());
            0
        }
        "version" | "-v" | "-version" | "--version" => {
            if wants_help(rest) && first == "version" {
                out_line(status::VERSION_HELP.trim());
                return 0;
            }
            out_line(&version_text());
            0
        }
        "status" => status::run(rest),
        "operator" => operator::run(rest),
        "read" => generic::read(rest),
        "write" => generic::write(rest),
        "list" => generic::list(rest),
        "delete" => generic::delete(rest),
        "login" => token::login(rest),
        "token" => token::run(rest),
        "policy" => policy::run(rest),
        "secrets" => auth::run_secrets(rest),
        "auth" => auth::run_auth(rest),
        "kv" => kv::run(rest),
        "lease" => lease::run(rest),
        "server" => {
            // main.rs handles `server`; this only answers `help` lookups.
            out_line(&crate::config::server_help());
            0
        }
        _ => {
            err_line(&main_help());
            127
        }
    }
}

fn main_help() -> String {
    "Usage: vault <command> [args]

Common commands:
    read        Read data and retrieves secrets
    write       Write data, configuration, and secrets
    delete      Delete secrets and configuration
    list        List data or secrets
    login       Authenticate locally
    server      Start a Vault server
    status      Print seal and HA status

Other commands:
    auth        Interact with auth methods
    kv          Interact with Vault's Key-Value storage
    lease       Interact with leases
    operator    Perform operator-specific tasks
    policy      Interact with policies
    secrets     Interact with secrets engines
    token       Interact with tokens
    version     Prints the Vault CLI version"
        .to_string()
}

/// Writes a line to stdout, ignoring a closed pipe.
pub(crate) fn out_line(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// Writes a line to stderr, ignoring a closed pipe.
pub(crate) fn err_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// `-h`, `-help` or `--help` anywhere before `--` asks for help, as mitchellh/cli decides.
pub fn wants_help(args: &[String]) -> bool {
    for arg in args {
        if arg == "--" {
            return false;
        }
        if arg == "-h" || arg == "-help" || arg == "--help" {
            return true;
        }
    }
    false
}

/// The "HTTP Options" every client command accepts.
pub fn http_flags(command: &str) -> FlagSet {
    FlagSet::new(command)
        .section("HTTP Options")
        .string(
            "address",
            "https://127.0.0.1:8200",
            "Address of the Vault server.",
        )
        .env("VAULT_ADDR")
        .string(
            "ca-cert",
            "",
            "Path on the local disk to a single PEM-encoded CA certificate to verify the Vault \
             server's SSL certificate. This takes precedence over -ca-path.",
        )
        .env("VAULT_CACERT")
        .string(
            "ca-path",
            "",
            "Path on the local disk to a directory of PEM-encoded CA certificates to verify the \
             Vault server's SSL certificate.",
        )
        .env("VAULT_CAPATH")
        .string(
            "client-cert",
            "",
            "Path on the local disk to a single PEM-encoded CA certificate to use for TLS \
             authentication to the Vault server. If this flag is specified, -client-key is also \
             required.",
        )
        .env("VAULT_CLIENT_CERT")
        .string(
            "client-key",
            "",
            "Path on the local disk to a single PEM-encoded private key matching the client \
             certificate from -client-cert.",
        )
        .env("VAULT_CLIENT_KEY")
        .string(
            "namespace",
            "",
            "The namespace to use for the command. Setting this is not necessary but allows \
             using relative paths. -ns can be used as shortcut.",
        )
        .env("VAULT_NAMESPACE")
        .alias("ns")
        .string(
            "tls-server-name",
            "",
            "Name to use as the SNI host when connecting to the Vault server via TLS.",
        )
        .env("VAULT_TLS_SERVER_NAME")
        .bool(
            "tls-skip-verify",
            "Disable verification of TLS certificates. Using this option is highly discouraged \
             as it decreases the security of data transmissions to and from the Vault server.",
        )
        .env("VAULT_SKIP_VERIFY")
        .bool(
            "disable-redirects",
            "Disable the default client behavior, which honors a single redirect response from \
             a request",
        )
        .env("VAULT_DISABLE_REDIRECTS")
        .duration(
            "wrap-ttl",
            0,
            "Wraps the response in a cubbyhole token with the requested TTL. The response is \
             available via the \"vault unwrap\" command. The TTL is specified as a numeric \
             string with suffix like \"30s\" or \"5m\".",
        )
        .env("VAULT_WRAP_TTL")
        .bool(
            "non-interactive",
            "When set true, prevents asking the user for input via the terminal.",
        )
}

/// Adds Vault's "Output Options" section: `-field`, `-format`, `-detailed`, as chosen.
pub fn output_options(set: FlagSet, field: bool, format: bool, detailed: bool) -> FlagSet {
    let mut set = set.section("Output Options");
    if field {
        set = set.string(
            "field",
            "",
            "Print only the field with the given name. Specifying this option will take \
             precedence over other formatting directives. The result will not have a trailing \
             newline making it ideal for piping to other processes.",
        );
    }
    if format {
        set = set
            .string(
                "format",
                "table",
                "Print the output in the given format. Valid formats are \"table\", \"json\", \
                 \"yaml\", or \"pretty\". \"raw\" is allowed for 'vault read' operations only.",
            )
            .env("VAULT_FORMAT");
    }
    if detailed {
        set = set
            .bool(
                "detailed",
                "Enables additional metadata during some operations",
            )
            .env("VAULT_DETAILED");
    }
    set
}

/// Adds the "Output Options" section with `-format`.
pub fn output_flags(set: FlagSet) -> FlagSet {
    set.section("Output Options")
        .string(
            "format",
            "table",
            "Print the output in the given format. Valid formats are \"table\", \"json\", \
             \"yaml\", or \"pretty\". \"raw\" is allowed for 'vault read' operations only.",
        )
        .env("VAULT_FORMAT")
}

/// Where a command prints, and in which format.
pub struct Ui {
    pub format: String,
}

impl Ui {
    pub fn new(format: &str) -> Ui {
        Ui {
            format: format.to_ascii_lowercase(),
        }
    }

    pub fn is_table(&self) -> bool {
        self.format == "table"
    }

    /// Writes a line to stdout; a closed pipe (`| head`) is not an error worth a panic.
    pub fn output(&self, text: &str) {
        let _ = writeln!(std::io::stdout(), "{text}");
    }

    pub fn error(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    /// Prints `value` in a non-table format (Vault's `OutputData`); returns the exit code.
    pub fn output_data<T: serde::Serialize>(&self, value: &T) -> i32 {
        match self.format.as_str() {
            "json" => {
                self.output(&format::go_json(value));
                0
            }
            "yaml" | "yml" => {
                let json = serde_json::to_value(value).expect("CLI output values serialize");
                self.output(&format::go_yaml(&json));
                0
            }
            other => {
                self.error(&format!("Invalid output format: {other}"));
                1
            }
        }
    }
}

/// The outcome of parsing a command's arguments: either flags to run with, or an exit code.
pub enum Parsed {
    Run(Flags, Ui),
    Exit(i32),
}

/// Parses `args` with `set`; handles `-h` (help on stdout, exit 0), flag errors (stderr,
/// exit 1) and an unknown `-format` (exit 1), as Vault does.
pub fn parse(set: &FlagSet, help: &str, args: &[String]) -> Parsed {
    parse_with(set, help, args, false)
}

/// `parse`, where `allow_raw` says whether `-format=raw` is accepted (only `vault read`).
pub fn parse_with(set: &FlagSet, help: &str, args: &[String], allow_raw: bool) -> Parsed {
    if wants_help(args) {
        out_line(&command_help(help, set));
        return Parsed::Exit(0);
    }
    let has_format = set.flags().iter().any(|flag| flag.name == "format");
    // Vault picks the format from the arguments before the command parses them.
    let format = if has_format {
        prescan_format(args)
    } else {
        "table".to_string()
    };
    let ui = Ui::new(&format);
    if !matches!(
        ui.format.as_str(),
        "table" | "json" | "yaml" | "yml" | "pretty" | "raw"
    ) {
        ui.error(&format!("Invalid output format: {}", ui.format));
        return Parsed::Exit(1);
    }
    let result = set.parse(args);
    let positional = match &result {
        Ok(flags) => flags.args().to_vec(),
        Err(_) => Vec::new(),
    };
    warn_trailing_flags(&ui, &positional);
    let flags = match result {
        Ok(flags) => flags,
        Err(FlagError::Help) => {
            out_line(&command_help(help, set));
            return Parsed::Exit(0);
        }
        Err(FlagError::Invalid(message)) => {
            err_line(&message);
            return Parsed::Exit(1);
        }
    };
    if ui.format == "raw" && !allow_raw {
        ui.error("This command does not support the -format=raw option.");
        return Parsed::Exit(1);
    }
    Parsed::Run(flags, ui)
}

/// Vault's `format(args)` in `main.go`: the last `-format` before `--` wins, then
/// `VAULT_FORMAT`, then `table`.
fn prescan_format(args: &[String]) -> String {
    let mut format = String::new();
    let mut next_is_value = false;
    for arg in args {
        if next_is_value {
            format = arg.clone();
            next_is_value = false;
            continue;
        }
        if arg == "--" {
            break;
        }
        let trimmed = arg.trim_start_matches('-');
        if arg.starts_with('-') && trimmed == "format" {
            next_is_value = true;
        } else if arg.starts_with('-')
            && let Some(value) = trimmed.strip_prefix("format=")
        {
            format = value.to_string();
        }
    }
    if format.is_empty() {
        format = crate::flags::env_lookup("VAULT_FORMAT").unwrap_or_default();
    }
    if format.is_empty() {
        format = "table".to_string();
    }
    format.to_ascii_lowercase()
}

/// Vault warns when flag-looking arguments follow positional ones (they are not parsed).
fn warn_trailing_flags(ui: &Ui, args: &[String]) {
    const GLOBAL: &[&str] = &[
        "address",
        "agent-address",
        "namespace",
        "ns",
        "format",
        "header",
    ];
    let trailing: Vec<&str> = args
        .iter()
        .filter(|arg| arg.starts_with('-') && arg.as_str() != "-")
        .filter(|arg| {
            let name = arg.trim_start_matches('-');
            let name = name.split_once('=').map_or(name, |(n, _)| n);
            !GLOBAL.contains(&name)
        })
        .map(String::as_str)
        .collect();
    if !trailing.is_empty() && ui.is_table() {
        ui.warn(&format!(
            "Command flags must be provided before positional arguments. The following \
             arguments will not be parsed as flags: [{}]",
            trailing.join(",")
        ));
    }
}

/// A command's help: its text, a blank line, then its flags.
pub fn command_help(help: &str, set: &FlagSet) -> String {
    format!("{}\n\n{}", help.trim(), set.help())
        .trim_end()
        .to_string()
}

/// Builds the API client from parsed HTTP flags; on failure prints the error.
pub fn client(flags: &Flags, ui: &Ui) -> Option<Client> {
    let options = match ClientOptions::from_flags(flags) {
        Ok(options) => options,
        Err(message) => {
            ui.error(&message);
            return None;
        }
    };
    match Client::new(options) {
        Ok(client) => Some(client),
        Err(error) => {
            ui.error(&error.to_string());
            None
        }
    }
}

/// `Too many arguments (expected N, got M)`.
pub fn too_many_arguments(ui: &Ui, expected: &str, got: usize) -> i32 {
    ui.error(&format!(
        "Too many arguments (expected {expected}, got {got})"
    ));
    1
}

/// `Not enough arguments (expected N, got M)`.
pub fn not_enough_arguments(ui: &Ui, expected: &str, got: usize) -> i32 {
    ui.error(&format!(
        "Not enough arguments (expected {expected}, got {got})"
    ));
    1
}

/// Prints a command group's help (`vault kv`) as mitchellh/cli does: on stdout with exit 0
/// for `-h`, otherwise on stderr with exit 1.
pub fn group_help(help: &str, args: &[String]) -> i32 {
    if args
        .first()
        .is_some_and(|arg| matches!(arg.as_str(), "-h" | "-help" | "--help"))
    {
        out_line(help);
        return 0;
    }
    err_line(help);
    1
}

/// Go's `sanitizePath`: trims spaces and leading/trailing slashes.
pub fn sanitize_path(path: &str) -> String {
    path.trim().trim_matches('/').to_string()
}

/// Go's `ensureTrailingSlash` (empty stays empty).
pub fn ensure_trailing_slash(path: &str) -> String {
    let path = path.trim();
    if path.is_empty() || path.ends_with('/') {
        return path.to_string();
    }
    format!("{path}/")
}

/// The standard input the `-` arguments read.
pub fn stdin() -> std::io::Stdin {
    std::io::stdin()
}
