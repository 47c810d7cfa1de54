//! `sys/policies/acl` and the legacy `sys/policy` (SP-01..05).

use super::NoFields;
use crate::core::Core;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("policies/acl")
            .list(list_policies)
            .help("List the ACL policies."),
        Path::new("policies/acl/{name}")
            .read(read_policy)
            .write(write_policy)
            .delete(delete_policy)
            .help("Read, write or delete an ACL policy."),
        Path::new("policy")
            .read(list_policies_legacy)
            .help("List the ACL policies (legacy path)."),
        Path::new("policy/{name}")
            .read(read_policy_legacy)
            .write(write_policy)
            .delete(delete_policy)
            .help("Read, write or delete an ACL policy (legacy path)."),
    ]
}

#[derive(Serialize)]
struct Keys {
    keys: Vec<String>,
}

async fn list_policies(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    Reply::data(Keys {
        keys: core.policies().names(),
    })
}

#[derive(Serialize)]
struct LegacyList {
    keys: Vec<String>,
    policies: Vec<String>,
}

async fn list_policies_legacy(core: Arc<Core>, _input: Input<NoFields>) -> Result<Reply, Error> {
    let names = core.policies().names();
    Ok(Reply::data(LegacyList {
        keys: names.clone(),
        policies: names,
    })?
    .injected())
}

#[derive(Deserialize)]
struct NameOnly {
    name: String,
}

#[derive(Serialize)]
struct PolicyReply {
    name: String,
    policy: String,
}

async fn read_policy(core: Arc<Core>, input: Input<NameOnly>) -> Result<Reply, Error> {
    let name = input.fields.name.to_lowercase();
    let Some(policy) = core.policies().get(&name) else {
        return Err(Error::not_found());
    };
    Reply::data(PolicyReply { name, policy })
}

#[derive(Serialize)]
struct LegacyPolicyReply {
    name: String,
    rules: String,
}

async fn read_policy_legacy(core: Arc<Core>, input: Input<NameOnly>) -> Result<Reply, Error> {
    let name = input.fields.name.to_lowercase();
    let Some(rules) = core.policies().get(&name) else {
        return Err(Error::not_found());
    };
    Ok(Reply::data(LegacyPolicyReply { name, rules })?.injected())
}

#[derive(Deserialize)]
struct WritePolicy {
    name: String,
    #[serde(default, deserialize_with = "loose::string")]
    policy: String,
    #[serde(default, deserialize_with = "loose::string")]
    rules: String,
}

/// SP-03: the text may be base64; the name is lower-cased (with a warning when changed).
async fn write_policy(core: Arc<Core>, input: Input<WritePolicy>) -> Result<Reply, Error> {
    let fields = input.fields;
    let mut warnings = Vec::new();
    let mut text = fields.policy;
    if text.is_empty() && !fields.rules.is_empty() {
        text = fields.rules;
        warnings.push("'rules' is deprecated, please use 'policy' instead".to_string());
    }
    if text.trim().is_empty() {
        return Err(Error::invalid("'policy' parameter not supplied or empty"));
    }
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text.trim())
        && let Ok(decoded) = String::from_utf8(decoded)
    {
        text = decoded;
    }
    let name = fields.name.to_lowercase();
    if name != fields.name {
        warnings.push(format!("policy name was converted to {name}"));
    }
    core.policies().put(&name, &text).await?;
    Ok(Reply::no_content_or_warnings(warnings))
}

async fn delete_policy(core: Arc<Core>, input: Input<NameOnly>) -> Result<Reply, Error> {
    core.policies()
        .delete(&input.fields.name.to_lowercase())
        .await?;
    Ok(Reply::NoContent)
}
