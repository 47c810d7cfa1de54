//! Input shapes shared by the transit paths: key names, presence-aware fields, batch items,
//! and the batch status rules (`batchRequestResponse`).

use crate::error::{TransitError, refused};
use crate::limits::BATCH_ITEMS_MAX;
use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::{Map, Value};
use tresor_framework::{Error, ErrorKind, Reply, Secret};

/// Vault's generic name rule `\w(([\w-.]+)?\w)?`; anything else is not a transit path.
pub fn check_name(name: &str) -> Result<(), Error> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let valid = !name.is_empty()
        && name.chars().next().is_some_and(word)
        && name.chars().last().is_some_and(word)
        && name.chars().all(|c| word(c) || c == '-' || c == '.');
    match valid {
        true => Ok(()),
        false => Err(Error::new(
            ErrorKind::UnsupportedPath,
            "1 error occurred:\n\t* unsupported path\n\n",
        )),
    }
}

/// `Some(text)` whenever the field is present (a number or bool is written as text).
pub fn present_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Some(String::new()),
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => return Err(serde::de::Error::custom("expected a string")),
    })
}

/// `Some(value)` whenever the field is present.
pub fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// One `batch_input` object, read loosely: strings stay strings, numbers become text.
#[derive(Default, Clone)]
pub struct BatchItem {
    fields: Map<String, Value>,
}

impl BatchItem {
    /// The field as text, `None` when absent.
    pub fn get(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::Null => Some(String::new()),
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            other => Some(other.to_string()),
        }
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    pub fn int(&self, name: &str) -> Result<i64, TransitError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(0),
            Some(value) => tresor_framework::loose::int_from_value(value)
                .map(|value| value.unwrap_or(0))
                .map_err(|error| {
                    TransitError::Failed(format!("failed to parse batch input: {error}"))
                }),
        }
    }

    pub fn from_fields(fields: Map<String, Value>) -> BatchItem {
        BatchItem { fields }
    }
}

/// Decodes `batch_input`: `Ok(None)` when absent, an error for an empty list (Vault's
/// `missing batch input to process`) or a malformed one.
pub fn batch_items(raw: &Option<Value>) -> Result<Option<Vec<BatchItem>>, TransitError> {
    let values = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(values)) => values,
        Some(Value::String(text)) => {
            // The CLI and form bodies send the list as JSON text.
            let parsed: Value = serde_json::from_str(text).map_err(|error| {
                TransitError::Failed(format!("failed to parse batch input: {error}"))
            })?;
            return batch_items(&Some(parsed));
        }
        Some(_) => {
            return Err(TransitError::Failed(
                "failed to parse batch input: expected a list of objects".to_string(),
            ));
        }
    };
    if values.is_empty() {
        return Err(refused("missing batch input to process"));
    }
    if values.len() > BATCH_ITEMS_MAX {
        return Err(refused(format!(
            "batch_input has more than {BATCH_ITEMS_MAX} items"
        )));
    }
    let mut items = Vec::with_capacity(values.len());
    for value in values {
        match value {
            Value::Object(fields) => items.push(BatchItem::from_fields(fields.clone())),
            _ => {
                return Err(TransitError::Failed(
                    "failed to parse batch input: expected a map".to_string(),
                ));
            }
        }
    }
    Ok(Some(items))
}

/// How a batch went: which kinds of failure it saw and whether anything succeeded.
#[derive(Default)]
pub struct BatchOutcome {
    pub successes: bool,
    pub user_error: bool,
    pub internal_error: bool,
}

/// `batchRequestResponse`: 400 on any user error, else 500 on an internal one, with the whole
/// envelope; `partial_failure_response_code` replaces that when at least one item succeeded.
pub fn batch_reply(
    data: Value,
    mut warnings: Vec<String>,
    outcome: &BatchOutcome,
    partial_failure_response_code: Option<i64>,
) -> Reply {
    let mut status = 200;
    if outcome.user_error || outcome.internal_error {
        status = if outcome.user_error { 400 } else { 500 };
        if let Some(code) = partial_failure_response_code
            && outcome.successes
        {
            match code {
                1..=599 => status = code as u16,
                _ => warnings.push(format!(
                    "invalid HTTP response code override from partial_failure_response_code, reverting to {status}"
                )),
            }
        }
    }
    Reply::Secret(Secret {
        data: Some(data),
        warnings,
        status,
        ..Secret::default()
    })
}

pub fn data_reply(data: Value, warnings: Vec<String>) -> Reply {
    Reply::Secret(Secret {
        data: Some(data),
        warnings,
        status: 200,
        ..Secret::default()
    })
}

/// The framework's loose int for a field that may be absent.
pub fn opt_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    tresor_framework::loose::opt_int(deserializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_vaults_generic_rule() {
        for good in ["a", "my-key", "a.b_c", "K1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a b", "a/b", ".a"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
