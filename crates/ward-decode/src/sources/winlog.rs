//! Winlog decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Winlog records.
#[derive(Debug, Default, Clone, Copy)]
pub struct WinlogDecoder;

impl Decoder for WinlogDecoder {
    fn name(&self) -> &'static str {
        "winlog"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
