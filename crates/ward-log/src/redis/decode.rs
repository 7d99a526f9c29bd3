//! Stream entries as the server returns them (`XRANGE`, the fetch script), back into records.
//!
//! An entry is `[id, [field, value, ...]]` with ID `0-(offset+1)` and fields `t` (timestamp,
//! decimal), `p` (payload) and, when the record has a key, `k`.

use redis::Value;

use crate::{LogError, StoredRecord};

/// Timestamp field of an entry.
pub(super) const TIMESTAMP: &[u8] = b"t";
/// Payload field.
pub(super) const PAYLOAD: &[u8] = b"p";
/// Key field (absent: no key).
pub(super) const KEY: &[u8] = b"k";

fn malformed(key: &str, what: impl std::fmt::Display) -> LogError {
    LogError::Server(format!("redis: {key}: malformed stream entry: {what}"))
}

/// The offset an entry ID stands for: `0-N` → `N − 1`.
pub(super) fn offset_of(id: &str, key: &str) -> Result<u64, LogError> {
    match id.split_once('-') {
        Some(("0", seq)) => match seq.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n - 1),
            _ => Err(malformed(key, format_args!("id {id:?}"))),
        },
        _ => Err(malformed(key, format_args!("id {id:?} was not written by ward"))),
    }
}

/// The entries of an `XRANGE`-shaped reply, as records of `partition`.
pub(super) fn entries(reply: Value, key: &str, partition: u32) -> Result<Vec<StoredRecord>, LogError> {
    match reply {
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(|item| entry(item, key, partition)).collect(),
        other => Err(malformed(key, format_args!("expected a list of entries, got {other:?}"))),
    }
}

fn entry(item: Value, key: &str, partition: u32) -> Result<StoredRecord, LogError> {
    let Value::Array(mut parts) = item else { return Err(malformed(key, "entry is not [id, fields]")) };
    let (Some(fields), Some(id), None) = (parts.pop(), parts.pop(), parts.pop()) else {
        return Err(malformed(key, "entry is not [id, fields]"));
    };
    let offset = offset_of(&text(id, key)?, key)?;
    let mut record = StoredRecord { partition, offset, key: None, timestamp_ms: 0, payload: Vec::new() };
    let (mut has_ts, mut has_payload) = (false, false);
    for (name, value) in pairs(fields, key)? {
        match name.as_slice() {
            TIMESTAMP => {
                record.timestamp_ms = text(value, key)?.parse().map_err(|e| malformed(key, e))?;
                has_ts = true;
            }
            PAYLOAD => (record.payload, has_payload) = (bytes(value, key)?, true),
            KEY => record.key = Some(bytes(value, key)?),
            _ => {}
        }
    }
    if !(has_ts && has_payload) {
        return Err(malformed(key, format_args!("offset {offset} lacks its timestamp or payload")));
    }
    Ok(record)
}

fn pairs(fields: Value, key: &str) -> Result<Vec<(Vec<u8>, Value)>, LogError> {
    let flat = match fields {
        Value::Array(flat) => flat,
        Value::Map(map) => return map.into_iter().map(|(n, v)| Ok((bytes(n, key)?, v))).collect(),
        other => return Err(malformed(key, format_args!("fields are {other:?}"))),
    };
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(name), Some(value)) = (it.next(), it.next()) {
        out.push((bytes(name, key)?, value));
    }
    Ok(out)
}

fn bytes(value: Value, key: &str) -> Result<Vec<u8>, LogError> {
    match value {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        other => Err(malformed(key, format_args!("expected a string, got {other:?}"))),
    }
}

fn text(value: Value, key: &str) -> Result<String, LogError> {
    String::from_utf8(bytes(value, key)?).map_err(|e| malformed(key, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &[u8]) -> Value {
        Value::BulkString(s.to_vec())
    }

    #[test]
    fn ids_map_to_dense_offsets() {
        assert_eq!(offset_of("0-1", "k").expect("valid"), 0);
        assert_eq!(offset_of("0-42", "k").expect("valid"), 41);
        for bad in ["0-0", "1700000000000-0", "x", "0-", "0-x"] {
            assert!(offset_of(bad, "k").is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_decode_keys_timestamps_and_payloads() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                bulk(b"0-1"),
                Value::Array(vec![bulk(b"t"), bulk(b"-5"), bulk(b"p"), bulk(b"\xff")]),
            ]),
            Value::Array(vec![
                bulk(b"0-2"),
                Value::Array(vec![bulk(b"t"), bulk(b"7"), bulk(b"p"), bulk(b""), bulk(b"k"), bulk(b"")]),
            ]),
        ]);
        let got = entries(reply, "s", 3).expect("decodes");
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].offset, got[0].partition, got[0].timestamp_ms), (0, 3, -5));
        assert_eq!((got[0].key.clone(), got[0].payload.clone()), (None, vec![0xff]));
        assert_eq!((got[1].offset, got[1].key.clone()), (1, Some(Vec::new())));
    }

    #[test]
    fn foreign_entries_are_errors() {
        let no_payload =
            Value::Array(vec![Value::Array(vec![bulk(b"0-1"), Value::Array(vec![bulk(b"t"), bulk(b"1")])])]);
        assert!(entries(no_payload, "s", 0).is_err());
        let bad_ts = Value::Array(vec![Value::Array(vec![
            bulk(b"0-1"),
            Value::Array(vec![bulk(b"t"), bulk(b"soon"), bulk(b"p"), bulk(b"")]),
        ])]);
        assert!(entries(bad_ts, "s", 0).is_err());
        assert!(entries(Value::Int(3), "s", 0).is_err());
    }
}
