//! Reload without restart: a new set is swapped in atomically, readers keep their snapshot,
//! a failed reload changes nothing.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ward_ioc::{FeedSource, LoadError, MatchFields, Observable, SharedIndicators};

fn write_feed(path: &Path, net: u8, count: u16) {
    let text: String = (0..count).map(|i| format!("10.{net}.{}.{}\n", i / 256, i % 256)).collect();
    std::fs::write(path, text).expect("write feed");
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip literal")
}

#[test]
fn reload_swaps_the_set_and_old_snapshots_stay_intact() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let feed = tmp.path().join("feed.txt");
    write_feed(&feed, 1, 10);
    let sources = [FeedSource::from(feed.as_path())];
    let (shared, report) = SharedIndicators::load(&sources, MatchFields::default()).expect("loads");
    assert_eq!((report.loaded(), shared.generation()), (10, 0));
    let before = shared.current();

    write_feed(&feed, 2, 20);
    let report = shared.reload(&sources).expect("reloads");
    assert_eq!(report.loaded(), 20);
    let after = shared.current();
    assert_eq!(shared.generation(), 1);
    assert!(
        before.contains(Observable::Ip(ip("10.1.0.3"))) && !before.contains(Observable::Ip(ip("10.2.0.3")))
    );
    assert!(
        after.contains(Observable::Ip(ip("10.2.0.3"))) && !after.contains(Observable::Ip(ip("10.1.0.3")))
    );
    assert_eq!((before.len(), after.len()), (10, 20));
}

#[test]
fn a_failed_reload_keeps_the_set_in_service() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let feed = tmp.path().join("feed.txt");
    let event = tmp.path().join("event.json");
    write_feed(&feed, 1, 5);
    std::fs::write(
        &event,
        r#"{"Event": {"Attribute": [{"type": "domain", "value": "evil.example", "uuid": "u1"}]}}"#,
    )
    .expect("write");
    let sources = [FeedSource::from(feed.as_path()), FeedSource::from(event.as_path())];
    let (shared, _) = SharedIndicators::load(&sources, MatchFields::default()).expect("loads");
    std::fs::write(&event, "{\"Event\": ").expect("truncate");
    write_feed(&feed, 2, 50);
    let errors = shared.reload(&sources).expect_err("broken event").0;
    assert!(matches!(&errors[..], [LoadError::Json { path, .. }] if path == &event), "{errors:?}");
    let current = shared.current();
    assert_eq!((current.len(), shared.generation()), (6, 0));
    assert!(current.contains(Observable::Domain("evil.example")));
}

/// Readers running during twenty reloads only ever see one complete version or the other.
#[test]
fn readers_see_whole_sets_during_reloads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a.txt"), tmp.path().join("b.txt"));
    write_feed(&a, 1, 1_000);
    write_feed(&b, 2, 2_000);
    let (sa, sb) = ([FeedSource::from(a.as_path())], [FeedSource::from(b.as_path())]);
    let (shared, _) = SharedIndicators::load(&sa, MatchFields::default()).expect("loads");
    let done = AtomicBool::new(false);
    let seen = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut versions = [0usize; 2];
                    while !done.load(Ordering::Acquire) {
                        let set = shared.current();
                        let v1 = set.contains(Observable::Ip(ip("10.1.3.231")));
                        let v2 = set.contains(Observable::Ip(ip("10.2.7.207")));
                        match (set.len(), v1, v2) {
                            (1_000, true, false) => versions[0] += 1,
                            (2_000, false, true) => versions[1] += 1,
                            other => panic!("torn set observed: {other:?}"),
                        }
                    }
                    versions
                })
            })
            .collect();
        let held = shared.current();
        for round in 0..20 {
            let sources = if round % 2 == 0 { &sb } else { &sa };
            shared.reload(sources).expect("reloads");
        }
        assert_eq!(held.len(), 1_000, "a snapshot taken before the reloads is unchanged after them");
        done.store(true, Ordering::Release);
        readers.into_iter().map(|r| r.join().expect("reader")).collect::<Vec<_>>()
    });
    assert_eq!(shared.generation(), 20);
    assert!(seen.iter().all(|v| v[0] + v[1] > 0), "{seen:?}");
}
