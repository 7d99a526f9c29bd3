//! Session key-sequence anomaly detection, trained on normal sessions only.
//!
//! Input is one session per line, `id,k1 k2 k3 …` or `k1 k2 k3 …` (keys are log template ids
//! or system-call numbers; any token without whitespace or commas). Keys are interned into a
//! [`Vocab`]; a key never seen in training maps to [`Vocab::UNKNOWN`] and is always unexpected.

pub mod count;
#[cfg(feature = "neural")]
pub mod neural;
pub mod ngram;

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// One session: an id (given or the 1-based line number) and its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// Keys in order.
    pub keys: Vec<String>,
}

/// Parses one session line (`id,k1 k2 …` or `k1 k2 …`); `line_no` names sessions without id.
pub fn parse_session(line: &str, line_no: usize) -> Session {
    let line = line.trim_end_matches(['\r', '\n']);
    let (id, rest) = match line.split_once(',') {
        Some((id, rest)) => (id.trim().to_owned(), rest),
        None => (line_no.to_string(), line),
    };
    Session { id, keys: rest.split_whitespace().map(str::to_owned).collect() }
}

/// Reads a session file (blank lines are sessions with no keys, kept so output stays aligned).
pub fn read_sessions(path: &Path) -> Result<Vec<Session>> {
    let text = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
    Ok(text.lines().enumerate().map(|(i, l)| parse_session(l, i + 1)).collect())
}

/// Key interning: index 0 is the unknown key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Vocab {
    keys: Vec<String>,
    #[serde(skip)]
    index: FxHashMap<String, u32>,
}

impl Vocab {
    /// Index of keys never seen in training.
    pub const UNKNOWN: u32 = 0;

    /// A vocabulary of every key in `sessions`.
    pub fn build(sessions: &[Session]) -> Self {
        let mut v = Self { keys: vec!["<unk>".to_owned()], index: FxHashMap::default() };
        for s in sessions {
            for k in &s.keys {
                if !v.index.contains_key(k) {
                    v.index.insert(k.clone(), v.keys.len() as u32);
                    v.keys.push(k.clone());
                }
            }
        }
        v
    }

    /// Rebuilds the lookup map after deserializing.
    pub fn reindex(&mut self) {
        self.index = self.keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u32)).collect();
    }

    /// Number of indices (known keys + 1).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether only the unknown key exists.
    pub fn is_empty(&self) -> bool {
        self.keys.len() <= 1
    }

    /// The index of `key` ([`Vocab::UNKNOWN`] if never seen).
    pub fn id(&self, key: &str) -> u32 {
        self.index.get(key).copied().unwrap_or(Self::UNKNOWN)
    }

    /// The key of index `id`.
    pub fn key(&self, id: u32) -> &str {
        self.keys.get(id as usize).map_or("<unk>", String::as_str)
    }

    /// Encodes a session's keys.
    pub fn encode(&self, keys: &[String]) -> Vec<u32> {
        keys.iter().map(|k| self.id(k)).collect()
    }
}

/// A key the model did not expect at a position, for explanations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unexpected {
    /// 0-based position in the session.
    pub position: usize,
    /// The key found.
    pub key: String,
    /// The keys the model would have accepted there (most likely first; may be empty).
    pub expected: Vec<String>,
}

/// Deterministic split of `items` into (train, held out) with `held_out` share, by a hash of
/// each item's position and `seed` (stable across runs and platforms).
pub fn split_holdout<T: Clone>(items: &[T], held_out: f64, seed: u64) -> (Vec<T>, Vec<T>) {
    let mut rng = crate::rng::Rng::new(seed);
    let mut idx: Vec<usize> = (0..items.len()).collect();
    rng.shuffle(&mut idx);
    let cut = ((items.len() as f64) * held_out).round() as usize;
    let (test, train) = idx.split_at(cut.min(items.len()));
    let pick = |ix: &[usize]| {
        let mut ix = ix.to_vec();
        ix.sort_unstable();
        ix.into_iter().map(|i| items[i].clone()).collect::<Vec<_>>()
    };
    (pick(train), pick(test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_lines_with_and_without_id() {
        assert_eq!(parse_session("blk_1,5 22 5", 1).keys, vec!["5", "22", "5"]);
        assert_eq!(parse_session("blk_1,5 22 5", 1).id, "blk_1");
        assert_eq!(parse_session("5 22 5 ", 7).id, "7");
    }
}
