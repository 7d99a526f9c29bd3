//! The request-signing scheme shared by the server and every client (`ward send`, tests,
//! benchmarks):
//!
//! `X-Signature` = lowercase hex HMAC-SHA256(secret, `METHOD "\n" PATH "\n" TS "\n" NONCE "\n"
//! hex(SHA256(body))`), where PATH excludes the query string, TS is Unix seconds, and body is the
//! bytes as sent (compressed, when `Content-Encoding: gzip`). The key is the device secret's text.

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{RandomError, SigningKey, hex, random_bytes, sha256_hex};

/// Header carrying the device id.
pub const DEVICE_ID: &str = "x-device-id";
/// Header carrying the Unix time of signing, in seconds.
pub const TIMESTAMP: &str = "x-ts";
/// Header carrying the single-use nonce.
pub const NONCE: &str = "x-nonce";
/// Header carrying the signature.
pub const SIGNATURE: &str = "x-signature";

/// The text that is signed.
pub fn canonical(method: &str, path: &str, ts: &str, nonce: &str, body: &[u8]) -> String {
    format!("{method}\n{path}\n{ts}\n{nonce}\n{}", sha256_hex(body))
}

/// The four authentication headers of one signed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `X-Device-ID`.
    pub device_id: String,
    /// `X-TS`.
    pub ts: String,
    /// `X-Nonce`.
    pub nonce: String,
    /// `X-Signature`.
    pub signature: String,
}

impl SignedHeaders {
    /// `(header name, value)` pairs, ready to add to a request.
    pub fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            (DEVICE_ID, &self.device_id),
            (TIMESTAMP, &self.ts),
            (NONCE, &self.nonce),
            (SIGNATURE, &self.signature),
        ]
    }
}

/// Signs a request at Unix time `ts` with a fresh random nonce.
///
/// # Errors
/// [`RandomError`] when no nonce can be drawn.
pub fn sign_request(
    device_id: &str,
    secret: &SecretString,
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
) -> Result<SignedHeaders, RandomError> {
    let nonce = hex(&random_bytes::<16>()?);
    Ok(sign_with_nonce(device_id, secret, method, path, body, ts, &nonce))
}

/// Signs a request with a given nonce (replay tests use this to send one twice).
pub fn sign_with_nonce(
    device_id: &str,
    secret: &SecretString,
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
    nonce: &str,
) -> SignedHeaders {
    let ts = ts.to_string();
    let message = canonical(method, path, &ts, nonce, body);
    let signature = SigningKey::new(secret.expose_secret().as_bytes()).sign_hex(message.as_bytes());
    SignedHeaders { device_id: device_id.to_owned(), ts, nonce: nonce.to_owned(), signature }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_is_the_documented_layout() {
        let text = canonical("POST", "/ingest/cowrie", "1700000000", "abcdefgh", b"");
        assert_eq!(
            text,
            "POST\n/ingest/cowrie\n1700000000\nabcdefgh\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn signature_is_hmac_of_the_canonical_text_with_the_secret_text_as_key() {
        let secret = SecretString::from("k");
        let h = sign_with_nonce("d", &secret, "POST", "/p", b"x", 5, "nonce123");
        let expected =
            SigningKey::new(b"k").sign_hex(canonical("POST", "/p", "5", "nonce123", b"x").as_bytes());
        assert_eq!(h.signature, expected);
        assert_eq!(h.signature.len(), 64);
        assert!(h.signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
}
