//! A path-compressed binary prefix trie (PATRICIA) over IP networks.
//!
//! Keys are left-aligned in a `u128` (an IPv4 address occupies the top 32 bits), so one
//! implementation serves both families; a trie holds one family. Every node is a prefix
//! (`key`, `len`) and has at most two children, so a trie of `n` networks has at most `2n`
//! nodes, and a lookup visits at most one node per bit of the address (33 for IPv4, 129 for
//! IPv6) — in practice far fewer, because chains without branches are compressed.
//!
//! Lookups report **every** stored network containing the address, from the shortest prefix to
//! the longest, not only the longest match: two feeds listing `10.0.0.0/8` and `10.1.0.0/16`
//! are both evidence.
//!
//! A large trie is frozen with a jump table indexed by the first 16 bits of the address: each
//! entry holds the values of the networks of 16 bits or fewer covering that /16, and the node
//! where the walk goes on. A lookup then costs one table read plus the few nodes below the /16
//! (each node visited is a likely cache miss in a trie of millions of nodes; the table is 768
//! KiB and stays warm).

use std::net::IpAddr;

use ipnet::IpNet;

/// "No node" / "no value".
pub(crate) const NONE: u32 = u32::MAX;

/// Bits resolved by the jump table.
const STRIDE: u8 = 16;
/// Tries with fewer nodes are walked from the root; the table would not pay for itself.
const JUMP_MIN_NODES: usize = 4096;

/// Where a lookup in one /16 goes after the jump table.
#[derive(Clone, Copy, Debug)]
struct Jump {
    /// Node to continue the walk from (`NONE`: nothing longer can match).
    node: u32,
    /// Index into `shorts` of the values of covering networks of at most 16 bits (`NONE`).
    shorts: u32,
    /// `node` itself is a /16 whose value is already among the shorts.
    skip_value: bool,
}

#[derive(Clone, Debug)]
struct Node {
    key: u128,
    len: u8,
    value: u32,
    child: [u32; 2],
}

/// The trie; node 0 is the root (the empty prefix).
#[derive(Clone, Debug)]
pub(crate) struct PrefixTrie {
    nodes: Vec<Node>,
    width: u8,
    values: usize,
    jump: Vec<Jump>,
    shorts: Vec<Box<[u32]>>,
}

impl PrefixTrie {
    /// An empty trie for keys of `width` bits (32 or 128).
    pub(crate) fn new(width: u8) -> Self {
        let root = Node { key: 0, len: 0, value: NONE, child: [NONE; 2] };
        Self { nodes: vec![root], width, values: 0, jump: Vec::new(), shorts: Vec::new() }
    }

    /// Number of networks stored.
    pub(crate) fn len(&self) -> usize {
        self.values
    }

    /// The value slot of network (`key`, `len`), created empty (`NONE`) if absent.
    pub(crate) fn slot(&mut self, key: u128, len: u8) -> &mut u32 {
        self.jump.clear();
        self.shorts.clear();
        let key = mask(key, len);
        let node = self.find_or_insert(key, len);
        if self.nodes[node].value == NONE {
            self.values += 1;
        }
        &mut self.nodes[node].value
    }

    fn find_or_insert(&mut self, key: u128, len: u8) -> usize {
        let mut cur = 0;
        loop {
            if self.nodes[cur].len == len {
                return cur;
            }
            let side = bit(key, self.nodes[cur].len);
            let child = self.nodes[cur].child[side];
            if child == NONE {
                return self.attach(cur, side, key, len);
            }
            let c = &self.nodes[child as usize];
            let common = common_len(key, c.key, len.min(c.len));
            if common == c.len {
                cur = child as usize;
                continue;
            }
            return self.split(cur, side, key, len, common);
        }
    }

    /// Inserts a node between `parent` and its child on `side`, at the prefix shared by the
    /// new key and the child (`common` bits); returns the new key's node.
    fn split(&mut self, parent: usize, side: usize, key: u128, len: u8, common: u8) -> usize {
        let old = self.nodes[parent].child[side];
        let old_key = self.nodes[old as usize].key;
        let mid = self.push(mask(key, common), common);
        self.nodes[mid].child[bit(old_key, common)] = old;
        self.nodes[parent].child[side] = index(mid);
        if common == len { mid } else { self.attach(mid, bit(key, common), key, len) }
    }

    fn attach(&mut self, parent: usize, side: usize, key: u128, len: u8) -> usize {
        let node = self.push(key, len);
        self.nodes[parent].child[side] = index(node);
        node
    }

    fn push(&mut self, key: u128, len: u8) -> usize {
        self.nodes.push(Node { key, len, value: NONE, child: [NONE; 2] });
        self.nodes.len() - 1
    }

    /// Calls `f` with the value of every stored network containing (`key`, `len`), shortest
    /// prefix first. For an address, `len` is the full width.
    pub(crate) fn containing(&self, key: u128, len: u8, mut f: impl FnMut(u32)) {
        if len < STRIDE || self.jump.is_empty() {
            return self.walk(0, false, key, len, &mut f);
        }
        let j = self.jump[usize::try_from(key >> (128 - u32::from(STRIDE))).unwrap_or(0)];
        if let Some(shorts) = self.shorts.get(j.shorts as usize) {
            shorts.iter().for_each(|v| f(*v));
        }
        if j.node != NONE {
            self.walk(j.node as usize, j.skip_value, key, len, &mut f);
        }
    }

    fn walk(&self, mut cur: usize, mut skip_value: bool, key: u128, len: u8, f: &mut impl FnMut(u32)) {
        loop {
            let node = &self.nodes[cur];
            if node.len > len || mask(key, node.len) != node.key {
                return;
            }
            if node.value != NONE && !skip_value {
                f(node.value);
            }
            skip_value = false;
            if node.len >= len.min(self.width) {
                return;
            }
            match node.child[bit(key, node.len)] {
                NONE => return,
                next => cur = next as usize,
            }
        }
    }

    /// Builds the jump table (for tries large enough to benefit); inserting clears it.
    pub(crate) fn freeze(&mut self) {
        if self.nodes.len() < JUMP_MIN_NODES || self.width < STRIDE {
            return;
        }
        let mut lists: rustc_hash::FxHashMap<Vec<u32>, u32> = rustc_hash::FxHashMap::default();
        let mut shorts = Vec::new();
        let mut jump = Vec::with_capacity(1 << STRIDE);
        for bucket in 0..1u128 << STRIDE {
            let (values, node, skip_value) = self.bucket(bucket << (128 - u32::from(STRIDE)));
            let shorts_id = match values.is_empty() {
                true => NONE,
                false => *lists.entry(values).or_insert_with_key(|v| {
                    shorts.push(v.clone().into_boxed_slice());
                    index(shorts.len() - 1)
                }),
            };
            jump.push(Jump { node, shorts: shorts_id, skip_value });
        }
        self.jump = jump;
        self.shorts = shorts;
    }

    /// Walks the first 16 bits of `key`: values met, then where the walk goes on.
    fn bucket(&self, key: u128) -> (Vec<u32>, u32, bool) {
        let mut values = Vec::new();
        let mut cur = 0usize;
        loop {
            let node = &self.nodes[cur];
            if node.len > STRIDE {
                return (values, index(cur), false);
            }
            if mask(key, node.len) != node.key {
                return (values, NONE, false);
            }
            if node.value != NONE {
                values.push(node.value);
            }
            if node.len == STRIDE {
                return (values, index(cur), true);
            }
            match node.child[bit(key, node.len)] {
                NONE => return (values, NONE, false),
                next => cur = next as usize,
            }
        }
    }
}

fn index(node: usize) -> u32 {
    u32::try_from(node).unwrap_or(NONE)
}

/// The top `len` bits of `key`.
fn mask(key: u128, len: u8) -> u128 {
    match len {
        0 => 0,
        l if l >= 128 => key,
        l => key & (u128::MAX << (128 - u32::from(l))),
    }
}

/// Bit `i` counted from the most significant.
fn bit(key: u128, i: u8) -> usize {
    usize::from((key >> (127 - u32::from(i.min(127)))) & 1 == 1)
}

fn common_len(a: u128, b: u128, limit: u8) -> u8 {
    let same = u8::try_from((a ^ b).leading_zeros()).unwrap_or(128);
    same.min(limit)
}

/// The left-aligned key and full width of an address.
pub(crate) fn ip_key(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// The left-aligned key and prefix length of a network.
pub(crate) fn net_key(net: IpNet) -> (u128, u8) {
    (ip_key(net.network()).0, net.prefix_len())
}

/// A pair of tries, one per address family.
#[derive(Clone, Debug)]
pub(crate) struct NetTrie {
    v4: PrefixTrie,
    v6: PrefixTrie,
}

impl Default for NetTrie {
    fn default() -> Self {
        Self { v4: PrefixTrie::new(32), v6: PrefixTrie::new(128) }
    }
}

impl NetTrie {
    /// The value slot of a network.
    pub(crate) fn slot(&mut self, net: IpNet) -> &mut u32 {
        let (key, len) = net_key(net);
        self.family_mut(net.addr()).slot(key, len)
    }

    /// Values of every network containing the address.
    pub(crate) fn containing_ip(&self, ip: IpAddr, f: impl FnMut(u32)) {
        let (key, len) = ip_key(ip);
        self.family(ip).containing(key, len, f);
    }

    /// Values of every network containing `net` (itself included).
    pub(crate) fn containing_net(&self, net: IpNet, f: impl FnMut(u32)) {
        let (key, len) = net_key(net);
        self.family(net.addr()).containing(key, len, f);
    }

    /// Networks stored.
    pub(crate) fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Builds the jump tables of both families.
    pub(crate) fn freeze(&mut self) {
        self.v4.freeze();
        self.v6.freeze();
    }

    fn family(&self, ip: IpAddr) -> &PrefixTrie {
        if ip.is_ipv4() { &self.v4 } else { &self.v6 }
    }

    fn family_mut(&mut self, ip: IpAddr) -> &mut PrefixTrie {
        if ip.is_ipv4() { &mut self.v4 } else { &mut self.v6 }
    }
}
