//! Input shapes particular to KV, on top of the framework's `loose` module: fields whose
//! presence matters even when `null`, signed durations, Vault's weak decoding of `cas`,
//! version lists and `custom_metadata`.

use crate::error::KvError;
use crate::limits::{
    CUSTOM_METADATA_KEY_BYTES_MAX, CUSTOM_METADATA_KEYS_MAX, CUSTOM_METADATA_VALUE_BYTES_MAX,
    VERSIONS_KEPT_MAX,
};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use tresor_framework::loose;

/// `Some(value)` whenever the field is present, `null` included; use with `default`.
pub fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A duration that may be negative (`config`'s `delete_version_after`): `-1`, `"-5s"`,
/// `"1h"`, `3600`. `None` when absent or `null`.
pub fn opt_signed_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let text = match &value {
        Value::Null => return Ok(None),
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.trim().to_string(),
        _ => return Err(D::Error::custom("expected a duration")),
    };
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let seconds = match magnitude.parse::<f64>() {
        Ok(number)
            if !magnitude.is_empty()
                && magnitude
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || byte == b'.') =>
        {
            number as u64
        }
        _ => loose::parse_duration_seconds(magnitude).map_err(D::Error::custom)?,
    };
    let seconds = i64::try_from(seconds)
        .map_err(|_| D::Error::custom(format!("duration out of range: {text}")))?;
    Ok(Some(if negative { -seconds } else { seconds }))
}

/// A `max_versions` value within [`VERSIONS_KEPT_MAX`].
pub fn checked_max_versions(value: i64) -> Result<u32, KvError> {
    match u32::try_from(value) {
        Ok(count) if count <= VERSIONS_KEPT_MAX => Ok(count),
        Ok(_) => Err(KvError::TooManyVersions),
        // Vault stores uint32(int): a negative count wraps to a huge one, which we refuse.
        Err(_) => Err(KvError::TooManyVersions),
    }
}

/// `options.cas`, decoded as Go's `mapstructure.WeakDecode` into an `int`: numbers and
/// numeric strings, booleans as 0/1, `null` and `""` as 0. `None` when `cas` is absent.
pub fn cas_option(options: &Option<Value>) -> Result<Option<i64>, KvError> {
    let options = match options {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(options)) => options,
        Some(other) => return Err(not_a_map("options", other)),
    };
    let Some(cas) = options.get("cas") else {
        return Ok(None);
    };
    let cas = match cas {
        Value::Null => 0,
        Value::Bool(flag) => i64::from(*flag),
        Value::Number(number) => number
            .to_string()
            .parse::<i64>()
            .map_err(|_| KvError::CasUnparsable)?,
        Value::String(text) if text.is_empty() => 0,
        Value::String(text) => text.parse::<i64>().map_err(|_| KvError::CasUnparsable)?,
        Value::Array(_) | Value::Object(_) => return Err(KvError::CasUnparsable),
    };
    Ok(Some(cas))
}

/// `versions` as a comma-int-slice: `[1, "2"]` or `"1,2"`.
pub fn versions<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    let items = loose::comma_list(deserializer)?;
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.parse::<i64>().map_err(|_| {
                D::Error::custom(format!("decoding failed due to the following error(s):\n\n'[{index}]' cannot parse value as 'int': strconv.ParseInt: invalid syntax"))
            })
        })
        .collect()
}

/// The error Vault's framework gives when a map field gets another type.
pub fn not_a_map(field: &'static str, value: &Value) -> KvError {
    KvError::InvalidField {
        field,
        reason: format!(
            "'' expected type 'map[string]interface {{}}', got unconvertible type '{}'",
            go_type_name(value)
        ),
    }
}

fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "json.Number",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `custom_metadata` as Vault stores it: every value weakly decoded to a string (`1` → `"1"`,
/// `true` → `"1"`). With `skip_nulls` (PATCH) a `null` value is left out of the result (it
/// means "remove"); otherwise it becomes `""` and fails validation, as in Vault.
pub fn custom_metadata(
    raw: &Map<String, Value>,
    skip_nulls: bool,
) -> Result<BTreeMap<String, String>, KvError> {
    let mut parsed = BTreeMap::new();
    for (key, value) in raw {
        let text = match value {
            Value::Null if skip_nulls => continue,
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => if *flag { "1" } else { "0" }.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(KvError::CustomMetadata(format!(
                    "custom_metadata validation failed: '' expected type 'string', got unconvertible type '{}'",
                    go_type_name(value)
                )));
            }
        };
        parsed.insert(key.clone(), text);
    }
    validate_custom_metadata(&parsed)?;
    Ok(parsed)
}

const CUSTOM_METADATA_ERROR_PREFIX: &str = "custom_metadata validation failed";

/// Vault's `validateCustomMetadata`, with its multi-error text.
fn validate_custom_metadata(metadata: &BTreeMap<String, String>) -> Result<(), KvError> {
    let mut errors = Vec::new();
    if metadata.len() > CUSTOM_METADATA_KEYS_MAX {
        errors.push(format!("{CUSTOM_METADATA_ERROR_PREFIX}: payload must contain at most {CUSTOM_METADATA_KEYS_MAX} keys, provided {}", metadata.len()));
        return Err(KvError::CustomMetadata(multi_error(&errors)));
    }
    for (key, value) in metadata {
        if key.is_empty() || key.len() > CUSTOM_METADATA_KEY_BYTES_MAX {
            errors.push(format!(
                "{CUSTOM_METADATA_ERROR_PREFIX}: length of key {} is {} but must be 0 < len(key) <= {CUSTOM_METADATA_KEY_BYTES_MAX}",
                go_quote(key),
                key.len()
            ));
        }
        if value.is_empty() || value.len() > CUSTOM_METADATA_VALUE_BYTES_MAX {
            errors.push(format!(
                "{CUSTOM_METADATA_ERROR_PREFIX}: length of value for key {} is {} but must be 0 < len(value) <= {CUSTOM_METADATA_VALUE_BYTES_MAX}",
                go_quote(key),
                value.len()
            ));
        }
        if !printable(key) {
            errors.push(format!(
                "{CUSTOM_METADATA_ERROR_PREFIX}: key {} ({key}) contains unprintable characters",
                go_quote(key)
            ));
        }
        if !printable(value) {
            errors.push(format!(
                "{CUSTOM_METADATA_ERROR_PREFIX}: value for key {} contains unprintable characters",
                go_quote(key)
            ));
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(KvError::CustomMetadata(multi_error(&errors))),
    }
}

/// `hashicorp/go-multierror`'s format.
fn multi_error(errors: &[String]) -> String {
    let noun = if errors.len() == 1 { "error" } else { "errors" };
    let items: String = errors
        .iter()
        .map(|error| format!("\t* {error}\n"))
        .collect();
    format!("{} {noun} occurred:\n{items}\n", errors.len())
}

/// Go's `%q` for the printable ASCII keys clients use; other characters are escaped.
fn go_quote(text: &str) -> String {
    let mut quoted = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            character if character.is_control() => {
                quoted.push_str(&format!("\\x{:02x}", character as u32))
            }
            character => quoted.push(character),
        }
    }
    quoted.push('"');
    quoted
}

/// `strutil.Printable`: no control or other non-graphic characters (spaces allowed).
fn printable(text: &str) -> bool {
    !text
        .chars()
        .any(|character| character.is_control() || character == '\u{FFFD}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Fields {
        #[serde(default, deserialize_with = "opt_signed_seconds")]
        after: Option<i64>,
        #[serde(default, deserialize_with = "versions")]
        versions: Vec<i64>,
    }

    fn check(input: Value) -> Result<(Option<i64>, Vec<i64>), String> {
        serde_json::from_value::<Fields>(input)
            .map(|fields| (fields.after, fields.versions))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn signed_durations_and_version_lists_are_loose() {
        let rows: &[(Value, Option<i64>)] = &[
            (json!(-1), Some(-1)),
            (json!("-5s"), Some(-5)),
            (json!("1h"), Some(3600)),
            (json!("90"), Some(90)),
            (json!(30), Some(30)),
            (json!(null), None),
            (json!("-1h"), Some(-3600)),
        ];
        for (input, expected) in rows {
            assert_eq!(
                check(json!({ "after": input })).expect("valid").0,
                *expected,
                "{input}"
            );
        }
        assert!(check(json!({"after": "soon"})).is_err());
        for input in [
            json!([1, 2]),
            json!(["1", "2"]),
            json!("1,2"),
            json!(" 1 , 2"),
        ] {
            assert_eq!(
                check(json!({ "versions": input })).expect("valid").1,
                vec![1, 2]
            );
        }
        assert!(check(json!({"versions": "x"})).is_err());
    }

    #[test]
    fn cas_decodes_weakly_like_mapstructure() {
        let rows: &[(Value, Result<Option<i64>, ()>)] = &[
            (json!({"cas": 3}), Ok(Some(3))),
            (json!({"cas": "3"}), Ok(Some(3))),
            (json!({"cas": null}), Ok(Some(0))),
            (json!({"cas": true}), Ok(Some(1))),
            (json!({"cas": ""}), Ok(Some(0))),
            (json!({"cas": "abc"}), Err(())),
            (json!({"cas": 1.5}), Err(())),
            (json!({}), Ok(None)),
        ];
        for (options, expected) in rows {
            assert_eq!(
                cas_option(&Some(options.clone())).map_err(|_| ()),
                *expected,
                "{options}"
            );
        }
        assert_eq!(cas_option(&None).expect("absent"), None);
    }

    #[test]
    fn custom_metadata_rules_and_messages_match_vault() {
        let raw = json!({"a": 1, "b": true, "c": "x"});
        let parsed = custom_metadata(raw.as_object().expect("object"), false).expect("valid");
        assert_eq!(parsed.get("a").map(String::as_str), Some("1"));
        assert_eq!(parsed.get("b").map(String::as_str), Some("1"));
        // The text bao answers for {"":"x","k":""}.
        let raw = json!({"": "x", "k": ""});
        let error = custom_metadata(raw.as_object().expect("object"), false).expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "2 errors occurred:\n\t* custom_metadata validation failed: length of key \"\" is 0 but must be 0 < len(key) <= 128\n\t* custom_metadata validation failed: length of value for key \"k\" is 0 but must be 0 < len(value) <= 512\n\n"
        );
        let too_many: Map<String, Value> = (0..=CUSTOM_METADATA_KEYS_MAX)
            .map(|index| (format!("k{index}"), json!("v")))
            .collect();
        let error = custom_metadata(&too_many, false).expect_err("65 keys");
        assert!(
            error
                .to_string()
                .contains("payload must contain at most 64 keys, provided 65"),
            "{error}"
        );
        let long_value: Map<String, Value> = [(
            "k".to_string(),
            json!("v".repeat(CUSTOM_METADATA_VALUE_BYTES_MAX + 1)),
        )]
        .into_iter()
        .collect();
        assert!(custom_metadata(&long_value, false).is_err());
        let long_key: Map<String, Value> =
            [("k".repeat(CUSTOM_METADATA_KEY_BYTES_MAX + 1), json!("v"))]
                .into_iter()
                .collect();
        assert!(custom_metadata(&long_key, false).is_err());
        let at_limit: Map<String, Value> = [(
            "k".repeat(CUSTOM_METADATA_KEY_BYTES_MAX),
            json!("v".repeat(CUSTOM_METADATA_VALUE_BYTES_MAX)),
        )]
        .into_iter()
        .collect();
        assert!(custom_metadata(&at_limit, false).is_ok());
    }
}
