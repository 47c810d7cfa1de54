//! `vault read | write | list | delete`, after Vault 1.14's `command/{read,write,list,delete}.go`.
//!
//! `read` = `GET <path>` (`K=V` become query parameters), `write` = `PUT <path>` with the `K=V`
//! object, `list` = `GET <path>?list=true`, `delete` = `DELETE <path>`. A 204 prints
//! `Success! Data written to: <path>` (or deleted); a secret prints through `secret.rs`.

use serde_json::Value;

use super::kvargs::{parse_args_data, parse_args_data_string_lists};
use super::secret::{Secret, logical, logical_write};
use super::specs::{
    DELETE_HELP, LIST_HELP, READ_HELP, WRITE_HELP, delete_flags, list_flags, read_flags,
    write_flags,
};
use super::{
    Parsed, Ui, not_enough_arguments, parse, parse_with, sanitize_path, too_many_arguments,
};
use crate::flags::Flags;

pub(crate) fn read(args: &[String]) -> i32 {
    let set = read_flags();
    let (flags, ui) = match parse_with(&set, READ_HELP, args, true) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, "1", 0);
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let path = sanitize_path(&args[0]);
    let query = match parse_args_data_string_lists(&mut super::stdin(), &args[1..]) {
        Ok(data) => flatten_query(data),
        Err(error) => {
            ui.error(&format!("Failed to parse K=V data: {error}"));
            return 1;
        }
    };
    let result = client.send(&super::client::Request {
        method: "GET",
        path: &path,
        query: &query,
        body: None,
        content_type: None,
    });
    if ui.format == "raw" {
        return match result {
            Ok(response) => {
                ui.output(&String::from_utf8_lossy(&response.body));
                0
            }
            Err(error) if error.status() == Some(404) => {
                // Go's raw read returns the 404 body as an error; Vault prints it.
                ui.error(&format!("Error reading: {path}: {error}"));
                2
            }
            Err(error) => {
                ui.error(&format!("Error reading: {path}: {error}"));
                2
            }
        };
    }
    let secret = match logical(result) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            ui.error(&format!("No value found at {path}"));
            return 2;
        }
        Err(error) => {
            ui.error(&format!("Error reading {path}: {error}"));
            return 2;
        }
    };
    let field = flags.string("field");
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    ui.output_secret(&secret)
}

fn flatten_query(data: Vec<(String, Vec<String>)>) -> Vec<(String, String)> {
    data.into_iter()
        .flat_map(|(key, values)| values.into_iter().map(move |value| (key.clone(), value)))
        .collect()
}

pub(crate) fn write(args: &[String]) -> i32 {
    let set = write_flags();
    let (flags, ui) = match parse(&set, WRITE_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, "1", 0);
    }
    if args.len() == 1 && !flags.bool("force") {
        ui.error("Must supply data or use -force");
        return 1;
    }
    let path = sanitize_path(&args[0]);
    let data = match parse_args_data(&mut super::stdin(), &args[1..]) {
        Ok(data) => data,
        Err(error) => {
            ui.error(&format!("Failed to parse K=V data: {error}"));
            return 1;
        }
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let result = client.put(&path, &Value::Object(data));
    write_output(&ui, &flags, &path, result)
}

/// Vault's `handleWriteSecretOutput`.
pub(crate) fn write_output(
    ui: &Ui,
    flags: &Flags,
    path: &str,
    result: Result<super::Response, super::ClientError>,
) -> i32 {
    let secret = match logical_write(result) {
        Ok(secret) => secret,
        Err((error, secret)) => {
            ui.error(&format!("Error writing data to {path}: {error}"));
            if let Some(secret) = secret {
                ui.output_secret(&secret);
            }
            return 2;
        }
    };
    let Some(secret) = secret else {
        if ui.is_table() {
            ui.output(&format!("Success! Data written to: {path}"));
        }
        return 0;
    };
    let field = field_flag(flags);
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    ui.output_secret(&secret)
}

/// `-field`, or empty when the command has no such flag.
pub(crate) fn field_flag(flags: &Flags) -> &str {
    if flags.has("field") {
        return flags.string("field");
    }
    ""
}

pub(crate) fn list(args: &[String]) -> i32 {
    let set = list_flags();
    let (flags, ui) = match parse(&set, LIST_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, "1", 0);
    }
    if args.len() > 1 {
        return too_many_arguments(&ui, "1", args.len());
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let path = sanitize_path(&args[0]);
    let secret = match logical(client.list(&path)) {
        Ok(secret) => secret,
        Err(error) => {
            ui.error(&format!("Error listing {path}: {error}"));
            return 2;
        }
    };
    output_list_result(&ui, &path, secret, flags.bool("detailed"))
}

/// The tail of `vault list` and `vault kv list`: wrapped, empty and missing cases.
pub(crate) fn output_list_result(
    ui: &Ui,
    path: &str,
    secret: Option<Secret>,
    detailed: bool,
) -> i32 {
    if let Some(secret) = &secret
        && secret.wrap_info.as_ref().is_some_and(|wrap| wrap.ttl != 0)
    {
        return ui.output_secret(secret);
    }
    let has_keys = secret
        .as_ref()
        .and_then(|secret| secret.data_field("keys"))
        .is_some_and(Value::is_array);
    if !ui.is_table() && !has_keys {
        ui.output_data(&serde_json::Map::new());
        return 2;
    }
    let Some(secret) = secret else {
        ui.error(&format!("No value found at {path}"));
        return 2;
    };
    if secret.data.is_none() {
        return ui.output_secret(&secret);
    }
    if !has_keys {
        ui.error(&format!("No entries found at {path}"));
        return 2;
    }
    ui.output_list(&secret, detailed)
}

pub(crate) fn delete(args: &[String]) -> i32 {
    let set = delete_flags();
    let (flags, ui) = match parse(&set, DELETE_HELP, args) {
        Parsed::Run(flags, ui) => (flags, ui),
        Parsed::Exit(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, "at least 1", 0);
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let path = sanitize_path(&args[0]);
    let query = match parse_args_data_string_lists(&mut super::stdin(), &args[1..]) {
        Ok(data) => flatten_query(data),
        Err(error) => {
            ui.error(&format!("Failed to parse string list data: {error}"));
            return 1;
        }
    };
    let result = client.send(&super::client::Request {
        method: "DELETE",
        path: &path,
        query: &query,
        body: None,
        content_type: None,
    });
    delete_output(&ui, &flags, &path, result)
}

/// The tail of `vault delete` and `vault kv delete`.
pub(crate) fn delete_output(
    ui: &Ui,
    flags: &Flags,
    path: &str,
    result: Result<super::Response, super::ClientError>,
) -> i32 {
    let secret = match logical_write(result) {
        Ok(secret) => secret,
        Err((error, secret)) => {
            ui.error(&format!("Error deleting {path}: {error}"));
            if let Some(secret) = secret {
                ui.output_secret(&secret);
            }
            return 2;
        }
    };
    let Some(secret) = secret else {
        if ui.is_table() {
            ui.output(&format!("Success! Data deleted (if it existed) at: {path}"));
        }
        return 0;
    };
    let field = field_flag(flags);
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    ui.output_secret(&secret)
}
