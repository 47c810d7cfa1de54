//! `K=V` arguments as Vault's CLI reads them (go-secure-stdlib `kv-builder`): `key=value`,
//! `key=@file` (file contents), `key=\@x` (a literal `@x`), `key=-` (all of stdin), a bare `-`
//! (a JSON object on stdin, merged) and a bare `@file` (a JSON object from a file). A repeated
//! key becomes a list. Stdin may be consumed once.

use std::io::Read;

use serde_json::{Map, Value};

/// The parsed `K=V` arguments of one command.
pub struct KvArgs<'a> {
    stdin: &'a mut dyn Read,
    stdin_used: bool,
    result: Map<String, Value>,
}

impl<'a> KvArgs<'a> {
    pub fn new(stdin: &'a mut dyn Read) -> KvArgs<'a> {
        KvArgs {
            stdin,
            stdin_used: false,
            result: Map::new(),
        }
    }

    /// Go's `Builder.Add`: stops at the first bad argument, naming it as Go does.
    pub fn add(&mut self, args: &[String]) -> Result<(), String> {
        for arg in args {
            self.add_one(arg)
                .map_err(|error| format!("invalid key/value pair {arg:?}: {error}"))?;
        }
        Ok(())
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.result
    }

    fn add_one(&mut self, raw: &str) -> Result<(), String> {
        if raw.is_empty() {
            return Ok(());
        }
        let Some((key, value)) = raw.split_once('=') else {
            if raw == "-" {
                let text = self.read_stdin()?;
                return self.merge_json(&text);
            }
            if let Some(path) = raw.strip_prefix('@') {
                let text = std::fs::read_to_string(path).map_err(|e| go_open_error(path, &e))?;
                return self.merge_json(&text);
            }
            return Err("format must be key=value".to_string());
        };
        let value = if let Some(path) = value.strip_prefix('@') {
            std::fs::read_to_string(path)
                .map_err(|e| format!("error reading file: {}", go_open_error(path, &e)))?
        } else if let Some(literal) = value.strip_prefix('\\').filter(|v| v.starts_with('@')) {
            literal.to_string()
        } else if value == "-" {
            self.read_stdin()?
        } else {
            value.to_string()
        };
        let value = Value::String(value);
        match self.result.get_mut(key) {
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                self.result.insert(key.to_string(), value);
            }
        }
        Ok(())
    }

    fn read_stdin(&mut self) -> Result<String, String> {
        if self.stdin_used {
            return Err("stdin already consumed".to_string());
        }
        self.stdin_used = true;
        let mut text = String::new();
        self.stdin
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        Ok(text)
    }

    /// Go's `json.Decoder.Decode(&map)`: the first JSON value must be an object; its keys are
    /// merged into what was parsed so far.
    fn merge_json(&mut self, text: &str) -> Result<(), String> {
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        match stream.next() {
            None => Err("EOF".to_string()),
            Some(Err(error)) => Err(go_json_error(&error)),
            Some(Ok(Value::Object(map))) => {
                self.result.extend(map);
                Ok(())
            }
            Some(Ok(Value::Null)) => Ok(()),
            Some(Ok(other)) => Err(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                go_json_kind(&other)
            )),
        }
    }
}

fn go_json_kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "object",
    }
}

fn go_json_error(error: &serde_json::Error) -> String {
    if error.is_eof() {
        return "unexpected EOF".to_string();
    }
    format!("invalid character in JSON input: {error}")
}

/// Go's `*PathError` text: `open <path>: no such file or directory`.
pub fn go_open_error(path: &str, error: &std::io::Error) -> String {
    let reason = match error.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => error.to_string(),
    };
    format!("open {path}: {reason}")
}

/// `parseArgsData`: the `K=V` arguments as a JSON object.
pub fn parse_args_data(
    stdin: &mut dyn Read,
    args: &[String],
) -> Result<Map<String, Value>, String> {
    let mut builder = KvArgs::new(stdin);
    builder.add(args)?;
    Ok(builder.into_map())
}

/// `parseArgsDataString` (mapstructure `WeakDecode` into `map[string]string`).
pub fn parse_args_data_string(
    stdin: &mut dyn Read,
    args: &[String],
) -> Result<Vec<(String, String)>, String> {
    let map = parse_args_data(stdin, args)?;
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let text = weak_string(&value).ok_or_else(|| {
            format!("failed to convert values to strings: 1 error(s) decoding:\n\n* '[{key}]' expected type 'string', got unconvertible type '{}'", go_type_name(&value))
        })?;
        out.push((key, text));
    }
    Ok(out)
}

/// `parseArgsDataStringLists` (query parameters of `read` and `delete`).
pub fn parse_args_data_string_lists(
    stdin: &mut dyn Read,
    args: &[String],
) -> Result<Vec<(String, Vec<String>)>, String> {
    let map = parse_args_data(stdin, args)?;
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        let items = match &value {
            Value::Array(items) => items.iter().map(weak_string).collect::<Option<Vec<_>>>(),
            single => weak_string(single).map(|text| vec![text]),
        };
        let items = items.ok_or_else(|| {
            format!("failed to convert values to strings: 1 error(s) decoding:\n\n* '[{key}]' expected type 'string', got unconvertible type '{}'", go_type_name(&value))
        })?;
        out.push((key, items));
    }
    Ok(out)
}

/// mapstructure's weak conversion of a scalar to a string (bools become `1`/`0`).
fn weak_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(true) => Some("1".to_string()),
        Value::Bool(false) => Some("0".to_string()),
        Value::Null => Some(String::new()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        _ => "interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn check(list: &[&str], stdin: &str) -> Result<Value, String> {
        let mut input = stdin.as_bytes();
        parse_args_data(&mut input, &args(list)).map(Value::Object)
    }

    #[test]
    fn kv_pairs_parse_like_vault() {
        let cases: &[(&[&str], &str, Value)] = &[
            (
                &["a=1", "b=two words"],
                "",
                serde_json::json!({"a":"1","b":"two words"}),
            ),
            (&["a=b=c"], "", serde_json::json!({"a":"b=c"})),
            (&["a="], "", serde_json::json!({"a":""})),
            (&["=x"], "", serde_json::json!({"":"x"})),
            (
                &["a=1", "a=2", "a=3"],
                "",
                serde_json::json!({"a":["1","2","3"]}),
            ),
            (&["a=\\@literal"], "", serde_json::json!({"a":"@literal"})),
            (
                &["a=-"],
                "from stdin\n",
                serde_json::json!({"a":"from stdin\n"}),
            ),
            (
                &["-"],
                "{\"x\": 1, \"y\": {\"z\": true}}",
                serde_json::json!({"x":1,"y":{"z":true}}),
            ),
            (
                &["-", "x=2"],
                "{\"x\": 1}",
                serde_json::json!({"x":[1,"2"]}),
            ),
            (&[""], "", serde_json::json!({})),
        ];
        for (input, stdin, expected) in cases {
            assert_eq!(check(input, stdin).unwrap(), *expected, "input {input:?}");
        }
    }

    #[test]
    fn kv_errors_read_like_vault() {
        // Captured from bao: `bao write secret/x foo` and friends.
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["foo"],
                "",
                "invalid key/value pair \"foo\": format must be key=value",
            ),
            (
                &["a=-", "b=-"],
                "x",
                "invalid key/value pair \"b=-\": stdin already consumed",
            ),
            (
                &["a=@/nonexistent/file"],
                "",
                "invalid key/value pair \"a=@/nonexistent/file\": error reading file: open /nonexistent/file: no such file or directory",
            ),
            (
                &["-"],
                "[1]",
                "invalid key/value pair \"-\": json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
        ];
        for (input, stdin, expected) in cases {
            assert_eq!(
                check(input, stdin).unwrap_err(),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn files_are_read_for_at_values() {
        let dir = std::env::temp_dir().join(format!("tresor-kvargs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("v.txt");
        std::fs::write(&file, "secret\n").unwrap();
        let json = dir.join("v.json");
        std::fs::write(&json, "{\"k\":\"v\"}").unwrap();
        let value_arg = format!("a=@{}", file.display());
        let file_arg = format!("@{}", json.display());
        assert_eq!(
            check(&[&value_arg, &file_arg], "").unwrap(),
            serde_json::json!({"a":"secret\n","k":"v"})
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn string_views_convert_weakly() {
        let mut stdin = "{\"n\": 3, \"b\": true}".as_bytes();
        let strings = parse_args_data_string(&mut stdin, &args(&["-", "t=x"])).unwrap();
        assert_eq!(
            strings,
            vec![
                ("b".to_string(), "1".to_string()),
                ("n".to_string(), "3".to_string()),
                ("t".to_string(), "x".to_string())
            ]
        );
        let mut empty = "".as_bytes();
        let lists =
            parse_args_data_string_lists(&mut empty, &args(&["v=1", "v=2", "w=x"])).unwrap();
        assert_eq!(
            lists,
            vec![
                ("v".to_string(), vec!["1".to_string(), "2".to_string()]),
                ("w".to_string(), vec!["x".to_string()])
            ]
        );
    }
}
