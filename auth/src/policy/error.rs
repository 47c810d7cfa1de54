//! The one error type of the policy module. `Display` gives Vault's message text, which the
//! server sends in the `errors` array of a 400.

use crate::AuthError;
use tresor_framework::{Error, ErrorKind};

/// Where a value sits in the policy text; `None` prints as Go's invalid position, `-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

/// Why a policy text was refused. Every variant reads `failed to parse policy: …`, as Vault
/// answers `PUT sys/policies/acl/<name>` (SP-03).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("failed to parse policy: At {}: {message}", at_text(*.at))]
    Syntax {
        at: Option<TextPosition>,
        message: String,
    },
    #[error("failed to parse policy: does not contain a root object")]
    NoRootObject,
    #[error("failed to parse policy: {}", invalid_keys_text(.path.as_deref(), .keys))]
    InvalidKeys {
        path: Option<String>,
        keys: Vec<InvalidKey>,
    },
    #[error("failed to parse policy: path {path:?}: cannot check HCL keys of type {node_type}")]
    PathNotObject {
        path: String,
        node_type: &'static str,
    },
    #[error(
        "failed to parse policy: failed to validate policy templating: unbalanced templating characters"
    )]
    UnbalancedTemplate,
    #[error("failed to parse policy: path {path:?}: At {}: {message}", at_text(*.at))]
    Decode {
        path: String,
        at: Option<TextPosition>,
        message: String,
    },
    #[error("failed to parse policy: path {path:?}: invalid use of wildcards ('+*' is forbidden)")]
    WildcardPlusGlob { path: String },
    #[error("failed to parse policy: path {path:?}: invalid policy {policy:?}")]
    InvalidLegacyPolicy { path: String, policy: String },
    #[error("failed to parse policy: path {path:?}: invalid capability {capability:?}")]
    InvalidCapability { path: String, capability: String },
    #[error("failed to parse policy: error parsing {field}: {message}")]
    InvalidDuration {
        field: &'static str,
        message: String,
    },
    #[error("failed to parse policy: max_wrapping_ttl cannot be less than min_wrapping_ttl")]
    WrappingTtlOrder,
    #[error("failed to parse policy: policy text is {bytes} bytes, over the limit of {limit}")]
    TextTooLarge { bytes: usize, limit: usize },
    #[error("failed to parse policy: policy has {paths} paths, over the limit of {limit}")]
    TooManyPaths { paths: usize, limit: usize },
    #[error("failed to parse policy: nesting is deeper than the limit of {limit}")]
    NestingTooDeep { limit: usize },
}

/// One unknown key, with the line of its `=` (0 for a block, as HCL 1 reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidKey {
    pub key: String,
    pub line: usize,
}

impl PolicyError {
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl From<PolicyError> for AuthError {
    fn from(error: PolicyError) -> Self {
        AuthError::Invalid(error.to_string())
    }
}

impl From<PolicyError> for Error {
    fn from(error: PolicyError) -> Self {
        Error::new(error.kind(), error.to_string())
    }
}

fn at_text(at: Option<TextPosition>) -> String {
    match at {
        Some(position) => format!("{}:{}", position.line, position.column),
        None => "-".to_string(),
    }
}

/// Go's `multierror` layout, each entry prefixed as `multierror.Prefix` does.
fn invalid_keys_text(path: Option<&str>, keys: &[InvalidKey]) -> String {
    let mut text = match keys.len() {
        1 => "1 error occurred:\n".to_string(),
        count => format!("{count} errors occurred:\n"),
    };
    for invalid in keys {
        text.push_str("\t* ");
        if let Some(path) = path {
            text.push_str(&format!("path {path:?}: "));
        }
        text.push_str(&format!(
            "invalid key {:?} on line {}\n",
            invalid.key, invalid.line
        ));
    }
    text.push('\n');
    text
}
