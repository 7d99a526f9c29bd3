//! Remembering nonces for as long as the request that carried them could still be accepted,
//! in bounded memory.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Mutex;

/// What the cache says about a nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Not seen before; now remembered.
    Fresh,
    /// Already used.
    Replayed,
    /// The cache is full of live nonces; the request cannot be checked now.
    Full,
}

#[derive(Default)]
struct NonceSet {
    seen: HashSet<u128>,
    /// (expiry, key), soonest first.
    expiry: BinaryHeap<Reverse<(i64, u128)>>,
}

/// A set of `(device, nonce)` pairs, each kept until its expiry (Unix seconds), holding at most
/// `capacity` live entries. 128-bit hashes stand for the pairs, so an entry costs a few dozen
/// bytes whatever the nonce length.
pub struct NonceCache {
    capacity: usize,
    inner: Mutex<NonceSet>,
}

impl NonceCache {
    /// An empty cache holding at most `capacity` nonces.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, inner: Mutex::new(NonceSet::default()) }
    }

    /// Records the nonce unless seen; entries expire after `expires_at` (Unix seconds, `now`).
    pub fn check_and_insert(&self, device: &str, nonce: &str, expires_at: i64, now: i64) -> NonceCheck {
        let key = key(device, nonce);
        let Ok(mut set) = self.inner.lock() else { return NonceCheck::Full };
        while let Some(Reverse((at, old))) = set.expiry.peek().copied()
            && at < now
        {
            set.expiry.pop();
            set.seen.remove(&old);
        }
        if set.seen.contains(&key) {
            return NonceCheck::Replayed;
        }
        if set.seen.len() >= self.capacity {
            return NonceCheck::Full;
        }
        set.seen.insert(key);
        set.expiry.push(Reverse((expires_at, key)));
        NonceCheck::Fresh
    }

    /// Live entries (for tests and metrics).
    pub fn len(&self) -> usize {
        self.inner.lock().map(|s| s.seen.len()).unwrap_or(0)
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn key(device: &str, nonce: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(device.as_bytes());
    h.update(&[0]);
    h.update(nonce.as_bytes());
    h.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_single_use_per_device_until_it_expires() {
        let c = NonceCache::new(10);
        assert_eq!(c.check_and_insert("d1", "n", 100, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("d1", "n", 100, 50), NonceCheck::Replayed);
        assert_eq!(c.check_and_insert("d2", "n", 100, 50), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("d1", "n", 300, 101), NonceCheck::Fresh, "expired entries are dropped");
    }

    #[test]
    fn capacity_bounds_live_entries_and_expiry_frees_room() {
        let c = NonceCache::new(2);
        assert_eq!(c.check_and_insert("d", "a", 10, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("d", "b", 20, 0), NonceCheck::Fresh);
        assert_eq!(c.check_and_insert("d", "c", 20, 5), NonceCheck::Full);
        assert_eq!(c.check_and_insert("d", "c", 30, 11), NonceCheck::Fresh);
        assert_eq!(c.len(), 2);
    }
}
