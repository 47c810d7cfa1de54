//! Output formatting shared by every command: Vault's `Key  Value` tables (ryanuber/columnize
//! with four-space glue and `n/a` for empty cells), kr/text's minimum-raggedness wrapping at 78
//! columns, and Go's `json.MarshalIndent(v, "", "  ")` (including its `<`, `>`, `&` escapes).

use serde::Serialize;

/// Vault's `maxLineLength`.
pub const LINE_LENGTH_MAX: usize = 78;

/// The delimiter Vault uses between columns of secret data (it hopes no secret contains it).
pub const HOPE_DELIM: &str = "♨";

/// Aligns `lines` split on `delim` into columns (columnize with Vault's config).
pub fn columnize(lines: &[String], delim: &str) -> String {
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|line| {
            line.split(delim)
                .map(|cell| match cell.trim() {
                    "" => "n/a".to_string(),
                    trimmed => trimmed.to_string(),
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (index, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(index) {
                Some(existing) => *existing = (*existing).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut out = String::new();
    for row in &rows {
        for (index, cell) in row.iter().enumerate() {
            if index + 1 == row.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                let pad = widths[index] - cell.chars().count();
                out.push_str(&" ".repeat(pad));
                out.push_str("    ");
            }
        }
        out.push('\n');
    }
    out.pop();
    out
}

/// Vault's `tableOutput`: inserts the `---   -----` underline below the header row.
pub fn table_output(rows: &[String], delim: &str) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let underline: Vec<String> = rows[0]
        .split(delim)
        .map(|header| "-".repeat(header.trim().len()))
        .collect();
    let mut lines = Vec::with_capacity(rows.len() + 1);
    lines.push(rows[0].clone());
    lines.push(underline.join(delim));
    lines.extend_from_slice(&rows[1..]);
    columnize(&lines, delim)
}

/// A `Key | Value` table from pairs, as most commands print.
pub fn key_value_table(pairs: &[(String, String)]) -> String {
    let mut rows = vec![format!("Key{HOPE_DELIM}Value")];
    rows.extend(
        pairs
            .iter()
            .map(|(key, value)| format!("{key}{HOPE_DELIM}{value}")),
    );
    table_output(&rows, HOPE_DELIM)
}

/// kr/text `Wrap(s, 78)`.
pub fn wrap_at_length(text: &str) -> String {
    wrap_at_length_with_padding(text, 0)
}

/// kr/text `Wrap(s, 78 - pad)` with every line indented by `pad` spaces.
pub fn wrap_at_length_with_padding(text: &str, pad: usize) -> String {
    let wrapped = wrap(text, LINE_LENGTH_MAX - pad);
    let indent = " ".repeat(pad);
    wrapped
        .split('\n')
        .map(|line| format!("{indent}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// kr/text's minimum-raggedness wrap: words split on single spaces (newlines become spaces),
/// cost is the squared slack per line plus a penalty for overlong lines, last line free.
pub fn wrap(text: &str, limit: usize) -> String {
    let flattened = text.trim().replace('\n', " ");
    let words: Vec<&str> = flattened.split(' ').collect();
    let count = words.len();
    // kr/text measures words in bytes (Go's `len`), so `’` counts as three.
    let widths: Vec<i64> = words.iter().map(|w| w.len() as i64).collect();
    let limit = limit as i64;
    let penalty: i64 = 100_000;
    // length(i, j): width of words i..=j joined by single spaces.
    let length = |i: usize, j: usize| -> i64 { widths[i..=j].iter().sum::<i64>() + (j - i) as i64 };
    let mut cost = vec![i64::from(i32::MAX); count];
    let mut next_break = vec![count; count];
    for i in (0..count).rev() {
        if length(i, count - 1) <= limit || i == count - 1 {
            cost[i] = 0;
            next_break[i] = count;
            continue;
        }
        for j in i + 1..count {
            let line = length(i, j - 1);
            let slack = limit - line;
            let mut candidate = slack * slack + cost[j];
            if line > limit {
                candidate += penalty;
            }
            if candidate < cost[i] {
                cost[i] = candidate;
                next_break[i] = j;
            }
        }
    }
    let mut lines = Vec::new();
    let mut start = 0;
    while start < count {
        lines.push(words[start..next_break[start]].join(" "));
        start = next_break[start];
    }
    lines.join("\n")
}

/// Go's `json.MarshalIndent(v, "", "  ")`, including its HTML-safe escapes.
pub fn go_json<T: Serialize + ?Sized>(value: &T) -> String {
    let text = serde_json::to_string_pretty(value).expect("CLI output values serialize");
    go_escape(&text)
}

/// Applies the escapes Go's encoder adds on top of JSON's (`<`, `>`, `&`, U+2028, U+2029).
/// These characters only occur inside strings, so replacing them everywhere is safe.
pub fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}

/// Go's `fmt.Sprintf("%v", []string{…})`: `[a b c]`.
pub fn go_string_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| serde_json::to_string(item).expect("strings serialize"))
        .collect();
    format!("[{}]", quoted.join(" "))
}

/// Vault's `humanDuration` of whole seconds: `768h`, `1h30m`, `45s`, `0s`.
pub fn human_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let hours = seconds / 3600;
    let minutes = (seconds % 3600) / 60;
    let secs = seconds % 60;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{secs}s"));
    // Go prints 1h0m0s; Vault trims the zero tails: 1h, 1h30m, 1m.
    if out.ends_with("m0s") {
        out.truncate(out.len() - 2);
    }
    if let Some(index) = out.find("h0m") {
        out.replace_range(index + 1..index + 3, "");
    }
    out
}

/// Vault's YAML output (ghodss/yaml over go-yaml v2): keys sorted, sequences not indented
/// under their key, strings quoted only where YAML 1.1 would read them as something else.
pub fn go_yaml(value: &serde_json::Value) -> String {
    let mut out = String::new();
    yaml_node(value, 0, &mut out);
    out.trim().to_string()
}

fn yaml_node(value: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                out.push_str(&format!("{pad}{}:", yaml_string(key)));
                yaml_child(item, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        let mut nested = String::new();
                        yaml_node(item, indent + 2, &mut nested);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    Value::Array(list) if !list.is_empty() => {
                        out.push('\n');
                        yaml_node(item, indent + 2, out);
                    }
                    _ => out.push_str(&format!(" {}\n", yaml_scalar(item))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

fn yaml_child(item: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value;
    match item {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            yaml_node(item, indent + 2, out);
        }
        Value::Array(list) if !list.is_empty() => {
            out.push('\n');
            yaml_node(item, indent, out);
        }
        _ => out.push_str(&format!(" {}\n", yaml_scalar(item))),
    }
}

fn yaml_scalar(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

fn yaml_string(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let special_word = matches!(
        lower.as_str(),
        "y" | "yes"
            | "n"
            | "no"
            | "true"
            | "false"
            | "on"
            | "off"
            | "null"
            | "~"
            | ".inf"
            | "-.inf"
            | ".nan"
    );
    let numeric = text.parse::<f64>().is_ok() || text.starts_with("0x");
    let bytes = text.as_bytes();
    let timestamp = bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-';
    let leading = text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c));
    let inner =
        text.contains(": ") || text.contains(" #") || text.ends_with(':') || text.ends_with(' ');
    let control = text.chars().any(|c| c.is_control());
    // go-yaml double-quotes what would read back as another type, or cannot be single-quoted;
    // it single-quotes what only the plain style cannot carry (indicators, `: `, ` #`).
    if text.is_empty() || special_word || numeric || timestamp || control {
        return serde_json::to_string(text).expect("strings serialize");
    }
    if leading || inner {
        return format!("'{}'", text.replace('\'', "''"));
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table_matches_bao_sealed_status() {
        // Captured from `bao status` against an uninitialised server (Commit Date → Build Date).
        let table = table_output(
            &rows(&[
                "Key | Value",
                "Seal Type | shamir",
                "Initialized | false",
                "Sealed | true",
                "Total Shares | 0",
                "Threshold | 0",
                "Unseal Progress | 0/0",
                "Unseal Nonce | ",
                "Version | 1.14.9",
                "Storage Type | raft",
                "HA Enabled | true",
            ]),
            "|",
        );
        let expected = "\
Key                Value
---                -----
Seal Type          shamir
Initialized        false
Sealed             true
Total Shares       0
Threshold          0
Unseal Progress    0/0
Unseal Nonce       n/a
Version            1.14.9
Storage Type       raft
HA Enabled         true";
        assert_eq!(table, expected);
    }

    #[test]
    fn table_matches_bao_rekey_status() {
        let table = key_value_table(&[
            ("Nonce".to_string(), String::new()),
            ("Started".to_string(), "false".to_string()),
        ]);
        assert_eq!(
            table,
            "Key        Value\n---        -----\nNonce      n/a\nStarted    false"
        );
    }

    #[test]
    fn wrap_matches_kr_text() {
        let text = "Vault initialized with 5 key shares and a key threshold of 3. Please securely \
                    distribute the key shares printed above. When the Vault is re-sealed, restarted, \
                    or stopped, you must supply at least 3 of these keys to unseal it before it can \
                    start servicing requests.";
        let expected = "\
Vault initialized with 5 key shares and a key threshold of 3. Please securely
distribute the key shares printed above. When the Vault is re-sealed,
restarted, or stopped, you must supply at least 3 of these keys to unseal it
before it can start servicing requests.";
        assert_eq!(wrap_at_length(text), expected);
        // Captured from bao: the raw error paragraph of `operator unseal` without a tty keeps
        // the double space left by "\n\n".
        let unseal = "An error occurred attempting to ask for an unseal key. The raw error message \
                      is shown below, but usually this is because you attempted to pipe a value \
                      into the unseal command or you are executing outside of a terminal (tty). \
                      You should run the unseal command from a terminal for maximum security. If \
                      this is not an option, the unseal key can be provided as the first argument \
                      to the unseal command. The raw error was:\n\nfile descriptor 0 is not a terminal";
        let expected = "\
An error occurred attempting to ask for an unseal key. The raw error message
is shown below, but usually this is because you attempted to pipe a value
into the unseal command or you are executing outside of a terminal (tty). You
should run the unseal command from a terminal for maximum security. If this
is not an option, the unseal key can be provided as the first argument to the
unseal command. The raw error was:  file descriptor 0 is not a terminal";
        assert_eq!(wrap_at_length(unseal), expected);
    }

    #[test]
    fn json_matches_go_marshal_indent() {
        #[derive(Serialize)]
        struct Sample {
            keys: Vec<String>,
            empty: Vec<String>,
            text: String,
            n: u32,
        }
        let sample = Sample {
            keys: vec!["a".to_string()],
            empty: Vec::new(),
            text: "<a&b>".to_string(),
            n: 3,
        };
        assert_eq!(
            go_json(&sample),
            "{\n  \"keys\": [\n    \"a\"\n  ],\n  \"empty\": [],\n  \"text\": \"\\u003ca\\u0026b\\u003e\",\n  \"n\": 3\n}"
        );
    }

    #[test]
    fn yaml_matches_bao_status() {
        let value = serde_json::json!({"active_time": "2026-11-26T14:10:02.488023215Z", "build_date": "",
            "cluster_id": "9a7a9cf1-e990-ccb7-4057-d3fe9ff18754", "ha_enabled": true, "n": 1,
            "leader_address": "http://127.0.0.1:18200", "raft_applied_index": 41, "keys": ["a", "b"]});
        let expected = "active_time: \"2026-11-26T14:10:02.488023215Z\"\nbuild_date: \"\"\n\
                        cluster_id: 9a7a9cf1-e990-ccb7-4057-d3fe9ff18754\nha_enabled: true\nkeys:\n- a\n- b\n\
                        leader_address: http://127.0.0.1:18200\n\"n\": 1\nraft_applied_index: 41";
        assert_eq!(go_yaml(&value), expected);
    }

    #[test]
    fn human_duration_trims_zero_units() {
        let cases = [
            (0, "0s"),
            (45, "45s"),
            (60, "1m"),
            (3600, "1h"),
            (5400, "1h30m"),
            (2_764_800, "768h"),
            (3661, "1h1m1s"),
            (3601, "1h1s"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "seconds {seconds}");
        }
    }
}
