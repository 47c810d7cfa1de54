//! Barrier and seals. See ARCHITECTURE.md.
//!
//! **Architecture invariant:** key material (`RootKey`, `TermKey`, `UnsealKey`, `KeyShare`)
//! is zeroized on drop and implements neither `Debug`, `Clone` nor `Serialize`.
//!
//! **API boundary:** the server sees the [`Barrier`] (a [`tresor_storage::Storage`]), the
//! [`Seal`] trait, [`shamir`] and [`UnsealProgress`]. Physical paths used here:
//! [`KEYRING_PATH`] and [`ROOT_KEY_PATH`] (written by the barrier), [`SEAL_CONFIG_PATH`] and
//! [`BARRIER_UNSEAL_KEYS_PATH`] (written by the server with a [`Seal`]).

mod barrier;
mod error;
mod keyring;
mod keys;
pub mod limits;
mod progress;
mod seal;
pub mod shamir;

pub use barrier::{BARRIER_VERSION_PATH_AAD, Barrier, KeyStatus};
pub use error::{SealError, SealErrorKind};
pub use keyring::RotationConfig;
pub use keys::{KeyShare, RootKey, TermKey, UnsealKey};
pub use progress::{SubmitOutcome, UnsealProgress};
pub use seal::{SHAMIR_BLOB_BYTES, SHAMIR_BLOB_VERSION, Seal, SealConfig, ShamirSeal};
pub use shamir::{combine, parse_key_share, split};

/// The keyring, encrypted with the root key.
pub const KEYRING_PATH: &str = "core/keyring";
/// The root key, encrypted by the active term ([Vault] `core/master`).
pub const ROOT_KEY_PATH: &str = "core/root-key";
/// The root key protected by the seal, outside the barrier.
pub const BARRIER_UNSEAL_KEYS_PATH: &str = "core/hsm/barrier-unseal-keys";
/// [`SealConfig`] JSON, outside the barrier.
pub const SEAL_CONFIG_PATH: &str = "core/seal-config";
/// An auto seal's recovery key, protected by the seal, outside the barrier.
pub const RECOVERY_KEY_PATH: &str = "core/recovery-key";
/// An auto seal's recovery [`SealConfig`], outside the barrier.
pub const RECOVERY_CONFIG_PATH: &str = "core/recovery-config";

/// Physical entries that the barrier refuses to write or delete as barrier values.
pub const RESERVED_PHYSICAL_PATHS: [&str; 6] = [
    KEYRING_PATH,
    ROOT_KEY_PATH,
    BARRIER_UNSEAL_KEYS_PATH,
    SEAL_CONFIG_PATH,
    RECOVERY_KEY_PATH,
    RECOVERY_CONFIG_PATH,
];
