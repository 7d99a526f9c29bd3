//! Cutting a request into records and validating each with its source's decoder.
//!
//! Records are numbered from 0 in request order (blank lines are not records). A valid record
//! is kept verbatim; an invalid one carries the decoder's reason.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use ward_decode::frame::{self, Location};
use ward_decode::{BuildError, DecodeContext, DecodeError, Decoder, Framing, SourceKind};
use ward_model::{Event, FieldValue};

use crate::error::ApiError;

const EVTX_OVER_HTTP: &str = "evtx files are binary and cannot be sent over HTTP; send winlog JSON instead";

/// How bodies of a source are cut into records over HTTP: lines for the text formats (syslog,
/// CEF), JSON values (one object, an array, NDJSON, concatenated objects) for the others.
pub fn http_framing(kind: SourceKind) -> Framing {
    match kind {
        SourceKind::Syslog | SourceKind::Cef => Framing::Lines,
        SourceKind::Evtx => Framing::Evtx,
        _ => Framing::JsonValues,
    }
}

/// A decoder and how request bodies for it are cut into records.
#[derive(Clone)]
pub struct SourceDecoder {
    /// The decoder.
    pub decoder: Arc<dyn Decoder>,
    /// See [`http_framing`].
    pub framing: Framing,
}

impl SourceDecoder {
    /// Builds the decoder of `kind` (`mapping`: the `json` decoder's mapping file).
    ///
    /// # Errors
    /// [`BuildError`] when it cannot be built.
    pub fn build(kind: SourceKind, mapping: Option<&std::path::Path>) -> Result<Self, BuildError> {
        Ok(Self { decoder: Arc::from(kind.build(mapping)?), framing: http_framing(kind) })
    }
}

/// The decoders the API validates records with, built once.
pub struct Decoders(BTreeMap<SourceKind, SourceDecoder>);

impl Decoders {
    /// Every decoder that takes text records (all but `evtx`); `json` without a mapping.
    ///
    /// # Errors
    /// [`BuildError`] if a decoder cannot be built.
    pub fn build() -> Result<Self, BuildError> {
        let mut map = BTreeMap::new();
        for kind in SourceKind::ALL.into_iter().filter(|k| *k != SourceKind::Evtx) {
            map.insert(kind, SourceDecoder::build(kind, None)?);
        }
        Ok(Self(map))
    }

    /// The decoder for a source named in a URL.
    ///
    /// # Errors
    /// 404 for unknown names, 400 for `evtx`.
    pub fn for_http(&self, name: &str) -> Result<SourceDecoder, ApiError> {
        let kind = name.parse::<SourceKind>().map_err(|_| ApiError::UnknownSource(name.to_owned()))?;
        self.0.get(&kind).cloned().ok_or_else(|| ApiError::UnsupportedSource(EVTX_OVER_HTTP.into()))
    }
}

/// The verdict on one record.
#[derive(Debug)]
pub enum Verdict {
    /// Decodes: keep it, under this partition key.
    Valid {
        /// The record as received.
        original: String,
        /// Entity key: the first event's `source.ip`, else `host.name`, else the tenant.
        key: Vec<u8>,
    },
    /// Does not decode.
    Invalid {
        /// The decoder's reason.
        reason: String,
        /// The record, when it was readable text.
        original: Option<String>,
    },
}

/// One record of a request and its verdict.
#[derive(Debug)]
pub struct Checked {
    /// 0-based position in the request.
    pub index: usize,
    /// 1-based line in the (decompressed) body; 0 for `/ingest/multi` items.
    pub line: u64,
    /// Byte offset in the (decompressed) body; 0 for `/ingest/multi` items.
    pub offset: u64,
    /// Decoder name (`unknown` when the item named none Ward has).
    pub source: &'static str,
    /// Whether it decodes.
    pub verdict: Verdict,
}

/// Frames `body` and validates every record.
pub fn check_body(
    source: &SourceDecoder,
    body: &[u8],
    ctx: &DecodeContext,
    max_record: usize,
) -> Vec<Checked> {
    let decoder = source.decoder.as_ref();
    let mut out = Vec::new();
    let mut events = Vec::with_capacity(4);
    let mut on_record = |loc: Location, record: Result<&str, DecodeError>| {
        let verdict = verdict(decoder, record, ctx, &mut events);
        out.push(Checked {
            index: out.len(),
            line: loc.line,
            offset: loc.offset,
            source: decoder.name(),
            verdict,
        });
    };
    let mut reader = body;
    // Reading from memory cannot fail, so the I/O result carries nothing.
    let _ = match source.framing {
        Framing::Lines => frame::for_each_line(&mut reader, max_record, &mut on_record),
        Framing::JsonValues | Framing::Evtx => {
            frame::for_each_json_value(&mut reader, max_record, &mut on_record)
        }
    };
    out
}

fn verdict(
    decoder: &dyn Decoder,
    record: Result<&str, DecodeError>,
    ctx: &DecodeContext,
    events: &mut Vec<Event>,
) -> Verdict {
    events.clear();
    let text = match record {
        Ok(text) => text,
        Err(e) => return Verdict::Invalid { reason: e.to_string(), original: None },
    };
    match decoder.decode(text, ctx, events) {
        Ok(()) => Verdict::Valid { original: text.to_owned(), key: partition_key(events, ctx) },
        Err(e) => Verdict::Invalid { reason: e.to_string(), original: Some(text.to_owned()) },
    }
}

/// The entity key of a record: `source.ip`, else `host.name`, else the tenant.
fn partition_key(events: &[Event], ctx: &DecodeContext) -> Vec<u8> {
    let first = events.first();
    let ip = first.and_then(|e| match e.get("source.ip") {
        Some(FieldValue::Ip(ip)) => Some(ip.to_string()),
        Some(FieldValue::Str(s)) => Some(s.to_string()),
        _ => None,
    });
    let host = || first.and_then(|e| e.str("host.name")).map(str::to_owned);
    ip.or_else(host).unwrap_or_else(|| ctx.tenant.as_str().to_owned()).into_bytes()
}

#[derive(Deserialize)]
struct MultiBody<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct MultiItem<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// Validates the items of an `/ingest/multi` body, each with the decoder it names.
///
/// # Errors
/// 400 when the body is not `{"events":[…]}`; problems with single items are their verdicts.
pub fn check_multi(
    decoders: &Decoders,
    body: &[u8],
    ctx: &DecodeContext,
    max_record: usize,
) -> Result<Vec<Checked>, ApiError> {
    let parsed: MultiBody<'_> = serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("body must be {{\"events\":[{{\"source\":…,\"event\":…}}]}}: {e}"))
    })?;
    let mut events = Vec::with_capacity(4);
    let checked = parsed.events.iter().enumerate().map(|(index, raw)| {
        let (source, verdict) = check_item(decoders, raw, ctx, max_record, &mut events);
        Checked { index, line: 0, offset: 0, source, verdict }
    });
    Ok(checked.collect())
}

fn check_item(
    decoders: &Decoders,
    raw: &RawValue,
    ctx: &DecodeContext,
    max_record: usize,
    events: &mut Vec<Event>,
) -> (&'static str, Verdict) {
    let invalid = |reason: String| Verdict::Invalid { reason, original: Some(raw.get().to_owned()) };
    let item: MultiItem<'_> = match serde_json::from_str(raw.get()) {
        Ok(item) => item,
        Err(e) => return ("unknown", invalid(format!("item must be {{\"source\":…,\"event\":…}}: {e}"))),
    };
    let source = match decoders.for_http(&item.source) {
        Ok(d) => d,
        Err(e) => return ("unknown", invalid(e.to_string())),
    };
    let (decoder, text) = (source.decoder.as_ref(), item_text(source.framing, item.event));
    let record = if text.len() > max_record {
        Err(DecodeError::TooLarge { size: text.len(), limit: max_record })
    } else {
        Ok(text.as_ref())
    };
    (decoder.name(), verdict(decoder, record, ctx, events))
}

/// The record text of an item: the JSON as sent, or for line formats the string's content.
fn item_text(framing: Framing, event: &RawValue) -> Cow<'_, str> {
    if framing == Framing::Lines
        && let Ok(line) = serde_json::from_str::<String>(event.get())
    {
        return Cow::Owned(line);
    }
    Cow::Borrowed(event.get())
}
