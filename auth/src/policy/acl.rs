//! A compiled set of policies and the per-request check (Vault 1.14 `vault/acl.go`).

use super::Policy;
use super::params::parameters_permit;
use super::rules::{Capabilities, ParameterMap, PatternKind, Permissions};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use tresor_framework::Operation;

/// The merged rules of one token's policies. Invariant: every pattern appears once per table,
/// its permissions merged across policies (POL-07), so a request looks up at most one exact
/// rule, a few prefix lengths and the segment-wildcard rules, without allocating.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    root: bool,
    exact: HashMap<String, Permissions>,
    prefix: HashMap<String, Permissions>,
    /// Distinct lengths of the `prefix` keys, longest first.
    prefix_lengths_bytes: Vec<usize>,
    segment_wildcard: Vec<SegmentRule>,
}

/// The answer for one request. `capabilities` is the winning rule's list as
/// `sys/capabilities` would give it; the caller enforces the wrapping TTL bounds with
/// [`AclDecision::permits_wrapping`] (the request's wrap TTL is not known here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclDecision {
    pub allowed: bool,
    /// The winning rule has `sudo`, or the ACL is root (POL-12 paths need it).
    pub root_privileges: bool,
    pub capabilities: Vec<String>,
    pub min_wrapping_ttl_seconds: Option<u64>,
    pub max_wrapping_ttl_seconds: Option<u64>,
}

impl AclDecision {
    fn denied(capabilities: Vec<String>) -> AclDecision {
        AclDecision {
            allowed: false,
            root_privileges: false,
            capabilities,
            min_wrapping_ttl_seconds: None,
            max_wrapping_ttl_seconds: None,
        }
    }

    /// POL-10: with a bound set, the request must be wrapped with a TTL inside it.
    pub fn permits_wrapping(&self, wrap_ttl_seconds: Option<u64>) -> bool {
        let bounded =
            self.min_wrapping_ttl_seconds.is_some() || self.max_wrapping_ttl_seconds.is_some();
        match wrap_ttl_seconds {
            None => !bounded,
            Some(ttl) => {
                self.max_wrapping_ttl_seconds.is_none_or(|max| ttl <= max)
                    && self.min_wrapping_ttl_seconds.is_none_or(|min| ttl >= min)
            }
        }
    }
}

/// A `+` rule, pre-split so matching allocates nothing.
#[derive(Debug, Clone)]
struct SegmentRule {
    /// The pattern as written (after the leading `/`), with any trailing `*`.
    pattern: String,
    /// Segments of the pattern without its trailing `*`.
    segments: Vec<String>,
    is_prefix: bool,
    rank: Rank,
    permissions: Permissions,
}

/// Vault's priority among non-exact matches (POL-08); the greatest wins.
#[derive(Debug, Clone, Copy)]
struct Rank {
    /// Byte index of the first `+` (or of the `*` of a plain prefix rule).
    first_wildcard_bytes: usize,
    is_prefix: bool,
    wildcards: usize,
    /// Length of the pattern without its trailing `*`.
    length_bytes: usize,
}

fn compare_ranks(left: (Rank, &str), right: (Rank, &str)) -> Ordering {
    let ((left, left_path), (right, right_path)) = (left, right);
    left.first_wildcard_bytes
        .cmp(&right.first_wildcard_bytes)
        .then((!left.is_prefix).cmp(&!right.is_prefix))
        .then(right.wildcards.cmp(&left.wildcards))
        .then(left.length_bytes.cmp(&right.length_bytes))
        .then(left_path.cmp(right_path))
}

impl Acl {
    /// Merges the policies' rules. A policy named `root` makes the ACL root.
    pub fn new(policies: &[Arc<Policy>]) -> Acl {
        let mut acl = Acl::default();
        let mut segment_wildcard: HashMap<String, Permissions> = HashMap::new();
        for policy in policies {
            if policy.name() == "root" {
                acl.root = true;
            }
            // Templated rules need an identity entity, which no token has yet: inert, as in
            // Vault for a token without an entity.
            for rule in policy.rules.iter().filter(|rule| !rule.templated) {
                let table = match rule.kind {
                    PatternKind::Exact => &mut acl.exact,
                    PatternKind::Prefix => &mut acl.prefix,
                    PatternKind::SegmentWildcard => &mut segment_wildcard,
                };
                match table.get_mut(&rule.pattern) {
                    Some(existing) => merge_permissions(existing, &rule.permissions),
                    None => {
                        table.insert(rule.pattern.clone(), rule.permissions.clone());
                    }
                }
            }
        }
        acl.prefix_lengths_bytes = acl.prefix.keys().map(String::len).collect();
        acl.prefix_lengths_bytes
            .sort_unstable_by(|left, right| right.cmp(left));
        acl.prefix_lengths_bytes.dedup();
        acl.segment_wildcard = segment_wildcard.into_iter().map(segment_rule).collect();
        acl
    }

    /// Whether any rule grants something (not deny) at or below `mount_path` (Vault's
    /// `hasMountAccess`, used by `sys/internal/ui/mounts`): a rule under the mount, or a glob
    /// covering it.
    pub fn has_mount_access(&self, mount_path: &str) -> bool {
        if self.root {
            return true;
        }
        let grants = |permissions: &Permissions| {
            !permissions.capabilities.is_deny()
                && !permissions.capabilities.names().is_empty()
                && permissions.capabilities.names() != ["deny"]
        };
        let under_mount =
            |pattern: &str| pattern.starts_with(mount_path) || mount_path.starts_with(pattern);
        if self
            .exact
            .iter()
            .any(|(pattern, permissions)| pattern.starts_with(mount_path) && grants(permissions))
        {
            return true;
        }
        if self
            .prefix
            .iter()
            .any(|(pattern, permissions)| under_mount(pattern) && grants(permissions))
        {
            return true;
        }
        let mount_segments: Vec<&str> = mount_path.trim_end_matches('/').split('/').collect();
        self.segment_wildcard.iter().any(|rule| {
            grants(&rule.permissions)
                && rule
                    .segments
                    .iter()
                    .zip(mount_segments.iter())
                    .all(|(pattern, segment)| {
                        pattern == "+"
                            || pattern == segment
                            || (rule.is_prefix && segment.starts_with(pattern.as_str()))
                    })
        })
    }

    pub fn is_root(&self) -> bool {
        self.root
    }

    /// `sys/capabilities` for one path: evaluated as a list request on the path as given
    /// (CAP-03), sorted; `["deny"]` when nothing applies, `["root"]` for root.
    pub fn capabilities(&self, path: &str) -> Vec<String> {
        if self.root {
            return vec!["root".to_string()];
        }
        let capabilities = self
            .winning_rule(path, true)
            .map(|permissions| permissions.capabilities);
        capabilities.unwrap_or_default().names()
    }

    /// Whether `operation` on `path` with `data` is allowed. A list request checks the path
    /// with a trailing `/`, as Vault's router adds it (POL-13).
    pub fn check(
        &self,
        operation: Operation,
        path: &str,
        data: &Map<String, Value>,
    ) -> AclDecision {
        if self.root {
            return AclDecision {
                allowed: true,
                root_privileges: true,
                capabilities: vec!["root".to_string()],
                min_wrapping_ttl_seconds: None,
                max_wrapping_ttl_seconds: None,
            };
        }
        let is_list = operation == Operation::List;
        let path: Cow<'_, str> = match is_list && !path.ends_with('/') {
            true => Cow::Owned(format!("{path}/")),
            false => Cow::Borrowed(path),
        };
        let Some(permissions) = self.winning_rule(&path, is_list) else {
            return AclDecision::denied(Capabilities::default().names());
        };
        let capabilities = permissions.capabilities;
        let mut decision = AclDecision {
            allowed: false,
            root_privileges: capabilities.contains(Capabilities::SUDO),
            capabilities: capabilities.names(),
            min_wrapping_ttl_seconds: Some(permissions.min_wrapping_ttl_seconds)
                .filter(|ttl| *ttl > 0),
            max_wrapping_ttl_seconds: Some(permissions.max_wrapping_ttl_seconds)
                .filter(|ttl| *ttl > 0),
        };
        if !capabilities.contains(required_capability(operation)) {
            return decision;
        }
        // Merging can leave max below min; no wrap TTL satisfies both, so Vault denies.
        if let (Some(min), Some(max)) = (
            decision.min_wrapping_ttl_seconds,
            decision.max_wrapping_ttl_seconds,
        ) && max < min
        {
            return decision;
        }
        let checks_parameters = matches!(
            operation,
            Operation::Read
                | Operation::Head
                | Operation::Create
                | Operation::Update
                | Operation::Patch
        );
        decision.allowed = !checks_parameters || parameters_permit(permissions, data);
        decision
    }

    /// POL-06: the exact rule; for lists the exact rule without the trailing `/`; then the
    /// best non-exact rule, for lists first on the path without its trailing `/`.
    fn winning_rule(&self, path: &str, is_list: bool) -> Option<&Permissions> {
        let path = path.trim_start_matches('/');
        if let Some(permissions) = self.exact.get(path) {
            return Some(permissions);
        }
        let trimmed = path.strip_suffix('/');
        if is_list && let Some(permissions) = self.exact.get(trimmed.unwrap_or(path)) {
            return Some(permissions);
        }
        if is_list && let Some(trimmed) = trimmed {
            let permissions = self.best_non_exact(trimmed);
            if permissions.is_some() {
                return permissions;
            }
        }
        self.best_non_exact(path)
    }

    /// The longest prefix rule (a radix tree's `LongestPrefix` in Vault) competing with every
    /// matching `+` rule under [`compare_ranks`].
    fn best_non_exact(&self, path: &str) -> Option<&Permissions> {
        let prefix_match = self.prefix_lengths_bytes.iter().find_map(|length| {
            let prefix = path.get(..*length)?;
            self.prefix.get_key_value(prefix)
        });
        let mut best: Option<(Rank, &str, &Permissions)> =
            prefix_match.map(|(prefix, permissions)| {
                let rank = Rank {
                    first_wildcard_bytes: prefix.len(),
                    is_prefix: true,
                    wildcards: 0,
                    length_bytes: prefix.len(),
                };
                (rank, prefix.as_str(), permissions)
            });
        for rule in &self.segment_wildcard {
            if !segment_rule_matches(rule, path) {
                continue;
            }
            let candidate_path = &rule.pattern[..rule.rank.length_bytes];
            let wins = match best {
                None => true,
                Some((rank, best_path, _)) => {
                    compare_ranks((rule.rank, candidate_path), (rank, best_path))
                        == Ordering::Greater
                }
            };
            if wins {
                best = Some((rule.rank, candidate_path, &rule.permissions));
            }
        }
        best.map(|(_, _, permissions)| permissions)
    }
}

fn required_capability(operation: Operation) -> Capabilities {
    match operation {
        Operation::Read | Operation::Head => Capabilities::READ,
        Operation::Create => Capabilities::CREATE,
        Operation::Update => Capabilities::UPDATE,
        Operation::Delete => Capabilities::DELETE,
        Operation::List => Capabilities::LIST,
        Operation::Patch => Capabilities::PATCH,
    }
}

fn segment_rule((pattern, permissions): (String, Permissions)) -> SegmentRule {
    let is_prefix = pattern.ends_with('*');
    let without_glob = pattern.strip_suffix('*').unwrap_or(&pattern);
    let segments: Vec<String> = without_glob.split('/').map(str::to_string).collect();
    let rank = Rank {
        first_wildcard_bytes: pattern.find('+').unwrap_or(0),
        is_prefix,
        wildcards: segments.iter().filter(|segment| *segment == "+").count(),
        length_bytes: without_glob.len(),
    };
    SegmentRule {
        pattern,
        segments,
        is_prefix,
        rank,
        permissions,
    }
}

/// Vault's segment match: `+` takes any one segment (even an empty one), other segments match
/// exactly, and a prefix rule's last segment matches as a string prefix.
fn segment_rule_matches(rule: &SegmentRule, path: &str) -> bool {
    let path_segments = path.split('/').count();
    if path_segments < rule.segments.len()
        || (!rule.is_prefix && path_segments != rule.segments.len())
    {
        return false;
    }
    let last = rule.segments.len() - 1;
    rule.segments.iter().zip(path.split('/')).enumerate().all(
        |(index, (rule_segment, path_segment))| {
            rule_segment == "+"
                || rule_segment == path_segment
                || (rule.is_prefix
                    && index == last
                    && path_segment.starts_with(rule_segment.as_str()))
        },
    )
}

/// POL-07, in Vault's order: an existing deny stays; a new deny replaces; otherwise union of
/// capabilities, smallest non-zero wrapping TTLs, merged parameter maps, unioned required names.
fn merge_permissions(existing: &mut Permissions, new: &Permissions) {
    if existing.capabilities.is_deny() {
        return;
    }
    if new.capabilities.is_deny() {
        existing.capabilities = Capabilities::DENY;
        existing.allowed_parameters.clear();
        existing.denied_parameters.clear();
        return;
    }
    existing.capabilities = existing.capabilities.union(new.capabilities);
    existing.max_wrapping_ttl_seconds = smallest_set(
        existing.max_wrapping_ttl_seconds,
        new.max_wrapping_ttl_seconds,
    );
    existing.min_wrapping_ttl_seconds = smallest_set(
        existing.min_wrapping_ttl_seconds,
        new.min_wrapping_ttl_seconds,
    );
    merge_parameters(&mut existing.allowed_parameters, &new.allowed_parameters);
    merge_parameters(&mut existing.denied_parameters, &new.denied_parameters);
    for name in &new.required_parameters {
        if !existing.required_parameters.contains(name) {
            existing.required_parameters.push(name.clone());
        }
    }
}

fn smallest_set(existing: u64, new: u64) -> u64 {
    match (existing, new) {
        (existing, 0) => existing,
        (0, new) => new,
        (existing, new) => existing.min(new),
    }
}

/// An empty value list (any value) on either side wins; otherwise the value lists are joined.
fn merge_parameters(existing: &mut ParameterMap, new: &ParameterMap) {
    for (name, values) in new {
        match existing.get_mut(name) {
            Some(current) if current.is_empty() => {}
            Some(current) if values.is_empty() => current.clear(),
            Some(current) => current.extend(values.iter().cloned()),
            None => {
                existing.insert(name.clone(), values.clone());
            }
        }
    }
}
