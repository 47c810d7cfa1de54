//! `vault kv …`, after Vault 1.14's `command/kv_*.go`.
//!
//! Every command first asks `GET sys/internal/ui/mounts/<path>` which mount serves the path and
//! whether it is KV v2 (`data.path`, `data.options.version == "2"`; a 404 means v1). V2 paths
//! get `data/`, `metadata/`, `delete/`, `undelete/` or `destroy/` inserted after the mount.

use serde_json::{Map, Value, json};

use super::generic::{delete_output, field_flag, output_list_result, write_output};
use super::kvargs::parse_args_data;
use super::secret::{Secret, WriteFailure, logical, logical_write};
use super::specs::*;
use super::{
    Client, ClientError, Parsed, Ui, group_help, not_enough_arguments, parse, sanitize_path,
    too_many_arguments,
};
use crate::flags::{FlagSet, Flags};

pub(crate) fn run(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(KV_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "get" => get(rest),
        "put" => put(rest),
        "patch" => patch(rest),
        "list" => list(rest),
        "delete" => delete(rest),
        "undelete" => versions_write(rest, VersionsOp::Undelete),
        "destroy" => versions_write(rest, VersionsOp::Destroy),
        "rollback" => rollback(rest),
        "metadata" => metadata(rest),
        _ => group_help(KV_GROUP_HELP, args),
    }
}

fn metadata(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(KV_METADATA_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "get" => metadata_get(rest),
        "put" => metadata_write(rest, false),
        "patch" => metadata_write(rest, true),
        "delete" => metadata_delete(rest),
        _ => group_help(KV_METADATA_GROUP_HELP, args),
    }
}

/// Where a `kv` command's path lives, after the version preflight.
struct KvTarget {
    /// The mount as the preflight named it (`secret/`), or the `-mount` value for undelete.
    mount_path: String,
    /// The user's path, joined under the mount when `-mount` was given for a v2 mount.
    partial_path: String,
    v2: bool,
    mount_flag: bool,
}

impl KvTarget {
    /// The v2 API path with `prefix` (`data`, `metadata`, …) inserted after the mount.
    fn v2_path(&self, prefix: &str) -> String {
        add_prefix_to_kv_path(&self.partial_path, &self.mount_path, prefix)
    }

    /// The path a v1 command uses.
    fn v1_path(&self) -> String {
        if self.mount_flag {
            return go_path_join(&[&self.mount_path, &self.partial_path]);
        }
        self.partial_path.clone()
    }
}

/// How a command turns its argument into the path it preflights, as each Go command does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathStyle {
    /// `sanitizePath(arg)` (most commands).
    Sanitized,
    /// `strings.TrimPrefix(arg, "/")` (`kv get`).
    TrimLeadingSlash,
    /// `kv undelete`: with `-mount`, the mount is the sanitized flag and the path is not joined.
    Undelete,
}

/// The preflight and path joining every `kv` command starts with. On failure the error is
/// printed and the exit code (2) returned.
fn resolve(
    client: &Client,
    ui: &Ui,
    flags: &Flags,
    arg: &str,
    style: PathStyle,
) -> Result<KvTarget, i32> {
    let mount_flag = flags.string("mount");
    let mut partial_path = match style {
        PathStyle::TrimLeadingSlash => arg.strip_prefix('/').unwrap_or(arg).to_string(),
        _ => sanitize_path(arg),
    };
    let preflight_path = if mount_flag.is_empty() {
        partial_path.clone()
    } else {
        sanitize_path(mount_flag)
    };
    let (mut mount_path, v2) = match preflight(client, &preflight_path) {
        Ok(found) => found,
        Err(error) => {
            ui.error(&error.to_string());
            return Err(2);
        }
    };
    if !mount_flag.is_empty() {
        if style == PathStyle::Undelete {
            mount_path = sanitize_path(mount_flag);
        } else if v2 {
            partial_path = go_path_join(&[&mount_path, &partial_path]);
        }
    }
    Ok(KvTarget {
        mount_path,
        partial_path,
        v2,
        mount_flag: !mount_flag.is_empty(),
    })
}

/// Go's `kvPreflightVersionRequest`: `(mount path, is v2)`; a 404 means an old server (v1).
fn preflight(client: &Client, path: &str) -> Result<(String, bool), ClientError> {
    let response = match client.get(&format!("sys/internal/ui/mounts/{path}")) {
        Ok(response) => response,
        Err(error) if error.status() == Some(404) => return Ok((String::new(), false)),
        Err(error) => return Err(error),
    };
    let Some(secret) = Secret::parse(&response)? else {
        return Err(ClientError::Decode(
            "nil response from pre-flight request".to_string(),
        ));
    };
    let mount_path = match secret.data_field("path") {
        Some(Value::String(path)) => path.clone(),
        _ => String::new(),
    };
    let version = secret
        .data_field("options")
        .and_then(|options| options.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok((mount_path, version == "2"))
}

/// Go's `addPrefixToKVPath` (with `skipIfExists` false), including its namespace-prefix loop.
fn add_prefix_to_kv_path(path: &str, mount_path: &str, prefix: &str) -> String {
    if path == mount_path || path == mount_path.trim_end_matches('/') {
        return go_path_join(&[mount_path, prefix]);
    }
    let mut mount_path = mount_path.to_string();
    let mut suffix = path
        .strip_prefix(mount_path.as_str())
        .unwrap_or(path)
        .to_string();
    while suffix == path {
        let Some((_, rest)) = mount_path.split_once('/') else {
            break;
        };
        if rest.is_empty() {
            break;
        }
        mount_path = rest.trim_end_matches('/').to_string();
        suffix = suffix
            .strip_prefix(mount_path.as_str())
            .unwrap_or(&suffix)
            .to_string();
    }
    go_path_join(&[&mount_path, prefix, &suffix])
}

/// Go's `path.Join`: non-empty parts joined by `/`, then cleaned (`""` stays `""`).
pub(crate) fn go_path_join(parts: &[&str]) -> String {
    let joined: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if joined.is_empty() {
        return String::new();
    }
    let joined = joined.join("/");
    let rooted = joined.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|last| *last != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// Vault's `padEqualSigns`.
fn pad_equal_signs(header: &str, total: usize) -> String {
    let mut signs = total as i64 - (header.len() as i64 + 2);
    if signs <= 0 {
        signs = 4;
    }
    if signs % 2 != 0 {
        signs += 1;
    }
    let half = "=".repeat((signs / 2) as usize);
    format!("{half} {header} {half}")
}

/// Vault's `getHeaderForMap`: the header is as wide as the map's table.
fn header_for_map(header: &str, data: &Map<String, Value>) -> String {
    let longest = data.keys().map(String::len).max().unwrap_or(0);
    pad_equal_signs(header, longest + 4 + 5)
}

/// Vault's `outputPath`: `== Secret Path ==`, the path, a blank line.
fn output_path(ui: &Ui, path: &str, title: &str) {
    ui.output(&pad_equal_signs(title, path.len()));
    ui.output(path);
    ui.output("");
}

/// Parses a `kv` command's flags; `Err` is the exit code.
fn parse_kv(set: FlagSet, help: &str, args: &[String]) -> Result<(Flags, Ui), i32> {
    match parse(&set, help, args) {
        Parsed::Run(flags, ui) => Ok((flags, ui)),
        Parsed::Exit(code) => Err(code),
    }
}

/// Exactly one path argument, as most `kv` commands want.
fn one_arg(ui: &Ui, flags: &Flags) -> Result<String, i32> {
    match flags.args().len() {
        0 => Err(not_enough_arguments(ui, "1", 0)),
        1 => Ok(flags.args()[0].clone()),
        n => Err(too_many_arguments(ui, "1", n)),
    }
}

/// The `-format` flag's own value (Vault compares `c.flagFormat`, not the UI's format).
fn format_flag(flags: &Flags) -> String {
    flags.string("format").to_ascii_lowercase()
}

fn get(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_get_flags(), KV_GET_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::TrimLeadingSlash) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let mut query = Vec::new();
    let full_path = if target.v2 {
        if flags.int("version") > 0 {
            query.push(("version".to_string(), flags.int("version").to_string()));
        }
        target.v2_path("data")
    } else {
        target.v1_path()
    };
    let result = client.send(&super::client::Request {
        method: "GET",
        path: &full_path,
        query: &query,
        body: None,
        content_type: None,
    });
    let secret = match logical(result) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            ui.error(&format!("No value found at {full_path}"));
            return 2;
        }
        Err(error) => {
            ui.error(&format!("Error reading {full_path}: {error}"));
            return 2;
        }
    };
    let field = flags.string("field");
    if !field.is_empty() {
        return get_field(&ui, &secret, target.v2, &full_path, field);
    }
    if secret.wrap_info.is_some() || format_flag(&flags) != "table" {
        return ui.output_secret(&secret);
    }
    ui.print_warnings(&secret);
    if target.v2 {
        output_path(&ui, &full_path, "Secret Path");
    }
    if let Some(Value::Object(metadata)) = secret.data_field("metadata") {
        ui.output(&header_for_map("Metadata", metadata));
        ui.output_map(metadata);
        ui.output("");
    }
    let data = if target.v2 {
        match secret.data_field("data") {
            Some(Value::Object(data)) => Some(data.clone()),
            _ => None,
        }
    } else {
        secret.data.clone()
    };
    if let Some(data) = data {
        ui.output(&header_for_map("Data", &data));
        ui.output_map(&data);
    }
    0
}

/// `kv get -field`: v2 reads the field from `data.data` (`-field=data` is the whole map).
fn get_field(ui: &Ui, secret: &Secret, v2: bool, full_path: &str, field: &str) -> i32 {
    if !v2 {
        return ui.print_raw_field(secret, field);
    }
    let data = match secret.data_field("data") {
        Some(data) if !data.is_null() => data,
        _ => {
            ui.error(&format!("No data found at {full_path}"));
            return 2;
        }
    };
    if field == "data" {
        if data.get("data").is_some() {
            return ui.print_map_field(data, field);
        }
        return ui.print_raw_field(secret, field);
    }
    ui.print_map_field(data, field)
}

fn put(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_put_flags(), KV_PUT_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, ">1", 0);
    }
    if args.len() == 1 {
        ui.error("Must supply data");
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let data = match parse_args_data(&mut super::stdin(), &args[1..]) {
        Ok(data) => data,
        Err(error) => {
            ui.error(&format!("Failed to parse K=V data: {error}"));
            return 1;
        }
    };
    let target = match resolve(&client, &ui, &flags, &args[0], PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let (full_path, body) = if target.v2 {
        let mut options = Map::new();
        if flags.int("cas") > -1 {
            options.insert("cas".to_string(), Value::from(flags.int("cas")));
        }
        let body = json!({"data": Value::Object(data), "options": Value::Object(options)});
        (target.v2_path("data"), body)
    } else {
        (target.v1_path(), Value::Object(data))
    };
    let result = client.put(&full_path, &body);
    kv_write_output(&ui, &flags, &full_path, result)
}

/// The tail of `kv put`, `kv patch`: v2 metadata as `== Secret Path ==` and `== Metadata ==`.
fn kv_write_output(
    ui: &Ui,
    flags: &Flags,
    full_path: &str,
    result: Result<super::Response, ClientError>,
) -> i32 {
    let secret = match logical_write(result) {
        Ok(Some(secret)) => secret,
        other => return write_output(ui, flags, full_path, other_result(other)),
    };
    let field = field_flag(flags);
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    print_written_secret(ui, full_path, &secret)
}

fn print_written_secret(ui: &Ui, full_path: &str, secret: &Secret) -> i32 {
    if secret.wrap_info.as_ref().is_some_and(|wrap| wrap.ttl != 0) {
        return ui.output_secret(secret);
    }
    if ui.is_table() {
        output_path(ui, full_path, "Secret Path");
        let metadata = secret.data.clone().unwrap_or_default();
        ui.output(&header_for_map("Metadata", &metadata));
        return ui.output_map(&metadata);
    }
    ui.output_secret(secret)
}

/// Re-wraps a `logical_write` outcome that is not a secret so `write_output` can print it.
fn other_result(
    outcome: Result<Option<Secret>, WriteFailure>,
) -> Result<super::Response, ClientError> {
    match outcome {
        Ok(_) => Ok(super::Response {
            status: 204,
            body: Vec::new(),
        }),
        Err((error, _)) => Err(error),
    }
}

fn patch(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_patch_flags(), KV_PATCH_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let args = flags.args();
    if args.is_empty() {
        return not_enough_arguments(&ui, ">1", 0);
    }
    if flags.strings("remove-data").is_empty() && args.len() == 1 {
        ui.error("Must supply data");
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let mut new_data = match parse_args_data(&mut super::stdin(), &args[1..]) {
        Ok(data) => data,
        Err(error) => {
            ui.error(&format!("Failed to parse K=V data: {error}"));
            return 1;
        }
    };
    let target = match resolve(&client, &ui, &flags, &args[0], PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error("K/V engine mount must be version 2 for patch support");
        return 2;
    }
    let full_path = target.v2_path("data");
    for key in flags.strings("remove-data") {
        new_data.insert(key.clone(), Value::Null);
    }
    let patcher = Patcher {
        client: &client,
        ui: &ui,
        flags: &flags,
        path: &full_path,
    };
    let outcome = match flags.string("method") {
        "rw" => patcher.read_then_write(&new_data),
        "patch" => patcher.merge_patch(&new_data, false),
        "" => patcher.merge_patch(&new_data, true),
        other => {
            ui.error(&format!(
                "Unsupported method provided to -method flag: {other}"
            ));
            return 2;
        }
    };
    let secret = match outcome {
        PatchOutcome::Done(code) => return code,
        PatchOutcome::Secret(secret) => secret,
    };
    let field = flags.string("field");
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    print_written_secret(&ui, &full_path, &secret)
}

enum PatchOutcome {
    Done(i32),
    Secret(Box<Secret>),
}

struct Patcher<'a> {
    client: &'a Client,
    ui: &'a Ui,
    flags: &'a Flags,
    path: &'a str,
}

impl Patcher<'_> {
    /// `PATCH` with a JSON merge patch; 405 (old server) or 403 (no `patch` capability) fall
    /// back to read-then-write when no `-method` was given.
    fn merge_patch(&self, new_data: &Map<String, Value>, fallback: bool) -> PatchOutcome {
        let mut options = Map::new();
        if self.flags.int("cas") > 0 {
            options.insert("cas".to_string(), Value::from(self.flags.int("cas")));
        }
        let body =
            json!({"data": Value::Object(new_data.clone()), "options": Value::Object(options)});
        let outcome = logical_write(self.client.merge_patch(self.path, &body));
        match outcome {
            Err((error, _)) if fallback && error.status() == Some(405) => {
                self.read_then_write(new_data)
            }
            Err((error, _)) if fallback && error.status() == Some(403) => {
                self.ui.warn(&format!(
                    "Data was written to {} but we recommend that you add the \"patch\" capability to your ACL policy in order to use HTTP PATCH in the future.",
                    self.path
                ));
                self.read_then_write(new_data)
            }
            other => self.finish(other),
        }
    }

    fn finish(&self, outcome: Result<Option<Secret>, WriteFailure>) -> PatchOutcome {
        match outcome {
            Err((error, _)) => {
                self.ui
                    .error(&format!("Error writing data to {}: {error}", self.path));
                PatchOutcome::Done(2)
            }
            Ok(None) => {
                if self.ui.is_table() {
                    self.ui
                        .output(&format!("Success! Data written to: {}", self.path));
                }
                PatchOutcome::Done(0)
            }
            Ok(Some(secret)) => {
                let field = self.flags.string("field");
                if !field.is_empty() {
                    return PatchOutcome::Done(self.ui.print_raw_field(&secret, field));
                }
                PatchOutcome::Secret(Box::new(secret))
            }
        }
    }

    /// Reads the current version, merges the new keys in, writes with `cas` = its version.
    fn read_then_write(&self, new_data: &Map<String, Value>) -> PatchOutcome {
        let path = self.path;
        let secret = match logical(self.client.get(path)) {
            Ok(Some(secret)) if secret.data.is_some() => secret,
            Ok(_) => {
                self.ui.error(&format!("No value found at {path}"));
                return PatchOutcome::Done(2);
            }
            Err(error) => {
                self.ui
                    .error(&format!("Error doing pre-read at {path}: {error}"));
                return PatchOutcome::Done(2);
            }
        };
        let (metadata, mut data) = match current_version(&secret, path, "patch") {
            Ok(found) => found,
            Err(message) => {
                self.ui.error(&message);
                return PatchOutcome::Done(2);
            }
        };
        for (key, value) in new_data {
            data.insert(key.clone(), value.clone());
        }
        let cas = metadata.get("version").cloned().unwrap_or(Value::Null);
        let body = json!({"data": Value::Object(data), "options": {"cas": cas}});
        self.finish(logical_write(self.client.put(path, &body)))
    }
}

/// The metadata and the data of one KV v2 version.
type VersionParts = (Map<String, Value>, Map<String, Value>);

/// The metadata and data of a KV v2 read, with Vault's errors for a missing or odd shape.
fn current_version(secret: &Secret, path: &str, what: &str) -> Result<VersionParts, String> {
    let metadata = metadata_of(secret, path, what)?;
    let data = match secret.data_field("data") {
        None | Some(Value::Null) => {
            return Err(format!(
                "No data found at {path}; {what} only works on existing data"
            ));
        }
        Some(Value::Object(data)) => data.clone(),
        Some(_) => {
            return Err(format!(
                "Data found at {path} is not the expected type (JSON object)"
            ));
        }
    };
    Ok((metadata, data))
}

fn metadata_of(secret: &Secret, path: &str, what: &str) -> Result<Map<String, Value>, String> {
    match secret.data_field("metadata") {
        None | Some(Value::Null) => Err(format!(
            "No metadata found at {path}; {what} only works on existing data"
        )),
        Some(Value::Object(metadata)) => Ok(metadata.clone()),
        Some(_) => Err(format!(
            "Metadata found at {path} is not the expected type (JSON object)"
        )),
    }
}

fn list(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_list_flags(), KV_LIST_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match flags.args().len() {
        0 if !flags.string("mount").is_empty() => String::new(),
        0 => return not_enough_arguments(&ui, "1", 0),
        1 => flags.args()[0].clone(),
        n => return too_many_arguments(&ui, "1", n),
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    let full_path = if target.v2 {
        target.v2_path("metadata")
    } else {
        target.v1_path()
    };
    let secret = match logical(client.list(&full_path)) {
        Ok(secret) => secret,
        Err(error) => {
            ui.error(&format!("Error listing {full_path}: {error}"));
            return 2;
        }
    };
    output_list_result(&ui, &full_path, secret, false)
}

fn delete(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_delete_flags(), KV_DELETE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        let full_path = target.v1_path();
        return delete_output(&ui, &flags, &full_path, client.delete(&full_path));
    }
    let full_path = target.v2_path("data");
    let versions = parse_versions(flags.strings("versions"));
    let result = if versions.is_empty() {
        client.delete(&full_path)
    } else {
        client.put(&target.v2_path("delete"), &json!({"versions": versions}))
    };
    delete_output(&ui, &flags, &full_path, result)
}

/// Go's `kvParseVersionsFlags`: every `-versions` value split on commas, trimmed, empties
/// dropped; sent as strings.
fn parse_versions(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Clone, Copy)]
enum VersionsOp {
    Undelete,
    Destroy,
}

/// `kv undelete` and `kv destroy`: `PUT <mount>/<op>/<path> {"versions": […]}`.
fn versions_write(args: &[String], op: VersionsOp) -> i32 {
    let (set, help, verb, style, v1_error) = match op {
        VersionsOp::Undelete => (
            kv_undelete_flags(),
            KV_UNDELETE_HELP,
            "undelete",
            PathStyle::Undelete,
            "Undelete not supported on KV Version 1",
        ),
        VersionsOp::Destroy => (
            kv_destroy_flags(),
            KV_DESTROY_HELP,
            "destroy",
            PathStyle::Sanitized,
            "Destroy not supported on KV Version 1",
        ),
    };
    let (flags, ui) = match parse_kv(set, help, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    if flags.strings("versions").is_empty() {
        ui.error(&format!(
            "No versions provided, use the \"-versions\" flag to specify the version to {verb}."
        ));
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, style) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error(v1_error);
        return 1;
    }
    let path = target.v2_path(verb);
    let body = json!({"versions": parse_versions(flags.strings("versions"))});
    write_output(&ui, &flags, &path, client.put(&path, &body))
}

fn rollback(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_rollback_flags(), KV_ROLLBACK_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let args = flags.args();
    if args.len() != 1 {
        ui.error(&format!(
            "Invalid number of arguments (expected 1, got {})",
            args.len()
        ));
        return 1;
    }
    if !flags.is_set("version") {
        ui.error("Version flag must be specified");
        return 1;
    }
    let version = flags.int("version");
    if version <= 0 {
        ui.error(&format!("Invalid value {version} for the version flag"));
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &args[0], PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error("K/V engine mount must be version 2 for rollback support");
        return 2;
    }
    let full_path = target.v2_path("data");
    let current = match rollback_read(&client, &full_path, None) {
        Ok(secret) => secret,
        Err(message) => {
            ui.error(&message);
            return 2;
        }
    };
    let cas = match metadata_of(&current, &full_path, "rollback") {
        Ok(metadata) => metadata.get("version").cloned().unwrap_or(Value::Null),
        Err(message) => {
            ui.error(&message);
            return 2;
        }
    };
    let old = match rollback_read(&client, &full_path, Some(version)) {
        Ok(secret) => secret,
        Err(message) => {
            ui.error(&message);
            return 2;
        }
    };
    let data = match rollback_data(&old, &full_path) {
        Ok(data) => data,
        Err(message) => {
            ui.error(&message);
            return 2;
        }
    };
    let body = json!({"data": Value::Object(data), "options": {"cas": cas}});
    let secret = match logical_write(client.put(&full_path, &body)) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            if ui.is_table() {
                ui.output(&format!("Success! Data written to: {full_path}"));
            }
            return 0;
        }
        Err((error, _)) => {
            ui.error(&format!("Error writing data to {full_path}: {error}"));
            return 2;
        }
    };
    let field = field_flag(&flags);
    if !field.is_empty() {
        return ui.print_raw_field(&secret, field);
    }
    ui.output_secret(&secret)
}

/// The data of the version to roll back to; deleted or destroyed versions are refused.
fn rollback_data(secret: &Secret, path: &str) -> Result<Map<String, Value>, String> {
    let metadata = metadata_of(secret, path, "rollback")?;
    if let Some(Value::String(time)) = metadata.get("deletion_time")
        && !time.is_empty()
    {
        return Err("Cannot roll back to a version that has been deleted".to_string());
    }
    if metadata.get("destroyed") == Some(&Value::Bool(true)) {
        return Err("Cannot roll back to a version that has been destroyed".to_string());
    }
    current_version(secret, path, "rollback").map(|(_, data)| data)
}

fn rollback_read(client: &Client, path: &str, version: Option<i64>) -> Result<Secret, String> {
    let query: Vec<(String, String)> = version
        .map(|v| vec![("version".to_string(), v.to_string())])
        .unwrap_or_default();
    let result = client.send(&super::client::Request {
        method: "GET",
        path,
        query: &query,
        body: None,
        content_type: None,
    });
    match logical(result) {
        Ok(Some(secret)) if secret.data.is_some() => Ok(secret),
        Ok(_) => Err(format!("No value found at {path}")),
        Err(error) => Err(format!("Error doing pre-read at {path}: {error}")),
    }
}

fn metadata_get(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_metadata_get_flags(), KV_METADATA_GET_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error("Metadata not supported on KV Version 1");
        return 1;
    }
    let full_path = target.v2_path("metadata");
    let mut secret = match logical(client.get(&full_path)) {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            ui.error(&format!("No value found at {full_path}"));
            return 2;
        }
        Err(error) => {
            ui.error(&format!("Error reading {full_path}: {error}"));
            return 2;
        }
    };
    if secret.wrap_info.is_some() || format_flag(&flags) != "table" {
        return ui.output_secret(&secret);
    }
    let versions = match secret
        .data
        .as_mut()
        .and_then(|data| data.remove("versions"))
    {
        Some(Value::Object(versions)) => versions,
        _ => {
            ui.error(&format!("No value found at {full_path}"));
            ui.output_secret(&secret);
            return 2;
        }
    };
    output_path(&ui, &full_path, "Metadata Path");
    let metadata = secret.data.clone().unwrap_or_default();
    ui.output(&header_for_map("Metadata", &metadata));
    ui.output_secret(&secret);
    let mut numbers = Vec::with_capacity(versions.len());
    for key in versions.keys() {
        match key.parse::<i64>() {
            Ok(number) => numbers.push(number),
            Err(_) => {
                ui.error(&format!("Error parsing version {key}"));
                return 2;
            }
        }
    }
    numbers.sort_unstable();
    for number in numbers {
        let version = match versions.get(&number.to_string()) {
            Some(Value::Object(version)) => version.clone(),
            _ => Map::new(),
        };
        ui.output(&format!(
            "\n{}",
            header_for_map(&format!("Version {number}"), &version)
        ));
        ui.output_map(&version);
    }
    0
}

/// Go's `time.Duration.String()` of whole seconds (`1h0m0s`, `30s`, `0s`).
fn go_duration_string(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let (hours, minutes, secs) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if hours > 0 {
        return format!("{hours}h{minutes}m{secs}s");
    }
    if minutes > 0 {
        return format!("{minutes}m{secs}s");
    }
    format!("{secs}s")
}

/// `kv metadata put` (POST) and `kv metadata patch` (JSON merge patch).
fn metadata_write(args: &[String], patch: bool) -> i32 {
    let (set, help) = if patch {
        (kv_metadata_patch_flags(), KV_METADATA_PATCH_HELP)
    } else {
        (kv_metadata_put_flags(), KV_METADATA_PUT_HELP)
    };
    let (flags, ui) = match parse_kv(set, help, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error("Metadata not supported on KV Version 1");
        return 1;
    }
    let full_path = target.v2_path("metadata");
    let body = metadata_body(&flags, patch);
    let result = if patch {
        client.merge_patch(&full_path, &body)
    } else {
        client.put(&full_path, &body)
    };
    write_output(&ui, &flags, &full_path, result)
}

/// The body `kv metadata put|patch` sends: only the settings given on the command line
/// (`custom_metadata` always on patch, with removed keys as `null`).
fn metadata_body(flags: &Flags, patch: bool) -> Value {
    let mut data = Map::new();
    if flags.int("max-versions") >= 0 {
        data.insert(
            "max_versions".to_string(),
            Value::from(flags.int("max-versions")),
        );
    }
    if flags.is_set("delete-version-after") {
        let after = go_duration_string(flags.duration_seconds("delete-version-after"));
        data.insert("delete_version_after".to_string(), Value::from(after));
    }
    if flags.is_set("cas-required") {
        data.insert(
            "cas_required".to_string(),
            Value::from(flags.bool("cas-required")),
        );
    }
    let mut custom: Map<String, Value> = flags
        .map("custom-metadata")
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.clone())))
        .collect();
    if patch {
        for key in flags.strings("remove-custom-metadata") {
            custom.insert(key.clone(), Value::Null);
        }
        data.insert("custom_metadata".to_string(), Value::Object(custom));
    } else if !custom.is_empty() {
        data.insert("custom_metadata".to_string(), Value::Object(custom));
    }
    Value::Object(data)
}

fn metadata_delete(args: &[String]) -> i32 {
    let (flags, ui) = match parse_kv(kv_metadata_delete_flags(), KV_METADATA_DELETE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let arg = match one_arg(&ui, &flags) {
        Ok(arg) => arg,
        Err(code) => return code,
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let target = match resolve(&client, &ui, &flags, &arg, PathStyle::Sanitized) {
        Ok(target) => target,
        Err(code) => return code,
    };
    if !target.v2 {
        ui.error("Metadata not supported on KV Version 1");
        return 1;
    }
    let full_path = target.v2_path("metadata");
    if let Err((error, secret)) = logical_write(client.delete(&full_path)) {
        ui.error(&format!("Error deleting {full_path}: {error}"));
        if let Some(secret) = secret {
            ui.output_secret(&secret);
        }
        return 2;
    }
    ui.output(&format!(
        "Success! Data deleted (if it existed) at: {full_path}"
    ));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_paths_insert_the_prefix_after_the_mount() {
        let cases = [
            ("secret/foo", "secret/", "data", "secret/data/foo"),
            ("secret", "secret/", "data", "secret/data"),
            ("secret/", "secret/", "metadata", "secret/metadata"),
            ("secret/a/b", "secret/", "metadata", "secret/metadata/a/b"),
            (
                "kv/nested/mount/x",
                "kv/nested/mount/",
                "data",
                "kv/nested/mount/data/x",
            ),
        ];
        for (path, mount, prefix, expected) in cases {
            assert_eq!(
                add_prefix_to_kv_path(path, mount, prefix),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn path_join_cleans_like_go() {
        assert_eq!(go_path_join(&["secret/", "foo"]), "secret/foo");
        assert_eq!(go_path_join(&["secret/", ""]), "secret");
        assert_eq!(go_path_join(&["", ""]), "");
        assert_eq!(go_path_join(&["a", "..", ".."]), "..");
        assert_eq!(go_path_join(&["a//b/", "./c/"]), "a/b/c");
    }

    #[test]
    fn headers_match_bao() {
        // `bao kv get secret/foo` with data {"foo":"bar"}: the path header is as long as the
        // path, the map headers as wide as their table.
        assert_eq!(
            pad_equal_signs("Secret Path", "secret/data/foo".len()),
            "= Secret Path ="
        );
        let metadata: Map<String, Value> = serde_json::from_value(json!({
            "created_time": "", "custom_metadata": null, "deletion_time": "",
            "destroyed": false, "version": 1}))
        .unwrap();
        assert_eq!(
            header_for_map("Metadata", &metadata),
            "======= Metadata ======="
        );
        let data: Map<String, Value> = serde_json::from_value(json!({"foo": "bar"})).unwrap();
        assert_eq!(header_for_map("Data", &data), "=== Data ===");
    }

    #[test]
    fn versions_and_durations_format_like_go() {
        let values = vec!["1,2".to_string(), " 3 ".to_string(), ",".to_string()];
        assert_eq!(parse_versions(&values), vec!["1", "2", "3"]);
        assert_eq!(go_duration_string(0), "0s");
        assert_eq!(go_duration_string(3600), "1h0m0s");
        assert_eq!(go_duration_string(12319), "3h25m19s");
        assert_eq!(go_duration_string(90), "1m30s");
    }
}
