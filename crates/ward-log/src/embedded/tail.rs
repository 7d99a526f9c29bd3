//! A partition as the writer sees it: the active segment it appends to, the frames staged for
//! the current group, and whether an earlier failure stopped it.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use super::files::{IoContext, index_path, init_segment, segment_path, write_atomic};
use super::format::{encode_frame, frame_len};
use super::fs::{Filesystem, FsFile};
use super::index::SegmentMeta;
use super::partition::{SharedView, ViewUpdate};
use crate::{LogError, Record};

/// Writer settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WriterConfig {
    /// Roll the active segment before it would exceed this many bytes.
    pub segment_bytes: u64,
    /// Index a record every this many bytes.
    pub index_interval: u64,
    /// Stop gathering requests into a group past this many bytes.
    pub max_group_bytes: usize,
}

/// Staged frames are written out once this many bytes are buffered. Moderate writes let the
/// kernel start on a group while the rest is encoded; on the benchmark machine a group's
/// fdatasync'd throughput dropped by half with multi-MiB single writes.
const FLUSH_BYTES: usize = 256 << 10;

/// Why a group failed, kept as parts so that every caller in it gets its own error.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    path: String,
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    /// The failure behind a [`LogError`].
    pub(crate) fn from_error(e: &LogError) -> Self {
        match e {
            LogError::Io { path, source } => {
                Self { path: path.clone(), kind: source.kind(), message: source.to_string() }
            }
            other => Self { path: String::new(), kind: io::ErrorKind::Other, message: other.to_string() },
        }
    }

    /// A fresh error for one caller.
    pub(crate) fn error(&self) -> LogError {
        LogError::Io { path: self.path.clone(), source: io::Error::new(self.kind, self.message.clone()) }
    }
}

/// The durable state of the active segment: what readers have been shown.
#[derive(Clone, Copy, Debug)]
struct Mark {
    next: u64,
    len: u64,
    min_ts: i64,
    max_ts: i64,
    entries: usize,
    last_indexed: u64,
}

impl Mark {
    fn of(m: &SegmentMeta) -> Self {
        Self {
            next: m.next,
            len: m.len,
            min_ts: m.min_ts,
            max_ts: m.max_ts,
            entries: m.index.len(),
            last_indexed: m.last_indexed,
        }
    }
}

/// One partition's write side.
#[derive(Debug)]
pub(crate) struct WritePartition {
    dir: PathBuf,
    view: SharedView,
    path: PathBuf,
    file: Arc<dyn FsFile>,
    /// The active segment including staged records.
    meta: SegmentMeta,
    durable: Mark,
    buf: Vec<u8>,
    sealed: Vec<ViewUpdate>,
    poisoned: Option<Failure>,
}

impl WritePartition {
    /// The write side of a recovered partition whose active segment is `file`, durably
    /// holding `meta`.
    pub(crate) fn new(dir: PathBuf, view: SharedView, file: Arc<dyn FsFile>, meta: SegmentMeta) -> Self {
        let path = segment_path(&dir, meta.base);
        let durable = Mark::of(&meta);
        Self { dir, view, path, file, meta, durable, buf: Vec::new(), sealed: Vec::new(), poisoned: None }
    }

    /// The error appends get once a write or sync of this partition failed.
    pub(crate) fn poison_error(&self) -> Option<LogError> {
        let f = self.poisoned.as_ref()?;
        let message = format!(
            "partition refuses appends since a write or sync failed ({}); reopen the log to recover",
            f.message
        );
        Some(LogError::Io { path: self.dir.display().to_string(), source: io::Error::new(f.kind, message) })
    }

    /// Whether the active segment holds (durable or staged) records.
    pub(crate) fn has_records(&self) -> bool {
        !self.meta.is_empty()
    }

    /// Stages `rec` as the next record, rolling the segment first when it is full; returns
    /// the record's offset.
    pub(crate) fn stage(
        &mut self,
        fs: &dyn Filesystem,
        rec: &Record,
        cfg: &WriterConfig,
    ) -> Result<u64, LogError> {
        let len = frame_len(rec) as u64;
        if !self.meta.is_empty() && self.meta.len + len > cfg.segment_bytes {
            self.roll(fs)?;
        }
        let offset = self.meta.next;
        encode_frame(&mut self.buf, offset, rec);
        self.meta.push(rec.timestamp_ms, len, cfg.index_interval);
        if self.buf.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(offset)
    }

    /// Writes the staged frames to the segment file.
    pub(crate) fn flush(&mut self) -> Result<(), LogError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = self.file.append(&self.buf).on(&self.path);
        self.buf.clear();
        if self.buf.capacity() > 2 * FLUSH_BYTES {
            self.buf = Vec::new();
        }
        res
    }

    /// Makes everything staged durable.
    pub(crate) fn sync(&mut self) -> Result<(), LogError> {
        self.flush()?;
        self.file.sync().on(&self.path)
    }

    /// Seals the active segment (synced, index file written) and starts the next one. The
    /// writer switches to the new file as soon as it exists, so a failure after that point
    /// leaves the sealed segment whole.
    pub(crate) fn roll(&mut self, fs: &dyn Filesystem) -> Result<(), LogError> {
        self.sync()?;
        write_atomic(fs, &index_path(&self.dir, self.meta.base), &self.meta.encode(), false)?;
        let base = self.meta.next;
        let path = segment_path(&self.dir, base);
        let file = fs.create(&path).on(&path)?;
        let sealed = self.update();
        self.sealed.push(sealed);
        self.path = path;
        self.file = file;
        self.meta = SegmentMeta::empty(base);
        self.durable = Mark { len: 0, ..Mark::of(&self.meta) };
        init_segment(fs, &self.dir, base, &*self.file)?;
        self.durable = Mark::of(&self.meta);
        Ok(())
    }

    /// The active segment's update for readers; everything in it is now considered durable.
    fn update(&mut self) -> ViewUpdate {
        let mut meta = self.meta.clone();
        meta.index.drain(..self.durable.entries);
        self.durable = Mark::of(&self.meta);
        ViewUpdate { path: self.path.clone(), file: Arc::clone(&self.file), meta }
    }

    /// Shows readers what the group made durable.
    pub(crate) fn publish(&mut self) {
        let mut updates = std::mem::take(&mut self.sealed);
        updates.push(self.update());
        let mut view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
        updates.into_iter().for_each(|u| view.apply(u));
    }

    /// After a failed group: forgets what was staged, cuts the active file back to its
    /// durable length (best effort: whatever remains is sorted out by recovery on reopen),
    /// and refuses further appends.
    pub(crate) fn fail(&mut self, failure: &Failure) {
        let d = self.durable;
        (self.meta.next, self.meta.len, self.meta.min_ts, self.meta.max_ts) =
            (d.next, d.len, d.min_ts, d.max_ts);
        self.meta.index.truncate(d.entries);
        self.meta.last_indexed = d.last_indexed;
        self.buf.clear();
        self.sealed.clear();
        let _ = self.file.truncate(d.len);
        self.poisoned = Some(failure.clone());
    }
}
