//! MISP warning-lists: well-known benign values (public DNS resolvers, top sites, RFC 1918
//! networks, hashes of empty files) that suppress indicators which would otherwise raise false
//! positives.
//!
//! A list applies to the indicator kinds its `matching_attributes` name (MISP attribute types,
//! mapped to kinds; without them, to every kind its `type` can judge). Semantics follow MISP:
//! `cidr` — the address, or the whole network, lies inside a listed network; `string` — the
//! whole value equals an entry, ignoring ASCII case; `substring` — the value contains an entry;
//! `regex` — an entry matches the value (`/…/i` PHP-style delimiters are accepted).
//!
//! `hostname` lists differ on purpose. MISP only *warns*, and counts a name as listed when it
//! or any parent domain is (and a URL when its host is). As a *suppression* rule that hides real
//! indicators: with the Tranco and dynamic-DNS lists it would drop `evil.github.io`,
//! `c2.duckdns.org` and every URL on `github.com` — about 2,900 and 12,500 maltrail trails
//! respectively. So by default ([`HostnameScope::Exact`]) a hostname entry suppresses the
//! domain itself and a URL of the site root (`http://google.com/`) only;
//! [`HostnameScope::Subdomains`] restores MISP's matching for lists where it is wanted.

mod build;

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use regex::RegexSet;
use rustc_hash::FxHashMap;

pub use build::{load_warning_list, parse_warning_list};

use crate::indicator::{Indicator, Value};
use crate::kind::IndicatorKind;
use crate::trie::NetTrie;
use crate::{normalize, url};

/// How far a `hostname` entry reaches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HostnameScope {
    /// The name itself, and URLs of its site root.
    #[default]
    Exact,
    /// The name, every subdomain, and every URL on those hosts (MISP's matching).
    Subdomains,
}

/// How to apply a warning-list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WarningListOptions {
    /// Reach of `hostname` entries.
    pub hostname_scope: HostnameScope,
}

/// Which warning-list entry suppressed an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The list's `name`.
    pub list: Arc<str>,
    /// The entry that covers the indicator.
    pub entry: Box<str>,
}

#[derive(Debug)]
pub(crate) enum Matcher {
    Cidr(NetTrie),
    /// Names (matching themselves and subdomains), and addresses listed among them.
    Hostname(FxHashMap<Box<str>, u32>, NetTrie),
    Exact(FxHashMap<Box<str>, u32>),
    Substring(Option<AhoCorasick>),
    Regex(RegexSet),
}

/// One loaded warning-list.
#[derive(Debug)]
pub struct WarningList {
    name: Arc<str>,
    kinds: Vec<IndicatorKind>,
    entries: Vec<Box<str>>,
    matcher: Matcher,
    scope: HostnameScope,
}

impl WarningList {
    /// The list's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Entries that loaded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The kinds it applies to.
    pub fn kinds(&self) -> &[IndicatorKind] {
        &self.kinds
    }

    /// The entry covering `indicator`, if any.
    pub fn check(&self, indicator: &Indicator) -> Option<Suppression> {
        if !self.kinds.contains(&indicator.kind()) {
            return None;
        }
        let hit = self.find(indicator)?;
        let entry = self.entries.get(hit as usize)?.clone();
        Some(Suppression { list: self.name.clone(), entry })
    }

    fn find(&self, ind: &Indicator) -> Option<u32> {
        match (&self.matcher, ind.value()) {
            (Matcher::Cidr(trie), Value::Ip(ip) | Value::Socket(ip, _)) => {
                first(|f| trie.containing_ip(*ip, f))
            }
            (Matcher::Cidr(trie), Value::Net(net)) => first(|f| trie.containing_net(*net, f)),
            (Matcher::Cidr(_), Value::Text(_)) => None,
            (Matcher::Hostname(_, ips), Value::Ip(ip)) => first(|f| ips.containing_ip(*ip, f)),
            (Matcher::Hostname(names, _), value) => {
                let host = host_of(ind.kind(), value, self.scope)?;
                match self.scope {
                    HostnameScope::Exact => names.get(host.as_str()).copied(),
                    HostnameScope::Subdomains => {
                        normalize::domain_suffixes(&host).find_map(|s| names.get(s).copied())
                    }
                }
            }
            (Matcher::Exact(set), value) => set.get(normalize::lower(&value.to_string()).as_ref()).copied(),
            (Matcher::Substring(ac), value) => {
                ac.as_ref()?.find(&value.to_string()).and_then(|m| u32::try_from(m.pattern().as_usize()).ok())
            }
            (Matcher::Regex(set), value) => {
                set.matches(&value.to_string()).iter().next().and_then(|i| u32::try_from(i).ok())
            }
        }
    }
}

fn first(visit: impl FnOnce(&mut dyn FnMut(u32))) -> Option<u32> {
    let mut hit = None;
    visit(&mut |v| {
        hit = hit.or(Some(v));
    });
    hit
}

/// The host name a `hostname` list judges: a domain itself, an e-mail's domain, a URL's host
/// (with [`HostnameScope::Exact`], only for a URL of the site root).
fn host_of(kind: IndicatorKind, value: &Value, scope: HostnameScope) -> Option<String> {
    let text = value.as_text()?;
    match kind {
        IndicatorKind::Domain => Some(text.to_owned()),
        IndicatorKind::Url => url::normalize(text)
            .ok()
            .filter(|u| scope == HostnameScope::Subdomains || u.path() == "/")
            .map(|u| u.host().to_owned()),
        IndicatorKind::Email => text.rsplit_once('@').map(|(_, d)| d.to_owned()),
        _ => None,
    }
}

/// Several warning-lists; an indicator is suppressed by the first that covers it.
#[derive(Debug, Default)]
pub struct WarningLists {
    lists: Vec<WarningList>,
}

impl WarningLists {
    /// Adds a list.
    pub fn push(&mut self, list: WarningList) {
        self.lists.push(list);
    }

    /// The first entry of any list covering `indicator`.
    pub fn check(&self, indicator: &Indicator) -> Option<Suppression> {
        self.lists.iter().find_map(|l| l.check(indicator))
    }

    /// The lists.
    pub fn iter(&self) -> impl Iterator<Item = &WarningList> {
        self.lists.iter()
    }

    /// Number of lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether there is no list.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}
