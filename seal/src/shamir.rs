//! Shamir secret sharing of the [`UnsealKey`] over blahaj 0.7, in Vault's share layout.
//!
//! Wire format: a share is 33 bytes, the 32 y-bytes (one per key byte) followed by one
//! x-coordinate byte. blahaj serialises x first; this module converts in both directions.
//! With a single share (threshold 1) the "share" is the bare 32-byte key, as in Vault.
//!
//! Caveat: blahaj computes in GF(2^8) modulo 0x11D, Vault modulo 0x11B (the AES polynomial),
//! and blahaj uses the x-coordinates 1..=n where Vault draws them at random. Shares are
//! therefore only combinable by Tresor, not by Vault (and Vault's shares not by Tresor).

use crate::error::SealError;
use crate::keys::{KeyShare, UnsealKey};
use crate::limits::{
    KEY_BYTES, KEY_BYTES_MIN, KEY_INPUT_BYTES_MAX, SHAMIR_SHARES_MAX, SHAMIR_THRESHOLD_MAX,
    SHARE_BYTES,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blahaj::{Share, Sharks};
use zeroize::Zeroizing;

/// Vault's `SealConfig.Validate` rules for shares and threshold, with its texts.
pub fn validate_shares(shares: usize, threshold: usize) -> Result<(), SealError> {
    if shares < 1 {
        return Err(SealError::InvalidConfig("shares must be at least one"));
    }
    if threshold < 1 {
        return Err(SealError::InvalidConfig("threshold must be at least one"));
    }
    if shares > 1 && threshold == 1 {
        return Err(SealError::InvalidConfig(
            "threshold must be greater than one for multiple shares",
        ));
    }
    if shares > SHAMIR_SHARES_MAX {
        return Err(SealError::InvalidConfig("shares must be less than 256"));
    }
    if threshold > SHAMIR_THRESHOLD_MAX {
        return Err(SealError::InvalidConfig("threshold must be less than 256"));
    }
    if threshold > shares {
        return Err(SealError::InvalidConfig(
            "threshold cannot be larger than shares",
        ));
    }
    Ok(())
}

/// Splits `secret` into `shares` shares, any `threshold` of which recombine it.
pub fn split(secret: &UnsealKey, shares: u8, threshold: u8) -> Result<Vec<KeyShare>, SealError> {
    validate_shares(usize::from(shares), usize::from(threshold))?;
    if shares == 1 {
        return Ok(vec![KeyShare::from_slice(secret.as_bytes())?]);
    }
    let dealer = Sharks(threshold).dealer(secret.as_bytes());
    let mut result = Vec::with_capacity(usize::from(shares));
    for share in dealer.take(usize::from(shares)) {
        // blahaj: x ‖ y. Vault: y ‖ x.
        let blahaj_bytes = Zeroizing::new(Vec::from(&share));
        assert_eq!(
            blahaj_bytes.len(),
            SHARE_BYTES,
            "blahaj share of a 32-byte key"
        );
        let mut wire = Zeroizing::new([0u8; SHARE_BYTES]);
        wire[..KEY_BYTES].copy_from_slice(&blahaj_bytes[1..]);
        wire[KEY_BYTES] = blahaj_bytes[0];
        assert_ne!(wire[KEY_BYTES], 0, "blahaj x-coordinates start at 1");
        result.push(KeyShare::from_slice(&wire[..])?);
    }
    assert_eq!(
        result.len(),
        usize::from(shares),
        "blahaj yields 255 shares"
    );
    Ok(result)
}

/// Recombines the unseal key. One share is taken as the bare key (threshold 1); otherwise
/// every share must be 33 bytes with distinct, non-zero x-coordinates. Fewer shares than
/// the threshold give a wrong key, which the caller detects when the key fails to decrypt.
pub fn combine(shares: &[KeyShare]) -> Result<UnsealKey, SealError> {
    match shares {
        [] => Err(SealError::InvalidKey("no key shares given".to_string())),
        [single] if single.len() == KEY_BYTES => UnsealKey::from_slice(single.as_bytes()),
        [_] => Err(SealError::InvalidKey(
            "less than two parts cannot be used to reconstruct the secret".to_string(),
        )),
        _ => combine_many(shares),
    }
}

fn combine_many(shares: &[KeyShare]) -> Result<UnsealKey, SealError> {
    let mut seen_x = [false; 256];
    let mut blahaj_shares: Vec<Share> = Vec::with_capacity(shares.len());
    for share in shares {
        if share.len() != SHARE_BYTES {
            return Err(SealError::InvalidKey(format!(
                "all shares must be {SHARE_BYTES} bytes"
            )));
        }
        let bytes = share.as_bytes();
        let x = bytes[KEY_BYTES];
        if x == 0 {
            return Err(SealError::InvalidKey(
                "share has x-coordinate zero".to_string(),
            ));
        }
        if seen_x[usize::from(x)] {
            return Err(SealError::InvalidKey("duplicate part detected".to_string()));
        }
        seen_x[usize::from(x)] = true;
        let mut blahaj_bytes = Zeroizing::new([0u8; SHARE_BYTES]);
        blahaj_bytes[0] = x;
        blahaj_bytes[1..].copy_from_slice(&bytes[..KEY_BYTES]);
        let parsed = Share::try_from(&blahaj_bytes[..])
            .map_err(|reason| SealError::InvalidKey(reason.to_string()))?;
        blahaj_shares.push(parsed);
    }
    // Distinct non-zero x-coordinates: at most 255, so the count fits the u8 threshold.
    let count = u8::try_from(blahaj_shares.len()).expect("at most 255 distinct x-coordinates");
    let secret = Zeroizing::new(
        Sharks(count)
            .recover(&blahaj_shares)
            .map_err(|reason| SealError::InvalidKey(reason.to_string()))?,
    );
    UnsealKey::from_slice(&secret)
}

/// Decodes the `key` of `sys/unseal`, `sys/rekey/update` and `sys/generate-root/update` as
/// Vault does: hex if it decodes to 16..=33 bytes, otherwise standard base64; then the
/// length must be 16..=33 bytes.
pub fn parse_key_share(text: &str) -> Result<KeyShare, SealError> {
    let decoded = match hex::decode(text) {
        Ok(bytes) if (KEY_BYTES_MIN..=KEY_INPUT_BYTES_MAX).contains(&bytes.len()) => {
            Zeroizing::new(bytes)
        }
        hex_result => {
            drop(hex_result.map(Zeroizing::new));
            match STANDARD.decode(text) {
                Ok(bytes) => Zeroizing::new(bytes),
                Err(_) => return Err(SealError::KeyEncoding),
            }
        }
    };
    if decoded.len() < KEY_BYTES_MIN {
        return Err(SealError::InvalidKey(format!(
            "key is shorter than minimum {KEY_BYTES_MIN} bytes"
        )));
    }
    if decoded.len() > KEY_INPUT_BYTES_MAX {
        return Err(SealError::InvalidKey(format!(
            "key is longer than maximum {KEY_INPUT_BYTES_MAX} bytes"
        )));
    }
    KeyShare::from_slice(&decoded)
}

/// Hex encodings of shares, for `keys` in `sys/init` and `sys/rekey/update`.
pub fn encode_hex(shares: &[KeyShare]) -> Vec<Zeroizing<String>> {
    shares.iter().map(KeyShare::to_hex).collect()
}

/// Standard base64 encodings of shares, for `keys_base64`.
pub fn encode_base64(shares: &[KeyShare]) -> Vec<Zeroizing<String>> {
    shares.iter().map(KeyShare::to_base64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicates(shares: &[KeyShare], picks: &[usize]) -> Vec<KeyShare> {
        picks.iter().map(|&i| shares[i].duplicate()).collect()
    }

    fn combines_to(shares: &[KeyShare], secret: &UnsealKey) -> bool {
        match combine(shares) {
            Ok(key) => key.ct_eq(secret),
            Err(_) => false,
        }
    }

    #[test]
    fn every_threshold_subset_recombines_for_small_n() {
        // Goal: for n ≤ 5 and each threshold t, every t-subset (and every larger subset)
        // yields the key, and every (t-1)-subset with t > 2 does not.
        for shares in 2u8..=5 {
            for threshold in 2u8..=shares {
                let secret = UnsealKey::generate();
                let split_shares = split(&secret, shares, threshold).expect("valid split");
                assert_eq!(split_shares.len(), usize::from(shares));
                for share in &split_shares {
                    assert_eq!(share.len(), SHARE_BYTES);
                }
                for mask in 1u32..(1 << shares) {
                    let picks: Vec<usize> = (0..usize::from(shares))
                        .filter(|i| mask & (1 << i) != 0)
                        .collect();
                    let subset = duplicates(&split_shares, &picks);
                    let enough = picks.len() >= usize::from(threshold);
                    if enough {
                        assert!(
                            combines_to(&subset, &secret),
                            "{shares}/{threshold} {picks:?}"
                        );
                    } else if picks.len() >= 2 {
                        assert!(
                            !combines_to(&subset, &secret),
                            "{shares}/{threshold} {picks:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn five_of_three_random_subsets_and_order() {
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 5, 3).expect("valid split");
        for picks in [[4, 0, 2], [3, 1, 4], [2, 3, 0], [1, 4, 3]] {
            assert!(combines_to(&duplicates(&split_shares, &picks), &secret));
        }
    }

    #[test]
    fn maximum_split_recombines() {
        // Goal: 255 shares with threshold 255 work (the u8 edges), and 254 of them do not.
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 255, 255).expect("valid split");
        assert_eq!(split_shares.len(), 255);
        assert!(combines_to(&split_shares, &secret));
        assert!(!combines_to(&split_shares[1..], &secret));
    }

    #[test]
    fn one_share_is_the_bare_key() {
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 1, 1).expect("valid split");
        assert_eq!(split_shares.len(), 1);
        assert_eq!(split_shares[0].as_bytes(), secret.as_bytes());
        assert!(combines_to(&split_shares, &secret));
    }

    #[test]
    fn split_rejects_vaults_invalid_configurations() {
        let secret = UnsealKey::generate();
        let cases: [(u8, u8, &str); 5] = [
            (0, 1, "shares must be at least one"),
            (1, 0, "threshold must be at least one"),
            (
                3,
                1,
                "threshold must be greater than one for multiple shares",
            ),
            (3, 4, "threshold cannot be larger than shares"),
            (2, 255, "threshold cannot be larger than shares"),
        ];
        for (shares, threshold, text) in cases {
            let error = split(&secret, shares, threshold).err().expect("rejected");
            assert_eq!(
                error.to_string(),
                format!("invalid seal configuration: {text}")
            );
            assert!(error.is_invalid_input());
        }
        // One past the limits (not reachable through u8).
        assert!(validate_shares(256, 2).is_err());
        assert!(validate_shares(256, 256).is_err());
        assert!(validate_shares(255, 255).is_ok());
    }

    #[test]
    fn combine_rejects_malformed_sets() {
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 3, 2).expect("valid split");
        // Same share twice.
        assert!(combine(&duplicates(&split_shares, &[0, 0])).is_err());
        // A lone 33-byte share.
        assert!(combine(&duplicates(&split_shares, &[1])).is_err());
        // Mixed lengths.
        let bare = KeyShare::from_slice(secret.as_bytes()).expect("32 bytes");
        assert!(combine(&[split_shares[0].duplicate(), bare]).is_err());
        // Nothing.
        assert!(combine(&[]).is_err());
        // x-coordinate zero.
        let mut zero_x = [5u8; SHARE_BYTES];
        zero_x[KEY_BYTES] = 0;
        let zero_share = KeyShare::from_slice(&zero_x).expect("33 bytes");
        assert!(combine(&[split_shares[0].duplicate(), zero_share]).is_err());
    }

    #[test]
    fn parse_hex_base64_and_garbage() {
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 3, 2).expect("valid split");
        let share = &split_shares[0];
        let from_hex = parse_key_share(&share.to_hex()).expect("hex");
        assert!(from_hex.ct_eq(share));
        let from_upper_hex = parse_key_share(&share.to_hex().to_uppercase()).expect("HEX");
        assert!(from_upper_hex.ct_eq(share));
        let from_base64 = parse_key_share(&share.to_base64()).expect("base64");
        assert!(from_base64.ct_eq(share));
        let bare = parse_key_share(&secret.to_base64()).expect("bare key");
        assert_eq!(bare.as_bytes(), secret.as_bytes());

        // A string that is valid hex of the wrong length but also valid base64 is base64.
        let ambiguous = "00".repeat(36); // 72 hex chars = 36 bytes; as base64 = 54 bytes.
        let error = parse_key_share(&ambiguous).err().expect("too long");
        assert_eq!(
            error.to_string(),
            "invalid key: key is longer than maximum 33 bytes"
        );

        for garbage in ["not a key!", "zz", "abc", "", "%%%%"] {
            let error = parse_key_share(garbage).err().expect("garbage");
            if garbage.is_empty() {
                // "" is valid base64 for zero bytes.
                assert_eq!(
                    error.to_string(),
                    "invalid key: key is shorter than minimum 16 bytes"
                );
                continue;
            }
            assert_eq!(
                error.to_string(),
                "'key' must be a valid hex or base64 string"
            );
            assert!(error.is_invalid_input());
        }
        // 15 bytes of hex is 30 characters: not hex of a key length, not valid base64.
        let short_hex = parse_key_share(&hex::encode([1u8; 15]))
            .err()
            .expect("short");
        assert_eq!(
            short_hex.to_string(),
            "'key' must be a valid hex or base64 string"
        );
        let short = parse_key_share(&STANDARD.encode([1u8; 15]))
            .err()
            .expect("short");
        assert_eq!(
            short.to_string(),
            "invalid key: key is shorter than minimum 16 bytes"
        );
        assert!(parse_key_share(&hex::encode([1u8; 16])).is_ok());
        assert!(parse_key_share(&STANDARD.encode([1u8; 34])).is_err());
    }

    #[test]
    fn encoders_produce_vaults_lengths() {
        let secret = UnsealKey::generate();
        let split_shares = split(&secret, 5, 3).expect("valid split");
        for text in encode_hex(&split_shares) {
            assert_eq!(text.len(), 66);
        }
        for text in encode_base64(&split_shares) {
            assert_eq!(text.len(), 44);
        }
    }
}
