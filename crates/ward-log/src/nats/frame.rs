//! The byte layout of one record in a JetStream message payload.
//!
//! ```text
//! [version: u8 = 1][timestamp_ms: i64 BE][key_len: u32 BE, 0xFFFF_FFFF = no key][key][payload]
//! ```
//!
//! Keys are arbitrary bytes, which NATS headers cannot carry, so the record travels whole in
//! the payload; the header costs 13 bytes plus the key.

use crate::{LogError, Record, StoredRecord};

const VERSION: u8 = 1;
const NO_KEY: u32 = u32::MAX;
/// Bytes before the key.
const HEADER_LEN: usize = 1 + 8 + 4;

/// The payload bytes of `record`.
pub(super) fn encode(record: &Record) -> Vec<u8> {
    let key = record.key.as_deref();
    let mut out = Vec::with_capacity(HEADER_LEN + key.map_or(0, <[u8]>::len) + record.payload.len());
    out.push(VERSION);
    out.extend_from_slice(&record.timestamp_ms.to_be_bytes());
    let key_len = key.map_or(NO_KEY, |k| u32::try_from(k.len()).unwrap_or(NO_KEY - 1));
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(key.unwrap_or_default());
    out.extend_from_slice(&record.payload);
    out
}

/// Where a decoded record came from, for the record itself and for error messages.
pub(super) struct Origin<'a> {
    /// Stream name.
    pub stream: &'a str,
    /// Partition index.
    pub partition: u32,
    /// Dense offset (stream sequence − 1).
    pub offset: u64,
}

/// The record stored in a message payload.
pub(super) fn decode(bytes: &[u8], at: &Origin<'_>) -> Result<StoredRecord, LogError> {
    let corrupt = |byte: usize, reason: &str| LogError::Corrupt {
        path: format!("nats stream {} message {}", at.stream, at.offset + 1),
        offset: byte as u64,
        reason: reason.to_owned(),
    };
    let (head, rest) =
        bytes.split_at_checked(HEADER_LEN).ok_or_else(|| corrupt(0, "shorter than a record header"))?;
    if head[0] != VERSION {
        return Err(corrupt(0, &format!("unknown record version {}", head[0])));
    }
    let timestamp_ms = i64::from_be_bytes(head[1..9].try_into().map_err(|_| corrupt(1, "timestamp"))?);
    let key_len = u32::from_be_bytes(head[9..13].try_into().map_err(|_| corrupt(9, "key length"))?);
    let (key, payload) = if key_len == NO_KEY {
        (None, rest)
    } else {
        let (key, payload) = rest
            .split_at_checked(key_len as usize)
            .ok_or_else(|| corrupt(9, &format!("key length {key_len} exceeds the message")))?;
        (Some(key.to_vec()), payload)
    };
    Ok(StoredRecord {
        partition: at.partition,
        offset: at.offset,
        key,
        timestamp_ms,
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Origin<'static> = Origin { stream: "s", partition: 2, offset: 9 };

    fn round_trip(record: Record) {
        let stored = decode(&encode(&record), &AT).expect("decodes");
        assert_eq!((stored.partition, stored.offset), (2, 9));
        assert_eq!(stored.key, record.key);
        assert_eq!(stored.timestamp_ms, record.timestamp_ms);
        assert_eq!(stored.payload, record.payload);
    }

    #[test]
    fn records_round_trip() {
        round_trip(Record { key: None, timestamp_ms: -1, payload: vec![] });
        round_trip(Record { key: Some(vec![]), timestamp_ms: i64::MAX, payload: b"x".to_vec() });
        round_trip(Record { key: Some(vec![0, 0xff, b'.']), timestamp_ms: 42, payload: vec![7; 70_000] });
    }

    #[test]
    fn an_empty_key_differs_from_no_key() {
        let none = encode(&Record { key: None, timestamp_ms: 0, payload: vec![] });
        let empty = encode(&Record { key: Some(vec![]), timestamp_ms: 0, payload: vec![] });
        assert_ne!(none, empty);
    }

    #[test]
    fn damaged_payloads_are_corrupt_not_panics() {
        let good = encode(&Record { key: Some(b"key".to_vec()), timestamp_ms: 1, payload: b"p".to_vec() });
        for cut in 0..HEADER_LEN + 2 {
            let err = decode(&good[..cut], &AT).expect_err("truncated");
            assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
        }
        let mut wrong_version = good.clone();
        wrong_version[0] = 9;
        assert!(matches!(decode(&wrong_version, &AT), Err(LogError::Corrupt { .. })));
    }
}
