//! Grouping properties: any arrival order of alerts within one window gives the same incidents.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use tokio::sync::broadcast;
use ward_model::{AlertRecord, Entities, Severity, SignalKind, TenantId, add_entity};
use ward_pipeline::incidents::{Incidents, group_key};
use ward_pipeline::{BuiltinTriager, IncidentSink, IncidentsConfig, MemorySink};

use super::support::FixedClock;

const WINDOW: i64 = 30 * 60;

fn alert(n: usize, ip: Option<u8>, host: Option<u8>, offset: i64, level: Severity) -> AlertRecord {
    let mut entities = Entities::new();
    if let Some(ip) = ip {
        add_entity(&mut entities, "source.ip", &format!("203.0.113.{ip}"));
    }
    if let Some(h) = host {
        add_entity(&mut entities, "host.name", &format!("web-{h}"));
    }
    // Window-aligned base: every alert falls in one grouping bucket.
    let base = Utc.timestamp_opt(1_764_097_200, 0).unwrap();
    AlertRecord {
        id: format!("{n:032x}"),
        tenant: TenantId::default(),
        kind: SignalKind::Sigma,
        rule_id: format!("rule-{}", n % 3),
        rule_title: format!("Rule {}", n % 3),
        level,
        score: level.base_score(),
        timestamp: base + chrono::Duration::seconds(offset),
        event_ids: vec![format!("{n:032x}")],
        tags: vec![],
        techniques: vec![],
        entities,
        source: "test".into(),
        details: serde_json::json!({}),
    }
}

fn alerts() -> impl Strategy<Value = Vec<AlertRecord>> {
    let level = prop::sample::select(Severity::ALL.to_vec());
    let one = (prop::option::of(0u8..3), prop::option::of(0u8..2), 0..WINDOW, level);
    prop::collection::vec(one, 1..24).prop_map(|v| {
        v.into_iter().enumerate().map(|(n, (ip, host, off, level))| alert(n, ip, host, off, level)).collect()
    })
}

/// Groups `alerts` in batches of `batch` and returns every incident with its members.
fn run(alerts: &[AlertRecord], batch: usize) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let sink = Arc::new(MemorySink::new());
        let (tx, _) = broadcast::channel(1024);
        let stage = Incidents::new(
            sink.clone(),
            Arc::new(BuiltinTriager),
            tx,
            IncidentsConfig::default(),
            Arc::new(FixedClock),
        );
        for chunk in alerts.chunks(batch.max(1)) {
            stage.group(chunk.to_vec()).await.unwrap();
        }
        let mut out: Vec<String> = sink
            .incidents()
            .iter()
            .map(|i| {
                let members = sink.members(&i.tenant, &i.id);
                format!(
                    "{} {} {} {} {} {} {:?} {} {} {:?}",
                    i.id,
                    i.group_key,
                    i.severity,
                    i.score,
                    i.title,
                    i.alert_count,
                    i.entities,
                    i.first_seen,
                    i.last_seen,
                    members
                )
            })
            .collect();
        out.sort();
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_within_the_window_gives_the_same_incidents(
        (original, shuffled) in alerts().prop_flat_map(|a| (Just(a.clone()), Just(a).prop_shuffle())),
        batch in 1usize..8,
    ) {
        let expected = run(&original, 64);
        prop_assert_eq!(run(&shuffled, batch), expected.clone());
        // One incident per grouping key.
        let keys: std::collections::BTreeSet<String> =
            original.iter().map(|a| group_key(a, &IncidentsConfig::default().group_by)).collect();
        prop_assert_eq!(expected.len(), keys.len());
    }
}

#[tokio::test]
async fn alerts_far_apart_open_separate_incidents_and_replays_reattach() {
    let sink = Arc::new(MemorySink::new());
    let (tx, _) = broadcast::channel(16);
    let stage = Incidents::new(
        sink.clone(),
        Arc::new(BuiltinTriager),
        tx,
        IncidentsConfig::default(),
        Arc::new(FixedClock),
    );
    let early = alert(1, Some(7), None, 0, Severity::Low);
    let late = alert(2, Some(7), None, 3 * WINDOW, Severity::High);
    stage.group(vec![early.clone(), late.clone()]).await.unwrap();
    assert_eq!(sink.incidents().len(), 2);
    // A replay of the same alerts (after a restart, with a new stage) changes nothing.
    let before: Vec<_> = sink.incidents();
    let (tx, _) = broadcast::channel(16);
    let again = Incidents::new(
        sink.clone(),
        Arc::new(BuiltinTriager),
        tx,
        IncidentsConfig::default(),
        Arc::new(FixedClock),
    );
    again.group(vec![late, early]).await.unwrap();
    assert_eq!(sink.incidents(), before);
    // A closed incident is not reopened by a new alert in its window: a new id is taken.
    let first = &before[0];
    sink.set_status(&first.tenant, &first.id, ward_model::IncidentStatus::Resolved);
    let mut newer = alert(3, Some(7), None, 0, Severity::Medium);
    newer.timestamp = first.first_seen;
    again.group(vec![newer.clone()]).await.unwrap();
    assert_eq!(sink.incidents().len(), 3);
    assert_ne!(
        sink.linked_incident(&newer.tenant, &newer.id).await.unwrap().as_deref(),
        Some(first.id.as_str())
    );
}
