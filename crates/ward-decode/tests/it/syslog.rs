//! Tests of the syslog decoder: the RFC examples, written auth fixtures, rejections and
//! generated lines. `loghub` checks the OpenSSH and Linux corpora against loghub's oracle.

mod loghub;

use chrono::{Datelike, TimeZone, Utc};
use proptest::prelude::*;
use ward_decode::SourceKind;
use ward_model::{Event, FieldValue};

use crate::common::{as_json, decode, decode_paths, fixture};

pub(super) fn text<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.str(path)
}

pub(super) fn int(e: &Event, path: &str) -> Option<i64> {
    e.get(path).and_then(FieldValue::as_i64)
}

/// A number from the oracle CSV.
pub(super) fn num(text: &str) -> i64 {
    text.parse().unwrap_or_else(|_| panic!("{text:?} is not a number"))
}

pub(super) fn shown(e: &Event, path: &str) -> Option<String> {
    e.get(path).map(ToString::to_string)
}

fn decode_fixture(name: &str) -> ward_decode::Collect {
    let (c, _) = decode_paths(SourceKind::Syslog, &[fixture(&format!("syslog/{name}"))]);
    c
}

#[test]
fn rfc5424_examples_decode_with_structured_data() {
    let c = decode_fixture("rfc5424.log");
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 4);
    let first = &c.events[0];
    assert_eq!(
        first.timestamp(),
        Utc.with_ymd_and_hms(2003, 10, 11, 22, 14, 15).unwrap() + chrono::Duration::milliseconds(3)
    );
    assert_eq!(text(first, "message"), Some("'su root' failed for lonvick on /dev/pts/8"), "BOM is stripped");
    assert_eq!(
        (int(first, "log.syslog.facility.code"), int(first, "log.syslog.severity.code")),
        (Some(4), Some(2))
    );
    assert_eq!(int(&c.events[1], "process.pid"), Some(8710));
    assert_eq!(
        c.events[1].timestamp(),
        Utc.with_ymd_and_hms(2003, 8, 24, 12, 14, 15).unwrap() + chrono::Duration::microseconds(3)
    );
    let sd = serde_json::to_value(c.events[3].get("log.syslog.structured_data").unwrap()).unwrap();
    assert_eq!(sd["examplePriority@32473"]["class"], "high");
    assert_eq!(sd["exampleSDID@32473"]["eventID"], "1011");
    assert!(c.events[3].get("message").is_none(), "the last example has no MSG");
    insta::assert_json_snapshot!("rfc5424", as_json(&c));
}

#[test]
fn rfc3164_examples_decode_with_and_without_tag() {
    let c = decode_fixture("rfc3164.log");
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    let [su, bfg] = &c.events[..] else { panic!("two events expected") };
    assert_eq!((text(su, "host.hostname"), text(su, "process.name")), (Some("mymachine"), Some("su")));
    assert_eq!(
        su.timestamp(),
        Utc.with_ymd_and_hms(2025, 10, 11, 22, 14, 15).unwrap(),
        "October read in January 2026 is 2025"
    );
    assert_eq!(text(bfg, "host.hostname"), Some("10.0.0.99"));
    assert_eq!((text(bfg, "process.name"), text(bfg, "message")), (None, Some("Use the BFG!")));
    insta::assert_json_snapshot!("rfc3164", as_json(&c));
}

#[test]
fn auth_fixture_maps_every_program() {
    let c = decode_fixture("auth.log");
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    let actions: Vec<String> = c
        .events
        .iter()
        .map(|e| {
            format!("{}/{}", text(e, "event.action").unwrap_or("-"), text(e, "event.outcome").unwrap_or("-"))
        })
        .collect();
    let mapped = actions.iter().filter(|a| !a.starts_with("-/")).count();
    assert_eq!(mapped, 29, "all but kernel, systemd and the untagged line are mapped: {actions:?}");
    let accepted = &c.events[0];
    assert_eq!(text(accepted, "system.auth.ssh.method"), Some("publickey"));
    assert_eq!(
        text(accepted, "system.auth.ssh.signature"),
        Some("ED25519 SHA256:3q2+7w8lWZzZ0Wn6hM1bYqkGf0yq6R6m2qJm7D0oA1c")
    );
    assert_eq!(shown(&c.events[2], "source.ip").as_deref(), Some("2001:db8::7"));
    assert_eq!(int(&c.events[7], "syslog.repeated"), Some(2));
    for (n, user, ip, port) in [(5, "oracle", "203.0.113.45", 40122), (11, "git", "192.0.2.77", 41800)] {
        let closed = &c.events[n];
        assert_eq!(text(closed, "user.name"), Some(user), "{}", closed.original());
        assert_eq!(
            (shown(closed, "source.ip").as_deref(), int(closed, "source.port")),
            (Some(ip), Some(port))
        );
    }
    let sudo = &c.events[18];
    assert_eq!((text(sudo, "user.name"), text(sudo, "user.effective.name")), (Some("alice"), Some("root")));
    assert_eq!(text(sudo, "process.command_line"), Some("/usr/bin/systemctl restart nginx"));
    assert_eq!(text(&c.events[19], "event.reason"), Some("3 incorrect password attempts"));
    let no_host = &c.events[27];
    assert_eq!((text(no_host, "host.hostname"), text(no_host, "process.name")), (None, Some("sshd")));
    assert_eq!(
        c.events[28].timestamp(),
        Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 58).unwrap(),
        "year rollover"
    );
    assert_eq!(
        c.events[25].timestamp(),
        Utc.with_ymd_and_hms(2026, 1, 14, 21, 5, 31).unwrap() + chrono::Duration::microseconds(123_456)
    );
    insta::assert_json_snapshot!("auth", as_json(&c));
}

#[test]
fn malformed_lines_are_rejected_with_their_position() {
    let path = fixture("syslog/invalid.txt");
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    let (c, _) = decode_paths(SourceKind::Syslog, &[path]);
    assert!(c.events.is_empty(), "{:?}", c.events.iter().map(Event::original).collect::<Vec<_>>());
    assert_eq!(c.rejections.len(), lines);
    for r in &c.rejections {
        assert!(r.reason.contains("byte "), "reason without position: {}", r.reason);
    }
    let reasons: Vec<String> =
        c.rejections.iter().map(|r| format!("line {}: {}", r.line, r.reason)).collect();
    insta::assert_json_snapshot!("rejections", reasons);
}

#[test]
fn records_without_time_use_the_context_clock() {
    let c = decode(SourceKind::Syslog, b"<14>1 - - - - - - hello");
    assert_eq!(c.events[0].timestamp(), crate::common::ctx().now);
    assert_eq!(text(&c.events[0], "event.ingested"), Some("2026-01-15T00:00:00Z"));
    assert_eq!(text(&c.events[0], "log.syslog.facility.name"), Some("user"));
    assert_eq!(text(&c.events[0], "log.syslog.severity.name"), Some("Informational"));
}

/// RFC 5424 PARAM-VALUE escaping of `"`, `\` and `]`.
fn escape_sd(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_bsd_lines_decode_field_for_field(
        host in "[a-z][a-z0-9.-]{0,20}",
        app in "[a-zA-Z][a-zA-Z0-9_/.-]{0,20}",
        pid in 1u32..4_000_000,
        msg in "[^\r\n]{0,80}",
        month in 0usize..12,
        day in 1u32..=28,
        (h, m, s) in (0u32..24, 0u32..60, 0u32..60),
    ) {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let line = format!("{} {day:>2} {h:02}:{m:02}:{s:02} {host} {app}[{pid}]: {msg}", months[month]);
        let c = decode(SourceKind::Syslog, line.as_bytes());
        prop_assert!(c.rejections.is_empty(), "{:?}", c.rejections);
        let ev = &c.events[0];
        prop_assert_eq!(text(ev, "host.hostname"), Some(host.as_str()));
        prop_assert_eq!(text(ev, "log.syslog.appname"), Some(app.as_str()));
        prop_assert_eq!(int(ev, "process.pid"), Some(i64::from(pid)));
        prop_assert_eq!(text(ev, "message").unwrap_or(""), msg.trim());
        let ts = ev.timestamp();
        prop_assert_eq!((ts.month() as usize, ts.day(), ts.format("%H:%M:%S").to_string()), (month + 1, day, format!("{h:02}:{m:02}:{s:02}")));
        prop_assert!(ts <= crate::common::ctx().now + chrono::Duration::days(2));
    }

    #[test]
    fn structured_data_values_round_trip(values in proptest::collection::vec("[^\r\n]{0,30}", 1..4), msg in "[^\r\n]{0,40}") {
        let params: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("p{i}=\"{}\"", escape_sd(v))).collect();
        let line = format!("<165>1 2003-10-11T22:14:15.003Z host app 42 ID1 [x@32473 {}] {msg}", params.join(" "));
        let c = decode(SourceKind::Syslog, line.as_bytes());
        prop_assert!(c.rejections.is_empty(), "{:?}", c.rejections);
        let sd = serde_json::to_value(c.events[0].get("log.syslog.structured_data").unwrap()).unwrap();
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(sd["x@32473"][format!("p{i}")].as_str(), Some(v.as_str()));
        }
    }

    #[test]
    fn arbitrary_text_is_decoded_or_rejected_with_a_position(line in "[^\r\n]{0,120}") {
        let c = decode(SourceKind::Syslog, line.as_bytes());
        let blank = line.bytes().all(|b| b.is_ascii_whitespace());
        prop_assert_eq!(c.events.len() + c.rejections.len(), usize::from(!blank));
        for r in &c.rejections {
            prop_assert!(r.reason.contains("byte "), "{}", r.reason);
        }
    }
}
