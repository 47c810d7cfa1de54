//! The key material types. Each is 32 bytes (a share 33 at most), zeroized on drop, and
//! implements neither `Debug`, `Clone` nor `Serialize`: a copy is always an explicit call.

use crate::error::SealError;
use crate::limits::{KEY_BYTES, KEY_INPUT_BYTES_MAX};
use aes_gcm::aead::OsRng;
use aes_gcm::aead::rand_core::RngCore;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; KEY_BYTES]);

        impl $name {
            /// 32 bytes from the operating system's CSPRNG.
            pub fn generate() -> Self {
                let mut bytes = [0u8; KEY_BYTES];
                OsRng.fill_bytes(&mut bytes);
                let key = Self(bytes);
                bytes.zeroize();
                key
            }

            /// Takes a copy of exactly 32 bytes; the caller zeroizes its own buffer.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, SealError> {
                let Ok(array) = <[u8; KEY_BYTES]>::try_from(bytes) else {
                    return Err(SealError::InvalidKey(format!(
                        "key must be {KEY_BYTES} bytes, got {}",
                        bytes.len()
                    )));
                };
                Ok(Self(array))
            }

            pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
                &self.0
            }

            /// An explicit copy (the type is deliberately not `Clone`).
            pub fn duplicate(&self) -> Self {
                Self(self.0)
            }

            /// Constant-time equality.
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.0.ct_eq(&other.0).into()
            }

            pub fn to_base64(&self) -> Zeroizing<String> {
                Zeroizing::new(STANDARD.encode(self.0))
            }

            pub fn to_hex(&self) -> Zeroizing<String> {
                Zeroizing::new(hex::encode(self.0))
            }
        }
    };
}

secret_key!(
    /// The barrier root key ([Vault] "master key"): encrypts the keyring at `core/keyring`.
    /// It never touches storage in clear; a seal protects it outside the barrier.
    RootKey
);
secret_key!(
    /// One keyring term's data-encryption key.
    TermKey
);
secret_key!(
    /// The Shamir KEK: split into shares at init/rekey, combined at unseal; it encrypts the
    /// root key at `core/hsm/barrier-unseal-keys`. Also used as the recovery key of an
    /// auto seal.
    UnsealKey
);

/// One Shamir share as the operator sees it: 33 bytes (32 y-bytes, then the x-coordinate),
/// or, when the threshold is 1, the bare 32-byte unseal key. Holds 1..=33 bytes.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeyShare {
    bytes: [u8; KEY_INPUT_BYTES_MAX],
    len: u8,
}

impl KeyShare {
    /// Copies `bytes`, which must be 1..=33 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, SealError> {
        if bytes.is_empty() {
            return Err(SealError::InvalidKey("key is empty".to_string()));
        }
        if bytes.len() > KEY_INPUT_BYTES_MAX {
            return Err(SealError::InvalidKey(format!(
                "key is longer than maximum {KEY_INPUT_BYTES_MAX} bytes"
            )));
        }
        let mut share = KeyShare {
            bytes: [0u8; KEY_INPUT_BYTES_MAX],
            len: bytes.len() as u8,
        };
        share.bytes[..bytes.len()].copy_from_slice(bytes);
        Ok(share)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    #[allow(clippy::len_without_is_empty)] // A share is never empty.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// An explicit copy (the type is deliberately not `Clone`).
    pub fn duplicate(&self) -> Self {
        KeyShare {
            bytes: self.bytes,
            len: self.len,
        }
    }

    /// Constant-time equality of length and bytes.
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.as_bytes().ct_eq(other.as_bytes()).into()
    }

    /// Lower-case hex, as in `keys` of `sys/init` (66 characters for a 33-byte share).
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.as_bytes()))
    }

    /// Standard base64 with padding, as in `keys_base64` (44 characters for 33 bytes).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_copy_explicitly() {
        let first = RootKey::generate();
        let second = RootKey::generate();
        assert!(!first.ct_eq(&second));
        assert!(first.ct_eq(&first.duplicate()));
        assert_eq!(first.to_hex().len(), 64);
        assert_eq!(first.to_base64().len(), 44);
    }

    #[test]
    fn key_from_slice_requires_32_bytes() {
        assert!(UnsealKey::from_slice(&[1u8; 31]).is_err());
        assert!(UnsealKey::from_slice(&[1u8; 33]).is_err());
        assert!(UnsealKey::from_slice(&[1u8; 32]).is_ok());
    }

    #[test]
    fn share_length_bounds() {
        assert!(KeyShare::from_slice(&[]).is_err());
        assert!(KeyShare::from_slice(&[7u8; KEY_INPUT_BYTES_MAX + 1]).is_err());
        let share = KeyShare::from_slice(&[7u8; KEY_INPUT_BYTES_MAX]).expect("33 bytes fit");
        assert_eq!(share.len(), 33);
        assert_eq!(share.to_hex().len(), 66);
        assert_eq!(share.to_base64().len(), 44);
        assert!(share.ct_eq(&share.duplicate()));
        let shorter = KeyShare::from_slice(&[7u8; 32]).expect("32 bytes fit");
        assert!(!share.ct_eq(&shorter));
    }
}
