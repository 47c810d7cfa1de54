//! The primitives behind transit, each in Vault's exact byte layout: AEAD (ring), HKDF and the
//! legacy counter-mode KDF, the hash menu, Ed25519 (ring), ECDSA (RustCrypto, digest-level as
//! Go's `ecdsa.Sign`), and RSA (the `rsa` crate for key generation, OAEP and PSS; ring for
//! PKCS#1 v1.5 signatures).
//!
//! Nothing here knows policies or versions; `policy.rs` picks the key bytes.

use crate::key_type::KeyType;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::Digest;
use zeroize::Zeroizing;

pub const NONCE_BYTES: usize = 12;

pub fn random_bytes(count: usize) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(vec![0u8; count]);
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The hash names Vault accepts (`keysutil.HashTypeMap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    None,
    Sha1,
    Sha2_224,
    Sha2_256,
    Sha2_384,
    Sha2_512,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl HashAlgorithm {
    pub fn parse(name: &str) -> Option<HashAlgorithm> {
        Some(match name {
            "none" => HashAlgorithm::None,
            "sha1" => HashAlgorithm::Sha1,
            "sha2-224" => HashAlgorithm::Sha2_224,
            "sha2-256" => HashAlgorithm::Sha2_256,
            "sha2-384" => HashAlgorithm::Sha2_384,
            "sha2-512" => HashAlgorithm::Sha2_512,
            "sha3-224" => HashAlgorithm::Sha3_224,
            "sha3-256" => HashAlgorithm::Sha3_256,
            "sha3-384" => HashAlgorithm::Sha3_384,
            "sha3-512" => HashAlgorithm::Sha3_512,
            _ => return None,
        })
    }

    /// The digest of `input`; `None` for `none` (the input is used as is).
    pub fn digest(self, input: &[u8]) -> Option<Vec<u8>> {
        Some(match self {
            HashAlgorithm::None => return None,
            HashAlgorithm::Sha1 => sha1::Sha1::digest(input).to_vec(),
            HashAlgorithm::Sha2_224 => sha2::Sha224::digest(input).to_vec(),
            HashAlgorithm::Sha2_256 => sha2::Sha256::digest(input).to_vec(),
            HashAlgorithm::Sha2_384 => sha2::Sha384::digest(input).to_vec(),
            HashAlgorithm::Sha2_512 => sha2::Sha512::digest(input).to_vec(),
            HashAlgorithm::Sha3_224 => sha3::Sha3_224::digest(input).to_vec(),
            HashAlgorithm::Sha3_256 => sha3::Sha3_256::digest(input).to_vec(),
            HashAlgorithm::Sha3_384 => sha3::Sha3_384::digest(input).to_vec(),
            HashAlgorithm::Sha3_512 => sha3::Sha3_512::digest(input).to_vec(),
        })
    }

    /// HMAC of `input` under `key`; `None` for `none`.
    pub fn hmac(self, key: &[u8], input: &[u8]) -> Option<Vec<u8>> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .expect("HMAC accepts a key of any length");
            mac.update(input);
            mac.finalize().into_bytes().to_vec()
        }
        Some(match self {
            HashAlgorithm::None => return None,
            HashAlgorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, input),
            HashAlgorithm::Sha2_224 => run::<Hmac<sha2::Sha224>>(key, input),
            HashAlgorithm::Sha2_256 => run::<Hmac<sha2::Sha256>>(key, input),
            HashAlgorithm::Sha2_384 => run::<Hmac<sha2::Sha384>>(key, input),
            HashAlgorithm::Sha2_512 => run::<Hmac<sha2::Sha512>>(key, input),
            HashAlgorithm::Sha3_224 => run::<Hmac<sha3::Sha3_224>>(key, input),
            HashAlgorithm::Sha3_256 => run::<Hmac<sha3::Sha3_256>>(key, input),
            HashAlgorithm::Sha3_384 => run::<Hmac<sha3::Sha3_384>>(key, input),
            HashAlgorithm::Sha3_512 => run::<Hmac<sha3::Sha3_512>>(key, input),
        })
    }
}

pub fn hmac_sha256(key: &[u8], input: &[u8]) -> Vec<u8> {
    HashAlgorithm::Sha2_256
        .hmac(key, input)
        .expect("sha2-256 is a hash")
}

/// HKDF-SHA256 with an empty salt, as Vault's `hkdf.New(sha256.New, key, nil, context)`.
pub fn hkdf_sha256(ikm: &[u8], info: &[u8], length: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0u8; length]);
    hkdf::Hkdf::<sha2::Sha256>::new(None, ikm)
        .expand(info, &mut out)
        .expect("transit derives at most 64 bytes, far below HKDF's limit");
    out
}

/// NIST SP 800-108 counter mode with HMAC-SHA256, 256 bits (Vault's legacy `kdf` 0).
pub fn counter_kdf_sha256(key: &[u8], context: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut input = Vec::with_capacity(context.len() + 8);
    input.extend_from_slice(&0u32.to_be_bytes());
    input.extend_from_slice(context);
    input.extend_from_slice(&256u32.to_be_bytes());
    Zeroizing::new(hmac_sha256(key, &input))
}

fn aead_algorithm(key_type: KeyType) -> &'static aead::Algorithm {
    match key_type {
        KeyType::Aes128Gcm96 => &aead::AES_128_GCM,
        KeyType::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        _ => &aead::AES_256_GCM,
    }
}

/// Go's `aead.Open` failure text, which Vault returns verbatim.
pub fn aead_open_error(key_type: KeyType) -> &'static str {
    match key_type {
        KeyType::ChaCha20Poly1305 => "chacha20poly1305: message authentication failed",
        _ => "cipher: message authentication failed",
    }
}

fn aead_key(key_type: KeyType, key: &[u8]) -> Result<LessSafeKey, String> {
    UnboundKey::new(aead_algorithm(key_type), key)
        .map(LessSafeKey::new)
        .map_err(|_| format!("invalid key size {} for {key_type}", key.len()))
}

/// `nonce || ciphertext || tag`.
pub fn aead_seal(
    key_type: KeyType,
    key: &[u8],
    nonce: &[u8; NONCE_BYTES],
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, String> {
    let sealing = aead_key(key_type, key)?;
    let mut out = Vec::with_capacity(NONCE_BYTES + plaintext.len() + 16);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(NONCE_BYTES);
    sealing
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| "sealing failed".to_string())?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Opens `ciphertext || tag` under `nonce`; `Err(None)` is an authentication failure.
pub fn aead_open(
    key_type: KeyType,
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Option<String>> {
    let opening = aead_key(key_type, key).map_err(Some)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| None)?;
    let mut buffer = Zeroizing::new(sealed.to_vec());
    let length = opening
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| None)?
        .len();
    buffer.truncate(length);
    Ok(buffer)
}

/// A fresh Ed25519 key as Vault stores it: `seed || public` (Go's `ed25519.PrivateKey`).
pub fn ed25519_generate() -> Zeroizing<Vec<u8>> {
    ed25519_from_seed(&random_bytes(32))
}

pub fn ed25519_from_seed(seed: &[u8]) -> Zeroizing<Vec<u8>> {
    let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("a seed is 32 bytes");
    let mut key = Zeroizing::new(seed.to_vec());
    key.extend_from_slice(pair.public_key().as_ref());
    key
}

/// Signs with the first 32 bytes (the seed) of a Go private key.
pub fn ed25519_sign(private: &[u8], message: &[u8]) -> Result<Vec<u8>, String> {
    let seed = private.get(..32).ok_or("ed25519: bad private key length")?;
    let pair = Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_| "ed25519: bad private key".to_string())?;
    Ok(pair.sign(message).as_ref().to_vec())
}

pub fn ed25519_verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    public.len() == 32
        && UnparsedPublicKey::new(&ED25519, public)
            .verify(message, signature)
            .is_ok()
}

pub mod ecdsa {
    //! ECDSA over the digest the handler computed, with Go's treatment of its length: longer
    //! digests are truncated to the field size, shorter ones read as a smaller number.

    use crate::key_type::KeyType;
    use p256::pkcs8::{EncodePublicKey, LineEnding};

    use rand::rngs::OsRng;
    use signature_traits::{PrehashSigner, PrehashVerifier};

    mod signature_traits {
        pub use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
    }

    /// Raw parts as Vault stores them (big-endian, no leading zeros needed).
    pub struct EcKey {
        pub d: Vec<u8>,
        pub x: Vec<u8>,
        pub y: Vec<u8>,
    }

    fn fit(digest: &[u8], size: usize) -> Vec<u8> {
        if digest.len() >= size {
            return digest[..size].to_vec();
        }
        let mut padded = vec![0u8; size - digest.len()];
        padded.extend_from_slice(digest);
        padded
    }

    fn pad(bytes: &[u8], size: usize) -> Result<Vec<u8>, String> {
        if bytes.len() > size {
            return Err("ecdsa: value too large".to_string());
        }
        Ok(fit(bytes, size))
    }

    macro_rules! curve {
        ($name:ident, $krate:ident) => {
            pub mod $name {
                use super::*;
                use $krate::ecdsa::{Signature, SigningKey, VerifyingKey};

                pub fn generate() -> EcKey {
                    let signing = SigningKey::random(&mut OsRng);
                    let point = VerifyingKey::from(&signing).to_encoded_point(false);
                    EcKey {
                        d: signing.to_bytes().to_vec(),
                        x: point.x().expect("uncompressed point").to_vec(),
                        y: point.y().expect("uncompressed point").to_vec(),
                    }
                }

                fn signing_key(d: &[u8]) -> Result<SigningKey, String> {
                    SigningKey::from_slice(&pad(d, FIELD)?)
                        .map_err(|_| "ecdsa: invalid private key".to_string())
                }

                fn verifying_key(x: &[u8], y: &[u8]) -> Result<VerifyingKey, String> {
                    let mut sec1 = vec![4u8];
                    sec1.extend_from_slice(&pad(x, FIELD)?);
                    sec1.extend_from_slice(&pad(y, FIELD)?);
                    VerifyingKey::from_sec1_bytes(&sec1)
                        .map_err(|_| "ecdsa: invalid public key".to_string())
                }

                const FIELD: usize = core::mem::size_of::<$krate::FieldBytes>();

                /// `(r, s)` as fixed-width big-endian scalars.
                pub fn sign(d: &[u8], digest: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
                    let signature: Signature = signing_key(d)?
                        .sign_prehash(&fit(digest, FIELD))
                        .map_err(|error| format!("ecdsa: {error}"))?;
                    let (r, s) = signature.split_bytes();
                    Ok((r.to_vec(), s.to_vec()))
                }

                pub fn verify(x: &[u8], y: &[u8], digest: &[u8], r: &[u8], s: &[u8]) -> bool {
                    let Ok(key) = verifying_key(x, y) else {
                        return false;
                    };
                    let (Ok(r), Ok(s)) = (pad(r, FIELD), pad(s, FIELD)) else {
                        return false;
                    };
                    let Ok(signature) = Signature::from_scalars(
                        *$krate::FieldBytes::from_slice(&r),
                        *$krate::FieldBytes::from_slice(&s),
                    ) else {
                        return false;
                    };
                    key.verify_prehash(&fit(digest, FIELD), &signature).is_ok()
                }

                /// PKIX `PUBLIC KEY` PEM with a final newline, as Go's `pem.EncodeToMemory`.
                pub fn public_pem(x: &[u8], y: &[u8]) -> Result<String, String> {
                    let point = verifying_key(x, y)?.to_encoded_point(false);
                    $krate::PublicKey::from_sec1_bytes(point.as_bytes())
                        .map_err(|_| "ecdsa: invalid public key".to_string())?
                        .to_public_key_pem(LineEnding::LF)
                        .map_err(|error| format!("ecdsa: {error}"))
                }

                /// SEC 1 `EC PRIVATE KEY` PEM, as Go's `x509.MarshalECPrivateKey` writes it
                /// (named-curve parameters and the public key included), trimmed as Vault does.
                pub fn private_pem(d: &[u8], oid: &[u8]) -> Result<String, String> {
                    let signing = signing_key(d)?;
                    let point = VerifyingKey::from(&signing).to_encoded_point(false);
                    Ok(sec1_pem(&pad(d, FIELD)?, oid, point.as_bytes()))
                }
            }
        };
    }

    curve!(p256_curve, p256);
    curve!(p384_curve, p384);
    curve!(p521_curve, p521);

    pub fn generate(key_type: KeyType) -> Result<EcKey, String> {
        match key_type {
            KeyType::EcdsaP256 => Ok(p256_curve::generate()),
            KeyType::EcdsaP384 => Ok(p384_curve::generate()),
            KeyType::EcdsaP521 => Ok(p521_curve::generate()),
            other => Err(unsupported(other)),
        }
    }

    pub fn unsupported(key_type: KeyType) -> String {
        format!("key type {key_type} is not an ECDSA type")
    }

    pub fn sign(key_type: KeyType, d: &[u8], digest: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
        match key_type {
            KeyType::EcdsaP256 => p256_curve::sign(d, digest),
            KeyType::EcdsaP384 => p384_curve::sign(d, digest),
            KeyType::EcdsaP521 => p521_curve::sign(d, digest),
            other => Err(unsupported(other)),
        }
    }

    pub fn verify(
        key_type: KeyType,
        x: &[u8],
        y: &[u8],
        digest: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> bool {
        match key_type {
            KeyType::EcdsaP256 => p256_curve::verify(x, y, digest, r, s),
            KeyType::EcdsaP384 => p384_curve::verify(x, y, digest, r, s),
            KeyType::EcdsaP521 => p521_curve::verify(x, y, digest, r, s),
            _ => false,
        }
    }

    pub fn public_pem(key_type: KeyType, x: &[u8], y: &[u8]) -> Result<String, String> {
        match key_type {
            KeyType::EcdsaP256 => p256_curve::public_pem(x, y),
            KeyType::EcdsaP384 => p384_curve::public_pem(x, y),
            KeyType::EcdsaP521 => p521_curve::public_pem(x, y),
            other => Err(unsupported(other)),
        }
    }

    pub fn private_pem(key_type: KeyType, d: &[u8]) -> Result<String, String> {
        match key_type {
            KeyType::EcdsaP256 => p256_curve::private_pem(d, &P256_OID),
            KeyType::EcdsaP384 => p384_curve::private_pem(d, &P384_OID),
            KeyType::EcdsaP521 => p521_curve::private_pem(d, &P521_OID),
            other => Err(unsupported(other)),
        }
    }

    /// DER of the curves' object identifiers (prime256v1, secp384r1, secp521r1).
    const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    const P521_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

    fn tagged(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend(length(body.len()));
        out.extend_from_slice(body);
        out
    }

    /// `ECPrivateKey ::= SEQUENCE { 1, OCTET STRING d, [0] curve, [1] BIT STRING point }`.
    fn sec1_pem(d: &[u8], oid: &[u8], point: &[u8]) -> String {
        let mut body = vec![0x02, 0x01, 0x01];
        body.extend(tagged(0x04, d));
        body.extend(tagged(0xa0, oid));
        let mut bits = vec![0u8];
        bits.extend_from_slice(point);
        body.extend(tagged(0xa1, &tagged(0x03, &bits)));
        let der = tagged(0x30, &body);
        let encoded = crate::gobase64::encode(&der);
        let mut pem = String::from("-----BEGIN EC PRIVATE KEY-----\n");
        for chunk in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END EC PRIVATE KEY-----");
        pem
    }

    /// DER `SEQUENCE { INTEGER r, INTEGER s }` (Go's `asn1.Marshal(ecdsaSignature)`).
    pub fn der_encode(r: &[u8], s: &[u8]) -> Vec<u8> {
        fn integer(value: &[u8]) -> Vec<u8> {
            let trimmed: Vec<u8> = value
                .iter()
                .copied()
                .skip_while(|byte| *byte == 0)
                .collect();
            let mut body = if trimmed.is_empty() { vec![0] } else { trimmed };
            if body[0] & 0x80 != 0 {
                body.insert(0, 0);
            }
            let mut out = vec![0x02];
            out.extend(length(body.len()));
            out.extend(body);
            out
        }
        let mut body = integer(r);
        body.extend(integer(s));
        let mut out = vec![0x30];
        out.extend(length(body.len()));
        out.extend(body);
        out
    }

    fn length(length: usize) -> Vec<u8> {
        match length {
            0..=127 => vec![length as u8],
            128..=255 => vec![0x81, length as u8],
            _ => vec![0x82, (length >> 8) as u8, length as u8],
        }
    }

    /// Parses `SEQUENCE { INTEGER r, INTEGER s }`; `Err(true)` when bytes follow it.
    pub fn der_decode(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), bool> {
        fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
            let (&first, rest) = input.split_first()?;
            if first != tag {
                return None;
            }
            let (&len0, rest) = rest.split_first()?;
            let (length, rest) = match len0 {
                0..=127 => (len0 as usize, rest),
                0x81 => {
                    let (&len1, rest) = rest.split_first()?;
                    (len1 as usize, rest)
                }
                0x82 => {
                    let bytes = rest.get(..2)?;
                    ((bytes[0] as usize) << 8 | bytes[1] as usize, &rest[2..])
                }
                _ => return None,
            };
            let body = rest.get(..length)?;
            Some((body, &rest[length..]))
        }
        let (sequence, trailing) = read(der, 0x30).ok_or(false)?;
        let (r, rest) = read(sequence, 0x02).ok_or(false)?;
        let (s, rest) = read(rest, 0x02).ok_or(false)?;
        if !rest.is_empty() || r.is_empty() || s.is_empty() {
            return Err(false);
        }
        if !trailing.is_empty() {
            return Err(true);
        }
        let strip = |value: &[u8]| {
            value
                .iter()
                .copied()
                .skip_while(|byte| *byte == 0)
                .collect()
        };
        Ok((strip(r), strip(s)))
    }
}

pub mod rsa_keys {
    //! RSA in Vault's shapes. Key generation, OAEP and PSS use the `rsa` crate (blinded private
    //! operations); PKCS#1 v1.5 signatures over a message use ring. The `rsa` crate's OAEP
    //! decryption is the one private operation exposed to the Marvin timing attack (deps.md).

    use super::HashAlgorithm;
    use rand::rngs::OsRng;
    use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
    use rsa::pkcs8::EncodePublicKey;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use rsa::{BigUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};

    pub fn generate(bits: usize) -> Result<RsaPrivateKey, String> {
        RsaPrivateKey::new(&mut OsRng, bits).map_err(|error| format!("rsa: {error}"))
    }

    pub fn public_pem(key: &RsaPublicKey) -> Result<String, String> {
        key.to_public_key_pem(LineEnding::LF)
            .map_err(|error| format!("rsa: {error}"))
    }

    pub fn private_pem(key: &RsaPrivateKey) -> Result<String, String> {
        key.to_pkcs1_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|error| format!("rsa: {error}"))
    }

    pub fn oaep_encrypt(key: &RsaPublicKey, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        key.encrypt(&mut OsRng, Oaep::new::<sha2::Sha256>(), plaintext)
            .map_err(|error| format!("failed to RSA encrypt the plaintext: {error}"))
    }

    pub fn oaep_decrypt(key: &RsaPrivateKey, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        key.decrypt_blinded(&mut OsRng, Oaep::new::<sha2::Sha256>(), ciphertext)
            .map_err(|_| {
                "failed to RSA decrypt the ciphertext: crypto/rsa: decryption error".to_string()
            })
    }

    fn ring_pkcs1(hash: HashAlgorithm) -> Option<&'static dyn ring::signature::RsaEncoding> {
        match hash {
            HashAlgorithm::Sha2_256 => Some(&ring::signature::RSA_PKCS1_SHA256),
            HashAlgorithm::Sha2_384 => Some(&ring::signature::RSA_PKCS1_SHA384),
            HashAlgorithm::Sha2_512 => Some(&ring::signature::RSA_PKCS1_SHA512),
            _ => None,
        }
    }

    fn pkcs1_scheme(hash: HashAlgorithm) -> Pkcs1v15Sign {
        match hash {
            HashAlgorithm::None => Pkcs1v15Sign::new_unprefixed(),
            HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            HashAlgorithm::Sha2_224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
            HashAlgorithm::Sha2_256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            HashAlgorithm::Sha2_384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            HashAlgorithm::Sha2_512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
            HashAlgorithm::Sha3_224 => Pkcs1v15Sign::new::<sha3::Sha3_224>(),
            HashAlgorithm::Sha3_256 => Pkcs1v15Sign::new::<sha3::Sha3_256>(),
            HashAlgorithm::Sha3_384 => Pkcs1v15Sign::new::<sha3::Sha3_384>(),
            HashAlgorithm::Sha3_512 => Pkcs1v15Sign::new::<sha3::Sha3_512>(),
        }
    }

    fn pss_scheme(hash: HashAlgorithm, salt: usize) -> Option<Pss> {
        Some(match hash {
            HashAlgorithm::None => return None,
            HashAlgorithm::Sha1 => Pss::new_with_salt::<sha1::Sha1>(salt),
            HashAlgorithm::Sha2_224 => Pss::new_with_salt::<sha2::Sha224>(salt),
            HashAlgorithm::Sha2_256 => Pss::new_with_salt::<sha2::Sha256>(salt),
            HashAlgorithm::Sha2_384 => Pss::new_with_salt::<sha2::Sha384>(salt),
            HashAlgorithm::Sha2_512 => Pss::new_with_salt::<sha2::Sha512>(salt),
            HashAlgorithm::Sha3_224 => Pss::new_with_salt::<sha3::Sha3_224>(salt),
            HashAlgorithm::Sha3_256 => Pss::new_with_salt::<sha3::Sha3_256>(salt),
            HashAlgorithm::Sha3_384 => Pss::new_with_salt::<sha3::Sha3_384>(salt),
            HashAlgorithm::Sha3_512 => Pss::new_with_salt::<sha3::Sha3_512>(salt),
        })
    }

    /// Go's `PSSSaltLengthAuto` when signing: the largest salt that fits.
    pub fn pss_max_salt(key: &RsaPublicKey, hash_bytes: usize) -> usize {
        let em_bytes = (key.n().bits() - 1).div_ceil(8);
        em_bytes.saturating_sub(hash_bytes + 2)
    }

    /// `salt`: `Some(n)` explicit, `None` for Go's auto (maximum) salt.
    pub fn sign_pss(
        key: &RsaPrivateKey,
        hash: HashAlgorithm,
        digest: &[u8],
        salt: Option<usize>,
    ) -> Result<Vec<u8>, String> {
        let salt = salt.unwrap_or_else(|| pss_max_salt(&key.to_public_key(), digest.len()));
        let scheme =
            pss_scheme(hash, salt).ok_or("requested hash algorithm is not supported for PSS")?;
        key.sign_with_rng(&mut OsRng, scheme, digest)
            .map_err(|error| format!("rsa: {error}"))
    }

    /// PKCS#1 v1.5. `message` is the unhashed input when the server hashes it, which lets ring
    /// sign; a caller-hashed digest goes through the `rsa` crate's blinded signer.
    pub fn sign_pkcs1v15(
        key: &RsaPrivateKey,
        hash: HashAlgorithm,
        message: Option<&[u8]>,
        digest: &[u8],
    ) -> Result<Vec<u8>, String> {
        if let (Some(message), Some(encoding)) = (message, ring_pkcs1(hash)) {
            let der = key
                .to_pkcs1_der()
                .map_err(|error| format!("rsa: {error}"))?;
            let pair = ring::signature::RsaKeyPair::from_der(der.as_bytes())
                .map_err(|error| format!("rsa: {error}"))?;
            let mut signature = vec![0u8; pair.public().modulus_len()];
            pair.sign(
                encoding,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| "rsa: signing failed".to_string())?;
            return Ok(signature);
        }
        key.sign_with_rng(&mut OsRng, pkcs1_scheme(hash), digest)
            .map_err(|error| format!("rsa: {error}"))
    }

    pub fn verify_pkcs1v15(
        key: &RsaPublicKey,
        hash: HashAlgorithm,
        digest: &[u8],
        signature: &[u8],
    ) -> bool {
        key.verify(pkcs1_scheme(hash), digest, signature).is_ok()
    }

    /// PSS verification; `salt` `None` detects the salt length as Go's `PSSSaltLengthAuto`.
    pub fn verify_pss(
        key: &RsaPublicKey,
        hash: HashAlgorithm,
        digest: &[u8],
        signature: &[u8],
        salt: Option<usize>,
    ) -> bool {
        if hash == HashAlgorithm::None || signature.len() != key.size() {
            return false;
        }
        let m = BigUint::from_bytes_be(signature);
        if &m >= key.n() {
            return false;
        }
        let em_bits = key.n().bits() - 1;
        let em_len = em_bits.div_ceil(8);
        let em_value = m.modpow(key.e(), key.n()).to_bytes_be();
        if em_value.len() > em_len {
            return false;
        }
        let mut em = vec![0u8; em_len - em_value.len()];
        em.extend_from_slice(&em_value);
        pss_verify_encoded(hash, digest, &em, em_bits, salt)
    }

    /// EMSA-PSS-VERIFY (RFC 8017 §9.1.2), as Go's `emsaPSSVerify`.
    fn pss_verify_encoded(
        hash: HashAlgorithm,
        digest: &[u8],
        em: &[u8],
        em_bits: usize,
        salt: Option<usize>,
    ) -> bool {
        let h_len = digest.len();
        let em_len = em.len();
        if em_len < h_len + 2 || em[em_len - 1] != 0xbc {
            return false;
        }
        let (masked_db, rest) = em.split_at(em_len - h_len - 1);
        let h = &rest[..h_len];
        let top_bits = 8 * em_len - em_bits;
        if top_bits > 0 && masked_db[0] >> (8 - top_bits) != 0 {
            return false;
        }
        let mask = mgf1(hash, h, masked_db.len());
        let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
        if top_bits > 0 {
            db[0] &= 0xff >> top_bits;
        }
        let separator = match salt {
            None => match db.iter().position(|byte| *byte != 0) {
                Some(index) if db[index] == 0x01 => index,
                _ => return false,
            },
            Some(salt) => {
                if em_len < h_len + salt + 2 {
                    return false;
                }
                let index = em_len - h_len - salt - 2;
                if db[..index].iter().any(|byte| *byte != 0) || db[index] != 0x01 {
                    return false;
                }
                index
            }
        };
        let salt_bytes = &db[separator + 1..];
        let mut prime = vec![0u8; 8];
        prime.extend_from_slice(digest);
        prime.extend_from_slice(salt_bytes);
        match hash.digest(&prime) {
            Some(expected) => subtle::ConstantTimeEq::ct_eq(expected.as_slice(), h).into(),
            None => false,
        }
    }

    fn mgf1(hash: HashAlgorithm, seed: &[u8], length: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(length + 64);
        let mut counter: u32 = 0;
        while out.len() < length {
            let mut input = seed.to_vec();
            input.extend_from_slice(&counter.to_be_bytes());
            out.extend(hash.digest(&input).unwrap_or_default());
            counter += 1;
        }
        out.truncate(length);
        out
    }

    /// Go's `rsa.PrivateKey` JSON parts.
    pub struct Parts {
        pub n: BigUint,
        pub e: BigUint,
        pub d: BigUint,
        pub primes: Vec<BigUint>,
    }

    pub fn from_parts(parts: Parts) -> Result<RsaPrivateKey, String> {
        let mut key = RsaPrivateKey::from_components(parts.n, parts.e, parts.d, parts.primes)
            .map_err(|error| format!("rsa: {error}"))?;
        key.precompute().map_err(|error| format!("rsa: {error}"))?;
        Ok(key)
    }

    /// `(dp, dq, qinv)` for Go's `Precomputed`.
    pub fn precomputed(key: &RsaPrivateKey) -> Option<(BigUint, BigUint, BigUint)> {
        let qinv = key.qinv()?.to_biguint()?;
        Some((key.dp()?.clone(), key.dq()?.clone(), qinv))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aead_round_trips_and_fails_closed() {
        // Goal: `nonce || ct || tag` per type; a flipped bit is an authentication failure.
        for key_type in [
            KeyType::Aes128Gcm96,
            KeyType::Aes256Gcm96,
            KeyType::ChaCha20Poly1305,
        ] {
            let key = random_bytes(key_type.symmetric_key_bytes());
            let nonce = [7u8; NONCE_BYTES];
            let sealed = aead_seal(key_type, &key, &nonce, b"hello", b"ad").expect("seal");
            assert_eq!(sealed.len(), 12 + 5 + 16);
            assert_eq!(&sealed[..12], &nonce);
            let opened = aead_open(key_type, &key, &sealed[..12], &sealed[12..], b"ad");
            assert_eq!(opened.expect("open").as_slice(), b"hello");
            let mut bad = sealed.clone();
            bad[13] ^= 1;
            assert_eq!(
                aead_open(key_type, &key, &bad[..12], &bad[12..], b"ad").err(),
                Some(None)
            );
        }
    }

    #[test]
    fn ecdsa_der_round_trips() {
        let (r, s) = (vec![0x80, 1], vec![0, 0, 5]);
        let der = ecdsa::der_encode(&r, &s);
        assert_eq!(der, vec![0x30, 8, 2, 3, 0, 0x80, 1, 2, 1, 5]);
        assert_eq!(ecdsa::der_decode(&der), Ok((r, vec![5])));
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(ecdsa::der_decode(&trailing), Err(true));
        assert_eq!(ecdsa::der_decode(&[1, 2]), Err(false));
    }

    #[test]
    fn hkdf_output_is_a_prefix_stream() {
        // Convergent decryption reads fewer bytes of the same HKDF stream than encryption.
        let long = hkdf_sha256(b"key", b"context", 64);
        let short = hkdf_sha256(b"key", b"context", 32);
        assert_eq!(&long[..32], short.as_slice());
    }
}
