//! The indicator set: every indicator in one vector, and one index per kind pointing into it.
//!
//! Exact kinds (addresses, `ip:port`, hashes, e-mail, JA3/JA4) are hash-map probes. Domains
//! are probed once per label suffix of the observed name, URLs and URL paths once per
//! directory prefix (at most 32), networks by one walk down a prefix trie: each lookup costs a
//! number of probes bounded by the shape of the observed value, never by the size of the set.
//!
//! Several indicators can share one key (the same address in two feeds): the map holds the
//! first, and `next` chains the rest. The same value twice in one feed is kept once, with the
//! higher confidence.

use std::net::IpAddr;

use rustc_hash::FxHashMap;

use crate::indicator::{Indicator, Value};
use crate::kind::IndicatorKind;
use crate::matching::MatchFields;
use crate::normalize::{self, canonical_ip};
use crate::trie::{NONE, NetTrie};
use crate::url;
use crate::warninglist::{Suppression, WarningLists};

/// Kinds indexed by text value, in the order of `Index::text`.
const TEXT_KINDS: [IndicatorKind; 10] = [
    IndicatorKind::Domain,
    IndicatorKind::Url,
    IndicatorKind::UrlPath,
    IndicatorKind::Md5,
    IndicatorKind::Sha1,
    IndicatorKind::Sha256,
    IndicatorKind::Sha512,
    IndicatorKind::Email,
    IndicatorKind::Ja3,
    IndicatorKind::Ja4,
];

fn text_slot(kind: IndicatorKind) -> Option<usize> {
    TEXT_KINDS.iter().position(|k| *k == kind)
}

#[derive(Debug, Default)]
struct Index {
    ips: FxHashMap<IpAddr, u32>,
    sockets: FxHashMap<(IpAddr, u16), u32>,
    nets: NetTrie,
    text: [FxHashMap<Box<str>, u32>; TEXT_KINDS.len()],
}

/// An indicator that a warning-list kept out of matching.
#[derive(Clone, Debug)]
pub struct Suppressed {
    /// The indicator.
    pub indicator: Indicator,
    /// Which warning-list entry covers it.
    pub by: Suppression,
}

/// What [`IndicatorSetBuilder::add`] did with an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// Indexed.
    New,
    /// The same kind and value from the same feed was already indexed; the higher confidence
    /// was kept.
    Duplicate,
    /// A warning-list covers it; kept aside, not matched.
    Suppressed,
}

/// Builds an [`IndicatorSet`] off to the side; the set is immutable once built.
#[derive(Debug, Default)]
pub struct IndicatorSetBuilder {
    indicators: Vec<Indicator>,
    next: Vec<u32>,
    index: Index,
    warning: WarningLists,
    suppressed: Vec<Suppressed>,
    fields: MatchFields,
}

impl IndicatorSetBuilder {
    /// A builder that suppresses indicators covered by `warning` lists.
    pub fn new(warning: WarningLists) -> Self {
        Self { warning, ..Self::default() }
    }

    /// Sets the event fields [`IndicatorSet::matches_event`] checks.
    pub fn fields(mut self, fields: MatchFields) -> Self {
        self.fields = fields;
        self
    }

    /// Adds one indicator.
    pub fn add(&mut self, indicator: Indicator) -> Added {
        if let Some(by) = self.warning.check(&indicator) {
            self.suppressed.push(Suppressed { indicator, by });
            return Added::Suppressed;
        }
        let new = u32::try_from(self.indicators.len()).unwrap_or(NONE);
        let head = self.head_slot(&indicator);
        if *head == NONE {
            *head = new;
            self.push(indicator);
            return Added::New;
        }
        let head = *head;
        self.chain(head, indicator)
    }

    fn push(&mut self, indicator: Indicator) {
        self.indicators.push(indicator);
        self.next.push(NONE);
    }

    /// Appends to the chain starting at `head`, or merges with the same feed's entry.
    fn chain(&mut self, head: u32, indicator: Indicator) -> Added {
        let mut cur = head as usize;
        loop {
            if self.indicators[cur].feed() == indicator.feed() {
                if indicator.confidence() > self.indicators[cur].confidence() {
                    self.indicators[cur] = indicator;
                }
                return Added::Duplicate;
            }
            match self.next[cur] {
                NONE => break,
                n => cur = n as usize,
            }
        }
        self.next[cur] = u32::try_from(self.indicators.len()).unwrap_or(NONE);
        self.push(indicator);
        Added::New
    }

    /// The index slot holding the chain head for this indicator's key.
    fn head_slot(&mut self, ind: &Indicator) -> &mut u32 {
        match ind.value() {
            Value::Ip(ip) => self.index.ips.entry(*ip).or_insert(NONE),
            Value::Net(net) => self.index.nets.slot(*net),
            Value::Socket(ip, port) => self.index.sockets.entry((*ip, *port)).or_insert(NONE),
            Value::Text(text) => {
                let kind = ind.kind();
                let key = if kind == IndicatorKind::Url { url::key_of(text) } else { text };
                let slot = text_slot(kind).unwrap_or(0);
                self.index.text[slot].entry(key.into()).or_insert(NONE)
            }
        }
    }

    /// Freezes the set.
    pub fn build(mut self) -> IndicatorSet {
        self.index.nets.freeze();
        IndicatorSet {
            indicators: self.indicators,
            next: self.next,
            index: self.index,
            suppressed: self.suppressed,
            fields: self.fields,
        }
    }
}

/// An immutable, indexed set of indicators.
#[derive(Debug, Default)]
pub struct IndicatorSet {
    indicators: Vec<Indicator>,
    next: Vec<u32>,
    index: Index,
    suppressed: Vec<Suppressed>,
    pub(crate) fields: MatchFields,
}

impl IndicatorSet {
    /// A builder without warning-lists.
    pub fn builder() -> IndicatorSetBuilder {
        IndicatorSetBuilder::default()
    }

    /// Number of indexed indicators (suppressed ones not included).
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// Every indexed indicator, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter()
    }

    /// Indicators that warning-lists kept out.
    pub fn suppressed(&self) -> &[Suppressed] {
        &self.suppressed
    }

    /// Indexed indicators per kind.
    pub fn count_by_kind(&self) -> std::collections::BTreeMap<IndicatorKind, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for ind in &self.indicators {
            *counts.entry(ind.kind()).or_insert(0) += 1;
        }
        counts
    }

    /// The event fields [`IndicatorSet::matches_event`] checks.
    pub fn match_fields(&self) -> &MatchFields {
        &self.fields
    }

    /// Replaces the event fields [`IndicatorSet::matches_event`] checks.
    pub fn with_fields(mut self, fields: MatchFields) -> Self {
        self.fields = fields;
        self
    }

    pub(crate) fn indicator(&self, id: u32) -> &Indicator {
        &self.indicators[id as usize]
    }

    /// Calls `f` for `head` and every indicator chained after it.
    fn walk_chain(&self, head: Option<u32>, f: &mut impl FnMut(u32)) {
        let mut cur = head.unwrap_or(NONE);
        while cur != NONE {
            f(cur);
            cur = self.next[cur as usize];
        }
    }

    /// Indicators for an address: exact addresses, then every network containing it.
    pub(crate) fn visit_ip(&self, ip: IpAddr, f: &mut impl FnMut(u32)) {
        let ip = canonical_ip(ip);
        self.walk_chain(self.index.ips.get(&ip).copied(), f);
        if self.index.nets.len() > 0 {
            self.index.nets.containing_ip(ip, |head| self.walk_chain(Some(head), f));
        }
    }

    pub(crate) fn visit_socket(&self, ip: IpAddr, port: u16, f: &mut impl FnMut(u32)) {
        self.walk_chain(self.index.sockets.get(&(canonical_ip(ip), port)).copied(), f);
    }

    /// Exact probe of a text kind (hashes, e-mail, JA3, JA4) with an already canonical value.
    pub(crate) fn visit_text(&self, kind: IndicatorKind, value: &str, f: &mut impl FnMut(u32)) {
        let Some(slot) = text_slot(kind) else { return };
        self.walk_chain(self.index.text[slot].get(value).copied(), f);
    }

    /// The name and each parent domain of an observed host name.
    pub(crate) fn visit_domain(&self, name: &str, f: &mut impl FnMut(u32)) {
        let map = &self.index.text[0];
        if map.is_empty() {
            return;
        }
        let name = normalize::observed_domain(name);
        for suffix in normalize::domain_suffixes(&name) {
            self.walk_chain(map.get(suffix).copied(), f);
        }
    }

    /// An observed URL key (`host/path?q`) or URL path key, with its directory prefixes.
    pub(crate) fn visit_url_key(
        &self,
        kind: IndicatorKind,
        key: &str,
        start: usize,
        f: &mut impl FnMut(u32),
    ) {
        let Some(slot) = text_slot(kind) else { return };
        let map = &self.index.text[slot];
        if map.is_empty() {
            return;
        }
        for candidate in url::lookup_keys(key, start) {
            self.walk_chain(map.get(candidate).copied(), f);
        }
    }
}
