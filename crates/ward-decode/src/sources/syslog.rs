//! Syslog decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Syslog records.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyslogDecoder;

impl Decoder for SyslogDecoder {
    fn name(&self) -> &'static str {
        "syslog"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
