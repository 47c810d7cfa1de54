//! The barrier: every value above physical storage is AES-256-GCM encrypted by the keyring.
//!
//! Value layout (Vault's): `term (4, big-endian) ‖ version 0x02 ‖ nonce (12) ‖ ciphertext ‖
//! tag (16)`, with the storage path as additional data, so a value moved to another path
//! fails to open. Version 0x01 (no AAD) is never written and is refused on read.
//!
//! Physical entries kept by the barrier itself:
//! - `core/keyring`: the keyring JSON, encrypted with the root key (term field 1).
//! - `core/root-key` ([Vault] `core/master`): the root key as Vault's `Key` JSON, encrypted
//!   by the active term, so a node that holds the keyring can re-read the root key.

use crate::error::SealError;
use crate::keyring::{self, Keyring, RotationConfig, cipher_for};
use crate::keys::{RootKey, TermKey};
use crate::limits::{
    BARRIER_HEADER_BYTES, BARRIER_VALUE_BYTES_MIN, NONCE_BYTES, TAG_BYTES, TERM_BYTES, TERMS_MAX,
};
use crate::{KEYRING_PATH, RESERVED_PHYSICAL_PATHS, ROOT_KEY_PATH};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{AeadInPlace, OsRng};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;
use tresor_storage::{Operation, Storage, StorageError};

/// The version byte of values whose AAD is the storage path.
pub const BARRIER_VERSION_PATH_AAD: u8 = 0x2;

/// `sys/key-status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStatus {
    pub term: u32,
    pub install_time: OffsetDateTime,
    pub encryptions: u64,
}

/// The encrypting [`Storage`] over physical storage.
///
/// Invariant: while unsealed, `keyring` holds the keys loaded from `core/keyring`; sealed, it
/// is `None` and every key has been dropped (zeroized once the last in-flight operation
/// releases its `Arc`). Reads take a read lock only long enough to clone the `Arc`.
pub struct Barrier {
    physical: Arc<dyn Storage>,
    keyring: RwLock<Option<Arc<Keyring>>>,
    /// Encryptions under the active term since it was installed (persisted in the keyring
    /// on rotation and by [`Barrier::persist_encryptions`]).
    encryptions: AtomicU64,
    /// Serialises every change of the keyring (initialize, unseal, rotate, reload).
    keyring_change: tokio::sync::Mutex<()>,
}

impl Barrier {
    pub fn new(physical: Arc<dyn Storage>) -> Barrier {
        Barrier {
            physical,
            keyring: RwLock::new(None),
            encryptions: AtomicU64::new(0),
            keyring_change: tokio::sync::Mutex::new(()),
        }
    }

    /// True when `core/keyring` exists in physical storage.
    pub async fn is_initialized(&self) -> Result<bool, SealError> {
        Ok(self.physical.get(KEYRING_PATH).await?.is_some())
    }

    /// Creates the term-1 keyring under `root_key` and stores it with `core/root-key`, in one
    /// batch. The barrier stays sealed; call [`Barrier::unseal`] next.
    pub async fn initialize(&self, root_key: &RootKey) -> Result<(), SealError> {
        let _change = self.keyring_change.lock().await;
        if self.is_initialized().await? {
            return Err(SealError::AlreadyInitialized);
        }
        let now = OffsetDateTime::now_utc();
        let keyring = Keyring::new(root_key.duplicate(), TermKey::generate(), now);
        let operations = persist_operations(&keyring, 0, now)?;
        self.physical.batch(operations).await?;
        tracing::info!("barrier initialized with keyring term 1");
        Ok(())
    }

    /// Loads the keyring with `root_key`. Already unsealed: nothing to do. A root key that
    /// does not open `core/keyring` fails with `Unseal failed, invalid key`.
    pub async fn unseal(&self, root_key: &RootKey) -> Result<(), SealError> {
        let _change = self.keyring_change.lock().await;
        if !self.is_sealed() {
            return Ok(());
        }
        let keyring = self.load_keyring(root_key).await?;
        self.install(keyring);
        Ok(())
    }

    /// Drops all key material. Values already handed out stay valid; nothing new is
    /// encrypted or decrypted.
    pub fn seal(&self) {
        let previous = self.write_keyring().take();
        drop(previous);
        self.encryptions.store(0, Ordering::Relaxed);
    }

    pub fn is_sealed(&self) -> bool {
        self.read_keyring().is_none()
    }

    /// Adds term = active + 1 with a fresh key and persists the keyring. Old terms keep
    /// decrypting forever.
    pub async fn rotate(&self) -> Result<KeyStatus, SealError> {
        let _change = self.keyring_change.lock().await;
        let current = self.refreshed().await?;
        if current.active_term >= TERMS_MAX {
            return Err(SealError::Internal(
                "keyring term limit reached".to_string(),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let mut next = current.duplicate(self.encryptions.load(Ordering::Relaxed));
        let term = current.active_term + 1;
        next.add_term(term, TermKey::generate(), now);
        let operations = persist_operations(&next, 0, now)?;
        self.physical.batch(operations).await?;
        {
            let mut slot = self.write_keyring();
            // Sealed while persisting: the new keyring is stored; the next unseal loads it.
            if slot.is_some() {
                *slot = Some(Arc::new(next));
                self.encryptions.store(0, Ordering::Relaxed);
            }
        }
        tracing::info!(term, "barrier keyring rotated");
        self.key_status()
    }

    /// Re-reads `core/keyring` with the root key in memory, e.g. on a standby after the
    /// active node rotated. Keeps the live encryption count if the active term is unchanged.
    pub async fn reload_keyring(&self) -> Result<(), SealError> {
        let _change = self.keyring_change.lock().await;
        let current = self.current()?;
        let keyring = self.load_keyring(&current.root_key).await?;
        if keyring.active_term == current.active_term {
            let live = self.encryptions.load(Ordering::Relaxed);
            let keyring = keyring.duplicate(live.max(keyring.active().encryptions));
            self.install(keyring);
            return Ok(());
        }
        self.install(keyring);
        Ok(())
    }

    /// Writes the keyring with the live encryption count (Vault persists it periodically).
    pub async fn persist_encryptions(&self) -> Result<(), SealError> {
        let _change = self.keyring_change.lock().await;
        let current = self.refreshed().await?;
        let encryptions = self.encryptions.load(Ordering::Relaxed);
        let now = OffsetDateTime::now_utc();
        let operations = persist_operations(&current, encryptions, now)?;
        self.physical.batch(operations).await?;
        Ok(())
    }

    /// Stores a new `sys/rotate/config`.
    pub async fn set_rotation_config(&self, config: RotationConfig) -> Result<(), SealError> {
        let _change = self.keyring_change.lock().await;
        let current = self.refreshed().await?;
        let encryptions = self.encryptions.load(Ordering::Relaxed);
        let mut next = current.duplicate(encryptions);
        next.rotation_config = config;
        let operations = persist_operations(&next, encryptions, OffsetDateTime::now_utc())?;
        self.physical.batch(operations).await?;
        let mut slot = self.write_keyring();
        if slot.is_some() {
            *slot = Some(Arc::new(next));
        }
        Ok(())
    }

    pub fn rotation_config(&self) -> Result<RotationConfig, SealError> {
        Ok(self.current()?.rotation_config)
    }

    /// `sys/key-status` of the active term.
    pub fn key_status(&self) -> Result<KeyStatus, SealError> {
        let current = self.current()?;
        Ok(KeyStatus {
            term: current.active_term,
            install_time: current.active().install_time,
            encryptions: self.encryptions.load(Ordering::Relaxed),
        })
    }

    /// Reads `core/root-key` through the barrier and returns the root key it holds.
    pub async fn stored_root_key(&self) -> Result<RootKey, SealError> {
        let Some(value) = self.physical.get(ROOT_KEY_PATH).await? else {
            return Err(SealError::NotInitialized);
        };
        let json = zeroize::Zeroizing::new(self.decrypt_value(ROOT_KEY_PATH, &value)?);
        keyring::root_key_from_json(&json)
    }

    /// Encrypts `plaintext` for `path` under the active term.
    pub fn encrypt_value(&self, path: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let current = self.current()?;
        let sealed = seal_value(
            &current.active().cipher,
            current.active_term,
            path,
            plaintext,
        )?;
        self.encryptions.fetch_add(1, Ordering::Relaxed);
        Ok(sealed)
    }

    /// Decrypts a value read from `path`. Any damage, a wrong path or an unknown term is an
    /// error, never garbage and never a panic.
    pub fn decrypt_value(&self, path: &str, value: &[u8]) -> Result<Vec<u8>, SealError> {
        let current = self.current()?;
        let term = value_term(path, value)?;
        let Some(entry) = current.terms.get(&term) else {
            return Err(SealError::UnknownTerm { term });
        };
        open_value(&entry.cipher, path, value)
    }

    /// Like [`Barrier::decrypt_value`], but a term newer than the active one first reloads
    /// the keyring once (another node rotated). Costs a storage read only on that path.
    async fn decrypt_or_reload(&self, path: &str, value: &[u8]) -> Result<Vec<u8>, SealError> {
        match self.decrypt_value(path, value) {
            Err(SealError::UnknownTerm { term }) if term > self.current()?.active_term => {
                self.reload_keyring().await?;
                self.decrypt_value(path, value)
            }
            other => other,
        }
    }

    async fn load_keyring(&self, root_key: &RootKey) -> Result<Keyring, SealError> {
        let Some(blob) = self.physical.get(KEYRING_PATH).await? else {
            return Err(SealError::NotInitialized);
        };
        // Layout damage is corruption; only a failed tag means "wrong root key".
        value_term(KEYRING_PATH, &blob)?;
        let root_cipher = cipher_for(root_key.as_bytes());
        let json = match open_value(&root_cipher, KEYRING_PATH, &blob) {
            Ok(json) => zeroize::Zeroizing::new(json),
            Err(_) => return Err(SealError::UnsealFailed),
        };
        let keyring = Keyring::from_json(&json)?;
        if !keyring.root_key.ct_eq(root_key) {
            return Err(SealError::Corrupt {
                path: KEYRING_PATH.to_string(),
                reason: "keyring holds a different root key",
            });
        }
        Ok(keyring)
    }

    /// The keyring to build a keyring write on. Another node sharing the physical store may
    /// have rotated since this one loaded its keyring; writing the stale copy back would
    /// drop the newer term and make every value written under it unreadable. So every
    /// keyring write first re-reads `core/keyring` and adopts it when its term is newer.
    /// Call with `keyring_change` held.
    async fn refreshed(&self) -> Result<Arc<Keyring>, SealError> {
        let current = self.current()?;
        let stored = self.load_keyring(&current.root_key).await?;
        if stored.active_term <= current.active_term {
            return Ok(current);
        }
        tracing::info!(
            term = stored.active_term,
            "adopting a newer keyring term written by another node"
        );
        self.install(stored);
        self.current()
    }

    fn install(&self, keyring: Keyring) {
        let encryptions = keyring.active().encryptions;
        let mut slot = self.write_keyring();
        *slot = Some(Arc::new(keyring));
        self.encryptions.store(encryptions, Ordering::Relaxed);
    }

    fn current(&self) -> Result<Arc<Keyring>, SealError> {
        match self.read_keyring().as_ref() {
            Some(keyring) => Ok(Arc::clone(keyring)),
            None => Err(SealError::Sealed),
        }
    }

    fn read_keyring(&self) -> std::sync::RwLockReadGuard<'_, Option<Arc<Keyring>>> {
        // The slot is a single pointer swap, so a poisoned lock still guards a valid value.
        self.keyring
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_keyring(&self) -> std::sync::RwLockWriteGuard<'_, Option<Arc<Keyring>>> {
        self.keyring
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The barrier's own physical entries must not be overwritten through the barrier.
fn check_writable(path: &str) -> Result<(), SealError> {
    if path.starts_with("core/") && RESERVED_PHYSICAL_PATHS.contains(&path) {
        return Err(SealError::Internal(format!(
            "{path:?} is reserved for the seal and cannot be written through the barrier"
        )));
    }
    Ok(())
}

/// `core/keyring` (under the root key) and `core/root-key` (under the active term).
fn persist_operations(
    keyring: &Keyring,
    active_encryptions: u64,
    now: OffsetDateTime,
) -> Result<Vec<Operation>, SealError> {
    let keyring_json = keyring.to_json(active_encryptions)?;
    let root_cipher = cipher_for(keyring.root_key.as_bytes());
    let keyring_value = seal_value(&root_cipher, 1, KEYRING_PATH, &keyring_json)?;
    let root_json = keyring::root_key_json(&keyring.root_key, now)?;
    let active = keyring.active();
    let root_value = seal_value(
        &active.cipher,
        keyring.active_term,
        ROOT_KEY_PATH,
        &root_json,
    )?;
    Ok(vec![
        Operation::Put {
            key: KEYRING_PATH.to_string(),
            value: keyring_value,
        },
        Operation::Put {
            key: ROOT_KEY_PATH.to_string(),
            value: root_value,
        },
    ])
}

/// `term ‖ 0x02 ‖ nonce ‖ AES-GCM(plaintext, AAD = path) ‖ tag`.
pub(crate) fn seal_value(
    cipher: &Aes256Gcm,
    term: u32,
    path: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(BARRIER_VALUE_BYTES_MIN + plaintext.len());
    out.extend_from_slice(&term.to_be_bytes());
    out.push(BARRIER_VERSION_PATH_AAD);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_in_place_detached(
            Nonce::from_slice(&nonce),
            path.as_bytes(),
            &mut out[BARRIER_HEADER_BYTES..],
        )
        .map_err(|_| SealError::Internal("AES-GCM encryption failed".to_string()))?;
    out.extend_from_slice(&tag);
    assert_eq!(
        out.len(),
        BARRIER_VALUE_BYTES_MIN + plaintext.len(),
        "sealed layout"
    );
    Ok(out)
}

/// The term field of a stored value, after the layout checks.
fn value_term(path: &str, value: &[u8]) -> Result<u32, SealError> {
    let corrupt = |reason| SealError::Corrupt {
        path: path.to_string(),
        reason,
    };
    if value.len() < BARRIER_VALUE_BYTES_MIN {
        return Err(corrupt("value is too short"));
    }
    if value[TERM_BYTES] != BARRIER_VERSION_PATH_AAD {
        return Err(corrupt("unsupported barrier version"));
    }
    let mut term = [0u8; TERM_BYTES];
    term.copy_from_slice(&value[..TERM_BYTES]);
    Ok(u32::from_be_bytes(term))
}

/// Opens a value sealed by [`seal_value`] with `cipher`; the term field is not consulted.
pub(crate) fn open_value(
    cipher: &Aes256Gcm,
    path: &str,
    value: &[u8],
) -> Result<Vec<u8>, SealError> {
    value_term(path, value)?;
    let nonce = Nonce::from_slice(&value[TERM_BYTES + 1..BARRIER_HEADER_BYTES]);
    let tag_start = value.len() - TAG_BYTES;
    let tag = Tag::from_slice(&value[tag_start..]);
    let mut plaintext = value[BARRIER_HEADER_BYTES..tag_start].to_vec();
    match cipher.decrypt_in_place_detached(nonce, path.as_bytes(), &mut plaintext, tag) {
        Ok(()) => Ok(plaintext),
        Err(_) => Err(SealError::Corrupt {
            path: path.to_string(),
            reason: "message authentication failed",
        }),
    }
}

#[async_trait]
impl Storage for Barrier {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.current().map_err(SealError::into_storage_error)?;
        let Some(value) = self.physical.get(key).await? else {
            return Ok(None);
        };
        let plaintext = self
            .decrypt_or_reload(key, &value)
            .await
            .map_err(SealError::into_storage_error)?;
        Ok(Some(plaintext))
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StorageError> {
        check_writable(key).map_err(SealError::into_storage_error)?;
        let sealed = self
            .encrypt_value(key, &value)
            .map_err(SealError::into_storage_error)?;
        self.physical.put(key, sealed).await
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        check_writable(key).map_err(SealError::into_storage_error)?;
        self.current().map_err(SealError::into_storage_error)?;
        self.physical.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        self.current().map_err(SealError::into_storage_error)?;
        self.physical.list(prefix).await
    }

    async fn batch(&self, operations: Vec<Operation>) -> Result<(), StorageError> {
        self.current().map_err(SealError::into_storage_error)?;
        let mut sealed = Vec::with_capacity(operations.len());
        for operation in operations {
            check_writable(operation.key()).map_err(SealError::into_storage_error)?;
            match operation {
                Operation::Put { key, value } => {
                    let value = self
                        .encrypt_value(&key, &value)
                        .map_err(SealError::into_storage_error)?;
                    sealed.push(Operation::Put { key, value });
                }
                delete @ Operation::Delete { .. } => sealed.push(delete),
            }
        }
        self.physical.batch(sealed).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tresor_storage::MemoryStorage;

    async fn unsealed() -> (Arc<MemoryStorage>, Barrier, RootKey) {
        let physical = Arc::new(MemoryStorage::new());
        let barrier = Barrier::new(physical.clone());
        let root_key = RootKey::generate();
        barrier.initialize(&root_key).await.expect("initializes");
        assert!(barrier.is_sealed(), "initialize leaves the barrier sealed");
        barrier.unseal(&root_key).await.expect("unseals");
        (physical, barrier, root_key)
    }

    fn is_sealed_error(error: &StorageError) -> bool {
        matches!(error, StorageError::Refused(text) if text == "Vault is sealed")
    }

    #[tokio::test]
    async fn round_trip_stores_only_ciphertext() {
        // Goal: values round-trip, physical storage holds Vault's layout and no plaintext.
        let (physical, barrier, _) = unsealed().await;
        let plaintext = b"super secret value".to_vec();
        barrier
            .put("secret/a", plaintext.clone())
            .await
            .expect("put");
        assert_eq!(
            barrier.get("secret/a").await.expect("get"),
            Some(plaintext.clone())
        );
        assert_eq!(barrier.get("secret/missing").await.expect("get"), None);

        let stored = physical
            .get("secret/a")
            .await
            .expect("get")
            .expect("present");
        assert_eq!(stored.len(), BARRIER_VALUE_BYTES_MIN + plaintext.len());
        assert_eq!(&stored[..4], &1u32.to_be_bytes());
        assert_eq!(stored[4], BARRIER_VERSION_PATH_AAD);
        assert!(
            !stored
                .windows(plaintext.len())
                .any(|window| window == plaintext)
        );

        barrier
            .put("secret/empty", Vec::new())
            .await
            .expect("put empty");
        assert_eq!(
            barrier.get("secret/empty").await.expect("get"),
            Some(Vec::new())
        );

        assert_eq!(
            barrier.list("secret/").await.expect("list"),
            vec!["a", "empty"]
        );
        barrier.delete("secret/a").await.expect("delete");
        assert_eq!(barrier.get("secret/a").await.expect("get"), None);
        assert_eq!(barrier.key_status().expect("status").encryptions, 2);
    }

    #[tokio::test]
    async fn every_tampered_byte_fails_closed() {
        // Goal: flipping a bit in the term, version, nonce, ciphertext or tag is an error
        // (never garbage, never a panic); so is truncation.
        let (physical, barrier, _) = unsealed().await;
        barrier
            .put("secret/t", b"0123456789abcdef".to_vec())
            .await
            .expect("put");
        let stored = physical
            .get("secret/t")
            .await
            .expect("get")
            .expect("present");
        for index in 0..stored.len() {
            let mut damaged = stored.clone();
            damaged[index] ^= 0x01;
            physical.put("secret/t", damaged).await.expect("put raw");
            let result = barrier.get("secret/t").await;
            assert!(result.is_err(), "flipped byte {index} must fail");
        }
        for length in [0, 4, 5, BARRIER_VALUE_BYTES_MIN - 1, stored.len() - 1] {
            physical
                .put("secret/t", stored[..length].to_vec())
                .await
                .expect("put raw");
            assert!(
                barrier.get("secret/t").await.is_err(),
                "truncated to {length}"
            );
        }
        physical
            .put("secret/t", stored.clone())
            .await
            .expect("restore");
        assert!(barrier.get("secret/t").await.is_ok());
    }

    #[tokio::test]
    async fn value_moved_to_another_path_fails() {
        let (physical, barrier, _) = unsealed().await;
        barrier
            .put("secret/one", b"one".to_vec())
            .await
            .expect("put");
        let stored = physical
            .get("secret/one")
            .await
            .expect("get")
            .expect("present");
        physical.put("secret/two", stored).await.expect("put raw");
        let error = barrier.get("secret/two").await.expect_err("moved value");
        assert!(matches!(error, StorageError::Corrupt(_)), "{error}");
    }

    #[tokio::test]
    async fn unknown_term_fails() {
        let (physical, barrier, _) = unsealed().await;
        barrier.put("secret/x", b"x".to_vec()).await.expect("put");
        let mut stored = physical
            .get("secret/x")
            .await
            .expect("get")
            .expect("present");
        stored[..4].copy_from_slice(&9u32.to_be_bytes());
        physical
            .put("secret/x", stored.clone())
            .await
            .expect("put raw");
        let error = barrier.get("secret/x").await.expect_err("unknown term");
        assert!(
            error
                .to_string()
                .contains("no decryption key available for term 9")
        );
        stored[..4].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            barrier.decrypt_value("secret/x", &stored),
            Err(SealError::UnknownTerm { term: 0 })
        ));
    }

    #[tokio::test]
    async fn rotation_keeps_old_terms_and_writes_with_the_new_one() {
        let (physical, barrier, root_key) = unsealed().await;
        barrier
            .put("secret/old", b"old".to_vec())
            .await
            .expect("put");
        let before = barrier.key_status().expect("status");
        assert_eq!(before.term, 1);
        assert_eq!(before.encryptions, 1);

        let after = barrier.rotate().await.expect("rotates");
        assert_eq!(after.term, 2);
        assert_eq!(after.encryptions, 0);
        assert!(after.install_time >= before.install_time);
        barrier
            .put("secret/new", b"new".to_vec())
            .await
            .expect("put");
        let stored = physical
            .get("secret/new")
            .await
            .expect("get")
            .expect("present");
        assert_eq!(&stored[..4], &2u32.to_be_bytes());
        assert_eq!(
            barrier.get("secret/old").await.expect("get"),
            Some(b"old".to_vec())
        );
        assert_eq!(
            barrier.get("secret/new").await.expect("get"),
            Some(b"new".to_vec())
        );
        assert_eq!(barrier.rotate().await.expect("rotates").term, 3);

        // The rotated keyring is persisted: a fresh unseal sees term 3 and all values.
        barrier.seal();
        barrier.unseal(&root_key).await.expect("unseals");
        assert_eq!(barrier.key_status().expect("status").term, 3);
        assert_eq!(
            barrier.get("secret/old").await.expect("get"),
            Some(b"old".to_vec())
        );
        assert_eq!(
            barrier.get("secret/new").await.expect("get"),
            Some(b"new".to_vec())
        );
        assert!(
            barrier
                .stored_root_key()
                .await
                .expect("root key")
                .ct_eq(&root_key)
        );
        let root_entry = physical
            .get(ROOT_KEY_PATH)
            .await
            .expect("get")
            .expect("present");
        assert_eq!(
            &root_entry[..4],
            &3u32.to_be_bytes(),
            "core/root-key under the active term"
        );
    }

    #[tokio::test]
    async fn second_node_reloads_after_rotation_elsewhere() {
        // Goal: a node sharing the physical store decrypts values of a term rotated in by
        // another node, by reloading the keyring on the first unknown newer term.
        let (physical, active, root_key) = unsealed().await;
        let standby = Barrier::new(physical.clone());
        standby.unseal(&root_key).await.expect("unseals");
        active.rotate().await.expect("rotates");
        active
            .put("secret/fresh", b"fresh".to_vec())
            .await
            .expect("put");
        assert_eq!(
            standby.get("secret/fresh").await.expect("get"),
            Some(b"fresh".to_vec())
        );
        assert_eq!(standby.key_status().expect("status").term, 2);
    }

    #[tokio::test]
    async fn stale_node_never_writes_back_an_older_keyring() {
        // Goal: a node whose in-memory keyring is behind must not overwrite the stored one
        // (that would lose the newer term's key). Method: rotate on one node, then persist
        // counts, set the rotation config and rotate on the other without any read first.
        let (physical, first, root_key) = unsealed().await;
        let second = Barrier::new(physical.clone());
        second.unseal(&root_key).await.expect("unseals");
        first.rotate().await.expect("rotates");
        first.put("secret/t2", b"t2".to_vec()).await.expect("put");

        second.persist_encryptions().await.expect("persists");
        second
            .set_rotation_config(RotationConfig::default())
            .await
            .expect("stores");
        assert_eq!(second.rotate().await.expect("rotates").term, 3);

        let fresh = Barrier::new(physical.clone());
        fresh.unseal(&root_key).await.expect("unseals");
        assert_eq!(fresh.key_status().expect("status").term, 3);
        assert_eq!(
            fresh.get("secret/t2").await.expect("get"),
            Some(b"t2".to_vec())
        );
    }

    #[tokio::test]
    async fn sealed_barrier_refuses_everything_until_unsealed() {
        let (_, barrier, root_key) = unsealed().await;
        barrier.put("secret/s", b"s".to_vec()).await.expect("put");
        barrier.seal();
        assert!(barrier.is_sealed());
        assert!(is_sealed_error(
            &barrier.get("secret/s").await.expect_err("sealed")
        ));
        assert!(is_sealed_error(
            &barrier.put("secret/s", vec![1]).await.expect_err("sealed")
        ));
        assert!(is_sealed_error(
            &barrier.delete("secret/s").await.expect_err("sealed")
        ));
        assert!(is_sealed_error(
            &barrier.list("secret/").await.expect_err("sealed")
        ));
        let batch = vec![Operation::Delete {
            key: "secret/s".to_string(),
        }];
        assert!(is_sealed_error(
            &barrier.batch(batch).await.expect_err("sealed")
        ));
        assert!(matches!(barrier.key_status(), Err(SealError::Sealed)));
        assert!(matches!(barrier.rotate().await, Err(SealError::Sealed)));

        barrier.unseal(&root_key).await.expect("unseals");
        assert_eq!(
            barrier.get("secret/s").await.expect("get"),
            Some(b"s".to_vec())
        );
        barrier
            .unseal(&root_key)
            .await
            .expect("unsealing twice is a no-op");
    }

    #[tokio::test]
    async fn wrong_root_key_and_missing_keyring() {
        let (_, barrier, _) = unsealed().await;
        barrier.seal();
        let error = barrier
            .unseal(&RootKey::generate())
            .await
            .expect_err("wrong key");
        assert!(matches!(error, SealError::UnsealFailed));
        assert_eq!(error.to_string(), "Unseal failed, invalid key");
        assert!(barrier.is_sealed());

        let empty = Barrier::new(Arc::new(MemoryStorage::new()));
        assert!(!empty.is_initialized().await.expect("reads"));
        let error = empty
            .unseal(&RootKey::generate())
            .await
            .expect_err("no keyring");
        assert!(matches!(error, SealError::NotInitialized));
    }

    #[tokio::test]
    async fn second_initialize_is_refused() {
        let (_, barrier, root_key) = unsealed().await;
        assert!(barrier.is_initialized().await.expect("reads"));
        let error = barrier.initialize(&root_key).await.expect_err("already");
        assert_eq!(error.to_string(), "Vault is already initialized");
    }

    #[tokio::test]
    async fn corrupt_keyring_is_not_reported_as_wrong_key() {
        let (physical, barrier, root_key) = unsealed().await;
        barrier.seal();
        let mut keyring = physical
            .get(KEYRING_PATH)
            .await
            .expect("get")
            .expect("present");
        keyring[4] = 0x7;
        physical.put(KEYRING_PATH, keyring).await.expect("put raw");
        let error = barrier.unseal(&root_key).await.expect_err("corrupt");
        assert!(matches!(error, SealError::Corrupt { .. }), "{error}");
    }

    #[tokio::test]
    async fn batch_encrypts_each_put_with_its_own_path() {
        let (physical, barrier, _) = unsealed().await;
        barrier
            .put("secret/gone", b"gone".to_vec())
            .await
            .expect("put");
        let operations = vec![
            Operation::Put {
                key: "secret/b1".to_string(),
                value: b"v1".to_vec(),
            },
            Operation::Put {
                key: "secret/b2".to_string(),
                value: b"v2".to_vec(),
            },
            Operation::Delete {
                key: "secret/gone".to_string(),
            },
        ];
        barrier.batch(operations).await.expect("batch");
        assert_eq!(
            barrier.get("secret/b1").await.expect("get"),
            Some(b"v1".to_vec())
        );
        assert_eq!(
            barrier.get("secret/b2").await.expect("get"),
            Some(b"v2".to_vec())
        );
        assert_eq!(barrier.get("secret/gone").await.expect("get"), None);
        // Each value is bound to its own path.
        let b1 = physical
            .get("secret/b1")
            .await
            .expect("get")
            .expect("present");
        assert!(barrier.decrypt_value("secret/b2", &b1).is_err());
    }

    #[tokio::test]
    async fn reserved_physical_paths_cannot_be_overwritten() {
        let (_, barrier, root_key) = unsealed().await;
        for path in RESERVED_PHYSICAL_PATHS {
            assert!(barrier.put(path, b"x".to_vec()).await.is_err(), "{path}");
            assert!(barrier.delete(path).await.is_err(), "{path}");
        }
        let batch = vec![Operation::Put {
            key: KEYRING_PATH.to_string(),
            value: vec![],
        }];
        assert!(barrier.batch(batch).await.is_err());
        barrier.seal();
        barrier.unseal(&root_key).await.expect("keyring intact");
    }

    #[tokio::test]
    async fn encryption_count_persists_and_rotation_config_round_trips() {
        let (_, barrier, root_key) = unsealed().await;
        for index in 0..5u8 {
            barrier.put("secret/c", vec![index]).await.expect("put");
        }
        barrier.persist_encryptions().await.expect("persists");
        let config = RotationConfig {
            disabled: false,
            max_operations: 2_000_000,
            interval_ns: 0,
        };
        barrier.set_rotation_config(config).await.expect("stores");
        barrier.seal();
        barrier.unseal(&root_key).await.expect("unseals");
        assert_eq!(barrier.key_status().expect("status").encryptions, 5);
        assert_eq!(barrier.rotation_config().expect("config"), config);
    }

    #[test]
    fn seal_and_open_helpers_agree() {
        let key = TermKey::generate();
        let cipher = cipher_for(key.as_bytes());
        let sealed = seal_value(&cipher, 7, "p", b"hello").expect("seals");
        assert_eq!(value_term("p", &sealed).expect("term"), 7);
        assert_eq!(open_value(&cipher, "p", &sealed).expect("opens"), b"hello");
        assert!(open_value(&cipher, "q", &sealed).is_err());
    }
}
