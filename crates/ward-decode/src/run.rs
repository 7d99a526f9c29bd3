//! Driving decoders over inputs: framing, limits, dead-lettering and counting.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use ward_model::Event;

use crate::detect::{HEAD_BYTES, detect};
use crate::frame::{self, Location};
use crate::input::{self, DirFilter, InputError};
use crate::{BuildError, DecodeContext, DecodeError, Decoder, Framing, SourceKind};

/// Default limit on one record: 1 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1 << 20;
/// Largest `.evtx` file read into memory.
const MAX_EVTX_BYTES: u64 = 4 << 30;

/// A record that could not be decoded, with everything needed to find and fix it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejection {
    /// The input (file, `archive.zip:entry`, or `-`).
    pub path: String,
    /// 1-based line of the record's start (EVTX: record ordinal).
    pub line: u64,
    /// Byte offset of the record's start.
    pub offset: u64,
    /// Why it was rejected.
    pub reason: String,
    /// The decoder that rejected it.
    pub source: &'static str,
}

/// Where decoded events and rejections go.
pub trait Sink {
    /// One decoded event.
    fn event(&mut self, event: Event);
    /// One rejected record.
    fn reject(&mut self, rejection: Rejection);
    /// The format chosen for an input under `--source auto` (`None`: not recognised, skipped).
    fn detected(&mut self, _path: &str, _kind: Option<SourceKind>) {}
    /// Bytes of input consumed so far in the current stream, for progress display.
    fn progress(&mut self, _bytes: u64) {}
}

/// Which decoder reads the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceSelection {
    /// One decoder for every input.
    Fixed(SourceKind),
    /// Detect the format per input.
    Auto,
}

/// Options for a decoding run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Decoder choice.
    pub selection: SourceSelection,
    /// Mapping file for the `json` decoder.
    pub mapping: Option<PathBuf>,
    /// Limit on one record, in bytes.
    pub max_record_bytes: usize,
    /// Tenant and clock.
    pub ctx: DecodeContext,
}

/// Counts per decoder.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SourceStats {
    /// Events produced.
    pub decoded: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Input bytes read (after decompression).
    pub bytes: u64,
    /// Time spent decoding.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Counts per decoder.
    pub per_source: BTreeMap<SourceKind, SourceStats>,
    /// Inputs that `--source auto` could not recognise (rejected whole, reported to the sink).
    pub unrecognised: Vec<String>,
}

impl Summary {
    /// Total events decoded.
    pub fn decoded(&self) -> u64 {
        self.per_source.values().map(|s| s.decoded).sum()
    }

    /// Total records rejected, counting each input that `--source auto` could not recognise.
    pub fn rejected(&self) -> u64 {
        self.per_source.values().map(|s| s.rejected).sum::<u64>() + self.unrecognised.len() as u64
    }
}

/// A run that cannot go on: an unreadable path or a decoder that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An input path cannot be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A decoder cannot be built.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Decodes every input in `paths` and reports events and rejections to `sink`.
///
/// # Errors
/// [`RunError`] for problems that stop the whole run; bad records never do.
pub fn decode_inputs(paths: &[PathBuf], opts: &RunOptions, sink: &mut dyn Sink) -> Result<Summary, RunError> {
    let mut decoders: BTreeMap<SourceKind, Box<dyn Decoder>> = BTreeMap::new();
    let filter = match opts.selection {
        SourceSelection::Fixed(kind) => {
            decoders.insert(kind, kind.build(opts.mapping.as_deref())?);
            dir_filter(kind)
        }
        SourceSelection::Auto => DirFilter::Any,
    };
    let files = input::expand(paths, filter)?;
    let mut summary = Summary::default();
    for file in &files {
        input::for_each_stream::<RunError>(file, &mut |name, reader| {
            let kind = match opts.selection {
                SourceSelection::Fixed(kind) => kind,
                SourceSelection::Auto => {
                    let head = reader.fill_buf().map(|b| &b[..b.len().min(HEAD_BYTES)]).unwrap_or_default();
                    let found = detect(head);
                    sink.detected(name, found);
                    match found {
                        Some(kind) => kind,
                        None => {
                            summary.unrecognised.push(name.to_owned());
                            sink.reject(Rejection {
                                path: name.to_owned(),
                                line: 0,
                                offset: 0,
                                reason: "format not recognised by --source auto; name it with --source"
                                    .into(),
                                source: "auto",
                            });
                            return Ok(());
                        }
                    }
                }
            };
            let decoder = match decoders.entry(kind) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(kind.build(opts.mapping.as_deref())?)
                }
            };
            let stats = summary.per_source.entry(kind).or_default();
            decode_stream(decoder.as_ref(), name, reader, opts, stats, sink);
            Ok(())
        })?;
    }
    Ok(summary)
}

fn dir_filter(kind: SourceKind) -> DirFilter {
    match kind {
        SourceKind::Evtx => DirFilter::Evtx,
        SourceKind::Syslog | SourceKind::Cef => DirFilter::TextLogs,
        SourceKind::Netflow | SourceKind::Pcap => DirFilter::Captures,
        _ => DirFilter::JsonLogs,
    }
}

/// Decodes one stream with one decoder, updating `stats`.
pub fn decode_stream(
    decoder: &dyn Decoder,
    name: &str,
    reader: &mut dyn BufRead,
    opts: &RunOptions,
    stats: &mut SourceStats,
    sink: &mut dyn Sink,
) {
    let started = Instant::now();
    let source = decoder.name();
    let mut out = Vec::with_capacity(4);
    let (mut decoded, mut rejected, mut last_end, mut records) = (0u64, 0u64, 0u64, 0u64);
    let mut on_record = |loc: Location, record: Result<&str, DecodeError>| {
        let result = record.and_then(|text| {
            last_end = loc.offset + text.len() as u64;
            decoder.decode(text, &opts.ctx, &mut out)
        });
        match result {
            Ok(()) => {
                decoded += out.len() as u64;
                for ev in out.drain(..) {
                    sink.event(ev);
                }
            }
            Err(e) => {
                out.clear();
                rejected += 1;
                metrics::counter!("ward_decode_rejected_total", "source" => source, "reason" => e.label())
                    .increment(1);
                sink.reject(Rejection {
                    path: name.to_owned(),
                    line: loc.line,
                    offset: loc.offset,
                    reason: e.to_string(),
                    source,
                });
            }
        }
        records += 1;
        if records.is_multiple_of(1024) {
            sink.progress(last_end);
        }
    };
    let mut evtx_size = 0;
    if let Some(binary) = decoder.binary() {
        let mut counted = Counted { inner: reader, read: 0 };
        let read = binary.decode_stream(&mut counted, &opts.ctx, &mut |loc, result| match result {
            Ok(ev) => {
                decoded += 1;
                sink.event(ev);
            }
            Err(e) => {
                rejected += 1;
                metrics::counter!("ward_decode_rejected_total", "source" => source, "reason" => e.label())
                    .increment(1);
                let reason = e.to_string();
                sink.reject(Rejection {
                    path: name.to_owned(),
                    line: loc.line,
                    offset: loc.offset,
                    reason,
                    source,
                });
            }
        });
        let size = counted.read;
        if let Err(e) = read {
            rejected += 1;
            metrics::counter!("ward_decode_rejected_total", "source" => source, "reason" => "read")
                .increment(1);
            sink.reject(Rejection {
                path: name.to_owned(),
                line: 0,
                offset: size,
                reason: e.to_string(),
                source,
            });
        }
        metrics::counter!("ward_decode_events_total", "source" => source).increment(decoded);
        stats.decoded += decoded;
        stats.rejected += rejected;
        stats.bytes += size;
        stats.elapsed += started.elapsed();
        return;
    }
    let read = match decoder.framing() {
        Framing::Lines => {
            frame::for_each_line(reader, opts.max_record_bytes, &mut on_record).map_err(|e| e.to_string())
        }
        Framing::JsonValues => frame::for_each_json_value(reader, opts.max_record_bytes, &mut on_record)
            .map_err(|e| e.to_string()),
        Framing::Evtx => match input::read_all(reader, MAX_EVTX_BYTES) {
            Ok(data) => {
                let size = data.len() as u64;
                crate::sources::evtx::for_each_record(data, &mut on_record)
                    .map(|()| size)
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
        .map(|size| evtx_size = size),
    };
    let read = read.map(|_| ());
    last_end = last_end.max(evtx_size);
    if let Err(reason) = read {
        rejected += 1;
        metrics::counter!("ward_decode_rejected_total", "source" => source, "reason" => "read").increment(1);
        let reason = DecodeError::Read(reason).to_string();
        sink.reject(Rejection { path: name.to_owned(), line: 0, offset: last_end, reason, source });
    }
    metrics::counter!("ward_decode_events_total", "source" => source).increment(decoded);
    stats.decoded += decoded;
    stats.rejected += rejected;
    stats.bytes += last_end;
    stats.elapsed += started.elapsed();
}

/// A reader that counts the bytes consumed through it (binary decoders read inputs themselves).
struct Counted<'a> {
    inner: &'a mut dyn BufRead,
    read: u64,
}

impl std::io::Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl BufRead for Counted<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.read += amt as u64;
        self.inner.consume(amt);
    }
}

/// Decodes one in-memory buffer as if it were a file named `name` (tests, benchmarks, HTTP).
pub fn decode_bytes(
    decoder: &dyn Decoder,
    name: &str,
    data: &[u8],
    opts: &RunOptions,
    sink: &mut dyn Sink,
) -> SourceStats {
    let mut stats = SourceStats::default();
    decode_stream(decoder, name, &mut &data[..], opts, &mut stats, sink);
    stats
}

/// A sink that keeps everything in memory (tests, small batches).
#[derive(Debug, Default)]
pub struct Collect {
    /// Decoded events, in order.
    pub events: Vec<Event>,
    /// Rejections, in order.
    pub rejections: Vec<Rejection>,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn reject(&mut self, rejection: Rejection) {
        self.rejections.push(rejection);
    }
}

impl RunOptions {
    /// Options for one fixed decoder with default limits.
    pub fn fixed(kind: SourceKind, ctx: DecodeContext) -> Self {
        Self {
            selection: SourceSelection::Fixed(kind),
            mapping: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            ctx,
        }
    }
}

/// Decodes the files under `paths` with one decoder and collects everything (tests).
///
/// # Errors
/// As [`decode_inputs`].
pub fn decode_paths_collect(
    kind: SourceKind,
    paths: &[&Path],
    ctx: DecodeContext,
) -> Result<(Collect, Summary), RunError> {
    let opts = RunOptions::fixed(kind, ctx);
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let mut sink = Collect::default();
    let summary = decode_inputs(&paths, &opts, &mut sink)?;
    Ok((sink, summary))
}
