//! Dedupe through the chain on the real Cowrie log order.

use std::collections::HashMap;

use chrono::TimeDelta;
use ward_enrich::DUPLICATE_OF;

use crate::common::cowrie;

const NO_SESSIONS: &str = "[sessionize]\nenabled = false\n";

#[test]
fn redelivered_events_are_marked_with_the_first_id_and_counted_per_source() {
    let chain = chain(NO_SESSIONS);
    let mut first = cowrie();
    let stats = chain.enrich(&mut first);
    assert_eq!(stats.events, 148);
    assert_eq!(stats.duplicates, 0, "the real log has no repeated record");
    assert!(first.iter().all(|e| e.get(DUPLICATE_OF).is_none()));

    let mut again = cowrie();
    let stats = chain.enrich(&mut again);
    assert_eq!(stats.duplicates, 148);
    assert_eq!(stats.duplicates_by_source.get("cowrie"), Some(&148));
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(b.str(DUPLICATE_OF), Some(a.id().to_string().as_str()));
    }
    assert_eq!(again.len(), 148, "duplicates are marked, never dropped");
}

#[test]
fn configured_key_fields_mark_repeats_of_the_same_key() {
    let chain = chain(&format!("{NO_SESSIONS}[dedupe]\nkey = [\"session.id\", \"event.action\"]\n"));
    let mut events = cowrie();
    // Oracle: the first event of each (session, action) pair is kept, the rest are repeats.
    let mut first_of: HashMap<(String, String), String> = HashMap::new();
    let mut expected = Vec::new();
    for e in &events {
        let key =
            (e.str("session.id").unwrap_or("").to_owned(), e.str("event.action").unwrap_or("").to_owned());
        match first_of.get(&key) {
            Some(id) => expected.push(Some(id.clone())),
            None => {
                first_of.insert(key, e.id().to_string());
                expected.push(None);
            }
        }
    }
    let stats = chain.enrich(&mut events);
    let got: Vec<Option<String>> = events.iter().map(|e| e.str(DUPLICATE_OF).map(str::to_owned)).collect();
    assert_eq!(got, expected);
    let n = expected.iter().filter(|x| x.is_some()).count() as u64;
    assert!(n > 20, "the log repeats actions within sessions ({n})");
    assert_eq!(stats.duplicates, n);
}

#[test]
fn a_repeat_outside_the_window_is_not_a_duplicate() {
    let chain = chain(&format!("{NO_SESSIONS}[dedupe]\nwindow_secs = 60\n"));
    let original = cowrie().remove(0);
    let mut late = original.clone();
    late.set_timestamp(original.timestamp() + TimeDelta::seconds(61));
    let mut soon = original.clone();
    soon.set_timestamp(original.timestamp() + TimeDelta::seconds(30));

    let mut batch = vec![original.clone(), soon];
    let stats = chain.enrich(&mut batch);
    assert_eq!(stats.duplicates, 1, "30 s later is inside the window");

    let mut batch = vec![late];
    // Last sighting was at +30 s, so +61 s is 31 s after it: still a duplicate.
    assert_eq!(chain.enrich(&mut batch).duplicates, 1);

    let fresh = self::chain(&format!("{NO_SESSIONS}[dedupe]\nwindow_secs = 60\n"));
    let mut late = original.clone();
    late.set_timestamp(original.timestamp() + TimeDelta::seconds(61));
    let mut batch = vec![original, late];
    assert_eq!(fresh.enrich(&mut batch).duplicates, 0, "61 s after the only sighting is outside 60 s");
}

fn chain(body: &str) -> ward_enrich::EnrichChain {
    crate::common::chain(body)
}
