//! File names under the log's root and the multi-step file operations built on [`Filesystem`].

use super::format::encode_header;
use super::fs::{Filesystem, FsFile};
use crate::{LogError, Topic};
use std::io;
use std::path::{Path, PathBuf};

/// Suffix of segment files.
pub(crate) const LOG_SUFFIX: &str = ".log";
/// Suffix of sparse index files.
pub(crate) const INDEX_SUFFIX: &str = ".idx";
/// Suffix of files being written before an atomic rename.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// `<root>/<topic>/<partition>`.
pub(crate) fn partition_dir(root: &Path, topic: Topic, partition: u32) -> PathBuf {
    root.join(topic.as_str()).join(partition.to_string())
}

/// `<dir>/<base, 20 digits>.log`.
pub(crate) fn segment_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}{LOG_SUFFIX}"))
}

/// `<dir>/<base, 20 digits>.idx`.
pub(crate) fn index_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{base:020}{INDEX_SUFFIX}"))
}

/// The base offset in a segment or index file name with `suffix`.
pub(crate) fn parse_base(name: &str, suffix: &str) -> Option<u64> {
    let stem = name.strip_suffix(suffix)?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse().ok())?
}

/// An I/O error on `path`.
pub(crate) fn io_error(path: &Path, source: io::Error) -> LogError {
    LogError::Io { path: path.display().to_string(), source }
}

/// Extension trait naming the file in I/O errors.
pub(crate) trait IoContext<T> {
    /// Maps the error to [`LogError::Io`] on `path`.
    fn on(self, path: &Path) -> Result<T, LogError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn on(self, path: &Path) -> Result<T, LogError> {
        self.map_err(|e| io_error(path, e))
    }
}

/// Writes the header of a new, empty segment file starting at `base`, syncs it, then syncs the
/// directory: afterwards the segment exists durably.
///
/// # Errors
/// The failed step's error and path.
pub(crate) fn init_segment(
    fs: &dyn Filesystem,
    dir: &Path,
    base: u64,
    file: &dyn FsFile,
) -> Result<(), LogError> {
    let path = segment_path(dir, base);
    file.append(&encode_header(base)).on(&path)?;
    file.sync().on(&path)?;
    fs.sync_dir(dir).on(dir)
}

/// Replaces `path` with `bytes` atomically: a temporary file written and synced, then renamed
/// over it; with `durable`, the directory is synced too so the rename survives a crash.
///
/// # Errors
/// The failed step's error and path.
pub(crate) fn write_atomic(
    fs: &dyn Filesystem,
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> Result<(), LogError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(TMP_SUFFIX);
    let tmp = PathBuf::from(tmp);
    let file = fs.create(&tmp).on(&tmp)?;
    file.append(bytes).on(&tmp)?;
    file.sync().on(&tmp)?;
    drop(file);
    fs.rename(&tmp, path).on(path)?;
    match (durable, path.parent()) {
        (true, Some(dir)) => fs.sync_dir(dir).on(dir),
        _ => Ok(()),
    }
}

/// Removes a file, treating "already gone" as done.
///
/// # Errors
/// Other I/O errors.
pub(crate) fn remove_if_exists(fs: &dyn Filesystem, path: &Path) -> Result<(), LogError> {
    match fs.remove(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_sort_by_offset_and_parse_back() {
        let dir = Path::new("/r");
        let p = segment_path(dir, 42);
        assert_eq!(p, Path::new("/r/00000000000000000042.log"));
        let name = p.file_name().and_then(|n| n.to_str()).unwrap();
        assert_eq!(parse_base(name, LOG_SUFFIX), Some(42));
        assert_eq!(parse_base("00000000000000000042.idx", INDEX_SUFFIX), Some(42));
        for bad in
            ["42.log", "0000000000000000004x.log", "00000000000000000042.log.tmp", "99999999999999999999.log"]
        {
            assert_eq!(parse_base(bad, LOG_SUFFIX), None, "{bad}");
        }
    }
}
