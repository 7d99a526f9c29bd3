//! Named features computed from a [`Snapshot`]; the names are documented in `docs/features.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use ward_model::TenantId;

use crate::agg::{Snapshot, Summary};
use crate::entity::EntityKey;
use crate::inputs::SketchKind;
use crate::window::{WINDOWS, Window};

/// Per-window feature base names, in column order; each is suffixed with a window name.
pub const WINDOW_FEATURES: [&str; 18] = [
    "events",
    "rate_per_min",
    "login_failures",
    "login_successes",
    "login_failure_ratio",
    "distinct_dst_ports",
    "distinct_users",
    "distinct_src_ips",
    "distinct_dst_ips",
    "distinct_passwords",
    "gap_count",
    "gap_mean_s",
    "gap_stddev_s",
    "gap_min_s",
    "gap_cv",
    "username_entropy_bits",
    "password_entropy_bits",
    "password_char_entropy_mean_bits",
];

/// Entity-level feature: seconds from the newest event to `at` (−1 when never seen).
pub const SECONDS_SINCE_LAST_SEEN: &str = "seconds_since_last_seen";

/// Every feature name, in column order: `events_1m` … `password_char_entropy_mean_bits_1h`,
/// then `seconds_since_last_seen`.
pub fn feature_names() -> Vec<String> {
    let mut names: Vec<String> =
        WINDOWS.iter().flat_map(|w| WINDOW_FEATURES.iter().map(move |f| format!("{f}_{}", w.name))).collect();
    names.push(SECONDS_SINCE_LAST_SEEN.to_owned());
    names
}

/// The features of one entity at one time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureVector {
    /// Tenant the entity belongs to.
    pub tenant: TenantId,
    /// The entity (`kind`, `value`).
    #[serde(flatten)]
    pub entity: EntityKey,
    /// The time the features describe (event time).
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// The entity's newest event time, if any event was seen.
    #[serde(serialize_with = "rfc3339_opt")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Feature name → value.
    pub features: BTreeMap<String, f64>,
}

impl FeatureVector {
    /// Computes the features from an adapter's snapshot.
    pub fn compute(tenant: TenantId, entity: EntityKey, at: DateTime<Utc>, snap: &Snapshot) -> Self {
        let mut features = BTreeMap::new();
        for (w, summary) in WINDOWS.iter().zip(&snap.windows) {
            for (name, value) in window_features(*w, summary) {
                features.insert(format!("{name}_{}", w.name), value);
            }
        }
        let at_ms = at.timestamp_millis();
        let since = snap.last_seen_ms.map_or(-1.0, |l| (at_ms - l) as f64 / 1000.0);
        features.insert(SECONDS_SINCE_LAST_SEEN.to_owned(), since);
        let last_seen = snap.last_seen_ms.and_then(DateTime::<Utc>::from_timestamp_millis);
        Self { tenant, entity, at, last_seen, features }
    }

    /// One feature's value (0 for an unknown name).
    pub fn value(&self, name: &str) -> f64 {
        self.features.get(name).copied().unwrap_or_default()
    }
}

fn window_features(w: Window, s: &Summary) -> [(&'static str, f64); 18] {
    let t = &s.tallies;
    let events = t.events as f64;
    let attempts = (t.failures + t.successes) as f64;
    let n = t.gap_n as f64;
    let mean = if t.gap_n > 0 { t.gap_sum / n } else { 0.0 };
    let stddev = if t.gap_n > 0 { (t.gap_sumsq / n - mean * mean).max(0.0).sqrt() } else { 0.0 };
    let distinct = |k: SketchKind| s.distinct[k as usize].round();
    [
        ("events", events),
        ("rate_per_min", events * 60.0 / w.seconds as f64),
        ("login_failures", t.failures as f64),
        ("login_successes", t.successes as f64),
        ("login_failure_ratio", if attempts > 0.0 { t.failures as f64 / attempts } else { 0.0 }),
        ("distinct_dst_ports", distinct(SketchKind::DstPorts)),
        ("distinct_users", distinct(SketchKind::Users)),
        ("distinct_src_ips", distinct(SketchKind::SrcIps)),
        ("distinct_dst_ips", distinct(SketchKind::DstIps)),
        ("distinct_passwords", distinct(SketchKind::Passwords)),
        ("gap_count", n),
        ("gap_mean_s", mean),
        ("gap_stddev_s", stddev),
        ("gap_min_s", t.gap_min.unwrap_or(0.0)),
        ("gap_cv", if mean > 0.0 { stddev / mean } else { 0.0 }),
        ("username_entropy_bits", s.users.entropy()),
        ("password_entropy_bits", s.passwords.entropy()),
        ("password_char_entropy_mean_bits", if t.pw_n > 0 { t.pw_entropy_sum / t.pw_n as f64 } else { 0.0 }),
    ]
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn rfc3339_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}
