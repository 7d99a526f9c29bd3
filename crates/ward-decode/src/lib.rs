//! Decoders: turn the real output of real sensors (Cowrie, Suricata, osquery, Windows event
//! logs, syslog, CEF, arbitrary JSON webhooks, NetFlow/IPFIX exports, packet captures) into
//! normalized [`ward_model::Event`]s.
//!
//! A [`Decoder`] maps one framed record to events. Framing (lines, JSON values, EVTX chunks),
//! reading inputs (files, directories, stdin, `.gz`, `.zip`), size and UTF-8 limits and
//! dead-lettering live in [`run`], so every decoder gets them the same way and no bad record is
//! ever dropped silently: each becomes a [`Rejection`] with path, line, offset and reason.

mod context;
pub mod detect;
mod error;
pub mod frame;
pub mod input;
mod kind;
pub mod run;
pub mod sources;
pub mod util;

pub use context::DecodeContext;
pub use error::{BuildError, DecodeError};
pub use kind::SourceKind;
pub use run::{Collect, Rejection, RunOptions, Sink, SourceSelection, Summary, decode_inputs};

use std::io::BufRead;

use ward_model::Event;

use crate::frame::Location;

/// How the bytes of an input are cut into records before a decoder sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One record per line (`\n`, optional `\r`); blank lines are skipped.
    Lines,
    /// A stream of JSON values: newline-delimited, pretty-printed and concatenated, or the
    /// elements of top-level arrays.
    JsonValues,
    /// Binary Windows `.evtx` files, one record per event log record.
    Evtx,
}

/// Maps one framed record to zero or more normalized events.
pub trait Decoder: Send + Sync {
    /// The name written to `ward.source`.
    fn name(&self) -> &'static str;

    /// How input is cut into records for this decoder.
    fn framing(&self) -> Framing;

    /// Decodes one record (already checked for size and UTF-8) and appends its events to `out`.
    ///
    /// # Errors
    /// A [`DecodeError`] saying precisely what is wrong with the record; the caller dead-letters
    /// it with its location.
    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError>;

    /// The binary side of a decoder whose inputs are not text (packet captures, NetFlow export
    /// payloads). Such a decoder still decodes text records with [`Decoder::decode`] (the
    /// JSON form of its events' `event.original`, as kept in the durable log), but files are
    /// handed to [`BinaryDecoder::decode_stream`] whole.
    fn binary(&self) -> Option<&dyn BinaryDecoder> {
        None
    }
}

/// Decodes a whole binary input, reading it itself (records in binary formats depend on each
/// other: NetFlow templates, packets of one flow).
pub trait BinaryDecoder: Send + Sync {
    /// Reads `reader` to the end, reporting each event, or each rejected record with why, at
    /// its location (line: 1-based packet ordinal; offset: the packet's byte offset).
    ///
    /// # Errors
    /// A [`DecodeError`] when the input cannot be read further; what came before it has been
    /// reported.
    fn decode_stream(
        &self,
        reader: &mut dyn BufRead,
        ctx: &DecodeContext,
        emit: &mut dyn FnMut(Location, Result<Event, DecodeError>),
    ) -> Result<(), DecodeError>;
}
