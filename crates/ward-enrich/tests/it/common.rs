//! Shared helpers: real events decoded from the committed fixtures, and chains from TOML.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use ward_decode::sources::cowrie::CowrieDecoder;
use ward_decode::sources::suricata::SuricataDecoder;
use ward_decode::{DecodeContext, Decoder};
use ward_enrich::{EnrichChain, EnrichConfig};
use ward_model::{Event, TenantId};

/// Decodes every line of a committed fixture with `decoder`.
pub fn decode(rel: &str, decoder: &dyn Decoder) -> Vec<Event> {
    let path = ward_testkit::workspace_root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ctx = DecodeContext::new(TenantId::default(), Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap());
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        decoder.decode(line, &ctx, &mut out).unwrap();
    }
    out
}

/// The 148 events of the real Cowrie run in `testdata/cowrie/cowrie.json`, in log order.
pub fn cowrie() -> Vec<Event> {
    decode("testdata/cowrie/cowrie.json", &CowrieDecoder)
}

/// The real Suricata EVE sample in `testdata/suricata/eve-sample.json`.
pub fn suricata() -> Vec<Event> {
    decode("testdata/suricata/eve-sample.json", &SuricataDecoder)
}

/// A chain from an `[enrich]` TOML body; everything not named is off except what defaults on.
pub fn chain(toml_body: &str) -> EnrichChain {
    let cfg: EnrichConfig = toml::from_str(toml_body).unwrap();
    EnrichChain::from_config(&cfg).unwrap()
}

/// A path in the shared MaxMind test data, `None` (skip) when absent outside CI.
pub fn mmdb(name: &str) -> Option<PathBuf> {
    ward_testkit::shared(&format!("reference/maxmind_test_mmdb/{name}"))
}

/// TOML string literal of a path.
pub fn lit(p: &std::path::Path) -> String {
    format!("{:?}", p.display().to_string())
}
