//! `vault lease renew | revoke | lookup`, after Vault 1.14's `command/lease_*.go`:
//! `PUT sys/leases/renew {"increment","lease_id"}`, `PUT sys/leases/revoke/<id> {"sync"}`
//! (`revoke-prefix/<p>` with `-prefix`, `revoke-force/<p>` without a body with `-force`),
//! `PUT sys/leases/lookup {"lease_id"}`.

use serde_json::json;

use super::format::wrap_at_length;
use super::secret::Secret;
use super::specs::*;
use super::{Parsed, Ui, group_help, not_enough_arguments, parse, too_many_arguments};
use crate::flags::{FlagSet, Flags};

pub(crate) fn run(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(LEASE_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "renew" => renew(rest),
        "revoke" => revoke(rest),
        "lookup" => lookup(rest),
        _ => group_help(LEASE_GROUP_HELP, args),
    }
}

fn parsed(set: FlagSet, help: &str, args: &[String]) -> Result<(Flags, Ui), i32> {
    match parse(&set, help, args) {
        Parsed::Run(flags, ui) => Ok((flags, ui)),
        Parsed::Exit(code) => Err(code),
    }
}

/// The lease id argument of `renew` and `lookup` (`Missing ID!` when absent).
fn lease_id(ui: &Ui, flags: &Flags, expected: &str) -> Result<String, i32> {
    match flags.args() {
        [] => {
            ui.error("Missing ID!");
            Err(1)
        }
        [id] => Ok(id.trim().to_string()),
        more => Err(too_many_arguments(ui, expected, more.len())),
    }
}

fn print_secret(ui: &Ui, response: super::Response) -> i32 {
    match Secret::parse(&response) {
        Ok(Some(secret)) => ui.output_secret(&secret),
        Ok(None) => 0,
        Err(error) => {
            ui.error(&error.to_string());
            2
        }
    }
}

fn renew(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(lease_renew_flags(), LEASE_RENEW_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let id = match lease_id(&ui, &flags, "1-2") {
        Ok(id) => id,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let body = json!({"increment": flags.duration_seconds("increment"), "lease_id": id});
    match client.put("sys/leases/renew", &body) {
        Ok(response) => print_secret(&ui, response),
        Err(error) => {
            ui.error(&format!("Error renewing {id}: {error}"));
            2
        }
    }
}

fn lookup(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(lease_lookup_flags(), LEASE_LOOKUP_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let id = match lease_id(&ui, &flags, "1") {
        Ok(id) => id,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    match client.put("sys/leases/lookup", &json!({"lease_id": id})) {
        Ok(response) => print_secret(&ui, response),
        Err(error) => {
            ui.error(&format!("error looking up lease id {id}: {error}"));
            2
        }
    }
}

fn revoke(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(lease_revoke_flags(), LEASE_REVOKE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let id = match flags.args() {
        [] => return not_enough_arguments(&ui, "1", 0),
        [id] => id.trim().to_string(),
        more => return too_many_arguments(&ui, "1", more.len()),
    };
    let (force, prefix, sync) = (
        flags.bool("force"),
        flags.bool("prefix"),
        flags.bool("sync"),
    );
    if force && !prefix {
        ui.error("Specifying -force requires also specifying -prefix");
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    if force {
        ui.warn(&wrap_at_length(
            "Warning! Force-removing leases can cause Vault to become out of sync with secret \
             engines!",
        ));
    }
    let result = if force {
        client.request("PUT", &format!("sys/leases/revoke-force/{id}"), None)
    } else if prefix {
        client.put(
            &format!("sys/leases/revoke-prefix/{id}"),
            &json!({"sync": sync}),
        )
    } else {
        client.put(&format!("sys/leases/revoke/{id}"), &json!({"sync": sync}))
    };
    if let Err(error) = result {
        let message = match (force, prefix) {
            (true, _) => format!("Error force revoking leases with prefix {id}: {error}"),
            (false, true) => format!("Error revoking leases with prefix {id}: {error}"),
            (false, false) => format!("Error revoking lease {id}: {error}"),
        };
        ui.error(&message);
        return 2;
    }
    let message = match (force, sync, prefix) {
        (true, _, _) => format!("Success! Force revoked any leases with prefix: {id}"),
        (false, true, true) => format!("Success! Revoked any leases with prefix: {id}"),
        (false, true, false) => format!("Success! Revoked lease: {id}"),
        (false, false, _) => "All revocation operations queued successfully!".to_string(),
    };
    ui.output(&message);
    0
}
