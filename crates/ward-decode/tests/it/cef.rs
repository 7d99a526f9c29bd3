//! Tests of the CEF decoder: the specification's examples, vendor-style records, rejections,
//! and escaping round trips of arbitrary header fields and extension values.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use ward_decode::sources::cef::{CefDecoder, escape_header, escape_value};
use ward_decode::{Decoder, SourceKind};
use ward_model::{Event, FieldValue};

use crate::common::{as_json, ctx, decode, decode_paths, fixture};

fn text<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.str(path)
}

fn int(e: &Event, path: &str) -> Option<i64> {
    e.get(path).and_then(FieldValue::as_i64)
}

fn shown(e: &Event, path: &str) -> Option<String> {
    e.get(path).map(ToString::to_string)
}

fn decode_fixture(name: &str) -> ward_decode::Collect {
    let (c, _) = decode_paths(SourceKind::Cef, &[fixture(&format!("cef/{name}"))]);
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    c
}

#[test]
fn specification_examples_decode_with_escapes() {
    let c = decode_fixture("spec.cef");
    assert_eq!(c.events.len(), 7);
    let prefixed = &c.events[0];
    assert_eq!(text(prefixed, "host.hostname"), Some("host"));
    assert_eq!(
        prefixed.timestamp(),
        Utc.with_ymd_and_hms(2025, 9, 19, 8, 26, 10).unwrap(),
        "syslog time, year by rule"
    );
    assert_eq!(
        (text(prefixed, "observer.vendor"), text(prefixed, "observer.product")),
        (Some("Security"), Some("threatmanager"))
    );
    assert_eq!((text(prefixed, "event.code"), int(prefixed, "event.severity")), (Some("100"), Some(10)));
    assert_eq!(
        (shown(prefixed, "source.ip"), int(prefixed, "source.port")),
        (Some("10.0.0.1".into()), Some(1232))
    );
    assert_eq!(text(&c.events[2], "cef.name"), Some("detected a | in message"));
    assert_eq!(text(&c.events[2], "event.action"), Some("blocked a |"), "act overrides the name");
    assert_eq!(text(&c.events[3], "event.action"), Some("blocked a \\"));
    assert_eq!(text(&c.events[4], "event.action"), Some("blocked a ="));
    assert_eq!(
        text(&c.events[5], "message"),
        Some("Detected a threat.\n No action needed.\r\nSee the console.")
    );
    let logger = &c.events[6];
    assert_eq!(
        logger.timestamp(),
        Utc.timestamp_millis_opt(1_305_034_099_211).unwrap(),
        "rt in epoch millis"
    );
    assert_eq!(text(logger, "cef.custom.Status"), Some("Ok"));
    assert_eq!(text(logger, "cef.custom.timeframe"), Some("Current Value"));
    assert_eq!(text(logger, "cef.extensions.cat"), Some("/Monitor/Sensor/Fan5"));
    insta::assert_json_snapshot!("spec", as_json(&c));
}

#[test]
fn vendor_records_map_to_ecs() {
    let c = decode_fixture("vendors.cef");
    let [checkpoint, fortinet, imperva, trend, panos, edr, waf] = &c.events[..] else {
        panic!("7 events expected")
    };
    assert_eq!(checkpoint.timestamp(), Utc.timestamp_millis_opt(1_736_935_200_000).unwrap());
    assert_eq!(text(checkpoint, "network.direction"), Some("inbound"));
    assert_eq!(
        (text(checkpoint, "network.transport"), text(checkpoint, "network.iana_number")),
        (Some("tcp"), Some("6"))
    );
    assert_eq!(text(checkpoint, "cef.extensions.originsicname"), Some("CN=gw-hq,O=mgmt.example.com.7fmbx3"));
    assert_eq!(text(checkpoint, "cef.custom.Rule Name"), Some("Block outbound HTTPS"));
    assert_eq!(int(checkpoint, "cef.custom.Elapsed Time in Seconds"), Some(0));
    assert_eq!(checkpoint.get("event.severity"), None, "Unknown severity has no number");
    assert_eq!(text(fortinet, "log.syslog.facility.name"), Some("local7"));
    assert_eq!((int(fortinet, "source.bytes"), int(fortinet, "destination.bytes")), (Some(5621), Some(1843)));
    assert_eq!(shown(fortinet, "source.nat.ip").as_deref(), Some("203.0.113.2"));
    assert_eq!(text(fortinet, "observer.ingress.interface.name"), Some("internal"));
    assert_eq!(text(fortinet, "cef.extensions.FTNTFGTdstcountry"), Some("United States"));
    assert_eq!(imperva.timestamp(), Utc.with_ymd_and_hms(2026, 1, 14, 8, 41, 7).unwrap());
    assert_eq!(
        (int(imperva, "event.severity"), text(imperva, "http.request.method")),
        (Some(8), Some("PUT"))
    );
    assert_eq!(text(imperva, "cef.custom.Description"), Some("PUT /api/v1/users HTTP/1.1"));
    assert_eq!(text(trend, "file.path"), Some(r"C:\Users\jdoe\Downloads\eicar.com"));
    assert_eq!(text(trend, "cef.custom.Container"), Some("ContainerImageName | ContainerName | ContainerID"));
    assert_eq!(
        text(trend, "file.hash.sha256"),
        Some("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
    );
    assert_eq!(panos.timestamp(), Utc.with_ymd_and_hms(2026, 1, 14, 10, 12, 33).unwrap());
    assert_eq!(text(panos, "event.start"), Some("2026-01-14T10:11:58Z"));
    assert_eq!(text(panos, "source.user.name"), Some(r"corp\jdoe"));
    assert_eq!(panos.get("destination.user.name"), None, "empty duser is not mapped");
    assert_eq!(int(panos, "cef.custom.Total bytes"), Some(8829));
    assert_eq!((int(edr, "cef.version"), int(edr, "event.severity")), (Some(1), Some(10)));
    assert_eq!(text(edr, "log.syslog.appname"), Some("sentinel"));
    assert_eq!(
        edr.timestamp(),
        Utc.with_ymd_and_hms(2026, 1, 14, 9, 0, 0).unwrap() + chrono::Duration::milliseconds(500)
    );
    assert_eq!(
        (text(edr, "source.mac"), text(edr, "observer.mac")),
        (Some("00-0C-29-3E-5B-7A"), Some("00-50-56-AB-CD-EF"))
    );
    assert_eq!(
        (text(edr, "process.name"), int(edr, "process.parent.pid")),
        (Some("powershell.exe"), Some(4100))
    );
    assert_eq!(
        (text(edr, "event.outcome"), text(edr, "file.hash.md5")),
        (Some("failure"), Some("d41d8cd98f00b204e9800998ecf8427e"))
    );
    assert_eq!(shown(waf, "source.ip").as_deref(), Some("2001:db8::5"));
    assert_eq!(text(waf, "url.original"), Some("https://shop.example.com/search?q=1' OR '1'='1"));
    assert_eq!(text(waf, "user_agent.original"), Some("Mozilla/5.0 (X11; Linux x86_64)"));
    insta::assert_json_snapshot!("vendors", as_json(&c));
}

#[test]
fn malformed_records_are_rejected_with_their_position() {
    let path = fixture("cef/invalid.txt");
    let lines = std::fs::read_to_string(&path).unwrap().lines().count();
    let (c, _) = decode_paths(SourceKind::Cef, &[path]);
    assert!(c.events.is_empty(), "{:?}", c.events.iter().map(Event::original).collect::<Vec<_>>());
    assert_eq!(c.rejections.len(), lines);
    for r in c.rejections.iter().skip(1) {
        assert!(r.reason.contains("byte "), "reason without position: {}", r.reason);
    }
    let reasons: Vec<String> =
        c.rejections.iter().map(|r| format!("line {}: {}", r.line, r.reason)).collect();
    insta::assert_json_snapshot!("rejections", reasons);
}

#[test]
fn records_without_time_use_the_context_clock_and_say_so() {
    let c = decode(SourceKind::Cef, b"CEF:0|V|P|1|7|n|Low|src=192.0.2.1");
    let ev = &c.events[0];
    assert_eq!((ev.timestamp(), text(ev, "event.ingested")), (ctx().now, Some("2026-01-15T00:00:00Z")));
    assert_eq!(int(ev, "event.severity"), Some(3));
    assert_eq!(text(ev, "message"), Some("n"));
}

#[test]
fn a_key_given_twice_keeps_both_values() {
    let c = decode(SourceKind::Cef, b"CEF:0|V|P|1|7|n|1|cs1=a cs1=b");
    let raw = c.events[0].get("cef.extensions.cs1");
    assert_eq!(raw, Some(&FieldValue::List(vec!["a".into(), "b".into()])));
}

/// A header field: any printable text, including `|`, `\` and `=`.
fn header_text() -> impl Strategy<Value = String> {
    "[^\\p{C}]{1,24}"
}

/// An extension value: any text, including newlines, `=`, `\`, `|` and ` key=`-like runs.
fn value_text() -> impl Strategy<Value = String> {
    prop_oneof!["[^\\p{C}]{0,40}", "[a-z =\\\\|\n\r]{0,40}", "( ?[a-z]{1,4}=[a-z]{0,3}){1,4}"]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn escaped_fields_and_values_round_trip(
        header in proptest::collection::vec(header_text(), 5),
        values in proptest::collection::vec(value_text(), 1..6),
    ) {
        let head: Vec<String> = header.iter().map(|h| escape_header(h).into_owned()).collect();
        let ext: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("k{i}={}", escape_value(v))).collect();
        let line = format!("CEF:0|{}|5|{}", head.join("|"), ext.join(" "));
        let mut out = Vec::new();
        CefDecoder.decode(&line, &ctx(), &mut out).map_err(|e| TestCaseError::fail(format!("{e}: {line:?}")))?;
        let ev = &out[0];
        let paths = ["cef.device.vendor", "cef.device.product", "cef.device.version", "cef.device.event_class_id", "cef.name"];
        for (path, want) in paths.iter().zip(&header) {
            prop_assert_eq!(text(ev, path), Some(want.as_str()), "{}", line);
        }
        for (i, want) in values.iter().enumerate() {
            prop_assert_eq!(text(ev, &format!("cef.extensions.k{i}")), Some(want.as_str()), "{}", line);
        }
    }

    #[test]
    fn arbitrary_records_are_decoded_or_rejected(tail in "[^\r\n]{0,160}", prefix in prop_oneof![Just(""), Just("<13>Jan  5 10:00:00 h ")]) {
        let line = format!("{prefix}CEF:{tail}");
        let mut out = Vec::new();
        match CefDecoder.decode(&line, &ctx(), &mut out) {
            Ok(()) => prop_assert_eq!(out.len(), 1),
            Err(e) => prop_assert!(e.to_string().contains("byte "), "{}", e),
        }
    }
}
