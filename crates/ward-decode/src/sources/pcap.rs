//! Packet captures (pcap/pcapng) to bidirectional flow records and protocol metadata (DNS,
//! HTTP, TLS ClientHello with JA3/JA4, SSH banners), by `ward_flow`. Text records are the JSON
//! form of flow or metadata records (each event's `event.original`).

use std::io::BufRead;

use ward_flow::FlowRecord;
use ward_flow::event::{flow_event, meta_event};
use ward_flow::flows::FlowConfig;
use ward_flow::meta::MetaRecord;
use ward_flow::offline::{CaptureItem, capture_flows};
use ward_model::Event;

use crate::frame::Location;
use crate::sources::netflow::{json_records, location, starts_json};
use crate::{BinaryDecoder, DecodeContext, DecodeError, Decoder, Framing};

/// Decodes packet captures.
#[derive(Debug, Default, Clone, Copy)]
pub struct PcapDecoder {
    /// Flow timeouts and table size.
    pub config: FlowConfig,
}

const NAME: &str = "pcap";

impl Decoder for PcapDecoder {
    fn name(&self) -> &'static str {
        NAME
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let value: serde_json::Value = serde_json::from_str(record)?;
        let shape = |e: serde_json::Error| DecodeError::Shape(format!("not a flow or metadata record: {e}"));
        if value.get("origin").is_some() {
            let rec: FlowRecord = serde_json::from_value(value).map_err(shape)?;
            out.push(flow_event(&rec, record, &ctx.tenant, NAME, ctx.now));
        } else {
            let rec: MetaRecord = serde_json::from_value(value).map_err(shape)?;
            out.push(meta_event(&rec, record, &ctx.tenant, NAME));
        }
        Ok(())
    }

    fn binary(&self) -> Option<&dyn BinaryDecoder> {
        Some(self)
    }
}

impl BinaryDecoder for PcapDecoder {
    fn decode_stream(
        &self,
        reader: &mut dyn BufRead,
        ctx: &DecodeContext,
        emit: &mut dyn FnMut(Location, Result<Event, DecodeError>),
    ) -> Result<(), DecodeError> {
        if starts_json(reader) {
            return json_records(self, reader, ctx, emit);
        }
        let (_, read) = capture_flows(reader, self.config, &mut |item| match item {
            CaptureItem::Flow(rec) => {
                let first = rec.fields.get("first_packet").and_then(serde_json::Value::as_u64).unwrap_or(0);
                let loc = Location { line: first, offset: 0 };
                emit(loc, Ok(flow_event(&rec, &rec.to_json(), &ctx.tenant, NAME, ctx.now)));
            }
            CaptureItem::Meta(tag, m) => emit(
                location(tag),
                Ok(meta_event(&m, &serde_json::to_string(&m).unwrap_or_default(), &ctx.tenant, NAME)),
            ),
        });
        read.map_err(|e| DecodeError::Read(e.to_string()))
    }
}
