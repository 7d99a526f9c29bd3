//! Group keys in least-recently-updated order: a hash index over a slab of slots linked in a
//! doubly linked list, so lookup, insert, touch, remove and "oldest" are all O(1).

use std::collections::HashMap;
use std::sync::Arc;

const NIL: u32 = u32::MAX;

/// A slot index, stable while its entry lives.
pub(super) type Slot = u32;

struct Entry<V> {
    key: Arc<str>,
    value: Option<V>,
    prev: u32,
    next: u32,
}

/// Values by key, ordered from least to most recently inserted or touched.
pub(super) struct Lru<V> {
    index: HashMap<Arc<str>, Slot>,
    slots: Vec<Entry<V>>,
    free: Vec<Slot>,
    head: u32,
    tail: u32,
}

impl<V> Lru<V> {
    /// An empty map.
    pub(super) fn new() -> Self {
        Self { index: HashMap::new(), slots: Vec::new(), free: Vec::new(), head: NIL, tail: NIL }
    }

    /// Number of live entries.
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of `key`.
    pub(super) fn find(&self, key: &str) -> Option<Slot> {
        self.index.get(key).copied()
    }

    /// Inserts `key` (which must be absent) as the most recent entry.
    pub(super) fn insert(&mut self, key: Arc<str>, value: V) -> Slot {
        let entry = Entry { key: key.clone(), value: Some(value), prev: NIL, next: NIL };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = entry;
                s
            }
            None => {
                self.slots.push(entry);
                u32::try_from(self.slots.len() - 1).unwrap_or(NIL)
            }
        };
        self.index.insert(key, slot);
        self.link_back(slot);
        slot
    }

    /// Makes `slot` the most recent entry.
    pub(super) fn touch(&mut self, slot: Slot) {
        if self.tail != slot && self.live(slot) {
            self.unlink(slot);
            self.link_back(slot);
        }
    }

    /// The least recent entry.
    pub(super) fn oldest(&self) -> Option<Slot> {
        (self.head != NIL).then_some(self.head)
    }

    /// Removes an entry, returning its key and value.
    pub(super) fn remove(&mut self, slot: Slot) -> Option<(Arc<str>, V)> {
        let value = self.slots.get_mut(slot as usize)?.value.take()?;
        self.unlink(slot);
        let key = self.slots[slot as usize].key.clone();
        self.index.remove(&key);
        self.free.push(slot);
        Some((key, value))
    }

    /// The key and value at `slot`.
    pub(super) fn get(&self, slot: Slot) -> Option<(&str, &V)> {
        let e = self.slots.get(slot as usize)?;
        Some((&e.key, e.value.as_ref()?))
    }

    /// The value at `slot`, mutably.
    pub(super) fn get_mut(&mut self, slot: Slot) -> Option<&mut V> {
        self.slots.get_mut(slot as usize)?.value.as_mut()
    }

    fn live(&self, slot: Slot) -> bool {
        self.slots.get(slot as usize).is_some_and(|e| e.value.is_some())
    }

    fn unlink(&mut self, slot: Slot) {
        let (prev, next) = {
            let e = &self.slots[slot as usize];
            (e.prev, e.next)
        };
        match prev {
            NIL => self.head = next,
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.slots[n as usize].prev = prev,
        }
    }

    fn link_back(&mut self, slot: Slot) {
        let tail = self.tail;
        {
            let e = &mut self.slots[slot as usize];
            e.prev = tail;
            e.next = NIL;
        }
        match tail {
            NIL => self.head = slot,
            t => self.slots[t as usize].next = slot,
        }
        self.tail = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn oldest_follows_insert_and_touch_order() {
        let mut lru = Lru::new();
        let a = lru.insert("a".into(), 1);
        let b = lru.insert("b".into(), 2);
        let c = lru.insert("c".into(), 3);
        assert_eq!(lru.oldest(), Some(a));
        lru.touch(a);
        assert_eq!(lru.oldest(), Some(b));
        assert_eq!(lru.remove(b), Some(("b".into(), 2)));
        assert_eq!(lru.oldest(), Some(c));
        assert_eq!(lru.find("b"), None);
        let d = lru.insert("d".into(), 4);
        assert_eq!(d, b, "freed slots are reused");
        assert_eq!(lru.len(), 3);
        for expected in [c, a, d] {
            assert_eq!(lru.oldest(), Some(expected));
            lru.remove(expected);
        }
        assert_eq!(lru.oldest(), None);
        assert_eq!(lru.remove(a), None);
    }
}
