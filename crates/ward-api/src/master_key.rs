//! The master key that encrypts device secrets at rest (AES-256-GCM, a fresh random 96-bit
//! nonce per secret, the record's id as associated data so a sealed secret cannot be moved to
//! another record).
//!
//! Sealed form: base64 of `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{random_bytes, unhex};

/// Why a master key could not be read, made or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The configured text is not 32 bytes in hex or base64 (the text itself is never shown).
    #[error("master key must be 32 bytes written as 64 hex digits or 44 base64 characters")]
    Format,
    /// The key file cannot be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A sealed secret does not open with this key (wrong key, or damaged data).
    #[error("sealed secret does not decrypt with this master key (wrong key or damaged data)")]
    Open,
    /// The random source or the cipher failed.
    #[error("cryptography failure: {0}")]
    Crypto(&'static str),
}

/// How the master key was obtained, so the binary can say so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Read from an existing key file.
    File,
    /// Generated now and written to the key file.
    Generated,
}

/// The AES-256-GCM key for secrets at rest. Its material lives inside aws-lc and never prints.
pub struct MasterKey(LessSafeKey, aws_lc_rs::hmac::Key);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A key from 32 raw bytes.
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if aws-lc refuses the key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KeyError::Crypto("aes key"))?;
        let derive = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, bytes);
        Ok(Self(LessSafeKey::new(unbound), derive))
    }

    /// A 32-byte subkey for one `purpose` (HMAC-SHA256 of the purpose under the master key), so
    /// other secrets — the audit checkpoint key, say — follow the master key without being
    /// stored anywhere.
    pub fn derive(&self, purpose: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(aws_lc_rs::hmac::sign(&self.1, purpose.as_bytes()).as_ref().to_vec())
    }

    /// Parses a configured key: 64 hex digits or base64 of 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::Format`] otherwise.
    pub fn parse(text: &SecretString) -> Result<Self, KeyError> {
        let text = text.expose_secret().trim();
        let raw = Zeroizing::new(match unhex(text) {
            Some(bytes) => bytes,
            None => BASE64.decode(text).map_err(|_| KeyError::Format)?,
        });
        let bytes: &[u8; 32] = raw.as_slice().try_into().map_err(|_| KeyError::Format)?;
        Self::from_bytes(bytes)
    }

    /// Reads the key file at `path`, or generates a random key there (mode 0600) when absent.
    ///
    /// # Errors
    /// [`KeyError`] for unreadable, unwritable or malformed key files.
    pub fn load_or_generate(path: &Path) -> Result<(Self, KeyOrigin), KeyError> {
        let io = |source| KeyError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((Self::parse(&SecretString::from(text))?, KeyOrigin::File)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = Zeroizing::new(random_bytes::<32>().map_err(|_| KeyError::Crypto("random"))?);
                write_key_file(path, &BASE64.encode(bytes.as_slice())).map_err(io)?;
                Ok((Self::from_bytes(&bytes)?, KeyOrigin::Generated))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts `plaintext` bound to `aad` (the owning record's id).
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if the random source or cipher fails.
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Result<String, KeyError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>().map_err(|_| KeyError::Crypto("random"))?;
        let mut buf = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(aad), &mut buf)
            .map_err(|_| KeyError::Crypto("seal"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buf);
        Ok(BASE64.encode(out))
    }

    /// Decrypts a sealed secret made by [`MasterKey::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`KeyError::Open`] for a wrong key, a wrong `aad` or damaged data.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<SecretString, KeyError> {
        let mut raw = Zeroizing::new(BASE64.decode(sealed).map_err(|_| KeyError::Open)?);
        if raw.len() < NONCE_LEN {
            return Err(KeyError::Open);
        }
        let (nonce, body) = raw.split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Open)?;
        let plain = self.0.open_in_place(nonce, Aad::from(aad), body).map_err(|_| KeyError::Open)?;
        let text = std::str::from_utf8(plain).map_err(|_| KeyError::Open)?;
        Ok(SecretString::from(text))
    }
}

/// Creates the key file with mode 0600 (never replacing one), fsyncs it and its directory.
fn write_key_file(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    crate::registry::file::sync_dir(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_record() {
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = key.seal(b"s3cret", "dev-1").unwrap();
        assert_eq!(key.open(&sealed, "dev-1").unwrap().expose_secret(), "s3cret");
        assert!(matches!(key.open(&sealed, "dev-2"), Err(KeyError::Open)));
        let other = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(matches!(other.open(&sealed, "dev-1"), Err(KeyError::Open)));
        assert_ne!(sealed, key.seal(b"s3cret", "dev-1").unwrap(), "nonces must differ");
    }

    #[test]
    fn keys_parse_from_hex_or_base64_only_when_32_bytes() {
        let hex = SecretString::from("11".repeat(32));
        let b64 = SecretString::from(BASE64.encode([0x11u8; 32]));
        let sealed = MasterKey::parse(&hex).unwrap().seal(b"x", "a").unwrap();
        assert_eq!(MasterKey::parse(&b64).unwrap().open(&sealed, "a").unwrap().expose_secret(), "x");
        for bad in ["", "11", &BASE64.encode([1u8; 16])] {
            assert!(matches!(MasterKey::parse(&SecretString::from(bad)), Err(KeyError::Format)));
        }
    }

    #[cfg(unix)]
    #[test]
    fn generated_key_file_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (first, origin) = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(origin, KeyOrigin::Generated);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (second, origin) = MasterKey::load_or_generate(&path).unwrap();
        assert_eq!(origin, KeyOrigin::File);
        let sealed = first.seal(b"x", "a").unwrap();
        assert_eq!(second.open(&sealed, "a").unwrap().expose_secret(), "x");
    }
}
