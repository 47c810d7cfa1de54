//! `vault login` (token method) and `vault token create | lookup | renew | revoke |
//! capabilities`, after Vault 1.14's `command/login.go`, `command/token_*.go` and
//! `builtin/credential/token/cli.go`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::format::wrap_at_length;
use super::generic::field_flag;
use super::kvargs::parse_args_data_string;
use super::secret::{Secret, SecretAuth};
use super::specs::*;
use super::{
    Client, ClientError, Parsed, Ui, group_help, not_enough_arguments, parse, too_many_arguments,
};
use crate::flags::Flags;

pub(crate) fn run(args: &[String]) -> i32 {
    let Some(sub) = args.first() else {
        return group_help(TOKEN_GROUP_HELP, args);
    };
    let rest = &args[1..];
    match sub.as_str() {
        "create" => create(rest),
        "lookup" => lookup(rest),
        "renew" => renew(rest),
        "revoke" => revoke(rest),
        "capabilities" => capabilities(rest),
        _ => group_help(TOKEN_GROUP_HELP, args),
    }
}

fn parsed(set: crate::flags::FlagSet, help: &str, args: &[String]) -> Result<(Flags, Ui), i32> {
    match parse(&set, help, args) {
        Parsed::Run(flags, ui) => Ok((flags, ui)),
        Parsed::Exit(code) => Err(code),
    }
}

/// A request's secret, as the Go client's token helpers return it (errors pass through).
fn secret_of(result: Result<super::Response, ClientError>) -> Result<Option<Secret>, ClientError> {
    result.and_then(|response| Secret::parse(&response))
}

/// Prints a token command's secret; a 204 prints nothing, as Go's nil secret does.
fn output(ui: &Ui, secret: Option<Secret>) -> i32 {
    match secret {
        Some(secret) => ui.output_secret(&secret),
        None => 0,
    }
}

pub(crate) fn login(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(login_flags(), LOGIN_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let token_only = flags.bool("token-only");
    let no_store = flags.bool("no-store") || token_only;
    let no_print = flags.bool("no-print");
    let field = if token_only {
        "token".to_string()
    } else {
        flags.string("field").to_string()
    };
    if no_store && no_print {
        ui.error(&wrap_at_length(
            "-no-store and -no-print cannot be used together",
        ));
        return 1;
    }
    let method = match super::sanitize_path(flags.string("method")).as_str() {
        "" => "token".to_string(),
        other => other.to_string(),
    };
    if method != "token" {
        ui.error(&wrap_at_length(&format!(
            "Unknown auth method: {method}. Use \"vault auth list\" to see the complete list of \
             auth methods. Additionally, some auth methods are only available via the HTTP API."
        )));
        return 1;
    }
    let mut args = flags.args().to_vec();
    if let Some(first) = args.first_mut()
        && !first.contains('=')
    {
        *first = format!("token={first}");
    }
    let config = match parse_args_data_string(&mut super::stdin(), &args) {
        Ok(config) => config,
        Err(error) => {
            ui.error(&format!("Error parsing configuration: {error}"));
            return 1;
        }
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let secret = match token_auth(&client, &config) {
        Ok(secret) => secret,
        Err(error) => {
            ui.error(&format!("Error authenticating: {error}"));
            return 2;
        }
    };
    let token = secret
        .auth
        .as_ref()
        .map(|auth| auth.client_token.clone())
        .unwrap_or_default();
    if !no_store {
        if let Err(error) = store_token(&token) {
            ui.error(&format!("Error storing token: {error}"));
            ui.error(&format!(
                "{}\n",
                wrap_at_length(
                    "Authentication was successful, but the token was not persisted. The \
                     resulting token is shown below for your records."
                )
            ));
            ui.output_secret(&secret);
            return 2;
        }
        warn_about_env_token(&ui);
    } else if !token_only {
        ui.warn(&format!(
            "{}\n",
            wrap_at_length(
                "The token was not stored in token helper. Set the VAULT_TOKEN environment \
                 variable or pass the token below with each request to Vault."
            )
        ));
    }
    if no_print {
        return 0;
    }
    if !field.is_empty() {
        return ui.print_raw_field(&secret, &field);
    }
    if ui.is_table() {
        ui.output(&format!(
            "{}\n",
            wrap_at_length(
                "Success! You are now authenticated. The token information displayed below is \
                 already stored in the token helper. You do NOT need to run \"vault login\" \
                 again. Future Vault requests will automatically use this token."
            )
        ));
    }
    ui.output_secret(&secret)
}

fn warn_about_env_token(ui: &Ui) {
    if std::env::var("VAULT_TOKEN").is_ok_and(|token| !token.is_empty()) {
        ui.warn(&format!(
            "{}\n",
            wrap_at_length(
                "WARNING! The VAULT_TOKEN environment variable is set! The value of this \
                 variable will take precedence; if this is unwanted please unset VAULT_TOKEN or \
                 update its value accordingly."
            )
        ));
    }
}

/// The token auth method's CLI handler: looks the token up (unless `lookup=false`) and builds
/// the auth block `login` prints from `GET auth/token/lookup-self`.
fn token_auth(client: &Client, config: &[(String, String)]) -> Result<Secret, String> {
    let get = |key: &str| {
        config
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let lookup = match get("lookup") {
        None => true,
        Some(raw) => crate::flags::parse_go_bool(&raw)
            .map_err(|e| format!("Failed to parse \"lookup\" as boolean: {e}"))?,
    };
    let token = match get("token") {
        Some(token) => token,
        None => prompt_token()?,
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(
            "a token must be passed to auth, please view the help for more information".to_string(),
        );
    }
    if !lookup {
        return Ok(Secret {
            auth: Some(SecretAuth {
                client_token: token,
                ..SecretAuth::default()
            }),
            ..Secret::default()
        });
    }
    let mut options = client.options.clone();
    options.token = Some(token);
    let client = Client::new(options).map_err(|e| e.to_string())?;
    let looked_up = secret_of(client.get("auth/token/lookup-self"))
        .map_err(|e| format!("error looking up token: {e}"))?
        .ok_or_else(|| "empty response from lookup-self".to_string())?;
    auth_from_lookup(&looked_up)
}

/// Go's `Secret.TokenID/TokenAccessor/TokenPolicies/TokenMetadata/TokenTTL/TokenIsRenewable`
/// over a lookup response.
fn auth_from_lookup(secret: &Secret) -> Result<Secret, String> {
    let string = |key: &str| match secret.data_field(key) {
        Some(Value::String(text)) => Ok(text.clone()),
        None | Some(Value::Null) => Ok(String::new()),
        Some(_) => Err("token found but in the wrong format".to_string()),
    };
    let id = string("id").map_err(|e| format!("error accessing token ID: {e}"))?;
    let accessor =
        string("accessor").map_err(|e| format!("error accessing token accessor: {e}"))?;
    let list = |key: &str| -> Result<Option<Vec<String>>, String> {
        match secret.data_field(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str().map(str::to_string).ok_or_else(|| {
                        format!(
                            "error accessing token policies: unable to convert policy {} to string",
                            super::secret::go_value(item)
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err("error accessing token policies: unable to convert token policies to expected format".to_string()),
        }
    };
    let token_policies = list("policies")?;
    let identity_policies = list("identity_policies")?;
    let policies = match (&token_policies, &identity_policies) {
        (None, None) => None,
        (a, b) => Some(
            a.iter()
                .flatten()
                .chain(b.iter().flatten())
                .cloned()
                .collect(),
        ),
    };
    let metadata = match secret.data_field("metadata").or(secret.data_field("meta")) {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(
            map.iter()
                .map(|(k, v)| match v {
                    Value::String(text) => Ok((k.clone(), text.clone())),
                    other => Err(format!(
                        "error accessing token metadata: unable to convert metadata value {} to string",
                        super::secret::go_value(other)
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => {
            return Err("error accessing token metadata: unable to convert metadata field to expected format".to_string());
        }
    };
    let ttl = match secret.data_field("ttl") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(text)) => crate::config::parse_duration_seconds(text)
            .map_err(|e| format!("error converting token TTL: {e}"))?
            as i64,
        Some(_) => return Err("error converting token TTL: could not parse".to_string()),
    };
    let renewable = match secret.data_field("renewable") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(text)) => crate::flags::parse_go_bool(text).unwrap_or(false),
        _ => false,
    };
    Ok(Secret {
        auth: Some(SecretAuth {
            client_token: id,
            accessor,
            policies,
            token_policies,
            identity_policies,
            metadata,
            lease_duration: ttl,
            renewable,
            ..SecretAuth::default()
        }),
        ..Secret::default()
    })
}

/// `Token (will be hidden): ` on stderr, read without echo; fails outside a terminal.
fn prompt_token() -> Result<String, String> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "Token (will be hidden): ");
    let _ = stderr.flush();
    let stdin = std::io::stdin();
    let result = if stdin.is_terminal() {
        let _echo = super::operator::EchoOff::new();
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map(|_| line.trim_end_matches(['\r', '\n']).to_string())
            .map_err(|e| e.to_string())
    } else {
        Err("file descriptor 0 is not a terminal".to_string())
    };
    let _ = writeln!(stderr);
    result.map_err(|error| {
        format!(
            "An error occurred attempting to ask for a token. The raw error message is shown \
             below, but usually this is because you attempted to pipe a value into the command \
             or you are executing outside of a terminal (tty). If you want to pipe the value, \
             pass \"-\" as the argument to read from stdin. The raw error was: {error}"
        )
    })
}

/// The internal token helper: `~/.vault-token`, written to a temp file and renamed, mode 0600.
fn store_token(token: &str) -> Result<(), String> {
    let home = std::env::var_os("HOME").ok_or_else(|| "$HOME is not set".to_string())?;
    let path = PathBuf::from(home).join(".vault-token");
    let tmp = path.with_file_name(".vault-token.tmp");
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(token.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        e.to_string()
    })
}

fn create(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(token_create_flags(), TOKEN_CREATE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if !flags.args().is_empty() {
        return too_many_arguments(&ui, "0", flags.args().len());
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let body = create_body(&flags);
    let role = flags.string("role");
    let path = if role.is_empty() {
        "auth/token/create".to_string()
    } else {
        format!("auth/token/create/{role}")
    };
    let secret = match secret_of(client.request("POST", &path, Some(&body))) {
        Ok(secret) => secret,
        Err(error) => {
            ui.error(&format!("Error creating token: {error}"));
            return 2;
        }
    };
    let field = field_flag(&flags);
    if !field.is_empty() {
        let Some(secret) = secret else {
            ui.error(&format!("Field {field:?} not present in secret"));
            return 1;
        };
        return ui.print_raw_field(&secret, field);
    }
    output(&ui, secret)
}

/// Go's `api.TokenCreateRequest` as the CLI fills it (durations as Go strings, `0s` included).
fn create_body(flags: &Flags) -> Value {
    let duration = |name: &str| go_duration(flags.duration_seconds(name));
    let renewable = flags.bool("renewable") && flags.string("type") != "batch";
    let mut body = Map::new();
    if !flags.string("id").is_empty() {
        body.insert("id".into(), Value::from(flags.string("id")));
    }
    if !flags.strings("policy").is_empty() {
        body.insert(
            "policies".into(),
            Value::from(flags.strings("policy").to_vec()),
        );
    }
    if !flags.map("metadata").is_empty() {
        body.insert("meta".into(), json!(flags.map("metadata")));
    }
    body.insert("ttl".into(), Value::from(duration("ttl")));
    body.insert(
        "explicit_max_ttl".into(),
        Value::from(duration("explicit-max-ttl")),
    );
    body.insert("period".into(), Value::from(duration("period")));
    if flags.bool("orphan") {
        body.insert("no_parent".into(), Value::Bool(true));
    }
    if flags.bool("no-default-policy") {
        body.insert("no_default_policy".into(), Value::Bool(true));
    }
    body.insert(
        "display_name".into(),
        Value::from(flags.string("display-name")),
    );
    body.insert("num_uses".into(), Value::from(flags.int("use-limit")));
    body.insert("renewable".into(), Value::Bool(renewable));
    body.insert("type".into(), Value::from(flags.string("type")));
    body.insert(
        "entity_alias".into(),
        Value::from(flags.string("entity-alias")),
    );
    Value::Object(body)
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

fn lookup(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(token_lookup_flags(), TOKEN_LOOKUP_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let args = flags.args();
    let accessor = flags.bool("accessor");
    if accessor && args.is_empty() {
        ui.error("Not enough arguments with -accessor (expected 1, got 0)");
        return 1;
    }
    if accessor && args.len() > 1 {
        ui.error(&format!(
            "Too many arguments with -accessor (expected 1, got {})",
            args.len()
        ));
        return 1;
    }
    if args.len() > 1 {
        return too_many_arguments(&ui, "0-1", args.len());
    }
    let token = args
        .first()
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let result = if token.is_empty() {
        client.get("auth/token/lookup-self")
    } else if accessor {
        client.request(
            "POST",
            "auth/token/lookup-accessor",
            Some(&json!({"accessor": token})),
        )
    } else {
        client.request("POST", "auth/token/lookup", Some(&json!({"token": token})))
    };
    match secret_of(result) {
        Ok(secret) => output(&ui, secret),
        Err(error) => {
            ui.error(&format!("Error looking up token: {error}"));
            2
        }
    }
}

fn renew(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(token_renew_flags(), TOKEN_RENEW_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let token = match flags.args() {
        [] => String::new(),
        [token] => token.trim().to_string(),
        more => return too_many_arguments(&ui, "1", more.len()),
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let increment = flags.duration_seconds("increment");
    let result = if token.is_empty() {
        client.put("auth/token/renew-self", &json!({"increment": increment}))
    } else if flags.bool("accessor") {
        let body = json!({"accessor": token, "increment": increment});
        client.request("POST", "auth/token/renew-accessor", Some(&body))
    } else {
        client.put(
            "auth/token/renew",
            &json!({"token": token, "increment": increment}),
        )
    };
    match secret_of(result) {
        Ok(secret) => output(&ui, secret),
        Err(error) => {
            ui.error(&format!("Error renewing token: {error}"));
            2
        }
    }
}

fn revoke(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(token_revoke_flags(), TOKEN_REVOKE_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let args = flags.args();
    let token = args
        .first()
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let (accessor, this, mode) = (
        flags.bool("accessor"),
        flags.bool("self"),
        flags.string("mode"),
    );
    if !matches!(mode, "" | "orphan" | "path") {
        ui.error(&format!("Invalid mode: {mode}"));
        return 1;
    }
    let refusal = match () {
        _ if this && !args.is_empty() => Some(format!(
            "Too many arguments with -self (expected 0, got {})",
            args.len()
        )),
        _ if !this && args.len() > 1 => Some(format!(
            "Too many arguments (expected 1 or -self, got {})",
            args.len()
        )),
        _ if !this && args.is_empty() => Some(format!(
            "Not enough arguments (expected 1 or -self, got {})",
            args.len()
        )),
        _ if this && accessor => Some("Cannot use -self with -accessor!".to_string()),
        _ if this && !mode.is_empty() => Some("Cannot use -self with -mode!".to_string()),
        _ if accessor && mode == "orphan" => {
            Some("Cannot use -accessor with -mode=orphan!".to_string())
        }
        _ if accessor && mode == "path" => {
            Some("Cannot use -accessor with -mode=path!".to_string())
        }
        _ => None,
    };
    if let Some(message) = refusal {
        ui.error(&message);
        return 1;
    }
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let result = match (accessor, this, mode) {
        (false, true, "") => client.request("PUT", "auth/token/revoke-self", None),
        (false, false, "") => client.put("auth/token/revoke", &json!({"token": token})),
        (false, false, "orphan") => {
            client.put("auth/token/revoke-orphan", &json!({"token": token}))
        }
        (false, false, _) => {
            client.request("PUT", &format!("sys/leases/revoke-prefix/{token}"), None)
        }
        _ => client.request(
            "POST",
            "auth/token/revoke-accessor",
            Some(&json!({"accessor": token})),
        ),
    };
    if let Err(error) = result {
        ui.error(&format!("Error revoking token: {error}"));
        return 2;
    }
    ui.output("Success! Revoked token (if it existed)");
    0
}

fn capabilities(args: &[String]) -> i32 {
    let (flags, ui) = match parsed(token_capabilities_flags(), TOKEN_CAPABILITIES_HELP, args) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let (token, path) = match flags.args() {
        [] => return not_enough_arguments(&ui, "1-2", 0),
        [path] => (None, path.clone()),
        [token, path] => (Some(token.clone()), path.clone()),
        more => return too_many_arguments(&ui, "1-2", more.len()),
    };
    let Some(client) = super::client(&flags, &ui) else {
        return 2;
    };
    let own = client.options.token.clone().unwrap_or_default();
    let token = token.unwrap_or_else(|| own.clone());
    let endpoint = if token == own {
        "sys/capabilities-self"
    } else {
        "sys/capabilities"
    };
    let body = json!({"token": token, "path": path});
    let capabilities = match secret_of(client.request("POST", endpoint, Some(&body)))
        .and_then(|secret| capability_list(secret, &path))
    {
        Ok(capabilities) => capabilities,
        Err(error) => {
            ui.error(&format!("Error listing capabilities: {error}"));
            return 2;
        }
    };
    let Some(mut capabilities) = capabilities else {
        ui.error("No capabilities found");
        return 1;
    };
    if ui.is_table() {
        capabilities.sort();
        ui.output(&capabilities.join(", "));
        return 0;
    }
    ui.output_data(&capabilities)
}

/// `data[path]`, else `data.capabilities`, as Go's `Sys().Capabilities` reads them.
fn capability_list(secret: Option<Secret>, path: &str) -> Result<Option<Vec<String>>, ClientError> {
    let Some(data) = secret.and_then(|secret| secret.data) else {
        return Err(ClientError::Decode(
            "data from server response is empty".to_string(),
        ));
    };
    let strings = |value: Option<&Value>| -> Option<Vec<String>> {
        let items = value?.as_array()?;
        Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        )
    };
    let found = strings(data.get(path)).filter(|list| !list.is_empty());
    Ok(found.or_else(|| strings(data.get("capabilities"))))
}
