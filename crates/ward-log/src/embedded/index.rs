//! The sparse offset index of a segment and its file format (`<base>.idx`).

use super::format::{FORMAT_VERSION, HEADER_LEN, le_u32, le_u64};

/// First bytes of every index file.
const INDEX_MAGIC: [u8; 4] = *b"WIDX";
/// Bytes of an index file before its entries.
const INDEX_FIXED: usize = 48;

/// One index entry: the record at `offset` starts at byte `pos` of the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// Record offset.
    pub offset: u64,
    /// Byte position of the record's frame in the segment file.
    pub pos: u64,
}

/// What is known about a segment's records: offsets, bytes, timestamps and the sparse index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentMeta {
    /// Offset of the first record (from the file name and header).
    pub base: u64,
    /// Offset after the last record.
    pub next: u64,
    /// Bytes of the segment file holding whole records (header included).
    pub len: u64,
    /// Smallest record timestamp (`i64::MAX` when empty).
    pub min_ts: i64,
    /// Largest record timestamp (`i64::MIN` when empty).
    pub max_ts: i64,
    /// Sparse index, ascending.
    pub index: Vec<IndexEntry>,
    /// Position of the last indexed frame (the header end before the first entry).
    pub last_indexed: u64,
}

impl SegmentMeta {
    /// An empty segment starting at `base`.
    pub(crate) fn empty(base: u64) -> Self {
        Self {
            base,
            next: base,
            len: HEADER_LEN,
            min_ts: i64::MAX,
            max_ts: i64::MIN,
            index: Vec::new(),
            last_indexed: HEADER_LEN,
        }
    }

    /// Accounts for one record appended at the end; indexes it when `interval` bytes have
    /// passed since the last indexed record.
    pub(crate) fn push(&mut self, timestamp_ms: i64, frame_len: u64, interval: u64) {
        if self.len - self.last_indexed >= interval {
            self.index.push(IndexEntry { offset: self.next, pos: self.len });
            self.last_indexed = self.len;
        }
        self.min_ts = self.min_ts.min(timestamp_ms);
        self.max_ts = self.max_ts.max(timestamp_ms);
        self.next += 1;
        self.len += frame_len;
    }

    /// Whether the segment holds no record.
    pub(crate) fn is_empty(&self) -> bool {
        self.next == self.base
    }

    /// Where to start scanning for `offset`: the last indexed record at or before it.
    pub(crate) fn seek(&self, offset: u64) -> IndexEntry {
        let i = self.index.partition_point(|e| e.offset <= offset);
        match i {
            0 => IndexEntry { offset: self.base, pos: HEADER_LEN },
            _ => self.index[i - 1],
        }
    }

    /// The index file's bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(INDEX_FIXED + 16 * self.index.len() + 4);
        b.extend_from_slice(&INDEX_MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        for v in [self.base, self.next, self.len, self.min_ts as u64, self.max_ts as u64] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for e in &self.index {
            b.extend_from_slice(&e.offset.to_le_bytes());
            b.extend_from_slice(&e.pos.to_le_bytes());
        }
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    /// Parses an index file; `None` when it is damaged or inconsistent (it is then rebuilt).
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let body_len = b.len().checked_sub(4)?;
        let valid = body_len >= INDEX_FIXED
            && (body_len - INDEX_FIXED).is_multiple_of(16)
            && b[0..4] == INDEX_MAGIC
            && u16::from_le_bytes([b[4], b[5]]) == FORMAT_VERSION
            && crc32c::crc32c(&b[..body_len]) == le_u32(&b[body_len..]);
        if !valid {
            return None;
        }
        let at = |i: usize| le_u64(&b[8 + 8 * i..]);
        let index: Vec<IndexEntry> = b[INDEX_FIXED..body_len]
            .chunks_exact(16)
            .map(|c| IndexEntry { offset: le_u64(&c[..8]), pos: le_u64(&c[8..]) })
            .collect();
        let last_indexed = index.last().map_or(HEADER_LEN, |e| e.pos);
        let meta = Self {
            base: at(0),
            next: at(1),
            len: at(2),
            min_ts: at(3) as i64,
            max_ts: at(4) as i64,
            index,
            last_indexed,
        };
        meta.is_consistent().then_some(meta)
    }

    /// Whether the entries lie inside the segment, in ascending order.
    fn is_consistent(&self) -> bool {
        let inside = |e: &IndexEntry| e.offset >= self.base && e.offset < self.next && e.pos >= HEADER_LEN;
        self.next >= self.base
            && self.len >= HEADER_LEN
            && self.index.iter().all(|e| inside(e) && e.pos < self.len)
            && self.index.windows(2).all(|w| w[0].offset < w[1].offset && w[0].pos < w[1].pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SegmentMeta {
        let mut m = SegmentMeta::empty(100);
        for i in 0..50 {
            m.push(i, 40, 100);
        }
        m
    }

    #[test]
    fn push_indexes_every_interval_and_seek_finds_the_floor() {
        let m = meta();
        assert_eq!((m.next, m.len, m.min_ts, m.max_ts), (150, HEADER_LEN + 50 * 40, 0, 49));
        assert!(m.index.len() >= 15, "an entry every ~3 records");
        assert_eq!(m.seek(100), IndexEntry { offset: 100, pos: HEADER_LEN });
        for target in 100..150 {
            let e = m.seek(target);
            assert!(e.offset <= target && target - e.offset <= 3, "seek({target}) = {e:?}");
            assert_eq!(e.pos, HEADER_LEN + (e.offset - 100) * 40);
        }
    }

    #[test]
    fn index_files_round_trip_and_damage_is_refused() {
        let m = meta();
        let bytes = m.encode();
        assert_eq!(SegmentMeta::decode(&bytes), Some(m));
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert_eq!(SegmentMeta::decode(&bad), None, "damaged byte {i} accepted");
        }
        assert_eq!(SegmentMeta::decode(&bytes[..bytes.len() - 1]), None);
    }
}
