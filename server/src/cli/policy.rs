//! `vault policy write | read | list | delete | fmt`, after Vault 1.14's `command/policy_*.go`.
//! They use `sys/policies/acl/<name>` (PUT `{"policy": text}`, GET `data.policy`, LIST
//! `data.keys`, DELETE).

use std::io::Read;

use serde_json::{Value, json};

use super::kvargs::go_open_error;
use super::secret::Secret;
use super::specs::*;
use super::{Parsed, Ui, group_help, not_enough_arguments, parse, too_many_arguments};
use crate::flags::Flags;

pub(crate) fn run(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(POLICY_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "write" => write(rest),
        "read" => read(rest),
        "list" => list(rest),
        "delete" => delete(rest),
        "fmt" => fmt(rest),
        _ => group_help(POLICY_GROUP_HELP, args),
    }
}

fn parsed(set: crate::flags::FlagSet, help: &str, args: &[String]) -> Result<(Flags, Ui), i32> {
    match parse(&set, help, args) {
        Parsed::Run(flags, ui) => Ok((flags, ui)),
        Parsed::Exit(code) => Err(code),
    }
}

/// Exactly `count` positional arguments, with Vault's messages.
fn exact_args(ui: &Ui, flags: &Flags, count: usize) -> Result<(), i32> {
    let got = flags.args().len();
    let expected = count.to_string();
    if got < count {
        return Err(not_enough_arguments(ui, &expected, got));
    }
    if got > count {
        return Err(too_many_arguments(ui, &expected, got));
    }
    Ok(())
}

fn write(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(policy_write_flags(), POLICY_WRITE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Err(code) = exact_args(&ui, &flags, 2) {
        return code;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let name = &flags.args()[0];
    let formatted = name.trim().to_lowercase();
    let source = flags.args()[1].trim();
    let mut rules = String::new();
    let read = if source == "-" {
        std::io::stdin().read_to_string(&mut rules)
    } else {
        match std::fs::File::open(source) {
            Ok(mut file) => file.read_to_string(&mut rules),
            Err(error) => {
                ui.error(&format!(
                    "Error opening policy file: {}",
                    go_open_error(source, &error)
                ));
                return 2;
            }
        }
    };
    if let Err(error) = read {
        ui.error(&format!("Error reading policy: {error}"));
        return 2;
    }
    let path = format!("sys/policies/acl/{formatted}");
    if let Err(error) = client.put(&path, &json!({"policy": rules})) {
        ui.error(&format!("Error uploading policy: {error}"));
        return 2;
    }
    if *name != formatted {
        ui.warn(&format!(
            "Policy name was converted from \"{name}\" to \"{formatted}\""
        ));
    }
    ui.output(&format!("Success! Uploaded policy: {formatted}"));
    0
}

fn read(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(policy_read_flags(), POLICY_READ_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Err(code) = exact_args(&ui, &flags, 1) {
        return code;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let name = flags.args()[0].trim().to_lowercase();
    let rules = match client.get(&format!("sys/policies/acl/{name}")) {
        Err(error) if error.status() == Some(404) => String::new(),
        Err(error) => {
            ui.error(&format!("Error reading policy named {name}: {error}"));
            return 2;
        }
        Ok(response) => match policy_text(&response) {
            Ok(text) => text,
            Err(error) => {
                ui.error(&format!("Error reading policy named {name}: {error}"));
                return 2;
            }
        },
    };
    if rules.is_empty() {
        ui.error(&format!("No policy named: {name}"));
        return 2;
    }
    if ui.is_table() {
        ui.output(rules.trim());
        return 0;
    }
    ui.output_data(&json!({"policy": rules}))
}

/// `data.policy` of a policy read, with the Go client's errors.
fn policy_text(response: &super::Response) -> Result<String, String> {
    let secret = Secret::parse(response).map_err(|e| e.to_string())?;
    let Some(data) = secret.and_then(|secret| secret.data) else {
        return Err("data from server response is empty".to_string());
    };
    match data.get("policy") {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err("policy is not a string".to_string()),
        None => Err("no policy found in response".to_string()),
    }
}

fn list(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(policy_list_flags(), POLICY_LIST_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if !flags.args().is_empty() {
        return too_many_arguments(&ui, "0", flags.args().len());
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let secret = match client
        .list("sys/policies/acl")
        .and_then(|response| Secret::parse(&response))
    {
        Ok(secret) => secret,
        Err(error) => {
            ui.error(&format!("Error listing policies: {error}"));
            return 2;
        }
    };
    let Some(data) = secret.and_then(|secret| secret.data) else {
        ui.error("Error listing policies: data from server response is empty");
        return 2;
    };
    let names: Option<Vec<String>> = data.get("keys").and_then(Value::as_array).map(|keys| {
        keys.iter()
            .filter_map(|key| key.as_str().map(str::to_string))
            .collect()
    });
    if ui.is_table() {
        for name in names.iter().flatten() {
            ui.output(name);
        }
        return 0;
    }
    ui.output_data(&names)
}

fn delete(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(policy_delete_flags(), POLICY_DELETE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Err(code) = exact_args(&ui, &flags, 1) {
        return code;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let name = flags.args()[0].trim().to_lowercase();
    if let Err(error) = client.delete(&format!("sys/policies/acl/{name}")) {
        ui.error(&format!("Error deleting {name}: {error}"));
        return 2;
    }
    ui.output(&format!("Success! Deleted policy: {name}"));
    0
}

/// `policy fmt <file>`: validates the policy, rewrites the file in canonical HCL.
fn fmt(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(policy_fmt_flags(), POLICY_FMT_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Err(code) = exact_args(&ui, &flags, 1) {
        return code;
    }
    let path = expand_home(flags.args()[0].trim());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            ui.error(&format!(
                "Error reading source file: {}",
                go_open_error(&path, &error)
            ));
            return 1;
        }
    };
    if let Err(error) = tresor_auth::policy::parse_policy("", &text) {
        ui.error(&error.to_string());
        return 1;
    }
    let formatted = match format_hcl(&text) {
        Ok(formatted) => formatted,
        Err(error) => {
            ui.error(&format!("Error printing result: {error}"));
            return 1;
        }
    };
    if let Err(error) = std::fs::write(&path, formatted) {
        ui.error(&format!("Error writing result: {error}"));
        return 1;
    }
    ui.output(&format!("Success! Formatted policy: {path}"));
    0
}

/// HCL's canonical form (two-space indents, one attribute per line).
fn format_hcl(text: &str) -> Result<String, String> {
    let body: hcl::Body = hcl::from_str(text).map_err(|e| e.to_string())?;
    hcl::format::to_string(&body).map_err(|e| e.to_string())
}

/// `~/x` → `$HOME/x`, as go-homedir expands it.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix('~'), std::env::var("HOME")) {
        (Some(rest), Ok(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{home}{rest}")
        }
        _ => path.to_string(),
    }
}
