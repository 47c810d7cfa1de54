//! The closed set of transit key types, with Vault's wire names and its stored integer codes
//! (`keysutil.KeyType`, which backups carry).

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    Aes256Gcm96,
    EcdsaP256,
    Ed25519,
    Rsa2048,
    Rsa4096,
    ChaCha20Poly1305,
    EcdsaP384,
    EcdsaP521,
    Aes128Gcm96,
    Rsa3072,
    Hmac,
}

const ALL: [KeyType; 11] = [
    KeyType::Aes256Gcm96,
    KeyType::EcdsaP256,
    KeyType::Ed25519,
    KeyType::Rsa2048,
    KeyType::Rsa4096,
    KeyType::ChaCha20Poly1305,
    KeyType::EcdsaP384,
    KeyType::EcdsaP521,
    KeyType::Aes128Gcm96,
    KeyType::Rsa3072,
    KeyType::Hmac,
];

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Aes256Gcm96 => "aes256-gcm96",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa4096 => "rsa-4096",
            KeyType::ChaCha20Poly1305 => "chacha20-poly1305",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::EcdsaP521 => "ecdsa-p521",
            KeyType::Aes128Gcm96 => "aes128-gcm96",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Hmac => "hmac",
        }
    }

    /// Vault's stored `type` integer.
    pub fn code(self) -> i64 {
        ALL.iter()
            .position(|candidate| *candidate == self)
            .expect("every key type is in ALL") as i64
    }

    pub fn from_code(code: i64) -> Option<KeyType> {
        usize::try_from(code)
            .ok()
            .and_then(|index| ALL.get(index).copied())
    }

    pub fn parse(name: &str) -> Option<KeyType> {
        ALL.iter()
            .copied()
            .find(|candidate| candidate.name() == name)
    }

    pub fn is_symmetric(self) -> bool {
        matches!(
            self,
            KeyType::Aes128Gcm96 | KeyType::Aes256Gcm96 | KeyType::ChaCha20Poly1305
        )
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096)
    }

    pub fn is_ecdsa(self) -> bool {
        matches!(
            self,
            KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521
        )
    }

    pub fn encryption_supported(self) -> bool {
        self.is_symmetric() || self.is_rsa()
    }

    pub fn signing_supported(self) -> bool {
        self.is_ecdsa() || self.is_rsa() || self == KeyType::Ed25519
    }

    pub fn derivation_supported(self) -> bool {
        self.is_symmetric() || self == KeyType::Ed25519
    }

    pub fn associated_data_supported(self) -> bool {
        self.is_symmetric()
    }

    /// ECDSA and RSA sign a digest the server computes; Ed25519 signs the input itself.
    pub fn hash_signature_input(self) -> bool {
        self.is_ecdsa() || self.is_rsa()
    }

    /// Bytes of the encryption key (AES-128 uses 16).
    pub fn symmetric_key_bytes(self) -> usize {
        match self {
            KeyType::Aes128Gcm96 => 16,
            _ => 32,
        }
    }

    pub fn rsa_bits(self) -> usize {
        match self {
            KeyType::Rsa2048 => 2048,
            KeyType::Rsa3072 => 3072,
            _ => 4096,
        }
    }

    /// The curve or key name in the `keys` map of a read (`elliptic.Curve.Params().Name`).
    pub fn public_name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "P-256",
            KeyType::EcdsaP384 => "P-384",
            KeyType::EcdsaP521 => "P-521",
            other => other.name(),
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Stored and backed up as Vault's integer.
impl Serialize for KeyType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for KeyType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(deserializer)?;
        KeyType::from_code(code).ok_or_else(|| D::Error::custom(format!("unknown key type {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_match_vault() {
        // Goal: the integers Vault writes in backups. Method: one row per type.
        let rows = [
            ("aes256-gcm96", 0),
            ("ecdsa-p256", 1),
            ("ed25519", 2),
            ("rsa-2048", 3),
            ("rsa-4096", 4),
            ("chacha20-poly1305", 5),
            ("ecdsa-p384", 6),
            ("ecdsa-p521", 7),
            ("aes128-gcm96", 8),
            ("rsa-3072", 9),
            ("hmac", 10),
        ];
        for (name, code) in rows {
            let key_type = KeyType::parse(name).expect("known name");
            assert_eq!(key_type.code(), code, "{name}");
            assert_eq!(KeyType::from_code(code), Some(key_type));
        }
        assert_eq!(KeyType::parse("aes512"), None);
        assert_eq!(KeyType::from_code(11), None);
    }
}
