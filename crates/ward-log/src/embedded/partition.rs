//! A partition as readers see it: its segments, each up to its durable end.
//!
//! The writer publishes here only after a sync succeeded, so everything a reader can reach is
//! durable, and bytes below a segment's published length never change (appends go past it,
//! a failed group's rollback truncates only past it), which lets reads run without the lock.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::format::HEADER_LEN;
use super::fs::FsFile;
use super::index::{IndexEntry, SegmentMeta};
use super::segment::Span;
use crate::RetentionPolicy;

/// A partition's view, shared by the writer (which publishes) and readers.
pub(crate) type SharedView = Arc<Mutex<PartitionView>>;

/// One segment of a partition.
#[derive(Debug)]
pub(crate) struct SegmentView {
    /// The segment file's path.
    pub path: PathBuf,
    /// The open segment file.
    pub file: Arc<dyn FsFile>,
    /// What it durably holds.
    pub meta: SegmentMeta,
}

/// The writer's report of a segment's new durable state; `meta.index` holds only the entries
/// added since the previous update of the same segment.
#[derive(Debug)]
pub(crate) struct ViewUpdate {
    /// The segment file's path.
    pub path: PathBuf,
    /// The open segment file.
    pub file: Arc<dyn FsFile>,
    /// Its durable state, with only the new index entries.
    pub meta: SegmentMeta,
}

/// The segments of one partition, oldest first; never empty once the log is open.
#[derive(Debug)]
pub(crate) struct PartitionView {
    segments: VecDeque<SegmentView>,
}

impl PartitionView {
    /// A view over recovered segments, oldest first.
    pub(crate) fn new(segments: Vec<SegmentView>) -> Self {
        Self { segments: segments.into() }
    }

    /// The first retained offset.
    pub(crate) fn first(&self) -> u64 {
        self.segments.front().map_or(0, |s| s.meta.base)
    }

    /// The offset after the last durable record.
    pub(crate) fn next(&self) -> u64 {
        self.segments.back().map_or(0, |s| s.meta.next)
    }

    /// Bytes of the segment files, headers included.
    pub(crate) fn bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.meta.len).sum()
    }

    /// Applies a writer's update: the active segment grows, or a new segment starts.
    pub(crate) fn apply(&mut self, update: ViewUpdate) {
        match self.segments.back_mut() {
            Some(last) if last.meta.base == update.meta.base => {
                let m = &mut last.meta;
                (m.next, m.len, m.min_ts, m.max_ts) =
                    (update.meta.next, update.meta.len, update.meta.min_ts, update.meta.max_ts);
                m.index.extend_from_slice(&update.meta.index);
                m.last_indexed = update.meta.last_indexed;
            }
            _ => self.segments.push_back(SegmentView {
                path: update.path,
                file: update.file,
                meta: update.meta,
            }),
        }
    }

    /// The stretches of segment files holding up to `max` records from `from` (or from the
    /// first retained offset when `from` is below it); empty past the end. Returns the
    /// effective start with them.
    pub(crate) fn plan(&self, from: u64, max: usize) -> (u64, Vec<Span>) {
        let start = from.max(self.first());
        let mut spans = Vec::new();
        if start >= self.next() || max == 0 {
            return (start, spans);
        }
        let first = self.segments.partition_point(|s| s.meta.base <= start).saturating_sub(1);
        let mut covered = 0u64;
        for (i, s) in self.segments.iter().enumerate().skip(first) {
            let entry = match i == first {
                true => s.meta.seek(start),
                false => IndexEntry { offset: s.meta.base, pos: HEADER_LEN },
            };
            let file = Arc::clone(&s.file);
            spans.push(Span {
                path: s.path.clone(),
                file,
                pos: entry.pos,
                first_offset: entry.offset,
                end: s.meta.len,
            });
            covered += s.meta.next.saturating_sub(start.max(s.meta.base));
            if covered >= max as u64 {
                break;
            }
        }
        (start, spans)
    }

    /// Whether the active (last) segment holds records, all older than `cutoff`.
    pub(crate) fn active_expired(&self, cutoff: i64) -> bool {
        self.segments.back().is_some_and(|s| !s.meta.is_empty() && s.meta.max_ts < cutoff)
    }

    /// Detaches the oldest sealed segments the policy no longer keeps: those whose newest
    /// record is older than `cutoff`, then those beyond the byte budget; never the active one,
    /// never one after a segment that is kept.
    pub(crate) fn take_expired(&mut self, policy: &RetentionPolicy, cutoff: Option<i64>) -> Vec<SegmentView> {
        let mut total = self.bytes();
        let mut gone = Vec::new();
        while self.segments.len() > 1 {
            let meta = &self.segments[0].meta;
            let old = cutoff.is_some_and(|c| meta.max_ts < c);
            let over = policy.max_bytes.is_some_and(|max| total > max);
            if !(old || over) {
                break;
            }
            total -= meta.len;
            gone.extend(self.segments.pop_front());
        }
        gone
    }
}
