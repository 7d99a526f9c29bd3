//! Device authentication for the ingest routes (see [`crate::signing`] for the scheme).
//!
//! Checks run cheapest first, and the nonce is recorded only once the signature is proven, so a
//! forger cannot burn a device's nonces: headers → device known and enabled → timestamp within
//! the skew → (body read) → signature (constant-time) → nonce unused.

pub mod nonce;

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::Clock;
use crate::error::{ApiError, AuthFailure};
use crate::registry::{DeviceCredential, DeviceId, DeviceStore};
use crate::signing::{self, canonical};
use nonce::{NonceCache, NonceCheck};

/// What a request claims before its body is read: an enabled device and a fresh timestamp.
#[derive(Debug)]
pub struct Claim {
    /// The device and its key.
    pub credential: DeviceCredential,
    ts: i64,
    ts_text: String,
    nonce: String,
    signature: String,
}

/// Checks signed requests against the device registry, the clock and the nonce cache.
pub struct Authenticator {
    devices: Arc<dyn DeviceStore>,
    nonces: NonceCache,
    skew_secs: u64,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    /// An authenticator allowing `skew_secs` of clock difference and remembering at most
    /// `nonce_capacity` nonces.
    pub fn new(
        devices: Arc<dyn DeviceStore>,
        skew_secs: u64,
        nonce_capacity: usize,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { devices, nonces: NonceCache::new(nonce_capacity), skew_secs, clock }
    }

    /// The header checks and device lookup.
    ///
    /// # Errors
    /// 401 [`AuthFailure`]s; [`ApiError::Internal`] when the registry cannot be read.
    pub async fn claim(&self, headers: &HeaderMap) -> Result<Claim, ApiError> {
        let device_id = header(headers, signing::DEVICE_ID, "X-Device-ID")?;
        let ts_text = header(headers, signing::TIMESTAMP, "X-TS")?;
        let nonce = header(headers, signing::NONCE, "X-Nonce")?;
        let signature = header(headers, signing::SIGNATURE, "X-Signature")?;
        let id = DeviceId::parse(device_id).map_err(|_| AuthFailure::UnknownDevice)?;
        let credential = self.devices.credential(&id).await.map_err(|e| {
            tracing::error!(error = %e, "device registry lookup failed");
            ApiError::Internal
        })?;
        let credential = credential.ok_or(AuthFailure::UnknownDevice)?;
        if credential.device.disabled {
            return Err(AuthFailure::DeviceDisabled.into());
        }
        let ts = parse_ts(ts_text)?;
        self.check_skew(ts)?;
        if !valid_nonce(nonce) {
            return Err(AuthFailure::BadNonce.into());
        }
        let (ts_text, nonce, signature) = (ts_text.to_owned(), nonce.to_owned(), signature.to_owned());
        Ok(Claim { credential, ts, ts_text, nonce, signature })
    }

    /// The signature over the body, then single use of the nonce.
    ///
    /// # Errors
    /// 401 for a wrong signature or a replayed nonce; 503 when the nonce cache is full.
    pub fn verify(&self, claim: &Claim, method: &str, path: &str, body: &[u8]) -> Result<(), ApiError> {
        let message = canonical(method, path, &claim.ts_text, &claim.nonce, body);
        if !claim.credential.key.verify_hex(message.as_bytes(), &claim.signature) {
            return Err(AuthFailure::BadSignature.into());
        }
        let now = self.clock.now().timestamp();
        let expires = claim.ts.saturating_add_unsigned(self.skew_secs);
        match self.nonces.check_and_insert(claim.credential.device.id.as_str(), &claim.nonce, expires, now) {
            NonceCheck::Fresh => Ok(()),
            NonceCheck::Replayed => Err(AuthFailure::ReplayedNonce.into()),
            NonceCheck::Full => Err(ApiError::unavailable(
                "nonce_cache_full",
                "too many recent requests to check for replays",
                std::time::Duration::from_secs(1),
            )),
        }
    }

    fn check_skew(&self, ts: i64) -> Result<(), AuthFailure> {
        let delta = ts.saturating_sub(self.clock.now().timestamp());
        if delta.unsigned_abs() > self.skew_secs {
            return Err(AuthFailure::ClockSkew { delta, limit: self.skew_secs });
        }
        Ok(())
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str, shown: &'static str) -> Result<&'a str, AuthFailure> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(AuthFailure::MissingHeader(shown))
}

fn parse_ts(text: &str) -> Result<i64, AuthFailure> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthFailure::BadTimestamp);
    }
    text.parse().map_err(|_| AuthFailure::BadTimestamp)
}

fn valid_nonce(nonce: &str) -> bool {
    (8..=128).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_plain_unix_seconds() {
        assert_eq!(parse_ts("1700000000"), Ok(1_700_000_000));
        for bad in ["", "-5", "1.5", "1e9", "0x10", "9999999999999"] {
            assert_eq!(parse_ts(bad), Err(AuthFailure::BadTimestamp), "{bad:?}");
        }
    }

    #[test]
    fn nonces_are_8_to_128_visible_characters() {
        assert!(valid_nonce("abcdefgh"));
        assert!(!valid_nonce("short"));
        assert!(!valid_nonce("has space in it"));
        assert!(!valid_nonce(&"x".repeat(129)));
    }
}
