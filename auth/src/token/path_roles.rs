//! `auth/token/roles` and `roles/<name>` (TOK-13): Vault's `tokenStoreRole*`.

use super::backend::{invalid, opt_comma_list, present, warnings_reply};
use super::entry::TokenRole;
use super::limits::FIELD_BYTES_MAX;
use super::path_create::sanitize_policies;
use super::store::TokenStore;
use super::ttl::mount_ttls;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;
use tresor_framework::{Captures, Error, ErrorKind, Input, Path, Reply, Request, loose};

pub(crate) fn paths() -> Vec<Path<TokenStore>> {
    vec![
        Path::new("roles")
            .list(list_roles)
            .help("This endpoint lists configured roles."),
        Path::new("roles/{role_name}")
            .read(read_role)
            .write(write_role)
            .delete(delete_role)
            .exists(role_exists)
            .help("This endpoint allows creating, reading, and deleting roles."),
    ]
}

#[derive(Deserialize)]
struct NoFields {}

#[derive(Deserialize)]
struct RoleFields {
    #[serde(default, deserialize_with = "opt_comma_list")]
    allowed_policies: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    disallowed_policies: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    allowed_policies_glob: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    disallowed_policies_glob: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    allowed_entity_aliases: Option<Vec<String>>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    orphan: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    renewable: Option<bool>,
    #[serde(default)]
    path_suffix: Option<String>,
    #[serde(default, deserialize_with = "present")]
    token_type: Option<Value>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    period: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    token_period: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    explicit_max_ttl: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_seconds")]
    token_explicit_max_ttl: Option<u64>,
    #[serde(default, deserialize_with = "loose::opt_bool")]
    token_no_default_policy: Option<bool>,
    #[serde(default, deserialize_with = "loose::opt_int")]
    token_num_uses: Option<i64>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    token_bound_cidrs: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_comma_list")]
    bound_cidrs: Option<Vec<String>>,
}

/// Vault's `GenericNameRegex`: `\w(([\w-.]+)?\w)?`. Other names are not a path of the mount.
pub(crate) fn valid_role_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (Some(first), Some(last)) = (name.chars().next(), name.chars().last()) else {
        return false;
    };
    name.len() <= FIELD_BYTES_MAX
        && word(first)
        && word(last)
        && name.chars().all(|c| word(c) || c == '-' || c == '.')
}

fn role_name(captures: &Captures) -> Result<String, Error> {
    let name = captures.get("role_name");
    match valid_role_name(name) {
        true => Ok(name.to_string()),
        false => Err(Error::new(
            ErrorKind::UnsupportedPath,
            "1 error occurred:\n\t* unsupported path\n\n",
        )),
    }
}

/// `LIST auth/token/roles`: 404 when there are none (ERR-02).
async fn list_roles(store: Arc<TokenStore>, _: Input<NoFields>) -> Result<Reply, Error> {
    let keys = store.list_roles().await?;
    if keys.is_empty() {
        return Err(Error::not_found());
    }
    Reply::data(serde_json::json!({ "keys": keys }))
}

async fn read_role(store: Arc<TokenStore>, input: Input<NoFields>) -> Result<Reply, Error> {
    let name = role_name(&input.captures)?;
    match store.role(&name).await? {
        Some(role) => Reply::data(role.read_data()),
        None => Err(Error::not_found()),
    }
}

async fn delete_role(store: Arc<TokenStore>, input: Input<NoFields>) -> Result<Reply, Error> {
    let name = role_name(&input.captures)?;
    store.delete_role(&name).await?;
    Ok(Reply::NoContent)
}

async fn role_exists(
    store: Arc<TokenStore>,
    _: Request,
    captures: Captures,
) -> Result<bool, Error> {
    let name = role_name(&captures)?;
    Ok(store.role(&name).await?.is_some())
}

/// `POST auth/token/roles/<name>`: creates with Vault's defaults or updates only the fields
/// supplied. 204, or 200 with warnings.
async fn write_role(store: Arc<TokenStore>, input: Input<RoleFields>) -> Result<Reply, Error> {
    let name = role_name(&input.captures)?;
    let fields = input.fields;
    let mut role = store
        .role(&name)
        .await?
        .unwrap_or_else(|| TokenRole::new(&name));
    let mut warnings = Vec::new();
    apply_simple_fields(&mut role, &fields)?;
    if let Some(token_type) = &fields.token_type {
        role.token_type = match token_type {
            Value::Null => return Err(invalid("Invalid 'token_type' value: null")),
            Value::String(text)
                if matches!(
                    text.as_str(),
                    "service" | "batch" | "default-service" | "default-batch"
                ) =>
            {
                text.clone()
            }
            Value::String(text) => {
                return Err(invalid(format!("invalid 'token_type' value \"{text}\"")));
            }
            other => return Err(invalid(format!("invalid 'token_type' value \"{other}\""))),
        };
    }
    apply_deprecated_pairs(&mut role, &fields, &mut warnings);
    let (_, max_ttl) = mount_ttls(&input.request.mount);
    if role.token_explicit_max_ttl > max_ttl {
        warnings.push(format!(
            "Given explicit max TTL of {} is greater than system/mount allowed value of {} seconds; until this is fixed attempting to create tokens against this role will result in an error",
            role.token_explicit_max_ttl, max_ttl
        ));
    }
    if let Some(uses) = fields.token_num_uses {
        role.token_num_uses = uses;
    }
    check_batch_role(&role)?;
    if let Some(aliases) = &fields.allowed_entity_aliases {
        role.allowed_entity_aliases = Some(dedup_lowercase(aliases));
    }
    store.put_role(&role).await?;
    Ok(warnings_reply(warnings, 200))
}

fn apply_simple_fields(role: &mut TokenRole, fields: &RoleFields) -> Result<(), Error> {
    if let Some(orphan) = fields.orphan {
        role.orphan = orphan;
    }
    if let Some(renewable) = fields.renewable {
        role.renewable = renewable;
    }
    if let Some(suffix) = &fields.path_suffix {
        if !suffix.is_empty() && !path_suffix_matches(suffix) {
            return Err(invalid(
                "given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w",
            ));
        }
        role.path_suffix = suffix.clone();
    }
    if role.path_suffix.contains("..") {
        return Err(invalid(
            "error registering path suffix: path cannot contain parent references",
        ));
    }
    if let Some(policies) = &fields.allowed_policies {
        role.allowed_policies = sanitize_policies(policies, false);
    }
    if let Some(policies) = &fields.disallowed_policies {
        role.disallowed_policies = dedup_lowercase(policies);
    }
    if let Some(policies) = &fields.allowed_policies_glob {
        role.allowed_policies_glob = sanitize_policies(policies, false);
    }
    if let Some(policies) = &fields.disallowed_policies_glob {
        role.disallowed_policies_glob = dedup_lowercase(policies);
    }
    if let Some(no_default) = fields.token_no_default_policy {
        role.token_no_default_policy = no_default;
    }
    Ok(())
}

/// `token_period`/`period`, `token_explicit_max_ttl`/`explicit_max_ttl`,
/// `token_bound_cidrs`/`bound_cidrs`: the new name wins, with Vault's warning.
fn apply_deprecated_pairs(role: &mut TokenRole, fields: &RoleFields, warnings: &mut Vec<String>) {
    match (fields.token_period, fields.period) {
        (Some(period), legacy) => {
            role.token_period = period;
            role.period = 0;
            if legacy.is_some() {
                warnings.push("Both 'token_period' and deprecated 'period' value supplied, ignoring the deprecated value".into());
            }
        }
        (None, Some(period)) => {
            role.period = period;
            role.token_period = period;
        }
        (None, None) => {}
    }
    match (&fields.token_bound_cidrs, &fields.bound_cidrs) {
        (Some(cidrs), legacy) => {
            role.token_bound_cidrs = cidrs.clone();
            if legacy.is_some() {
                warnings.push("Both 'token_bound_cidrs' and deprecated 'bound_cidrs' value supplied, ignoring the deprecated value".into());
            }
        }
        (None, Some(cidrs)) => role.token_bound_cidrs = cidrs.clone(),
        (None, None) => {}
    }
    match (fields.token_explicit_max_ttl, fields.explicit_max_ttl) {
        (Some(ttl), legacy) => {
            role.token_explicit_max_ttl = ttl;
            role.explicit_max_ttl = 0;
            if legacy.is_some() {
                warnings.push("Both 'token_explicit_max_ttl' and deprecated 'explicit_max_ttl' value supplied, ignoring the deprecated value".into());
            }
        }
        (None, Some(ttl)) => {
            role.explicit_max_ttl = ttl;
            role.token_explicit_max_ttl = ttl;
        }
        (None, None) => {}
    }
}

fn check_batch_role(role: &TokenRole) -> Result<(), Error> {
    if role.token_type != "batch" {
        return Ok(());
    }
    if !role.orphan {
        return Err(invalid(
            "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens",
        ));
    }
    if role.period != 0 || role.token_period != 0 {
        return Err(invalid(
            "'token_type' cannot be 'batch' when role is set to generate periodic tokens",
        ));
    }
    if role.renewable {
        return Err(invalid(
            "'token_type' cannot be 'batch' when role is set to generate renewable tokens",
        ));
    }
    if role.explicit_max_ttl != 0 || role.token_explicit_max_ttl != 0 {
        return Err(invalid(
            "'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL",
        ));
    }
    Ok(())
}

/// Go's `regexp.MatchString(\w[\w-.]+\w)`: some run of at least three `[\w-.]` characters
/// starts and ends with a word character.
fn path_suffix_matches(suffix: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    suffix
        .split(|c: char| !(word(c) || c == '-' || c == '.'))
        .any(|run| {
            let first = run
                .char_indices()
                .find(|(_, c)| word(*c))
                .map(|(index, _)| index);
            let last = run
                .char_indices()
                .rev()
                .find(|(_, c)| word(*c))
                .map(|(index, _)| index);
            matches!((first, last), (Some(first), Some(last)) if last >= first + 2)
        })
}

/// Vault's `strutil.RemoveDuplicates(list, true)`: lower-cased, trimmed, sorted, unique.
fn dedup_lowercase(items: &[String]) -> Vec<String> {
    let mut items: Vec<String> = items
        .iter()
        .map(|item| item.trim().to_lowercase())
        .filter(|item| !item.is_empty())
        .collect();
    items.sort();
    items.dedup();
    items
}
