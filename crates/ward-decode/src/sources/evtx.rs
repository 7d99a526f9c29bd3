//! Native Windows `.evtx` files. The `evtx` crate renders each record as evtx_dump JSON
//! (compact, once), which the winlog mapping turns into an event, so `.evtx` and its
//! evtx_dump JSON decode to the same fields.
//!
//! Records are located by ordinal and by the byte offset of their record header in the file,
//! so a rejected record can be found with a hex editor. Chunks are rendered in parallel on the
//! `evtx` crate's thread pool while earlier records are decoded.

use std::collections::HashMap;
use std::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};

use evtx::err::EvtxError;
use evtx::{EvtxChunkHeader, EvtxParser, ParserSettings};
use ward_model::Event;

use crate::frame::Location;
use crate::sources::winlog;
use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Size of the file header that precedes the first chunk.
const FILE_HEADER_SIZE: u64 = 4096;
/// Size of one chunk.
const CHUNK_SIZE: u64 = 65536;
/// Size of the fixed chunk header.
const CHUNK_HEADER_SIZE: usize = 512;
/// Size of a record header (magic, size, record id, time) before the record's BinXML.
const RECORD_HEADER_SIZE: u64 = 24;

/// Decodes the records of `.evtx` files.
#[derive(Debug, Default, Clone, Copy)]
pub struct EvtxDecoder;

impl Decoder for EvtxDecoder {
    fn name(&self) -> &'static str {
        "evtx"
    }

    fn framing(&self) -> Framing {
        Framing::Evtx
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        winlog::decode_evtx_json(record, self.name(), ctx, out)
    }
}

/// Identifies a chunk by its header: the record id range and both checksums.
type ChunkKey = (u64, u64, u32, u32);

fn chunk_key(h: &EvtxChunkHeader) -> ChunkKey {
    (h.first_event_record_id, h.last_event_record_id, h.header_chunk_checksum, h.events_checksum)
}

/// The file offset of every readable chunk, by key (the parser reports records with their
/// chunk's header, not its number).
fn chunk_offsets(data: &[u8]) -> HashMap<ChunkKey, u64> {
    let mut offsets = HashMap::new();
    let mut offset = FILE_HEADER_SIZE as usize;
    while let Some(header) = data.get(offset..offset + CHUNK_HEADER_SIZE) {
        if let Ok(h) = EvtxChunkHeader::from_bytes(header) {
            offsets.entry(chunk_key(&h)).or_insert(offset as u64);
        }
        offset += CHUNK_SIZE as usize;
    }
    offsets
}

/// One record as rendered on a worker: its chunk, its offset in the chunk, and its JSON text
/// or why it could not be rendered.
struct Rendered {
    chunk: ChunkKey,
    offset: u64,
    json: Result<String, EvtxError>,
}

/// Calls `f` with the JSON text of every record of an `.evtx` file, located by record ordinal
/// (`line`) and the file offset of the record header. A record the `evtx` crate cannot read
/// is passed as an error with the crate's reason.
///
/// # Errors
/// When the file is not an EVTX file at all, or the parser fails so badly it cannot go on.
pub fn for_each_record(
    data: Vec<u8>,
    f: &mut dyn FnMut(Location, Result<&str, DecodeError>),
) -> Result<(), DecodeError> {
    let offsets = chunk_offsets(&data);
    // One chunk is rendered inline; more are spread over the pool (0: one thread per core).
    let threads = if offsets.len() > 1 { 0 } else { 1 };
    let settings = ParserSettings::new().num_threads(threads).indent(false);
    let mut parser = EvtxParser::from_buffer(data)
        .map_err(|e| DecodeError::Malformed(format!("not an EVTX file: {}", reason(&e))))?
        .with_configuration(settings);
    let mut records = parser.serialized_records(|record| {
        let record = record?;
        let chunk = chunk_key(record.chunk.header);
        let offset = record.binxml_offset.saturating_sub(RECORD_HEADER_SIZE);
        Ok(Rendered { chunk, offset, json: record.into_json().map(|r| r.data) })
    });
    let mut loc = Location { line: 0, offset: FILE_HEADER_SIZE };
    loop {
        let next =
            catch_unwind(AssertUnwindSafe(|| records.next())).map_err(|p| panicked(loc, p.as_ref()))?;
        let Some(item) = next else { return Ok(()) };
        loc.line += 1;
        match item {
            Ok(rendered) => {
                let chunk_start = offsets.get(&rendered.chunk).copied().unwrap_or(loc.offset);
                loc.offset = chunk_start + rendered.offset;
                match rendered.json {
                    Ok(text) => f(loc, Ok(&text)),
                    Err(e) => f(loc, Err(unreadable(&e))),
                }
            }
            Err(e) => {
                loc.offset = error_offset(&e).unwrap_or(loc.offset);
                f(loc, Err(unreadable(&e)));
            }
        }
    }
}

/// The `evtx` crate panicked on this input (a bug of the crate): the rest of the file cannot
/// be read, which is reported rather than taking the process down.
fn panicked(loc: Location, payload: &(dyn std::any::Any + Send)) -> DecodeError {
    let what =
        payload.downcast_ref::<&str>().copied().or(payload.downcast_ref::<String>().map(String::as_str));
    DecodeError::Malformed(format!(
        "evtx parser failed after record {}: {}",
        loc.line,
        what.unwrap_or("panic")
    ))
}

/// Where in the file an error points, when the error says.
fn error_offset(e: &EvtxError) -> Option<u64> {
    match e {
        EvtxError::FailedToReadRecordAt { chunk: Some(chunk), offset, .. } => {
            Some(FILE_HEADER_SIZE + chunk * CHUNK_SIZE + offset)
        }
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(FILE_HEADER_SIZE + chunk_id * CHUNK_SIZE),
        _ => None,
    }
}

fn unreadable(e: &EvtxError) -> DecodeError {
    DecodeError::Malformed(format!("unreadable EVTX record: {}", reason(e)))
}

/// An error with its chain of causes (the `evtx` crate puts the detail in the sources).
fn reason(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
