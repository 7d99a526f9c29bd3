//! Threat-intelligence indicators for Ward: load indicator feeds, match event fields against
//! them in bounded time per value, and reload them without a restart.
//!
//! # Flow
//! ```text
//! feed files ──load_*/load_sources──▶ Loaded (indicators + FileReport with rejections)
//!            ──IndicatorSetBuilder (warning-lists suppress)──▶ IndicatorSet (immutable, indexed)
//!            ──SharedIndicators (ArcSwap)──▶ readers: set.matches_event(&event) -> Vec<Match>
//! ```
//!
//! * **Formats**: plain lists (maltrail trails, ipsum level files), CSV/TSV (maltrail
//!   `trails.csv`, ipsum `ip<TAB>level`), MISP event JSON, STIX 2.x bundles, and MISP
//!   warning-lists as a suppression set.
//! * **Kinds** ([`IndicatorKind`]): IPv4/IPv6 addresses, CIDR networks, `ip:port`, domains
//!   (subdomains match), URLs (normalized; directory prefixes match), URL paths, MD5, SHA-1,
//!   SHA-256, SHA-512, e-mail addresses, JA3, JA4.
//! * **Matching cost** per observed value is bounded by its shape, not by the set size: one
//!   hash probe for exact kinds, one per label for domains, one per directory level (at most
//!   32) for URLs, and one walk of at most 33 (IPv4) or 129 (IPv6) trie nodes for networks.
//!
//! Architecture Invariant: loading never stops at a bad entry. Every refused line, attribute
//! or pattern is a [`Rejection`] naming file, line or record, the text and the reason; every
//! entry deliberately skipped (MISP `text` attributes, STIX non-indicator objects) is counted
//! in [`FileReport::ignored`].
//!
//! API Boundary: the only I/O is reading the files passed to the `load_*` functions and to
//! [`SharedIndicators::reload`]; `parse_*` functions take bytes or JSON.

mod enrichment;
mod error;
mod indicator;
mod kind;
mod load;
mod matching;
mod normalize;
mod set;
mod shared;
mod trie;
mod url;
mod warninglist;

pub use enrichment::confidence_label;
pub use error::{LoadError, LoadErrors, Location, RejectReason, Rejection};
pub use indicator::{DEFAULT_CONFIDENCE, Entry, Indicator, Value, tags};
pub use kind::{IndicatorKind, classify};
pub use load::csv::{Column, Confidence, CsvOptions, load_csv, parse_csv};
pub use load::list::{ListOptions, load_list, parse_list};
pub use load::misp::{MispOptions, load_misp_event, parse_misp_event};
pub use load::sources::{FeedFormat, FeedSource, load_sources};
pub use load::stix::{StixOptions, load_stix_bundle, parse_stix_bundle};
pub use load::{FileReport, LoadReport, Loaded};
pub use matching::{FieldRole, Match, MatchFields, Observable};
pub use set::{Added, IndicatorSet, IndicatorSetBuilder, Suppressed};
pub use shared::SharedIndicators;
pub use warninglist::{
    HostnameScope, Suppression, WarningList, WarningListOptions, WarningLists, load_warning_list,
    parse_warning_list,
};
