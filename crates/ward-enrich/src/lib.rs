//! Enrichment for Ward's `normalize` stage: what turns "203.0.113.7 failed 40 logins" into
//! "a Tor exit in AS x, on a listed botnet feed, against the payment server (critical)".
//!
//! # Flow
//! ```text
//! batch ─▶ dedupe ─▶ sessionize ─▶ GeoIP/ASN ─▶ IOC sets ─▶ online cache ─▶ assets ─▶ privacy ─▶ batch
//!            │ marks ward.duplicate_of     │ appends session summaries (event.kind = session)
//!                                                          └─ misses queued ─▶ OnlineWorker (async)
//! alerts ─▶ EnrichChain::enrich_alert: ATT&CK names/tactics, asset, cached online answers
//! ```
//!
//! Build with [`EnrichChain::from_config`] from the `[enrich]` section ([`EnrichConfig`]),
//! call [`EnrichChain::enrich`] per batch and [`EnrichChain::flush`] at shutdown. Every
//! enricher is also usable alone (`GeoIp`, `IocEnricher`, `AssetInventory`, `Attack`,
//! `Privacy`, `Online`, `Dedupe`, `Sessionizer`).
//!
//! Architecture Invariant: enrichment never drops an event. Duplicates are marked, not
//! removed; a failed lookup leaves the event as it was and is counted.
//!
//! API Boundary: the only I/O is reading the configured files (at build and on reload) and,
//! in [`OnlineWorker`] only, HTTP requests to the configured reputation services.

pub mod assets;
pub mod attack;
mod chain;
pub mod config;
pub mod dedupe;
mod error;
pub mod geoip;
pub mod ioc;
pub mod online;
pub mod privacy;
pub mod session;

use std::net::IpAddr;

pub use assets::{Asset, AssetError, AssetIndex, AssetInventory, AssetProblem, Criticality};
pub use attack::{Attack, Coverage, TacticCoverage, TechniqueRef};
pub use chain::{EnrichChain, EnrichStats, Shared};
pub use config::{
    AssetsConfig, AttackConfig, DedupeConfig, EnrichConfig, GeoIpConfig, IocConfig, OnlineConfig,
    PrivacyConfig, ProviderConfig, SessionKeyKind, SessionizeConfig,
};
pub use dedupe::{DUPLICATE_OF, Dedupe};
pub use error::EnrichError;
pub use geoip::GeoIp;
pub use ioc::IocEnricher;
pub use online::{Online, OnlineWorker};
pub use privacy::{Privacy, PrivacyError, SealKey, reveal};
pub use session::Sessionizer;

use ward_model::{Event, FieldValue};

/// Appends items to the event's `threat.enrichments` array.
pub(crate) fn push_enrichments(ev: &mut Event, items: Vec<serde_json::Value>) {
    if items.is_empty() {
        return;
    }
    let mut all = match ev.remove("threat.enrichments") {
        Some(FieldValue::Json(v)) => match *v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        },
        Some(other) => vec![serde_json::to_value(&other).unwrap_or_default()],
        None => Vec::new(),
    };
    all.extend(items);
    ev.set("threat.enrichments", FieldValue::Json(Box::new(serde_json::Value::Array(all))));
}

/// The alert's `details` as an object (a non-object value is kept under `details.value`).
pub(crate) fn details_object(
    details: &mut serde_json::Value,
) -> &mut serde_json::Map<String, serde_json::Value> {
    if !details.is_object() {
        let old = std::mem::take(details);
        let mut map = serde_json::Map::new();
        if !old.is_null() {
            map.insert("value".into(), old);
        }
        *details = serde_json::Value::Object(map);
    }
    match details {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("details was just made an object"),
    }
}

/// Whether an address is globally routable (worth a GeoIP or reputation lookup).
pub(crate) fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            let seg0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00
                || (seg0 & 0xffc0) == 0xfe80)
        }
    }
}
