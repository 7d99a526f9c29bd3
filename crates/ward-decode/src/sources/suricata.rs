//! Suricata decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Suricata records.
#[derive(Debug, Default, Clone, Copy)]
pub struct SuricataDecoder;

impl Decoder for SuricataDecoder {
    fn name(&self) -> &'static str {
        "suricata"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
