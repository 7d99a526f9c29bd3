//! Properties on random match sets: any arrival order within the allowed lateness gives the
//! same alerts in the same order (even while the group budget evicts); late matches are exactly
//! those behind the watermark; `event_count` agrees with a naive oracle.

use std::collections::HashMap;

use proptest::prelude::*;
use ward_model::Event;
use ward_rules::correlate::{Budget, CorrelationAlert};

use super::{correlator, event, run};

const LATENESS: i64 = 30;

/// Every correlation type, early and at-close conditions, and a chain.
const RULES: &str = "title: a\nname: a\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 1}, condition: s}\n---\ntitle: b\nname: b\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 2}, condition: s}\n---\ntitle: burst\nname: burst\ncorrelation: {type: event_count, rules: [a, b], group-by: [host], timespan: 20s, condition: {gte: 3}}\n---\ntitle: users\ncorrelation: {type: value_count, rules: [a], group-by: [host], timespan: 30s, condition: {field: user, gte: 2}}\n---\ntitle: both\ncorrelation: {type: temporal, rules: [a, b], group-by: [host], timespan: 15s}\n---\ntitle: then\ncorrelation: {type: temporal_ordered, rules: [a, b], group-by: [user], timespan: 15s}\n---\ntitle: few\ncorrelation: {type: event_count, rules: [b], group-by: [user], timespan: 10s, condition: {gt: 1, lte: 2}}\n---\ntitle: chain\ncorrelation: {type: temporal_ordered, rules: [burst, b], group-by: [host], timespan: 30s, generate: true}\n";

/// A match: rule, host, user, seconds.
type Spec = (bool, u8, u8, i64);

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    proptest::collection::vec((any::<bool>(), 0..3u8, 0..3u8, 0..240i64), 0..80)
}

fn matches(specs: &[Spec]) -> Vec<(&'static str, Event)> {
    specs
        .iter()
        .enumerate()
        .map(|(n, &(a, host, user, secs))| {
            let fields = [("host", format!("h{host}")), ("user", format!("u{user}"))];
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (if a { "a" } else { "b" }, event(n, secs, &fields))
        })
        .collect()
}

/// Arrival order: by event time plus a delay of at most the lateness, so none is late.
fn delayed(mut m: Vec<(&'static str, Event)>, delays: &[i64]) -> Vec<(&'static str, Event)> {
    let key = |e: &Event, n: usize| e.timestamp().timestamp() + delays[n % delays.len()];
    let mut keyed: Vec<_> = m.drain(..).enumerate().map(|(n, x)| (key(&x.1, n), n, x)).collect();
    keyed.sort_by_key(|(k, n, _)| (*k, std::cmp::Reverse(*n)));
    keyed.into_iter().map(|(_, _, x)| x).collect()
}

fn alerts(m: &[(&str, Event)], budget: Budget) -> (Vec<CorrelationAlert>, u64) {
    let mut c = correlator(RULES, LATENESS as u64, budget);
    let out = run(&mut c, m);
    (out, c.stats().late)
}

const SMALL: Budget =
    Budget { max_groups: 2, max_events_per_group: 4, max_alert_events: 3, max_pending: 100_000 };

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arrival_order_within_the_lateness_does_not_change_alerts(
        specs in specs(),
        delays in proptest::collection::vec(0..=LATENESS, 1..16),
    ) {
        let mut sorted = matches(&specs);
        sorted.sort_by_key(|(_, e)| e.timestamp());
        for budget in [Budget::default(), SMALL] {
            let (expected, late) = alerts(&sorted, budget);
            prop_assert_eq!(late, 0);
            let (got, late) = alerts(&delayed(sorted.clone(), &delays), budget);
            prop_assert_eq!(late, 0);
            prop_assert_eq!(&got, &expected);
            let (reversed, _) = alerts(&delayed(sorted.clone(), &[LATENESS, 0]), budget);
            prop_assert_eq!(&reversed, &expected);
        }
    }

    #[test]
    fn late_matches_are_exactly_those_behind_the_watermark(specs in specs(), order in any::<u64>()) {
        let mut m = matches(&specs);
        let mut x = order | 1;
        for i in (1..m.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut newest = i64::MIN;
        let mut expected = 0;
        for (_, e) in &m {
            let t = e.timestamp().timestamp();
            expected += u64::from(newest != i64::MIN && t < newest - LATENESS);
            newest = newest.max(t);
        }
        let mut c = correlator(RULES, LATENESS as u64, Budget::default());
        run(&mut c, &m);
        let stats = c.stats();
        prop_assert_eq!(stats.late, expected);
        prop_assert_eq!(stats.observed + stats.late, m.len() as u64);
    }

    #[test]
    fn event_count_agrees_with_a_naive_oracle(specs in specs()) {
        let mut m = matches(&specs);
        m.sort_by_key(|(_, e)| (e.timestamp(), e.id()));
        let (all, _) = alerts(&m, Budget::default());
        let mut got: Vec<_> = all
            .iter()
            .filter(|a| a.rule.id == "burst")
            .map(|a| (a.group[0].1.clone(), a.first.timestamp(), a.timestamp.timestamp()))
            .collect();
        let mut expected = oracle(&m, 20, 3);
        got.sort();
        expected.sort();
        prop_assert_eq!(got, expected);
    }
}

/// `event_count` by host, `gte` `threshold` within `span` seconds, reset after each alert.
fn oracle(sorted: &[(&str, Event)], span: i64, threshold: usize) -> Vec<(String, i64, i64)> {
    let mut windows: HashMap<String, Vec<i64>> = HashMap::new();
    let mut out = Vec::new();
    for (_, e) in sorted {
        let (host, t) =
            (e.str("host").expect("every match has a host").to_string(), e.timestamp().timestamp());
        let w = windows.entry(host.clone()).or_default();
        w.retain(|&x| x >= t - span);
        w.push(t);
        if w.len() >= threshold {
            out.push((host, w[0], t));
            w.clear();
        }
    }
    out
}
