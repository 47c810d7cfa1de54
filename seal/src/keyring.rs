//! The barrier keyring and its JSON form at `core/keyring`, Vault's layout:
//! `{"MasterKey": b64, "Keys": [{"Term", "Version", "Value": b64, "InstallTime",
//! "encryptions"}], "RotationConfig": {"Disabled", "MaxOperations", "Interval"}}`.
//!
//! The JSON holds every key in base64, so each buffer that holds it is a `Zeroizing` one and
//! is sized up front so that it never reallocates (a reallocation would leave a copy behind).

use crate::error::SealError;
use crate::keys::{RootKey, TermKey};
use crate::limits::KEY_BYTES;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use zeroize::Zeroizing;

/// `sys/rotate/config`, kept in the keyring as Vault does. `interval_ns` is Go's
/// `time.Duration` (nanoseconds); 0 means "no time-based rotation".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationConfig {
    #[serde(rename = "Disabled", default)]
    pub disabled: bool,
    #[serde(rename = "MaxOperations", default)]
    pub max_operations: i64,
    #[serde(rename = "Interval", default)]
    pub interval_ns: i64,
}

/// One term: its key, the cipher built from it once (so the hot path does no key
/// schedule), and its metadata.
pub(crate) struct TermEntry {
    pub(crate) key: TermKey,
    pub(crate) cipher: Aes256Gcm,
    pub(crate) install_time: OffsetDateTime,
    /// The count stored in the keyring; the active term's live count is in the barrier.
    pub(crate) encryptions: u64,
}

impl TermEntry {
    pub(crate) fn new(key: TermKey, install_time: OffsetDateTime, encryptions: u64) -> Self {
        let cipher = cipher_for(key.as_bytes());
        TermEntry {
            key,
            cipher,
            install_time,
            encryptions,
        }
    }
}

pub(crate) fn cipher_for(key: &[u8; KEY_BYTES]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// Invariant: `terms` holds `active_term`, and `active_term` is its largest key.
pub(crate) struct Keyring {
    pub(crate) root_key: RootKey,
    pub(crate) active_term: u32,
    pub(crate) terms: BTreeMap<u32, TermEntry>,
    pub(crate) rotation_config: RotationConfig,
}

impl Keyring {
    pub(crate) fn new(root_key: RootKey, first: TermKey, install_time: OffsetDateTime) -> Self {
        let mut terms = BTreeMap::new();
        terms.insert(1, TermEntry::new(first, install_time, 0));
        Keyring {
            root_key,
            active_term: 1,
            terms,
            rotation_config: RotationConfig::default(),
        }
    }

    pub(crate) fn active(&self) -> &TermEntry {
        self.terms
            .get(&self.active_term)
            .expect("keyring invariant: the active term is present")
    }

    /// A copy with the active term's count set to `active_encryptions`.
    pub(crate) fn duplicate(&self, active_encryptions: u64) -> Keyring {
        let terms = self
            .terms
            .iter()
            .map(|(&term, entry)| {
                let encryptions = if term == self.active_term {
                    active_encryptions
                } else {
                    entry.encryptions
                };
                let copy = TermEntry::new(entry.key.duplicate(), entry.install_time, encryptions);
                (term, copy)
            })
            .collect();
        Keyring {
            root_key: self.root_key.duplicate(),
            active_term: self.active_term,
            terms,
            rotation_config: self.rotation_config,
        }
    }

    /// Adds `term` as the new active term.
    pub(crate) fn add_term(&mut self, term: u32, key: TermKey, install_time: OffsetDateTime) {
        assert!(term > self.active_term, "terms only grow");
        self.terms
            .insert(term, TermEntry::new(key, install_time, 0));
        self.active_term = term;
    }

    /// Serialises to Vault's keyring JSON; `active_encryptions` is the live count.
    pub(crate) fn to_json(&self, active_encryptions: u64) -> Result<Zeroizing<Vec<u8>>, SealError> {
        let master_key = self.root_key.to_base64();
        let values: Vec<Zeroizing<String>> = self
            .terms
            .values()
            .map(|entry| Zeroizing::new(STANDARD.encode(entry.key.as_bytes())))
            .collect();
        let mut keys = Vec::with_capacity(self.terms.len());
        for ((&term, entry), value) in self.terms.iter().zip(values.iter()) {
            let install_time = entry.install_time.format(&Rfc3339).map_err(|error| {
                SealError::Internal(format!("formatting install time: {error}"))
            })?;
            let encryptions = if term == self.active_term {
                active_encryptions
            } else {
                entry.encryptions
            };
            keys.push(TermJsonOut {
                term,
                version: 1,
                value: value.as_str(),
                install_time,
                encryptions,
            });
        }
        let json = KeyringJsonOut {
            master_key: master_key.as_str(),
            keys,
            rotation_config: self.rotation_config,
        };
        // Generous capacity so serde_json never reallocates a buffer holding keys.
        let mut out = Zeroizing::new(Vec::with_capacity(512 + 256 * self.terms.len()));
        let capacity = out.capacity();
        serde_json::to_writer(&mut *out, &json)
            .map_err(|error| SealError::Internal(format!("encoding keyring: {error}")))?;
        assert_eq!(
            out.capacity(),
            capacity,
            "keyring JSON buffer never reallocates"
        );
        Ok(out)
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Result<Keyring, SealError> {
        let corrupt = |reason: &'static str| SealError::Corrupt {
            path: crate::KEYRING_PATH.to_string(),
            reason,
        };
        let json: KeyringJsonIn<'_> =
            serde_json::from_slice(bytes).map_err(|_| corrupt("keyring is not valid JSON"))?;
        let master_key = decode_key(json.master_key).ok_or(corrupt("bad MasterKey"))?;
        let root_key =
            RootKey::from_slice(&master_key[..]).map_err(|_| corrupt("bad MasterKey"))?;
        let mut terms = BTreeMap::new();
        for entry in json.keys {
            let value = decode_key(entry.value).ok_or(corrupt("bad term key"))?;
            let key = TermKey::from_slice(&value[..]).map_err(|_| corrupt("bad term key"))?;
            let install_time = OffsetDateTime::parse(&entry.install_time, &Rfc3339)
                .map_err(|_| corrupt("bad InstallTime"))?;
            if entry.term == 0 || terms.contains_key(&entry.term) {
                return Err(corrupt("bad or duplicate term"));
            }
            terms.insert(
                entry.term,
                TermEntry::new(key, install_time, entry.encryptions),
            );
        }
        let Some(&active_term) = terms.keys().next_back() else {
            return Err(corrupt("keyring has no terms"));
        };
        Ok(Keyring {
            root_key,
            active_term,
            terms,
            rotation_config: json.rotation_config,
        })
    }
}

/// Decodes one base64 key of exactly 32 bytes into a zeroizing buffer.
fn decode_key(text: &str) -> Option<Zeroizing<[u8; KEY_BYTES]>> {
    let mut buffer = Zeroizing::new([0u8; KEY_BYTES + 16]);
    let length = STANDARD.decode_slice(text, &mut buffer[..]).ok()?;
    if length != KEY_BYTES {
        return None;
    }
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    key.copy_from_slice(&buffer[..KEY_BYTES]);
    Some(key)
}

/// Vault's `Key` JSON, as stored at `core/root-key` ([Vault] `core/master`).
pub(crate) fn root_key_json(
    root_key: &RootKey,
    install_time: OffsetDateTime,
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let value = root_key.to_base64();
    let install_time = install_time
        .format(&Rfc3339)
        .map_err(|error| SealError::Internal(format!("formatting install time: {error}")))?;
    let json = TermJsonOut {
        term: 1,
        version: 1,
        value: value.as_str(),
        install_time,
        encryptions: 0,
    };
    let mut out = Zeroizing::new(Vec::with_capacity(512));
    let capacity = out.capacity();
    serde_json::to_writer(&mut *out, &json)
        .map_err(|error| SealError::Internal(format!("encoding root key: {error}")))?;
    assert_eq!(
        out.capacity(),
        capacity,
        "root key JSON buffer never reallocates"
    );
    Ok(out)
}

/// Parses `core/root-key`'s JSON back to the key.
pub(crate) fn root_key_from_json(bytes: &[u8]) -> Result<RootKey, SealError> {
    let corrupt = || SealError::Corrupt {
        path: crate::ROOT_KEY_PATH.to_string(),
        reason: "bad root key entry",
    };
    let json: TermJsonIn<'_> = serde_json::from_slice(bytes).map_err(|_| corrupt())?;
    let key = decode_key(json.value).ok_or_else(corrupt)?;
    RootKey::from_slice(&key[..])
}

#[derive(Serialize)]
struct KeyringJsonOut<'a> {
    #[serde(rename = "MasterKey")]
    master_key: &'a str,
    #[serde(rename = "Keys")]
    keys: Vec<TermJsonOut<'a>>,
    #[serde(rename = "RotationConfig")]
    rotation_config: RotationConfig,
}

#[derive(Serialize)]
struct TermJsonOut<'a> {
    #[serde(rename = "Term")]
    term: u32,
    #[serde(rename = "Version")]
    version: i64,
    #[serde(rename = "Value")]
    value: &'a str,
    #[serde(rename = "InstallTime")]
    install_time: String,
    encryptions: u64,
}

#[derive(Deserialize)]
struct KeyringJsonIn<'a> {
    #[serde(rename = "MasterKey", borrow)]
    master_key: &'a str,
    #[serde(rename = "Keys", borrow)]
    keys: Vec<TermJsonIn<'a>>,
    #[serde(rename = "RotationConfig", default)]
    rotation_config: RotationConfig,
}

#[derive(Deserialize)]
struct TermJsonIn<'a> {
    #[serde(rename = "Term")]
    term: u32,
    // Vault writes "Version": 1; it carries no meaning for us.
    #[serde(rename = "Value", borrow)]
    value: &'a str,
    #[serde(rename = "InstallTime")]
    install_time: String,
    #[serde(default)]
    encryptions: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_json_round_trips_in_vaults_layout() {
        let now = OffsetDateTime::now_utc();
        let mut keyring = Keyring::new(RootKey::generate(), TermKey::generate(), now);
        keyring.add_term(2, TermKey::generate(), now);
        let json = keyring.to_json(42).expect("encodes");
        let value: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
        assert!(value["MasterKey"].is_string());
        assert_eq!(value["Keys"][1]["Term"], 2);
        assert_eq!(value["Keys"][1]["Version"], 1);
        assert_eq!(value["Keys"][1]["encryptions"], 42);
        assert!(value["Keys"][0]["InstallTime"].is_string());
        assert_eq!(value["RotationConfig"]["Disabled"], false);

        let parsed = Keyring::from_json(&json).expect("decodes");
        assert_eq!(parsed.active_term, 2);
        assert!(parsed.root_key.ct_eq(&keyring.root_key));
        assert!(parsed.terms[&1].key.ct_eq(&keyring.terms[&1].key));
        assert_eq!(parsed.active().encryptions, 42);
        assert_eq!(parsed.terms[&1].install_time, now);
    }

    #[test]
    fn keyring_json_rejects_damage() {
        assert!(Keyring::from_json(b"not json").is_err());
        assert!(Keyring::from_json(br#"{"MasterKey":"AAAA","Keys":[]}"#).is_err());
        let root = RootKey::generate();
        let text = format!(
            r#"{{"MasterKey":"{}","Keys":[]}}"#,
            root.to_base64().as_str()
        );
        assert!(Keyring::from_json(text.as_bytes()).is_err(), "no terms");
    }

    #[test]
    fn root_key_json_round_trips() {
        let root = RootKey::generate();
        let json = root_key_json(&root, OffsetDateTime::now_utc()).expect("encodes");
        assert!(root_key_from_json(&json).expect("decodes").ct_eq(&root));
    }
}
