//! The primitives of device ingest: hex, SHA-256, HMAC-SHA256 with constant-time verification,
//! and random bytes. All from aws-lc-rs.

use aws_lc_rs::{digest, hmac, rand};

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("random number generator unavailable")]
pub struct RandomError;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Bytes of a hex string (either case); `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes.chunks_exact(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

/// Lowercase hex of the SHA-256 digest of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// `N` bytes from the operating system's cryptographic random source.
///
/// # Errors
/// [`RandomError`] when the source fails.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    rand::fill(&mut buf).map_err(|_| RandomError)?;
    Ok(buf)
}

/// An HMAC-SHA256 key. Its material stays inside aws-lc and is never printed.
#[derive(Clone)]
pub struct SigningKey(hmac::Key);

impl SigningKey {
    /// A key made of `secret`'s bytes (a device secret is used as its ASCII text).
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// Lowercase hex HMAC-SHA256 of `message`.
    pub fn sign_hex(&self, message: &[u8]) -> String {
        hex(hmac::sign(&self.0, message).as_ref())
    }

    /// Whether `signature_hex` is the HMAC of `message`, compared in constant time.
    pub fn verify_hex(&self, message: &[u8], signature_hex: &str) -> bool {
        match unhex(signature_hex) {
            Some(tag) => hmac::verify(&self.0, message, &tag).is_ok(),
            None => false,
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001ABff").as_deref(), Some(&bytes[..]));
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let key = SigningKey::new(b"Jefe");
        let sig = key.sign_hex(b"what do ya want for nothing?");
        assert_eq!(sig, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(key.verify_hex(b"what do ya want for nothing?", &sig));
        assert!(!key.verify_hex(b"what do ya want for nothing!", &sig));
        assert!(!key.verify_hex(b"what do ya want for nothing?", "00"));
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_digest() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
