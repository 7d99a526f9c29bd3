//! An in-memory [`Filesystem`] for tests: it fails writes and syncs on demand and simulates
//! crashes by keeping only what was made durable.
//!
//! Its durability model, deliberately adversarial within what POSIX promises:
//! - a file's bytes are durable up to its last successful [`FsFile::sync`]; a crash keeps
//!   those plus a random prefix of what was appended since (a torn tail);
//! - a truncation below the synced length is undone by a crash unless synced;
//! - creations, renames and removals are durable only once their directory is synced
//!   ([`Filesystem::sync_dir`]); a crash restores the directory as of its last sync;
//! - directories themselves are durable as soon as they are created;
//! - a failed write may leave a random prefix of its data; a failed sync may have made a
//!   random prefix of the unsynced bytes durable, or none.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::fs::{Filesystem, FsFile};

/// The fault-injecting in-memory filesystem. Clones share the same files.
#[derive(Clone, Debug)]
pub struct MemFs {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    dirs: BTreeSet<PathBuf>,
    live: BTreeMap<PathBuf, Arc<Inode>>,
    durable: BTreeMap<PathBuf, Arc<Inode>>,
    locks: BTreeSet<PathBuf>,
    fail_write_after: Option<u32>,
    fail_sync_after: Option<u32>,
    rng: u64,
    syncs: u64,
    sync_delay: Duration,
}

#[derive(Debug, Default)]
struct Inode {
    data: Mutex<Data>,
}

#[derive(Debug, Default)]
struct Data {
    live: Vec<u8>,
    synced: usize,
    /// The durable contents when a truncation made them differ from a prefix of `live`.
    stale: Option<Vec<u8>>,
}

/// A lock held on a path of [`MemFs`], released on drop.
#[derive(Debug)]
struct MemLock {
    fs: MemFs,
    path: PathBuf,
}

impl Drop for MemLock {
    fn drop(&mut self) {
        self.fs.state().locks.remove(&self.path);
    }
}

/// A file of [`MemFs`].
#[derive(Debug)]
struct MemFile {
    inode: Arc<Inode>,
    fs: MemFs,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display()))
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} failure"))
}

/// Counts down an armed fault; true when this operation must fail.
fn trips(fault: &mut Option<u32>) -> bool {
    match fault {
        Some(0) => {
            *fault = None;
            true
        }
        Some(n) => {
            *n -= 1;
            false
        }
        None => false,
    }
}

impl State {
    /// The next pseudo-random number (splitmix64).
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn check_parent(&self, path: &Path) -> io::Result<()> {
        match path.parent() {
            Some(p) if self.dirs.contains(p) => Ok(()),
            _ => Err(not_found(path)),
        }
    }
}

impl Data {
    /// What survives a crash, keeping `r % (unsynced + 1)` unsynced bytes.
    fn crash_image(&self, r: u64) -> Vec<u8> {
        if let Some(stale) = &self.stale {
            return stale.clone();
        }
        let unsynced = (self.live.len() - self.synced) as u64;
        self.live[..self.synced + (r % (unsynced + 1)) as usize].to_vec()
    }
}

impl MemFs {
    /// An empty filesystem whose random choices (torn tails) follow `seed`.
    pub fn new(seed: u64) -> Self {
        let state = State { rng: seed, ..State::default() };
        Self { state: Arc::new(Mutex::new(state)) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Makes the write after the next `after` successful ones fail (once).
    pub fn fail_write(&self, after: u32) {
        self.state().fail_write_after = Some(after);
    }

    /// Makes the sync (of a file or directory) after the next `after` successful ones fail (once).
    pub fn fail_sync(&self, after: u32) {
        self.state().fail_sync_after = Some(after);
    }

    /// Disarms faults that have not fired.
    pub fn clear_faults(&self) {
        let mut s = self.state();
        (s.fail_write_after, s.fail_sync_after) = (None, None);
    }

    /// Makes every file sync sleep this long (to let concurrent appends queue up).
    pub fn set_sync_delay(&self, delay: Duration) {
        self.state().sync_delay = delay;
    }

    /// How many file syncs succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.state().syncs
    }

    /// Simulates a machine crash: every file reverts to its durable contents plus a random
    /// prefix of its unsynced tail, every directory to its last synced listing. Handles opened
    /// before the crash no longer reach the new files.
    pub fn crash(&self) {
        let mut s = self.state();
        let mut fresh: HashMap<*const Inode, Arc<Inode>> = HashMap::new();
        let mut files = BTreeMap::new();
        for (path, old) in s.durable.clone() {
            let r = s.random();
            let new = fresh.entry(Arc::as_ptr(&old)).or_insert_with(|| {
                let live = lock(&old.data).crash_image(r);
                Arc::new(Inode { data: Mutex::new(Data { synced: live.len(), live, stale: None }) })
            });
            files.insert(path, Arc::clone(new));
        }
        s.live = files.clone();
        s.durable = files;
        (s.fail_write_after, s.fail_sync_after) = (None, None);
    }

    fn sync_fault(&self) -> Result<Duration, u64> {
        let mut s = self.state();
        if trips(&mut s.fail_sync_after) { Err(s.random()) } else { Ok(s.sync_delay) }
    }
}

impl Filesystem for MemFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.state();
        for d in dir.ancestors().filter(|d| !d.as_os_str().is_empty()) {
            s.dirs.insert(d.to_path_buf());
        }
        Ok(())
    }

    fn open(&self, path: &Path) -> io::Result<Arc<dyn FsFile>> {
        let inode = self.state().live.get(path).cloned().ok_or_else(|| not_found(path))?;
        Ok(Arc::new(MemFile { inode, fs: self.clone() }))
    }

    fn create(&self, path: &Path) -> io::Result<Arc<dyn FsFile>> {
        let mut s = self.state();
        s.check_parent(path)?;
        let inode = Arc::new(Inode::default());
        s.live.insert(path.to_path_buf(), Arc::clone(&inode));
        Ok(Arc::new(MemFile { inode, fs: self.clone() }))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.state();
        if !s.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        let children = s.live.keys().chain(s.dirs.iter()).filter(|p| p.parent() == Some(dir));
        Ok(children.filter_map(|p| p.file_name()?.to_str().map(str::to_owned)).collect())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.state();
        s.check_parent(to)?;
        let inode = s.live.remove(from).ok_or_else(|| not_found(from))?;
        s.live.insert(to.to_path_buf(), inode);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.state().live.remove(path).map(drop).ok_or_else(|| not_found(path))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.sync_fault().map_err(|_| injected("directory sync"))?;
        let mut s = self.state();
        if !s.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        s.durable.retain(|p, _| p.parent() != Some(dir));
        let entries: Vec<_> = s
            .live
            .iter()
            .filter(|(p, _)| p.parent() == Some(dir))
            .map(|(p, i)| (p.clone(), Arc::clone(i)))
            .collect();
        s.durable.extend(entries);
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Box<dyn std::fmt::Debug + Send + Sync>> {
        Ok(Box::new(self.take_lock(path)?))
    }
}

impl MemFs {
    fn take_lock(&self, path: &Path) -> io::Result<MemLock> {
        if !self.state().locks.insert(path.to_path_buf()) {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "held by another handle"));
        }
        Ok(MemLock { fs: self.clone(), path: path.to_path_buf() })
    }
}

impl FsFile for MemFile {
    fn read_at(&self, buf: &mut [u8], pos: u64) -> io::Result<usize> {
        let d = lock(&self.inode.data);
        let start = usize::try_from(pos).map_err(io::Error::other)?.min(d.live.len());
        let n = buf.len().min(d.live.len() - start);
        buf[..n].copy_from_slice(&d.live[start..start + n]);
        Ok(n)
    }

    fn append(&self, data: &[u8]) -> io::Result<()> {
        let torn = {
            let mut s = self.fs.state();
            trips(&mut s.fail_write_after).then(|| s.random())
        };
        let mut d = lock(&self.inode.data);
        match torn {
            None => {
                d.live.extend_from_slice(data);
                Ok(())
            }
            Some(r) => {
                d.live.extend_from_slice(&data[..(r % (data.len() as u64 + 1)) as usize]);
                Err(injected("write"))
            }
        }
    }

    fn sync(&self) -> io::Result<()> {
        match self.fs.sync_fault() {
            Ok(delay) => {
                if !delay.is_zero() {
                    std::thread::sleep(delay);
                }
                let mut d = lock(&self.inode.data);
                (d.synced, d.stale) = (d.live.len(), None);
                drop(d);
                self.fs.state().syncs += 1;
                Ok(())
            }
            Err(r) => {
                let mut d = lock(&self.inode.data);
                if d.stale.is_none() {
                    let unsynced = (d.live.len() - d.synced) as u64;
                    d.synced += (r % (unsynced + 1)) as usize;
                }
                Err(injected("sync"))
            }
        }
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(io::Error::other)?;
        let mut d = lock(&self.inode.data);
        if len < d.synced && d.stale.is_none() {
            d.stale = Some(d.live[..d.synced].to_vec());
        }
        d.synced = d.synced.min(len);
        d.live.resize(len, 0);
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(lock(&self.inode.data).live.len() as u64)
    }
}
