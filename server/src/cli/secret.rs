//! Vault's `api.Secret` and the ways the CLI prints it (`command/format.go`): the `Key  Value`
//! table with `lease_*`/`refresh_interval`, `token_*` and `wrapping_*` rows, sorted data rows
//! with durations humanised; JSON/YAML of the whole envelope in Go's field order; `-field`.
//!
//! Every command that prints a secret, a map or a list goes through here, so the three renderers
//! (table, JSON, YAML) exist once.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::format::{
    HOPE_DELIM, go_quoted_list, human_duration, table_output, wrap_at_length_with_padding,
};
use super::{ClientError, Response, Ui};

/// Vault's `api.Secret`, decoded as the Go client does (missing fields are zero values) and
/// encoded in its field order; `auth` and `wrap_info` are omitted when absent.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Secret {
    pub request_id: String,
    pub lease_id: String,
    pub lease_duration: i64,
    pub renewable: bool,
    pub data: Option<Map<String, Value>>,
    pub warnings: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<SecretAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrap_info: Option<WrapInfo>,
}

/// Vault's `api.SecretAuth`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct SecretAuth {
    pub client_token: String,
    pub accessor: String,
    pub policies: Option<Vec<String>>,
    pub token_policies: Option<Vec<String>>,
    pub identity_policies: Option<Vec<String>>,
    pub metadata: Option<BTreeMap<String, String>>,
    pub orphan: bool,
    pub entity_id: String,
    pub lease_duration: i64,
    pub renewable: bool,
    pub mfa_requirement: Option<Value>,
}

/// Vault's `api.SecretWrapInfo`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct WrapInfo {
    pub token: String,
    pub accessor: String,
    pub ttl: i64,
    pub creation_time: String,
    pub creation_path: String,
    pub wrapped_accessor: String,
}

impl Secret {
    /// Go's `api.ParseSecret`: an empty body (204) is no secret; a body that is not an
    /// envelope (every envelope field zero) becomes the secret's `data`, unless it only holds
    /// `errors`.
    pub fn parse(response: &Response) -> Result<Option<Secret>, ClientError> {
        Secret::parse_body(&response.body)
    }

    pub fn parse_body(body: &[u8]) -> Result<Option<Secret>, ClientError> {
        if body.is_empty() {
            return Ok(None);
        }
        let decode = |e: serde_json::Error| ClientError::Decode(e.to_string());
        let secret: Secret = serde_json::from_slice(body).map_err(decode)?;
        if secret != Secret::default() {
            return Ok(Some(secret));
        }
        let raw: Map<String, Value> = serde_json::from_slice(body).map_err(decode)?;
        if let Some(errors) = raw.get("errors") {
            if raw.len() == 1 {
                return Ok(None);
            }
            let texts: Vec<String> = errors
                .as_array()
                .map(|items| items.iter().map(go_value).collect())
                .unwrap_or_default();
            return Err(ClientError::Decode(texts.join(" ")));
        }
        Ok(Some(Secret {
            data: (!raw.is_empty()).then_some(raw),
            ..Secret::default()
        }))
    }

    /// `Data[key]`, or `None` when data or the key is absent.
    pub fn data_field(&self, key: &str) -> Option<&Value> {
        self.data.as_ref().and_then(|data| data.get(key))
    }

    pub fn has_data(&self) -> bool {
        self.data.as_ref().is_some_and(|data| !data.is_empty())
    }

    pub fn has_warnings(&self) -> bool {
        self.warnings.as_ref().is_some_and(|w| !w.is_empty())
    }
}

/// A 404 body that Go's `Logical()` helpers still treat as a secret: it carries data or
/// warnings (KV v2 deleted versions, "Invalid path for a versioned K/V" warnings).
fn secret_of_404(error: &ClientError) -> Option<Secret> {
    let ClientError::Api(api) = error else {
        return None;
    };
    if api.status != 404 {
        return None;
    }
    let secret = Secret::parse_body(&api.body).ok()??;
    (secret.has_data() || secret.has_warnings()).then_some(secret)
}

fn is_404(error: &ClientError) -> bool {
    error.status() == Some(404)
}

/// The outcome of a read or list as Go's `Logical()` helpers see it: a 404 whose body carries
/// data or warnings is a secret; a plain 404 or a 204 is none.
pub fn logical(result: Result<Response, ClientError>) -> Result<Option<Secret>, ClientError> {
    match result {
        Ok(response) => Secret::parse(&response),
        Err(error) if is_404(&error) => Ok(secret_of_404(&error)),
        Err(error) => Err(error),
    }
}

/// A failed write: the error, and the secret a 404 body still carried.
pub type WriteFailure = (ClientError, Option<Box<Secret>>);

/// The outcome of a write or delete as Go's `Logical().Write` sees it: a 404 with data or
/// warnings returns both the secret and the error; any other error returns no secret.
pub fn logical_write(
    result: Result<Response, ClientError>,
) -> Result<Option<Secret>, WriteFailure> {
    match result {
        Ok(response) => Secret::parse(&response).map_err(|error| (error, None)),
        Err(error) => {
            let secret = secret_of_404(&error).map(Box::new);
            Err((error, secret))
        }
    }
}

/// Go's `fmt.Sprintf("%v", value)` of a JSON-decoded value (`map[a:1 b:[x y]]`, `<nil>`).
pub fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{key}:{}", go_value(item)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Vault's `looksLikeDuration`.
pub fn looks_like_duration(key: &str) -> bool {
    key == "period"
        || key.ends_with("_period")
        || key == "ttl"
        || key.ends_with("_ttl")
        || key == "duration"
        || key.ends_with("_duration")
        || key == "lease_max"
        || key == "ttl_max"
}

/// Vault's `humanDurationInt`: whole-second integers become `1h2m3s`, anything else stays.
pub fn human_duration_value(value: &Value) -> String {
    if let Value::Number(number) = value
        && let Some(seconds) = number.as_i64()
    {
        return go_human_duration(seconds);
    }
    go_value(value)
}

/// `humanDuration` of a signed number of seconds (Go prints negatives with a leading `-`).
pub fn go_human_duration(seconds: i64) -> String {
    let text = human_duration(seconds.unsigned_abs());
    if seconds < 0 {
        return format!("-{text}");
    }
    text
}

/// One `key ♨ value` row as `OutputSecret` and `OutputMap` build them.
fn row(key: &str, value: &str) -> String {
    format!("{key} {HOPE_DELIM} {value}")
}

/// Data rows: sorted keys, duration-looking keys humanised.
fn data_rows(data: &Map<String, Value>) -> Vec<String> {
    data.iter()
        .map(|(key, value)| {
            let shown = if looks_like_duration(key) {
                human_duration_value(value)
            } else {
                go_value(value)
            };
            row(key, &shown)
        })
        .collect()
}

fn key_value_output(rows: Vec<String>) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let mut out = vec![format!("Key{HOPE_DELIM}Value")];
    out.extend(rows);
    Some(table_output(&out, HOPE_DELIM))
}

/// `TableFormatter.OutputSecret`'s table (without the warnings), or `None` when it has no rows.
pub fn secret_table(secret: &Secret) -> Option<String> {
    let mut out = Vec::new();
    if secret.lease_duration > 0 {
        if secret.lease_id.is_empty() {
            let interval = go_human_duration(secret.lease_duration);
            out.push(row("refresh_interval", &interval));
        } else {
            out.push(row("lease_id", &secret.lease_id));
            let duration = go_human_duration(secret.lease_duration);
            out.push(row("lease_duration", &duration));
            out.push(row("lease_renewable", &secret.renewable.to_string()));
        }
    }
    if let Some(auth) = &secret.auth {
        out.extend(auth_rows(auth));
    }
    if let Some(wrap) = &secret.wrap_info {
        out.push(row("wrapping_token:", &wrap.token));
        out.push(row("wrapping_accessor:", &wrap.accessor));
        out.push(row("wrapping_token_ttl:", &go_human_duration(wrap.ttl)));
        out.push(row("wrapping_token_creation_time:", &wrap.creation_time));
        out.push(row("wrapping_token_creation_path:", &wrap.creation_path));
        if !wrap.wrapped_accessor.is_empty() {
            out.push(row("wrapped_accessor:", &wrap.wrapped_accessor));
        }
    }
    if let Some(data) = &secret.data {
        out.extend(data_rows(data));
    }
    key_value_output(out)
}

/// The `token_*` rows of an auth response. Go ranges over the metadata map in random order;
/// we print it sorted.
fn auth_rows(auth: &SecretAuth) -> Vec<String> {
    let list = |items: &Option<Vec<String>>| go_quoted_list(items.as_deref().unwrap_or(&[]));
    let duration = match auth.lease_duration {
        0 => "∞".to_string(),
        seconds => go_human_duration(seconds),
    };
    let mut out = vec![
        row("token", &auth.client_token),
        row("token_accessor", &auth.accessor),
        row("token_duration", &duration),
        row("token_renewable", &auth.renewable.to_string()),
        row("token_policies", &list(&auth.token_policies)),
        row("identity_policies", &list(&auth.identity_policies)),
        row("policies", &list(&auth.policies)),
    ];
    for (key, value) in auth.metadata.iter().flatten() {
        out.push(row(&format!("token_meta_{key}"), value));
    }
    out
}

/// `TableFormatter.OutputMap`: a `Key  Value` table of a map, or `None` when it is empty.
pub fn map_table(data: &Map<String, Value>) -> Option<String> {
    key_value_output(data_rows(data))
}

/// `TableFormatter.OutputList`: a `Keys` column of sorted string keys.
pub fn list_table(keys: &[Value]) -> Result<Option<String>, String> {
    let mut names = Vec::with_capacity(keys.len());
    for key in keys {
        match key {
            Value::String(name) => names.push(name.clone()),
            other => return Err(format!("{} is not a string", go_value(other))),
        }
    }
    if names.is_empty() {
        return Ok(None);
    }
    names.sort();
    let mut rows = vec!["Keys".to_string()];
    rows.extend(names);
    Ok(Some(table_output(&rows, HOPE_DELIM)))
}

/// Go's `RawField`: the value `-field=<name>` prints for a secret.
pub fn raw_field(secret: &Secret, field: &str) -> Option<Value> {
    let data = || secret.data_field(field).cloned();
    if let Some(auth) = &secret.auth {
        let list = |items: &Option<Vec<String>>| match items {
            Some(items) => Value::from(items.clone()),
            None => Value::Null,
        };
        return match field {
            "token" => Some(Value::from(auth.client_token.clone())),
            "token_accessor" => Some(Value::from(auth.accessor.clone())),
            "token_duration" => Some(Value::from(auth.lease_duration)),
            "token_renewable" => Some(Value::from(auth.renewable)),
            "token_policies" => Some(list(&auth.token_policies)),
            "identity_policies" => Some(list(&auth.identity_policies)),
            "policies" => Some(list(&auth.policies)),
            _ => data(),
        };
    }
    if let Some(wrap) = &secret.wrap_info {
        return match field {
            "wrapping_token" => Some(Value::from(wrap.token.clone())),
            "wrapping_accessor" => Some(Value::from(wrap.accessor.clone())),
            "wrapping_token_ttl" => Some(Value::from(wrap.ttl)),
            "wrapping_token_creation_time" => Some(Value::from(wrap.creation_time.clone())),
            "wrapping_token_creation_path" => Some(Value::from(wrap.creation_path.clone())),
            "wrapped_accessor" => Some(Value::from(wrap.wrapped_accessor.clone())),
            _ => data(),
        };
    }
    match field {
        "lease_duration" | "refresh_interval" => Some(Value::from(secret.lease_duration)),
        "lease_id" => Some(Value::from(secret.lease_id.clone())),
        "request_id" => Some(Value::from(secret.request_id.clone())),
        "renewable" => Some(Value::from(secret.renewable)),
        "data" => match secret.data_field("data") {
            Some(value) => Some(value.clone()),
            None => Some(match &secret.data {
                Some(data) => Value::Object(data.clone()),
                None => Value::Null,
            }),
        },
        _ => data(),
    }
}

impl Ui {
    /// Vault's `printWarnings`: a header then each warning wrapped with a two-space pad.
    pub fn print_warnings(&self, secret: &Secret) {
        let Some(warnings) = secret.warnings.as_ref().filter(|w| !w.is_empty()) else {
            return;
        };
        self.warn("WARNING! The following warnings were returned from Vault:\n");
        for warning in warnings {
            self.warn(&wrap_at_length_with_padding(&format!("* {warning}"), 2));
            self.warn("");
        }
    }

    /// Vault's `OutputSecret`.
    pub fn output_secret(&self, secret: &Secret) -> i32 {
        if !self.is_table() {
            return self.output_data(secret);
        }
        self.print_warnings(secret);
        if let Some(table) = secret_table(secret) {
            self.output(&table);
        }
        0
    }

    /// Vault's `OutputData` of a map: `OutputMap` in table format.
    pub fn output_map(&self, data: &Map<String, Value>) -> i32 {
        if !self.is_table() {
            return self.output_data(data);
        }
        if let Some(table) = map_table(data) {
            self.output(&table);
        }
        0
    }

    /// Vault's `OutputList` of a LIST response: JSON prints the keys (or the whole secret
    /// with `-detailed`), table prints the `Keys` column.
    pub fn output_list(&self, secret: &Secret, detailed: bool) -> i32 {
        let keys = secret.data_field("keys").cloned().unwrap_or(Value::Null);
        if !self.is_table() {
            if detailed && self.format == "json" {
                return self.output_data(secret);
            }
            return self.output_data(&keys);
        }
        self.print_warnings(secret);
        let items = match &keys {
            Value::Array(items) => items.as_slice(),
            _ => {
                self.error("Could not parse output: error: table formatter cannot output list for this data type");
                return 1;
            }
        };
        match list_table(items) {
            Ok(Some(table)) => self.output(&table),
            Ok(None) => {}
            Err(error) => {
                self.error(&format!("Could not parse output: {error}"));
                return 1;
            }
        }
        0
    }

    /// Vault's `PrintRawField` for a secret.
    pub fn print_raw_field(&self, secret: &Secret, field: &str) -> i32 {
        self.print_field_value(raw_field(secret, field), field)
    }

    /// Vault's `PrintRawField` for a plain map (`kv get -field` reads `data.data`).
    pub fn print_map_field(&self, data: &Value, field: &str) -> i32 {
        self.print_field_value(data.get(field).cloned(), field)
    }

    fn print_field_value(&self, value: Option<Value>, field: &str) -> i32 {
        let value = match value {
            None | Some(Value::Null) => {
                self.error(&format!("Field {field:?} not present in secret"));
                return 1;
            }
            Some(value) => value,
        };
        let text = match self.format.as_str() {
            "" | "table" | "raw" => go_value(&value),
            "json" => super::format::go_json(&value),
            "yaml" | "yml" => super::format::go_yaml(&value) + "\n",
            other => {
                self.error(&format!("Invalid output format: {other}"));
                return 1;
            }
        };
        self.print_raw(&text)
    }

    /// Vault's `PrintRaw`: without colour (stdout not a terminal) no newline is added.
    pub fn print_raw(&self, text: &str) -> i32 {
        let mut stdout = std::io::stdout();
        if stdout.is_terminal() {
            let _ = writeln!(stdout, "{text}");
        } else {
            let _ = write!(stdout, "{text}");
        }
        let _ = stdout.flush();
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: Value) -> Secret {
        serde_json::from_value(value).unwrap()
    }

    fn check_table(value: Value, expected: &str) {
        assert_eq!(secret_table(&secret(value)).unwrap(), expected);
    }

    #[test]
    fn kv1_read_shows_refresh_interval_and_sorted_data() {
        // Captured from `bao read kv1/a` (kv v1, mount default TTL).
        check_table(
            serde_json::json!({"request_id":"x","lease_id":"","renewable":false,
                "lease_duration":2764800,"data":{"zeta":"1","alpha":"two words","n":7,
                "list":["a","b"],"obj":{"k":"v","a":null}},"wrap_info":null,"warnings":null,"auth":null}),
            "\
Key                 Value
---                 -----
refresh_interval    768h
alpha               two words
list                [a b]
n                   7
obj                 map[a:<nil> k:v]
zeta                1",
        );
    }

    #[test]
    fn lease_rows_and_duration_keys() {
        check_table(
            serde_json::json!({"lease_id":"sys/x/abc","lease_duration":3600,"renewable":true,
                "data":{"ttl":90,"max_ttl":"1h","token_period":0}}),
            "\
Key                Value
---                -----
lease_id           sys/x/abc
lease_duration     1h
lease_renewable    true
max_ttl            1h
token_period       0s
ttl                1m30s",
        );
    }

    #[test]
    fn auth_table_matches_bao_token_create() {
        // Captured from `bao token create -policy=default -metadata=team=a -ttl=1h`.
        check_table(
            serde_json::json!({"request_id":"r","lease_id":"","renewable":false,"lease_duration":0,
                "data":null,"wrap_info":null,"warnings":null,
                "auth":{"client_token":"hvs.TOKEN","accessor":"ACCESSOR",
                    "policies":["default"],"token_policies":["default"],
                    "metadata":{"team":"a"},"lease_duration":3600,"renewable":true,
                    "entity_id":"","token_type":"service","orphan":false,
                    "mfa_requirement":null,"num_uses":0}}),
            "\
Key                  Value
---                  -----
token                hvs.TOKEN
token_accessor       ACCESSOR
token_duration       1h
token_renewable      true
token_policies       [\"default\"]
identity_policies    []
policies             [\"default\"]
token_meta_team      a",
        );
        // A root token has no TTL: Vault prints ∞.
        check_table(
            serde_json::json!({"auth":{"client_token":"root","accessor":"A","policies":["root"],
                "token_policies":["root"],"lease_duration":0,"renewable":false}}),
            "\
Key                  Value
---                  -----
token                root
token_accessor       A
token_duration       ∞
token_renewable      false
token_policies       [\"root\"]
identity_policies    []
policies             [\"root\"]",
        );
    }

    #[test]
    fn json_keeps_go_field_order_and_omits_absent_auth() {
        let parsed = secret(
            serde_json::json!({"request_id":"r","lease_id":"","renewable":false,
            "lease_duration":0,"data":{"b":1,"a":"<x>"},"wrap_info":null,"warnings":null,
            "mount_type":"kv"}),
        );
        assert_eq!(
            super::super::format::go_json(&parsed),
            "{\n  \"request_id\": \"r\",\n  \"lease_id\": \"\",\n  \"lease_duration\": 0,\n  \"renewable\": false,\n  \"data\": {\n    \"a\": \"\\u003cx\\u003e\",\n    \"b\": 1\n  },\n  \"warnings\": null\n}"
        );
    }

    #[test]
    fn list_table_sorts_keys() {
        let keys = vec![Value::from("b/"), Value::from("a")];
        assert_eq!(list_table(&keys).unwrap().unwrap(), "Keys\n----\na\nb/");
    }

    #[test]
    fn raw_field_follows_vault() {
        let kv1 = secret(serde_json::json!({"lease_duration":2764800,"data":{"foo":"bar"}}));
        assert_eq!(raw_field(&kv1, "foo"), Some(Value::from("bar")));
        assert_eq!(
            raw_field(&kv1, "refresh_interval"),
            Some(Value::from(2764800))
        );
        assert_eq!(
            raw_field(&kv1, "data"),
            Some(serde_json::json!({"foo":"bar"}))
        );
        assert_eq!(raw_field(&kv1, "missing"), None);
        let auth = secret(serde_json::json!({"auth":{"client_token":"t","policies":["a"]}}));
        assert_eq!(raw_field(&auth, "token"), Some(Value::from("t")));
        assert_eq!(raw_field(&auth, "identity_policies"), Some(Value::Null));
    }
}
