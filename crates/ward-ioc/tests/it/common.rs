//! Helpers: the shared third-party feeds, sets built from list text, events with ECS fields.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use ward_ioc::{IndicatorSet, IndicatorSetBuilder, ListOptions, Loaded, WarningLists, parse_list};
use ward_model::{Event, FieldValue, TenantId};

/// A file or folder under `reference/threat_intel/` of the shared data, `None` (skip) when
/// the shared data is absent outside CI.
pub fn intel(rel: &str) -> Option<PathBuf> {
    ward_testkit::shared(&format!("reference/threat_intel/{rel}"))
}

/// Parses list text as if read from `name`, with default options.
pub fn list(name: &str, text: &str) -> Loaded {
    parse_list(text.as_bytes(), Path::new(name), &ListOptions::default())
}

/// A set holding the indicators of list text, asserting that every line loaded.
pub fn set_of(name: &str, text: &str) -> IndicatorSet {
    set_with(WarningLists::default(), &[(name, text)])
}

/// A set of several list texts with warning-lists applied, asserting every line loaded.
pub fn set_with(warning: WarningLists, lists: &[(&str, &str)]) -> IndicatorSet {
    let mut builder = IndicatorSetBuilder::new(warning);
    for (name, text) in lists {
        let loaded = list(name, text);
        assert!(loaded.report.rejected.is_empty(), "{:#?}", loaded.report.rejected);
        for ind in loaded.indicators {
            builder.add(ind);
        }
    }
    builder.build()
}

/// An event with the given ECS fields.
pub fn event(fields: &[(&str, FieldValue)]) -> Event {
    let ts = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().expect("valid time");
    let mut ev = Event::new(&TenantId::default(), "test", &format!("{fields:?}"), 0, ts);
    for (path, value) in fields {
        ev.set(path, value.clone());
    }
    ev
}

/// An IP field value.
pub fn ip(s: &str) -> FieldValue {
    FieldValue::Ip(s.parse().expect("test IP literal"))
}

/// Every non-empty line of a file that is not a comment, with its 1-based number.
pub fn entry_lines(path: &Path) -> Vec<(u32, String)> {
    let text = std::fs::read_to_string(path).expect("shared feed readable");
    text.lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).expect("line number"), l.trim().to_owned()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect()
}
