//! Sequential reading of a segment's frames: the read path and the recovery scan.

use std::io;
use std::path::Path;

use super::format::{Decoded, FRAME_PREFIX, Frame, decode_frame, le_u32};
use super::fs::{FsFile, read_exact_at};
use super::index::SegmentMeta;
use crate::{LogError, StoredRecord};

/// Why a cursor stopped before its end.
#[derive(Debug)]
pub(crate) enum Stop {
    /// Reading the file failed.
    Io(io::Error),
    /// The bytes at `pos` are not a whole valid frame.
    Invalid {
        /// Byte position of the bad frame.
        pos: u64,
        /// What check failed.
        reason: &'static str,
    },
}

impl Stop {
    /// The error a reader reports: data below the durable end must be valid.
    pub(crate) fn into_error(self, path: &Path) -> LogError {
        let path = path.display().to_string();
        match self {
            Self::Io(source) => LogError::Io { path, source },
            Self::Invalid { pos, reason } => {
                LogError::Corrupt { path, offset: pos, reason: reason.to_owned() }
            }
        }
    }
}

/// Reads the frames of `file` from byte `pos` up to byte `end`, in chunks.
pub(crate) struct Cursor<'f> {
    file: &'f dyn FsFile,
    buf: Vec<u8>,
    head: usize,
    pos: u64,
    end: u64,
    advance: usize,
    chunk: usize,
}

impl<'f> Cursor<'f> {
    /// A cursor at `pos`, reading `chunk` bytes at a time.
    pub(crate) fn new(file: &'f dyn FsFile, pos: u64, end: u64, chunk: usize) -> Self {
        Self { file, buf: Vec::new(), head: 0, pos, end, advance: 0, chunk }
    }

    /// Byte position of the frame last returned (or of the next one, before any).
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The next frame, `None` at the end.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Stop> {
        self.head += self.advance;
        self.pos += self.advance as u64;
        self.advance = 0;
        if self.pos >= self.end {
            return Ok(None);
        }
        let need = self.frame_size()?;
        if self.buf.len() - self.head < need {
            self.fill(need)?;
        }
        match decode_frame(&self.buf[self.head..]) {
            Decoded::Frame(f) => {
                self.advance = f.len;
                Ok(Some(f))
            }
            Decoded::Invalid(reason) => Err(Stop::Invalid { pos: self.pos, reason }),
            Decoded::Incomplete => Err(Stop::Invalid { pos: self.pos, reason: "incomplete frame" }),
        }
    }

    /// The total size of the frame at `pos`, checked to end before `end`.
    fn frame_size(&mut self) -> Result<usize, Stop> {
        let incomplete =
            Stop::Invalid { pos: self.pos, reason: "incomplete frame at the end of the segment" };
        if self.end - self.pos < FRAME_PREFIX as u64 {
            return Err(incomplete);
        }
        if self.buf.len() - self.head < FRAME_PREFIX {
            self.fill(FRAME_PREFIX)?;
        }
        let need = FRAME_PREFIX + le_u32(&self.buf[self.head..]) as usize;
        if self.end - self.pos < need as u64 {
            return Err(incomplete);
        }
        Ok(need)
    }

    /// Makes at least `need` bytes from `pos` available in the buffer.
    fn fill(&mut self, need: usize) -> Result<(), Stop> {
        self.buf.drain(..self.head);
        self.head = 0;
        let have = self.buf.len();
        let from = self.pos + have as u64;
        let want = (need - have).max(self.chunk).min(usize::try_from(self.end - from).unwrap_or(usize::MAX));
        self.buf.resize(have + want, 0);
        read_exact_at(self.file, &mut self.buf[have..], from).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                Stop::Invalid { pos: from, reason: "segment file is shorter than expected" }
            }
            _ => Stop::Io(e),
        })
    }
}

/// The result of scanning a segment: what it holds up to the first invalid frame.
#[derive(Debug)]
pub(crate) struct Scan {
    /// The valid prefix.
    pub meta: SegmentMeta,
    /// The first invalid frame's position and defect, if the scan did not reach the end.
    pub stop: Option<(u64, &'static str)>,
}

/// Scans the segment starting at `base` from its header to `end`, indexing every `interval`
/// bytes; stops at the first invalid frame or a frame whose offset is out of sequence.
///
/// # Errors
/// Read failures.
pub(crate) fn scan(file: &dyn FsFile, base: u64, end: u64, interval: u64) -> io::Result<Scan> {
    let mut meta = SegmentMeta::empty(base);
    let mut cur = Cursor::new(file, meta.len, end, 1 << 20);
    loop {
        let (offset, timestamp_ms, len) = match cur.next_frame() {
            Ok(Some(f)) => (f.offset, f.timestamp_ms, f.len as u64),
            Ok(None) => return Ok(Scan { meta, stop: None }),
            Err(Stop::Invalid { pos, reason }) => return Ok(Scan { meta, stop: Some((pos, reason)) }),
            Err(Stop::Io(e)) => return Err(e),
        };
        if offset != meta.next {
            return Ok(Scan { meta, stop: Some((cur.pos(), "record offset out of sequence")) });
        }
        meta.push(timestamp_ms, len, interval);
    }
}

/// A stretch of one segment to read: frames from `pos` (whose first record is
/// `first_offset`) up to byte `end`.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    /// The segment's path, for errors.
    pub path: std::path::PathBuf,
    /// The segment's file.
    pub file: std::sync::Arc<dyn FsFile>,
    /// Where to start.
    pub pos: u64,
    /// Offset of the record at `pos`.
    pub first_offset: u64,
    /// Where the durable records end.
    pub end: u64,
}

/// Most bytes read at a time by readers (fewer for small reads: ~1 KiB per wanted record,
/// at least 16 KiB).
const READ_CHUNK: usize = 256 * 1024;

/// Appends the records of `span` with offsets from `start` to `out`, until `out` holds `max`.
/// Every frame is checked: checksum, and offsets dense from `first_offset`.
///
/// # Errors
/// [`LogError::Corrupt`] naming the file and byte position of a bad frame; [`LogError::Io`].
pub(crate) fn read_span(
    span: &Span,
    partition: u32,
    start: u64,
    max: usize,
    out: &mut Vec<StoredRecord>,
) -> Result<(), LogError> {
    let chunk = max.saturating_sub(out.len()).saturating_mul(1024).clamp(16 * 1024, READ_CHUNK);
    let mut cur = Cursor::new(&*span.file, span.pos, span.end, chunk);
    let mut expected = span.first_offset;
    while out.len() < max {
        let Some(f) = cur.next_frame().map_err(|s| s.into_error(&span.path))? else { return Ok(()) };
        if f.offset != expected {
            let reason = format!("record offset {} where {expected} was expected", f.offset);
            return Err(LogError::Corrupt {
                path: span.path.display().to_string(),
                offset: cur.pos(),
                reason,
            });
        }
        expected += 1;
        if f.offset >= start {
            out.push(StoredRecord {
                partition,
                offset: f.offset,
                key: f.key.map(<[u8]>::to_vec),
                timestamp_ms: f.timestamp_ms,
                payload: f.payload.to_vec(),
            });
        }
    }
    Ok(())
}
