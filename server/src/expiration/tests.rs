//! Scenario tests over `MemoryStorage` and a fake backend that records revocations and can
//! fail. Time moves through the manager's test clock, so nothing waits for real TTLs; every
//! wait is a bounded poll.

use super::entry::{self, LeaseEntry};
use super::*;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};
use tresor_framework::Reply;
use tresor_storage::MemoryStorage;

const MOUNT: &str = "db/";
const WAIT_MS_MAX: u64 = 5_000;

/// Records every revocation; fails the first `failures` calls (`u32::MAX`: always).
#[derive(Default)]
struct FakeBackend {
    revoked: Mutex<Vec<String>>,
    calls: AtomicU32,
    failures: AtomicU32,
}

#[async_trait]
impl Backend for FakeBackend {
    async fn handle_request(&self, _request: tresor_framework::Request) -> Result<Reply, Error> {
        Ok(Reply::NoContent)
    }
    fn help(&self, _path: &str) -> Option<&'static str> {
        None
    }
    async fn revoke_lease(&self, lease: LeaseRequest) -> Result<(), Error> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if call < self.failures.load(Ordering::SeqCst) {
            return Err(Error::internal("database unreachable"));
        }
        assert_eq!(
            lease.internal_data,
            serde_json::json!({"username": "u"}),
            "internal data reaches the backend"
        );
        self.revoked.lock().expect("lock").push(lease.lease_id);
        Ok(())
    }
}

#[derive(Default)]
struct FakeBackends {
    backend: Arc<FakeBackend>,
    tokens_revoked: Mutex<Vec<String>>,
    tokens_gone: Mutex<Vec<String>>,
}

#[async_trait]
impl LeaseBackends for FakeBackends {
    fn backend_for(&self, mount_path: &str) -> Option<(Arc<dyn Backend>, MountContext)> {
        (mount_path == MOUNT).then(|| (self.backend.clone() as Arc<dyn Backend>, mount()))
    }
    async fn revoke_token(&self, token_hash: &str) -> Result<(), Error> {
        self.tokens_revoked
            .lock()
            .expect("lock")
            .push(token_hash.to_string());
        Ok(())
    }
    async fn token_exists(&self, token_hash: &str) -> Result<bool, Error> {
        Ok(!self
            .tokens_gone
            .lock()
            .expect("lock")
            .iter()
            .any(|gone| gone == token_hash))
    }
    /// Only the token `legacy` is alive (an orphan), for the conversion of old records.
    async fn token_lease(&self, token_hash: &str) -> Result<Option<TokenLease>, Error> {
        Ok((token_hash == "legacy")
            .then(|| token_lease("legacy", "auth/token/create-orphan", Some(3600))))
    }
}

/// A token lease expiring `expire_in_seconds` from now (`None`: never).
fn token_lease(token_hash: &str, token_path: &str, expire_in_seconds: Option<i64>) -> TokenLease {
    let now_ns = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
    TokenLease {
        token_hash: token_hash.into(),
        token_path: token_path.into(),
        issue_time_ns: now_ns,
        expire_time_ns: expire_in_seconds.map(|seconds| now_ns + seconds * NANOS_PER_SECOND),
        last_renewal_ns: None,
        renewable: true,
        ttl_seconds: expire_in_seconds.unwrap_or(0) as u64,
    }
}

fn mount() -> MountContext {
    MountContext {
        path: MOUNT.into(),
        default_lease_ttl_seconds: 3600,
        max_lease_ttl_seconds: 7200,
        ..MountContext::default()
    }
}

fn test_tuning() -> ExpirationTuning {
    ExpirationTuning {
        revoke_backoff_base_ms: 2,
        revoke_backoff_max_ms: 20,
        revoke_attempts_max: 3,
        scheduler_sleep_ms_max: 50,
        ..ExpirationTuning::default()
    }
}

struct Fixture {
    storage: Arc<MemoryStorage>,
    backends: Arc<FakeBackends>,
    manager: Arc<ExpirationManager>,
}

impl Fixture {
    fn new() -> Fixture {
        Self::over(
            Arc::new(MemoryStorage::new()),
            Arc::new(FakeBackends::default()),
        )
    }

    /// A second manager over the same storage: a restart.
    fn over(storage: Arc<MemoryStorage>, backends: Arc<FakeBackends>) -> Fixture {
        let view = StorageView::new(storage.clone(), "sys/expire/");
        let manager = ExpirationManager::with_tuning(view, backends.clone(), test_tuning());
        Fixture {
            storage,
            backends,
            manager,
        }
    }

    async fn issue(
        &self,
        path: &str,
        ttl_seconds: u64,
        renewable: bool,
        token_hash: Option<&str>,
    ) -> String {
        let lease = LeaseInfo {
            lease_id: String::new(),
            renewable,
            lease_duration_seconds: ttl_seconds,
            internal_data: Some(serde_json::json!({"username": "u"})),
        };
        self.manager
            .issue_lease(&mount(), path, &lease, token_hash)
            .await
            .expect("lease registered")
            .lease_id
    }

    fn revoked(&self) -> Vec<String> {
        let mut revoked = self.backends.backend.revoked.lock().expect("lock").clone();
        revoked.sort();
        revoked
    }

    /// Polls until the backend has revoked exactly `expected` (any order), or fails.
    async fn check_revoked(&self, expected: &[&str]) {
        let mut expected: Vec<String> = expected.iter().map(|id| id.to_string()).collect();
        expected.sort();
        let deadline = Instant::now() + Duration::from_millis(WAIT_MS_MAX);
        while self.revoked() != expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(self.revoked(), expected);
    }

    async fn record(&self, lease_id: &str) -> Option<LeaseEntry> {
        let key = format!("sys/expire/{}", entry::lease_key(lease_id));
        self.storage
            .get(&key)
            .await
            .expect("storage")
            .map(|bytes| entry::decode(&key, &bytes).expect("record parses"))
    }
}

fn messages(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
    result.expect_err("an error").messages().to_vec()
}

#[tokio::test]
async fn issue_lookup_renew_and_revoke() {
    // Goal: the request-driven life of one lease. Method: issue, look up, renew, revoke.
    let fixture = Fixture::new();
    let lease_id = fixture
        .issue("/creds/ro/", 600, true, Some("tokenhash"))
        .await;
    let suffix = lease_id
        .strip_prefix("db/creds/ro/")
        .expect("lease id is <mount><path>/<random>");
    assert_eq!(suffix.len(), 24);
    assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));

    let view = fixture.manager.lookup(&lease_id).await.expect("lookup");
    assert_eq!(
        (view.id.as_str(), view.renewable, view.last_renewal.clone()),
        (lease_id.as_str(), true, None)
    );
    assert!((598..=600).contains(&view.ttl), "ttl {}", view.ttl);
    assert!(
        view.issue_time.ends_with('Z')
            && view
                .expire_time
                .as_deref()
                .is_some_and(|time| time.ends_with('Z'))
    );
    let record = fixture
        .record(&lease_id)
        .await
        .expect("persisted before the id is returned");
    assert_eq!(
        (
            record.mount_path.as_str(),
            record.path.as_str(),
            record.token_hash.as_deref()
        ),
        ("db/", "creds/ro", Some("tokenhash"))
    );

    let renewed = fixture.manager.renew(&lease_id, 1200).await.expect("renew");
    assert_eq!(
        (
            renewed.lease_duration_seconds,
            renewed.renewable,
            renewed.warnings.len()
        ),
        (1200, true, 0)
    );
    assert!(
        fixture
            .manager
            .lookup(&lease_id)
            .await
            .expect("lookup")
            .last_renewal
            .is_some()
    );
    // Past the mount max (2h since issue): capped with Vault's warning.
    let capped = fixture
        .manager
        .renew(&lease_id, 3 * 3600)
        .await
        .expect("renew capped");
    assert!((7190..=7200).contains(&capped.lease_duration_seconds));
    assert_eq!(capped.warnings.len(), 1);

    fixture
        .manager
        .revoke(&lease_id, true)
        .await
        .expect("revoke");
    assert_eq!(fixture.revoked(), vec![lease_id.clone()]);
    assert!(fixture.record(&lease_id).await.is_none());
    assert_eq!(
        messages(fixture.manager.lookup(&lease_id).await),
        ["invalid lease"]
    );
    assert_eq!(
        messages(fixture.manager.renew(&lease_id, 0).await),
        ["lease not found"]
    );
    // Revoking an unknown lease succeeds (idempotent).
    fixture
        .manager
        .revoke(&lease_id, true)
        .await
        .expect("idempotent revoke");
    let index = fixture
        .storage
        .list("sys/expire/token/tokenhash/")
        .await
        .expect("list");
    assert!(index.is_empty(), "token index entry deleted with the lease");
}

#[tokio::test]
async fn renew_refusals_use_vault_text() {
    let fixture = Fixture::new();
    let fixed = fixture.issue("creds/ro", 600, false, None).await;
    assert_eq!(
        messages(fixture.manager.renew(&fixed, 0).await),
        ["lease is not renewable"]
    );
    assert_eq!(
        messages(fixture.manager.renew("", 0).await),
        ["lease_id must be specified"]
    );
    let renewable = fixture.issue("creds/ro", 600, true, None).await;
    // Not started, so no timer revokes it: the record outlives its TTL.
    fixture.manager.advance_clock(601);
    assert_eq!(
        messages(fixture.manager.renew(&renewable, 0).await),
        ["lease expired"]
    );
    // "past the max TTL, cannot renew" needs a mount max lowered after issue; the TTL table
    // in `ttl.rs` covers it.
}

#[tokio::test]
async fn list_prefix_and_force_revocation() {
    let fixture = Fixture::new();
    let a1 = fixture.issue("creds/a", 600, true, None).await;
    let a2 = fixture.issue("creds/a", 600, true, None).await;
    let b1 = fixture.issue("creds/b", 600, true, None).await;
    assert_eq!(fixture.manager.list("").await.expect("list"), ["db/"]);
    assert_eq!(
        fixture.manager.list("db/creds").await.expect("list"),
        ["a/", "b/"]
    );
    assert_eq!(
        fixture
            .manager
            .list("db/creds/a/")
            .await
            .expect("list")
            .len(),
        2
    );
    assert!(
        fixture
            .manager
            .list("nothing/")
            .await
            .expect("list")
            .is_empty()
    );

    fixture
        .manager
        .revoke_prefix("db/creds/a", false)
        .await
        .expect("prefix");
    fixture.check_revoked(&[&a1, &a2]).await;
    // An exact lease id works as a prefix.
    fixture
        .manager
        .revoke_prefix(&b1, false)
        .await
        .expect("exact id");
    fixture.check_revoked(&[&a1, &a2, &b1]).await;

    // A failing backend aborts a normal prefix revocation and keeps the records...
    let c1 = fixture.issue("creds/c", 600, true, None).await;
    fixture
        .backends
        .backend
        .failures
        .store(u32::MAX, Ordering::SeqCst);
    let error = fixture
        .manager
        .revoke_prefix("db/", false)
        .await
        .expect_err("backend fails");
    assert!(
        error.messages()[0].contains("database unreachable"),
        "{error}"
    );
    assert!(fixture.record(&c1).await.is_some());
    // ...and force deletes them anyway.
    fixture.manager.revoke_force("db/").await.expect("force");
    assert!(fixture.record(&c1).await.is_none());
    assert!(fixture.manager.list("").await.expect("list").is_empty());
}

#[tokio::test]
async fn expiry_fires_and_revokes() {
    let fixture = Fixture::new();
    assert_eq!(fixture.manager.start().await.expect("start"), 0);
    let short = fixture.issue("creds/ro", 1, true, None).await;
    let long = fixture.issue("creds/ro", 600, true, None).await;
    fixture.manager.advance_clock(2);
    fixture.check_revoked(&[&short]).await;
    assert!(fixture.record(&short).await.is_none());
    assert_eq!(fixture.manager.timers_armed(), 1);
    // Async revoke: 202 in the API; the timers do it.
    fixture
        .manager
        .revoke(&long, false)
        .await
        .expect("async revoke");
    fixture.check_revoked(&[&short, &long]).await;
    fixture.manager.stop().await;
}

#[tokio::test]
async fn failed_revocation_is_retried_with_backoff() {
    let fixture = Fixture::new();
    fixture.backends.backend.failures.store(2, Ordering::SeqCst);
    fixture.manager.start().await.expect("start");
    let lease_id = fixture.issue("creds/ro", 1, true, None).await;
    fixture.manager.advance_clock(2);
    fixture.check_revoked(&[&lease_id]).await;
    assert_eq!(fixture.backends.backend.calls.load(Ordering::SeqCst), 3);
    fixture.manager.stop().await;
}

#[tokio::test]
async fn exhausted_retries_make_a_lease_irrevocable_not_lost() {
    let fixture = Fixture::new();
    fixture
        .backends
        .backend
        .failures
        .store(u32::MAX, Ordering::SeqCst);
    fixture.manager.start().await.expect("start");
    let lease_id = fixture.issue("creds/ro", 1, true, None).await;
    fixture.manager.advance_clock(2);
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS_MAX);
    while fixture.manager.irrevocable_leases().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(fixture.manager.irrevocable_leases(), vec![lease_id.clone()]);
    assert_eq!(
        fixture.backends.backend.calls.load(Ordering::SeqCst),
        3,
        "attempts are bounded"
    );
    let view = fixture.manager.lookup(&lease_id).await.expect("kept");
    assert!(
        view.revoke_error
            .as_deref()
            .is_some_and(|text| text.starts_with("out of retries: ")),
        "{view:?}"
    );
    assert_eq!(
        messages(fixture.manager.renew(&lease_id, 0).await),
        ["lease is expired and has failed previous revocation attempts"]
    );
    // Still irrevocable after a restart, and revoke-force removes it.
    fixture.manager.stop().await;
    assert_eq!(fixture.manager.start().await.expect("restart"), 1);
    assert_eq!(fixture.manager.irrevocable_leases(), vec![lease_id.clone()]);
    fixture
        .manager
        .revoke_force(&lease_id)
        .await
        .expect("force");
    assert!(fixture.manager.irrevocable_leases().is_empty());
    assert_eq!(fixture.manager.timers_armed(), 0);
    fixture.manager.stop().await;
}

#[tokio::test]
async fn restart_restores_timers_and_revokes_what_expired_while_down() {
    let first = Fixture::new();
    first.manager.start().await.expect("start");
    let expiring = first.issue("creds/ro", 1, true, None).await;
    let mut kept = Vec::new();
    for _ in 0..3 {
        kept.push(first.issue("creds/ro", 600, true, None).await);
    }
    first.manager.stop().await;
    let second = Fixture::over(first.storage.clone(), first.backends.clone());
    second.manager.advance_clock(5);
    assert_eq!(second.manager.start().await.expect("restore"), 4);
    second.check_revoked(&[&expiring]).await;
    assert_eq!(second.manager.timers_armed(), 3);
    second.manager.stop().await;
}

#[tokio::test]
async fn stop_prevents_firing() {
    let fixture = Fixture::new();
    fixture.manager.start().await.expect("start");
    fixture.issue("creds/ro", 1, true, None).await;
    fixture.manager.stop().await;
    fixture.manager.advance_clock(10);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(fixture.revoked().is_empty(), "sealing never revokes");
    assert_eq!(fixture.manager.timers_armed(), 0);
}

#[tokio::test]
async fn token_revocation_and_token_expiry() {
    let fixture = Fixture::new();
    fixture.manager.start().await.expect("start");
    let t1a = fixture.issue("creds/ro", 600, true, Some("t1")).await;
    let t1b = fixture.issue("creds/ro", 600, true, Some("t1")).await;
    let t2 = fixture.issue("creds/ro", 600, true, Some("t2")).await;
    fixture
        .manager
        .revoke_by_token("t1")
        .await
        .expect("revoke by token");
    fixture.check_revoked(&[&t1a, &t1b]).await;

    // A token with a TTL is a lease `<token path>/h<hash>`: listed, looked up, revocable,
    // not renewable here (only the token store renews tokens).
    let manager = &fixture.manager;
    for lease in [
        token_lease("t2", "auth/token/create", Some(60)),
        token_lease("t3", "auth/token/create-orphan", Some(600)),
        token_lease("t4", "auth/token/create", Some(60)),
        token_lease("t4", "auth/token/create", None),
        token_lease("t5", "auth/token/create", Some(600)),
    ] {
        manager
            .register_token_lease(&lease)
            .await
            .expect("register");
    }
    assert_eq!(
        token_lease_id("auth/token/create/", "t2"),
        "auth/token/create/ht2"
    );
    assert_eq!(
        manager.list("auth/token/").await.expect("list"),
        ["create-orphan/", "create/"]
    );
    assert_eq!(
        manager.list("auth/token/create/").await.expect("list"),
        ["ht2", "ht4", "ht5"]
    );
    let view = manager
        .lookup("auth/token/create/ht2")
        .await
        .expect("lookup");
    assert_eq!(
        (
            view.id.as_str(),
            view.renewable,
            (59..=60).contains(&view.ttl),
            view.path.as_deref()
        ),
        (
            "auth/token/create/ht2",
            true,
            true,
            Some("auth/token/create")
        )
    );
    // A token that never expires (t4 now) has a lease without expiry, and no timer.
    let view = manager
        .lookup("auth/token/create/ht4")
        .await
        .expect("lookup");
    assert_eq!((view.expire_time, view.ttl), (None, 0));
    assert_eq!(
        messages(manager.renew("auth/token/create/ht2", 0).await),
        ["tokens cannot be renewed through this endpoint"]
    );
    // Revoking the lease revokes the token (and, through the store, its children).
    manager
        .revoke("auth/token/create-orphan/ht3", true)
        .await
        .expect("revoke");
    assert!(
        fixture
            .record("auth/token/create-orphan/ht3")
            .await
            .is_none()
    );
    assert_eq!(
        *fixture.backends.tokens_revoked.lock().expect("lock"),
        ["t3"]
    );

    // The token's TTL runs out: its leases go, then the token store revokes the token.
    fixture.manager.advance_clock(120);
    fixture.check_revoked(&[&t1a, &t1b, &t2]).await;
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS_MAX);
    while fixture.backends.tokens_revoked.lock().expect("lock").len() < 2
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        *fixture.backends.tokens_revoked.lock().expect("lock"),
        ["t3", "t2"]
    );
    let deadline = Instant::now() + Duration::from_millis(WAIT_MS_MAX);
    while fixture.record("auth/token/create/ht2").await.is_some() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(fixture.record("auth/token/create/ht2").await.is_none());
    // The token store's hook removes a revoked token's lease without calling back.
    for hash in ["t4", "t5"] {
        manager
            .remove_token_lease("auth/token/create", hash)
            .await
            .expect("remove");
    }
    assert_eq!(
        *fixture.backends.tokens_revoked.lock().expect("lock"),
        ["t3", "t2"]
    );

    // A token expiry record of an older version becomes the token's lease on start (or is
    // dropped when the token is gone); token leases survive a restart.
    fixture.manager.stop().await;
    for hash in ["legacy", "missing"] {
        let record = entry::TokenExpiry {
            token_hash: hash.into(),
            expire_time_ns: 1,
            revoke_attempts: 0,
        };
        let key = format!("sys/expire/{}{hash}", entry::TOKEN_EXPIRY_PREFIX);
        fixture
            .storage
            .put(&key, entry::encode(&record).expect("encode"))
            .await
            .expect("put");
    }
    fixture.manager.start().await.expect("restart");
    assert_eq!(fixture.manager.timers_armed(), 1);
    assert!(
        fixture
            .record("auth/token/create-orphan/hlegacy")
            .await
            .is_some()
    );
    let legacy_left = fixture
        .storage
        .list(&format!("sys/expire/{}", entry::TOKEN_EXPIRY_PREFIX))
        .await
        .expect("list");
    assert!(legacy_left.is_empty(), "{legacy_left:?}");
    fixture.manager.stop().await;
    fixture.manager.start().await.expect("restart");
    assert_eq!(fixture.manager.timers_armed(), 1);
    fixture.manager.stop().await;
}

#[tokio::test]
async fn tidy_force_revokes_leases_of_missing_tokens() {
    let fixture = Fixture::new();
    let orphan = fixture.issue("creds/ro", 600, true, None).await;
    let gone = fixture.issue("creds/ro", 600, true, Some("gone")).await;
    let alive = fixture.issue("creds/ro", 600, true, Some("alive")).await;
    fixture
        .backends
        .tokens_gone
        .lock()
        .expect("lock")
        .push("gone".into());
    fixture
        .storage
        .put(
            "sys/expire/token/alive/dangling",
            b"db/creds/ro/missing".to_vec(),
        )
        .await
        .expect("put");
    let report = fixture.manager.tidy_now().await.expect("tidy");
    assert_eq!(
        report,
        TidyReport {
            leases_checked: 3,
            leases_revoked: 2,
            index_entries_deleted: 1
        }
    );
    fixture.check_revoked(&[&orphan, &gone]).await;
    assert!(fixture.record(&alive).await.is_some());
}

/// Restore speed and memory. Goal: Vault's advisory 256k leases restored in ≤ 10 s. Method:
/// write N records straight into storage, time `start`, report RSS growth. Reports, never
/// asserts speed (style §6.7); `TRESOR_LEASES_RESTORE_COUNT=256000 cargo test --release`
/// runs the full size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_timing_is_reported() {
    let count: usize = std::env::var("TRESOR_LEASES_RESTORE_COUNT")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(25_600);
    let fixture = Fixture::new();
    let now_ns = fixture.manager.inner.now_ns();
    let mut operations = Vec::with_capacity(tresor_storage::limits::BATCH_OPERATIONS_MAX);
    for index in 0..count {
        let lease_id = entry::new_lease_id(MOUNT, &format!("creds/role{}", index % 16));
        let record = LeaseEntry {
            lease_id: lease_id.clone(),
            mount_path: MOUNT.into(),
            path: format!("creds/role{}", index % 16),
            internal_data: serde_json::json!({"username": "v-token-role-AbCdEfGhIjKlMnOpQrSt-1700000000", "role": "role"}),
            issue_time_ns: now_ns,
            expire_time_ns: now_ns + 3600 * NANOS_PER_SECOND,
            last_renewal_ns: None,
            renewable: true,
            ttl_seconds: 3600,
            token_hash: Some("a".repeat(64)),
            revoke_attempts: 0,
            revoke_error: None,
            irrevocable: false,
            auth_token: None,
        };
        operations.push(Operation::Put {
            key: format!("sys/expire/{}", entry::lease_key(&lease_id)),
            value: entry::encode(&record).expect("encode"),
        });
        if operations.len() == operations.capacity() || index + 1 == count {
            fixture
                .storage
                .batch(std::mem::take(&mut operations))
                .await
                .expect("batch");
        }
    }
    let rss_before = rss_bytes();
    let started = Instant::now();
    let restored = fixture.manager.start().await.expect("start");
    let elapsed = started.elapsed();
    let rss_after = rss_bytes();
    assert_eq!(restored, count);
    assert_eq!(fixture.manager.timers_armed(), count);
    let per_lease = rss_after.saturating_sub(rss_before) / count.max(1) as u64;
    println!(
        "lease restore: {count} leases in {} ms; RSS +{} bytes per lease (process-wide, includes allocator slack)",
        elapsed.as_millis(),
        per_lease
    );
    fixture.manager.stop().await;
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|pages| pages.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}
