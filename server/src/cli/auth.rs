//! `vault secrets enable | disable | list | tune` and `vault auth enable | disable | list |
//! tune`, after Vault 1.14's `command/secrets_*.go` and `command/auth_*.go`. Both families
//! share the mount body (`api.MountInput`), the tune body (`api.MountConfigInput`) and the
//! list output (`api.MountOutput`), so they live together, told apart by [`Family`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::format::table_output;
use super::secret::Secret;
use super::specs::*;
use super::{
    ClientError, Parsed, Ui, ensure_trailing_slash, group_help, not_enough_arguments, parse,
    sanitize_path, too_many_arguments,
};
use crate::flags::{FlagSet, Flags};

/// Secrets engines (`sys/mounts`) or auth methods (`sys/auth`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Secrets,
    Auth,
}

pub(crate) fn run_secrets(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(SECRETS_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "enable" => enable(rest, Family::Secrets),
        "disable" => disable(rest, Family::Secrets),
        "list" => list(rest, Family::Secrets),
        "tune" => tune(rest, Family::Secrets),
        _ => group_help(SECRETS_GROUP_HELP, args),
    }
}

pub(crate) fn run_auth(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(AUTH_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "enable" => enable(rest, Family::Auth),
        "disable" => disable(rest, Family::Auth),
        "list" => list(rest, Family::Auth),
        "tune" => tune(rest, Family::Auth),
        _ => group_help(AUTH_GROUP_HELP, args),
    }
}

fn parsed(set: FlagSet, help: &str, args: &[String]) -> Result<(Flags, Ui), i32> {
    match parse(&set, help, args) {
        Parsed::Run(flags, ui) => Ok((flags, ui)),
        Parsed::Exit(code) => Err(code),
    }
}

fn one_arg(ui: &Ui, flags: &Flags) -> Result<String, i32> {
    match flags.args().len() {
        0 => Err(not_enough_arguments(ui, "1", 0)),
        1 => Ok(flags.args()[0].clone()),
        n => Err(too_many_arguments(ui, "1", n)),
    }
}

/// Go's `time.Duration.String()` of whole seconds.
fn go_duration(seconds: u64) -> String {
    let (hours, minutes, secs) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    match (hours, minutes) {
        (0, 0) => format!("{secs}s"),
        (0, _) => format!("{minutes}m{secs}s"),
        _ => format!("{hours}h{minutes}m{secs}s"),
    }
}

/// Go's `ttlToAPI`: zero is "unset" (`""`).
fn ttl_to_api(seconds: u64) -> String {
    if seconds == 0 {
        return String::new();
    }
    go_duration(seconds)
}

/// `-options k=v` plus `-version=N` as `options.version`, or `null` when neither was given.
fn options_value(flags: &Flags) -> Value {
    let mut options: BTreeMap<String, String> = flags.map("options").clone();
    if flags.int("version") > 0 {
        options.insert("version".to_string(), flags.int("version").to_string());
    }
    if options.is_empty() && !flags.is_set("options") {
        return Value::Null;
    }
    json!(options)
}

/// The `api.MountConfigInput` fields that are sent only when their flag was given.
fn visited_config(flags: &Flags, config: &mut Map<String, Value>, family: Family) {
    let lists = [
        ("audit-non-hmac-request-keys", "audit_non_hmac_request_keys"),
        (
            "audit-non-hmac-response-keys",
            "audit_non_hmac_response_keys",
        ),
        ("passthrough-request-headers", "passthrough_request_headers"),
        ("allowed-response-headers", "allowed_response_headers"),
        ("allowed-managed-keys", "allowed_managed_keys"),
    ];
    for (flag, key) in lists {
        if flags.has(flag) && flags.is_set(flag) && !flags.strings(flag).is_empty() {
            config.insert(key.to_string(), Value::from(flags.strings(flag).to_vec()));
        }
    }
    let strings = [
        ("listing-visibility", "listing_visibility"),
        ("token-type", "token_type"),
        ("plugin-version", "plugin_version"),
    ];
    for (flag, key) in strings {
        if flags.has(flag) && flags.is_set(flag) && !flags.string(flag).is_empty() {
            config.insert(key.to_string(), Value::from(flags.string(flag)));
        }
    }
    if family == Family::Auth && flags.has("user-lockout-threshold") {
        let mut lockout = Map::new();
        if flags.is_set("user-lockout-threshold") {
            let threshold = flags.int("user-lockout-threshold").to_string();
            lockout.insert("lockout_threshold".into(), Value::from(threshold));
        }
        for (flag, key) in [
            ("user-lockout-duration", "lockout_duration"),
            (
                "user-lockout-counter-reset-duration",
                "lockout_counter_reset_duration",
            ),
        ] {
            let value = ttl_to_api(flags.duration_seconds(flag));
            if flags.is_set(flag) && !value.is_empty() {
                lockout.insert(key.into(), Value::from(value));
            }
        }
        if flags.is_set("user-lockout-disable") {
            lockout.insert(
                "lockout_disable".into(),
                Value::from(flags.bool("user-lockout-disable")),
            );
        }
        let any = [
            "user-lockout-threshold",
            "user-lockout-duration",
            "user-lockout-counter-reset-duration",
            "user-lockout-disable",
        ]
        .iter()
        .any(|flag| flags.is_set(flag));
        if any {
            config.insert("user_lockout_config".into(), Value::Object(lockout));
        }
    }
}

fn enable(args: &[String], family: Family) -> i32 {
    let (set, help) = match family {
        Family::Secrets => (secrets_enable_flags(), SECRETS_ENABLE_HELP),
        Family::Auth => (auth_enable_flags(), AUTH_ENABLE_HELP),
    };
    let (flags, ui) = match parsed(set, help, args) {
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
    let plugin_name = flags.string("plugin-name");
    let mut kind = arg.trim().to_string();
    if kind == "plugin" {
        kind = plugin_name.to_string();
    }
    let mut path = flags.string("path").to_string();
    if path.is_empty() {
        path = if kind == "plugin" {
            plugin_name.to_string()
        } else {
            kind.clone()
        };
    }
    let path = ensure_trailing_slash(&path);
    let mut config = Map::new();
    config.insert("options".into(), Value::Null);
    let ttl = |name: &str| Value::from(go_duration(flags.duration_seconds(name)));
    config.insert("default_lease_ttl".into(), ttl("default-lease-ttl"));
    config.insert("max_lease_ttl".into(), ttl("max-lease-ttl"));
    let force_no_cache = flags.has("force-no-cache") && flags.bool("force-no-cache");
    config.insert("force_no_cache".into(), Value::Bool(force_no_cache));
    visited_config(&flags, &mut config, family);
    let body = json!({
        "type": kind,
        "description": flags.string("description"),
        "config": Value::Object(config),
        "local": flags.bool("local"),
        "seal_wrap": flags.bool("seal-wrap"),
        "external_entropy_access": flags.bool("external-entropy-access"),
        "options": options_value(&flags),
    });
    let (endpoint, failure) = match family {
        Family::Secrets => (format!("sys/mounts/{path}"), "Error enabling".to_string()),
        Family::Auth => (
            format!("sys/auth/{path}"),
            format!("Error enabling {kind} auth"),
        ),
    };
    if let Err(error) = client.request("POST", &endpoint, Some(&body)) {
        ui.error(&format!("{failure}: {error}"));
        return 2;
    }
    let mut thing = match family {
        Family::Secrets => format!("{kind} secrets engine"),
        Family::Auth => format!("{kind} auth method"),
    };
    if kind == "plugin" {
        thing = format!("{plugin_name} plugin");
    }
    let version = flags.string("plugin-version");
    if !version.is_empty() {
        thing.push_str(&format!(" version {version}"));
    }
    match family {
        Family::Secrets => ui.output(&format!("Success! Enabled the {thing} at: {path}")),
        Family::Auth => ui.output(&format!("Success! Enabled {thing} at: {path}")),
    }
    0
}

fn disable(args: &[String], family: Family) -> i32 {
    let (set, help) = match family {
        Family::Secrets => (secrets_disable_flags(), SECRETS_DISABLE_HELP),
        Family::Auth => (auth_disable_flags(), AUTH_DISABLE_HELP),
    };
    let (flags, ui) = match parsed(set, help, args) {
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
    let path = ensure_trailing_slash(&sanitize_path(&arg));
    let (endpoint, failure, success) = match family {
        Family::Secrets => (
            format!("sys/mounts/{path}"),
            format!("Error disabling secrets engine at {path}"),
            format!("Success! Disabled the secrets engine (if it existed) at: {path}"),
        ),
        Family::Auth => (
            format!("sys/auth/{path}"),
            format!("Error disabling auth method at {path}"),
            format!("Success! Disabled the auth method (if it existed) at: {path}"),
        ),
    };
    if let Err(error) = client.delete(&endpoint) {
        ui.error(&format!("{failure}: {error}"));
        return 2;
    }
    ui.output(&success);
    0
}

fn tune(args: &[String], family: Family) -> i32 {
    let (set, help) = match family {
        Family::Secrets => (secrets_tune_flags(), SECRETS_TUNE_HELP),
        Family::Auth => (auth_tune_flags(), AUTH_TUNE_HELP),
    };
    let (flags, ui) = match parsed(set, help, args) {
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
    let mut config = Map::new();
    config.insert("options".into(), options_value(&flags));
    let ttl = |name: &str| Value::from(ttl_to_api(flags.duration_seconds(name)));
    config.insert("default_lease_ttl".into(), ttl("default-lease-ttl"));
    if flags.is_set("description") {
        config.insert(
            "description".into(),
            Value::from(flags.string("description")),
        );
    }
    config.insert("max_lease_ttl".into(), ttl("max-lease-ttl"));
    config.insert("force_no_cache".into(), Value::Bool(false));
    visited_config(&flags, &mut config, family);
    let path = ensure_trailing_slash(&sanitize_path(&arg));
    let (endpoint, failure, success) = match family {
        Family::Secrets => (
            format!("sys/mounts/{path}/tune"),
            format!("Error tuning secrets engine {path}"),
            format!("Success! Tuned the secrets engine at: {path}"),
        ),
        Family::Auth => (
            format!("sys/mounts/auth/{path}/tune"),
            format!("Error tuning auth method {path}"),
            format!("Success! Tuned the auth method at: {path}"),
        ),
    };
    if let Err(error) = client.request("POST", &endpoint, Some(&Value::Object(config))) {
        ui.error(&format!("{failure}: {error}"));
        return 2;
    }
    ui.output(&success);
    0
}

/// Go's `api.MountOutput` (also `api.AuthMount`), decoded leniently and encoded in Go's field
/// order for `-format=json`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct MountOutput {
    uuid: String,
    #[serde(rename = "type")]
    kind: String,
    description: String,
    accessor: String,
    config: MountConfigOutput,
    options: Option<BTreeMap<String, String>>,
    local: bool,
    seal_wrap: bool,
    external_entropy_access: bool,
    plugin_version: String,
    running_plugin_version: String,
    running_sha256: String,
    deprecation_status: String,
}

/// Go's `api.MountConfigOutput` (`user_lockout_config` never decodes in Vault 1.14's client).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct MountConfigOutput {
    default_lease_ttl: i64,
    max_lease_ttl: i64,
    force_no_cache: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audit_non_hmac_request_keys: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audit_non_hmac_response_keys: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    listing_visibility: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    passthrough_request_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_response_headers: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    token_type: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_managed_keys: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    plugin_name: String,
}

/// mapstructure treats `null` as "leave the zero value"; serde would refuse it.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, item)| !item.is_null())
                .map(|(key, item)| (key, strip_nulls(item)))
                .collect(),
        ),
        other => other,
    }
}

/// `GET sys/mounts` or `GET sys/auth`: `data` as a map of path → mount.
fn list_mounts(
    client: &super::Client,
    family: Family,
) -> Result<BTreeMap<String, MountOutput>, ClientError> {
    let endpoint = match family {
        Family::Secrets => "sys/mounts",
        Family::Auth => "sys/auth",
    };
    let secret = Secret::parse(&client.get(endpoint)?)?;
    let Some(data) = secret.and_then(|secret| secret.data) else {
        return Err(ClientError::Decode(
            "data from server response is empty".to_string(),
        ));
    };
    let mut mounts = BTreeMap::new();
    for (path, mount) in data {
        let mount: MountOutput = serde_json::from_value(strip_nulls(mount))
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        mounts.insert(path, mount);
    }
    Ok(mounts)
}

fn list(args: &[String], family: Family) -> i32 {
    let (set, help) = match family {
        Family::Secrets => (secrets_list_flags(), SECRETS_LIST_HELP),
        Family::Auth => (auth_list_flags(), AUTH_LIST_HELP),
    };
    let (flags, ui) = match parsed(set, help, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if !flags.args().is_empty() {
        return too_many_arguments(&ui, "0", flags.args().len());
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let mounts = match list_mounts(&client, family) {
        Ok(mounts) => mounts,
        Err(error) => {
            let what = match family {
                Family::Secrets => "Error listing secrets engines",
                Family::Auth => "Error listing enabled authentications",
            };
            ui.error(&format!("{what}: {error}"));
            return 2;
        }
    };
    if !ui.is_table() {
        return ui.output_data(&mounts);
    }
    let rows = if flags.bool("detailed") {
        detailed_rows(&mounts, family)
    } else {
        simple_rows(&mounts, family)
    };
    ui.output(&table_output(&rows, "|"));
    0
}

fn simple_rows(mounts: &BTreeMap<String, MountOutput>, family: Family) -> Vec<String> {
    let mut out = vec![match family {
        Family::Secrets => "Path | Type | Accessor | Description".to_string(),
        Family::Auth => "Path | Type | Accessor | Description | Version".to_string(),
    }];
    for (path, mount) in mounts {
        let row = match family {
            Family::Secrets => format!(
                "{path} | {} | {} | {}",
                mount.kind, mount.accessor, mount.description
            ),
            Family::Auth => format!(
                "{path} | {} | {} | {} | {}",
                mount.kind, mount.accessor, mount.description, mount.plugin_version
            ),
        };
        out.push(row);
    }
    out
}

fn detailed_rows(mounts: &BTreeMap<String, MountOutput>, family: Family) -> Vec<String> {
    let third = match family {
        Family::Secrets => "Force No Cache",
        Family::Auth => "Token Type",
    };
    let mut out = vec![format!(
        "Path | Plugin | Accessor | Default TTL | Max TTL | {third} | Replication | Seal Wrap | \
         External Entropy Access | Options | Description | UUID | Version | Running Version | \
         Running SHA256 | Deprecation Status"
    )];
    let ttl = |kind: &str, ttl: i64| match (kind, ttl) {
        ("system" | "cubbyhole", _) => String::new(),
        (_, 0) => "system".to_string(),
        (_, seconds) => seconds.to_string(),
    };
    for (path, mount) in mounts {
        let plugin = if mount.kind == "plugin" {
            &mount.config.plugin_name
        } else {
            &mount.kind
        };
        let column = match family {
            Family::Secrets => mount.config.force_no_cache.to_string(),
            Family::Auth => mount.config.token_type.clone(),
        };
        let replication = if mount.local { "local" } else { "replicated" };
        let options: Vec<String> = mount
            .options
            .iter()
            .flatten()
            .map(|(key, value)| format!("{key}:{value}"))
            .collect();
        out.push(format!(
            "{path} | {plugin} | {} | {} | {} | {column} | {replication} | {} | {} | map[{}] | {} | {} | {} | {} | {} | {}",
            mount.accessor,
            ttl(&mount.kind, mount.config.default_lease_ttl),
            ttl(&mount.kind, mount.config.max_lease_ttl),
            mount.seal_wrap,
            mount.external_entropy_access,
            options.join(" "),
            mount.description,
            mount.uuid,
            mount.plugin_version,
            mount.running_plugin_version,
            mount.running_sha256,
            mount.deprecation_status,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_list_table_matches_bao_dev_server() {
        // Captured from `bao secrets list` against `bao server -dev` (accessors shortened).
        let mounts: BTreeMap<String, MountOutput> = serde_json::from_value(json!({
            "cubbyhole/": {"type": "cubbyhole", "accessor": "cubbyhole_1", "description": "per-token private secret storage", "local": true},
            "identity/": {"type": "identity", "accessor": "identity_2", "description": "identity store"},
            "secret/": {"type": "kv", "accessor": "kv_3", "description": "key/value secret storage", "options": {"version": "2"}},
            "sys/": {"type": "system", "accessor": "system_4", "description": "system endpoints used for control, policy and debugging"}
        }))
        .unwrap();
        let expected = "\
Path          Type         Accessor       Description
----          ----         --------       -----------
cubbyhole/    cubbyhole    cubbyhole_1    per-token private secret storage
identity/     identity     identity_2     identity store
secret/       kv           kv_3           key/value secret storage
sys/          system       system_4       system endpoints used for control, policy and debugging";
        assert_eq!(
            table_output(&simple_rows(&mounts, Family::Secrets), "|"),
            expected
        );
    }

    #[test]
    fn tune_ttls_are_unset_when_zero() {
        assert_eq!(ttl_to_api(0), "");
        assert_eq!(ttl_to_api(3600), "1h0m0s");
        assert_eq!(go_duration(0), "0s");
    }
}
