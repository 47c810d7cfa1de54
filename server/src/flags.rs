//! Go-style command-line flags (`-name=value`, `-name value`, `--name`), parsed the way Go's
//! `flag` package and Vault's `FlagSets` do, with the same error texts, so scripts that drive
//! `vault` drive `tresor` unchanged.
//!
//! Parsing stops at the first argument that is not a flag (or after `--`); everything after it
//! is positional. A flag that is not declared is an error (`flag provided but not defined: -x`),
//! which callers print and answer with exit code 1, as `vault` does.

#![allow(dead_code)] // Part of this API is for the server and the commands still to come.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The type of a declared flag; it decides how its value is parsed and shown in help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagKind {
    /// `-name`, `-name=true|false|1|0|t|f`; never consumes the next argument.
    Bool,
    /// Any text.
    String,
    /// A Go `strconv.ParseInt(s, 0, 64)` integer.
    Int,
    /// Vault's `ParseDurationSecond`: `90`, `90s`, `1h30m`, `7d`.
    Duration,
    /// Repeatable text flag; every occurrence is kept (trimmed), in order.
    Strings,
    /// Repeatable `key=value` flag (`-metadata a=b -metadata c=d`); a later key wins.
    Map,
}

/// A parsed flag value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagValue {
    Bool(bool),
    String(String),
    Int(i64),
    /// Whole seconds.
    Duration(u64),
    Strings(Vec<String>),
    Map(BTreeMap<String, String>),
}

/// One declared flag.
#[derive(Clone, Debug)]
pub struct Flag {
    pub name: String,
    pub aliases: Vec<String>,
    pub kind: FlagKind,
    /// Value before parsing (after the environment variable, if any, was applied).
    pub default: FlagValue,
    /// Default as shown in help (`The default is …`); empty hides it.
    pub default_text: String,
    pub env: Option<String>,
    pub usage: String,
    pub hidden: bool,
    /// Overrides the `<example>` shown in help (`*bool` for Vault's `BoolPtrVar`).
    pub example: Option<String>,
    section: usize,
}

/// Why parsing failed. `Help` is `-h`/`-help`; the caller prints the help text and exits 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagError {
    Help,
    Invalid(String),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::Help => f.write_str("flag: help requested"),
            FlagError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for FlagError {}

/// A declarative set of flags, grouped into titled sections for help output, e.g.
/// `FlagSet::new("operator init").section("Common Options").int("key-shares", 0, "…").alias("n")`.
#[derive(Clone, Debug, Default)]
pub struct FlagSet {
    pub command: String,
    sections: Vec<String>,
    flags: Vec<Flag>,
}

/// The result of parsing: typed values by flag name, which flags were given, positional args.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    values: BTreeMap<String, FlagValue>,
    given: BTreeSet<String>,
    args: Vec<String>,
}

impl FlagSet {
    pub fn new(command: &str) -> FlagSet {
        FlagSet {
            command: command.to_string(),
            sections: Vec::new(),
            flags: Vec::new(),
        }
    }

    /// Starts a new help section (`HTTP Options`, `Command Options`, …).
    pub fn section(mut self, title: &str) -> FlagSet {
        self.sections.push(title.to_string());
        self
    }

    pub fn bool(self, name: &str, usage: &str) -> FlagSet {
        self.add(name, FlagKind::Bool, FlagValue::Bool(false), "false", usage)
    }

    pub fn bool_default(self, name: &str, default: bool, usage: &str) -> FlagSet {
        let text = if default { "true" } else { "false" };
        self.add(name, FlagKind::Bool, FlagValue::Bool(default), text, usage)
    }

    pub fn string(self, name: &str, default: &str, usage: &str) -> FlagSet {
        let value = FlagValue::String(default.to_string());
        self.add(name, FlagKind::String, value, default, usage)
    }

    pub fn int(self, name: &str, default: i64, usage: &str) -> FlagSet {
        let text = if default == 0 {
            String::new()
        } else {
            default.to_string()
        };
        self.add(name, FlagKind::Int, FlagValue::Int(default), &text, usage)
    }

    pub fn duration(self, name: &str, default_seconds: u64, usage: &str) -> FlagSet {
        let text = if default_seconds == 0 {
            String::new()
        } else {
            format!("{default_seconds}s")
        };
        let value = FlagValue::Duration(default_seconds);
        self.add(name, FlagKind::Duration, value, &text, usage)
    }

    /// A repeatable flag (`-config a.hcl -config b.hcl`).
    pub fn strings(self, name: &str, usage: &str) -> FlagSet {
        self.add(
            name,
            FlagKind::Strings,
            FlagValue::Strings(Vec::new()),
            "",
            usage,
        )
    }

    /// A repeatable `key=value` flag (Vault's `StringMapVar`).
    pub fn map(self, name: &str, usage: &str) -> FlagSet {
        let value = FlagValue::Map(BTreeMap::new());
        self.add(name, FlagKind::Map, value, "", usage)
    }

    /// Overrides the `<example>` help shows for the last declared flag.
    pub fn example(mut self, text: &str) -> FlagSet {
        let flag = self
            .flags
            .last_mut()
            .expect("example() follows a flag declaration");
        flag.example = Some(text.to_string());
        self
    }

    /// Adds an alias to the last declared flag (`-n` for `-key-shares`).
    pub fn alias(mut self, alias: &str) -> FlagSet {
        let flag = self
            .flags
            .last_mut()
            .expect("alias() follows a flag declaration");
        flag.aliases.push(alias.to_string());
        self
    }

    /// Makes the last declared flag take its initial value from an environment variable
    /// (`VAULT_ADDR`); a `VAULT_` variable also falls back to its `BAO_` twin.
    pub fn env(mut self, var: &str) -> FlagSet {
        let flag = self
            .flags
            .last_mut()
            .expect("env() follows a flag declaration");
        flag.env = Some(var.to_string());
        if let Some(raw) = env_lookup(var) {
            match flag.kind {
                FlagKind::Bool => {
                    if let Ok(value) = parse_go_bool(&raw) {
                        flag.default = FlagValue::Bool(value);
                    }
                }
                FlagKind::String => flag.default = FlagValue::String(raw),
                FlagKind::Int => {
                    if let Ok(value) = parse_go_int(&raw) {
                        flag.default = FlagValue::Int(value);
                    }
                }
                FlagKind::Duration => {
                    if let Ok(value) = crate::config::parse_duration_seconds(&raw) {
                        flag.default = FlagValue::Duration(value);
                    }
                }
                FlagKind::Strings => {
                    let items = raw.split(',').map(|s| s.trim().to_string());
                    flag.default = FlagValue::Strings(items.filter(|s| !s.is_empty()).collect());
                }
                FlagKind::Map => {}
            }
        }
        self
    }

    /// Overrides the `The default is …` text of the last declared flag.
    pub fn default_text(mut self, text: &str) -> FlagSet {
        let flag = self
            .flags
            .last_mut()
            .expect("default_text() follows a flag declaration");
        flag.default_text = text.to_string();
        self
    }

    /// Hides the last declared flag from help.
    pub fn hidden(mut self) -> FlagSet {
        let flag = self
            .flags
            .last_mut()
            .expect("hidden() follows a flag declaration");
        flag.hidden = true;
        self
    }

    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    fn add(
        mut self,
        name: &str,
        kind: FlagKind,
        default: FlagValue,
        text: &str,
        usage: &str,
    ) -> FlagSet {
        assert!(self.find(name).is_none(), "flag -{name} declared twice");
        if self.sections.is_empty() {
            self.sections.push("Command Options".to_string());
        }
        self.flags.push(Flag {
            name: name.to_string(),
            aliases: Vec::new(),
            kind,
            default,
            default_text: text.to_string(),
            env: None,
            usage: usage.to_string(),
            hidden: false,
            example: None,
            section: self.sections.len() - 1,
        });
        self
    }

    fn find(&self, name: &str) -> Option<&Flag> {
        self.flags
            .iter()
            .find(|flag| flag.name == name || flag.aliases.iter().any(|alias| alias == name))
    }

    /// Parses `args` as Go's `flag.FlagSet.Parse` does.
    pub fn parse(&self, args: &[String]) -> Result<Flags, FlagError> {
        let mut flags = Flags::default();
        for flag in &self.flags {
            flags.values.insert(flag.name.clone(), flag.default.clone());
        }
        let mut repeated_seen: BTreeSet<String> = BTreeSet::new();
        let mut index = 0;
        while index < args.len() {
            let arg = &args[index];
            if arg.len() < 2 || !arg.starts_with('-') {
                break;
            }
            let minuses = if arg.as_bytes()[1] == b'-' { 2 } else { 1 };
            if minuses == 2 && arg.len() == 2 {
                index += 1;
                break;
            }
            let spec = &arg[minuses..];
            if spec.is_empty() || spec.starts_with('-') || spec.starts_with('=') {
                return Err(FlagError::Invalid(format!("bad flag syntax: {arg}")));
            }
            let (name, inline) = match spec.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (spec, None),
            };
            index += 1;
            let Some(flag) = self.find(name) else {
                if name == "h" || name == "help" {
                    return Err(FlagError::Help);
                }
                return Err(FlagError::Invalid(format!(
                    "flag provided but not defined: -{name}"
                )));
            };
            let value = match (flag.kind, inline) {
                (FlagKind::Bool, Some(value)) => value,
                (FlagKind::Bool, None) => "true".to_string(),
                (_, Some(value)) => value,
                (_, None) => {
                    let Some(next) = args.get(index) else {
                        return Err(FlagError::Invalid(format!(
                            "flag needs an argument: -{name}"
                        )));
                    };
                    index += 1;
                    next.clone()
                }
            };
            let parsed = parse_value(flag, name, &value)?;
            let slot = flags
                .values
                .get_mut(&flag.name)
                .expect("every flag has a value");
            match (slot, parsed) {
                (FlagValue::Map(map), FlagValue::Map(more)) => map.extend(more),
                (FlagValue::Strings(list), FlagValue::Strings(mut more)) => {
                    // The first occurrence replaces an environment default; later ones append.
                    if repeated_seen.insert(flag.name.clone()) {
                        list.clear();
                    }
                    list.append(&mut more);
                }
                (slot, parsed) => *slot = parsed,
            }
            flags.given.insert(flag.name.clone());
        }
        flags.args = args[index..].to_vec();
        Ok(flags)
    }

    /// The flag part of a command's help, formatted like Vault's `FlagSets.Help()`.
    pub fn help(&self) -> String {
        let mut out = String::new();
        for (position, title) in self.sections.iter().enumerate() {
            // Go's `FlagSet.VisitAll` visits flags in lexicographical order.
            let mut visible: Vec<&Flag> = self
                .flags
                .iter()
                .filter(|flag| flag.section == position && !flag.hidden)
                .collect();
            visible.sort_by(|a, b| a.name.cmp(&b.name));
            if visible.is_empty() {
                continue;
            }
            out.push_str(title);
            out.push_str(":\n\n");
            for flag in visible {
                out.push_str(&flag_help(flag));
            }
        }
        out.trim_end_matches('\n').to_string()
    }
}

fn flag_help(flag: &Flag) -> String {
    let example = match flag.kind {
        FlagKind::Bool => "",
        FlagKind::String => "string",
        FlagKind::Int => "int",
        FlagKind::Duration => "duration",
        FlagKind::Strings => "string",
        FlagKind::Map => "key=value",
    };
    let example = flag.example.as_deref().unwrap_or(example);
    let mut usage = flag.usage.split_whitespace().collect::<Vec<_>>().join(" ");
    if !flag.aliases.is_empty() {
        let quoted: Vec<String> = flag.aliases.iter().map(|a| format!("\"-{a}\"")).collect();
        let aliases = match quoted.len() {
            1 => quoted[0].clone(),
            2 => format!("{} and {}", quoted[0], quoted[1]),
            _ => {
                let (last, rest) = quoted.split_last().expect("at least three aliases");
                format!("{}, and {last}", rest.join(", "))
            }
        };
        usage.push_str(&format!(" This is aliased as {aliases}."));
    }
    if !flag.default_text.is_empty() {
        usage.push_str(&format!(" The default is {}.", flag.default_text));
    }
    if let Some(env) = &flag.env {
        usage.push_str(&format!(
            " This can also be specified via the {env} environment variable."
        ));
    }
    let head = if example.is_empty() {
        format!("  -{}\n", flag.name)
    } else {
        format!("  -{}=<{example}>\n", flag.name)
    };
    format!(
        "{head}{}\n\n",
        crate::cli::format::wrap_at_length_with_padding(&usage, 6)
    )
}

fn parse_value(flag: &Flag, given_name: &str, value: &str) -> Result<FlagValue, FlagError> {
    match flag.kind {
        FlagKind::Bool => parse_go_bool(value).map(FlagValue::Bool).map_err(|err| {
            FlagError::Invalid(format!("invalid boolean value {value:?} for -{given_name}: {err}"))
        }),
        FlagKind::String => Ok(FlagValue::String(value.to_string())),
        FlagKind::Strings => Ok(FlagValue::Strings(vec![value.trim().to_string()])),
        FlagKind::Map => match value.split_once('=') {
            Some((key, item)) => Ok(FlagValue::Map(BTreeMap::from([(
                key.to_string(),
                item.to_string(),
            )]))),
            None => Err(FlagError::Invalid(format!(
                "invalid value {value:?} for flag -{given_name}: missing = in KV pair: {value:?}"
            ))),
        },
        FlagKind::Int => parse_go_int(value).map(FlagValue::Int).map_err(|err| {
            FlagError::Invalid(format!("invalid value {value:?} for flag -{given_name}: {err}"))
        }),
        FlagKind::Duration => crate::config::parse_duration_seconds(value)
            .map(FlagValue::Duration)
            .map_err(|_| {
                FlagError::Invalid(format!(
                    "invalid value {value:?} for flag -{given_name}: time: invalid duration {value:?}"
                ))
            }),
    }
}

impl Flags {
    pub fn bool(&self, name: &str) -> bool {
        match self.value(name) {
            FlagValue::Bool(value) => *value,
            other => panic!("flag -{name} is not a bool: {other:?}"),
        }
    }

    pub fn string(&self, name: &str) -> &str {
        match self.value(name) {
            FlagValue::String(value) => value,
            other => panic!("flag -{name} is not a string: {other:?}"),
        }
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.value(name) {
            FlagValue::Int(value) => *value,
            other => panic!("flag -{name} is not an int: {other:?}"),
        }
    }

    pub fn duration_seconds(&self, name: &str) -> u64 {
        match self.value(name) {
            FlagValue::Duration(value) => *value,
            other => panic!("flag -{name} is not a duration: {other:?}"),
        }
    }

    pub fn strings(&self, name: &str) -> &[String] {
        match self.value(name) {
            FlagValue::Strings(value) => value,
            other => panic!("flag -{name} is not repeatable: {other:?}"),
        }
    }

    pub fn map(&self, name: &str) -> &BTreeMap<String, String> {
        match self.value(name) {
            FlagValue::Map(value) => value,
            other => panic!("flag -{name} is not a map: {other:?}"),
        }
    }

    /// Whether the flag is declared at all.
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Whether the flag appeared on the command line (not merely defaulted or from env).
    pub fn is_set(&self, name: &str) -> bool {
        self.given.contains(name)
    }

    /// Positional arguments after the flags.
    pub fn args(&self) -> &[String] {
        &self.args
    }

    fn value(&self, name: &str) -> &FlagValue {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("flag -{name} is not declared"))
    }
}

/// Reads `VAULT_X`, falling back to `BAO_X` when the Vault spelling is unset.
pub fn env_lookup(var: &str) -> Option<String> {
    if let Ok(value) = std::env::var(var) {
        return Some(value);
    }
    let rest = var.strip_prefix("VAULT_")?;
    std::env::var(format!("BAO_{rest}")).ok()
}

/// Go's `strconv.ParseBool`, with its error text.
pub fn parse_go_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {value:?}: invalid syntax"
        )),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b` or `0` (octal)
/// prefixes, with `_` separators allowed only after a prefix. Error texts are Go's.
pub fn parse_go_int(value: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {value:?}: invalid syntax");
    let range = || format!("strconv.ParseInt: parsing {value:?}: value out of range");
    let (negative, body) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') && !prefixed {
        return Err(syntax());
    }
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    let magnitude = u128::from_str_radix(&digits, radix).map_err(|_| range())?;
    let signed = if negative {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    i64::try_from(signed).map_err(|_| range())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn set() -> FlagSet {
        FlagSet::new("test")
            .bool("dev", "Dev mode.")
            .string("format", "table", "Format.")
            .int("key-shares", 0, "Shares.")
            .alias("n")
            .strings("config", "Config files.")
            .duration("ttl", 0, "TTL.")
    }

    fn check(list: &[&str]) -> Result<Flags, FlagError> {
        set().parse(&args(list))
    }

    #[test]
    fn flags_accept_every_go_spelling() {
        let flags = check(&["-format=json", "--key-shares", "3", "-dev", "pos", "-x"]).unwrap();
        assert_eq!(flags.string("format"), "json");
        assert_eq!(flags.int("key-shares"), 3);
        assert!(flags.bool("dev"));
        assert_eq!(flags.args(), &args(&["pos", "-x"])[..]);
        let flags = check(&["--format", "json", "-n=5", "-dev=false"]).unwrap();
        assert_eq!(flags.string("format"), "json");
        assert_eq!(flags.int("key-shares"), 5);
        assert!(!flags.bool("dev"));
        assert!(flags.is_set("key-shares"));
        let flags = check(&["-dev", "false"]).unwrap();
        assert!(
            flags.bool("dev"),
            "a bool flag never consumes the next argument"
        );
        assert_eq!(flags.args(), &args(&["false"])[..]);
    }

    #[test]
    fn flags_repeat_terminate_and_stop() {
        let flags = check(&["-config", "a.hcl", "-config=b.hcl", "--", "-dev"]).unwrap();
        assert_eq!(flags.strings("config"), &args(&["a.hcl", "b.hcl"])[..]);
        assert!(!flags.bool("dev"));
        assert_eq!(flags.args(), &args(&["-dev"])[..]);
        let flags = check(&["-", "-dev"]).unwrap();
        assert_eq!(flags.args(), &args(&["-", "-dev"])[..]);
        let flags = check(&["-ttl=1h30m"]).unwrap();
        assert_eq!(flags.duration_seconds("ttl"), 5400);
    }

    #[test]
    fn flags_errors_use_go_texts() {
        let cases: &[(&[&str], &str)] = &[
            (&["-x"], "flag provided but not defined: -x"),
            (&["--x=1"], "flag provided but not defined: -x"),
            (&["-key-shares"], "flag needs an argument: -key-shares"),
            (
                &["-key-shares=abc"],
                "invalid value \"abc\" for flag -key-shares: strconv.ParseInt: parsing \"abc\": invalid syntax",
            ),
            (
                &["-dev=yes"],
                "invalid boolean value \"yes\" for -dev: strconv.ParseBool: parsing \"yes\": invalid syntax",
            ),
            (&["---x"], "bad flag syntax: ---x"),
            (&["-=x"], "bad flag syntax: -=x"),
            (
                &["-ttl=abc"],
                "invalid value \"abc\" for flag -ttl: time: invalid duration \"abc\"",
            ),
        ];
        for (input, expected) in cases {
            let err = check(input).unwrap_err();
            assert_eq!(err.to_string(), *expected, "input {input:?}");
        }
        assert_eq!(check(&["-h"]).unwrap_err(), FlagError::Help);
        assert_eq!(check(&["--help"]).unwrap_err(), FlagError::Help);
    }

    #[test]
    fn go_int_parsing_matches_strconv() {
        let cases: &[(&str, Option<i64>)] = &[
            ("10", Some(10)),
            ("-3", Some(-3)),
            ("+4", Some(4)),
            ("0x10", Some(16)),
            ("010", Some(8)),
            ("0b11", Some(3)),
            ("0o17", Some(15)),
            ("1_000", None),
            ("0x1_0", Some(16)),
            ("", None),
            ("9223372036854775808", None),
            ("-9223372036854775808", Some(i64::MIN)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_go_int(input).ok(), *expected, "input {input:?}");
        }
        assert!(
            parse_go_int("99999999999999999999")
                .unwrap_err()
                .ends_with("value out of range")
        );
    }

    #[test]
    fn help_lists_sections_defaults_and_aliases() {
        let help = FlagSet::new("x")
            .section("Common Options")
            .int("key-shares", 5, "Number of key shares.")
            .alias("n")
            .help();
        assert_eq!(
            help,
            "Common Options:\n\n  -key-shares=<int>\n      Number of key shares. This is aliased as \"-n\". The default is 5."
        );
    }
}
