//! Osquery decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Osquery records.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsqueryDecoder;

impl Decoder for OsqueryDecoder {
    fn name(&self) -> &'static str {
        "osquery"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
