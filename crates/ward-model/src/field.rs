//! Flat storage of dotted ECS field paths, sorted so lookups are a binary search and
//! serialization to nested JSON objects is a single ordered pass.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A normalized field value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// Text.
    Str(Box<str>),
    /// A signed integer (ports, counts, byte totals, event codes).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean flag.
    Bool(bool),
    /// An IPv4 or IPv6 address, parsed once at decode time so CIDR matching is cheap later.
    Ip(IpAddr),
    /// An ordered list of values (`related.ip`, `event.category`, …).
    List(Vec<FieldValue>),
    /// A nested vendor structure kept as-is where flattening it would add nothing.
    Json(Box<serde_json::Value>),
}

impl FieldValue {
    /// The value as text when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as an IP address when it is one.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// Converts a JSON value: scalars map to scalars, arrays of scalars to lists, objects and
    /// arrays of objects are kept as JSON.
    pub fn from_json(v: serde_json::Value) -> Option<Self> {
        use serde_json::Value as J;
        Some(match v {
            J::Null => return None,
            J::Bool(b) => Self::Bool(b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => match n.as_u64() {
                    Some(u) => Self::Str(u.to_string().into()),
                    None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
            },
            J::String(s) => Self::Str(s.into()),
            J::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                Self::List(items.into_iter().filter_map(Self::from_json).collect())
            }
            other => Self::Json(Box::new(other)),
        })
    }
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::List(items) => {
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            Self::Json(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => s.serialize_str(v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::Float(v) => s.serialize_f64(*v),
            Self::Bool(v) => s.serialize_bool(*v),
            Self::Ip(v) => s.collect_str(v),
            Self::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Json(v) => v.serialize(s),
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => $variant:ident via $conv:expr),* $(,)?) => {
        $(impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                Self::$variant($conv(v))
            }
        })*
    };
}

from_impl! {
    &str => Str via Into::into,
    String => Str via Into::into,
    Box<str> => Str via std::convert::identity,
    i64 => Int via std::convert::identity,
    i32 => Int via i64::from,
    u32 => Int via i64::from,
    u16 => Int via i64::from,
    u8 => Int via i64::from,
    f64 => Float via std::convert::identity,
    bool => Bool via std::convert::identity,
    IpAddr => Ip via std::convert::identity,
    Vec<FieldValue> => List via std::convert::identity,
}

/// Orders dotted paths segment by segment: `a.b` < `a.b.c` < `a-c`, so that all fields under
/// one parent are contiguous (byte order would put `a-c` between `a` and `a.b`).
pub fn cmp_path(a: &str, b: &str) -> Ordering {
    cmp_path_bytes(a.as_bytes().iter().copied(), b.as_bytes().iter().copied())
}

fn seg_byte(b: u8) -> u8 {
    if b == b'.' { 0 } else { b }
}

fn cmp_path_bytes(a: impl Iterator<Item = u8>, b: impl Iterator<Item = u8>) -> Ordering {
    a.map(seg_byte).cmp(b.map(seg_byte))
}

/// The normalized fields of one event: dotted ECS paths mapped to values, kept sorted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(Box<str>, FieldValue)>,
}

impl Fields {
    /// An empty set with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Self { entries: Vec::with_capacity(n) }
    }

    fn position(&self, path: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| cmp_path(k, path))
    }

    /// The value at a dotted path (`source.ip`).
    pub fn get(&self, path: &str) -> Option<&FieldValue> {
        self.position(path).ok().map(|i| &self.entries[i].1)
    }

    /// The value at `prefix` + `name` without building the joined string (raw-name lookups).
    pub fn get_joined(&self, prefix: &str, name: &str) -> Option<&FieldValue> {
        let needle = || prefix.bytes().chain(name.bytes());
        self.entries
            .binary_search_by(|(k, _)| cmp_path_bytes(k.bytes(), needle()))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// Sets a field, replacing any previous value at the same path.
    ///
    /// Callers keep paths consistent: a path is either a leaf or a parent, never both.
    pub fn insert(&mut self, path: impl Into<Box<str>>, value: impl Into<FieldValue>) {
        let path = path.into();
        debug_assert!(!path.is_empty() && !path.starts_with('.') && !path.ends_with('.'));
        match self.position(&path) {
            Ok(i) => self.entries[i].1 = value.into(),
            Err(i) => self.entries.insert(i, (path, value.into())),
        }
    }

    /// Sets a field only when the path neither is a parent of, nor lies under, an existing leaf;
    /// returns the conflicting path otherwise. Used where paths come from user configuration.
    pub fn try_insert(&mut self, path: &str, value: FieldValue) -> Result<(), String> {
        if let Some(conflict) = self.conflict(path) {
            return Err(conflict.to_owned());
        }
        self.insert(path, value);
        Ok(())
    }

    fn conflict(&self, path: &str) -> Option<&str> {
        let mut prefix_end = 0;
        while let Some(dot) = path[prefix_end..].find('.') {
            let parent = &path[..prefix_end + dot];
            if self.position(parent).is_ok() {
                return Some(self.entries[self.position(parent).ok()?].0.as_ref());
            }
            prefix_end += dot + 1;
        }
        let child_start = match self.position(path) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        self.entries
            .get(child_start)
            .map(|(k, _)| k.as_ref())
            .filter(|k| k.len() > path.len() && k.starts_with(path) && k.as_bytes()[path.len()] == b'.')
    }

    /// Removes a field and returns its value.
    pub fn remove(&mut self, path: &str) -> Option<FieldValue> {
        self.position(path).ok().map(|i| self.entries.remove(i).1)
    }

    /// Iterates fields in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in path order (for the binary codec).
    pub(crate) fn entries(&self) -> &[(Box<str>, FieldValue)] {
        &self.entries
    }

    /// Fields from entries that are usually already in path order (as the codec writes them);
    /// anything else is sorted, and of repeated paths the last one wins, like `insert`.
    pub(crate) fn from_entries(mut entries: Vec<(Box<str>, FieldValue)>) -> Self {
        if !entries.windows(2).all(|w| cmp_path(&w[0].0, &w[1].0) == Ordering::Less) {
            // Stable sort keeps input order among equal paths; keep the last of each run.
            entries.sort_by(|a, b| cmp_path(&a.0, &b.0));
            let mut out: Vec<(Box<str>, FieldValue)> = Vec::with_capacity(entries.len());
            for e in entries {
                match out.last_mut() {
                    Some(last) if last.0 == e.0 => *last = e,
                    _ => out.push(e),
                }
            }
            entries = out;
        }
        Self { entries }
    }

    /// Serializes the fields as nested objects (`{"source":{"ip":…}}`) into an open map.
    pub(crate) fn serialize_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        serialize_level(&self.entries, 0, map)
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.serialize_into(&mut map)?;
        map.end()
    }
}

/// The path segment of `key` starting at byte `depth`, and whether it is the last one.
fn segment(key: &str, depth: usize) -> (&str, bool) {
    let rest = &key[depth..];
    match rest.find('.') {
        Some(i) => (&rest[..i], false),
        None => (rest, true),
    }
}

/// Serializes entries that share the first `depth` bytes of path as one object level.
fn serialize_level<M: SerializeMap>(
    entries: &[(Box<str>, FieldValue)],
    depth: usize,
    map: &mut M,
) -> Result<(), M::Error> {
    let mut i = 0;
    while i < entries.len() {
        let (seg, last) = segment(&entries[i].0, depth);
        if last {
            map.serialize_entry(seg, &entries[i].1)?;
            i += 1;
            continue;
        }
        let end = i + entries[i..]
            .iter()
            .take_while(|(k, _)| {
                let (s, l) = segment(k, depth);
                s == seg && !l
            })
            .count();
        map.serialize_entry(seg, &Level { entries: &entries[i..end], depth: depth + seg.len() + 1 })?;
        i = end;
    }
    Ok(())
}

struct Level<'a> {
    entries: &'a [(Box<str>, FieldValue)],
    depth: usize,
}

impl Serialize for Level<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        serialize_level(self.entries, self.depth, &mut map)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nested_serialization_groups_by_segment() {
        let mut f = Fields::default();
        f.insert("source.ip", "1.2.3.4");
        f.insert("a-c", 1i64);
        f.insert("source.port", 22i64);
        f.insert("source.geo.city_name", "X");
        f.insert("a.b", true);
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"a":{"b":true},"a-c":1,"source":{"geo":{"city_name":"X"},"ip":"1.2.3.4","port":22}}"#
        );
    }

    #[test]
    fn joined_lookup_finds_raw_names() {
        let mut f = Fields::default();
        f.insert("winlog.event_data.CommandLine", "cmd /c whoami");
        f.insert("winlog.event_data.Image", "C:\\cmd.exe");
        assert_eq!(
            f.get_joined("winlog.event_data.", "CommandLine").and_then(FieldValue::as_str),
            Some("cmd /c whoami")
        );
        assert!(f.get_joined("winlog.event_data.", "Command").is_none());
    }

    #[test]
    fn try_insert_rejects_leaf_parent_conflicts() {
        let mut f = Fields::default();
        f.insert("user.name", "root");
        assert_eq!(f.try_insert("user.name.first", "x".into()), Err("user.name".into()));
        assert_eq!(f.try_insert("user", "x".into()), Err("user.name".into()));
        assert!(f.try_insert("user.id", "0".into()).is_ok());
    }

    proptest! {
        #[test]
        fn lookups_find_every_inserted_path(paths in proptest::collection::vec("[a-z]{1,3}(\\.[a-z_-]{1,3}){0,3}", 1..40)) {
            let mut f = Fields::default();
            for (n, p) in paths.iter().enumerate() {
                f.insert(p.as_str(), n as i64);
            }
            for p in &paths {
                let last = paths.iter().rposition(|q| q == p).unwrap();
                prop_assert_eq!(f.get(p), Some(&FieldValue::Int(last as i64)));
            }
            let keys: Vec<&str> = f.iter().map(|(k, _)| k).collect();
            prop_assert!(keys.windows(2).all(|w| cmp_path(w[0], w[1]) == Ordering::Less));
        }
    }
}
