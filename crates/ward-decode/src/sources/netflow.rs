//! NetFlow v5/v9 and IPFIX: export packets from pcap/pcapng captures of export traffic or from
//! raw payload files, decoded by `ward_flow::netflow` with one template session per input.
//! Text records are the JSON form of flow records (each event's `event.original`), so flows
//! kept in the durable log decode again to the same events.

use std::io::BufRead;

use ward_flow::FlowRecord;
use ward_flow::event::flow_event;
use ward_flow::netflow::{Session, SessionConfig, Tag};
use ward_model::Event;

use crate::frame::Location;
use crate::{BinaryDecoder, DecodeContext, DecodeError, Decoder, Framing};

/// Decodes NetFlow/IPFIX exports.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetflowDecoder {
    /// Template cache and early-data buffer limits of each input's session.
    pub config: SessionConfig,
}

const NAME: &str = "netflow";

impl Decoder for NetflowDecoder {
    fn name(&self) -> &'static str {
        NAME
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let rec: FlowRecord = serde_json::from_str(record)
            .map_err(|e| DecodeError::Shape(format!("not a flow record: {e}")))?;
        out.push(flow_event(&rec, record, &ctx.tenant, NAME, ctx.now));
        Ok(())
    }

    fn binary(&self) -> Option<&dyn BinaryDecoder> {
        Some(self)
    }
}

/// A packet's place as a decoder location.
pub(crate) fn location(tag: Tag) -> Location {
    Location { line: tag.packet, offset: tag.offset }
}

impl BinaryDecoder for NetflowDecoder {
    fn decode_stream(
        &self,
        reader: &mut dyn BufRead,
        ctx: &DecodeContext,
        emit: &mut dyn FnMut(Location, Result<Event, DecodeError>),
    ) -> Result<(), DecodeError> {
        if starts_json(reader) {
            return json_records(self, reader, ctx, emit);
        }
        let mut session = Session::new(self.config);
        ward_flow::offline::netflow_stream(reader, &mut session, &mut |tag, result| {
            let result = result
                .map(|rec| flow_event(&rec, &rec.to_json(), &ctx.tenant, NAME, ctx.now))
                .map_err(|e| DecodeError::Malformed(e.to_string()));
            emit(location(tag), result);
        })
        .map_err(|e| DecodeError::Read(e.to_string()))
    }
}

/// Whether the input holds JSON records (the text form of flow events) rather than binary.
pub(crate) fn starts_json(reader: &mut dyn BufRead) -> bool {
    reader.fill_buf().is_ok_and(|b| matches!(b.trim_ascii_start().first(), Some(b'{' | b'[')))
}

/// Decodes an input of JSON records with the decoder's text path (flow records exported from
/// the log, rule examples).
pub(crate) fn json_records(
    decoder: &dyn Decoder,
    reader: &mut dyn BufRead,
    ctx: &DecodeContext,
    emit: &mut dyn FnMut(Location, Result<Event, DecodeError>),
) -> Result<(), DecodeError> {
    let mut out = Vec::new();
    crate::frame::for_each_json_value(reader, crate::run::DEFAULT_MAX_RECORD_BYTES, &mut |loc, record| {
        match record.and_then(|text| decoder.decode(text, ctx, &mut out)) {
            Ok(()) => out.drain(..).for_each(|ev| emit(loc, Ok(ev))),
            Err(e) => emit(loc, Err(e)),
        }
    })
    .map_err(|e| DecodeError::Read(e.to_string()))
}
