//! The file operations the embedded log needs, behind a trait so tests can inject faults
//! ([`MemFs`](super::MemFs)), and the real implementation over `std::fs` ([`StdFs`]).
//!
//! Every method blocks: the log calls them from its writer thread or `spawn_blocking`.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// A directory tree the log stores its files in.
pub trait Filesystem: Send + Sync + fmt::Debug {
    /// Creates `dir` and its missing parents, durably (parents fsync'd).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Opens an existing file for reading and appending.
    ///
    /// # Errors
    /// `NotFound` when it does not exist, or the underlying I/O error.
    fn open(&self, path: &Path) -> io::Result<Arc<dyn FsFile>>;
    /// Creates an empty file, truncating an existing one (not durable until its directory is
    /// synced).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn create(&self, path: &Path) -> io::Result<Arc<dyn FsFile>>;
    /// The names of the entries of `dir`.
    ///
    /// # Errors
    /// `NotFound` when it does not exist, or the underlying I/O error.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Atomically replaces `to` with `from` (durable once the directory is synced).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file (durable once the directory is synced).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes the creations, renames and removals in `dir` durable.
    ///
    /// # Errors
    /// The underlying I/O error.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes an exclusive lock on the file `path` (created if missing), held until the
    /// returned guard is dropped.
    ///
    /// # Errors
    /// `WouldBlock` when someone else holds it, or the underlying I/O error.
    fn lock(&self, path: &Path) -> io::Result<Box<dyn fmt::Debug + Send + Sync>>;
}

/// An open file. Appends go to the end; reads are positional, so readers and the one appender
/// share a handle.
pub trait FsFile: Send + Sync + fmt::Debug {
    /// Reads up to `buf.len()` bytes at byte `pos`; returns how many (0 at the end).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize>;
    /// Writes all of `data` at the end of the file.
    ///
    /// # Errors
    /// The underlying I/O error; part of `data` may have been written.
    fn append(&self, data: &[u8]) -> io::Result<()>;
    /// Makes the file's contents and size durable (fdatasync).
    ///
    /// # Errors
    /// The underlying I/O error; what was written since the last successful sync is then in
    /// an unknown state.
    fn sync(&self) -> io::Result<()>;
    /// Cuts the file to `len` bytes (durable after the next [`FsFile::sync`]).
    ///
    /// # Errors
    /// The underlying I/O error.
    fn truncate(&self, len: u64) -> io::Result<()>;
    /// The file's current size in bytes.
    ///
    /// # Errors
    /// The underlying I/O error.
    fn size(&self) -> io::Result<u64>;
}

/// Reads exactly `buf.len()` bytes at `pos`, failing with `UnexpectedEof` past the end.
///
/// # Errors
/// The underlying I/O error or `UnexpectedEof`.
pub(crate) fn read_exact_at(file: &dyn FsFile, buf: &mut [u8], mut pos: u64) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], pos)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                done += n;
                pos += n as u64;
            }
        }
    }
    Ok(())
}

/// Reads a whole (small) file.
///
/// # Errors
/// The underlying I/O error.
pub(crate) fn read_all(file: &dyn FsFile) -> io::Result<Vec<u8>> {
    let len = usize::try_from(file.size()?).map_err(io::Error::other)?;
    let mut buf = vec![0; len];
    read_exact_at(file, &mut buf, 0)?;
    Ok(buf)
}

/// The real filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdFs;

impl Filesystem for StdFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.create_dir_all(parent)?;
        }
        match std::fs::create_dir(dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
        match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => self.sync_dir(parent),
            None => Ok(()),
        }
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn FsFile>> {
        let file = OpenOptions::new().read(true).append(true).open(path)?;
        Ok(Arc::new(StdFile(file)))
    }

    fn create(&self, path: &Path) -> io::Result<Arc<dyn FsFile>> {
        OpenOptions::new().write(true).create(true).truncate(true).open(path)?;
        self.open(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            if let Ok(name) = entry?.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn fmt::Debug + Send + Sync>> {
        let file = OpenOptions::new().write(true).create(true).truncate(false).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(file)),
            Err(TryLockError::WouldBlock) => {
                Err(io::Error::new(io::ErrorKind::WouldBlock, "held by another process"))
            }
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

/// A file of [`StdFs`].
#[derive(Debug)]
struct StdFile(File);

impl FsFile for StdFile {
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        loop {
            match self.0.read_at(buf, pos) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    fn append(&self, data: &[u8]) -> io::Result<()> {
        (&self.0).write_all(data)
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
}
