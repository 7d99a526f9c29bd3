//! The embedded log: segmented, checksummed files on local disk, fsync'd before an append
//! returns. The default adapter, and the platform's source of truth in single-node mode.
//!
//! # Layout
//!
//! ```text
//! <root>/<topic>/<partition>/<base>.log     segment: records from offset <base> on
//! <root>/<topic>/<partition>/<base>.idx     sparse index of a sealed segment
//! <root>/groups/<group>/<topic>.<partition>.commit   a consumer group's committed offset
//! <root>/LOCK                               locked while a process has the log open
//! ```
//!
//! `<base>` is the segment's first offset in 20 decimal digits, so names sort by offset.
//! `<group>` is the group name with bytes outside `[A-Za-z0-9_-]` written `%XX`. Files ending
//! in `.tmp` are unfinished atomic writes and are deleted on open. All integers are
//! little-endian; every checksum is CRC32C (Castagnoli, hardware-accelerated).
//!
//! # Segment format (version 1)
//!
//! A segment starts with a 20-byte header, then holds frames back to back:
//!
//! | bytes | field | |
//! |---|---|---|
//! | 0..4 | magic `WLOG` | |
//! | 4..6 | format version (`1`) | u16 |
//! | 6..8 | flags (`0`) | u16 |
//! | 8..16 | base offset | u64 |
//! | 16..20 | CRC32C of bytes 0..16 | u32 |
//!
//! Each record is one frame; offsets in a segment are dense from its base:
//!
//! | bytes | field | |
//! |---|---|---|
//! | 0..4 | body length *n* (everything after the checksum) | u32 |
//! | 4..8 | CRC32C of the body | u32 |
//! | 8..16 | offset | u64 |
//! | 16..24 | timestamp, Unix ms | i64 |
//! | 24..28 | key length *k*, `0xFFFF_FFFF` = no key | u32 |
//! | 28..28+*k* | key | |
//! | 28+*k*..8+*n* | payload | |
//!
//! A frame is valid when its length covers the fixed fields, its checksum matches, its key
//! fits, and its offset is the one expected at that point. Readers check every frame they
//! return; a corrupt frame is reported as [`LogError::Corrupt`] naming file and byte, never
//! returned.
//!
//! # Index format
//!
//! When a segment is sealed, its sparse index is written to `<base>.idx` (temporary file,
//! sync, rename): magic `WIDX`, version u16, 2 reserved bytes, then base, next offset,
//! segment length in bytes, smallest and largest timestamp (5 × 8 bytes), then one entry
//! (offset u64, byte position u64) per `index_interval_bytes` of records, then a CRC32C of all
//! that. The index is derived data: when it is missing, damaged, or names another length than
//! the segment file has, it is rebuilt by scanning the segment. The active segment's index
//! lives in memory (rebuilt by the recovery scan). A read seeks to the last entry at or before
//! the wanted offset and scans at most `index_interval_bytes` of records to reach it.
//!
//! # Durability and group commit
//!
//! [`Log::append`] sends its batch to one writer thread over a bounded queue (at most
//! `queue_capacity` requests and `max_pending_bytes` bytes are queued or being written; more
//! callers wait: backpressure). The writer takes every request that is waiting (up to
//! `max_group_bytes`), assigns offsets, encodes the frames into a buffer that it writes out
//! every 256 KiB (no per-record write), fdatasyncs each touched segment once, then publishes
//! the new records to readers and answers every caller. An append returns only
//! after the sync covering its batch succeeded, so an acknowledged record survives a process
//! or machine crash. Readers only see records whose sync succeeded: an offset they read is
//! never reused.
//!
//! A segment is rolled before it would exceed `segment_bytes` (a record larger than that gets
//! a segment of its own): the old one is synced and its index file written, then the new one
//! is created with its header synced and the directory synced. So every segment but the last
//! is whole and durable before a later one exists.
//!
//! # Failures
//!
//! If a write or sync fails, every caller in that group gets the error, the writer cuts the
//! touched segments back to their last synced length (best effort), and those partitions
//! refuse further appends until the log is reopened. A sync failure leaves the file's unsynced
//! pages in an unknown state (Linux may drop them and report success later), so continuing to
//! append could acknowledge records next to garbage; recovery on reopen re-establishes what is
//! really on disk.
//!
//! What a failed append may leave behind: nothing is visible to readers of the running log.
//! After a reopen, a prefix of the failed group's records of a partition may be there, each
//! whole, checksum-valid, at the offsets it was assigned (directly after the last acknowledged
//! record, dense, in order): delivery is at-least-once, so a caller that retries may store a
//! record twice. Records of an append that reported success are never lost or reordered.
//!
//! # Recovery
//!
//! Opening the log, per partition: temporary files and index files without a segment are
//! deleted; sealed segments are opened through their index file (or scanned, and their index
//! rewritten, where it is missing or stale), and a bad frame in one is [`LogError::Corrupt`]
//! (they were synced whole, so damage there is not a torn write); the last segment is scanned
//! frame by frame and cut at the first invalid or out-of-sequence frame (a torn tail of a
//! group that never finished syncing), then synced. A last segment whose header is torn and
//! which holds no valid first record was never durably created and is removed; a damaged
//! header followed by a valid record is corruption. Segments must continue each other's
//! offsets, or the open fails with [`LogError::Corrupt`]. [`EmbeddedLog::recovery`] lists
//! what was cut off.
//!
//! # Consumer groups
//!
//! A commit is a 16-byte file: magic `WCMT`, next offset u64, CRC32C of the first 12 bytes.
//! It is replaced atomically (temporary file synced, renamed, directory synced) before
//! [`Log::ack`] returns; an ack that is not ahead of the committed offset is ignored, so
//! commits never move backwards. [`Log::fetch`] reads from the committed offset.
//!
//! # Retention
//!
//! [`Log::apply_retention`] works on whole segments, oldest first: a sealed segment goes when
//! its newest record is older than `max_age`, or while the partition holds more than
//! `max_bytes`. When every record of the active segment is older than `max_age`, it is rolled
//! first so it can go too. Reads below the first retained offset start at it. Deletions are
//! synced one segment at a time, so a crash leaves a contiguous run of segments.
//!
//! [`Log::append`]: crate::Log::append
//! [`Log::ack`]: crate::Log::ack
//! [`Log::fetch`]: crate::Log::fetch
//! [`Log::apply_retention`]: crate::Log::apply_retention
//! [`LogError::Corrupt`]: crate::LogError::Corrupt

mod adapter;
mod files;
mod format;
mod fs;
mod groups;
mod index;
mod memfs;
mod partition;
mod recovery;
mod segment;
mod tail;
mod writer;

pub use adapter::EmbeddedLog;
pub use fs::{Filesystem, FsFile, StdFs};
pub use memfs::MemFs;
pub use recovery::Truncation;

use serde::Deserialize;

/// Tuning of the embedded log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedOptions {
    /// Roll a segment before it would exceed this many bytes (default 64 MiB).
    pub segment_bytes: u64,
    /// Index one record per this many bytes of a segment (default 4 KiB).
    pub index_interval_bytes: u64,
    /// Largest accepted record, key plus payload, in bytes (default 16 MiB).
    pub max_record_bytes: usize,
    /// Appends queued for the writer before callers wait (default 1,024).
    pub queue_capacity: usize,
    /// Bytes of queued or in-flight appends before callers wait (default 64 MiB); a larger
    /// batch waits until it is alone.
    pub max_pending_bytes: usize,
    /// Bytes of requests gathered into one group commit (default 16 MiB).
    pub max_group_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            index_interval_bytes: 4 << 10,
            max_record_bytes: 16 << 20,
            queue_capacity: 1024,
            max_pending_bytes: 64 << 20,
            max_group_bytes: 16 << 20,
        }
    }
}

impl EmbeddedOptions {
    /// The options with every value raised to its minimum (and the record limit lowered to
    /// what the frame format can hold).
    fn normalized(self) -> Self {
        Self {
            segment_bytes: self.segment_bytes.max(format::HEADER_LEN + 1),
            index_interval_bytes: self.index_interval_bytes.max(1),
            max_record_bytes: self.max_record_bytes.min(u32::MAX as usize - format::BODY_FIXED),
            queue_capacity: self.queue_capacity.max(1),
            max_pending_bytes: self.max_pending_bytes.clamp(1, u32::MAX as usize),
            max_group_bytes: self.max_group_bytes.max(1),
        }
    }
}
