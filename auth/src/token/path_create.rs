//! `auth/token/create`, `create-orphan` and `create/<role>` (TOK-01..06, TOK-11, TOK-12):
//! Vault's `handleCreateCommon`.

use super::backend::{auth_reply, caller, invalid, is_sudo, kv_pairs};
use super::entry::{CreateToken, TokenEntry, TokenRole, TokenType};
use super::limits::{FIELD_BYTES_MAX, TOKEN_META_PAIRS_MAX, TOKEN_POLICIES_MAX};
use super::path_roles::valid_role_name;
use super::store::TokenStore;
use super::ttl::{TtlRequest, calculate_ttl};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tresor_framework::{Error, ErrorKind, Input, Path, Reply, loose};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("create-orphan")
            .write(create_orphan)
            .help("The token create path is used to create new orphan tokens."),
        Path::new("create/{role_name}")
            .write(create_against_role)
            .help(
                "This token create path is used to create new tokens adhering to the given role.",
            ),
        Path::new("create")
            .write(create)
            .help("The token create path is used to create new tokens."),
    ]
}

/// Policies no token may carry.
const NON_ASSIGNABLE_POLICIES: &[&str] = &["response-wrapping", "control-group"];

#[derive(Deserialize)]
pub(crate) struct CreateFields {
    #[serde(default, deserialize_with = "loose::string")]
    id: String,
    /// Vault decodes a single string as one policy name (no comma split).
    #[serde(default, deserialize_with = "loose::string_or_list")]
    policies: Vec<String>,
    #[serde(default, deserialize_with = "kv_pairs")]
    meta: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "loose::bool")]
    no_parent: bool,
    #[serde(default, deserialize_with = "loose::bool")]
    no_default_policy: bool,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    renewable: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    ttl: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    lease: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    explicit_max_ttl: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    period: Option<u64>,
    #[serde(default, deserialize_with = "loose::string")]
    display_name: String,
    #[serde(default, deserialize_with = "loose::int")]
    num_uses: i64,
    #[serde(rename = "type", default, deserialize_with = "loose::string")]
    token_type: String,
    #[serde(default, deserialize_with = "loose::string")]
    entity_alias: String,
}

/// `POST auth/token/create`: a child of the caller, or an orphan with `no_parent` (sudo).
async fn create(store: Arc<TokenStore>, input: Input<CreateFields>) -> Result<Reply, Error> {
    create_common(&store, input, false, None).await
}

/// `POST auth/token/create-orphan`: an orphan; needs only `update` on this path.
async fn create_orphan(store: Arc<TokenStore>, input: Input<CreateFields>) -> Result<Reply, Error> {
    create_common(&store, input, true, None).await
}

/// `POST auth/token/create/<role>`: Vault answers an unknown role with `unknown role <name>`.
async fn create_against_role(
    store: Arc<TokenStore>,
    input: Input<CreateFields>,
) -> Result<Reply, Error> {
    let name = input.captures.get("role_name").to_string();
    if !valid_role_name(&name) {
        return Err(Error::new(
            ErrorKind::UnsupportedPath,
            "1 error occurred:\n\t* unsupported path\n\n",
        ));
    }
    let Some(role) = store.role(&name).await? else {
        return Err(invalid(format!("unknown role {name}")));
    };
    create_common(&store, input, false, Some(role)).await
}

/// What the checks decide before the store writes anything.
struct Plan {
    token_type: TokenType,
    renewable: bool,
    num_uses: i64,
    path: String,
    display_name: String,
    policies: Vec<String>,
    orphan: bool,
}

async fn create_common(
    store: &TokenStore,
    input: Input<CreateFields>,
    orphan_path: bool,
    role: Option<TokenRole>,
) -> Result<Reply, Error> {
    let Input {
        fields, request, ..
    } = input;
    let caller = caller(&request)?;
    let Some(parent) = store.lookup_by_hash(&caller.token_hash).await? else {
        return Err(invalid("parent token lookup failed: no parent found"));
    };
    if parent.token_type == TokenType::Batch {
        return Err(invalid("batch tokens cannot create more tokens"));
    }
    // A use-limited token could escape its limit through children.
    if parent.num_uses > 0 {
        return Err(invalid("restricted use token cannot generate child tokens"));
    }
    check_field_sizes(&fields)?;
    let sudo = is_sudo(caller);
    let plan = plan(
        &fields,
        &request.path,
        &parent,
        sudo,
        orphan_path,
        role.as_ref(),
    )?;
    let mut warnings = Vec::new();
    let (explicit_max_ttl, period) =
        merge_ttl_period(&fields, role.as_ref(), plan.token_type, sudo, &mut warnings)?;
    let requested_ttl = fields.ttl.or(fields.lease).unwrap_or(0);
    let now = store.now_nanos().div_euclid(1_000_000_000);
    let is_root = plan.policies.iter().any(|policy| policy == "root");
    let mut ttl = requested_ttl;
    if period > 0 || ttl > 0 || !is_root {
        let request_ttl = TtlRequest {
            increment: 0,
            ttl,
            period,
            explicit_max_ttl,
            start_time: now,
            now,
        };
        let (calculated, ttl_warnings) = calculate_ttl(&request.mount, request_ttl)?;
        warnings.extend(ttl_warnings);
        ttl = calculated;
    }
    // Root tokens are still bound by an explicit max TTL.
    if ttl == 0 && explicit_max_ttl > 0 {
        ttl = explicit_max_ttl;
    }
    let mut renewable = plan.renewable;
    if ttl == 0 {
        if parent.ttl_seconds != 0 {
            return Err(invalid(
                "expiring root tokens cannot create non-expiring root tokens",
            ));
        }
        renewable = false;
    }
    if !fields.id.is_empty() {
        warnings.push("Supplying a custom ID for the token uses the weaker SHA1 hashing instead of the more secure SHA2-256 HMAC for token obfuscation. SHA1 hashed tokens on the wire leads to less secure lookups.".to_string());
    }
    let create = CreateToken {
        id: (!fields.id.is_empty()).then(|| fields.id.clone()),
        policies: plan.policies,
        parent_hash: (!plan.orphan).then(|| parent.id_hash.clone()),
        path: plan.path,
        display_name: plan.display_name,
        meta: fields.meta,
        ttl_seconds: ttl,
        explicit_max_ttl_seconds: explicit_max_ttl,
        // Vault keeps only the request's own period on the token (lookup shows no `period`
        // for a role's); renewal reads the role's period again (`TokenStore::renew`).
        period_seconds: fields.period.unwrap_or(0),
        num_uses: plan.num_uses,
        renewable,
        token_type: plan.token_type,
        role: role.as_ref().map(|role| role.name.clone()),
        entity_id: if plan.orphan {
            String::new()
        } else {
            parent.entity_id.clone()
        },
    };
    let (token, entry) = store.create(create).await?;
    for policy in &entry.policies {
        if !store.policy_exists(policy).await? {
            warnings.push(format!("Policy \"{policy}\" does not exist"));
        }
    }
    Ok(auth_reply(&entry, &token, warnings))
}

fn check_field_sizes(fields: &CreateFields) -> Result<(), Error> {
    let meta = fields.meta.as_ref();
    let too_long = fields.display_name.len() > FIELD_BYTES_MAX
        || fields.policies.len() > TOKEN_POLICIES_MAX
        || fields
            .policies
            .iter()
            .any(|policy| policy.len() > FIELD_BYTES_MAX)
        || meta.is_some_and(|meta| meta.len() > TOKEN_META_PAIRS_MAX)
        || meta.is_some_and(|meta| {
            meta.iter()
                .any(|(key, value)| key.len() > FIELD_BYTES_MAX || value.len() > FIELD_BYTES_MAX)
        });
    match too_long {
        true => Err(invalid("token fields exceed the size limits")),
        false => Ok(()),
    }
}

/// Type, renewability, uses, path, display name, policies and orphan status, in Vault's order
/// of checks (so the first failing rule names the same error).
fn plan(
    fields: &CreateFields,
    request_path: &str,
    parent: &TokenEntry,
    sudo: bool,
    orphan_path: bool,
    role: Option<&TokenRole>,
) -> Result<Plan, Error> {
    let mut token_type_text = fields.token_type.clone();
    if let Some(role) = role {
        match role.token_type.as_str() {
            "default-service" | "" => {}
            "default-batch" if token_type_text.is_empty() => token_type_text = "batch".into(),
            "default-batch" => {}
            "service" => token_type_text = "service".into(),
            "batch" => token_type_text = "batch".into(),
            other => {
                return Err(invalid(format!(
                    "role being used for token creation contains invalid token type \"{other}\""
                )));
            }
        }
    }
    let mut renewable = fields.renewable.unwrap_or(true);
    let token_type = match token_type_text.as_str() {
        "" | "service" => TokenType::Service,
        "batch" => {
            let bad_reason = match (fields.explicit_max_ttl, fields.num_uses, fields.period) {
                (Some(explicit), _, _) => (explicit != 0).then_some("explicit_max_ttl"),
                (None, uses, _) if uses != 0 => Some("num_uses"),
                (None, _, Some(period)) => (period != 0).then_some("period"),
                _ => None,
            };
            if let Some(reason) = bad_reason {
                return Err(invalid(format!(
                    "batch tokens cannot have \"{reason}\" set"
                )));
            }
            renewable = false;
            TokenType::Batch
        }
        _ => return Err(invalid("invalid 'token_type' value")),
    };
    if fields.num_uses < 0 {
        return Err(invalid("number of uses cannot be negative"));
    }
    if !fields.entity_alias.is_empty() {
        let Some(role) = role else {
            return Err(invalid(
                "'entity_alias' is only allowed in combination with token role",
            ));
        };
        let alias = fields.entity_alias.to_lowercase();
        let allowed = role.allowed_entity_aliases.as_deref().unwrap_or_default();
        if !allowed.iter().any(|pattern| glob_matches(pattern, &alias)) {
            return Err(invalid("invalid 'entity_alias' value"));
        }
        // FIXME(identity): no identity store yet; the alias is accepted and not bound.
    }
    let mut path = format!("auth/token/{}", request_path.trim_end_matches('/'));
    let mut num_uses = fields.num_uses;
    if let Some(role) = role {
        renewable = renewable && role.renewable;
        num_uses = match (role.token_num_uses, num_uses) {
            (0, uses) => uses,
            (role_uses, 0) => role_uses,
            (role_uses, uses) => role_uses.min(uses),
        };
        if !role.path_suffix.is_empty() {
            path = format!("{path}/{}", role.path_suffix);
        }
    }
    let display_name = match fields.display_name.as_str() {
        "" => "token".to_string(),
        name => sanitize_display_name(name),
    };
    if !fields.id.is_empty() && !sudo {
        return Err(invalid(
            "root or sudo privileges required to specify token id",
        ));
    }
    let policies = resolve_policies(fields, role, parent, sudo)?;
    if policies.iter().any(|policy| policy == "root") {
        if !parent.is_root() {
            return Err(invalid(
                "root tokens may not be created without parent token being root",
            ));
        }
        if token_type == TokenType::Batch {
            return Err(invalid("batch tokens cannot be root tokens"));
        }
    }
    let orphan = match role {
        Some(role) => role.orphan,
        None if fields.no_parent => {
            if !sudo {
                return Err(invalid(
                    "root or sudo privileges required to create orphan token",
                ));
            }
            true
        }
        None => orphan_path,
    };
    Ok(Plan {
        token_type,
        renewable,
        num_uses,
        path,
        display_name,
        policies,
        orphan,
    })
}

/// `token-<name>` with every character outside `[a-zA-Z0-9-]` replaced by `-`, one trailing
/// `-` trimmed (TOK-06).
pub(crate) fn sanitize_display_name(name: &str) -> String {
    let full: String = format!("token-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    match full.strip_suffix('-') {
        Some(trimmed) => trimmed.to_string(),
        None => full,
    }
}

/// Vault's `resolveTokenPolicies` (TOK-03).
fn resolve_policies(
    fields: &CreateFields,
    role: Option<&TokenRole>,
    parent: &TokenEntry,
    sudo: bool,
) -> Result<Vec<String>, Error> {
    let no_default = fields.no_default_policy;
    let mut policies = fields.policies.clone();
    let mut add_default = false;
    let role_restricts = role.is_some_and(|role| {
        !role.allowed_policies.is_empty()
            || !role.disallowed_policies.is_empty()
            || !role.allowed_policies_glob.is_empty()
            || !role.disallowed_policies_glob.is_empty()
    });
    match role {
        Some(role) if role_restricts => {
            policies = role_policies(&policies, role, parent, no_default)?;
        }
        _ if policies.is_empty() => {
            // Inherit the parent's; `default` only if the parent has it.
            policies = sanitize_policies(&parent.policies, false);
        }
        _ if !sudo => {
            let requested = sanitize_policies(&policies, false);
            let allowed = sanitize_policies(&parent.policies, false);
            if !requested.iter().all(|policy| allowed.contains(policy)) {
                return Err(invalid("child policies must be subset of parent"));
            }
            add_default = !no_default && parent.policies.iter().any(|policy| policy == "default");
        }
        _ => add_default = !no_default,
    }
    let mut policies = sanitize_policies(&policies, add_default);
    if no_default {
        policies.retain(|policy| policy != "default");
    }
    if let Some(policy) = policies
        .iter()
        .find(|policy| NON_ASSIGNABLE_POLICIES.contains(&policy.as_str()))
    {
        return Err(invalid(format!("cannot assign policy \"{policy}\"")));
    }
    Ok(policies)
}

/// Policies for a role with allowed/disallowed lists: those lists, not the parent, bound the
/// request.
fn role_policies(
    requested: &[String],
    role: &TokenRole,
    parent: &TokenEntry,
    no_default: bool,
) -> Result<Vec<String>, Error> {
    let add_default = !no_default
        && !role.token_no_default_policy
        && !role
            .disallowed_policies
            .iter()
            .any(|policy| policy == "default")
        && !role
            .disallowed_policies_glob
            .iter()
            .any(|pattern| glob_matches(pattern, "default"));
    let mut policies = match requested.is_empty() {
        true => Vec::new(),
        false => sanitize_policies(requested, add_default),
    };
    if !role.allowed_policies.is_empty() || !role.allowed_policies_glob.is_empty() {
        let allowed = sanitize_policies(&role.allowed_policies, add_default);
        if policies.is_empty() {
            policies = allowed;
        } else {
            let allowed_glob = sanitize_policies(&role.allowed_policies_glob, false);
            for policy in &policies {
                if !allowed.contains(policy)
                    && !allowed_glob
                        .iter()
                        .any(|pattern| glob_matches(pattern, policy))
                {
                    return Err(invalid(format!(
                        "token policies ({}) must be subset of the role's allowed policies ({}) or glob policies ({})",
                        go_quoted_list(&policies),
                        go_quoted_list(&allowed),
                        go_quoted_list(&allowed_glob)
                    )));
                }
            }
        }
    } else if policies.is_empty() {
        policies = sanitize_policies(&parent.policies, add_default);
    }
    for policy in &policies {
        let disallowed = role
            .disallowed_policies
            .iter()
            .any(|denied| denied.to_lowercase() == *policy)
            || role
                .disallowed_policies_glob
                .iter()
                .any(|pattern| glob_matches(&pattern.to_lowercase(), policy));
        if disallowed {
            return Err(invalid(format!(
                "token policy \"{policy}\" is disallowed by this role"
            )));
        }
    }
    Ok(policies)
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("{item:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// Vault's `policyutil.SanitizePolicies`: trimmed, lower-cased, empty names dropped, `root`
/// alone if present, `default` added when asked, de-duplicated and sorted.
pub(crate) fn sanitize_policies(policies: &[String], add_default: bool) -> Vec<String> {
    let mut result: Vec<String> = Vec::new();
    let mut default_found = false;
    for policy in policies {
        let policy = policy.trim().to_lowercase();
        if policy.is_empty() {
            continue;
        }
        if policy == "root" {
            result = vec!["root".to_string()];
            default_found = true;
            break;
        }
        if policy == "default" {
            default_found = true;
        }
        result.push(policy);
    }
    if add_default && (result.is_empty() || !default_found) {
        result.push("default".to_string());
    }
    result.sort();
    result.dedup();
    result
}

/// A `*` glob as `go-glob` matches it: `*` stands for any run of characters.
pub(crate) fn glob_matches(pattern: &str, subject: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == subject;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !subject.starts_with(first)
        || !subject.ends_with(last)
        || subject.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &subject[first.len()..subject.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(index) => rest = &rest[index + part.len()..],
            None => return false,
        }
    }
    true
}

/// Vault's `parseAndMergeTTLPeriod`: the explicit max TTL and period to use, the lesser of
/// the request's and the role's when both set one.
fn merge_ttl_period(
    fields: &CreateFields,
    role: Option<&TokenRole>,
    token_type: TokenType,
    sudo: bool,
    warnings: &mut Vec<String>,
) -> Result<(u64, u64), Error> {
    let mut explicit_max_ttl = fields.explicit_max_ttl.unwrap_or(0);
    let mut period = match fields.period.unwrap_or(0) {
        0 => 0,
        _ if !sudo => {
            return Err(invalid(
                "root or sudo privileges required to create periodic token",
            ));
        }
        period => period,
    };
    let Some(role) = role.filter(|_| token_type != TokenType::Batch) else {
        return Ok((explicit_max_ttl, period));
    };
    if role.token_explicit_max_ttl != 0 {
        if explicit_max_ttl == 0 {
            explicit_max_ttl = role.token_explicit_max_ttl;
        } else {
            explicit_max_ttl = explicit_max_ttl.min(role.token_explicit_max_ttl);
            warnings.push(format!("Explicit max TTL specified both during creation call and in role; using the lesser value of {explicit_max_ttl} seconds"));
        }
    }
    if role.token_period != 0 {
        if period == 0 {
            period = role.token_period;
        } else {
            period = period.min(role.token_period);
            warnings.push(format!("Period specified both during creation call and in role; using the lesser value of {period} seconds"));
        }
    }
    Ok((explicit_max_ttl, period))
}
