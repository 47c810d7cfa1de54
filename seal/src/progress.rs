//! Collecting key shares toward a threshold: `sys/unseal`, `sys/rekey/update`,
//! `sys/generate-root/update`.

use crate::error::SealError;
use crate::keys::{KeyShare, UnsealKey};
use crate::limits::{KEY_BYTES, SHAMIR_THRESHOLD_MAX, SHARE_BYTES};
use crate::shamir;

/// The result of one [`UnsealProgress::submit`].
pub enum SubmitOutcome {
    /// More shares are needed; `progress` distinct shares are held.
    Pending { progress: usize },
    /// The threshold was reached; progress and nonce are already cleared.
    Complete(UnsealKey),
}

impl std::fmt::Debug for SubmitOutcome {
    // The combined key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitOutcome::Pending { progress } => write!(f, "Pending {{ progress: {progress} }}"),
            SubmitOutcome::Complete(_) => f.write_str("Complete(<unseal key>)"),
        }
    }
}

/// Distinct shares submitted so far and the operation's nonce.
///
/// Invariant: `nonce` is `Some` exactly when at least one share is held; all held shares
/// have the length the threshold demands (32 for threshold 1, 33 otherwise). Shares are
/// zeroized when dropped or cleared.
#[derive(Default)]
pub struct UnsealProgress {
    shares: Vec<KeyShare>,
    nonce: Option<String>,
}

impl UnsealProgress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `share`. A share equal to one already held is ignored (no progress, no error),
    /// as Vault does. At `threshold` distinct shares the key is combined and the progress
    /// cleared, whether combining worked or not. A share of the wrong length is refused
    /// and leaves the progress as it was.
    pub fn submit(&mut self, share: KeyShare, threshold: u8) -> Result<SubmitOutcome, SealError> {
        if threshold == 0 || usize::from(threshold) > SHAMIR_THRESHOLD_MAX {
            return Err(SealError::Internal(format!(
                "threshold {threshold} out of range"
            )));
        }
        let expected_bytes = if threshold == 1 {
            KEY_BYTES
        } else {
            SHARE_BYTES
        };
        if share.len() != expected_bytes {
            return Err(SealError::InvalidKey(format!(
                "key must be {expected_bytes} bytes for a threshold of {threshold}, got {}",
                share.len()
            )));
        }
        if self.shares.iter().any(|held| held.ct_eq(&share)) {
            return Ok(SubmitOutcome::Pending {
                progress: self.shares.len(),
            });
        }
        if self.nonce.is_none() {
            self.nonce = Some(uuid::Uuid::new_v4().to_string());
        }
        self.shares.push(share);
        if self.shares.len() < usize::from(threshold) {
            return Ok(SubmitOutcome::Pending {
                progress: self.shares.len(),
            });
        }
        let combined = shamir::combine(&self.shares);
        self.reset();
        Ok(SubmitOutcome::Complete(combined?))
    }

    /// Drops (and zeroizes) every held share and the nonce.
    pub fn reset(&mut self) {
        self.shares.clear();
        self.nonce = None;
    }

    /// Number of distinct shares held.
    pub fn progress(&self) -> usize {
        self.shares.len()
    }

    /// The UUID created with the first share; `None` when no share is held.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shamir::split;

    fn pending(outcome: SubmitOutcome) -> usize {
        match outcome {
            SubmitOutcome::Pending { progress } => progress,
            SubmitOutcome::Complete(_) => panic!("expected Pending"),
        }
    }

    #[test]
    fn duplicate_share_is_ignored_and_threshold_completes() {
        let secret = UnsealKey::generate();
        let shares = split(&secret, 5, 3).expect("valid split");
        let mut progress = UnsealProgress::new();
        assert_eq!(progress.nonce(), None);

        assert_eq!(
            pending(progress.submit(shares[0].duplicate(), 3).expect("ok")),
            1
        );
        let nonce = progress
            .nonce()
            .expect("nonce after first share")
            .to_string();
        assert!(uuid::Uuid::parse_str(&nonce).is_ok());
        assert_eq!(
            pending(progress.submit(shares[0].duplicate(), 3).expect("ok")),
            1
        );
        assert_eq!(progress.nonce(), Some(nonce.as_str()));
        assert_eq!(
            pending(progress.submit(shares[3].duplicate(), 3).expect("ok")),
            2
        );

        match progress.submit(shares[4].duplicate(), 3).expect("ok") {
            SubmitOutcome::Complete(key) => assert!(key.ct_eq(&secret)),
            other => panic!("expected Complete, got {other:?}"),
        }
        assert_eq!(progress.progress(), 0);
        assert_eq!(progress.nonce(), None);
    }

    #[test]
    fn reset_clears_progress_and_nonce() {
        let secret = UnsealKey::generate();
        let shares = split(&secret, 3, 2).expect("valid split");
        let mut progress = UnsealProgress::new();
        pending(progress.submit(shares[0].duplicate(), 2).expect("ok"));
        progress.reset();
        assert_eq!(progress.progress(), 0);
        assert_eq!(progress.nonce(), None);
        // A fresh round gets a fresh nonce.
        pending(progress.submit(shares[1].duplicate(), 2).expect("ok"));
        assert!(progress.nonce().is_some());
    }

    #[test]
    fn wrong_combination_gives_a_wrong_key_and_clears_progress() {
        // Shares of two different splits combine to neither key; the server detects that
        // when the key fails to open the root key. Progress is cleared either way.
        let first = UnsealKey::generate();
        let second = UnsealKey::generate();
        let first_shares = split(&first, 3, 2).expect("valid split");
        let second_shares = split(&second, 3, 2).expect("valid split");
        let mut progress = UnsealProgress::new();
        pending(progress.submit(first_shares[0].duplicate(), 2).expect("ok"));
        match progress.submit(second_shares[1].duplicate(), 2) {
            Ok(SubmitOutcome::Complete(key)) => {
                assert!(!key.ct_eq(&first));
                assert!(!key.ct_eq(&second));
            }
            Ok(other) => panic!("expected Complete, got {other:?}"),
            Err(_) => {} // Same x-coordinate: refused as a duplicate part.
        }
        assert_eq!(progress.progress(), 0);
        assert_eq!(progress.nonce(), None);

        // Same x-coordinate from two splits is an error at combine time, also clearing.
        pending(progress.submit(first_shares[0].duplicate(), 2).expect("ok"));
        let error = progress
            .submit(second_shares[0].duplicate(), 2)
            .expect_err("duplicate x-coordinate");
        assert!(error.is_invalid_input());
        assert_eq!(progress.progress(), 0);
        assert_eq!(progress.nonce(), None);
    }

    #[test]
    fn wrong_length_is_refused_without_losing_progress() {
        let secret = UnsealKey::generate();
        let shares = split(&secret, 3, 2).expect("valid split");
        let mut progress = UnsealProgress::new();
        pending(progress.submit(shares[0].duplicate(), 2).expect("ok"));
        let bare = KeyShare::from_slice(secret.as_bytes()).expect("32 bytes");
        let error = progress
            .submit(bare, 2)
            .expect_err("32 bytes at threshold 2");
        assert!(error.is_invalid_input());
        assert_eq!(progress.progress(), 1);
        // Threshold 1 wants the bare key and refuses a 33-byte share.
        let mut single = UnsealProgress::new();
        assert!(single.submit(shares[0].duplicate(), 1).is_err());
        let bare = KeyShare::from_slice(secret.as_bytes()).expect("32 bytes");
        match single.submit(bare, 1).expect("ok") {
            SubmitOutcome::Complete(key) => assert!(key.ct_eq(&secret)),
            other => panic!("expected Complete, got {other:?}"),
        }
        assert!(single.submit(shares[0].duplicate(), 0).is_err());
    }
}
