//! Vault's ACL policy language: parsing (HCL or JSON), the built-in `default` policy, the
//! compiled [`Acl`] a request is checked against, and `policy fmt`.
//!
//! **Architecture invariant:** a [`Policy`] is only built by [`parse_policy`], so its rules are
//! always valid; an [`Acl`] is built once per distinct policy set (the caller caches it) and
//! checks a request without parsing or allocation-heavy work.

mod acl;
mod document;
mod error;
mod format;
pub mod limits;
mod params;
mod rules;

#[cfg(test)]
mod tests;

pub use acl::{Acl, AclDecision};
pub use error::{InvalidKey, PolicyError, TextPosition};
pub use format::format_policy;

use rules::PathRule;

/// Vault 1.14's built-in `default` policy, byte for byte (POL-11; `vault/policy_store.go`).
pub const DEFAULT_POLICY_TEXT: &str = include_str!("default_policy.hcl");

/// One named, parsed policy. Invariant: `rules` is the compiled form of `text`.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    text: String,
    rules: Vec<PathRule>,
}

impl Policy {
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The text as written, which `GET sys/policies/acl/<name>` returns (SP-02).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Whether a path uses identity templating (`{{identity.entity.id}}`).
    pub fn is_templated(&self) -> bool {
        self.rules.iter().any(|rule| rule.templated)
    }
}

/// Parses an HCL or JSON policy. Errors carry Vault's text (`failed to parse policy: …`) and
/// line numbers where HCL gives them. The `root` policy parses as the empty policy; what makes
/// an [`Acl`] root is the name.
pub fn parse_policy(name: &str, text: &str) -> Result<Policy, PolicyError> {
    if text.len() > limits::POLICY_TEXT_BYTES_MAX {
        return Err(PolicyError::TextTooLarge {
            bytes: text.len(),
            limit: limits::POLICY_TEXT_BYTES_MAX,
        });
    }
    let items = document::parse_document(text)?;
    let rules = rules::compile_rules(&items)?;
    Ok(Policy {
        name: name.to_string(),
        text: text.to_string(),
        rules,
    })
}
