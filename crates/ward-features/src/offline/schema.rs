//! The Arrow schemas of the offline datasets and their Parquet encoding (documented in
//! `docs/features.md`; bump [`SCHEMA_VERSION`] on any change).

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use ward_model::{Event, FieldValue};

use super::OfflineError;
use crate::vector::{FeatureVector, feature_names};

/// Version of the schemas below, written into every file's metadata and the manifest.
pub const SCHEMA_VERSION: u32 = 1;

/// The event columns besides `@timestamp`, identity and `document`: (column, ECS path).
const EVENT_TEXT_COLUMNS: [&str; 7] =
    ["event.action", "event.outcome", "source.ip", "destination.ip", "user.name", "host.name", "session.id"];

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Schema of `events`: one row per enriched event.
pub fn events_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("@timestamp", ts_type(), false),
        Field::new("ward.tenant", DataType::Utf8, false),
        Field::new("ward.event_id", DataType::Utf8, false),
        Field::new("ward.source", DataType::Utf8, false),
    ];
    fields.extend(EVENT_TEXT_COLUMNS.iter().map(|c| Field::new(*c, DataType::Utf8, true)));
    fields.push(Field::new("destination.port", DataType::Int64, true));
    fields.push(Field::new("document", DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// Schema of `feature_snapshots` and of exports: one row per entity and time.
pub fn snapshots_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("tenant", DataType::Utf8, false),
        Field::new("entity_kind", DataType::Utf8, false),
        Field::new("entity_value", DataType::Utf8, false),
        Field::new("at", ts_type(), false),
        Field::new("last_seen", ts_type(), true),
    ];
    fields.extend(feature_names().into_iter().map(|n| Field::new(n, DataType::Float64, false)));
    Arc::new(Schema::new(fields))
}

fn text(v: &FieldValue) -> Option<String> {
    match v {
        FieldValue::Str(s) => Some(s.to_string()),
        FieldValue::Ip(ip) => Some(ip.to_string()),
        FieldValue::Int(i) => Some(i.to_string()),
        FieldValue::List(items) => items.first().and_then(text),
        _ => None,
    }
}

fn micros(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// Encodes events as one record batch.
///
/// # Errors
/// An event that does not serialize (never expected) or an Arrow error.
pub fn events_batch(events: &[&Event]) -> Result<RecordBatch, OfflineError> {
    let n = events.len();
    let mut ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut ids = [StringBuilder::new(), StringBuilder::new(), StringBuilder::new()];
    let mut texts: Vec<StringBuilder> = EVENT_TEXT_COLUMNS.iter().map(|_| StringBuilder::new()).collect();
    let mut port = Int64Builder::with_capacity(n);
    let mut doc = StringBuilder::new();
    for e in events {
        ts.append_value(micros(e.timestamp()));
        ids[0].append_value(e.tenant());
        ids[1].append_value(e.id().to_string());
        ids[2].append_value(e.source());
        for (b, path) in texts.iter_mut().zip(EVENT_TEXT_COLUMNS) {
            b.append_option(e.get(path).and_then(text));
        }
        port.append_option(e.get("destination.port").and_then(FieldValue::as_i64));
        doc.append_value(serde_json::to_string(e).map_err(|err| OfflineError::Encode(err.to_string()))?);
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(ts.finish())];
    columns.extend(ids.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.extend(texts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    columns.push(Arc::new(port.finish()));
    columns.push(Arc::new(doc.finish()));
    RecordBatch::try_new(events_schema(), columns).map_err(|e| OfflineError::Encode(e.to_string()))
}

/// Encodes feature vectors as one record batch.
///
/// # Errors
/// An Arrow error.
pub fn snapshots_batch(vectors: &[FeatureVector]) -> Result<RecordBatch, OfflineError> {
    let names = feature_names();
    let mut ids = [StringBuilder::new(), StringBuilder::new(), StringBuilder::new()];
    let mut at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut last = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    let mut values: Vec<Float64Builder> = names.iter().map(|_| Float64Builder::new()).collect();
    for v in vectors {
        ids[0].append_value(v.tenant.as_str());
        ids[1].append_value(v.entity.kind.as_str());
        ids[2].append_value(&v.entity.value);
        at.append_value(micros(v.at));
        last.append_option(v.last_seen.map(micros));
        values.iter_mut().zip(&names).for_each(|(b, n)| b.append_value(v.value(n)));
    }
    let mut columns: Vec<ArrayRef> = ids.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
    columns.push(Arc::new(at.finish()));
    columns.push(Arc::new(last.finish()));
    columns.extend(values.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(snapshots_schema(), columns).map_err(|e| OfflineError::Encode(e.to_string()))
}

/// Writes one batch as a complete Parquet file (Snappy, schema version in the metadata).
///
/// # Errors
/// A Parquet error.
pub fn to_parquet(batch: &RecordBatch, dataset: &str) -> Result<Vec<u8>, OfflineError> {
    let meta = vec![
        KeyValue::new("ward.schema_version".to_owned(), SCHEMA_VERSION.to_string()),
        KeyValue::new("ward.dataset".to_owned(), dataset.to_owned()),
    ];
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(meta))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
        .map_err(|e| OfflineError::Encode(e.to_string()))?;
    writer.write(batch).map_err(|e| OfflineError::Encode(e.to_string()))?;
    writer.close().map_err(|e| OfflineError::Encode(e.to_string()))?;
    Ok(out)
}

/// Reads the events of one `events` file whose time is within `[from, until]`; a row whose
/// document does not read back is an error naming the file and row.
///
/// # Errors
/// Not Parquet, not this schema, or a broken row.
pub fn read_events(path: &str, data: Bytes, from_us: i64, until_us: i64) -> Result<Vec<Event>, OfflineError> {
    let bad =
        |row: Option<usize>, message: String| OfflineError::Decode { path: path.to_owned(), row, message };
    let reader = ParquetRecordBatchReaderBuilder::try_new(data)
        .and_then(|b| b.build())
        .map_err(|e| bad(None, e.to_string()))?;
    let mut out = Vec::new();
    let mut base = 0;
    for batch in reader {
        let batch = batch.map_err(|e| bad(None, e.to_string()))?;
        let ts = column::<TimestampMicrosecondArray>(&batch, "@timestamp")
            .ok_or_else(|| bad(None, "no @timestamp column".into()))?;
        let docs = column::<StringArray>(&batch, "document")
            .ok_or_else(|| bad(None, "no document column".into()))?;
        for i in 0..batch.num_rows() {
            let t = ts.value(i);
            if t < from_us || t > until_us {
                continue;
            }
            let doc: serde_json::Value =
                serde_json::from_str(docs.value(i)).map_err(|e| bad(Some(base + i), e.to_string()))?;
            out.push(Event::from_json(doc).map_err(|e| bad(Some(base + i), e.to_string()))?);
        }
        base += batch.num_rows();
    }
    Ok(out)
}

fn column<'a, T: Array + 'static>(batch: &'a RecordBatch, name: &str) -> Option<&'a T> {
    batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<T>())
}
