//! Sessionize on the real Cowrie and Suricata event orderings.

use std::collections::{BTreeMap, HashMap};

use ward_model::{Event, FieldValue};

use crate::common::{chain, cowrie, suricata};

fn summaries(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.str("event.kind") == Some("session")).collect()
}

/// Authentication events (Cowrie logins, and its telnet auth-bypass exploit events).
fn is_authentication(e: &Event) -> bool {
    match e.get("event.category") {
        Some(FieldValue::List(c)) => c.iter().any(|v| v.as_str() == Some("authentication")),
        _ => false,
    }
}

fn int(e: &Event, p: &str) -> i64 {
    e.get(p).and_then(FieldValue::as_i64).unwrap_or_else(|| panic!("{p} missing"))
}

#[test]
fn cowrie_sessions_close_on_session_closed_with_counts_commands_and_logins() {
    let chain = chain("[sessionize]\nkeys = [\"session\"]\n");
    let mut events = cowrie();
    let input = events.clone();
    let stats = chain.enrich(&mut events);
    let sums = summaries(&events);
    assert_eq!(stats.sessions_opened, 13);
    assert_eq!(sums.len(), 13, "every Cowrie session ends with cowrie.session.closed");
    assert_eq!(chain.open_sessions(), 0);

    let mut by_session: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in &input {
        by_session.entry(e.str("session.id").unwrap()).or_default().push(e);
    }
    for s in sums {
        let id = s.str("session.id").unwrap();
        let evs = &by_session[id];
        assert_eq!(s.str("ward.session.close_reason"), Some("closed"));
        assert_eq!(int(s, "ward.session.event_count"), evs.len() as i64, "{id}");
        let outcome = |o: &str| {
            evs.iter().filter(|e| is_authentication(e) && e.str("event.outcome") == Some(o)).count() as i64
        };
        assert_eq!(int(s, "ward.session.login.success"), outcome("success"), "{id}");
        assert_eq!(int(s, "ward.session.login.failure"), outcome("failure"), "{id}");
        let commands: Vec<FieldValue> =
            evs.iter().filter_map(|e| e.get("process.command_line").cloned()).collect();
        assert_eq!(int(s, "ward.session.command_count"), commands.len() as i64);
        if !commands.is_empty() {
            assert_eq!(s.get("ward.session.commands"), Some(&FieldValue::List(commands)));
        }
        let first = evs.first().unwrap().timestamp();
        let last = evs.last().unwrap().timestamp();
        assert_eq!(int(s, "event.duration"), (last - first).num_nanoseconds().unwrap());
        assert_eq!(s.timestamp(), last);
        assert_eq!(s.source(), "cowrie");
        assert_eq!(s.str("ward.session.first_event_id"), Some(evs[0].id().to_string().as_str()));
    }
    // Every original event is tagged with its session.
    assert!(
        events
            .iter()
            .filter(|e| e.str("event.kind") != Some("session"))
            .all(|e| e.str("ward.session.id").is_some())
    );
}

#[test]
fn inactivity_timeout_on_event_time_splits_sessions_at_gaps() {
    // One event per batch, as a stream would deliver them.
    let chain = chain("[sessionize]\nkeys = [\"session\"]\ntimeout_secs = 1\n");
    let input = cowrie();
    // Oracle: a session segment ends at a gap over 1 s or at session.closed.
    let mut expected = 0;
    let mut last: HashMap<String, Option<chrono::DateTime<chrono::Utc>>> = HashMap::new();
    for e in &input {
        let id = e.str("session.id").unwrap().to_owned();
        let prev = last.entry(id).or_insert(None);
        if prev.is_none_or(|p| e.timestamp() - p > chrono::TimeDelta::seconds(1)) {
            expected += 1;
        }
        *prev = if e.str("event.action") == Some("session.closed") { None } else { Some(e.timestamp()) };
    }
    let mut all = Vec::new();
    for e in input {
        let mut batch = vec![e];
        chain.enrich(&mut batch);
        all.extend(batch);
    }
    chain.flush(&mut all);
    let sums = summaries(&all);
    assert!(expected > 13, "the real log has pauses over 1 s inside sessions ({expected})");
    assert_eq!(sums.len(), expected);
    let total: i64 = sums.iter().map(|s| int(s, "ward.session.event_count")).sum();
    assert_eq!(total, 148, "every event is in exactly one summary");
    assert!(sums.iter().any(|s| s.str("ward.session.close_reason") == Some("timeout")));
}

#[test]
fn suricata_flows_group_by_community_id_and_summaries_are_replay_stable() {
    let run = || {
        let chain = chain("[sessionize]\nkeys = [\"community_id\"]\n");
        let mut events = suricata();
        chain.enrich(&mut events);
        chain.flush(&mut events);
        events
    };
    let events = run();
    let input = suricata();
    let ids: std::collections::BTreeSet<&str> =
        input.iter().filter_map(|e| e.str("network.community_id")).collect();
    let sums = summaries(&events);
    assert_eq!(sums.len(), ids.len());
    for s in &sums {
        let key = s.str("ward.session.id").unwrap().strip_prefix("community_id:").unwrap();
        let max_bytes = input
            .iter()
            .filter(|e| e.str("network.community_id") == Some(key))
            .filter_map(|e| e.get("network.bytes").and_then(FieldValue::as_i64))
            .max()
            .unwrap_or(0);
        assert_eq!(int(s, "ward.session.bytes"), max_bytes);
    }
    let again = run();
    let a: Vec<String> = summaries(&events).iter().map(|e| e.id().to_string()).collect();
    let b: Vec<String> = summaries(&again).iter().map(|e| e.id().to_string()).collect();
    assert_eq!(a, b, "a replay yields the same summaries with the same ids");
}
