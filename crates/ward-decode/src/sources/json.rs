//! Generic JSON decoder (being written).

use std::path::Path;

use ward_model::Event;

use crate::{BuildError, DecodeContext, DecodeError, Decoder, Framing};

/// Decodes arbitrary JSON through a mapping file.
#[derive(Debug, Default)]
pub struct JsonDecoder;

impl JsonDecoder {
    /// Builds the decoder from an optional mapping file.
    ///
    /// # Errors
    /// When the mapping file is unreadable or invalid.
    pub fn from_mapping_file(_path: Option<&Path>) -> Result<Self, BuildError> {
        Ok(Self)
    }
}

impl Decoder for JsonDecoder {
    fn name(&self) -> &'static str {
        "json"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, _record: &str, _ctx: &DecodeContext, _out: &mut Vec<Event>) -> Result<(), DecodeError> {
        Err(DecodeError::Malformed("decoder not written yet".into()))
    }
}
