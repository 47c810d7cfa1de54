//! The token method through its backend: every request goes through `check`, which runs
//! `Backend::handle_request` as the router would (a `Caller` built from the store's entry) and
//! compares the whole answer with a JSON pattern in which `"*"` matches any value. The clock
//! is the test's, the storage a `MemoryStorage` scanned at the end for leaked secrets.

use super::*;
use crate::AuthError;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tresor_framework::{
    Backend, Caller, Error, ErrorKind, MountContext, Operation, Reply, Request, StorageView,
};
use tresor_storage::{MemoryStorage, Storage};

/// 2024-03-22T02:24:06.945319214Z.
const NOW_NANOS: i64 = 1_711_074_246_945_319_214;
const NOW_TEXT: &str = "2024-03-22T02:24:06.945319214Z";
const NOW_SECONDS: i64 = 1_711_074_246;
const DAY_768H: u64 = 2_764_800;

#[derive(Default)]
struct RecordingHook {
    expiries: Mutex<Vec<(String, Option<i64>)>>,
    revoked: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl TokenLifecycleHook for RecordingHook {
    async fn token_expiry_set(&self, entry: &TokenEntry) -> Result<(), AuthError> {
        self.expiries
            .lock()
            .expect("lock")
            .push((entry.id_hash.clone(), entry.expire_time));
        Ok(())
    }
    async fn token_revoked(&self, entry: &TokenEntry) -> Result<(), AuthError> {
        self.revoked
            .lock()
            .expect("lock")
            .push(entry.id_hash.clone());
        Ok(())
    }
    async fn policy_exists(&self, name: &str) -> Result<bool, AuthError> {
        Ok(matches!(name, "root" | "default" | "dev" | "ops"))
    }
}

struct Harness {
    memory: Arc<MemoryStorage>,
    store: Arc<TokenStore>,
    backend: Arc<dyn Backend>,
    hook: Arc<RecordingHook>,
    offset_nanos: Arc<AtomicI64>,
    /// Every token handed out, for the storage scan.
    issued: Mutex<Vec<String>>,
}

impl Harness {
    async fn new() -> (Harness, String) {
        let memory = Arc::new(MemoryStorage::new());
        let offset_nanos = Arc::new(AtomicI64::new(0));
        let offset = offset_nanos.clone();
        let clock: Clock = Arc::new(move || NOW_NANOS + offset.load(Ordering::SeqCst));
        let store = Arc::new(TokenStore::with_clock(
            StorageView::new(memory.clone(), "sys/token/"),
            clock,
        ));
        let hook = Arc::new(RecordingHook::default());
        store.set_lifecycle_hook(hook.clone());
        // Every test runs with the entry cache on, as on an active node: each expectation
        // below also proves the cache never answers what storage no longer holds.
        store.set_cache_gate(Arc::new(|| Some(1)));
        let backend = token_backend(store.clone());
        let root = store.create_root(None).await.expect("root token");
        let harness = Harness {
            memory,
            store,
            backend,
            hook,
            offset_nanos,
            issued: Mutex::new(vec![root.clone()]),
        };
        (harness, root)
    }

    fn advance(&self, seconds: i64) {
        self.offset_nanos
            .fetch_add(seconds * 1_000_000_000, Ordering::SeqCst);
    }

    /// Runs one request as `token` (the router's `use_token` + caller) and compares the answer
    /// with `expected`. `sudo` is what the ACL would grant on the path. Returns the answer.
    async fn check(
        &self,
        token: &str,
        sudo: bool,
        operation: Operation,
        path: &str,
        body: Value,
        expected: Value,
    ) -> Value {
        let caller = match self.store.use_token(token).await.expect("use token") {
            Some(entry) => Some(Caller {
                accessor: entry.accessor.clone(),
                policies: entry.policies.clone(),
                is_root: entry.is_root(),
                has_sudo: sudo || entry.is_root(),
                token_hash: entry.id_hash.clone(),
                display_name: entry.display_name.clone(),
                entity_id: entry.entity_id.clone(),
            }),
            None => None,
        };
        let Value::Object(data) = body.clone() else {
            panic!("a body is an object")
        };
        let mount = MountContext {
            path: "auth/token/".into(),
            accessor: "auth_token_0000".into(),
            default_lease_ttl_seconds: DAY_768H,
            max_lease_ttl_seconds: DAY_768H,
            options: Default::default(),
        };
        let request = Request {
            operation,
            path: path.into(),
            data,
            client_token: Some(token.into()),
            request_id: "request-id".into(),
            mount,
            caller,
            wrap_ttl_seconds: None,
        };
        let actual = answer(self.backend.handle_request(request).await);
        if let Some(token) = actual
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
        {
            self.issued.lock().expect("lock").push(token.to_string());
        }
        assert!(
            matches(&expected, &actual),
            "{operation:?} {path} {body}\nexpected {expected:#}\nactual   {actual:#}"
        );
        actual
    }

    /// Creates a token as `parent` and returns it.
    async fn create(&self, parent: &str, body: Value) -> String {
        let answer = self
            .check(
                parent,
                false,
                Operation::Update,
                "create",
                body,
                json!({"status": 200, "auth": "*", "warnings": "*"}),
            )
            .await;
        answer["auth"]["client_token"]
            .as_str()
            .expect("client token")
            .to_string()
    }

    async fn entry(&self, token: &str) -> Option<TokenEntry> {
        self.store.lookup(token).await.expect("lookup")
    }

    /// Every key and value under the store's view.
    async fn dump(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut folders = vec!["sys/token/".to_string()];
        while let Some(folder) = folders.pop() {
            for child in self.memory.list(&folder).await.expect("list") {
                let key = format!("{folder}{child}");
                match child.ends_with('/') {
                    true => folders.push(key),
                    false => {
                        let value = self
                            .memory
                            .get(&key)
                            .await
                            .expect("get")
                            .unwrap_or_default();
                        out.push((key, value));
                    }
                }
            }
        }
        out
    }
}

/// The answer as the server would put it on the wire, in a comparable shape.
fn answer(result: Result<Reply, Error>) -> Value {
    match result {
        Ok(Reply::NoContent) => json!({"status": 204}),
        Ok(Reply::Secret(secret)) => {
            let mut out = json!({"status": secret.status});
            if let Some(data) = secret.data {
                out["data"] = data;
            }
            if let Some(auth) = secret.auth {
                out["auth"] = auth;
            }
            if !secret.warnings.is_empty() {
                out["warnings"] = json!(secret.warnings);
            }
            out
        }
        Ok(Reply::Raw { status, body }) => json!({"status": status, "raw": body.get()}),
        Err(error) => {
            let status = match error.kind() {
                ErrorKind::Invalid => 400,
                ErrorKind::PermissionDenied => 403,
                ErrorKind::NotFound | ErrorKind::UnsupportedPath => 404,
                ErrorKind::UnsupportedOperation => 405,
                ErrorKind::Internal => 500,
                _ => 599,
            };
            json!({"status": status, "errors": error.messages()})
        }
    }
}

/// `"*"` matches anything (present or absent); objects match key by key, both ways.
fn matches(pattern: &Value, actual: &Value) -> bool {
    match (pattern, actual) {
        (Value::String(star), _) if star == "*" => true,
        (Value::Object(pattern), Value::Object(actual)) => {
            let keys_ok = actual.keys().all(|key| pattern.contains_key(key));
            keys_ok
                && pattern.iter().all(|(key, value)| {
                    matches(value, actual.get(key).unwrap_or(&Value::Null)) || (value == "*")
                })
        }
        (Value::Array(pattern), Value::Array(actual)) => {
            pattern.len() == actual.len() && pattern.iter().zip(actual).all(|(p, a)| matches(p, a))
        }
        _ => pattern == actual,
    }
}

fn auth(policies: &[&str], lease: u64, renewable: bool, orphan: bool) -> Value {
    json!({
        "client_token": "*", "accessor": "*", "policies": policies, "token_policies": policies,
        "metadata": null, "lease_duration": lease, "renewable": renewable, "entity_id": "",
        "token_type": "service", "orphan": orphan, "mfa_requirement": null, "num_uses": 0
    })
}

fn error(status: u16, message: &str) -> Value {
    json!({"status": status, "errors": [message]})
}

use Operation::{Delete, List, Read, Update};

#[tokio::test]
async fn root_lookup_self_answers_vaults_fields() {
    // Goal: the lookup data of the init root token, field for field (TOK-07).
    let (h, root) = Harness::new().await;
    let accessor = h.entry(&root).await.expect("root").accessor;
    h.check(&root, false, Read, "lookup-self", json!({}), json!({"status": 200, "data": {
        "accessor": accessor, "creation_time": NOW_SECONDS, "creation_ttl": 0, "display_name": "root",
        "entity_id": "", "expire_time": null, "explicit_max_ttl": 0, "id": root, "issue_time": NOW_TEXT,
        "meta": null, "num_uses": 0, "orphan": true, "path": "auth/token/root", "policies": ["root"],
        "renewable": false, "ttl": 0, "type": "service"
    }})).await;
    // `lookup` without a token is the caller's own; by accessor `id` is empty.
    h.check(
        &root,
        false,
        Update,
        "lookup",
        json!({}),
        json!({"status": 200, "data": "*"}),
    )
    .await;
    let by_accessor = h
        .check(
            &root,
            false,
            Update,
            "lookup-accessor",
            json!({"accessor": accessor}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(by_accessor["data"]["id"], "");
}

#[tokio::test]
async fn create_answers_the_auth_block_and_lookup_matches() {
    // Goal: create's auth block (ENV-04) and the child's lookup (TOK-02, TOK-06, TOK-07).
    let (h, root) = Harness::new().await;
    let body = json!({"policies": "dev", "meta": {"a": "b"}, "display_name": "My App!", "ttl": "1h", "explicit_max_ttl": 7200, "num_uses": "5"});
    let mut expected = auth(&["default", "dev"], 3600, true, false);
    expected["metadata"] = json!({"a": "b"});
    expected["num_uses"] = json!(5);
    let answer = h
        .check(
            &root,
            false,
            Update,
            "create",
            body,
            json!({"status": 200, "auth": expected}),
        )
        .await;
    let child = answer["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert!(child.starts_with("hvs.") && child.len() == 28);
    let accessor = answer["auth"]["accessor"].clone();
    h.check(&root, false, Update, "lookup", json!({"token": child}), json!({"status": 200, "data": {
        "accessor": accessor, "creation_time": NOW_SECONDS, "creation_ttl": 3600, "display_name": "token-My-App",
        "entity_id": "", "expire_time": "2024-03-22T03:24:06.945319214Z", "explicit_max_ttl": 7200, "id": child,
        "issue_time": NOW_TEXT, "meta": {"a": "b"}, "num_uses": 5, "orphan": false, "path": "auth/token/create",
        "policies": ["default", "dev"], "renewable": true, "ttl": 3600, "type": "service"
    }})).await;
    // The router's use of the token is counted before the handler runs.
    let seen = h
        .check(
            &child,
            false,
            Read,
            "lookup-self",
            json!({}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(seen["data"]["num_uses"], 4);
    assert_eq!(seen["data"]["id"], json!(child));
    // The hook heard of the expiry.
    let hash = h.entry(&child).await.expect("child").id_hash;
    assert!(
        h.hook
            .expiries
            .lock()
            .expect("lock")
            .contains(&(hash, Some(NOW_SECONDS + 3600)))
    );
}

#[tokio::test]
async fn create_rules_refuse_with_vaults_messages() {
    // Goal: every create refusal row (TOK-01, TOK-03, TOK-05, TOK-12).
    let (h, root) = Harness::new().await;
    let dev = h.create(&root, json!({"policies": ["dev"]})).await;
    let limited = h.create(&root, json!({"num_uses": 3})).await;
    let batch = h
        .create(&root, json!({"type": "batch", "policies": ["dev"]}))
        .await;
    let rows: Vec<(&str, bool, &str, Value, Value)> = vec![
        (
            &dev,
            false,
            "create",
            json!({"policies": ["other"]}),
            error(400, "child policies must be subset of parent"),
        ),
        (
            &dev,
            false,
            "create",
            json!({"policies": ["root"]}),
            error(400, "child policies must be subset of parent"),
        ),
        (
            &dev,
            true,
            "create",
            json!({"policies": ["root"]}),
            error(
                400,
                "root tokens may not be created without parent token being root",
            ),
        ),
        (
            &dev,
            false,
            "create",
            json!({"no_parent": true}),
            error(
                400,
                "root or sudo privileges required to create orphan token",
            ),
        ),
        (
            &dev,
            false,
            "create-orphan",
            json!({"policies": ["other"]}),
            error(400, "child policies must be subset of parent"),
        ),
        (
            &dev,
            false,
            "create",
            json!({"id": "custom"}),
            error(400, "root or sudo privileges required to specify token id"),
        ),
        (
            &dev,
            false,
            "create",
            json!({"period": "1h"}),
            error(
                400,
                "root or sudo privileges required to create periodic token",
            ),
        ),
        (
            &root,
            false,
            "create",
            json!({"policies": ["response-wrapping"]}),
            error(400, "cannot assign policy \"response-wrapping\""),
        ),
        (
            &root,
            false,
            "create",
            json!({"type": "foo"}),
            error(400, "invalid 'token_type' value"),
        ),
        (
            &root,
            false,
            "create",
            json!({"num_uses": -1}),
            error(400, "number of uses cannot be negative"),
        ),
        (
            &root,
            false,
            "create",
            json!({"type": "batch", "num_uses": 3}),
            error(400, "batch tokens cannot have \"num_uses\" set"),
        ),
        (
            &root,
            false,
            "create",
            json!({"type": "batch"}),
            error(400, "batch tokens cannot be root tokens"),
        ),
        (
            &root,
            false,
            "create",
            json!({"entity_alias": "x"}),
            error(
                400,
                "'entity_alias' is only allowed in combination with token role",
            ),
        ),
        (
            &limited,
            false,
            "create",
            json!({}),
            error(400, "restricted use token cannot generate child tokens"),
        ),
        (
            &batch,
            false,
            "create",
            json!({}),
            error(400, "batch tokens cannot create more tokens"),
        ),
        (
            "hvs.unknown",
            false,
            "create",
            json!({}),
            error(403, "1 error occurred:\n\t* permission denied\n\n"),
        ),
    ];
    for (token, sudo, path, body, expected) in rows {
        h.check(token, sudo, Update, path, body, expected).await;
    }
}

#[tokio::test]
async fn create_policy_and_orphan_rules() {
    // Goal: inheritance, `default`, sudo orphans and warnings (TOK-02, TOK-03).
    let (h, root) = Harness::new().await;
    let dev = h.create(&root, json!({"policies": ["dev"]})).await;
    let rows: Vec<(&str, bool, &str, Value, Value)> = vec![
        (
            &dev,
            false,
            "create",
            json!({}),
            auth(&["default", "dev"], DAY_768H, true, false),
        ),
        (
            &dev,
            false,
            "create",
            json!({"policies": ["default"]}),
            auth(&["default"], DAY_768H, true, false),
        ),
        (
            &dev,
            false,
            "create",
            json!({"policies": "dev", "no_default_policy": "true"}),
            auth(&["dev"], DAY_768H, true, false),
        ),
        (
            &dev,
            true,
            "create",
            json!({"no_parent": true, "policies": ["ops"]}),
            auth(&["default", "ops"], DAY_768H, true, true),
        ),
        (
            &dev,
            false,
            "create-orphan",
            json!({"policies": ["dev"]}),
            auth(&["default", "dev"], DAY_768H, true, true),
        ),
        (
            &root,
            false,
            "create",
            json!({"policies": ["root"]}),
            auth(&["root"], 0, false, false),
        ),
        (
            &root,
            false,
            "create",
            json!({"ttl": "1h", "renewable": false}),
            auth(&["root"], 3600, false, false),
        ),
    ];
    for (token, sudo, path, body, expected) in rows {
        h.check(
            token,
            sudo,
            Update,
            path,
            body,
            json!({"status": 200, "auth": expected}),
        )
        .await;
    }
    let answer = h.check(&root, false, Update, "create", json!({"policies": "Foo, bar", "ttl": "0"}), json!({"status": 200, "auth": auth(&["default", "foo, bar"], DAY_768H, true, false), "warnings": ["Policy \"foo, bar\" does not exist"]})).await;
    assert_eq!(answer["auth"]["token_type"], "service");
    h.check(&root, false, Update, "create", json!({"ttl": "10000h"}), json!({"status": 200, "auth": auth(&["root"], DAY_768H, true, false), "warnings": ["TTL of \"10000h\" exceeded the effective max_ttl of \"768h\"; TTL value is capped accordingly"]})).await;
    let mut custom = auth(&["root"], 3600, true, false);
    custom["client_token"] = json!("custom1");
    h.check(
        &root,
        false,
        Update,
        "create",
        json!({"id": "custom1", "ttl": 3600}),
        json!({"status": 200, "auth": custom, "warnings": "*"}),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "create",
        json!({"id": "custom1"}),
        error(400, "cannot create a token with a duplicate ID"),
    )
    .await;
    let mut batch = auth(&["default", "dev"], 600, false, false);
    batch["accessor"] = json!("");
    batch["token_type"] = json!("batch");
    let answer = h
        .check(
            &root,
            false,
            Update,
            "create",
            json!({"type": "batch", "policies": ["dev"], "ttl": "10m"}),
            json!({"status": 200, "auth": batch}),
        )
        .await;
    assert!(
        answer["auth"]["client_token"]
            .as_str()
            .expect("token")
            .starts_with("hvb.")
    );
}

#[tokio::test]
async fn lookup_renew_and_revoke_refusals() {
    // Goal: unknown tokens and accessors answer as Vault does (TOK-08, TOK-12).
    let (h, root) = Harness::new().await;
    let batch = h
        .create(
            &root,
            json!({"type": "batch", "ttl": "10m", "policies": ["dev"]}),
        )
        .await;
    let fixed = h
        .create(&root, json!({"ttl": "1h", "renewable": false}))
        .await;
    let wrapped = |message: &str| error(400, &format!("1 error occurred:\n\t* {message}\n\n"));
    let rows: Vec<(&str, bool, &str, Value, Value)> = vec![
        (
            "lookup",
            false,
            "*",
            json!({"token": "hvs.nope"}),
            error(403, "bad token"),
        ),
        (
            "lookup-accessor",
            false,
            "*",
            json!({"accessor": "nope"}),
            wrapped("invalid accessor"),
        ),
        (
            "lookup-accessor",
            false,
            "*",
            json!({}),
            wrapped("missing accessor"),
        ),
        (
            "renew",
            false,
            "*",
            json!({"token": "hvs.nope"}),
            error(400, "token not found"),
        ),
        (
            "renew",
            false,
            "*",
            json!({}),
            error(400, "missing token ID"),
        ),
        (
            "renew",
            false,
            "*",
            json!({"token": batch}),
            error(400, "batch tokens cannot be renewed"),
        ),
        (
            "renew",
            false,
            "*",
            json!({"token": fixed}),
            error(400, "lease is not renewable"),
        ),
        (
            "renew-self",
            false,
            "*",
            json!({}),
            error(400, "lease is not renewable"),
        ),
        (
            "renew-accessor",
            false,
            "*",
            json!({"accessor": "nope"}),
            wrapped("invalid accessor"),
        ),
        (
            "revoke",
            false,
            "*",
            json!({"token": "hvs.nope"}),
            json!({"status": 204}),
        ),
        (
            "revoke",
            false,
            "*",
            json!({}),
            error(400, "missing token ID"),
        ),
        (
            "revoke",
            false,
            "*",
            json!({"token": batch}),
            error(400, "batch tokens cannot be revoked"),
        ),
        (
            "revoke-accessor",
            false,
            "*",
            json!({"accessor": "nope"}),
            json!({"status": 200, "warnings": ["No token found with this accessor"]}),
        ),
        (
            "revoke-accessor",
            false,
            "*",
            json!({}),
            wrapped("missing accessor"),
        ),
        (
            "revoke-orphan",
            true,
            "*",
            json!({"token": "hvs.nope"}),
            error(400, "token to revoke not found"),
        ),
        (
            "revoke-orphan",
            true,
            "*",
            json!({}),
            error(400, "missing token ID"),
        ),
    ];
    for (path, sudo, _, body, expected) in rows {
        h.check(&root, sudo, Update, path, body, expected).await;
    }
    let dev = h.create(&root, json!({"policies": ["dev"]})).await;
    h.check(
        &dev,
        false,
        Update,
        "revoke-orphan",
        json!({"token": fixed}),
        error(400, "root or sudo privileges required to revoke and orphan"),
    )
    .await;
    h.check(
        &dev,
        false,
        List,
        "accessors/",
        json!({}),
        error(403, "1 error occurred:\n\t* permission denied\n\n"),
    )
    .await;
    h.check(
        &root,
        false,
        Read,
        "lookup-accessor",
        json!({}),
        error(405, "1 error occurred:\n\t* unsupported operation\n\n"),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "nope",
        json!({}),
        error(404, "1 error occurred:\n\t* unsupported path\n\n"),
    )
    .await;
    // Batch tokens can be looked up.
    let seen = h
        .check(
            &root,
            false,
            Update,
            "lookup",
            json!({"token": batch}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(
        (
            seen["data"]["type"].clone(),
            seen["data"]["accessor"].clone()
        ),
        (json!("batch"), json!(""))
    );
}

#[tokio::test]
async fn renew_caps_by_explicit_max_and_period() {
    // Goal: increment is a TTL from now, capped by the explicit max; periodic tokens renew to
    // their period (TOK-04, TOK-09).
    let (h, root) = Harness::new().await;
    let capped = h
        .create(&root, json!({"ttl": "1h", "explicit_max_ttl": "2h"}))
        .await;
    h.check(&root, false, Update, "renew", json!({"token": capped, "increment": "3h"}), json!({"status": 200, "auth": auth(&["root"], 7200, true, false), "warnings": ["TTL of \"3h\" exceeded the effective max_ttl of \"2h\"; TTL value is capped accordingly"]})).await;
    h.advance(600);
    // Without increment the last TTL is asked for again, capped to what the max leaves.
    h.check(
        &capped,
        false,
        Update,
        "renew-self",
        json!({}),
        json!({"status": 200, "auth": auth(&["root"], 6600, true, false), "warnings": "*"}),
    )
    .await;
    let seen = h
        .check(
            &root,
            false,
            Update,
            "lookup",
            json!({"token": capped}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(seen["data"]["creation_ttl"], 3600);
    assert_eq!(seen["data"]["last_renewal_time"], NOW_SECONDS + 600);
    let periodic = h.create(&root, json!({"period": "30m", "ttl": "1h"})).await;
    let seen = h
        .check(
            &root,
            false,
            Update,
            "lookup",
            json!({"token": periodic}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(
        (
            seen["data"]["period"].clone(),
            seen["data"]["creation_ttl"].clone()
        ),
        (json!(1800), json!(1800))
    );
    h.check(
        &periodic,
        false,
        Update,
        "renew-self",
        json!({"increment": "5h"}),
        json!({"status": 200, "auth": auth(&["root"], 1800, true, false)}),
    )
    .await;
    let accessor = h.entry(&periodic).await.expect("periodic").accessor;
    // A periodic token renews to its period whatever the increment.
    let mut by_accessor = auth(&["root"], 1800, true, false);
    by_accessor["client_token"] = json!("");
    h.check(
        &root,
        false,
        Update,
        "renew-accessor",
        json!({"accessor": accessor, "increment": 60}),
        json!({"status": 200, "auth": by_accessor}),
    )
    .await;
    // Past the explicit max a renewal is refused.
    h.advance(7200);
    h.check(
        &root,
        false,
        Update,
        "renew",
        json!({"token": capped}),
        error(400, "token not found"),
    )
    .await;
}

#[tokio::test]
async fn tree_revocation_spares_orphans_and_calls_the_hook_per_token() {
    // Goal: revoking a parent revokes its descendants, not its orphans; revoke-orphan
    // re-parents children as orphans (TOK-10).
    let (h, root) = Harness::new().await;
    let parent = h.create(&root, json!({"policies": ["dev"]})).await;
    let child = h.create(&parent, json!({})).await;
    let grandchild = h.create(&child, json!({})).await;
    let batch_child = h.create(&parent, json!({"type": "batch"})).await;
    let orphan = h
        .check(
            &parent,
            false,
            Update,
            "create-orphan",
            json!({}),
            json!({"status": 200, "auth": "*"}),
        )
        .await["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    let mut expected = Vec::new();
    for token in [&parent, &child, &grandchild, &batch_child] {
        expected.push(h.entry(token).await.expect("live").id_hash);
    }
    h.check(
        &root,
        false,
        Update,
        "revoke",
        json!({"token": parent}),
        json!({"status": 204}),
    )
    .await;
    for token in [&parent, &child, &grandchild, &batch_child] {
        assert!(h.entry(token).await.is_none(), "revoked with its parent");
    }
    assert!(h.entry(&orphan).await.is_some(), "orphans survive");
    let mut revoked = h.hook.revoked.lock().expect("lock").clone();
    revoked.sort();
    expected.sort();
    assert_eq!(revoked, expected);
    assert!(
        h.dump()
            .await
            .iter()
            .all(|(key, _)| !key.starts_with("sys/token/parent/")),
        "parent index emptied"
    );

    let parent = h.create(&root, json!({})).await;
    let child = h.create(&parent, json!({})).await;
    h.check(
        &root,
        true,
        Update,
        "revoke-orphan",
        json!({"token": parent}),
        json!({"status": 204}),
    )
    .await;
    assert!(h.entry(&parent).await.is_none());
    assert!(h.entry(&child).await.expect("child survives").orphan);
    // revoke-self and revoke-accessor revoke the tree too.
    let grandchild = h.create(&child, json!({})).await;
    h.check(
        &child,
        false,
        Update,
        "revoke-self",
        json!({}),
        json!({"status": 204}),
    )
    .await;
    assert!(h.entry(&grandchild).await.is_none());
    let other = h.create(&root, json!({})).await;
    let accessor = h.entry(&other).await.expect("other").accessor;
    h.check(
        &root,
        false,
        Update,
        "revoke-accessor",
        json!({"accessor": accessor}),
        json!({"status": 204}),
    )
    .await;
    assert!(h.entry(&other).await.is_none());
}

#[tokio::test]
async fn use_limited_tokens_exhaust_and_expired_tokens_are_revoked_lazily() {
    // Goal: num_uses counts per request and the last use marks the token for revocation
    // (TOK-05); an expired token answers None and is revoked on lookup.
    let (h, root) = Harness::new().await;
    let limited = h.create(&root, json!({"num_uses": 2})).await;
    assert_eq!(
        h.store
            .use_token(&limited)
            .await
            .expect("use")
            .expect("first")
            .num_uses,
        1
    );
    let last = h
        .store
        .use_token(&limited)
        .await
        .expect("use")
        .expect("second");
    assert_eq!(last.num_uses, TokenEntry::USES_EXHAUSTED);
    assert!(h.store.use_token(&limited).await.expect("use").is_none());
    assert!(h.store.lookup(&limited).await.expect("lookup").is_none());
    h.store
        .revoke_by_hash(&last.id_hash)
        .await
        .expect("revoke after the request");
    assert!(
        h.store
            .read_entry(&last.id_hash)
            .await
            .expect("read")
            .is_none()
    );

    let short = h.create(&root, json!({"ttl": 60})).await;
    let hash = h.entry(&short).await.expect("live").id_hash;
    h.advance(59);
    assert!(h.store.use_token(&short).await.expect("use").is_some());
    h.advance(1);
    assert!(h.store.use_token(&short).await.expect("use").is_none());
    assert!(h.hook.revoked.lock().expect("lock").contains(&hash));
    assert!(h.store.read_entry(&hash).await.expect("read").is_none());
    h.check(
        &root,
        false,
        Update,
        "lookup",
        json!({"token": short}),
        error(403, "bad token"),
    )
    .await;
}

#[tokio::test]
async fn roles_crud_and_create_against_role() {
    // Goal: role CRUD, defaults on read, and creation bounded by the role (TOK-13).
    let (h, root) = Harness::new().await;
    h.check(
        &root,
        false,
        List,
        "roles/",
        json!({}),
        json!({"status": 404, "errors": []}),
    )
    .await;
    h.check(
        &root,
        false,
        Read,
        "roles/nope",
        json!({}),
        json!({"status": 404, "errors": []}),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "roles/r1",
        json!({"path_suffix": "v1"}),
        error(
            400,
            "given role path suffix contains invalid characters; must match \\w[\\w-.]+\\w",
        ),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "roles/r1",
        json!({"token_type": "xx"}),
        error(400, "invalid 'token_type' value \"xx\""),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "roles/r1",
        json!({"token_type": "batch"}),
        error(
            400,
            "'token_type' cannot be 'batch' when role is set to generate non-orphan tokens",
        ),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "roles/bad name",
        json!({}),
        error(404, "1 error occurred:\n\t* unsupported path\n\n"),
    )
    .await;
    h.check(
        &root,
        false,
        Update,
        "roles/r2",
        json!({}),
        json!({"status": 204}),
    )
    .await;
    h.check(&root, false, Read, "roles/r2", json!({}), json!({"status": 200, "data": {
        "allowed_entity_aliases": null, "allowed_policies": [], "allowed_policies_glob": [], "disallowed_policies": [],
        "disallowed_policies_glob": [], "explicit_max_ttl": 0, "name": "r2", "orphan": false, "path_suffix": "",
        "period": 0, "renewable": true, "token_explicit_max_ttl": 0, "token_no_default_policy": false,
        "token_period": 0, "token_type": "default-service"
    }})).await;
    h.check(&root, false, Update, "roles/r1", json!({"allowed_policies": "dev,ops", "disallowed_policies": ["ops"], "orphan": true, "token_period": "1h", "path_suffix": "v1.0"}), json!({"status": 204})).await;
    h.check(
        &root,
        false,
        List,
        "roles/",
        json!({}),
        json!({"status": 200, "data": {"keys": ["r1", "r2"]}}),
    )
    .await;
    // Partial update keeps the other fields.
    h.check(
        &root,
        false,
        Update,
        "roles/r1",
        json!({"renewable": false}),
        json!({"status": 204}),
    )
    .await;
    let read = h
        .check(
            &root,
            false,
            Read,
            "roles/r1",
            json!({}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(
        (
            read["data"]["orphan"].clone(),
            read["data"]["renewable"].clone(),
            read["data"]["token_period"].clone()
        ),
        (json!(true), json!(false), json!(3600))
    );
    let dev = h.create(&root, json!({"policies": ["dev"]})).await;
    let answer = h
        .check(
            &dev,
            false,
            Update,
            "create/r1",
            json!({"policies": ["dev"]}),
            json!({"status": 200, "auth": auth(&["default", "dev"], 3600, false, true)}),
        )
        .await;
    let token = answer["auth"]["client_token"].as_str().expect("token");
    let entry = h.entry(token).await.expect("role token");
    assert_eq!(
        (
            entry.path.as_str(),
            entry.role.as_deref(),
            entry.period_seconds
        ),
        ("auth/token/create/r1/v1.0", Some("r1"), 0)
    );
    // The role's period sets the TTL (3600 above) but, as in Vault, is not the token's own:
    // lookup shows no `period`.
    let seen = h
        .check(
            &root,
            false,
            Update,
            "lookup",
            json!({"token": token}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(
        (seen["data"].get("period"), seen["data"]["ttl"].clone()),
        (None, json!(3600))
    );
    h.check(
        &dev,
        false,
        Update,
        "create/r1",
        json!({"policies": ["ops"]}),
        error(400, "token policy \"ops\" is disallowed by this role"),
    )
    .await;
    h.check(&dev, false, Update, "create/r1", json!({"policies": ["other"]}), error(400, "token policies ([\"default\" \"other\"]) must be subset of the role's allowed policies ([\"default\" \"dev\" \"ops\"]) or glob policies ([])")).await;
    h.check(
        &dev,
        false,
        Update,
        "create/nope",
        json!({}),
        error(400, "unknown role nope"),
    )
    .await;
    h.check(
        &root,
        false,
        Delete,
        "roles/r2",
        json!({}),
        json!({"status": 204}),
    )
    .await;
    h.check(
        &root,
        false,
        Delete,
        "roles/r2",
        json!({}),
        json!({"status": 204}),
    )
    .await;
    h.check(
        &root,
        false,
        List,
        "roles",
        json!({}),
        json!({"status": 200, "data": {"keys": ["r1"]}}),
    )
    .await;
}

#[tokio::test]
async fn accessors_list_tidy_and_no_secret_in_storage() {
    // Goal: the sudo accessor list, tidy's 202, and that no token or accessor is ever stored in
    // clear (the crate invariant).
    let (h, root) = Harness::new().await;
    let child = h
        .create(&root, json!({"meta": ["k=v"], "policies": ["dev"]}))
        .await;
    let _batch = h
        .create(&root, json!({"type": "batch", "policies": ["dev"]}))
        .await;
    let listed = h
        .check(
            &root,
            false,
            List,
            "accessors/",
            json!({}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    let mut keys: Vec<String> = listed["data"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key.as_str().expect("key").to_string())
        .collect();
    keys.sort();
    let mut expected = vec![
        h.entry(&root).await.expect("root").accessor,
        h.entry(&child).await.expect("child").accessor,
    ];
    expected.sort();
    assert_eq!(keys, expected);
    h.check(&root, false, Update, "tidy", json!({}), json!({"status": 202, "warnings": ["Tidy operation successfully started. Any information from the operation will be printed to Vault's server logs."]})).await;
    let secrets: Vec<String> = h
        .issued
        .lock()
        .expect("lock")
        .iter()
        .cloned()
        .chain(keys)
        .collect();
    assert!(secrets.len() >= 5);
    for (key, value) in h.dump().await {
        let value = String::from_utf8_lossy(&value);
        for secret in &secrets {
            let body = secret.trim_start_matches("hvs.").trim_start_matches("hvb.");
            assert!(!key.contains(body), "{key} holds a secret");
            let is_accessor_field = value.contains(&format!("\"accessor\":\"{secret}\""));
            assert!(
                !value.contains(body) || is_accessor_field,
                "{key} holds a secret in its value"
            );
        }
    }
}

#[test]
fn ttl_math_matches_calculate_ttl() {
    // Goal: Vault's CalculateTTL rows (TOK-04, TOK-09).
    let mount = MountContext {
        default_lease_ttl_seconds: 3600,
        max_lease_ttl_seconds: 7200,
        ..MountContext::default()
    };
    let at = |increment: u64, ttl: u64, period: u64, explicit_max_ttl: u64, elapsed: i64| {
        calculate_ttl(
            &mount,
            TtlRequest {
                increment,
                ttl,
                period,
                explicit_max_ttl,
                start_time: 1000,
                now: 1000 + elapsed,
            },
        )
        .map(|(ttl, warnings)| (ttl, warnings.len()))
    };
    let rows = [
        (at(0, 0, 0, 0, 0), Ok((3600, 0))),
        (at(0, 600, 0, 0, 0), Ok((600, 0))),
        (at(900, 600, 0, 0, 0), Ok((900, 0))),
        (at(0, 9000, 0, 0, 0), Ok((7200, 1))),
        (at(0, 9000, 0, 0, 7000), Ok((200, 1))),
        (at(0, 600, 0, 300, 0), Ok((300, 1))),
        (at(0, 0, 9000, 0, 0), Ok((7200, 1))),
        (at(0, 0, 60, 0, 100_000), Ok((60, 0))),
        (at(0, 0, 60, 100, 90), Ok((10, 1))),
    ];
    for (index, (actual, expected)) in rows.into_iter().enumerate() {
        assert_eq!(actual.map_err(|_| ()), expected, "row {index}");
    }
    assert!(
        at(0, 600, 0, 0, 7200).is_err(),
        "past the max TTL, cannot renew"
    );
    assert_eq!(ttl::human_duration(36_000_000), "10000h");
    assert_eq!(ttl::human_duration(5400), "1h30m");
    assert_eq!(ttl::human_duration(60), "1m");
}

#[test]
fn helpers_follow_vaults_rules() {
    // Goal: display-name sanitising, policy sanitising and globs (TOK-03, TOK-06).
    assert_eq!(
        path_create::sanitize_display_name("My App!"),
        "token-My-App"
    );
    assert_eq!(path_create::sanitize_display_name("a b"), "token-a-b");
    let list = |items: &[&str]| {
        items
            .iter()
            .map(|item| item.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        path_create::sanitize_policies(&list(&["B", " a ", "", "a"]), true),
        list(&["a", "b", "default"])
    );
    assert_eq!(
        path_create::sanitize_policies(&list(&["x", "root"]), true),
        list(&["root"])
    );
    assert_eq!(
        path_create::sanitize_policies(&list(&[]), true),
        list(&["default"])
    );
    assert!(path_create::glob_matches("dev-*", "dev-1"));
    assert!(path_create::glob_matches("*-ops-*", "a-ops-b"));
    assert!(!path_create::glob_matches("dev-*", "ops"));
    assert!(path_roles::valid_role_name("r1.v-2"));
    assert!(!path_roles::valid_role_name("-r"));
    assert!(!path_roles::valid_role_name("a b"));
}

/// Goal: Vault's `authRenew` for a role's token: the role's current period decides the
/// renewal (the token keeps none of its own, so lookup shows no `period`), and a deleted role
/// refuses it. Method: renew-self after changing and then deleting the role.
#[tokio::test]
async fn role_tokens_renew_with_the_roles_period() {
    let (h, root) = Harness::new().await;
    h.check(
        &root,
        false,
        Update,
        "roles/rp",
        json!({"token_period": "1h"}),
        json!({"status": 204}),
    )
    .await;
    let answer = h
        .check(
            &root,
            false,
            Update,
            "create/rp",
            json!({}),
            json!({"status": 200, "auth": "*", "warnings": "*"}),
        )
        .await;
    let token = answer["auth"]["client_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(answer["auth"]["lease_duration"], 3600);
    let seen = h
        .check(
            &root,
            false,
            Update,
            "lookup",
            json!({"token": token}),
            json!({"status": 200, "data": "*"}),
        )
        .await;
    assert_eq!(seen["data"].get("period"), None);
    // Periodic through the role: any increment renews to the period.
    h.advance(600);
    let renewed = h
        .check(
            &token,
            false,
            Update,
            "renew-self",
            json!({"increment": "5h"}),
            json!({"status": 200, "auth": "*", "warnings": "*"}),
        )
        .await;
    assert_eq!(renewed["auth"]["lease_duration"], 3600);
    // The role's period is read at renewal time.
    h.check(
        &root,
        false,
        Update,
        "roles/rp",
        json!({"token_period": "30m"}),
        json!({"status": 204}),
    )
    .await;
    let renewed = h
        .check(
            &token,
            false,
            Update,
            "renew-self",
            json!({}),
            json!({"status": 200, "auth": "*", "warnings": "*"}),
        )
        .await;
    assert_eq!(renewed["auth"]["lease_duration"], 1800);
    h.check(
        &root,
        false,
        Delete,
        "roles/rp",
        json!({}),
        json!({"status": 204}),
    )
    .await;
    h.check(
        &token,
        false,
        Update,
        "renew-self",
        json!({}),
        error(
            400,
            "failed to renew entry: original token role \"rp\" could not be found, not renewing",
        ),
    )
    .await;
}

#[tokio::test]
async fn entry_cache_follows_writes_epochs_and_gate() {
    // Goal: the entry cache answers only what storage holds: a write behind the store's back
    // is invisible until the epoch changes, renewals and revocations through the store are
    // seen at once, a closed gate reads storage, and use-limited tokens are never cached.
    let (h, root) = Harness::new().await;
    let epoch = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (gate_epoch, gate_open) = (epoch.clone(), open.clone());
    h.store.set_cache_gate(Arc::new(move || {
        gate_open
            .load(Ordering::SeqCst)
            .then(|| gate_epoch.load(Ordering::SeqCst))
    }));
    let token = h
        .create(&root, json!({"ttl": 600, "policies": ["dev"]}))
        .await;
    let cached = h.entry(&token).await.expect("live");

    // Another node (a previous leader) rewrites the entry in storage.
    let mut changed = cached.clone();
    changed.policies = vec!["ops".into()];
    let key = format!("sys/token/id/{}", cached.id_hash);
    h.memory
        .put(&key, serde_json::to_vec(&changed).expect("encode"))
        .await
        .expect("put");
    assert_eq!(
        h.entry(&token).await.expect("live").policies,
        cached.policies
    );
    // A closed gate (a standby) always reads storage.
    open.store(false, Ordering::SeqCst);
    assert_eq!(h.entry(&token).await.expect("live").policies, vec!["ops"]);
    open.store(true, Ordering::SeqCst);
    // A new epoch starts empty.
    epoch.store(2, Ordering::SeqCst);
    assert_eq!(h.entry(&token).await.expect("live").policies, vec!["ops"]);
    assert_eq!(h.entry(&token).await.expect("live").policies, vec!["ops"]);

    // Revocation through the store is seen at once.
    h.store.revoke_tree(&token).await.expect("revoke");
    assert!(h.entry(&token).await.is_none());

    // Use-limited tokens count every use in storage.
    let limited = h.create(&root, json!({"num_uses": 3})).await;
    for remaining in [2, 1] {
        let used = h
            .store
            .use_token(&limited)
            .await
            .expect("use")
            .expect("live");
        assert_eq!(used.num_uses, remaining);
        assert_eq!(h.entry(&limited).await.expect("live").num_uses, remaining);
    }
}
