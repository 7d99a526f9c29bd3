//! Opening a partition: find its segments, trust sealed ones through their index files (or
//! rebuild those), scan the last one, cut off a torn tail, and check that offsets are dense.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::files::{
    INDEX_SUFFIX, IoContext, LOG_SUFFIX, TMP_SUFFIX, index_path, init_segment, parse_base, remove_if_exists,
    segment_path, write_atomic,
};
use super::format::{Decoded, FRAME_PREFIX, HEADER_LEN, decode_frame, decode_header, le_u32};
use super::fs::{Filesystem, FsFile, read_all, read_exact_at};
use super::index::SegmentMeta;
use super::partition::SegmentView;
use super::segment::scan;
use crate::LogError;

/// Bytes cut off a segment, or a segment removed, while opening the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub path: PathBuf,
    /// Bytes kept (0 when the file was removed).
    pub kept_bytes: u64,
    /// Bytes dropped.
    pub dropped_bytes: u64,
    /// What was wrong at the cut.
    pub reason: String,
}

/// A recovered partition: sealed segments, the active one, and what was cut off.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// Every segment, oldest first, the active one last.
    pub segments: Vec<SegmentView>,
    /// Torn data removed.
    pub truncations: Vec<Truncation>,
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> LogError {
    LogError::Corrupt { path: path.display().to_string(), offset, reason: reason.into() }
}

/// The segment files of `dir` by base offset; removes leftover temporary files and index
/// files without a segment.
fn inventory(fs: &dyn Filesystem, dir: &Path) -> Result<BTreeSet<u64>, LogError> {
    let names = fs.list(dir).on(dir)?;
    let logs: BTreeSet<u64> = names.iter().filter_map(|n| parse_base(n, LOG_SUFFIX)).collect();
    for name in &names {
        let orphan = parse_base(name, INDEX_SUFFIX).is_some_and(|b| !logs.contains(&b));
        if orphan || name.ends_with(TMP_SUFFIX) {
            remove_if_exists(fs, &dir.join(name))?;
        }
    }
    Ok(logs)
}

/// Recovers the partition stored in `dir`, indexing every `interval` bytes.
///
/// # Errors
/// [`LogError::Corrupt`] for damage that is not a torn tail (a bad sealed segment, a missing
/// segment); [`LogError::Io`].
pub(crate) fn recover(fs: &dyn Filesystem, dir: &Path, interval: u64) -> Result<Recovered, LogError> {
    fs.create_dir_all(dir).on(dir)?;
    let mut bases = inventory(fs, dir)?;
    let mut truncations = Vec::new();
    let mut fallback = 0;
    let active = loop {
        let Some(base) = bases.pop_last() else { break None };
        match open_last(fs, dir, base, interval, &mut truncations)? {
            Some(view) => break Some(view),
            None => fallback = base,
        }
    };
    let active = match active {
        Some(view) => view,
        None => new_segment(fs, dir, fallback)?,
    };
    remove_if_exists(fs, &index_path(dir, active.meta.base))?;
    let mut segments = Vec::with_capacity(bases.len() + 1);
    for base in bases {
        segments.push(open_sealed(fs, dir, base, interval)?);
    }
    segments.push(active);
    check_dense(&segments)?;
    Ok(Recovered { segments, truncations })
}

/// Creates an empty segment at `base`.
fn new_segment(fs: &dyn Filesystem, dir: &Path, base: u64) -> Result<SegmentView, LogError> {
    let path = segment_path(dir, base);
    let file = fs.create(&path).on(&path)?;
    init_segment(fs, dir, base, &*file)?;
    Ok(SegmentView { path, file, meta: SegmentMeta::empty(base) })
}

/// Fails unless each segment starts where the previous one ends.
fn check_dense(segments: &[SegmentView]) -> Result<(), LogError> {
    for w in segments.windows(2) {
        if w[1].meta.base != w[0].meta.next {
            let reason = format!(
                "segment starts at offset {} but the previous one ends at {}",
                w[1].meta.base, w[0].meta.next
            );
            return Err(corrupt(&w[1].path, 0, reason));
        }
    }
    Ok(())
}

/// Checks a segment's header against the base in its name.
fn check_header(
    file: &dyn FsFile,
    path: &Path,
    base: u64,
    size: u64,
) -> Result<Result<(), &'static str>, LogError> {
    let mut h = vec![0u8; HEADER_LEN.min(size) as usize];
    read_exact_at(file, &mut h, 0).on(path)?;
    Ok(match decode_header(&h) {
        Ok(b) if b == base => Ok(()),
        Ok(_) => Err("segment header names another base offset than the file name"),
        Err(reason) => Err(reason),
    })
}

/// Opens the newest segment and cuts off its torn tail. `None`: the segment never finished
/// being created (its header is torn and no record follows it); it has been removed.
fn open_last(
    fs: &dyn Filesystem,
    dir: &Path,
    base: u64,
    interval: u64,
    truncations: &mut Vec<Truncation>,
) -> Result<Option<SegmentView>, LogError> {
    let path = segment_path(dir, base);
    let file = fs.open(&path).on(&path)?;
    let size = file.size().on(&path)?;
    if let Err(reason) = check_header(&*file, &path, base, size)? {
        if record_follows_header(&*file, &path, base, size)? {
            return Err(corrupt(&path, 0, reason));
        }
        fs.remove(&path).on(&path)?;
        remove_if_exists(fs, &index_path(dir, base))?;
        fs.sync_dir(dir).on(dir)?;
        let reason = format!("{reason}: the segment was never durably created");
        truncations.push(Truncation { path, kept_bytes: 0, dropped_bytes: size, reason });
        return Ok(None);
    }
    let found = scan(&*file, base, size, interval).on(&path)?;
    if let Some((_, reason)) = found.stop {
        file.truncate(found.meta.len).on(&path)?;
        let (kept_bytes, dropped_bytes) = (found.meta.len, size - found.meta.len);
        truncations.push(Truncation {
            path: path.clone(),
            kept_bytes,
            dropped_bytes,
            reason: reason.to_owned(),
        });
    }
    // What recovery found may have been written but never synced (a crash during a group):
    // make it durable before anyone reads it.
    file.sync().on(&path)?;
    Ok(Some(SegmentView { path, file, meta: found.meta }))
}

/// Whether a valid first record follows a (damaged) header: then the header was damaged
/// after the segment held data, which is corruption, not a torn creation.
fn record_follows_header(file: &dyn FsFile, path: &Path, base: u64, size: u64) -> Result<bool, LogError> {
    let mut prefix = [0u8; FRAME_PREFIX];
    if size < HEADER_LEN + FRAME_PREFIX as u64 {
        return Ok(false);
    }
    read_exact_at(file, &mut prefix, HEADER_LEN).on(path)?;
    let total = FRAME_PREFIX as u64 + u64::from(le_u32(&prefix));
    if size - HEADER_LEN < total {
        return Ok(false);
    }
    let mut frame = vec![0u8; total as usize];
    read_exact_at(file, &mut frame, HEADER_LEN).on(path)?;
    Ok(matches!(decode_frame(&frame), Decoded::Frame(f) if f.offset == base))
}

/// Opens a sealed segment through its index file, or scans it and writes the index file.
/// A sealed segment was synced whole before the next one was created, so any defect is
/// corruption.
fn open_sealed(fs: &dyn Filesystem, dir: &Path, base: u64, interval: u64) -> Result<SegmentView, LogError> {
    let path = segment_path(dir, base);
    let file = fs.open(&path).on(&path)?;
    let size = file.size().on(&path)?;
    check_header(&*file, &path, base, size)?.map_err(|reason| corrupt(&path, 0, reason))?;
    if let Some(meta) = load_index(fs, &index_path(dir, base)).filter(|m| m.base == base && m.len == size) {
        return Ok(SegmentView { path, file, meta });
    }
    let found = scan(&*file, base, size, interval).on(&path)?;
    if let Some((pos, reason)) = found.stop {
        return Err(corrupt(&path, pos, reason));
    }
    write_atomic(fs, &index_path(dir, base), &found.meta.encode(), false)?;
    Ok(SegmentView { path, file, meta: found.meta })
}

/// The index file's contents, if it exists and is intact.
fn load_index(fs: &dyn Filesystem, path: &Path) -> Option<SegmentMeta> {
    let file: Arc<dyn FsFile> = fs.open(path).ok()?;
    SegmentMeta::decode(&read_all(&*file).ok()?)
}
