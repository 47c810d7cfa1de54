//! Policy language tests: parsing errors, precedence, merging, parameters, and tables whose
//! expected answers were recorded from an OpenBao 2.7.2 dev server's `sys/capabilities`.

use super::*;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::Operation;

fn acl(policies: &[(&str, &str)]) -> Acl {
    let parsed: Vec<Arc<Policy>> = policies
        .iter()
        .map(|(name, text)| {
            Arc::new(parse_policy(name, text).unwrap_or_else(|error| panic!("{name}: {error}")))
        })
        .collect();
    Acl::new(&parsed)
}

fn data(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("test data must be an object, got {other}"),
    }
}

/// The one table helper: `sys/capabilities` rows (`Cap`) and per-request rows (`Req`).
enum Row<'a> {
    Cap(&'a str, &'a [&'a str]),
    Req(Operation, &'a str, Value, bool),
}

fn check(policies: &[(&str, &str)], rows: &[Row<'_>]) {
    let acl = acl(policies);
    for row in rows {
        match row {
            Row::Cap(path, expected) => assert_eq!(
                acl.capabilities(path),
                *expected,
                "capabilities of {path:?}"
            ),
            Row::Req(operation, path, body, expected) => {
                let decision = acl.check(*operation, path, &data(body.clone()));
                assert_eq!(
                    decision.allowed, *expected,
                    "{operation:?} {path:?} {body}: {decision:?}"
                );
            }
        }
    }
}

const PRECEDENCE: &str = r#"
path "secret/foo" { capabilities = ["read"] }
path "secret/*" { capabilities = ["list"] }
path "secret/foo*" { capabilities = ["update"] }
path "secret/+/bar" { capabilities = ["create"] }
path "secret/+/+" { capabilities = ["delete"] }
path "secret/+/ba*" { capabilities = ["patch"] }
path "secret/a/+" { capabilities = ["sudo", "read"] }
path "secret/+" { capabilities = ["read", "list"] }
path "+/x" { capabilities = ["update"] }
path "kv/data/+/config" { capabilities = ["read"] }
path "kv/data/*" { capabilities = ["list"] }
path "list/me" { capabilities = ["list"] }
path "list2/*" { capabilities = ["read"] }
path "list2/sub/*" { capabilities = ["list"] }
path "/lead/slash" { capabilities = ["read"] }
"#;

/// Goal: every POL-06/POL-08 precedence rule. Method: one policy with competing patterns,
/// answers recorded from bao's `sys/capabilities` (evaluated as a list, CAP-03).
#[test]
fn precedence_rules_match_bao_capabilities() {
    use Row::Cap;
    check(
        &[("prec", PRECEDENCE)],
        &[
            Cap("secret/foo", &["read"]),       // exact beats every glob
            Cap("secret/foo/", &["read"]),      // list: the exact rule without the slash
            Cap("secret/foobar", &["update"]),  // longer glob beats shorter
            Cap("secret/x", &["list", "read"]), // `+` non-prefix beats `*` at the same position
            Cap("secret/x/bar", &["create"]),   // fewer `+` beats more
            Cap("secret/x/baz", &["delete"]),   // non-prefix `+` beats prefix `+…*`
            Cap("secret/x/qux", &["delete"]),
            Cap("secret/a/bar", &["read", "sudo"]), // later first wildcard beats earlier
            Cap("secret/a/zzz", &["read", "sudo"]),
            Cap("secret/a/b/c", &["list"]), // `+` rules need the segment count
            Cap("secret/", &["list", "read"]), // `+` matches an empty segment
            Cap("secret", &["deny"]),
            Cap("other/x", &["update"]),
            Cap("a/x", &["update"]),
            Cap("kv/data/app/config", &["read"]),
            Cap("kv/data/app/other", &["list"]),
            Cap("kv/data/app/config/extra", &["list"]),
            Cap("list/me/", &["list"]),
            Cap("list/me", &["list"]),
            Cap("list2/sub/x", &["list"]),
            Cap("list2/subx", &["read"]),
            Cap("nothing/here", &["deny"]),
            Cap("lead/slash", &["read"]), // a leading `/` in the policy is ignored
            Cap("/secret/foo", &["read"]), // and in the request
            Cap("secret//bar", &["create"]),
            Cap("x", &["deny"]),
        ],
    );
}

/// Goal: document where we follow Vault 1.14 and OpenBao 2.7 differs. Vault checks a list
/// path without its trailing slash against the glob rules first; OpenBao checks it with the
/// slash first. bao answers `["delete"]` and `["list"]` for these two rows.
#[test]
fn list_path_checks_slashless_globs_first_as_vault_does() {
    use Row::Cap;
    check(
        &[("prec", PRECEDENCE)],
        &[
            Cap("secret/x/", &["list", "read"]),
            Cap("list2/sub/", &["read"]),
        ],
    );
}

/// Goal: POL-07 union and deny across policies. Method: two policies naming the same
/// patterns; answers recorded from bao.
#[test]
fn merging_across_policies_matches_bao_capabilities() {
    use Row::Cap;
    let first = r#"
path "shared/*" { capabilities = ["read"] }
path "shared/exact" { capabilities = ["read"] }
path "deny/*" { capabilities = ["read", "list"] }
path "mixed/+/x" { capabilities = ["create"] }
"#;
    let second = r#"
path "shared/*" { capabilities = ["update"] }
path "shared/exact" { capabilities = ["delete"] }
path "deny/*" { capabilities = ["deny"] }
path "mixed/+/x" { capabilities = ["update"] }
path "shared/deeper/*" { capabilities = ["list"] }
"#;
    let rows = [
        Cap("shared/a", &["read", "update"]),
        Cap("shared/exact", &["delete", "read"]),
        Cap("deny/a", &["deny"]),
        Cap("mixed/q/x", &["create", "update"]),
        Cap("shared/deeper/z", &["list"]), // no union across different patterns
        Cap("shared/deeper", &["read", "update"]),
        Cap("mixed/q/y", &["deny"]),
    ];
    check(&[("p1", first), ("p2", second)], &rows);
    // Deny wins whichever policy comes first.
    check(&[("p2", second), ("p1", first)], &rows);
}

/// Goal: legacy `policy = …` and deny-only rules. Method: bao's answers.
#[test]
fn legacy_policies_and_deny_match_bao_capabilities() {
    use Row::Cap;
    let legacy = r#"
path "old/read" { policy = "read" }
path "old/write" { policy = "write" }
path "old/sudo" { policy = "sudo" }
path "old/deny" { policy = "deny" }
path "sys/audit*" { capabilities = ["sudo", "read", "update"] }
path "both" {
  policy = "read"
  capabilities = ["update"]
}
path "denyfirst" { capabilities = ["deny", "read"] }
path "denypolicy" {
  capabilities = ["bogus"]
  policy = "deny"
}
"#;
    check(
        &[("legacy", legacy)],
        &[
            Cap("old/read", &["list", "read"]),
            Cap("old/write", &["create", "delete", "list", "read", "update"]),
            Cap(
                "old/sudo",
                &["create", "delete", "list", "read", "sudo", "update"],
            ),
            Cap("old/deny", &["deny"]),
            Cap("sys/audit", &["read", "sudo", "update"]),
            Cap("sys/audit/file", &["read", "sudo", "update"]),
            Cap("both", &["list", "read", "update"]),
            Cap("denyfirst", &["deny"]),
            Cap("denypolicy", &["deny"]), // the legacy deny replaces the list before validation
        ],
    );
}

/// Goal: POL-11 default policy content. Method: Vault 1.14's text loaded into bao as a named
/// policy; templated paths are inert without identity.
#[test]
fn default_policy_matches_bao_capabilities() {
    use Row::Cap;
    check(
        &[("default", DEFAULT_POLICY_TEXT)],
        &[
            Cap("auth/token/lookup-self", &["read"]),
            Cap("sys/capabilities-self", &["update"]),
            Cap(
                "cubbyhole/foo",
                &["create", "delete", "list", "read", "update"],
            ),
            Cap(
                "cubbyhole/",
                &["create", "delete", "list", "read", "update"],
            ),
            Cap("cubbyhole", &["deny"]),
            Cap("identity/oidc/provider/x/authorize", &["read", "update"]),
            Cap("identity/entity/id/abc", &["deny"]),
            Cap("sys/renew", &["update"]),
            Cap("sys/control-group/request", &["update"]),
            Cap("sys/tools/hash/sha2-256", &["update"]),
            Cap("secret/x", &["deny"]),
        ],
    );
    let default = parse_policy("default", DEFAULT_POLICY_TEXT).expect("default policy parses");
    assert!(default.is_templated());
    assert_eq!(default.text(), DEFAULT_POLICY_TEXT);
    assert!(DEFAULT_POLICY_TEXT.starts_with("\n# Allow tokens to look up their own properties\n"));
}

/// Goal: the root policy allows everything with root privileges, whatever else is attached.
#[test]
fn root_policy_allows_everything() {
    let root = acl(&[
        ("root", ""),
        ("other", "path \"x\" { capabilities = [\"deny\"] }"),
    ]);
    assert!(root.is_root());
    assert_eq!(root.capabilities("x"), ["root"]);
    assert_eq!(root.capabilities("sys/seal"), ["root"]);
    let decision = root.check(Operation::Delete, "x", &Map::new());
    assert!(decision.allowed && decision.root_privileges);
    assert_eq!(decision.capabilities, ["root"]);
    assert!(!acl(&[("default", DEFAULT_POLICY_TEXT)]).is_root());
    assert_eq!(Acl::new(&[]).capabilities("x"), ["deny"]);
}

/// Goal: each operation needs its own capability; HEAD needs read; list checks the slash path.
#[test]
fn operations_need_their_capability() {
    use Row::Req;
    let policy = r#"
path "kv/data/app" { capabilities = ["create", "read"] }
path "kv/data/upd" { capabilities = ["update", "patch"] }
path "kv/metadata/team/*" { capabilities = ["list"] }
path "kv/metadata/exact" { capabilities = ["list"] }
path "kv/metadata/slash/" { capabilities = ["list", "read"] }
"#;
    check(
        &[("ops", policy)],
        &[
            Req(Operation::Create, "kv/data/app", json!({}), true),
            Req(Operation::Update, "kv/data/app", json!({}), false),
            Req(Operation::Read, "kv/data/app", json!({}), true),
            Req(Operation::Head, "kv/data/app", json!({}), true),
            Req(Operation::Delete, "kv/data/app", json!({}), false),
            Req(Operation::Update, "kv/data/upd", json!({}), true),
            Req(Operation::Patch, "kv/data/upd", json!({}), true),
            Req(Operation::Create, "kv/data/upd", json!({}), false),
            Req(Operation::List, "kv/metadata/team", json!({}), true), // checks `kv/metadata/team/`
            Req(Operation::List, "kv/metadata/team/", json!({}), true),
            Req(Operation::Read, "kv/metadata/team", json!({}), false),
            Req(Operation::List, "kv/metadata/exact", json!({}), true),
            Req(Operation::List, "kv/metadata/exact/", json!({}), true),
            Req(Operation::Read, "kv/metadata/exact/", json!({}), false),
            Req(Operation::List, "kv/metadata/slash", json!({}), true),
            Req(Operation::Read, "kv/metadata/slash", json!({}), false),
        ],
    );
}

/// Goal: `sudo` gives root privileges on the winning rule only.
#[test]
fn sudo_sets_root_privileges() {
    let acl = acl(&[(
        "sudo",
        "path \"sys/audit*\" { capabilities = [\"read\", \"sudo\"] }\npath \"sys/mounts\" { capabilities = [\"read\"] }",
    )]);
    let audit = acl.check(Operation::Read, "sys/audit/file", &Map::new());
    assert!(audit.allowed && audit.root_privileges);
    let denied = acl.check(Operation::Update, "sys/audit/file", &Map::new());
    assert!(!denied.allowed && denied.root_privileges);
    let mounts = acl.check(Operation::Read, "sys/mounts", &Map::new());
    assert!(mounts.allowed && !mounts.root_privileges);
    assert_eq!(mounts.capabilities, ["read"]);
}

/// Goal: POL-09 parameter constraints, allowed and denied cases for each kind.
#[test]
fn parameter_constraints() {
    use Row::Req;
    let policy = r#"
path "allowed" {
  capabilities = ["create", "update", "read", "delete", "list"]
  allowed_parameters = {
    "Name" = []
    "color" = ["red", "bl*", "*een"]
    "flag" = [true]
    "n" = [5]
  }
}
path "star" {
  capabilities = ["update"]
  allowed_parameters = { "*" = [], "size" = ["small"] }
}
path "denied" {
  capabilities = ["update"]
  denied_parameters = { "secret" = [], "color" = ["red"] }
}
path "deny-all" {
  capabilities = ["update", "delete"]
  denied_parameters = { "*" = [] }
}
path "required" {
  capabilities = ["update"]
  required_parameters = ["Owner", "ttl"]
}
"#;
    let update = Operation::Update;
    check(
        &[("params", policy)],
        &[
            Req(update, "allowed", json!({"name": "x"}), true),
            Req(
                update,
                "allowed",
                json!({"NAME": "x", "color": "red"}),
                true,
            ), // keys are case-insensitive
            Req(update, "allowed", json!({"color": "blue"}), true),
            Req(update, "allowed", json!({"color": "green"}), true),
            Req(update, "allowed", json!({"color": "pink"}), false),
            Req(update, "allowed", json!({"color": ["red"]}), false),
            Req(update, "allowed", json!({"other": "x"}), false),
            Req(update, "allowed", json!({"flag": true}), true),
            Req(update, "allowed", json!({"flag": "true"}), false),
            Req(update, "allowed", json!({"n": 5}), false), // Vault quirk, confirmed on bao
            Req(update, "allowed", json!({}), true),
            Req(Operation::Read, "allowed", json!({"other": "x"}), false),
            Req(Operation::Delete, "allowed", json!({"other": "x"}), true), // not checked on delete
            Req(Operation::List, "allowed", json!({"other": "x"}), true),
            Req(update, "star", json!({"anything": 1}), true),
            Req(update, "star", json!({"size": "small"}), true),
            Req(update, "star", json!({"size": "large"}), false),
            Req(update, "denied", json!({"secret": "x"}), false),
            Req(update, "denied", json!({"SECRET": "x"}), false),
            Req(update, "denied", json!({"color": "red"}), false),
            Req(update, "denied", json!({"color": "blue", "other": 1}), true),
            Req(update, "deny-all", json!({"a": 1}), false),
            Req(update, "deny-all", json!({}), true),
            Req(Operation::Delete, "deny-all", json!({"a": 1}), true),
            Req(
                update,
                "required",
                json!({"owner": "me", "ttl": "1h"}),
                true,
            ),
            Req(update, "required", json!({"owner": "me"}), false),
            Req(
                update,
                "required",
                json!({"Owner": "me", "ttl": "1h"}),
                false,
            ), // looked up lower-cased
            Req(update, "required", json!({}), false),
        ],
    );
}

/// Goal: POL-07 parameter merging: an empty list on either side means any value; value
/// lists join; required names union.
#[test]
fn parameters_merge_across_policies() {
    use Row::Req;
    let first = r#"path "p" {
  capabilities = ["update"]
  allowed_parameters = { "a" = ["1"], "b" = [] , "c" = ["x"] }
  required_parameters = ["a"]
}"#;
    let second = r#"path "p" {
  capabilities = ["update"]
  allowed_parameters = { "a" = ["2"], "b" = ["only"], "c" = [] }
  required_parameters = ["b"]
}"#;
    check(
        &[("first", first), ("second", second)],
        &[
            Req(Operation::Update, "p", json!({"a": "1", "b": "any"}), true),
            Req(
                Operation::Update,
                "p",
                json!({"a": "2", "b": "any", "c": "y"}),
                true,
            ),
            Req(Operation::Update, "p", json!({"a": "3", "b": "any"}), false),
            Req(Operation::Update, "p", json!({"a": "1"}), false),
        ],
    );
}

/// Goal: POL-10 wrapping TTL bounds: parsed loosely, merged to the smallest, enforced by the
/// caller through `permits_wrapping`.
#[test]
fn wrapping_ttl_bounds() {
    let bounded = r#"path "w" {
  capabilities = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
}"#;
    let acl = acl(&[("bounded", bounded)]);
    let decision = acl.check(Operation::Update, "w", &Map::new());
    assert!(decision.allowed);
    assert_eq!(
        (
            decision.min_wrapping_ttl_seconds,
            decision.max_wrapping_ttl_seconds
        ),
        (Some(60), Some(3600))
    );
    assert!(!decision.permits_wrapping(None));
    assert!(!decision.permits_wrapping(Some(59)));
    assert!(decision.permits_wrapping(Some(60)));
    assert!(decision.permits_wrapping(Some(3600)));
    assert!(!decision.permits_wrapping(Some(3601)));

    // Merged: smallest non-zero of each; here max (30s) ends below min (60s), which denies.
    let tighter = "path \"w\" {\n capabilities = [\"update\"]\n max_wrapping_ttl = \"30s\"\n}";
    let merged = self::acl(&[("bounded", bounded), ("tighter", tighter)]).check(
        Operation::Update,
        "w",
        &Map::new(),
    );
    assert_eq!(
        (
            merged.min_wrapping_ttl_seconds,
            merged.max_wrapping_ttl_seconds
        ),
        (Some(60), Some(30))
    );
    assert!(!merged.allowed);

    let unbounded = self::acl(&[("u", "path \"w\" { capabilities = [\"update\"] }")]);
    assert!(
        unbounded
            .check(Operation::Update, "w", &Map::new())
            .permits_wrapping(None)
    );
}

/// Goal: JSON policies parse and evaluate like HCL, in both of HCL 1's JSON shapes.
#[test]
fn json_policies_evaluate_like_hcl() {
    use Row::{Cap, Req};
    let object_form = r#"{"path": {"secret/*": {"capabilities": ["read", "list"]},
        "secret/+/cfg": {"capabilities": ["update"], "allowed_parameters": {"k": ["v*"]}}}}"#;
    let list_form = r#"{"name": "x", "path": [{"other/*": {"policy": "write"}}]}"#;
    check(
        &[("object", object_form), ("list", list_form)],
        &[
            Cap("secret/a", &["list", "read"]),
            Cap("secret/a/cfg", &["update"]),
            Cap("other/z", &["create", "delete", "list", "read", "update"]),
            Req(
                Operation::Update,
                "secret/a/cfg",
                json!({"k": "value"}),
                true,
            ),
            Req(
                Operation::Update,
                "secret/a/cfg",
                json!({"k": "other"}),
                false,
            ),
        ],
    );
}

/// Goal: parse errors carry Vault 1.14's text and HCL line numbers. Method: one row per error;
/// the texts were compared with bao (which adds a second `path "…":` prefix to some).
#[test]
fn parse_errors_carry_vault_text() {
    fn check_error(text: &str, expected: &str) {
        match parse_policy("t", text) {
            Ok(_) => panic!("{text:?} parsed"),
            Err(error) => assert_eq!(error.to_string(), expected, "{text:?}"),
        }
    }
    check_error(
        "foo = 1",
        "failed to parse policy: 1 error occurred:\n\t* invalid key \"foo\" on line 1\n\n",
    );
    check_error(
        "path \"a\" {\n  capabilities = [\"read\"]\n  zzz = 1\n  yyy = 2\n}",
        "failed to parse policy: 2 errors occurred:\n\t* path \"a\": invalid key \"zzz\" on line 3\n\t* path \"a\": invalid key \"yyy\" on line 4\n\n",
    );
    check_error(
        "path \"a\" {\n bar {\n}\n}",
        "failed to parse policy: 1 error occurred:\n\t* path \"a\": invalid key \"bar\" on line 0\n\n",
    );
    check_error(
        "path \"a\" { capabilities = [\"bogus\"] }",
        "failed to parse policy: path \"a\": invalid capability \"bogus\"",
    );
    check_error(
        "path \"a\" { capabilities = [1] }",
        "failed to parse policy: path \"a\": invalid capability \"1\"",
    );
    check_error(
        "path \"a\" { capabilities = [\"scan\"] }",
        "failed to parse policy: path \"a\": invalid capability \"scan\"",
    );
    check_error(
        "path \"/a+*\" { capabilities = [\"read\"] }",
        "failed to parse policy: path \"a+*\": invalid use of wildcards ('+*' is forbidden)",
    );
    check_error(
        "path \"a\" { policy = \"bad\" }",
        "failed to parse policy: path \"a\": invalid policy \"bad\"",
    );
    check_error(
        "path \"a\" {\n min_wrapping_ttl = \"10m\"\n max_wrapping_ttl = \"1m\"\n}",
        "failed to parse policy: max_wrapping_ttl cannot be less than min_wrapping_ttl",
    );
    check_error(
        "path \"a\" { min_wrapping_ttl = \"xx\" }",
        "failed to parse policy: error parsing min_wrapping_ttl: time: invalid duration \"xx\"",
    );
    check_error(
        "path \"a\" { min_wrapping_ttl = [1] }",
        "failed to parse policy: error parsing min_wrapping_ttl: could not parse duration from input",
    );
    check_error(
        "path \"a\" { capabilities = \"read\" }",
        "failed to parse policy: path \"a\": At 1:27: unknown slice type: *ast.LiteralType",
    );
    check_error(
        "path \"a\" { policy = [\"read\"] }",
        "failed to parse policy: path \"a\": At 1:21: root.Policy: unknown type for string *ast.ListType",
    );
    check_error(
        "path \"a\" { capabilities = [true] }",
        "failed to parse policy: path \"a\": At 1:28: root.Capabilities[0]: unknown type for string *ast.LiteralType",
    );
    check_error(
        "path \"a\" { allowed_parameters = [\"a\"] }",
        "failed to parse policy: path \"a\": At 1:33: root.allowed_parameters: not an object type for map (*ast.ListType)",
    );
    check_error(
        "path \"a\" { allowed_parameters = { x = \"y\" } }",
        "failed to parse policy: path \"a\": At 1:39: unknown slice type: *ast.LiteralType",
    );
    check_error(
        "path = 5",
        "failed to parse policy: path \"path\": cannot check HCL keys of type *ast.LiteralType",
    );
    check_error(
        "path \"x/}}\" { capabilities = [\"read\"] }",
        "failed to parse policy: failed to validate policy templating: unbalanced templating characters",
    );
    check_error(
        "{\"path\": {\"a\": {\"capabilities\": \"read\"}}}",
        "failed to parse policy: path \"a\": At -: unknown slice type: *ast.LiteralType",
    );
    check_error(
        "{\"foo\": 1}",
        "failed to parse policy: 1 error occurred:\n\t* invalid key \"foo\" on line 1\n\n",
    );
    check_error("[1]", "failed to parse policy: At 1:1: unexpected token");
    // HCL 1 accepts a closing brace after the last attribute of a multi-line block, and a
    // first item on the `{` line; the parser retries with braces on their own lines.
    assert!(parse_policy("t", "path \"a\" {\n capabilities = [\"read\"] }").is_ok());
    assert!(parse_policy("t", "path \"pp/x\" { capabilities = [\"update\"]\n}").is_ok());
    // Syntax errors keep hcl-edit's line and column and message; HCL 1 says
    // `At 3:1: error parsing list, expected comma or list end, got: EOF` here.
    check_error(
        "path \"a\" {\n capabilities = [\"read\"\n",
        "failed to parse policy: At 2:25: expected `]`",
    );
}

/// Goal: accepted oddities of HCL 1 that real policies use.
#[test]
fn accepted_policy_shapes() {
    use Row::Cap;
    let shapes = r#"
name = "ignored"
path "two" "labels" { capabilities = ["read"] }
path "commented" {
  comment = 5
  mfa_methods = ["m"]
  capabilities = ["read"]
}
path "ttl" {
  capabilities = ["read"]
  min_wrapping_ttl = 1.5
  max_wrapping_ttl = "2d"
}
path "dup" { capabilities = ["read"] }
path "dup" { capabilities = ["list"] }
"#;
    check(
        &[("shapes", shapes)],
        &[
            Cap("two", &["read"]),
            Cap("commented", &["read"]),
            Cap("dup", &["list", "read"]),
        ],
    );
    let decision = acl(&[("shapes", shapes)]).check(Operation::Read, "ttl", &Map::new());
    assert_eq!(
        (
            decision.min_wrapping_ttl_seconds,
            decision.max_wrapping_ttl_seconds
        ),
        (Some(1), Some(172_800))
    );
}

/// Goal: each limit refuses one past it and accepts the limit itself.
#[test]
fn limits_refuse_one_past() {
    let rule = "path \"p\" { capabilities = [\"read\"] }\n";
    let at_limit = rule.repeat(limits::POLICY_PATHS_MAX);
    assert!(parse_policy("many", &at_limit).is_ok());
    let over = rule.repeat(limits::POLICY_PATHS_MAX + 1);
    assert_eq!(
        parse_policy("many", &over).err(),
        Some(PolicyError::TooManyPaths {
            paths: limits::POLICY_PATHS_MAX + 1,
            limit: limits::POLICY_PATHS_MAX
        })
    );
    let padding = " ".repeat(limits::POLICY_TEXT_BYTES_MAX - rule.len());
    assert!(parse_policy("big", &format!("{rule}{padding}")).is_ok());
    let too_big = format!("{rule}{padding} ");
    assert_eq!(
        parse_policy("big", &too_big).err(),
        Some(PolicyError::TextTooLarge {
            bytes: limits::POLICY_TEXT_BYTES_MAX + 1,
            limit: limits::POLICY_TEXT_BYTES_MAX
        })
    );
}

/// Goal: errors map to 400 through the framework's kind.
#[test]
fn policy_errors_are_invalid_requests() {
    let error = parse_policy("t", "foo = 1").expect_err("invalid key");
    assert_eq!(error.kind(), tresor_framework::ErrorKind::Invalid);
    let framework: tresor_framework::Error = error.into();
    assert_eq!(framework.kind(), tresor_framework::ErrorKind::Invalid);
}
