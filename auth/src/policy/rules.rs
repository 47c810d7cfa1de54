//! One policy's path rules, compiled from the document tree (Vault 1.14 `vault/policy.go`,
//! `parseACLPolicyWithTemplating` and `parsePaths`).

use super::document::{Item, Literal, Node};
use super::error::{InvalidKey, PolicyError};
use super::limits::POLICY_PATHS_MAX;
use serde_json::Value;
use std::collections::HashMap;
use tresor_framework::loose::parse_duration_seconds;

const TOP_LEVEL_KEYS: &[&str] = &["name", "path"];
const PATH_KEYS: &[&str] = &[
    "comment",
    "policy",
    "capabilities",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
];

/// A set of capabilities as a bitmap, in Vault's bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities(u32);

impl Capabilities {
    pub const DENY: Capabilities = Capabilities(1);
    pub const CREATE: Capabilities = Capabilities(1 << 1);
    pub const READ: Capabilities = Capabilities(1 << 2);
    pub const UPDATE: Capabilities = Capabilities(1 << 3);
    pub const DELETE: Capabilities = Capabilities(1 << 4);
    pub const LIST: Capabilities = Capabilities(1 << 5);
    pub const SUDO: Capabilities = Capabilities(1 << 6);
    pub const PATCH: Capabilities = Capabilities(1 << 7);

    /// Names in sorted order, as `sys/capabilities` answers (CAP-01).
    const SORTED_NAMES: [(&'static str, Capabilities); 8] = [
        ("create", Capabilities::CREATE),
        ("delete", Capabilities::DELETE),
        ("deny", Capabilities::DENY),
        ("list", Capabilities::LIST),
        ("patch", Capabilities::PATCH),
        ("read", Capabilities::READ),
        ("sudo", Capabilities::SUDO),
        ("update", Capabilities::UPDATE),
    ];

    pub fn from_name(name: &str) -> Option<Capabilities> {
        Self::SORTED_NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, capability)| *capability)
    }
    pub fn contains(self, other: Capabilities) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
    pub fn union(self, other: Capabilities) -> Capabilities {
        Capabilities(self.0 | other.0)
    }
    pub fn is_deny(self) -> bool {
        self.contains(Capabilities::DENY)
    }
    /// Vault's capability list: sorted names, `["deny"]` for an explicit deny or for nothing.
    pub fn names(self) -> Vec<String> {
        if self.is_deny() || self.0 == 0 {
            return vec!["deny".to_string()];
        }
        Self::SORTED_NAMES
            .iter()
            .filter(|(_, capability)| self.contains(*capability))
            .map(|(name, _)| (*name).to_string())
            .collect()
    }
}

/// Parameter constraints: lower-cased name → accepted (or refused) values; an empty list means
/// any value.
pub(crate) type ParameterMap = HashMap<String, Vec<Value>>;

/// What one rule grants, and what [`super::Acl`] merges across policies.
#[derive(Debug, Clone, Default)]
pub(crate) struct Permissions {
    pub capabilities: Capabilities,
    /// 0 means unset, as in Vault.
    pub min_wrapping_ttl_seconds: u64,
    pub max_wrapping_ttl_seconds: u64,
    pub allowed_parameters: ParameterMap,
    pub denied_parameters: ParameterMap,
    pub required_parameters: Vec<String>,
}

/// How a rule's path matches (POL-05).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatternKind {
    Exact,
    /// A trailing `*` without `+` segments; the stored pattern has the `*` removed.
    Prefix,
    /// Has a `+` segment; the stored pattern keeps any trailing `*`.
    SegmentWildcard,
}

#[derive(Debug, Clone)]
pub(crate) struct PathRule {
    pub pattern: String,
    pub kind: PatternKind,
    /// Contains `{{…}}` identity templating. Without identity support such a rule matches
    /// nothing, as in Vault for a token with no entity.
    pub templated: bool,
    pub permissions: Permissions,
}

/// Compiles the top-level items of a policy document.
pub(crate) fn compile_rules(items: &[Item]) -> Result<Vec<PathRule>, PolicyError> {
    check_keys(None, items, TOP_LEVEL_KEYS)?;
    let path_items: Vec<&Item> = items.iter().filter(|item| item.key == "path").collect();
    if path_items.len() > POLICY_PATHS_MAX {
        return Err(PolicyError::TooManyPaths {
            paths: path_items.len(),
            limit: POLICY_PATHS_MAX,
        });
    }
    let mut rules = Vec::with_capacity(path_items.len());
    for item in path_items {
        let key = item.labels.first().map_or("path", String::as_str);
        rules.push(compile_rule(key, &item.value)?);
    }
    Ok(rules)
}

fn check_keys(path: Option<&str>, items: &[Item], valid: &[&str]) -> Result<(), PolicyError> {
    let keys: Vec<InvalidKey> = items
        .iter()
        .filter(|item| !valid.contains(&item.key.as_str()))
        .map(|item| InvalidKey {
            key: item.key.clone(),
            line: item.assign_line,
        })
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    Err(PolicyError::InvalidKeys {
        path: path.map(str::to_string),
        keys,
    })
}

fn compile_rule(key: &str, body: &Node) -> Result<PathRule, PolicyError> {
    let templated = check_template(key)?;
    let Node::Object(fields, _) = body else {
        return Err(PolicyError::PathNotObject {
            path: key.to_string(),
            node_type: body.go_type(),
        });
    };
    check_keys(Some(key), fields, PATH_KEYS)?;
    let decoded = decode_fields(key, fields)?;

    let path = key.strip_prefix('/').unwrap_or(key);
    if path.contains("+*") {
        return Err(PolicyError::WildcardPlusGlob {
            path: path.to_string(),
        });
    }
    let has_segment_wildcards = path == "+" || path.contains("/+") || path.starts_with("+/");
    let (pattern, kind) = match path.strip_suffix('*') {
        _ if has_segment_wildcards => (path.to_string(), PatternKind::SegmentWildcard),
        Some(prefix) => (prefix.to_string(), PatternKind::Prefix),
        None => (path.to_string(), PatternKind::Exact),
    };
    let permissions = compile_permissions(key, decoded)?;
    Ok(PathRule {
        pattern,
        kind,
        templated,
        permissions,
    })
}

/// identitytpl's validity check: balanced `{{ … }}` pairs. Returns whether templating is used.
fn check_template(key: &str) -> Result<bool, PolicyError> {
    let mut pieces = key.split("{{");
    let first = pieces.next().unwrap_or("");
    if first.contains("}}") {
        return Err(PolicyError::UnbalancedTemplate);
    }
    let mut templated = false;
    for piece in pieces {
        if piece.split("}}").count() != 2 {
            return Err(PolicyError::UnbalancedTemplate);
        }
        templated = true;
    }
    Ok(templated)
}

/// The fields of a path block as HCL 1's decoder leaves them, before interpretation.
#[derive(Default)]
struct DecodedFields<'a> {
    policy: Option<String>,
    capabilities: Vec<String>,
    allowed_parameters: Option<ParameterMap>,
    denied_parameters: Option<ParameterMap>,
    required_parameters: Vec<String>,
    min_wrapping_ttl: Option<&'a Node>,
    max_wrapping_ttl: Option<&'a Node>,
}

fn decode_fields<'a>(key: &str, fields: &'a [Item]) -> Result<DecodedFields<'a>, PolicyError> {
    let mut decoded = DecodedFields::default();
    for field in fields {
        let value = &field.value;
        match field.key.as_str() {
            "policy" => decoded.policy = Some(decode_string(key, "root.Policy", value)?),
            "capabilities" => {
                decoded
                    .capabilities
                    .extend(decode_strings(key, "root.Capabilities", value)?)
            }
            "required_parameters" => decoded.required_parameters.extend(decode_strings(
                key,
                "root.required_parameters",
                value,
            )?),
            "mfa_methods" => {
                decode_strings(key, "root.mfa_methods", value)?;
            }
            "allowed_parameters" => {
                let map = decoded.allowed_parameters.get_or_insert_with(HashMap::new);
                decode_parameters(key, "root.allowed_parameters", value, map)?;
            }
            "denied_parameters" => {
                let map = decoded.denied_parameters.get_or_insert_with(HashMap::new);
                decode_parameters(key, "root.denied_parameters", value, map)?;
            }
            "min_wrapping_ttl" => decoded.min_wrapping_ttl = Some(value),
            "max_wrapping_ttl" => decoded.max_wrapping_ttl = Some(value),
            // `comment` has no field in Vault's struct, so any value passes; `control_group` is
            // an Enterprise feature we accept and ignore.
            _ => {}
        }
    }
    Ok(decoded)
}

fn decode_error(key: &str, node: &Node, message: String) -> PolicyError {
    PolicyError::Decode {
        path: key.to_string(),
        at: node.position(),
        message,
    }
}

fn decode_string(key: &str, field: &str, node: &Node) -> Result<String, PolicyError> {
    match node {
        Node::Literal(Literal::String(text), _) => Ok(text.clone()),
        Node::Literal(Literal::Number(number), _) => Ok(number.to_string()),
        other => Err(decode_error(
            key,
            other,
            format!("{field}: unknown type for string {}", other.go_type()),
        )),
    }
}

fn decode_strings(key: &str, field: &str, node: &Node) -> Result<Vec<String>, PolicyError> {
    let Node::List(elements, _) = node else {
        return Err(decode_error(
            key,
            node,
            format!("unknown slice type: {}", node.go_type()),
        ));
    };
    let mut strings = Vec::with_capacity(elements.len());
    for (index, element) in elements.iter().enumerate() {
        strings.push(decode_string(key, &format!("{field}[{index}]"), element)?);
    }
    Ok(strings)
}

fn decode_parameters(
    key: &str,
    field: &str,
    node: &Node,
    map: &mut ParameterMap,
) -> Result<(), PolicyError> {
    let Node::Object(entries, _) = node else {
        return Err(decode_error(
            key,
            node,
            format!("{field}: not an object type for map ({})", node.go_type()),
        ));
    };
    for entry in entries {
        let Node::List(values, _) = &entry.value else {
            let message = format!("unknown slice type: {}", entry.value.go_type());
            return Err(decode_error(key, &entry.value, message));
        };
        // Keys are lower-cased once here; requests are compared lower-cased (POL-09).
        map.insert(
            entry.key.to_lowercase(),
            values.iter().map(Node::to_json).collect(),
        );
    }
    Ok(())
}

/// `parseutil.ParseDurationSecond`: seconds as a number or numeric string, `<N>d`, or a Go
/// duration; `null` is unset.
fn decode_duration(field: &'static str, node: Option<&Node>) -> Result<u64, PolicyError> {
    let invalid = |message: String| PolicyError::InvalidDuration { field, message };
    match node {
        None | Some(Node::Literal(Literal::Null, _)) => Ok(0),
        Some(Node::Literal(Literal::String(text), _)) => {
            parse_duration_seconds(text).map_err(invalid)
        }
        Some(Node::Literal(Literal::Number(number), _)) => match number.as_f64() {
            Some(seconds) if seconds >= 0.0 && seconds.is_finite() => Ok(seconds as u64),
            _ => Err(invalid(format!("invalid duration {number}"))),
        },
        Some(_) => Err(invalid("could not parse duration from input".to_string())),
    }
}

fn compile_permissions(key: &str, decoded: DecodedFields<'_>) -> Result<Permissions, PolicyError> {
    let mut capability_names = decoded.capabilities;
    if let Some(policy) = decoded.policy.filter(|policy| !policy.is_empty()) {
        let legacy: &[&str] = match policy.as_str() {
            "deny" => &["deny"],
            "read" => &["read", "list"],
            "write" => &["create", "read", "update", "delete", "list"],
            "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
            _ => {
                return Err(PolicyError::InvalidLegacyPolicy {
                    path: key.to_string(),
                    policy,
                });
            }
        };
        if policy == "deny" {
            // Vault replaces the list here rather than appending to it.
            capability_names.clear();
        }
        capability_names.extend(legacy.iter().map(|name| (*name).to_string()));
    }

    let mut capabilities = Capabilities::default();
    for name in &capability_names {
        match Capabilities::from_name(name) {
            // A deny anywhere makes the rule deny-only, and Vault skips the rest of the block.
            Some(Capabilities::DENY) => {
                return Ok(Permissions {
                    capabilities: Capabilities::DENY,
                    ..Permissions::default()
                });
            }
            Some(capability) => capabilities = capabilities.union(capability),
            None => {
                return Err(PolicyError::InvalidCapability {
                    path: key.to_string(),
                    capability: name.clone(),
                });
            }
        }
    }

    let min_wrapping_ttl_seconds = decode_duration("min_wrapping_ttl", decoded.min_wrapping_ttl)?;
    let max_wrapping_ttl_seconds = decode_duration("max_wrapping_ttl", decoded.max_wrapping_ttl)?;
    if min_wrapping_ttl_seconds != 0
        && max_wrapping_ttl_seconds != 0
        && max_wrapping_ttl_seconds < min_wrapping_ttl_seconds
    {
        return Err(PolicyError::WrappingTtlOrder);
    }
    Ok(Permissions {
        capabilities,
        min_wrapping_ttl_seconds,
        max_wrapping_ttl_seconds,
        allowed_parameters: decoded.allowed_parameters.unwrap_or_default(),
        denied_parameters: decoded.denied_parameters.unwrap_or_default(),
        required_parameters: decoded
            .required_parameters
            .iter()
            .map(|name| name.to_lowercase())
            .collect(),
    })
}
