//! DeepLog-style next-key model over fixed-length histories (Du et al., CCS 2017), with
//! counts instead of an LSTM: for each history of up to `history` keys the training counts of
//! the next key are kept; a key is *expected* when it is among the `top_g` most frequent
//! continuations of the longest history seen in training. A session is anomalous when any
//! key (including the end-of-session marker) is unexpected.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{Session, Unexpected, Vocab};
use crate::error::{MlError, Result};

/// Start-of-session padding index (outside the vocabulary).
const START: u32 = u32::MAX - 1;
/// End-of-session marker index.
const END: u32 = u32::MAX;
/// Longest history supported.
pub const MAX_HISTORY: usize = 32;

/// Training parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NgramParams {
    /// History length (DeepLog's window `h`).
    pub history: usize,
    /// How many of the most likely next keys are accepted (DeepLog's `g`).
    pub top_g: usize,
    /// Whether the end of a session is predicted too (catches truncated sessions).
    pub predict_end: bool,
    /// Whether a history is the multiset of its keys rather than their order. Logs of
    /// parallel work (HDFS replicas) interleave independent steps; an unordered history
    /// accepts those benign reorderings while still catching unseen keys, unseen key mixes
    /// and early ends.
    #[serde(default)]
    pub unordered: bool,
    /// A history seen fewer times than this in training does not decide alone: when it
    /// rejects a key, the next shorter history is asked (0 = the longest history decides).
    #[serde(default)]
    pub min_support: u32,
}

impl Default for NgramParams {
    fn default() -> Self {
        Self { history: 6, top_g: 9, predict_end: true, unordered: true, min_support: 100 }
    }
}

type Counts = FxHashMap<Vec<u32>, FxHashMap<u32, u32>>;
/// (history, next keys by descending count, history support).
type Entry = (Vec<u32>, Vec<(u32, u32)>, u32);

/// A trained n-gram next-key model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NgramModel {
    /// Parameters it was trained with.
    pub params: NgramParams,
    /// Key vocabulary.
    pub vocab: Vocab,
    /// (history, next keys by descending count) for every history length 1..=history.
    table: Vec<Entry>,
    #[serde(skip)]
    index: FxHashMap<Vec<u32>, usize>,
}

/// Score of one session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceScore {
    /// Whether any key was unexpected.
    pub anomaly: bool,
    /// Share of positions whose key was unexpected, in [0, 1].
    pub score: f64,
    /// The unexpected keys (at most 10), for explanation.
    pub unexpected: Vec<Unexpected>,
}

impl NgramModel {
    /// Trains on normal sessions.
    pub fn train(sessions: &[Session], params: NgramParams) -> Result<Self> {
        if sessions.is_empty() || params.history == 0 || params.history > MAX_HISTORY || params.top_g == 0 {
            return Err(MlError::training("ngram", "needs sessions, 1 ≤ history ≤ 32 and top_g ≥ 1"));
        }
        let vocab = Vocab::build(sessions);
        let mut counts: Counts = FxHashMap::default();
        for s in sessions {
            let seq = padded(&vocab.encode(&s.keys), params);
            for i in params.history..seq.len() {
                for h in 1..=params.history {
                    let hist = context(&seq[i - h..i], params.unordered);
                    *counts.entry(hist).or_default().entry(seq[i]).or_default() += 1;
                }
            }
        }
        let mut table: Vec<Entry> = counts
            .into_iter()
            .map(|(h, next)| {
                let mut next: Vec<(u32, u32)> = next.into_iter().collect();
                next.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let support = next.iter().map(|&(_, c)| c).sum();
                (h, next, support)
            })
            .collect();
        table.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut m = Self { params, vocab, table, index: FxHashMap::default() };
        m.reindex();
        Ok(m)
    }

    /// Rebuilds lookup maps after deserializing.
    pub fn reindex(&mut self) {
        self.vocab.reindex();
        self.index = self.table.iter().enumerate().map(|(i, (h, _, _))| (h.clone(), i)).collect();
    }

    /// Scores a session.
    pub fn score(&self, keys: &[String]) -> SequenceScore {
        let p = self.params;
        let seq = padded(&self.vocab.encode(keys), p);
        let positions = seq.len() - p.history;
        let mut bad = 0usize;
        let mut unexpected = Vec::new();
        for i in p.history..seq.len() {
            let next = seq[i];
            let (ok, candidates) = self.expected(&seq[i - p.history..i], next);
            if !ok {
                bad += 1;
                if unexpected.len() < 10 {
                    unexpected.push(Unexpected {
                        position: i - p.history,
                        key: self.name(next, keys, i - p.history),
                        expected: candidates
                            .map(|c| {
                                c.iter().take(p.top_g).map(|&(k, _)| self.name(k, keys, usize::MAX)).collect()
                            })
                            .unwrap_or_default(),
                    });
                }
            }
        }
        SequenceScore { anomaly: bad > 0, score: bad as f64 / positions.max(1) as f64, unexpected }
    }

    /// Whether `next` is expected after `window`, and the candidates of the history that
    /// decided. Histories are tried longest first; a rejection by a history with less than
    /// `min_support` training occurrences defers to the next shorter one.
    fn expected(&self, window: &[u32], next: u32) -> (bool, Option<&[(u32, u32)]>) {
        let p = self.params;
        let mut buf = [0u32; MAX_HISTORY];
        let mut first: Option<&[(u32, u32)]> = None;
        for start in 0..window.len() {
            let w = &window[start..];
            let key = &mut buf[..w.len()];
            key.copy_from_slice(w);
            if p.unordered {
                key.sort_unstable();
            }
            let Some(&i) = self.index.get(&*key) else { continue };
            let (candidates, support) = (&self.table[i].1, self.table[i].2);
            if next != Vocab::UNKNOWN && candidates.iter().take(p.top_g).any(|&(k, _)| k == next) {
                return (true, Some(candidates));
            }
            let decided = first.get_or_insert(candidates.as_slice());
            if support >= p.min_support {
                return (false, Some(decided));
            }
        }
        (false, first)
    }

    fn name(&self, id: u32, keys: &[String], pos: usize) -> String {
        match id {
            END => "<end>".to_owned(),
            START => "<start>".to_owned(),
            Vocab::UNKNOWN => keys.get(pos).cloned().unwrap_or_else(|| "<unk>".to_owned()),
            k => self.vocab.key(k).to_owned(),
        }
    }
}

/// The lookup key of a history window.
fn context(window: &[u32], unordered: bool) -> Vec<u32> {
    let mut c = window.to_vec();
    if unordered {
        c.sort_unstable();
    }
    c
}

fn padded(ids: &[u32], p: NgramParams) -> Vec<u32> {
    let mut seq = Vec::with_capacity(ids.len() + p.history + 1);
    seq.extend(std::iter::repeat_n(START, p.history));
    seq.extend_from_slice(ids);
    if p.predict_end {
        seq.push(END);
    }
    seq
}
