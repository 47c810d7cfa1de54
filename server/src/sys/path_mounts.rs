//! `sys/mounts`, `sys/auth` and their `tune` paths, `sys/remount` (MNT-*, AUTH-*).

use super::NoFields;
use crate::core::Core;
use crate::mounts::{MountEntry, MountTableKind, sanitize_path};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("mounts")
            .read(list_secrets)
            .help("List the mounted secrets engines."),
        Path::new("mounts/{*path}")
            .read(read_secrets_mount)
            .write(write_secrets_mount)
            .delete(delete_secrets_mount)
            .help("Enable, read, tune or disable a secrets engine."),
        Path::new("auth")
            .read(list_auth)
            .help("List the enabled auth methods."),
        Path::new("auth/{*path}")
            .read(read_auth_mount)
            .write(write_auth_mount)
            .delete(delete_auth_mount)
            .help("Enable, read, tune or disable an auth method."),
        Path::new("remount")
            .write(write_remount)
            .help("Move a mount to a new path."),
        Path::new("remount/status/{migration_id}")
            .read(read_remount_status)
            .help("The status of a mount move."),
    ]
}

/// A mount as `sys/mounts` shows it (MNT-01); `path` only for `sys/internal/ui/mounts/<p>`.
#[derive(Serialize)]
pub struct MountOutput {
    accessor: String,
    config: MountConfigOutput,
    description: String,
    external_entropy_access: bool,
    local: bool,
    options: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deprecation_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    plugin_version: &'static str,
    running_plugin_version: String,
    running_sha256: &'static str,
    seal_wrap: bool,
    #[serde(rename = "type")]
    mount_type: String,
    uuid: String,
}

#[derive(Serialize)]
struct MountConfigOutput {
    default_lease_ttl: u64,
    force_no_cache: bool,
    max_lease_ttl: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    listing_visibility: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    passthrough_request_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_response_headers: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    token_type: String,
}

impl MountOutput {
    pub fn of(entry: &MountEntry) -> MountOutput {
        MountOutput {
            accessor: entry.accessor.clone(),
            config: MountConfigOutput {
                default_lease_ttl: entry.config.default_lease_ttl,
                force_no_cache: entry.config.force_no_cache,
                max_lease_ttl: entry.config.max_lease_ttl,
                listing_visibility: entry.config.listing_visibility.clone(),
                passthrough_request_headers: entry.config.passthrough_request_headers.clone(),
                allowed_response_headers: entry.config.allowed_response_headers.clone(),
                token_type: entry.config.token_type.clone(),
            },
            description: entry.description.clone(),
            external_entropy_access: entry.external_entropy_access,
            local: entry.local,
            options: entry.options.clone(),
            // Builtin engines with a deprecation lifecycle report it (the reference shows it
            // for KV).
            deprecation_status: matches!(entry.mount_type.as_str(), "kv" | "generic")
                .then_some("supported"),
            path: None,
            plugin_version: "",
            running_plugin_version: format!("v{}+builtin.tresor", crate::core::VERSION),
            running_sha256: "",
            seal_wrap: entry.seal_wrap,
            mount_type: entry.mount_type.clone(),
            uuid: entry.uuid.clone(),
        }
    }
}

fn list_table(core: &Core, kind: MountTableKind) -> Result<Reply, Error> {
    let mounts: BTreeMap<String, MountOutput> = core
        .routes()
        .entries(kind)
        .iter()
        .map(|entry| (entry.path.clone(), MountOutput::of(entry)))
        .collect();
    Ok(Reply::data(mounts)?.injected())
}

async fn list_secrets(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    list_table(&core, MountTableKind::Secrets)
}

async fn list_auth(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    list_table(&core, MountTableKind::Auth)
}

/// Splits `secret/tune` into (`secret/`, true).
fn tune_target(path: &str) -> (String, bool) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.strip_suffix("/tune") {
        Some(mount) => (sanitize_path(mount), true),
        None => (sanitize_path(trimmed), false),
    }
}

fn find(core: &Core, kind: MountTableKind, path: &str) -> Result<MountEntry, Error> {
    core.routes()
        .find(kind, path)
        .map(|mounted| mounted.entry.clone())
        .ok_or_else(|| Error::invalid(format!("cannot fetch sysview for path \"{path}\"")))
}

/// `sys/mounts/auth/<p>` addresses the auth table (the CLI's `auth tune` uses it).
fn table_for(kind: MountTableKind, path: &str) -> (MountTableKind, &str) {
    match (kind, path.strip_prefix("auth/")) {
        (MountTableKind::Secrets, Some(rest)) => (MountTableKind::Auth, rest),
        _ => (kind, path),
    }
}

async fn read_mount(core: &Core, kind: MountTableKind, path: &str) -> Result<Reply, Error> {
    let (kind, path) = table_for(kind, path);
    let (path, tune) = tune_target(path);
    let entry = find(core, kind, &path)?;
    if !tune {
        return Ok(Reply::data(MountOutput::of(&entry))?.injected());
    }
    let context_default = if entry.config.default_lease_ttl == 0 {
        core.settings.default_lease_ttl_seconds
    } else {
        entry.config.default_lease_ttl
    };
    let context_max = if entry.config.max_lease_ttl == 0 {
        core.settings.max_lease_ttl_seconds
    } else {
        entry.config.max_lease_ttl
    };
    let mut data = Map::new();
    data.insert("default_lease_ttl".into(), Value::from(context_default));
    data.insert("max_lease_ttl".into(), Value::from(context_max));
    data.insert(
        "force_no_cache".into(),
        Value::from(entry.config.force_no_cache),
    );
    data.insert("description".into(), Value::from(entry.description.clone()));
    if let Some(options) = &entry.options {
        data.insert(
            "options".into(),
            serde_json::to_value(options).unwrap_or(Value::Null),
        );
    }
    if !entry.config.listing_visibility.is_empty() {
        data.insert(
            "listing_visibility".into(),
            Value::from(entry.config.listing_visibility.clone()),
        );
    }
    if kind == MountTableKind::Auth {
        data.insert(
            "token_type".into(),
            Value::from(entry.config.token_type.clone()),
        );
    }
    Ok(Reply::data(data)?.injected())
}

async fn read_secrets_mount(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    read_mount(&core, MountTableKind::Secrets, input.captures.get("path")).await
}

async fn read_auth_mount(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    read_mount(&core, MountTableKind::Auth, input.captures.get("path")).await
}

/// A mount TTL: seconds, a duration, or `system` (= 0, inherit).
fn ttl_field(value: Option<&Value>) -> Result<Option<u64>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text == "system" => Ok(Some(0)),
        Some(Value::String(text)) => loose::parse_duration_seconds(text)
            .map(Some)
            .map_err(Error::invalid),
        Some(Value::Number(number)) => number
            .to_string()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| Error::invalid(format!("invalid duration {number}"))),
        Some(_) => Err(Error::invalid("invalid duration")),
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(text)) => text
            .split(',')
            .map(|item| item.trim().to_string())
            .filter(|item| !item.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn string_map(value: Option<&Value>) -> Option<BTreeMap<String, String>> {
    match value {
        Some(Value::Object(map)) => Some(
            map.iter()
                .map(|(key, value)| {
                    (
                        key.clone(),
                        value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string()),
                    )
                })
                .collect(),
        ),
        _ => None,
    }
}

#[derive(Deserialize)]
struct MountFields {
    #[serde(rename = "type", default, deserialize_with = "loose::string")]
    mount_type: String,
    #[serde(default, deserialize_with = "loose::string")]
    description: String,
    #[serde(default)]
    config: Option<Map<String, Value>>,
    #[serde(default)]
    options: Option<Value>,
    #[serde(default, deserialize_with = "loose::bool")]
    local: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    seal_wrap: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    external_entropy_access: bool,
    #[serde(default, deserialize_with = "loose::string")]
    plugin_name: String,
}

/// Builds and validates a new entry from `POST sys/mounts/<path>` or `sys/auth/<path>`.
fn new_entry(kind: MountTableKind, path: &str, fields: MountFields) -> Result<MountEntry, Error> {
    let requested_type = if fields.mount_type.is_empty() {
        fields.plugin_name.clone()
    } else {
        fields.mount_type.clone()
    };
    if requested_type.is_empty() {
        return Err(Error::invalid(match kind {
            MountTableKind::Secrets => "backend type must be specified as a string",
            MountTableKind::Auth => "backend type must be specified as a string",
        }));
    }
    let mut options = string_map(fields.options.as_ref());
    // MNT-03 aliases.
    let mount_type = match requested_type.as_str() {
        "kv-v2" => {
            options
                .get_or_insert_with(BTreeMap::new)
                .insert("version".into(), "2".into());
            "kv".to_string()
        }
        "kv-v1" => {
            options
                .get_or_insert_with(BTreeMap::new)
                .insert("version".into(), "1".into());
            "kv".to_string()
        }
        other => other.to_string(),
    };
    if !matches!(mount_type.as_str(), "kv" | "generic")
        && options
            .as_ref()
            .is_some_and(|options| options.contains_key("version"))
    {
        return Err(Error::invalid(format!(
            "secrets engine \"{mount_type}\" does not allow setting a version"
        )));
    }
    let mut entry = MountEntry::new(kind, path, &mount_type, &fields.description);
    entry.options = options;
    entry.local = fields.local;
    entry.seal_wrap = fields.seal_wrap;
    entry.external_entropy_access = fields.external_entropy_access;
    if kind == MountTableKind::Auth {
        entry.config.token_type = "default-service".to_string();
    }
    if let Some(config) = &fields.config {
        apply_config(&mut entry, config, kind)?;
    }
    Ok(entry)
}

/// Applies `config` (mount) or tune fields to an entry; TTLs are checked against each other.
fn apply_config(
    entry: &mut MountEntry,
    config: &Map<String, Value>,
    kind: MountTableKind,
) -> Result<(), Error> {
    if let Some(ttl) = ttl_field(config.get("default_lease_ttl"))? {
        entry.config.default_lease_ttl = ttl;
    }
    if let Some(ttl) = ttl_field(config.get("max_lease_ttl"))? {
        entry.config.max_lease_ttl = ttl;
    }
    if entry.config.max_lease_ttl != 0
        && entry.config.default_lease_ttl > entry.config.max_lease_ttl
    {
        return Err(Error::invalid(format!(
            "backend max lease TTL of {} would be less than backend default lease TTL of {}",
            entry.config.max_lease_ttl, entry.config.default_lease_ttl
        )));
    }
    if let Some(Value::Bool(flag)) = config.get("force_no_cache") {
        entry.config.force_no_cache = *flag;
    }
    if let Some(visibility) = config.get("listing_visibility").and_then(Value::as_str) {
        if !matches!(visibility, "" | "unauth" | "hidden") {
            return Err(Error::invalid(format!(
                "invalid listing_visibility {visibility}"
            )));
        }
        entry.config.listing_visibility = visibility.to_string();
    }
    for (field, target) in [
        (
            "passthrough_request_headers",
            &mut entry.config.passthrough_request_headers,
        ),
        (
            "allowed_response_headers",
            &mut entry.config.allowed_response_headers,
        ),
        (
            "audit_non_hmac_request_keys",
            &mut entry.config.audit_non_hmac_request_keys,
        ),
        (
            "audit_non_hmac_response_keys",
            &mut entry.config.audit_non_hmac_response_keys,
        ),
    ] {
        if config.contains_key(field) {
            *target = string_list(config.get(field));
        }
    }
    if let Some(token_type) = config.get("token_type").and_then(Value::as_str) {
        if kind != MountTableKind::Auth {
            return Err(Error::invalid(
                "'token_type' can only be modified on auth mounts",
            ));
        }
        let token_type = if token_type.is_empty() {
            "default-service"
        } else {
            token_type
        };
        if !matches!(
            token_type,
            "default-service" | "default-batch" | "service" | "batch"
        ) {
            return Err(Error::invalid("invalid value for 'token_type'"));
        }
        entry.config.token_type = token_type.to_string();
    }
    Ok(())
}

async fn write_mount(
    core: &Core,
    kind: MountTableKind,
    path: &str,
    data: Map<String, Value>,
) -> Result<Reply, Error> {
    let (table, tune_path) = table_for(kind, path);
    let (tune_path, tune) = tune_target(tune_path);
    if tune {
        return tune_mount(core, table, &tune_path, data).await;
    }
    let (path, _) = tune_target(path);
    let fields: MountFields = serde_json::from_value(Value::Object(data))
        .map_err(|error| Error::invalid(error.to_string()))?;
    let entry = new_entry(kind, &path, fields)?;
    core.mount(entry).await?;
    Ok(Reply::NoContent)
}

/// MNT-08 / AUTH-04: tune TTLs, description, options (KV v1 → v2 upgrade), visibility...
async fn tune_mount(
    core: &Core,
    kind: MountTableKind,
    path: &str,
    data: Map<String, Value>,
) -> Result<Reply, Error> {
    if kind == MountTableKind::Secrets && ["cubbyhole/", "sys/", "identity/"].contains(&path) {
        let parameter = TUNABLE_FIELDS
            .iter()
            .find(|field| data.contains_key(**field))
            .unwrap_or(&"default_lease_ttl");
        return Err(Error::invalid(format!(
            "cannot tune parameter {parameter} of {path}"
        )));
    }
    let mut entry = find(core, kind, path)?;
    apply_config(&mut entry, &data, kind)?;
    if let Some(description) = data.get("description").and_then(Value::as_str) {
        entry.description = description.to_string();
    }
    let mut warnings = Vec::new();
    let mut upgrade = false;
    if let Some(new_options) = string_map(data.get("options")) {
        let old_version = entry
            .options
            .as_ref()
            .and_then(|options| options.get("version"))
            .cloned()
            .unwrap_or_default();
        let mut merged = entry.options.clone().unwrap_or_default();
        for (key, value) in new_options {
            merged.insert(key, value);
        }
        let new_version = merged.get("version").cloned().unwrap_or_default();
        if new_version != old_version && matches!(entry.mount_type.as_str(), "kv" | "generic") {
            match (old_version.as_str(), new_version.as_str()) {
                ("" | "1", "2") => {
                    upgrade = true;
                    warnings.push("Upgrading mount from version 1 to version 2. This mount will be unavailable for a brief period and will resume service shortly.".to_string());
                }
                ("2", _) => return Err(Error::invalid("cannot downgrade mount from version 2")),
                _ => return Err(Error::invalid(format!("invalid version {new_version}"))),
            }
        } else if new_version != old_version {
            return Err(Error::invalid(format!(
                "secrets engine \"{}\" does not allow setting a version",
                entry.mount_type
            )));
        }
        entry.options = Some(merged);
    }
    match upgrade {
        true => core.upgrade_kv(entry).await?,
        false => core.update_mount(entry).await?,
    }
    Ok(Reply::no_content_or_warnings(warnings))
}

async fn write_secrets_mount(
    core: Arc<Core>,
    input: Input<Map<String, Value>>,
) -> Result<Reply, Error> {
    write_mount(
        &core,
        MountTableKind::Secrets,
        input.captures.get("path"),
        input.request.data,
    )
    .await
}

async fn write_auth_mount(
    core: Arc<Core>,
    input: Input<Map<String, Value>>,
) -> Result<Reply, Error> {
    write_mount(
        &core,
        MountTableKind::Auth,
        input.captures.get("path"),
        input.request.data,
    )
    .await
}

async fn delete_secrets_mount(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    core.unmount(
        MountTableKind::Secrets,
        &sanitize_path(input.captures.get("path")),
    )
    .await?;
    Ok(Reply::NoContent)
}

async fn delete_auth_mount(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    core.unmount(
        MountTableKind::Auth,
        &sanitize_path(input.captures.get("path")),
    )
    .await?;
    Ok(Reply::NoContent)
}

#[derive(Deserialize)]
struct RemountFields {
    #[serde(default, deserialize_with = "loose::string")]
    from: String,
    #[serde(default, deserialize_with = "loose::string")]
    to: String,
}

#[derive(Serialize)]
struct RemountReply {
    migration_id: String,
}

/// `sys/remount` (MNT-09): done synchronously; the migration id is returned for clients
/// that poll `sys/remount/status`.
async fn write_remount(core: Arc<Core>, input: Input<RemountFields>) -> Result<Reply, Error> {
    let (from, to) = (input.fields.from, input.fields.to);
    if from.is_empty() || to.is_empty() {
        return Err(Error::invalid(
            "both 'from' and 'to' path must be specified as a string",
        ));
    }
    let (kind, from, to) = match (from.strip_prefix("auth/"), to.strip_prefix("auth/")) {
        (Some(from), Some(to)) => (MountTableKind::Auth, sanitize_path(from), sanitize_path(to)),
        (None, None) => (
            MountTableKind::Secrets,
            sanitize_path(&from),
            sanitize_path(&to),
        ),
        _ => {
            return Err(Error::invalid(
                "cannot remount between secrets engines and auth methods",
            ));
        }
    };
    let source_mount = if kind == MountTableKind::Auth {
        format!("auth/{from}")
    } else {
        from.clone()
    };
    let target_mount = if kind == MountTableKind::Auth {
        format!("auth/{to}")
    } else {
        to.clone()
    };
    let outcome = core.remount(kind, &from, &to).await;
    let migration_id = uuid::Uuid::new_v4().to_string();
    let status = if outcome.is_ok() {
        "success"
    } else {
        "failure"
    };
    record_migration(
        &migration_id,
        MigrationInfo {
            source_mount,
            target_mount,
            status,
        },
    );
    outcome?;
    Ok(Reply::data(RemountReply { migration_id })?
        .injected()
        .with_warning("Mount move has been queued. Progress will be reported in Vault's server log, tagged with the returned migration_id"))
}

/// Fields a tune may carry, in the order Vault names them when refusing one.
const TUNABLE_FIELDS: &[&str] = &[
    "default_lease_ttl",
    "max_lease_ttl",
    "description",
    "options",
    "listing_visibility",
    "audit_non_hmac_request_keys",
    "audit_non_hmac_response_keys",
    "passthrough_request_headers",
    "allowed_response_headers",
    "token_type",
];

/// Remembered moves, for `sys/remount/status/<id>`. Vault keeps them in memory too; the
/// map is bounded (oldest dropped).
static MIGRATIONS: std::sync::Mutex<Vec<(String, MigrationInfo)>> =
    std::sync::Mutex::new(Vec::new());
const MIGRATIONS_REMEMBERED_MAX: usize = 256;

#[derive(Clone, Serialize)]
struct MigrationInfo {
    source_mount: String,
    target_mount: String,
    status: &'static str,
}

fn record_migration(migration_id: &str, info: MigrationInfo) {
    let mut migrations = MIGRATIONS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if migrations.len() >= MIGRATIONS_REMEMBERED_MAX {
        migrations.remove(0);
    }
    migrations.push((migration_id.to_string(), info));
}

#[derive(Deserialize)]
struct MigrationId {
    migration_id: String,
}

#[derive(Serialize)]
struct MigrationStatus {
    migration_id: String,
    migration_info: MigrationInfo,
}

/// `GET sys/remount/status/<id>` (MNT-09).
async fn read_remount_status(_core: Arc<Core>, input: Input<MigrationId>) -> Result<Reply, Error> {
    let migrations = MIGRATIONS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some((_, info)) = migrations
        .iter()
        .find(|(id, _)| *id == input.fields.migration_id)
    else {
        return Err(Error::not_found());
    };
    Reply::data(MigrationStatus {
        migration_id: input.fields.migration_id.clone(),
        migration_info: info.clone(),
    })
}
