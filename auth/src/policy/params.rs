//! Request parameter constraints of the winning rule (POL-09; Vault 1.14 `AllowOperation`,
//! `valueInParameterList`).

use super::rules::{ParameterMap, Permissions};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Whether `data` satisfies the rule's required, denied and allowed parameters, in Vault's order.
pub(crate) fn parameters_permit(permissions: &Permissions, data: &Map<String, Value>) -> bool {
    // Vault looks the lower-cased policy name up in the data as sent, so `Foo` in a request
    // does not satisfy a required `foo`.
    let required_present = permissions
        .required_parameters
        .iter()
        .all(|name| data.contains_key(name));
    if !required_present {
        return false;
    }
    if data.is_empty() {
        return true;
    }
    if !permissions.denied_parameters.is_empty() {
        if permissions.denied_parameters.contains_key("*") {
            return false;
        }
        let denied = data.iter().any(|(name, value)| {
            lookup(&permissions.denied_parameters, name)
                .is_some_and(|values| value_in_list(value, values))
        });
        if denied {
            return false;
        }
    }
    allowed_parameters_permit(&permissions.allowed_parameters, data)
}

fn allowed_parameters_permit(allowed: &ParameterMap, data: &Map<String, Value>) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let allowed_all = allowed.contains_key("*");
    if allowed_all && allowed.len() == 1 {
        return true;
    }
    data.iter()
        .all(|(name, value)| match lookup(allowed, name) {
            Some(values) => value_in_list(value, values),
            None => allowed_all,
        })
}

/// Looks a request parameter up case-insensitively; allocates only for names with capitals.
fn lookup<'a>(map: &'a ParameterMap, name: &str) -> Option<&'a Vec<Value>> {
    let lowered = match name.chars().any(char::is_uppercase) {
        true => Cow::Owned(name.to_lowercase()),
        false => Cow::Borrowed(name),
    };
    map.get(lowered.as_ref())
}

/// An empty list accepts any value.
fn value_in_list(value: &Value, list: &[Value]) -> bool {
    list.is_empty() || list.iter().any(|element| value_matches(element, value))
}

/// Strings compare with `*` prefix/suffix globs (`strutil.GlobbedStringsMatch`); everything
/// else with Go's `reflect.DeepEqual` between HCL-decoded and JSON-decoded values, under which a
/// policy number (Go `int`) never equals a request number (`json.Number`). The bao dev server
/// confirms: `allowed_parameters = { n = [5] }` refuses `{"n": 5}`.
fn value_matches(element: &Value, value: &Value) -> bool {
    match (element, value) {
        (Value::String(pattern), Value::String(text)) => globbed_strings_match(pattern, text),
        _ => go_deep_equal(element, value),
    }
}

fn go_deep_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(left), Value::Bool(right)) => left == right,
        (Value::String(left), Value::String(right)) => left == right,
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .zip(right)
                    .all(|(left, right)| go_deep_equal(left, right))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left.iter().all(|(key, left)| {
                    right
                        .get(key)
                        .is_some_and(|right| go_deep_equal(left, right))
                })
        }
        _ => false,
    }
}

fn globbed_strings_match(pattern: &str, text: &str) -> bool {
    if pattern.len() < 2 {
        return pattern == text;
    }
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(_), Some(_)) => text.contains(&pattern[1..pattern.len() - 1]),
        (Some(suffix), None) => text.ends_with(suffix),
        (None, Some(prefix)) => text.starts_with(prefix),
        (None, None) => pattern == text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: Go's `GlobbedStringsMatch` exactly, including the one-character `*` pattern.
    /// Method: one row per pattern shape.
    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(
            globbed_strings_match(pattern, text),
            expected,
            "{pattern:?} vs {text:?}"
        );
    }

    #[test]
    fn glob_values_match_as_vault_does() {
        check("*", "*", true);
        check("*", "anything", false);
        check("foo", "foo", true);
        check("foo*", "foobar", true);
        check("foo*", "barfoo", false);
        check("*foo", "barfoo", true);
        check("*oo*", "xooy", true);
        check("**", "", true);
        check("*x*", "y", false);
    }
}
