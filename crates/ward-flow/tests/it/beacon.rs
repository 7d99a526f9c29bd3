//! The beaconing detector: regular check-ins fire once, irregular traffic and fast sessions
//! never do.

use chrono::Utc;
use ward_flow::FlowRecord;
use ward_flow::beacon::{BeaconConfig, BeaconDetector};
use ward_flow::event::flow_event;
use ward_model::{Event, TenantId};

fn flow(dst: &str, start_ms: i64) -> Event {
    let rec = FlowRecord {
        src_ip: Some("10.0.0.7".parse().expect("ip")),
        dst_ip: Some(dst.parse().expect("ip")),
        src_port: Some(49152),
        dst_port: Some(443),
        protocol: Some(6),
        start_ms: Some(start_ms),
        end_ms: Some(start_ms + 200),
        ..FlowRecord::default()
    };
    flow_event(&rec, &rec.to_json(), &TenantId::default(), "netflow", Utc::now())
}

#[test]
fn a_check_in_every_minute_with_little_jitter_fires_once() {
    let mut d = BeaconDetector::new(BeaconConfig::default());
    let jitter = [0, 700, -400, 300, -900, 500, 0, -200, 800, -600, 100, 400];
    let alerts: Vec<_> = (0..12)
        .filter_map(|i| {
            d.observe(&flow("198.51.100.66", 1_764_000_000_000 + i * 60_000 + jitter[i as usize]))
        })
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.connections, 8, "fires as soon as 8 connections are regular");
    assert!((a.mean_interval_ms - 60_000.0).abs() < 1_000.0 && a.jitter < 0.1);
    assert_eq!(a.destination.to_string(), "198.51.100.66");
}

#[test]
fn irregular_or_fast_traffic_never_fires() {
    let mut d = BeaconDetector::new(BeaconConfig::default());
    let irregular = [0, 5_000, 90_000, 91_000, 300_000, 302_000, 600_000, 1_200_000, 1_201_000, 1_900_000];
    for t in irregular {
        assert!(d.observe(&flow("198.51.100.1", 1_764_000_000_000 + t)).is_none());
    }
    for i in 0..20 {
        assert!(
            d.observe(&flow("198.51.100.2", 1_764_000_000_000 + i * 1_000)).is_none(),
            "1 s apart is a session"
        );
    }
    assert_eq!(d.tracked(), 2);
}

#[test]
fn memory_is_bounded_by_max_pairs() {
    let mut d = BeaconDetector::new(BeaconConfig { max_pairs: 3, ..BeaconConfig::default() });
    for i in 0..10 {
        d.observe(&flow(&format!("198.51.100.{i}"), 1_764_000_000_000));
    }
    assert_eq!(d.tracked(), 3);
}
