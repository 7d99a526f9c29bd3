//! File-backed registry adapters for the data directory: JSON documents replaced atomically
//! (write a temporary file, fsync, rename, fsync the directory) under an exclusive lock file,
//! so concurrent `ward devices add` runs and a running server never see half a file.

mod devices;
mod tenants;

pub use devices::FileDeviceStore;
pub use tenants::FileTenantStore;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// Identity of one version of a file: replaced files get a new inode, so a rename is always seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

/// The file's current stamp, `None` when it does not exist.
pub(crate) fn stamp(path: &Path) -> Result<Option<Stamp>, StoreError> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(Stamp { len: m.len(), modified: m.modified().ok(), inode: inode(&m) })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, e)),
    }
}

#[cfg(unix)]
fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

pub(crate) fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io { path: path.display().to_string(), source }
}

/// Reads a JSON document, or its default when the file does not exist.
pub(crate) fn read_json<T: DeserializeOwned + Default>(path: &Path) -> Result<T, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Corrupt { path: path.display().to_string(), reason: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(io_err(path, e)),
    }
}

/// Replaces `path` with `value` as JSON (mode 0600), atomically and durably.
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| StoreError::Corrupt { path: path.display().to_string(), reason: e.to_string() })?;
    bytes.push(b'\n');
    let tmp = tmp_path(path);
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path)
    };
    write().map_err(|e| io_err(path, e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// Fsyncs the directory holding `path`, so a rename or a new file survives a crash.
///
/// # Errors
/// The directory cannot be opened or synced.
pub fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// Holds the store's exclusive lock for the duration of a read-modify-write (released on drop).
pub(crate) struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock `lock_path` (created if needed), waiting for other holders.
pub(crate) fn lock(lock_path: &Path) -> Result<LockGuard, StoreError> {
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path)
        .map_err(|e| io_err(lock_path, e))?;
    file.lock().map_err(|e| io_err(lock_path, e))?;
    Ok(LockGuard { _file: file })
}

/// Runs blocking store work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(StoreError::Io { path: "(registry task)".into(), source: std::io::Error::other(e.to_string()) })
    })
}
