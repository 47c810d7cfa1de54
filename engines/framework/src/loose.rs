//! Vault's weak typing (framework `field_data.go`), written once for every backend.
//!
//! Use with serde's `deserialize_with`: `#[serde(default, deserialize_with = "loose::seconds")]`.
//! Every function accepts `null` as "not supplied" (the type's default, or `None`).

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::Value;

/// Parses a Go `strconv.ParseBool` spelling.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a Vault duration to whole seconds: an integer (seconds), a numeric string, a Go
/// duration (`"1h30m"`, `"1.5h"`, `"10s"`, `"250ms"` rounds down), or `"<N>d"` (days).
/// The empty string is 0.
pub fn parse_duration_seconds(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    if let Some(days) = text.strip_suffix('d')
        && let Ok(days) = days.parse::<u64>()
    {
        return days
            .checked_mul(86_400)
            .ok_or_else(|| format!("duration out of range: {text}"));
    }
    parse_go_duration_nanos(text).map(|nanos| (nanos / 1_000_000_000) as u64)
}

fn parse_go_duration_nanos(text: &str) -> Result<u128, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err(invalid());
    }
    if rest == "0" {
        return Ok(0);
    }
    let mut total_nanos: f64 = 0.0;
    let mut components = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return Err(invalid());
        }
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit_nanos: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_end..];
        total_nanos += number * unit_nanos;
        components += 1;
        if components > 16 {
            return Err(invalid());
        }
    }
    if !total_nanos.is_finite() || total_nanos > u64::MAX as f64 {
        return Err(invalid());
    }
    Ok(total_nanos as u128)
}

/// Formats seconds as Go's `time.Duration.String()` does (`768h0m0s`, `10s`, `0s`).
pub fn format_go_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let hours = seconds / 3600;
    let minutes = (seconds % 3600) / 60;
    let secs = seconds % 60;
    if hours > 0 {
        format!("{hours}h{minutes}m{secs}s")
    } else if minutes > 0 {
        format!("{minutes}m{secs}s")
    } else {
        format!("{secs}s")
    }
}

fn number_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) => Some(text.trim().to_string()),
        _ => None,
    }
}

/// Vault's `TypeDurationSecond`: `parseutil.ParseDurationSecond`, then no negative values.
fn duration_from_value(value: Value) -> Result<Option<u64>, String> {
    let negative = |seconds: u64| format!("cannot provide negative value '-{seconds}'");
    match value {
        Value::Null => Ok(None),
        Value::Number(number) => {
            let text = number.to_string();
            if let Ok(seconds) = text.parse::<u64>() {
                return Ok(Some(seconds));
            }
            match text.parse::<f64>() {
                Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(Some(seconds as u64)),
                Ok(seconds) if seconds.is_finite() && seconds > -1.0 => Ok(Some(0)),
                Ok(seconds) if seconds.is_finite() => Err(negative((-seconds) as u64)),
                _ => Err(format!("time: invalid duration \"{text}\"")),
            }
        }
        Value::String(text) => match text.trim().strip_prefix('-') {
            Some(magnitude) => match parse_duration_seconds(magnitude) {
                Ok(0) => Ok(Some(0)),
                Ok(seconds) => Err(negative(seconds)),
                Err(_) => Err(format!("time: invalid duration \"{}\"", text.trim())),
            },
            None => parse_duration_seconds(&text).map(Some),
        },
        _ => Err("expected a duration".to_string()),
    }
}

/// A duration in seconds; `null` or absent is 0.
pub fn seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(opt_seconds(deserializer)?.unwrap_or(0))
}

/// A duration in seconds, `None` when `null` or absent.
pub fn opt_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    duration_from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// mapstructure's weak-decoding errors, as Vault's field validation reports them.
const BOOL_SYNTAX: &str = "'' cannot parse value as 'bool': strconv.ParseBool: invalid syntax";
const INT_SYNTAX: &str = "'' cannot parse value as 'int': strconv.ParseInt: invalid syntax";

fn bool_from_value(value: Value) -> Result<Option<bool>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(flag)),
        Value::String(text) if text.is_empty() => Ok(Some(false)),
        Value::String(text) => parse_bool(&text)
            .map(Some)
            .ok_or_else(|| BOOL_SYNTAX.to_string()),
        Value::Number(number) => match number.to_string().as_str() {
            "0" => Ok(Some(false)),
            "1" => Ok(Some(true)),
            _ => Err(BOOL_SYNTAX.to_string()),
        },
        _ => Err("expected a bool".to_string()),
    }
}

/// A bool from `true`, `"true"`, `"1"`, `1`, ...; `null` or absent is false.
pub fn bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(opt_bool(deserializer)?.unwrap_or(false))
}

pub fn opt_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    bool_from_value(Value::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// Parses an integer from a JSON number or a numeric string.
pub fn int_from_value(value: &Value) -> Result<Option<i64>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let text = number_text(value).ok_or_else(|| "expected an integer".to_string())?;
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| INT_SYNTAX.to_string())
}

/// An integer from `3` or `"3"`; `null` or absent is 0.
pub fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Ok(opt_int(deserializer)?.unwrap_or(0))
}

pub fn opt_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    int_from_value(&Value::deserialize(deserializer)?).map_err(D::Error::custom)
}

/// A list of strings from a JSON array or one comma-separated string; items are trimmed and
/// empty items dropped.
pub fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let items = match Value::deserialize(deserializer)? {
        Value::Null => Vec::new(),
        Value::String(text) => text
            .split(',')
            .map(|item| item.trim().to_string())
            .collect(),
        Value::Array(values) => {
            let mut items = Vec::with_capacity(values.len());
            for value in values {
                match value {
                    Value::String(text) => items.push(text.trim().to_string()),
                    Value::Number(number) => items.push(number.to_string()),
                    Value::Bool(flag) => items.push(flag.to_string()),
                    _ => return Err(D::Error::custom("expected a list of strings")),
                }
            }
            items
        }
        Value::Number(number) => vec![number.to_string()],
        _ => return Err(D::Error::custom("expected a list of strings")),
    };
    Ok(items.into_iter().filter(|item| !item.is_empty()).collect())
}

/// A list of strings from a JSON array, or one string taken whole (not split on commas), as
/// Go's weak decoding turns a string into a one-element slice.
pub fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(Vec::new()),
        Value::String(text) if text.is_empty() => Ok(Vec::new()),
        Value::String(text) => Ok(vec![text]),
        Value::Array(values) => values
            .into_iter()
            .map(|value| match value {
                Value::String(text) => Ok(text),
                Value::Number(number) => Ok(number.to_string()),
                Value::Bool(flag) => Ok(flag.to_string()),
                _ => Err(D::Error::custom("expected a list of strings")),
            })
            .collect(),
        _ => Err(D::Error::custom("expected a list of strings")),
    }
}

/// A string that may also arrive as a number or bool (form bodies, CLI `k=v`).
pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(String::new()),
        Value::String(text) => Ok(text),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        _ => Err(D::Error::custom("expected a string")),
    }
}

/// Parses JSON keeping every number's text as the client sent it, as Go's `json.Number` does
/// (REQ-06). serde_json's arbitrary-precision parser keeps digits but respells exponents
/// (`1e3` and `1E3` become `1e+3`); input with an exponent is re-read by [`VerbatimJson`].
/// Errors (and the nesting limit) are serde_json's: it validates the text first.
pub fn json_verbatim(bytes: &[u8]) -> serde_json::Result<Value> {
    let value: Value = serde_json::from_slice(bytes)?;
    if !has_exponent(bytes) {
        return Ok(value);
    }
    let mut reader = VerbatimJson { bytes, at: 0 };
    Ok(reader.value().unwrap_or(value))
}

/// Whether a number literal outside strings has an exponent (`e`/`E` after a digit).
fn has_exponent(bytes: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut previous = 0u8;
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'e' | b'E' if previous.is_ascii_digit() => return true,
            _ => {}
        }
        previous = byte;
    }
    false
}

/// A reader of JSON that serde_json has already validated: numbers become `Number`s holding
/// the literal text, strings are decoded by serde_json, a repeated key keeps its last value.
/// `None` only if the text is not what the validation accepted (never expected).
struct VerbatimJson<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl VerbatimJson<'_> {
    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.at)
            .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.at).copied()
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => {
                self.at += 1;
                let mut map = serde_json::Map::new();
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(Value::Object(map));
                }
                loop {
                    let Value::String(key) = self.string()? else {
                        return None;
                    };
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.at += 1;
                    let item = self.value()?;
                    map.insert(key, item);
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(Value::Object(map));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string(),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            _ => {
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|byte| {
                    matches!(byte, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
                if text.is_empty() {
                    return None;
                }
                // The one way to hold a literal's own text: serde_json's parser respells it.
                Some(Value::Number(serde_json::Number::from_string_unchecked(
                    text.to_string(),
                )))
            }
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    fn string(&mut self) -> Option<Value> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at;
        self.at += 1;
        let mut escaped = false;
        loop {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => break,
                _ => {}
            }
        }
        serde_json::from_slice::<String>(&self.bytes[start..self.at])
            .ok()
            .map(Value::String)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Fields {
        #[serde(default, deserialize_with = "seconds")]
        ttl: u64,
        #[serde(default, deserialize_with = "bool")]
        flag: bool,
        #[serde(default, deserialize_with = "comma_list")]
        policies: Vec<String>,
        #[serde(default, deserialize_with = "opt_int")]
        count: Option<i64>,
    }

    fn check(input: serde_json::Value) -> Result<Fields, String> {
        serde_json::from_value::<Fields>(input).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_accept_every_vault_spelling() {
        let rows: &[(serde_json::Value, u64)] = &[
            (json!(3600), 3600),
            (json!("3600"), 3600),
            (json!("1h"), 3600),
            (json!("1h30m"), 5400),
            (json!("1.5h"), 5400),
            (json!("10s"), 10),
            (json!("2d"), 172_800),
            (json!(""), 0),
            (json!(null), 0),
            (json!("768h"), 2_764_800),
        ];
        for (input, expected) in rows {
            let fields = check(json!({ "ttl": input })).expect("valid duration");
            assert_eq!(fields.ttl, *expected, "input {input}");
        }
        assert!(check(json!({"ttl": "abc"})).is_err());
        assert!(check(json!({"ttl": "-1h"})).is_err());
        assert!(check(json!({"ttl": [1]})).is_err());
    }

    #[test]
    fn bools_ints_and_lists_are_loose() {
        for (input, expected) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("1"), true),
            (json!(1), true),
            (json!("f"), false),
            (json!(null), false),
        ] {
            assert_eq!(
                check(json!({ "flag": input })).expect("valid bool").flag,
                expected
            );
        }
        assert!(check(json!({"flag": "yes"})).is_err());
        assert_eq!(check(json!({"count": "3"})).expect("int").count, Some(3));
        assert_eq!(check(json!({"count": 3})).expect("int").count, Some(3));
        assert!(check(json!({"count": "x"})).is_err());
        assert!(check(json!({"count": 1.5})).is_err());
        assert_eq!(
            check(json!({"policies": "a, b,,c"}))
                .expect("list")
                .policies,
            ["a", "b", "c"]
        );
        assert_eq!(
            check(json!({"policies": ["a", " b"]}))
                .expect("list")
                .policies,
            ["a", "b"]
        );
    }

    #[test]
    fn go_duration_strings_round_trip() {
        assert_eq!(format_go_duration(2_764_800), "768h0m0s");
        assert_eq!(format_go_duration(10), "10s");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(90), "1m30s");
    }

    #[test]
    fn json_verbatim_keeps_exponent_spelling() {
        let text = r#"{"e":1e3,"E":[1E-2,2.5e+7],"s":"1e3 \\\" x","big":123456789012345678901234,"d":{"a":1,"a":2e0}}"#;
        let value = json_verbatim(text.as_bytes()).expect("valid");
        assert_eq!(
            serde_json::to_string(&value).expect("serialise"),
            r#"{"E":[1E-2,2.5e+7],"big":123456789012345678901234,"d":{"a":2e0},"e":1e3,"s":"1e3 \\\" x"}"#
        );
        let plain = json_verbatim(br#"{"f":1.0,"t":true,"n":null}"#).expect("valid");
        assert_eq!(
            serde_json::to_string(&plain).expect("serialise"),
            r#"{"f":1.0,"n":null,"t":true}"#
        );
        assert!(json_verbatim(b"{\"e\":1e}").is_err());
    }
}
