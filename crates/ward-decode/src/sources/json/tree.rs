//! Addressing JSON records: dotted source paths split once at load time, the set of paths a
//! mapping reads, and copying (sub)trees into events as dotted fields (also used by the osquery
//! decoder for columns and decorations).

use std::collections::HashMap;

use serde_json::Value;
use ward_model::{Event, FieldValue};

use crate::DecodeError;
use crate::util::Object;

/// A dotted source path (`actor.alternateId`, `target.0.id`), split once.
#[derive(Debug)]
pub(crate) struct SourcePath {
    text: Box<str>,
    segments: Vec<Segment>,
}

#[derive(Debug)]
struct Segment {
    key: Box<str>,
    /// The segment as an array index, when it is a number.
    index: Option<usize>,
}

impl SourcePath {
    /// Splits `text` on dots; every segment must be non-empty.
    pub(crate) fn compile(text: &str) -> Result<Self, String> {
        check_path(text)?;
        let segments = text.split('.').map(|s| Segment { key: s.into(), index: s.parse().ok() }).collect();
        Ok(Self { text: text.into(), segments })
    }

    /// The path as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The value at this path (`None` when absent or null). A top-level key spelled with dots
    /// (`{"source.ip": …}`) is found too; numeric segments index arrays.
    pub(crate) fn lookup<'a>(&self, obj: &'a Object) -> Option<&'a Value> {
        if self.segments.len() > 1
            && let Some(v) = obj.get(&*self.text)
        {
            return Some(v).filter(|v| !v.is_null());
        }
        let (first, rest) = self.segments.split_first()?;
        let mut cur = obj.get(&*first.key)?;
        for seg in rest {
            cur = match cur {
                Value::Object(map) => map.get(&*seg.key)?,
                Value::Array(items) => items.get(seg.index?)?,
                _ => return None,
            };
        }
        Some(cur).filter(|v| !v.is_null())
    }
}

/// Checks that a dotted path has no empty segment.
pub(crate) fn check_path(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("empty path".into());
    }
    if text.split('.').any(str::is_empty) {
        return Err(format!("{text:?} has an empty segment"));
    }
    Ok(())
}

/// The source paths a mapping reads, as a tree: what `keep_unmapped` leaves out.
#[derive(Debug, Default)]
pub(crate) struct Consumed {
    children: HashMap<Box<str>, Consumed>,
    whole: bool,
}

impl Consumed {
    /// Marks `path` (and everything under it) as read.
    pub(crate) fn insert(&mut self, path: &SourcePath) {
        if path.segments.len() > 1 {
            self.children.entry(path.text.clone()).or_default().whole = true;
        }
        let mut node = self;
        for seg in &path.segments {
            node = node.children.entry(seg.key.clone()).or_default();
        }
        node.whole = true;
    }
}

/// Copies every field of `obj` not marked in `consumed` under `prefix`. Objects recurse,
/// arrays are copied whole (as lists, or as JSON when they hold objects) unless read whole.
///
/// # Errors
/// Two source keys land on conflicting paths (`a.b` and `a_b` after dots in keys become `_`).
pub(crate) fn copy_unread(
    obj: &Object,
    consumed: Option<&Consumed>,
    prefix: &mut String,
    ev: &mut Event,
) -> Result<(), DecodeError> {
    for (key, value) in obj {
        let node = consumed.and_then(|c| c.children.get(key.as_str()));
        if node.is_some_and(|n| n.whole) || value.is_null() {
            continue;
        }
        let len = prefix.len();
        push_segment(prefix, key);
        match value {
            Value::Object(map) if !map.is_empty() => copy_unread(map, node, prefix, ev)?,
            other => set_leaf(ev, prefix, other.clone())?,
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// Appends `.key` with dots in the key replaced by `_` (and an empty key written `_`), so one
/// source key is always one path segment.
fn push_segment(prefix: &mut String, key: &str) {
    if !prefix.is_empty() {
        prefix.push('.');
    }
    if key.is_empty() {
        prefix.push('_');
    } else {
        prefix.extend(key.chars().map(|c| if c == '.' { '_' } else { c }));
    }
}

/// Sets one value at a user-controlled path, refusing leaf/parent conflicts.
pub(crate) fn set_leaf(ev: &mut Event, path: &str, value: Value) -> Result<(), DecodeError> {
    let Some(value) = FieldValue::from_json(value) else {
        return Ok(());
    };
    set_checked(ev, path, value)
}

/// [`Event::try_set`] with the conflict as a [`DecodeError`].
pub(crate) fn set_checked(ev: &mut Event, path: &str, value: FieldValue) -> Result<(), DecodeError> {
    ev.try_set(path, value).map_err(|other| {
        DecodeError::invalid(
            path,
            format!("conflicts with field `{other}` (a path is a value or a parent, not both)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test objects"),
        }
    }

    #[test]
    fn lookups_walk_objects_arrays_and_dotted_keys() {
        let o = obj(json!({"a":{"b":[{"c":1},{"c":2}]},"x.y":"flat","n":null}));
        let find = |p: &str| SourcePath::compile(p).unwrap().lookup(&o).cloned();
        assert_eq!(find("a.b.1.c"), Some(json!(2)));
        assert_eq!(find("x.y"), Some(json!("flat")));
        assert_eq!(find("a.b.7.c"), None);
        assert_eq!(find("n"), None);
        assert!(SourcePath::compile("a..b").is_err());
        assert!(SourcePath::compile("").is_err());
    }

    #[test]
    fn keys_become_single_segments() {
        let mut p = String::from("ns");
        push_segment(&mut p, "k8s.io/name");
        push_segment(&mut p, "");
        assert_eq!(p, "ns.k8s_io/name._");
    }
}
