//! The UDP collector over loopback: vendor export datagrams become flow events in the sink,
//! a malformed datagram becomes a dead letter naming the exporter, data whose template never
//! comes is dead-lettered at shutdown, and the counters say so.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ward_flow::collector::{Collector, CollectorConfig, DeadLetter, FlowSink, SinkError};
use ward_model::Event;

use crate::common::read;

#[derive(Default)]
struct Memory {
    events: Mutex<Vec<Event>>,
    letters: Mutex<Vec<DeadLetter>>,
}

impl FlowSink for Memory {
    async fn deliver(&self, batch: Vec<Event>) -> Result<(), SinkError> {
        self.events.lock().expect("lock").extend(batch);
        Ok(())
    }
    async fn dead_letter(&self, letter: DeadLetter) {
        self.letters.lock().expect("lock").push(letter);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_exports_become_events_and_bad_packets_dead_letters() {
    let Some(dat) = ward_testkit::shared("network/netflow_vendor_samples/dat") else { return };
    let config = CollectorConfig {
        listen: vec!["127.0.0.1:0".parse().expect("addr")],
        linger_ms: 20,
        recv_buffer_bytes: 1 << 20,
        ..CollectorConfig::default()
    };
    let collector = Collector::bind(config).expect("binds");
    let addr = collector.local_addrs()[0];
    let stats = collector.stats();
    let sink = Arc::new(Memory::default());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(collector.run(sink.clone(), async move {
        let _ = stop_rx.await;
    }));
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("client");
    let from = client.local_addr().expect("addr");
    for name in ["netflow5.dat", "ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat"] {
        client.send_to(&read(&dat.join(name)), addr).await.expect("send");
    }
    client.send_to(&[0, 7, 1, 2, 3, 4], addr).await.expect("send garbage");
    // Data for a template that never comes.
    client.send_to(&read(&dat.join("ipfix_test_netscaler_data.dat")), addr).await.expect("send");
    for _ in 0..200 {
        if stats.packets.load(Ordering::Relaxed) >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(());
    run.await.expect("collector stops");

    let events = sink.events.lock().expect("lock");
    let letters = sink.letters.lock().expect("lock");
    assert_eq!(stats.packets.load(Ordering::Relaxed), 5);
    assert_eq!(events.len() as u64, stats.records.load(Ordering::Relaxed));
    assert!(events.iter().any(|e| e.get("netflow.version").and_then(|v| v.as_i64()) == Some(5)));
    assert!(events.iter().any(|e| e.get("netflow.version").and_then(|v| v.as_i64()) == Some(10)));
    for e in events.iter() {
        assert_eq!(e.source(), "netflow");
        assert_eq!(e.str("observer.ip"), None, "observer.ip is an address, not text");
        assert_eq!(e.get("observer.ip").and_then(|v| v.as_ip()), Some(from.ip()));
        assert!(e.get("source.ip").is_some() && e.get("event.category").is_some());
    }
    let labels: Vec<&str> = letters.iter().map(|l| l.label).collect();
    assert!(labels.contains(&"version"), "{labels:?}");
    assert!(labels.contains(&"no_template"), "{labels:?}");
    assert!(letters.iter().all(|l| l.exporter == from));
    assert_eq!(letters.len() as u64, stats.dead_letters.load(Ordering::Relaxed));
    assert!(stats.templates.load(Ordering::Relaxed) >= 1);
}
