//! Shared body of the decoder fuzz targets: decode, then check what must always hold.

use chrono::TimeZone;
use ward_decode::run::{Collect, RunOptions, decode_bytes};
use ward_decode::{DecodeContext, SourceKind};
use ward_model::TenantId;

/// Decodes `data` and asserts every rejection points inside the input and every event
/// serializes and reads back unchanged.
pub fn decode(kind: SourceKind, data: &[u8]) {
    let Ok(decoder) = kind.build(None) else { return };
    let now = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let opts = RunOptions::fixed(kind, DecodeContext::new(TenantId::default(), now));
    let mut sink = Collect::default();
    decode_bytes(decoder.as_ref(), "fuzz", data, &opts, &mut sink);
    for r in &sink.rejections {
        assert!(r.offset as usize <= data.len());
    }
    for e in &sink.events {
        let json = serde_json::to_value(e).expect("events serialize");
        let back = ward_model::Event::from_json(json).expect("printed events read back");
        assert_eq!(back.id(), e.id());
    }
}
