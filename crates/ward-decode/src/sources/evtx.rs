//! Evtx decoder (being written).

use ward_model::Event;

use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Evtx records.
#[derive(Debug, Default, Clone, Copy)]
pub struct EvtxDecoder;

impl Decoder for EvtxDecoder {
    fn name(&self) -> &'static str {
        "evtx"
    }

    fn framing(&self) -> Framing {
        Framing::Evtx
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}

/// Calls `f` with the JSON text of every record of an `.evtx` file, located by record ordinal.
///
/// # Errors
/// When the file is not an EVTX file at all.
pub fn for_each_record(
    _data: Vec<u8>,
    _f: &mut dyn FnMut(crate::frame::Location, Result<&str, DecodeError>),
) -> Result<(), DecodeError> {
    Err(DecodeError::Malformed("decoder not written yet".into()))
}
