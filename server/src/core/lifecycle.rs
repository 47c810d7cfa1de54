//! Init, unseal, seal and rekey: the transitions of the core.

use super::{
    BARRIER_UNSEAL_KEYS_PATH, CLUSTER_INFO_PATH, ClusterInfo, Core, SEAL_CONFIG_PATH, UnsealedState,
};
use tresor_framework::Error;
use tresor_seal::{
    KeyShare, RootKey, SealConfig, SealError, SealErrorKind, SubmitOutcome, UnsealKey,
    UnsealProgress, shamir,
};
use tresor_storage::{Operation, Storage};
use zeroize::Zeroizing;

/// Vault's text when the combined key does not open the stored root key (clients show it).
pub const UNSEAL_FAILED_TEXT: &str = "unable to retrieve stored keys: invalid key: failed to decrypt keys from storage: cipher: message authentication failed";

/// Validated input of `sys/init`.
pub struct InitRequest {
    pub secret_shares: u8,
    pub secret_threshold: u8,
    /// Dev mode's `-dev-root-token-id`.
    pub root_token_id: Option<String>,
}

/// The one-time answer of `sys/init`: shares and root token, never stored in clear.
pub struct InitOutcome {
    pub keys_hex: Vec<Zeroizing<String>>,
    pub keys_base64: Vec<Zeroizing<String>>,
    pub root_token: Zeroizing<String>,
}

/// A rekey in progress: the new configuration and the shares of the current key collected.
pub struct RekeyOperation {
    nonce: String,
    secret_shares: u8,
    secret_threshold: u8,
    progress: UnsealProgress,
}

/// `sys/rekey/init` status fields.
#[derive(serde::Serialize)]
pub struct RekeyStatus {
    pub nonce: String,
    pub started: bool,
    pub t: u8,
    pub n: u8,
    pub progress: usize,
    pub required: u8,
    pub pgp_fingerprints: Option<Vec<String>>,
    pub backup: bool,
    pub verification_required: bool,
}

/// Maps a seal error to the client's view of it, by kind.
pub fn seal_error(error: SealError) -> Error {
    match error.kind() {
        SealErrorKind::Invalid => Error::invalid(error.to_string()),
        SealErrorKind::Sealed => Error::sealed(),
        SealErrorKind::Internal => Error::internal(error.to_string()),
    }
}

impl Core {
    /// The seal configuration; `None` means not initialised. HA hook: a node that fetched a
    /// join challenge reports the configuration of the cluster it is joining (RFT-02).
    pub async fn seal_config(&self) -> Result<Option<SealConfig>, Error> {
        if let Some(config) = self.stored_seal_config().await? {
            return Ok(Some(config));
        }
        Ok(self
            .cluster()
            .and_then(|cluster| cluster.pending_join_seal_config()))
    }

    /// The seal configuration stored on this node.
    pub async fn stored_seal_config(&self) -> Result<Option<SealConfig>, Error> {
        let Some(encoded) = self.physical.get(SEAL_CONFIG_PATH).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&encoded)
            .map(Some)
            .map_err(|_| Error::internal("corrupt seal configuration"))
    }

    /// Writes the protected root key and the seal configuration in one atomic batch, so a
    /// crash leaves either the old pair or the new one (init, rekey).
    async fn store_seal_state(
        &self,
        protected_root_key: Vec<u8>,
        config: &SealConfig,
    ) -> Result<(), Error> {
        let config =
            serde_json::to_vec(config).map_err(|error| Error::internal(error.to_string()))?;
        let operations = vec![
            Operation::Put {
                key: BARRIER_UNSEAL_KEYS_PATH.to_string(),
                value: protected_root_key,
            },
            Operation::Put {
                key: SEAL_CONFIG_PATH.to_string(),
                value: config,
            },
        ];
        self.physical.batch(operations).await?;
        Ok(())
    }

    pub async fn is_initialized(&self) -> Result<bool, Error> {
        Ok(self.seal_config().await?.is_some())
    }

    /// `sys/init`. The node stays sealed afterwards (INIT-07, Shamir).
    pub async fn initialize(&self, request: InitRequest) -> Result<InitOutcome, Error> {
        let _lifecycle = self.lifecycle.lock().await;
        if self.is_initialized().await? {
            return Err(Error::invalid("Vault is already initialized"));
        }
        shamir::validate_shares(
            usize::from(request.secret_shares),
            usize::from(request.secret_threshold),
        )
        .map_err(seal_error)?;
        self.raft.initialize_single_node().await?;

        let root_key = RootKey::generate();
        self.barrier
            .initialize(&root_key)
            .await
            .map_err(seal_error)?;
        let unseal_key = UnsealKey::generate();
        let protected_root_key = self
            .seal
            .protect_root_key(&root_key, Some(&unseal_key))
            .await
            .map_err(seal_error)?;
        let shares = shamir::split(&unseal_key, request.secret_shares, request.secret_threshold)
            .map_err(seal_error)?;

        // The root token and cluster identity live behind the barrier, so open it briefly.
        self.barrier.unseal(&root_key).await.map_err(seal_error)?;
        let written = self
            .write_initial_state(request.root_token_id.as_deref())
            .await;
        self.barrier.seal();
        self.tokens.clear_cache();
        let root_token = written?;

        // The seal configuration is the commit point: until it exists the node is uninitialised.
        let config = SealConfig::shamir(request.secret_shares, request.secret_threshold);
        self.store_seal_state(protected_root_key, &config).await?;
        tracing::info!(
            shares = request.secret_shares,
            threshold = request.secret_threshold,
            "vault initialized"
        );
        Ok(InitOutcome {
            keys_hex: shamir::encode_hex(&shares),
            keys_base64: shamir::encode_base64(&shares),
            root_token,
        })
    }

    async fn write_initial_state(
        &self,
        root_token_id: Option<&str>,
    ) -> Result<Zeroizing<String>, Error> {
        let suffix: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(8)
            .collect();
        let cluster = ClusterInfo {
            name: self
                .settings
                .cluster_name
                .clone()
                .unwrap_or_else(|| format!("vault-cluster-{suffix}")),
            id: uuid::Uuid::new_v4().to_string(),
        };
        let encoded =
            serde_json::to_vec(&cluster).map_err(|error| Error::internal(error.to_string()))?;
        self.barrier.put(CLUSTER_INFO_PATH, encoded).await?;
        let token = self.tokens.create_root(root_token_id).await?;
        Ok(Zeroizing::new(token))
    }

    /// `sys/unseal` with one share. Returns whether the node is now unsealed.
    pub async fn submit_unseal_share(&self, share: KeyShare) -> Result<(), Error> {
        let _lifecycle = self.lifecycle.lock().await;
        let Some(config) = self.seal_config().await? else {
            return Err(Error::invalid("Vault is not initialized"));
        };
        if !self.is_sealed() {
            return Ok(());
        }
        let outcome = self
            .unseal_progress
            .lock()
            .await
            .submit(share, config.secret_threshold)
            .map_err(seal_error)?;
        let SubmitOutcome::Complete(unseal_key) = outcome else {
            return Ok(());
        };
        // HA hook: a joining node proves itself with the unseal key and receives the
        // cluster's data through raft before the ordinary unseal below.
        if self.stored_seal_config().await?.is_none() {
            crate::cluster::join::complete_join(self, &unseal_key).await?;
        }
        let root_key = self.recover_root_key(&unseal_key).await?;
        self.unseal_with_root_key(&root_key).await
    }

    async fn recover_root_key(&self, unseal_key: &UnsealKey) -> Result<RootKey, Error> {
        let Some(protected) = self.physical.get(BARRIER_UNSEAL_KEYS_PATH).await? else {
            return Err(Error::internal("stored root key is missing"));
        };
        match self
            .seal
            .recover_root_key(&protected, Some(unseal_key))
            .await
        {
            Ok(root_key) => Ok(root_key),
            Err(error) if error.is_invalid_input() => Err(Error::invalid(UNSEAL_FAILED_TEXT)),
            Err(error) => Err(seal_error(error)),
        }
    }

    async fn unseal_with_root_key(&self, root_key: &RootKey) -> Result<(), Error> {
        self.barrier.unseal(root_key).await.map_err(seal_error)?;
        match self.load_unsealed_state().await {
            Ok(state) => {
                tracing::info!(cluster_name = %state.cluster.name, "vault unsealed");
                *self
                    .unsealed
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(state);
                Ok(())
            }
            Err(error) => {
                // Fail closed: a node that cannot load its state stays sealed.
                self.clear_unsealed_state().await;
                self.barrier.seal();
                Err(error)
            }
        }
    }

    async fn load_unsealed_state(&self) -> Result<UnsealedState, Error> {
        let Some(encoded) = self.barrier.get(CLUSTER_INFO_PATH).await? else {
            return Err(Error::internal("cluster information is missing"));
        };
        let cluster: ClusterInfo = serde_json::from_slice(&encoded)
            .map_err(|_| Error::internal("corrupt cluster information"))?;
        self.policies.load().await?;
        self.load_mounts().await?;
        // HA hook: in a multi-member cluster only the HA loop starts lease timers, when it
        // activates this node (a node restarted as raft leader may have been deposed while
        // it was down, which it learns only from its peers). A single node is always active.
        if self.raft.membership().members.len() <= 1 {
            self.expiration.start().await?;
        }
        Ok(UnsealedState {
            cluster,
            active_since: time::OffsetDateTime::now_utc(),
        })
    }

    /// Drops everything loaded at unseal.
    async fn clear_unsealed_state(&self) {
        self.expiration.stop().await;
        self.clear_mounts();
        self.policies.clear();
        self.tokens.clear_cache();
    }

    pub async fn reset_unseal_progress(&self) {
        self.unseal_progress.lock().await.reset();
    }

    /// Progress and nonce of the unseal in progress.
    pub async fn unseal_progress(&self) -> (usize, String) {
        let progress = self.unseal_progress.lock().await;
        (
            progress.progress(),
            progress.nonce().unwrap_or("").to_string(),
        )
    }

    /// `sys/seal`: drops every key from memory. Sealing a sealed node is not an error.
    pub async fn seal(&self) -> Result<(), Error> {
        let _lifecycle = self.lifecycle.lock().await;
        *self
            .unsealed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        if let Err(error) = self.barrier.persist_encryptions().await {
            tracing::warn!(%error, "could not persist the encryption count before sealing");
        }
        self.clear_unsealed_state().await;
        self.barrier.seal();
        self.unseal_progress.lock().await.reset();
        *self.rekey.lock().await = None;
        tracing::info!("vault sealed");
        Ok(())
    }

    /// Dev mode: init with one share, unseal with it, mount KV at `secret/` (DEV-01).
    pub async fn initialize_dev(
        &self,
        root_token_id: Option<String>,
        kv_version: &str,
    ) -> Result<InitOutcome, Error> {
        let outcome = self
            .initialize(InitRequest {
                secret_shares: 1,
                secret_threshold: 1,
                root_token_id,
            })
            .await?;
        let share_text = outcome
            .keys_base64
            .first()
            .ok_or_else(|| Error::internal("init returned no key"))?;
        let share = shamir::parse_key_share(share_text).map_err(seal_error)?;
        self.submit_unseal_share(share).await?;
        let mut secret = crate::mounts::MountEntry::new(
            crate::mounts::MountTableKind::Secrets,
            "secret/",
            "kv",
            "key/value secret storage",
        );
        secret.options = Some(
            [("version".to_string(), kv_version.to_string())]
                .into_iter()
                .collect(),
        );
        self.mount(secret).await?;
        Ok(outcome)
    }

    /// `GET sys/rekey/init`.
    pub async fn rekey_status(&self) -> Result<RekeyStatus, Error> {
        self.require_unsealed()?;
        let required = self
            .seal_config()
            .await?
            .map(|config| config.secret_threshold)
            .unwrap_or(0);
        let rekey = self.rekey.lock().await;
        Ok(match rekey.as_ref() {
            Some(operation) => RekeyStatus {
                nonce: operation.nonce.clone(),
                started: true,
                t: operation.secret_threshold,
                n: operation.secret_shares,
                progress: operation.progress.progress(),
                required,
                pgp_fingerprints: None,
                backup: false,
                verification_required: false,
            },
            None => RekeyStatus {
                nonce: String::new(),
                started: false,
                t: 0,
                n: 0,
                progress: 0,
                required,
                pgp_fingerprints: None,
                backup: false,
                verification_required: false,
            },
        })
    }

    /// `PUT sys/rekey/init`.
    pub async fn rekey_start(
        &self,
        secret_shares: u8,
        secret_threshold: u8,
    ) -> Result<RekeyStatus, Error> {
        self.require_unsealed()?;
        shamir::validate_shares(usize::from(secret_shares), usize::from(secret_threshold))
            .map_err(seal_error)?;
        {
            let mut rekey = self.rekey.lock().await;
            if rekey.is_some() {
                return Err(Error::invalid("rekey already in progress"));
            }
            *rekey = Some(RekeyOperation {
                nonce: uuid::Uuid::new_v4().to_string(),
                secret_shares,
                secret_threshold,
                progress: UnsealProgress::new(),
            });
        }
        self.rekey_status().await
    }

    /// `DELETE sys/rekey/init`.
    pub async fn rekey_cancel(&self) -> Result<(), Error> {
        self.require_unsealed()?;
        *self.rekey.lock().await = None;
        Ok(())
    }

    /// `PUT sys/rekey/update`: one share of the current key. At the threshold the root key
    /// is protected under a new unseal key, split into new shares.
    pub async fn rekey_submit(
        &self,
        share: KeyShare,
        nonce: &str,
    ) -> Result<Option<InitOutcome>, Error> {
        self.require_unsealed()?;
        let Some(config) = self.seal_config().await? else {
            return Err(Error::sealed());
        };
        let mut rekey = self.rekey.lock().await;
        let Some(operation) = rekey.as_mut() else {
            return Err(Error::invalid("no rekey in progress"));
        };
        if operation.nonce != nonce {
            return Err(Error::invalid(format!(
                "incorrect nonce supplied; nonce for this rekey operation is \"{}\"",
                operation.nonce
            )));
        }
        let outcome = operation
            .progress
            .submit(share, config.secret_threshold)
            .map_err(seal_error)?;
        let SubmitOutcome::Complete(unseal_key) = outcome else {
            return Ok(None);
        };
        let (shares, threshold) = (operation.secret_shares, operation.secret_threshold);
        *rekey = None;
        drop(rekey);
        let root_key = self.recover_root_key(&unseal_key).await?;
        let new_unseal_key = UnsealKey::generate();
        let protected_root_key = self
            .seal
            .protect_root_key(&root_key, Some(&new_unseal_key))
            .await
            .map_err(seal_error)?;
        let new_shares = shamir::split(&new_unseal_key, shares, threshold).map_err(seal_error)?;
        let _lifecycle = self.lifecycle.lock().await;
        self.store_seal_state(protected_root_key, &SealConfig::shamir(shares, threshold))
            .await?;
        tracing::info!(shares, threshold, "rekey complete");
        Ok(Some(InitOutcome {
            keys_hex: shamir::encode_hex(&new_shares),
            keys_base64: shamir::encode_base64(&new_shares),
            root_token: Zeroizing::new(String::new()),
        }))
    }
}
