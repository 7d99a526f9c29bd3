//! Cowrie decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Cowrie records.
#[derive(Debug, Default, Clone, Copy)]
pub struct CowrieDecoder;

impl Decoder for CowrieDecoder {
    fn name(&self) -> &'static str {
        "cowrie"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
