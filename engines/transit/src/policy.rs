//! A transit key ("policy" in Vault's `keysutil`) in Vault's own JSON shape, so a backup is the
//! stored record and a Vault backup restores byte for byte. Versions live in `keys`; this
//! engine keeps every available version there (Vault splits old ones into an archive record,
//! which `backup` and `restore` translate).

use crate::crypto::{self, HashAlgorithm, NONCE_BYTES, ecdsa, rsa_keys};
use crate::error::{OpError, user};
use crate::gobase64;
use crate::key_type::KeyType;
use crate::timefmt;
use rsa::BigUint;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// Vault's `ErrTooOld`.
pub const ERR_TOO_OLD: &str = "ciphertext or signature version is disallowed by policy (too old)";
pub const PREFIX: &str = "vault:v";
/// Vault's `currentConvergentVersion`.
pub const CONVERGENT_VERSION_CURRENT: i64 = 3;
pub const KDF_COUNTER: i64 = 0;
pub const KDF_HKDF: i64 = 1;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VersionInfo {
    pub time: String,
    pub version: i64,
}

/// One version's key material (`keysutil.KeyEntry`). Byte fields are base64 in JSON, big
/// integers are JSON numbers (kept exact by serde_json's arbitrary precision).
#[derive(Serialize, Deserialize, Clone, Default)]
#[serde(default)]
pub struct KeyEntry {
    #[serde(with = "base64_bytes")]
    pub key: Option<Vec<u8>>,
    #[serde(with = "base64_bytes")]
    pub hmac_key: Option<Vec<u8>>,
    pub time: String,
    pub ec_x: Option<Number>,
    pub ec_y: Option<Number>,
    pub ec_d: Option<Number>,
    pub rsa_key: Option<Value>,
    pub rsa_public_key: Option<Value>,
    pub public_key: String,
    pub convergent_version: i64,
    pub creation_time: i64,
    pub certificate_chain: Option<Value>,
}

/// `keysutil.Policy` in its JSON form.
#[derive(Serialize, Deserialize, Clone)]
#[serde(default)]
pub struct Policy {
    pub name: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub key_size: i64,
    pub keys: BTreeMap<String, KeyEntry>,
    pub derived: bool,
    pub kdf: i64,
    pub convergent_encryption: bool,
    pub exportable: bool,
    pub min_decryption_version: i64,
    pub min_encryption_version: i64,
    pub latest_version: i64,
    pub archive_version: i64,
    pub archive_min_version: i64,
    pub min_available_version: i64,
    pub deletion_allowed: bool,
    pub convergent_version: i64,
    #[serde(rename = "type")]
    pub key_type: KeyType,
    pub backup_info: Option<VersionInfo>,
    pub restore_info: Option<VersionInfo>,
    pub allow_plaintext_backup: bool,
    pub version_template: String,
    pub storage_prefix: String,
    /// Go's `time.Duration`: nanoseconds.
    pub auto_rotate_period: i64,
    #[serde(rename = "Imported")]
    pub imported: bool,
    #[serde(rename = "AllowImportedKeyRotation")]
    pub allow_imported_key_rotation: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            name: String::new(),
            key_size: 0,
            keys: BTreeMap::new(),
            derived: false,
            kdf: 0,
            convergent_encryption: false,
            exportable: false,
            min_decryption_version: 0,
            min_encryption_version: 0,
            latest_version: 0,
            archive_version: 0,
            archive_min_version: 0,
            min_available_version: 0,
            deletion_allowed: false,
            convergent_version: 0,
            key_type: KeyType::Aes256Gcm96,
            backup_info: None,
            restore_info: None,
            allow_plaintext_backup: false,
            version_template: String::new(),
            storage_prefix: String::new(),
            auto_rotate_period: 0,
            imported: false,
            allow_imported_key_rotation: false,
        }
    }
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

mod base64_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&crate::gobase64::encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => crate::gobase64::decode(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// What a new key is created with (`keysutil.PolicyRequest`).
pub struct NewPolicy {
    pub name: String,
    pub key_type: KeyType,
    pub derived: bool,
    pub convergent: bool,
    pub exportable: bool,
    pub allow_plaintext_backup: bool,
    pub auto_rotate_period_seconds: u64,
    pub key_size: i64,
}

/// How a ciphertext or signature names its version.
pub struct Versioned<'a> {
    pub version: i64,
    pub body: &'a str,
}

/// The result of one signing operation.
pub struct Signed {
    pub signature: String,
    /// The derived Ed25519 public key, when the key is derived.
    pub public_key: Option<Vec<u8>>,
}

pub struct SignOptions {
    pub hash: HashAlgorithm,
    pub jws: bool,
    /// `None` = Go's `PSSSaltLengthAuto`; `Some(n)` explicit.
    pub salt: Option<usize>,
    pub pss: bool,
    pub prehashed: bool,
}

fn number_bytes(number: &Option<Number>) -> Result<Vec<u8>, OpError> {
    let text = number
        .as_ref()
        .map(Number::to_string)
        .ok_or_else(|| OpError::Internal("missing EC key component".to_string()))?;
    BigUint::parse_bytes(text.as_bytes(), 10)
        .map(|value| value.to_bytes_be())
        .ok_or_else(|| OpError::Internal("invalid EC key component".to_string()))
}

fn bytes_number(bytes: &[u8]) -> Number {
    big_number(&BigUint::from_bytes_be(bytes))
}

fn big_number(value: &BigUint) -> Number {
    value
        .to_str_radix(10)
        .parse()
        .expect("a decimal integer is a JSON number")
}

fn value_big(value: Option<&Value>) -> Option<BigUint> {
    let text = match value? {
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    BigUint::parse_bytes(text.as_bytes(), 10)
}

pub fn rsa_to_value(key: &rsa::RsaPrivateKey) -> Value {
    use rsa::traits::PrivateKeyParts;
    let mut map = serde_json::Map::new();
    map.insert("N".into(), Value::Number(big_number(key.n())));
    map.insert("E".into(), Value::Number(big_number(key.e())));
    map.insert("D".into(), Value::Number(big_number(key.d())));
    map.insert(
        "Primes".into(),
        Value::Array(
            key.primes()
                .iter()
                .map(|p| Value::Number(big_number(p)))
                .collect(),
        ),
    );
    let mut pre = serde_json::Map::new();
    if let Some((dp, dq, qinv)) = rsa_keys::precomputed(key) {
        pre.insert("Dp".into(), Value::Number(big_number(&dp)));
        pre.insert("Dq".into(), Value::Number(big_number(&dq)));
        pre.insert("Qinv".into(), Value::Number(big_number(&qinv)));
    }
    pre.insert("CRTValues".into(), Value::Array(Vec::new()));
    map.insert("Precomputed".into(), Value::Object(pre));
    Value::Object(map)
}

pub fn rsa_from_value(value: &Value) -> Result<rsa::RsaPrivateKey, OpError> {
    let bad = || OpError::Internal("invalid stored RSA key".to_string());
    let primes = value
        .get("Primes")
        .and_then(Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|prime| value_big(Some(prime)).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    rsa_keys::from_parts(rsa_keys::Parts {
        n: value_big(value.get("N")).ok_or_else(bad)?,
        e: value_big(value.get("E")).ok_or_else(bad)?,
        d: value_big(value.get("D")).ok_or_else(bad)?,
        primes,
    })
    .map_err(OpError::Internal)
}

fn rsa_public_from_value(value: &Value) -> Result<rsa::RsaPublicKey, OpError> {
    let bad = || OpError::Internal("invalid stored RSA public key".to_string());
    rsa::RsaPublicKey::new(
        value_big(value.get("N")).ok_or_else(bad)?,
        value_big(value.get("E")).ok_or_else(bad)?,
    )
    .map_err(|_| bad())
}

/// Splits `vault:v<N>:<body>` as Vault does (`invalid ciphertext: ...` or `invalid signature: ...`).
pub fn split_versioned<'a>(text: &'a str, what: &str) -> Result<Versioned<'a>, OpError> {
    let Some(rest) = text.strip_prefix(PREFIX) else {
        return Err(user(format!("invalid {what}: no prefix")));
    };
    let Some((version, body)) = rest.split_once(':') else {
        return Err(user(format!("invalid {what}: wrong number of fields")));
    };
    let version = go_atoi(version).ok_or_else(|| {
        user(format!(
            "invalid {what}: version number could not be decoded"
        ))
    })?;
    Ok(Versioned { version, body })
}

/// Go's `strconv.Atoi`: optional sign, decimal digits, within 64 bits.
pub fn go_atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl Policy {
    /// A new policy with its first version (`lock_manager.GetPolicy` on upsert).
    pub fn create(request: NewPolicy, now: time::OffsetDateTime) -> Result<Policy, String> {
        let mut policy = Policy {
            name: request.name,
            key_type: request.key_type,
            derived: request.derived,
            exportable: request.exportable,
            allow_plaintext_backup: request.allow_plaintext_backup,
            auto_rotate_period: (request.auto_rotate_period_seconds as i64)
                .saturating_mul(1_000_000_000),
            ..Policy::default()
        };
        if request.derived {
            policy.kdf = KDF_HKDF;
            policy.convergent_encryption = request.convergent;
            if request.convergent {
                policy.convergent_version = -1;
            }
        }
        if request.key_type == KeyType::Hmac {
            policy.key_size = request.key_size;
        }
        policy.rotate(now)?;
        Ok(policy)
    }

    /// Adds version `latest + 1` with fresh material (`RotateInMemory`).
    pub fn rotate(&mut self, now: time::OffsetDateTime) -> Result<(), String> {
        let mut entry = KeyEntry {
            hmac_key: Some(crypto::random_bytes(32).to_vec()),
            time: timefmt::rfc3339_nanos(now),
            creation_time: now.unix_timestamp(),
            ..KeyEntry::default()
        };
        match self.key_type {
            key_type if key_type.is_symmetric() => {
                entry.key = Some(crypto::random_bytes(key_type.symmetric_key_bytes()).to_vec());
            }
            KeyType::Hmac => {
                let size = usize::try_from(self.key_size).unwrap_or(0);
                let key = crypto::random_bytes(size).to_vec();
                entry.hmac_key = Some(key.clone());
                entry.key = Some(key);
            }
            KeyType::Ed25519 => {
                let private = crypto::ed25519_generate();
                entry.public_key = gobase64::encode(&private[32..]);
                entry.key = Some(private.to_vec());
            }
            key_type if key_type.is_ecdsa() => {
                let key = ecdsa::generate(key_type)?;
                entry.public_key = ecdsa::public_pem(key_type, &key.x, &key.y)?;
                entry.ec_d = Some(bytes_number(&key.d));
                entry.ec_x = Some(bytes_number(&key.x));
                entry.ec_y = Some(bytes_number(&key.y));
            }
            key_type => {
                let key = rsa_keys::generate(key_type.rsa_bits())?;
                entry.rsa_key = Some(rsa_to_value(&key));
            }
        }
        if self.convergent_encryption
            && (self.convergent_version == -1 || self.convergent_version > 1)
        {
            entry.convergent_version = CONVERGENT_VERSION_CURRENT;
        }
        self.latest_version += 1;
        self.archive_version = self.latest_version;
        self.keys.insert(self.latest_version.to_string(), entry);
        if self.min_decryption_version == 0 {
            self.min_decryption_version = 1;
        }
        Ok(())
    }

    pub fn entry(&self, version: i64) -> Result<&KeyEntry, OpError> {
        self.keys
            .get(&version.to_string())
            .ok_or_else(|| user("no such key version"))
    }

    fn convergent_version_of(&self, version: i64) -> i64 {
        if !self.convergent_encryption {
            return 0;
        }
        let mut convergent = self.convergent_version;
        if convergent == 0 {
            convergent = 1;
        }
        if let Some(entry) = self.keys.get(&version.to_string())
            && entry.convergent_version != 0
        {
            convergent = entry.convergent_version;
        }
        convergent
    }

    /// `GetKey`: the version's bytes, or the derived key for `context`.
    pub fn key_bytes(
        &self,
        context: &[u8],
        version: i64,
        length: usize,
    ) -> Result<Zeroizing<Vec<u8>>, OpError> {
        if !self.derived {
            let entry = self.entry(version)?;
            return Ok(Zeroizing::new(entry.key.clone().unwrap_or_default()));
        }
        self.derive_key(context, version, length)
    }

    fn derive_key(
        &self,
        context: &[u8],
        version: i64,
        length: usize,
    ) -> Result<Zeroizing<Vec<u8>>, OpError> {
        if !self.key_type.derivation_supported() {
            return Err(user(format!(
                "derivation not supported for key type {}",
                self.key_type
            )));
        }
        if self.keys.is_empty() || self.latest_version == 0 {
            return Err(OpError::Internal(
                "unable to access the key; no key versions found".into(),
            ));
        }
        if version <= 0 || version > self.latest_version {
            return Err(user("invalid key version"));
        }
        let entry = self.entry(version)?;
        if context.is_empty() {
            return Err(user(
                "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
            ));
        }
        let ikm = entry.key.as_deref().unwrap_or_default();
        match self.kdf {
            KDF_COUNTER => Ok(crypto::counter_kdf_sha256(ikm, context)),
            KDF_HKDF => {
                if self.key_type == KeyType::Ed25519 {
                    let seed = crypto::hkdf_sha256(ikm, context, 32);
                    return Ok(crypto::ed25519_from_seed(&seed));
                }
                Ok(crypto::hkdf_sha256(ikm, context, length))
            }
            _ => Err(OpError::Internal("unsupported key derivation mode".into())),
        }
    }

    /// `EncryptWithFactory`: `vault:v<N>:` + base64 of the raw ciphertext.
    pub fn encrypt(
        &self,
        version: i64,
        context: &[u8],
        nonce: &[u8],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<String, OpError> {
        if !self.key_type.encryption_supported() {
            return Err(user(format!(
                "message encryption not supported for key type {}",
                self.key_type
            )));
        }
        let version = match version {
            0 => self.latest_version,
            v if v < 0 => return Err(user("requested version for encryption is negative")),
            v if v > self.latest_version => {
                return Err(user(
                    "requested version for encryption is higher than the latest key version",
                ));
            }
            v if v < self.min_encryption_version => {
                return Err(user(
                    "requested version for encryption is less than the minimum encryption key version",
                ));
            }
            v => v,
        };
        let raw = if self.key_type.is_rsa() {
            let entry = self.entry(version)?;
            let public = match (&entry.rsa_key, &entry.rsa_public_key) {
                (Some(private), _) => rsa_from_value(private)?.to_public_key(),
                (None, Some(public)) => rsa_public_from_value(public)?,
                (None, None) => return Err(OpError::Internal("missing RSA key".into())),
            };
            rsa_keys::oaep_encrypt(&public, plaintext).map_err(OpError::Plain)?
        } else {
            self.encrypt_symmetric(version, context, nonce, plaintext, aad)?
        };
        Ok(format!("{PREFIX}{version}:{}", gobase64::encode(&raw)))
    }

    fn encrypt_symmetric(
        &self,
        version: i64,
        context: &[u8],
        nonce: &[u8],
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, OpError> {
        let convergent = self.convergent_version_of(version);
        let enc_bytes = self.key_type.symmetric_key_bytes();
        let hmac_bytes = if convergent > 2 { 32 } else { 0 };
        if convergent > 2 && !nonce.is_empty() {
            return Err(user("nonce provided when not allowed"));
        }
        if convergent <= 2 && !nonce.is_empty() && (!self.convergent_encryption || convergent != 1)
        {
            return Err(user("nonce provided when not allowed"));
        }
        if self.convergent_encryption && convergent == 1 {
            return Err(OpError::Internal(
                "convergent encryption version 1 is not supported".into(),
            ));
        }
        let key = self.key_bytes(context, version, enc_bytes + hmac_bytes)?;
        if key.len() < enc_bytes + hmac_bytes {
            return Err(OpError::Internal(
                "could not derive key, length too small".into(),
            ));
        }
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        if self.convergent_encryption {
            let hmac_key: &[u8] = if convergent > 2 {
                &key[enc_bytes..enc_bytes + 32]
            } else {
                context
            };
            nonce_bytes.copy_from_slice(&crypto::hmac_sha256(hmac_key, plaintext)[..NONCE_BYTES]);
        } else {
            nonce_bytes.copy_from_slice(&crypto::random_bytes(NONCE_BYTES));
        }
        crypto::aead_seal(
            self.key_type,
            &key[..enc_bytes],
            &nonce_bytes,
            plaintext,
            aad,
        )
        .map_err(OpError::Internal)
    }

    /// `DecryptWithFactory`: the plaintext bytes.
    pub fn decrypt(
        &self,
        context: &[u8],
        ciphertext: &str,
        aad: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpError> {
        if !self.key_type.encryption_supported() {
            return Err(user(format!(
                "message decryption not supported for key type {}",
                self.key_type
            )));
        }
        let parts = split_versioned(ciphertext, "ciphertext")?;
        let version = if parts.version == 0 { 1 } else { parts.version };
        if version > self.latest_version {
            return Err(user("invalid ciphertext: version is too new"));
        }
        if self.min_decryption_version > 0 && version < self.min_decryption_version {
            return Err(user(ERR_TOO_OLD));
        }
        let decoded = gobase64::decode(parts.body)
            .map_err(|_| user("invalid ciphertext: could not decode base64"))?;
        if self.key_type.is_rsa() {
            let entry = self.entry(version)?;
            let private = entry.rsa_key.as_ref().ok_or_else(|| {
                user("requested version for decryption does not contain a private part")
            })?;
            let key = rsa_from_value(private)?;
            return rsa_keys::oaep_decrypt(&key, &decoded)
                .map(Zeroizing::new)
                .map_err(OpError::Plain);
        }
        let enc_bytes = self.key_type.symmetric_key_bytes();
        let key = self.key_bytes(context, version, enc_bytes)?;
        if key.len() < enc_bytes {
            return Err(OpError::Internal(
                "could not derive key, length too small".into(),
            ));
        }
        if self.convergent_encryption && self.convergent_version_of(version) == 1 {
            return Err(OpError::Internal(
                "convergent encryption version 1 is not supported".into(),
            ));
        }
        if decoded.len() < NONCE_BYTES {
            return Err(user("invalid ciphertext length"));
        }
        let (nonce, sealed) = decoded.split_at(NONCE_BYTES);
        crypto::aead_open(self.key_type, &key[..enc_bytes], nonce, sealed, aad).map_err(|error| {
            match error {
                Some(internal) => OpError::Internal(internal),
                None => OpError::Plain(crypto::aead_open_error(self.key_type).to_string()),
            }
        })
    }

    /// `HMACKey`.
    pub fn hmac_key(&self, version: i64) -> Result<Vec<u8>, String> {
        if version < 0 {
            return Err("key version does not exist (cannot be negative)".into());
        }
        if version > self.latest_version {
            return Err(format!(
                "key version does not exist; latest key version is {}",
                self.latest_version
            ));
        }
        let entry = self
            .entry(version)
            .map_err(|error| error.message().to_string())?;
        if self.key_type == KeyType::Hmac {
            return Ok(entry.key.clone().unwrap_or_default());
        }
        entry
            .hmac_key
            .clone()
            .ok_or_else(|| "no HMAC key exists for that key version".to_string())
    }

    /// `SignWithOptions`. `input` is the caller's bytes, `digest` what the handler hashed them to
    /// (the same bytes when prehashed or for Ed25519).
    pub fn sign(
        &self,
        version: i64,
        context: &[u8],
        input: &[u8],
        digest: &[u8],
        options: &SignOptions,
    ) -> Result<Signed, OpError> {
        if !self.key_type.signing_supported() {
            return Err(OpError::Plain(format!(
                "message signing not supported for key type {}",
                self.key_type
            )));
        }
        let version = match version {
            0 => self.latest_version,
            v if v < 0 => return Err(user("requested version for signing is negative")),
            v if v > self.latest_version => {
                return Err(user(
                    "requested version for signing is higher than the latest key version",
                ));
            }
            v if self.min_encryption_version > 0 && v < self.min_encryption_version => {
                return Err(user(
                    "requested version for signing is less than the minimum encryption key version",
                ));
            }
            v => v,
        };
        let entry = self.entry(version)?;
        let mut public_key = None;
        let signature = match self.key_type {
            key_type if key_type.is_ecdsa() => {
                if entry.ec_d.is_none() {
                    return Err(user(
                        "requested version for signing does not contain a private part",
                    ));
                }
                let d = number_bytes(&entry.ec_d)?;
                let (r, s) = ecdsa::sign(key_type, &d, digest).map_err(OpError::Plain)?;
                match options.jws {
                    true => [r, s].concat(),
                    false => ecdsa::der_encode(&r, &s),
                }
            }
            KeyType::Ed25519 => {
                let private = if self.derived {
                    let derived = self.key_bytes(context, version, 32).map_err(|error| {
                        OpError::Plain(format!("error deriving key: {}", error.message()))
                    })?;
                    public_key = Some(derived[32..].to_vec());
                    derived
                } else {
                    Zeroizing::new(entry.key.clone().unwrap_or_default())
                };
                if private.len() != 64 {
                    return Err(user(
                        "requested version for signing does not contain a private part",
                    ));
                }
                crypto::ed25519_sign(&private, input).map_err(OpError::Plain)?
            }
            _ => {
                let private = entry.rsa_key.as_ref().ok_or_else(|| {
                    user("requested version for signing does not contain a private part")
                })?;
                let key = rsa_from_value(private)?;
                match options.pss {
                    true => rsa_keys::sign_pss(&key, options.hash, digest, options.salt)
                        .map_err(OpError::Plain)?,
                    false => {
                        let message = (!options.prehashed).then_some(input);
                        rsa_keys::sign_pkcs1v15(&key, options.hash, message, digest)
                            .map_err(OpError::Plain)?
                    }
                }
            }
        };
        let encoded = match options.jws {
            true => gobase64::encode_url_raw(&signature),
            false => gobase64::encode(&signature),
        };
        Ok(Signed {
            signature: format!("{PREFIX}{version}:{encoded}"),
            public_key,
        })
    }

    /// `VerifySignatureWithOptions`.
    pub fn verify(
        &self,
        context: &[u8],
        digest: &[u8],
        signature: &str,
        options: &SignOptions,
    ) -> Result<bool, OpError> {
        if !self.key_type.signing_supported() {
            return Err(user(format!(
                "message verification not supported for key type {}",
                self.key_type
            )));
        }
        let parts = split_versioned(signature, "signature")?;
        let version = parts.version;
        if version > self.latest_version {
            return Err(user("invalid signature: version is too new"));
        }
        if self.min_decryption_version > 0 && version < self.min_decryption_version {
            return Err(user(ERR_TOO_OLD));
        }
        let bytes = match options.jws {
            true => gobase64::decode_url_raw(parts.body),
            false => gobase64::decode(parts.body),
        }
        .map_err(|_| user("invalid base64 signature value"))?;
        match self.key_type {
            key_type if key_type.is_ecdsa() => {
                let (r, s) = match options.jws {
                    true => {
                        let (r, s) = bytes.split_at(bytes.len() / 2);
                        (r.to_vec(), s.to_vec())
                    }
                    false => ecdsa::der_decode(&bytes).map_err(|trailing| match trailing {
                        true => user("supplied signature contains extra data"),
                        false => user("supplied signature is invalid"),
                    })?,
                };
                let entry = self.entry(version)?;
                let x = number_bytes(&entry.ec_x)?;
                let y = number_bytes(&entry.ec_y)?;
                Ok(ecdsa::verify(key_type, &x, &y, digest, &r, &s))
            }
            KeyType::Ed25519 => {
                let public = if self.derived {
                    let derived = self.key_bytes(context, version, 32).map_err(|error| {
                        OpError::Plain(format!("error deriving key: {}", error.message()))
                    })?;
                    derived[32..].to_vec()
                } else {
                    let entry = self.entry(version)?;
                    gobase64::decode(&entry.public_key).map_err(OpError::Plain)?
                };
                Ok(crypto::ed25519_verify(&public, digest, &bytes))
            }
            _ => {
                let entry = self.entry(version)?;
                let public = match (&entry.rsa_key, &entry.rsa_public_key) {
                    (Some(private), _) => rsa_from_value(private)?.to_public_key(),
                    (None, Some(public)) => rsa_public_from_value(public)?,
                    (None, None) => return Err(OpError::Internal("missing RSA key".into())),
                };
                Ok(match options.pss {
                    true => {
                        rsa_keys::verify_pss(&public, options.hash, digest, &bytes, options.salt)
                    }
                    false => rsa_keys::verify_pkcs1v15(&public, options.hash, digest, &bytes),
                })
            }
        }
    }

    /// The PEM (ECDSA, RSA) or base64 (Ed25519) public key of a version, as a read shows it.
    pub fn public_key_text(&self, entry: &KeyEntry) -> Result<String, OpError> {
        match self.key_type {
            key_type if key_type.is_rsa() => {
                let public = match (&entry.rsa_key, &entry.rsa_public_key) {
                    (Some(private), _) => rsa_from_value(private)?.to_public_key(),
                    (None, Some(public)) => rsa_public_from_value(public)?,
                    (None, None) => return Err(OpError::Internal("missing RSA key".into())),
                };
                rsa_keys::public_pem(&public).map_err(OpError::Internal)
            }
            key_type if key_type.is_ecdsa() && entry.public_key.is_empty() => {
                let x = number_bytes(&entry.ec_x)?;
                let y = number_bytes(&entry.ec_y)?;
                ecdsa::public_pem(key_type, &x, &y).map_err(OpError::Internal)
            }
            _ => Ok(entry.public_key.clone()),
        }
    }

    /// The private key in export format (`getExportKey`), `None` when the type has none.
    pub fn private_key_text(&self, entry: &KeyEntry) -> Result<String, OpError> {
        match self.key_type {
            key_type if key_type.is_rsa() => {
                let private = entry
                    .rsa_key
                    .as_ref()
                    .ok_or_else(|| OpError::Internal("missing RSA key".into()))?;
                rsa_keys::private_pem(&rsa_from_value(private)?).map_err(OpError::Internal)
            }
            key_type if key_type.is_ecdsa() => {
                let d = number_bytes(&entry.ec_d)?;
                ecdsa::private_pem(key_type, &d).map_err(OpError::Internal)
            }
            _ => Ok(gobase64::encode(entry.key.as_deref().unwrap_or_default())),
        }
    }

    /// RSA modulus bytes of a version (for salt-length checks).
    pub fn rsa_modulus_bytes(&self, version: i64) -> Option<usize> {
        let version = if version == 0 {
            self.latest_version
        } else {
            version
        };
        let entry = self.keys.get(&version.to_string())?;
        let private = entry.rsa_key.as_ref()?;
        value_big(private.get("N")).map(|n| n.bits().div_ceil(8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(key_type: KeyType, derived: bool, convergent: bool) -> Policy {
        Policy::create(
            NewPolicy {
                name: "k".into(),
                key_type,
                derived,
                convergent,
                exportable: false,
                allow_plaintext_backup: false,
                auto_rotate_period_seconds: 0,
                key_size: 32,
            },
            time::OffsetDateTime::UNIX_EPOCH,
        )
        .expect("create")
    }

    #[test]
    fn convergent_ciphertexts_repeat_and_decrypt() {
        // Goal: convergent v3 gives identical ciphertexts for equal (context, plaintext).
        let key = policy(KeyType::Aes256Gcm96, true, true);
        let one = key.encrypt(0, b"ctx", b"", b"data", b"").expect("encrypt");
        let two = key.encrypt(0, b"ctx", b"", b"data", b"").expect("encrypt");
        assert_eq!(one, two);
        let three = key
            .encrypt(0, b"other", b"", b"data", b"")
            .expect("encrypt");
        assert_ne!(one, three);
        assert_eq!(
            key.decrypt(b"ctx", &one, b"").expect("decrypt").as_slice(),
            b"data"
        );
        assert_eq!(
            key.decrypt(b"other", &one, b"").err(),
            Some(OpError::Plain(
                "cipher: message authentication failed".into()
            ))
        );
    }

    #[test]
    fn ciphertext_prefix_errors_are_vaults() {
        let key = policy(KeyType::ChaCha20Poly1305, false, false);
        let rows = [
            ("abc", "invalid ciphertext: no prefix"),
            ("vault:v1", "invalid ciphertext: wrong number of fields"),
            (
                "vault:vx:AAAA",
                "invalid ciphertext: version number could not be decoded",
            ),
            ("vault:v2:AAAA", "invalid ciphertext: version is too new"),
            ("vault:v1:!!", "invalid ciphertext: could not decode base64"),
            ("vault:v1:AAAA", "invalid ciphertext length"),
        ];
        for (input, message) in rows {
            assert_eq!(
                key.decrypt(b"", input, b"").err(),
                Some(user(message)),
                "{input}"
            );
        }
    }
}
