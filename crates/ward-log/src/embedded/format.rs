//! Byte layouts of segment headers and record frames (see the module docs for the tables).

use crate::Record;

/// First bytes of every segment file.
pub(crate) const SEGMENT_MAGIC: [u8; 4] = *b"WLOG";
/// Version of the segment and index formats this code writes and reads.
pub(crate) const FORMAT_VERSION: u16 = 1;
/// Bytes of the segment header: magic, version, flags, base offset, CRC32C.
pub(crate) const HEADER_LEN: u64 = 20;
/// Bytes before a frame's body: body length and body CRC32C.
pub(crate) const FRAME_PREFIX: usize = 8;
/// Fixed bytes of a frame's body: offset, timestamp and key length.
pub(crate) const BODY_FIXED: usize = 20;
/// Key length that marks a record without a key (distinct from an empty key).
const NO_KEY: u32 = u32::MAX;

/// The segment header for a segment whose first record has offset `base`.
pub(crate) fn encode_header(base: u64) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[0..4].copy_from_slice(&SEGMENT_MAGIC);
    h[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[8..16].copy_from_slice(&base.to_le_bytes());
    let crc = crc32c::crc32c(&h[..16]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// The base offset a segment header names, or why the header is invalid.
pub(crate) fn decode_header(h: &[u8]) -> Result<u64, &'static str> {
    if h.len() < HEADER_LEN as usize {
        return Err("segment header is incomplete");
    }
    if h[0..4] != SEGMENT_MAGIC {
        return Err("bad segment magic");
    }
    if crc32c::crc32c(&h[..16]) != le_u32(&h[16..20]) {
        return Err("segment header checksum mismatch");
    }
    if u16::from_le_bytes([h[4], h[5]]) != FORMAT_VERSION {
        return Err("unsupported segment format version");
    }
    Ok(le_u64(&h[8..16]))
}

/// Bytes the frame of `rec` takes on disk.
pub(crate) fn frame_len(rec: &Record) -> usize {
    FRAME_PREFIX + BODY_FIXED + rec.key.as_ref().map_or(0, Vec::len) + rec.payload.len()
}

/// Appends the frame of `rec` at `offset` to `buf`. The caller has checked that the frame's
/// body fits the 32-bit length field.
pub(crate) fn encode_frame(buf: &mut Vec<u8>, offset: u64, rec: &Record) {
    let start = buf.len();
    let body_len = frame_len(rec) - FRAME_PREFIX;
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&offset.to_le_bytes());
    buf.extend_from_slice(&rec.timestamp_ms.to_le_bytes());
    match &rec.key {
        Some(k) => {
            buf.extend_from_slice(&(k.len() as u32).to_le_bytes());
            buf.extend_from_slice(k);
        }
        None => buf.extend_from_slice(&NO_KEY.to_le_bytes()),
    }
    buf.extend_from_slice(&rec.payload);
    let crc = crc32c::crc32c(&buf[start + FRAME_PREFIX..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A frame decoded in place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// The record's offset.
    pub offset: u64,
    /// The record's timestamp.
    pub timestamp_ms: i64,
    /// The record's key.
    pub key: Option<&'a [u8]>,
    /// The record's payload.
    pub payload: &'a [u8],
    /// Bytes the frame takes, prefix included.
    pub len: usize,
}

/// The outcome of decoding the bytes at a frame boundary.
#[derive(Debug)]
pub(crate) enum Decoded<'a> {
    /// A whole, checksum-verified frame.
    Frame(Frame<'a>),
    /// The bytes end before the frame does.
    Incomplete,
    /// The bytes are not a valid frame.
    Invalid(&'static str),
}

/// Decodes the frame at the start of `buf`.
pub(crate) fn decode_frame(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < FRAME_PREFIX {
        return Decoded::Incomplete;
    }
    let body_len = le_u32(&buf[0..4]) as usize;
    if body_len < BODY_FIXED {
        return Decoded::Invalid("frame length below the minimum");
    }
    let total = FRAME_PREFIX + body_len;
    if buf.len() < total {
        return Decoded::Incomplete;
    }
    let body = &buf[FRAME_PREFIX..total];
    if crc32c::crc32c(body) != le_u32(&buf[4..8]) {
        return Decoded::Invalid("record checksum mismatch");
    }
    let key_len = le_u32(&body[16..20]);
    let rest = &body[BODY_FIXED..];
    let (key, payload) = match key_len {
        NO_KEY => (None, rest),
        n if n as usize <= rest.len() => (Some(&rest[..n as usize]), &rest[n as usize..]),
        _ => return Decoded::Invalid("key length exceeds the frame"),
    };
    let (offset, timestamp_ms) = (le_u64(&body[0..8]), le_u64(&body[8..16]) as i64);
    Decoded::Frame(Frame { offset, timestamp_ms, key, payload, len: total })
}

/// Reads a little-endian u32 from exactly four bytes.
pub(crate) fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// Reads a little-endian u64 from exactly eight bytes.
pub(crate) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: Option<&[u8]>, payload: &[u8]) -> Record {
        Record { key: key.map(<[u8]>::to_vec), timestamp_ms: -7, payload: payload.to_vec() }
    }

    #[test]
    fn frames_round_trip_and_keep_none_apart_from_empty_keys() {
        for r in [rec(None, b"abc"), rec(Some(b""), b"abc"), rec(Some(b"k"), b""), rec(None, b"")] {
            let mut buf = Vec::new();
            encode_frame(&mut buf, 42, &r);
            assert_eq!(buf.len(), frame_len(&r));
            let Decoded::Frame(f) = decode_frame(&buf) else { panic!("frame of {r:?} must decode") };
            assert_eq!(
                (f.offset, f.timestamp_ms, f.key, f.payload),
                (42, -7, r.key.as_deref(), &r.payload[..])
            );
        }
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_detected() {
        let mut buf = Vec::new();
        encode_frame(&mut buf, 9, &rec(Some(b"key"), b"payload"));
        for cut in 0..buf.len() {
            assert!(matches!(decode_frame(&buf[..cut]), Decoded::Incomplete), "cut at {cut}");
        }
        for bit in 0..buf.len() * 8 {
            let mut bad = buf.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(!matches!(decode_frame(&bad), Decoded::Frame(_)), "flipped bit {bit} went unnoticed");
        }
    }

    #[test]
    fn headers_name_their_base_and_reject_damage() {
        let h = encode_header(1234);
        assert_eq!(decode_header(&h), Ok(1234));
        assert!(decode_header(&h[..19]).is_err());
        let mut bad = h;
        bad[9] ^= 1;
        assert_eq!(decode_header(&bad), Err("segment header checksum mismatch"));
    }
}
