//! Where rejected records go so nothing is silently lost: a port, and a file adapter that
//! appends JSON lines to `<data-dir>/deadletter.ndjson` (the file `ward ingest` writes) and
//! fsyncs before the request is answered.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;

/// One rejected record: the fields of `ward ingest`'s dead letters, plus where it came from
/// over HTTP and the record itself.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeadLetter {
    /// `http:` and the request path (`http:/ingest/cowrie`).
    pub path: String,
    /// 1-based line of the record in the (decompressed) body; 0 for `/ingest/multi` items.
    pub line: u64,
    /// Byte offset of the record in the (decompressed) body; 0 for `/ingest/multi` items.
    pub offset: u64,
    /// Why it was rejected.
    pub reason: String,
    /// The decoder that rejected it (or the source name given, when unknown).
    pub source: String,
    /// 0-based index of the record in the request.
    pub index: usize,
    /// Tenant of the sender.
    pub tenant: String,
    /// Sending device, for signed ingest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// When Ward received it, Unix milliseconds.
    pub received_ms: i64,
    /// The record as received, when it was readable text.
    pub original: Option<String>,
}

/// Why dead letters could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("dead-letter store {path}: {source}")]
pub struct DeadLetterError {
    /// Store location.
    pub path: String,
    /// Cause.
    #[source]
    pub source: std::io::Error,
}

/// Durable storage of rejected records.
#[async_trait]
pub trait DeadLetterStore: Send + Sync {
    /// Stores the entries durably before returning.
    ///
    /// # Errors
    /// [`DeadLetterError`] when they cannot be made durable.
    async fn put(&self, entries: Vec<DeadLetter>) -> Result<(), DeadLetterError>;
}

/// Dead letters appended to one NDJSON file.
#[derive(Clone)]
pub struct FileDeadLetters {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl FileDeadLetters {
    /// Opens (creating) the file at `path` for appending.
    ///
    /// # Errors
    /// [`DeadLetterError`] when it cannot be opened.
    pub fn open(path: &Path) -> Result<Self, DeadLetterError> {
        let err = |source| DeadLetterError { path: path.display().to_string(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(err)?;
        Ok(Self { path: path.to_path_buf(), file: Arc::new(Mutex::new(file)) })
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = self.file.lock().map_err(|_| std::io::Error::other("dead-letter lock poisoned"))?;
        file.write_all(bytes)?;
        file.sync_data()
    }
}

#[async_trait]
impl DeadLetterStore for FileDeadLetters {
    async fn put(&self, entries: Vec<DeadLetter>) -> Result<(), DeadLetterError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(entries.len() * 256);
        for e in &entries {
            serde_json::to_writer(&mut bytes, e).map_err(|e| self.error(e.into()))?;
            bytes.push(b'\n');
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.write(&bytes))
            .await
            .map_err(|e| self.error(std::io::Error::other(e.to_string())))?
            .map_err(|e| self.error(e))
    }
}

impl FileDeadLetters {
    /// The file it appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, source: std::io::Error) -> DeadLetterError {
        DeadLetterError { path: self.path.display().to_string(), source }
    }
}
