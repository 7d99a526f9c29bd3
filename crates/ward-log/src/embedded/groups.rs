//! Consumer-group commits: one small file per group, topic and partition, replaced atomically
//! (temporary file written and synced, renamed over the old one, directory synced).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::files::{IoContext, io_error, write_atomic};
use super::format::{le_u32, le_u64};
use super::fs::{Filesystem, read_all};
use crate::{LogError, Topic};

/// First bytes of a commit file.
const COMMIT_MAGIC: [u8; 4] = *b"WCMT";
/// Bytes of a commit file: magic, next offset, CRC32C of the first 12 bytes.
const COMMIT_LEN: usize = 16;

type Key = (String, Topic, u32);

/// The committed positions of every consumer group, cached after the first load.
#[derive(Debug)]
pub(crate) struct Commits {
    fs: Arc<dyn Filesystem>,
    root: PathBuf,
    /// One cell per key, holding the last durable commit once known; its lock serializes
    /// commits of that key.
    cells: Mutex<HashMap<Key, Arc<Mutex<Option<u64>>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A group name as a file name: bytes outside `[A-Za-z0-9_-]` become `%XX`; the empty name
/// becomes `%`.
fn escape(group: &str) -> String {
    if group.is_empty() {
        return "%".to_owned();
    }
    let mut out = String::with_capacity(group.len() + 2);
    for b in group.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' => out.push(char::from(b)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn encode(next: u64) -> [u8; COMMIT_LEN] {
    let mut b = [0u8; COMMIT_LEN];
    b[..4].copy_from_slice(&COMMIT_MAGIC);
    b[4..12].copy_from_slice(&next.to_le_bytes());
    let crc = crc32c::crc32c(&b[..12]);
    b[12..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn decode(b: &[u8]) -> Option<u64> {
    let ok = b.len() == COMMIT_LEN && b[..4] == COMMIT_MAGIC && crc32c::crc32c(&b[..12]) == le_u32(&b[12..]);
    ok.then(|| le_u64(&b[4..12]))
}

impl Commits {
    /// Commits stored under `<root>/groups`.
    pub(crate) fn new(fs: Arc<dyn Filesystem>, root: &Path) -> Self {
        Self { fs, root: root.join("groups"), cells: Mutex::new(HashMap::new()) }
    }

    /// `<root>/groups/<escaped group>/<topic>.<partition>.commit`.
    fn path(&self, (group, topic, partition): &Key) -> PathBuf {
        self.root.join(escape(group)).join(format!("{topic}.{partition}.commit"))
    }

    fn cell(&self, key: &Key) -> Arc<Mutex<Option<u64>>> {
        Arc::clone(lock(&self.cells).entry(key.clone()).or_default())
    }

    fn load(&self, path: &Path) -> Result<u64, LogError> {
        let file = match self.fs.open(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            other => other.on(path)?,
        };
        let bytes = read_all(&*file).on(path)?;
        decode(&bytes).ok_or_else(|| LogError::Corrupt {
            path: path.display().to_string(),
            offset: 0,
            reason: "commit file is damaged".to_owned(),
        })
    }

    /// The committed position (0 when the group never committed). Blocks.
    ///
    /// # Errors
    /// [`LogError::Io`]; [`LogError::Corrupt`] for a damaged commit file.
    pub(crate) fn committed(&self, group: &str, topic: Topic, partition: u32) -> Result<u64, LogError> {
        let key = (group.to_owned(), topic, partition);
        let cell = self.cell(&key);
        let mut known = lock(&cell);
        match *known {
            Some(v) => Ok(v),
            None => {
                let v = self.load(&self.path(&key))?;
                *known = Some(v);
                Ok(v)
            }
        }
    }

    /// Commits `next` durably unless it is not ahead of the committed position. Blocks.
    /// After a failure the cached position stays the last durable one.
    ///
    /// # Errors
    /// [`LogError::Io`] when the commit could not be made durable.
    pub(crate) fn ack(&self, group: &str, topic: Topic, partition: u32, next: u64) -> Result<(), LogError> {
        let key = (group.to_owned(), topic, partition);
        let path = self.path(&key);
        let cell = self.cell(&key);
        let mut known = lock(&cell);
        let current = match *known {
            Some(v) => v,
            None => self.load(&path)?,
        };
        *known = Some(current);
        if next <= current {
            return Ok(());
        }
        let dir = path.parent().ok_or_else(|| io_error(&path, io::ErrorKind::InvalidInput.into()))?;
        self.fs.create_dir_all(dir).on(dir)?;
        write_atomic(&*self.fs, &path, &encode(next), true)?;
        *known = Some(next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_become_safe_distinct_file_names() {
        assert_eq!(escape("detect-sigma_1"), "detect-sigma_1");
        assert_eq!(escape("../x"), "%2E%2E%2Fx");
        assert_eq!(escape(""), "%");
        assert_ne!(escape("a.b"), escape("a%2Eb"));
    }

    #[test]
    fn commit_files_round_trip_and_damage_is_refused() {
        assert_eq!(decode(&encode(77)), Some(77));
        let mut bad = encode(77);
        bad[5] ^= 1;
        assert_eq!(decode(&bad), None);
        assert_eq!(decode(&encode(77)[..15]), None);
    }
}
