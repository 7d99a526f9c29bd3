//! Dead letters: input records a stage could not use, kept with where they came from and why,
//! so that nothing is dropped silently.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One rejected input record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Stage that rejected it (`normalize`, `detect`, …).
    pub stage: String,
    /// Input topic.
    pub topic: String,
    /// Input partition.
    pub partition: u32,
    /// Input offset.
    pub offset: u64,
    /// Decoder or record kind (`cowrie`, `envelope`, `event`, `alert`).
    pub source: String,
    /// Tenant, when known.
    pub tenant: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The record, lossily decoded as UTF-8 and cut at 64 KiB.
    pub payload: String,
}

/// Largest payload kept in a dead letter.
const MAX_PAYLOAD: usize = 64 << 10;

impl DeadLetter {
    /// Keeps at most 64 KiB of `bytes` as text.
    pub fn payload_text(bytes: &[u8]) -> String {
        let cut = &bytes[..bytes.len().min(MAX_PAYLOAD)];
        String::from_utf8_lossy(cut).into_owned()
    }
}

/// Why dead letters could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("dead letters could not be stored in {place}: {reason}")]
pub struct DeadLetterError {
    /// Where they should have gone.
    pub place: String,
    /// What failed.
    pub reason: String,
}

/// Where stages put rejected records; `put` returns only once they are durable, because the
/// stage acknowledges its input right after.
#[async_trait]
pub trait DeadLetterSink: Send + Sync {
    /// Stores the letters durably.
    ///
    /// # Errors
    /// [`DeadLetterError`]; the stage then retries the batch.
    async fn put(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError>;
}

/// Dead letters kept in memory (tests, `ward replay` reports).
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetters {
    /// Everything stored so far.
    pub fn all(&self) -> Vec<DeadLetter> {
        self.letters.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl DeadLetterSink for MemoryDeadLetters {
    async fn put(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        self.letters.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(letters);
        Ok(())
    }
}

/// Dead letters appended as JSON lines to a file and fsync'd before `put` returns.
#[derive(Debug)]
pub struct JsonlDeadLetters {
    path: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl JsonlDeadLetters {
    /// Appends to `path` (created on first use).
    pub fn new(path: PathBuf) -> Self {
        Self { path, lock: tokio::sync::Mutex::new(()) }
    }
}

#[async_trait]
impl DeadLetterSink for JsonlDeadLetters {
    async fn put(&self, letters: &[DeadLetter]) -> Result<(), DeadLetterError> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for l in letters {
            serde_json::to_writer(&mut text, l).map_err(|e| self.error(e))?;
            text.push(b'\n');
        }
        let _serial = self.lock.lock().await;
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(&text)?;
            f.sync_data()
        })
        .await
        .map_err(|e| self.error(e))?;
        written.map_err(|e| self.error(e))
    }
}

impl JsonlDeadLetters {
    fn error(&self, e: impl std::fmt::Display) -> DeadLetterError {
        DeadLetterError { place: self.path.display().to_string(), reason: e.to_string() }
    }
}
