//! Seals: what protects the root key outside the barrier. Shamir now; the Azure Key Vault
//! auto seal implements the same trait later without touching the barrier.

use crate::error::SealError;
use crate::keyring::cipher_for;
use crate::keys::{RootKey, UnsealKey};
use crate::limits::{KEY_BYTES, NONCE_BYTES, TAG_BYTES};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{AeadInPlace, OsRng};
use aes_gcm::{Nonce, Tag};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[async_trait]
pub trait Seal: Send + Sync {
    /// `type` in `sys/seal-status` and `core/seal-config`: "shamir", "azurekeyvault".
    fn seal_type(&self) -> &'static str;
    /// True for auto seals, whose Shamir shares are recovery keys.
    fn recovery_seal(&self) -> bool;
    /// Encrypts the root key for storage outside the barrier
    /// (at [`crate::BARRIER_UNSEAL_KEYS_PATH`]). Shamir: under the unseal key.
    async fn protect_root_key(
        &self,
        root: &RootKey,
        unseal_key: Option<&UnsealKey>,
    ) -> Result<Vec<u8>, SealError>;
    /// The inverse of [`Seal::protect_root_key`]. A wrong unseal key fails with
    /// `Unseal failed, invalid key`.
    async fn recover_root_key(
        &self,
        blob: &[u8],
        unseal_key: Option<&UnsealKey>,
    ) -> Result<RootKey, SealError>;
}

/// The Shamir seal. Blob at `core/hsm/barrier-unseal-keys` (61 bytes):
/// `version 0x01 ‖ nonce (12) ‖ AES-256-GCM(unseal key, root key (32)) ‖ tag (16)`, with the
/// storage path `core/hsm/barrier-unseal-keys` as additional data.
pub struct ShamirSeal;

/// The version byte of [`ShamirSeal`] blobs.
pub const SHAMIR_BLOB_VERSION: u8 = 0x1;
/// Length of a [`ShamirSeal`] blob.
pub const SHAMIR_BLOB_BYTES: usize = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

#[async_trait]
impl Seal for ShamirSeal {
    fn seal_type(&self) -> &'static str {
        "shamir"
    }

    fn recovery_seal(&self) -> bool {
        false
    }

    async fn protect_root_key(
        &self,
        root: &RootKey,
        unseal_key: Option<&UnsealKey>,
    ) -> Result<Vec<u8>, SealError> {
        let unseal_key = require_unseal_key(unseal_key)?;
        let cipher = cipher_for(unseal_key.as_bytes());
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let mut blob = Vec::with_capacity(SHAMIR_BLOB_BYTES);
        blob.push(SHAMIR_BLOB_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(root.as_bytes());
        let tag = cipher
            .encrypt_in_place_detached(
                Nonce::from_slice(&nonce),
                crate::BARRIER_UNSEAL_KEYS_PATH.as_bytes(),
                &mut blob[1 + NONCE_BYTES..],
            )
            .map_err(|_| SealError::Internal("AES-GCM encryption failed".to_string()))?;
        blob.extend_from_slice(&tag);
        assert_eq!(blob.len(), SHAMIR_BLOB_BYTES, "Shamir blob layout");
        Ok(blob)
    }

    async fn recover_root_key(
        &self,
        blob: &[u8],
        unseal_key: Option<&UnsealKey>,
    ) -> Result<RootKey, SealError> {
        let unseal_key = require_unseal_key(unseal_key)?;
        if blob.len() != SHAMIR_BLOB_BYTES || blob[0] != SHAMIR_BLOB_VERSION {
            return Err(SealError::Corrupt {
                path: crate::BARRIER_UNSEAL_KEYS_PATH.to_string(),
                reason: "unexpected stored keys layout",
            });
        }
        let cipher = cipher_for(unseal_key.as_bytes());
        let nonce = Nonce::from_slice(&blob[1..1 + NONCE_BYTES]);
        let tag = Tag::from_slice(&blob[1 + NONCE_BYTES + KEY_BYTES..]);
        let mut root = Zeroizing::new([0u8; KEY_BYTES]);
        root.copy_from_slice(&blob[1 + NONCE_BYTES..1 + NONCE_BYTES + KEY_BYTES]);
        cipher
            .decrypt_in_place_detached(
                nonce,
                crate::BARRIER_UNSEAL_KEYS_PATH.as_bytes(),
                &mut root[..],
                tag,
            )
            .map_err(|_| SealError::UnsealFailed)?;
        RootKey::from_slice(&root[..])
    }
}

fn require_unseal_key(unseal_key: Option<&UnsealKey>) -> Result<&UnsealKey, SealError> {
    match unseal_key {
        Some(key) => Ok(key),
        None => Err(SealError::Internal(
            "the shamir seal needs the unseal key".to_string(),
        )),
    }
}

/// The seal configuration at physical `core/seal-config` (and `core/recovery-config`), with
/// Vault's JSON field names. Not secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealConfig {
    #[serde(rename = "type", default)]
    pub seal_type: String,
    #[serde(default)]
    pub secret_shares: u8,
    #[serde(default)]
    pub secret_threshold: u8,
    /// Vault writes `null` when absent.
    #[serde(default)]
    pub pgp_keys: Option<Vec<String>>,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub backup: bool,
    #[serde(default)]
    pub stored_shares: u8,
}

impl SealConfig {
    /// A Shamir configuration as `sys/init` stores it (Vault ≥ 1.3: one stored share).
    pub fn shamir(secret_shares: u8, secret_threshold: u8) -> SealConfig {
        SealConfig {
            seal_type: "shamir".to_string(),
            secret_shares,
            secret_threshold,
            pgp_keys: None,
            nonce: String::new(),
            backup: false,
            stored_shares: 1,
        }
    }

    /// Vault's `SealConfig.Validate` (without PGP parsing), with its texts.
    pub fn validate(&self) -> Result<(), SealError> {
        let shares = usize::from(self.secret_shares);
        crate::shamir::validate_shares(shares, usize::from(self.secret_threshold))?;
        if self.stored_shares > 1 {
            return Err(SealError::InvalidConfig(
                "stored keys cannot be larger than 1",
            ));
        }
        if let Some(pgp_keys) = &self.pgp_keys
            && !pgp_keys.is_empty()
            && pgp_keys.len() != shares
        {
            return Err(SealError::InvalidConfig(
                "count mismatch between number of provided PGP keys and number of shares",
            ));
        }
        Ok(())
    }

    pub fn to_json(&self) -> Result<Vec<u8>, SealError> {
        serde_json::to_vec(self)
            .map_err(|error| SealError::Internal(format!("encoding seal config: {error}")))
    }

    pub fn from_json(bytes: &[u8]) -> Result<SealConfig, SealError> {
        serde_json::from_slice(bytes).map_err(|_| SealError::Corrupt {
            path: crate::SEAL_CONFIG_PATH.to_string(),
            reason: "seal configuration is not valid JSON",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shamir_seal_round_trip_and_wrong_key() {
        let seal = ShamirSeal;
        assert_eq!(seal.seal_type(), "shamir");
        assert!(!seal.recovery_seal());
        let root = RootKey::generate();
        let unseal_key = UnsealKey::generate();
        let blob = seal
            .protect_root_key(&root, Some(&unseal_key))
            .await
            .expect("protects");
        assert_eq!(blob.len(), SHAMIR_BLOB_BYTES);
        let recovered = seal
            .recover_root_key(&blob, Some(&unseal_key))
            .await
            .expect("recovers");
        assert!(recovered.ct_eq(&root));

        let wrong = UnsealKey::generate();
        let error = seal
            .recover_root_key(&blob, Some(&wrong))
            .await
            .err()
            .expect("wrong key");
        assert_eq!(error.to_string(), "Unseal failed, invalid key");
        assert!(error.is_invalid_input());
        assert!(seal.recover_root_key(&blob, None).await.is_err());
        assert!(seal.protect_root_key(&root, None).await.is_err());
    }

    #[tokio::test]
    async fn shamir_blob_damage_fails() {
        let seal = ShamirSeal;
        let root = RootKey::generate();
        let unseal_key = UnsealKey::generate();
        let blob = seal
            .protect_root_key(&root, Some(&unseal_key))
            .await
            .expect("protects");
        for index in [0, 1, 12, 13, 40, SHAMIR_BLOB_BYTES - 1] {
            let mut damaged = blob.clone();
            damaged[index] ^= 0x01;
            assert!(
                seal.recover_root_key(&damaged, Some(&unseal_key))
                    .await
                    .is_err()
            );
        }
        assert!(
            seal.recover_root_key(&blob[..60], Some(&unseal_key))
                .await
                .is_err()
        );
    }

    #[test]
    fn seal_config_uses_vaults_field_names() {
        let config = SealConfig::shamir(5, 3);
        let value: serde_json::Value =
            serde_json::from_slice(&config.to_json().expect("encodes")).expect("JSON");
        assert_eq!(value["type"], "shamir");
        assert_eq!(value["secret_shares"], 5);
        assert_eq!(value["secret_threshold"], 3);
        assert_eq!(value["stored_shares"], 1);
        assert!(value["pgp_keys"].is_null());
        assert_eq!(value["nonce"], "");
        assert_eq!(value["backup"], false);
        let vault_written = br#"{"type":"shamir","secret_shares":5,"secret_threshold":3,"pgp_keys":null,"nonce":"","backup":false,"stored_shares":1}"#;
        assert_eq!(
            SealConfig::from_json(vault_written).expect("parses"),
            config
        );
        config.validate().expect("valid");
    }

    #[test]
    fn seal_config_validation_texts() {
        let mut config = SealConfig::shamir(5, 3);
        config.stored_shares = 2;
        assert_eq!(
            config.validate().expect_err("invalid").to_string(),
            "invalid seal configuration: stored keys cannot be larger than 1"
        );
        let mut config = SealConfig::shamir(5, 3);
        config.pgp_keys = Some(vec!["a".to_string()]);
        assert!(config.validate().is_err());
        let mut config = SealConfig::shamir(5, 3);
        config.secret_threshold = 6;
        assert_eq!(
            config.validate().expect_err("invalid").to_string(),
            "invalid seal configuration: threshold cannot be larger than shares"
        );
        // A stored config with a count past 255 cannot come from Vault or Tresor.
        let too_many = br#"{"type":"shamir","secret_shares":256,"secret_threshold":3}"#;
        assert!(SealConfig::from_json(too_many).is_err());
    }
}
