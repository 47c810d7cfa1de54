//! `backup/:name` (Vault's `path_backup.go`): the key in Vault's backup format,
//! base64(JSON `{"policy": ..., "archived_keys": {"keys": [...]}}`), so Vault restores it.

use crate::error::TransitError;
use crate::gobase64;
use crate::input::{check_name, data_reply};
use crate::policy::{KeyEntry, Policy, VersionInfo};
use crate::store::Transit;
use crate::timefmt;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("backup/{name}")
            .read(backup)
            .help("Backup the named key"),
    ]
}

#[derive(Deserialize)]
struct Backup {
    name: String,
}

/// The time Vault writes for an unused archive slot (Go's zero `time.Time`).
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

async fn backup(transit: Arc<Transit>, input: Input<Backup>) -> Result<Reply, Error> {
    let name = input.fields.name;
    check_name(&name)?;
    let _guard = transit.lock_key(&name).await;
    let Some(current) = transit.policy(&name).await? else {
        return Err(TransitError::Failed(format!("invalid key {name:?}")).into());
    };
    if !current.exportable {
        return Err(TransitError::Failed("exporting is disallowed on the policy".into()).into());
    }
    if !current.allow_plaintext_backup {
        return Err(
            TransitError::Failed("plaintext backup is disallowed on the policy".into()).into(),
        );
    }
    let mut policy = (*current).clone();
    policy.backup_info = Some(VersionInfo {
        time: timefmt::rfc3339_nanos(transit.now()),
        version: policy.latest_version,
    });
    transit.put_policy(&policy).await?;
    let encoded = serde_json::to_vec(&backup_document(&policy)).expect("a backup serialises");
    Ok(data_reply(
        json!({"backup": gobase64::encode(&encoded)}),
        Vec::new(),
    ))
}

/// Vault's split: the policy holds versions from `min_decryption_version` up, the archive
/// every available version indexed from `archive_min_version` (slot 0 unused).
fn backup_document(policy: &Policy) -> serde_json::Value {
    let mut vault = policy.clone();
    vault.archive_min_version = policy.min_available_version;
    vault.archive_version = policy.latest_version;
    vault
        .keys
        .retain(|version, _| version.parse::<i64>().unwrap_or(0) >= policy.min_decryption_version);
    let archived: Vec<KeyEntry> = (vault.archive_min_version..=policy.latest_version)
        .map(|version| match policy.keys.get(&version.to_string()) {
            Some(entry) => entry.clone(),
            None => KeyEntry {
                time: ZERO_TIME.to_string(),
                ..KeyEntry::default()
            },
        })
        .collect();
    json!({"policy": vault, "archived_keys": {"keys": archived}})
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Read, Update};

    #[tokio::test]
    async fn backup_needs_both_flags_and_round_trips() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/k", json!({"exportable": true}), Outcome::Any)
            .await;
        transit
            .check(
                Read,
                "backup/k",
                json!({}),
                Outcome::error(500, "plaintext backup is disallowed on the policy"),
            )
            .await;
        transit
            .check(
                Update,
                "keys/k/config",
                json!({"allow_plaintext_backup": true}),
                Outcome::Any,
            )
            .await;
        let ciphertext = transit
            .field(
                Update,
                "encrypt/k",
                json!({"plaintext": "aGk="}),
                "ciphertext",
            )
            .await;
        let backup = transit.field(Read, "backup/k", json!({}), "backup").await;
        let document: serde_json::Value =
            serde_json::from_slice(&crate::gobase64::decode(&backup).expect("b64")).expect("json");
        assert_eq!(document["policy"]["type"], 0);
        assert_eq!(
            document["archived_keys"]["keys"][0]["time"],
            "0001-01-01T00:00:00Z"
        );
        transit
            .check(
                Update,
                "restore",
                json!({"backup": backup.clone()}),
                Outcome::error(500, "key \"k\" already exists"),
            )
            .await;
        transit
            .check(
                Update,
                "restore/copy",
                json!({"backup": backup}),
                Outcome::NoContent,
            )
            .await;
        transit
            .check(
                Update,
                "decrypt/copy",
                json!({"ciphertext": ciphertext}),
                Outcome::ok(r#"{"plaintext":"aGk="}"#),
            )
            .await;
        let data = Harness::data(transit.call(Read, "keys/copy", json!({})).await);
        assert_eq!(data["restore_info"]["version"], 1);
        assert_eq!(data["backup_info"]["version"], 1);
    }
}
