//! Goal: the third-party `vaultrs` client (0.8, rustls) works unmodified against Tresor for
//! KV v2 set/read/list/metadata/delete and token create/lookup/revoke.
//!
//! Method: one real `tresor` node (raft, initialised, unsealed, KV v2 mounted at `secret`);
//! each vaultrs call must succeed and deserialise (vaultrs requires the envelope and auth
//! fields of ENV-01/ENV-04/TOK-07 with exact types), and its values must be the ones written.

use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::{Duration, Instant};
use tresor_tests::{Client, TestServer};
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use vaultrs::{kv2, token};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Creds {
    user: String,
    password: String,
}

async fn wait_active(client: &Client) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client.get("sys/health").await.status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node not active within 30 s");
}

/// The HTTP status inside a vaultrs error (API errors with an `errors` body, or raw responses).
fn status(result: &Result<impl std::fmt::Debug, ClientError>) -> Option<u16> {
    match result {
        Err(ClientError::APIError { code, .. }) => Some(*code),
        // Bodies without `errors` (the KV v2 404 envelope) surface as rustify's ServerResponseError,
        // a type vaultrs does not re-export; its Debug text carries the code.
        Err(other) => {
            let text = format!("{other:?}");
            let code = text
                .split("code: ")
                .nth(1)?
                .split(|c: char| !c.is_ascii_digit())
                .next()?;
            code.parse().ok()
        }
        Ok(_) => None,
    }
}

fn vault(addr: &str, token: &str) -> VaultClient {
    VaultClient::new(
        VaultClientSettingsBuilder::default()
            .address(addr)
            .token(token)
            .build()
            .expect("vaultrs settings"),
    )
    .expect("vaultrs client")
}

#[tokio::test]
async fn vaultrs_kv2_and_token_calls_work_against_tresor() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = TestServer::start();
    let (_, root) = server.client().init_and_unseal(1, 1).await;
    let raw = server.client().with_token(&root);
    wait_active(&raw).await;
    let mount = raw
        .put(
            "sys/mounts/secret",
            json!({"type": "kv", "options": {"version": "2"}}),
        )
        .await;
    assert_eq!(mount.status, 204, "{}", mount.text);
    let client = vault(&server.addr, &root);

    let creds = Creds {
        user: "app".into(),
        password: "vaultrs-secret-value-c4".into(),
    };
    let v1 = kv2::set(&client, "secret", "app/db", &creds)
        .await
        .expect("kv2::set");
    assert_eq!(
        (v1.version, v1.destroyed, v1.deletion_time.as_str()),
        (1, false, "")
    );
    let v2 = kv2::set(
        &client,
        "secret",
        "app/db",
        &Creds {
            user: "app".into(),
            password: "second".into(),
        },
    )
    .await
    .expect("kv2::set v2");
    assert_eq!(v2.version, 2);
    let read: Creds = kv2::read(&client, "secret", "app/db")
        .await
        .expect("kv2::read");
    assert_eq!(read.password, "second");
    let old: Creds = kv2::read_version(&client, "secret", "app/db", 1)
        .await
        .expect("kv2::read_version");
    assert_eq!(old, creds);
    kv2::set(&client, "secret", "app/other", &creds)
        .await
        .expect("kv2::set other");
    let mut keys = kv2::list(&client, "secret", "app")
        .await
        .expect("kv2::list");
    keys.sort();
    assert_eq!(keys, ["db", "other"]);
    let meta = kv2::read_metadata(&client, "secret", "app/db")
        .await
        .expect("kv2::read_metadata");
    assert_eq!(
        (
            meta.current_version,
            meta.oldest_version,
            meta.versions.len()
        ),
        (2, 0, 2)
    );
    kv2::set_metadata(
        &client,
        "secret",
        "app/db",
        Some(kv2_meta().max_versions(5_u64)),
    )
    .await
    .expect("kv2::set_metadata");
    assert_eq!(
        kv2::read_metadata(&client, "secret", "app/db")
            .await
            .expect("metadata")
            .max_versions,
        5
    );
    kv2::delete_latest(&client, "secret", "app/db")
        .await
        .expect("kv2::delete_latest");
    let deleted = kv2::read::<Creds>(&client, "secret", "app/db").await;
    assert_eq!(
        status(&deleted),
        Some(404),
        "deleted version reads as 404: {deleted:?}"
    );
    kv2::undelete_versions(&client, "secret", "app/db", vec![2])
        .await
        .expect("kv2::undelete_versions");
    kv2::destroy_versions(&client, "secret", "app/db", vec![1])
        .await
        .expect("kv2::destroy_versions");
    kv2::delete_metadata(&client, "secret", "app/db")
        .await
        .expect("kv2::delete_metadata");
    let gone = kv2::read_metadata(&client, "secret", "app/db").await;
    assert_eq!(status(&gone), Some(404), "{gone:?}");

    let policy = raw
        .put(
            "sys/policies/acl/vaultrs",
            json!({"policy": "path \"secret/data/app/*\" { capabilities = [\"read\"] }"}),
        )
        .await;
    assert_eq!(policy.status, 204, "{}", policy.text);
    let mut request = vaultrs::api::token::requests::CreateTokenRequest::builder();
    request
        .policies(vec!["vaultrs".to_string()])
        .ttl("1h")
        .meta(
            [("team".to_string(), "a".to_string())]
                .into_iter()
                .collect::<std::collections::HashMap<String, String>>(),
        );
    let auth = token::new(&client, Some(&mut request))
        .await
        .expect("token::new");
    assert_eq!(auth.policies, ["default", "vaultrs"]);
    assert_eq!(
        (
            auth.lease_duration,
            auth.renewable,
            auth.orphan,
            auth.token_type.as_str()
        ),
        (3600, true, false, "service")
    );
    let looked = token::lookup(&client, &auth.client_token)
        .await
        .expect("token::lookup");
    assert_eq!(
        (
            looked.path.as_str(),
            looked.creation_ttl,
            looked.accessor.as_str()
        ),
        ("auth/token/create", 3600, auth.accessor.as_str())
    );
    let by_accessor = token::lookup_accessor(&client, &auth.accessor)
        .await
        .expect("token::lookup_accessor");
    assert_eq!(by_accessor.id, "");
    let child = vault(&server.addr, &auth.client_token);
    let own: Creds = kv2::read(&child, "secret", "app/other")
        .await
        .expect("policy-bound read");
    assert_eq!(own, creds);
    let denied = kv2::set(&child, "secret", "app/other", &creds).await;
    assert_eq!(status(&denied), Some(403), "{denied:?}");
    let self_lookup = token::lookup_self(&child)
        .await
        .expect("token::lookup_self");
    assert_eq!(self_lookup.policies, ["default", "vaultrs"]);
    token::revoke(&client, &auth.client_token)
        .await
        .expect("token::revoke");
    let revoked = token::lookup(&client, &auth.client_token).await;
    assert_eq!(status(&revoked), Some(403), "{revoked:?}");
    let denied_after = kv2::read::<Creds>(&child, "secret", "app/other").await;
    assert_eq!(status(&denied_after), Some(403), "{denied_after:?}");
    assert!(
        !server.log().contains("vaultrs-secret-value-c4")
            && !server.log().contains(&auth.client_token),
        "secret or token in the log"
    );
}

fn kv2_meta() -> vaultrs::api::kv2::requests::SetSecretMetadataRequestBuilder {
    vaultrs::api::kv2::requests::SetSecretMetadataRequest::builder()
}
