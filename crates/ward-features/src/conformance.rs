//! The online store conformance suite: every adapter must pass it, over real connections.
//!
//! Each case gets a fresh, isolated store from the [`Harness`] and checks exact feature values
//! computed by hand, so the adapters agree with each other by agreeing with the expectations.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use ward_model::{Event, FieldValue, TenantId};

use crate::entity::EntityKind;
use crate::inputs::{char_entropy, shannon};
use crate::online::{Features, OnlineStore};

/// Gives each case a store no other case (or test run) touches.
#[async_trait]
pub trait Harness: Send {
    /// A new, empty store.
    async fn fresh(&mut self) -> Arc<dyn OnlineStore>;
}

/// Runs every case; panics with the case and feature name on the first mismatch.
pub async fn run(h: &mut dyn Harness) {
    counts_and_rates_follow_event_time_windows(h).await;
    login_outcomes_distinct_counts_and_entropy(h).await;
    inter_arrival_statistics(h).await;
    out_of_order_and_late_events(h).await;
    tenants_are_isolated(h).await;
    every_entity_of_an_event_is_updated(h).await;
    batches_equal_single_updates(h).await;
    large_distinct_counts_are_estimated(h).await;
    unknown_entities_read_as_empty(h).await;
}

/// 2024-05-01T12:00:00Z, aligned with every bucket.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap_or_default()
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap_or_default()
}

/// An event of `tenant` at `t0 + secs` with the given fields.
pub fn event(tenant: &TenantId, secs: f64, fields: &[(&str, FieldValue)]) -> Event {
    let ts = t0() + Duration::milliseconds((secs * 1000.0) as i64);
    let original = format!("{secs}:{fields:?}");
    let mut e = Event::new(tenant, "conformance", &original, 0, ts);
    for (path, value) in fields {
        e.set(path, value.clone());
    }
    e
}

fn ip(text: &str) -> FieldValue {
    text.parse::<std::net::IpAddr>().map_or_else(|_| FieldValue::from(text), FieldValue::Ip)
}

fn login(src: &str, user: &str, password: &str, ok: bool) -> Vec<(&'static str, FieldValue)> {
    vec![
        ("source.ip", ip(src)),
        ("user.name", user.into()),
        ("cowrie.password", password.into()),
        ("event.action", if ok { "login.success" } else { "login.failed" }.into()),
        ("event.category", FieldValue::List(vec!["authentication".into()])),
        ("event.outcome", if ok { "success" } else { "failure" }.into()),
    ]
}

async fn features(h: &mut dyn Harness) -> Features {
    Features::new(h.fresh().await)
}

async fn vector(
    f: &Features,
    t: &TenantId,
    kind: EntityKind,
    value: &str,
    secs: f64,
) -> crate::FeatureVector {
    let at = t0() + Duration::milliseconds((secs * 1000.0) as i64);
    match f.get(t, kind, value, at).await {
        Ok(v) => v,
        Err(e) => panic!("get {kind}={value} at +{secs}s on {}: {e}", f.adapter()),
    }
}

async fn observe(f: &Features, t: &TenantId, events: &[Event]) -> crate::ObserveReport {
    match f.observe_batch(t, events).await {
        Ok(r) => r,
        Err(e) => panic!("observe on {}: {e}", f.adapter()),
    }
}

#[track_caller]
fn expect(v: &crate::FeatureVector, name: &str, want: f64) {
    let got = v.features.get(name).copied();
    let ok = got.is_some_and(|g| (g - want).abs() <= 1e-9 * want.abs().max(1.0));
    assert!(ok, "{} {}: feature {name} = {got:?}, expected {want}", v.entity, v.at);
}

async fn counts_and_rates_follow_event_time_windows(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-a"));
    let events: Vec<Event> =
        (0..30).map(|i| event(&t, f64::from(i), &[("source.ip", ip("203.0.113.7"))])).collect();
    let report = observe(&f, &t, &events).await;
    assert_eq!((report.events, report.observations, report.store.late), (30, 30, 0), "{report:?}");
    let early = vector(&f, &t, EntityKind::SourceIp, "203.0.113.7", 29.0).await;
    for (name, want) in
        [("events_1m", 30.0), ("events_10m", 30.0), ("events_1h", 30.0), ("rate_per_min_1m", 30.0)]
    {
        expect(&early, name, want);
    }
    expect(&early, "rate_per_min_1h", 0.5);
    observe(&f, &t, &[event(&t, 1200.0, &[("source.ip", ip("203.0.113.7"))])]).await;
    // Reading before the newest event sees only the buckets the newest event's windows reach.
    let past = vector(&f, &t, EntityKind::SourceIp, "203.0.113.7", 29.0).await;
    for (name, want) in [("events_1m", 0.0), ("events_10m", 0.0), ("events_1h", 30.0)] {
        expect(&past, name, want);
    }
    let late = vector(&f, &t, EntityKind::SourceIp, "203.0.113.7", 1200.0).await;
    for (name, want) in [("events_1m", 1.0), ("events_10m", 1.0), ("events_1h", 31.0)] {
        expect(&late, name, want);
    }
    expect(&late, "seconds_since_last_seen", 0.0);
    expect(
        &vector(&f, &t, EntityKind::SourceIp, "203.0.113.7", 1260.0).await,
        "seconds_since_last_seen",
        60.0,
    );
}

async fn login_outcomes_distinct_counts_and_entropy(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-b"));
    let users = ["root", "root", "admin", "admin", "test", "test", "oracle", "oracle"];
    let passwords = ["123456", "password", "admin", "qwerty", "letmein", "toor", "x9$Lq!2zR", "oracle"];
    let mut events: Vec<Event> = users
        .iter()
        .zip(passwords)
        .enumerate()
        .map(|(i, (u, p))| event(&t, i as f64, &login("198.51.100.9", u, p, false)))
        .collect();
    events.push(event(&t, 8.0, &login("198.51.100.9", "root", "hunter2", true)));
    events.push(event(&t, 9.0, &login("198.51.100.9", "root", "hunter2", true)));
    observe(&f, &t, &events).await;
    let v = vector(&f, &t, EntityKind::SourceIp, "198.51.100.9", 9.0).await;
    expect(&v, "login_failures_1m", 8.0);
    expect(&v, "login_successes_1m", 2.0);
    expect(&v, "login_failure_ratio_1m", 0.8);
    expect(&v, "distinct_users_1m", 4.0);
    expect(&v, "distinct_passwords_1h", 9.0);
    let user_h = shannon([4.0, 2.0, 2.0, 2.0].into_iter(), 10.0);
    expect(&v, "username_entropy_bits_1m", user_h);
    let pw_h = shannon([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0].into_iter(), 10.0);
    expect(&v, "password_entropy_bits_10m", pw_h);
    let mut all: Vec<&str> = passwords.to_vec();
    all.extend(["hunter2", "hunter2"]);
    let mean = all.iter().map(|p| char_entropy(p)).sum::<f64>() / 10.0;
    expect(&v, "password_char_entropy_mean_bits_1h", mean);
    let by_user = vector(&f, &t, EntityKind::UserName, "root", 9.0).await;
    expect(&by_user, "events_1m", 4.0);
    expect(&by_user, "distinct_src_ips_1m", 1.0);
    expect(&by_user, "distinct_passwords_1m", 3.0);
}

async fn inter_arrival_statistics(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-c"));
    let beacon: Vec<Event> =
        (0..10).map(|i| event(&t, f64::from(i) * 60.0, &[("source.ip", ip("192.0.2.10"))])).collect();
    let jitter: Vec<Event> =
        [0.0, 10.0, 30.0, 60.0].iter().map(|s| event(&t, *s, &[("source.ip", ip("192.0.2.11"))])).collect();
    observe(&f, &t, &beacon).await;
    observe(&f, &t, &jitter).await;
    let b = vector(&f, &t, EntityKind::SourceIp, "192.0.2.10", 540.0).await;
    for (name, want) in [("gap_count_1h", 9.0), ("gap_mean_s_1h", 60.0), ("gap_stddev_s_1h", 0.0)] {
        expect(&b, name, want);
    }
    expect(&b, "gap_min_s_1h", 60.0);
    expect(&b, "gap_cv_1h", 0.0);
    let j = vector(&f, &t, EntityKind::SourceIp, "192.0.2.11", 60.0).await;
    let sd = (200.0f64 / 3.0).sqrt();
    for (name, want) in [("gap_count_10m", 3.0), ("gap_mean_s_10m", 20.0), ("gap_stddev_s_10m", sd)] {
        expect(&j, name, want);
    }
    expect(&j, "gap_min_s_10m", 10.0);
    expect(&j, "gap_cv_10m", sd / 20.0);
}

async fn out_of_order_and_late_events(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-d"));
    let src = [("source.ip", ip("192.0.2.20"))];
    let first = observe(&f, &t, &[event(&t, 100.0, &src), event(&t, 50.0, &src)]).await;
    assert_eq!(first.store.late, 0, "{first:?}");
    let report = observe(&f, &t, &[event(&t, -7200.0, &src)]).await;
    assert_eq!(report.store.late, 3, "an event 2h before the newest is late for every window: {report:?}");
    let v = vector(&f, &t, EntityKind::SourceIp, "192.0.2.20", 100.0).await;
    expect(&v, "events_1m", 2.0);
    expect(&v, "events_10m", 2.0);
    expect(&v, "events_1h", 2.0);
    expect(&v, "gap_count_1h", 0.0);
    assert_eq!(v.last_seen, Some(t0() + Duration::seconds(100)), "newest event time stays");
    let report = observe(&f, &t, &[event(&t, 20.0, &src), event(&t, 130.0, &src)]).await;
    assert_eq!(report.store.late, 1, "late for 1m only: {report:?}");
    let v = vector(&f, &t, EntityKind::SourceIp, "192.0.2.20", 130.0).await;
    expect(&v, "events_10m", 4.0);
    expect(&v, "gap_count_10m", 1.0);
    expect(&v, "gap_mean_s_10m", 30.0);
}

async fn tenants_are_isolated(h: &mut dyn Harness) {
    let f = features(h).await;
    let (a, b) = (tenant("conf-e1"), tenant("conf-e2"));
    let src = [("source.ip", ip("203.0.113.50"))];
    observe(&f, &a, &[event(&a, 0.0, &src), event(&a, 1.0, &src)]).await;
    observe(&f, &b, &[event(&b, 0.0, &src)]).await;
    let mismatch = observe(&f, &a, &[event(&b, 2.0, &src)]).await;
    assert_eq!((mismatch.tenant_mismatch, mismatch.observations), (1, 0), "{mismatch:?}");
    expect(&vector(&f, &a, EntityKind::SourceIp, "203.0.113.50", 2.0).await, "events_1m", 2.0);
    expect(&vector(&f, &b, EntityKind::SourceIp, "203.0.113.50", 2.0).await, "events_1m", 1.0);
}

async fn every_entity_of_an_event_is_updated(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-f"));
    let fields = [
        ("source.ip", ip("2001:db8::1")),
        ("user.name", "alice".into()),
        ("host.name", "WEB-01".into()),
        ("destination.ip", ip("10.0.0.5")),
        ("destination.port", FieldValue::Int(22)),
    ];
    let report =
        observe(&f, &t, &[event(&t, 0.0, &fields), event(&t, 1.0, &[("message", "no entity".into())])]).await;
    assert_eq!((report.observations, report.without_entity), (3, 1), "{report:?}");
    let bad = observe(&f, &t, &[event(&t, 2.0, &[("source.ip", "not-an-ip".into())])]).await;
    assert_eq!(bad.invalid_entities, 1, "{bad:?}");
    for (kind, value) in [
        (EntityKind::SourceIp, "2001:0db8::0001"),
        (EntityKind::UserName, "alice"),
        (EntityKind::HostName, "web-01"),
    ] {
        let v = vector(&f, &t, kind, value, 1.0).await;
        expect(&v, "events_1m", 1.0);
        expect(&v, "distinct_dst_ports_1m", 1.0);
        expect(&v, "distinct_dst_ips_1m", 1.0);
    }
}

async fn batches_equal_single_updates(h: &mut dyn Harness) {
    let t = tenant("conf-g");
    let events: Vec<Event> = (0..40)
        .map(|i| {
            let ok = i % 7 == 0;
            let user = format!("u{}", i % 5);
            event(&t, f64::from(i) * 13.0, &login("192.0.2.77", &user, &format!("p{}", i % 9), ok))
        })
        .collect();
    let (one, many) = (features(h).await, features(h).await);
    observe(&many, &t, &events).await;
    for e in &events {
        observe(&one, &t, std::slice::from_ref(e)).await;
    }
    let a = vector(&one, &t, EntityKind::SourceIp, "192.0.2.77", 520.0).await;
    let b = vector(&many, &t, EntityKind::SourceIp, "192.0.2.77", 520.0).await;
    for (name, value) in &a.features {
        expect(&b, name, *value);
    }
}

async fn large_distinct_counts_are_estimated(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-h"));
    let events: Vec<Event> = (0..3000)
        .map(|i| {
            let fields = [("source.ip", ip("198.51.100.200")), ("destination.port", FieldValue::Int(1 + i))];
            event(&t, i as f64 / 100.0, &fields)
        })
        .collect();
    for chunk in events.chunks(500) {
        observe(&f, &t, chunk).await;
    }
    let v = vector(&f, &t, EntityKind::SourceIp, "198.51.100.200", 30.0).await;
    expect(&v, "events_1m", 3000.0);
    let got = v.value("distinct_dst_ports_1m");
    assert!((got - 3000.0).abs() / 3000.0 < 0.05, "distinct_dst_ports_1m = {got} on {}", f.adapter());
}

async fn unknown_entities_read_as_empty(h: &mut dyn Harness) {
    let (f, t) = (features(h).await, tenant("conf-i"));
    let v = vector(&f, &t, EntityKind::UserName, "nobody", 0.0).await;
    assert_eq!(v.last_seen, None);
    expect(&v, "seconds_since_last_seen", -1.0);
    assert!(
        v.features.iter().filter(|(k, _)| k.as_str() != "seconds_since_last_seen").all(|(_, x)| *x == 0.0)
    );
    assert_eq!(v.features.len(), crate::feature_names().len(), "every documented feature is present");
    let err = f.get(&t, EntityKind::SourceIp, "999.1.1.1", t0()).await;
    assert!(err.is_err_and(|e| e.is_bad_request()), "an invalid IP is the caller's error");
}
