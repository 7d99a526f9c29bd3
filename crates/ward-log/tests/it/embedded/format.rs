//! The on-disk format is the one the module docs describe, byte for byte.

use ward_log::embedded::EmbeddedOptions;
use ward_log::{Log, Topic};

use super::{open, rec};

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[tokio::test(flavor = "multi_thread")]
async fn segment_files_follow_the_documented_layout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), EmbeddedOptions::default());
    log.append(Topic::Actions, vec![rec(Some("k1"), 1_700_000_000_123, b"{\"a\":1}"), rec(None, -5, b"")])
        .await
        .expect("append");
    drop(log);
    let b = std::fs::read(dir.path().join("actions/0/00000000000000000000.log")).expect("segment file");

    assert_eq!(&b[0..4], b"WLOG", "magic");
    assert_eq!(u16::from_le_bytes([b[4], b[5]]), 1, "version");
    assert_eq!(u64_at(&b, 8), 0, "base offset");
    assert_eq!(u32_at(&b, 16), crc32c::crc32c(&b[0..16]), "header checksum");

    let body_len = u32_at(&b, 20) as usize;
    assert_eq!(body_len, 20 + 2 + 7, "offset, timestamp, key length, key, payload");
    assert_eq!(u32_at(&b, 24), crc32c::crc32c(&b[28..28 + body_len]), "frame checksum covers the body");
    assert_eq!(u64_at(&b, 28), 0, "offset");
    assert_eq!(u64_at(&b, 36) as i64, 1_700_000_000_123, "timestamp");
    assert_eq!(u32_at(&b, 44), 2, "key length");
    assert_eq!(&b[48..50], b"k1");
    assert_eq!(&b[50..57], b"{\"a\":1}");

    let second = 28 + body_len;
    assert_eq!(u32_at(&b, second), 20, "an empty payload without key has only the fixed fields");
    assert_eq!(u64_at(&b, second + 8), 1, "offsets are dense");
    assert_eq!(u64_at(&b, second + 16) as i64, -5);
    assert_eq!(u32_at(&b, second + 24), u32::MAX, "no key is 0xFFFF_FFFF, not an empty key");
    assert_eq!(b.len(), second + 28, "nothing after the last frame");
}

#[tokio::test(flavor = "multi_thread")]
async fn commits_are_small_checksummed_files_per_group() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), EmbeddedOptions::default());
    log.append(Topic::RawEvents, vec![rec(None, 1, b"x")]).await.expect("append");
    log.ack("detect/sigma v2", Topic::RawEvents, 0, 1).await.expect("ack");
    let b = std::fs::read(dir.path().join("groups/detect%2Fsigma%20v2/raw_events.0.commit"))
        .expect("commit file");
    assert_eq!(b.len(), 16);
    assert_eq!(&b[0..4], b"WCMT");
    assert_eq!(u64_at(&b, 4), 1);
    assert_eq!(u32_at(&b, 12), crc32c::crc32c(&b[0..12]));
}
