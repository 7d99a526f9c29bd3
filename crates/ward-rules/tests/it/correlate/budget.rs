//! Bounded state: evictions under a tiny budget are counted and never panic, the pending
//! buffer forces the watermark, and correlations that cannot run are rejected precisely.

use std::time::Duration;

use ward_rules::RuleSet;
use ward_rules::correlate::{Budget, CorrelateError, Correlator, CorrelatorConfig, Observed};

use super::{correlator, event};

const COUNTS: &str = "title: f\nname: f\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n---\ntitle: burst\nid: burst\ncorrelation:\n    type: event_count\n    rules: [f]\n    group-by: [host]\n    timespan: 1h\n    condition:\n        gte: 3\n---\ntitle: quiet\nid: quiet\ncorrelation:\n    type: value_count\n    rules: [f]\n    group-by: [host]\n    timespan: 1h\n    condition:\n        field: user\n        lt: 3\n";

const TINY: Budget = Budget { max_groups: 2, max_events_per_group: 3, max_alert_events: 2, max_pending: 4 };

#[test]
fn a_tiny_budget_evicts_counts_and_stays_within_bounds() {
    let mut c = correlator(COUNTS, 3_600, TINY);
    let mut out = Vec::new();
    for n in 0..500 {
        let host = if n % 4 == 0 { format!("h{}", n % 13) } else { "h0".to_string() };
        let user = format!("u{}", n % 5);
        let secs = (n as i64 * 37) % 1_000;
        let seen = c.observe("f", &event(n, secs, &[("host", &host), ("user", &user)]), &mut out);
        assert!(matches!(seen, Observed::Accepted { .. } | Observed::Late { .. }));
        let stats = c.stats();
        assert!(stats.pending() <= TINY.max_pending, "{stats:#?}");
        assert!(stats.operators.iter().all(|o| o.live_groups <= TINY.max_groups), "{stats:#?}");
    }
    c.flush(&mut out);
    let stats = c.stats();
    assert!(stats.operators.iter().all(|o| o.evicted_groups > 0), "{stats:#?}");
    assert!(stats.operators[1].evicted_events > 0, "the fixed value_count window overflowed: {stats:#?}");
    assert!(stats.forced_advances > 0 && stats.late > 0, "{stats:#?}");
    assert_eq!(
        stats.evictions(),
        stats.operators.iter().map(|o| o.evicted_groups + o.evicted_events).sum::<u64>()
    );
    assert!(out.iter().all(|a| a.event_ids.len() <= TINY.max_alert_events));
    assert!(stats.operators.iter().all(|o| o.peak_groups <= TINY.max_groups && o.live_groups == 0));
}

#[test]
fn a_fixed_window_counts_evicted_matches() {
    let yaml = COUNTS.replace("lt: 3", "gt: 2").replace("field: user", "field: user\n        lte: 3");
    let budget = Budget { max_events_per_group: 3, ..Budget::default() };
    let mut c = correlator(&yaml, 0, budget);
    let users = ["a", "b", "c", "d", "a", "b"];
    let matches: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, u)| ("f", event(n, n as i64, &[("host", "x"), ("user", u)])))
        .collect();
    let out = super::run(&mut c, &matches);
    let quiet: Vec<_> = out.iter().filter(|a| a.rule.id == "quiet").collect();
    assert!(
        quiet.is_empty(),
        "4 distinct users is more than 3, although only 3 matches are kept: {quiet:#?}"
    );
    assert_eq!(c.stats().operators[1].evicted_events, 3);
}

fn rejections(yaml: &str, budget: Budget) -> Vec<CorrelateError> {
    let (set, loaded) = RuleSet::from_sources([("r.yml", yaml)]);
    assert!(loaded.is_empty(), "{loaded:#?}");
    let config = CorrelatorConfig { allowed_lateness: Duration::ZERO, budget };
    let (c, rejected) = Correlator::new(&set, &config).expect("budget is valid");
    assert_eq!(c.len() + rejected.len(), set.correlations().len());
    rejected
}

const BASE: &str = "title: f\nname: f\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n";

fn corr(id: &str, kind: &str, rules: &str, extra: &str) -> String {
    format!(
        "---\ntitle: {id}\nid: {id}\ncorrelation:\n    type: {kind}\n    rules: [{rules}]\n    group-by: [host]\n    timespan: 1m\n{extra}"
    )
}

#[test]
fn correlations_that_cannot_run_are_rejected_and_listed() {
    let cases = [
        (
            corr("m", "value_sum", "f", "    condition:\n        field: bytes\n        gt: 5\n"),
            "type `value_sum` is not evaluated",
        ),
        (corr("o", "temporal_ordered", "f", "    condition:\n        lt: 2\n"), "takes only gt and gte"),
        (
            corr("big", "event_count", "f", "    condition:\n        gte: 2000\n"),
            "counts up to 2000, the budget keeps 1024",
        ),
        (corr("up", "event_count", "f", "    condition:\n        lte: 1025\n"), "counts up to 1025"),
        (corr("d", "temporal", "f, f", ""), "rule `f` is referenced more than once"),
        (
            corr("a", "temporal", "f", "    aliases:\n        host:\n            nope: h\n"),
            "unknown rule `nope`",
        ),
    ];
    for (yaml, reason) in cases {
        let rejected = rejections(&format!("{BASE}{yaml}"), Budget::default());
        assert_eq!(rejected.len(), 1, "{yaml}");
        assert!(rejected[0].to_string().contains(reason), "{yaml}: {}", rejected[0]);
    }
}

#[test]
fn cycles_and_their_dependants_are_rejected() {
    let yaml = format!(
        "{BASE}{}{}{}{}",
        corr("x", "temporal", "f, y", ""),
        corr("y", "temporal", "f, x", ""),
        corr("z", "temporal", "f, x", ""),
        corr("ok", "temporal", "f", "")
    );
    let mut rejected: Vec<String> =
        rejections(&yaml, Budget::default()).iter().map(ToString::to_string).collect();
    rejected.sort();
    assert_eq!(rejected.len(), 3);
    assert!(rejected.iter().all(|r| r.contains("cycle")), "{rejected:#?}");
    let yaml = format!(
        "{BASE}{}{}",
        corr("bad", "value_avg", "f", "    condition:\n        field: b\n        gt: 1\n"),
        corr("top", "temporal", "f, bad", "")
    );
    let rejected = rejections(&yaml, Budget::default());
    assert_eq!(rejected.len(), 2);
    assert!(rejected[1].to_string().contains("references rejected correlation `bad`"), "{}", rejected[1]);
}

#[test]
fn a_zero_budget_is_an_error() {
    let (set, _) = RuleSet::from_sources([("r.yml", BASE)]);
    let config = CorrelatorConfig {
        budget: Budget { max_groups: 0, ..Budget::default() },
        ..CorrelatorConfig::default()
    };
    assert_eq!(Correlator::new(&set, &config).err(), Some(CorrelateError::ZeroBudget("max_groups")));
}
